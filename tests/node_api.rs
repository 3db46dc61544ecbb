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

#[wasm_bindgen(inline_js = r#"
export function identity_on_page(a, cookie, search, now) {
  const G = globalThis, realNow = Date.now;
  G.document = { cookie };
  G.location = { search };
  Date.now = () => now;
  try { return JSON.stringify(a.identity()); }
  finally { delete G.document; delete G.location; Date.now = realNow; }
}
"#)]
extern "C" {
    /// `a.identity()` as JSON on a pretend page: `document.cookie`, `location.search` and
    /// `Date.now()` given, all removed again after.
    fn identity_on_page(a: &JsValue, cookie: &str, search: &str, now: f64) -> String;
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

/// The identity's formats and rules (its helper is JavaScript: here it runs on a pretend page).
#[wasm_bindgen_test]
fn identity_follows_the_cookie_formats() {
    let a = analytics("");
    let now = 1_763_856_000_123.0;
    let ids = |cookie: &str, search: &str| identity_on_page(&a, cookie, search, now);
    let ga = |value: &str| {
        let found = ids(&format!("_ga={value}"), "");
        let id = found.strip_prefix(r#"{"gaClientId":"#).unwrap();
        id.strip_suffix(r#","fbp":null,"fbc":null}"#)
            .unwrap()
            .to_string()
    };

    // GA's client ID: the last two parts of `GA1.<n>.<random>.<seconds>`.
    assert_eq!(
        ga("GA1.1.1234567890.1700000000"),
        r#""1234567890.1700000000""#
    );
    assert_eq!(ga("GA1.2.987.1700000000"), r#""987.1700000000""#);
    for bad in [
        "",
        "GA1",
        "GA1.1.abc.1700000000",
        "GA1.1.123",
        "GA1.1.123.1700000000.5",
        "XX1.1.123.1700000000",
        "GA1.1..1700000000",
        "GA1.1.123.17",
        "GA1.1.123.1700000000x",
        "GA1.1.١٢٣.1700000000",
    ] {
        assert_eq!(ga(bad), "null", "{bad}");
    }
    // Key and value trimmed as Rust's `str::trim` trims: U+0085 is whitespace, U+FEFF is not.
    assert_eq!(ga("\u{85} GA1.1.42.1700000000\t"), r#""42.1700000000""#);
    assert_eq!(ga("\u{feff}GA1.1.42.1700000000"), "null");

    // Meta's `_fbp` and `_fbc`.
    assert_eq!(
        ids(
            "_fbp=fb.1.1700000000000.1234567890; _fbc=fb.1.1700000000000.IwAR2abc-_x",
            ""
        ),
        r#"{"gaClientId":null,"fbp":"fb.1.1700000000000.1234567890","fbc":"fb.1.1700000000000.IwAR2abc-_x"}"#
    );
    for bad in [
        "",
        "fb.1.",
        "fb.1.17.123",
        "fb.x.1700000000000.1",
        "fp.1.1700000000000.1",
        "fb.1.1700000000000.",
        "fb.1.1700000000000.1.2",
        "fb.123.1700000000000.1",
        "fbx.1.1700000000000.1",
        "fb.1.1700000000000.bad value",
        "fb.1.1700000000000.bad\"value",
    ] {
        assert_eq!(
            ids(&format!("_fbp={bad}; _fbc={bad}"), ""),
            r#"{"gaClientId":null,"fbp":null,"fbc":null}"#,
            "{bad}"
        );
    }

    // Cookies by exact name, the first of a name only.
    let jar = "a=1; _ga=GA1.1.42.1700000000; _ga_ABC=GS1.1.x; _fbp=fb.1.1700000000000.77";
    assert_eq!(
        ids(jar, ""),
        r#"{"gaClientId":"42.1700000000","fbp":"fb.1.1700000000000.77","fbc":null}"#
    );
    assert_eq!(ga("bad; _ga=GA1.1.42.1700000000"), "null");
    assert_eq!(
        ids("garbage;;==;", ""),
        r#"{"gaClientId":null,"fbp":null,"fbc":null}"#
    );

    // `_fbc` minted from a new click, kept for the same click.
    let fbc = |cookie: &str, search: &str| {
        let found = ids(cookie, search);
        let fbc = found
            .strip_prefix(r#"{"gaClientId":null,"fbp":null,"fbc":"#)
            .unwrap();
        fbc.strip_suffix('}').unwrap().to_string()
    };
    let old = "_fbc=fb.1.1700000000000.IwAR1";
    assert_eq!(fbc("", "?fbclid=IwAR1"), r#""fb.1.1763856000123.IwAR1""#);
    assert_eq!(
        fbc("", "??x=1& fbclid = IwAR1 "),
        r#""fb.1.1763856000123.IwAR1""#
    );
    assert_eq!(fbc(old, "?fbclid=IwAR1"), r#""fb.1.1700000000000.IwAR1""#);
    assert_eq!(fbc(old, "?fbclid=IwAR2"), r#""fb.1.1763856000123.IwAR2""#);
    assert_eq!(fbc(old, ""), r#""fb.1.1700000000000.IwAR1""#);
    assert_eq!(
        fbc(old, "?fbclid=bad%20id"),
        r#""fb.1.1700000000000.IwAR1""#
    );
    // The same click only when it is the whole last part.
    assert_eq!(
        fbc("_fbc=fb.1.1700000000000.XIwAR1", "?fbclid=IwAR1"),
        r#""fb.1.1763856000123.IwAR1""#
    );
    assert_eq!(fbc("_fbc=junk", "?fbclid=bad id"), "null");
    assert_eq!(
        identity_on_page(&a, "", "?fbclid=x", f64::NAN),
        r#"{"gaClientId":null,"fbp":null,"fbc":null}"#
    );
    assert_eq!(
        identity_on_page(&a, "", "?fbclid=x", 1.5),
        r#"{"gaClientId":null,"fbp":null,"fbc":"fb.1.1.x"}"#
    );
}

/// Strings cross into the module whole: non-ASCII and astral characters as they are, a lone
/// surrogate as U+FFFD (as TextEncoder makes it).
#[wasm_bindgen_test]
fn strings_cross_whole() {
    let a = analytics("");
    assert_eq!(
        js(
            r#"const v = a.track('caf\u00e9_\ud83d\ude00_\ud800x', { n: 1 });
               return [v.name, v.name === 'caf\u00e9_\ud83d\ude00_\ufffdx', v.ok];"#,
            &a
        ),
        "[\"café_😀_\u{fffd}x\",true,false]"
    );
}

/// Numbers are written by JavaScript in the wasm build (`String(n)`) and by Rust natively: both
/// give the documented examples, and the same text for a spread of f64 bit patterns (every
/// exponent, random mantissas, integers, short decimals).
#[wasm_bindgen_test]
fn numbers_are_written_as_javascript_writes_them() {
    use altegio_analytics::text::{push_number, push_number_as_javascript, NUMBER_EXAMPLES};
    let written = |n: f64| {
        let (mut by_js, mut by_rust) = (String::new(), String::new());
        push_number(&mut by_js, n);
        push_number_as_javascript(&mut by_rust, n);
        assert_eq!(by_js, by_rust, "{n:e}");
        by_js
    };
    for &(n, text) in NUMBER_EXAMPLES {
        assert_eq!(written(n), text);
    }
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for i in 0..20_000u32 {
        // xorshift64: the same spread on every run.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        written(f64::from_bits(state));
        written(f64::from(i) / 100.0);
        written(f64::from(i) * 1e15 + f64::from(i % 7));
    }
}

/// Values cross as `JSON.parse(JSON.stringify(value))` gives them: lone surrogates as U+FFFD,
/// astral characters whole, -0 as 0, integer-like keys first in ascending order (as
/// `JSON.stringify` writes them), `toJSON` and getters run, what JSON leaves out left out.
#[wasm_bindgen_test]
fn values_cross_as_json_reads_them() {
    let a = analytics("{ ga4: { measurementId: 'G-NODE1234' } }");
    let v = run(
        r#"const params = { b: -0, '10': 'x\ud800y\udc00\ud800\ud800z\ud83d\ude00', '2': 1e308,
             a: 0.1 + 0.2, 'k\u00e9\ud83d\ude00': true, s: 'x\ud800y\udc00\ud800\ud800z\ud83d\ude00\u00e9', f: () => 1, u: undefined, n: 5e-324,
             '-1': 7, '01': 8, big: 9007199254740993, '4294967295': 1, '4294967294': 2 };
           Object.defineProperty(params, 'g', { enumerable: true, get: () => 'got' });
           params.later = { toJSON: () => 'json' };
           delete globalThis.dataLayer;
           return a.track('widget_loaded', params);"#,
        &a,
    );
    run("delete globalThis.dataLayer;", &JsValue::NULL);
    assert_eq!(
        js(
            "return [a.ok, a.ga4 && a.ga4.params, a.problems.concat(a.warnings).map((p) => p.message)]",
            &v
        ),
        // Each lone surrogate is one U+FFFD (the JSON parser used before made one of two in a
        // row). The warnings name the keys in the order they came.
        concat!(
            r#"[true,{"b":0,"a":0.30000000000000004,"k":true,"s":"#,
            "\"x\u{fffd}y\u{fffd}\u{fffd}\u{fffd}z😀é\",",
            r#""n":5e-324,"#,
            r#""big":9007199254740992,"g":"got","later":"json"},["#,
            r#""ga4.params.2: not sent to GA4: parameter names are letters, digits and _, starting with a letter","#,
            r#""ga4.params.10: not sent to GA4: parameter names are letters, digits and _, starting with a letter","#,
            r#""ga4.params.4294967294: not sent to GA4: parameter names are letters, digits and _, starting with a letter","#,
            r#""ga4.params.1: not sent to GA4: parameter names are letters, digits and _, starting with a letter","#,
            r#""ga4.params.01: not sent to GA4: parameter names are letters, digits and _, starting with a letter","#,
            r#""ga4.params.4294967295: not sent to GA4: parameter names are letters, digits and _, starting with a letter"]]"#
        )
    );
}

/// The limits, each at its bound and one past it; the first one passed in document order is
/// the problem.
#[wasm_bindgen_test]
fn values_past_the_limits_are_refused_in_document_order() {
    let a = analytics("");
    let deep = |n: usize| format!("JSON.parse('{}' + '{}')", "[".repeat(n), "]".repeat(n));
    let cases = [
        format!("{{ k: {} }}", deep(7)),
        format!("{{ k: {} }}", deep(8)),
        format!("{{ k: {} }}", deep(5000)),
        "{ k: Array(1998).fill(null) }".to_string(),
        "{ k: Array(1999).fill(null) }".to_string(),
        "{ k: Array(20000).fill(0) }".to_string(),
        "{ s: '\\u00e9'.repeat(4096) }".to_string(),
        "{ s: '\\u00e9'.repeat(4096) + 'x' }".to_string(),
        "{ s: '\\ud83d\\ude00'.repeat(2048) }".to_string(),
        "{ s: '\\ud83d\\ude00'.repeat(2048) + 'x' }".to_string(),
        "{ s: '\\ud800x'.repeat(2048) }".to_string(),
        "{ s: '\\ud800x'.repeat(2048) + 'x' }".to_string(),
        "{ ['x'.repeat(8192)]: 1 }".to_string(),
        "{ ['x'.repeat(8193)]: 1 }".to_string(),
        format!("{{ s: 'x'.repeat(9000), d: {} }}", deep(9)),
        format!("{{ d: {}, s: 'x'.repeat(9000) }}", deep(9)),
        "{ k: Array(2000).fill(0), s: 'x'.repeat(9000) }".to_string(),
        "{ s: 'x'.repeat(9000), k: Array(2000).fill(0) }".to_string(),
        "{ k: Array(1998).fill(0), ['x'.repeat(9000)]: 1 }".to_string(),
        "{ k: Array(1999).fill(0), ['x'.repeat(9000)]: 1 }".to_string(),
        format!("{{ k: Array(1990).fill(0), d: {} }}", deep(20)),
        "(() => { const o = {}; o.o = o; return o; })()".to_string(),
        "{ n: 1n }".to_string(),
        "{ toJSON() { throw new Error('no'); } }".to_string(),
        "{ s: 'x'.repeat(65528) }".to_string(),
        "{ s: 'x'.repeat(65529) }".to_string(),
        "{ s: '\\u00e9'.repeat(32764) }".to_string(),
        "{ s: '\\u00e9'.repeat(32765) }".to_string(),
        // Each lone surrogate counts as U+FFFD's 3 bytes (the JSON parser used before made one
        // U+FFFD of two in a row, and let this one through).
        "{ s: '\\ud800'.repeat(2730) + 'xxx' }".to_string(),
    ];
    let mut got = Vec::new();
    for params in &cases {
        got.push(js(
            &format!("return a.track('widget_loaded', {params}).problems.map((p) => p.message).filter((m) => m.startsWith('params: '))"),
            &a,
        ));
    }
    let none = "[]";
    let deep = r#"["params: nested more than 8 levels deep"]"#;
    let wide = r#"["params: the value holds more than 2000 values"]"#;
    let long = r#"["params: a string longer than 8192 bytes"]"#;
    let json = r#"["params: cannot be read as JSON (a cycle, a BigInt, or a getter or toJSON that threw)"]"#;
    let large = r#"["params: larger than 64 KB as JSON"]"#;
    assert_eq!(
        got,
        [
            none, deep, json, none, wide, wide, none, long, none, long, none, long, none, long,
            long, deep, wide, long, long, wide, deep, json, json, json, long, large, long, large,
            long
        ]
    );
}
