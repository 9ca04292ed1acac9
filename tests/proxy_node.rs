//! siogate's proxy mode in front of real Node upstreams: socket.io 2.5.0
//! (`--flavor node-v2`) and 4.x (`--flavor v4`), driven by the official
//! socket.io-client 2.5.0 and 4.x, over polling-then-upgrade and
//! WebSocket-only, on `/` and on `/chat` with a token (2.x: `/chat?token=abc`,
//! 4.x: auth `{token}`). Each case checks that the client connects, the
//! upstream app sees the token, an ack round-trips, an upstream push reaches
//! the client, and binary goes both ways; after an upstream restart the
//! client reconnects through siogate; every session and leg is released.
//! Also: a `wss://` upstream, and a raw Engine.IO route.

#[allow(unused_imports)] // each test binary uses a part of the shared harness
mod common;
mod proxy_harness;

use common::node::{
    Client, ClientOpts, NodeProc, STARTUP, STEP, Transports, Upstream, UpstreamOpts,
    assert_binary_reversed, bin, unbin,
};
use proxy_harness::{config, echo, node_ws, restart_node, spawn, wait_reconnect, with_token};
use serde_json::{Value, json};
use siogate::proxy::Proxy;

const TRANSPORTS: [Transports; 2] = [Transports::PollingThenUpgrade, Transports::WebsocketOnly];
const NSPS: [&str; 2] = ["/", "/chat"];

fn flavor(upstream_major: u8) -> &'static str {
    if upstream_major == 2 { "node-v2" } else { "v4" }
}

/// Where the upstream app finds the token for this pairing: socket.io 2
/// always reads it from the handshake query; socket.io 4 gets a 4.x
/// client's auth as auth, a 2.x client's namespace query converted into
/// auth, and a 2.x client's root token in the handshake URL query.
fn token_seen(who: &Value, upstream: u8, client: u8, nsp: &str) -> Value {
    if upstream == 2 || (client == 2 && nsp == "/") {
        who["query"]["token"].clone()
    } else {
        who["auth"]["token"].clone()
    }
}

/// One client through the proxy: connect, token, ack, push, binary.
async fn exercise(
    up: &mut Upstream,
    proxy_url: &str,
    upstream: u8,
    client: u8,
    t: Transports,
    nsp: &str,
) {
    let ctx = format!(
        "{} upstream, client {client}.x {t:?} {nsp}",
        flavor(upstream)
    );
    let (mut c, _) = Client::connect(&with_token(client, proxy_url, nsp, t)).await;
    echo(&mut c, "hi", &ctx).await;

    let who = c.emit_ack("whoami", json!([])).await;
    assert_eq!(who[0]["nsp"], nsp, "{ctx}: {who:?}");
    assert_eq!(
        token_seen(&who[0], upstream, client, nsp),
        "abc",
        "{ctx}: {who:?}"
    );

    assert!(up.push(nsp, "héllo from upstream").await >= 1, "{ctx}");
    assert_eq!(
        c.wait_event("push").await,
        vec![json!("héllo from upstream")],
        "{ctx}"
    );

    assert_binary_reversed(&mut c, up, nsp, &ctx).await;
}

/// Every transport and namespace for one pairing, then an upstream restart.
async fn pairing(upstream: u8, client: u8) {
    let mut up = Upstream::start(upstream).await;
    let proxy = spawn(config(flavor(upstream), &[node_ws(&up)], |_| {})).await;
    for t in TRANSPORTS {
        for nsp in NSPS {
            exercise(&mut up, &proxy.url(), upstream, client, t, nsp).await;
        }
    }
    proxy.wait_idle().await;

    let ctx = format!("{} upstream, client {client}.x, restart", flavor(upstream));
    let mut clients = Vec::new();
    for t in TRANSPORTS {
        let (c, _) = Client::connect(&with_token(client, &proxy.url(), "/chat", t)).await;
        clients.push(c);
    }
    let up = restart_node(up, upstream).await;
    for c in &mut clients {
        wait_reconnect(c, &ctx).await;
        echo(c, "after restart", &ctx).await;
    }
    drop(clients);
    proxy.wait_idle().await;
    drop(up);
}

#[tokio::test]
async fn node_v2_upstream_serves_socketio_client_2() {
    pairing(2, 2).await;
}

#[tokio::test]
async fn node_v2_upstream_serves_socketio_client_4() {
    pairing(2, 4).await;
}

#[tokio::test]
async fn v4_upstream_serves_socketio_client_2() {
    pairing(4, 2).await;
}

#[tokio::test]
async fn v4_upstream_serves_socketio_client_4() {
    pairing(4, 4).await;
}

#[tokio::test]
async fn wss_upstream_is_verified_against_the_configured_ca() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ca, cert, key) = proxy_harness::ca_signed_cert(dir.path()).await;
    let up = Upstream::start_with(UpstreamOpts {
        version: 4,
        tls: Some((cert, key)),
        ..Default::default()
    })
    .await;
    let url = format!("wss://127.0.0.1:{}", up.port);
    let ca = siogate::proxy::upstream::tls::load_pem(&ca).expect("CA cert");
    let proxy = proxy_harness::spawn_proxy(
        Proxy::with_ca(&config("v4", std::slice::from_ref(&url), |_| {}), ca).expect("proxy"),
    )
    .await;
    let opts = with_token(4, &proxy.url(), "/chat", Transports::WebsocketOnly);
    let (mut c, _) = Client::connect(&opts).await;
    echo(&mut c, "over tls", "wss").await;

    // Without the CA the upstream's certificate is refused: the client
    // cannot connect its namespace.
    let untrusting = proxy_harness::spawn(config("v4", &[url], |_| {})).await;
    let opts = with_token(4, &untrusting.url(), "/chat", Transports::WebsocketOnly).no_reconnect();
    let mut refused = Client::spawn(&opts);
    let err = refused.proc.wait_ev("connect_error", STEP).await;
    assert_eq!(err["message"], "Connection refused", "{err}");
}

#[tokio::test]
async fn raw_engineio_route_relays_a_plain_engine_io_path() {
    // A socket.io 2 server mounted at /engine.io: only the raw route (which
    // relays Engine.IO without reading Socket.IO) reaches it.
    let args: Vec<String> = ["--version", "2", "--port", "0", "--path", "/engine.io"]
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut proc = NodeProc::spawn("upstream.js", &args);
    let ready = proc.wait_for(|v| v["ready"] == true, STARTUP).await;
    let port = ready["port"].as_u64().expect("port");
    let up = Upstream {
        proc,
        port: u16::try_from(port).expect("port"),
        tls: false,
    };
    let proxy = spawn(config("node-v2", &[node_ws(&up)], |c| {
        c.proxy.raw_engineio_path = Some("/engine.io/".into());
    }))
    .await;
    for t in TRANSPORTS {
        let ctx = format!("raw {t:?}");
        let opts: ClientOpts = with_token(2, &proxy.url(), "/chat", t).path("/engine.io/");
        let (mut c, _) = Client::connect(&opts).await;
        echo(&mut c, "raw", &ctx).await;
        let who = c.emit_ack("whoami", json!([])).await;
        assert_eq!(who[0]["query"]["token"], "abc", "{ctx}: {who:?}");
        let ack = c.emit_ack("bin", json!([bin(&[1, 2, 3])])).await;
        assert_eq!(unbin(&ack[0]), Some(vec![3, 2, 1]), "{ctx}: {ack:?}");
        assert!(up.push("/chat", "raw push").await >= 1);
        assert_eq!(c.wait_event("push").await, vec![json!("raw push")], "{ctx}");
    }
    // The Socket.IO path still goes through the normalizer, to /socket.io/
    // upstream, which this server does not serve.
    let opts = ClientOpts::new(2, proxy.url()).no_reconnect();
    let mut c = Client::spawn(&opts);
    let v = c
        .proc
        .wait_for(|v| v["ev"] == "connect_error" || v["ev"] == "connect", STEP)
        .await;
    assert_eq!(v["ev"], "connect_error", "{v}");
}
