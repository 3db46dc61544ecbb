//! The companion copy and a GA4 tag that has not loaded yet, in headless Chromium: the GA4 call
//! went into a `dataLayer` that gtag.js or GTM replays when it loads, so the copy waits (up to
//! the grace) for the tag before telling the companion whether the browser delivered it.
//! Its own file (its own page): the scenarios wait seconds, and they own `fetch`.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser_support;

use browser_support::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const COMPANION: &str = r#"companion: { url: "https://companion.test/api/collect", site: "salon-42", key: "0123456789abcdef" }"#;

/// The standard gtag snippet before gtag.js has loaded, and a `fetch` stub answering 202 and
/// recording each request's events in `window.__events`.
const SNIPPET_AND_FETCH: &str = r#"
  window.dataLayer = [];
  window.gtag = function gtag() { window.dataLayer.push(arguments); };
  window.__events = [];
  window.fetch = async (url, init) => {
    window.__events.push(...JSON.parse(init.body).events);
    return new Response('{"accepted":1,"duplicates":0}', { status: 202 });
  };
"#;

/// gtag.js loading: it takes over `dataLayer.push`.
const TAG_LOADS: &str =
    "window.dataLayer.push = function () { return Array.prototype.push.apply(this, arguments); };";

/// One test running the scenarios in turn: they share the page's `fetch` and localStorage.
#[wasm_bindgen_test]
async fn a_copy_waits_for_the_ga4_tag_and_says_whether_the_browser_delivered() {
    the_tag_loading_within_the_grace_marks_the_copy_delivered_in_the_browser().await;
    without_a_tag_the_copy_goes_out_after_the_grace_as_not_delivered().await;
    a_leaving_page_beacons_a_held_copy_at_once_marked_by_what_loaded().await;
    copies_released_by_consent_are_marked_by_whether_ga4_received_them().await;
}

async fn the_tag_loading_within_the_grace_marks_the_copy_delivered_in_the_browser() {
    fresh_page();
    eval(SNIPPET_AND_FETCH);
    let a = analytics(&both(COMPANION));
    js(&format!("a.track('booked', {BOOKING})"), &a);
    // Several flushes later the copy still waits: gtag.js has not read dataLayer yet.
    ticks(8).await;
    assert_eq!(eval("return window.__events.length"), JsValue::from(0));
    eval(TAG_LOADS);
    // A new event makes the outbox look again at once; the held copy goes with it.
    js("a.track('service_selected', { service_id: 1 })", &a);
    wait_for("window.__events.length === 2", &a).await;
    let flags = eval(
        "return JSON.stringify(window.__events.map((e) => [e.name, e.ga4_delivered_in_browser]))",
    );
    assert_eq!(
        flags.as_string().unwrap(),
        r#"[["booked",true],["service_selected",true]]"#
    );
    js("a.destroy(); a.free();", &a);
}

async fn without_a_tag_the_copy_goes_out_after_the_grace_as_not_delivered() {
    fresh_page();
    eval(SNIPPET_AND_FETCH);
    let a = analytics(&both(COMPANION));
    let started = eval("return Date.now()");
    js(&format!("a.track('booked', {BOOKING})"), &a);
    wait_for("window.__events.length === 1", &a).await;
    let waited = js("return Date.now() - a", &started).as_f64().unwrap();
    assert!(
        waited >= 5_000.0,
        "sent after {waited} ms, within the grace"
    );
    assert_eq!(
        json(&eval("return window.__events[0].ga4_delivered_in_browser")),
        "false"
    );
    assert_eq!(pick(&js("return a.stats().outbox", &a), "sent"), "1");
    js("a.destroy(); a.free();", &a);
}

/// The beacons the page sends, as parsed bodies' events in `window.__beaconed`.
const RECORD_BEACONS: &str = r#"
  window.__beaconed = [];
  Object.defineProperty(navigator, 'sendBeacon', { configurable: true,
    value: (url, blob) => { blob.text().then((t) => window.__beaconed.push(...JSON.parse(t).events)); return true; } });
"#;

async fn a_leaving_page_beacons_a_held_copy_at_once_marked_by_what_loaded() {
    for (tag_loads, marked) in [(false, "false"), (true, "true")] {
        fresh_page();
        eval(SNIPPET_AND_FETCH);
        eval(RECORD_BEACONS);
        let a = analytics(&both(COMPANION));
        js(&format!("a.track('booked', {BOOKING})"), &a);
        if tag_loads {
            eval(TAG_LOADS);
        }
        // Leaving within the grace: the held copy is not kept back.
        eval("window.dispatchEvent(new Event('pagehide'));");
        // (With the tag loaded, the next flush may also send it by fetch: the companion keeps
        // one copy per event_id.)
        wait_for("window.__beaconed.length === 1", &a).await;
        assert_eq!(
            json(&eval(
                "return window.__beaconed[0].ga4_delivered_in_browser"
            )),
            marked,
            "tag loaded: {tag_loads}"
        );
        js("a.destroy(); a.free(); delete navigator.sendBeacon;", &a);
    }
}

/// Copies that waited for consent: the browser delivered their GA4 call only when the
/// decision lets GA4 through (the tag has loaded here, so nothing else holds them); with
/// `analytics_storage` denied the copy carries no GA4 part at all, so it says not delivered.
async fn copies_released_by_consent_are_marked_by_whether_ga4_received_them() {
    for (decision, marked) in [
        (
            "{ analytics_storage: 'granted', ad_storage: 'denied' }",
            "true",
        ),
        (
            "{ analytics_storage: 'denied', ad_storage: 'granted' }",
            "false",
        ),
    ] {
        fresh_page();
        eval(SNIPPET_AND_FETCH);
        eval(TAG_LOADS);
        let a = analytics(&both(&format!(
            r#"consent: {{ mode: "basic" }}, {COMPANION}"#
        )));
        js(&format!("a.track('booked', {BOOKING})"), &a);
        ticks(4).await;
        assert_eq!(eval("return window.__events.length"), JsValue::from(0));
        js(&format!("a.consent({decision})"), &a);
        wait_for("window.__events.length === 1", &a).await;
        assert_eq!(
            json(&eval("return window.__events[0].ga4_delivered_in_browser")),
            marked,
            "after consent {decision}"
        );
        js("a.destroy(); a.free();", &a);
    }
}
