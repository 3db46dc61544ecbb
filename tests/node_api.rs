//! The exported class in Node (no browser, no window): construct, track and stats work;
//! `listen()` throws an `Error` saying there is no window; identity is all null.
#![cfg(target_arch = "wasm32")]
// Helpers outside the test functions unwrap too: a failed unwrap is a failed test here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use altegio_analytics::web::BookingAnalytics;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

#[wasm_bindgen(inline_js = r#"
export function run(src, a) { return new Function("a", src)(a); }
export function json(value) {
  const text = JSON.stringify(value);
  return text === undefined ? "undefined" : text;
}
"#)]
extern "C" {
    fn run(src: &str, a: &JsValue) -> JsValue;
    fn json(value: &JsValue) -> String;
}

fn js(src: &str, a: &JsValue) -> String {
    json(&run(src, a))
}

/// `new BookingAnalytics(<options_src>)` through the JavaScript class, as Node code does it.
fn analytics(options_src: &str) -> JsValue {
    let bootstrap = JsValue::from(BookingAnalytics::new(JsValue::UNDEFINED).unwrap());
    let class = run(
        "const klass = a.constructor; a.free(); return klass;",
        &bootstrap,
    );
    run(&format!("return new a({options_src});"), &class)
}

const BOOKING: &str = r#"{ appointments: [{ services: [101, 102], staff_id: 7,
  datetime: "2026-11-23T10:00:00+03:00", chargeStatus: "not_paid", custom_fields: [], id: 555 }],
  code: "X7Y2KD", companyId: 42, companyName: "Studio Bloom", isMobile: true, event_id: "n-1" }"#;

const FLAT: &str = r#"{"appointment_count":1,"service_ids":"101,102","staff_ids":"7","record_ids":"555","appointment_datetime":"2026-11-23T10:00:00+03:00","booking_code":"X7Y2KD","company_id":42,"company_name":"Studio Bloom","is_mobile":true,"event_id":"n-1"}"#;

#[wasm_bindgen_test]
fn there_is_no_window_here() {
    assert_eq!(
        js(
            "return [typeof window, typeof document, typeof process]",
            &JsValue::NULL
        ),
        r#"["undefined","undefined","object"]"#
    );
}

#[wasm_bindgen_test]
fn construct_and_track_work_in_node() {
    run(
        "delete globalThis.dataLayer; delete globalThis.gtag; delete globalThis.fbq;",
        &JsValue::NULL,
    );
    let a =
        analytics("{ ga4: { measurementId: 'G-NODE1234' }, meta: { pixelId: '123456789012345' } }");
    let v = run(&format!("return a.track('booked', {BOOKING});"), &a);
    assert_eq!(js("return a.ok", &v), "true");
    assert_eq!(js("return a.name", &v), r#""booked""#);
    assert_eq!(js("return a.ga4.params", &v), FLAT);
    // No gtag: the arguments go to a new globalThis.dataLayer, as an arguments object.
    assert_eq!(js("return a.forwarded", &v), r#"["ga4"]"#);
    assert_eq!(
        js("return globalThis.dataLayer.length", &JsValue::NULL),
        "1"
    );
    assert_eq!(
        js(
            "return Object.prototype.toString.call(globalThis.dataLayer[0])",
            &JsValue::NULL
        ),
        r#""[object Arguments]""#
    );
    let flat = FLAT.trim_end_matches('}');
    assert_eq!(
        js("return Array.from(globalThis.dataLayer[0])", &JsValue::NULL),
        format!(r#"["event","booked",{flat},"send_to":"G-NODE1234"}}]"#)
    );
    // No fbq: a delivery warning, nothing thrown.
    assert_eq!(
        js("return a.warnings.map((w) => w.message)", &v),
        r#"["meta: window.fbq is not defined yet: the call waits in the outbox and goes out once the Pixel base code defines fbq"]"#
    );
    run("delete globalThis.dataLayer;", &JsValue::NULL);

    // With stubs on the global object, both are called.
    run(
        "globalThis.__calls = [];
         globalThis.gtag = (...args) => globalThis.__calls.push(['gtag', ...args]);
         globalThis.fbq = (...args) => globalThis.__calls.push(['fbq', ...args]);",
        &JsValue::NULL,
    );
    let v = run("return a.track('widget_loaded', { step: 1 });", &a);
    assert_eq!(js("return a.forwarded", &v), r#"["ga4","meta"]"#);
    assert_eq!(
        js(
            "return globalThis.__calls.map((c) => c.slice(0, 4))",
            &JsValue::NULL
        ),
        r#"[["gtag","event","widget_loaded",{"step":1,"send_to":"G-NODE1234"}],["fbq","trackCustom","widget_loaded",{"step":1}]]"#
    );
    run(
        "delete globalThis.gtag; delete globalThis.fbq; delete globalThis.__calls;",
        &JsValue::NULL,
    );

    let bad = run("return a.track(42, null);", &a);
    assert_eq!(
        js("return [a.ok, a.problems[0].message]", &bad),
        r#"[false,"name: expected a string, got 42"]"#
    );
}

#[wasm_bindgen_test]
fn listen_throws_an_error_saying_there_is_no_window() {
    let a = analytics("");
    assert_eq!(
        js(
            "try { a.listen(); return 'no throw'; }
             catch (e) { return [e instanceof Error, e.message]; }",
            &a
        ),
        r#"[true,"listen() needs a browser window (there is none in this context)"]"#
    );
    // The instance still works afterwards; destroy() without a listener is harmless.
    run("a.destroy();", &a);
    assert_eq!(js("return a.track('widget_loaded').ok", &a), "true");
}

/// The documented counters of `stats()`, in a fixed order (later additions are not pinned here).
const STATS: &str = "const s = a.stats();
  return { received: s.received, accepted: s.accepted, rejected: s.rejected, ignored: s.ignored,
           ignoredBy: s.ignoredBy, forwarded: s.forwarded, failed: s.failed };";

#[wasm_bindgen_test]
fn stats_have_their_documented_shape() {
    let a = analytics("");
    assert_eq!(
        js("return Object.keys(a.stats()).slice(0, 7)", &a),
        r#"["received","accepted","rejected","ignored","ignoredBy","forwarded","failed"]"#
    );
    let a = analytics("{ strict: true }");
    assert_eq!(
        js(STATS, &a),
        r#"{"received":0,"accepted":0,"rejected":0,"ignored":0,"ignoredBy":{"origin":0,"shape":0,"duplicate":0},"forwarded":{"ga4":0,"meta":0},"failed":{"ga4":0,"meta":0}}"#
    );
    run(
        &format!("a.track('booked', {BOOKING}); a.track('booked', {BOOKING}); a.track('not_in_catalogue');"),
        &a,
    );
    assert_eq!(
        js(STATS, &a),
        r#"{"received":3,"accepted":1,"rejected":1,"ignored":1,"ignoredBy":{"origin":0,"shape":0,"duplicate":1},"forwarded":{"ga4":0,"meta":0},"failed":{"ga4":0,"meta":0}}"#
    );
}

#[wasm_bindgen_test]
fn identity_is_null_without_a_document_and_bad_options_throw() {
    let a = analytics("");
    assert_eq!(js("return a.clientId()", &a), "null");
    assert_eq!(
        js("return a.identity()", &a),
        r#"{"gaClientId":null,"fbp":null,"fbc":null}"#
    );
    let bootstrap = JsValue::from(BookingAnalytics::new(JsValue::UNDEFINED).unwrap());
    let class = run(
        "const klass = a.constructor; a.free(); return klass;",
        &bootstrap,
    );
    assert_eq!(
        js(
            "try { new a({ ga4: { measurementId: 'UA-1' } }); return 'no throw'; }
             catch (e) { return [e instanceof Error, e.message]; }",
            &class
        ),
        r#"[true,"ga4.measurementId: expected a GA4 measurement ID like \"G-XXXXXXXXXX\", got \"UA-1\""]"#
    );
}
