//! The upstream leg as seen from outside the proxy: what an upstream's
//! handshake request carries (the client's query, identity headers and
//! `X-Forwarded-*`), how an upstream refusal, an unreachable upstream and a
//! silent one reach the client's handshake (403 / 502, bounded by the
//! handshake timeout), and that each leg keeps its own heartbeat so short
//! upstream ping timeouts never close it (go v1.0.1 pings its clients; go
//! v1.7.0 and socket.io 4 close sessions whose heartbeat stops). PROTOCOL.md
//! §5 rows 30/31 run against a scripted go upstream: the leg answers go's
//! `2` and pings each upstream interval; no heartbeat crosses to the client.

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
    let reply = open_eio3(&proxy, "&token=bad").await;
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
    let reply = open_eio3(&proxy, "").await;
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
    let reply = open_eio3(&proxy, "").await;
    assert_eq!(reply.status, 502);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    proxy.wait_idle().await;
    drop(silent);
}

/// An EIO3 polling handshake through `proxy`, with `extra` appended to the query.
async fn open_eio3(
    proxy: &proxy_harness::TestProxy,
    extra: &str,
) -> common::gofixture::transcript::HttpReply {
    let path = format!("/socket.io/?EIO=3&transport=polling{extra}");
    http(proxy.addr, "GET", &path, b"").await
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
    // A client that connects a namespace at once: its deadline passes
    // before the silent one's, and it must stay.
    let opts = with_token(4, &proxy.url(), "/", Transports::WebsocketOnly);
    let (mut connected, _) = Client::connect(&opts).await;
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
        1,
        "no upstream session for the client that never connected"
    );
    echo(&mut connected, "still here", "connected before the timeout").await;
    drop(connected);
    proxy.wait_idle().await;
}

type UpWs = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;
type ClientWs =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A one-shot scripted go v1.0.1 upstream: go's open packet (trailing `\n`,
/// the given `pingInterval`, a long `pingTimeout`) and the automatic root
/// `40`, then the socket goes to the test.
async fn scripted_go_upstream(ping_interval_ms: u64) -> (String, tokio::task::JoinHandle<UpWs>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("ws://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("accept");
        let mut ws = tokio_tungstenite::accept_async(stream)
            .await
            .expect("accept ws");
        let open = format!(
            "0{{\"sid\":\"u1\",\"upgrades\":[],\"pingInterval\":{ping_interval_ms},\"pingTimeout\":60000}}\n"
        );
        ws.send(Message::text(open)).await.expect("open");
        ws.send(Message::text("40\n")).await.expect("40");
        ws
    });
    (url, task)
}

/// The next text frame (WebSocket-level pings skipped).
async fn text_of<S>(ws: &mut S, what: &str) -> String
where
    S: StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        match within(what, ws.next()).await {
            Some(Ok(Message::Text(t))) => return t.as_str().to_owned(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("{what}: expected text, got {other:?}"),
        }
    }
}

/// An EIO4 WebSocket client through `proxy`, root namespace connected.
async fn eio4_client(proxy: &proxy_harness::TestProxy) -> ClientWs {
    let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", proxy.addr);
    let (mut ws, _) = within("ws connect", tokio_tungstenite::connect_async(url))
        .await
        .expect("ws");
    assert!(text_of(&mut ws, "open").await.starts_with("0{"));
    ws.send(Message::text("40")).await.expect("40");
    let connected = text_of(&mut ws, "connect reply").await;
    assert!(connected.starts_with("40{\"sid\":"), "{connected}");
    ws
}

#[tokio::test]
async fn vector_30_go_server_ping_answered_on_upstream_leg_only() {
    // Upstream interval long: the leg sends no `2` of its own here.
    let (upstream, accept) = scripted_go_upstream(25_000).await;
    let proxy = spawn(config("go-legacy", &[upstream], |_| {})).await;
    let mut client = eio4_client(&proxy).await;
    let mut up = within("upstream accepted", accept).await.expect("upstream");
    // go pings its EIO3 client (with its trailing newline) …
    up.send(Message::text("2\n")).await.expect("ping");
    // … and the first heartbeat it hears back is exactly `3`.
    loop {
        let t = text_of(&mut up, "pong on the leg").await;
        if t == "3" {
            break;
        }
        assert!(
            t.starts_with('4'),
            "only Socket.IO traffic before the pong: {t:?}"
        );
    }
    // Nothing reached the client: the next frame it sees is what go sends next.
    up.send(Message::text(r#"42["after"]"#))
        .await
        .expect("send");
    assert_eq!(text_of(&mut client, "client").await, r#"42["after"]"#);
    drop(up);
}

/// The next binary frame (WebSocket-level pings skipped).
async fn binary_of<S>(ws: &mut S, what: &str) -> Vec<u8>
where
    S: StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        match within(what, ws.next()).await {
            Some(Ok(Message::Binary(b))) => return b.to_vec(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("{what}: expected binary, got {other:?}"),
        }
    }
}

/// PROTOCOL.md §4 (binary): an EIO3 go upstream's `bin[04 xx…]` reaches an
/// EIO4 client as `bin[xx…]`, and the client's `bin[xx…]` reaches go as
/// `bin[04 xx…]`, each right after its BINARY_EVENT header.
#[tokio::test]
async fn binary_attachments_cross_between_a_go_upstream_and_an_eio4_client() {
    let (upstream, accept) = scripted_go_upstream(25_000).await;
    let proxy = spawn(config("go-legacy", &[upstream], |_| {})).await;
    let mut client = eio4_client(&proxy).await;
    let mut up = within("upstream accepted", accept).await.expect("upstream");
    let header = r#"451-["bin",{"_placeholder":true,"num":0}]"#;

    up.send(Message::text(header)).await.expect("header");
    up.send(Message::binary(vec![4u8, 1, 2, 0xff]))
        .await
        .expect("attachment");
    assert_eq!(text_of(&mut client, "client header").await, header);
    assert_eq!(
        binary_of(&mut client, "client attachment").await,
        [1, 2, 0xff]
    );

    client.send(Message::text(header)).await.expect("header");
    client
        .send(Message::binary(vec![9u8, 8, 7]))
        .await
        .expect("attachment");
    let mut seen = text_of(&mut up, "upstream header").await;
    while seen == "2" {
        seen = text_of(&mut up, "upstream header").await;
    }
    assert_eq!(seen, header);
    assert_eq!(
        binary_of(&mut up, "upstream attachment").await,
        [4, 9, 8, 7]
    );
}

#[tokio::test]
async fn vector_31_heartbeats_terminated_per_leg() {
    const UP_INTERVAL: Duration = Duration::from_millis(100);
    let (upstream, accept) = scripted_go_upstream(UP_INTERVAL.as_millis() as u64).await;
    let proxy = spawn(config("go-legacy", &[upstream], |c| {
        c.server.ping_interval_ms = 150;
        c.server.ping_timeout_ms = 5_000;
    }))
    .await;
    let mut client = eio4_client(&proxy).await;
    let mut up = within("upstream accepted", accept).await.expect("upstream");
    // The upstream side: the proxy pings each upstream interval; go answers
    // `3\n`. It must never hear a `3` (the client's pongs stay on the client
    // leg).
    let upstream_side = tokio::spawn(async move {
        let mut pings = Vec::new();
        while pings.len() < 3 {
            let t = text_of(&mut up, "upstream ping").await;
            assert_ne!(t, "3", "a client pong crossed to the upstream");
            if t == "2" {
                pings.push(tokio::time::Instant::now());
                up.send(Message::text("3\n")).await.expect("pong");
            } else {
                assert!(t.starts_with('4'), "unexpected on the leg: {t:?}");
            }
        }
        up.send(Message::text(r#"42["after"]"#))
            .await
            .expect("send");
        (up, pings)
    });
    // The client side: the proxy pings each client interval with exactly
    // `2`; the upstream's `3`s never show up.
    let (mut client_pings, mut after) = (0, false);
    while !(after && client_pings >= 2) {
        let t = text_of(&mut client, "client frame").await;
        match t.as_str() {
            "2" => {
                client_pings += 1;
                client.send(Message::text("3")).await.expect("pong");
            }
            r#"42["after"]"# => after = true,
            other => panic!("a heartbeat or stray frame crossed to the client: {other:?}"),
        }
    }
    let (_up, pings) = within("upstream side", upstream_side)
        .await
        .expect("upstream side");
    for pair in pings.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= UP_INTERVAL / 2, "pinged {gap:?} after the last one");
    }
}
