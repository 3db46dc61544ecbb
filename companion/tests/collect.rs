//! `POST /api/collect` and its delivery to the Meta Conversions API and the GA4 Measurement
//! Protocol, against the destination stand-in on 127.0.0.1. No test depends on timing: each
//! waits (with a generous safety timeout) for delivery rows to settle in the database.
// A test crate: its helper functions may unwrap like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod collect_support;
mod common;

use altegio_companion::delivery::Destination::{Ga4, Meta};
use altegio_companion::destination_standin::Reply;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use collect_support::*;
use serde_json::{json, Value};

#[tokio::test]
async fn an_event_reaches_meta_and_ga4_with_the_browsers_event_id() {
    let c = Collect::new().await;
    let ev = event("evt-1", false);
    let time_ms = ev["time_ms"].as_i64().unwrap();
    let (status, headers, answer) = c
        .post_raw(Some(ORIGIN), "application/json", body(vec![ev]).to_string())
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer, json!({"accepted": 1, "duplicates": 0}));
    assert_eq!(headers["access-control-allow-origin"], ORIGIN);

    let rows = c.wait_settled("evt-1", 2).await;
    assert_eq!(row(&rows, Meta).state, "delivered");
    assert_eq!(row(&rows, Ga4).state, "delivered");
    assert_eq!(row(&rows, Meta).attempts, 1);

    let meta = c.dest.calls_to(Meta);
    assert_eq!(meta.len(), 1);
    let m = &meta[0];
    assert_eq!(m.path, format!("/v21.0/{PIXEL}/events"));
    assert_eq!(m.query["access_token"], META_TOKEN);
    let d = &m.body["data"][0];
    assert_eq!(d["event_id"], "evt-1", "the browser's eventID");
    assert_eq!(d["event_name"], "Schedule");
    assert_eq!(d["event_time"], time_ms / 1000);
    assert_eq!(d["action_source"], "website");
    assert_eq!(
        d["event_source_url"],
        "https://salon.example/booking?step=done"
    );
    assert_eq!(d["user_data"]["em"], json!([EM]), "hashes pass unchanged");
    assert_eq!(d["user_data"]["ph"], json!([PH]));
    assert_eq!(d["user_data"]["fbp"], "fb.1.1700000000000.1234567890");
    assert_eq!(d["user_data"]["fbc"], "fb.1.1700000000000.IwAR-test");
    assert_eq!(d["user_data"]["client_user_agent"], UA);
    assert_eq!(
        d["custom_data"],
        json!({"value": 30, "currency": "EUR", "content_name": "Haircut"})
    );

    let ga4 = c.dest.calls_to(Ga4);
    assert_eq!(ga4.len(), 1);
    let g = &ga4[0];
    assert_eq!(g.path, "/mp/collect");
    assert_eq!(g.query["measurement_id"], GA4_ID);
    assert_eq!(g.query["api_secret"], GA4_SECRET);
    assert_eq!(g.body["client_id"], "1197596843.1700000000");
    assert_eq!(g.body["timestamp_micros"], time_ms * 1000);
    assert_eq!(
        g.body["events"],
        json!([{"name": "booking_created", "params": {"booking_ref": "evt-1", "value": 30, "currency": "EUR"}}])
    );
    // GA4 never gets personal data.
    assert!(!g.body.to_string().contains(EM));

    // The operators' view: counts, no secrets.
    let (s, status) = c.h.get("/api/collect/status").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(status["destinations"]["meta"]["delivered"], 1);
    assert_eq!(status["destinations"]["ga4"]["delivered"], 1);
    assert_eq!(status["sites"][SITE]["meta"]["delivered"], 1);
    assert_eq!(status["events"], 1);
    assert_eq!(status["configured"], json!({"meta": true, "ga4": true}));
    let text = status.to_string();
    for secret in [META_TOKEN, GA4_SECRET, KEY] {
        assert!(!text.contains(secret), "{text}");
    }
}

#[tokio::test]
async fn a_text_plain_beacon_is_accepted() {
    let c = Collect::new().await;
    // What navigator.sendBeacon(url, JSON.stringify(body)) sends: no preflight needed.
    let mut b = body(vec![event("beacon-1", false)]);
    b["client"] = json!({"fbp": "fb.1.1700000000000.42"});
    let (status, headers, answer) = c
        .post_raw(Some(ORIGIN), "text/plain;charset=UTF-8", b.to_string())
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["accepted"], 1);
    assert_eq!(headers["access-control-allow-origin"], ORIGIN);
    let rows = c.wait_settled("beacon-1", 2).await;
    assert!(rows.iter().all(|r| r.state == "delivered"), "{rows:?}");
    // Without client.user_agent the request's User-Agent is used; without a _ga client ID
    // the companion generates one (<random>.<unix seconds>).
    let meta = &c.dest.calls_to(Meta)[0];
    assert_eq!(
        meta.body["data"][0]["user_data"]["client_user_agent"],
        "header-UA/1.0"
    );
    let client_id = c.dest.calls_to(Ga4)[0].body["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (a, b) = client_id.split_once('.').unwrap();
    assert!(
        a.parse::<u32>().is_ok() && b.parse::<u64>().is_ok(),
        "{client_id}"
    );
}

#[tokio::test]
async fn ga4_gets_only_what_the_browser_could_not_deliver() {
    let c = Collect::new().await;
    let (status, answer) = c
        .post(&body(vec![
            event("in-browser", true),
            event("blocked-gtag", false),
        ]))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["accepted"], 2);
    let sent = c.wait_settled("in-browser", 1).await;
    assert_eq!(sent[0].destination, Meta, "no GA4 row: {sent:?}");
    c.wait_settled("blocked-gtag", 2).await;
    assert_eq!(ga4_calls_for(&c.dest, "in-browser"), 0);
    assert_eq!(ga4_calls_for(&c.dest, "blocked-gtag"), 1);
    // Meta always gets both (it de-duplicates with the Pixel by event ID).
    assert_eq!(meta_calls_for(&c.dest, "in-browser"), 1);
    assert_eq!(meta_calls_for(&c.dest, "blocked-gtag"), 1);
}

#[tokio::test]
async fn a_repeated_beacon_is_one_event_delivered_once() {
    let c = Collect::new().await;
    let b = body(vec![event("dup-1", false), event("dup-1", false)]);
    let (_, first) = c.post(&b).await;
    assert_eq!(first, json!({"accepted": 1, "duplicates": 1}));
    let (status, again) = c.post(&b).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(again, json!({"accepted": 0, "duplicates": 2}));
    let rows = c.wait_settled("dup-1", 2).await;
    assert!(rows.iter().all(|r| r.state == "delivered"));
    // Repeated once more after delivery: still nothing new.
    let (_, late) = c.post(&b).await;
    assert_eq!(late["accepted"], 0);
    assert_eq!(meta_calls_for(&c.dest, "dup-1"), 1);
    assert_eq!(ga4_calls_for(&c.dest, "dup-1"), 1);
    assert_eq!(c.state().db.collected_count().await.unwrap(), 1);
    // The same event ID from another site is that site's event.
    let mut other = body(vec![event("dup-1", true)]);
    other["site"] = json!(OTHER_SITE);
    other["key"] = json!(OTHER_KEY);
    let (s, _, a) = c
        .post_raw(Some(OTHER_ORIGIN), "application/json", other.to_string())
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{a}");
    assert_eq!(a["accepted"], 1);
}

#[tokio::test]
async fn a_forged_origin_or_key_is_refused_and_nothing_is_stored() {
    let c = Collect::new().await;
    let good = body(vec![event("forged", false)]);
    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        b.to_string()
    };
    for (origin, payload, code) in [
        (
            Some("https://evil.example"),
            good.to_string(),
            "origin_not_allowed",
        ),
        (Some("null"), good.to_string(), "origin_not_allowed"),
        (Some(OTHER_ORIGIN), good.to_string(), "origin_not_allowed"),
        (
            Some("https://salon.example:8443"),
            good.to_string(),
            "origin_not_allowed",
        ),
        (None, good.to_string(), "origin_missing"),
        (
            Some(ORIGIN),
            with("key", json!("pk_test_0123456789abcdeX")),
            "invalid_key",
        ),
        (Some(ORIGIN), with("key", json!(OTHER_KEY)), "invalid_key"),
        (Some(ORIGIN), with("key", json!("")), "invalid_key"),
        (Some(ORIGIN), with("key", json!(12)), "invalid_key"),
        (Some(ORIGIN), with("site", json!("nope")), "unknown_site"),
    ] {
        let (status, headers, answer) = c.post_raw(origin, "application/json", payload).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{origin:?}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{origin:?}: {answer}");
        if origin == Some("https://evil.example") {
            assert!(headers.get("access-control-allow-origin").is_none());
        }
    }
    // Without a key field at all.
    let mut no_key = good.clone();
    no_key.as_object_mut().unwrap().remove("key");
    let (status, _, answer) = c
        .post_raw(Some(ORIGIN), "application/json", no_key.to_string())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    // The www origin of the same site is allowed.
    let (status, _, _) = c
        .post_raw(
            Some("https://www.salon.example"),
            "application/json",
            body(vec![event("www", true)]).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let ids: Vec<String> = c.rows().await.into_iter().map(|r| r.event_id).collect();
    assert!(!ids.contains(&"forged".to_owned()), "{ids:?}");
    assert_eq!(c.state().db.collected_count().await.unwrap(), 1);
    assert_eq!(meta_calls_for(&c.dest, "forged"), 0);
}

#[tokio::test]
async fn the_preflight_answers_each_sites_origins_only() {
    // A global --cors-origin must not capture /api/collect's preflight.
    let c = Collect::with_args(&["--cors-origin", "https://admin.example"]).await;
    let preflight = |origin: &str| {
        Request::options("/api/collect")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .body(Body::empty())
            .unwrap()
    };
    for origin in [ORIGIN, OTHER_ORIGIN] {
        let (status, headers, _) = c.h.send(preflight(origin)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{origin}");
        assert_eq!(headers["access-control-allow-origin"], origin);
        assert!(headers["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST"));
        assert!(headers["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("content-type"));
        assert!(headers["vary"].to_str().unwrap().contains("origin"));
    }
    for origin in ["https://evil.example", "https://admin.example"] {
        let (status, headers, _) = c.h.send(preflight(origin)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{origin}");
        assert!(headers.get("access-control-allow-origin").is_none());
    }
    // The other API routes still answer the global origin.
    let (_, headers, _) =
        c.h.send(
            Request::options("/api/connect")
                .header("origin", "https://admin.example")
                .header("access-control-request-method", "POST")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://admin.example"
    );
}

#[tokio::test]
async fn bodies_too_large_unreadable_or_invalid_are_refused_naming_the_field() {
    let c = Collect::new().await;
    // 413 over 64 KiB.
    let mut big = event("big", false);
    big["name"] = json!("x".repeat(70 * 1024));
    let (status, _, answer) = c
        .post_raw(
            Some(ORIGIN),
            "application/json",
            body(vec![big]).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(answer["error"]["code"], "payload_too_large");
    // 415 for other content types.
    let (status, _, answer) = c
        .post_raw(
            Some(ORIGIN),
            "application/x-www-form-urlencoded",
            "site=salon",
        )
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{answer}");
    // 422, naming the field.
    let ev = |f: &dyn Fn(&mut Value)| {
        let mut e = event("v", false);
        f(&mut e);
        body(vec![e])
    };
    let cases: Vec<(Value, &str)> = vec![
        (body(vec![]), "events"),
        (
            body((0..26).map(|i| event(&format!("e{i}"), true)).collect()),
            "events",
        ),
        (
            ev(&|e| e["event_id"] = json!("x".repeat(101))),
            "events[0].event_id",
        ),
        (ev(&|e| e["event_id"] = json!("")), "events[0].event_id"),
        (
            ev(&|e| {
                e.as_object_mut().unwrap().remove("event_id");
            }),
            "events[0].event_id",
        ),
        (
            ev(&|e| {
                e.as_object_mut()
                    .unwrap()
                    .remove("ga4_delivered_in_browser");
            }),
            "events[0].ga4_delivered_in_browser",
        ),
        (ev(&|e| e["time_ms"] = json!("soon")), "events[0].time_ms"),
        (ev(&|e| e["time_ms"] = json!(-1)), "events[0].time_ms"),
        (
            ev(&|e| e["user_data"]["em"] = json!("someone@example.com")),
            "events[0].user_data.em",
        ),
        (
            ev(&|e| e["user_data"]["ph"] = json!(PH.to_uppercase())),
            "events[0].user_data.ph",
        ),
        (
            ev(&|e| e["ga4"]["name"] = json!("session_start")),
            "events[0].ga4.name",
        ),
        (
            ev(&|e| e["ga4"]["name"] = json!("has-dash")),
            "events[0].ga4.name",
        ),
        (
            ev(&|e| e["ga4"]["params"]["nested"] = json!({"a": 1})),
            "events[0].ga4.params.nested",
        ),
        (
            ev(&|e| e["ga4"]["params"]["long"] = json!("x".repeat(101))),
            "events[0].ga4.params.long",
        ),
        (ev(&|e| e["surprise"] = json!(1)), "events[0].surprise"),
        (
            {
                let mut b = body(vec![event("v", false)]);
                b["client"]["page_url"] = json!("javascript:alert(1)");
                b
            },
            "client.page_url",
        ),
    ];
    for (b, field) in cases {
        let (status, _, answer) = c
            .post_raw(Some(ORIGIN), "application/json", b.to_string())
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {answer}"
        );
        assert_eq!(answer["error"]["field"], field, "{answer}");
        // The page can read the error.
        assert!(
            answer["error"]["message"].as_str().unwrap().contains(field),
            "{answer}"
        );
    }
    let (status, _, answer) = c.post_raw(Some(ORIGIN), "text/plain", "{not json").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["error"]["code"], "invalid_json");
    assert_eq!(c.state().db.collected_count().await.unwrap(), 0);
    assert!(c.dest.calls().is_empty());
}

#[tokio::test]
async fn a_site_over_its_rate_gets_429_with_retry_after() {
    // One request per 1000 s on average, two at once: the third is refused whatever the
    // machine's speed.
    let c = Collect::with_args(&["--collect-rate", "0.001", "--collect-burst", "2"]).await;
    for i in 0..2 {
        let (status, answer) = c.post(&body(vec![event(&format!("r{i}"), true)])).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    }
    let (status, headers, answer) = c
        .post_raw(
            Some(ORIGIN),
            "application/json",
            body(vec![event("r2", true)]).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{answer}");
    assert_eq!(answer["error"]["code"], "rate_limited");
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after >= 1);
    assert_eq!(headers["access-control-allow-origin"], ORIGIN);
    // Another site has its own bucket.
    let mut other = body(vec![event("o1", true)]);
    other["site"] = json!(OTHER_SITE);
    other["key"] = json!(OTHER_KEY);
    let (status, _, _) = c
        .post_raw(Some(OTHER_ORIGIN), "application/json", other.to_string())
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(c.state().db.collected_count().await.unwrap(), 3);
}

/// One scripted first reply for both destinations, then success: what happens to the event.
async fn first_reply(
    c: &Collect,
    id: &str,
    reply: &str,
) -> Vec<altegio_companion::delivery::store::DeliveryRow> {
    c.dest.reset();
    let r: Reply = reply.parse().unwrap();
    c.dest.script(Meta, [r.clone()]);
    c.dest.script(Ga4, [r]);
    let (status, answer) = c.post(&body(vec![event(id, false)])).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    c.wait_settled(id, 2).await
}

#[tokio::test]
async fn the_status_matrix_retries_what_is_transient_only() {
    let c = Collect::new().await;
    for (reply, retried) in [
        ("200", None),
        ("400", Some(false)),
        ("401", Some(false)),
        ("403", Some(false)),
        ("408", Some(true)),
        ("429", Some(true)),
        ("429:0", Some(true)),
        // Retry-After: 1 s, capped by --delivery-max-delay-ms (20 ms here).
        ("429:1", Some(true)),
        ("500", Some(true)),
        ("503", Some(true)),
    ] {
        let id = format!("matrix-{reply}");
        let rows = first_reply(&c, &id, reply).await;
        for d in [Meta, Ga4] {
            let r = row(&rows, d);
            let calls = c.dest.calls_to(d);
            match retried {
                None => {
                    assert_eq!(
                        (r.state.as_str(), r.attempts),
                        ("delivered", 1),
                        "{reply} {d:?}"
                    );
                    assert_eq!(calls.len(), 1);
                }
                Some(true) => {
                    assert_eq!(
                        (r.state.as_str(), r.attempts),
                        ("delivered", 2),
                        "{reply} {d:?}: {r:?}"
                    );
                    let replies: Vec<&str> = calls.iter().map(|c| c.reply.as_str()).collect();
                    assert_eq!(replies, [reply, "200"], "{d:?}");
                }
                Some(false) => {
                    assert_eq!(
                        (r.state.as_str(), r.attempts),
                        ("failed", 1),
                        "{reply} {d:?}"
                    );
                    let error = r.last_error.as_deref().unwrap();
                    assert!(error.starts_with(&format!("HTTP {reply}")), "{error}");
                    assert_eq!(calls.len(), 1, "{reply} {d:?}: not retried");
                }
            }
        }
        // Meta's error message is kept in the reason.
        if reply == "400" {
            let error = row(&rows, Meta).last_error.clone().unwrap();
            assert!(error.contains("scripted HTTP 400"), "{error}");
        }
    }

    // Attempts run out: four 503s (--delivery-attempts 4) → failed, four calls each.
    c.dest.reset();
    c.dest.set_default(Meta, Reply::Status(503));
    c.dest.set_default(Ga4, Reply::Status(503));
    let (status, _) = c.post(&body(vec![event("exhausted", false)])).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let rows = c.wait_settled("exhausted", 2).await;
    for d in [Meta, Ga4] {
        let r = row(&rows, d);
        assert_eq!((r.state.as_str(), r.attempts), ("failed", 4), "{r:?}");
        assert!(r
            .last_error
            .as_deref()
            .unwrap()
            .starts_with("gave up after 4 attempts: HTTP 503"));
        assert_eq!(c.dest.calls_to(d).len(), 4);
    }
    // Every resend to Meta carried the same event ID.
    assert!(c
        .dest
        .calls_to(Meta)
        .iter()
        .all(|m| m.meta_event_ids() == ["exhausted"]));
    let (_, status) = c.h.get("/api/collect/status").await;
    assert_eq!(status["destinations"]["meta"]["failed"], 4);
    assert!(status["recent_problems"].as_array().unwrap().len() >= 8);
}

#[tokio::test]
async fn a_hang_is_retried_for_meta_and_left_uncertain_for_ga4() {
    let c = Collect::with_args(&["--delivery-timeout-ms", "1000"]).await;
    let rows = first_reply(&c, "hang-1", "hang").await;
    let meta = row(&rows, Meta);
    assert_eq!(meta.state, "delivered", "{meta:?}");
    let calls = c.dest.calls_to(Meta);
    assert!(calls.len() >= 2 && calls[0].reply == "hang", "{calls:?}");
    assert!(calls.iter().all(|m| m.meta_event_ids() == ["hang-1"]));
    // GA4 cannot de-duplicate: a call that may have arrived is not made again.
    let ga4 = row(&rows, Ga4);
    assert_eq!(ga4.state, "uncertain", "{ga4:?}");
    assert!(
        ga4.last_error.as_deref().unwrap().contains("timed out"),
        "{ga4:?}"
    );
    assert_eq!(c.dest.calls_to(Ga4).len(), 1);
}

#[tokio::test]
async fn ga4_resends_after_a_timeout_when_told_to() {
    let c = Collect::with_args(&[
        "--delivery-timeout-ms",
        "1000",
        "--ga4-resend-after-timeout",
        "true",
    ])
    .await;
    let rows = first_reply(&c, "hang-2", "hang").await;
    assert_eq!(row(&rows, Ga4).state, "delivered", "{rows:?}");
    let calls = c.dest.calls_to(Ga4);
    assert!(calls.len() >= 2 && calls[0].reply == "hang", "{calls:?}");
}

#[tokio::test]
async fn without_credentials_events_are_stored_but_not_sent() {
    let dest = altegio_companion::destination_standin::DestinationStandin::new();
    let (addr, _t) = dest.spawn("127.0.0.1:0".parse().unwrap()).await.unwrap();
    // Sites only: no --meta-*, no --ga4-*.
    let h =
        common::Harness::with_args(&["--site", &format!("id={SITE},key={KEY},origins={ORIGIN}")])
            .await;
    let req = Request::post("/api/collect")
        .header("origin", ORIGIN)
        .header("content-type", "application/json")
        .body(Body::from(body(vec![event("no-dest", false)]).to_string()))
        .unwrap();
    let (status, _, bytes) = h.send(req).await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(h.state.db.collected_count().await.unwrap(), 1);
    assert!(rows(&h.state).await.is_empty());
    let (_, status) = h.get("/api/collect/status").await;
    assert_eq!(status["configured"], json!({"meta": false, "ga4": false}));
    assert!(dest.calls().is_empty());
    let _ = addr;
}
