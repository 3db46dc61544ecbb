//! [`ApiJson`]: the JSON body extractor of the API, with errors that name the field.
//!
//! axum's own `Json` answers plain text; this one answers [`AppError`] JSON: 415 without a
//! JSON content type, 413 over [`BODY_LIMIT`], 422 for bad JSON, unknown, missing or
//! mistyped fields, with the field's path (e.g. `salon_ids[2]`) in `error.field`.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// The largest request body the API reads, in bytes.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON request body deserialized into `T` (use `#[serde(deny_unknown_fields)]` on `T`).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(
            req.headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
        ) {
            return Err(AppError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge { limit: BODY_LIMIT }
            } else {
                AppError::Invalid {
                    code: "unreadable_body",
                    message: "could not read the request body".to_owned(),
                    field: None,
                }
            }
        })?;
        // Every API body is an object; serde would otherwise read a struct from an array.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(AppError::Invalid {
                code: "invalid_json",
                message: "expected a JSON object".to_owned(),
                field: None,
            });
        }
        parse(&bytes).map(ApiJson)
    }
}

/// The media type of a `Content-Type` value: lower-cased, parameters (charset) dropped.
pub(crate) fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// `application/json` or any `application/*+json` (a media type from `media_type`).
pub(crate) fn is_json_media_type(essence: &str) -> bool {
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Whether a `Content-Type` header announces JSON.
fn is_json(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| is_json_media_type(&media_type(ct)))
}

/// Deserializes `bytes` into `T`, naming the offending field on failure.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(to_app_error)
}

/// Deserializes an already parsed JSON value into `T`, naming the offending field on failure.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, AppError> {
    serde_path_to_error::deserialize(value).map_err(to_app_error)
}

fn to_app_error(e: serde_path_to_error::Error<serde_json::Error>) -> AppError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    let message = strip_position(&inner.to_string());
    let (code, field) = match inner.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            ("invalid_json", None)
        }
        serde_json::error::Category::Io => ("invalid_json", None),
        serde_json::error::Category::Data => {
            let field = field_of(&path, &message);
            let code = if message.starts_with("unknown field") {
                "unknown_field"
            } else if message.starts_with("missing field") {
                "missing_field"
            } else {
                "invalid_field"
            };
            (code, field)
        }
    };
    let message = match &field {
        Some(f) if !message.contains(&format!("`{f}`")) => format!("{f}: {message}"),
        _ => message,
    };
    AppError::Invalid {
        code,
        message,
        field,
    }
}

/// serde_json appends " at line L column C"; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// The field a data error is about. For an unknown field the path already ends with its
/// name; for a missing one the path points at the enclosing object and serde names the
/// field in backticks.
fn field_of(path: &str, message: &str) -> Option<String> {
    let parent = if path == "." || path == "?" {
        None
    } else {
        Some(path)
    };
    let missing = if message.starts_with("missing field") {
        message.split('`').nth(1)
    } else {
        None
    };
    match (parent, missing) {
        (Some(p), Some(n)) => Some(format!("{p}.{n}")),
        (None, Some(n)) => Some(n.to_owned()),
        (Some(p), None) => Some(p.to_owned()),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        a: u32,
        b: Vec<u32>,
    }

    fn field(json: &str) -> (String, Option<String>) {
        match parse::<T>(json.as_bytes()).unwrap_err() {
            AppError::Invalid { code, field, .. } => (code.to_owned(), field),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_unknown_missing_and_mistyped_fields() {
        assert_eq!(
            field(r#"{"a":1,"b":[],"c":2}"#),
            ("unknown_field".into(), Some("c".into()))
        );
        assert_eq!(
            field(r#"{"c":2}"#),
            ("unknown_field".into(), Some("c".into()))
        );
        assert_eq!(
            field(r#"{"a":1}"#),
            ("missing_field".into(), Some("b".into()))
        );
        assert_eq!(
            field(r#"{"a":1,"b":[1,"x"]}"#),
            ("invalid_field".into(), Some("b[1]".into()))
        );
        assert_eq!(field(r#"{"a":1,"#), ("invalid_json".into(), None));
        assert_eq!(field(r#"[1]"#).1, None);
    }

    #[test]
    fn content_types() {
        assert!(is_json(Some("application/json")));
        assert!(is_json(Some("Application/JSON; charset=utf-8")));
        assert!(is_json(Some("application/vnd.api+json")));
        assert!(!is_json(Some("text/plain")));
        assert!(!is_json(None));
    }
}
