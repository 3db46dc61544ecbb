//! Shared helpers of the browser tests (`tests/browser_*.rs`): the exported class driven as a
//! page drives it (through its JavaScript wrapper), stubs for gtag / fbq / dataLayer, a
//! counter of errors that escape to the page, and a future over a JavaScript promise (so the
//! tests need no extra dependency).
//!
//! Not a test target of its own: a directory module, included with `mod browser_support;`.
#![allow(dead_code)]

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use altegio_analytics::web::BookingAnalytics;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
const W = globalThis;

// Anything that escapes to the page: an exception thrown from an event listener (the module's
// message listener included) or an unhandled promise rejection.
if (!W.__pageErrors) {
  W.__pageErrors = [];
  W.addEventListener("error", (e) => {
    W.__pageErrors.push("error: " + String((e.error && e.error.stack) || e.message));
  });
  W.addEventListener("unhandledrejection", (e) => {
    W.__pageErrors.push("unhandledrejection: " + String((e.reason && e.reason.stack) || e.reason));
  });
}

export function run(src, a, b, c) {
  return new Function("a", "b", "c", src)(a, b, c);
}

export function json(value) {
  const text = JSON.stringify(value);
  return text === undefined ? "undefined" : text;
}

export function pick(value, path) {
  let at = value;
  for (const key of path.split(".")) at = at == null ? undefined : at[key];
  return json(at);
}

export function settle(promise, ok, err) {
  Promise.resolve(promise).then(ok, err);
}

export function pageErrors() {
  return JSON.stringify(W.__pageErrors);
}

export function construct(klass, optionsSrc) {
  const options = optionsSrc === "" ? undefined : new Function("return (" + optionsSrc + ");")();
  return new klass(options);
}

export function attempt(klass, optionsSrc) {
  try {
    construct(klass, optionsSrc);
    return "created";
  } catch (e) {
    return JSON.stringify({
      isError: e instanceof Error,
      message: e instanceof Error ? e.message : String(e),
    });
  }
}

export function resetPage() {
  for (const key of ["gtag", "fbq", "dataLayer"]) delete W[key];
  // The outbox of earlier tests (src/outbox.rs) must not reach this one's tags.
  try { W.localStorage.removeItem("altegio-analytics:outbox:v2"); } catch (e) {}
  W.__calls = { gtag: [], fbq: [], dataLayer: [] };
  W.__verdicts = [];
}

export function stubTags() {
  W.gtag = function () { W.__calls.gtag.push(Array.from(arguments)); };
  // gtag.js has loaded: it has taken over dataLayer (nothing is pushed there: gtag records).
  W.dataLayer = [];
  W.dataLayer.push = function () { return Array.prototype.push.apply(this, arguments); };
  W.fbq = function () { W.__calls.fbq.push(Array.from(arguments)); };
}

export function calls(which) {
  return JSON.stringify(W.__calls[which]);
}
"#)]
extern "C" {
    /// Runs `src` as the body of `function (a, b, c)`.
    fn run(src: &str, a: &JsValue, b: &JsValue, c: &JsValue) -> JsValue;
    /// `JSON.stringify(value)` (`"undefined"` for values JSON has no form for).
    pub fn json(value: &JsValue) -> String;
    /// `JSON.stringify(value.<path>)`, path dot-separated.
    pub fn pick(value: &JsValue, path: &str) -> String;
    fn settle(
        promise: &JsValue,
        ok: &Closure<dyn FnMut(JsValue)>,
        err: &Closure<dyn FnMut(JsValue)>,
    );
    #[wasm_bindgen(js_name = pageErrors)]
    fn page_errors_json() -> String;
    fn construct(klass: &JsValue, options_src: &str) -> JsValue;
    fn attempt(klass: &JsValue, options_src: &str) -> String;
    #[wasm_bindgen(js_name = resetPage)]
    fn reset_page();
    #[wasm_bindgen(js_name = stubTags)]
    fn stub_tags();
    /// The recorded calls of `"gtag"` or `"fbq"`, as JSON.
    pub fn calls(which: &str) -> String;
}

/// Runs `src` as the body of `function (a) { … }` and returns its result.
pub fn js(src: &str, a: &JsValue) -> JsValue {
    run(src, a, &JsValue::UNDEFINED, &JsValue::UNDEFINED)
}

/// Runs `src` as the body of `function (a, b) { … }` and returns its result.
pub fn js2(src: &str, a: &JsValue, b: &JsValue) -> JsValue {
    run(src, a, b, &JsValue::UNDEFINED)
}

/// Runs `src` (no arguments) and returns its result.
pub fn eval(src: &str) -> JsValue {
    js(src, &JsValue::UNDEFINED)
}

/// The exported JavaScript class `BookingAnalytics` (its wrapper, as users see it).
pub fn class() -> JsValue {
    let bootstrap = JsValue::from(BookingAnalytics::new(JsValue::UNDEFINED).unwrap());
    js(
        "const klass = a.constructor; a.free(); return klass;",
        &bootstrap,
    )
}

/// `new BookingAnalytics(<options_src>)`; `options_src` is a JavaScript expression (or empty
/// for no argument). Panics when the constructor throws.
pub fn analytics(options_src: &str) -> JsValue {
    construct(&class(), options_src)
}

/// What `new BookingAnalytics(<options_src>)` threw, as `{"isError":…,"message":…}` JSON, or
/// `"created"`.
pub fn construct_error(options_src: &str) -> String {
    attempt(&class(), options_src)
}

/// The errors that reached the page so far, as a JSON array of strings.
pub fn page_errors() -> String {
    page_errors_json()
}

/// A fresh page: no gtag, fbq or dataLayer, empty call records.
pub fn fresh_page() {
    reset_page();
}

/// A fresh page with recording `gtag` and `fbq` stubs.
pub fn page_with_tags() {
    reset_page();
    stub_tags();
}

/// The counters of `instance.stats()` this suite pins, as JSON in a fixed order: received,
/// accepted, rejected, ignored, ignoredBy, forwarded, failed (counters added later, such as
/// `consent`, are left to their own tests).
pub fn stats(instance: &JsValue) -> String {
    json(&js(
        "const s = a.stats();
         return { received: s.received, accepted: s.accepted, rejected: s.rejected,
                  ignored: s.ignored, ignoredBy: s.ignoredBy, forwarded: s.forwarded,
                  failed: s.failed };",
        instance,
    ))
}

/// Asserts `received = accepted + rejected + ignored` in `instance.stats()`.
pub fn assert_stats_add_up(instance: &JsValue) {
    let s = js("return a.stats()", instance);
    let n = |key: &str| pick(&s, key).parse::<u32>().unwrap();
    assert_eq!(
        n("received"),
        n("accepted") + n("rejected") + n("ignored"),
        "{}",
        json(&s)
    );
}

#[derive(Default)]
struct Slot {
    result: Option<Result<JsValue, JsValue>>,
    waker: Option<Waker>,
}

type Callback = Closure<dyn FnMut(JsValue)>;

/// A JavaScript promise as a Rust future (what `wasm_bindgen_futures::JsFuture` does).
pub struct Settled {
    slot: Rc<RefCell<Slot>>,
    _callbacks: (Callback, Callback),
}

impl Future for Settled {
    type Output = Result<JsValue, JsValue>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = self.slot.borrow_mut();
        match slot.result.take() {
            Some(result) => Poll::Ready(result),
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Waits for `promise` (any value; non-promises resolve at once).
pub fn settled(promise: &JsValue) -> Settled {
    let slot = Rc::new(RefCell::new(Slot::default()));
    let callback = |fulfilled: bool| {
        let slot = Rc::clone(&slot);
        Closure::<dyn FnMut(JsValue)>::new(move |value: JsValue| {
            let waker = {
                let mut slot = slot.borrow_mut();
                slot.result = Some(if fulfilled { Ok(value) } else { Err(value) });
                slot.waker.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        })
    };
    let (ok, err) = (callback(true), callback(false));
    settle(promise, &ok, &err);
    Settled {
        slot,
        _callbacks: (ok, err),
    }
}

/// Runs `src` as `async function (a) { … }` and waits for it; panics with the rejection.
pub async fn js_async(src: &str, a: &JsValue) -> JsValue {
    let promise = js(&format!("return (async (a) => {{ {src} \n}})(a);"), a);
    match settled(&promise).await {
        Ok(value) => value,
        Err(error) => panic!(
            "the script failed: {}",
            json(&js("return String((a && a.stack) || a)", &error))
        ),
    }
}

/// Lets `n` timer ticks of 25 ms pass on the page.
pub async fn ticks(n: u32) {
    js_async(
        &format!("for (let i = 0; i < {n}; i++) await new Promise((r) => setTimeout(r, 25));"),
        &JsValue::UNDEFINED,
    )
    .await;
}

/// Waits until the JavaScript expression `condition` (with `a` in scope) is true, polling every
/// 25 ms; fails after 400 polls (at least 10 s, however slow the machine).
pub async fn wait_for(condition: &str, a: &JsValue) {
    js_async(
        &format!(
            "for (let i = 0; i < 400; i++) {{ if ({condition}) return; await new Promise((r) => setTimeout(r, 25)); }}
             throw new Error('timed out waiting for: ' + {condition:?});"
        ),
        a,
    )
    .await;
}

/// A `booked` payload as the widget posts it (FACTS §2): two appointments, booking code,
/// company, device flag and the event id Meta deduplicates on.
pub const BOOKING: &str = r#"{
  appointments: [
    { services: [101, 102], staff_id: 7, datetime: "2026-11-23T10:00:00+03:00",
      chargeStatus: "not_paid", custom_fields: [], id: 555 },
    { services: [103], staff_id: 8, datetime: "2026-11-23T11:30:00+03:00",
      chargeStatus: "not_paid", custom_fields: [], id: 556 }
  ],
  code: "X7Y2KD",
  companyId: 42,
  companyName: "Studio Bloom",
  isMobile: false,
  event_id: "b7e0c1d2-555"
}"#;

/// The booking's flat parameters, as `src/flatten.rs` documents them (without `send_to`).
pub const BOOKING_FLAT: &str = r#"{"appointment_count":2,"service_ids":"101,102,103","staff_ids":"7,8","record_ids":"555,556","appointment_datetime":"2026-11-23T10:00:00+03:00","booking_code":"X7Y2KD","company_id":42,"company_name":"Studio Bloom","is_mobile":false,"event_id":"b7e0c1d2-555"}"#;

/// The measurement ID and Pixel ID the tests configure.
pub const GA4_ID: &str = "G-TEST1234";
/// The Pixel ID the tests configure.
pub const PIXEL_ID: &str = "123456789012345";

/// Options with both destinations, plus `extra` (JavaScript object members, may be empty).
pub fn both(extra: &str) -> String {
    format!("{{ ga4: {{ measurementId: \"{GA4_ID}\" }}, meta: {{ pixelId: \"{PIXEL_ID}\" }}, {extra} }}")
}

/// The gtag arguments expected for the booking.
pub fn booking_gtag_call() -> String {
    let params = BOOKING_FLAT.trim_end_matches('}');
    format!(r#"["event","booked",{params},"send_to":"{GA4_ID}"}}]"#)
}

/// The fbq arguments expected for the booking.
pub fn booking_fbq_call() -> String {
    format!(r#"["track","Schedule",{BOOKING_FLAT},{{"eventID":"b7e0c1d2-555"}}]"#)
}
