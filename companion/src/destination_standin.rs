//! A stand-in for the Meta Conversions API and the GA4 Measurement Protocol, for offline
//! development, the demo and the tests. One server answers both:
//!
//! - `POST …/{pixel_id}/events?access_token=…` (Meta; any path prefix, so
//!   `--meta-api http://127.0.0.1:PORT/v21.0` works) — 200
//!   `{"events_received": n, "messages": [], "fbtrace_id": "standin"}`; a missing
//!   `access_token` or a body without a `data` array answers 400 like Meta;
//! - `POST /mp/collect?measurement_id=…&api_secret=…` (GA4) — 204, as Google answers;
//! - `GET /__standin/requests` — what it received (`access_token` and `api_secret` redacted);
//! - `POST /__standin/script` — `{"destination": "meta"|"ga4", "replies": ["500", "200"],
//!   "default": "200"?}`: the next calls to that destination get these replies in order,
//!   then the default;
//! - `POST /__standin/reset` — forget calls and scripts.
//!
//! Replies ([`Reply`]): `200` (or `ok`), any other status code (`400`, `408`, `500`, `503`…
//! with a Meta-style error body), `429` (no `Retry-After`), `429:N` (`Retry-After: N`), and
//! `hang` (never answers, until the client gives up).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

pub use crate::delivery::Destination;

/// How the stand-in answers one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// 200 (Meta) or 204 (GA4).
    Ok,
    /// This status, with a Meta-style error body.
    Status(u16),
    /// 429, with `Retry-After: N` when given.
    TooManyRequests(Option<u64>),
    /// Never answers.
    Hang,
}

impl FromStr for Reply {
    type Err = String;

    /// `ok`/`200`, a status code, `429`, `429:N`, `hang`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        match s {
            "ok" | "200" => return Ok(Self::Ok),
            "hang" => return Ok(Self::Hang),
            "429" => return Ok(Self::TooManyRequests(None)),
            _ => {}
        }
        if let Some(n) = s.strip_prefix("429:") {
            return n
                .parse()
                .map(|n| Self::TooManyRequests(Some(n)))
                .map_err(|_| format!("bad Retry-After in {s:?}"));
        }
        match s.parse::<u16>() {
            Ok(code) if (100..600).contains(&code) && code != 429 => Ok(Self::Status(code)),
            _ => Err(format!(
                "unknown reply {s:?}; expected ok, a status code, 429, 429:N or hang"
            )),
        }
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ok => f.write_str("200"),
            Self::Status(c) => write!(f, "{c}"),
            Self::TooManyRequests(None) => f.write_str("429"),
            Self::TooManyRequests(Some(n)) => write!(f, "429:{n}"),
            Self::Hang => f.write_str("hang"),
        }
    }
}

/// One call as the stand-in received it.
#[derive(Debug, Clone, Serialize)]
pub struct RecordedCall {
    /// Which destination it was for.
    pub destination: Destination,
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Query parameters (credentials included; redacted in `GET /__standin/requests`).
    pub query: BTreeMap<String, String>,
    /// Headers, names lower-case.
    pub headers: BTreeMap<String, String>,
    /// The body parsed as JSON, or `null`.
    pub body: Value,
    /// The reply given (`200`, `503`, `429:1`, `hang`…).
    pub reply: String,
}

impl RecordedCall {
    /// The `event_id`s in a Meta body.
    pub fn meta_event_ids(&self) -> Vec<String> {
        self.body["data"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|d| d["event_id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[derive(Default)]
struct Book {
    scripts: HashMap<Destination, VecDeque<Reply>>,
    defaults: HashMap<Destination, Reply>,
    calls: Vec<RecordedCall>,
}

struct Inner {
    book: Mutex<Book>,
    changed: Notify,
}

/// The stand-in: script it, serve [`DestinationStandin::router`], inspect what it received.
/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct DestinationStandin {
    inner: Arc<Inner>,
}

impl fmt::Debug for DestinationStandin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DestinationStandin").finish_non_exhaustive()
    }
}

impl Default for DestinationStandin {
    fn default() -> Self {
        Self::new()
    }
}

impl DestinationStandin {
    /// A stand-in answering every call with success.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                book: Mutex::new(Book::default()),
                changed: Notify::new(),
            }),
        }
    }

    fn book(&self) -> MutexGuard<'_, Book> {
        self.inner.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next calls to `destination` get `replies`, in order (after any already queued).
    pub fn script(&self, destination: Destination, replies: impl IntoIterator<Item = Reply>) {
        self.book()
            .scripts
            .entry(destination)
            .or_default()
            .extend(replies);
    }

    /// What `destination` answers once its script is used up (initially [`Reply::Ok`]).
    pub fn set_default(&self, destination: Destination, reply: Reply) {
        self.book().defaults.insert(destination, reply);
    }

    /// Every call received, in order.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.book().calls.clone()
    }

    /// The calls to one destination.
    pub fn calls_to(&self, destination: Destination) -> Vec<RecordedCall> {
        self.book()
            .calls
            .iter()
            .filter(|c| c.destination == destination)
            .cloned()
            .collect()
    }

    /// Forgets calls, scripts and defaults.
    pub fn reset(&self) {
        *self.book() = Book::default();
        self.inner.changed.notify_waiters();
    }

    /// Waits until `pred` holds for the recorded calls (checked on every new call).
    /// Wrap it in a timeout in tests: it waits for ever otherwise.
    pub async fn wait_until(&self, pred: impl Fn(&[RecordedCall]) -> bool) {
        loop {
            let notified = self.inner.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if pred(&self.book().calls) {
                return;
            }
            notified.await;
        }
    }

    /// The stand-in's routes.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/__standin/requests", get(list_calls))
            .route("/__standin/script", post(set_script))
            .route("/__standin/reset", post(reset))
            .fallback(destination_call)
            .with_state(self.clone())
    }

    /// Binds `addr` (use port 0 for a free one) and serves in a background task.
    pub async fn spawn(&self, addr: SocketAddr) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
        crate::standin::serve_in_background(self.router(), addr, "destination stand-in").await
    }

    /// Takes the next reply for `destination`.
    fn next_reply(&self, destination: Destination) -> Reply {
        let mut book = self.book();
        if let Some(r) = book
            .scripts
            .get_mut(&destination)
            .and_then(VecDeque::pop_front)
        {
            return r;
        }
        book.defaults
            .get(&destination)
            .cloned()
            .unwrap_or(Reply::Ok)
    }
}

fn meta_error(status: StatusCode, message: &str, code: i64) -> Response {
    (
        status,
        Json(json!({"error": {
            "message": message, "type": "OAuthException", "code": code, "fbtrace_id": "standin"
        }})),
    )
        .into_response()
}

async fn destination_call(
    State(standin): State<DestinationStandin>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let destination = if path == "/mp/collect" || path.ends_with("/mp/collect") {
        Destination::Ga4
    } else if path.ends_with("/events") {
        Destination::Meta
    } else {
        return (StatusCode::NOT_FOUND, Json(json!({"error": "not found"}))).into_response();
    };
    if method != Method::POST {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            Json(json!({"error": "POST only"})),
        )
            .into_response();
    }
    let query: BTreeMap<String, String> = uri
        .query()
        .map(|q| {
            reqwest::Url::parse(&format!("http://x/?{q}"))
                .map(|u| u.query_pairs().into_owned().collect())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    let mut header_map = BTreeMap::new();
    for (name, value) in &headers {
        header_map.insert(
            name.as_str().to_owned(),
            String::from_utf8_lossy(value.as_bytes()).into_owned(),
        );
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);

    // Requests Meta itself would refuse.
    let malformed = match destination {
        Destination::Meta => {
            if query.get("access_token").is_none_or(String::is_empty) {
                Some(meta_error(
                    StatusCode::BAD_REQUEST,
                    "An access token is required to request this resource.",
                    104,
                ))
            } else if !body["data"].is_array() {
                Some(meta_error(
                    StatusCode::BAD_REQUEST,
                    "The parameter data is required",
                    100,
                ))
            } else {
                None
            }
        }
        Destination::Ga4 => None,
    };
    let reply = if malformed.is_some() {
        Reply::Status(400)
    } else {
        standin.next_reply(destination)
    };
    let events = body["data"].as_array().map_or(0, Vec::len);
    {
        let mut book = standin.book();
        book.calls.push(RecordedCall {
            destination,
            method: method.to_string(),
            path,
            query,
            headers: header_map,
            body,
            reply: reply.to_string(),
        });
    }
    standin.inner.changed.notify_waiters();
    if let Some(r) = malformed {
        return r;
    }
    match reply {
        Reply::Hang => std::future::pending::<Response>().await,
        Reply::Ok => match destination {
            Destination::Meta => Json(json!({
                "events_received": events, "messages": [], "fbtrace_id": "standin"
            }))
            .into_response(),
            Destination::Ga4 => StatusCode::NO_CONTENT.into_response(),
        },
        Reply::TooManyRequests(after) => {
            let mut r = meta_error(
                StatusCode::TOO_MANY_REQUESTS,
                "(#4) Application request limit reached",
                4,
            );
            if let Some(n) = after {
                if let Ok(v) = HeaderValue::from_str(&n.to_string()) {
                    r.headers_mut().insert(RETRY_AFTER, v);
                }
            }
            r
        }
        Reply::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            meta_error(status, &format!("scripted HTTP {code}"), i64::from(code))
        }
    }
}

async fn list_calls(State(standin): State<DestinationStandin>) -> Response {
    let mut calls = standin.calls();
    for c in &mut calls {
        for secret in ["access_token", "api_secret"] {
            if let Some(v) = c.query.get_mut(secret) {
                *v = "[redacted]".to_owned();
            }
        }
    }
    Json(json!({ "requests": calls })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptBody {
    destination: String,
    #[serde(default)]
    replies: Vec<String>,
    default: Option<String>,
}

fn parse_destination(s: &str) -> Result<Destination, String> {
    match s {
        "meta" => Ok(Destination::Meta),
        "ga4" => Ok(Destination::Ga4),
        other => Err(format!(
            "unknown destination {other:?}; expected meta or ga4"
        )),
    }
}

async fn set_script(State(standin): State<DestinationStandin>, body: Bytes) -> Response {
    let parsed = (|| -> Result<_, String> {
        let b: ScriptBody = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        let d = parse_destination(&b.destination)?;
        let replies = b
            .replies
            .iter()
            .map(|r| r.parse::<Reply>())
            .collect::<Result<Vec<_>, _>>()?;
        let default = b.default.map(|r| r.parse::<Reply>()).transpose()?;
        Ok((d, replies, default))
    })();
    match parsed {
        Ok((d, replies, default)) => {
            standin.script(d, replies);
            if let Some(r) = default {
                standin.set_default(d, r);
            }
            Json(json!({ "ok": true })).into_response()
        }
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": e })),
        )
            .into_response(),
    }
}

async fn reset(State(standin): State<DestinationStandin>) -> Response {
    standin.reset();
    Json(json!({ "ok": true })).into_response()
}

/// Parses a comma-separated list of replies, e.g. `500,429:1,200`.
pub fn parse_replies(s: &str) -> Result<Vec<Reply>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::parse)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_round_trip() {
        for s in [
            "200", "400", "408", "429", "429:0", "429:3", "500", "503", "hang",
        ] {
            assert_eq!(s.parse::<Reply>().unwrap().to_string(), s);
        }
        assert_eq!("ok".parse::<Reply>().unwrap(), Reply::Ok);
        assert!("explode".parse::<Reply>().is_err());
        assert!("429:x".parse::<Reply>().is_err());
        assert!("700".parse::<Reply>().is_err());
        assert_eq!(
            parse_replies("500, 429:1,200").unwrap(),
            [
                Reply::Status(500),
                Reply::TooManyRequests(Some(1)),
                Reply::Ok
            ]
        );
    }
}
