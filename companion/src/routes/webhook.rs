//! `POST /api/altegio/webhook`: entity webhooks `{company_id, resource, resource_id, status,
//! data}`. Altegio delivers at least once (it retries on errors), so each delivery is stored
//! once, keyed by the SHA-256 of its canonical JSON (keys sorted, no whitespace); a repeat is
//! answered 200 with `"duplicate": true`. Fields Altegio may add are kept, not refused.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::db::NewWebhook;
use crate::error::AppError;
use crate::json::{self, ApiJson};
use crate::salon_ids::deserialize_positive_id;
use crate::state::AppState;

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

/// `POST /api/altegio/webhook`.
pub async fn webhook(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<WebhookResponse>, AppError> {
    if !body.is_object() {
        return Err(AppError::Invalid {
            code: "invalid_json",
            message: "expected a JSON object".to_owned(),
            field: None,
        });
    }
    let fields: WebhookFields = json::from_value(body.clone())?;
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
}
