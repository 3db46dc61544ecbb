//! Counters: every event and message the module saw, and what became of it.

/// What the module has seen since it was created. `received` always equals
/// `accepted + rejected + ignored`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages and `track` calls.
    pub received: u32,
    /// Events that passed the checks.
    pub accepted: u32,
    /// Events that failed the checks.
    pub rejected: u32,
    /// Messages that were not widget events: wrong origin, wrong shape, or a repeat.
    pub ignored: u32,
    /// Of `ignored`: from an origin off the allowlist.
    pub ignored_origin: u32,
    /// Of `ignored`: not `{action: string, params?: object}`.
    pub ignored_shape: u32,
    /// Of `ignored`: the same event (name and event id) already seen.
    pub ignored_duplicate: u32,
    /// Events handed to gtag or dataLayer.
    pub forwarded_ga4: u32,
    /// Events handed to fbq.
    pub forwarded_meta: u32,
    /// Events GA4 should have had but the call failed.
    pub failed_ga4: u32,
    /// Events Meta should have had but fbq was missing or threw.
    pub failed_meta: u32,
    /// Destination calls held in memory until the visitor decides on consent.
    pub consent_waiting: u32,
    /// Destination calls dropped because consent was denied (or the waiting list overflowed).
    pub consent_dropped: u32,
}
