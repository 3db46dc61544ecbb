// The demo across real origins: the partner site (the companion's origin) embeds the booking
// widget stand-in from a second origin; a third origin forges a booking.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { launchBrowser, root, startDemo, until } from "./harness.mjs";

const MEASUREMENT_ID = "G-DEMO000001";
const PIXEL_ID = "1234567890123456";

let demo;
let browser;

before(async () => {
  demo = await startDemo();
  browser = await launchBrowser();
  mkdirSync(join(root, "test-results"), { recursive: true });
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

/** Opens the partner site with the widget loaded and listened to. */
async function openSite() {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1200 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  await page.goto(`${demo.site}/`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
  await until("widget_loaded", () => page.evaluate(() => window.demo.verdicts.some((v) => v.name === "widget_loaded")));
  return { page, errors, widget: page.frameLocator("#widget") };
}

/** The page's own queues, as gtag.js and fbevents.js would read them. */
const gtagEvents = (page) =>
  page.evaluate(() => window.dataLayer.map((a) => Array.from(a)).filter((a) => a[0] === "event"));
const fbqCalls = (page) =>
  page.evaluate(() => window.fbq.queue.map((a) => Array.from(a)));

test("a booking in the widget reaches the page's gtag and fbq, exactly", async () => {
  const { page, errors, widget } = await openSite();

  await widget.locator('[data-service="9120001"]').click();
  await widget.locator("#continue").click();
  await widget.locator('[data-staff="2281"]').click();
  await widget.locator(".day").first().click();
  await widget.locator('[data-time="11:30"]').click();
  await widget.locator("#book").click();
  await widget.locator("#change").click();
  await widget.locator('[data-time="14:30"]').click();
  await widget.locator("#review").click();
  await widget.locator('[data-rating="5"]').click();
  await widget.locator("#cancel").click();

  const names = [
    "widget_loaded", "service_selected", "master_selected", "date_selected", "time_selected",
    "send_contacts", "booked", "Schedule", "appointment_changed", "review_created", "appointment_deleted",
  ];
  await until("every widget event's verdict", () => page.evaluate((n) => window.demo.verdicts.length >= n, names.length));

  // What the widget posted (read from its own frame, on its own origin).
  const frame = page.frames().find((f) => f.url().startsWith(demo.widget));
  const posted = await frame.evaluate(() => window.standin.posted);
  assert.deepEqual(posted.map((m) => m.action), names);
  const booked = posted.find((m) => m.action === "booked").params;
  const [appointment] = booked.appointments;
  const date = posted.find((m) => m.action === "date_selected").params.date;
  const changedTo = `${date}T14:30:00+01:00`;
  assert.equal(appointment.datetime, `${date}T11:30:00+01:00`);

  const verdicts = await page.evaluate(() => window.demo.verdicts);
  assert.deepEqual(verdicts.map((v) => [v.name, v.ok, v.origin]), names.map((n) => [n, true, demo.widget]));

  const company = { company_id: 401234 };
  const bookedParams = {
    appointment_count: 1,
    service_ids: "9120001",
    staff_ids: "2281",
    record_ids: String(appointment.id),
    appointment_datetime: appointment.datetime,
    booking_code: booked.code,
    company_id: 401234,
    company_name: "Studio Bloom",
    is_mobile: false,
    event_id: booked.event_id,
  };
  // Every accepted widget event but the widget's own Schedule, in order, with the site's
  // measurement ID.
  const ga4 = [
    ["widget_loaded", company],
    ["service_selected", { ...company, service_id: 9120001 }],
    ["master_selected", { ...company, staff_id: 2281 }],
    ["date_selected", { ...company, date }],
    ["time_selected", { ...company, datetime: appointment.datetime }],
    ["send_contacts", company],
    ["booked", bookedParams],
    ["appointment_changed", { ...company, record_id: appointment.id, datetime: changedTo }],
    ["review_created", { ...company, record_id: appointment.id, staff_id: 2281, rating: 5 }],
    ["appointment_deleted", { ...company, record_id: appointment.id }],
  ];
  assert.deepEqual(
    await gtagEvents(page),
    ga4.map(([name, params]) => ["event", name, { ...params, send_to: MEASUREMENT_ID }]),
  );

  // Meta: booked goes out as the standard Schedule with the widget's event_id as eventID (so
  // the Conversions API copy deduplicates); the rest as custom events with minted IDs.
  const fbq = await fbqCalls(page);
  assert.deepEqual(fbq.slice(0, 2), [["init", PIXEL_ID], ["track", "PageView"]]);
  const events = fbq.slice(2);
  assert.equal(events.length, ga4.length);
  ga4.forEach(([name, params], i) => {
    const [method, metaName, metaParams, options] = events[i];
    if (name === "booked") {
      assert.deepEqual(events[i], ["track", "Schedule", bookedParams, { eventID: booked.event_id }]);
    } else {
      assert.deepEqual([method, metaName, metaParams], ["trackCustom", name, params], name);
      assert.match(options.eventID, new RegExp(`^${name}\\.\\d+\\.\\d+$`), name);
    }
  });
  assert.equal(new Set(events.map((e) => e[3].eventID)).size, events.length, "eventIDs are unique");

  const stats = await page.evaluate(() => window.demo.analytics.stats());
  assert.deepEqual(
    [stats.received, stats.accepted, stats.rejected, stats.ignored, stats.forwarded, stats.failed],
    [11, 11, 0, 0, { ga4: 10, meta: 10 }, { ga4: 0, meta: 0 }],
  );

  // The panel shows each event with its destinations.
  assert.equal(await page.locator("#events > li").count(), names.length);
  const bookedCard = page.locator('#events > li[data-name="booked"]');
  assert.match(await bookedCard.locator(".ga4 .call").textContent(), /^gtag\("event", "booked", \{appointment_count: 1, /);
  assert.match(await bookedCard.locator(".meta .call").textContent(), /^fbq\("track", "Schedule", /);

  // What a visitor sees: the widget, and the panel opened at the booking.
  await page.evaluate(() => {
    window.scrollTo(0, 0);
    const list = document.getElementById("events");
    const card = list.querySelector('li[data-name="booked"]');
    list.scrollTop += card.getBoundingClientRect().top - list.getBoundingClientRect().top;
  });
  await page.screenshot({ path: join(root, "test-results", "demo.png") });
  assert.deepEqual(errors, []);
  await page.close();
});

test("a booked message forged by a third origin is ignored", async () => {
  const { page, errors } = await openSite();
  const before = await page.evaluate(() => window.demo.analytics.stats());
  assert.equal(before.ignoredBy.origin, 0);

  // An embed from a third origin (an ad, say) posts a perfect-looking booking to the page.
  await page.evaluate((src) => {
    const frame = document.createElement("iframe");
    frame.src = src;
    frame.title = "ad";
    document.body.append(frame);
  }, `${demo.third}/forger.html`);
  const stats = await until("the forged message's verdict", async () => {
    const s = await page.evaluate(() => window.demo.analytics.stats());
    return s.ignoredBy.origin === 1 ? s : null;
  });
  assert.equal(stats.accepted, before.accepted);

  const verdict = await page.evaluate(() => window.demo.verdicts.at(-1));
  assert.equal(verdict.ok, false);
  assert.equal(verdict.ignored, true);
  assert.equal(verdict.origin, demo.third);
  assert.equal(verdict.problems[0].rule, "origin");

  // Nothing reached gtag or fbq but the widget's own widget_loaded.
  assert.deepEqual((await gtagEvents(page)).map((e) => e[1]), ["widget_loaded"]);
  assert.deepEqual((await fbqCalls(page)).map((c) => c[1]), [PIXEL_ID, "PageView", "widget_loaded"]);
  const card = page.locator("#events > li").first();
  assert.equal(await card.locator(".badge").textContent(), "ignored");
  assert.deepEqual(errors, []);
  await page.close();
});
