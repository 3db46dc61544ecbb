//! The Meta Conversions API request: `POST {meta_api}/{pixel_id}/events?access_token=…` with
//! `{"data": [{event_name, event_time, event_id, action_source, event_source_url, user_data,
//! custom_data}], "test_event_code"?}`.
//!
//! `event_id` is the browser's `eventID`: Meta counts the Pixel's event and this one once.
//! `em` and `ph` arrive already hashed (SHA-256 hex of the normalised value, computed in the
//! browser) and are passed through unchanged. `client_ip_address` is the visitor's IP address
//! as the companion saw the connection ([`crate::client_ip`]), IPv4 or IPv6 as text; it is
//! not part of the stored event but kept beside it for Meta alone, until Meta's row is final.

use serde_json::{json, Map, Value};

use super::StoredEvent;
use crate::sites::MetaConfig;

/// The URL of the events endpoint, without the access token (that goes in the query).
pub fn url(config: &MetaConfig) -> String {
    format!("{}/{}/events", config.api, config.pixel_id)
}

/// The request body for one event, or `None` when the event has no Meta form. `client_ip`
/// is the visitor's address, when the companion still holds it.
pub fn body(config: &MetaConfig, event: &StoredEvent, client_ip: Option<&str>) -> Option<Value> {
    let meta = event.meta.as_ref()?;
    let mut user_data = Map::new();
    let client = &event.client;
    if let Some(ip) = client_ip {
        user_data.insert("client_ip_address".into(), json!(ip));
    }
    if let Some(ua) = &client.user_agent {
        user_data.insert("client_user_agent".into(), json!(ua));
    }
    if let Some(fbp) = &client.fbp {
        user_data.insert("fbp".into(), json!(fbp));
    }
    if let Some(fbc) = &client.fbc {
        user_data.insert("fbc".into(), json!(fbc));
    }
    if let Some(ud) = &event.user_data {
        if let Some(em) = &ud.em {
            user_data.insert("em".into(), json!([em]));
        }
        if let Some(ph) = &ud.ph {
            user_data.insert("ph".into(), json!([ph]));
        }
    }
    let mut data = Map::new();
    data.insert("event_name".into(), json!(meta.name));
    data.insert("event_time".into(), json!(event.time_ms.div_euclid(1000)));
    data.insert("event_id".into(), json!(event.event_id));
    data.insert("action_source".into(), json!("website"));
    if let Some(url) = &client.page_url {
        data.insert("event_source_url".into(), json!(url));
    }
    data.insert("user_data".into(), Value::Object(user_data));
    if !meta.params.is_empty() {
        data.insert("custom_data".into(), Value::Object(meta.params.clone()));
    }
    let mut body = json!({ "data": [Value::Object(data)] });
    if let Some(code) = &config.test_event_code {
        body["test_event_code"] = json!(code);
    }
    Some(body)
}

/// Meta's explanation in an error body: `error.message` (type, code), else the body's start.
pub fn error_message(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let e = v.get("error")?;
    let message = e.get("message").and_then(Value::as_str)?;
    let mut text = message.to_owned();
    let kind = e.get("type").and_then(Value::as_str);
    let code = e.get("code").and_then(Value::as_i64);
    match (kind, code) {
        (Some(k), Some(c)) => text.push_str(&format!(" ({k}, code {c})")),
        (Some(k), None) => text.push_str(&format!(" ({k})")),
        (None, Some(c)) => text.push_str(&format!(" (code {c})")),
        (None, None) => {}
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use crate::delivery::{StoredClient, StoredForm, StoredUserData};

    #[test]
    fn body_shape() {
        let config = MetaConfig {
            api: "http://x/v21.0".into(),
            pixel_id: "123".into(),
            access_token: Secret::new("t"),
            test_event_code: Some("TEST1".into()),
        };
        let hash = "a".repeat(64);
        let mut params = Map::new();
        params.insert("value".into(), json!(30));
        let event = StoredEvent {
            event_id: "ev-1".into(),
            name: "booked".into(),
            time_ms: 1_700_000_000_999,
            ga4: None,
            meta: Some(StoredForm {
                name: "Schedule".into(),
                params,
            }),
            ga4_delivered_in_browser: true,
            user_data: Some(StoredUserData {
                em: Some(hash.clone()),
                ph: None,
            }),
            client: StoredClient {
                ga_client_id: "1.2".into(),
                fbp: Some("fb.1.1.2".into()),
                fbc: None,
                page_url: Some("https://s.example/book".into()),
                user_agent: Some("UA".into()),
            },
        };
        assert_eq!(url(&config), "http://x/v21.0/123/events");
        let b = body(&config, &event, Some("2001:db8::7")).unwrap();
        assert_eq!(
            b,
            json!({"data": [{
                "event_name": "Schedule", "event_time": 1_700_000_000, "event_id": "ev-1",
                "action_source": "website", "event_source_url": "https://s.example/book",
                "user_data": {"client_ip_address": "2001:db8::7", "client_user_agent": "UA",
                              "fbp": "fb.1.1.2", "em": [hash.clone()]},
                "custom_data": {"value": 30}
            }], "test_event_code": "TEST1"})
        );
        // Without an address (cleared, or none seen) the field is left out.
        let b = body(&config, &event, None).unwrap();
        assert_eq!(
            b["data"][0]["user_data"],
            json!({"client_user_agent": "UA", "fbp": "fb.1.1.2", "em": [hash]})
        );
        assert_eq!(
            error_message(
                br#"{"error":{"message":"Invalid parameter","type":"OAuthException","code":100}}"#
            )
            .as_deref(),
            Some("Invalid parameter (OAuthException, code 100)")
        );
        assert_eq!(error_message(b"nope"), None);
    }
}
