//! Connecting locations: for each one, store a key (`pending`) first, then call the partner
//! API, then record the outcome. Locations are handled concurrently and independently, one
//! location at a time per salon ID within this process, and the work is detached from the
//! HTTP request so that a browser that goes away does not cut an activation in half.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::OwnedMutexGuard;

use crate::db::{Begin, Db, Finish};
use crate::partner_api::{Activation, PartnerApi};

/// The outcome of one location, as `/api/connect` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocationOutcome {
    /// Altegio's location ID.
    pub salon_id: i64,
    /// `active` or `failed`.
    pub status: OutcomeStatus,
    /// For `active`: whether it was active before this request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub already_active: Option<bool>,
    /// For `failed`: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The status of one location in a connect answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutcomeStatus {
    /// Connected.
    Active,
    /// Not connected; see `reason`.
    Failed,
}

impl LocationOutcome {
    fn active(salon_id: i64, already_active: bool) -> Self {
        Self {
            salon_id,
            status: OutcomeStatus::Active,
            already_active: Some(already_active),
            reason: None,
        }
    }

    fn failed(salon_id: i64, reason: impl Into<String>) -> Self {
        Self {
            salon_id,
            status: OutcomeStatus::Failed,
            already_active: None,
            reason: Some(reason.into()),
        }
    }
}

/// A fresh API key for one location: 32 bytes from the operating system, hex-encoded.
pub fn new_api_key() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// Per-salon mutual exclusion within this process, so that a double-clicked connect does
/// not activate the same location twice at once. Entries are removed when unused.
#[derive(Clone, Default)]
pub struct SalonLocks {
    map: Arc<Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>>,
}

/// Held while one salon is being activated.
pub struct SalonGuard {
    locks: SalonLocks,
    salon_id: i64,
    guard: Option<OwnedMutexGuard<()>>,
}

impl SalonLocks {
    /// Waits for exclusive use of `salon_id`.
    pub async fn lock(&self, salon_id: i64) -> SalonGuard {
        let mutex = {
            let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(map.entry(salon_id).or_default())
        };
        let guard = mutex.lock_owned().await;
        SalonGuard {
            locks: self.clone(),
            salon_id,
            guard: Some(guard),
        }
    }

    /// Salon IDs with a lock entry (held or awaited).
    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether no salon is locked or awaited.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for SalonGuard {
    fn drop(&mut self) {
        let mut map = self.locks.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(guard) = self.guard.take() {
            // The map and this guard hold the only references: nobody is waiting.
            if Arc::strong_count(OwnedMutexGuard::mutex(&guard)) == 2 {
                map.remove(&self.salon_id);
            }
            drop(guard);
        }
    }
}

/// Connects locations: the database, the partner API and the per-salon locks.
#[derive(Clone, Debug)]
pub struct Activator {
    db: Db,
    api: PartnerApi,
    locks: SalonLocks,
}

impl std::fmt::Debug for SalonLocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SalonLocks")
            .field("held", &self.len())
            .finish()
    }
}

impl Activator {
    /// Combines the store and the client.
    pub fn new(db: Db, api: PartnerApi) -> Self {
        Self {
            db,
            api,
            locks: SalonLocks::default(),
        }
    }

    /// Connects every location in `salon_ids` and returns one outcome per location, in the
    /// same order. Each location runs as its own task: one failure never hides or undoes
    /// another, and the tasks finish even if the caller stops waiting.
    pub async fn connect(
        &self,
        salon_ids: &[i64],
        connected_by: Option<String>,
    ) -> Vec<LocationOutcome> {
        let handles: Vec<_> = salon_ids
            .iter()
            .map(|&salon_id| {
                let this = self.clone();
                let by = connected_by.clone();
                (
                    salon_id,
                    tokio::spawn(async move { this.connect_one(salon_id, by).await }),
                )
            })
            .collect();
        let mut outcomes = Vec::with_capacity(handles.len());
        for (salon_id, handle) in handles {
            outcomes.push(handle.await.unwrap_or_else(|e| {
                tracing::error!(salon_id, error = %e, "activation task failed");
                LocationOutcome::failed(salon_id, "internal error")
            }));
        }
        outcomes
    }

    async fn connect_one(&self, salon_id: i64, connected_by: Option<String>) -> LocationOutcome {
        let _guard = self.locks.lock(salon_id).await;
        let fresh = match new_api_key() {
            Ok(k) => k,
            Err(e) => {
                tracing::error!(salon_id, error = %e, "no randomness for an API key");
                return LocationOutcome::failed(
                    salon_id,
                    "internal error: could not generate a key",
                );
            }
        };
        let api_key = match self
            .db
            .begin_activation(salon_id, connected_by, fresh)
            .await
        {
            Ok(Begin::AlreadyActive) => {
                tracing::info!(salon_id, "already active; no activation sent");
                return LocationOutcome::active(salon_id, true);
            }
            Ok(Begin::Activate { api_key }) => api_key,
            Err(e) => {
                tracing::error!(salon_id, error = %e, "could not store the location");
                return LocationOutcome::failed(
                    salon_id,
                    "internal error: could not store the location",
                );
            }
        };
        let activation = self.api.activate(salon_id, &api_key).await;
        let (finish, outcome) = match activation {
            Activation::Activated => (Finish::Activated, LocationOutcome::active(salon_id, false)),
            Activation::AlreadyInstalled => (
                Finish::AlreadyInstalled,
                LocationOutcome::active(salon_id, true),
            ),
            Activation::Failed(reason) => (
                Finish::Failed(reason.clone()),
                LocationOutcome::failed(salon_id, reason),
            ),
        };
        match &finish {
            Finish::Failed(reason) => tracing::warn!(salon_id, %reason, "activation failed"),
            _ => tracing::info!(salon_id, "location active"),
        }
        if let Err(e) = self.db.finish_activation(salon_id, finish).await {
            tracing::error!(salon_id, error = %e, "could not record the activation outcome");
            if outcome.status == OutcomeStatus::Active {
                return LocationOutcome::failed(
                    salon_id,
                    "activated at Altegio, but the result could not be stored; connect again",
                );
            }
        }
        outcome
    }

    /// The per-salon locks (for tests and diagnostics).
    pub fn locks(&self) -> &SalonLocks {
        &self.locks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_are_random_and_long() {
        let a = new_api_key().unwrap();
        let b = new_api_key().unwrap();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[tokio::test]
    async fn salon_locks_exclude_and_clean_up() {
        let locks = SalonLocks::default();
        let g1 = locks.lock(1).await;
        let _g2 = locks.lock(2).await;
        let l = locks.clone();
        let waiter = tokio::spawn(async move {
            let _g = l.lock(1).await;
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(g1);
        waiter.await.unwrap();
        assert_eq!(locks.len(), 1);
    }

    #[test]
    fn outcome_json_shape() {
        let a = serde_json::to_value(LocationOutcome::active(1, false)).unwrap();
        assert_eq!(
            a,
            serde_json::json!({"salon_id": 1, "status": "active", "already_active": false})
        );
        let f = serde_json::to_value(LocationOutcome::failed(2, "x")).unwrap();
        assert_eq!(
            f,
            serde_json::json!({"salon_id": 2, "status": "failed", "reason": "x"})
        );
    }
}
