//! [`Admin`]: the admin bearer token of the operators' endpoints (`GET /api/locations`,
//! `GET /api/collect/status`).
//!
//! With `--admin-token` (`ALTEGIO_COMPANION_ADMIN_TOKEN`) set, a request must carry
//! `Authorization: Bearer <token>` (scheme in any case), compared in constant time; otherwise
//! it is answered 401 with a JSON error and `WWW-Authenticate: Bearer realm="altegio-companion"`
//! (plus `error="invalid_token"` when a token was given but is wrong). Without the setting the
//! endpoints are open and the binary warns at start-up.

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::state::AppState;

/// The realm named in `WWW-Authenticate`.
pub const REALM: &str = "altegio-companion";

/// Proof that the request may use an operators' endpoint: take it as a handler argument.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// No `Authorization` header.
    Missing,
    /// An `Authorization` header that is not `Bearer <token>`.
    NotBearer,
    /// A bearer token, not the admin token.
    Wrong,
}

/// The token of an `Authorization: Bearer <token>` value; `None` for any other form.
fn bearer_token(value: &HeaderValue) -> Option<&str> {
    let text = value.to_str().ok()?;
    let (scheme, token) = text.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn refusal_response(refusal: Refusal) -> Response {
    let (code, message, challenge) = match refusal {
        Refusal::Missing => (
            "missing_admin_token",
            "this endpoint needs Authorization: Bearer <admin token> (--admin-token)",
            format!("Bearer realm=\"{REALM}\""),
        ),
        Refusal::NotBearer => (
            "invalid_authorization",
            "Authorization: expected Bearer <admin token>",
            format!("Bearer realm=\"{REALM}\", error=\"invalid_request\""),
        ),
        Refusal::Wrong => (
            "invalid_admin_token",
            "Authorization: the bearer token is not the admin token",
            format!("Bearer realm=\"{REALM}\", error=\"invalid_token\""),
        ),
    };
    let mut response = AppError::Unauthorized {
        code,
        message: message.to_owned(),
    }
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(WWW_AUTHENTICATE, v);
    }
    response
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(expected) = &state.config.admin_token else {
            return Ok(Admin);
        };
        let refusal = match parts.headers.get(AUTHORIZATION) {
            None => Refusal::Missing,
            Some(value) => match bearer_token(value) {
                None => Refusal::NotBearer,
                Some(token) if expected.matches(token) => return Ok(Admin),
                Some(_) => Refusal::Wrong,
            },
        };
        tracing::warn!(
            ?refusal,
            "operators' endpoint refused without the admin token"
        );
        Err(refusal_response(refusal))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_from_the_header() {
        let token = |s: &'static str| bearer_token(&HeaderValue::from_static(s)).map(str::to_owned);
        for good in ["Bearer abc", "bearer  abc ", "BEARER abc"] {
            assert_eq!(token(good).as_deref(), Some("abc"), "{good:?}");
        }
        for bad in ["Basic abc", "Bearer", "Bearer ", "abc", "Bearerabc", ""] {
            assert_eq!(token(bad), None, "{bad:?}");
        }
    }
}
