//! `listen()` in headless Chromium: real `window.postMessage` calls (from the page itself and
//! from iframes) and synthetic `MessageEvent`s reaching the module's window listener, the
//! origin allowlist, malformed messages, and `destroy()`. Each test waits for the messages it
//! posts with a listener added after the module's (listeners run in the order they were added),
//! so no test depends on timing; the timeouts are only safety nets.
#![cfg(target_arch = "wasm32")]
// Helpers outside the test functions unwrap too: a failed unwrap is a failed test here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser_support;

use browser_support::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Posts each item of the array `a` to this window with `postMessage(item, "*")` and resolves
/// once the last one has been dispatched (to the module's listener first).
const POST_ALL: &str = "
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('messages not delivered in 30 s')), 30000);
    let seen = 0;
    const on = (e) => {
      if (e.source !== window) return;
      seen += 1;
      if (seen === a.length) {
        window.removeEventListener('message', on);
        clearTimeout(timer);
        resolve();
      }
    };
    window.addEventListener('message', on);
    for (const item of a) window.postMessage(item, '*');
  });
";

/// Posts the items of the array built by the JavaScript expression `items_src`.
async fn post_all(items_src: &str) {
    let items = eval(&format!("return ({items_src});"));
    js_async(POST_ALL, &items).await;
}

/// Dispatches `new MessageEvent("message", {data: <data_src>, origin: <origin>})` on the
/// window (synchronously: the module's listener has run when this returns).
fn dispatch(origin: &str, data_src: &str) {
    js(
        &format!(
            "window.dispatchEvent(new MessageEvent('message', {{ origin: a, data: ({data_src}) }}));"
        ),
        &JsValue::from_str(origin),
    );
}

/// Options: both destinations, verdicts collected in `window.__verdicts`, plus `extra`.
fn collecting(extra: &str) -> String {
    both(&format!(
        "onVerdict: (v) => window.__verdicts.push(v), {extra}"
    ))
}

fn page_origin() -> String {
    eval("return location.origin").as_string().unwrap()
}

fn verdicts() -> JsValue {
    eval("return window.__verdicts")
}

#[wasm_bindgen_test]
async fn a_real_post_message_from_an_allowed_origin_reaches_listen() {
    page_with_tags();
    let errors = page_errors();
    let origin = page_origin();
    assert!(origin.starts_with("http://127.0.0.1:"), "{origin}");
    let a = analytics(&collecting("widgetOrigins: [location.origin]"));
    js("a.listen()", &a);
    post_all(&format!("[{{ action: 'booked', params: {BOOKING} }}]")).await;

    assert_eq!(calls("gtag"), format!("[{}]", booking_gtag_call()));
    assert_eq!(calls("fbq"), format!("[{}]", booking_fbq_call()));
    let v = verdicts();
    assert_eq!(json(&js("return a.length", &v)), "1");
    let v = js("return a[0]", &v);
    assert_eq!(pick(&v, "ok"), "true");
    assert_eq!(pick(&v, "source"), r#""message""#);
    assert_eq!(pick(&v, "origin"), format!("\"{origin}\""));
    assert_eq!(pick(&v, "name"), r#""booked""#);
    assert_eq!(pick(&v, "forwarded"), r#"["ga4","meta"]"#);
    assert_eq!(pick(&v, "problems"), "[]");
    assert_eq!(
        stats(&a),
        r#"{"received":1,"accepted":1,"rejected":0,"ignored":0,"ignoredBy":{"origin":0,"shape":0,"duplicate":0},"forwarded":{"ga4":1,"meta":1},"failed":{"ga4":0,"meta":0}}"#
    );
    assert_eq!(page_errors(), errors);
    js("a.destroy()", &a);
}

#[wasm_bindgen_test]
async fn with_the_default_allowlist_the_page_itself_is_ignored() {
    page_with_tags();
    let origin = page_origin();
    let a = analytics(&collecting(""));
    js("a.listen()", &a);
    post_all(&format!("[{{ action: 'booked', params: {BOOKING} }}]")).await;

    assert_eq!((calls("gtag"), calls("fbq")), ("[]".into(), "[]".into()));
    let v = js("return a[0]", &verdicts());
    assert_eq!(pick(&v, "ok"), "false");
    assert_eq!(pick(&v, "ignored"), "true");
    assert_eq!(pick(&v, "origin"), format!("\"{origin}\""));
    assert_eq!(pick(&v, "forwarded"), "[]");
    assert_eq!(
        pick(&v, "problems"),
        format!(
            r#"[{{"path":"origin","rule":"origin","message":"origin: \"{origin}\" is not in widgetOrigins"}}]"#
        )
    );
    let s = js("return a.stats()", &a);
    assert_eq!(pick(&s, "received"), "1");
    assert_eq!(pick(&s, "ignored"), "1");
    assert_eq!(pick(&s, "ignoredBy.origin"), "1");
    assert_eq!(pick(&s, "accepted"), "0");
    js("a.destroy()", &a);
}

#[wasm_bindgen_test]
async fn a_sandboxed_frame_is_ignored_and_a_same_origin_frame_accepted() {
    page_with_tags();
    let origin = page_origin();
    let a = analytics(&collecting(
        "widgetOrigins: [location.origin, 'https://*.alteg.io']",
    ));
    js("a.listen()", &a);
    // The frame posts to its parent; resolves once that message has been dispatched here.
    let from_frame = |sandbox: &str, origin: &str| {
        format!(
            "await new Promise((resolve, reject) => {{
               const timer = setTimeout(() => reject(new Error('no message from the frame in 30 s')), 30000);
               const frame = document.createElement('iframe');
               const on = (e) => {{
                 if (e.source !== frame.contentWindow || e.origin !== {origin:?}) return;
                 window.removeEventListener('message', on);
                 clearTimeout(timer);
                 frame.remove();
                 resolve();
               }};
               window.addEventListener('message', on);
               {sandbox}
               frame.srcdoc = '<script>parent.postMessage({{ action: \"widget_closed\", params: {{ step: 3 }} }}, \"*\")</' + 'script>';
               document.documentElement.appendChild(frame);
             }});"
        )
    };
    js_async(
        &from_frame("frame.setAttribute('sandbox', 'allow-scripts');", "null"),
        &JsValue::UNDEFINED,
    )
    .await;
    let s = js("return a.stats()", &a);
    assert_eq!(pick(&s, "received"), "1");
    assert_eq!(pick(&s, "ignoredBy.origin"), "1");
    assert_eq!(calls("gtag"), "[]");
    let v = js("return a[0]", &verdicts());
    assert_eq!(pick(&v, "origin"), r#""null""#);
    assert_eq!(pick(&v, "ignored"), "true");

    // Without a sandbox, a srcdoc frame has its parent's origin: allowed here.
    js_async(&from_frame("", &origin), &JsValue::UNDEFINED).await;
    let s = js("return a.stats()", &a);
    assert_eq!(pick(&s, "received"), "2");
    assert_eq!(pick(&s, "accepted"), "1");
    let v = js("return a[1]", &verdicts());
    assert_eq!(pick(&v, "origin"), format!("\"{origin}\""));
    assert_eq!(pick(&v, "ok"), "true");
    assert_eq!(
        calls("gtag"),
        r#"[["event","widget_closed",{"step":3,"send_to":"G-TEST1234"}]]"#
    );
    js("a.destroy()", &a);
}

#[wasm_bindgen_test]
fn look_alike_origins_are_ignored_and_widget_hosts_accepted() {
    page_with_tags();
    let errors = page_errors();
    let a = analytics(&collecting(""));
    js("a.listen()", &a);
    let forged = [
        "https://alteg.io.evil.test",
        "https://evilalteg.io",
        "http://n1.alteg.io",
        "https://alteg.io",
        "https://n1.alteg.io:8443",
        "https://n1.alteg.io.",
        "https://yclients.com.evil.test",
        "null",
        "",
    ];
    for origin in forged {
        // A getter that counts reads: a message from elsewhere must not even be read.
        dispatch(
            origin,
            "{ get action() { window.__reads = (window.__reads || 0) + 1; return 'widget_loaded'; }, params: {} }",
        );
    }
    assert_eq!(json(&eval("return window.__reads || 0")), "0");
    assert_eq!(calls("gtag"), "[]");
    let s = js("return a.stats()", &a);
    assert_eq!(pick(&s, "received"), "9");
    assert_eq!(pick(&s, "ignoredBy.origin"), "9");
    assert_eq!(
        json(&js("return a.map((v) => v.origin)", &verdicts())),
        json(&eval(&format!("return {forged:?}")))
    );

    dispatch(
        "https://n1.alteg.io",
        "{ action: 'widget_loaded', params: {} }",
    );
    dispatch(
        "https://w5.yclients.com",
        "{ action: 'service_selected', params: { serviceId: 9 } }",
    );
    assert_eq!(
        calls("gtag"),
        r#"[["event","widget_loaded",{"send_to":"G-TEST1234"}],["event","service_selected",{"service_id":9,"send_to":"G-TEST1234"}]]"#
    );
    let s = js("return a.stats()", &a);
    assert_eq!(pick(&s, "received"), "11");
    assert_eq!(pick(&s, "accepted"), "2");
    assert_eq!(
        json(&js(
            "return a.slice(9).map((v) => [v.origin, v.ok])",
            &verdicts()
        )),
        r#"[["https://n1.alteg.io",true],["https://w5.yclients.com",true]]"#
    );
    assert_stats_add_up(&a);
    assert_eq!(page_errors(), errors);
    js("a.destroy()", &a);
}

/// `[ok, ignored, problems[0].rule, problems[0].path]` of each verdict, as JSON.
fn summaries() -> String {
    json(&js(
        "return a.map((v) => [v.ok, v.ignored, v.problems.length ? v.problems[0].rule : null,
                              v.problems.length ? v.problems[0].path : null])",
        &verdicts(),
    ))
}

#[wasm_bindgen_test]
async fn malformed_posted_messages_are_ignored_or_rejected_and_nothing_escapes() {
    page_with_tags();
    let errors = page_errors();
    let a = analytics(&collecting("widgetOrigins: [location.origin]"));
    js("a.listen()", &a);
    post_all(
        "(() => {
           let deep = { leaf: 1 };
           for (let i = 0; i < 50; i++) deep = { d: deep };
           const cyclic = { action: 'widget_loaded', params: {} };
           cyclic.params.self = cyclic;
           return [
             'booked',
             null,
             ['booked', {}],
             42,
             { action: 5 },
             { action: 'booked', params: [] },
             { action: 'booked', params: 'x' },
             {},
             undefined,
             true,
             { action: 'widget_loaded', params: { blob: 'x'.repeat(1000000) } },
             { action: 'widget_loaded', params: { list: new Array(5000).fill(7) } },
             { action: 'widget_loaded', params: deep },
             { action: 'widget_loaded', params: { n: 10n } },
             cyclic,
             { action: 'booked', params: { appointments: [{ services: [1, 'abc'] }] } },
             { action: 'x'.repeat(300) },
             { action: '', params: {} },
             { action: 'widget_loaded', params: { when: new Date(0) } },
           ];
         })()",
    )
    .await;

    assert_eq!(
        summaries(),
        r#"[[false,true,"type","data"],[false,true,"type","data"],[false,true,"type","data"],[false,true,"type","data"],[false,true,"type","data.action"],[false,true,"type","data.params"],[false,true,"type","data.params"],[false,true,"type","data.action"],[false,true,"type","data"],[false,true,"type","data"],[false,false,"too_large","data"],[false,false,"too_large","data"],[false,false,"too_large","data"],[false,false,"unsupported","data"],[false,false,"unsupported","data"],[false,false,"type","params.appointments[0].services[1]"],[false,false,"name_length","name"],[false,false,"name_syntax","name"],[true,false,null,null]]"#
    );
    let v = verdicts();
    assert_eq!(
        pick(&js("return a[15]", &v), "problems.0.message"),
        r#""params.appointments[0].services[1]: expected a number, got \"abc\"""#
    );
    assert_eq!(
        pick(&js("return a[13]", &v), "problems.0.message"),
        r#""data: cannot be read as JSON (a cycle, a BigInt, or a getter or toJSON that threw)""#
    );
    assert_eq!(
        pick(&js("return a[10]", &v), "problems.0.message"),
        r#""data: larger than 64 KB as JSON""#
    );
    // Every problem's message starts with its path.
    assert_eq!(
        json(&js(
            "return a.flatMap((v) => v.problems).filter((p) => !p.message.startsWith(p.path + ': '))",
            &v
        )),
        "[]"
    );
    assert_eq!(
        stats(&a),
        r#"{"received":19,"accepted":1,"rejected":8,"ignored":10,"ignoredBy":{"origin":0,"shape":10,"duplicate":0},"forwarded":{"ga4":1,"meta":1},"failed":{"ga4":0,"meta":0}}"#
    );
    assert_stats_add_up(&a);
    assert_eq!(
        calls("gtag"),
        r#"[["event","widget_loaded",{"when":"1970-01-01T00:00:00.000Z","send_to":"G-TEST1234"}]]"#
    );
    assert_eq!(page_errors(), errors);
    js("a.destroy()", &a);
}

#[wasm_bindgen_test]
fn malformed_synthetic_messages_with_unclonable_values_are_handled() {
    page_with_tags();
    let errors = page_errors();
    let a = analytics(&collecting(""));
    js("a.listen()", &a);
    for data in [
        "function () { return 1; }",
        "Symbol('booked')",
        "10n",
        "{ action: Symbol('booked') }",
        "{ action: 'widget_loaded', params: { f() {}, s: Symbol('x'), n: 1 } }",
        "{ get action() { throw new Error('getter'); } }",
        "{ toJSON() { throw new Error('toJSON'); } }",
        "new Proxy({}, { get() { throw new Error('proxy'); }, ownKeys() { throw new Error('proxy'); } })",
        "{ toJSON() { return { action: 'service_selected', params: { serviceId: 4 } }; } }",
        "{ action: 'widget_loaded', params: function () {} }",
    ] {
        dispatch("https://n1.alteg.io", data);
    }
    assert_eq!(
        summaries(),
        r#"[[false,true,"type","data"],[false,true,"type","data"],[false,false,"unsupported","data"],[false,true,"type","data.action"],[true,false,null,null],[false,false,"unsupported","data"],[false,false,"unsupported","data"],[false,false,"unsupported","data"],[true,false,null,null],[true,false,null,null]]"#
    );
    // Functions and symbols are left out, as JSON leaves them out.
    assert_eq!(
        calls("gtag"),
        r#"[["event","widget_loaded",{"n":1,"send_to":"G-TEST1234"}],["event","service_selected",{"service_id":4,"send_to":"G-TEST1234"}],["event","widget_loaded",{"send_to":"G-TEST1234"}]]"#
    );
    assert_stats_add_up(&a);
    assert_eq!(pick(&js("return a.stats()", &a), "received"), "10");
    assert_eq!(page_errors(), errors);
    js("a.destroy()", &a);
}

#[wasm_bindgen_test]
async fn destroy_removes_the_listener_and_listen_twice_adds_one() {
    page_with_tags();
    let errors = page_errors();
    let a = analytics(&collecting("widgetOrigins: [location.origin]"));
    js("a.destroy()", &a); // before listen(): nothing to remove, no error
    js("a.listen(); a.listen();", &a);
    post_all("[{ action: 'widget_loaded', params: {} }]").await;
    assert_eq!(json(&js("return a.length", &verdicts())), "1");
    assert_eq!(pick(&js("return a.stats()", &a), "received"), "1");
    assert_eq!(json(&eval("return window.__calls.gtag.length")), "1");

    js("a.destroy(); a.destroy();", &a);
    post_all("[{ action: 'widget_loaded', params: {} }, { action: 'booked', params: {} }]").await;
    assert_eq!(json(&js("return a.length", &verdicts())), "1");
    assert_eq!(pick(&js("return a.stats()", &a), "received"), "1");
    assert_eq!(json(&eval("return window.__calls.gtag.length")), "1");

    // listen() again after destroy() works.
    js("a.listen()", &a);
    post_all("[{ action: 'widget_closed', params: {} }]").await;
    assert_eq!(pick(&js("return a.stats()", &a), "received"), "2");
    assert_eq!(
        json(&js("return a.map((v) => v.name)", &verdicts())),
        r#"["widget_loaded","widget_closed"]"#
    );
    js("a.destroy()", &a);
    assert_eq!(page_errors(), errors);
}

#[wasm_bindgen_test]
async fn destroy_from_inside_on_verdict_stops_listening_cleanly() {
    page_with_tags();
    let errors = page_errors();
    let a = analytics(&both(
        "widgetOrigins: [location.origin],
         onVerdict: (v) => { window.__verdicts.push(v.name); window.__instance.destroy(); }",
    ));
    js("window.__instance = a; a.listen();", &a);
    post_all("[{ action: 'widget_loaded', params: {} }, { action: 'widget_closed', params: {} }]")
        .await;
    eval("window.__instance = undefined;");
    assert_eq!(
        json(&eval("return window.__verdicts")),
        r#"["widget_loaded"]"#
    );
    assert_eq!(pick(&js("return a.stats()", &a), "received"), "1");
    assert_eq!(page_errors(), errors);
}

#[wasm_bindgen_test]
async fn two_instances_listen_independently() {
    page_with_tags();
    let first = analytics(&both("widgetOrigins: [location.origin]"));
    let second = analytics("{ widgetOrigins: [location.origin], strict: true }");
    js("a.listen()", &first);
    js("a.listen()", &second);
    post_all("[{ action: 'my_custom_step', params: {} }]").await;
    assert_eq!(pick(&js("return a.stats()", &first), "accepted"), "1");
    assert_eq!(pick(&js("return a.stats()", &second), "rejected"), "1");
    assert_eq!(
        calls("gtag"),
        r#"[["event","my_custom_step",{"send_to":"G-TEST1234"}]]"#
    );
    js("a.destroy()", &first);
    js("a.destroy()", &second);
}

/// The page-error record the other tests compare really sees an exception thrown from a
/// message listener (so their "nothing escaped" assertions can fail).
#[wasm_bindgen_test]
fn the_page_error_record_sees_exceptions_from_listeners() {
    let before = eval("return window.__pageErrors.length").as_f64().unwrap();
    eval(
        "const bad = () => { throw new Error('listener bug'); };
         window.addEventListener('message', bad);
         window.dispatchEvent(new MessageEvent('message', { data: 1, origin: 'https://n1.alteg.io' }));
         window.removeEventListener('message', bad);",
    );
    let errors = eval("return window.__pageErrors.slice(-1)[0]")
        .as_string()
        .unwrap();
    assert_eq!(
        eval("return window.__pageErrors.length").as_f64().unwrap(),
        before + 1.0
    );
    assert!(errors.contains("listener bug"), "{errors}");
    eval("window.__pageErrors.pop();");
}
