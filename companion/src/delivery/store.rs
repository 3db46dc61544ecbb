//! The SQLite side of the server-side copy: collected events, stored once per
//! `(site, event_id)`, and one delivery row per event and destination with its state.
//!
//! Times are epoch milliseconds (`INTEGER`), passed in by the caller so that tests can move
//! the clock. States of a delivery row:
//!
//! - `pending`: waiting for its next attempt at `next_attempt_at`;
//! - `in_flight`: claimed by a worker until `lease_until`, the call is being made;
//! - `delivered`: the destination answered 2xx;
//! - `failed`: a final refusal (4xx other than 408/429) or the attempts ran out; `last_error`;
//! - `uncertain`: a GA4 call that may or may not have arrived (timeout, or the companion
//!   stopped during the call); never resent, since GA4 cannot de-duplicate.

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::Serialize;

use crate::db::{Db, DbError};

/// Migration 2 of [`crate::db::MIGRATIONS`]: collected events and their deliveries.
pub const MIGRATION: &str = r#"
    CREATE TABLE collect_events (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        site        TEXT NOT NULL,
        event_id    TEXT NOT NULL,
        name        TEXT NOT NULL,
        payload     TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        UNIQUE (site, event_id)
    );
    CREATE INDEX collect_events_received ON collect_events (received_at);
    CREATE TABLE collect_deliveries (
        event           INTEGER NOT NULL REFERENCES collect_events (id) ON DELETE CASCADE,
        destination     TEXT NOT NULL CHECK (destination IN ('meta', 'ga4')),
        state           TEXT NOT NULL
                        CHECK (state IN ('pending', 'in_flight', 'delivered', 'failed', 'uncertain')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        lease_until     INTEGER,
        last_error      TEXT,
        updated_at      INTEGER NOT NULL,
        PRIMARY KEY (event, destination)
    ) WITHOUT ROWID;
    CREATE INDEX collect_deliveries_due ON collect_deliveries (state, next_attempt_at);
"#;

/// Migration 3 of [`crate::db::MIGRATIONS`]: the visitor's IP address, in a column of its
/// own so that it can be cleared on its own. Set only for events with a Meta delivery row,
/// cleared as soon as that row is final (`delivered` or `failed`); GA4 never reads it.
pub const MIGRATION_CLIENT_IP: &str = r#"
    ALTER TABLE collect_events ADD COLUMN client_ip TEXT;
"#;

/// Where an event goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Destination {
    /// Meta Conversions API.
    Meta,
    /// GA4 Measurement Protocol.
    Ga4,
}

impl Destination {
    /// The name stored in the database and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Meta => "meta",
            Self::Ga4 => "ga4",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "meta" => Some(Self::Meta),
            "ga4" => Some(Self::Ga4),
            _ => None,
        }
    }
}

/// An event to store.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The browser's event ID (Meta's `eventID`).
    pub event_id: String,
    /// The module's event name, e.g. `booked`.
    pub name: String,
    /// Everything delivery needs, as JSON text.
    pub payload: String,
    /// The destinations it must be delivered to.
    pub destinations: Vec<Destination>,
    /// The visitor's IP address, for Meta only: stored only when `destinations` has Meta.
    pub client_ip: Option<String>,
}

/// A delivery row claimed by a worker: it is `in_flight` now.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// Row ID of the event.
    pub event: i64,
    /// The destination.
    pub destination: Destination,
    /// Attempts including the one about to be made.
    pub attempts: u32,
    /// The stored payload.
    pub payload: String,
    /// The visitor's IP address: for a Meta row, while it is kept; never for GA4.
    pub client_ip: Option<String>,
}

/// How an attempt ended, for [`Db::finish_delivery`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    /// 2xx.
    Delivered,
    /// Try again at this time (epoch ms).
    Retry {
        /// When.
        at_ms: i64,
        /// Why this attempt failed.
        reason: String,
    },
    /// Final: not retried.
    Failed(String),
    /// May have arrived; not resent.
    Uncertain(String),
}

/// One delivery row, for operators and tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryRow {
    /// The site.
    pub site: String,
    /// The browser's event ID.
    pub event_id: String,
    /// The destination.
    pub destination: Destination,
    /// `pending`, `in_flight`, `delivered`, `failed` or `uncertain`.
    pub state: String,
    /// Attempts made (or being made).
    pub attempts: u32,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
}

/// Counts by site, destination and state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateCount {
    /// The site.
    pub site: String,
    /// The destination.
    pub destination: Destination,
    /// The state.
    pub state: String,
    /// How many rows.
    pub count: i64,
}

fn destination(s: String) -> rusqlite::Result<Destination> {
    Destination::parse(&s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown destination {s:?}").into(),
        )
    })
}

impl Db {
    /// Stores `events` of `site` in one transaction, each unless `(site, event_id)` is stored
    /// already, with a `pending` delivery row per destination. Returns (stored, duplicates).
    pub async fn insert_collected(
        &self,
        site: String,
        events: Vec<NewEvent>,
        now_ms: i64,
    ) -> Result<(usize, usize), DbError> {
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (mut stored, mut duplicates) = (0, 0);
            {
                let mut insert = tx.prepare(
                    "INSERT OR IGNORE INTO collect_events
                         (site, event_id, name, payload, received_at, client_ip)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?;
                let mut delivery = tx.prepare(
                    "INSERT INTO collect_deliveries
                         (event, destination, state, attempts, next_attempt_at, updated_at)
                     VALUES (?1, ?2, 'pending', 0, ?3, ?3)",
                )?;
                for e in &events {
                    let client_ip = e
                        .client_ip
                        .as_deref()
                        .filter(|_| e.destinations.contains(&Destination::Meta));
                    let n = insert.execute(params![
                        site, e.event_id, e.name, e.payload, now_ms, client_ip
                    ])?;
                    if n == 0 {
                        duplicates += 1;
                        continue;
                    }
                    stored += 1;
                    let id = tx.last_insert_rowid();
                    for d in &e.destinations {
                        delivery.execute(params![id, d.as_str(), now_ms])?;
                    }
                }
            }
            tx.commit()?;
            Ok((stored, duplicates))
        })
        .await
    }

    /// Claims up to `limit` due `pending` rows of `destinations`, oldest due first: each
    /// becomes `in_flight` until `now_ms + lease_ms`, its attempt counted, in one transaction.
    pub async fn claim_deliveries(
        &self,
        destinations: Vec<Destination>,
        limit: usize,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Vec<Claimed>, DbError> {
        if destinations.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut claimed = Vec::new();
            {
                let mut select = tx.prepare(
                    "SELECT d.event, d.destination, d.attempts, e.payload,
                            CASE WHEN d.destination = 'meta' THEN e.client_ip END
                     FROM collect_deliveries d JOIN collect_events e ON e.id = d.event
                     WHERE d.state = 'pending' AND d.next_attempt_at <= ?1
                       AND d.destination IN (?2, ?3)
                     ORDER BY d.next_attempt_at, d.event
                     LIMIT ?4",
                )?;
                let first = destinations[0].as_str();
                let second = destinations.get(1).copied().unwrap_or(destinations[0]);
                let rows = select.query_map(
                    params![now_ms, first, second.as_str(), limit as i64],
                    |r| {
                        Ok(Claimed {
                            event: r.get(0)?,
                            destination: destination(r.get(1)?)?,
                            attempts: r.get::<_, u32>(2)?.saturating_add(1),
                            payload: r.get(3)?,
                            client_ip: r.get(4)?,
                        })
                    },
                )?;
                for row in rows {
                    claimed.push(row?);
                }
                let mut update = tx.prepare(
                    "UPDATE collect_deliveries
                     SET state = 'in_flight', attempts = ?3, lease_until = ?4, updated_at = ?5
                     WHERE event = ?1 AND destination = ?2 AND state = 'pending'",
                )?;
                for c in &claimed {
                    update.execute(params![
                        c.event,
                        c.destination.as_str(),
                        c.attempts,
                        now_ms + lease_ms,
                        now_ms
                    ])?;
                }
            }
            tx.commit()?;
            Ok(claimed)
        })
        .await
    }

    /// Records how an attempt on a claimed row ended. Only an `in_flight` row moves. When a
    /// Meta row becomes final (`delivered`, `failed`), the event's IP address is cleared: Meta
    /// was its only use.
    pub async fn finish_delivery(
        &self,
        event: i64,
        destination: Destination,
        finish: Finish,
        now_ms: i64,
    ) -> Result<(), DbError> {
        self.call(move |conn| {
            let (state, next, error) = match finish {
                Finish::Delivered => ("delivered", None, None),
                Finish::Retry { at_ms, reason } => ("pending", Some(at_ms), Some(reason)),
                Finish::Failed(reason) => ("failed", None, Some(reason)),
                Finish::Uncertain(reason) => ("uncertain", None, Some(reason)),
            };
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let moved = tx.execute(
                "UPDATE collect_deliveries
                 SET state = ?3, next_attempt_at = COALESCE(?4, next_attempt_at),
                     lease_until = NULL, last_error = ?5, updated_at = ?6
                 WHERE event = ?1 AND destination = ?2 AND state = 'in_flight'",
                params![event, destination.as_str(), state, next, error, now_ms],
            )?;
            if moved == 1
                && destination == Destination::Meta
                && matches!(state, "delivered" | "failed")
            {
                tx.execute(
                    "UPDATE collect_events SET client_ip = NULL WHERE id = ?1",
                    [event],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// Rows left `in_flight` past their lease (the companion stopped during the call, or the
    /// write after it failed): Meta rows go back to `pending` — a resend carries the same
    /// `event_id`, which Meta de-duplicates — unless their attempts ran out (`failed`); GA4
    /// rows become `uncertain` and are not resent. Returns (requeued, failed or uncertain).
    /// A Meta row that fails here has its event's IP address cleared.
    pub async fn recover_expired_leases(
        &self,
        now_ms: i64,
        max_attempts: u32,
    ) -> Result<(usize, usize), DbError> {
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let requeued = tx.execute(
                "UPDATE collect_deliveries
                 SET state = 'pending', next_attempt_at = ?1, lease_until = NULL, updated_at = ?1,
                     last_error = 'the companion stopped during the call; resent with the same event_id'
                 WHERE destination = 'meta' AND state = 'in_flight' AND lease_until < ?1
                   AND attempts < ?2",
                params![now_ms, max_attempts],
            )?;
            tx.execute(
                "UPDATE collect_events SET client_ip = NULL
                 WHERE id IN (SELECT event FROM collect_deliveries
                              WHERE destination = 'meta' AND state = 'in_flight'
                                AND lease_until < ?1)",
                params![now_ms],
            )?;
            let failed = tx.execute(
                "UPDATE collect_deliveries
                 SET state = 'failed', lease_until = NULL, updated_at = ?1,
                     last_error = 'the companion stopped during the last allowed attempt'
                 WHERE destination = 'meta' AND state = 'in_flight' AND lease_until < ?1",
                params![now_ms],
            )?;
            let uncertain = tx.execute(
                "UPDATE collect_deliveries
                 SET state = 'uncertain', lease_until = NULL, updated_at = ?1,
                     last_error = 'the companion stopped during the call; not resent, since GA4 \
                                   cannot de-duplicate'
                 WHERE destination = 'ga4' AND state = 'in_flight' AND lease_until < ?1",
                params![now_ms],
            )?;
            tx.commit()?;
            Ok((requeued, failed + uncertain))
        })
        .await
    }

    /// When the next `pending` row of `destinations` is due (epoch ms), if any.
    pub async fn next_delivery_due(
        &self,
        destinations: Vec<Destination>,
    ) -> Result<Option<i64>, DbError> {
        if destinations.is_empty() {
            return Ok(None);
        }
        self.call(move |conn| {
            let first = destinations[0];
            let second = destinations.get(1).copied().unwrap_or(first);
            let due: Option<i64> = conn
                .query_row(
                    "SELECT MIN(next_attempt_at) FROM collect_deliveries
                     WHERE state = 'pending' AND destination IN (?1, ?2)",
                    params![first.as_str(), second.as_str()],
                    |r| r.get(0),
                )
                .optional()?
                .flatten();
            Ok(due)
        })
        .await
    }

    /// Deletes events received before `cutoff_ms` with their delivery rows, whatever their
    /// state, except those with a call in flight. Returns how many events were deleted.
    pub async fn purge_collected(&self, cutoff_ms: i64) -> Result<usize, DbError> {
        self.call(move |conn| {
            let n = conn.execute(
                "DELETE FROM collect_events
                 WHERE received_at < ?1
                   AND NOT EXISTS (SELECT 1 FROM collect_deliveries d
                                   WHERE d.event = collect_events.id AND d.state = 'in_flight')",
                [cutoff_ms],
            )?;
            Ok(n)
        })
        .await
    }

    /// How many events are stored.
    pub async fn collected_count(&self) -> Result<i64, DbError> {
        self.call(|conn| {
            Ok(conn.query_row("SELECT COUNT(*) FROM collect_events", [], |r| r.get(0))?)
        })
        .await
    }

    /// Delivery rows counted by site, destination and state.
    pub async fn delivery_counts(&self) -> Result<Vec<StateCount>, DbError> {
        self.call(|conn| {
            let mut stmt = conn.prepare(
                "SELECT e.site, d.destination, d.state, COUNT(*)
                 FROM collect_deliveries d JOIN collect_events e ON e.id = d.event
                 GROUP BY e.site, d.destination, d.state
                 ORDER BY e.site, d.destination, d.state",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(StateCount {
                    site: r.get(0)?,
                    destination: destination(r.get(1)?)?,
                    state: r.get(2)?,
                    count: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    /// Delivery rows, newest event first; `only_problems` keeps `failed` and `uncertain` ones.
    pub async fn delivery_rows(
        &self,
        only_problems: bool,
        limit: usize,
    ) -> Result<Vec<DeliveryRow>, DbError> {
        self.call(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT e.site, e.event_id, d.destination, d.state, d.attempts, d.last_error
                 FROM collect_deliveries d JOIN collect_events e ON e.id = d.event
                 WHERE (?1 = 0 OR d.state IN ('failed', 'uncertain'))
                 ORDER BY d.updated_at DESC, e.id DESC, d.destination
                 LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![only_problems, limit as i64], |r| {
                Ok(DeliveryRow {
                    site: r.get(0)?,
                    event_id: r.get(1)?,
                    destination: destination(r.get(2)?)?,
                    state: r.get(3)?,
                    attempts: r.get(4)?,
                    last_error: r.get(5)?,
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
    use Destination::{Ga4, Meta};

    fn temp_db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.sqlite")).unwrap();
        (dir, db)
    }

    fn event(id: &str, destinations: Vec<Destination>) -> NewEvent {
        NewEvent {
            event_id: id.into(),
            name: "booked".into(),
            payload: format!(r#"{{"id":"{id}"}}"#),
            destinations,
            client_ip: None,
        }
    }

    fn event_from(id: &str, destinations: Vec<Destination>, ip: &str) -> NewEvent {
        NewEvent {
            client_ip: Some(ip.into()),
            ..event(id, destinations)
        }
    }

    /// The `client_ip` column of each event, by event ID.
    async fn stored_ips(db: &Db) -> Vec<(String, Option<String>)> {
        db.call(|conn| {
            let mut stmt =
                conn.prepare("SELECT event_id, client_ip FROM collect_events ORDER BY event_id")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
        .unwrap()
    }

    fn ips(pairs: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
        pairs
            .iter()
            .map(|(id, ip)| (id.to_string(), ip.map(str::to_owned)))
            .collect()
    }

    fn state(rows: &[DeliveryRow], id: &str, d: Destination) -> (String, u32) {
        let r = rows
            .iter()
            .find(|r| r.event_id == id && r.destination == d)
            .unwrap();
        (r.state.clone(), r.attempts)
    }

    #[tokio::test]
    async fn events_are_stored_once_per_site() {
        let (_d, db) = temp_db();
        let (s, dup) = db
            .insert_collected(
                "a".into(),
                vec![
                    event("1", vec![Meta, Ga4]),
                    event("1", vec![Meta]),
                    event("2", vec![]),
                ],
                0,
            )
            .await
            .unwrap();
        assert_eq!((s, dup), (2, 1));
        let (s, dup) = db
            .insert_collected("a".into(), vec![event("2", vec![Meta])], 0)
            .await
            .unwrap();
        assert_eq!((s, dup), (0, 1));
        // The same ID on another site is another event.
        let (s, _) = db
            .insert_collected("b".into(), vec![event("1", vec![Meta])], 0)
            .await
            .unwrap();
        assert_eq!(s, 1);
        assert_eq!(db.collected_count().await.unwrap(), 3);
        assert_eq!(db.delivery_rows(false, 100).await.unwrap().len(), 3);
    }

    #[tokio::test]
    async fn claim_finish_and_lease_recovery() {
        let (_d, db) = temp_db();
        db.insert_collected(
            "a".into(),
            vec![event("1", vec![Meta, Ga4]), event("2", vec![Meta, Ga4])],
            100,
        )
        .await
        .unwrap();
        // Not due yet.
        assert!(db
            .claim_deliveries(vec![Meta, Ga4], 10, 99, 50)
            .await
            .unwrap()
            .is_empty());
        let c = db
            .claim_deliveries(vec![Meta, Ga4], 10, 100, 50)
            .await
            .unwrap();
        assert_eq!(c.len(), 4);
        assert!(c.iter().all(|c| c.attempts == 1));
        // Claimed rows are not claimed twice.
        assert!(db
            .claim_deliveries(vec![Meta, Ga4], 10, 100, 50)
            .await
            .unwrap()
            .is_empty());
        let ev1 = c[0].event;
        db.finish_delivery(ev1, Meta, Finish::Delivered, 110)
            .await
            .unwrap();
        db.finish_delivery(
            ev1,
            Ga4,
            Finish::Retry {
                at_ms: 200,
                reason: "HTTP 503".into(),
            },
            110,
        )
        .await
        .unwrap();
        assert_eq!(
            db.next_delivery_due(vec![Meta, Ga4]).await.unwrap(),
            Some(200)
        );
        // A late finish on a row that is no longer in flight changes nothing.
        db.finish_delivery(ev1, Meta, Finish::Failed("late".into()), 120)
            .await
            .unwrap();
        // Event 2's calls were cut short: before the lease ends nothing moves.
        assert_eq!(db.recover_expired_leases(140, 10).await.unwrap(), (0, 0));
        assert_eq!(db.recover_expired_leases(151, 10).await.unwrap(), (1, 1));
        let rows = db.delivery_rows(false, 100).await.unwrap();
        assert_eq!(state(&rows, "1", Meta), ("delivered".into(), 1));
        assert_eq!(state(&rows, "1", Ga4), ("pending".into(), 1));
        assert_eq!(state(&rows, "2", Meta), ("pending".into(), 1));
        assert_eq!(state(&rows, "2", Ga4), ("uncertain".into(), 1));
        // Meta's retry counts as attempt 2; with 2 attempts allowed, a second cut fails it.
        let c = db.claim_deliveries(vec![Meta], 10, 300, 50).await.unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].attempts, 2);
        assert_eq!(db.recover_expired_leases(400, 2).await.unwrap(), (0, 1));
        let rows = db.delivery_rows(true, 100).await.unwrap();
        assert_eq!(rows.len(), 2, "{rows:?}");
        let counts = db.delivery_counts().await.unwrap();
        assert_eq!(counts.iter().map(|c| c.count).sum::<i64>(), 4);
    }

    #[tokio::test]
    async fn the_ip_address_is_kept_for_meta_only_until_its_row_is_final() {
        let (_d, db) = temp_db();
        db.insert_collected(
            "a".into(),
            vec![
                event_from("delivered", vec![Meta, Ga4], "203.0.113.1"),
                event_from("failed", vec![Meta], "2001:db8::1"),
                event_from("retried", vec![Meta], "203.0.113.3"),
                event_from("cut", vec![Meta], "203.0.113.4"),
                event_from("ga4-only", vec![Ga4], "203.0.113.5"),
                event_from("nowhere", vec![], "203.0.113.6"),
            ],
            100,
        )
        .await
        .unwrap();
        // Without a Meta row the address is not even stored.
        assert_eq!(
            stored_ips(&db).await,
            ips(&[
                ("cut", Some("203.0.113.4")),
                ("delivered", Some("203.0.113.1")),
                ("failed", Some("2001:db8::1")),
                ("ga4-only", None),
                ("nowhere", None),
                ("retried", Some("203.0.113.3")),
            ])
        );
        let claimed = db
            .claim_deliveries(vec![Meta, Ga4], 10, 100, 50)
            .await
            .unwrap();
        let find = |id: &str, d: Destination| {
            claimed
                .iter()
                .find(|c| c.payload.contains(&format!("\"{id}\"")) && c.destination == d)
                .unwrap()
                .clone()
        };
        // A GA4 claim never carries it, even when the event has one.
        assert_eq!(find("delivered", Ga4).client_ip, None);
        assert_eq!(
            find("delivered", Meta).client_ip.as_deref(),
            Some("203.0.113.1")
        );
        let finish = |id: &str, d: Destination, f: Finish| {
            let c = find(id, d);
            let db = db.clone();
            async move { db.finish_delivery(c.event, d, f, 110).await.unwrap() }
        };
        finish("delivered", Meta, Finish::Delivered).await;
        finish("failed", Meta, Finish::Failed("HTTP 400".into())).await;
        let retry = Finish::Retry {
            at_ms: 120,
            reason: "HTTP 503".into(),
        };
        finish("retried", Meta, retry).await;
        finish("delivered", Ga4, Finish::Delivered).await;
        finish("ga4-only", Ga4, Finish::Uncertain("timed out".into())).await;
        assert_eq!(
            stored_ips(&db).await,
            ips(&[
                ("cut", Some("203.0.113.4")),
                ("delivered", None),
                ("failed", None),
                ("ga4-only", None),
                ("nowhere", None),
                ("retried", Some("203.0.113.3")),
            ])
        );
        // The retry still has it; the call cut short on its last attempt loses it.
        let again = db.claim_deliveries(vec![Meta], 10, 120, 50).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].client_ip.as_deref(), Some("203.0.113.3"));
        assert_eq!(db.recover_expired_leases(151, 10).await.unwrap(), (1, 0));
        assert_eq!(
            stored_ips(&db).await[0],
            ("cut".to_owned(), Some("203.0.113.4".to_owned())),
            "requeued: still needed"
        );
        db.claim_deliveries(vec![Meta], 10, 151, 50).await.unwrap();
        assert_eq!(db.recover_expired_leases(500, 2).await.unwrap(), (0, 2));
        assert!(
            stored_ips(&db).await.iter().all(|(_, ip)| ip.is_none()),
            "{:?}",
            stored_ips(&db).await
        );
    }

    #[tokio::test]
    async fn a_database_from_before_the_ip_column_is_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.sqlite");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(crate::db::MIGRATIONS[0]).unwrap();
            conn.execute_batch(MIGRATION).unwrap();
            conn.pragma_update(None, "user_version", 2).unwrap();
            conn.execute(
                "INSERT INTO collect_events (site, event_id, name, payload, received_at)
                 VALUES ('a', 'old', 'booked', '{}', 100)",
                [],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO collect_deliveries
                     (event, destination, state, attempts, next_attempt_at, updated_at)
                 VALUES (1, 'meta', 'pending', 0, 100, 100)",
                [],
            )
            .unwrap();
        }
        let db = Db::open(&path).unwrap();
        let c = db.claim_deliveries(vec![Meta], 10, 100, 50).await.unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].payload.as_str(), c[0].client_ip.as_deref()),
            ("{}", None)
        );
    }

    #[tokio::test]
    async fn retention_purges_old_events_but_not_calls_in_flight() {
        let (_d, db) = temp_db();
        db.insert_collected("a".into(), vec![event("old", vec![Meta])], 1_000)
            .await
            .unwrap();
        db.insert_collected("a".into(), vec![event("busy", vec![Meta])], 1_001)
            .await
            .unwrap();
        db.insert_collected("a".into(), vec![event("new", vec![Meta])], 5_000)
            .await
            .unwrap();
        let c = db
            .claim_deliveries(vec![Meta], 10, 5_000, 10)
            .await
            .unwrap();
        let old = c.iter().find(|c| c.payload.contains("old")).unwrap();
        db.finish_delivery(old.event, Meta, Finish::Delivered, 5_001)
            .await
            .unwrap();
        let new = c.iter().find(|c| c.payload.contains("new")).unwrap();
        db.finish_delivery(new.event, Meta, Finish::Delivered, 5_001)
            .await
            .unwrap();
        assert_eq!(db.purge_collected(2_000).await.unwrap(), 1);
        let ids: Vec<String> = db
            .delivery_rows(false, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.event_id)
            .collect();
        assert!(ids.contains(&"busy".to_owned()) && ids.contains(&"new".to_owned()));
        assert!(!ids.contains(&"old".to_owned()));
        // Once purged, the same event ID is a new event (retention must outlive the outbox).
        let (s, _) = db
            .insert_collected("a".into(), vec![event("old", vec![])], 6_000)
            .await
            .unwrap();
        assert_eq!(s, 1);
    }
}
