//! Browser glue: the only part of the crate that touches JavaScript. Values cross as JSON
//! (one call each way); the core does the rest.

mod analytics;
mod connect;
mod destinations;
mod js;
mod listener;
mod types;

pub use analytics::BookingAnalytics;

/// In debug builds (the `debug` feature), panics are logged to the console with their message.
#[cfg(feature = "debug")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}
