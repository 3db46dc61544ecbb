// The npm package as a user gets it: `npm pack` the repository, install the tarball into a
// scratch project (offline: the package has no dependencies), then import it
//   (a) from Node (the web build, initialised with the wasm bytes; the bundler export resolves),
//   (b) from a page in headless Chromium (import map → the installed pkg/web; gtag receives
//       the booking; a real postMessage reaches listen()),
//   (c) from TypeScript with `tsc --noEmit --strict` (every option and result field typed; a
//       wrong option type fails to compile),
// and check that the tarball holds only package.json, README.md, pkg/web/* and pkg/bundler/*.
//
// Needs `npm run build` to have run (pkg/web, pkg/bundler). Run: node --test tests/package/
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const MEASUREMENT_ID = "G-PKG12345";

// A `booked` payload as the widget posts it, and what gtag must receive for it.
const BOOKING = {
  appointments: [
    { services: [101, 102], staff_id: 7, datetime: "2026-11-23T10:00:00+03:00", chargeStatus: "not_paid", custom_fields: [], id: 555 },
  ],
  code: "X7Y2KD",
  companyId: 42,
  companyName: "Studio Bloom",
  isMobile: false,
  event_id: "pkg-555",
};
const BOOKING_GTAG = [
  "event",
  "booked",
  {
    appointment_count: 1,
    service_ids: "101,102",
    staff_ids: "7",
    record_ids: "555",
    appointment_datetime: "2026-11-23T10:00:00+03:00",
    booking_code: "X7Y2KD",
    company_id: 42,
    company_name: "Studio Bloom",
    is_mobile: false,
    event_id: "pkg-555",
    send_to: MEASUREMENT_ID,
  },
];

let work; // temporary directory holding the tarball, the npm cache and the scratch project
let app; // the scratch project
let packed; // npm pack's JSON report for the tarball
let installed; // node_modules/altegio-analytics in the scratch project

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 300_000, ...options });
  if (result.error) throw result.error;
  return result;
}

function npm(args, cwd) {
  const result = run("npm", [...args, "--cache", join(work, "npm-cache"), "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], { cwd });
  assert.equal(result.status, 0, `npm ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

before(() => {
  for (const file of ["pkg/web/altegio_analytics.js", "pkg/web/altegio_analytics_bg.wasm", "pkg/bundler/altegio_analytics.js"]) {
    if (!existsSync(join(root, file))) {
      throw new Error(`${file} is missing: run \`npm run build\` before the packaging tests`);
    }
  }
  work = mkdtempSync(join(tmpdir(), "altegio-analytics-package-"));
  const report = JSON.parse(npm(["pack", "--json", "--pack-destination", work], root));
  assert.equal(report.length, 1);
  packed = report[0];
  app = join(work, "app");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "scratch-app", version: "1.0.0", private: true, type: "module" }, null, 2));
  npm(["install", "--offline", "--no-package-lock", join(work, packed.filename)], app);
  installed = join(app, "node_modules", "altegio-analytics");
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

// pkg/consent and pkg/consent-bundler add Consent Mode (`altegio-analytics/consent`);
// pkg/companion and pkg/companion-bundler add Consent Mode and the server-side copy
// (`altegio-analytics/companion`);
// pkg/register is the registration page's build (`connectLocations()`), shipped since the
// `connect` feature; it is not what partner sites load.
const BUILDS = ["web", "bundler", "consent", "consent-bundler", "companion", "companion-bundler", "register"];

test("the tarball holds only package.json, README.md and the builds under pkg/", () => {
  const files = packed.files.map((f) => f.path).sort();
  const stray = files.filter((p) => !(p === "package.json" || p === "README.md" || BUILDS.some((b) => p.startsWith(`pkg/${b}/`))));
  assert.deepEqual(stray, [], `unexpected files in the tarball: ${stray.join(", ")}`);
  for (const needed of [
    "package.json",
    "README.md",
    "pkg/web/altegio_analytics.js",
    "pkg/web/altegio_analytics.d.ts",
    "pkg/web/altegio_analytics_bg.wasm",
    "pkg/bundler/altegio_analytics.js",
    "pkg/bundler/altegio_analytics_bg.js",
    "pkg/bundler/altegio_analytics.d.ts",
    "pkg/bundler/altegio_analytics_bg.wasm",
    "pkg/consent/altegio_analytics.js",
    "pkg/consent/altegio_analytics.d.ts",
    "pkg/consent/altegio_analytics_bg.wasm",
    "pkg/consent-bundler/altegio_analytics.js",
    "pkg/consent-bundler/altegio_analytics_bg.js",
    "pkg/consent-bundler/altegio_analytics.d.ts",
    "pkg/consent-bundler/altegio_analytics_bg.wasm",
    "pkg/companion/altegio_analytics.js",
    "pkg/companion/altegio_analytics.d.ts",
    "pkg/companion/altegio_analytics_bg.wasm",
    "pkg/companion-bundler/altegio_analytics.js",
    "pkg/companion-bundler/altegio_analytics_bg.js",
    "pkg/companion-bundler/altegio_analytics.d.ts",
    "pkg/companion-bundler/altegio_analytics_bg.wasm",
  ]) {
    assert.ok(files.includes(needed), `${needed} is missing from the tarball (has: ${files.join(", ")})`);
  }
  // The glue's inline JavaScript snippets ship as files for bundlers, and inside the glue
  // (one file, one request) for plain pages.
  for (const build of ["bundler", "consent-bundler", "companion-bundler"]) {
    assert.ok(files.some((p) => p.startsWith(`pkg/${build}/snippets/`) && p.endsWith(".js")), `pkg/${build}/snippets/ is missing`);
  }
  for (const build of ["web", "consent", "companion", "register"]) {
    assert.ok(!files.some((p) => p.startsWith(`pkg/${build}/snippets/`)), `pkg/${build}/snippets/ ships, but its glue should carry the snippets`);
  }
  assert.equal(packed.name, "altegio-analytics");
  assert.equal(packed.version, JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version);
  assert.deepEqual(readFileSync(join(installed, "pkg", "web", "altegio_analytics_bg.wasm")), readFileSync(join(root, "pkg", "web", "altegio_analytics_bg.wasm")));
});

test("Node imports the installed package, initialises it with the wasm bytes and tracks", () => {
  const script = `
    import init, { BookingAnalytics } from "altegio-analytics";
    import { readFileSync } from "node:fs";
    import { fileURLToPath } from "node:url";

    const wasm = fileURLToPath(import.meta.resolve("altegio-analytics/web/altegio_analytics_bg.wasm"));
    await init({ module_or_path: readFileSync(wasm) });
    const calls = [];
    globalThis.gtag = (...args) => calls.push(args);
    globalThis.fbq = (...args) => calls.push(["fbq", ...args]);
    const analytics = new BookingAnalytics({
      ga4: { measurementId: ${JSON.stringify(MEASUREMENT_ID)} },
      meta: { pixelId: "123456789012345" },
    });
    const verdict = analytics.track("booked", ${JSON.stringify(BOOKING)});
    let listenError = null;
    try { analytics.listen(); } catch (e) { listenError = [e instanceof Error, e.message]; }
    let optionError = null;
    try { new BookingAnalytics({ ga4: { measurementId: "UA-1" } }); } catch (e) { optionError = [e instanceof Error, e.message]; }
    const defaultCalls = [...calls];
    // The default build has no server-side copy: the option is refused, naming the build to use.
    const companion = { url: "https://companion.example/api/collect", site: "salon-42", key: "0123456789abcdef" };
    let companionError = null;
    try { new BookingAnalytics({ companion }); } catch (e) { companionError = [e instanceof Error, e.message]; }
    const defaultHasSetUserData = typeof BookingAnalytics.prototype.setUserData;
    // Nor Consent Mode: the option is refused, naming the build to use, and there is no consent().
    let consentError = null;
    try { new BookingAnalytics({ consent: { mode: "basic" } }); } catch (e) { consentError = [e instanceof Error, e.message]; }
    const defaultHasConsent = typeof BookingAnalytics.prototype.consent;
    // The consent build holds events until the visitor decides.
    const withConsent = await import("altegio-analytics/consent");
    const consentWasm = fileURLToPath(import.meta.resolve("altegio-analytics/consent/altegio_analytics_bg.wasm"));
    await withConsent.default({ module_or_path: readFileSync(consentWasm) });
    const held = new withConsent.BookingAnalytics({ ga4: { measurementId: ${JSON.stringify(MEASUREMENT_ID)} }, consent: { mode: "basic" } });
    const heldVerdict = held.track("widget_loaded", {});
    held.consent({ analytics_storage: "granted" });
    const released = held.stats().forwarded.ga4;
    // The companion build takes it, and has setUserData.
    const full = await import("altegio-analytics/companion");
    const fullWasm = fileURLToPath(import.meta.resolve("altegio-analytics/companion/altegio_analytics_bg.wasm"));
    await full.default({ module_or_path: readFileSync(fullWasm) });
    const withCompanion = new full.BookingAnalytics({ ga4: { measurementId: ${JSON.stringify(MEASUREMENT_ID)} }, companion });
    withCompanion.setUserData({ email: "Visitor@Example.com" });
    const fullVerdict = withCompanion.track("widget_loaded", {});
    withCompanion.destroy();
    console.log(JSON.stringify({
      wasm,
      ok: verdict.ok,
      forwarded: verdict.forwarded,
      problems: verdict.problems,
      calls: defaultCalls,
      stats: analytics.stats(),
      listenError,
      optionError,
      companionError,
      defaultHasSetUserData,
      consentError,
      defaultHasConsent,
      consentWasm,
      heldVerdict: [heldVerdict.ok, heldVerdict.waiting],
      released,
      consentBundler: fileURLToPath(import.meta.resolve("altegio-analytics/consent/bundler")),
      fullWasm,
      fullVerdict: [fullVerdict.ok, fullVerdict.companion],
      companionBundler: fileURLToPath(import.meta.resolve("altegio-analytics/companion/bundler")),
      bundler: fileURLToPath(import.meta.resolve("altegio-analytics/bundler")),
      manifest: fileURLToPath(import.meta.resolve("altegio-analytics/package.json")),
    }));
  `;
  writeFileSync(join(app, "node-check.mjs"), script);
  const result = run(process.execPath, ["node-check.mjs"], { cwd: app, timeout: 120_000 });
  assert.equal(result.status, 0, `node-check.mjs failed:\n${result.stdout}\n${result.stderr}`);
  const out = JSON.parse(result.stdout.trim().split("\n").pop());
  assert.equal(out.wasm, join(installed, "pkg", "web", "altegio_analytics_bg.wasm"));
  assert.equal(out.ok, true);
  assert.deepEqual(out.forwarded, ["ga4", "meta"]);
  assert.deepEqual(out.problems, []);
  const { send_to: _, ...metaParams } = BOOKING_GTAG[2];
  assert.deepEqual(out.calls, [BOOKING_GTAG, ["fbq", "track", "Schedule", metaParams, { eventID: "pkg-555" }]]);
  // The documented counters (counters added later, such as consent, are not pinned here).
  const { received, accepted, rejected, ignored, ignoredBy, forwarded, failed } = out.stats;
  assert.deepEqual({ received, accepted, rejected, ignored, ignoredBy, forwarded, failed }, {
    received: 1,
    accepted: 1,
    rejected: 0,
    ignored: 0,
    ignoredBy: { origin: 0, shape: 0, duplicate: 0 },
    forwarded: { ga4: 1, meta: 1 },
    failed: { ga4: 0, meta: 0 },
  });
  assert.deepEqual(out.listenError, [true, "listen() needs a browser window (there is none in this context)"]);
  assert.deepEqual(out.optionError, [true, 'ga4.measurementId: expected a GA4 measurement ID like "G-XXXXXXXXXX", got "UA-1"']);
  assert.deepEqual(out.companionError, [
    true,
    'companion: this build has no server-side copy; import "altegio-analytics/companion" (or "altegio-analytics/companion/bundler") to send one',
  ]);
  assert.equal(out.defaultHasSetUserData, "undefined");
  assert.deepEqual(out.consentError, [
    true,
    'consent: this build has no Consent Mode; import "altegio-analytics/consent" (or "altegio-analytics/consent/bundler") to manage consent',
  ]);
  assert.equal(out.defaultHasConsent, "undefined");
  assert.equal(out.consentWasm, join(installed, "pkg", "consent", "altegio_analytics_bg.wasm"));
  assert.deepEqual(out.heldVerdict, [true, ["ga4"]]);
  assert.equal(out.released, 1);
  assert.equal(out.consentBundler, join(installed, "pkg", "consent-bundler", "altegio_analytics.js"));
  assert.equal(out.fullWasm, join(installed, "pkg", "companion", "altegio_analytics_bg.wasm"));
  assert.deepEqual(out.fullVerdict, [true, "queued"]);
  assert.equal(out.companionBundler, join(installed, "pkg", "companion-bundler", "altegio_analytics.js"));
  // The bundler build resolves through the package's exports (bundlers execute it, Node does not).
  assert.equal(out.bundler, join(installed, "pkg", "bundler", "altegio_analytics.js"));
  assert.ok(existsSync(out.bundler));
  assert.equal(out.manifest, join(installed, "package.json"));
});

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
};

/** A static file server for `dir` on 127.0.0.1 and a free port. */
async function serve(dir) {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^([/\\])+/, "");
    const file = join(dir, path === "" ? "index.html" : path);
    if (path === "favicon.ico") {
      res.writeHead(204).end();
      return;
    }
    if (!file.startsWith(dir + sep) || !existsSync(file) || !TYPES[extname(file)]) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    // `?octet`: served as a server that does not know wasm would serve it.
    const type = req.url.endsWith("?octet") ? "application/octet-stream" : TYPES[extname(file)];
    res.writeHead(200, { "content-type": type, "cache-control": "no-store" }).end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

test("a page in headless Chromium imports the installed package through an import map", { timeout: 240_000 }, async () => {
  const { chromium } = await import("playwright-core");
  writeFileSync(
    join(app, "index.html"),
    `<!doctype html>
<html><head><meta charset="utf-8"><title>altegio-analytics package test</title>
<script type="importmap">
{ "imports": { "altegio-analytics": "/node_modules/altegio-analytics/pkg/web/altegio_analytics.js" } }
</script></head>
<body>
<script type="module">
import init, { BookingAnalytics } from "altegio-analytics";
window.__calls = [];
window.gtag = function () { window.__calls.push(Array.from(arguments)); };
try {
  await init();
  const verdicts = [];
  const analytics = new BookingAnalytics({
    ga4: { measurementId: ${JSON.stringify(MEASUREMENT_ID)} },
    widgetOrigins: [location.origin],
    onVerdict: (v) => verdicts.push(v),
  });
  const verdict = analytics.track("booked", ${JSON.stringify(BOOKING)});
  analytics.listen();
  // A real message from the page itself (an allowed origin here); resolved once dispatched.
  await new Promise((resolve) => {
    const on = (e) => { window.removeEventListener("message", on); resolve(); };
    window.addEventListener("message", on);
    window.postMessage({ action: "widget_closed", params: { step: 4 } }, "*");
  });
  analytics.destroy();
  window.__result = {
    ok: verdict.ok,
    forwarded: verdict.forwarded,
    calls: window.__calls,
    messageVerdict: [verdicts[1].source, verdicts[1].origin === location.origin, verdicts[1].ok],
    stats: analytics.stats(),
  };
} catch (e) {
  window.__result = { error: String((e && e.stack) || e) };
}
</script></body></html>`,
  );
  const server = await serve(app);
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("requestfailed", (r) => problems.push(`requestfailed: ${r.url()}`));
    page.on("response", (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    });
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`console.${m.type()}: ${m.text()}`);
    });
    const { port } = server.address();
    await page.goto(`http://127.0.0.1:${port}/index.html`);
    await page.waitForFunction(() => window.__result !== undefined, undefined, { timeout: 120_000 });
    const result = await page.evaluate(() => window.__result);
    assert.equal(result.error, undefined, `the page failed: ${result.error}\n${problems.join("\n")}`);
    assert.deepEqual(problems, []);
    assert.equal(result.ok, true);
    assert.deepEqual(result.forwarded, ["ga4"]);
    assert.deepEqual(result.calls, [BOOKING_GTAG, ["event", "widget_closed", { step: 4, send_to: MEASUREMENT_ID }]]);
    assert.deepEqual(result.messageVerdict, ["message", true, true]);
    assert.equal(result.stats.received, 2);
    assert.equal(result.stats.accepted, 2);
    assert.deepEqual(result.stats.forwarded, { ga4: 2, meta: 0 });

    // A server that sends the wasm without application/wasm: streaming compilation refuses
    // it, the loader compiles it from its bytes and says why in one warning.
    writeFileSync(
      join(app, "octet.html"),
      `<!doctype html><html><head><meta charset="utf-8"><title>octet</title>
<script type="importmap">
{ "imports": { "altegio-analytics": "/node_modules/altegio-analytics/pkg/web/altegio_analytics.js" } }
</script></head><body><script type="module">
import init, { BookingAnalytics } from "altegio-analytics";
try {
  await init({ module_or_path: "/node_modules/altegio-analytics/pkg/web/altegio_analytics_bg.wasm?octet" });
  window.__result = { ok: new BookingAnalytics({}).track("widget_loaded", {}).ok };
} catch (e) {
  window.__result = { error: String((e && e.stack) || e) };
}
</script></body></html>`,
    );
    const warnings = [];
    const octet = await browser.newPage();
    octet.on("console", (m) => warnings.push(`console.${m.type()}: ${m.text()}`));
    await octet.goto(`http://127.0.0.1:${port}/octet.html`);
    await octet.waitForFunction(() => window.__result !== undefined, undefined, { timeout: 120_000 });
    assert.deepEqual(await octet.evaluate(() => window.__result), { ok: true });
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0], /^console\.warning: altegio-analytics: the wasm is not served as application\/wasm/);
  } finally {
    await browser.close();
    await new Promise((resolve) => server.close(resolve));
  }
});

const tsc = join(root, "node_modules", ".bin", "tsc");
const TSC_ARGS = ["--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "esnext", "--types", ""];

/** tsc on one file of the scratch app; `lib` as a project would set it. */
function compile(file, lib = "esnext,dom") {
  return run(tsc, [...TSC_ARGS, "--lib", lib, file], { cwd: app, timeout: 180_000 });
}

test("TypeScript: every option and result field is typed, under --strict", { timeout: 240_000 }, () => {
  const version = run(tsc, ["--version"]);
  assert.equal(version.status, 0, `the repository's tsc does not run:\n${version.stdout}\n${version.stderr}`);
  writeFileSync(
    join(app, "check.ts"),
    `import init, { BookingAnalytics, initSync } from "altegio-analytics";
import type {
  BookingAnalyticsOptions, Destination, EventParams, EventRoutes, Identity, JsonValue, Problem, Stats, Verdict,
} from "altegio-analytics";

const routes: EventRoutes = { booked: "purchase", widget_loaded: false };
const seen: Verdict[] = [];
const options: BookingAnalyticsOptions = {
  ga4: { measurementId: "G-XXXXXXXXXX", events: routes },
  meta: { pixelId: "123456789012345", events: { service_selected: "ViewContent", widget_closed: false } },
  widgetOrigins: ["https://*.alteg.io", "https://*.yclients.com"],
  strict: false,
  debug: true,
  onVerdict: (verdict: Verdict): void => { seen.push(verdict); },
};

export async function main(bytes: Uint8Array): Promise<number> {
  await init();
  await init({ module_or_path: new URL("https://cdn.example.test/altegio_analytics_bg.wasm") });
  initSync({ module: bytes });
  const analytics = new BookingAnalytics(options);
  const bare = new BookingAnalytics();
  bare.free();
  analytics.listen();
  const params: EventParams = { appointments: [{ services: [1], staff_id: 2 }], event_id: "e-1" };
  const verdict: Verdict = analytics.track("booked", params);
  analytics.track("widget_loaded");
  const ok: boolean = verdict.ok;
  const ignored: boolean = verdict.ignored;
  const source: "track" | "message" = verdict.source;
  const origin: string | null = verdict.origin;
  const name: string | null = verdict.name;
  const eventName: string | undefined = verdict.event?.name;
  const eventParams: { [key: string]: JsonValue } | undefined = verdict.event?.params;
  const ga4Name: string | undefined = verdict.ga4?.name;
  const ga4Params: { [key: string]: string | number | boolean } | undefined = verdict.ga4?.params;
  const method: "track" | "trackCustom" | undefined = verdict.meta?.method;
  const metaName: string | undefined = verdict.meta?.name;
  const metaParams: { [key: string]: string | number | boolean } | undefined = verdict.meta?.params;
  const eventId: string | undefined = verdict.meta?.eventId;
  const forwarded: Destination[] = verdict.forwarded;
  const problems: Problem[] = [...verdict.problems, ...verdict.warnings];
  const described: string[] = problems.map((p: Problem) => p.path + p.rule + p.message);
  const stats: Stats = analytics.stats();
  const total: number = stats.received + stats.accepted + stats.rejected + stats.ignored
    + stats.ignoredBy.origin + stats.ignoredBy.shape + stats.ignoredBy.duplicate
    + stats.forwarded.ga4 + stats.forwarded.meta + stats.failed.ga4 + stats.failed.meta;
  const identity: Identity = analytics.identity();
  const ids: (string | null)[] = [identity.gaClientId, identity.fbp, identity.fbc, analytics.clientId()];
  analytics.destroy();

  // Wrong types are compile errors (an unused @ts-expect-error is one too).
  // @ts-expect-error measurementId is a string
  new BookingAnalytics({ ga4: { measurementId: 123 } });
  // @ts-expect-error unknown option
  new BookingAnalytics({ measurementId: "G-XXXXXXXXXX" });
  // @ts-expect-error strict is a boolean
  new BookingAnalytics({ strict: "yes" });
  // @ts-expect-error a route is a name or false
  new BookingAnalytics({ meta: { pixelId: "1234567890", events: { booked: true } } });
  // @ts-expect-error onVerdict is a function
  new BookingAnalytics({ onVerdict: "log" });
  // @ts-expect-error the event name is a string
  analytics.track(5);
  // @ts-expect-error forwarded holds destinations only
  const wrong: "ga4"[] = ["meta" as Destination];
  // @ts-expect-error the server-side copy is in altegio-analytics/companion
  new BookingAnalytics({ companion: { url: "https://c.example/api/collect", site: "s", key: "0123456789abcdef" } });
  // @ts-expect-error setUserData is in altegio-analytics/companion
  analytics.setUserData({ email: "visitor@example.com" });
  // @ts-expect-error Consent Mode is in altegio-analytics/consent (and the companion build)
  new BookingAnalytics({ consent: { mode: "basic" } });
  // @ts-expect-error consent() is in altegio-analytics/consent (and the companion build)
  analytics.consent({ analytics_storage: "granted" });

  return [ok, ignored, source, origin, name, eventName, eventParams, ga4Name, ga4Params, method, metaName,
    metaParams, eventId, forwarded, described, ids, wrong].length + total;
}
`,
  );
  const good = compile("check.ts");
  assert.equal(good.status, 0, `tsc rejected check.ts:\n${good.stdout}\n${good.stderr}`);
  // A project on an older lib, without skipLibCheck: our d.ts (which declares
  // `[Symbol.dispose]()`) must compile there too.
  const older = compile("check.ts", "es2022,dom");
  assert.equal(older.status, 0, `tsc rejected check.ts with lib es2022:\n${older.stdout}\n${older.stderr}`);
  // And `using` disposes of the instance.
  writeFileSync(
    join(app, "using.ts"),
    `import { BookingAnalytics } from "altegio-analytics";
export function scoped(): number {
  using analytics = new BookingAnalytics();
  return analytics.stats().received;
}
`,
  );
  const scoped = compile("using.ts");
  assert.equal(scoped.status, 0, `tsc rejected \`using\`:\n${scoped.stdout}\n${scoped.stderr}`);

  // The consent build types its option and consent() (and the rest as the default build).
  writeFileSync(
    join(app, "consent.ts"),
    `import init, { BookingAnalytics } from "altegio-analytics/consent";
import type { ConsentOptions, ConsentSignal, ConsentUpdate, Destination } from "altegio-analytics/consent";
export async function main(): Promise<Destination[]> {
  await init();
  const consent: ConsentOptions = { mode: "advanced", default: { analytics_storage: "denied" } };
  const analytics = new BookingAnalytics({ ga4: { measurementId: "G-XXXXXXXXXX" }, consent });
  const granted: ConsentSignal = "granted";
  const update: ConsentUpdate = { ad_storage: granted, ad_user_data: "denied" };
  analytics.consent(update);
  // @ts-expect-error a signal is "granted" or "denied"
  analytics.consent({ ad_storage: "yes" });
  // @ts-expect-error the server-side copy is in altegio-analytics/companion
  new BookingAnalytics({ companion: { url: "https://c.example/api/collect", site: "s", key: "0123456789abcdef" } });
  return analytics.track("widget_loaded").waiting;
}
`,
  );
  const withConsent = compile("consent.ts");
  assert.equal(withConsent.status, 0, `tsc rejected consent.ts:\n${withConsent.stdout}\n${withConsent.stderr}`);

  // The companion build types its option and setUserData (and the rest as the default build).
  writeFileSync(
    join(app, "companion.ts"),
    `import init, { BookingAnalytics } from "altegio-analytics/companion";
import type { BookingAnalyticsOptions, CompanionOptions, UserData, Verdict } from "altegio-analytics/companion";
export async function main(): Promise<"queued" | "waiting" | null> {
  await init();
  const companion: CompanionOptions = { url: "https://c.example/api/collect", site: "salon-42", key: "0123456789abcdef" };
  const options: BookingAnalyticsOptions = { meta: { pixelId: "123456789012345" }, companion };
  const analytics = new BookingAnalytics(options);
  const user: UserData = { email: "visitor@example.com", phone: null };
  analytics.setUserData(user);
  analytics.consent({ ad_user_data: "granted" });
  // @ts-expect-error the companion's key is a string
  new BookingAnalytics({ companion: { url: "https://c.example/api/collect", site: "s", key: 1 } });
  const verdict: Verdict = analytics.track("widget_loaded");
  return verdict.companion;
}
`,
  );
  const full = compile("companion.ts");
  assert.equal(full.status, 0, `tsc rejected companion.ts:\n${full.stdout}\n${full.stderr}`);

  // A deliberate wrong option type must fail to compile, naming the option.
  writeFileSync(
    join(app, "wrong.ts"),
    `import { BookingAnalytics } from "altegio-analytics";
new BookingAnalytics({ ga4: { measurementId: 1234 } });
`,
  );
  const bad = compile("wrong.ts");
  assert.notEqual(bad.status, 0, "tsc accepted a number as ga4.measurementId");
  assert.match(bad.stdout + bad.stderr, /wrong\.ts.*2.*TS2322/s);
  assert.match(bad.stdout + bad.stderr, /number.*string/s);
});
