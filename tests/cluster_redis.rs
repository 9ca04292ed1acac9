//! Cluster mode on a real `redis-server`: three siogate nodes (started as
//! `--redis` would start them), real socket.io-client 4 clients spread over
//! them, and the real `@socket.io/redis-emitter`.
//!
//! "Exactly the matching clients" is checked without waiting out a window
//! (see [`common::cluster::assert_exactly`]). The Redis outage test is in
//! `cluster_outage.rs` (its own process: `/readyz` and the metrics are
//! process-wide).

#[allow(unused_imports)] // each test binary uses a part of the shared harness
mod common;

use common::cluster::{Cluster, Emitter, assert_exactly};
use common::node::{bin, unbin};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_through_any_node_reaches_exactly_the_matching_clients() {
    let c = Cluster::start(3).await;
    // Two /chat clients per node, one / client on node 0.
    let (mut a0, id_a0) = c.client(0, "/chat").await;
    let (mut b0, id_b0) = c.client(0, "/chat").await;
    let (mut a1, id_a1) = c.client(1, "/chat").await;
    let (mut b1, _) = c.client(1, "/chat").await;
    let (mut a2, id_a2) = c.client(2, "/chat").await;
    let (mut b2, id_b2) = c.client(2, "/chat").await;
    let (mut root, _) = c.client(0, "/").await;
    let all = [&id_a0, &id_b0, &id_a1, &id_a2, &id_b2];
    let mut ids: Vec<String> = all.iter().map(|s| s.to_string()).collect();
    ids.push(
        c.nodes[1]
            .socket_ids("/chat")
            .await
            .unwrap()
            .into_iter()
            .find(|i| !ids.contains(i))
            .unwrap(),
    );
    c.wait_all_see("/chat", &ids).await;

    // Room r1 = {a0, a1, a2}, r2 = {a2, b2}; joined through other nodes' APIs.
    for (node, id, room) in [
        (2, &id_a0, "r1"),
        (0, &id_a1, "r1"),
        (1, &id_a2, "r1"),
        (0, &id_a2, "r2"),
        (0, &id_b2, "r2"),
    ] {
        let body = json!({"namespace": "/chat", "socket": id, "rooms": [room]});
        let (status, reply) = c.nodes[node]
            .api("POST", "rooms/join", &body.to_string())
            .await;
        assert_eq!(
            (status, &reply),
            (200, &json!({"sockets": 1})),
            "join {id} {room} via {node}"
        );
    }
    let (status, rooms) = c.nodes[1].api("GET", "rooms?namespace=/chat", "").await;
    assert_eq!((status, &rooms["rooms"]), (200, &json!({"r1": 3, "r2": 2})));

    let cases = [
        // (node, body, expected among a0 b0 a1 b1 a2 b2)
        (
            1,
            json!({"namespace": "/chat", "event": "all", "args": [1]}),
            [true; 6],
        ),
        (
            2,
            json!({"namespace": "/chat", "event": "room", "args": ["r"], "rooms": ["r1"], "except": ["r2"]}),
            [true, false, true, false, false, false],
        ),
        (
            0,
            json!({"namespace": "/chat", "event": "two", "args": [], "rooms": ["r1", "r2"]}),
            [true, false, true, false, true, true],
        ),
        (
            0,
            json!({"namespace": "/chat", "event": "one", "args": [{"x": 1}], "socket": id_b2}),
            [false, false, false, false, false, true],
        ),
        (
            2,
            json!({"namespace": "/chat", "event": "mine", "args": [2], "socket": id_a2}),
            [false, false, false, false, true, false],
        ),
    ];
    for (i, (node, body, want)) in cases.into_iter().enumerate() {
        let (status, _) = c.nodes[node].emit(body.clone()).await;
        assert_eq!(status, 200, "{body}");
        let marker = format!("marker{i}");
        let (status, _) = c.nodes[node]
            .emit(json!({"namespace": "/chat", "event": marker}))
            .await;
        assert_eq!(status, 200);
        let mut clients = [&mut a0, &mut b0, &mut a1, &mut b1, &mut a2, &mut b2];
        assert_exactly(
            &mut clients,
            &want,
            body["event"].as_str().unwrap(),
            &body["args"],
            &marker,
        )
        .await;
    }
    // Nothing of /chat reached the / client.
    let (status, _) = c.nodes[2].emit(json!({"event": "root-marker"})).await;
    assert_eq!(status, 200);
    assert_exactly(
        &mut [&mut root],
        &[false],
        "all",
        &json!([1]),
        "root-marker",
    )
    .await;
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_emitter_pushes_reach_siogate_clients_with_rooms_and_binary() {
    let c = Cluster::start(3).await;
    let (mut a0, id_a0) = c.client(0, "/chat").await;
    let (mut a1, id_a1) = c.client(1, "/chat").await;
    let (mut a2, id_a2) = c.client(2, "/chat").await;
    c.wait_all_see("/chat", &[id_a0.clone(), id_a1.clone(), id_a2.clone()])
        .await;
    // Each node subscribes only the namespaces it serves: /chat's request
    // channel and broadcast pattern, nothing for /.
    assert_eq!(c.redis.numsub("socket.io-request#/chat#").await, 3);
    assert_eq!(c.redis.numsub("socket.io-response#/chat#").await, 3);
    assert_eq!(c.redis.numsub("socket.io-request#/#").await, 0);
    // NUMPAT counts distinct patterns: all three use `socket.io#/chat#*`.
    assert_eq!(c.redis.numpat().await, 1);
    let mut emitter = Emitter::start(&c.redis.url()).await;
    // The emitter's own join request puts a1 and a2 in "vip", a2 in "muted".
    emitter
        .run(json!({"cmd": "join", "nsp": "/chat", "to": [id_a1, id_a2], "rooms": ["vip"]}))
        .await;
    emitter
        .run(json!({"cmd": "join", "nsp": "/chat", "to": [id_a2], "rooms": ["muted"]}))
        .await;

    let payload = [0u8, 1, 0x7f, 0x80, 0xff];
    let cases = [
        (
            vec![],
            vec![],
            "news",
            json!(["hello", {"n": 1}]),
            [true, true, true],
        ),
        (
            vec!["vip"],
            vec![],
            "vip",
            json!([true]),
            [false, true, true],
        ),
        (
            vec!["vip"],
            vec!["muted"],
            "quiet",
            json!([]),
            [false, true, false],
        ),
        (
            vec![id_a0.as_str()],
            vec![],
            "direct",
            json!([3]),
            [true, false, false],
        ),
        (
            vec![],
            vec![],
            "file",
            json!([bin(&payload), {"nested": bin(b"ab")}]),
            [true, true, true],
        ),
    ];
    for (i, (to, except, event, args, want)) in cases.into_iter().enumerate() {
        emitter
            .emit("/chat", &to, &except, event, args.clone())
            .await;
        let marker = format!("marker{i}");
        emitter.emit("/chat", &[], &[], &marker, json!([])).await;
        assert_exactly(
            &mut [&mut a0, &mut a1, &mut a2],
            &want,
            event,
            &args,
            &marker,
        )
        .await;
    }
    // The binary case really went as binary (an attachment), not base64 text.
    let (mut b, _) = c.client(1, "/chat").await;
    emitter
        .emit("/chat", &[], &[], "bytes", json!([bin(&payload)]))
        .await;
    let args = b.wait_event("bytes").await;
    assert_eq!(unbin(&args[0]).as_deref(), Some(&payload[..]));
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_leave_and_disconnect_work_across_nodes() {
    let c = Cluster::start(3).await;
    let (mut a0, id_a0) = c.client(0, "/chat").await;
    let (mut a2, id_a2) = c.client(2, "/chat").await;
    c.wait_all_see("/chat", &[id_a0.clone(), id_a2.clone()])
        .await;

    // Join through node 1 (no socket there), then a room push reaches a2 only.
    let join = json!({"namespace": "/chat", "socket": id_a2, "rooms": ["team"]}).to_string();
    assert_eq!(
        c.nodes[1].api("POST", "rooms/join", &join).await,
        (200, json!({"sockets": 1}))
    );
    let (_, listed) = c.nodes[0].api("GET", "sockets?namespace=/chat", "").await;
    let entry = listed["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id_a2.as_str())
        .cloned();
    assert_eq!(entry.unwrap()["rooms"], json!(["team"]));
    c.nodes[0]
        .emit(json!({"namespace": "/chat", "event": "t1", "rooms": ["team"]}))
        .await;
    c.nodes[0]
        .emit(json!({"namespace": "/chat", "event": "m1"}))
        .await;
    assert_exactly(
        &mut [&mut a0, &mut a2],
        &[false, true],
        "t1",
        &json!([]),
        "m1",
    )
    .await;

    // Leave through node 0; the same room push now reaches nobody.
    assert_eq!(
        c.nodes[0].api("POST", "rooms/leave", &join).await,
        (200, json!({"sockets": 1}))
    );
    c.nodes[1]
        .emit(json!({"namespace": "/chat", "event": "t2", "rooms": ["team"]}))
        .await;
    c.nodes[1]
        .emit(json!({"namespace": "/chat", "event": "m2"}))
        .await;
    assert_exactly(
        &mut [&mut a0, &mut a2],
        &[false, false],
        "t2",
        &json!([]),
        "m2",
    )
    .await;

    // An unknown socket matches nowhere (every node answered 0).
    let ghost = json!({"namespace": "/chat", "socket": "nobody", "rooms": ["x"]}).to_string();
    assert_eq!(
        c.nodes[1].api("POST", "rooms/join", &ghost).await,
        (200, json!({"sockets": 0}))
    );

    // Disconnect a0 (on node 0) through node 2.
    let dc = json!({"namespace": "/chat", "socket": id_a0}).to_string();
    assert_eq!(
        c.nodes[2].api("POST", "disconnect", &dc).await,
        (200, json!({"disconnected": 1}))
    );
    assert_eq!(a0.wait_disconnect().await, "io server disconnect");
    c.wait_all_see("/chat", std::slice::from_ref(&id_a2)).await;

    // The emitter's disconnect request reaches a2 on node 2.
    let mut emitter = Emitter::start(&c.redis.url()).await;
    emitter
        .run(json!({"cmd": "disconnect", "nsp": "/chat", "to": [id_a2], "close": false}))
        .await;
    assert_eq!(a2.wait_disconnect().await, "io server disconnect");
    c.wait_all_see("/chat", &[]).await;
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emit_with_ack_reaches_a_socket_on_another_node() {
    let c = Cluster::start(3).await;
    let (_a2, id_a2) = c.client(2, "/chat").await;
    let (_a1, id_a1) = c.client(1, "/chat").await;
    c.wait_all_see("/chat", &[id_a1, id_a2.clone()]).await;
    // client.js acks with the event's own arguments.
    let body = json!({"namespace": "/chat", "event": "ask", "args": [{"q": 1}, "two"], "socket": id_a2, "ack": true});
    let (status, reply) = c.nodes[0].emit(body).await;
    assert_eq!(
        (status, reply),
        (200, json!({"delivered": 1, "ack": [{"q": 1}, "two"]}))
    );
    let ghost = json!({"namespace": "/chat", "event": "ask", "socket": "nobody", "ack": true, "timeout_ms": 3000});
    assert_eq!(c.nodes[0].emit(ghost).await, (200, json!({"delivered": 0})));
    c.stop().await;
}
