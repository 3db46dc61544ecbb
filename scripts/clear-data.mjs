// Clears, in an optimised wasm, the data that only code which can no longer run referred to:
// what Rust's standard library keeps for the panics and the out-of-memory message that
// scripts/snip.mjs turned into traps (used by scripts/build.mjs, after wasm-opt).
//
// wasm-opt removes dead code but never dead data: it cannot know where one constant ends and
// the next begins. Here the candidates are named by content, and one is cleared (its bytes set
// to zero, which gzip and wasm-opt's --memory-packing then all but drop) only when nothing
// still refers into it:
//   - source paths of the standard library (`/rustc/<commit>/library/….rs`), which panic
//     locations point to;
//   - panic locations (`core::panic::Location`: path pointer, path length, line, column)
//     whose path is such a path;
//   - "capacity overflow" (`alloc::raw_vec::handle_error`'s panic), the out-of-memory message's
//     pieces, and the two-digit table that integer formatting reads.
// A candidate is referred to when an `i32.const` or a load's or store's offset in the code
// points into it or up to 8 bytes before it (where a larger constant holding it, such as a
// formatting template with its length byte, would start), or when a 4-byte word of data not
// being cleared does (a location, a string slice). Clearing a location can free its path: the
// check runs until nothing changes.
// The build fails when nothing is cleared (a toolchain change to look at), so the saving
// (-0.4 KB gzip, with the snip of handle_error) cannot vanish unnoticed.
import binaryen from "binaryen";
import { readFileSync, writeFileSync } from "node:fs";
import { FEATURES } from "./snip.mjs";

const DIGIT_PAIRS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, "0")).join("");
const STD_PATH = /\/rustc\/[0-9a-f]{40}\/library\/[\w/]+\.rs/g;
const LEAD = 8;
const STD_TEXTS = ["capacity overflow", "memory allocation of ", " bytes failed", DIGIT_PAIRS];

/** Clears `file`'s unreferenced standard-library panic data in place; returns how many bytes
 * were cleared. */
export function clearUnreferencedData(file) {
  const bytes = readFileSync(file);
  const segments = dataSegments(bytes);
  const codeReferences = referencesInCode(bytes);
  const candidates = [];
  const add = (segment, start, length, path = false) =>
    candidates.push({ segment, start, length, path, address: segment.address + start });
  for (const segment of segments) {
    const text = bytes.toString("latin1", segment.at, segment.at + segment.length);
    for (const match of text.matchAll(STD_PATH)) add(segment, match.index, match[0].length, true);
    for (const wanted of STD_TEXTS) {
      for (let at = text.indexOf(wanted); at >= 0; at = text.indexOf(wanted, at + 1)) add(segment, at, wanted.length);
    }
  }
  const paths = candidates.filter((candidate) => candidate.path);
  for (const segment of segments) {
    for (let start = (4 - (segment.address % 4)) % 4; start + 16 <= segment.length; start += 4) {
      const word = (k) => bytes.readUInt32LE(segment.at + start + 4 * k);
      if (paths.some((path) => path.address === word(0) && path.length === word(1))) add(segment, start, 16);
    }
  }

  const cleared = new Set();
  const referenced = (candidate) => {
    const inside = (address) => address >= candidate.address - LEAD && address < candidate.address + candidate.length;
    if (codeReferences.some(inside)) return true;
    // Every byte offset, not only aligned ones: a false match only keeps bytes.
    for (const segment of segments) {
      for (let start = 0; start + 4 <= segment.length; start++) {
        const address = segment.address + start;
        const inCleared = [...cleared].some((c) => address >= c.address && address < c.address + c.length);
        if (!inCleared && inside(bytes.readUInt32LE(segment.at + start))) return true;
      }
    }
    return false;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (const candidate of candidates) {
      if (!cleared.has(candidate) && !referenced(candidate)) {
        cleared.add(candidate);
        changed = true;
      }
    }
  }
  let total = 0;
  for (const { segment, start, length } of cleared) {
    bytes.fill(0, segment.at + start, segment.at + start + length);
    total += length;
  }
  if (total === 0) throw new Error(`${file}: no standard-library panic data found unreferenced`);
  writeFileSync(file, bytes);
  return total;
}

/** Every address the code names: `i32.const` values and memory offsets of loads and stores. */
function referencesInCode(bytes) {
  const module = binaryen.readBinary(bytes);
  module.setFeatures(FEATURES);
  const text = module.emitText();
  module.dispose();
  const found = new Set();
  for (const match of text.matchAll(/\(i32\.const (-?\d+)\)|offset=(\d+)/g)) {
    found.add(Number(match[1] ?? match[2]) >>> 0);
  }
  return [...found];
}

/** The active data segments of the wasm `bytes`: where each one's bytes sit in the file (`at`),
 * how many there are, and the memory address they are copied to. */
function dataSegments(bytes) {
  let position = 8;
  const leb = (signed) => {
    let result = 0;
    let shift = 0;
    let byte;
    do {
      byte = bytes[position++];
      result |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    return signed && shift < 32 && byte & 0x40 ? result | (-1 << shift) : result;
  };
  while (position < bytes.length) {
    const id = bytes[position++];
    const size = leb(false);
    const end = position + size;
    if (id !== 11) {
      position = end;
      continue;
    }
    const segments = [];
    for (let count = leb(false); count > 0; count--) {
      const flags = leb(false);
      if (flags !== 0 || bytes[position++] !== 0x41) throw new Error("clear-data: expected active data segments at constant offsets");
      const address = leb(true) >>> 0;
      if (bytes[position++] !== 0x0b) throw new Error("clear-data: expected a constant segment offset");
      const length = leb(false);
      segments.push({ at: position, length, address });
      position += length;
    }
    return segments;
  }
  return [];
}
