// Prints the transfer size (raw, gzip -9, brotli) of what a partner page downloads — pkg/web,
// the default build; pkg/consent, with Consent Mode; pkg/companion, with Consent Mode and the
// server-side copy — and fails when one is above its gzip budget in
// pkg-config/size-budget.json. Bytes are deterministic, so this is a CI check.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const budgets = JSON.parse(readFileSync(join(root, "pkg-config", "size-budget.json"), "utf8"));

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

const pad = (s, n) => String(s).padStart(n);
const builds = [
  { dir: "web", what: "the default build", budget: budgets.gzipBytes },
  { dir: "consent", what: "with Consent Mode", budget: budgets.consentGzipBytes },
  { dir: "companion", what: "with the server-side copy", budget: budgets.companionGzipBytes },
];
const report = {};
let over = false;
console.log(`${"file".padEnd(58)}${pad("raw", 9)}${pad("gzip -9", 9)}${pad("brotli", 9)}`);
for (const build of builds) {
  const rows = files(join(root, "pkg", build.dir)).map((path) => ({ file: relative(root, path), ...measure(readFileSync(path)) }));
  const total = rows.reduce((t, r) => ({ raw: t.raw + r.raw, gzip: t.gzip + r.gzip, brotli: t.brotli + r.brotli }), {
    raw: 0, gzip: 0, brotli: 0,
  });
  for (const r of rows) console.log(`${r.file.padEnd(58)}${pad(r.raw, 9)}${pad(r.gzip, 9)}${pad(r.brotli, 9)}`);
  console.log(`${`total pkg/${build.dir} (${build.what})`.padEnd(58)}${pad(total.raw, 9)}${pad(total.gzip, 9)}${pad(total.brotli, 9)}`);
  report[build.dir] = { files: rows, total, budget: build.budget };
  if (!Number.isInteger(build.budget)) {
    console.error(`size: no gzip budget for pkg/${build.dir} in pkg-config/size-budget.json`);
    over = true;
  } else if (total.gzip > build.budget) {
    console.error(`size: pkg/${build.dir} is ${total.gzip} bytes gzip, over its budget of ${build.budget} (pkg-config/size-budget.json)`);
    over = true;
  } else {
    console.log(`size: pkg/${build.dir} is ${total.gzip} bytes gzip, within its budget of ${build.budget}`);
  }
}
writeFileSync(join(root, "pkg", "size.json"), JSON.stringify(report, null, 2) + "\n");
if (over) process.exit(1);
