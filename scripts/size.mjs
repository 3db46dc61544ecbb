// Prints the web build's transfer size (raw, gzip -9, brotli) and fails when gzip is above
// the budget in pkg-config/size-budget.json. Bytes are deterministic, so this is a CI check.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const web = join(root, "pkg", "web");

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return name.endsWith(".js") || name.endsWith(".wasm") ? [path] : [];
  });
}

const measure = (bytes) => ({
  raw: bytes.length,
  gzip: gzipSync(bytes, { level: 9 }).length,
  brotli: brotliCompressSync(bytes, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  }).length,
});

const rows = files(web).map((path) => ({ file: relative(root, path), ...measure(readFileSync(path)) }));
const total = rows.reduce((t, r) => ({ raw: t.raw + r.raw, gzip: t.gzip + r.gzip, brotli: t.brotli + r.brotli }), {
  raw: 0, gzip: 0, brotli: 0,
});
const budget = JSON.parse(readFileSync(join(root, "pkg-config", "size-budget.json"), "utf8")).gzipBytes;

const pad = (s, n) => String(s).padStart(n);
console.log(`${"file".padEnd(58)}${pad("raw", 9)}${pad("gzip -9", 9)}${pad("brotli", 9)}`);
for (const r of rows) console.log(`${r.file.padEnd(58)}${pad(r.raw, 9)}${pad(r.gzip, 9)}${pad(r.brotli, 9)}`);
console.log(`${"total (what a page downloads)".padEnd(58)}${pad(total.raw, 9)}${pad(total.gzip, 9)}${pad(total.brotli, 9)}`);
writeFileSync(join(root, "pkg", "size.json"), JSON.stringify({ files: rows, total, budget }, null, 2) + "\n");

if (total.gzip > budget) {
  console.error(`size: ${total.gzip} bytes gzip is over the budget of ${budget} (pkg-config/size-budget.json)`);
  process.exit(1);
}
console.log(`size: ${total.gzip} bytes gzip, within the budget of ${budget}`);
