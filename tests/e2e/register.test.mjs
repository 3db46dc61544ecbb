// The registration page (GET /register on the companion) against the partner API stand-in:
// a signed three-location connect, a bad query, and the page inside Altegio's iframe.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import {
  APPLICATION_ID, adminFetch, launchBrowser, root, signedRegisterQuery, startDemo, until, webhookUrl,
} from "./harness.mjs";

let demo;
let browser;

before(async () => {
  // The third origin stands in for Altegio's app page: it may frame /register.
  demo = await startDemo({ frameAncestors: ["http://127.0.0.1:*"] });
  browser = await launchBrowser();
  mkdirSync(join(root, "test-results"), { recursive: true });
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

const activations = async () =>
  (await demo.requests()).filter((r) => r.method === "POST" && r.path === "/marketplace/partner/callback");

/** The outcome rows the page shows: [{salonId, status, text}]. */
const rows = (page) =>
  page.$$eval("#locations li", (items) =>
    items.map((li) => ({ salonId: Number(li.dataset.salonId), status: li.dataset.status, text: li.textContent })));

test("the registration page connects three locations with one signed link", async () => {
  const page = await browser.newPage();
  await page.goto(`${demo.site}/register?${signedRegisterQuery([2001, 2002, 2003])}`);
  await page.waitForSelector("body[data-state=outcome]", { timeout: 30_000 });

  assert.deepEqual(
    (await rows(page)).map(({ salonId, status }) => ({ salonId, status })),
    [2001, 2002, 2003].map((salonId) => ({ salonId, status: "active" })),
  );
  assert.equal(await page.textContent("#summary"), "3 locations connected");

  const sent = await activations();
  assert.deepEqual(sent.map((r) => r.body.salon_id).sort(), [2001, 2002, 2003]);
  for (const request of sent) {
    assert.equal(request.headers.authorization, "[redacted]", "a bearer token was sent (the stand-in checked it)");
    assert.equal(request.headers.accept, "application/vnd.api.v2+json");
    assert.equal(request.headers["content-type"], "application/json");
    assert.equal(request.body.application_id, APPLICATION_ID);
    assert.match(request.body.api_key, /^\S{16,}$/);
    assert.deepEqual(request.body.webhook_urls, [webhookUrl(demo.site, request.body.salon_id)], "the location's own webhook URL");
  }
  assert.equal(new Set(sent.map((r) => r.body.api_key)).size, 3, "each location has its own API key");

  // Altegio's webhook at the URL it was given is taken; the old shared URL is gone.
  const hook = { company_id: 2001, resource: "record", resource_id: 1, status: "create", data: { id: 1 } };
  const post = (url) => fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(hook) });
  assert.equal((await post(sent.find((r) => r.body.salon_id === 2001).body.webhook_urls[0])).status, 200);
  assert.equal((await post(`${demo.site}/api/altegio/webhook`)).status, 410);
  assert.equal((await post(webhookUrl(demo.site, 2001, "not-the-partner-token"))).status, 403);

  // The operators' list needs the admin token.
  assert.equal((await fetch(`${demo.site}/api/locations`)).status, 401);
  const { locations } = await (await adminFetch(`${demo.site}/api/locations`)).json();
  for (const id of [2001, 2002, 2003]) {
    assert.equal(locations.find((l) => l.salon_id === id)?.state, "active", `location ${id}`);
  }
  await page.screenshot({ path: join(root, "test-results", "register.png"), fullPage: true });

  // Opening the link again sends no second activation and says so.
  await page.reload();
  await page.waitForSelector("body[data-state=outcome]", { timeout: 30_000 });
  assert.deepEqual((await rows(page)).map((r) => r.text.includes("Already connected")), [true, true, true]);
  assert.equal((await activations()).length, 3);
  await page.close();
});

test("a bad location ID is refused by name, and nothing is sent", async () => {
  const before = (await activations()).length;
  const page = await browser.newPage();
  await page.goto(`${demo.site}/register?salon_ids[]=3001&salon_ids[]=abc`);
  await page.waitForSelector("body[data-state=failure]", { timeout: 30_000 });
  assert.equal(
    await page.textContent("#failure-message"),
    'salon_ids[1]: expected a positive integer, got "abc"',
  );

  // The API itself: connectLocations rejects with a real Error.
  const rejection = await page.evaluate(async () => {
    const { BookingAnalytics } = await import("/pkg/register/altegio_analytics.js");
    try {
      await new BookingAnalytics().connectLocations({ companionUrl: location.origin });
      return null;
    } catch (error) {
      return { isError: error instanceof Error, message: error.message };
    }
  });
  assert.deepEqual(rejection, { isError: true, message: 'salon_ids[1]: expected a positive integer, got "abc"' });

  const unknownOption = await page.evaluate(async () => {
    const { BookingAnalytics } = await import("/pkg/register/altegio_analytics.js");
    return new BookingAnalytics().connectLocations({ companionURL: location.origin }).catch((e) => e.message);
  });
  assert.match(unknownOption, /^options\.companionURL: unknown option/);

  assert.equal((await activations()).length, before);
  await page.close();
});

test("a tampered signature is refused by the companion, and the page says why", async () => {
  const before = (await activations()).length;
  const page = await browser.newPage();
  const query = signedRegisterQuery([4001], "not-the-partner-token");
  await page.goto(`${demo.site}/register?${query}`);
  await page.waitForSelector("body[data-state=failure]", { timeout: 30_000 });
  assert.match(await page.textContent("#failure-message"), /^the companion refused the connect \(HTTP 403 /);
  assert.equal((await activations()).length, before);
  await page.close();
});

test("inside Altegio's iframe the page reports to Altegio's origin only", async () => {
  const page = await browser.newPage();
  // Altegio's app origin is configured in the page's <meta name="altegio-origin">; here the
  // stand-in app page lives on the third origin, so the served page names that origin.
  await page.route(`${demo.site}/register?**`, async (route) => {
    const response = await route.fetch();
    const html = (await response.text()).replace(
      /<meta name="altegio-origin" content="[^"]*">/,
      `<meta name="altegio-origin" content="${demo.third}">`,
    );
    await route.fulfill({ response, body: html });
  });
  const src = `${demo.site}/register?${signedRegisterQuery([5001, 5002])}`;
  await page.goto(`${demo.third}/altegio-app.html?src=${encodeURIComponent(src)}`);

  const received = await until("show_toast and close_modal from the registration page", async () => {
    const messages = await page.evaluate(() => window.received);
    return messages.length >= 2 ? messages : null;
  });
  assert.deepEqual(received, [
    { origin: demo.site, data: { action: "show_toast", params: { type: "success", message: "2 locations connected." } } },
    { origin: demo.site, data: { action: "close_modal" } },
  ]);

  const frame = page.frames().find((f) => f.url().startsWith(`${demo.site}/register`));
  assert.ok(frame, "the registration frame");
  await frame.waitForSelector("body.framed[data-state=outcome]", { timeout: 30_000 });
  await page.close();
});
