// The end-to-end harness: the demo's servers on free 127.0.0.1 ports, and headless Chromium.
//
// - the stand-in for Altegio's partner API (`altegio-partner-standin`);
// - the companion on a fresh SQLite file in a temporary directory, serving www/ (plus the
//   runtime demo-config.js that scripts/demo.sh also writes) and pkg/;
// - the booking-widget stand-in (www/widget/) on a second origin;
// - a third origin serving tests/e2e/fixtures/ (a forger, a stand-in for Altegio's app page).
//
// Assumes `npm run build` ran (pkg/web, pkg/companion, pkg/register); runs `cargo build` for the companion
// binaries (a no-op when up to date) unless ALTEGIO_E2E_BIN_DIR names prebuilt ones.
import { execFileSync, spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The demo's partner token and app ID (the same as scripts/demo.sh uses). */
export const PARTNER_TOKEN = "demo-partner-token-not-a-secret";
export const APPLICATION_ID = 4242;
/** The demo's admin token (the same as scripts/demo.sh uses): GET /api/locations and /api/collect/status need it. */
export const ADMIN_TOKEN = "demo-admin-token-not-a-secret";

/** `fetch` with the admin token, for the companion's operators' endpoints. */
export function adminFetch(url, init = {}) {
  return fetch(url, { ...init, headers: { ...init.headers, authorization: `Bearer ${ADMIN_TOKEN}` } });
}

const CHROMIUM_ARGS = [
  "--no-sandbox", "--headless=new", "--disable-gpu", "--disable-dev-shm-usage",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--no-first-run", "--disable-quic",
];

/** Headless Debian Chromium. */
export function launchBrowser() {
  return chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
}

/**
 * Waits until `check()` returns a truthy value (polled), or fails with `what` after a
 * generous safety timeout. Returns that value.
 */
export async function until(what, check, { timeoutMs = 30_000, everyMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A registration query as Altegio sends it: `salon_ids[]` and signed user data. */
export function signedRegisterQuery(salonIds, token = PARTNER_TOKEN) {
  const user = {
    id: 90211, name: "Marta Lange", phone: "+4930123456", email: "owner@studio-bloom.example",
    is_approved: true, salon_name: "Studio Bloom",
  };
  const json = Buffer.from(JSON.stringify(user));
  const sign = createHmac("sha256", token).update(json).digest("hex");
  const ids = salonIds.map((id) => `salon_ids%5B%5D=${id}`).join("&");
  return `${ids}&user_data=${encodeURIComponent(json.toString("base64"))}&user_data_sign=${sign}`;
}

/**
 * The webhook URL the companion at `site` gives Altegio for `salonId`: the lower-case hex
 * HMAC-SHA256 of "altegio-companion webhook v1:<id>" keyed with the partner token.
 */
export function webhookUrl(site, salonId, token = PARTNER_TOKEN) {
  const mac = createHmac("sha256", token).update(`altegio-companion webhook v1:${salonId}`).digest("hex");
  return `${site}/api/altegio/webhook/${salonId}/${mac}`;
}

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** A static file server for `dir` on a free 127.0.0.1 port. */
async function staticServer(dir) {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const file = normalize(join(dir, path.endsWith("/") ? `${path}index.html` : path));
    if (!file.startsWith(dir + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": MIME[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
      res.end(body);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

/** A port that was free a moment ago. */
async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const BINARIES = ["altegio-companion", "altegio-partner-standin", "altegio-destination-standin"];
let built = null;

/**
 * The companion's binaries: `cargo build -p altegio-companion --bins --locked` on the first
 * call (a no-op when they are up to date, so a stale binary never runs old code), located by
 * the paths cargo reports — so CARGO_TARGET_DIR (resolved against the repo root when
 * relative, since cargo runs there), CARGO_BUILD_TARGET_DIR and cargo's config all hold.
 * With ALTEGIO_E2E_BIN_DIR set, the binaries in that directory are used as they are.
 */
function binaries() {
  const given = process.env.ALTEGIO_E2E_BIN_DIR;
  if (given) {
    const paths = Object.fromEntries(BINARIES.map((name) => [name, join(given, name)]));
    const missing = BINARIES.filter((name) => !existsSync(paths[name]));
    if (missing.length > 0) {
      throw new Error(`ALTEGIO_E2E_BIN_DIR=${given}: no ${missing.join(", ")} there (unset it to let cargo build them)`);
    }
    return { companion: paths["altegio-companion"], standin: paths["altegio-partner-standin"], destinations: paths["altegio-destination-standin"] };
  }
  if (!built) {
    // Diagnostics go to stderr as usual; stdout carries one JSON message per line.
    const out = execFileSync(
      "cargo",
      ["build", "-p", "altegio-companion", "--bins", "--locked", "--message-format=json-render-diagnostics"],
      { cwd: root, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8", maxBuffer: 256 * 1024 * 1024 },
    );
    const paths = {};
    for (const line of out.split("\n")) {
      if (!line.startsWith("{")) continue;
      const message = JSON.parse(line);
      if (message.reason === "compiler-artifact" && message.executable && BINARIES.includes(message.target?.name)) {
        paths[message.target.name] = message.executable;
      }
    }
    const missing = BINARIES.filter((name) => !paths[name] || !existsSync(paths[name]));
    if (missing.length > 0) throw new Error(`cargo build reported no ${missing.join(", ")}`);
    built = { companion: paths["altegio-companion"], standin: paths["altegio-partner-standin"], destinations: paths["altegio-destination-standin"] };
  }
  return built;
}

/** Spawns a server; its output is kept for error messages. */
function start(command, args, env) {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  child.output = "";
  child.stdout.on("data", (d) => { child.output += d; });
  child.stderr.on("data", (d) => { child.output += d; });
  return child;
}

function alive(child, name) {
  if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}):\n${child.output}`);
}

/** The site the companion's `/api/collect` knows when `collect` is on (its origin is the site's). */
export const COLLECT_SITE = { id: "e2e-site", key: "e2e-public-key-0123456789" };

/**
 * Starts everything. `frameAncestors` adds origins allowed to frame the companion's pages.
 * `collect: true` also starts the Meta/GA4 stand-in and configures the companion's
 * `/api/collect` (site `COLLECT_SITE`, served pages' origin) to deliver to it.
 * Returns the origins, the stand-in's recorded requests, and `stop()`.
 */
export async function startDemo({ frameAncestors = [], collect = false } = {}) {
  for (const dir of ["web", "companion", "register"]) {
    if (!existsSync(join(root, "pkg", dir, "altegio_analytics.js"))) {
      throw new Error(`pkg/${dir} is missing: run \`npm run build\` first`);
    }
  }
  const bin = binaries();
  const tmp = mkdtempSync(join(tmpdir(), "altegio-e2e-"));
  const children = [];
  const servers = [];
  const stop = async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
    // A server still draining connections after 10 s is killed: stopping never hangs a run.
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => {
      const kill = setTimeout(() => c.kill("SIGKILL"), 10_000);
      c.once("exit", () => { clearTimeout(kill); r(); });
    }) : null)));
    await Promise.all(servers.map((s) => s.close()));
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    const widget = await staticServer(join(root, "www", "widget"));
    servers.push(widget);
    const third = await staticServer(join(root, "tests", "e2e", "fixtures"));
    servers.push(third);

    const standinProcess = start(bin.standin, ["--listen", "127.0.0.1:0"], { ALTEGIO_STANDIN_PARTNER_TOKEN: PARTNER_TOKEN });
    children.push(standinProcess);
    const standin = await until("the partner API stand-in", () => {
      alive(standinProcess, "altegio-partner-standin");
      return /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(standinProcess.output)?.[1];
    });

    let destinations = null;
    if (collect) {
      const process = start(bin.destinations, ["--listen", "127.0.0.1:0"], {});
      children.push(process);
      destinations = await until("the Meta/GA4 stand-in", () => {
        alive(process, "altegio-destination-standin");
        return /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(process.output)?.[1];
      });
    }

    const sitePort = await freePort();
    const site = `http://127.0.0.1:${sitePort}`;
    // The site: www/ linked in, plus the runtime settings scripts/demo.sh writes too.
    const www = join(tmp, "www");
    mkdirSync(www);
    for (const entry of readdirSync(join(root, "www"))) symlinkSync(join(root, "www", entry), join(www, entry));
    if (collect) symlinkSync(join(root, "tests", "e2e", "fixtures", "delivery.html"), join(www, "delivery.html"));
    writeFileSync(join(www, "demo-config.js"), `window.DEMO_CONFIG = ${JSON.stringify({
      widgetOrigin: widget.origin,
      registerUrl: `/register?${signedRegisterQuery([1001, 1002, 1003])}`,
      ...(collect ? { companion: { site: COLLECT_SITE.id, key: COLLECT_SITE.key } } : {}),
    })};\n`);

    const companionProcess = start(bin.companion, [
      "--listen", `127.0.0.1:${sitePort}`,
      "--database", join(tmp, "companion.sqlite"),
      "--altegio-api", standin,
      "--application-id", String(APPLICATION_ID),
      "--public-url", site,
      "--www-dir", www,
      "--pkg-dir", join(root, "pkg"),
      "--frame-ancestors", ["https://app.alteg.io", ...frameAncestors].join(" "),
      "--retry-base-ms", "50",
      ...(collect ? [
        "--site", `id=${COLLECT_SITE.id},key=${COLLECT_SITE.key},origins=${site}`,
        "--meta-api", `${destinations}/v21.0`, "--meta-pixel-id", "1234567890123456",
        "--ga4-api", destinations, "--ga4-measurement-id", "G-DEMO000001",
        "--delivery-retry-base-ms", "50", "--delivery-poll-ms", "100",
      ] : []),
    ], {
      ALTEGIO_COMPANION_PARTNER_TOKEN: PARTNER_TOKEN,
      ALTEGIO_COMPANION_ADMIN_TOKEN: ADMIN_TOKEN,
      ...(collect ? { ALTEGIO_COMPANION_META_ACCESS_TOKEN: "e2e-token", ALTEGIO_COMPANION_GA4_API_SECRET: "e2e-secret" } : {}),
    });
    children.push(companionProcess);
    await until("the companion", async () => {
      alive(companionProcess, "altegio-companion");
      return (await adminFetch(`${site}/api/locations`)).ok;
    });

    return {
      site,
      widget: widget.origin,
      third: third.origin,
      standin,
      /** The Meta/GA4 stand-in's origin (with `collect`). */
      destinations,
      /** The stand-in's recorded requests (Authorization redacted). */
      requests: async () => (await (await fetch(`${standin}/__standin/requests`)).json()).requests,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
