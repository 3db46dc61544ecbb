//! Harness for the server-side copy: the destination stand-in (Meta CAPI + GA4 MP) on
//! 127.0.0.1:0, a companion configured with one site and both destinations, and helpers to
//! post events and wait for their delivery rows to settle.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::time::Duration;

use altegio_companion::delivery::store::DeliveryRow;
use altegio_companion::delivery::Destination;
use altegio_companion::destination_standin::DestinationStandin;
use altegio_companion::AppState;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use serde_json::{json, Value};

use crate::common::{json_of, Harness, SAFETY};

pub const SITE: &str = "salon";
pub const KEY: &str = "pk_test_0123456789abcdef";
pub const ORIGIN: &str = "https://salon.example";
pub const OTHER_SITE: &str = "other";
pub const OTHER_KEY: &str = "pk_other_0123456789abcdef";
pub const OTHER_ORIGIN: &str = "https://other.example";
pub const PIXEL: &str = "1234567890";
pub const META_TOKEN: &str = "EAAB-meta-secret-token";
pub const GA4_ID: &str = "G-TEST123";
pub const GA4_SECRET: &str = "ga4-mp-secret-value";
pub const EM: &str = "f660ab912ec121d1b1e928a0bb4bc61b15f5ad44d5efdc4e1c92a25e99b8e44a";
pub const PH: &str = "254aa248acb47dd654ca3ea53f48c2c26d641d23d7e2e93a1ec56258df7674c4";
pub const UA: &str = "Mozilla/5.0 (test) Chromium";

/// The companion's flags for the server-side copy, pointing at the stand-in. A flag given
/// in `extra` replaces the default one (clap refuses a single-valued flag twice).
pub fn collect_args(dest: SocketAddr, extra: &[&str]) -> Vec<String> {
    let defaults: Vec<(&str, String)> = vec![
        (
            "--site",
            format!("id={SITE},key={KEY},origins={ORIGIN}|https://www.salon.example"),
        ),
        (
            "--site",
            format!("id={OTHER_SITE},key={OTHER_KEY},origins={OTHER_ORIGIN}"),
        ),
        ("--meta-pixel-id", PIXEL.into()),
        ("--meta-access-token", META_TOKEN.into()),
        ("--meta-api", format!("http://{dest}/v21.0")),
        ("--ga4-measurement-id", GA4_ID.into()),
        ("--ga4-api-secret", GA4_SECRET.into()),
        ("--ga4-api", format!("http://{dest}")),
        ("--delivery-timeout-ms", "30000".into()),
        ("--delivery-retry-base-ms", "1".into()),
        ("--delivery-max-delay-ms", "20".into()),
        ("--delivery-poll-ms", "20".into()),
        ("--delivery-attempts", "4".into()),
    ];
    let mut v: Vec<String> = Vec::new();
    for (flag, value) in defaults {
        if !extra.contains(&flag) {
            v.push(flag.to_owned());
            v.push(value);
        }
    }
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

pub struct Collect {
    pub h: Harness,
    pub dest: DestinationStandin,
    pub dest_addr: SocketAddr,
}

impl Collect {
    pub async fn new() -> Self {
        Self::with_args(&[]).await
    }

    /// `extra` comes after the defaults, so it overrides them.
    pub async fn with_args(extra: &[&str]) -> Self {
        let dest = DestinationStandin::new();
        let (dest_addr, _task) = dest.spawn("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let args = collect_args(dest_addr, extra);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let h = Harness::with_args(&refs).await;
        Self { h, dest, dest_addr }
    }

    pub fn state(&self) -> &AppState {
        &self.h.state
    }

    /// Posts a raw body to /api/collect.
    pub async fn post_raw(
        &self,
        origin: Option<&str>,
        content_type: &str,
        body: impl Into<Body>,
    ) -> (StatusCode, HeaderMap, Value) {
        let mut req = Request::post("/api/collect")
            .header("content-type", content_type)
            .header("user-agent", "header-UA/1.0");
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let (status, headers, bytes) = self.h.send(req.body(body.into()).unwrap()).await;
        let v = if bytes.is_empty() {
            Value::Null
        } else {
            json_of(&bytes)
        };
        (status, headers, v)
    }

    /// Posts `body` as JSON from the site's origin.
    pub async fn post(&self, body: &Value) -> (StatusCode, Value) {
        let (s, _, v) = self
            .post_raw(Some(ORIGIN), "application/json", body.to_string())
            .await;
        (s, v)
    }

    pub async fn rows(&self) -> Vec<DeliveryRow> {
        rows(self.state()).await
    }

    pub async fn wait_settled(&self, event_id: &str, expected_rows: usize) -> Vec<DeliveryRow> {
        wait_settled(self.state(), event_id, expected_rows).await
    }
}

pub async fn rows(state: &AppState) -> Vec<DeliveryRow> {
    state.db.delivery_rows(false, 10_000).await.unwrap()
}

/// Waits until `event_id` has `expected_rows` delivery rows, none pending or in flight.
pub async fn wait_settled(
    state: &AppState,
    event_id: &str,
    expected_rows: usize,
) -> Vec<DeliveryRow> {
    let wait = async {
        loop {
            let mine: Vec<DeliveryRow> = rows(state)
                .await
                .into_iter()
                .filter(|r| r.event_id == event_id)
                .collect();
            if mine.len() == expected_rows
                && mine
                    .iter()
                    .all(|r| !matches!(r.state.as_str(), "pending" | "in_flight"))
            {
                return mine;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(SAFETY, wait)
        .await
        .unwrap_or_else(|_| panic!("{event_id} never settled"))
}

pub fn row(rows: &[DeliveryRow], destination: Destination) -> &DeliveryRow {
    rows.iter()
        .find(|r| r.destination == destination)
        .unwrap_or_else(|| panic!("no {destination:?} row in {rows:?}"))
}

/// One event with both forms; `params.booking_ref` carries the event ID so GA4 calls can be
/// told apart.
pub fn event(event_id: &str, ga4_delivered_in_browser: bool) -> Value {
    json!({
        "event_id": event_id,
        "name": "booked",
        "ga4": {"name": "booking_created", "params": {"booking_ref": event_id, "value": 30, "currency": "EUR"}},
        "meta": {"name": "Schedule", "params": {"value": 30, "currency": "EUR", "content_name": "Haircut"}},
        "ga4_delivered_in_browser": ga4_delivered_in_browser,
        "time_ms": altegio_companion::delivery::now_ms() - 5_000,
        "user_data": {"em": EM, "ph": PH}
    })
}

pub fn body(events: Vec<Value>) -> Value {
    json!({
        "site": SITE,
        "key": KEY,
        "client": {
            "ga_client_id": "1197596843.1700000000",
            "fbp": "fb.1.1700000000000.1234567890",
            "fbc": "fb.1.1700000000000.IwAR-test",
            "page_url": "https://salon.example/booking?step=done",
            "user_agent": UA
        },
        "events": events
    })
}

/// GA4 calls carrying `event_id` as `booking_ref`.
pub fn ga4_calls_for(dest: &DestinationStandin, event_id: &str) -> usize {
    dest.calls_to(Destination::Ga4)
        .iter()
        .filter(|c| c.body["events"][0]["params"]["booking_ref"] == event_id)
        .count()
}

/// Meta calls carrying `event_id`.
pub fn meta_calls_for(dest: &DestinationStandin, event_id: &str) -> usize {
    dest.calls_to(Destination::Meta)
        .iter()
        .filter(|c| c.meta_event_ids().iter().any(|e| e == event_id))
        .count()
}

/// The companion's router served on 127.0.0.1:0 over a real socket, with peer addresses
/// (as the binary serves it): its base URL and the server task.
pub async fn serve(state: &AppState) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service =
        altegio_companion::app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move {
        axum::serve(listener, service).await.unwrap();
    });
    (format!("http://{addr}"), server)
}
