//! `POST /api/connect` against the stand-in partner API.
// A test crate: its helper functions may unwrap like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use altegio_companion::standin::Behaviour;
use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn three_locations_all_activated_with_the_right_headers_and_bodies() {
    let h = Harness::new().await;
    let (status, answer) = h.connect(&json!({"salon_ids": [101, 102, 103]})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer,
        json!({"locations": [
            {"salon_id": 101, "status": "active", "already_active": false},
            {"salon_id": 102, "status": "active", "already_active": false},
            {"salon_id": 103, "status": "active", "already_active": false},
        ]})
    );

    let activations = h.standin.activations();
    assert_eq!(activations.len(), 3);
    let mut keys = Vec::new();
    for salon_id in [101, 102, 103] {
        let reqs = h.standin.activations_for(salon_id);
        assert_eq!(reqs.len(), 1, "salon {salon_id}");
        let r = &reqs[0];
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(r.header("accept"), Some("application/vnd.api.v2+json"));
        assert_eq!(r.header("content-type"), Some("application/json"));
        let body = r.body.as_object().unwrap();
        assert_eq!(body.len(), 4, "{body:?}");
        assert_eq!(body["salon_id"], salon_id);
        assert_eq!(body["application_id"], APP_ID);
        // The location's own webhook URL, and only that.
        assert_eq!(body["webhook_urls"], json!([webhook_url(salon_id)]));
        assert_eq!(
            h.standin.installation(salon_id).unwrap().webhook_urls,
            [webhook_url(salon_id)]
        );
        let key = body["api_key"].as_str().unwrap().to_owned();
        assert_eq!(key.len(), 64);
        // The key sent is the key stored, and the one the stand-in installed.
        let (state, stored) = h.location(salon_id).await.unwrap();
        assert_eq!(state, "active");
        assert_eq!(stored.as_deref(), Some(key.as_str()));
        assert_eq!(h.standin.installation(salon_id).unwrap().api_key, key);
        keys.push(key);
    }
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 3, "each location has its own key");

    let (status, list) = h.get("/api/locations").await;
    assert_eq!(status, StatusCode::OK);
    let states: Vec<(i64, String)> = list["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["salon_id"].as_i64().unwrap(),
                l["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            (101, "active".into()),
            (102, "active".into()),
            (103, "active".into())
        ]
    );
    for key in &keys {
        assert!(
            !list.to_string().contains(key.as_str()),
            "keys never listed"
        );
    }
}

#[tokio::test]
async fn a_500_then_200_is_retried_and_activated() {
    let h = Harness::new().await;
    h.standin.script(201, Behaviour::FailThenOk(2));
    let (status, answer) = h.connect(&json!({"salon_ids": [200, 201]})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(outcome(&answer, 201)["status"], "active", "{answer}");
    assert_eq!(outcome(&answer, 200)["status"], "active");
    let reqs = h.standin.activations_for(201);
    assert_eq!(reqs.len(), 3, "two 500s, then success");
    // Retries reuse the same key.
    assert!(reqs
        .iter()
        .all(|r| r.body["api_key"] == reqs[0].body["api_key"]));
    assert_eq!(h.location(201).await.unwrap().0, "active");
}

#[tokio::test]
async fn a_429_is_retried() {
    let h = Harness::new().await;
    h.standin.script(210, Behaviour::RateLimitedThenOk(1));
    let (_, answer) = h.connect(&json!({"salon_id": 210})).await;
    assert_eq!(outcome(&answer, 210)["status"], "active", "{answer}");
    assert_eq!(h.standin.activations_for(210).len(), 2);
}

#[tokio::test]
async fn persistent_5xx_gives_up_after_the_bounded_attempts() {
    let h = Harness::with_args(&["--activation-attempts", "3"]).await;
    h.standin.script(220, Behaviour::FailThenOk(100));
    let (_, answer) = h.connect(&json!({"salon_ids": [220, 221]})).await;
    let o = outcome(&answer, 220);
    assert_eq!(o["status"], "failed");
    let reason = o["reason"].as_str().unwrap();
    assert!(
        reason.contains("3 attempts") && reason.contains("500"),
        "{reason}"
    );
    assert_eq!(h.standin.activations_for(220).len(), 3);
    assert_eq!(outcome(&answer, 221)["status"], "active");
    assert_eq!(h.location(220).await.unwrap().0, "failed");
}

#[tokio::test]
async fn a_422_fails_that_location_while_the_others_activate() {
    let h = Harness::new().await;
    h.standin.script(302, Behaviour::Reject);
    h.standin.script(303, Behaviour::Denied);
    let (status, answer) = h.connect(&json!({"salon_ids": [301, 302, 303, 304]})).await;
    assert_eq!(status, StatusCode::OK);
    let order: Vec<i64> = answer["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["salon_id"].as_i64().unwrap())
        .collect();
    assert_eq!(order, [301, 302, 303, 304], "request order kept");
    assert_eq!(outcome(&answer, 301)["status"], "active");
    assert_eq!(outcome(&answer, 304)["status"], "active");
    let failed = outcome(&answer, 302);
    assert_eq!(failed["status"], "failed");
    let reason = failed["reason"].as_str().unwrap();
    assert!(reason.starts_with("HTTP 422"), "{reason}");
    assert!(
        reason.contains("does not accept this application"),
        "meta.errors kept: {reason}"
    );
    let denied = outcome(&answer, 303);
    assert_eq!(denied["reason"], "HTTP 403: Access denied.");
    // Final answers are not retried.
    assert_eq!(h.standin.activations_for(302).len(), 1);
    assert_eq!(h.standin.activations_for(303).len(), 1);

    let (_, list) = h.get("/api/locations").await;
    let row = list["locations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["salon_id"] == 302)
        .unwrap()
        .clone();
    assert_eq!(row["state"], "failed");
    assert_eq!(row["last_error"], reason);
}

#[tokio::test]
async fn already_installed_counts_as_active() {
    let h = Harness::new().await;
    h.standin.script(401, Behaviour::AlreadyInstalled);
    let (_, answer) = h.connect(&json!({"salon_ids": [401]})).await;
    assert_eq!(
        outcome(&answer, 401),
        json!({"salon_id": 401, "status": "active", "already_active": true})
    );
    assert_eq!(h.location(401).await.unwrap().0, "active");
}

#[tokio::test]
async fn connecting_twice_sends_no_second_activation() {
    let h = Harness::new().await;
    let body = json!({"salon_ids": [501, 502]});
    let (_, first) = h.connect(&body).await;
    assert_eq!(outcome(&first, 501)["already_active"], false);
    let key_before = h.location(501).await.unwrap().1;
    let (status, second) = h.connect(&body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        second,
        json!({"locations": [
            {"salon_id": 501, "status": "active", "already_active": true},
            {"salon_id": 502, "status": "active", "already_active": true},
        ]})
    );
    assert_eq!(
        h.standin.activations().len(),
        2,
        "only the first connect called Altegio"
    );
    assert_eq!(
        h.location(501).await.unwrap().1,
        key_before,
        "key unchanged"
    );
}

#[tokio::test]
async fn concurrent_connects_of_the_same_location_activate_it_once() {
    let h = Harness::new().await;
    let body = json!({"salon_ids": [601, 602]});
    let (a, b) = tokio::join!(h.connect(&body), h.connect(&body));
    assert_eq!(a.0, StatusCode::OK);
    assert_eq!(b.0, StatusCode::OK);
    for answer in [&a.1, &b.1] {
        assert_eq!(outcome(answer, 601)["status"], "active");
        assert_eq!(outcome(answer, 602)["status"], "active");
    }
    assert_eq!(h.standin.activations_for(601).len(), 1);
    assert_eq!(h.standin.activations_for(602).len(), 1);
    assert!(
        h.state.activator.locks().is_empty(),
        "lock entries cleaned up"
    );
}

#[tokio::test]
async fn a_failed_location_is_retried_on_the_next_connect_with_its_key() {
    let h = Harness::new().await;
    h.standin.script(701, Behaviour::Reject);
    let (_, first) = h.connect(&json!({"salon_id": 701})).await;
    assert_eq!(outcome(&first, 701)["status"], "failed");
    let key = h.location(701).await.unwrap().1.unwrap();
    h.standin.script(701, Behaviour::Ok);
    let (_, second) = h.connect(&json!({"salon_id": 701})).await;
    assert_eq!(outcome(&second, 701)["status"], "active");
    let reqs = h.standin.activations_for(701);
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].body["api_key"], key.as_str());
}

#[tokio::test]
async fn signed_user_data_is_verified_and_only_the_user_id_kept() {
    let h = Harness::new().await;
    let (data, sign) = signed_user_data(
        r#"{"id":987,"name":"Anna","phone":"+79991234567","email":"anna@example.test","salon_name":"Spa"}"#,
    );
    let (status, answer) = h
        .connect(&json!({"salon_ids": "801,802", "user_data": data, "user_data_sign": sign}))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(outcome(&answer, 801)["status"], "active");
    assert_eq!(outcome(&answer, 802)["status"], "active");

    // Nothing of the phone or email reached the database file.
    let raw = std::fs::read(h.dir.path().join("companion.sqlite")).unwrap();
    let wal = std::fs::read(h.dir.path().join("companion.sqlite-wal")).unwrap_or_default();
    for needle in ["79991234567", "anna@example.test", "Anna"] {
        for bytes in [&raw, &wal] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle} stored"
            );
        }
    }
    let conn = connected_by_of_801(&h).await;
    assert_eq!(conn, Some("987".to_owned()));
}

/// Reads `connected_by` of salon 801 through a second connection, as an operator would.
async fn connected_by_of_801(h: &Harness) -> Option<String> {
    let path = h.dir.path().join("companion.sqlite");
    tokio::task::spawn_blocking(move || {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.query_row(
            "SELECT connected_by FROM locations WHERE salon_id = 801",
            [],
            |r| r.get::<_, Option<String>>(0),
        )
        .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn url_safe_unpadded_user_data_is_accepted() {
    use base64::Engine;
    let h = Harness::new().await;
    let json = r#"{"user_id":"u-1","salon_name":"Ünïcode ?>?"}"#;
    let data = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    let (_, sign) = signed_user_data(json);
    let (status, answer) = h
        .connect(&json!({"salon_id": "901", "user_data": data, "user_data_sign": sign}))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

#[tokio::test]
async fn tampered_user_data_or_signature_is_rejected_with_no_activation() {
    let h = Harness::new().await;
    let json = r#"{"id":1,"name":"A","salon_name":"S"}"#;
    let (data, sign) = signed_user_data(json);
    let (tampered_data, _) = signed_user_data(r#"{"id":2,"name":"A","salon_name":"S"}"#);
    let mut tampered_sign = sign.clone().into_bytes();
    tampered_sign[63] = if tampered_sign[63] == b'a' {
        b'b'
    } else {
        b'a'
    };
    let tampered_sign = String::from_utf8(tampered_sign).unwrap();

    for (d, s) in [
        (tampered_data.as_str(), sign.as_str()),
        (data.as_str(), tampered_sign.as_str()),
    ] {
        let (status, answer) = h
            .connect(&json!({"salon_ids": [1001, 1002], "user_data": d, "user_data_sign": s}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
        assert_eq!(answer["error"]["code"], "invalid_signature");
    }
    // Malformed ones are refused too, naming the field.
    for (body, field) in [
        (
            json!({"salon_ids": [1001], "user_data": data}),
            "user_data_sign",
        ),
        (
            json!({"salon_ids": [1001], "user_data_sign": sign}),
            "user_data",
        ),
        (
            json!({"salon_ids": [1001], "user_data": "%%%", "user_data_sign": sign}),
            "user_data",
        ),
        (
            json!({"salon_ids": [1001], "user_data": data, "user_data_sign": "xyz"}),
            "user_data_sign",
        ),
    ] {
        let (status, answer) = h.connect(&body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    assert!(
        h.standin.requests().is_empty(),
        "no request reached Altegio"
    );
    let (_, list) = h.get("/api/locations").await;
    assert_eq!(list["locations"], json!([]), "nothing stored");
}

#[tokio::test]
async fn require_user_data_refuses_unsigned_connects() {
    let h = Harness::with_args(&["--require-user-data", "true"]).await;
    let (status, answer) = h.connect(&json!({"salon_ids": [1]})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    assert_eq!(answer["error"]["code"], "user_data_required");
    let (data, sign) = signed_user_data(r#"{"id":5}"#);
    let (status, _) = h
        .connect(&json!({"salon_ids": [1], "user_data": data, "user_data_sign": sign}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h.standin.activations().len(), 1);
}

#[tokio::test]
async fn the_three_ways_of_passing_ids_and_duplicates() {
    let h = Harness::new().await;
    let cases: [(Value, Vec<i64>); 5] = [
        (json!({"salon_ids": [11, 12, 11]}), vec![11, 12]),
        (json!({"salon_ids": ["13", "14", "13"]}), vec![13, 14]),
        (json!({"salon_ids": "15, 16,15"}), vec![15, 16]),
        (json!({"salon_id": 17}), vec![17]),
        (json!({"salon_id": "18"}), vec![18]),
    ];
    for (body, expected) in cases {
        let (status, answer) = h.connect(&body).await;
        assert_eq!(status, StatusCode::OK, "{body}: {answer}");
        let ids: Vec<i64> = answer["locations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["salon_id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, expected, "{body}");
    }
    for id in [11, 12, 13, 14, 15, 16, 17, 18] {
        assert_eq!(h.standin.activations_for(id).len(), 1, "salon {id}");
    }
}

#[tokio::test]
async fn bad_ids_are_refused_naming_field_and_index() {
    let h = Harness::new().await;
    let too_many: Vec<i64> = (1..=101).collect();
    let cases = [
        (json!({"salon_ids": [1, 0]}), "salon_ids[1]", "got 0"),
        (json!({"salon_ids": [-1]}), "salon_ids[0]", "got -1"),
        (
            json!({"salon_ids": [1, 2, "abc"]}),
            "salon_ids[2]",
            r#"got "abc""#,
        ),
        (json!({"salon_ids": [1.5]}), "salon_ids[0]", "got 1.5"),
        (json!({"salon_ids": "1,x"}), "salon_ids[1]", r#"got "x""#),
        (json!({"salon_id": "abc"}), "salon_id", r#"got "abc""#),
        (
            json!({"salon_ids": [9223372036854775808u64]}),
            "salon_ids[0]",
            "positive integer",
        ),
        (json!({"salon_ids": too_many}), "salon_ids", "at most 100"),
        (json!({"salon_ids": []}), "salon_ids", "at least one"),
        (json!({}), "salon_ids", "at least one"),
    ];
    for (body, field, text) in cases {
        let (status, answer) = h.connect(&body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(text), "{body}: {message}");
    }
    let (_, answer) = h.connect(&json!({"salon_ids": [1, 2, "abc"]})).await;
    assert_eq!(
        answer["error"]["message"],
        r#"salon_ids[2]: expected a positive integer, got "abc""#
    );
    assert!(h.standin.requests().is_empty());
}

#[tokio::test]
async fn an_unreachable_partner_api_fails_every_location_after_retries() {
    // Bind a port, then close it: connections are refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = listener.local_addr().unwrap();
    drop(listener);
    let dir = tempfile::tempdir().unwrap();
    let config = altegio_companion::config::Config::try_parse_from(args(
        dead,
        dir.path(),
        &["--activation-attempts", "2"],
    ))
    .unwrap();
    let state = altegio_companion::AppState::new(config).unwrap();
    let router = altegio_companion::app(state.clone());
    use tower::ServiceExt;
    let req = axum::http::Request::post("/api/connect")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(r#"{"salon_ids":[1,2]}"#))
        .unwrap();
    let resp = router.oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    use http_body_util::BodyExt;
    let answer = json_of(&resp.into_body().collect().await.unwrap().to_bytes());
    for id in [1, 2] {
        let o = outcome(&answer, id);
        assert_eq!(o["status"], "failed");
        assert!(o["reason"].as_str().unwrap().contains("2 attempts"), "{o}");
    }
    let (state_1, key) = state.db.location_with_key(1).await.unwrap().unwrap();
    assert_eq!(state_1.as_str(), "failed");
    assert!(key.is_some(), "the key stays stored for the next try");
}
