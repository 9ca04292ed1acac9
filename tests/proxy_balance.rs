//! Several upstreams behind one proxy (go-socket.io v1.7.0 stand-ins):
//! round-robin spreads sessions; least-connections refills the upstream
//! whose sessions ended; a hash of a query key keeps a user on one
//! upstream; killing an upstream closes its clients' sessions at once and
//! their reconnects land on the healthy one; a dead upstream is skipped at
//! handshake time and brought back by the active health check; and every
//! session, leg and upstream socket is released afterwards (gauges and the
//! upstreams' socket counts return to 0).

#[allow(unused_imports)] // each test binary uses a part of the shared harness
mod common;
mod proxy_harness;

use std::net::SocketAddr;
use std::time::Duration;

use common::gofixture::{GoFixture, GoVersion, LogEntry};
use common::node::{Client, ClientOpts, STEP, Transports};
use futures_util::{SinkExt, StreamExt};
use proxy_harness::{TestProxy, config, echo, spawn, wait_until};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const WAIT: Duration = Duration::from_secs(5);

async fn two_upstreams() -> (GoFixture, GoFixture) {
    (
        GoFixture::start(GoVersion::V1_7_0).await,
        GoFixture::start(GoVersion::V1_7_0).await,
    )
}

fn ws_url(fx: &GoFixture) -> String {
    format!("ws://{}", fx.addr)
}

/// A raw EIO3 WebSocket session through the proxy, past its open and `40`.
async fn raw_session(proxy: SocketAddr, query: &str) -> Ws {
    let url = format!("ws://{proxy}/socket.io/?EIO=3&transport=websocket{query}");
    let (mut ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
        .await
        .expect("connect in time")
        .expect("connect");
    let open = next_text(&mut ws).await.expect("open packet");
    assert!(open.starts_with("0{"), "{open}");
    assert_eq!(next_text(&mut ws).await.as_deref(), Some("40"));
    ws
}

/// The next text frame, or `None` once the connection ended.
async fn next_text(ws: &mut Ws) -> Option<String> {
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("frame in time")
        {
            Some(Ok(Message::Text(t))) => return Some(t.as_str().trim_end().to_owned()),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => continue,
        }
    }
}

/// Echo through a raw session: true if the ack came back.
async fn raw_echo(ws: &mut Ws) -> bool {
    if ws.send(Message::text("429[\"echo\",\"x\"]")).await.is_err() {
        return false;
    }
    next_text(ws).await.as_deref() == Some("439[\"x\"]")
}

/// Waits until `fx` has `n` open WebSockets.
async fn expect_sockets(fx: &GoFixture, n: usize, what: &str) {
    let ok = wait_until(STEP, || fx.open_websockets() == n).await;
    assert!(
        ok,
        "{what}: {} upstream sockets, expected {n}",
        fx.open_websockets()
    );
}

async fn drain(proxy: &TestProxy, fixtures: &[&GoFixture]) {
    proxy.wait_idle().await;
    for fx in fixtures {
        expect_sockets(fx, 0, "after the clients left").await;
    }
}

#[tokio::test]
async fn round_robin_spreads_sessions_over_both_upstreams() {
    let (a, b) = two_upstreams().await;
    let proxy = spawn(config("go-modern", &[ws_url(&a), ws_url(&b)], |_| {})).await;
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(raw_session(proxy.addr, "").await);
    }
    expect_sockets(&a, 2, "upstream a").await;
    expect_sockets(&b, 2, "upstream b").await;
    assert_eq!(proxy.gauges.sessions(), 4);
    assert_eq!(proxy.gauges.legs(), 4);
    for ws in &mut clients {
        assert!(raw_echo(ws).await);
    }
    drop(clients);
    drain(&proxy, &[&a, &b]).await;
}

/// Tags (`tag=N` in the handshake query) of the sessions `fx` opened.
fn tags_on(fx: &GoFixture) -> Vec<usize> {
    fx.log()
        .iter()
        .filter_map(|e| match e {
            LogEntry::SessionOpened { url_query, .. } => url_query
                .split('&')
                .find_map(|kv| kv.strip_prefix("tag="))
                .and_then(|n| n.parse().ok()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn least_connections_fills_the_upstream_whose_sessions_ended() {
    let (a, b) = two_upstreams().await;
    let proxy = spawn(config("go-modern", &[ws_url(&a), ws_url(&b)], |c| {
        c.proxy.balance = "least-connections".parse().expect("balance");
    }))
    .await;
    let mut clients = Vec::new();
    for tag in 0..4 {
        clients.push(Some(raw_session(proxy.addr, &format!("&tag={tag}")).await));
    }
    expect_sockets(&a, 2, "upstream a").await;
    expect_sockets(&b, 2, "upstream b").await;
    // End both sessions on `a`: it now has the fewest connections.
    let on_a = tags_on(&a);
    assert_eq!(on_a.len(), 2, "{on_a:?}");
    for tag in on_a {
        clients[tag] = None;
    }
    expect_sockets(&a, 0, "upstream a after its clients left").await;
    // Round-robin would put one of these on each; least-connections puts
    // both on `a` (0 < 2, then 1 < 2).
    for tag in 4..6 {
        clients.push(Some(raw_session(proxy.addr, &format!("&tag={tag}")).await));
    }
    expect_sockets(&a, 2, "upstream a refilled").await;
    expect_sockets(&b, 2, "upstream b untouched").await;
    let mut on_a = tags_on(&a);
    on_a.sort_unstable();
    assert_eq!(&on_a[on_a.len() - 2..], [4, 5], "{on_a:?}");
    for ws in clients.iter_mut().flatten() {
        assert!(raw_echo(ws).await);
    }
    drop(clients);
    drain(&proxy, &[&a, &b]).await;
}

#[tokio::test]
async fn hash_of_a_query_key_keeps_a_user_on_one_upstream() {
    let (a, b) = two_upstreams().await;
    let proxy = spawn(config("go-modern", &[ws_url(&a), ws_url(&b)], |c| {
        c.proxy.balance = "hash-query:user".parse().expect("balance");
    }))
    .await;
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(raw_session(proxy.addr, "&user=alice").await);
    }
    let (na, nb) = (a.open_websockets(), b.open_websockets());
    assert!(na == 4 || nb == 4, "alice's sessions split: {na} / {nb}");
    drop(clients);
    drain(&proxy, &[&a, &b]).await;
}

#[tokio::test]
async fn killed_upstream_closes_its_sessions_at_once_and_clients_reconnect_to_the_other() {
    let (mut a, b) = two_upstreams().await;
    let proxy = spawn(config("go-modern", &[ws_url(&a), ws_url(&b)], |_| {})).await;
    // Official clients with automatic reconnection, one per upstream.
    let mut clients = Vec::new();
    for _ in 0..2 {
        let opts = ClientOpts::new(2, proxy.url())
            .nsp("/chat")
            .query("token", "abc")
            .transports(Transports::WebsocketOnly);
        let (c, _) = Client::connect(&opts).await;
        clients.push(c);
    }
    // Each client has a root and a /chat leg.
    expect_sockets(&a, 2, "upstream a").await;
    expect_sockets(&b, 2, "upstream b").await;
    let before_b = b.sessions_opened();

    let killed = Instant::now();
    a.stop().await;
    // Exactly one client loses its session, long before any heartbeat
    // timeout (25 s + 20 s) could notice.
    let mut dropped = None;
    for (i, c) in clients.iter_mut().enumerate() {
        let gone = c
            .proc
            .try_wait_for(|v| v["ev"] == "disconnect", Duration::from_secs(2))
            .await;
        if gone.is_ok() {
            assert!(dropped.is_none(), "both clients were disconnected");
            dropped = Some(i);
        }
    }
    let dropped = dropped.expect("the client on the killed upstream was disconnected");
    assert!(
        killed.elapsed() < Duration::from_secs(3),
        "{:?}",
        killed.elapsed()
    );

    let c = &mut clients[dropped];
    let back = c.proc.wait_ev("connect", Duration::from_secs(30)).await;
    assert!(back["id"].is_string(), "{back}");
    echo(c, "on b now", "reconnected").await;
    assert!(
        b.sessions_opened() >= before_b + 2,
        "the reconnect landed on b"
    );
    expect_sockets(&b, 4, "both clients on b").await;
    let survivor = &mut clients[1 - dropped];
    echo(survivor, "still here", "survivor").await;

    drop(clients);
    drain(&proxy, &[&b]).await;
}

#[tokio::test]
async fn dead_upstream_is_skipped_at_handshake_and_ejected() {
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let dead_url = format!("ws://{}", dead.local_addr().expect("addr"));
    drop(dead);
    let live = GoFixture::start(GoVersion::V1_7_0).await;
    let proxy = spawn(config("go-modern", &[dead_url, ws_url(&live)], |_| {})).await;
    let mut clients = Vec::new();
    for _ in 0..4 {
        let mut ws = raw_session(proxy.addr, "").await;
        assert!(raw_echo(&mut ws).await);
        clients.push(ws);
    }
    expect_sockets(&live, 4, "every session on the live upstream").await;
    assert!(
        !proxy.balancer.upstreams()[0].is_healthy(),
        "the dead upstream was ejected"
    );
    drop(clients);
    drain(&proxy, &[&live]).await;
}

#[tokio::test]
async fn health_check_ejects_a_stopped_upstream_and_brings_it_back() {
    let (mut a, b) = two_upstreams().await;
    let proxy = spawn(config("go-modern", &[ws_url(&a), ws_url(&b)], |c| {
        c.proxy.health_interval_ms = 100;
    }))
    .await;
    let up = proxy.balancer.clone();
    a.stop().await;
    assert!(
        wait_until(STEP, || !up.upstreams()[0].is_healthy()).await,
        "a ejected"
    );
    // While a is down every new session goes to b, without a failed dial.
    let mut clients = Vec::new();
    for _ in 0..2 {
        clients.push(raw_session(proxy.addr, "").await);
    }
    expect_sockets(&b, 2, "sessions while a is down").await;
    a.restart().await;
    assert!(
        wait_until(STEP, || up.upstreams()[0].is_healthy()).await,
        "a back"
    );
    for i in 0..2 {
        clients.push(raw_session(proxy.addr, &format!("&who=late{i}")).await);
    }
    // (Socket counts would include the health checks' short sessions; the
    // app log tells the clients' sessions apart by their query.)
    let late = |e: &LogEntry| matches!(e, LogEntry::SessionOpened { url_query, .. } if url_query.contains("who=late"));
    assert!(
        a.wait_for_log(late, STEP).await.is_some(),
        "round-robin uses a again: {:?}",
        a.log()
    );
    drop(clients);
    // Health checks keep opening short sessions; wait for the proxy's own.
    proxy.wait_idle().await;
}
