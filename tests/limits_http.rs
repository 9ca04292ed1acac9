//! `[server.limits]` at the HTTP level, against the server core with the
//! echo backend (raw HTTP and WebSocket, for exact status codes and bodies):
//! session and connection limits, URL length, the header read timeout, the
//! Origin check on the WebSocket upgrade, and the packets-per-POST cap. Each
//! test also checks that an existing session still round-trips afterwards.
mod common;

use std::time::Duration;

use common::core_server::{TestServer, spawn, test_config, with_limits, within};
use common::http_client::{Poller, get, request};
use common::ws_client::{Ws, connect, next_text, open_sid, round_trip, send_text, try_connect};
use siogate::config::ServerConfig;
use siogate::metrics::LimitKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Error as WsError;

/// `siogate_limit_refusals_total{kind}` so far (process-wide; each kind is
/// refused by one test of this file only).
fn refusals(kind: LimitKind) -> u64 {
    siogate::metrics::global().limit_refusals.get(kind)
}

/// A WebSocket session that echoes: returns it with its sid.
async fn echo_session(srv: &TestServer) -> (Ws, String) {
    let mut ws = connect(srv.addr, 4, "").await;
    let sid = open_sid(&next_text(&mut ws).await);
    (ws, sid)
}

/// The HTTP status of a refused WebSocket handshake, and its body.
async fn ws_refusal(srv: &TestServer, extra: &str) -> (u16, String) {
    match try_connect(srv.addr, 4, extra, &[]).await {
        Err(WsError::Http(resp)) => {
            let body = resp.body().clone().unwrap_or_default();
            (
                resp.status().as_u16(),
                String::from_utf8_lossy(&body).into_owned(),
            )
        }
        Ok(_) => panic!("the WebSocket handshake was accepted"),
        Err(e) => panic!("expected an HTTP refusal, got {e:?}"),
    }
}

#[tokio::test]
async fn session_limit_refuses_polling_and_websocket_handshakes_with_503() {
    let mut srv = spawn(with_limits(|l| l.max_sessions = Some(1))).await;
    let (mut ws, sid) = echo_session(&srv).await;

    let refused = get(srv.addr, "/socket.io/?EIO=4&transport=polling").await;
    assert_eq!(refused.status, 503);
    assert_eq!(
        refused.text(),
        r#"{"code":3,"message":"Too many sessions"}"#
    );
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(refused.header("content-type"), Some("application/json"));
    let (status, body) = ws_refusal(&srv, "").await;
    assert_eq!(status, 503, "refused before the upgrade");
    assert_eq!(body, r#"{"code":3,"message":"Too many sessions"}"#);
    assert!(refusals(LimitKind::Sessions) >= 2);

    round_trip(&mut ws, "4still here").await;
    // Closing the session gives its slot back before the backend hears of it.
    send_text(&mut ws, "1").await;
    srv.closed(&sid).await;
    let mut next = try_connect(srv.addr, 4, "", &[])
        .await
        .expect("the slot is free once the session ended");
    assert!(next_text(&mut next).await.starts_with("0{"));
    round_trip(&mut next, "4new session").await;
}

#[tokio::test]
async fn per_ip_session_limit_answers_429_and_spares_existing_sessions() {
    let srv = spawn(with_limits(|l| l.max_sessions_per_ip = Some(2))).await;
    let (mut a, _) = echo_session(&srv).await;
    let (p, _) = Poller::open(srv.addr, 3, "").await;
    let refused = get(srv.addr, "/socket.io/?EIO=3&transport=polling").await;
    assert_eq!(refused.status, 429);
    assert_eq!(
        refused.text(),
        r#"{"code":3,"message":"Too many sessions from this address"}"#
    );
    let (status, _) = ws_refusal(&srv, "").await;
    assert_eq!(status, 429);
    assert!(refusals(LimitKind::SessionsPerIp) >= 2);
    round_trip(&mut a, "4a").await;
    assert_eq!(p.post("2:4x").await.status, 200);
    assert_eq!(p.get().await.text(), "2:4x");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_per_ip_limit_counts_forwarded_clients() {
    let handshake = "/socket.io/?EIO=4&transport=polling";
    let from = |client: &'static str| [("x-forwarded-for", client)];
    let mut cfg = with_limits(|l| l.max_sessions_per_ip = Some(1));
    cfg.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    let srv = spawn(cfg).await;
    // Two clients behind the same proxy (the peer is 127.0.0.1 for both).
    let one = request(srv.addr, "GET", handshake, &from("203.0.113.1"), "").await;
    assert_eq!(one.status, 200, "{}", one.text());
    let two = request(srv.addr, "GET", handshake, &from("203.0.113.2"), "").await;
    assert_eq!(two.status, 200, "another client: {}", two.text());
    // The first client again, behind a chain of trusted hops, and with a
    // spoofed address it put in front itself: still the same client.
    let chain = [("x-forwarded-for", "6.6.6.6, 203.0.113.1, 127.0.0.9")];
    let again = request(srv.addr, "GET", handshake, &chain, "").await;
    assert_eq!(again.status, 429, "{}", again.text());

    // Without trusted proxies the header is ignored: one peer, one session.
    let srv = spawn(with_limits(|l| l.max_sessions_per_ip = Some(1))).await;
    let one = request(srv.addr, "GET", handshake, &from("203.0.113.1"), "").await;
    assert_eq!(one.status, 200);
    let two = request(srv.addr, "GET", handshake, &from("203.0.113.2"), "").await;
    assert_eq!(two.status, 429, "a forged header buys no extra session");
}

#[tokio::test]
async fn connection_limit_closes_extra_tcp_connections_at_accept() {
    let srv = spawn(with_limits(|l| l.max_connections_per_ip = Some(1))).await;
    let (mut ws, _) = echo_session(&srv).await;
    // The second connection is accepted by the kernel, then closed unread.
    let mut extra = within(TcpStream::connect(srv.addr)).await.expect("connect");
    let head = format!(
        "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nhost: {}\r\n\r\n",
        srv.addr
    );
    let _ = extra.write_all(head.as_bytes()).await;
    let mut buf = Vec::new();
    let read = within(extra.read_to_end(&mut buf)).await;
    assert!(
        buf.is_empty(),
        "no HTTP answer over the limit, got {:?} ({read:?})",
        String::from_utf8_lossy(&buf)
    );
    assert!(refusals(LimitKind::ConnectionsPerIp) >= 1);
    round_trip(&mut ws, "4connected").await;
}

#[tokio::test]
async fn long_url_gets_414_with_an_engineio_body() {
    let srv = spawn(with_limits(|l| l.max_url_bytes = 200)).await;
    let (mut ws, _) = echo_session(&srv).await;
    let long = format!(
        "/socket.io/?EIO=4&transport=polling&token={}",
        "x".repeat(200)
    );
    let resp = get(srv.addr, &long).await;
    assert_eq!(resp.status, 414);
    assert_eq!(resp.text(), r#"{"code":3,"message":"URL too long"}"#);
    assert!(refusals(LimitKind::UrlLength) >= 1);
    let (p, _) = Poller::open(srv.addr, 4, "&token=short").await;
    assert_eq!(p.post("4hi").await.status, 200);
    assert_eq!(p.get().await.text(), "4hi");
    round_trip(&mut ws, "4ok").await;
}

#[tokio::test]
async fn slow_request_headers_are_cut_at_the_header_read_timeout() {
    let srv = spawn(with_limits(|l| l.header_read_timeout_ms = 300)).await;
    let (mut ws, _) = echo_session(&srv).await;
    let mut slow = within(TcpStream::connect(srv.addr)).await.expect("connect");
    slow.write_all(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nhost: x\r\n")
        .await
        .expect("partial head");
    let started = Instant::now();
    let mut buf = Vec::new();
    within(slow.read_to_end(&mut buf)).await.ok();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(250),
        "closed after {waited:?}"
    );
    assert!(refusals(LimitKind::HandshakeTimeout) >= 1);
    assert!(
        !String::from_utf8_lossy(&buf).contains(" 200 "),
        "{:?}",
        String::from_utf8_lossy(&buf)
    );
    round_trip(&mut ws, "4after").await;
}

#[tokio::test]
async fn disallowed_origin_is_refused_on_the_websocket_upgrade_of_a_polling_session() {
    let cfg = ServerConfig {
        cors_origins: vec!["https://app.example".into()],
        ..test_config()
    };
    let srv = spawn(cfg).await;
    let origin = [("origin", "https://app.example")];
    let open = request(
        srv.addr,
        "GET",
        "/socket.io/?EIO=4&transport=polling",
        &origin,
        "",
    )
    .await;
    assert_eq!(open.status, 200);
    let sid = common::http_client::open_json(&open.body)["sid"]
        .as_str()
        .expect("sid")
        .to_owned();
    let p = Poller {
        addr: srv.addr,
        eio: 4,
        sid: sid.clone(),
    };
    let evil = [("origin", "https://evil.example")];
    match try_connect(srv.addr, 4, &format!("&sid={sid}"), &evil).await {
        Err(WsError::Http(resp)) => {
            assert_eq!(resp.status(), 403);
            assert_eq!(
                resp.body().as_deref(),
                Some(&br#"{"code":4,"message":"Forbidden"}"#[..])
            );
        }
        other => panic!("expected 403, got {other:?}"),
    }
    assert!(refusals(LimitKind::Origin) >= 1);
    // The polling session was not touched by the refused upgrade.
    let post = request(srv.addr, "POST", &p.url(""), &origin, "4poll").await;
    assert_eq!(post.status, 200);
    let got = request(srv.addr, "GET", &p.url(""), &origin, "").await;
    assert_eq!(got.text(), "4poll");
}

#[tokio::test]
async fn packets_per_post_cap_is_configurable() {
    let mut srv = spawn(with_limits(|l| l.max_packets_per_post = 2)).await;
    let (ok, _) = Poller::open(srv.addr, 4, "").await;
    assert_eq!(ok.post("4a\x1e4b").await.status, 200);
    let (over, _) = Poller::open(srv.addr, 4, "").await;
    assert_eq!(over.post("4a\x1e4b\x1e4c").await.status, 400);
    srv.closed(&over.sid).await;
    assert_eq!(ok.get().await.text(), "4a\x1e4b");
}

#[tokio::test]
async fn tcp_connection_slot_is_released_when_the_connection_ends() {
    let srv = spawn(with_limits(|l| l.max_connections = Some(1))).await;
    for _ in 0..3 {
        // One connection at a time: each request closes its connection
        // before the next one opens, but the server may notice a moment later.
        let resp = within(async {
            loop {
                let mut s = TcpStream::connect(srv.addr).await.expect("connect");
                let head = "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n\
                            host: x\r\nconnection: close\r\n\r\n";
                let _ = s.write_all(head.as_bytes()).await;
                let mut buf = Vec::new();
                let _ = s.read_to_end(&mut buf).await;
                if !buf.is_empty() {
                    break buf;
                }
                tokio::task::yield_now().await;
            }
        })
        .await;
        assert!(String::from_utf8_lossy(&resp).starts_with("HTTP/1.1 200"));
    }
}

#[tokio::test]
async fn closed_polling_session_frees_its_slot_while_it_lingers_for_goodbye() {
    let mut srv = spawn(with_limits(|l| l.max_sessions = Some(1))).await;
    let (a, _) = Poller::open(srv.addr, 4, "").await;
    assert_eq!(a.post("1").await.status, 200);
    srv.closed(&a.sid).await;
    // `a` stays registered a few seconds so its next GET gets the goodbye,
    // but it no longer holds a session slot.
    let (b, _) = Poller::open(srv.addr, 4, "").await;
    assert_eq!(b.post("4b").await.status, 200);
    assert_eq!(b.get().await.text(), "4b");
    assert_eq!(a.get().await.text(), "6", "the goodbye still reaches `a`");
}
