//! The HTTP surface: [`app`] assembles every route and layer around an [`AppState`].

pub mod admin;
pub mod callback;
pub mod collect;
pub mod connect;
pub mod locations;
pub mod pages;
pub mod webhook;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::header::{CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, Method, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::error::{self, AppError};
use crate::json::BODY_LIMIT;
use crate::state::AppState;

/// The companion's router: API, registration page, module package and static files.
pub fn app(state: AppState) -> Router {
    let config = state.config.clone();
    let collect_routes = collect::router(state.clone());
    let api = Router::new()
        .route("/api/connect", post(connect::connect))
        .route("/api/altegio/callback", post(callback::callback))
        .route(
            "/api/altegio/webhook/{salon_id}/{token}",
            post(webhook::webhook),
        )
        .route(
            "/api/altegio/webhook/{salon_id}",
            post(webhook::missing_token),
        )
        .route("/api/altegio/webhook", any(webhook::gone))
        .route("/api/locations", get(locations::locations))
        .route("/api/{*rest}", any(error::not_found))
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT));

    let mut router = Router::new()
        .merge(api)
        .route("/register", get(pages::register))
        .nest_service(
            "/pkg",
            pages::static_dir(&config.pkg_dir, &config.frame_ancestors),
        )
        .fallback_service(pages::static_dir(&config.www_dir, &config.frame_ancestors))
        .with_state(state);

    if let Some(cors) = cors_layer(&config.cors_origins) {
        router = router.layer(cors);
    }
    // Merged after the CORS layer: /api/collect answers CORS for each site's own origins.
    let router = router.merge(collect_routes);
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(
            TraceLayer::new_for_http()
                // Method and path only: the query of /register carries user data. A webhook
                // URL's token is a credential: redacted.
                .make_span_with(|req: &Request<_>| {
                    let path = crate::webhook_token::loggable_path(req.uri().path());
                    tracing::info_span!("http", method = %req.method(), path = %path)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| -> Response {
                AppError::internal("a handler panicked").into_response()
            },
        ))
}

/// CORS for the configured origins only; `None` when there are none (same-origin use).
fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    let values: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    if values.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(values))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([CONTENT_TYPE])
            .max_age(Duration::from_secs(600)),
    )
}
