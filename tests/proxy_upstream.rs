//! The upstream leg as seen from outside the proxy: what an upstream's
//! handshake request carries (the client's query, identity headers and
//! `X-Forwarded-*`), how an upstream refusal, an unreachable upstream and a
//! silent one reach the client's handshake (403 / 502, bounded by the
//! handshake timeout), and that each leg keeps its own heartbeat so short
//! upstream ping timeouts never close it (go v1.0.1 pings its clients; go
//! v1.7.0 and socket.io 4 close sessions whose heartbeat stops).

#[allow(unused_imports)] // each test binary uses a part of the shared harness
mod common;
mod proxy_harness;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::gofixture::client::http;
use common::gofixture::{GoFixture, GoFixtureOptions, GoVersion, LogEntry};
use common::node::{Client, Transports, Upstream, UpstreamOpts};
use futures_util::{SinkExt, StreamExt};
use proxy_harness::{config, echo, node_ws, spawn, with_token, within};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// A one-shot fake EIO3 upstream: records the handshake request, then
/// sends an open packet and `40` and keeps the socket until the test ends.
async fn recording_upstream() -> (String, Arc<Mutex<Option<http::Request<()>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("ws://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(None));
    let record = seen.clone();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("accept");
        // The callback type is tungstenite's; its error variant is what it is.
        #[allow(clippy::result_large_err)]
        let cb = move |req: &http::Request<()>, resp| {
            let mut copy = http::Request::new(());
            *copy.uri_mut() = req.uri().clone();
            *copy.headers_mut() = req.headers().clone();
            *record.lock().expect("lock") = Some(copy);
            Ok(resp)
        };
        let mut ws = tokio_tungstenite::accept_hdr_async(stream, cb)
            .await
            .expect("accept ws");
        let open = r#"0{"sid":"u1","upgrades":[],"pingInterval":25000,"pingTimeout":60000}"#;
        ws.send(Message::text(open)).await.expect("open");
        ws.send(Message::text("40")).await.expect("40");
        while let Some(Ok(_)) = ws.next().await {}
    });
    (url, seen)
}

#[tokio::test]
async fn client_query_and_identity_headers_reach_the_upstream_handshake() {
    let (upstream, seen) = recording_upstream().await;
    let proxy = spawn(config("go-legacy", &[upstream], |_| {})).await;
    let url = format!(
        "ws://{}/socket.io/?EIO=3&transport=websocket&token=abc",
        proxy.addr
    );
    let mut req = url.into_client_request().expect("request");
    for (k, v) in [
        ("cookie", "session=s1"),
        ("authorization", "Bearer t0k"),
        ("user-agent", "strict-client/1.0"),
        ("origin", "http://app.example"),
        ("x-forwarded-for", "192.0.2.7"),
        ("host", "gw.example:8443"),
    ] {
        req.headers_mut()
            .insert(k, v.parse().expect("header value"));
    }
    let stream = tokio::net::TcpStream::connect(proxy.addr)
        .await
        .expect("connect");
    let (mut ws, _) = within("ws connect", tokio_tungstenite::client_async(req, stream))
        .await
        .expect("handshake accepted");
    let open = within("open", ws.next()).await;
    assert!(
        matches!(&open, Some(Ok(Message::Text(t))) if t.starts_with("0{")),
        "{open:?}"
    );

    let req = seen
        .lock()
        .expect("lock")
        .take()
        .expect("upstream saw a handshake");
    assert_eq!(
        req.uri().to_string(),
        "/socket.io/?EIO=3&transport=websocket&token=abc"
    );
    let h = req.headers();
    assert_eq!(h["cookie"], "session=s1");
    assert_eq!(h["authorization"], "Bearer t0k");
    assert_eq!(h["user-agent"], "strict-client/1.0");
    assert_eq!(h["origin"], "http://app.example");
    assert_eq!(h["x-forwarded-for"], "192.0.2.7, 127.0.0.1");
    assert_eq!(h["x-forwarded-proto"], "http");
    assert_eq!(h["x-forwarded-host"], "gw.example:8443");
}

#[tokio::test]
async fn upstream_refusal_is_the_clients_handshake_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let upstream = format!("ws://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 2048];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(
                    b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await;
        }
    });
    let proxy = spawn(config("go-legacy", &[upstream], |_| {})).await;
    let reply = http(
        proxy.addr,
        "GET",
        "/socket.io/?EIO=3&transport=polling&token=bad",
        b"",
    )
    .await;
    assert_eq!(reply.status, 403);
    let body: serde_json::Value = serde_json::from_slice(&reply.body).expect("JSON body");
    assert_eq!(body["code"], 4, "{body}");
    proxy.wait_idle().await;
}

#[tokio::test]
async fn unreachable_and_silent_upstreams_fail_the_handshake_with_502_in_time() {
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let closed_url = format!("ws://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let proxy = spawn(config("node-v2", &[closed_url], |_| {})).await;
    let reply = http(
        proxy.addr,
        "GET",
        "/socket.io/?EIO=3&transport=polling",
        b"",
    )
    .await;
    assert_eq!(reply.status, 502);
    proxy.wait_idle().await;

    // Accepts TCP, never answers the upgrade: the handshake timeout ends it.
    let silent = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let silent_url = format!("ws://{}", silent.local_addr().expect("addr"));
    let proxy = spawn(config("node-v2", &[silent_url], |c| {
        c.proxy.handshake_timeout_ms = 300;
    }))
    .await;
    let started = tokio::time::Instant::now();
    let reply = http(
        proxy.addr,
        "GET",
        "/socket.io/?EIO=3&transport=polling",
        b"",
    )
    .await;
    assert_eq!(reply.status, 502);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    proxy.wait_idle().await;
    drop(silent);
}

fn quick(interval_ms: u64, timeout_ms: u64) -> GoFixtureOptions {
    GoFixtureOptions {
        ping_interval: Duration::from_millis(interval_ms),
        ping_timeout: Duration::from_millis(timeout_ms),
    }
}

#[tokio::test]
async fn legs_keep_go_sessions_alive_through_short_heartbeats() {
    for (v, flavor) in [
        (GoVersion::V1_0_1, "go-legacy"),
        (GoVersion::V1_7_0, "go-modern"),
    ] {
        let fx = GoFixture::start_with(v, quick(100, 300)).await;
        let proxy = spawn(config(flavor, &[format!("ws://{}", fx.addr)], |_| {})).await;
        let opts = with_token(2, &proxy.url(), "/chat", Transports::WebsocketOnly);
        let (mut c, _) = Client::connect(&opts).await;
        // Several upstream ping timeouts pass; no upstream session may end.
        let closed = fx
            .wait_for_log(
                |e| matches!(e, LogEntry::SessionClosed { .. }),
                Duration::from_secs(1),
            )
            .await;
        assert!(closed.is_none(), "{flavor}: {closed:?}");
        echo(&mut c, "alive", flavor).await;
    }
}

#[tokio::test]
async fn legs_answer_socketio_4_server_pings() {
    let mut up = Upstream::start_with(UpstreamOpts {
        version: 4,
        ping_ms: Some((100, 200)),
        ..Default::default()
    })
    .await;
    let proxy = spawn(config("v4", &[node_ws(&up)], |_| {})).await;
    let opts = with_token(4, &proxy.url(), "/chat", Transports::WebsocketOnly);
    let (mut c, _) = Client::connect(&opts).await;
    up.proc
        .assert_no_match(|v| v["ev"] == "disconnect", Duration::from_secs(1))
        .await;
    echo(&mut c, "alive", "v4 pings").await;
}

#[tokio::test]
async fn sio5_client_without_connect_is_closed_after_the_connect_timeout() {
    let fx = GoFixture::start(GoVersion::V1_7_0).await;
    let proxy = spawn(config("go-modern", &[format!("ws://{}", fx.addr)], |c| {
        c.server.connect_timeout_ms = 200;
    }))
    .await;
    let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", proxy.addr);
    let (mut ws, _) = within("connect", tokio_tungstenite::connect_async(url))
        .await
        .expect("ws");
    let open = within("open", ws.next()).await;
    assert!(
        matches!(&open, Some(Ok(Message::Text(t))) if t.starts_with("0{")),
        "{open:?}"
    );
    // Nothing but `1` and the end of the connection follows.
    let mut rest = Vec::new();
    while let Some(Ok(m)) = within("close", ws.next()).await {
        rest.push(m);
    }
    assert!(
        rest.iter()
            .any(|m| matches!(m, Message::Text(t) if t.as_str() == "1")),
        "{rest:?}"
    );
    assert_eq!(
        fx.sessions_opened(),
        0,
        "no upstream session for a client that never connected"
    );
    proxy.wait_idle().await;
}
