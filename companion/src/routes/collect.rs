//! `POST /api/collect`: events from the module's pages, stored once per `(site, event_id)` and
//! delivered in the background to the Meta Conversions API and the GA4 Measurement Protocol;
//! `OPTIONS /api/collect` (CORS preflight); `GET /api/collect/status` (counts for operators,
//! behind the admin token when one is set).
//!
//! See companion/README.md for the contract. In short: the body is JSON, sent as
//! `application/json` or `text/plain` (what `navigator.sendBeacon` sends without a
//! preflight), at most 64 KiB and 25 events; the `Origin` must be one of the site's and the
//! key the site's; the answer is 202 `{"accepted": n, "duplicates": m}` once the events are
//! in SQLite. Nothing is sent to a destination during the request.
//!
//! The visitor's IP address, for Meta, comes from the connection ([`crate::client_ip`]): the
//! router must be served with `into_make_service_with_connect_info::<SocketAddr>()`. Served
//! without it, events are stored without an address (and a warning is logged once).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, Request, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, CONTENT_TYPE, ORIGIN, RETRY_AFTER, USER_AGENT, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use subtle::ConstantTimeEq;

use altegio_analytics::ga4;

use crate::client_ip::{client_ip, X_FORWARDED_FOR};
use crate::delivery::store::NewEvent;
use crate::delivery::{now_ms, StoredClient, StoredEvent, StoredForm, StoredUserData};
use crate::error::{self, AppError};
use crate::json::BODY_LIMIT;
use crate::routes::admin::Admin;
use crate::state::AppState;

/// Events in one request at most.
pub const MAX_EVENTS: usize = 25;
/// Characters of an `event_id` at most.
pub const MAX_EVENT_ID: usize = 100;

/// The collect routes, with their own CORS handling (the site's origins, not `--cors-origin`).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/api/collect",
            post(collect)
                .options(preflight)
                .fallback(error::method_not_allowed),
        )
        .route(
            "/api/collect/status",
            get(status).fallback(error::method_not_allowed),
        )
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// The request body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectBody {
    /// Site ID.
    pub site: String,
    /// The site's public key.
    pub key: String,
    /// The browser.
    #[serde(default)]
    pub client: ClientIn,
    /// 1 to 25 events.
    pub events: Vec<EventIn>,
}

/// `client` in the request.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientIn {
    /// The `_ga` client ID (`<random>.<seconds>`).
    pub ga_client_id: Option<String>,
    /// `_fbp`.
    pub fbp: Option<String>,
    /// `_fbc`.
    pub fbc: Option<String>,
    /// The page URL.
    pub page_url: Option<String>,
    /// `navigator.userAgent`; the request's `User-Agent` when absent.
    pub user_agent: Option<String>,
}

/// One event in the request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventIn {
    /// The browser's event ID (Meta `eventID`).
    pub event_id: String,
    /// The module's event name.
    pub name: String,
    /// GA4 form.
    #[serde(default)]
    pub ga4: Option<FormIn>,
    /// Meta form.
    #[serde(default)]
    pub meta: Option<FormIn>,
    /// Whether gtag/dataLayer got it in the browser.
    pub ga4_delivered_in_browser: bool,
    /// When it happened, epoch ms.
    pub time_ms: i64,
    /// Hashed identifiers.
    #[serde(default)]
    pub user_data: Option<UserDataIn>,
}

/// A destination form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormIn {
    /// Name.
    pub name: String,
    /// Parameters.
    #[serde(default)]
    pub params: Map<String, Value>,
}

/// `user_data` in the request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserDataIn {
    /// SHA-256 hex of the normalised e-mail.
    pub em: Option<String>,
    /// SHA-256 hex of the normalised phone.
    pub ph: Option<String>,
}

/// The 202 answer.
#[derive(Debug, Serialize)]
pub struct CollectResponse {
    /// Events stored now.
    pub accepted: usize,
    /// Events stored before (same site and `event_id`), ignored.
    pub duplicates: usize,
}

/// A JSON error in the API's shape, for the statuses [`AppError`] has no variant for.
fn json_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (
        status,
        Json(json!({ "error": { "code": code, "message": message.into() } })),
    )
        .into_response()
}

fn forbidden(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::Forbidden {
        code,
        message: message.into(),
    }
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> AppError {
    let field = field.into();
    let message = format!("{field}: {}", message.into());
    AppError::invalid_field("invalid_field", field, message)
}

/// Adds `Access-Control-Allow-Origin` when some site allows the request's origin.
fn with_cors(state: &AppState, origin: Option<&str>, mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.append(VARY, HeaderValue::from_static("origin"));
    if let Some(origin) = origin {
        if state.config.collect.any_site_allows(origin) {
            if let Ok(v) = HeaderValue::from_str(origin) {
                headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, v);
            }
        }
    }
    response
}

fn origin_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get(ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `OPTIONS /api/collect`: the preflight of an `application/json` POST.
pub async fn preflight(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let origin = origin_of(&headers);
    let allowed = origin
        .as_deref()
        .is_some_and(|o| state.config.collect.any_site_allows(o));
    if !allowed {
        return with_cors(
            &state,
            None,
            forbidden(
                "origin_not_allowed",
                "this origin is not allowed to post events",
            )
            .into_response(),
        );
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST"),
    );
    h.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    h.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    with_cors(&state, origin.as_deref(), response)
}

/// `POST /api/collect`.
pub async fn collect(State(state): State<AppState>, request: Request) -> Response {
    let origin = origin_of(request.headers());
    let response = match handle(&state, origin.as_deref(), request).await {
        Ok(r) => r,
        Err(e) => e,
    };
    with_cors(&state, origin.as_deref(), response)
}

/// `application/json`, `application/*+json` or `text/plain`, parameters ignored.
fn acceptable_content_type(headers: &HeaderMap) -> bool {
    let Some(ct) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = crate::json::media_type(ct);
    essence == "text/plain" || crate::json::is_json_media_type(&essence)
}

/// Whether the warning about a server without peer addresses was logged.
static NO_PEER_WARNED: AtomicBool = AtomicBool::new(false);

/// The visitor's address: the TCP peer, or what a trusted proxy forwarded. `None` when the
/// router was served without peer addresses.
fn visitor_ip(state: &AppState, request: &Request) -> Option<IpAddr> {
    let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() else {
        if !NO_PEER_WARNED.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "the server was started without peer addresses \
                 (into_make_service_with_connect_info): events reach Meta without client_ip_address"
            );
        }
        return None;
    };
    Some(client_ip(
        peer.ip(),
        request.headers().get_all(X_FORWARDED_FOR),
        &state.config.trusted_proxies,
    ))
}

async fn handle(
    state: &AppState,
    origin: Option<&str>,
    request: Request,
) -> Result<Response, Response> {
    if !acceptable_content_type(request.headers()) {
        return Err(json_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected Content-Type: application/json or text/plain",
        ));
    }
    let request_ua = request
        .headers()
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let ip = visitor_ip(state, &request);
    let bytes = Bytes::from_request(request, &())
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge { limit: BODY_LIMIT }.into_response()
            } else {
                AppError::Invalid {
                    code: "unreadable_body",
                    message: "could not read the request body".to_owned(),
                    field: None,
                }
                .into_response()
            }
        })?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| {
        AppError::Invalid {
            code: "invalid_json",
            message: "the body is not valid JSON".to_owned(),
            field: None,
        }
        .into_response()
    })?;
    if !value.is_object() {
        return Err(AppError::Invalid {
            code: "invalid_json",
            message: "expected a JSON object".to_owned(),
            field: None,
        }
        .into_response());
    }

    // Authenticate before anything else is looked at.
    let collect = &state.config.collect;
    let site_id = value
        .get("site")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("site", "expected the site ID as a string").into_response())?;
    let Some(site) = collect.site(site_id) else {
        return Err(
            forbidden("unknown_site", format!("no site {site_id:?} is configured")).into_response(),
        );
    };
    match origin {
        None => {
            return Err(
                forbidden("origin_missing", "the request has no Origin header").into_response(),
            )
        }
        Some(o) if !site.origins.iter().any(|allowed| allowed == o) => {
            return Err(forbidden(
                "origin_not_allowed",
                format!("origin {o} is not allowed for site {site_id}"),
            )
            .into_response())
        }
        Some(_) => {}
    }
    let key = value.get("key").and_then(Value::as_str).unwrap_or("");
    let key_ok: bool = key.as_bytes().ct_eq(site.key.as_bytes()).into();
    if !key_ok {
        return Err(
            forbidden("invalid_key", format!("wrong key for site {site_id}")).into_response(),
        );
    }
    if let Err(wait) = state.collect.limiter.check(&site.id) {
        let secs = retry_after_secs(wait);
        let mut r = json_error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests for site {site_id}; retry in {secs} s"),
        );
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            r.headers_mut().insert(RETRY_AFTER, v);
        }
        return Err(r);
    }

    let body: CollectBody = crate::json::from_value(value).map_err(IntoResponse::into_response)?;
    let events = validate(&body, request_ua, ip, collect).map_err(IntoResponse::into_response)?;
    let site_name = site.id.clone();
    let (accepted, duplicates) = state
        .db
        .insert_collected(site_name.clone(), events, now_ms())
        .await
        .map_err(|e| AppError::from(e).into_response())?;
    if accepted > 0 {
        state.collect.wake();
    }
    tracing::info!(site = %site_name, accepted, duplicates, "events collected");
    Ok((
        StatusCode::ACCEPTED,
        Json(CollectResponse {
            accepted,
            duplicates,
        }),
    )
        .into_response())
}

fn text_ok(s: &str, max: usize) -> bool {
    !s.is_empty() && s.chars().count() <= max && !s.chars().any(char::is_control)
}

fn check_text(field: &str, s: &str, max: usize) -> Result<(), AppError> {
    if text_ok(s, max) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("expected 1–{max} characters without control characters"),
        ))
    }
}

fn check_opt(field: &str, s: &Option<String>, max: usize) -> Result<(), AppError> {
    match s {
        Some(s) => check_text(field, s, max),
        None => Ok(()),
    }
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The GA4 rules are the module's own (`altegio_analytics::ga4`), so that the companion
/// refuses exactly what the browser side would never send.
fn check_ga4(field: &str, form: &FormIn) -> Result<(), AppError> {
    if let Err((_, why)) = ga4::check_event_name(&form.name) {
        return Err(invalid(format!("{field}.name"), why));
    }
    if form.params.len() > ga4::MAX_PARAMS {
        return Err(invalid(format!("{field}.params"), "at most 25 parameters"));
    }
    for (k, v) in &form.params {
        let f = format!("{field}.params.{k}");
        if ga4::param_name_problem(k).is_some() {
            return Err(invalid(
                f,
                "parameter names are at most 40 letters, digits or underscores, starting with a letter, without a reserved prefix",
            ));
        }
        match v {
            Value::String(s) if s.chars().count() <= ga4::MAX_VALUE_LENGTH => {}
            Value::String(_) => return Err(invalid(f, "string values are at most 100 characters")),
            Value::Number(_) | Value::Bool(_) => {}
            _ => return Err(invalid(f, "expected a string, number or boolean")),
        }
    }
    Ok(())
}

/// A client ID for GA4 when the page had no `_ga` cookie: `<random 31 bits>.<unix seconds>`.
fn generated_client_id(now_ms: i64) -> String {
    let random = getrandom::u32().unwrap_or(0) & 0x7fff_ffff;
    format!("{}.{}", random.max(1), now_ms / 1000)
}

/// Checks the body and turns it into rows to store. `ip` is the visitor's address from the
/// connection (never from the body); it is kept only for events going to Meta.
fn validate(
    body: &CollectBody,
    request_ua: Option<String>,
    ip: Option<IpAddr>,
    config: &crate::sites::CollectConfig,
) -> Result<Vec<NewEvent>, AppError> {
    if body.events.is_empty() || body.events.len() > MAX_EVENTS {
        return Err(invalid(
            "events",
            format!(
                "expected 1 to {MAX_EVENTS} events, got {}",
                body.events.len()
            ),
        ));
    }
    let c = &body.client;
    if let Some(id) = &c.ga_client_id {
        if id.is_empty() || id.len() > 100 || !id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid(
                "client.ga_client_id",
                "expected 1–100 printable characters",
            ));
        }
    }
    for (field, v) in [("client.fbp", &c.fbp), ("client.fbc", &c.fbc)] {
        if let Some(v) = v {
            if v.is_empty() || v.len() > 500 || !v.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(invalid(field, "expected 1–500 printable characters"));
            }
        }
    }
    if let Some(url) = &c.page_url {
        let ok = url.len() <= 2048
            && reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !ok {
            return Err(invalid(
                "client.page_url",
                "expected an http(s) URL of at most 2048 characters",
            ));
        }
    }
    check_opt("client.user_agent", &c.user_agent, 1024)?;
    let now = now_ms();
    let client = StoredClient {
        ga_client_id: c
            .ga_client_id
            .clone()
            .unwrap_or_else(|| generated_client_id(now)),
        fbp: c.fbp.clone(),
        fbc: c.fbc.clone(),
        page_url: c.page_url.clone(),
        user_agent: c
            .user_agent
            .clone()
            .or_else(|| request_ua.filter(|ua| text_ok(ua, 1024))),
    };

    let mut out = Vec::with_capacity(body.events.len());
    for (i, e) in body.events.iter().enumerate() {
        let f = |name: &str| format!("events[{i}].{name}");
        if !text_ok(&e.event_id, MAX_EVENT_ID) {
            return Err(invalid(
                f("event_id"),
                format!("expected 1–{MAX_EVENT_ID} characters without control characters"),
            ));
        }
        check_text(&f("name"), &e.name, 100)?;
        if let Some(ga4) = &e.ga4 {
            check_ga4(&f("ga4"), ga4)?;
        }
        if let Some(meta) = &e.meta {
            check_text(&f("meta.name"), &meta.name, 50)?;
        }
        if e.time_ms <= 0 || e.time_ms > 100_000_000_000_000 {
            return Err(invalid(f("time_ms"), "expected epoch milliseconds"));
        }
        if let Some(ud) = &e.user_data {
            for (name, v) in [("em", &ud.em), ("ph", &ud.ph)] {
                if v.as_deref().is_some_and(|h| !is_sha256_hex(h)) {
                    return Err(invalid(
                        f(&format!("user_data.{name}")),
                        "expected a SHA-256 hash: 64 lower-case hex digits (hash in the browser)",
                    ));
                }
            }
        }
        let stored = StoredEvent {
            event_id: e.event_id.clone(),
            name: e.name.clone(),
            time_ms: e.time_ms,
            ga4: e.ga4.as_ref().map(|g| StoredForm {
                name: g.name.clone(),
                params: g.params.clone(),
            }),
            meta: e.meta.as_ref().map(|m| StoredForm {
                name: m.name.clone(),
                params: m.params.clone(),
            }),
            ga4_delivered_in_browser: e.ga4_delivered_in_browser,
            user_data: e
                .user_data
                .as_ref()
                .filter(|u| u.em.is_some() || u.ph.is_some())
                .map(|u| StoredUserData {
                    em: u.em.clone(),
                    ph: u.ph.clone(),
                }),
            client: client.clone(),
        };
        let payload = serde_json::to_string(&stored).map_err(AppError::internal)?;
        let destinations = stored.destinations(config);
        let client_ip = ip
            .filter(|_| destinations.contains(&crate::delivery::Destination::Meta))
            .map(|ip| ip.to_string());
        out.push(NewEvent {
            event_id: e.event_id.clone(),
            name: e.name.clone(),
            destinations,
            payload,
            client_ip,
        });
    }
    Ok(out)
}

/// `GET /api/collect/status`: counts per destination and state (and per site), whether each
/// destination is configured, and the latest problems. Never credentials nor event contents.
/// Behind the admin token when one is set ([`Admin`]).
pub async fn status(_admin: Admin, State(state): State<AppState>) -> Result<Response, AppError> {
    let config = &state.config.collect;
    let counts = state.db.delivery_counts().await?;
    let events = state.db.collected_count().await?;
    let problems = state.db.delivery_rows(true, 20).await?;
    let empty =
        || json!({"pending": 0, "in_flight": 0, "delivered": 0, "failed": 0, "uncertain": 0});
    let mut destinations = json!({ "meta": empty(), "ga4": empty() });
    let mut sites = Map::new();
    for s in &config.sites {
        sites.insert(s.id.clone(), json!({ "meta": empty(), "ga4": empty() }));
    }
    for c in &counts {
        let d = c.destination.as_str();
        if let Some(n) = destinations[d].get_mut(&c.state) {
            *n = json!(n.as_i64().unwrap_or(0) + c.count);
        }
        let site = sites
            .entry(c.site.clone())
            .or_insert_with(|| json!({ "meta": empty(), "ga4": empty() }));
        if let Some(n) = site[d].get_mut(&c.state) {
            *n = json!(c.count);
        }
    }
    let body = json!({
        "delivery_enabled": config.delivery.enabled,
        "configured": { "meta": config.meta.is_some(), "ga4": config.ga4.is_some() },
        "events": events,
        "destinations": destinations,
        "sites": sites,
        "recent_problems": problems,
    });
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// `Retry-After` seconds for a wait (at least 1).
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ga4_names() {
        let form = |name: &str| FormIn {
            name: name.into(),
            params: Map::new(),
        };
        assert!(check_ga4("g", &form("booking_created")).is_ok());
        assert!(check_ga4("g", &form("1abc")).is_err());
        assert!(check_ga4("g", &form("a-b")).is_err());
        assert!(check_ga4("g", &form(&"a".repeat(41))).is_err());
        assert!(check_ga4("g", &form("session_start")).is_err());
        assert!(check_ga4("g", &form("google_x")).is_err());
        assert!(check_ga4("g", &form("notification_open")).is_err());
        assert!(check_ga4("g", &form("booked")).is_ok());
    }

    #[test]
    fn hashes_and_client_ids() {
        assert!(is_sha256_hex(&"0a".repeat(32)));
        assert!(!is_sha256_hex(&"0A".repeat(32)));
        assert!(!is_sha256_hex("abc"));
        let id = generated_client_id(1_700_000_000_123);
        let (a, b) = id.split_once('.').unwrap();
        assert!(a.parse::<u32>().unwrap() > 0);
        assert_eq!(b, "1700000000");
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(2500)), 3);
    }
}
