//! `[server.limits]` as the official clients (socket.io-client 2.5.0 and 4.x,
//! tests/js/client.js) see it, in standalone mode: a client refused by the
//! session limit retries by itself and gets in once a slot frees up; a
//! flooding client is disconnected; a namespace over the limit gets a
//! connect error while the connection's other namespaces keep working.
#[allow(unused_imports)]
mod common;
mod standalone_harness;

use common::node::{Client, ClientOpts, STARTUP, STEP, Transports, require_peers};
use serde_json::json;
use siogate::config::{LimitsConfig, ServerConfig};
use standalone_harness::gateway;
use standalone_harness::net::Server;

async fn start(f: impl FnOnce(&mut LimitsConfig)) -> Server {
    require_peers();
    let mut cfg = ServerConfig::default();
    f(&mut cfg.limits);
    Server::start_with(gateway(|_| {}), cfg).await
}

fn opts(server: &Server, version: u8) -> ClientOpts {
    ClientOpts::new(version, format!("http://{}", server.addr))
}

/// An event without a webhook is acked with `{"error":"no handler"}`: a
/// full round trip through the gateway.
async fn round_trip(client: &mut Client) {
    let ack = client.emit_ack("hello", json!([1])).await;
    assert_eq!(ack, [json!({"error": "no handler"})]);
}

#[tokio::test]
async fn client_refused_by_the_session_limit_retries_and_gets_in_when_a_slot_frees() {
    let server = start(|l| l.max_sessions = Some(1)).await;
    let (mut first, _) = Client::connect(&opts(&server, 4).no_reconnect()).await;
    let mut second = Client::spawn(&opts(&server, 2));
    let refused = second.proc.wait_ev("connect_error", STARTUP).await;
    assert!(refused["message"].as_str().is_some(), "{refused}");
    second.proc.wait_ev("reconnect_attempt", STEP).await;
    round_trip(&mut first).await;
    first.disconnect().await;
    assert_eq!(first.wait_disconnect().await, "io client disconnect");
    // socket.io-client's backoff tops out at 5 s; the slot is free by then.
    let connected = second.proc.wait_ev("connect", STARTUP).await;
    assert!(connected["id"].as_str().is_some(), "{connected}");
    round_trip(&mut second).await;
}

#[tokio::test]
async fn flooding_client_is_disconnected_and_others_keep_working() {
    let server = start(|l| {
        l.packet_rate_per_sec = Some(2);
        l.packet_burst = Some(4);
    })
    .await;
    for version in [2, 4] {
        let (mut calm, _) = Client::connect(&opts(&server, version)).await;
        let flood = opts(&server, version)
            .transports(Transports::WebsocketOnly)
            .no_reconnect();
        let (mut noisy, _) = Client::connect(&flood).await;
        for i in 0..20 {
            noisy.emit("spam", json!([i])).await;
        }
        assert_eq!(noisy.wait_disconnect().await, "transport close");
        round_trip(&mut calm).await;
    }
}

#[tokio::test]
async fn namespace_over_the_limit_gets_connect_error_and_the_others_go_on() {
    let server = start(|l| l.max_namespaces = 2).await;
    for version in [2, 4] {
        let (mut client, _) = Client::connect(&opts(&server, version).no_reconnect()).await;
        client.proc.send(&json!({"cmd": "open", "nsp": "/a"})).await;
        client
            .proc
            .wait_for(|v| v["ev"] == "connect" && v["nsp"] == "/a", STEP)
            .await;
        client.proc.send(&json!({"cmd": "open", "nsp": "/b"})).await;
        let refused = client
            .proc
            .wait_for(|v| v["ev"] == "connect_error" && v["nsp"] == "/b", STEP)
            .await;
        assert_eq!(refused["message"], "Too many namespaces", "v{version}");
        round_trip(&mut client).await;
    }
}
