//! siogate's proxy mode in front of the go-socket.io stand-in
//! (`tests/common/gofixture`): v1.0.1 (`--flavor go-legacy`), v1.4.3
//! (`go-1.4`) and v1.7.0 (`go-modern`), driven by the official
//! socket.io-client 2.5.0 and 4.x over polling-then-upgrade and
//! WebSocket-only, on `/` and on `/chat` with a token (2.x:
//! `/chat?token=abc`, which hangs or kills the connection when sent to these
//! servers directly; 4.x: auth `{token}`, which they cannot speak at all).
//! Each case checks that the client connects, the go app sees the token in
//! its handshake URL and the bare namespace, an ack round-trips, a push
//! reaches the client, and a binary event (EIO3 type byte added by siogate)
//! leaves the go session alive; after an upstream restart the client
//! reconnects; every session and leg is released at the end.
//!
//! The stand-in app has no binary handler, so binary from the upstream to
//! the client is covered by the Node tests only.

#[allow(unused_imports)] // each test binary uses a part of the shared harness
mod common;
mod proxy_harness;

use common::gofixture::{GoFixture, GoVersion};
use common::node::{Client, ClientOpts, STEP, Transports, bin};
use proxy_harness::{assert_go_app_served, config, echo, spawn, wait_reconnect};
use serde_json::json;

const TRANSPORTS: [Transports; 2] = [Transports::PollingThenUpgrade, Transports::WebsocketOnly];
const NSPS: [&str; 2] = ["/chat", "/"];

fn flavor(v: GoVersion) -> &'static str {
    match v {
        GoVersion::V1_0_1 => "go-legacy",
        GoVersion::V1_4_3 => "go-1.4",
        GoVersion::V1_7_0 => "go-modern",
    }
}

/// The token (and a marker telling the cases apart) the way each client
/// major sends it.
fn opts(client: u8, url: &str, nsp: &str, t: Transports, case: &str) -> ClientOpts {
    let o = ClientOpts::new(client, url).nsp(nsp).transports(t);
    match client {
        2 => o.query("token", "abc").query("case", case),
        _ => o.auth(json!({"token": "abc", "case": case})),
    }
}

/// The namespace the go app reports for a socket siogate connected: v1.0.1
/// stores the CONNECT nsp verbatim (so no query may reach it) and `""` for
/// its implicit root.
fn app_nsp(v: GoVersion, nsp: &str) -> &str {
    match (v, nsp) {
        (GoVersion::V1_0_1, "/") => "",
        _ => nsp,
    }
}

async fn exercise(fx: &GoFixture, proxy_url: &str, client: u8, t: Transports, nsp: &str) {
    let v = fx.version();
    let case = format!(
        "{}-{client}-{t:?}-{}",
        v.label(),
        nsp.trim_start_matches('/')
    );
    let ctx = case.clone();
    let (mut c, _) = Client::connect(&opts(client, proxy_url, nsp, t, &case)).await;
    echo(&mut c, "hi", &ctx).await;

    assert_go_app_served(fx, &mut c, (nsp, app_nsp(v, nsp)), &case, &ctx).await;

    // go v1.0.1 closes the connection on a binary frame without the EIO3
    // type byte; with siogate adding it the session lives on.
    c.emit("bin", json!([bin(&[1, 2, 3])])).await;
    echo(&mut c, "after binary", &ctx).await;
}

async fn version_with_client(v: GoVersion, client: u8) {
    let mut fx = GoFixture::start(v).await;
    let upstream = format!("ws://{}", fx.addr);
    let proxy = spawn(config(flavor(v), &[upstream], |_| {})).await;
    for nsp in NSPS {
        for t in TRANSPORTS {
            exercise(&fx, &proxy.url(), client, t, nsp).await;
        }
    }
    proxy.wait_idle().await;

    let ctx = format!("{} client {client}.x restart", v.label());
    let mut clients = Vec::new();
    for t in TRANSPORTS {
        let (c, _) = Client::connect(&opts(client, &proxy.url(), "/chat", t, "restart")).await;
        clients.push(c);
    }
    fx.restart().await;
    for c in &mut clients {
        wait_reconnect(c, &ctx).await;
        echo(c, "after restart", &ctx).await;
    }
    drop(clients);
    proxy.wait_idle().await;
    let closed = proxy_harness::wait_until(STEP, || fx.open_websockets() == 0).await;
    assert!(
        closed,
        "{ctx}: {} upstream sockets left open",
        fx.open_websockets()
    );
}

#[tokio::test]
async fn go_legacy_serves_socketio_client_2_with_namespace_query() {
    version_with_client(GoVersion::V1_0_1, 2).await;
}

#[tokio::test]
async fn go_legacy_serves_socketio_client_4_with_auth() {
    version_with_client(GoVersion::V1_0_1, 4).await;
}

#[tokio::test]
async fn go_14_serves_socketio_client_2_with_namespace_query() {
    version_with_client(GoVersion::V1_4_3, 2).await;
}

#[tokio::test]
async fn go_14_serves_socketio_client_4_with_auth() {
    version_with_client(GoVersion::V1_4_3, 4).await;
}

#[tokio::test]
async fn go_modern_serves_socketio_client_2_with_namespace_query() {
    version_with_client(GoVersion::V1_7_0, 2).await;
}

#[tokio::test]
async fn go_modern_serves_socketio_client_4_with_auth() {
    version_with_client(GoVersion::V1_7_0, 4).await;
}

#[tokio::test]
async fn unknown_namespace_on_go_modern_is_a_connect_error_and_the_upstream_stays_healthy() {
    let fx = GoFixture::start(GoVersion::V1_7_0).await;
    let proxy = spawn(config("go-modern", &[format!("ws://{}", fx.addr)], |_| {})).await;
    for client in [2, 4, 2, 4] {
        let opts = ClientOpts::new(client, proxy.url())
            .nsp("/nope")
            .no_reconnect();
        let mut c = Client::spawn(&opts);
        let err = c.proc.wait_ev("connect_error", STEP).await;
        assert_eq!(
            err["message"], "Invalid namespace",
            "client {client}.x: {err}"
        );
    }
    assert!(proxy.balancer.upstreams()[0].is_healthy());
    let opts = ClientOpts::new(4, proxy.url()).nsp("/chat");
    let (mut c, _) = Client::connect(&opts).await;
    echo(&mut c, "still served", "after unknown namespaces").await;
}
