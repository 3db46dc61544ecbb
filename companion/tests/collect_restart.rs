//! The server-side copy across a companion restart on the same database file.
//!
//! Each companion life runs in a tokio runtime of its own; dropping that runtime drops every
//! task of the companion (the delivery worker and its calls included), as if the process had
//! been killed. The destination stand-in runs in another runtime and outlives both lives.
// A test crate: its helper functions may unwrap like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod collect_support;
mod common;

use altegio_companion::config::Config;
use altegio_companion::delivery::Destination::{Ga4, Meta};
use altegio_companion::destination_standin::{DestinationStandin, Reply};
use altegio_companion::{app, AppState};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use collect_support::*;
use common::SAFETY;
use http_body_util::BodyExt;
use tokio::runtime::{Builder, Runtime};
use tower::ServiceExt;

fn runtime() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The full argument list of a companion on `dir`'s database, pointing at the stand-ins.
fn companion_args(
    partner: std::net::SocketAddr,
    dest: std::net::SocketAddr,
    dir: &std::path::Path,
    extra: &[&str],
) -> Vec<String> {
    let collect = collect_args(dest, extra);
    let refs: Vec<&str> = collect.iter().map(String::as_str).collect();
    common::args(partner, dir, &refs)
}

/// Starts a companion inside `rt` (its worker runs there) and posts `events` to it.
fn start_and_post(rt: &Runtime, args: Vec<String>, events: Vec<serde_json::Value>) -> AppState {
    rt.block_on(async move {
        let state = AppState::new(Config::try_parse_from(args).unwrap()).unwrap();
        if !events.is_empty() {
            let req = Request::post("/api/collect")
                .header("origin", ORIGIN)
                .header("content-type", "text/plain")
                .body(Body::from(body(events).to_string()))
                .unwrap();
            let resp = app(state.clone()).oneshot(req).await.unwrap();
            let status = resp.status();
            let bytes = resp.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(
                status,
                StatusCode::ACCEPTED,
                "{}",
                String::from_utf8_lossy(&bytes)
            );
        }
        state
    })
}

fn spawn_standins(
    outer: &Runtime,
) -> (
    DestinationStandin,
    std::net::SocketAddr,
    std::net::SocketAddr,
) {
    let partner = altegio_companion::standin::Standin::new(common::TOKEN);
    let dest = DestinationStandin::new();
    let (partner_addr, dest_addr) = outer.block_on(async {
        let (p, _) = partner.spawn("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let (d, _) = dest.spawn("127.0.0.1:0".parse().unwrap()).await.unwrap();
        (p, d)
    });
    (dest, partner_addr, dest_addr)
}

#[test]
fn events_stored_before_a_restart_are_delivered_once_after_it() {
    let outer = runtime();
    let (dest, partner_addr, dest_addr) = spawn_standins(&outer);
    let dir = tempfile::tempdir().unwrap();

    // First life: delivery off (as during a credentials rotation); three events stored.
    let first = runtime();
    let state = start_and_post(
        &first,
        companion_args(
            partner_addr,
            dest_addr,
            dir.path(),
            &["--delivery", "false"],
        ),
        vec![event("r-1", false), event("r-2", false), event("r-3", true)],
    );
    let pending = first.block_on(rows(&state));
    assert_eq!(pending.len(), 5, "{pending:?}");
    assert!(pending
        .iter()
        .all(|r| r.state == "pending" && r.attempts == 0));
    drop(state);
    drop(first);
    assert!(dest.calls().is_empty());

    // Second life on the same file, delivery on: the backlog goes out, each event once.
    let second = runtime();
    let state = start_and_post(
        &second,
        companion_args(partner_addr, dest_addr, dir.path(), &[]),
        vec![],
    );
    second.block_on(async {
        wait_settled(&state, "r-1", 2).await;
        wait_settled(&state, "r-2", 2).await;
        wait_settled(&state, "r-3", 1).await;
    });
    let all = second.block_on(rows(&state));
    assert!(
        all.iter()
            .all(|r| r.state == "delivered" && r.attempts == 1),
        "{all:?}"
    );
    for id in ["r-1", "r-2", "r-3"] {
        assert_eq!(meta_calls_for(&dest, id), 1, "{id}");
    }
    assert_eq!(ga4_calls_for(&dest, "r-1"), 1);
    assert_eq!(ga4_calls_for(&dest, "r-2"), 1);
    assert_eq!(ga4_calls_for(&dest, "r-3"), 0);
    // A repeated beacon after the restart is still a duplicate.
    second.block_on(async {
        let req = Request::post("/api/collect")
            .header("origin", ORIGIN)
            .header("content-type", "application/json")
            .body(Body::from(body(vec![event("r-1", false)]).to_string()))
            .unwrap();
        let resp = app(state.clone()).oneshot(req).await.unwrap();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["duplicates"], 1, "{v}");
    });
}

#[test]
fn a_call_cut_short_by_a_stop_is_resent_to_meta_and_not_to_ga4() {
    let outer = runtime();
    let (dest, partner_addr, dest_addr) = spawn_standins(&outer);
    dest.script(Meta, [Reply::Hang]);
    dest.script(Ga4, [Reply::Hang]);
    let dir = tempfile::tempdir().unwrap();

    // First life: both calls reach the stand-in and hang; the companion is killed.
    // (Lease: 3 s with a 1.5 s call timeout. Should the timeout fire before the kill on a
    // slow machine, the outcome is the same: Meta retried, GA4 uncertain.)
    let first = runtime();
    let state = start_and_post(
        &first,
        companion_args(
            partner_addr,
            dest_addr,
            dir.path(),
            &["--delivery-timeout-ms", "1500"],
        ),
        vec![event("cut-1", false)],
    );
    outer.block_on(async {
        tokio::time::timeout(
            SAFETY,
            dest.wait_until(|calls| {
                calls.iter().any(|c| c.destination == Meta)
                    && calls.iter().any(|c| c.destination == Ga4)
            }),
        )
        .await
        .expect("the calls never reached the stand-in");
    });
    drop(state);
    drop(first);

    // Second life: once the lease has expired, Meta is resent with the same event ID (Meta
    // counts it once); GA4 is marked uncertain and never called again.
    let second = runtime();
    let state = start_and_post(
        &second,
        companion_args(partner_addr, dest_addr, dir.path(), &[]),
        vec![],
    );
    let settled = second.block_on(wait_settled(&state, "cut-1", 2));
    let meta = row(&settled, Meta);
    assert_eq!(meta.state, "delivered", "{meta:?}");
    assert!(meta.attempts >= 2, "{meta:?}");
    let meta_calls = dest.calls_to(Meta);
    assert_eq!(meta_calls[0].reply, "hang");
    assert_eq!(meta_calls.last().unwrap().reply, "200");
    assert!(meta_calls.iter().all(|c| c.meta_event_ids() == ["cut-1"]));
    let ga4 = row(&settled, Ga4);
    assert_eq!(ga4.state, "uncertain", "{ga4:?}");
    assert!(
        ga4.last_error.as_deref().unwrap().contains("not resent"),
        "{ga4:?}"
    );
    assert_eq!(dest.calls_to(Ga4).len(), 1);
}
