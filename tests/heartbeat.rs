//! Heartbeats in each revision's direction (PROTOCOL.md §1.5), over
//! polling and WebSocket: EIO3 clients ping and the server answers, EIO4
//! servers ping and expect pongs, wrong-direction pings, silence timeouts.
//! Intervals are configured small; tests wait on the observed frames and
//! the backend's `on_close`, never on sleeps.
mod common;

use common::core_server::{spawn, test_config};
use common::http_client::Poller;
use common::ws_client::{connect, next_text, open_sid, send_text, until_close};
use siogate::config::ServerConfig;
use siogate::server::CloseReason;
use tokio_tungstenite::tungstenite::Message;

fn fast() -> ServerConfig {
    ServerConfig {
        ping_interval_ms: 100,
        ping_timeout_ms: 100,
        ..test_config()
    }
}

#[tokio::test]
async fn polling_eio3_client_ping_is_answered_with_pong() {
    let srv = spawn(test_config()).await;
    let (p, _) = Poller::open(srv.addr, 3, "").await;
    assert_eq!(p.post("1:2").await.text(), "ok");
    assert_eq!(p.get().await.text(), "1:3");
}

#[tokio::test]
async fn polling_eio4_server_pings_and_closes_without_pong() {
    let mut srv = spawn(fast()).await;
    let (p, _) = Poller::open(srv.addr, 4, "").await;
    assert_eq!(p.get().await.text(), "2");
    assert_eq!(p.post("3").await.text(), "ok");
    assert_eq!(p.get().await.text(), "2", "a pong schedules the next ping");
    // No pong this time.
    assert_eq!(srv.closed(&p.sid).await, CloseReason::PingTimeout);
    assert_eq!(p.get().await.text(), "1");
}

#[tokio::test]
async fn polling_eio3_session_times_out_after_silence() {
    let mut srv = spawn(fast()).await;
    let (p, _) = Poller::open(srv.addr, 3, "").await;
    assert_eq!(srv.closed(&p.sid).await, CloseReason::PingTimeout);
}

#[tokio::test]
async fn vector_50_polling_eio4_client_ping_closes_when_strict() {
    let mut srv = spawn(test_config()).await;
    let (p, _) = Poller::open(srv.addr, 4, "").await;
    assert_eq!(p.post("2").await.text(), "ok");
    assert!(matches!(
        srv.closed(&p.sid).await,
        CloseReason::ProtocolError(_)
    ));
}

#[tokio::test]
async fn vector_50_polling_eio4_client_ping_is_ignored_when_not_strict() {
    let mut srv = spawn(ServerConfig {
        strict_heartbeat: false,
        ..test_config()
    })
    .await;
    let (p, _) = Poller::open(srv.addr, 4, "").await;
    assert_eq!(p.post("2\x1e4still-here").await.text(), "ok");
    assert_eq!(p.get().await.text(), "4still-here");
    assert!(!srv.has_closed(&p.sid));
}

#[tokio::test]
async fn websocket_eio3_client_ping_is_answered() {
    let srv = spawn(test_config()).await;
    let mut ws = connect(srv.addr, 3, "").await;
    next_text(&mut ws).await;
    send_text(&mut ws, "2").await;
    assert_eq!(next_text(&mut ws).await, "3");
}

#[tokio::test]
async fn websocket_eio4_server_pings_and_closes_without_pong() {
    let mut srv = spawn(fast()).await;
    let mut ws = connect(srv.addr, 4, "").await;
    let sid = open_sid(&next_text(&mut ws).await);
    assert_eq!(next_text(&mut ws).await, "2");
    send_text(&mut ws, "3").await;
    assert_eq!(
        next_text(&mut ws).await,
        "2",
        "a pong schedules the next ping"
    );
    // No pong this time: the server says goodbye and closes.
    let (seen, _) = until_close(&mut ws).await;
    assert_eq!(seen, vec![Message::text("1")]);
    assert_eq!(srv.closed(&sid).await, CloseReason::PingTimeout);
}

#[tokio::test]
async fn vector_50_websocket_eio4_client_ping_closes_when_strict() {
    let mut srv = spawn(test_config()).await;
    let mut ws = connect(srv.addr, 4, "").await;
    let sid = open_sid(&next_text(&mut ws).await);
    send_text(&mut ws, "2").await;
    until_close(&mut ws).await;
    assert_eq!(
        srv.closed(&sid).await,
        CloseReason::ProtocolError("invalid heartbeat direction".into())
    );
}
