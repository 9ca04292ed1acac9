//! `[server.limits]` in proxy mode, in front of the go-socket.io 1.4.3
//! stand-in (each client namespace costs one upstream session there): a
//! namespace over `max_namespaces` and a session over `max_sessions` are
//! refused by siogate and never reach the legacy gateway, while the client
//! sessions already through keep working. The raw Engine.IO relay is not
//! read as Socket.IO by the namespace limit.
#[allow(unused_imports)] // each test binary uses a part of the shared harness
mod common;
mod proxy_harness;

use common::gofixture::{GoFixture, GoVersion};
use common::node::{Client, STARTUP, STEP, Transports, Upstream, UpstreamOpts};
use proxy_harness::{config, echo, node_ws, spawn, with_token};
use serde_json::json;

#[tokio::test]
async fn namespace_over_the_limit_never_opens_an_upstream_session() {
    let fx = GoFixture::start(GoVersion::V1_4_3).await;
    let upstream = format!("ws://{}", fx.addr);
    let proxy = spawn(config("go-1.4", &[upstream], |c| {
        c.server.limits.max_namespaces = 2;
    }))
    .await;
    let opts = with_token(4, &proxy.url(), "/", Transports::WebsocketOnly);
    let (mut client, _) = Client::connect(&opts).await;
    client
        .proc
        .send(&json!({"cmd": "open", "nsp": "/chat"}))
        .await;
    client
        .proc
        .wait_for(|v| v["ev"] == "connect" && v["nsp"] == "/chat", STEP)
        .await;
    assert_eq!(proxy.gauges.legs(), 2, "one upstream session per namespace");

    client.proc.send(&json!({"cmd": "open", "nsp": "/b"})).await;
    let refused = client
        .proc
        .wait_for(|v| v["ev"] == "connect_error" && v["nsp"] == "/b", STEP)
        .await;
    assert_eq!(refused["message"], "Too many namespaces");
    assert_eq!(proxy.gauges.legs(), 2, "the refused CONNECT dialed nothing");
    echo(&mut client, "still here", "root after the refusal").await;
}

#[tokio::test]
async fn session_over_the_limit_is_refused_before_the_upstream_is_dialed() {
    let fx = GoFixture::start(GoVersion::V1_4_3).await;
    let upstream = format!("ws://{}", fx.addr);
    let proxy = spawn(config("go-1.4", &[upstream], |c| {
        c.server.limits.max_sessions = Some(1);
    }))
    .await;
    let opts = with_token(4, &proxy.url(), "/chat", Transports::PollingThenUpgrade);
    let (mut first, _) = Client::connect(&opts).await;
    let upstream_sockets = fx.open_websockets();

    let mut second = Client::spawn(&opts.clone().no_reconnect());
    let refused = second.proc.wait_ev("connect_error", STARTUP).await;
    assert!(refused["message"].is_string(), "{refused}");
    assert_eq!(proxy.gauges.sessions(), 1);
    assert_eq!(fx.open_websockets(), upstream_sockets);
    echo(&mut first, "first", "the session within the limit").await;
}

#[tokio::test]
async fn raw_engineio_route_is_not_read_as_socketio_namespaces() {
    // A socket.io 2 server on /engine.io behind the raw relay: its client's
    // `40/chat` is plain Engine.IO data there, so `max_namespaces = 1`
    // (which the implicit `/` already fills) must not refuse it.
    let up = Upstream::start_with(UpstreamOpts {
        version: 2,
        path: Some("/engine.io".into()),
        ..UpstreamOpts::default()
    })
    .await;
    let proxy = spawn(config("node-v2", &[node_ws(&up)], |c| {
        c.proxy.raw_engineio_path = Some("/engine.io/".into());
        c.server.limits.max_namespaces = 1;
    }))
    .await;
    let opts = with_token(2, &proxy.url(), "/chat", Transports::WebsocketOnly).path("/engine.io/");
    let (mut client, _) = Client::connect(&opts).await;
    echo(&mut client, "raw", "raw relay").await;
}
