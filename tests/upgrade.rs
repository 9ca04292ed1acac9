//! The polling → WebSocket upgrade of PROTOCOL.md §1.9 against the server
//! core: probe, the noop that releases the paused poll, the switch, and
//! polling refused afterwards.
mod common;

use common::core_server::{spawn, test_config, within};
use common::http_client::Poller;
use common::ws_client::{Ws, connect, next_text, send_text};
use siogate::server::CloseReason;

/// Opens a WebSocket for an existing polling session.
async fn ws_for(p: &Poller) -> Ws {
    connect(p.addr, p.eio, &format!("&sid={}", p.sid)).await
}

async fn upgrade_flow(eio: u8, noop: &str) {
    let mut srv = spawn(test_config()).await;
    let (p, _) = Poller::open(srv.addr, eio, "").await;
    let paused = p.spawn_get();
    let mut ws = ws_for(&p).await;
    send_text(&mut ws, "2probe").await;
    assert_eq!(next_text(&mut ws).await, "3probe");
    assert_eq!(
        within(paused).await.unwrap().text(),
        noop,
        "the paused poll is released with a noop"
    );
    send_text(&mut ws, "5").await;
    send_text(&mut ws, "4over websocket").await;
    assert_eq!(next_text(&mut ws).await, "4over websocket");
    let get = p.get().await;
    assert_eq!(
        (get.status, get.text()),
        (400, r#"{"code":3,"message":"Bad request"}"#)
    );
    let post = p.post(if eio == 3 { "2:4x" } else { "4x" }).await;
    assert_eq!(post.status, 400);
    assert!(
        !srv.has_closed(&p.sid),
        "refused polling does not close the upgraded session"
    );
    send_text(&mut ws, "1").await;
    assert_eq!(srv.closed(&p.sid).await, CloseReason::ClientClose);
}

#[tokio::test]
async fn eio4_polling_upgrades_to_websocket() {
    upgrade_flow(4, "6").await;
}

#[tokio::test]
async fn eio3_polling_upgrades_to_websocket() {
    upgrade_flow(3, "1:6").await;
}

#[tokio::test]
async fn packets_queued_during_the_probe_go_out_over_websocket() {
    let srv = spawn(test_config()).await;
    let (p, _) = Poller::open(srv.addr, 4, "").await;
    let mut ws = ws_for(&p).await;
    send_text(&mut ws, "2probe").await;
    assert_eq!(next_text(&mut ws).await, "3probe");
    // The noop waits for the next poll; the client polls once more.
    assert_eq!(p.get().await.text(), "6");
    assert_eq!(p.post("4queued").await.text(), "ok");
    send_text(&mut ws, "5").await;
    assert_eq!(next_text(&mut ws).await, "4queued");
}

#[tokio::test]
async fn failed_probe_leaves_the_session_on_polling() {
    let srv = spawn(test_config()).await;
    let (p, _) = Poller::open(srv.addr, 4, "").await;
    let mut ws = ws_for(&p).await;
    send_text(&mut ws, "4not a probe").await;
    common::ws_client::until_close(&mut ws).await;
    assert_eq!(p.post("4still polling").await.text(), "ok");
    assert_eq!(p.get().await.text(), "4still polling");
}

#[tokio::test]
async fn upgrade_of_unknown_sid_is_refused_before_101() {
    let srv = spawn(test_config()).await;
    let err = common::ws_client::try_connect(srv.addr, 4, "&sid=nope", &[])
        .await
        .err();
    match err {
        Some(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 400);
            assert_eq!(
                resp.body().as_deref(),
                Some(&br#"{"code":1,"message":"Session ID unknown"}"#[..])
            );
        }
        other => panic!("expected an HTTP 400, got {other:?}"),
    }
}

#[tokio::test]
async fn a_poll_sent_after_the_noop_is_released_too() {
    // The client got the noop before it read `3probe` (two sockets, either
    // order) and polled again; it sends `5` only once that poll returns.
    let srv = spawn(test_config()).await;
    let (p, _) = Poller::open(srv.addr, 3, "").await;
    let first = p.spawn_get();
    let mut ws = ws_for(&p).await;
    send_text(&mut ws, "2probe").await;
    assert_eq!(next_text(&mut ws).await, "3probe");
    assert_eq!(within(first).await.unwrap().text(), "1:6");
    let started = std::time::Instant::now();
    assert_eq!(p.get().await.text(), "1:6", "the second poll is released");
    let waited = started.elapsed();
    assert!(waited < std::time::Duration::from_secs(1), "{waited:?}");
    send_text(&mut ws, "5").await;
    send_text(&mut ws, "4after").await;
    assert_eq!(next_text(&mut ws).await, "4after");
}
