//! Browser glue: the only part of the crate that touches JavaScript. Values cross as JSON
//! (one call each way); the core does the rest.

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

/// In debug builds (the `debug` feature), panics are logged to the console with their message.
#[cfg(feature = "debug")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// Reads `document.cookie` and `location.search` (outside a page there is no identity).
fn current_identity() -> crate::identity::Identity {
    let cookies = js::text("document", "cookie");
    let search = js::text("location", "search");
    let mut query = search.as_str();
    while let Some(rest) = query.strip_prefix("?") {
        query = rest;
    }
    let fbclid = crate::identity::pair_value(query, b'&', "fbclid");
    crate::identity::identity(&cookies, fbclid, js::date_now())
}
