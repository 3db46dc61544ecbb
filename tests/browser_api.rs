//! The rest of the JS API in headless Chromium: the constructor's errors, `track()` with
//! malformed arguments (it never throws), and `clientId()` / `identity()` from real cookies
//! and the URL.
#![cfg(target_arch = "wasm32")]
// Helpers outside the test functions unwrap too: a failed unwrap is a failed test here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser_support;

use browser_support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn error(message: &str) -> String {
    json(&eval(&format!(
        "return {{ isError: true, message: {} }}",
        json(&message.into())
    )))
}

#[wasm_bindgen_test]
fn the_constructor_throws_an_error_naming_the_option() {
    let cases = [
        (
            "{ ga4: { measurementId: 'UA-12345-1' } }",
            r#"ga4.measurementId: expected a GA4 measurement ID like "G-XXXXXXXXXX", got "UA-12345-1""#,
        ),
        (
            "{ ga4: { measurementId: 'g-abc12345' } }",
            r#"ga4.measurementId: expected a GA4 measurement ID like "G-XXXXXXXXXX", got "g-abc12345""#,
        ),
        (
            "{ widgetOrigins: ['http://*.alteg.io'] }",
            r#"widgetOrigins[0]: "http://*.alteg.io": a wildcard pattern must use https"#,
        ),
        (
            "{ widgetOrigins: ['https://*.alteg.io', 'https://x.alteg.io/book'] }",
            r#"widgetOrigins[1]: "https://x.alteg.io/book": expected an origin like "https://book.example.com" or "https://*.alteg.io" (scheme and host, no path)"#,
        ),
        (
            "{ ga4: { measurementID: 'G-TEST1234' } }",
            "ga4.measurementID: unknown option (known: measurementId, events)",
        ),
        (
            "{ onVerdict: 'console.log' }",
            "onVerdict: expected a function",
        ),
        ("{ onVerdict: 42 }", "onVerdict: expected a function"),
        (
            "{ meta: { pixelId: 123456789012345 } }",
            "meta.pixelId: expected a string",
        ),
        (
            "{ meta: { pixelId: '123456789012345', events: { booked: 'Has Space' } } }",
            r#"meta.events.booked: "Has Space" is not a Meta event name (1 to 50 letters, digits or _)"#,
        ),
        (
            "{ ga4: { measurementId: 'G-TEST1234', events: { booked: 'ga_booked' } } }",
            r#"ga4.events.booked: the prefix "ga_" is reserved by GA4"#,
        ),
        ("{ strict: 'yes' }", "strict: expected true or false"),
        (
            "{ widgetOrigins: [] }",
            "widgetOrigins: must name at least one origin",
        ),
        ("'G-TEST1234'", "options: expected an object"),
        (
            "(() => { const o = {}; o.self = o; return o; })()",
            "options: cannot be read as JSON (a cycle, a BigInt, or a getter or toJSON that threw)",
        ),
    ];
    for (options, message) in cases {
        assert_eq!(construct_error(options), error(message), "{options}");
    }
    // A typo at the top level: the message lists the known options (the list grows with the
    // API, so only its documented members are pinned).
    let typo = construct_error("{ measurementId: 'G-TEST1234' }");
    let message = eval(&format!("return ({typo}).message"))
        .as_string()
        .unwrap();
    assert!(
        message.starts_with("options.measurementId: unknown option (known: ga4, meta, widgetOrigins, strict, debug, ")
            && message.ends_with("onVerdict)"),
        "{message}"
    );
    assert_eq!(
        eval(&format!("return ({typo}).isError")).as_bool(),
        Some(true)
    );
}

#[wasm_bindgen_test]
fn good_options_construct() {
    for options in [
        "",
        "undefined",
        "null",
        "{}",
        "{ ga4: null, meta: undefined, onVerdict: null }",
        "{ ga4: { measurementId: 'G-ABC123XYZ9', events: { booked: 'purchase', widget_loaded: false } },
           meta: { pixelId: '123456789012345', events: { service_selected: 'ViewContent' } },
           widgetOrigins: ['https://*.alteg.io', 'https://*.yclients.com', 'http://127.0.0.1:8080'],
           strict: true, debug: false, onVerdict: () => {} }",
    ] {
        assert_eq!(construct_error(options), "created", "{options}");
    }
}

/// `track(<args_src>)` on an instance with both destinations; returns the verdict.
fn track(args_src: &str) -> wasm_bindgen::JsValue {
    let a = analytics(&both(""));
    js(&format!("return a.track({args_src});"), &a)
}

#[wasm_bindgen_test]
fn track_never_throws_for_bad_arguments() {
    page_with_tags();
    let errors = page_errors();
    let cases: &[(&str, &str, &str, &str)] = &[
        // (arguments, rule, path, message)
        ("5, {}", "type", "name", "name: expected a string, got 5"),
        ("null", "type", "name", "name: expected a string, got null"),
        ("", "type", "name", "name: expected a string, got null"),
        ("Symbol('booked'), {}", "type", "name", "name: expected a string, got null"),
        ("10n, {}", "type", "name", "name: expected a string, got null"),
        (
            "'booked', (() => { const o = { appointments: [] }; o.self = o; return o; })()",
            "unsupported",
            "params",
            "params: cannot be read as JSON (a cycle, a BigInt, or a getter or toJSON that threw)",
        ),
        (
            "'widget_loaded', { big: 10n }",
            "unsupported",
            "params",
            "params: cannot be read as JSON (a cycle, a BigInt, or a getter or toJSON that threw)",
        ),
        (
            "'widget_loaded', { blob: 'x'.repeat(1000000) }",
            "too_large",
            "params",
            "params: larger than 64 KB as JSON",
        ),
        (
            // Under 64 K UTF-16 units, over 64 KB as UTF-8: refused after the copy.
            "'widget_loaded', { blob: 'é'.repeat(40000) }",
            "too_large",
            "params",
            "params: larger than 64 KB as JSON",
        ),
        (
            "'widget_loaded', [1, 2]",
            "type",
            "params",
            "params: expected an object, got an array",
        ),
        (
            "'widget_loaded', 'x'",
            "type",
            "params",
            "params: expected an object, got \"x\"",
        ),
        (
            "'booked', {}",
            "required",
            "params.appointments",
            "params.appointments: required field is missing",
        ),
        (
            "'booked', { appointments: [{ services: [101, 'abc'] }] }",
            "type",
            "params.appointments[0].services[1]",
            "params.appointments[0].services[1]: expected a number, got \"abc\"",
        ),
        (
            "'ga_custom', {}",
            "reserved_prefix",
            "name",
            "name: the prefix \"ga_\" is reserved by GA4",
        ),
        (
            "'session_start', {}",
            "reserved_name",
            "name",
            "name: \"session_start\" is an event name reserved by GA4",
        ),
        (
            "'booking step', {}",
            "name_syntax",
            "name",
            "name: \"booking step\" is not a GA4 event name (letters, digits and _, starting with a letter)",
        ),
    ];
    for (args, rule, path, message) in cases {
        let v = track(args);
        assert_eq!(pick(&v, "ok"), "false", "{args}");
        assert_eq!(pick(&v, "ignored"), "false", "{args}");
        assert_eq!(pick(&v, "forwarded"), "[]", "{args}");
        assert_eq!(
            pick(&v, "problems.0"),
            json(&eval(&format!(
                "return {{ path: {}, rule: {}, message: {} }}",
                json(&(*path).into()),
                json(&(*rule).into()),
                json(&(*message).into())
            ))),
            "{args}"
        );
    }
    // Deep and wide parameters are cut with warnings, not rejected.
    let v = track(
        "'widget_loaded', (() => { let d = { leaf: 1 }; for (let i = 0; i < 50; i++) d = { d }; return { d, n: 1 }; })()",
    );
    assert_eq!(pick(&v, "ok"), "false");
    assert_eq!(pick(&v, "problems.0.rule"), r#""too_large""#);
    assert_eq!(pick(&v, "problems.0.path"), r#""params""#);
    let v = track("'widget_loaded', { list: new Array(5000).fill(7) }");
    assert_eq!(pick(&v, "ok"), "false");
    assert_eq!(pick(&v, "problems.0.rule"), r#""too_large""#);
    assert_eq!(calls("gtag"), "[]");
    assert_eq!(calls("fbq"), "[]");
    assert_eq!(page_errors(), errors);
}

#[wasm_bindgen_test]
fn functions_and_symbols_in_params_are_left_out_as_json_leaves_them_out() {
    page_with_tags();
    let a = analytics(&both(""));
    let v = js(
        "return a.track('widget_loaded', { n: 1, f() {}, s: Symbol('x'), u: undefined })",
        &a,
    );
    assert_eq!(pick(&v, "ok"), "true");
    assert_eq!(pick(&v, "event.params"), r#"{"n":1}"#);
    let v = js("return a.track('widget_closed', function () {})", &a);
    assert_eq!(pick(&v, "ok"), "true");
    assert_eq!(pick(&v, "event.params"), "{}");
    assert_eq!(
        json(&eval("return window.__calls.gtag.map((c) => c[2])")),
        r#"[{"n":1,"send_to":"G-TEST1234"},{"send_to":"G-TEST1234"}]"#
    );
    assert_stats_add_up(&a);
}

#[wasm_bindgen_test]
fn personal_data_never_reaches_the_destinations() {
    page_with_tags();
    let a = analytics(&both(""));
    let v = js(
        "return a.track('send_contacts', {
           clientEmail: 'anna@example.com', phone: '+7 916 123-45-67', name: 'Anna',
           ref: 'anna@example.com', other: '+44 7911 123456', companyId: 42 })",
        &a,
    );
    assert_eq!(pick(&v, "ok"), "true");
    assert_eq!(pick(&v, "ga4.params"), r#"{"company_id":42}"#);
    assert_eq!(
        json(&js("return a.warnings.map((w) => [w.path, w.rule])", &v)),
        r#"[["params.clientEmail","pii"],["params.phone","pii"],["params.name","pii"],["params.ref","pii"],["params.other","pii"]]"#
    );
    // Exactly these parameters reach the tags (the minted eventID is left out: its random
    // digits could contain anything).
    assert_eq!(
        json(&eval(
            "return [window.__calls.gtag.map((c) => c[2]), window.__calls.fbq.map((c) => c.slice(0, 3))]"
        )),
        r#"[[{"company_id":42,"send_to":"G-TEST1234"}],[["trackCustom","send_contacts",{"company_id":42}]]]"#
    );
}

#[wasm_bindgen_test]
fn stats_add_up_after_a_mix_of_events() {
    page_with_tags();
    let a = analytics(&both("strict: true"));
    js(
        &format!(
            "a.track('booked', {BOOKING}); a.track('booked', {BOOKING}); a.track('nope_custom');
             a.track(5); a.track('widget_loaded');"
        ),
        &a,
    );
    assert_eq!(
        stats(&a),
        r#"{"received":5,"accepted":2,"rejected":2,"ignored":1,"ignoredBy":{"origin":0,"shape":0,"duplicate":1},"forwarded":{"ga4":2,"meta":2},"failed":{"ga4":0,"meta":0}}"#
    );
    assert_stats_add_up(&a);
}

fn clear_cookies() {
    eval(
        "for (const name of ['_ga', '_fbp', '_fbc'])
           document.cookie = name + '=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/';",
    );
}

#[wasm_bindgen_test]
fn client_id_and_identity_come_from_the_cookies() {
    clear_cookies();
    let a = analytics("");
    assert_eq!(json(&js("return a.clientId()", &a)), "null");
    assert_eq!(
        json(&js("return a.identity()", &a)),
        r#"{"gaClientId":null,"fbp":null,"fbc":null}"#
    );

    eval(
        "document.cookie = '_ga=GA1.1.1234567890.1700000000; path=/';
         document.cookie = '_fbp=fb.1.1700000000000.1234567890; path=/';
         document.cookie = '_fbc=fb.1.1700000000000.IwAR2abc-_x; path=/';",
    );
    assert_eq!(
        json(&js("return a.clientId()", &a)),
        r#""1234567890.1700000000""#
    );
    assert_eq!(
        json(&js("return a.identity()", &a)),
        r#"{"gaClientId":"1234567890.1700000000","fbp":"fb.1.1700000000000.1234567890","fbc":"fb.1.1700000000000.IwAR2abc-_x"}"#
    );

    eval(
        "document.cookie = '_ga=GA1.1.abc.1700000000; path=/';
         document.cookie = '_fbp=fb.1.17.x; path=/';
         document.cookie = '_fbc=not-a-cookie; path=/';",
    );
    assert_eq!(json(&js("return a.clientId()", &a)), "null");
    assert_eq!(
        json(&js("return a.identity()", &a)),
        r#"{"gaClientId":null,"fbp":null,"fbc":null}"#
    );

    for malformed in [
        "GA1.1.1234567890",
        "GA1.1.1234567890.1700000000.5",
        "GA1.1..1700000000",
        "XX1.1.1234567890.1700000000",
        "%E0%A4%A",
    ] {
        eval(&format!("document.cookie = '_ga={malformed}; path=/';"));
        assert_eq!(json(&js("return a.clientId()", &a)), "null", "{malformed}");
    }
    clear_cookies();
    assert_eq!(eval("return document.cookie").as_string().unwrap(), "");
}

#[wasm_bindgen_test]
fn fbc_is_minted_from_the_fbclid_url_parameter() {
    clear_cookies();
    let a = analytics("");
    let before = eval("return Date.now()").as_f64().unwrap();
    eval(
        "history.replaceState(history.state, '', location.pathname + '?x=1&fbclid=IwAR_test-42');",
    );
    let identity = js("return a.identity()", &a);
    eval("history.replaceState(history.state, '', location.pathname);");
    let after = eval("return Date.now()").as_f64().unwrap();

    let fbc = js("return a.fbc", &identity).as_string().unwrap();
    let parts: Vec<&str> = fbc.splitn(4, '.').collect();
    assert_eq!(parts.len(), 4, "{fbc}");
    assert_eq!((parts[0], parts[1], parts[3]), ("fb", "1", "IwAR_test-42"));
    let millis: f64 = parts[2].parse().unwrap();
    assert!(before <= millis && millis <= after, "{fbc}");
    assert_eq!(pick(&identity, "gaClientId"), "null");

    // The cookie wins when it carries the same click.
    eval(
        "document.cookie = '_fbc=fb.1.1700000000000.IwAR_test-42; path=/';
         history.replaceState(history.state, '', location.pathname + '?fbclid=IwAR_test-42');",
    );
    let identity = js("return a.identity()", &a);
    eval("history.replaceState(history.state, '', location.pathname);");
    assert_eq!(
        pick(&identity, "fbc"),
        r#""fb.1.1700000000000.IwAR_test-42""#
    );
    clear_cookies();
}

/// Free text such as a booking comment must not carry an email or a phone number to GA4: the
/// PII rule looks inside strings, not only at whole values.
#[wasm_bindgen_test]
fn an_email_or_phone_number_inside_free_text_never_reaches_ga4() {
    page_with_tags();
    let a = analytics(&both(""));
    js(
        "a.track('widget_closed', { note: 'call me at anna@example.com or +7 916 123-45-67' })",
        &a,
    );
    let sent = calls("gtag");
    assert!(
        !sent.contains("anna@example.com") && !sent.contains("916 123"),
        "{sent}"
    );
}
