//! `POST /api/altegio/webhook/{salon_id}/{token}`: entity webhooks `{company_id, resource,
//! resource_id, status, data}`.
//!
//! Altegio does not sign webhooks, so each location has its own unguessable URL, given to
//! Altegio in the location's activation call ([`crate::webhook_token`]). The token is checked
//! first, in constant time (403 when it is missing, malformed or not this location's), and the
//! body's `company_id` must be the URL's location (422 otherwise): a URL leaked for one
//! location cannot feed another. Nothing is stored before both checks pass.
//!
//! Altegio delivers at least once (it retries on errors), so each delivery is stored once,
//! keyed by the SHA-256 of its canonical JSON (keys sorted, no whitespace); a repeat is
//! answered 200 with `"duplicate": true`. Fields Altegio may add are kept, not refused.
//!
//! The old shared URL `/api/altegio/webhook` answers 410 ([`gone`]).

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::db::NewWebhook;
use crate::error::AppError;
use crate::json::{self, ApiJson};
use crate::salon_ids::deserialize_positive_id;
use crate::state::AppState;
use crate::webhook_token::{self, TokenProblem};

/// The fields a delivery must have.
#[derive(Debug, Deserialize)]
pub struct WebhookFields {
    /// The location.
    #[serde(deserialize_with = "deserialize_positive_id")]
    pub company_id: i64,
    /// Entity type, e.g. `record`, `client`.
    pub resource: String,
    /// Entity ID.
    pub resource_id: Option<i64>,
    /// `create`, `update` or `delete`.
    pub status: String,
    /// The entity.
    pub data: Value,
}

/// The answer.
#[derive(Debug, Serialize)]
pub struct WebhookResponse {
    /// Always true.
    pub ok: bool,
    /// True when this exact delivery was stored before.
    pub duplicate: bool,
}

/// Canonical JSON: object keys sorted at every level, no insignificant whitespace.
pub fn canonical_json(v: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    if let Some(item) = map.get(k) {
                        write(item, out);
                    }
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
}

/// The location ID of a webhook URL: a positive integer written as [`i64::to_string`] writes
/// it (no sign, no leading zero), so that each location has exactly one URL.
fn path_salon_id(raw: &str) -> Option<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0 && id.to_string() == raw)
}

fn forbidden(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::Forbidden {
        code,
        message: message.into(),
    }
}

/// Checks the URL's location ID and token; the location on success.
fn authenticate(
    state: &AppState,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<i64, AppError> {
    let Ok(Path((raw_id, token))) = path else {
        return Err(forbidden(
            "invalid_webhook_url",
            "the webhook URL is not /api/altegio/webhook/{salon_id}/{token}",
        ));
    };
    let Some(salon_id) = path_salon_id(&raw_id) else {
        return Err(forbidden(
            "invalid_webhook_url",
            format!("the webhook URL's location ID must be a positive integer, got {raw_id:?}"),
        ));
    };
    match webhook_token::check(salon_id, &token, &state.config.partner_token) {
        Ok(()) => Ok(salon_id),
        Err(problem) => {
            tracing::warn!(salon_id, ?problem, "webhook with a wrong URL token refused");
            Err(match problem {
                TokenProblem::Malformed => forbidden(
                    "invalid_webhook_token",
                    "the webhook URL's token must be 64 hex digits",
                ),
                TokenProblem::Mismatch => forbidden(
                    "invalid_webhook_token",
                    format!("the webhook URL's token is not location {salon_id}'s"),
                ),
            })
        }
    }
}

/// `POST /api/altegio/webhook/{salon_id}/{token}`.
pub async fn webhook(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    request: Request,
) -> Result<Json<WebhookResponse>, AppError> {
    // The URL is the credential: checked before the body is read.
    let salon_id = authenticate(&state, path)?;
    let ApiJson(body) = ApiJson::<Value>::from_request(request, &state).await?;
    if !body.is_object() {
        return Err(AppError::Invalid {
            code: "invalid_json",
            message: "expected a JSON object".to_owned(),
            field: None,
        });
    }
    let fields: WebhookFields = json::from_value(body.clone())?;
    if fields.company_id != salon_id {
        tracing::warn!(
            salon_id,
            company_id = fields.company_id,
            "webhook for another location refused"
        );
        return Err(AppError::invalid_field(
            "company_id_mismatch",
            "company_id",
            format!(
                "company_id: {} is not the location of this webhook URL ({salon_id})",
                fields.company_id
            ),
        ));
    }
    for (name, value) in [("resource", &fields.resource), ("status", &fields.status)] {
        if value.trim().is_empty() || value.len() > 64 {
            return Err(AppError::invalid_field(
                "invalid_field",
                name,
                format!("{name}: expected a non-empty name of at most 64 characters"),
            ));
        }
    }
    let canonical = canonical_json(&body);
    let hash = hex::encode(Sha256::digest(canonical.as_bytes()));
    let stored = state
        .db
        .store_webhook(NewWebhook {
            body_sha256: hash,
            company_id: fields.company_id,
            resource: fields.resource.clone(),
            resource_id: fields.resource_id,
            status: fields.status.clone(),
            body: canonical,
        })
        .await?;
    tracing::info!(
        company_id = fields.company_id,
        resource = %fields.resource,
        status = %fields.status,
        duplicate = !stored,
        "webhook received"
    );
    Ok(Json(WebhookResponse {
        ok: true,
        duplicate: !stored,
    }))
}

/// `POST /api/altegio/webhook/{salon_id}`: a webhook URL without its token (403).
pub async fn missing_token() -> AppError {
    forbidden(
        "missing_webhook_token",
        "the webhook URL has no token: webhooks go to /api/altegio/webhook/{salon_id}/{token}, \
         the URL sent to Altegio when the location was activated",
    )
}

/// `/api/altegio/webhook`, the old URL shared by every location, taken by anyone: 410, so
/// that a location still configured with it (or the app's settings) shows a clear error.
pub async fn gone() -> AppError {
    AppError::Gone {
        code: "webhook_url_gone",
        message: "webhooks now go to a URL per location, /api/altegio/webhook/{salon_id}/{token}, \
                  sent to Altegio when the location is activated; this shared URL takes none"
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_form_ignores_key_order_and_whitespace() {
        let a: Value =
            serde_json::from_str(r#"{"b": 1, "a": {"y": [1, {"d":2,"c":3}], "x": "é\""}}"#)
                .unwrap();
        let b = json!({"a": {"x": "é\"", "y": [1, {"c": 3, "d": 2}]}, "b": 1});
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(
            canonical_json(&b),
            r#"{"a":{"x":"é\"","y":[1,{"c":3,"d":2}]},"b":1}"#
        );
    }

    #[test]
    fn path_salon_ids_are_canonical() {
        assert_eq!(path_salon_id("51"), Some(51));
        for bad in [
            "0",
            "-1",
            "051",
            "+51",
            " 51",
            "5x",
            "",
            "99999999999999999999",
        ] {
            assert_eq!(path_salon_id(bad), None, "{bad:?}");
        }
    }
}
