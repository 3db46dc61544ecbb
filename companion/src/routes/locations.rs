//! `GET /api/locations`: every location and its state — never the API keys. Behind the
//! admin token when one is set ([`Admin`]).

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use crate::db::LocationRow;
use crate::error::AppError;
use crate::routes::admin::Admin;
use crate::state::AppState;

/// The answer of `GET /api/locations`.
#[derive(Debug, Serialize)]
pub struct LocationsResponse {
    /// All locations, by ID.
    pub locations: Vec<LocationRow>,
}

/// `GET /api/locations`.
pub async fn locations(
    _admin: Admin,
    State(state): State<AppState>,
) -> Result<Json<LocationsResponse>, AppError> {
    Ok(Json(LocationsResponse {
        locations: state.db.locations().await?,
    }))
}
