// `npm run build`: the npm package's builds under pkg/ — pkg/web (wasm-bindgen's `web`
// target: a default-exported `init`, for <script type="module"> pages) and pkg/bundler (for
// Vite, webpack and the like) from one size-optimised wasm; pkg/consent and
// pkg/consent-bundler, the same with Consent Mode (the `consent` feature: the `consent` option
// and `consent()`); pkg/companion and pkg/companion-bundler, with Consent Mode and the
// server-side copy (the `companion` feature: the `companion` option, `setUserData()`,
// page-exit beacons), for sites that run the companion; pkg/register (web target, with
// `connectLocations()`: the `connect` feature, for the registration page only); then the size
// report, which is about what partner sites load (pkg/web, pkg/consent and pkg/companion).
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { replaceLoader } from "./loader.mjs";
import { clearUnreferencedData } from "./clear-data.mjs";
import { checkShipped, minifyNames } from "./minify-names.mjs";
import { snip } from "./snip.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const run = (command, args) => execFileSync(command, args, { cwd: root, stdio: "inherit" });

/** The size-optimised wasm of the module with `features` (none: the default npm build), built
 * without std: no formatting machinery, abort on panic, a small allocator (src/bundle.rs).
 * Each feature set has its own target directory (under target/, or CARGO_TARGET_DIR when set),
 * so that switching features does not rebuild the others every time. */
function cargoBuild(features, dir) {
  const base = resolve(root, process.env.CARGO_TARGET_DIR ?? "target");
  const targetDir = dir ? join(base, dir) : base;
  run("cargo", [
    "build", "--lib", "--target", "wasm32-unknown-unknown", "--profile", "wasm-release",
    "--no-default-features", ...(features ? ["--features", features] : []), "--target-dir", targetDir,
  ]);
  return join(targetDir, "wasm32-unknown-unknown", "wasm-release", "altegio_analytics.wasm");
}

const features = [
  "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext",
  "--enable-mutable-globals", "--enable-reference-types", "--enable-multivalue",
];
/** wasm-bindgen for one target into pkg/<dir>, then wasm-opt on the result. */
function bindgen(input, target, dir) {
  const out = join(root, "pkg", dir);
  rmSync(out, { recursive: true, force: true });
  // --keep-debug: the function names, which scripts/snip.mjs goes by (wasm-opt drops them).
  run("wasm-bindgen", ["--target", target, "--keep-debug", "--out-dir", out, input]);
  const bg = join(out, "altegio_analytics_bg.wasm");
  // Rust's out-of-memory message and the formatting only it used become traps (-0.4 KB gzip).
  snip(bg);
  // The producers and target-features sections only serve tools: strip them.
  // --low-memory-unused: Rust's linker puts the 1 MB stack first (it grows down towards 0) and
  // the data above it, so the lowest kilobyte is touched only by a stack already overflowing;
  // it lets wasm-opt fold constant offsets (-0.3 KB gzip). --merge-similar-functions and a
  // second round after --gufa: -0.1 KB. --flatten --rereloop first rebuilds every function's
  // control flow, which the -Oz rounds then shrink further (-0.2 KB); --reorder-functions-by-name
  // last puts each Rust module's functions side by side, so gzip finds more repeats within its
  // window (-0.2 KB).
  run(bin("wasm-opt"), [
    "--flatten", "--rereloop",
    "--merge-similar-functions", "-Oz", "--converge", "--low-memory-unused", "--gufa", "-Oz", "--converge",
    "--reorder-functions-by-name",
    "--strip-producers", "--strip-target-features", ...features, "-o", bg, bg,
  ]);
  // The panic messages, locations and digits that only the snipped code used (-0.4 KB gzip);
  // --memory-packing then drops the zeros from the data segments.
  clearUnreferencedData(bg);
  run(bin("wasm-opt"), ["--memory-packing", ...features, "-o", bg, bg]);
}

/** Web-target glue is loaded as is by <script type="module"> pages: ship it minified, with
 * the JS snippets it imports bundled in (one request instead of two, and one gzip stream:
 * -0.45 KB). esbuild bundles and minifies; terser's three compress passes then take out
 * what esbuild's one leaves (-0.07 KB). (Bundler users bundle and minify themselves.) */
function minifyGlue(dir) {
  const glue = join(root, "pkg", dir, "altegio_analytics.js");
  run(bin("esbuild"), [glue, "--bundle", "--minify", "--format=esm", "--target=es2020", "--log-level=error", "--allow-overwrite", `--outfile=${glue}`]);
  run(bin("terser"), [glue, "--module", "--compress", "passes=3", "--mangle", "--output", glue]);
  rmSync(join(root, "pkg", dir, "snippets"), { recursive: true, force: true });
}

/** The web-target builds' import (module and field) and export names, shortened in the wasm and
 * the glue alike (pkg/web: -1.8 KB gzip, wasm -1.2 KB and glue -0.6 KB): scripts/minify-names.mjs,
 * which fails the build when the glue and the wasm would not match. Before esbuild, which then
 * shortens the rest.
 * Not for pkg/bundler: there the bundler links the wasm's imports to JS files by their paths
 * and export names, which must stay. First, the glue's loader becomes the shorter one of
 * scripts/loader.mjs (-0.16 KB gzip). */
function minifyWeb(dir) {
  replaceLoader(join(root, "pkg", dir, "altegio_analytics.js"));
  const info = minifyNames({ root, dir, wasmOpt: bin("wasm-opt"), features });
  minifyGlue(dir);
  checkShipped({ root, info, smoke: SMOKE });
}
// What checkShipped runs in Node against each shipped web build (`glue`: its module).
const SMOKE = `
  const analytics = new glue.BookingAnalytics({ ga4: { measurementId: "G-SMOKE12345" } });
  const verdict = analytics.track("widget_loaded", {});
  if (!verdict.ok || analytics.stats().received !== 1) throw new Error("unexpected: " + JSON.stringify(verdict));
  analytics.free();
`;

const wasm = cargoBuild(null, null);
bindgen(wasm, "web", "web");
bindgen(wasm, "bundler", "bundler");
minifyWeb("web");

// With Consent Mode: `altegio-analytics/consent` (and `/consent/bundler`).
const consentWasm = cargoBuild("consent", "consent");
bindgen(consentWasm, "web", "consent");
bindgen(consentWasm, "bundler", "consent-bundler");
minifyWeb("consent");

// With Consent Mode and the server-side copy: `altegio-analytics/companion` (and
// `/companion/bundler`).
const companionWasm = cargoBuild("companion", "companion");
bindgen(companionWasm, "web", "companion");
bindgen(companionWasm, "bundler", "companion-bundler");
minifyWeb("companion");

// The registration page's build: the default module plus `connectLocations()`.
bindgen(cargoBuild("connect", "register"), "web", "register");
minifyWeb("register");

// wasm-bindgen declares `[Symbol.dispose]()` on the class, which TypeScript knows only with
// the `esnext` lib: a project on `es2022` (and no skipLibCheck) would fail to compile our d.ts.
// Declaring the symbol, as @types/node does, works with every lib and keeps `using` typed.
const DISPOSE = "[Symbol.dispose](): void;";
const DECLARE_DISPOSE = `
declare global {
  interface SymbolConstructor {
    /** \`Symbol.dispose\` (esnext.disposable), which \`[Symbol.dispose]()\` below needs. */
    readonly dispose: unique symbol;
  }
}
`;
function declareDispose(dir) {
  const dts = join(root, "pkg", dir, "altegio_analytics.d.ts");
  const text = readFileSync(dts, "utf8");
  if (!text.includes(DISPOSE)) return;
  const header = "/* eslint-disable */\n";
  if (!text.startsWith(`/* tslint:disable */\n${header}`)) throw new Error(`${dts}: unexpected header`);
  writeFileSync(dts, text.replace(header, header + DECLARE_DISPOSE));
}

// wasm-bindgen writes its own package.json and .gitignore into each out dir; the root
// package.json is the package, so these would only confuse resolvers.
for (const dir of ["web", "bundler", "consent", "consent-bundler", "companion", "companion-bundler", "register"]) {
  declareDispose(dir);
  rmSync(join(root, "pkg", dir, "package.json"), { force: true });
  rmSync(join(root, "pkg", dir, ".gitignore"), { force: true });
}

const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
writeFileSync(join(root, "pkg", "VERSION"), `${version}\n`);
run("node", [join(root, "scripts", "size.mjs")]);
