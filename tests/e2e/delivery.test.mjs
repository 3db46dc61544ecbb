// Delivery guarantees in headless Chromium against the real companion and the Meta/GA4
// stand-in: a booking followed at once by navigation, a reload with a non-empty outbox, two
// tabs sharing one outbox, consent denied and granted later, and a localStorage that throws.
// No wall-clock thresholds: everything is polled with generous safety timeouts.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { COLLECT_SITE, adminFetch, launchBrowser, startDemo, until } from "./harness.mjs";

let demo;
let browser;

before(async () => {
  demo = await startDemo({ collect: true });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

const booking = (eventId) => ({
  appointments: [{ services: [9120001], staff_id: 2281, datetime: "2030-01-01T10:00:00+01:00", id: 777 }],
  code: "E2E1", companyId: 401234, companyName: "Studio Bloom", isMobile: false, event_id: eventId,
});

function pageUrl(query = "") {
  return `${demo.site}/delivery.html?site=${COLLECT_SITE.id}&key=${COLLECT_SITE.key}${query}`;
}

async function open(context, query = "") {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  await page.goto(pageUrl(query));
  await page.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 30_000 });
  return { page, errors };
}

/** The Meta Conversions API calls the stand-in received for `eventId`. */
async function metaCalls(eventId) {
  const requests = await (await fetch(`${demo.destinations}/__standin/requests`)).json();
  return requests.requests.filter((r) => r.destination === "meta" && r.body?.data?.some((d) => d.event_id === eventId));
}

/** The `/api/collect` requests a page sent (fetch and beacons), as parsed bodies. */
function recordCollect(context) {
  const bodies = [];
  context.on("request", (request) => {
    if (request.url().endsWith("/api/collect") && request.method() === "POST") {
      bodies.push(JSON.parse(request.postData()));
    }
  });
  return bodies;
}

test("a booking followed at once by navigation away is stored by the companion exactly once", async () => {
  const context = await browser.newContext();
  const { page, errors } = await open(context);
  // The navigation starts in the same turn of the page's event loop as the booking, but after
  // the evaluation has returned: an evaluation that navigates itself can wait forever for an
  // answer from the context it destroyed (seen once, with no timeout to end it).
  await page.evaluate((params) => {
    window.analytics = window.makeAnalytics();
    window.analytics.track("booked", params);
    setTimeout(() => { location.href = "/delivery.html?left=1"; }, 0);
  }, booking("e2e-navigate-1"));
  await page.waitForURL(/left=1/);
  await until("Meta's copy of the booking", async () => (await metaCalls("e2e-navigate-1")).length === 1);
  const status = await (await adminFetch(`${demo.site}/api/collect/status`)).json();
  assert.ok(status.sites[COLLECT_SITE.id].meta.delivered >= 1, JSON.stringify(status));
  // Later polls still find exactly one delivery: the beacon and the fetch were one event.
  await until("the companion to be idle", async () => {
    const s = await (await adminFetch(`${demo.site}/api/collect/status`)).json();
    return s.destinations.meta.pending === 0 && s.destinations.meta.in_flight === 0;
  });
  assert.equal((await metaCalls("e2e-navigate-1")).length, 1);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a reload with a non-empty outbox delivers it once", async () => {
  const context = await browser.newContext();
  // The companion is unreachable for the first page: the entry waits in the outbox.
  await context.route("**/api/collect", (route) => route.abort());
  const { page } = await open(context);
  await page.evaluate((params) => {
    window.analytics = window.makeAnalytics();
    window.analytics.track("booked", params);
  }, booking("e2e-reload-1"));
  await until("the entry in localStorage", () =>
    page.evaluate(() => (localStorage.getItem("altegio-analytics:outbox:v2") || "").includes("e2e-reload-1")));
  // This page must not deliver it itself (its retry timer, its pagehide beacon): only the
  // stored copy is left for the next load.
  await page.evaluate(() => window.analytics.destroy());
  await context.unroute("**/api/collect");
  const bodies = recordCollect(context);
  await page.reload();
  await page.waitForSelector("body[data-ready=true]", { state: "attached" });
  await page.evaluate(() => { window.analytics = window.makeAnalytics(); });
  await until("the stored entry delivered", async () => (await metaCalls("e2e-reload-1")).length === 1);
  // Emptied means no entry left: the key may keep a header line (the tabs' claim).
  await until("the outbox emptied", () =>
    page.evaluate(() => window.analytics.stats().outbox.sent === 1
      && !(localStorage.getItem("altegio-analytics:outbox:v2") || "").includes("e2e-reload-1")));
  const sent = bodies.flatMap((b) => b.events.map((e) => e.event_id)).filter((id) => id === "e2e-reload-1");
  assert.equal(sent.length, 1);
  await until("the companion to be idle", async () => {
    const s = await (await adminFetch(`${demo.site}/api/collect/status`)).json();
    return s.destinations.meta.pending === 0 && s.destinations.meta.in_flight === 0;
  });
  assert.equal((await metaCalls("e2e-reload-1")).length, 1);
  await context.close();
});

test("two tabs sharing one outbox never send the same stored entry twice", async () => {
  const context = await browser.newContext();
  await context.route("**/api/collect", (route) => route.abort());
  const first = await open(context);
  const ids = Array.from({ length: 30 }, (_, i) => `e2e-tabs-${i}`);
  await first.page.evaluate(({ ids, params }) => {
    const a = window.makeAnalytics();
    for (const id of ids) a.track("booked", { ...params, event_id: id });
    a.destroy();
  }, { ids, params: booking("x") });
  await until("30 entries stored", () =>
    first.page.evaluate(() => (localStorage.getItem("altegio-analytics:outbox:v2") || "").split("\n").length === 30));
  await first.page.close();
  await context.unroute("**/api/collect");
  const bodies = recordCollect(context);
  // Two tabs of the same site; both find the same outbox and start at the same instant: one
  // BroadcastChannel message reaches both, and each starts its module (and its first flush).
  const [a, b] = await Promise.all([open(context), open(context)]);
  await Promise.all([a, b].map(({ page }) => page.evaluate(() => new Promise((ready) => {
    const channel = new BroadcastChannel("e2e-start");
    channel.onmessage = () => { window.analytics = window.makeAnalytics(); };
    ready();
  }))));
  // Posted from a third channel object: every other one, in both tabs, hears it.
  await a.page.evaluate(() => new BroadcastChannel("e2e-start").postMessage("go"));
  await until("both tabs started", () =>
    Promise.all([a, b].map(({ page }) => page.evaluate(() => Boolean(window.analytics)))).then((s) => s.every(Boolean)));
  await until("every stored entry delivered", async () => {
    const sent = bodies.flatMap((body) => body.events.map((e) => e.event_id));
    return ids.every((id) => sent.includes(id));
  });
  // Emptied means no entry left: the key may keep a header line (the tabs' claim).
  await until("the outbox emptied", () =>
    a.page.evaluate(() => !(localStorage.getItem("altegio-analytics:outbox:v2") || "").includes("e2e-tabs-")));
  const sent = bodies.flatMap((body) => body.events.map((e) => e.event_id)).filter((id) => ids.includes(id));
  assert.equal(sent.length, ids.length, `each entry once: ${JSON.stringify(sent)}`);
  // Each tab counts what it sent itself: together, each entry once.
  const counts = await Promise.all([a, b].map(({ page }) => page.evaluate(() => window.analytics.stats().outbox.sent)));
  assert.equal(counts[0] + counts[1], ids.length, JSON.stringify(counts));
  await context.close();
});

test("consent denied: nothing reaches gtag, fbq or the companion; granted later: everything in order", async () => {
  const context = await browser.newContext();
  const bodies = recordCollect(context);
  const { page } = await open(context);
  const consent = { mode: "basic" };
  await page.evaluate((consent) => {
    window.denied = window.makeAnalytics({ consent });
    window.denied.track("service_selected", { service_id: 1, event_id: "e2e-denied-1" });
    window.denied.consent({ analytics_storage: "denied", ad_storage: "denied" });
    window.denied.track("date_selected", { event_id: "e2e-denied-2" });
  }, consent);
  // Give a flush every chance to happen (a later event's flush would carry it), then check.
  await page.evaluate(() => new Promise((r) => setTimeout(r, 200)));
  const events = await page.evaluate(() => ({
    gtag: window.gtagCalls.filter((c) => c[0] === "event").length,
    fbq: window.fbqCalls.filter((c) => c[0] !== "consent").length,
  }));
  assert.deepEqual(events, { gtag: 0, fbq: 0 });
  assert.equal(bodies.length, 0);

  await page.evaluate((consent) => {
    window.granted = window.makeAnalytics({ consent });
    for (const [i, name] of ["service_selected", "master_selected", "time_selected"].entries()) {
      window.granted.track(name, { step: i, event_id: `e2e-granted-${i}` });
    }
    window.granted.consent({ analytics_storage: "granted", ad_storage: "granted" });
  }, consent);
  await until("the three events at the companion", () =>
    bodies.flatMap((b) => b.events).filter((e) => e.event_id.startsWith("e2e-granted-")).length === 3);
  const order = bodies.flatMap((b) => b.events).map((e) => e.event_id).filter((id) => id.startsWith("e2e-"));
  assert.deepEqual(order, ["e2e-granted-0", "e2e-granted-1", "e2e-granted-2"]);
  const tags = await page.evaluate(() => ({
    gtag: window.gtagCalls.filter((c) => c[0] === "event").map((c) => c[1]),
    fbq: window.fbqCalls.filter((c) => c[0] !== "consent").map((c) => c[3].eventID),
  }));
  assert.deepEqual(tags.gtag, ["service_selected", "master_selected", "time_selected"]);
  assert.deepEqual(tags.fbq, ["e2e-granted-0", "e2e-granted-1", "e2e-granted-2"]);
  await until("Meta's copies", async () => (await metaCalls("e2e-granted-2")).length === 1);
  assert.equal((await metaCalls("e2e-denied-1")).length, 0);
  await context.close();
});

test("a localStorage that throws costs no exception on the page, and delivery still works", async () => {
  const context = await browser.newContext();
  const { page, errors } = await open(context, "&storage=throw&fbq=0");
  const stats = await page.evaluate((params) => {
    window.analytics = window.makeAnalytics();
    const verdict = window.analytics.track("booked", params);
    return { ok: verdict.ok, outbox: window.analytics.stats().outbox };
  }, booking("e2e-throwing-1"));
  assert.equal(stats.ok, true);
  assert.ok(stats.outbox.storageFailures >= 1, JSON.stringify(stats));
  await until("the booking at Meta", async () => (await metaCalls("e2e-throwing-1")).length === 1);
  // fbq arrives late: the call kept in memory goes out on the next event.
  await page.evaluate(() => {
    window.fbq = function () { window.fbqCalls.push(Array.from(arguments)); };
    window.analytics.track("widget_loaded", {});
  });
  await until("the late fbq call", () =>
    page.evaluate(() => window.fbqCalls.some((c) => c[3] && c[3].eventID === "e2e-throwing-1")));
  assert.deepEqual(await page.evaluate(() => window.errors), []);
  assert.deepEqual(errors, []);
  await context.close();
});
