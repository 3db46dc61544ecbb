//! The JavaScript the module calls, bound directly (no js-sys or web-sys: those crates bring
//! kilobytes of glue and table entries this module never uses). Every call that can throw is
//! bound with `catch` and returns `Result`, or is a helper below that catches in JavaScript.
//! Work that takes several JS calls (gtag's `dataLayer` fallback, reading a page property) is
//! one helper here: each import costs glue and wasm, and JS does such steps in fewer bytes.

use wasm_bindgen::prelude::*;

use crate::prelude::*;

#[wasm_bindgen(inline_js = "
const G = globalThis;
const safe = (f) => (v) => { try { f(v); } catch (e) {} };
export function global(key) { try { return G[key]; } catch (e) {} }
const threw = (what, e) => {
  let m;
  try { m = e.message; } catch (_) {}
  return what + ' threw: ' + (typeof m === 'string' ? m : typeof e === 'string' ? e : 'an exception');
};
const call = (f, json, what) => {
  let args;
  try { args = JSON.parse(json); } catch (e) { return threw('JSON.parse', e); }
  if (typeof f === 'function') {
    try { Reflect.apply(f, undefined, args); } catch (e) { return threw(what, e); }
    return;
  }
  let layer = global('dataLayer');
  if (layer == null) {
    layer = [];
    try { Reflect.set(G, 'dataLayer', layer); } catch (e) { return threw('creating window.dataLayer', e); }
  }
  let push;
  try { push = layer.push; } catch (e) {}
  if (typeof push !== 'function') return 'window.dataLayer has no push(): it is not an array or a GTM data layer';
  try { push.call(layer, (function () { return arguments; }).apply(null, args)); } catch (e) { return threw('dataLayer.push', e); }
};
export function gtag(json) { return call(global('gtag'), json, 'gtag'); }
export function fbq(json, required) {
  const f = global('fbq');
  if (typeof f === 'function') return call(f, json, 'fbq');
  if (required) return `window.fbq is not defined: load Meta's Pixel base code on the page`;
}
export function get(object, key) {
  try { if (object !== null && (typeof object === 'object' || typeof object === 'function')) return Reflect.get(object, key); } catch (e) {}
}
export function storage(key, value) {
  try {
    const s = G.localStorage;
    if (value === undefined) { const v = s.getItem(key); return v === null ? '' : v; }
    if (value) s.setItem(key, value); else s.removeItem(key);
    return true;
  } catch (e) {}
}
export function send(url, body, done) {
  const type = 'text/plain;charset=UTF-8';
  if (!done) { try { return G.navigator.sendBeacon(url, new Blob([body], { type })); } catch (e) { return false; } }
  done = safe(done);
  try {
    fetch(url, { method: 'POST', body, keepalive: true, credentials: 'omit', headers: { 'Content-Type': type }, signal: AbortSignal.timeout && AbortSignal.timeout(30000) })
      .then((r) => done(r.status + ' ' + (r.headers.get('Retry-After') || '')), () => done('0'));
  } catch (e) { Promise.resolve('0').then(done); }
  return true;
}
export function lock(name, run) {
  try {
    G.navigator.locks.request(name, { ifAvailable: true }, (held) => new Promise((release) => {
      // A run that throws (its instance was freed meanwhile) must not keep the lock forever.
      try { run(held ? release : false); } catch (e) { release(); }
      if (!held) release();
    })).catch(() => {});
    return true;
  } catch (e) { return false; }
}
export function later(run, ms) { const t = setTimeout(safe(run), ms); if (t && t.unref) t.unref(); return t; }
export function cancel(t) { clearTimeout(t); }
export function tagsLive() { const d = G.dataLayer; return !!d && typeof d.push === 'function' && d.push !== Array.prototype.push; }
export function onMessage(run) {
  const W = global('window');
  if (!W || typeof W !== 'object') return;
  try { W.addEventListener('message', run); } catch (e) { return false; }
  return () => { try { W.removeEventListener('message', run); } catch (e) {} };
}
// The words `copy` copies next: a string (`string` in src/web/js.rs) or a value (`read`
// in src/web/analytics.rs), as src/tape.rs describes them.
let pending = [];
// UTF-8 bytes of `s` beyond `max` (a UTF-16 unit takes at most 3: shorter strings are not encoded).
const over = (s, max) => s.length * 3 > max && new TextEncoder().encode(s).length > max;
const str = (s) => {
  const at = pending.push(0);
  for (const c of s) pending.push(c.codePointAt(0));
  pending[at - 1] = pending.length - at;
};
export function measure(value) { if (typeof value !== 'string') return -1; pending = []; str(value); return pending.length; }
export function numberText(n) { return measure(String(n)); }
export function copy(memory, at) {
  new Float64Array(memory.buffer, at, pending.length).set(pending);
  pending = []; // not kept alive after (it may be large)
}
export function parse(json) { try { return JSON.parse(json); } catch (e) { return null; } }
export function tape(value, max) {
  let json, n = 0;
  try { json = JSON.stringify(value); } catch (e) { return -2; }
  if (json === undefined) return -1;
  if (json.length > max || over(json, max)) return -3;
  // In document order, as a parser of `json` would meet them: the first limit passed wins
  // (MAX_VALUES, MAX_DEPTH, MAX_STRING in src/limits.rs).
  const text = (s) => {
    // MAX_STRING, in UTF-8 bytes as the decoded string takes them (a lone surrogate as U+FFFD).
    if (over(s, 8192)) throw -6;
    str(s);
  };
  const put = (v, depth) => {
    if (++n > 2000) throw -4;
    if (typeof v === 'string') { pending.push(4); text(v); }
    else if (typeof v === 'number') pending.push(3, v);
    else if (!v || v === true) pending.push(v === null ? 0 : 1 + v);
    else {
      if (depth > 7) throw -5;
      const array = Array.isArray(v), keys = Object.keys(v);
      pending.push(array ? 5 : 6, keys.length);
      for (const key of keys) { if (!array) text(key); put(v[key], depth + 1); }
    }
  };
  pending = [];
  try { put(JSON.parse(json), 0); } catch (e) { return e < 0 ? e : -2; }
  return pending.length;
}
export function invoke(f, arg, label) {
  if (typeof f !== 'function') return false;
  try { f.call(undefined, arg); } catch (e) { if (label) console.error(label, e); }
  return true;
}
export function log(level, line, detail) { console[['info', 'warn', 'error'][level]](line, detail); }
// Trims as Rust's `str::trim` (Unicode White_Space: JS's `\\s` without U+FEFF, and U+0085).
const trim = (s) => s.replace(/^(?:[^\\S\\ufeff]|\\x85)+|(?:[^\\S\\ufeff]|\\x85)+$/g, '');
// The value of the first `name=value` pair named `name` (both sides trimmed) among `pairs`
// separated by `sep`, or ''.
const pair = (pairs, sep, name) => {
  for (const p of pairs.split(sep)) {
    const at = p.indexOf('=');
    if (at >= 0 && trim(p.slice(0, at)) === name) return trim(p.slice(at + 1));
  }
  return '';
};
const text = (name, key) => { const v = get(global(name), key); return typeof v === 'string' ? v : ''; };
export function identity() {
  const jar = text('document', 'cookie');
  // The cookie's part the format captures, when the cookie has that format.
  const cookie = (name, format) => { const m = format.exec(pair(jar, ';', name)); return m && m[1]; };
  let fbc = cookie('_fbc', /^(fb\\.\\d\\d?\\.\\d{12,14}\\.[\\w-]{1,500})$/);
  const click = pair(text('location', 'search').replace(/^\\?+/, ''), '&', 'fbclid');
  // A new click (one the cookie does not carry) mints `_fbc` as Meta's pixel does.
  if (/^[\\w-]{1,500}$/.test(click) && !(fbc && fbc.endsWith('.' + click))) {
    const now = Date.now();
    fbc = now >= 0 && now < 2 ** 53 ? 'fb.1.' + Math.floor(now) + '.' + click : null;
  }
  return {
    gaClientId: cookie('_ga', /^GA\\d\\d?\\.\\d\\d?\\.(\\d{1,20}\\.\\d{9,11})$/),
    fbp: cookie('_fbp', /^(fb\\.\\d\\d?\\.\\d{12,14}\\.\\d{1,24})$/),
    fbc,
  };
}
export function onExit(run) {
  const D = G.document;
  if (!D || !G.addEventListener) return null;
  const f = (e) => { if (e.type === 'pagehide' || D.visibilityState === 'hidden') safe(run)(); };
  G.addEventListener('pagehide', f); D.addEventListener('visibilitychange', f);
  return () => { G.removeEventListener('pagehide', f); D.removeEventListener('visibilitychange', f); };
}
")]
extern "C" {
    /// `globalThis[key]` (`globalThis`: the window on a page, the global object in workers and
    /// Node), or `undefined` (also when a getter throws).
    pub fn global(key: &str) -> JsValue;

    /// `object[key]`, or `undefined` (also when `object` is not an object, or a getter throws).
    pub fn get(object: &JsValue, key: &str) -> JsValue;

    /// `gtag(...args)` with the arguments as JSON, or, when the page has no gtag, the same
    /// arguments pushed onto `window.dataLayer` (created when absent) as an `arguments` object:
    /// what gtag itself does (gtag.js and Google Tag Manager read an `arguments` object as a
    /// command, not an array), so both read it. The failure's sentence, or `undefined`.
    pub fn gtag(arguments_json: &str) -> JsValue;

    /// `fbq(...args)` with the arguments as JSON, when the page has fbq. The failure's
    /// sentence, or `undefined`; a missing fbq is a failure only when `required`.
    pub fn fbq(arguments_json: &str, required: bool) -> JsValue;

    /// Without `value`: `localStorage.getItem(key)` (`""` when absent). With one:
    /// `localStorage.setItem(key, value)` (`removeItem` for `""`), then `true`. `undefined`
    /// when storage is missing, disabled or throws. (One import for both directions.)
    pub fn storage(key: &str, value: Option<&str>) -> JsValue;

    /// With `done`: `fetch(url, {POST, keepalive, credentials: "omit", text/plain})`, 30 s at
    /// most, then `done("<status> <Retry-After>")` later (`"0"` for a network error), never at
    /// once, and `true`. Without (`undefined`): `navigator.sendBeacon(url, <text/plain blob>)`,
    /// and whether the browser queued it. Never throws. (One import for both ways of sending.)
    pub fn send(url: &str, body: &str, done: &JsValue) -> bool;

    /// `navigator.locks.request(name, {ifAvailable: true}, …)`: later calls `run(release)`
    /// holding the lock until `release()` is called, or `run(false)` when another tab holds it.
    /// `false` where there are no Web Locks.
    pub fn lock(name: &str, run: &JsValue) -> bool;

    /// `setTimeout(run, ms)` (unref'd in Node); the timer, for `cancel`.
    pub fn later(run: &JsValue, ms: f64) -> JsValue;

    /// `clearTimeout(timer)`.
    pub fn cancel(timer: &JsValue);

    /// Whether a tag library processes gtag calls: gtag.js or Google Tag Manager has replaced
    /// `dataLayer.push` (a stub gtag over the array's own push only queues; GTM's Google tag
    /// reads the same commands, so a GTM-only page counts too).
    #[wasm_bindgen(js_name = tagsLive)]
    pub fn tags_live() -> bool;

    /// Adds `run` as the window's `message` listener; returns the function that removes it,
    /// `undefined` where there is no window, or `false` when `addEventListener` threw.
    #[wasm_bindgen(js_name = onMessage)]
    pub fn on_message(run: &JsValue) -> JsValue;

    /// `JSON.parse(text)`, or `null` when it throws.
    #[wasm_bindgen(js_name = parse)]
    pub fn json_parse_or_null(text: &str) -> JsValue;

    /// `function.call(undefined, argument)` when `function` is a function (whether it is one);
    /// what it throws goes to `console.error(label, error)`, or nowhere for `""`. (Catching in
    /// JavaScript spares every caller the exception-passing glue of a `catch` import.)
    pub fn invoke(function: &JsValue, argument: &JsValue, label: &str) -> bool;

    /// `console.info` (`level` 0), `console.warn` (1) or `console.error` (2) of `(line, detail)`:
    /// one import for the three.
    #[wasm_bindgen(js_name = log)]
    fn console_log(level: u32, line: &str, detail: &JsValue);

    /// Calls `run()` on `pagehide` and on `visibilitychange` to hidden; returns the function
    /// that removes both listeners, or `null` where there is no page.
    #[wasm_bindgen(js_name = onExit)]
    pub fn on_exit(run: &JsValue) -> JsValue;

    /// `value` as a tape string (see `crate::tape`) kept for `copy`: how many words, or `-1`
    /// when it is not a string.
    fn measure(value: &JsValue) -> i32;

    /// `String(n)` as a tape string kept for `copy`: how many words.
    #[cfg(target_arch = "wasm32")]
    #[wasm_bindgen(js_name = numberText)]
    fn number_text(n: f64) -> i32;

    /// Copies the words `measure` or `tape` kept into `memory` (the module's) at `at`.
    fn copy(memory: &JsValue, at: usize);

    /// `JSON.parse(JSON.stringify(value))` as a tape (`crate::tape`) kept for `copy`: how
    /// many words; or `-1` when `JSON.stringify` gives `undefined`, `-2` when it throws, `-3`
    /// when its text is longer than `max` UTF-8 bytes, `-4` past `MAX_VALUES`, `-5` past
    /// `MAX_DEPTH`, `-6` for a string (or key) past `MAX_STRING`: the first of these that a
    /// parser of the text would meet.
    pub fn tape(value: &JsValue, max: usize) -> i32;

    /// The visitor's identifiers, as `identity()` returns them: `{gaClientId, fbp, fbc}` from
    /// the `_ga`, `_fbp` and `_fbc` cookies (GA's client ID is the cookie's last two parts),
    /// `fbc` minted as `fb.1.<Date.now()>.<fbclid>` from the URL's `fbclid` as Meta's pixel
    /// does unless the cookie carries that click; missing or malformed ones `null`. (Cookie
    /// reading and format checks are a few regular expressions in JS: 1.8 KB of wasm less.)
    pub fn identity() -> JsValue;
}

#[wasm_bindgen]
extern "C" {
    /// `JSON.parse(text)` (the connect build).
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    pub fn json_parse(text: &str) -> Result<JsValue, JsValue>;

    /// `JSON.stringify(value)`: a string, or `undefined` for values JSON has no form for (the
    /// connect build).
    #[wasm_bindgen(js_namespace = JSON, js_name = stringify, catch)]
    pub fn json_stringify(value: &JsValue) -> Result<JsValue, JsValue>;

    /// `Date.now()`.
    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    pub fn date_now() -> f64;

    /// `Math.random()`.
    #[wasm_bindgen(js_namespace = Math, js_name = random)]
    pub fn math_random() -> f64;

    /// A function value.
    pub type Function;

    /// `function.call(thisArgument, argument)` (the connect build).
    #[wasm_bindgen(method, catch, js_name = call)]
    pub fn call1(
        this: &Function,
        this_argument: &JsValue,
        argument: &JsValue,
    ) -> Result<JsValue, JsValue>;
}

/// `console.info(line, detail)`.
pub fn console_info(line: &str, detail: &JsValue) {
    console_log(0, line, detail);
}

/// `console.warn(line, detail)`.
pub fn console_warn(line: &str, detail: &JsValue) {
    console_log(1, line, detail);
}

/// `console.error(line, detail)`.
pub fn console_error(line: &str, detail: &JsValue) {
    console_log(2, line, detail);
}

/// `value` when it is a string. (In place of wasm-bindgen's `as_string`: its glue passes
/// strings as UTF-8 through an allocator export and a DataView, 0.6 KB gzip. Here JavaScript
/// copies the code points into wasm memory as a tape string (`crate::tape`: 8 bytes per code
/// point), and a lone surrogate becomes U+FFFD here as TextEncoder makes it.)
pub fn string(value: &JsValue) -> Option<String> {
    Some(crate::tape::Tape::new(&words(measure(value))?).string())
}

/// Appends `String(n)` (`crate::text::push_number` in the browser build: JavaScript writes
/// its own numbers).
#[cfg(target_arch = "wasm32")]
pub fn push_number(out: &mut String, n: f64) {
    if let Some(words) = words(number_text(n)) {
        out.push_str(&crate::tape::Tape::new(&words).string());
    }
}

/// The `count` words that `measure` or `tape` kept, copied into wasm memory; `None` for a
/// negative count.
pub fn words(count: i32) -> Option<Vec<f64>> {
    let mut words = alloc::vec![0f64; usize::try_from(count).ok()?];
    copy(&wasm_bindgen::memory(), words.as_mut_ptr() as usize);
    Some(words)
}

#[cfg(any(feature = "companion", feature = "connect"))]
/// `globalThis[name][key]` when it is a string (`document.cookie`, `location.href`…), or `""`.
pub fn text(name: &str, key: &str) -> String {
    string(&get(&global(name), key)).unwrap_or_default()
}
