//! [`AppError`]: every error the API answers, always as JSON
//! `{"error": {"code": "...", "message": "...", "field": "..."}}`.
//!
//! Internal failures are logged with their cause and answered with a generic message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// An error answered to an API client.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is well-formed HTTP but its content is not acceptable (422).
    #[error("{message}")]
    Invalid {
        /// Machine-readable code, e.g. `invalid_salon_id`.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
        /// The offending field, e.g. `salon_ids[2]`.
        field: Option<String>,
    },
    /// The caller could not be authenticated (401).
    #[error("{message}")]
    Unauthorized {
        /// Machine-readable code.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// The caller is known but the request is refused (403), e.g. a bad user-data signature.
    #[error("{message}")]
    Forbidden {
        /// Machine-readable code.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// The endpoint existed once and is gone for good (410); the message says where to go.
    #[error("{message}")]
    Gone {
        /// Machine-readable code.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// The body is larger than the limit (413).
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not declared as JSON (415).
    #[error("expected Content-Type: application/json")]
    UnsupportedMediaType,
    /// No such API route (404).
    #[error("no such endpoint")]
    NotFound,
    /// The route exists but not with this method (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Something failed on our side (500). The cause is logged, never answered.
    #[error("internal error: {0}")]
    Internal(String),
}

#[derive(Serialize)]
struct Body<'a> {
    error: Detail<'a>,
}

#[derive(Serialize)]
struct Detail<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl AppError {
    /// A 422 naming the offending field.
    pub fn invalid_field(
        code: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// A 500; `cause` is logged, not answered.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::Gone { .. } => StatusCode::GONE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<crate::db::DbError> for AppError {
    fn from(e: crate::db::DbError) -> Self {
        Self::internal(e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (code, message, field): (&str, String, Option<&str>) = match &self {
            Self::Invalid {
                code,
                message,
                field,
            } => (code, message.clone(), field.as_deref()),
            Self::Unauthorized { code, message }
            | Self::Forbidden { code, message }
            | Self::Gone { code, message } => (code, message.clone(), None),
            Self::PayloadTooLarge { .. } => ("payload_too_large", self.to_string(), None),
            Self::UnsupportedMediaType => ("unsupported_media_type", self.to_string(), None),
            Self::NotFound => ("not_found", self.to_string(), None),
            Self::MethodNotAllowed => ("method_not_allowed", self.to_string(), None),
            Self::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                (
                    "internal",
                    "internal error; see the server log".to_owned(),
                    None,
                )
            }
        };
        if status.is_client_error() {
            tracing::debug!(%status, code, %message, "request refused");
        }
        (
            status,
            Json(Body {
                error: Detail {
                    code,
                    message,
                    field,
                },
            }),
        )
            .into_response()
    }
}

/// Answers unknown API routes with a JSON 404.
pub async fn not_found() -> AppError {
    AppError::NotFound
}

/// Answers a known route called with the wrong method with a JSON 405.
pub async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body(e: AppError) -> (StatusCode, serde_json::Value) {
        let r = e.into_response();
        let s = r.status();
        let b = r.into_body().collect().await.unwrap().to_bytes();
        (s, serde_json::from_slice(&b).unwrap())
    }

    #[tokio::test]
    async fn invalid_names_the_field() {
        let (s, v) = body(AppError::invalid_field("x", "salon_ids[2]", "bad")).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(v["error"]["field"], "salon_ids[2]");
        assert_eq!(v["error"]["code"], "x");
    }

    #[tokio::test]
    async fn internal_does_not_leak_the_cause() {
        let (s, v) = body(AppError::internal("disk /secret/path is full")).await;
        assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!v.to_string().contains("secret"));
        assert!(v["error"].get("field").is_none());
    }
}
