// Replaces the bodies of code that can never run with a trap, in a wasm that still has its
// function names (wasm-bindgen --keep-debug), before wasm-opt (used by scripts/build.mjs).
// The same idea as the Rust WebAssembly group's `wasm-snip --snip-rust-fmt-code`, done with
// binaryen.js, which the build already has.
//
// What goes, and why it cannot run:
//   - Rust's out-of-memory handler (`alloc::alloc::handle_alloc_error`). On stable Rust it
//     cannot be replaced, and it formats "memory allocation of N bytes failed" for the panic
//     handler, which ignores the message and traps (src/bundle.rs). Trapping at once is what
//     it amounted to, minus building the message.
//   - `alloc::raw_vec::handle_error`, where a failed `Vec`/`String` reservation goes: it panics
//     with "capacity overflow" (the panic handler traps) or calls the out-of-memory handler
//     (a trap, above). Trapping at once is what it amounts to, minus building the panic's
//     arguments; scripts/clear-data.mjs then clears the message and its location.
//   - Every `core::fmt` trait method (`<u32 as Display>::fmt`, …). Only `core::fmt`'s own
//     machinery (`core::fmt::write`, `Formatter`'s methods) calls them, through the table; when
//     the module has none of it — checked below — nothing ever calls them, but the table
//     entry that the out-of-memory handler's message took keeps them (and the integer
//     formatting they bring) in the wasm.
// The build fails if the module does format after all, if a snipped function is called
// directly, or if the out-of-memory handler is not found (a toolchain change to look at).
import binaryen from "binaryen";
import { readFileSync, writeFileSync } from "node:fs";

const OOM = /^alloc(\[[0-9a-f]+\])?::alloc::handle_alloc_error$/;
const RESERVE_ERROR = /^alloc(\[[0-9a-f]+\])?::raw_vec::handle_error$/;
const FMT_METHOD = /^<[^>]* as core(\[[0-9a-f]+\])?::fmt::[A-Za-z]+>::fmt$/;
const FORMATTING = /^core(\[[0-9a-f]+\])?::fmt::write$/;

/** The features the build's wasm uses: those scripts/build.mjs enables in wasm-opt (whose
 * bulk-memory and reference-types flags also turn on the two that came out of them). */
const F = binaryen.Features;
export const FEATURES = F.BulkMemory | F.BulkMemoryOpt | F.NontrappingFPToInt | F.SignExt | F.MutableGlobals
  | F.ReferenceTypes | F.CallIndirectOverlong | F.Multivalue;

/** Snips `file` in place; returns the names of the functions snipped. */
export function snip(file) {
  const module = binaryen.readBinary(readFileSync(file));
  module.setFeatures(FEATURES);
  const names = [];
  let oom = 0;
  for (let i = 0; i < module.getNumFunctions(); i++) {
    const name = binaryen.getFunctionInfo(module.getFunctionByIndex(i)).name;
    if (FORMATTING.test(name)) throw new Error(`${file}: the module formats (${name}): its fmt methods can run`);
    if (OOM.test(name)) oom++;
    if (OOM.test(name) || RESERVE_ERROR.test(name) || FMT_METHOD.test(name)) names.push(name);
  }
  if (oom !== 1) throw new Error(`${file}: expected one handle_alloc_error, found ${oom}`);
  const text = module.emitText();
  for (const name of names) {
    const ref = module.getFunction(name);
    const call = `(call ${binaryenName(name)}`;
    if (FMT_METHOD.test(name) && (text.includes(`${call}\n`) || text.includes(`${call})`))) {
      throw new Error(`${file}: ${name} is called directly: it can run`);
    }
    // The locals stay declared; wasm-opt drops the unused ones.
    binaryen._BinaryenFunctionSetBody(ref, module.unreachable());
  }
  if (!module.validate()) throw new Error(`${file}: invalid after snipping`);
  binaryen.setDebugInfo(true);
  writeFileSync(file, module.emitBinary());
  binaryen.setDebugInfo(false);
  module.dispose();
  return names;
}

/** How binaryen's text format writes a function's name (quoted when it is not a plain id). */
function binaryenName(name) {
  return /^[\w.:]+$/.test(name) ? `$${name}` : `$"${name}"`;
}
