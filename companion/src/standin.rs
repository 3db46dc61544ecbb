//! A stand-in for Altegio's partner API, for offline development, the demo and the tests.
//!
//! It checks the Bearer token and the `Accept`/`Content-Type` headers, validates activation
//! bodies, records every request, and answers each location according to a script:
//! [`Behaviour::Ok`], `AlreadyInstalled` (403), `Reject` (422 with `meta.errors`), `Denied`
//! (403), `FailThenOk(n)` (n × 500, then success), `RateLimitedThenOk(n)` (n × 429 with
//! `Retry-After: 0`, then success) or `Hang` (never answers). A location activated once is
//! "installed": activating it again answers 403 "already installed", like Altegio.
//!
//! Routes:
//! - `POST /marketplace/partner/callback` — activation;
//! - `GET /marketplace/salon/{salon_id}/application/{application_id}` — installation status
//!   (the stand-in's own shape: `{"success": true, "data": {"salon_id", "application_id",
//!   "status": "active"|"inactive", "webhook_urls"}}`);
//! - `GET /__standin/requests` — the recorded requests (Authorization redacted);
//! - `POST /__standin/script` — `{"salon_id": 1, "behaviour": "hang"}`;
//! - `POST /__standin/reset` — forget requests, scripts and installations.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// Altegio's answer when the application is already installed at a location.
pub const ALREADY_INSTALLED: &str = "The user has already installed this application.";

/// How the stand-in answers activations of one location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// 200, and the location becomes installed (403 "already installed" if it was).
    Ok,
    /// 403 "The user has already installed this application."
    AlreadyInstalled,
    /// 422 with `meta.errors`.
    Reject,
    /// 403 "Access denied."
    Denied,
    /// `n` answers 500, then as [`Behaviour::Ok`].
    FailThenOk(u32),
    /// `n` answers 429 with `Retry-After: 0`, then as [`Behaviour::Ok`].
    RateLimitedThenOk(u32),
    /// Never answers (until the client gives up).
    Hang,
}

impl FromStr for Behaviour {
    type Err = String;

    /// `ok`, `already-installed`, `reject`, `denied`, `fail-then-ok:N`,
    /// `rate-limited-then-ok:N`, `hang`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, n) = match s.split_once(':') {
            Some((name, n)) => (
                name,
                Some(
                    n.parse::<u32>()
                        .map_err(|_| format!("bad count in {s:?}"))?,
                ),
            ),
            None => (s, None),
        };
        Ok(match (name, n) {
            ("ok", None) => Self::Ok,
            ("already-installed", None) => Self::AlreadyInstalled,
            ("reject", None) => Self::Reject,
            ("denied", None) => Self::Denied,
            ("fail-then-ok", n) => Self::FailThenOk(n.unwrap_or(1)),
            ("rate-limited-then-ok", n) => Self::RateLimitedThenOk(n.unwrap_or(1)),
            ("hang", None) => Self::Hang,
            _ => {
                return Err(format!(
                    "unknown behaviour {s:?}; expected ok, already-installed, reject, denied, \
                     fail-then-ok:N, rate-limited-then-ok:N or hang"
                ))
            }
        })
    }
}

impl fmt::Display for Behaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ok => f.write_str("ok"),
            Self::AlreadyInstalled => f.write_str("already-installed"),
            Self::Reject => f.write_str("reject"),
            Self::Denied => f.write_str("denied"),
            Self::FailThenOk(n) => write!(f, "fail-then-ok:{n}"),
            Self::RateLimitedThenOk(n) => write!(f, "rate-limited-then-ok:{n}"),
            Self::Hang => f.write_str("hang"),
        }
    }
}

/// One request as the stand-in received it.
#[derive(Debug, Clone, Serialize)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Headers, names lower-case (repeated ones joined with ", ").
    pub headers: BTreeMap<String, String>,
    /// The body parsed as JSON, or `null`.
    pub body: Value,
}

impl RecordedRequest {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// Whether this is an activation request.
    pub fn is_activation(&self) -> bool {
        self.method == "POST" && self.path == "/marketplace/partner/callback"
    }

    /// The `salon_id` of an activation body.
    pub fn salon_id(&self) -> Option<i64> {
        self.body.get("salon_id").and_then(Value::as_i64)
    }
}

/// An installation the stand-in accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Installation {
    /// The Marketplace application.
    pub application_id: i64,
    /// The key the integrator sent.
    pub api_key: String,
    /// The webhook URLs the integrator sent.
    pub webhook_urls: Vec<String>,
}

#[derive(Default)]
struct Book {
    scripts: HashMap<i64, Behaviour>,
    seen: HashMap<i64, u32>,
    installed: HashMap<i64, Installation>,
    requests: Vec<RecordedRequest>,
}

struct Inner {
    token: String,
    latency: Duration,
    book: Mutex<Book>,
    changed: Notify,
}

/// The stand-in: configure it, serve [`Standin::router`], inspect what it received.
/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Standin {
    inner: Arc<Inner>,
}

impl fmt::Debug for Standin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Standin")
            .field("latency", &self.inner.latency)
            .finish_non_exhaustive()
    }
}

impl Standin {
    /// A stand-in accepting `partner_token`, answering without delay.
    pub fn new(partner_token: impl Into<String>) -> Self {
        Self::with_latency(partner_token, Duration::ZERO)
    }

    /// A stand-in that waits `latency` before every answer.
    pub fn with_latency(partner_token: impl Into<String>, latency: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                token: partner_token.into(),
                latency,
                book: Mutex::new(Book::default()),
                changed: Notify::new(),
            }),
        }
    }

    fn book(&self) -> MutexGuard<'_, Book> {
        self.inner.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Scripts how activations of `salon_id` are answered (default: [`Behaviour::Ok`]).
    pub fn script(&self, salon_id: i64, behaviour: Behaviour) {
        let mut book = self.book();
        book.scripts.insert(salon_id, behaviour);
        book.seen.remove(&salon_id);
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.book().requests.clone()
    }

    /// The activation requests received so far.
    pub fn activations(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(RecordedRequest::is_activation)
            .collect()
    }

    /// The activation requests for one location.
    pub fn activations_for(&self, salon_id: i64) -> Vec<RecordedRequest> {
        self.activations()
            .into_iter()
            .filter(|r| r.salon_id() == Some(salon_id))
            .collect()
    }

    /// The installation of `salon_id`, if an activation succeeded.
    pub fn installation(&self, salon_id: i64) -> Option<Installation> {
        self.book().installed.get(&salon_id).cloned()
    }

    /// Forgets requests, scripts and installations.
    pub fn reset(&self) {
        *self.book() = Book::default();
    }

    /// Waits until `pred` holds for the recorded requests (checked on every new request).
    /// Wrap it in a timeout in tests: it waits for ever otherwise.
    pub async fn wait_until(&self, pred: impl Fn(&[RecordedRequest]) -> bool) {
        loop {
            let notified = self.inner.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if pred(&self.book().requests) {
                return;
            }
            notified.await;
        }
    }

    /// The stand-in's routes.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/marketplace/partner/callback", post(activate))
            .route(
                "/marketplace/salon/{salon_id}/application/{application_id}",
                get(status),
            )
            .route("/__standin/requests", get(list_requests))
            .route("/__standin/script", post(set_script))
            .route("/__standin/reset", post(reset))
            .fallback(not_found)
            .with_state(self.clone())
    }

    /// Binds `addr` (use port 0 for a free one) and serves in a background task.
    pub async fn spawn(&self, addr: SocketAddr) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
        serve_in_background(self.router(), addr, "stand-in server").await
    }

    fn record(&self, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) {
        let mut map: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in headers {
            let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
            map.entry(name.as_str().to_owned())
                .and_modify(|e| {
                    e.push_str(", ");
                    e.push_str(&v);
                })
                .or_insert(v);
        }
        let request = RecordedRequest {
            method: method.to_string(),
            path: uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| uri.path().to_owned()),
            headers: map,
            body: serde_json::from_slice(body).unwrap_or(Value::Null),
        };
        self.book().requests.push(request);
        self.inner.changed.notify_waiters();
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let expected = format!("Bearer {}", self.inner.token);
        headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == expected)
    }
}

fn altegio_error(status: StatusCode, message: &str, errors: Option<Value>) -> Response {
    let mut meta = json!({ "message": message });
    if let Some(errors) = errors {
        meta["errors"] = errors;
    }
    (
        status,
        Json(json!({ "success": false, "data": null, "meta": meta })),
    )
        .into_response()
}

fn unauthenticated() -> Response {
    altegio_error(StatusCode::UNAUTHORIZED, "Authentication needed.", None)
}

#[derive(Deserialize)]
struct ActivationBody {
    salon_id: i64,
    application_id: i64,
    api_key: String,
    webhook_urls: Vec<String>,
}

/// Checks an activation body; on failure, the `meta.errors` to answer with 422.
fn validate(body: &[u8]) -> Result<ActivationBody, Value> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| json!({ "body": ["is not valid JSON"] }))?;
    let mut errors = serde_json::Map::new();
    for (field, ok) in [
        (
            "salon_id",
            value
                .get("salon_id")
                .and_then(Value::as_i64)
                .is_some_and(|v| v > 0),
        ),
        (
            "application_id",
            value
                .get("application_id")
                .and_then(Value::as_i64)
                .is_some_and(|v| v > 0),
        ),
        (
            "api_key",
            value
                .get("api_key")
                .and_then(Value::as_str)
                .is_some_and(|v| !v.is_empty()),
        ),
        (
            "webhook_urls",
            value
                .get("webhook_urls")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().all(Value::is_string)),
        ),
    ] {
        if !ok {
            errors.insert(field.to_owned(), json!(["is missing or invalid"]));
        }
    }
    if !errors.is_empty() {
        return Err(Value::Object(errors));
    }
    serde_json::from_value(value).map_err(|e| json!({ "body": [e.to_string()] }))
}

async fn activate(
    State(standin): State<Standin>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    standin.record(&method, &uri, &headers, &body);
    if !standin.inner.latency.is_zero() {
        tokio::time::sleep(standin.inner.latency).await;
    }
    if !standin.authorized(&headers) {
        return unauthenticated();
    }
    let accept = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !accept.contains(crate::partner_api::ALTEGIO_ACCEPT) {
        return altegio_error(
            StatusCode::BAD_REQUEST,
            "Accept must be application/vnd.api.v2+json.",
            None,
        );
    }
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/json") {
        return altegio_error(
            StatusCode::BAD_REQUEST,
            "Content-Type must be application/json.",
            None,
        );
    }
    let body = match validate(&body) {
        Ok(b) => b,
        Err(errors) => {
            return altegio_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Validation error.",
                Some(errors),
            )
        }
    };
    let (behaviour, seen) = {
        let mut book = standin.book();
        let seen = {
            let n = book.seen.entry(body.salon_id).or_insert(0);
            *n += 1;
            *n
        };
        let behaviour = book
            .scripts
            .get(&body.salon_id)
            .cloned()
            .unwrap_or(Behaviour::Ok);
        (behaviour, seen)
    };
    match behaviour {
        Behaviour::Hang => std::future::pending::<Response>().await,
        Behaviour::AlreadyInstalled => {
            altegio_error(StatusCode::FORBIDDEN, ALREADY_INSTALLED, None)
        }
        Behaviour::Denied => altegio_error(StatusCode::FORBIDDEN, "Access denied.", None),
        Behaviour::Reject => altegio_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation error.",
            Some(json!({ "salon_id": ["The location does not accept this application."] })),
        ),
        Behaviour::FailThenOk(n) if seen <= n => altegio_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal server error.",
            None,
        ),
        Behaviour::RateLimitedThenOk(n) if seen <= n => {
            let mut r = altegio_error(StatusCode::TOO_MANY_REQUESTS, "Too many requests.", None);
            r.headers_mut()
                .insert(RETRY_AFTER, axum::http::HeaderValue::from_static("0"));
            r
        }
        Behaviour::Ok | Behaviour::FailThenOk(_) | Behaviour::RateLimitedThenOk(_) => {
            let mut book = standin.book();
            if book.installed.contains_key(&body.salon_id) {
                return altegio_error(StatusCode::FORBIDDEN, ALREADY_INSTALLED, None);
            }
            book.installed.insert(
                body.salon_id,
                Installation {
                    application_id: body.application_id,
                    api_key: body.api_key,
                    webhook_urls: body.webhook_urls,
                },
            );
            (
                StatusCode::OK,
                Json(json!({ "success": true, "data": null, "meta": [] })),
            )
                .into_response()
        }
    }
}

async fn status(
    State(standin): State<Standin>,
    Path((salon_id, application_id)): Path<(i64, i64)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    standin.record(&method, &uri, &headers, &[]);
    if !standin.inner.latency.is_zero() {
        tokio::time::sleep(standin.inner.latency).await;
    }
    if !standin.authorized(&headers) {
        return unauthenticated();
    }
    let installed = standin
        .installation(salon_id)
        .filter(|i| i.application_id == application_id);
    let data = json!({
        "salon_id": salon_id,
        "application_id": application_id,
        "status": if installed.is_some() { "active" } else { "inactive" },
        "webhook_urls": installed.map(|i| i.webhook_urls).unwrap_or_default(),
    });
    Json(json!({ "success": true, "data": data, "meta": [] })).into_response()
}

async fn list_requests(State(standin): State<Standin>) -> Response {
    let mut requests = standin.requests();
    for r in &mut requests {
        if let Some(v) = r.headers.get_mut("authorization") {
            *v = "[redacted]".to_owned();
        }
    }
    Json(json!({ "requests": requests })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptBody {
    salon_id: i64,
    behaviour: String,
}

async fn set_script(State(standin): State<Standin>, body: Bytes) -> Response {
    let parsed: Result<ScriptBody, String> =
        serde_json::from_slice(&body).map_err(|e| e.to_string());
    match parsed.and_then(|b| Ok((b.salon_id, b.behaviour.parse::<Behaviour>()?))) {
        Ok((salon_id, behaviour)) => {
            standin.script(salon_id, behaviour.clone());
            Json(json!({ "salon_id": salon_id, "behaviour": behaviour.to_string() }))
                .into_response()
        }
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": e })),
        )
            .into_response(),
    }
}

async fn reset(State(standin): State<Standin>) -> Response {
    standin.reset();
    Json(json!({ "ok": true })).into_response()
}

async fn not_found(
    State(standin): State<Standin>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    standin.record(&method, &uri, &headers, &body);
    altegio_error(StatusCode::NOT_FOUND, "Not found.", None)
}

/// Binds `addr` (port 0: a free one) and serves `router` in a background task; `what` names
/// the server in the log if it stops. Shared by the partner API and destination stand-ins.
pub(crate) async fn serve_in_background(
    router: Router,
    addr: SocketAddr,
    what: &'static str,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let handle = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, server = what, "stopped");
        }
    });
    Ok((local, handle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaviours_round_trip() {
        for s in [
            "ok",
            "already-installed",
            "reject",
            "denied",
            "fail-then-ok:2",
            "rate-limited-then-ok:1",
            "hang",
        ] {
            assert_eq!(s.parse::<Behaviour>().unwrap().to_string(), s);
        }
        assert_eq!(
            "fail-then-ok".parse::<Behaviour>().unwrap(),
            Behaviour::FailThenOk(1)
        );
        assert!("explode".parse::<Behaviour>().is_err());
        assert!("fail-then-ok:x".parse::<Behaviour>().is_err());
    }
}
