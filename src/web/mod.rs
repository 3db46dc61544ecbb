//! Browser glue: the only part of the crate that touches JavaScript. Values come in as a tape
//! (`crate::tape`) and go out as JSON (one call each way); the core does the rest.

mod analytics;
mod connect;
mod delivery;
mod destinations;
mod js;
mod listener;
mod storage;
mod types;
mod user_data;

pub use analytics::BookingAnalytics;
#[cfg(target_arch = "wasm32")]
pub(crate) use js::push_number;

/// In debug builds (the `debug` feature), panics are logged to the console with their message.
#[cfg(feature = "debug")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

#[cfg(feature = "companion")]
/// The visitor's identifiers (the companion's requests carry them), read by the JS helper
/// that `identity()` returns.
fn current_identity() -> crate::identity::Identity {
    let found = js::identity();
    let field = |key| js::string(&js::get(&found, key));
    crate::identity::Identity {
        ga_client_id: field("gaClientId"),
        fbp: field("fbp"),
        fbc: field("fbc"),
    }
}
