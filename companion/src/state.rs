//! [`AppState`]: what every handler shares — settings, database, activation machinery.

use std::sync::Arc;

use crate::activation::Activator;
use crate::config::Config;
use crate::db::{Db, DbError};
use crate::delivery::CollectState;
use crate::partner_api::PartnerApi;

/// Why the server could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database could not be opened or migrated.
    #[error("database {path}: {source}")]
    Database {
        /// The file.
        path: String,
        /// The cause.
        source: DbError,
    },
    /// The HTTP client could not be built (TLS roots, for instance).
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// Shared state of the server. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Validated settings.
    pub config: Arc<Config>,
    /// The SQLite store.
    pub db: Db,
    /// Connects locations.
    pub activator: Activator,
    /// `/api/collect`'s rate limiter and the delivery worker's wake-up.
    pub collect: CollectState,
}

impl AppState {
    /// Opens the database (migrating it) and builds the partner API client.
    pub fn new(config: Config) -> Result<Self, StartupError> {
        let db = Db::open(&config.database).map_err(|source| StartupError::Database {
            path: config.database.display().to_string(),
            source,
        })?;
        let api = PartnerApi::new(&config)?;
        let collect = CollectState::start(&config.collect, db.clone())?;
        Ok(Self {
            collect,
            activator: Activator::new(db.clone(), api),
            db,
            config: Arc::new(config),
        })
    }
}
