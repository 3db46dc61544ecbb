// 5. The companion, as released (`cargo build --release -p altegio-companion`), on loopback:
//  a) POST /api/connect with 100 salon_ids against altegio-partner-standin --latency-ms 50:
//     wall time of the request (fresh IDs every time, so every location is really activated);
//  b) POST /api/collect throughput on SQLite: a bounded number of requests (and a time cap)
//     from this Node process over keep-alive connections; skipped with a note when the
//     binary has no /api/collect.
import { spawn, execFileSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const TOKEN = "bench-partner-token";

const freePort = () => new Promise((resolve, reject) => {
  const s = createServer().once("error", reject);
  s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

function startProcess(bin, args, readyPattern, timeoutMs = 20000) {
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_LOG: "warn" } });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill(); reject(new Error(`${bin} did not start: ${output.slice(-500)}`)); }, timeoutMs);
    const onData = (d) => {
      output += d;
      const m = output.match(readyPattern);
      if (m) { clearTimeout(timer); resolve({ child, match: m }); }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => { clearTimeout(timer); reject(new Error(`${bin} exited (${code}): ${output.slice(-500)}`)); });
  });
}

async function waitHttp(url, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try { await fetch(url); return; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  throw new Error(`no answer from ${url}`);
}

function post(agent, port, path, body, headers = {}) {
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: "POST", agent,
      headers: { "content-type": "application/json", "content-length": data.length, ...headers } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.setTimeout(60000, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(data);
  });
}

export async function companionBench({ bin, root, connectRuns, collect }) {
  const result = { connect: null, collect: null, notes: [] };
  const dir = mkdtempSync(join(tmpdir(), "altegio-bench-"));
  const children = [];
  try {
    // The stand-in of Altegio's partner API, 50 ms before every answer.
    const standin = await startProcess(join(bin, "altegio-partner-standin"),
      ["--listen", "127.0.0.1:0", "--partner-token", TOKEN, "--latency-ms", "50"], /listening on (http:\/\/[\d.:]+)/);
    children.push(standin.child);
    const standinUrl = standin.match[1];

    const help = execFileSync(join(bin, "altegio-companion"), ["--help"]).toString();
    const hasCollect = help.includes("--site") && help.includes("--collect-rate");
    const port = await freePort();
    const siteKey = randomBytes(16).toString("hex");
    const siteOrigin = "https://bench.example";
    const args = [
      "--listen", `127.0.0.1:${port}`, "--database", join(dir, "state.sqlite"),
      "--altegio-api", standinUrl, "--partner-token", TOKEN, "--application-id", "1",
      "--public-url", `http://127.0.0.1:${port}`, "--www-dir", join(root, "www"), "--pkg-dir", join(root, "pkg"),
      // concurrency 8 and 4 attempts are the defaults; spelt out, as the floor below uses them
      "--activation-concurrency", "8",
    ];
    if (hasCollect) {
      // No Meta/GA4 credentials: events are stored, nothing is queued for delivery, so this
      // measures the endpoint and its SQLite writes (synchronous=FULL), not the delivery worker.
      args.push("--site", `id=bench,key=${siteKey},origins=${siteOrigin}`,
        "--collect-rate", "1000000", "--collect-burst", "1000000");
    }
    const companion = spawn(join(bin, "altegio-companion"), args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, RUST_LOG: "warn" } });
    children.push(companion);
    let companionErr = "";
    companion.stderr.on("data", (d) => { companionErr = (companionErr + d).slice(-2000); });
    await waitHttp(`http://127.0.0.1:${port}/api/locations`);

    // a) connect 100 locations, connectRuns times, with fresh IDs each time
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    const userData = JSON.stringify({ id: 1, name: "Bench Owner", salon_name: "Bench" });
    const signed = {
      user_data: Buffer.from(userData).toString("base64"),
      user_data_sign: createHmac("sha256", TOKEN).update(userData).digest("hex"),
    };
    const walls = [];
    for (let run = 0; run < connectRuns; run++) {
      const ids = Array.from({ length: 100 }, (_, i) => 100000 + run * 1000 + i);
      const t0 = performance.now();
      const res = await post(agent, port, "/api/connect", { salon_ids: ids, ...signed });
      const ms = performance.now() - t0;
      const body = JSON.parse(res.body);
      const active = (body.locations ?? []).filter((l) => l.status === "active").length;
      if (res.status !== 200 || active !== 100) {
        result.notes.push(`connect run ${run + 1}: HTTP ${res.status}, ${active}/100 active: ${res.body.slice(0, 200)}`);
      }
      walls.push(ms);
    }
    result.connect = { walls, floorMs: Math.ceil(100 / 8) * 50, latencyMs: 50, concurrency: 8 };

    // b) /api/collect
    if (!hasCollect) {
      result.collect = { skipped: "the companion binary has no /api/collect (no --site/--collect-rate flags) yet" };
    } else {
      const probe = await post(agent, port, "/api/collect", { site: "bench", key: siteKey, events: [] }, { origin: siteOrigin });
      if (probe.status === 404 || probe.status === 405) {
        result.collect = { skipped: `POST /api/collect answered ${probe.status}` };
      } else {
        result.collect = [];
        // one event a request (a beacon per event), then full batches of 25 (the contract's maximum)
        for (const [perRequest, requests] of [[1, collect.requests], [25, Math.max(1, Math.round(collect.requests / 5))]]) {
          result.collect.push(await collectLoad({ agent, port, siteKey, siteOrigin, perRequest, requests,
            concurrency: collect.concurrency, maxSeconds: collect.maxSeconds }));
        }
      }
    }
    agent.destroy();
    if (companion.exitCode !== null) result.notes.push(`the companion exited early: ${companionErr.slice(-300)}`);
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

let eventSeq = 0;
function collectBody(siteKey, perRequest) {
  const now = Date.now();
  return {
    site: "bench",
    key: siteKey,
    client: { ga_client_id: "1197596843.1700000000", fbp: "fb.1.1700000000000.1234567890", page_url: "https://bench.example/booking" },
    events: Array.from({ length: perRequest }, () => {
      const id = `bench-${process.pid}-${eventSeq++}`;
      return {
        event_id: id,
        name: "booked",
        ga4: { name: "booked", params: { appointment_count: 1, service_ids: "1000,1001", company_id: 123456, event_id: id } },
        meta: { name: "Schedule", params: { appointment_count: 1, service_ids: "1000,1001", company_id: 123456 } },
        ga4_delivered_in_browser: true,
        time_ms: now,
      };
    }),
  };
}

/** `requests` POSTs (at most `maxSeconds`), `concurrency` in flight; events accepted per second. */
async function collectLoad({ agent, port, siteKey, siteOrigin, perRequest, requests, concurrency, maxSeconds }) {
  const count = requests;
  let sent = 0, accepted = 0, failed = 0;
  const statuses = {};
  const t0 = performance.now();
  const deadline = t0 + maxSeconds * 1000;
  async function worker() {
    while (sent < count && performance.now() < deadline) {
      sent += 1;
      try {
        const res = await post(agent, port, "/api/collect", collectBody(siteKey, perRequest), { origin: siteOrigin });
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status === 202) accepted += JSON.parse(res.body).accepted ?? 0; else failed += 1;
      } catch { failed += 1; }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  return { perRequest, requests: sent, accepted, failed, statuses, seconds, eventsPerSecond: accepted / seconds, concurrency };
}
