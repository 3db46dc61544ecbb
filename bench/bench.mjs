// The bench: `bash bench/run.sh` (or `npm run bench`) runs this after installing bench/'s
// pinned dependencies and building the companion. It measures, in one headless Chromium:
// 1. transfer sizes, 2. start-up, 3. main-thread time per event, 4. memory, then
// 5. the companion; writes bench/results/latest.md and prints it. Method: bench/README.md.
// Every figure is a statistic over fresh page loads; nothing here asserts on timings.
import { cpus } from "node:os";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildPeers } from "./lib/build-peers.mjs";
import { launch, openPage, CHROMIUM_ARGS } from "./lib/browser.mjs";
import { companionBench } from "./lib/companion.mjs";
import { measureBytes, measureFiles, snapshotModule } from "./lib/module.mjs";
import { startServer } from "./lib/server.mjs";

const bench = dirname(fileURLToPath(import.meta.url));
const root = join(bench, "..");
const env = (name, fallback) => {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${v}: expected a non-negative number`);
  return n;
};
const quick = process.argv.includes("--quick");
const C = {
  startupRuns: env("BENCH_RUNS", quick ? 3 : 15),
  eventRuns: env("BENCH_EVENT_RUNS", quick ? 1 : 7),
  events: env("BENCH_EVENTS", quick ? 2000 : 10000),
  burst: env("BENCH_BURST", 5),
  eventMaxSeconds: env("BENCH_EVENT_MAX_SECONDS", 120),
  memRuns: env("BENCH_MEM_RUNS", quick ? 1 : 3),
  memPeerRuns: env("BENCH_MEM_PEER_RUNS", 1),
  memMaxSeconds: env("BENCH_MEM_MAX_SECONDS", quick ? 20 : 90),
  connectRuns: env("BENCH_CONNECT_RUNS", quick ? 1 : 5),
  collectRequests: env("BENCH_COLLECT_REQUESTS", quick ? 300 : 3000),
  collectConcurrency: env("BENCH_COLLECT_CONCURRENCY", 8),
  collectMaxSeconds: env("BENCH_COLLECT_MAX_SECONDS", 30),
  companionBin: process.env.BENCH_COMPANION_BIN ?? "",
};
const CHECKPOINTS = [10_000, 50_000, 100_000];
const log = (...a) => console.error("[bench]", ...a);

// ---- statistics -----------------------------------------------------------------------
const sorted = (xs) => [...xs].filter(Number.isFinite).sort((a, b) => a - b);
const quantile = (xs, q) => { const s = sorted(xs); if (!s.length) return NaN; const i = (s.length - 1) * q; const lo = Math.floor(i); return s[lo] + (s[Math.ceil(i)] - s[lo]) * (i - lo); };
const stat = (xs) => ({ n: sorted(xs).length, median: quantile(xs, 0.5), min: quantile(xs, 0), max: quantile(xs, 1), p90: quantile(xs, 0.9) });
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "—");
const kb = (b) => (b / 1024).toFixed(1);
const fmtStat = (s, d = 1) => (s.n ? `${fmt(s.median, d)} (${fmt(s.min, d)}–${fmt(s.max, d)})` : "—");

// ---- the machine ----------------------------------------------------------------------
function machine(browserVersion) {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = cpuinfo.match(/^model name\s*:\s*(.*)$/m)?.[1]?.trim() ?? cpus()[0]?.model ?? "unknown";
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  return { model, cores: cpus().length, chromium: browserVersion, node: process.version, load };
}

// ---- 3 and 4 per page -----------------------------------------------------------------
async function eventsRun(browser, origin, sdk) {
  const p = await openPage(browser, origin, sdk, { stub: true });
  try {
    await p.page.evaluate(() => window.benchStartup());
    await p.settle(5000); // let the SDK finish whatever it does after "ready"
    const before = await p.taskMs();
    const r = await p.page.evaluate(([n, b, ms]) => window.benchEvents(n, b, ms), [C.events, C.burst, C.eventMaxSeconds * 1000]);
    const settled = await p.settle(30000); // the SDK's asynchronous work after the last call
    const mainMs = (await p.taskMs()) - before;
    const sent = await p.page.evaluate(() => window.__benchSent);
    return { ...r, mainMs, settled, sent, errors: p.errors, external: p.external, timeDomain: p.timeDomain };
  } finally { await p.close(); }
}

async function memoryRun(browser, origin, sdk) {
  const p = await openPage(browser, origin, sdk, { stub: true });
  try {
    await p.page.evaluate(() => window.benchStartup());
    await p.settle(5000);
    const readings = [{ events: 0, heap: await p.heapAfterGc(), wasm: await p.page.evaluate(() => window.__bench.wasmMemory()) }];
    let from = 0;
    const deadline = Date.now() + C.memMaxSeconds * 1000;
    for (const to of CHECKPOINTS) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      const r = await p.page.evaluate(([a, b, burst, ms]) => window.benchMemory(a, b, burst, ms), [from, to, C.burst, left]);
      if (r.reached < to) break; // out of time: this checkpoint is not reported
      await p.settle(10000);
      readings.push({ events: to, heap: await p.heapAfterGc(), wasm: r.wasmBytes });
      from = to;
    }
    return { readings, errors: p.errors, external: p.external };
  } finally { await p.close(); }
}

// ---- main -----------------------------------------------------------------------------
const startedAt = new Date();
log("snapshot of pkg/web");
const mod = await snapshotModule(root, bench);
log("bundling the peers with esbuild");
const peers = await buildPeers();
const SDKS = [{ id: "ours", label: "altegio-analytics (ours)" }, ...peers];
const label = Object.fromEntries([...SDKS.map((s) => [s.id, s.label]), ["none", "harness alone (baseline)"]]);

// 1. sizes
const sizes = { ours: measureFiles(mod.files, join(mod.dir, "web")) };
for (const p of peers) sizes[p.id] = { total: measureBytes(readFileSync(p.file)) };

const server = await startServer({ pkgDir: mod.dir, bench });
const browser = await launch({ proxyPort: server.port });
const info = machine(browser.version());
log(`Chromium ${info.chromium}, ${info.cores} cores, load ${info.load}`);
const external = {};   // sdk -> requests its pages made to non-loopback hosts
const pageErrors = {}; // sdk -> first errors seen
const note = (sdk, r) => {
  if (r.external?.length) (external[sdk] ??= []).push(...r.external);
  if (r.errors?.length) pageErrors[sdk] ??= r.errors.slice(0, 2);
};

// Smoke: each set-up really works (5 events, unstubbed: they reach the sink).
const smoke = {};
for (const s of SDKS) {
  const p = await openPage(browser, server.origin, s.id);
  try {
    await p.page.evaluate(() => window.benchStartup());
    smoke[s.id] = await p.page.evaluate(() => window.benchSmoke());
    await p.settle(5000);
    note(s.id, p);
  } finally { await p.close(); }
}
const sinkAfterSmoke = JSON.parse(JSON.stringify(server.sink));
log("smoke", JSON.stringify(smoke), JSON.stringify(sinkAfterSmoke));

// 2. start-up, round robin over the SDKs
const startup = Object.fromEntries(SDKS.map((s) => [s.id, []]));
for (let run = 0; run < C.startupRuns; run++) {
  for (const s of SDKS) {
    const p = await openPage(browser, server.origin, s.id);
    try {
      const r = await p.page.evaluate(() => window.benchStartup());
      startup[s.id].push(r.startupMs);
      note(s.id, p);
    } finally { await p.close(); }
  }
  log(`start-up round ${run + 1}/${C.startupRuns}`);
}

// 3. per event, round robin, with the harness alone as a baseline
const EVENT_SDKS = ["none", ...SDKS.map((s) => s.id)];
const perEvent = Object.fromEntries(EVENT_SDKS.map((id) => [id, []]));
for (let run = 0; run < C.eventRuns; run++) {
  for (const id of EVENT_SDKS) {
    const r = await eventsRun(browser, server.origin, id);
    perEvent[id].push(r);
    note(id, r);
    log(`events ${id} ${run + 1}/${C.eventRuns}: ${r.done} events, calls ${fmt(r.callMs)} ms, main thread ${fmt(r.mainMs)} ms, settled ${r.settled}`);
  }
}

// 4. memory: ours memRuns times, each peer memPeerRuns times
const memory = Object.fromEntries(SDKS.map((s) => [s.id, []]));
for (let run = 0; run < Math.max(C.memRuns, C.memPeerRuns); run++) {
  for (const s of SDKS) {
    if (run >= (s.id === "ours" ? C.memRuns : C.memPeerRuns)) continue;
    const r = await memoryRun(browser, server.origin, s.id);
    memory[s.id].push(r.readings);
    note(s.id, r);
    log(`memory ${s.id} ${run + 1}: ${r.readings.map((x) => `${x.events}:${kb(x.heap)}K+${kb(x.wasm)}K`).join(" ")}`);
  }
}
await browser.close();
const sinkTotal = server.sink;
const browserExternal = server.external; // all non-loopback attempts, pages' and Chromium's own
await server.close();

// 5. the companion
let companion = null;
if (C.companionBin) {
  log("companion");
  try {
    companion = await companionBench({ bin: C.companionBin, root, connectRuns: C.connectRuns,
      collect: { requests: C.collectRequests, concurrency: C.collectConcurrency, maxSeconds: C.collectMaxSeconds } });
  } catch (e) { companion = { error: String(e.message ?? e) }; }
} else {
  companion = { error: "BENCH_COMPANION_BIN not set (run through bench/run.sh)" };
}

// ---- the report -----------------------------------------------------------------------
const md = [];
const gz = (id) => sizes[id].total.gzip;
md.push(`# altegio-analytics benchmarks`, "");
md.push(`Run ${startedAt.toISOString().replace(/\.\d+Z$/, "Z")} by \`bash bench/run.sh\`${quick ? " --quick" : ""}. Method and caveats: [bench/README.md](../README.md).`, "");
const busy = Number(info.load.split(" ")[0]) > info.cores * 0.5;
md.push(`- Machine: ${info.model}, ${info.cores} cores; load average at start ${info.load}${busy ? " — **the machine was busy with other work: wall-clock figures are noisy; re-run at a quiet moment before quoting them**" : ""}`);
md.push(`- Chromium ${info.chromium} (\`/usr/bin/chromium ${CHROMIUM_ARGS.join(" ")}\`), Node ${info.node}, playwright-core ${JSON.parse(readFileSync(join(bench, "node_modules/playwright-core/package.json"), "utf8")).version}`);
md.push(`- Ours: \`pkg/web\` built ${mod.builtAt}, wasm sha256 ${mod.wasmSha256}…`);
md.push(`- Peers (npm, pinned in bench/package-lock.json): ${peers.map((p) => `${p.pkg}@${p.version}`).join(", ")}`);
md.push(`- Fresh page loads per figure: start-up ${C.startupRuns}, per event ${C.eventRuns} (× ${C.events} events in bursts of ${C.burst}), memory ${C.memRuns} (ours) / ${C.memPeerRuns} (peers). Figures: median (min–max).`, "");

md.push(`## 1. Transfer size`, "", "Bytes of everything a page downloads for the SDK (ours: all of `pkg/web` but the `.d.ts`, each file compressed on its own; peers: one esbuild bundle each, minified).", "");
md.push(`| SDK | raw | gzip -9 | brotli q11 | gzip vs ours |`, `|---|---:|---:|---:|---:|`);
for (const s of SDKS) {
  const t = sizes[s.id].total;
  md.push(`| ${s.label} | ${t.raw} | ${t.gzip} | ${t.brotli} | ${s.id === "ours" ? "1×" : `${(t.gzip / gz("ours")).toFixed(2)}×`} |`);
}
md.push("", "Ours by file:", "", "| file | raw | gzip -9 | brotli q11 |", "|---|---:|---:|---:|");
for (const r of sizes.ours.rows) md.push(`| \`${r.file}\` | ${r.raw} | ${r.gzip} | ${r.brotli} |`);
md.push("");

md.push(`## 2. Start-up`, "", "ms from just before the `import()` that starts fetching the SDK to \"ready to track\" (per SDK: bench/README.md), served from 127.0.0.1, cold cache.", "");
md.push(`| SDK | ms, median (min–max) | p90 |`, `|---|---:|---:|`);
for (const s of SDKS) { const st = stat(startup[s.id]); md.push(`| ${s.label} | ${fmtStat(st)} | ${fmt(st.p90)} |`); }
md.push("");

md.push(`## 3. Main-thread time per event`, "");
md.push(`${C.events} \`track\` calls of the widget mix (bench/lib/events.js), in bursts of ${C.burst} with a yield between bursts; gtag/fbq no-ops; peers' transports stubbed (bench/pages/stub.js). ` +
  `**main thread**: CDP TaskDuration (${perEvent.ours[0]?.timeDomain ?? "?"}) from the first call until the main thread is quiet again, so the peers' asynchronous work (queues, storage, timers) is included, ÷ events. **calls**: wall time inside the track calls only (performance.now around each burst) ÷ events.`, "");
md.push(`| SDK | main thread µs/event | main thread − baseline | calls µs/event | events done | sent (stubbed) |`, `|---|---:|---:|---:|---:|---|`);
const perEventStat = {};
for (const id of EVENT_SDKS) {
  const runs = perEvent[id];
  const main = stat(runs.map((r) => (r.mainMs * 1000) / r.done));
  const call = stat(runs.map((r) => (r.callMs * 1000) / r.done));
  perEventStat[id] = main;
  const done = runs.map((r) => r.done);
  const sent = runs[0]?.sent ? Object.entries(runs[0].sent).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(", ") || "nothing" : "—";
  const unsettled = runs.filter((r) => !r.settled).length;
  const net = id === "none" ? "—" : fmt(main.median - stat(perEvent.none.map((r) => (r.mainMs * 1000) / r.done)).median);
  md.push(`| ${label[id]} | ${fmtStat(main)} | ${net} | ${fmtStat(call)} | ${Math.min(...done)}${Math.min(...done) < C.events ? " (time cap)" : ""} | ${sent}${unsettled ? `; ${unsettled} run(s) not quiet after 30 s` : ""} |`);
}
md.push("");

md.push(`## 4. Memory`, "", "After a forced GC (CDP HeapProfiler.collectGarbage), JS heap used (Runtime.getHeapUsage) + the module's wasm memory (exports.memory.buffer.byteLength), KiB, median of the loads. Same bursts as above, nothing kept by the page.", "");
md.push(`| SDK | loaded | after 10k | after 50k | after 100k |`, `|---|---:|---:|---:|---:|`);
for (const s of SDKS) {
  const cells = [0, ...CHECKPOINTS].map((n) => {
    const rs = memory[s.id].map((run) => run.find((x) => x.events === n)).filter(Boolean);
    if (!rs.length) return "— (time cap)";
    const heap = quantile(rs.map((x) => x.heap), 0.5), wasm = quantile(rs.map((x) => x.wasm), 0.5);
    return s.id === "ours" ? `${kb(heap + wasm)} (JS ${kb(heap)} + wasm ${kb(wasm)})` : kb(heap);
  });
  md.push(`| ${s.label} | ${cells.join(" | ")} |`);
}
md.push("");

md.push(`## 5. The companion`, "");
if (companion?.error) md.push(`Not measured: ${companion.error}`, "");
else {
  const c = companion.connect;
  md.push(`| measure | result |`, `|---|---|`);
  md.push(`| POST /api/connect, 100 salon_ids, stand-in latency ${c.latencyMs} ms/call, ${c.concurrency} in flight | ${fmtStat(stat(c.walls), 0)} ms over ${c.walls.length} requests; floor ⌈100/${c.concurrency}⌉ × ${c.latencyMs} ms = ${c.floorMs} ms |`);
  if (companion.collect?.skipped) md.push(`| POST /api/collect | skipped: ${companion.collect.skipped} |`);
  else for (const r of companion.collect) {
    md.push(`| POST /api/collect, ${r.perRequest} event(s)/request, ${r.concurrency} connections, SQLite | ${fmt(r.eventsPerSecond, 0)} events/s (${r.accepted} events in ${fmt(r.seconds, 2)} s; statuses ${JSON.stringify(r.statuses)}) |`);
  }
  for (const n of companion.notes) md.push(``, `Note: ${n}`);
  md.push("");
}

md.push(`## Goals`, "");
const oursGz = gz("ours");
const stOurs = stat(startup.ours), stSnow = stat(startup.snowplow);
const evOurs = perEventStat.ours, evSeg = perEventStat.segment;
const ratio = evSeg.median / evOurs.median;
md.push(`| goal | result | met? |`, `|---|---|---|`);
md.push(`| module ≤ 16 KB gzip | ${oursGz} bytes = ${kb(oursGz)} KiB | ${oursGz <= 16 * 1024 ? "yes" : "**no**"} |`);
const overlap = stOurs.max >= stSnow.min && stSnow.max >= stOurs.min ? "; the min–max ranges overlap, so the difference is within this run's noise" : "";
md.push(`| start-up faster than Snowplow's | ours ${fmt(stOurs.median)} ms vs Snowplow ${fmt(stSnow.median)} ms (medians${overlap}) | ${stOurs.median < stSnow.median ? "yes" : "**no**"} |`);
md.push(`| ≥ 10× less main-thread time per event than Segment | ours ${fmt(evOurs.median)} µs vs Segment ${fmt(evSeg.median)} µs: ${fmt(ratio)}× (medians, baseline not subtracted: the conservative reading) | ${ratio >= 10 ? "yes" : "**no**"} |`);
md.push("");

md.push(`## Network`, "");
md.push(`Every peer's transport pointed at the local sink. Requests the sink received (smoke loads, unstubbed, 5 events each): ${Object.entries(sinkAfterSmoke).map(([k, v]) => `${k} ${v.requests}`).join(", ") || "none"}; in all: ${Object.entries(sinkTotal).map(([k, v]) => `${k} ${v.requests}`).join(", ") || "none"}.`);
const extPages = Object.entries(external);
md.push(`Requests from the pages to hosts other than 127.0.0.1 (all blocked): ${extPages.length ? extPages.map(([k, v]) => `${k}: ${v.length} (${[...new Set(v.map((u) => new URL(u).host))].join(", ")})`).join("; ") : "none"}.`);
const chromeOwn = [...new Set(browserExternal.map((e) => e.target.replace(/^https?:\/\//, "").split(/[/?]/)[0]))];
md.push(`Chromium's own background requests caught by the proxy (not from the pages): ${chromeOwn.length ? chromeOwn.join(", ") : "none"}.`);
const errs = Object.entries(pageErrors);
if (errs.length) md.push("", `Console errors seen (first of each SDK): ${errs.map(([k, v]) => `${k}: ${v.map((e) => "`" + e.replace(/\s+/g, " ").slice(0, 140) + "`").join(", ")}`).join("; ")}`);
md.push("", `Smoke (one unstubbed load per SDK, 5 events): ours' verdicts ok = ${JSON.stringify(smoke.ours?.map((v) => v?.ok))}, the booked one forwarded to ${JSON.stringify(smoke.ours?.[4]?.forwarded)}; the peers' events reached the sink as counted above.`, "");

const text = md.join("\n") + "\n";
mkdirSync(join(bench, "results"), { recursive: true });
writeFileSync(join(bench, "results", "latest.md"), text);
writeFileSync(join(bench, "results", "latest.json.tmp"), JSON.stringify({ C, info, sizes, startup, perEvent, memory, companion, smoke }, null, 1));
console.log(text);
