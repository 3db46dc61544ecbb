//! The SQLite store: locations with their API keys and states, the audit log, and webhooks.
//!
//! One connection behind a mutex, used from async code through `spawn_blocking`. WAL mode,
//! `synchronous=FULL`, a busy timeout, and ordered migrations tracked in `PRAGMA user_version`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;

/// Ordered schema migrations; `PRAGMA user_version` holds how many have been applied.
/// Never edit a released entry: append a new one.
pub const MIGRATIONS: &[&str] = &[
    // 1: locations, audit log, webhooks.
    r#"
    CREATE TABLE locations (
        salon_id     INTEGER PRIMARY KEY,
        state        TEXT NOT NULL
                     CHECK (state IN ('pending', 'active', 'failed', 'frozen', 'uninstalled')),
        api_key      TEXT,
        connected_by TEXT,
        last_error   TEXT,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
    );
    CREATE TABLE audit_log (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        salon_id   INTEGER NOT NULL,
        event      TEXT NOT NULL,
        detail     TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX audit_log_salon ON audit_log (salon_id, id);
    CREATE TABLE webhooks (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        body_sha256 TEXT NOT NULL UNIQUE,
        company_id  INTEGER NOT NULL,
        resource    TEXT NOT NULL,
        resource_id INTEGER,
        status      TEXT NOT NULL,
        body        TEXT NOT NULL,
        received_at TEXT NOT NULL
    );
    CREATE INDEX webhooks_company ON webhooks (company_id, id);
    "#,
    // 2: collected events and their deliveries (the server-side copy).
    crate::delivery::store::MIGRATION,
    // 3: the visitor's IP address of a collected event, kept for Meta only.
    crate::delivery::store::MIGRATION_CLIENT_IP,
];

const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite reported an error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database was written by a newer companion.
    #[error("database schema version {found} is newer than this companion knows ({known})")]
    TooNew {
        /// `user_version` found in the file.
        found: i64,
        /// Migrations this build knows.
        known: usize,
    },
    /// The blocking task running the query failed.
    #[error("database task failed: {0}")]
    Task(String),
    /// A state column held a value this build does not know.
    #[error("unknown location state {0:?} in the database")]
    UnknownState(String),
}

/// The state of one location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LocationState {
    /// A key is stored and activation was requested but has not been confirmed.
    Pending,
    /// Altegio confirmed the activation (or said it was already installed).
    Active,
    /// Altegio refused the activation, or retries ran out; `last_error` says why.
    Failed,
    /// Altegio sent `freeze`.
    Frozen,
    /// Altegio sent `uninstall`; the key and settings are gone.
    Uninstalled,
}

impl LocationState {
    /// The name stored in the database and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Failed => "failed",
            Self::Frozen => "frozen",
            Self::Uninstalled => "uninstalled",
        }
    }

    fn parse(s: &str) -> Result<Self, DbError> {
        Ok(match s {
            "pending" => Self::Pending,
            "active" => Self::Active,
            "failed" => Self::Failed,
            "frozen" => Self::Frozen,
            "uninstalled" => Self::Uninstalled,
            other => return Err(DbError::UnknownState(other.to_owned())),
        })
    }
}

/// One location as the API lists it (never with its key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocationRow {
    /// Altegio's location ID.
    pub salon_id: i64,
    /// Current state.
    pub state: LocationState,
    /// Last change, RFC 3339 UTC.
    pub updated_at: String,
    /// Why the last activation failed, if it did.
    pub last_error: Option<String>,
}

/// One audit-log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRow {
    /// Altegio's location ID.
    pub salon_id: i64,
    /// What happened, e.g. `activated`, `uninstall`.
    pub event: String,
    /// Details as JSON text, if any.
    pub detail: Option<String>,
    /// When, RFC 3339 UTC.
    pub created_at: String,
}

/// What [`Db::begin_activation`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// The location is active: send nothing.
    AlreadyActive,
    /// The location is now `pending` with this key stored: send the activation.
    Activate {
        /// The key to send (a stored one is reused).
        api_key: String,
    },
}

/// How an activation ended, for [`Db::finish_activation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    /// Altegio accepted the key.
    Activated,
    /// Altegio said the application is already installed.
    AlreadyInstalled,
    /// Final refusal, or retries ran out.
    Failed(String),
}

/// A notification from Altegio's callback, for [`Db::apply_callback`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackEvent {
    /// Delete the key and settings, mark `uninstalled`.
    Uninstall,
    /// Mark `frozen`.
    Freeze,
    /// Audit only.
    Payment,
}

impl CallbackEvent {
    /// The event name as Altegio sends it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Uninstall => "uninstall",
            Self::Freeze => "freeze",
            Self::Payment => "payment",
        }
    }
}

/// One webhook delivery to store.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    /// SHA-256 (hex) of the canonical body: the de-duplication key.
    pub body_sha256: String,
    /// Altegio's location ID.
    pub company_id: i64,
    /// Entity type, e.g. `record`.
    pub resource: String,
    /// Entity ID, if any.
    pub resource_id: Option<i64>,
    /// `create`, `update` or `delete`.
    pub status: String,
    /// The canonical body (JSON text).
    pub body: String,
}

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Db")
    }
}

fn configure(conn: &Connection) -> Result<(), DbError> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // journal_mode answers with a row, so it is read as a query.
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
    Ok(())
}

/// Applies the migrations this file has not seen yet, each in its own transaction.
pub fn migrate(conn: &mut Connection) -> Result<(), DbError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > MIGRATIONS.len() as i64 {
        return Err(DbError::TooNew {
            found: version,
            known: MIGRATIONS.len(),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "database migrated");
    }
    Ok(())
}

fn audit(
    conn: &Connection,
    salon_id: i64,
    event: &str,
    detail: Option<&str>,
) -> rusqlite::Result<()> {
    conn.execute(
        &format!("INSERT INTO audit_log (salon_id, event, detail, created_at) VALUES (?1, ?2, ?3, {NOW})"),
        params![salon_id, event, detail],
    )?;
    Ok(())
}

impl Db {
    /// Opens (creating if needed) the database file and migrates it.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection in a blocking task.
    pub(crate) async fn call<F, R>(&self, f: F) -> Result<R, DbError>
    where
        F: FnOnce(&mut Connection) -> Result<R, DbError> + Send + 'static,
        R: Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock cannot leave a half-done transaction behind
            // (rusqlite rolls back on drop), so a poisoned lock is safe to reuse.
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| DbError::Task(e.to_string()))?
    }

    /// Decides whether `salon_id` needs an activation. Unless it is active, the location is
    /// set `pending` with a key stored — its existing key if it has one, else `fresh_key` —
    /// all in one transaction, before any call is made.
    pub async fn begin_activation(
        &self,
        salon_id: i64,
        connected_by: Option<String>,
        fresh_key: String,
    ) -> Result<Begin, DbError> {
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let row: Option<(String, Option<String>)> = tx
                .query_row(
                    "SELECT state, api_key FROM locations WHERE salon_id = ?1",
                    [salon_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let begin = match row {
                Some((state, _)) if LocationState::parse(&state)? == LocationState::Active => {
                    Begin::AlreadyActive
                }
                Some((_, stored)) => {
                    let api_key = stored.unwrap_or(fresh_key);
                    tx.execute(
                        &format!(
                            "UPDATE locations SET state = 'pending', api_key = ?2,
                                 connected_by = COALESCE(?3, connected_by),
                                 last_error = NULL, updated_at = {NOW}
                             WHERE salon_id = ?1"
                        ),
                        params![salon_id, api_key, connected_by],
                    )?;
                    Begin::Activate { api_key }
                }
                None => {
                    tx.execute(
                        &format!(
                            "INSERT INTO locations
                                 (salon_id, state, api_key, connected_by, created_at, updated_at)
                             VALUES (?1, 'pending', ?2, ?3, {NOW}, {NOW})"
                        ),
                        params![salon_id, fresh_key, connected_by],
                    )?;
                    Begin::Activate { api_key: fresh_key }
                }
            };
            tx.commit()?;
            Ok(begin)
        })
        .await
    }

    /// Records how the activation of `salon_id` ended, with an audit row.
    pub async fn finish_activation(&self, salon_id: i64, finish: Finish) -> Result<(), DbError> {
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (state, error, event) = match &finish {
                Finish::Activated => (LocationState::Active, None, "activated"),
                Finish::AlreadyInstalled => (LocationState::Active, None, "already_installed"),
                Finish::Failed(reason) => (
                    LocationState::Failed,
                    Some(reason.as_str()),
                    "activation_failed",
                ),
            };
            // Only a pending row moves: an uninstall that raced the call wins.
            tx.execute(
                &format!(
                    "UPDATE locations SET state = ?2, last_error = ?3, updated_at = {NOW}
                     WHERE salon_id = ?1 AND state = 'pending'"
                ),
                params![salon_id, state.as_str(), error],
            )?;
            let detail = error.map(|e| serde_json::json!({ "reason": e }).to_string());
            audit(&tx, salon_id, event, detail.as_deref())?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// Applies Altegio's callback for `salon_id` and writes an audit row. Returns the state
    /// afterwards (`None` when the location was never connected here).
    pub async fn apply_callback(
        &self,
        salon_id: i64,
        event: CallbackEvent,
        application_id: i64,
    ) -> Result<Option<LocationState>, DbError> {
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            match event {
                CallbackEvent::Uninstall => {
                    tx.execute(
                        &format!(
                            "UPDATE locations SET state = 'uninstalled', api_key = NULL,
                                 connected_by = NULL, last_error = NULL, updated_at = {NOW}
                             WHERE salon_id = ?1"
                        ),
                        [salon_id],
                    )?;
                }
                CallbackEvent::Freeze => {
                    tx.execute(
                        &format!(
                            "UPDATE locations SET state = 'frozen', updated_at = {NOW}
                             WHERE salon_id = ?1"
                        ),
                        [salon_id],
                    )?;
                }
                CallbackEvent::Payment => {}
            }
            let detail = serde_json::json!({ "application_id": application_id }).to_string();
            audit(&tx, salon_id, event.as_str(), Some(&detail))?;
            let state: Option<String> = tx
                .query_row(
                    "SELECT state FROM locations WHERE salon_id = ?1",
                    [salon_id],
                    |r| r.get(0),
                )
                .optional()?;
            tx.commit()?;
            state.map(|s| LocationState::parse(&s)).transpose()
        })
        .await
    }

    /// Stores a webhook delivery unless one with the same body hash is stored.
    /// Returns `true` when stored, `false` for a duplicate.
    pub async fn store_webhook(&self, hook: NewWebhook) -> Result<bool, DbError> {
        self.call(move |conn| {
            let n = conn.execute(
                &format!(
                    "INSERT OR IGNORE INTO webhooks
                         (body_sha256, company_id, resource, resource_id, status, body, received_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, {NOW})"
                ),
                params![
                    hook.body_sha256,
                    hook.company_id,
                    hook.resource,
                    hook.resource_id,
                    hook.status,
                    hook.body
                ],
            )?;
            Ok(n == 1)
        })
        .await
    }

    /// How many webhook deliveries are stored.
    pub async fn webhook_count(&self) -> Result<i64, DbError> {
        self.call(|conn| Ok(conn.query_row("SELECT COUNT(*) FROM webhooks", [], |r| r.get(0))?))
            .await
    }

    /// All locations, by ID.
    pub async fn locations(&self) -> Result<Vec<LocationRow>, DbError> {
        self.call(|conn| {
            let mut stmt = conn.prepare(
                "SELECT salon_id, state, updated_at, last_error FROM locations ORDER BY salon_id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get(2)?,
                    r.get(3)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (salon_id, state, updated_at, last_error) = row?;
                out.push(LocationRow {
                    salon_id,
                    state: LocationState::parse(&state)?,
                    updated_at,
                    last_error,
                });
            }
            Ok(out)
        })
        .await
    }

    /// One location's state and stored key (operators and tests; never sent to a browser).
    pub async fn location_with_key(
        &self,
        salon_id: i64,
    ) -> Result<Option<(LocationState, Option<String>)>, DbError> {
        self.call(move |conn| {
            let row: Option<(String, Option<String>)> = conn
                .query_row(
                    "SELECT state, api_key FROM locations WHERE salon_id = ?1",
                    [salon_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            row.map(|(s, k)| Ok((LocationState::parse(&s)?, k)))
                .transpose()
        })
        .await
    }

    /// The audit log of one location, oldest first.
    pub async fn audit_log(&self, salon_id: i64) -> Result<Vec<AuditRow>, DbError> {
        self.call(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT salon_id, event, detail, created_at FROM audit_log
                 WHERE salon_id = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([salon_id], |r| {
                Ok(AuditRow {
                    salon_id: r.get(0)?,
                    event: r.get(1)?,
                    detail: r.get(2)?,
                    created_at: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.sqlite")).unwrap();
        (dir, db)
    }

    #[test]
    fn migrations_are_recorded_and_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.sqlite");
        drop(Db::open(&path).unwrap());
        drop(Db::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        assert!(matches!(
            Db::open(&path),
            Err(DbError::TooNew { found: 99, .. })
        ));
    }

    #[tokio::test]
    async fn activation_lifecycle_reuses_stored_keys() {
        let (_d, db) = temp_db();
        let b = db
            .begin_activation(1, Some("u1".into()), "k1".into())
            .await
            .unwrap();
        assert_eq!(
            b,
            Begin::Activate {
                api_key: "k1".into()
            }
        );
        // Interrupted: the next attempt reuses the stored key.
        let b = db.begin_activation(1, None, "k2".into()).await.unwrap();
        assert_eq!(
            b,
            Begin::Activate {
                api_key: "k1".into()
            }
        );
        db.finish_activation(1, Finish::Activated).await.unwrap();
        assert_eq!(
            db.begin_activation(1, None, "k3".into()).await.unwrap(),
            Begin::AlreadyActive
        );
        let (state, key) = db.location_with_key(1).await.unwrap().unwrap();
        assert_eq!((state, key.as_deref()), (LocationState::Active, Some("k1")));

        db.begin_activation(2, None, "k4".into()).await.unwrap();
        db.finish_activation(2, Finish::Failed("nope".into()))
            .await
            .unwrap();
        let rows = db.locations().await.unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].state, LocationState::Failed);
        assert_eq!(rows[1].last_error.as_deref(), Some("nope"));
    }

    #[tokio::test]
    async fn uninstall_purges_key_and_keeps_audit() {
        let (_d, db) = temp_db();
        db.begin_activation(5, Some("u".into()), "key".into())
            .await
            .unwrap();
        db.finish_activation(5, Finish::Activated).await.unwrap();
        let s = db
            .apply_callback(5, CallbackEvent::Uninstall, 9)
            .await
            .unwrap();
        assert_eq!(s, Some(LocationState::Uninstalled));
        let (_, key) = db.location_with_key(5).await.unwrap().unwrap();
        assert_eq!(key, None);
        let log = db.audit_log(5).await.unwrap();
        let events: Vec<&str> = log.iter().map(|r| r.event.as_str()).collect();
        assert_eq!(events, ["activated", "uninstall"]);
        // A late activation result does not resurrect it.
        db.finish_activation(5, Finish::Activated).await.unwrap();
        assert_eq!(
            db.location_with_key(5).await.unwrap().unwrap().0,
            LocationState::Uninstalled
        );
        // Reconnecting gets a fresh key.
        let b = db.begin_activation(5, None, "new".into()).await.unwrap();
        assert_eq!(
            b,
            Begin::Activate {
                api_key: "new".into()
            }
        );
        // Unknown location: audit only.
        assert_eq!(
            db.apply_callback(6, CallbackEvent::Freeze, 9)
                .await
                .unwrap(),
            None
        );
        assert_eq!(db.audit_log(6).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn webhooks_are_stored_once() {
        let (_d, db) = temp_db();
        let hook = NewWebhook {
            body_sha256: "h".into(),
            company_id: 1,
            resource: "record".into(),
            resource_id: Some(2),
            status: "create".into(),
            body: "{}".into(),
        };
        assert!(db.store_webhook(hook.clone()).await.unwrap());
        assert!(!db.store_webhook(hook).await.unwrap());
        assert_eq!(db.webhook_count().await.unwrap(), 1);
    }
}
