//! What Altegio sends us: the disable callback and entity webhooks (per-location URLs).
// A test crate: its helper functions may unwrap like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

fn callback(salon_id: i64, event: &str, token: &str) -> serde_json::Value {
    json!({"salon_id": salon_id, "application_id": APP_ID, "event": event, "partner_token": token})
}

#[tokio::test]
async fn uninstall_with_a_wrong_token_is_refused_and_changes_nothing() {
    let h = Harness::new().await;
    h.connect(&json!({"salon_ids": [11]})).await;
    let key = h.location(11).await.unwrap().1;
    assert!(key.is_some());
    for token in ["wrong", "", &TOKEN[..TOKEN.len() - 1], &format!("{TOKEN}x")] {
        let (status, answer) = h
            .post("/api/altegio/callback", &callback(11, "uninstall", token))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
        assert_eq!(answer["error"]["code"], "invalid_partner_token");
    }
    assert_eq!(h.location(11).await.unwrap(), ("active".to_owned(), key));
    let log = h.state.db.audit_log(11).await.unwrap();
    assert!(log.iter().all(|r| r.event != "uninstall"), "{log:?}");
}

#[tokio::test]
async fn uninstall_with_the_right_token_purges_the_key_and_keeps_an_audit_row() {
    let h = Harness::new().await;
    h.connect(&json!({"salon_ids": [21, 22]})).await;
    let (status, answer) = h
        .post("/api/altegio/callback", &callback(21, "uninstall", TOKEN))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer,
        json!({"ok": true, "salon_id": 21, "event": "uninstall", "state": "uninstalled"})
    );
    assert_eq!(
        h.location(21).await.unwrap(),
        ("uninstalled".to_owned(), None)
    );
    assert_eq!(
        h.location(22).await.unwrap().0,
        "active",
        "other locations untouched"
    );
    let log = h.state.db.audit_log(21).await.unwrap();
    let events: Vec<&str> = log.iter().map(|r| r.event.as_str()).collect();
    assert_eq!(events, ["activated", "uninstall"]);
    assert!(log[1]
        .detail
        .as_deref()
        .unwrap()
        .contains(&APP_ID.to_string()));
    assert!(!log
        .iter()
        .any(|r| r.detail.as_deref().unwrap_or("").contains(TOKEN)));

    let (_, list) = h.get("/api/locations").await;
    assert_eq!(list["locations"][0]["state"], "uninstalled");
    // No outbound call was made.
    assert_eq!(h.standin.activations().len(), 2);

    // Reconnecting later activates it again with a new key.
    let old_key = h.standin.installation(21).unwrap().api_key;
    h.standin.reset();
    let (_, answer) = h.connect(&json!({"salon_ids": [21]})).await;
    assert_eq!(outcome(&answer, 21)["already_active"], false);
    let new_key = h.location(21).await.unwrap().1.unwrap();
    assert_ne!(new_key, old_key);

    // A repeated uninstall (Altegio retries) is harmless.
    for _ in 0..2 {
        let (status, _) = h
            .post("/api/altegio/callback", &callback(21, "uninstall", TOKEN))
            .await;
        assert_eq!(status, StatusCode::OK);
    }
}

#[tokio::test]
async fn freeze_marks_the_location_frozen_and_payment_only_audits() {
    let h = Harness::new().await;
    h.connect(&json!({"salon_ids": [31]})).await;
    let key = h.location(31).await.unwrap().1;
    let (status, answer) = h
        .post("/api/altegio/callback", &callback(31, "freeze", TOKEN))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["state"], "frozen");
    assert_eq!(
        h.location(31).await.unwrap(),
        ("frozen".to_owned(), key.clone())
    );

    let (status, answer) = h
        .post("/api/altegio/callback", &callback(31, "payment", TOKEN))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["state"], "frozen");
    let events: Vec<String> = h
        .state
        .db
        .audit_log(31)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.event)
        .collect();
    assert_eq!(events, ["activated", "freeze", "payment"]);

    // Connecting a frozen location activates it again, reusing its key.
    let (_, answer) = h.connect(&json!({"salon_ids": [31]})).await;
    assert_eq!(outcome(&answer, 31)["status"], "active");
    assert_eq!(h.location(31).await.unwrap(), ("active".to_owned(), key));
}

#[tokio::test]
async fn callback_validation() {
    let h = Harness::new().await;
    let (status, answer) = h
        .post("/api/altegio/callback", &callback(1, "explode", TOKEN))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["error"]["field"], "event");
    // A wrong token is refused before the event is even looked at.
    let (status, _) = h
        .post("/api/altegio/callback", &callback(1, "explode", "nope"))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, answer) = h
        .post(
            "/api/altegio/callback",
            &json!({"salon_id": 1, "application_id": APP_ID, "event": "uninstall"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["error"]["field"], "partner_token");
    let (status, answer) = h
        .post(
            "/api/altegio/callback",
            &json!({"salon_id": "abc", "application_id": APP_ID, "event": "uninstall", "partner_token": TOKEN}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["error"]["field"], "salon_id");
    let (status, answer) = h
        .post(
            "/api/altegio/callback",
            &json!({"salon_id": 1, "application_id": APP_ID + 1, "event": "uninstall", "partner_token": TOKEN}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["error"]["field"], "application_id");
    // IDs as digit strings are accepted, as are fields Altegio may add later.
    let (status, answer) = h
        .post(
            "/api/altegio/callback",
            &json!({"salon_id": "41", "application_id": APP_ID.to_string(), "event": "freeze",
                    "partner_token": TOKEN, "reason": "billing"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["state"],
        serde_json::Value::Null,
        "never connected here"
    );
}

fn record_hook(company_id: i64) -> serde_json::Value {
    json!({
        "company_id": company_id,
        "resource": "record",
        "resource_id": 777,
        "status": "create",
        "data": {"id": 777, "services": [{"id": 1}], "datetime": "2026-11-23T10:00:00+03:00"}
    })
}

#[tokio::test]
async fn a_webhook_delivered_twice_is_stored_once() {
    let h = Harness::new().await;
    let hook = record_hook(51);
    let (status, answer) = h.post(&webhook_path(51), &hook).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer, json!({"ok": true, "duplicate": false}));
    // The retry: same content, keys in another order and different whitespace.
    let retry = r#"{ "status":"create", "data":{"datetime":"2026-11-23T10:00:00+03:00","services":[{"id":1}],"id":777},
                    "resource_id":777, "resource":"record", "company_id":51 }"#;
    let (status, answer) = h.post_raw(&webhook_path(51), retry).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer, json!({"ok": true, "duplicate": true}));
    assert_eq!(h.state.db.webhook_count().await.unwrap(), 1);

    // A different status of the same entity is a new delivery.
    let mut update = hook.clone();
    update["status"] = json!("update");
    let (_, answer) = h.post(&webhook_path(51), &update).await;
    assert_eq!(answer["duplicate"], false);
    assert_eq!(h.state.db.webhook_count().await.unwrap(), 2);
}

#[tokio::test]
async fn the_url_sent_at_activation_takes_that_locations_webhooks() {
    let h = Harness::new().await;
    h.connect(&json!({"salon_ids": [61, 62]})).await;
    for salon_id in [61, 62] {
        // The URL exactly as Altegio received it.
        let urls = h.standin.installation(salon_id).unwrap().webhook_urls;
        assert_eq!(urls.len(), 1);
        let path = urls[0].strip_prefix(PUBLIC_URL).unwrap().to_owned();
        let (status, answer) = h.post(&path, &record_hook(salon_id)).await;
        assert_eq!(status, StatusCode::OK, "{salon_id}: {answer}");
        assert_eq!(answer["duplicate"], false);
        // Not another location's: the URL of 61 refuses 62's webhook.
        let other = if salon_id == 61 { 62 } else { 61 };
        let (status, answer) = h.post(&path, &record_hook(other)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    }
    assert_eq!(h.state.db.webhook_count().await.unwrap(), 2);
}

#[tokio::test]
async fn forged_webhooks_are_refused_and_not_stored() {
    let h = Harness::new().await;
    let genuine = webhook_path(51);
    let token = genuine.rsplit('/').next().unwrap().to_owned();
    let hook = record_hook(51);

    // Wrong, malformed and other locations' tokens: 403, naming the token.
    let mut flipped = token.clone().into_bytes();
    flipped[10] = if flipped[10] == b'0' { b'1' } else { b'0' };
    let flipped = String::from_utf8(flipped).unwrap();
    let other_salon = webhook_path(52).rsplit('/').next().unwrap().to_owned();
    let other_key = altegio_companion::signature::sign(
        b"altegio-companion webhook v1:51",
        &altegio_companion::config::Secret::new("not-the-partner-token"),
    );
    let unsalted =
        altegio_companion::signature::sign(b"51", &altegio_companion::config::Secret::new(TOKEN));
    for (forged, what) in [
        (flipped.as_str(), "one hex digit changed"),
        (other_salon.as_str(), "the token of location 52"),
        (other_key.as_str(), "signed with another key"),
        (unsalted.as_str(), "no domain separation"),
        (&token[..63], "too short"),
        ("x", "not hex"),
    ] {
        let (status, answer) = h
            .post(&format!("/api/altegio/webhook/51/{forged}"), &hook)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {answer}");
        assert_eq!(answer["error"]["code"], "invalid_webhook_token", "{what}");
    }
    // The token of 52 in 52's URL is genuine, but the body is 51's: 422 naming company_id.
    let (status, answer) = h.post(&webhook_path(52), &hook).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["error"]["code"], "company_id_mismatch");
    assert_eq!(answer["error"]["field"], "company_id");
    // The genuine token under another location ID.
    let (status, answer) = h
        .post(
            &format!("/api/altegio/webhook/52/{token}"),
            &record_hook(52),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    // A non-canonical location ID in the URL.
    let (status, answer) = h
        .post(&format!("/api/altegio/webhook/051/{token}"), &hook)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(answer["error"]["code"], "invalid_webhook_url");
    // No token at all.
    let (status, answer) = h.post("/api/altegio/webhook/51", &hook).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(answer["error"]["code"], "missing_webhook_token");
    // The old shared URL is gone.
    let (status, answer) = h.post("/api/altegio/webhook", &hook).await;
    assert_eq!(status, StatusCode::GONE, "{answer}");
    assert_eq!(answer["error"]["code"], "webhook_url_gone");
    // The token is checked before the body is read: a forger learns nothing about it.
    let (status, _) = h
        .post_raw(&format!("/api/altegio/webhook/51/{flipped}"), "not json")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    assert_eq!(h.state.db.webhook_count().await.unwrap(), 0);
    // The genuine one is taken after all that, once.
    for duplicate in [false, true] {
        let (status, answer) = h.post(&genuine, &hook).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["duplicate"], duplicate);
    }
    assert_eq!(h.state.db.webhook_count().await.unwrap(), 1);
}

#[tokio::test]
async fn webhook_validation_names_the_field() {
    let h = Harness::new().await;
    let cases = [
        (
            json!({"resource": "record", "resource_id": 1, "status": "create", "data": {}}),
            "company_id",
        ),
        (
            json!({"company_id": 1, "resource_id": 1, "status": "create", "data": {}}),
            "resource",
        ),
        (
            json!({"company_id": 1, "resource": "record", "resource_id": 1, "data": {}}),
            "status",
        ),
        (
            json!({"company_id": 1, "resource": "record", "resource_id": 1, "status": "create"}),
            "data",
        ),
        (
            json!({"company_id": 0, "resource": "record", "resource_id": 1, "status": "create", "data": {}}),
            "company_id",
        ),
        (
            json!({"company_id": 1, "resource": "record", "resource_id": "x", "status": "create", "data": {}}),
            "resource_id",
        ),
        (
            json!({"company_id": 1, "resource": "", "resource_id": 1, "status": "create", "data": {}}),
            "resource",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = h.post(&webhook_path(1), &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    let (status, _) = h.post(&webhook_path(1), &json!([1])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(h.state.db.webhook_count().await.unwrap(), 0);
}
