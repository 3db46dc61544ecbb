// `npm run build`: the npm package's two builds under pkg/ — pkg/web (wasm-bindgen's `web`
// target: a default-exported `init`, for <script type="module"> pages) and pkg/bundler (for
// Vite, webpack and the like) — from one size-optimised wasm, then the size report.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const run = (command, args) => execFileSync(command, args, { cwd: root, stdio: "inherit" });

// Without std: no formatting machinery, abort on panic, a small allocator (src/bundle.rs).
run("cargo", [
  "build", "--lib", "--target", "wasm32-unknown-unknown", "--profile", "wasm-release",
  "--no-default-features",
]);
const wasm = join(root, "target", "wasm32-unknown-unknown", "wasm-release", "altegio_analytics.wasm");

const features = [
  "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext",
  "--enable-mutable-globals", "--enable-reference-types", "--enable-multivalue",
];
for (const target of ["web", "bundler"]) {
  const out = join(root, "pkg", target);
  rmSync(out, { recursive: true, force: true });
  run("wasm-bindgen", ["--target", target, "--out-dir", out, wasm]);
  const bg = join(out, "altegio_analytics_bg.wasm");
  run(bin("wasm-opt"), ["-Oz", "--converge", ...features, "-o", bg, bg]);
}

// The web build is loaded as is by <script type="module"> pages: ship its glue minified.
// (Bundler users minify themselves.)
const glue = join(root, "pkg", "web", "altegio_analytics.js");
run(bin("esbuild"), [glue, "--minify", "--format=esm", "--target=es2020", "--log-level=error", "--allow-overwrite", `--outfile=${glue}`]);

// wasm-bindgen writes its own package.json into each out dir; the root package.json is the
// package, so these would only confuse resolvers.
for (const target of ["web", "bundler"]) rmSync(join(root, "pkg", target, "package.json"), { force: true });
rmSync(join(root, "pkg", "web", ".gitignore"), { force: true });
rmSync(join(root, "pkg", "bundler", ".gitignore"), { force: true });

const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
writeFileSync(join(root, "pkg", "VERSION"), `${version}\n`);
run("node", [join(root, "scripts", "size.mjs")]);
