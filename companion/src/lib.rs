//! The companion server of altegio-analytics.
//!
//! It connects an integrator's Altegio Marketplace app to every location a business picks
//! (`POST /api/connect`), answers Altegio's disable callback (`POST /api/altegio/callback`),
//! stores entity webhooks once each (`POST /api/altegio/webhook/{salon_id}/{token}`, a URL
//! per location: [`webhook_token`]), lists the locations (`GET /api/locations`, behind the
//! admin token when one is set: [`routes::admin`]) and serves the registration page
//! (`GET /register`) with the module's npm package (`/pkg/…`). State lives in one SQLite file.
//!
//! The binary is a thin wrapper: [`config::Cli`] → [`config::Config`] → [`AppState::new`] →
//! [`app`]. [`standin`] is a stand-in for Altegio's partner API, used by the tests, the demo
//! and integrators who develop offline (binary `altegio-partner-standin`).
//!
//! The server-side copy of the module's events: `POST /api/collect` ([`routes::collect`])
//! stores them ([`delivery::store`]) for the background worker ([`delivery`]) that sends them
//! to the Meta Conversions API and the GA4 Measurement Protocol; [`sites`] holds its settings,
//! [`destination_standin`] stands in for both destinations (binary
//! `altegio-destination-standin`). Meta gets the visitor's IP address, taken from the
//! connection ([`client_ip`], [`trusted_proxies`]): serve [`app`] with
//! `into_make_service_with_connect_info::<SocketAddr>()`, as the binary does.

pub mod activation;
pub mod client_ip;
pub mod config;
pub mod db;
pub mod delivery;
pub mod destination_standin;
pub mod error;
pub mod json;
pub mod partner_api;
pub mod rate_limit;
pub mod routes;
pub mod salon_ids;
pub mod signature;
pub mod sites;
pub mod standin;
pub mod state;
pub mod trusted_proxies;
pub mod webhook_token;

pub use routes::app;
pub use state::AppState;

/// Logs to stderr for the binaries: `RUST_LOG` filters (default `info`), colours on a terminal.
pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
