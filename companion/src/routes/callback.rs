//! `POST /api/altegio/callback`: Altegio's notice that a business disabled (`uninstall`),
//! froze (`freeze`) or paid for (`payment`) the app at one location.
//!
//! The partner token in the body is compared in constant time before anything happens.
//! No outbound calls: the answer is immediate. Fields Altegio may add later are ignored
//! rather than refused, so that an uninstall is never lost to a 422.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::db::{CallbackEvent, LocationState};
use crate::error::AppError;
use crate::json::ApiJson;
use crate::salon_ids::deserialize_positive_id;
use crate::state::AppState;

/// The request body.
#[derive(Debug, Deserialize)]
pub struct CallbackRequest {
    /// The location.
    #[serde(deserialize_with = "deserialize_positive_id")]
    pub salon_id: i64,
    /// The Marketplace application.
    #[serde(deserialize_with = "deserialize_positive_id")]
    pub application_id: i64,
    /// `uninstall`, `freeze` or `payment`.
    pub event: String,
    /// The partner token, proving the notice comes from Altegio.
    pub partner_token: String,
}

/// The answer.
#[derive(Debug, Serialize)]
pub struct CallbackResponse {
    /// Always true.
    pub ok: bool,
    /// The location.
    pub salon_id: i64,
    /// The event applied.
    pub event: &'static str,
    /// The location's state afterwards (`null` if it was never connected here).
    pub state: Option<LocationState>,
}

/// `POST /api/altegio/callback`.
pub async fn callback(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<CallbackRequest>,
) -> Result<Json<CallbackResponse>, AppError> {
    if !state.config.partner_token.matches(&req.partner_token) {
        tracing::warn!(
            salon_id = req.salon_id,
            "callback with a wrong partner token refused"
        );
        return Err(AppError::Unauthorized {
            code: "invalid_partner_token",
            message: "partner_token does not match".to_owned(),
        });
    }
    if req.application_id != state.config.application_id {
        return Err(AppError::invalid_field(
            "wrong_application",
            "application_id",
            "application_id: not this companion's application",
        ));
    }
    let event = match req.event.as_str() {
        "uninstall" => CallbackEvent::Uninstall,
        "freeze" => CallbackEvent::Freeze,
        "payment" => CallbackEvent::Payment,
        other => {
            return Err(AppError::invalid_field(
                "unknown_event",
                "event",
                format!("event: expected uninstall, freeze or payment, got {other:?}"),
            ))
        }
    };
    let after = state
        .db
        .apply_callback(req.salon_id, event, req.application_id)
        .await?;
    tracing::info!(
        salon_id = req.salon_id,
        event = event.as_str(),
        "callback applied"
    );
    Ok(Json(CallbackResponse {
        ok: true,
        salon_id: req.salon_id,
        event: event.as_str(),
        state: after,
    }))
}
