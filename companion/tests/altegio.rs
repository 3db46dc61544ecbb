//! What Altegio sends us: the disable callback and entity webhooks.
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

#[tokio::test]
async fn a_webhook_delivered_twice_is_stored_once() {
    let h = Harness::new().await;
    let hook = json!({
        "company_id": 51,
        "resource": "record",
        "resource_id": 777,
        "status": "create",
        "data": {"id": 777, "services": [{"id": 1}], "datetime": "2026-11-23T10:00:00+03:00"}
    });
    let (status, answer) = h.post("/api/altegio/webhook", &hook).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer, json!({"ok": true, "duplicate": false}));
    // The retry: same content, keys in another order and different whitespace.
    let retry = r#"{ "status":"create", "data":{"datetime":"2026-11-23T10:00:00+03:00","services":[{"id":1}],"id":777},
                    "resource_id":777, "resource":"record", "company_id":51 }"#;
    let (status, answer) = h.post_raw("/api/altegio/webhook", retry).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer, json!({"ok": true, "duplicate": true}));
    assert_eq!(h.state.db.webhook_count().await.unwrap(), 1);

    // A different status of the same entity is a new delivery.
    let mut update = hook.clone();
    update["status"] = json!("update");
    let (_, answer) = h.post("/api/altegio/webhook", &update).await;
    assert_eq!(answer["duplicate"], false);
    assert_eq!(h.state.db.webhook_count().await.unwrap(), 2);
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
        let (status, answer) = h.post("/api/altegio/webhook", &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    let (status, _) = h.post("/api/altegio/webhook", &json!([1])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(h.state.db.webhook_count().await.unwrap(), 0);
}
