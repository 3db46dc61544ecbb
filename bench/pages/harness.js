// The in-page side of the bench. ?sdk=ours|segment|rudderstack|snowplow|plausible.
// Start-up: t0 = performance.now() right before the import() that starts fetching the SDK's
// first file; t1 = when a track call can be made ("ready", defined per SDK in
// bench/peers/*.js; for ours: init() resolved, i.e. the wasm fetched, compiled and
// instantiated, and `new BookingAnalytics(...)` returned). The harness itself is loaded
// before t0 for every SDK alike.
import { makeEvent } from "/bench/lib/events.js";

const sdkName = new URLSearchParams(location.search).get("sdk");
const sink = location.origin;

async function loadOurs() {
  const t0 = performance.now();
  const m = await import("/pkg/web/altegio_analytics.js");
  const wasm = await m.default(); // resolves to the wasm exports (memory included)
  // The build shortens export names (scripts/minify-names.mjs): find the memory by type.
  const memory = Object.values(wasm).find((v) => v instanceof WebAssembly.Memory);
  const analytics = new m.BookingAnalytics({
    ga4: { measurementId: "G-BENCH12345" },
    meta: { pixelId: "123456789012345" },
  });
  const t1 = performance.now();
  return { t0, t1, track: (name, params) => analytics.track(name, params), wasmMemory: () => memory.buffer.byteLength };
}

async function loadPeer(id) {
  const t0 = performance.now();
  const m = await import(`/bench/dist/${id}.js`);
  const api = await m.setup({ sink });
  const t1 = performance.now();
  return { t0, t1, ...api, wasmMemory: () => 0 };
}

// "none": no SDK, track() does nothing: the harness's own cost (baseline row).
const loadNone = async () => ({ t0: 0, t1: 0, track: () => undefined, wasmMemory: () => 0 });

const loaded = (sdkName === "ours" ? loadOurs() : sdkName === "none" ? loadNone() : loadPeer(sdkName)).then((sdk) => {
  window.__bench = sdk;
  return { startupMs: sdk.t1 - sdk.t0 };
});
window.benchStartup = () => loaded;

// Yields to the event loop (a task, not a timer: no 4 ms clamping), so timers and queues of
// the SDKs run between bursts as they would between a visitor's clicks.
const channel = new MessageChannel();
let resume = null;
channel.port1.onmessage = () => resume();
const nextTask = () => new Promise((resolve) => { resume = resolve; channel.port2.postMessage(0); });

// 3. n track calls, in bursts of `burst` (5 = one booking flow) with a yield between bursts;
// the events are made beforehand. Returns the summed wall time of the synchronous bursts
// (performance.now around each), and stops early after maxMs (RudderStack and Snowplow can
// fall far behind). The bench adds CDP's main-thread time around the whole run (bench.mjs).
window.benchEvents = async (n, burst, maxMs) => {
  const sdk = window.__bench;
  const events = Array.from({ length: n }, (_, i) => makeEvent(i));
  let callMs = 0;
  let done = 0;
  let last;
  const start = performance.now();
  while (done < n && performance.now() - start < maxMs) {
    const end = Math.min(n, done + burst);
    const t0 = performance.now();
    for (let i = done; i < end; i++) last = sdk.track(events[i][0], events[i][1]);
    callMs += performance.now() - t0;
    done = end;
    if (done < n) await nextTask();
  }
  return { done, callMs, wallMs: performance.now() - start, sample: summarise(last) };
};

// 4. Events [from, to) in the same bursts (made on the fly, nothing kept), for the memory
// readings the bench takes at checkpoints. Stops early after maxMs.
window.benchMemory = async (from, to, burst, maxMs) => {
  const sdk = window.__bench;
  const start = performance.now();
  let i = from;
  while (i < to && performance.now() - start < maxMs) {
    const end = Math.min(to, i + burst);
    for (; i < end; i++) {
      const [name, params] = makeEvent(i);
      sdk.track(name, params);
    }
    await nextTask();
  }
  return { reached: i, wasmBytes: sdk.wasmMemory() };
};

// A smoke check that the set-up really works: a few events, and what came of them.
window.benchSmoke = async () => {
  const sdk = window.__bench;
  const out = [];
  for (let i = 0; i < 5; i++) {
    const [name, params] = makeEvent(i);
    let r = sdk.track(name, params);
    if (r && typeof r.then === "function") r = await r;
    out.push(summarise(r));
  }
  return out;
};

function summarise(r) {
  if (r && typeof r === "object" && "ok" in r) return { ok: r.ok, forwarded: r.forwarded, problems: r.problems?.length ?? 0 };
  return r === undefined ? null : typeof r;
}
