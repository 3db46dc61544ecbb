//! The outbox and the companion copy in headless Chromium: entries kept in localStorage until
//! delivered, the `/api/collect` request as the companion's contract has it (fetch stubbed),
//! retries and final refusals, fbq calls replayed once fbq exists (also by a new instance, as
//! after a reload), `sendBeacon` on page exit, and a localStorage that throws or is full.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser_support;

use browser_support::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// One test running the scenarios in turn: wasm-bindgen-test runs async tests concurrently,
/// and these share the page's `fetch`, `sendBeacon` and localStorage.
#[wasm_bindgen_test]
async fn the_outbox_and_the_companion_copy() {
    a_companion_copy_goes_out_as_the_contract_says_and_leaves_the_outbox_on_202().await;
    failures_are_retried_and_refusals_are_dropped_and_counted().await;
    fbq_calls_made_before_fbq_exists_are_replayed_by_a_new_instance_after_a_reload().await;
    nothing_is_stored_before_consent_and_everything_waiting_goes_in_order_once_granted().await;
    denied_consent_sends_nothing_to_the_companion().await;
    page_exit_beacons_what_waits_and_destroy_removes_the_listeners().await;
    destroy_with_a_request_in_flight_starts_no_retry_and_track_starts_again().await;
    an_instance_freed_while_the_outbox_lock_is_granted_lets_go_of_it().await;
    an_instance_freed_with_a_request_in_flight_lets_go_of_the_lock().await;
    a_throwing_or_full_local_storage_degrades_to_memory_without_an_exception().await;
    a_ga4_call_taken_by_gtag_js_or_gtm_is_flagged_as_delivered_in_the_browser().await;
    a_stored_companion_copy_that_is_not_json_is_dropped_as_it_is_read().await;
}

const KEY: &str = "altegio-analytics:outbox:v2";
const COMPANION: &str = r#"companion: { url: "https://companion.test/api/collect", site: "salon-42", key: "0123456789abcdef" }"#;

/// A `fetch` stub answering from `window.__answers` (a list of `[status, retryAfter]`, then
/// 202), recording every request in `window.__posts`.
const STUB_FETCH: &str = r#"
  window.__posts = [];
  window.__answers = window.__answers || [];
  window.fetch = async (url, init) => {
    window.__posts.push({ url, init: { method: init.method, keepalive: init.keepalive,
      credentials: init.credentials, type: init.headers["Content-Type"] }, body: JSON.parse(init.body) });
    const [status, retry] = window.__answers.shift() || [202, null];
    const headers = retry === null ? {} : { "Retry-After": retry };
    return new Response(status === 202 ? '{"accepted":1,"duplicates":0}' : "{}", { status, headers });
  };
"#;

/// Over the `fetch` stub: the first request hangs until the test calls `window.__release()`,
/// which answers it with `response` (a JS expression); later requests go to the stub.
fn hang_first_request(response: &str) {
    eval(&format!(
        "const stub = window.fetch;
         window.__release = null;
         window.fetch = (url, init) => window.__release === null
           ? new Promise((resolve) => {{ window.__release = () => resolve({response}); }})
           : stub(url, init);"
    ));
}

fn stored() -> String {
    eval(&format!("return localStorage.getItem('{KEY}') || ''"))
        .as_string()
        .unwrap()
}

async fn a_companion_copy_goes_out_as_the_contract_says_and_leaves_the_outbox_on_202() {
    page_with_tags();
    eval("window.__answers = [];");
    eval(STUB_FETCH);
    let errors = page_errors();
    let a = analytics(&both(COMPANION));
    js(
        "a.setUserData({ email: ' Jane.Doe@Example.COM ', phone: '+49 (30) 123-456' })",
        &a,
    );
    let v = js(&format!("return a.track('booked', {BOOKING})"), &a);
    assert_eq!(pick(&v, "companion"), r#""queued""#);
    assert!(stored().contains("b7e0c1d2-555"), "kept before it is sent");
    wait_for(
        "window.__posts.length === 1 && a.stats().outbox.sent === 1",
        &a,
    )
    .await;
    let post = eval("return window.__posts[0]");
    assert_eq!(
        pick(&post, "init"),
        r#"{"method":"POST","keepalive":true,"credentials":"omit","type":"text/plain;charset=UTF-8"}"#
    );
    assert_eq!(
        pick(&post, "url"),
        r#""https://companion.test/api/collect""#
    );
    assert_eq!(pick(&post, "body.site"), r#""salon-42""#);
    assert_eq!(pick(&post, "body.key"), r#""0123456789abcdef""#);
    let event = js("return a.body.events[0]", &post);
    assert_eq!(pick(&event, "event_id"), r#""b7e0c1d2-555""#);
    assert_eq!(pick(&event, "name"), r#""booked""#);
    assert_eq!(pick(&event, "ga4.name"), r#""booked""#);
    assert_eq!(pick(&event, "meta.name"), r#""Schedule""#);
    assert_eq!(pick(&event, "meta.params"), BOOKING_FLAT);
    // gtag.js is live on this page (stub_tags): GA4 got it in the browser.
    assert_eq!(pick(&event, "ga4_delivered_in_browser"), "true");
    assert_eq!(
        pick(&event, "user_data"),
        r#"{"em":"86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d","ph":"ac75546db905289f50bd750fd5648fec0719074ce391521b2372abeae9110668"}"#
    );
    assert!(pick(&post, "body.client.page_url").starts_with("\"http"));
    assert!(
        !calls("gtag").contains("86e0b9e5"),
        "hashes never reach gtag"
    );
    assert_eq!(stored(), "", "delivered: nothing left stored");
    assert_eq!(
        json(&js("return a.stats().outbox", &a)),
        r#"{"pending":0,"sent":1,"dropped":0,"storageFailures":0}"#
    );
    assert_eq!(page_errors(), errors);
    js("a.destroy(); a.free();", &a);
}

async fn failures_are_retried_and_refusals_are_dropped_and_counted() {
    page_with_tags();
    eval("window.__answers = [[503, '0'], [429, '0'], [422, null]];");
    eval(STUB_FETCH);
    let a = analytics(&both(COMPANION));
    js("a.track('service_selected', { service_id: 1 })", &a);
    wait_for(
        "window.__posts.length === 3 && a.stats().outbox.dropped === 1",
        &a,
    )
    .await;
    let ids = eval("return JSON.stringify(window.__posts.map((p) => p.body.events.length))");
    assert_eq!(ids.as_string().unwrap(), "[1,1,1]");
    assert_eq!(
        json(&js("return a.stats().outbox", &a)),
        r#"{"pending":0,"sent":0,"dropped":1,"storageFailures":0}"#
    );
    js("a.destroy(); a.free();", &a);
}

async fn fbq_calls_made_before_fbq_exists_are_replayed_by_a_new_instance_after_a_reload() {
    fresh_page();
    eval("window.gtag = function () {};");
    let first = analytics(&both(""));
    let v = js(&format!("return a.track('booked', {BOOKING})"), &first);
    assert_eq!(pick(&v, "forwarded"), r#"["ga4"]"#);
    js("a.destroy(); a.free();", &first);
    assert!(stored().contains(r#"["m","#), "{}", stored());
    // The next page: the Pixel's base code is there now.
    eval("window.fbq = function () { window.__calls.fbq.push(Array.from(arguments)); };");
    let second = analytics(&both(""));
    wait_for("window.__calls.fbq.length === 1", &second).await;
    assert_eq!(calls("fbq"), format!("[{}]", booking_fbq_call()));
    assert_eq!(pick(&js("return a.stats().outbox", &second), "sent"), "1");
    assert_eq!(stored(), "");
    js("a.destroy(); a.free();", &second);
}

async fn nothing_is_stored_before_consent_and_everything_waiting_goes_in_order_once_granted() {
    page_with_tags();
    eval("window.__answers = [];");
    eval(STUB_FETCH);
    let a = analytics(&both(&format!(
        r#"consent: {{ mode: "basic" }}, {COMPANION}"#
    )));
    let v = js("return a.track('service_selected', { service_id: 1 })", &a);
    assert_eq!(pick(&v, "companion"), r#""waiting""#);
    js("a.track('master_selected', { staff_id: 7 })", &a);
    assert_eq!(stored(), "", "waiting for consent happens in memory only");
    js(
        "a.consent({ analytics_storage: 'granted', ad_storage: 'denied' })",
        &a,
    );
    wait_for("a.stats().outbox.sent === 2", &a).await;
    let names = eval(
        "return JSON.stringify(window.__posts.flatMap((p) => p.body.events.map((e) => [e.name, e.ga4 && e.ga4.name, e.meta])))",
    );
    assert_eq!(
        names.as_string().unwrap(),
        r#"[["service_selected","service_selected",null],["master_selected","master_selected",null]]"#
    );
    js("a.destroy(); a.free();", &a);
}

async fn denied_consent_sends_nothing_to_the_companion() {
    page_with_tags();
    eval(STUB_FETCH);
    let a = analytics(&both(&format!(
        r#"consent: {{ mode: "basic" }}, {COMPANION}"#
    )));
    js("a.track('service_selected', { service_id: 1 })", &a);
    js(
        "a.consent({ analytics_storage: 'denied', ad_storage: 'denied' })",
        &a,
    );
    let later = js("return a.track('date_selected')", &a);
    assert_eq!(pick(&later, "companion"), "null");
    ticks(4).await;
    assert_eq!(eval("return window.__posts.length"), JsValue::from(0));
    assert_eq!(stored(), "");
    js("a.destroy(); a.free();", &a);
}

async fn page_exit_beacons_what_waits_and_destroy_removes_the_listeners() {
    page_with_tags();
    // The companion is unreachable: entries wait.
    eval("window.__answers = [[503, '600']];");
    eval(STUB_FETCH);
    eval(
        "window.__beacons = [];
         Object.defineProperty(navigator, 'sendBeacon', { configurable: true,
           value: (url, blob) => { window.__beacons.push({ url, type: blob.type, blob }); return true; } });",
    );
    let a = analytics(&both(COMPANION));
    js(&format!("a.track('booked', {BOOKING})"), &a);
    wait_for("window.__posts.length === 1", &a).await;
    eval("window.dispatchEvent(new Event('pagehide'));");
    assert_eq!(eval("return window.__beacons.length"), JsValue::from(1));
    let body = js_async(
        "const b = window.__beacons[0]; return JSON.stringify({ url: b.url, type: b.type, body: JSON.parse(await b.blob.text()) });",
        &JsValue::UNDEFINED,
    )
    .await;
    let body = js("return JSON.parse(a)", &body);
    assert_eq!(
        pick(&body, "url"),
        r#""https://companion.test/api/collect""#
    );
    assert_eq!(pick(&body, "type"), r#""text/plain;charset=utf-8""#);
    assert_eq!(pick(&body, "body.events.0.event_id"), r#""b7e0c1d2-555""#);
    assert!(
        stored().contains("b7e0c1d2-555"),
        "kept until a fetch gets 202"
    );
    js("a.destroy()", &a);
    eval("window.dispatchEvent(new Event('pagehide'));");
    assert_eq!(eval("return window.__beacons.length"), JsValue::from(1));
    js("a.free(); delete navigator.sendBeacon;", &a);
}

async fn destroy_with_a_request_in_flight_starts_no_retry_and_track_starts_again() {
    page_with_tags();
    eval("window.__answers = [];");
    eval(STUB_FETCH);
    // The first request hangs until the test answers it (503, retry at once).
    hang_first_request("new Response('{}', { status: 503, headers: { 'Retry-After': '0' } })");
    let a = analytics(&both(COMPANION));
    js("a.track('service_selected', { service_id: 1 })", &a);
    wait_for("window.__release !== null", &a).await;
    js("a.destroy(); window.__release();", &a);
    // The answer is recorded; a retry would go out on the next tick. Many ticks later,
    // nothing went out: the entry waits for the next page.
    ticks(8).await;
    assert_eq!(eval("return window.__posts.length"), JsValue::from(0));
    assert!(stored().contains("service_selected"), "{}", stored());
    // track() starts delivery again: both entries go out.
    js("a.track('master_selected', { staff_id: 2 })", &a);
    wait_for("a.stats().outbox.sent === 2", &a).await;
    assert_eq!(stored(), "");
    js("a.destroy(); a.free();", &a);
}

/// A page that frees its instance while the outbox's Web Lock is being granted to it: the
/// grant can no longer reach the instance, so the lock must be let go at once, or the next
/// instance (and every other tab) could never deliver again.
async fn an_instance_freed_while_the_outbox_lock_is_granted_lets_go_of_it() {
    page_with_tags();
    eval("window.__answers = [];");
    eval(STUB_FETCH);
    // The grant reaches the module only when the test says so.
    eval(
        "const locks = navigator.locks;
         window.__request = locks.request;
         window.__grant = null;
         locks.request = (name, options, run) => window.__request.call(locks, name, options,
           (lock) => new Promise((resolve) => { window.__grant = () => resolve(run(lock)); }));",
    );
    let a = analytics(&both(COMPANION));
    js("a.track('service_selected', { service_id: 1 })", &a);
    wait_for("window.__grant !== null", &a).await;
    js(
        "a.destroy(); a.free(); window.__grant(); navigator.locks.request = window.__request;",
        &a,
    );
    ticks(2).await;
    let b = analytics(&both(COMPANION));
    js("a.track('master_selected', { staff_id: 2 })", &b);
    wait_for("a.stats().outbox.sent === 2", &b).await;
    assert_eq!(stored(), "");
    js("a.destroy(); a.free();", &b);
}

/// A page that frees its instance (without `destroy()`) while a batch is in flight under the
/// outbox's Web Lock: the answer can no longer reach the instance, so freeing it must let go
/// of the lock, or no instance or tab of the site could deliver until the page closes. (Fails
/// as well when the freed instance's delivery outlives `free()`.) The late answer then finds
/// nobody to tell, and nothing throws on the page.
async fn an_instance_freed_with_a_request_in_flight_lets_go_of_the_lock() {
    page_with_tags();
    eval("window.__answers = [];");
    eval(STUB_FETCH);
    // The first request hangs until the test answers it (202).
    hang_first_request("new Response('{}', { status: 202 })");
    let errors = page_errors();
    let a = analytics(&both(COMPANION));
    js("a.track('service_selected', { service_id: 1 })", &a);
    wait_for("window.__release !== null", &a).await;
    js("a.free()", &a);
    // Under the lock still held, `b` could not flush: both entries wait in storage.
    let b = analytics(&both(COMPANION));
    js("a.track('master_selected', { staff_id: 2 })", &b);
    wait_for("a.stats().outbox.sent === 2", &b).await;
    assert_eq!(stored(), "");
    eval("window.__release();");
    ticks(4).await;
    assert_eq!(js("return a.stats().outbox.sent", &b), JsValue::from(2));
    assert_eq!(page_errors(), errors);
    js("a.destroy(); a.free();", &b);
}

async fn a_throwing_or_full_local_storage_degrades_to_memory_without_an_exception() {
    page_with_tags();
    eval("window.__answers = [];");
    eval(STUB_FETCH);
    let errors = page_errors();
    eval(
        "window.__storage = Object.getOwnPropertyDescriptor(window, 'localStorage');
         Object.defineProperty(window, 'localStorage', { configurable: true,
           get() { throw new DOMException('The operation is insecure.', 'SecurityError'); } });",
    );
    let a = analytics(&both(COMPANION));
    let v = js(&format!("return a.track('booked', {BOOKING})"), &a);
    assert_eq!(pick(&v, "ok"), "true");
    wait_for("a.stats().outbox.sent === 1", &a).await;
    assert_eq!(
        pick(&js("return a.stats().outbox", &a), "storageFailures"),
        "1"
    );
    js("a.destroy(); a.free();", &a);
    eval("Object.defineProperty(window, 'localStorage', window.__storage);");

    // Full: every write refused.
    eval(
        "window.__setItem = Storage.prototype.setItem;
         Storage.prototype.setItem = function () { throw new DOMException('full', 'QuotaExceededError'); };",
    );
    let b = analytics(&both(COMPANION));
    js("a.track('service_selected', { service_id: 2 })", &b);
    wait_for("a.stats().outbox.sent === 1", &b).await;
    assert_eq!(
        pick(&js("return a.stats().outbox", &b), "storageFailures"),
        "1"
    );
    js("a.destroy(); a.free();", &b);
    eval("Storage.prototype.setItem = window.__setItem;");
    assert_eq!(page_errors(), errors);
}

/// gtag.js and Google Tag Manager replace `dataLayer.push` once loaded; then the browser did
/// deliver to GA4 and the companion must not send a Measurement Protocol copy (GA4 would
/// count the event twice). A GTM-only page has no `gtag` at all.
async fn a_ga4_call_taken_by_gtag_js_or_gtm_is_flagged_as_delivered_in_the_browser() {
    fresh_page();
    eval(
        "window.dataLayer = [];
         window.dataLayer.push = function () { return Array.prototype.push.apply(this, arguments); };",
    );
    eval("window.__answers = [];");
    eval(STUB_FETCH);
    let a = analytics(&both(COMPANION));
    js(&format!("a.track('booked', {BOOKING})"), &a);
    wait_for("window.__posts.length === 1", &a).await;
    let event = eval("return window.__posts[0].body.events[0]");
    assert_eq!(pick(&event, "ga4_delivered_in_browser"), "true");
    let pushed = eval("return Object.prototype.toString.call(window.dataLayer[0])");
    assert_eq!(pushed.as_string().unwrap(), "[object Arguments]");
    js("a.destroy(); a.free();", &a);
}

/// The page's `JSON.parse` judges a stored companion copy (one that is not JSON would spoil
/// the batch it goes out in): the broken one is dropped and counted, the good one goes out.
async fn a_stored_companion_copy_that_is_not_json_is_dropped_as_it_is_read() {
    page_with_tags();
    eval(STUB_FETCH);
    eval(&format!(
        r#"const now = Date.now();
           localStorage.setItem('{KEY}', '["c",' + now + ',"bad"]\t{{"event_id":"bad"\n'
             + '["c",' + now + ',"good"]\t{{"event_id":"good"}}');"#
    ));
    let a = analytics(&both(COMPANION));
    js("a.listen()", &a);
    wait_for("window.__posts.length === 1", &a).await;
    let ids = eval(
        "return JSON.stringify(window.__posts.map((p) => p.body.events.map((e) => e.event_id)))",
    );
    assert_eq!(ids.as_string().unwrap(), r#"[["good"]]"#);
    assert_eq!(pick(&js("return a.stats().outbox", &a), "dropped"), "1");
    js("a.destroy(); a.free();", &a);
}
