//! Consent Mode v2 in headless Chromium: the consent commands the page's tags receive, events
//! waiting in memory for a decision, sent in order once granted, dropped (and counted) when
//! denied.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser_support;

use browser_support::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const DENIED: &str = r#"{"ad_storage":"denied","analytics_storage":"denied","ad_user_data":"denied","ad_personalization":"denied"}"#;

fn consent_counts(a: &JsValue) -> String {
    json(&js("return a.stats().consent", a))
}

#[wasm_bindgen_test]
fn nothing_reaches_the_tags_before_consent_and_everything_waiting_arrives_in_order_once_granted() {
    page_with_tags();
    let errors = page_errors();
    let a = analytics(&both(r#"consent: { mode: "basic" }"#));
    assert_eq!(
        calls("gtag"),
        format!(r#"[["consent","default",{DENIED}]]"#),
        "the defaults go out when the instance is created"
    );
    assert_eq!(calls("fbq"), r#"[["consent","revoke"]]"#);

    let first = js("return a.track('service_selected', { service_id: 1 })", &a);
    assert_eq!(pick(&first, "ok"), "true");
    assert_eq!(pick(&first, "forwarded"), "[]");
    assert_eq!(pick(&first, "waiting"), r#"["ga4","meta"]"#);
    assert_eq!(pick(&first, "warnings.0.rule"), r#""consent""#);
    js("a.track('master_selected', { staff_id: 7 })", &a);
    assert_eq!(
        calls("gtag"),
        format!(r#"[["consent","default",{DENIED}]]"#)
    );
    assert_eq!(consent_counts(&a), r#"{"waiting":4,"dropped":0}"#);

    js(
        "a.consent({ analytics_storage: 'granted', ad_storage: 'granted' })",
        &a,
    );
    let gtag = calls("gtag");
    assert_eq!(
        gtag,
        format!(
            r#"[["consent","default",{DENIED}],["consent","update",{{"analytics_storage":"granted","ad_storage":"granted"}}],["event","service_selected",{{"service_id":1,"send_to":"{GA4_ID}"}}],["event","master_selected",{{"staff_id":7,"send_to":"{GA4_ID}"}}]]"#
        )
    );
    let fbq = eval("return JSON.stringify(window.__calls.fbq.map(c => c.slice(0, 2)))")
        .as_string()
        .unwrap();
    assert_eq!(
        fbq,
        r#"[["consent","revoke"],["consent","grant"],["trackCustom","service_selected"],["trackCustom","master_selected"]]"#
    );
    assert_eq!(consent_counts(&a), r#"{"waiting":0,"dropped":0}"#);
    let s = js("return a.stats()", &a);
    assert_eq!(pick(&s, "forwarded"), r#"{"ga4":2,"meta":2}"#);

    let later = js("return a.track('date_selected')", &a);
    assert_eq!(pick(&later, "forwarded"), r#"["ga4","meta"]"#);
    assert_eq!(page_errors(), errors);
}

#[wasm_bindgen_test]
fn denied_consent_drops_what_waited_and_what_comes_after() {
    page_with_tags();
    let a = analytics(&both(
        r#"consent: { default: { analytics_storage: "denied" } }"#,
    ));
    js("a.track('service_selected'); a.track('time_selected');", &a);
    js(
        "a.consent({ analytics_storage: 'denied', ad_storage: 'denied' })",
        &a,
    );
    let events = eval("return JSON.stringify(window.__calls.gtag.filter(c => c[0] === 'event'))")
        .as_string()
        .unwrap();
    assert_eq!(events, "[]");
    let meta_events =
        eval("return JSON.stringify(window.__calls.fbq.filter(c => c[0] !== 'consent'))")
            .as_string()
            .unwrap();
    assert_eq!(meta_events, "[]");
    assert_eq!(consent_counts(&a), r#"{"waiting":0,"dropped":4}"#);
    let after = js("return a.track('date_selected')", &a);
    assert_eq!(pick(&after, "ok"), "true");
    assert_eq!(pick(&after, "forwarded"), "[]");
    assert_eq!(
        pick(&after, "warnings.0.message"),
        r#""ga4: not sent: consent denied (analytics_storage)""#
    );
    assert_eq!(consent_counts(&a), r#"{"waiting":0,"dropped":6}"#);
    assert_stats_add_up(&a);
}

#[wasm_bindgen_test]
fn advanced_mode_sends_ga4_at_once_with_the_state_set_and_holds_meta() {
    page_with_tags();
    let a = analytics(&both(r#"consent: { mode: "advanced" }"#));
    let v = js("return a.track('widget_loaded')", &a);
    assert_eq!(pick(&v, "forwarded"), r#"["ga4"]"#);
    assert_eq!(pick(&v, "waiting"), r#"["meta"]"#);
    let gtag = calls("gtag");
    assert!(
        gtag.starts_with(&format!(
            r#"[["consent","default",{DENIED}],["event","widget_loaded""#
        )),
        "{gtag}"
    );
}

#[wasm_bindgen_test]
fn a_bad_consent_signal_throws_an_error_naming_it() {
    page_with_tags();
    let a = analytics(&both(r#"consent: { mode: "basic" }"#));
    let thrown = js(
        "try { a.consent({ analytics_storage: 'yes' }); return 'no error'; } catch (e) { return (e instanceof Error) + ': ' + e.message; }",
        &a,
    );
    assert_eq!(
        thrown.as_string().unwrap(),
        r#"true: consent.analytics_storage: expected "granted" or "denied""#
    );
    let bad_option = construct_error(&both(r#"consent: { mode: "strict" }"#));
    assert!(
        bad_option.contains(r#"consent.mode: expected \"basic\" or \"advanced\""#),
        "{bad_option}"
    );
}
