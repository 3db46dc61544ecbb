//! The outbox's store in the browser: one localStorage key. Every access is guarded in
//! JavaScript (a missing, disabled, full or throwing localStorage answers "failed", never
//! throws), and the outbox then keeps its entries in memory.

use super::js;
use crate::outbox::{Store, STORAGE_KEY};
use crate::prelude::*;

/// localStorage under [`STORAGE_KEY`].
#[derive(Debug, Default)]
pub struct LocalStore;

impl Store for LocalStore {
    fn read(&mut self) -> Option<String> {
        js::string(&js::storage(STORAGE_KEY, None))
    }

    fn write(&mut self, text: &str) -> bool {
        !js::storage(STORAGE_KEY, Some(text)).is_null_or_undefined()
    }

    fn is_json(&self, text: &str) -> bool {
        // `null` also for "null", which no companion copy is.
        !js::json_parse_or_null(text).is_null()
    }
}
