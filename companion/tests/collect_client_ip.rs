//! The visitor's IP address in the server-side copy, over a real socket on 127.0.0.1: Meta
//! gets the TCP peer as `user_data.client_ip_address` — or, behind a trusted proxy, the
//! rightmost untrusted `X-Forwarded-For` entry — GA4 gets no address at all, and the stored
//! address is cleared once Meta's delivery is final.
// A test crate: its helper functions may unwrap like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod collect_support;
mod common;

use altegio_companion::delivery::Destination::{Ga4, Meta};
use altegio_companion::destination_standin::RecordedCall;
use collect_support::*;
use serde_json::{json, Value};

/// Posts one event (both forms, GA4 not delivered in the browser) to `base`, with
/// `X-Forwarded-For` values when given; returns the status and answer.
async fn post(base: &str, event_id: &str, forwarded_for: &[&str]) -> (u16, Value) {
    post_body(base, &body(vec![event(event_id, false)]), forwarded_for).await
}

async fn post_body(base: &str, body: &Value, forwarded_for: &[&str]) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/api/collect"))
        .header("origin", ORIGIN)
        .header("content-type", "application/json")
        .body(body.to_string());
    for value in forwarded_for {
        request = request.header("x-forwarded-for", *value);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// The address Meta got for `event_id`, after both its deliveries settled.
async fn meta_ip(c: &Collect, event_id: &str) -> Value {
    let rows = c.wait_settled(event_id, 2).await;
    assert!(rows.iter().all(|r| r.state == "delivered"), "{rows:?}");
    let meta: Vec<RecordedCall> = c
        .dest
        .calls_to(Meta)
        .into_iter()
        .filter(|m| m.meta_event_ids().iter().any(|e| e == event_id))
        .collect();
    assert_eq!(meta.len(), 1);
    meta[0].body["data"][0]["user_data"]["client_ip_address"].clone()
}

/// No GA4 request carries any of `addresses`, nor a field that could hold one.
fn assert_ga4_has_no_address(c: &Collect, addresses: &[&str]) {
    let calls = c.dest.calls_to(Ga4);
    assert!(!calls.is_empty());
    for call in calls {
        // The Host header names the stand-in (on 127.0.0.1 too), not the visitor.
        let headers: Vec<_> = call.headers.iter().filter(|(k, _)| *k != "host").collect();
        let text = format!("{} {:?} {headers:?}", call.body, call.query);
        for a in addresses {
            assert!(!text.contains(a), "{a} reached GA4: {text}");
        }
        for field in ["client_ip_address", "ip_override", "uip", "\"ip\""] {
            assert!(!text.contains(field), "{field} in a GA4 request: {text}");
        }
    }
}

/// The `client_ip` column of every stored event.
fn stored_ips(c: &Collect) -> Vec<Option<String>> {
    let conn = rusqlite::Connection::open(c.h.dir.path().join("companion.sqlite")).unwrap();
    let mut stmt = conn
        .prepare("SELECT client_ip FROM collect_events ORDER BY id")
        .unwrap();
    let rows = stmt.query_map([], |r| r.get(0)).unwrap();
    rows.collect::<Result<Vec<_>, _>>().unwrap()
}

#[tokio::test]
async fn meta_gets_the_loopback_peer_and_ga4_gets_no_address() {
    let c = Collect::new().await;
    let (base, server) = serve(c.state()).await;
    // No proxy is trusted: the header is the visitor's claim, not believed.
    let (status, answer) = post(&base, "peer-1", &["198.51.100.7"]).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(meta_ip(&c, "peer-1").await, "127.0.0.1");
    assert_ga4_has_no_address(&c, &["127.0.0.1", "198.51.100.7"]);
    // Meta has it: the stored copy is cleared.
    assert_eq!(stored_ips(&c), [None]);

    // The address never comes from the body.
    let mut forged = body(vec![event("peer-2", false)]);
    forged["client"]["client_ip_address"] = json!("192.0.2.1");
    let (status, answer) = post_body(&base, &forged, &[]).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"]["field"], "client.client_ip_address");
    server.abort();
}

#[tokio::test]
async fn behind_a_trusted_proxy_meta_gets_the_forwarded_address() {
    let c = Collect::with_args(&["--trusted-proxy", "127.0.0.1,10.0.0.0/8"]).await;
    let (base, server) = serve(c.state()).await;
    // The rightmost untrusted entry; the visitor's own claim on the left is not believed.
    post(&base, "xff-1", &["192.0.2.1, 203.0.113.9, 10.0.0.2"]).await;
    assert_eq!(meta_ip(&c, "xff-1").await, "203.0.113.9");
    // IPv6, written in full, sent canonically.
    post(&base, "xff-2", &["2001:DB8:0:0::5"]).await;
    assert_eq!(meta_ip(&c, "xff-2").await, "2001:db8::5");
    // Garbage stops the walk: the peer.
    post(&base, "xff-3", &["203.0.113.9, not-an-address"]).await;
    assert_eq!(meta_ip(&c, "xff-3").await, "127.0.0.1");
    // No header: the peer.
    post(&base, "xff-4", &[]).await;
    assert_eq!(meta_ip(&c, "xff-4").await, "127.0.0.1");
    assert_ga4_has_no_address(&c, &["203.0.113.9", "2001:db8::5", "127.0.0.1"]);
    assert_eq!(stored_ips(&c), [None, None, None, None]);
    server.abort();
}

#[tokio::test]
async fn an_untrusted_peer_is_the_visitor_whatever_the_header_says() {
    let c = Collect::with_args(&["--trusted-proxy", "10.0.0.0/8"]).await;
    let (base, server) = serve(c.state()).await;
    post(&base, "untrusted-1", &["203.0.113.9"]).await;
    assert_eq!(meta_ip(&c, "untrusted-1").await, "127.0.0.1");
    server.abort();
}

#[tokio::test]
async fn an_event_for_ga4_only_stores_no_address() {
    let c = Collect::new().await;
    let (base, server) = serve(c.state()).await;
    let mut ev = event("ga4-only", false);
    ev["meta"] = Value::Null;
    let (status, answer) = post_body(&base, &body(vec![ev]), &[]).await;
    assert_eq!(status, 202, "{answer}");
    let rows = c.wait_settled("ga4-only", 1).await;
    assert_eq!(rows[0].destination, Ga4);
    assert_eq!(stored_ips(&c), [None]);
    assert_ga4_has_no_address(&c, &["127.0.0.1"]);
    server.abort();
}
