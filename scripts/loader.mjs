// The web-target glue's loader, in place of the one wasm-bindgen writes (`__wbg_load`,
// `initSync`, `__wbg_init`, `__wbg_init_once`): the same contract — `init()` fetches the wasm
// beside the glue; `init({ module_or_path })` and `initSync({ module })` take a URL, a
// Request, a Response, bytes or a compiled module (the bare argument of older wasm-bindgen
// versions too); one load at a time, and once loaded the same exports — in fewer bytes (0.2 KB
// gzip less): no deprecation warnings for the bare argument, and one short warning when a
// server does not send the wasm as application/wasm (it is then compiled from its bytes, as
// wasm-bindgen's loader does). The build fails if wasm-bindgen's output ever differs from the
// text replaced here (wasm-bindgen is pinned exactly in Cargo.toml).
import { readFileSync, writeFileSync } from "node:fs";

/** The generated loader: from its first function to the glue's export line (excluded). */
const GENERATED_START = "async function __wbg_load(module, imports) {";
const GENERATED_END = "export { initSync, __wbg_init as default };";

const LOADER = `async function __wbg_load(module, imports) {
    if (typeof Response === 'function' && module instanceof Response) {
        if (!module.ok) {
            throw new Error(\`failed to fetch Wasm: \${module.status} \${module.statusText} fetching '\${module.url}'\`);
        }
        if (typeof WebAssembly.instantiateStreaming === 'function') {
            try {
                return await WebAssembly.instantiateStreaming(module, imports);
            } catch (e) {
                // Streaming needs the application/wasm type; without it, compile from the bytes.
                if (!/^(basic|cors|default)$/.test(module.type) || module.headers.get('Content-Type') === 'application/wasm') throw e;
                console.warn('altegio-analytics: the wasm is not served as application/wasm (slower to compile):', e);
            }
        }
        module = await module.arrayBuffer();
    }
    const instance = await WebAssembly.instantiate(module, imports);
    return instance instanceof WebAssembly.Instance ? { instance, module } : instance;
}

function initSync(module) {
    if (wasm !== undefined) return wasm;
    if (module !== undefined && Object.getPrototypeOf(module) === Object.prototype) ({ module } = module);
    if (!(module instanceof WebAssembly.Module)) module = new WebAssembly.Module(module);
    return __wbg_finalize_init(new WebAssembly.Instance(module, __wbg_get_imports()), module);
}

let __wbg_init_promise;
async function __wbg_init(module_or_path) {
    if (wasm !== undefined) return wasm;
    if (__wbg_init_promise === undefined) {
        __wbg_init_promise = __wbg_init_once(module_or_path);
        __wbg_init_promise.catch(() => { __wbg_init_promise = undefined; });
    }
    return __wbg_init_promise;
}

async function __wbg_init_once(module_or_path) {
    if (module_or_path !== undefined && Object.getPrototypeOf(module_or_path) === Object.prototype) ({ module_or_path } = module_or_path);
    if (module_or_path === undefined) module_or_path = new URL('altegio_analytics_bg.wasm', import.meta.url);
    if (typeof module_or_path === 'string' || module_or_path instanceof URL || (typeof Request === 'function' && module_or_path instanceof Request)) {
        module_or_path = fetch(module_or_path);
    }
    const { instance, module } = await __wbg_load(await module_or_path, __wbg_get_imports());
    return __wbg_finalize_init(instance, module);
}

`;

/** Replaces the generated loader in the web-target glue at `gluePath` (before minifying). */
export function replaceLoader(gluePath) {
  const glue = readFileSync(gluePath, "utf8");
  const start = glue.indexOf(GENERATED_START);
  const end = glue.indexOf(GENERATED_END);
  if (start < 0 || end < start || glue.indexOf(GENERATED_START, start + 1) >= 0) {
    throw new Error(`${gluePath}: wasm-bindgen's loader is not where scripts/loader.mjs expects it`);
  }
  const generated = glue.slice(start, end);
  for (const name of ["function initSync(module)", "async function __wbg_init(module_or_path)", "async function __wbg_init_once(module_or_path)", "__wbg_finalize_init(instance, module)"]) {
    if (!generated.includes(name)) throw new Error(`${gluePath}: wasm-bindgen's loader has no ${name}`);
  }
  writeFileSync(gluePath, glue.slice(0, start) + LOADER + glue.slice(end));
}
