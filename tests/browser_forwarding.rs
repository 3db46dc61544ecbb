//! Forwarding, end to end in headless Chromium: what `gtag`, `window.dataLayer` and `fbq`
//! receive from `track()`, failures of the page's tags, per-event overrides, and re-entrant
//! page code. The class is driven through its JavaScript wrapper, as a page drives it.
#![cfg(target_arch = "wasm32")]
// Helpers outside the test functions unwrap too: a failed unwrap is a failed test here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser_support;

use browser_support::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn track_booking(a: &JsValue) -> JsValue {
    js(&format!("return a.track('booked', {BOOKING});"), a)
}

#[wasm_bindgen_test]
fn a_booking_reaches_gtag_and_fbq_with_exactly_the_documented_arguments() {
    page_with_tags();
    let errors = page_errors();
    let a = analytics(&both(""));
    let v = track_booking(&a);

    assert_eq!(calls("gtag"), format!("[{}]", booking_gtag_call()));
    assert_eq!(calls("fbq"), format!("[{}]", booking_fbq_call()));
    assert_eq!(
        calls("gtag"),
        r#"[["event","booked",{"appointment_count":2,"service_ids":"101,102,103","staff_ids":"7,8","record_ids":"555,556","appointment_datetime":"2026-11-23T10:00:00+03:00","booking_code":"X7Y2KD","company_id":42,"company_name":"Studio Bloom","is_mobile":false,"event_id":"b7e0c1d2-555","send_to":"G-TEST1234"}]]"#
    );

    assert_eq!(pick(&v, "ok"), "true");
    assert_eq!(pick(&v, "ignored"), "false");
    assert_eq!(pick(&v, "source"), r#""track""#);
    assert_eq!(pick(&v, "origin"), "null");
    assert_eq!(pick(&v, "name"), r#""booked""#);
    assert_eq!(pick(&v, "forwarded"), r#"["ga4","meta"]"#);
    assert_eq!(pick(&v, "problems"), "[]");
    assert_eq!(pick(&v, "warnings"), "[]");
    assert_eq!(pick(&v, "event.name"), r#""booked""#);
    assert_eq!(
        pick(&v, "event.params.appointments.0"),
        r#"{"services":[101,102],"staff_id":7,"datetime":"2026-11-23T10:00:00+03:00","chargeStatus":"not_paid","custom_fields":[],"id":555}"#
    );
    assert_eq!(pick(&v, "ga4.name"), r#""booked""#);
    assert_eq!(pick(&v, "ga4.params"), BOOKING_FLAT);
    assert_eq!(
        pick(&v, "meta"),
        format!(
            r#"{{"method":"track","name":"Schedule","params":{BOOKING_FLAT},"eventId":"b7e0c1d2-555"}}"#
        )
    );
    assert_eq!(
        stats(&a),
        r#"{"received":1,"accepted":1,"rejected":0,"ignored":0,"ignoredBy":{"origin":0,"shape":0,"duplicate":0},"forwarded":{"ga4":1,"meta":1},"failed":{"ga4":0,"meta":0}}"#
    );
    assert_eq!(page_errors(), errors);
    js("a.destroy()", &a);
}

#[wasm_bindgen_test]
fn a_repeated_booking_with_the_same_event_id_is_sent_once() {
    page_with_tags();
    let a = analytics(&both(""));
    track_booking(&a);
    let again = track_booking(&a);
    assert_eq!(pick(&again, "ok"), "false");
    assert_eq!(pick(&again, "ignored"), "true");
    assert_eq!(pick(&again, "forwarded"), "[]");
    assert_eq!(pick(&again, "problems.0.path"), r#""params.event_id""#);
    assert_eq!(pick(&again, "problems.0.rule"), r#""duplicate""#);
    assert_eq!(calls("gtag"), format!("[{}]", booking_gtag_call()));
    assert_eq!(calls("fbq"), format!("[{}]", booking_fbq_call()));
    let s = js("return a.stats()", &a);
    assert_eq!(pick(&s, "ignoredBy.duplicate"), "1");
    assert_eq!(pick(&s, "forwarded"), r#"{"ga4":1,"meta":1}"#);
    assert_stats_add_up(&a);
}

#[wasm_bindgen_test]
fn without_gtag_the_same_arguments_go_to_a_new_data_layer_as_an_arguments_object() {
    fresh_page();
    let a = analytics(&both(""));
    assert_eq!(
        json(&eval("return typeof window.dataLayer")),
        r#""undefined""#
    );
    let v = track_booking(&a);
    assert_eq!(pick(&v, "forwarded"), r#"["ga4"]"#, "fbq is missing here");
    let layer = eval("return window.dataLayer");
    assert_eq!(json(&js("return Array.isArray(a)", &layer)), "true");
    assert_eq!(json(&js("return a.length", &layer)), "1");
    assert_eq!(
        json(&js("return Object.prototype.toString.call(a[0])", &layer)),
        r#""[object Arguments]""#
    );
    assert_eq!(
        json(&js("return Array.from(a[0])", &layer)),
        booking_gtag_call()
    );
    assert_eq!(pick(&js("return a.stats()", &a), "forwarded.ga4"), "1");
}

#[wasm_bindgen_test]
fn an_existing_data_layer_is_pushed_onto_through_its_own_push() {
    fresh_page();
    // Google Tag Manager replaces dataLayer.push: the module must call it, not write slots.
    eval(
        "const layer = [{ 'gtm.start': 1700000000000, event: 'gtm.js' }];
         window.__first = layer[0];
         window.__pushes = [];
         layer.push = function () {
           window.__pushes.push({ self: this === layer, count: arguments.length,
             kind: Object.prototype.toString.call(arguments[0]) });
           return Array.prototype.push.apply(this, arguments);
         };
         window.dataLayer = layer;",
    );
    let a = analytics(&both(""));
    track_booking(&a);
    assert_eq!(json(&eval("return window.dataLayer.length")), "2");
    assert_eq!(
        json(&eval("return window.dataLayer[0] === window.__first")),
        "true"
    );
    assert_eq!(
        json(&eval("return window.__pushes")),
        r#"[{"self":true,"count":1,"kind":"[object Arguments]"}]"#
    );
    assert_eq!(
        json(&eval(
            "return Object.prototype.toString.call(window.dataLayer[1])"
        )),
        r#""[object Arguments]""#
    );
    assert_eq!(
        json(&eval("return Array.from(window.dataLayer[1])")),
        booking_gtag_call()
    );
}

#[wasm_bindgen_test]
fn a_data_layer_without_push_is_a_delivery_warning() {
    fresh_page();
    eval("window.dataLayer = { not: 'an array' };");
    let a = analytics(&format!("{{ ga4: {{ measurementId: \"{GA4_ID}\" }} }}"));
    let v = js("return a.track('widget_loaded', {})", &a);
    assert_eq!(pick(&v, "ok"), "true");
    assert_eq!(pick(&v, "forwarded"), "[]");
    assert_eq!(
        pick(&v, "warnings"),
        r#"[{"path":"ga4","rule":"delivery","message":"ga4: window.dataLayer has no push(): it is not an array or a GTM data layer"}]"#
    );
    assert_eq!(pick(&js("return a.stats()", &a), "failed.ga4"), "1");
}

#[wasm_bindgen_test]
fn a_missing_fbq_is_a_delivery_warning_and_the_call_waits_in_the_outbox() {
    fresh_page();
    eval("localStorage.clear(); window.gtag = function () { window.__calls.gtag.push(Array.from(arguments)); };");
    let errors = page_errors();
    let a = analytics(&both(""));
    let v = track_booking(&a);
    assert_eq!(pick(&v, "ok"), "true");
    assert_eq!(pick(&v, "forwarded"), r#"["ga4"]"#);
    assert_eq!(pick(&v, "problems"), "[]");
    assert_eq!(
        pick(&v, "warnings"),
        r#"[{"path":"meta","rule":"delivery","message":"meta: window.fbq is not defined yet: the call waits in the outbox and goes out once the Pixel base code defines fbq"}]"#
    );
    assert_eq!(calls("gtag"), format!("[{}]", booking_gtag_call()));
    let s = js("return a.stats()", &a);
    assert_eq!(pick(&s, "failed"), r#"{"ga4":0,"meta":0}"#);
    assert_eq!(pick(&s, "forwarded"), r#"{"ga4":1,"meta":0}"#);
    assert_eq!(pick(&s, "outbox.pending"), "1");
    assert_eq!(page_errors(), errors);
    js("a.destroy(); a.free(); localStorage.clear();", &a);
}

#[wasm_bindgen_test]
fn tags_that_throw_are_delivery_warnings_and_nothing_escapes() {
    fresh_page();
    eval(
        "window.gtag = function () { throw new Error('gtag exploded'); };
         window.fbq = function () { throw 'fbq said no'; };",
    );
    let errors = page_errors();
    let a = analytics(&both(""));
    let v = track_booking(&a);
    assert_eq!(pick(&v, "ok"), "true");
    assert_eq!(pick(&v, "forwarded"), "[]");
    assert_eq!(
        pick(&v, "warnings"),
        r#"[{"path":"ga4","rule":"delivery","message":"ga4: gtag threw: gtag exploded"},{"path":"meta","rule":"delivery","message":"meta: fbq threw: fbq said no"}]"#
    );
    let s = js("return a.stats()", &a);
    assert_eq!(pick(&s, "failed"), r#"{"ga4":1,"meta":1}"#);
    assert_eq!(pick(&s, "forwarded"), r#"{"ga4":0,"meta":0}"#);
    // The instance still works once the tags are fixed.
    eval("delete window.gtag; delete window.fbq;");
    page_with_tags();
    let next = js("return a.track('widget_loaded')", &a);
    assert_eq!(pick(&next, "forwarded"), r#"["ga4","meta"]"#);
    assert_eq!(page_errors(), errors);
}

#[wasm_bindgen_test]
fn other_events_go_to_meta_as_track_custom_with_a_minted_event_id() {
    page_with_tags();
    let a = analytics(&both(""));
    let v = js(
        "return a.track('service_selected', { serviceId: 101, companyId: 42 })",
        &a,
    );
    assert_eq!(pick(&v, "forwarded"), r#"["ga4","meta"]"#);
    assert_eq!(
        calls("gtag"),
        r#"[["event","service_selected",{"service_id":101,"company_id":42,"send_to":"G-TEST1234"}]]"#
    );
    let fbq = eval("return window.__calls.fbq");
    assert_eq!(json(&js("return a.length", &fbq)), "1");
    assert_eq!(
        json(&js("return a[0].slice(0, 3)", &fbq)),
        r#"["trackCustom","service_selected",{"service_id":101,"company_id":42}]"#
    );
    assert_eq!(json(&js("return a[0].length", &fbq)), "4");
    assert_eq!(
        json(&js("return Object.keys(a[0][3])", &fbq)),
        r#"["eventID"]"#
    );
    let minted = js("return a[0][3].eventID", &fbq)
        .as_string()
        .expect("eventID is a string");
    // `<name>.<milliseconds>.<random>`, as src/web/destinations.rs mints it.
    let parts: Vec<&str> = minted.split('.').collect();
    assert_eq!(parts.len(), 3, "{minted}");
    assert_eq!(parts[0], "service_selected");
    assert!(
        !parts[1].is_empty() && parts[1].bytes().all(|b| b.is_ascii_digit()),
        "{minted}"
    );
    assert!(
        !parts[2].is_empty() && parts[2].bytes().all(|b| b.is_ascii_digit()),
        "{minted}"
    );
    assert_eq!(pick(&v, "meta.eventId"), format!("\"{minted}\""));
    assert_eq!(pick(&v, "meta.method"), r#""trackCustom""#);

    // A second event gets its own id.
    js("a.track('service_selected', { serviceId: 102 })", &a);
    let second = eval("return window.__calls.fbq[1][3].eventID")
        .as_string()
        .expect("eventID is a string");
    assert_ne!(second, minted);
    assert!(second.starts_with("service_selected."), "{second}");
}

#[wasm_bindgen_test]
fn the_widgets_own_schedule_is_accepted_but_sent_nowhere() {
    page_with_tags();
    let a = analytics(&both(""));
    js("a.listen()", &a);
    // What the widget posts on a booking: `booked`, then its own Meta `Schedule`.
    let dispatch = |action: &str| {
        js2(
            &format!(
                "window.dispatchEvent(new MessageEvent('message', {{
                   origin: 'https://n1.alteg.io',
                   data: {{ action: b, params: b === 'booked' ? {BOOKING} : {{ event_id: 'b7e0c1d2-555' }} }},
                 }}));"
            ),
            &a,
            &JsValue::from_str(action),
        )
    };
    eval("window.__verdicts = [];");
    dispatch("booked");
    dispatch("Schedule");
    let v = js("return a.track('Schedule', {})", &a);
    assert_eq!(pick(&v, "ok"), "true");
    assert_eq!(pick(&v, "forwarded"), "[]");
    assert_eq!(pick(&v, "ga4"), "null");
    assert_eq!(pick(&v, "meta"), "null");
    assert_eq!(calls("gtag"), format!("[{}]", booking_gtag_call()));
    assert_eq!(calls("fbq"), format!("[{}]", booking_fbq_call()));
    let s = js("return a.stats()", &a);
    assert_eq!(pick(&s, "received"), "3");
    assert_eq!(pick(&s, "accepted"), "3");
    assert_eq!(pick(&s, "forwarded"), r#"{"ga4":1,"meta":1}"#);
    js("a.destroy()", &a);
}

#[wasm_bindgen_test]
fn per_event_overrides_rename_or_switch_off_a_destination() {
    page_with_tags();
    let a = analytics(
        &format!(
            "{{ ga4: {{ measurementId: \"{GA4_ID}\", events: {{ widget_loaded: false, booked: 'purchase' }} }},
               meta: {{ pixelId: \"{PIXEL_ID}\", events: {{ service_selected: 'ViewContent', widget_closed: false }} }} }}"
        ),
    );
    let v = js("return a.track('service_selected', { serviceId: 5 })", &a);
    assert_eq!(pick(&v, "forwarded"), r#"["ga4","meta"]"#);
    let fbq = eval("return window.__calls.fbq");
    assert_eq!(
        json(&js("return a[0].slice(0, 3)", &fbq)),
        r#"["track","ViewContent",{"service_id":5}]"#
    );

    let v = js("return a.track('widget_loaded', {})", &a);
    assert_eq!(pick(&v, "forwarded"), r#"["meta"]"#);
    assert_eq!(pick(&v, "ga4"), "null");
    assert_eq!(
        calls("gtag"),
        r#"[["event","service_selected",{"service_id":5,"send_to":"G-TEST1234"}]]"#
    );
    assert_eq!(
        json(&js("return a[1].slice(0, 3)", &fbq)),
        r#"["trackCustom","widget_loaded",{}]"#
    );

    let v = js("return a.track('widget_closed')", &a);
    assert_eq!(pick(&v, "forwarded"), r#"["ga4"]"#);
    assert_eq!(pick(&v, "meta"), "null");
    assert_eq!(json(&js("return a.length", &fbq)), "2");

    let v = track_booking(&a);
    assert_eq!(pick(&v, "forwarded"), r#"["ga4","meta"]"#);
    let gtag = eval("return window.__calls.gtag");
    assert_eq!(json(&js("return a.length", &gtag)), "3");
    assert_eq!(
        json(&js("return a[2]", &gtag)),
        booking_gtag_call().replacen("\"booked\"", "\"purchase\"", 1)
    );
    assert_eq!(json(&js("return a[2]", &fbq)), booking_fbq_call());
}

#[wasm_bindgen_test]
fn only_the_configured_destinations_are_called() {
    page_with_tags();
    let ga4_only = analytics(&format!("{{ ga4: {{ measurementId: \"{GA4_ID}\" }} }}"));
    let v = track_booking(&ga4_only);
    assert_eq!(pick(&v, "forwarded"), r#"["ga4"]"#);
    assert_eq!(pick(&v, "meta"), "null");
    assert_eq!(calls("fbq"), "[]");

    page_with_tags();
    let none = analytics("");
    let v = track_booking(&none);
    assert_eq!(pick(&v, "ok"), "true");
    assert_eq!(pick(&v, "forwarded"), "[]");
    assert_eq!((calls("gtag"), calls("fbq")), ("[]".into(), "[]".into()));
    assert_eq!(json(&eval("return window.dataLayer.length")), "0");
}

#[wasm_bindgen_test]
fn ga4_limits_are_applied_with_warnings_before_gtag_is_called() {
    page_with_tags();
    let a = analytics(&both(""));
    let v = js(
        "return a.track('widget_loaded', {
           long: 'y'.repeat(150),
           ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => ['p' + i, i])),
         })",
        &a,
    );
    assert_eq!(pick(&v, "ok"), "true");
    assert_eq!(pick(&v, "forwarded"), r#"["ga4","meta"]"#);
    let mut expected = format!(r#"{{"long":"{}""#, "y".repeat(100));
    for i in 0..24 {
        expected.push_str(&format!(r#","p{i}":{i}"#));
    }
    expected.push_str(r#","send_to":"G-TEST1234"}"#);
    assert_eq!(
        calls("gtag"),
        format!(r#"[["event","widget_loaded",{expected}]]"#)
    );
    let mut warnings = String::from(
        r#"[["ga4.params.long","value_length","ga4.params.long: cut to the 100 characters GA4 keeps"]"#,
    );
    for i in 24..30 {
        warnings.push_str(&format!(
            r#",["ga4.params.p{i}","param_count","ga4.params.p{i}: not sent to GA4: an event has at most 25 parameters"]"#
        ));
    }
    warnings.push(']');
    assert_eq!(
        json(&js(
            "return a.warnings.map((w) => [w.path, w.rule, w.message])",
            &v
        )),
        warnings
    );
    // Meta has no such limits: it gets every parameter, uncut.
    let fbq_params = eval("return window.__calls.fbq[0][2]");
    assert_eq!(json(&js("return Object.keys(a).length", &fbq_params)), "31");
    assert_eq!(json(&js("return a.long.length", &fbq_params)), "150");
}

#[wasm_bindgen_test]
fn tags_loaded_after_the_module_are_used() {
    fresh_page();
    let a = analytics(&both(""));
    js("a.track('widget_loaded')", &a);
    eval("delete window.dataLayer;");
    page_with_tags();
    let v = js("return a.track('service_selected', {})", &a);
    assert_eq!(pick(&v, "forwarded"), r#"["ga4","meta"]"#);
    assert_eq!(
        calls("gtag"),
        r#"[["event","service_selected",{"send_to":"G-TEST1234"}]]"#
    );
}

#[wasm_bindgen_test]
fn a_gtag_that_tracks_again_from_inside_gets_both_verdicts() {
    page_with_tags();
    let errors = page_errors();
    let a = analytics(&both(""));
    js(
        "window.gtag = function () {
           window.__calls.gtag.push(Array.from(arguments));
           if (!window.__reentered) {
             window.__reentered = true;
             window.__inner = a.track('widget_closed', { step: 2 });
           }
         };
         window.__reentered = false;
         window.__inner = undefined;",
        &a,
    );
    let outer = track_booking(&a);
    let inner = eval("const v = window.__inner; window.__inner = undefined; return v;");
    assert_eq!(pick(&outer, "ok"), "true");
    assert_eq!(pick(&outer, "forwarded"), r#"["ga4","meta"]"#);
    assert_eq!(pick(&inner, "ok"), "true");
    assert_eq!(pick(&inner, "name"), r#""widget_closed""#);
    assert_eq!(pick(&inner, "forwarded"), r#"["ga4","meta"]"#);
    assert_eq!(
        calls("gtag"),
        format!(
            r#"[{},["event","widget_closed",{{"step":2,"send_to":"G-TEST1234"}}]]"#,
            booking_gtag_call()
        )
    );
    let fbq = eval("return window.__calls.fbq");
    assert_eq!(
        json(&js("return a.map((c) => c[1])", &fbq)),
        r#"["widget_closed","Schedule"]"#
    );
    let s = js("return a.stats()", &a);
    assert_eq!(pick(&s, "received"), "2");
    assert_eq!(pick(&s, "accepted"), "2");
    assert_eq!(pick(&s, "forwarded"), r#"{"ga4":2,"meta":2}"#);
    assert_eq!(page_errors(), errors);
}

#[wasm_bindgen_test]
fn an_on_verdict_that_tracks_again_gets_both_verdicts() {
    page_with_tags();
    let errors = page_errors();
    let a = analytics(&both(
        "onVerdict: (v) => {
           window.__verdicts.push(v);
           if (v.name === 'booked') window.__inner = window.__instance.track('widget_closed', {});
         }",
    ));
    js("window.__instance = a; window.__inner = undefined;", &a);
    let outer = track_booking(&a);
    let inner = eval("const v = window.__inner; window.__inner = undefined; window.__instance = undefined; return v;");
    assert_eq!(pick(&outer, "ok"), "true");
    assert_eq!(pick(&outer, "name"), r#""booked""#);
    assert_eq!(pick(&inner, "ok"), "true");
    assert_eq!(pick(&inner, "name"), r#""widget_closed""#);
    assert_eq!(
        json(&eval("return window.__verdicts.map((v) => v.name)")),
        r#"["booked","widget_closed"]"#
    );
    // onVerdict receives the same verdicts track() returns.
    assert_eq!(json(&eval("return window.__verdicts[1]")), json(&inner));
    assert_eq!(json(&eval("return window.__verdicts[0]")), json(&outer));
    assert_eq!(
        json(&eval("return window.__calls.gtag.map((c) => c[1])")),
        r#"["booked","widget_closed"]"#
    );
    assert_eq!(pick(&js("return a.stats()", &a), "accepted"), "2");
    assert_eq!(page_errors(), errors);
}

#[wasm_bindgen_test]
fn an_on_verdict_that_throws_does_not_break_tracking() {
    page_with_tags();
    let errors = page_errors();
    let a = analytics(&both(
        "onVerdict: (v) => { window.__verdicts.push(v.name); throw new Error('callback bug'); }",
    ));
    let first = js("return a.track('widget_loaded')", &a);
    let second = track_booking(&a);
    assert_eq!(pick(&first, "ok"), "true");
    assert_eq!(pick(&second, "ok"), "true");
    assert_eq!(pick(&second, "forwarded"), r#"["ga4","meta"]"#);
    assert_eq!(
        json(&eval("return window.__verdicts")),
        r#"["widget_loaded","booked"]"#
    );
    assert_eq!(
        json(&eval("return window.__calls.gtag.map((c) => c[1])")),
        r#"["widget_loaded","booked"]"#
    );
    assert_eq!(page_errors(), errors);
}

#[wasm_bindgen_test]
fn debug_logs_each_verdict_with_its_reasons() {
    page_with_tags();
    let a = analytics(&both("debug: true"));
    eval(
        "window.__log = [];
         window.__console = { info: console.info, warn: console.warn };
         console.info = (line) => window.__log.push(['info', line]);
         console.warn = (line) => window.__log.push(['warn', line]);",
    );
    track_booking(&a);
    js("a.track('booked', { appointments: 'none' })", &a);
    eval("console.info = window.__console.info; console.warn = window.__console.warn;");
    assert_eq!(
        json(&eval("return window.__log")),
        r#"[["info","[altegio-analytics] booked: accepted → ga4, meta"],["warn","[altegio-analytics] booked: rejected\n  params.appointments: expected an array, got \"none\""]]"#
    );
}
