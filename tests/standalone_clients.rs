//! Standalone mode with the official clients (socket.io-client 2.5.0 and
//! 4.x via tests/js/client.js), each over polling-then-upgrade and
//! WebSocket-only: connect to `/` and `/chat` with a token, pushes through
//! the API to the namespace / a room / except a room / one socket, join and
//! leave, acks through the webhook, binary both ways, disconnects from the
//! client and from the API, and a refused token.
#[allow(unused_imports)]
mod common;
mod standalone_harness;

use std::time::Duration;

use common::node::{Client, ClientOpts, STEP, Transports, bin, require_peers, unbin};
use serde_json::{Value, json};
use standalone_harness::clients::{push, sockets, start, token};
use standalone_harness::net::Server;

fn opts(
    server: &Server,
    version: u8,
    transports: Transports,
    nsp: &str,
    token: &str,
) -> ClientOpts {
    let o = ClientOpts::new(version, format!("http://{}", server.addr))
        .nsp(nsp)
        .transports(transports)
        .no_reconnect();
    match version {
        2 => o.query("token", token),
        _ => o.auth(json!({ "token": token })),
    }
}

/// Sends the built-in `event` (`join` or `leave`) for room `extra` (it must
/// be acked `{"ok":true}`), then pushes `x` to that room on `/chat`;
/// returns how many sockets it was delivered to.
async fn room_event_then_push(c: &mut Client, server: &Server, event: &str) -> u64 {
    assert_eq!(
        c.emit_ack(event, json!(["extra"])).await,
        [json!({"ok": true})]
    );
    push(
        server,
        json!({"namespace": "/chat", "event": "x", "rooms": ["extra"]}),
    )
    .await
}

/// The events named `name` the client has printed so far.
fn seen_events(c: &Client, name: &str) -> usize {
    c.proc
        .seen()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["ev"] == "event" && v["name"] == name)
        .count()
}

async fn scenario(version: u8, transports: Transports) {
    require_peers();
    let server = start().await;
    let (mut a, a_line) = Client::connect(&opts(
        &server,
        version,
        transports,
        "/chat",
        &token(&["r1"]),
    ))
    .await;
    let (mut b, _) = Client::connect(&opts(
        &server,
        version,
        transports,
        "/chat",
        &token(&["r2"]),
    ))
    .await;
    let (mut root, root_line) =
        Client::connect(&opts(&server, version, transports, "/", &token(&[]))).await;
    let a_id = a_line["id"].as_str().unwrap().to_string();
    let root_id = root_line["id"].as_str().unwrap().to_string();
    let chat = sockets(&server, "/chat").await;
    assert!(chat.contains(&a_id), "{a_id} not in {chat:?}");
    assert_eq!(chat.len(), 2);

    // Namespace, room, except, one socket.
    let n = push(
        &server,
        json!({"namespace": "/chat", "event": "all", "args": [1]}),
    )
    .await;
    assert_eq!(n, 2);
    assert_eq!(a.wait_event("all").await, [json!(1)]);
    assert_eq!(b.wait_event("all").await, [json!(1)]);
    let n = push(
        &server,
        json!({"namespace": "/chat", "event": "r1", "rooms": ["r1"]}),
    )
    .await;
    assert_eq!(n, 1);
    assert_eq!(a.wait_event("r1").await, Vec::<Value>::new());
    let n = push(
        &server,
        json!({"namespace": "/chat", "event": "not-r1", "except": ["r1"]}),
    )
    .await;
    assert_eq!(n, 1);
    b.wait_event("not-r1").await;
    let n = push(
        &server,
        json!({"namespace": "/chat", "event": "just-a", "socket": a_id}),
    )
    .await;
    assert_eq!(n, 1);
    a.wait_event("just-a").await;
    let n = push(&server, json!({"event": "root", "socket": root_id})).await;
    assert_eq!(n, 1);
    root.wait_event("root").await;
    // Events arrive in order on one connection: after the last marker, the
    // events that were not meant for a client can no longer come.
    push(&server, json!({"namespace": "/chat", "event": "marker"})).await;
    a.wait_event("marker").await;
    b.wait_event("marker").await;
    assert_eq!(
        (
            seen_events(&a, "not-r1"),
            seen_events(&b, "r1"),
            seen_events(&b, "just-a")
        ),
        (0, 0, 0)
    );

    // Built-in join/leave.
    assert_eq!(room_event_then_push(&mut a, &server, "join").await, 1);
    a.wait_event("x").await;
    assert_eq!(room_event_then_push(&mut a, &server, "leave").await, 0);

    // Acks through the webhook, binary both ways.
    let ack = a
        .emit_ack("save", json!([{"k": "v"}, bin(&[1, 2, 3])]))
        .await;
    assert_eq!(ack[0]["event"], "save");
    assert_eq!(ack[0]["args"][0], json!({"k": "v"}));
    assert_eq!(unbin(&ack[0]["args"][1]), Some(vec![1, 2, 3]));
    push(
        &server,
        json!({"namespace": "/chat", "event": "file", "args": [{"$bin": "CQgH"}], "socket": a_id}),
    )
    .await;
    let args = a.wait_event("file").await;
    assert_eq!(unbin(&args[0]), Some(vec![9, 8, 7]));
    // Emit with ack: client.js acks with the event's own args.
    let ask = json!({"namespace": "/chat", "event": "ask", "args": ["q", {"$bin": "AQ=="}], "socket": a_id, "ack": true});
    let (status, resp) = server.api("POST", "emit", &ask.to_string()).await;
    assert_eq!(status, 200, "{resp}");
    assert_eq!(
        resp,
        json!({"delivered": 1, "ack": ["q", {"$bin": "AQ=="}]})
    );

    // Disconnect from the API, then from the client.
    let b_id = sockets(&server, "/chat")
        .await
        .into_iter()
        .find(|id| *id != a_id)
        .unwrap();
    let (_, resp) = server
        .api(
            "POST",
            "disconnect",
            &json!({"namespace": "/chat", "socket": b_id}).to_string(),
        )
        .await;
    assert_eq!(resp, json!({"disconnected": 1}));
    assert_eq!(b.wait_disconnect().await, "io server disconnect");
    a.disconnect().await;
    assert_eq!(a.wait_disconnect().await, "io client disconnect");
    let deadline = tokio::time::Instant::now() + STEP;
    while !sockets(&server, "/chat").await.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "sockets still listed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A bad token is refused with a clear message.
    let mut bad = Client::spawn(&opts(&server, version, transports, "/chat", "garbage"));
    let err = bad.proc.wait_ev("connect_error", STEP).await;
    assert_eq!(err["message"], "invalid token: malformed token", "{err}");
    server.stop().await;
}

#[tokio::test]
async fn client_v2_polling_then_upgrade() {
    scenario(2, Transports::PollingThenUpgrade).await;
}

#[tokio::test]
async fn client_v2_websocket_only() {
    scenario(2, Transports::WebsocketOnly).await;
}

#[tokio::test]
async fn client_v4_polling_then_upgrade() {
    scenario(4, Transports::PollingThenUpgrade).await;
}

#[tokio::test]
async fn client_v4_websocket_only() {
    scenario(4, Transports::WebsocketOnly).await;
}
