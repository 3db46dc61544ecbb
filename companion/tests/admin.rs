//! The admin token of the operators' endpoints (`GET /api/locations`,
//! `GET /api/collect/status`), over a real socket on 127.0.0.1.
// A test crate: its helper functions may unwrap like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use altegio_companion::app;
use common::*;
use serde_json::{json, Value};

const ADMIN: &str = "admin-token-for-tests-7c21";
const ENDPOINTS: [&str; 2] = ["/api/locations", "/api/collect/status"];

/// The companion's router served on 127.0.0.1:0; its base URL and the server task.
async fn serve(h: &Harness) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app(h.state.clone());
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (format!("http://{addr}"), server)
}

async fn get(
    client: &reqwest::Client,
    url: &str,
    authorization: Option<&str>,
) -> (u16, Option<String>, Value) {
    let mut request = client.get(url);
    if let Some(a) = authorization {
        request = request.header("authorization", a);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, challenge, response.json().await.unwrap())
}

#[tokio::test]
async fn with_an_admin_token_the_operators_endpoints_need_it() {
    let h = Harness::with_args(&["--admin-token", ADMIN]).await;
    h.connect(&json!({"salon_ids": [1]})).await;
    let (base, server) = serve(&h).await;
    let client = reqwest::Client::new();
    let right = format!("Bearer {ADMIN}");
    let wrong_cases = [
        (None, "missing_admin_token"),
        (Some("Bearer wrong-token-0123456789"), "invalid_admin_token"),
        (Some(&right[..right.len() - 1]), "invalid_admin_token"),
        (Some(&*format!("{right}x")), "invalid_admin_token"),
        (Some(&*format!("Basic {ADMIN}")), "invalid_authorization"),
        (Some(ADMIN), "invalid_authorization"),
        (Some("Bearer "), "invalid_authorization"),
    ];
    for path in ENDPOINTS {
        let url = format!("{base}{path}");
        for (authorization, code) in wrong_cases {
            let (status, challenge, body) = get(&client, &url, authorization).await;
            assert_eq!(status, 401, "{path} {authorization:?}: {body}");
            assert_eq!(body["error"]["code"], code, "{path} {authorization:?}");
            let challenge = challenge.expect("WWW-Authenticate");
            assert!(
                challenge.starts_with("Bearer realm=\"altegio-companion\""),
                "{challenge}"
            );
            assert!(
                !body.to_string().contains("salon_id"),
                "nothing leaks: {body}"
            );
        }
        for authorization in [right.clone(), format!("bearer {ADMIN}")] {
            let (status, challenge, body) = get(&client, &url, Some(&authorization)).await;
            assert_eq!(status, 200, "{path}: {body}");
            assert_eq!(challenge, None);
            assert!(body.is_object(), "{body}");
        }
    }
    let (_, _, list) = get(&client, &format!("{base}/api/locations"), Some(&right)).await;
    assert_eq!(list["locations"][0]["salon_id"], 1);

    // Everything else is as open as before: Altegio and the pages know no admin token.
    let page = client.get(format!("{base}/register")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let resp = client
        .post(format!("{base}{}", webhook_path(1)))
        .json(
            &json!({"company_id": 1, "resource": "record", "resource_id": 1,
                      "status": "create", "data": {}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    server.abort();
}

#[tokio::test]
async fn without_an_admin_token_the_operators_endpoints_stay_open() {
    let h = Harness::new().await;
    let (base, server) = serve(&h).await;
    let client = reqwest::Client::new();
    for path in ENDPOINTS {
        let url = format!("{base}{path}");
        for authorization in [None, Some("Bearer anything-at-all-0123456789")] {
            let (status, challenge, body) = get(&client, &url, authorization).await;
            assert_eq!(status, 200, "{path} {authorization:?}: {body}");
            assert_eq!(challenge, None);
        }
    }
    server.abort();
}
