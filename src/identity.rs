//! The visitor's identifiers on this site: GA's client ID from `_ga`, Meta's `_fbp` and `_fbc`
//! (`_fbc` minted from an `fbclid` URL parameter the way Meta's pixel does). The page's JS
//! helper reads and checks them (`identity` in src/web/js.rs: a few regular expressions there
//! cost less than the parsing here did); the companion's requests carry them.

use crate::prelude::*;

/// The identifiers found on this page (malformed ones are `None`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// GA's client ID, from `_ga`.
    pub ga_client_id: Option<String>,
    /// Meta's browser id, `_fbp`.
    pub fbp: Option<String>,
    /// Meta's click id, `_fbc`, from the cookie or minted from `fbclid`.
    pub fbc: Option<String>,
}
