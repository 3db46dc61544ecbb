// Short import/export names for a wasm-bindgen `web`-target build (used by scripts/build.mjs).
//
// wasm-bindgen names the wasm's imports "./altegio_analytics_bg.js" / "__wbg_storageGet_<16 hex
// digits>" and "./snippets/altegio-analytics-<hash>/inline0.js" / "toArguments", and its exports
// "bookinganalytics_track", "__wbindgen_malloc"…: about 3 KB of names in the wasm and again in
// the glue. binaryen's --minify-imports-and-exports-and-modules renames them all ("a" / "A",
// exports "N", "aa"…; every import goes to one module) and prints the old → new mapping as JSON.
// The glue then has to offer exactly those names, so this module rewrites it:
//   - the keys of the imports object built in __wbg_get_imports() (the glue's own functions);
//   - the snippet's functions, which the glue passed as whole namespaces under the snippet's
//     path, become entries `newName: importN.oldName` of that same object (the snippet file and
//     the path the glue imports it from do not change: only the wasm's name for it does);
//   - the returned object offers that one object under the new module name;
//   - `wasm.oldExport` becomes `wasm.newExport`, and the .d.ts files' export lists follow.
// Only the `web` target fits this: the bundler target lets the bundler link the wasm's imports
// to JS modules by specifier and export name, so its module names must stay file paths.
//
// A wrong rename must never ship silently (a wasm-bindgen or binaryen upgrade may change the
// glue's shape), so every step fails the build when something is not exactly as expected:
// the printed mapping must agree with the import/export lists read from the wasm before and
// after; every renamed import key must be found exactly once; every module the wasm imports
// must be in the returned object and nothing else; afterwards every `wasm.X` the glue reads
// must be an export of the final wasm, no old name may be left as a key, string or property,
// and (checkShipped, after esbuild) the shipped glue must hold no old name nor any 16-digit
// hash outside the snippet's path, and must instantiate the wasm and run in Node.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const GLUE = "altegio_analytics.js";
const WASM = "altegio_analytics_bg.wasm";
const DTS = "altegio_analytics.d.ts";
const WASM_DTS = "altegio_analytics_bg.wasm.d.ts";

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const isIdent = (s) => /^[A-Za-z_$][\w$]*$/.test(s);
const count = (text, re) => [...text.matchAll(re)].length;
/** Not preceded / followed by an identifier character. */
const word = (name) => `(?<![\\w$])${esc(name)}(?![\\w$])`;

function failer(dir) {
  return (message) => {
    throw new Error(
      `minify-names (pkg/${dir}): ${message}\n` +
        "The wasm-bindgen glue or wasm-opt's output no longer has the shape scripts/minify-names.mjs " +
        "rewrites: fix that step (or drop it from scripts/build.mjs) rather than ship a glue that " +
        "does not match its wasm.",
    );
  };
}

/**
 * Runs wasm-opt's --minify-imports-and-exports-and-modules on pkg/<dir>'s wasm and rewrites the
 * glue (still unminified) and the .d.ts files to the new names. Returns what checkShipped needs.
 */
export function minifyNames({ root, dir, wasmOpt, features }) {
  const fail = failer(dir);
  const out = join(root, "pkg", dir);
  const wasmPath = join(out, WASM);
  const before = new WebAssembly.Module(readFileSync(wasmPath));
  const stdout = execFileSync(wasmOpt, [...features, "--minify-imports-and-exports-and-modules", "-o", wasmPath, wasmPath], {
    cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"],
  });
  const after = new WebAssembly.Module(readFileSync(wasmPath));

  // The mapping as wasm-opt prints it: {"imports": [[module, old, new]…], "exports": [[old, new]…]}.
  let printed;
  try {
    printed = JSON.parse(stdout);
  } catch (e) {
    fail(`wasm-opt's output is not the JSON mapping expected (${e.message}):\n${stdout}`);
  }
  if (!Array.isArray(printed?.imports) || !Array.isArray(printed?.exports)) fail(`unexpected mapping:\n${stdout}`);
  const importKey = (module, name) => `${module}\0${name}`;
  const printedImports = new Map();
  for (const entry of printed.imports) {
    if (!Array.isArray(entry) || entry.length !== 3 || !entry.every((s) => typeof s === "string")) fail(`unexpected import mapping entry ${JSON.stringify(entry)}`);
    const key = importKey(entry[0], entry[1]);
    if (printedImports.has(key) && printedImports.get(key) !== entry[2]) fail(`import ${entry[0]} ${entry[1]} is mapped twice`);
    printedImports.set(key, entry[2]);
  }
  const printedExports = new Map();
  for (const entry of printed.exports) {
    if (!Array.isArray(entry) || entry.length !== 2 || !entry.every((s) => typeof s === "string")) fail(`unexpected export mapping entry ${JSON.stringify(entry)}`);
    if (printedExports.has(entry[0])) fail(`export ${entry[0]} is mapped twice`);
    printedExports.set(entry[0], entry[1]);
  }

  // The mapping must say what the wasm says: the same imports and exports, in the same order and
  // of the same kinds, under the new names; every import in one new module.
  const importsBefore = WebAssembly.Module.imports(before);
  const importsAfter = WebAssembly.Module.imports(after);
  const exportsBefore = WebAssembly.Module.exports(before);
  const exportsAfter = WebAssembly.Module.exports(after);
  if (importsBefore.length !== importsAfter.length || exportsBefore.length !== exportsAfter.length) fail("wasm-opt changed the number of imports or exports");
  if (printedImports.size !== importsBefore.length) fail(`the mapping lists ${printedImports.size} imports, the wasm has ${importsBefore.length}`);
  if (printedExports.size !== exportsBefore.length) fail(`the mapping lists ${printedExports.size} exports, the wasm has ${exportsBefore.length}`);
  const newModules = new Set(importsAfter.map((i) => i.module));
  if (newModules.size !== 1) fail(`the minified imports are in ${newModules.size} modules, expected one: ${[...newModules].join(", ")}`);
  const [newModule] = newModules;
  const imports = importsBefore.map((old, i) => {
    const now = importsAfter[i];
    if (old.kind !== now.kind || printedImports.get(importKey(old.module, old.name)) !== now.name) {
      fail(`import #${i} ${old.module} ${old.name} (${old.kind}) became ${now.module} ${now.name} (${now.kind}), the mapping says ${printedImports.get(importKey(old.module, old.name))}`);
    }
    return { module: old.module, old: old.name, name: now.name };
  });
  const exports = exportsBefore.map((old, i) => {
    const now = exportsAfter[i];
    if (old.kind !== now.kind || printedExports.get(old.name) !== now.name) {
      fail(`export #${i} ${old.name} (${old.kind}) became ${now.name} (${now.kind}), the mapping says ${printedExports.get(old.name)}`);
    }
    return { old: old.name, name: now.name };
  });
  for (const { name } of [...imports, ...exports]) if (!isIdent(name) || name === "__proto__") fail(`new name ${JSON.stringify(name)} is not a plain identifier`);

  // The glue: __wbg_get_imports() builds one object of the glue's own functions (`const import0
  // = { __proto__: null, __wbg_…: function…, … }`) and returns the modules the wasm imports:
  // `return { __proto__: null, "./altegio_analytics_bg.js": import0, "./snippets/…": import1, … }`,
  // where importN (N ≥ 1) is `import * as importN from "./snippets/…"`.
  const gluePath = join(out, GLUE);
  let glue = readFileSync(gluePath, "utf8");
  const head = "function __wbg_get_imports() {";
  if (count(glue, new RegExp(esc(head), "g")) !== 1) fail(`"${head}" is not in the glue exactly once`);
  const start = glue.indexOf(head);
  const end = glue.indexOf("\n}\n", start);
  if (end < 0) fail("the end of __wbg_get_imports() is not found");
  let fn = glue.slice(start, end + 3);

  const returnRe = /\n([ \t]*)return \{\s*__proto__: null,((?:\s*"[^"\n]*": (import\d+),)+)\s*\};/g;
  const returns = [...fn.matchAll(returnRe)];
  if (returns.length !== 1) fail(`__wbg_get_imports() does not end with the expected \`return { __proto__: null, "<module>": importN, … }\` (found ${returns.length})`);
  const [ret] = returns;
  const bindings = new Map(); // wasm module name → the glue's binding for it (a later duplicate key wins, as in JS)
  for (const [, module, binding] of ret[2].matchAll(/"([^"\n]*)": (import\d+),/g)) bindings.set(JSON.parse(`"${module}"`), binding);
  const oldModules = new Set(imports.map((i) => i.module));
  for (const module of oldModules) if (!bindings.has(module)) fail(`the wasm imports module ${module}, which the glue does not provide`);
  for (const module of bindings.keys()) if (!oldModules.has(module)) fail(`the glue provides module ${module}, which the wasm does not import`);

  const literals = [...fn.matchAll(/\n[ \t]*const (import\d+) = \{\n[ \t]*__proto__: null,/g)].map((m) => m[1]);
  if (literals.length !== 1) fail(`expected one imports object literal (\`const importN = { __proto__: null, …\`) in __wbg_get_imports(), found ${literals.length}`);
  const [literal] = literals;
  const added = [];
  for (const { module, old, name } of imports) {
    const binding = bindings.get(module);
    if (binding === literal) {
      // A key of the object literal: `        __wbg_storageGet_404e9dacc6edc78c: function(arg0, arg1) {`.
      const keyRe = new RegExp(`\\n([ \\t]+)(?:${esc(old)}|${esc(JSON.stringify(old))}):`, "g");
      const found = count(fn, keyRe);
      if (found !== 1) fail(`import ${old} is a key of the imports object ${found} times, expected once`);
      fn = fn.replace(keyRe, `\n$1${name}:`);
    } else {
      // A snippet namespace: `import * as import1 from "./snippets/…/inline0.js"`, the path being
      // the wasm's module name. Its function becomes an entry of the one object.
      const nsRe = new RegExp(`^import \\* as ${binding} from (["'])${esc(module)}\\1;?$`, "gm");
      if (count(glue, nsRe) !== 1) fail(`${binding} (module ${module}) is not imported as \`import * as ${binding} from "${module}"\``);
      added.push(`${name}: ${binding}${isIdent(old) ? `.${old}` : `[${JSON.stringify(old)}]`},`);
    }
  }
  // Snippet functions go at the end of the object literal, which closes right before the return.
  const [again] = [...fn.matchAll(returnRe)]; // the keys above changed the offsets
  if (again?.[0] !== ret[0]) fail("the return of __wbg_get_imports() changed while renaming keys");
  const returnAt = again.index;
  const close = fn.lastIndexOf("};", returnAt);
  if (close < 0 || fn.slice(close + 2, returnAt).trim() !== "") fail(`the imports object ${literal} does not close right before the return`);
  const indent = ret[1];
  const closeLine = fn.lastIndexOf("\n", close) + 1;
  fn = fn.slice(0, closeLine) + added.map((a) => `${indent}    ${a}\n`).join("") + fn.slice(closeLine, returnAt) +
    `\n${indent}return { __proto__: null, ${JSON.stringify(newModule)}: ${literal} };` + fn.slice(returnAt + ret[0].length);
  glue = glue.slice(0, start) + fn + glue.slice(end + 3);

  // The namespace imports no longer referenced (the snippet was imported once per function).
  glue = glue.replace(/^import \* as (import\d+) from (["'])[^"'\n]*\2;?\n/gm, (line, binding) =>
    count(glue, new RegExp(word(binding), "g")) === 1 ? "" : line);

  // Exports: the glue reads them as `wasm.<name>` only.
  if (/(?<![\w$.])wasm\s*\[/.test(glue)) fail("the glue reads an export as wasm[…]: cannot rename it safely");
  if (/\.exports\s*(\.|\[)/.test(glue)) fail("the glue reads instance.exports directly: cannot rename it safely");
  for (const { old, name } of exports) glue = glue.replace(new RegExp(`(?<![\\w$.])wasm\\.${esc(old)}(?![\\w$])`, "g"), `wasm.${name}`);

  // Afterwards: every export read is one the wasm has; no old name is left where the wasm would
  // look it up (a key, a string, a property). The snippet's function names stay (as
  // `import1.toArguments`: they are the snippet file's own exports).
  const newExports = new Set(exports.map((e) => e.name));
  for (const [, read] of glue.matchAll(/(?<![\w$.])wasm\.([\w$]+)/g)) if (!newExports.has(read)) fail(`the rewritten glue reads wasm.${read}, which the wasm does not export`);
  const stale = [...exports.map((e) => e.old), ...imports.filter((i) => bindings.get(i.module) === literal).map((i) => i.old)];
  for (const old of stale) {
    const left = new RegExp(`(?:[.'"]${esc(old)}(?![\\w$])|^[ \\t]*${esc(old)}[ \\t]*:)`, "m").exec(glue);
    if (left) fail(`${old} is still in the glue after the rewrite: …${glue.slice(Math.max(0, left.index - 60), left.index + old.length + 20)}…`);
  }
  writeFileSync(gluePath, glue);

  // The types of init()'s result (InitOutput: the raw exports) and of the wasm as a module.
  renameDts(join(out, DTS), /export interface InitOutput \{\n([\s\S]*?)\n\}/, (old) => `readonly ${old}:`, (name) => `readonly ${name}:`, exports, fail);
  renameDts(join(out, WASM_DTS), /^([\s\S]*)$/, (old) => `export const ${old}:`, (name) => `export const ${name}:`, exports, fail);

  return { dir, newModule, imports, exports, snippetModules: [...oldModules].filter((m) => bindings.get(m) !== literal) };
}

/** Renames `<prefix>old:` declarations inside the block `blockRe` captures; each at most once,
 *  and afterwards every declared name must be an export of the final wasm. */
function renameDts(path, blockRe, from, to, exports, fail) {
  let text = readFileSync(path, "utf8");
  const m = blockRe.exec(text);
  if (!m) fail(`${path}: the export list is not found`);
  let block = m[1];
  for (const { old, name } of exports) {
    const re = new RegExp(`(?<![\\w$])${esc(from(old))}`, "g");
    const n = count(block, re);
    if (n > 1) fail(`${path}: ${old} is declared ${n} times`);
    block = block.replace(re, to(name));
  }
  const newExports = new Set(exports.map((e) => e.name));
  const prefix = esc(from("\0").split("\0")[0]);
  for (const [, declared] of block.matchAll(new RegExp(`(?<![\\w$])${prefix}([\\w$]+):`, "g"))) {
    if (!newExports.has(declared)) fail(`${path}: declares ${declared}, which the wasm does not export`);
  }
  text = text.slice(0, m.index) + m[0].replace(m[1], () => block) + text.slice(m.index + m[0].length);
  writeFileSync(path, text);
}

/**
 * After esbuild: the shipped glue holds none of the old names (esbuild renamed the glue's local
 * functions, so an old name left would be a key or property the wasm side no longer has) and no
 * wasm-bindgen hash outside the snippet's path; and it instantiates the wasm and runs, in Node.
 */
export function checkShipped({ root, info, smoke }) {
  const fail = failer(info.dir);
  const out = join(root, "pkg", info.dir);
  const glue = readFileSync(join(out, GLUE), "utf8");
  const withoutPaths = glue.replace(/(["'])\.\/snippets\/[^"'\n]*\1/g, '""');
  for (const { old } of [...info.exports, ...info.imports.filter((i) => !info.snippetModules.includes(i.module))]) {
    const left = new RegExp(word(old)).exec(withoutPaths);
    if (left) fail(`${old} is still in the shipped glue: …${withoutPaths.slice(Math.max(0, left.index - 60), left.index + old.length + 20)}…`);
  }
  const hash = /[0-9a-f]{16}/.exec(withoutPaths);
  if (hash) fail(`a wasm-bindgen hash is still in the shipped glue: …${withoutPaths.slice(Math.max(0, hash.index - 60), hash.index + 36)}…`);
  // The snippets are bundled into the shipped glue: it must not import any file.
  const fileImport = /(?:\bfrom\s*|\bimport\s*\(?\s*)["'][^"']*["']/.exec(glue);
  if (fileImport) fail(`the shipped glue still imports a file (${fileImport[0]}); its snippets should be bundled in`);

  // Instantiating links every import (a missing function is a LinkError); `smoke` then calls
  // into the wasm through the exports.
  const script = `
    import { readFileSync } from "node:fs";
    const glue = await import(${JSON.stringify(pathToFileURL(join(out, GLUE)).href)});
    const exports = glue.initSync({ module: readFileSync(${JSON.stringify(join(out, WASM))}) });
    ${smoke}
  `;
  try {
    execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8", stdio: "pipe" });
  } catch (e) {
    const said = `${e.stdout ?? ""}${e.stderr ?? e.message}`.split("\n").map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l));
    fail(`the shipped glue does not run with its wasm in Node:\n${said.join("\n")}`);
  }
}
