//! The server stopped in the middle of a connect and started again on the same database.
//!
//! The companion runs in a runtime of its own over a real TCP socket; the stand-in and the
//! client run in another. One location hangs at the stand-in; once every activation has
//! reached the stand-in, the companion's runtime is dropped (every task, in-flight calls
//! included, is gone — as if the process had been killed). A new companion on the same file
//! must find consistent state, and repeating the connect must finish the job.
// A test crate: its helper functions may unwrap like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use altegio_companion::config::Config;
use altegio_companion::standin::{Behaviour, Standin};
use altegio_companion::{app, AppState};
use common::*;
use serde_json::{json, Value};
use tokio::runtime::{Builder, Runtime};

fn runtime() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Starts a companion on 127.0.0.1:0 inside `rt`; returns its address and state.
fn start_companion(rt: &Runtime, args: Vec<String>) -> (std::net::SocketAddr, AppState) {
    rt.block_on(async move {
        let config = Config::try_parse_from(args).unwrap();
        let state = AppState::new(config).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = app(state.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (addr, state)
    })
}

async fn post_connect(addr: std::net::SocketAddr, body: Value) -> reqwest::Result<Value> {
    reqwest::Client::new()
        .post(format!("http://{addr}/api/connect"))
        .json(&body)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await
}

#[test]
fn a_connect_cut_short_by_a_stop_is_finished_by_the_next_connect() {
    let outer = runtime();
    let standin = Standin::new(TOKEN);
    standin.script(3, Behaviour::Hang);
    let (standin_addr, _server) = outer
        .block_on(standin.spawn("127.0.0.1:0".parse().unwrap()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let args = args(standin_addr, dir.path(), &[]);

    // First life: the connect reaches the stand-in for all three, one of them hangs.
    let first = runtime();
    let (addr, first_state) = start_companion(&first, args.clone());
    let client = outer.spawn(post_connect(addr, json!({"salon_ids": [1, 2, 3]})));
    outer.block_on(async {
        tokio::time::timeout(
            SAFETY,
            standin.wait_until(|reqs| reqs.iter().filter(|r| r.is_activation()).count() == 3),
        )
        .await
        .expect("the three activations never reached the stand-in");
    });
    // Killed mid-flight: every task of the companion is dropped.
    drop(first);
    drop(first_state);
    let cut = outer.block_on(client).unwrap();
    assert!(cut.is_err(), "the browser saw the connection drop: {cut:?}");
    let hung_key = standin.activations_for(3)[0].body["api_key"]
        .as_str()
        .unwrap()
        .to_owned();

    // Second life on the same database file.
    let second = runtime();
    let (addr, state) = start_companion(&second, args);
    let rows = second.block_on(state.db.locations()).unwrap();
    assert_eq!(
        rows.len(),
        3,
        "every location was stored before its call: {rows:?}"
    );
    for salon_id in [1, 2, 3] {
        let (s, key) = second
            .block_on(state.db.location_with_key(salon_id))
            .unwrap()
            .unwrap();
        let key = key.expect("key stored");
        let sent = standin.activations_for(salon_id)[0].body["api_key"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            key, sent,
            "salon {salon_id}: the stored key is the key sent"
        );
        if salon_id == 3 {
            assert_eq!(s.as_str(), "pending", "the hung one is pending");
        } else {
            // Finished before the stop, or cut between the answer and the write.
            assert!(
                matches!(s.as_str(), "pending" | "active"),
                "salon {salon_id}: {s:?}"
            );
        }
    }

    // Altegio recovers; the business (or the page) connects again.
    standin.script(3, Behaviour::Ok);
    let answer = outer
        .block_on(post_connect(addr, json!({"salon_ids": [1, 2, 3]})))
        .unwrap();
    for salon_id in [1, 2, 3] {
        assert_eq!(outcome(&answer, salon_id)["status"], "active", "{answer}");
    }
    let retried = standin.activations_for(3);
    assert_eq!(retried.len(), 2);
    assert_eq!(
        retried[1].body["api_key"],
        hung_key.as_str(),
        "stored key reused"
    );
    assert_eq!(standin.installation(3).unwrap().api_key, hung_key);
    for salon_id in [1, 2] {
        // At most one more request each (a pending row is re-sent and answered
        // "already installed"); the installed key is still the stored one.
        assert!(standin.activations_for(salon_id).len() <= 2);
        let (_, key) = second
            .block_on(state.db.location_with_key(salon_id))
            .unwrap()
            .unwrap();
        assert_eq!(
            standin.installation(salon_id).unwrap().api_key,
            key.unwrap()
        );
    }
    let rows = second.block_on(state.db.locations()).unwrap();
    assert!(
        rows.iter().all(|r| r.state.as_str() == "active"),
        "{rows:?}"
    );

    // A third connect changes nothing.
    let before = standin.activations().len();
    let answer = outer
        .block_on(post_connect(addr, json!({"salon_ids": [1, 2, 3]})))
        .unwrap();
    assert!(answer["locations"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["already_active"] == true));
    assert_eq!(standin.activations().len(), before);
    drop(second);
}
