//! The HTTP surface: a real socket, pages and static files, CORS, limits, JSON errors.
// A test crate: its helper functions may unwrap like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use altegio_companion::app;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use serde_json::json;

#[tokio::test]
async fn the_compiled_router_over_a_real_tcp_socket() {
    let h = Harness::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app(h.state.clone());
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");

    let (data, sign) = signed_user_data(r#"{"id":3,"salon_name":"S"}"#);
    let resp = client
        .post(format!("{base}/api/connect"))
        .json(&json!({"salon_ids": ["7", "8"], "user_data": data, "user_data_sign": sign}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let answer: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(outcome(&answer, 7)["status"], "active");
    assert_eq!(outcome(&answer, 8)["status"], "active");

    let list: serde_json::Value = client
        .get(format!("{base}/api/locations"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["locations"].as_array().unwrap().len(), 2);

    let page = client
        .get(format!("{base}/register?salon_id=7"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers().get("set-cookie").is_none());
    assert!(page.text().await.unwrap().contains("register"));

    // 413 over the wire, as JSON.
    let big = format!(
        r#"{{"salon_ids": [1], "user_data": "{}"}}"#,
        "A".repeat(70 * 1024)
    );
    let resp = client
        .post(format!("{base}/api/connect"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let err: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(err["error"]["code"], "payload_too_large");
    server.abort();
}

#[tokio::test]
async fn register_page_headers() {
    let h = Harness::new().await;
    let (status, headers, body) = h
        .send(
            Request::get("/register?salon_ids[]=1&user_data=x&user_data_sign=y")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(
        headers["content-security-policy"],
        "frame-ancestors https://app.alteg.io https://yclients.com https://*.yclients.com"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(headers.get("set-cookie").is_none());
    assert!(String::from_utf8_lossy(&body).contains("<title>register</title>"));

    let h = Harness::with_args(&["--frame-ancestors", "https://app.alteg.io"]).await;
    let (_, headers, _) = h
        .send(Request::get("/register").body(Body::empty()).unwrap())
        .await;
    assert_eq!(
        headers["content-security-policy"],
        "frame-ancestors https://app.alteg.io"
    );
}

#[tokio::test]
async fn package_and_static_files() {
    let h = Harness::new().await;
    let (status, headers, body) = h
        .send(
            Request::get("/pkg/web/altegio_analytics_bg.wasm")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/wasm");
    assert_eq!(&body[..4], b"\0asm");
    let (status, headers, _) = h
        .send(
            Request::get("/pkg/web/altegio_analytics.js")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let (status, _, body) = h.send(Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains("index"));
    let (status, _, _) = h
        .send(
            Request::get("/pkg/../companion.sqlite")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_ne!(
        status,
        StatusCode::OK,
        "no escape from the package directory"
    );
}

#[tokio::test]
async fn cors_preflight_for_an_allowed_origin_and_refusal_for_another() {
    let h = Harness::with_args(&[
        "--cors-origin",
        "https://partner.example.test,http://localhost:3000",
    ])
    .await;
    let preflight = |origin: &str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/api/connect")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .body(Body::empty())
            .unwrap()
    };
    let (status, headers, _) = h.send(preflight("https://partner.example.test")).await;
    assert!(status.is_success(), "{status}");
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://partner.example.test"
    );
    let methods = headers["access-control-allow-methods"].to_str().unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let allowed = headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("content-type"), "{allowed}");
    assert!(headers.get("access-control-allow-credentials").is_none());

    let (_, headers, _) = h.send(preflight("https://evil.example.test")).await;
    assert!(headers.get("access-control-allow-origin").is_none());
    let (_, headers, _) = h
        .send(preflight("https://partner.example.test.evil.test"))
        .await;
    assert!(headers.get("access-control-allow-origin").is_none());

    // The actual request carries the header for the allowed origin only.
    let post = |origin: &str| {
        Request::post("/api/connect")
            .header("origin", origin)
            .header("content-type", "application/json")
            .body(Body::from(r#"{"salon_id": 5}"#))
            .unwrap()
    };
    let (status, headers, _) = h.send(post("http://localhost:3000")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://localhost:3000"
    );
    let (_, headers, _) = h.send(post("https://evil.example.test")).await;
    assert!(headers.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn without_configured_origins_there_is_no_cors() {
    let h = Harness::new().await;
    let req = Request::builder()
        .method(Method::OPTIONS)
        .uri("/api/connect")
        .header("origin", "https://partner.example.test")
        .header("access-control-request-method", "POST")
        .body(Body::empty())
        .unwrap();
    let (_, headers, _) = h.send(req).await;
    assert!(headers.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_big_body_is_answered_413_json() {
    let h = Harness::new().await;
    let ids: Vec<String> = (0..20_000).map(|i| i.to_string()).collect();
    let body = json!({"salon_ids": ids.join(",")}).to_string();
    assert!(body.len() > 64 * 1024);
    for path in [
        "/api/connect".to_owned(),
        webhook_path(1),
        "/api/altegio/callback".to_owned(),
    ] {
        let (status, answer) = h.post_raw(&path, body.clone()).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        assert_eq!(answer["error"]["code"], "payload_too_large");
    }
    assert!(h.standin.requests().is_empty());
}

#[tokio::test]
async fn unknown_missing_and_mistyped_fields_are_422_naming_the_field() {
    let h = Harness::new().await;
    let (status, answer) = h.connect(&json!({"salon_ids": [1], "salonids": [2]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["error"]["code"], "unknown_field");
    assert_eq!(answer["error"]["field"], "salonids");
    let (status, answer) = h
        .connect(&json!({"salon_ids": [1], "user_data": 5, "user_data_sign": "a"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["error"]["field"], "user_data");
    let (status, answer) = h
        .post(
            "/api/altegio/callback",
            &json!({"salon_id": 1, "application_id": APP_ID, "partner_token": TOKEN}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["error"]["code"], "missing_field");
    assert_eq!(answer["error"]["field"], "event");
    let (status, answer) = h.post_raw("/api/connect", r#"{"salon_ids": [1"#).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["error"]["code"], "invalid_json");
    let (status, answer) = h.post_raw("/api/connect", "[1, 2]").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(h.standin.requests().is_empty());
}

#[tokio::test]
async fn every_api_error_is_json() {
    let h = Harness::new().await;
    let (status, _, body) = h
        .send(
            Request::post("/api/connect")
                .header("content-type", "text/plain")
                .body(Body::from(r#"{"salon_id": 1}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(json_of(&body)["error"]["code"], "unsupported_media_type");
    let (status, answer) = h.get("/api/connect").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer["error"]["code"], "method_not_allowed");
    let (status, answer) = h.get("/api/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(answer["error"]["code"], "not_found");
    let (status, answer) = h.post("/api/locations", &json!({})).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer["error"]["code"], "method_not_allowed");
}

#[tokio::test]
async fn secrets_never_reach_a_browser() {
    let h = Harness::new().await;
    h.connect(&json!({"salon_ids": [1, 2]})).await;
    let key = h.location(1).await.unwrap().1.unwrap();
    for path in ["/api/locations", "/register", "/", "/api/nope"] {
        let (_, headers, body) = h
            .send(Request::get(path).body(Body::empty()).unwrap())
            .await;
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains(TOKEN), "{path}");
        assert!(!text.contains(&key), "{path}");
        assert!(!format!("{headers:?}").contains(TOKEN), "{path}");
    }
}
