//! `POST /api/connect`: what the module read from the registration URL.
//!
//! Order matters: the body is validated and the user-data signature verified before
//! anything is stored or sent; then every location is activated (see [`crate::activation`]).

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::activation::LocationOutcome;
use crate::error::AppError;
use crate::json::ApiJson;
use crate::salon_ids;
use crate::signature;
use crate::state::AppState;

/// The request body. Location IDs: see [`crate::salon_ids`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectRequest {
    /// An array of IDs (integers or digit strings), a comma-separated string, or one integer.
    #[serde(default)]
    pub salon_ids: Option<Value>,
    /// One ID (integer or digit string).
    #[serde(default)]
    pub salon_id: Option<Value>,
    /// Base64 of the user-data JSON, as in the URL.
    #[serde(default)]
    pub user_data: Option<String>,
    /// Lower-case hex HMAC-SHA256 of the decoded user data.
    #[serde(default)]
    pub user_data_sign: Option<String>,
}

/// The answer: one entry per location, in request order.
#[derive(Debug, Serialize)]
pub struct ConnectResponse {
    /// Outcomes.
    pub locations: Vec<LocationOutcome>,
}

fn present(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

/// `POST /api/connect`.
pub async fn connect(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ConnectRequest>,
) -> Result<Json<ConnectResponse>, AppError> {
    let user = match (present(req.user_data), present(req.user_data_sign)) {
        (Some(data), Some(sign)) => Some(signature::verify(
            &data,
            &sign,
            &state.config.partner_token,
        )?),
        (None, None) if state.config.require_user_data => {
            return Err(AppError::Unauthorized {
                code: "user_data_required",
                message: "this companion requires signed user_data; enable user-data transfer \
                          in the Altegio app settings"
                    .to_owned(),
            })
        }
        (None, None) => None,
        (Some(_), None) => {
            return Err(AppError::invalid_field(
                "missing_field",
                "user_data_sign",
                "user_data_sign: required when user_data is given",
            ))
        }
        (None, Some(_)) => {
            return Err(AppError::invalid_field(
                "missing_field",
                "user_data",
                "user_data: required when user_data_sign is given",
            ))
        }
    };
    let ids = salon_ids::collect(req.salon_ids.as_ref(), req.salon_id.as_ref())?;
    let connected_by = user.and_then(|u| u.user_id);
    tracing::info!(
        count = ids.len(),
        signed = connected_by.is_some(),
        "connect requested"
    );
    let locations = state.activator.connect(&ids, connected_by).await;
    Ok(Json(ConnectResponse { locations }))
}
