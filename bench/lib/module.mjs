// Our module as a page downloads it: everything in pkg/web but the TypeScript declarations
// (the wasm and the minified glue, which carries the JS snippets). Other engineers rebuild pkg/ while
// the bench runs, so the bench first copies it to bench/build/pkg/web, checks the copy
// (the wasm validates, nothing changed during the copy) and measures only that copy.
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createHash } from "node:crypto";
import { join, relative } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

export function listFiles(dir) {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listFiles(path);
    return name.endsWith(".js") || name.endsWith(".wasm") ? [path] : [];
  });
}

const stamp = (dir) => listFiles(dir).map((f) => `${f}:${statSync(f).size}:${statSync(f).mtimeMs}`).join("|");

export async function snapshotModule(root, bench) {
  const src = join(root, "pkg", "web");
  const dest = join(bench, "build", "pkg");
  for (let attempt = 1; attempt <= 10; attempt++) {
    try {
      const before = stamp(src);
      rmSync(dest, { recursive: true, force: true });
      mkdirSync(dest, { recursive: true });
      cpSync(src, join(dest, "web"), { recursive: true, filter: (f) => !f.endsWith(".d.ts") });
      const wasmPath = join(dest, "web", "altegio_analytics_bg.wasm");
      const wasm = readFileSync(wasmPath);
      if (before === stamp(src) && WebAssembly.validate(wasm)) {
        const files = listFiles(join(dest, "web"));
        return {
          dir: dest,
          files,
          wasmSha256: createHash("sha256").update(wasm).digest("hex").slice(0, 12),
          builtAt: statSync(join(src, "altegio_analytics_bg.wasm")).mtime.toISOString(),
        };
      }
    } catch { /* pkg/web is being rewritten: try again */ }
    await new Promise((r) => setTimeout(r, 3000));
  }
  throw new Error("pkg/web kept changing or its wasm does not validate: run `npm run build` and retry");
}

export function measureBytes(bytes) {
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
    }).length,
  };
}

/** Sizes of several files, each compressed on its own (as served), summed. */
export function measureFiles(files, base) {
  const rows = files.map((f) => ({ file: relative(base, f), ...measureBytes(readFileSync(f)) }));
  const total = rows.reduce((t, r) => ({ raw: t.raw + r.raw, gzip: t.gzip + r.gzip, brotli: t.brotli + r.brotli }),
    { raw: 0, gzip: 0, brotli: 0 });
  return { rows, total };
}
