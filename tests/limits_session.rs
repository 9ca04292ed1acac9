//! `[server.limits]` inside a session, against the server core with the
//! echo backend: the packet token bucket (WebSocket and polling), the
//! namespace cap, and the idle timeout. Each test checks that the other
//! sessions (or the session's other namespaces) keep working.
mod common;

use std::time::Duration;

use common::core_server::{spawn, with_limits, within};
use common::http_client::Poller;
use common::ws_client::{Ws, connect, next_text, open_sid, round_trip, send_text, until_close};
use siogate::config::ServerConfig;
use siogate::limits::Refusal;
use siogate::metrics::{DisconnectReason, LimitKind};
use siogate::server::CloseReason;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

async fn open(addr: std::net::SocketAddr, eio: u8) -> (Ws, String) {
    let mut ws = connect(addr, eio, "").await;
    let sid = open_sid(&next_text(&mut ws).await);
    (ws, sid)
}

#[tokio::test]
async fn websocket_flood_over_the_burst_closes_with_rate_limit() {
    let mut srv = spawn(with_limits(|l| {
        l.packet_rate_per_sec = Some(1);
        l.packet_burst = Some(5);
    }))
    .await;
    let (mut calm, _) = open(srv.addr, 4).await;
    let (mut noisy, sid) = open(srv.addr, 4).await;
    for i in 0..10 {
        // The server may close mid-flood; later sends may fail.
        let _ = futures_util::SinkExt::send(&mut noisy, Message::text(format!("4m{i}"))).await;
    }
    assert_eq!(
        srv.closed(&sid).await,
        CloseReason::Limit(Refusal::RateLimit)
    );
    let (seen, frame) = until_close(&mut noisy).await;
    let texts: Vec<String> = seen
        .iter()
        .filter_map(|m| m.to_text().ok().map(str::to_owned))
        .collect();
    assert_eq!(
        texts,
        ["4m0", "4m1", "4m2", "4m3", "4m4", "1"],
        "the burst is echoed, then the Engine.IO close"
    );
    assert_eq!(frame.map(|f| f.code), Some(CloseCode::Policy));
    let m = siogate::metrics::global();
    assert!(m.limit_refusals.get(LimitKind::Rate) >= 1);
    assert!(m.disconnects.get(DisconnectReason::RateLimit) >= 1);
    round_trip(&mut calm, "4calm").await;
}

#[tokio::test]
async fn polling_post_over_the_burst_closes_the_session() {
    let mut srv = spawn(with_limits(|l| l.packet_rate_per_sec = Some(3))).await;
    let (calm, _) = Poller::open(srv.addr, 4, "").await;
    let (noisy, _) = Poller::open(srv.addr, 4, "").await;
    assert_eq!(noisy.post("4a\x1e4b\x1e4c\x1e4d\x1e4e").await.status, 200);
    assert_eq!(
        srv.closed(&noisy.sid).await,
        CloseReason::Limit(Refusal::RateLimit)
    );
    // The three packets within the burst were handled, then `1`.
    assert_eq!(noisy.get().await.text(), "4a\x1e4b\x1e4c\x1e1");
    assert_eq!(calm.post("4ok").await.status, 200);
    assert_eq!(calm.get().await.text(), "4ok");
}

#[tokio::test]
async fn connect_over_the_namespace_limit_gets_connect_error_and_the_session_goes_on() {
    let mut srv = spawn(with_limits(|l| l.max_namespaces = 2)).await;
    let (mut ws, sid) = open(srv.addr, 4).await;
    round_trip(&mut ws, "40").await;
    round_trip(&mut ws, "40/a,{\"token\":\"t\"}").await;
    send_text(&mut ws, "40/b,").await;
    assert_eq!(
        next_text(&mut ws).await,
        r#"44/b,{"message":"Too many namespaces"}"#
    );
    assert!(
        siogate::metrics::global()
            .limit_refusals
            .get(LimitKind::Namespaces)
            >= 1
    );
    round_trip(&mut ws, "42/a,[\"still\"]").await;
    // Leaving a namespace frees its slot.
    round_trip(&mut ws, "41/a,").await;
    round_trip(&mut ws, "40/b,").await;
    assert!(!srv.has_closed(&sid));
}

#[tokio::test]
async fn eio3_session_holds_root_and_gets_an_error_packet() {
    let srv = spawn(with_limits(|l| l.max_namespaces = 1)).await;
    let (mut ws, _) = open(srv.addr, 3).await;
    send_text(&mut ws, "40/chat?token=abc").await;
    assert_eq!(next_text(&mut ws).await, r#"44/chat,"Too many namespaces""#);
    round_trip(&mut ws, "42[\"root\"]").await;
}

#[tokio::test]
async fn silent_session_is_closed_at_the_idle_timeout_despite_heartbeats() {
    let cfg = ServerConfig {
        ping_interval_ms: 100,
        ping_timeout_ms: 2_000,
        ..with_limits(|l| l.idle_timeout_ms = Some(600))
    };
    let mut srv = spawn(cfg).await;
    let (mut silent, sid) = open(srv.addr, 4).await;
    let started = Instant::now();
    // Answer every ping: the heartbeat is healthy, yet nothing else is said.
    let mut pings = 0;
    within(async {
        loop {
            match next_text(&mut silent).await.as_str() {
                "2" => {
                    pings += 1;
                    send_text(&mut silent, "3").await;
                }
                "1" => break,
                other => panic!("unexpected {other}"),
            }
        }
    })
    .await;
    let waited = started.elapsed();
    assert!(pings >= 2, "heartbeats ran ({pings})");
    assert!(
        waited >= Duration::from_millis(550),
        "closed after {waited:?}"
    );
    assert_eq!(
        srv.closed(&sid).await,
        CloseReason::Limit(Refusal::IdleTimeout)
    );
    let m = siogate::metrics::global();
    assert!(m.limit_refusals.get(LimitKind::IdleTimeout) >= 1);
    assert!(m.disconnects.get(DisconnectReason::IdleTimeout) >= 1);
}

#[tokio::test]
async fn messages_in_either_direction_keep_a_session_from_idling_out() {
    let mut srv = spawn(with_limits(|l| l.idle_timeout_ms = Some(400))).await;
    let (mut chatty, sid) = open(srv.addr, 4).await;
    // Four round trips 150 ms apart span 600 ms, more than the timeout.
    for i in 0..4 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        round_trip(&mut chatty, &format!("4tick{i}")).await;
    }
    assert!(!srv.has_closed(&sid), "an active session stays open");
}
