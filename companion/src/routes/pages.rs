//! The registration page and static files.
//!
//! `/register` serves `{www_dir}/register.html` with `Content-Security-Policy: frame-ancestors`
//! (so it works inside Altegio's app-card iframe and nowhere else), `nosniff` and
//! `Referrer-Policy: no-referrer` (its URL carries user data). No cookies are ever set.

use std::path::Path;

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use tower::Layer;
use tower_http::services::ServeDir;
use tower_http::set_header::{SetResponseHeader, SetResponseHeaderLayer};

use crate::error::AppError;
use crate::state::AppState;

/// The CSP header value for the configured frame ancestors.
pub fn csp(frame_ancestors: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("frame-ancestors {frame_ancestors}"))
        .unwrap_or_else(|_| HeaderValue::from_static("frame-ancestors 'none'"))
}

/// `GET /register`.
pub async fn register(State(state): State<AppState>) -> Result<Response, AppError> {
    let path = state.config.www_dir.join("register.html");
    let html = match tokio::fs::read(&path).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::error!(path = %path.display(), "register.html not found; check --www-dir");
            return Err(AppError::NotFound);
        }
        Err(e) => return Err(AppError::internal(format!("{}: {e}", path.display()))),
    };
    Ok((
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (CONTENT_SECURITY_POLICY, csp(&state.config.frame_ancestors)),
            (REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
            (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        html,
    )
        .into_response())
}

/// Static files from `dir` (`.wasm` as `application/wasm`), with the same framing and
/// referrer rules as the registration page.
pub fn static_dir(
    dir: &Path,
    frame_ancestors: &str,
) -> SetResponseHeader<SetResponseHeader<ServeDir, HeaderValue>, HeaderValue> {
    let serve = ServeDir::new(dir);
    let with_csp =
        SetResponseHeaderLayer::if_not_present(CONTENT_SECURITY_POLICY, csp(frame_ancestors))
            .layer(serve);
    SetResponseHeaderLayer::if_not_present(REFERRER_POLICY, HeaderValue::from_static("no-referrer"))
        .layer(with_csp)
}
