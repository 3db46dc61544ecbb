//! Shared test harness: a stand-in partner API on 127.0.0.1:0, a companion on a SQLite file
//! in a temporary directory, and helpers to call the companion's router.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use altegio_companion::config::Config;
use altegio_companion::standin::Standin;
use altegio_companion::{app, AppState};
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use base64::Engine;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub const TOKEN: &str = "test-partner-token-5f1c";
pub const APP_ID: i64 = 4242;
pub const PUBLIC_URL: &str = "https://companion.example.test";
/// A safety net only: no test relies on it firing.
pub const SAFETY: Duration = Duration::from_secs(60);

pub struct Harness {
    pub standin: Standin,
    pub standin_addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub state: AppState,
    pub router: Router,
}

/// Files the router serves: register.html and a fake built package.
pub fn write_static_files(dir: &Path) -> (PathBuf, PathBuf) {
    let www = dir.join("www");
    let pkg = dir.join("pkg");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::create_dir_all(pkg.join("web")).unwrap();
    std::fs::write(
        www.join("register.html"),
        "<!doctype html><title>register</title>",
    )
    .unwrap();
    std::fs::write(
        www.join("index.html"),
        "<!doctype html><title>index</title>",
    )
    .unwrap();
    std::fs::write(pkg.join("web/altegio_analytics.js"), "export default 1;").unwrap();
    std::fs::write(
        pkg.join("web/altegio_analytics_bg.wasm"),
        b"\0asm\x01\0\0\0",
    )
    .unwrap();
    (www, pkg)
}

pub fn args(standin: SocketAddr, dir: &Path, extra: &[&str]) -> Vec<String> {
    let (www, pkg) = write_static_files(dir);
    let mut v: Vec<String> = vec![
        "altegio-companion".into(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--database".into(),
        dir.join("companion.sqlite").display().to_string(),
        "--altegio-api".into(),
        format!("http://{standin}"),
        "--partner-token".into(),
        TOKEN.into(),
        "--application-id".into(),
        APP_ID.to_string(),
        "--public-url".into(),
        format!("{PUBLIC_URL}/"),
        "--www-dir".into(),
        www.display().to_string(),
        "--pkg-dir".into(),
        pkg.display().to_string(),
        "--retry-base-ms".into(),
        "1".into(),
        "--activation-timeout-ms".into(),
        "30000".into(),
    ];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

impl Harness {
    pub async fn new() -> Self {
        Self::with_args(&[]).await
    }

    pub async fn with_args(extra: &[&str]) -> Self {
        let standin = Standin::new(TOKEN);
        let (standin_addr, _task) = standin.spawn("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config = Config::try_parse_from(args(standin_addr, dir.path(), extra)).unwrap();
        let state = AppState::new(config).unwrap();
        let router = app(state.clone());
        Self {
            standin,
            standin_addr,
            dir,
            state,
            router,
        }
    }

    pub async fn send(&self, req: Request<Body>) -> (StatusCode, HeaderMap, Bytes) {
        let resp = tokio::time::timeout(SAFETY, self.router.clone().oneshot(req))
            .await
            .expect("request did not finish")
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, headers, body)
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.post_raw(path, body.to_string()).await
    }

    pub async fn post_raw(&self, path: &str, body: impl Into<Body>) -> (StatusCode, Value) {
        let req = Request::post(path)
            .header("content-type", "application/json")
            .body(body.into())
            .unwrap();
        let (status, _, bytes) = self.send(req).await;
        (status, json_of(&bytes))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (status, _, bytes) = self
            .send(Request::get(path).body(Body::empty()).unwrap())
            .await;
        (status, json_of(&bytes))
    }

    pub async fn connect(&self, body: &Value) -> (StatusCode, Value) {
        self.post("/api/connect", body).await
    }

    /// The state and stored key of one location, read from the database.
    pub async fn location(&self, salon_id: i64) -> Option<(String, Option<String>)> {
        self.state
            .db
            .location_with_key(salon_id)
            .await
            .unwrap()
            .map(|(s, k)| (s.as_str().to_owned(), k))
    }
}

pub fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(bytes)))
}

/// `user_data` and `user_data_sign` as Altegio would put them in the URL.
pub fn signed_user_data(json: &str) -> (String, String) {
    let data = base64::engine::general_purpose::STANDARD.encode(json);
    let sign = altegio_companion::signature::sign(
        json.as_bytes(),
        &altegio_companion::config::Secret::new(TOKEN),
    );
    (data, sign)
}

/// The path of `salon_id`'s webhook URL, computed here as the README documents it (HMAC of
/// `"altegio-companion webhook v1:{salon_id}"` keyed with the partner token), not by the
/// library's own helper.
pub fn webhook_path(salon_id: i64) -> String {
    let token = altegio_companion::signature::sign(
        format!("altegio-companion webhook v1:{salon_id}").as_bytes(),
        &altegio_companion::config::Secret::new(TOKEN),
    );
    format!("/api/altegio/webhook/{salon_id}/{token}")
}

/// The webhook URL the companion gives Altegio for `salon_id`.
pub fn webhook_url(salon_id: i64) -> String {
    format!("{PUBLIC_URL}{}", webhook_path(salon_id))
}

/// The outcome of `salon_id` in a connect answer.
pub fn outcome(answer: &Value, salon_id: i64) -> Value {
    answer["locations"]
        .as_array()
        .expect("locations array")
        .iter()
        .find(|l| l["salon_id"] == salon_id)
        .cloned()
        .unwrap_or_else(|| panic!("no outcome for {salon_id} in {answer}"))
}
