//! siogate with real python-socketio clients (`tests/py/client.py` in the
//! hash-pinned venvs of `scripts/test.sh`), the clients QA and back-end
//! people script against it:
//! - python-socketio 5.x (auth token; WebSocket-only, polling with upgrade,
//!   polling-only) and 4.6.1 (token in the handshake query) → standalone mode
//!   on `/chat`: pushes to the namespace and to a room, binary arriving as
//!   bytes, acks through the webhook and for the built-in join, an API emit
//!   acked by the client, an API disconnect, and a refused token; and 4.x with
//!   the token only in the namespace query, which stops at the root.
//! - python-socketio 4.6.1 (Engine.IO 3) with the token in the namespace
//!   query (`/chat?token=abc`, which 4.x sends verbatim in its CONNECT) →
//!   `--flavor go-1.4` / `go-legacy` in front of the go stand-in: connects,
//!   the go app sees the token in its handshake URL, an ack round-trips, a
//!   push arrives. And the same client straight at the go servers, to show
//!   what siogate fixes there.
//! - python-socketio 5.x → `--flavor node-v2` in front of Node socket.io
//!   2.5.0: the Socket.IO 5 → 4 bridge (token, ack, push, binary both ways).

#[allow(unused_imports)] // each test binary uses a part of the shared harness
mod common;
mod proxy_harness;
mod standalone_harness;

use common::gofixture::{GoFixture, GoVersion, LogEntry};
use common::node::{
    Client, ClientOpts, STEP, Transports, Upstream, assert_binary_reversed, bin, unbin,
};
use common::python::{connect_py, spawn_py};
use proxy_harness::{assert_go_app_served, config, echo, node_ws, spawn};
use serde_json::{Value, json};
use standalone_harness::clients::{push, sockets, start, token};

const TRANSPORTS: [Transports; 2] = [Transports::WebsocketOnly, Transports::PollingThenUpgrade];

/// Waits for the `opened` line (`sio.connect()` returned, so any upgrade is
/// over) and asserts the transport the client ended up on.
async fn assert_opened_on(c: &mut Client, t: Transports, ctx: &str) {
    let opened = c.proc.wait_ev("opened", STEP).await;
    let want = match t {
        Transports::PollingOnly => "polling",
        Transports::WebsocketOnly | Transports::PollingThenUpgrade => "websocket",
    };
    assert_eq!(opened["transport"], want, "{ctx}: {opened}");
}

/// Client options for `/chat` of `server` with `token` the way python-socketio
/// `major` sends it: 5.x as CONNECT auth, 4.x in the handshake URL query (it
/// connects `/chat` only once the implicit root namespace is accepted, and the
/// gateway checks the token for the root too; see
/// `python_socketio_4_standalone_token_only_in_namespace_query_stops_at_root`).
fn standalone_opts(server_url: &str, major: u8, t: Transports, token: &str) -> ClientOpts {
    let o = ClientOpts::new(major, server_url)
        .nsp("/chat")
        .transports(t)
        .no_reconnect();
    match major {
        4 => o.query("token", token),
        _ => o.auth(json!({ "token": token })),
    }
}

/// One python-socketio client of `major` on `/chat` of a standalone gateway.
async fn standalone_scenario(major: u8, t: Transports) {
    let ctx = format!("python-socketio {major} {t:?} → standalone");
    let server = start().await;
    let url = format!("http://{}", server.addr);
    let (mut c, _) = connect_py(&standalone_opts(&url, major, t, &token(&["r1"]))).await;
    assert_opened_on(&mut c, t, &ctx).await;
    let listed = sockets(&server, "/chat").await;
    assert_eq!(listed.len(), 1, "{ctx}: {listed:?}");
    let sid = listed[0].clone();

    // Pushes to the namespace and to the token's room; binary arrives as bytes.
    let n = push(
        &server,
        json!({"namespace": "/chat", "event": "all", "args": ["héllo", 1]}),
    )
    .await;
    assert_eq!(n, 1, "{ctx}");
    assert_eq!(c.wait_event("all").await, [json!("héllo"), json!(1)]);
    let n = push(
        &server,
        json!({"namespace": "/chat", "event": "room", "rooms": ["r1"], "args": [bin(&[0, 0xff, 7])]}),
    )
    .await;
    assert_eq!(n, 1, "{ctx}");
    let args = c.wait_event("room").await;
    assert_eq!(unbin(&args[0]), Some(vec![0, 0xff, 7]), "{ctx}: {args:?}");

    // An emit with ack gets the webhook's reply; binary goes through as bytes.
    let ack = c
        .emit_ack("save", json!([{"k": "v"}, bin(&[1, 2, 3])]))
        .await;
    assert_eq!(ack[0]["event"], "save", "{ctx}: {ack:?}");
    assert_eq!(ack[0]["args"][0], json!({"k": "v"}), "{ctx}: {ack:?}");
    assert_eq!(unbin(&ack[0]["args"][1]), Some(vec![1, 2, 3]), "{ctx}");

    // The built-in join is acked, and the joined room then gets pushes.
    assert_eq!(
        c.emit_ack("join", json!(["extra"])).await,
        [json!({"ok": true})],
        "{ctx}"
    );
    let body = json!({"namespace": "/chat", "event": "x", "rooms": ["extra"]});
    assert_eq!(push(&server, body).await, 1, "{ctx}");
    c.wait_event("x").await;

    // An API emit that waits for the client's ack (client.py acks with the
    // event's own arguments, bytes included).
    let ask = json!({"namespace": "/chat", "event": "ask", "args": ["q", {"$bin": "AQ=="}], "socket": sid, "ack": true});
    let (status, resp) = server.api("POST", "emit", &ask.to_string()).await;
    assert_eq!(status, 200, "{ctx}: {resp}");
    assert_eq!(
        resp,
        json!({"delivered": 1, "ack": ["q", {"$bin": "AQ=="}]}),
        "{ctx}"
    );

    // A disconnect from the API reaches the client as a server disconnect
    // (4.x reports no reason).
    let body = json!({"namespace": "/chat", "socket": sid}).to_string();
    let (_, resp) = server.api("POST", "disconnect", &body).await;
    assert_eq!(resp, json!({"disconnected": 1}), "{ctx}");
    let reason = if major == 4 { "" } else { "server disconnect" };
    assert_eq!(c.wait_disconnect().await, reason, "{ctx}");

    // A bad token is refused with the gateway's message (for 4.x already at
    // the implicit root namespace, reported as that namespace's error).
    let mut refused = spawn_py(&standalone_opts(&url, major, t, "garbage"));
    let ev = if major == 4 {
        "nsp_connect_error"
    } else {
        "connect_error"
    };
    let err = refused.proc.wait_ev(ev, STEP).await;
    assert_eq!(
        err["message"], "invalid token: malformed token",
        "{ctx}: {err}"
    );
    server.stop().await;
}

#[tokio::test]
async fn python_socketio_5_standalone_websocket_only() {
    standalone_scenario(5, Transports::WebsocketOnly).await;
}

#[tokio::test]
async fn python_socketio_5_standalone_polling_then_upgrade() {
    standalone_scenario(5, Transports::PollingThenUpgrade).await;
}

#[tokio::test]
async fn python_socketio_5_standalone_polling_only() {
    standalone_scenario(5, Transports::PollingOnly).await;
}

#[tokio::test]
async fn python_socketio_4_standalone_websocket_only() {
    standalone_scenario(4, Transports::WebsocketOnly).await;
}

#[tokio::test]
async fn python_socketio_4_standalone_polling_then_upgrade() {
    standalone_scenario(4, Transports::PollingThenUpgrade).await;
}

/// python-socketio 4.x waits for the implicit root namespace before it sends
/// any other CONNECT. With the token only in the namespace query
/// (`/chat?token=…`), the gateway refuses the root (no token in the
/// handshake), so `/chat` is never asked for: the client reports the root's
/// error and stays unconnected. (socket.io-client 2.x sends its namespace
/// CONNECT at once and is not affected.)
#[tokio::test]
async fn python_socketio_4_standalone_token_only_in_namespace_query_stops_at_root() {
    let server = start().await;
    let opts = ClientOpts::new(4, format!("http://{}", server.addr))
        .nsp(&format!("/chat?token={}", token(&["r1"])))
        .transports(Transports::WebsocketOnly)
        .no_reconnect();
    let mut c = spawn_py(&opts);
    let err = c
        .proc
        .wait_for(|v| v["ev"] == "nsp_connect_error" && v["nsp"] == "/", STEP)
        .await;
    assert_eq!(err["message"], "authentication required: no token", "{err}");
    let connects: Vec<&String> = c
        .proc
        .seen()
        .iter()
        .filter(|l| l.contains(r#""ev":"connect""#))
        .collect();
    assert!(connects.is_empty(), "{connects:?}");
    assert_eq!(sockets(&server, "/chat").await, Vec::<String>::new());
    server.stop().await;
}

/// python-socketio 4.x options for `/chat?token=abc` plus a handshake
/// marker telling the cases apart.
fn py4_chat_with_token(url: &str, t: Transports, case: &str) -> ClientOpts {
    ClientOpts::new(4, url)
        .nsp("/chat?token=abc")
        .query("case", case)
        .transports(t)
        .no_reconnect()
}

/// python-socketio 4 through `flavor` in front of the go stand-in `v`.
async fn py4_through_go_flavor(v: GoVersion, flavor: &str) {
    let fx = GoFixture::start(v).await;
    let proxy = spawn(config(flavor, &[format!("ws://{}", fx.addr)], |_| {})).await;
    for t in TRANSPORTS {
        let case = format!("{}-{t:?}", v.label());
        let ctx = format!("python-socketio 4 {t:?} → {flavor} → go {}", v.label());
        let (mut c, _) = connect_py(&py4_chat_with_token(&proxy.url(), t, &case)).await;
        assert_opened_on(&mut c, t, &ctx).await;
        echo(&mut c, "hi from python", &ctx).await;

        assert_go_app_served(&fx, &mut c, ("/chat", "/chat"), &case, &ctx).await;
    }
    proxy.wait_idle().await;
}

#[tokio::test]
async fn python_socketio_4_namespace_query_through_go_14() {
    py4_through_go_flavor(GoVersion::V1_4_3, "go-1.4").await;
}

#[tokio::test]
async fn python_socketio_4_namespace_query_through_go_legacy() {
    py4_through_go_flavor(GoVersion::V1_0_1, "go-legacy").await;
}

/// What the go app logged for the `direct` case of `fx`.
async fn wait_go_log(fx: &GoFixture, what: &str, pred: impl Fn(&LogEntry) -> bool) -> LogEntry {
    match fx.wait_for_log(pred, STEP).await {
        Some(e) => e,
        None => panic!("go {}: no {what} in {:?}", fx.version().label(), fx.log()),
    }
}

/// Without siogate, go v1.4.3 kills the session on python-socketio 4's
/// `40/chat?token=abc`: the implicit root connects, then the client is
/// disconnected and `/chat` never connects.
#[tokio::test]
async fn python_socketio_4_namespace_query_straight_at_go_14_is_killed() {
    for t in TRANSPORTS {
        let ctx = format!("python-socketio 4 {t:?} → go 1.4.3 directly");
        let fx = GoFixture::start(GoVersion::V1_4_3).await;
        let mut c = spawn_py(&py4_chat_with_token(
            &format!("http://{}", fx.addr),
            t,
            "direct",
        ));
        c.proc
            .wait_for(|v| v["ev"] == "nsp_disconnect" && v["nsp"] == "/", STEP)
            .await;
        wait_go_log(
            &fx,
            "killed session",
            |e| matches!(e, LogEntry::SessionClosed { reason, .. } if reason == "killed"),
        )
        .await;
        let connected: Vec<&String> = c
            .proc
            .seen()
            .iter()
            .filter(|l| l.contains(r#""ev":"connect""#))
            .collect();
        assert!(connected.is_empty(), "{ctx}: {connected:?}");
        let chat = fx
            .log()
            .into_iter()
            .filter(|e| matches!(e, LogEntry::Connect { nsp, .. } if nsp.starts_with("/chat")))
            .count();
        assert_eq!(chat, 0, "{ctx}: {:?}", fx.log());
    }
}

/// Without siogate, go v1.0.1 answers python-socketio 4 on
/// `/chat?token=abc` (4.x drops the query from the reply's namespace, so it
/// connects, unlike socket.io-client 2.x), but the app never sees the token:
/// it is in neither the handshake URL nor a namespace the app serves.
#[tokio::test]
async fn python_socketio_4_namespace_query_straight_at_go_legacy_loses_the_token() {
    for t in TRANSPORTS {
        let ctx = format!("python-socketio 4 {t:?} → go 1.0.1 directly");
        let fx = GoFixture::start(GoVersion::V1_0_1).await;
        let opts = py4_chat_with_token(&format!("http://{}", fx.addr), t, "direct");
        let (mut c, _) = connect_py(&opts).await;
        echo(&mut c, "hi", &ctx).await;
        let who = c.emit_ack("whoami", json!([])).await;
        let url_query = who[0].as_str().unwrap_or_default();
        assert!(
            url_query.contains("case=direct") && !url_query.contains("token"),
            "{ctx}: {url_query:?}"
        );
        wait_go_log(
            &fx,
            "connect with the raw query namespace",
            |e| matches!(e, LogEntry::Connect { nsp, .. } if nsp == "/chat?token=abc"),
        )
        .await;
    }
}

/// python-socketio 5 (Socket.IO 5, auth) through `--flavor node-v2` to
/// socket.io 2.5.0, which only speaks Socket.IO 4: the token arrives in the
/// handshake query, acks and pushes flow, binary goes both ways.
#[tokio::test]
async fn python_socketio_5_through_node_v2_bridge() {
    let mut up = Upstream::start(2).await;
    let proxy = spawn(config("node-v2", &[node_ws(&up)], |_| {})).await;
    for t in TRANSPORTS {
        let ctx = format!("python-socketio 5 {t:?} → node-v2 → socket.io 2.5.0");
        let opts = ClientOpts::new(5, proxy.url())
            .nsp("/chat")
            .transports(t)
            .auth(json!({"token": "abc"}))
            .no_reconnect();
        let (mut c, _) = connect_py(&opts).await;
        assert_opened_on(&mut c, t, &ctx).await;
        let conn = up.wait_connection("/chat").await;
        assert_eq!(conn["eio"], 3, "{ctx}: {conn}");
        echo(&mut c, "hi from python", &ctx).await;

        let who: Vec<Value> = c.emit_ack("whoami", json!([])).await;
        assert_eq!(who[0]["nsp"], "/chat", "{ctx}: {who:?}");
        assert_eq!(who[0]["query"]["token"], "abc", "{ctx}: {who:?}");

        assert!(up.push("/chat", "héllo from upstream").await >= 1, "{ctx}");
        assert_eq!(
            c.wait_event("push").await,
            [json!("héllo from upstream")],
            "{ctx}"
        );
        assert_binary_reversed(&mut c, &mut up, "/chat", &ctx).await;
        c.disconnect().await;
        up.wait_disconnect("/chat").await;
    }
    proxy.wait_idle().await;
}
