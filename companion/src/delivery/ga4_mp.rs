//! The GA4 Measurement Protocol request: `POST {ga4_api}/mp/collect?measurement_id=…&api_secret=…`
//! with `{"client_id", "timestamp_micros"?, "events": [{"name", "params"}]}`.
//!
//! Only for events the browser did not deliver to GA4 itself (`ga4_delivered_in_browser`
//! false): GA4 has no de-duplication, so sending both would count the event twice. The
//! client ID is the `_ga` cookie's, or one the companion generated when the request had none
//! (`<random>.<unix seconds>`, shared by the events of one request). `timestamp_micros` is
//! the event's time when it is at most 72 hours old (what the protocol accepts). Nothing
//! personal goes here: no hashed e-mail or phone, no IP address (the protocol has no field
//! for one, and [`body`] is never given it).

use serde_json::{json, Value};

use super::StoredEvent;
use crate::sites::Ga4Config;

/// The oldest event time sent as `timestamp_micros`.
const MAX_BACKDATE_MS: i64 = 72 * 3600 * 1000;

/// The URL of the collect endpoint, without the query (measurement ID and secret).
pub fn url(config: &Ga4Config) -> String {
    format!("{}/mp/collect", config.api)
}

/// The request body for one event, or `None` when it must not go to GA4 from here.
pub fn body(event: &StoredEvent, now_ms: i64) -> Option<Value> {
    if event.ga4_delivered_in_browser {
        return None;
    }
    let ga4 = event.ga4.as_ref()?;
    let mut body = json!({
        "client_id": event.client.ga_client_id,
        "events": [{ "name": ga4.name, "params": ga4.params }],
    });
    if event.time_ms <= now_ms && now_ms - event.time_ms <= MAX_BACKDATE_MS {
        body["timestamp_micros"] = json!(event.time_ms.saturating_mul(1000));
    }
    Some(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::{StoredClient, StoredForm};
    use serde_json::Map;

    fn event(in_browser: bool, time_ms: i64) -> StoredEvent {
        let mut params = Map::new();
        params.insert("service".into(), json!("cut"));
        StoredEvent {
            event_id: "e".into(),
            name: "booked".into(),
            time_ms,
            ga4: Some(StoredForm {
                name: "booking_created".into(),
                params,
            }),
            meta: None,
            ga4_delivered_in_browser: in_browser,
            user_data: None,
            client: StoredClient {
                ga_client_id: "111.222".into(),
                ..StoredClient::default()
            },
        }
    }

    #[test]
    fn body_shape_and_skips() {
        let now = 1_700_000_000_000;
        assert_eq!(body(&event(true, now), now), None);
        assert_eq!(
            body(&event(false, now - 1000), now).unwrap(),
            json!({"client_id": "111.222", "timestamp_micros": (now - 1000) * 1000,
                   "events": [{"name": "booking_created", "params": {"service": "cut"}}]})
        );
        let old = body(&event(false, now - MAX_BACKDATE_MS - 1), now).unwrap();
        assert!(old.get("timestamp_micros").is_none());
    }
}
