//! The client of Altegio's partner API: `POST {api}/marketplace/partner/callback`, with a
//! timeout per call, bounded concurrency over all requests, and retries with exponential
//! backoff and jitter on network errors, timeouts, 408, 429 (honouring `Retry-After`) and 5xx.
//!
//! 401, 403, 422 and other 4xx are final, except a 403 saying the application is "already
//! installed", which counts as success.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, ACCEPT, RETRY_AFTER};
use reqwest::StatusCode;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::config::{Config, RetryPolicy, Secret};

/// The media type Altegio's v2 API expects in `Accept`.
pub const ALTEGIO_ACCEPT: &str = "application/vnd.api.v2+json";
/// The activation path, appended to the API base URL.
pub const CALLBACK_PATH: &str = "/marketplace/partner/callback";
/// The most of an error body read from Altegio.
const MAX_ERROR_BODY: usize = 16 * 1024;
/// The most of Altegio's message kept in a reason.
const MAX_REASON: usize = 500;

/// How one location's activation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activation {
    /// 2xx: Altegio accepted the key.
    Activated,
    /// 403 "already installed": the location is active already.
    AlreadyInstalled,
    /// A final refusal, or the retries ran out; the reason includes Altegio's message.
    Failed(String),
}

/// The activation request body.
#[derive(Debug, Serialize)]
struct ActivationBody<'a> {
    salon_id: i64,
    application_id: i64,
    api_key: &'a str,
    webhook_urls: &'a [String],
}

enum Attempt {
    Done(Activation),
    Retry {
        reason: String,
        after: Option<Duration>,
    },
}

/// The partner API client. Cheap to clone; clones share the concurrency bound.
#[derive(Clone)]
pub struct PartnerApi {
    http: reqwest::Client,
    callback_url: String,
    token: Secret,
    application_id: i64,
    public_url: String,
    policy: RetryPolicy,
    permits: Arc<Semaphore>,
}

impl std::fmt::Debug for PartnerApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartnerApi")
            .field("callback_url", &self.callback_url)
            .field("token", &self.token)
            .field("application_id", &self.application_id)
            .field("policy", &self.policy)
            .finish()
    }
}

impl PartnerApi {
    /// Builds the client from the settings.
    pub fn new(config: &Config) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(config.retry.timeout)
            .connect_timeout(config.retry.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("altegio-companion/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            callback_url: format!("{}{CALLBACK_PATH}", config.altegio_api),
            token: config.partner_token.clone(),
            application_id: config.application_id,
            public_url: config.public_url.clone(),
            policy: config.retry.clone(),
            permits: Arc::new(Semaphore::new(config.retry.concurrency.max(1))),
        })
    }

    /// Activates `salon_id` with `api_key` and the location's own webhook URL
    /// ([`crate::webhook_token::url`]), retrying as the policy allows. Never panics and never
    /// returns early on a transient error: the outcome is always one of [`Activation`].
    pub async fn activate(&self, salon_id: i64, api_key: &str) -> Activation {
        let webhook_urls = [crate::webhook_token::url(
            &self.public_url,
            salon_id,
            &self.token,
        )];
        let body = ActivationBody {
            salon_id,
            application_id: self.application_id,
            api_key,
            webhook_urls: &webhook_urls,
        };
        let attempts = self.policy.attempts.max(1);
        let mut last = String::new();
        for n in 1..=attempts {
            match self.attempt(&body).await {
                Attempt::Done(outcome) => return outcome,
                Attempt::Retry { reason, after } => {
                    tracing::warn!(salon_id, attempt = n, %reason, "activation attempt failed");
                    last = reason;
                    if n < attempts {
                        let delay = after.unwrap_or_else(|| backoff(&self.policy, n));
                        tokio::time::sleep(delay.min(self.policy.max_delay)).await;
                    }
                }
            }
        }
        Activation::Failed(format!("gave up after {attempts} attempts: {last}"))
    }

    async fn attempt(&self, body: &ActivationBody<'_>) -> Attempt {
        let Ok(_permit) = self.permits.acquire().await else {
            return Attempt::Done(Activation::Failed("client shut down".to_owned()));
        };
        let sent = self
            .http
            .post(&self.callback_url)
            .bearer_auth(self.token.expose())
            .header(ACCEPT, ALTEGIO_ACCEPT)
            .json(body)
            .send()
            .await;
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => {
                return Attempt::Retry {
                    reason: describe(&e, self.policy.timeout),
                    after: None,
                }
            }
        };
        let status = response.status();
        if status.is_success() {
            return Attempt::Done(Activation::Activated);
        }
        let headers = response.headers().clone();
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() >= MAX_ERROR_BODY {
                        bytes.truncate(MAX_ERROR_BODY);
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                        break;
                    }
                    return Attempt::Retry {
                        reason: describe(&e, self.policy.timeout),
                        after: None,
                    };
                }
            }
        }
        classify(status, &headers, &bytes)
    }
}

/// Turns a non-2xx answer into a final outcome or a retry.
fn classify(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Attempt {
    let message = altegio_message(body);
    let reason = match &message {
        Some(m) => format!("HTTP {}: {m}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    };
    if status == StatusCode::FORBIDDEN
        && message
            .as_deref()
            .is_some_and(|m| m.to_ascii_lowercase().contains("already installed"))
    {
        return Attempt::Done(Activation::AlreadyInstalled);
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Attempt::Retry {
            reason,
            after: retry_after(headers),
        };
    }
    if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
        return Attempt::Retry {
            reason,
            after: None,
        };
    }
    Attempt::Done(Activation::Failed(reason))
}

/// `Retry-After` in seconds; an HTTP date is ignored (the backoff applies instead).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    v.parse::<u64>().ok().map(Duration::from_secs)
}

/// Altegio's explanation: `meta.message` (or `message`) and `meta.errors` (or `errors`),
/// or the start of a non-JSON body.
pub fn altegio_message(body: &[u8]) -> Option<String> {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(v) => {
            let mut parts: Vec<String> = Vec::new();
            let message = v
                .pointer("/meta/message")
                .or_else(|| v.get("message"))
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty());
            if let Some(m) = message {
                parts.push(m.trim().to_owned());
            }
            if let Some(errors) = v.pointer("/meta/errors").or_else(|| v.get("errors")) {
                flatten_errors(errors, None, &mut parts);
            }
            parts.join("; ")
        }
        Err(_) => String::from_utf8_lossy(body).trim().to_owned(),
    };
    if text.is_empty() {
        return None;
    }
    Some(truncate(&text, MAX_REASON))
}

fn flatten_errors(v: &Value, key: Option<&str>, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(match key {
            Some(k) => format!("{k}: {s}"),
            None => s.clone(),
        }),
        Value::Array(items) => items.iter().for_each(|i| flatten_errors(i, key, out)),
        Value::Object(map) => map.iter().for_each(|(k, i)| {
            let k = match key {
                Some(p) => format!("{p}.{k}"),
                None => k.clone(),
            };
            flatten_errors(i, Some(&k), out)
        }),
        Value::Null => {}
        other => out.push(match key {
            Some(k) => format!("{k}: {other}"),
            None => other.to_string(),
        }),
    }
}

/// `s` cut to at most `max` bytes (on a character boundary), with `…` when cut: error texts
/// from the partner API and the destinations are kept short in the database and in answers.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("timed out after {} ms", timeout.as_millis());
    }
    let mut text = if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "network error".to_owned()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    truncate(&text, MAX_REASON)
}

/// The delay after attempt `n` (1-based): `base · 2^(n-1)`, capped, with "equal jitter"
/// (half fixed, half random) so that many locations do not retry in lock-step.
pub fn backoff(policy: &RetryPolicy, n: u32) -> Duration {
    let factor = 1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX);
    let full = policy
        .base_delay
        .saturating_mul(factor)
        .min(policy.max_delay);
    let half = full / 2;
    let random = getrandom::u64().unwrap_or(0);
    let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
    let jitter = if nanos == 0 { 0 } else { random % (nanos + 1) };
    half + Duration::from_nanos(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn done(a: Attempt) -> Activation {
        match a {
            Attempt::Done(x) => x,
            Attempt::Retry { reason, .. } => panic!("retry: {reason}"),
        }
    }

    fn retry(a: Attempt) -> (String, Option<Duration>) {
        match a {
            Attempt::Retry { reason, after } => (reason, after),
            Attempt::Done(x) => panic!("done: {x:?}"),
        }
    }

    #[test]
    fn classification() {
        let h = HeaderMap::new();
        let already = br#"{"success":false,"meta":{"message":"The user has already installed this application."}}"#;
        assert_eq!(
            done(classify(StatusCode::FORBIDDEN, &h, already)),
            Activation::AlreadyInstalled
        );
        let denied = br#"{"success":false,"meta":{"message":"Access denied."}}"#;
        assert_eq!(
            done(classify(StatusCode::FORBIDDEN, &h, denied)),
            Activation::Failed("HTTP 403: Access denied.".into())
        );
        let invalid = br#"{"success":false,"meta":{"message":"Validation error","errors":{"api_key":["is too short"]}}}"#;
        assert_eq!(
            done(classify(StatusCode::UNPROCESSABLE_ENTITY, &h, invalid)),
            Activation::Failed("HTTP 422: Validation error; api_key: is too short".into())
        );
        assert!(matches!(
            done(classify(StatusCode::UNAUTHORIZED, &h, b"")),
            Activation::Failed(r) if r == "HTTP 401"
        ));
        assert_eq!(
            retry(classify(StatusCode::BAD_GATEWAY, &h, b"<html>oops")).0,
            "HTTP 502: <html>oops"
        );
        let mut h429 = HeaderMap::new();
        h429.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(
            retry(classify(StatusCode::TOO_MANY_REQUESTS, &h429, b"")).1,
            Some(Duration::from_secs(3))
        );
        h429.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(
            retry(classify(StatusCode::TOO_MANY_REQUESTS, &h429, b"")).1,
            None
        );
    }

    #[test]
    fn messages_are_bounded() {
        let long = "x".repeat(10_000);
        assert!(altegio_message(long.as_bytes()).unwrap().len() <= MAX_REASON + 3);
        assert_eq!(altegio_message(b"  "), None);
        assert_eq!(altegio_message(br#"{"errors":["a","b"]}"#).unwrap(), "a; b");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        for n in 1..=10 {
            let full =
                (Duration::from_millis(100) * (1 << (n - 1))).min(Duration::from_millis(1000));
            let d = backoff(&p, n);
            assert!(d >= full / 2 && d <= full, "n={n}: {d:?}");
        }
        assert!(backoff(&p, 40) <= Duration::from_millis(1000));
    }
}
