//! A mixed cluster: a siogate node and a Node socket.io 4 server with
//! `@socket.io/redis-adapter` 8 (`tests/js/bench-server.js --redis`) on one
//! real `redis-server`. Pushes cross in both directions, and siogate's
//! cluster-wide listing includes the Node server's sockets (its answer to
//! the adapter's fetch request).

#[allow(unused_imports)] // each test binary uses a part of the shared harness
mod common;

use common::cluster::{ClusterNode, assert_exactly};
use common::http_client;
use common::node::{Client, ClientOpts, NodeProc, STARTUP};
use common::redis_server::RedisServer;
use serde_json::json;

const NODE_TOKEN: &str = "node-token";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn siogate_and_node_redis_adapter_share_pushes_and_listings() {
    let redis = RedisServer::start().await;
    let siogate = ClusterNode::start(&redis.url()).await;
    let args = [
        "--port",
        "0",
        "--api-token",
        NODE_TOKEN,
        "--redis",
        &redis.url(),
    ]
    .map(String::from);
    let mut node = NodeProc::spawn("bench-server.js", &args);
    let ready = node.wait_for(|v| v["ready"] == true, STARTUP).await;
    let node_port = ready["port"].as_u64().expect("port") as u16;

    let client = |url: String| async move {
        let (c, v) = Client::connect(&ClientOpts::new(4, url).no_reconnect()).await;
        (c, v["id"].as_str().unwrap().to_string())
    };
    let (mut on_siogate, id_s) = client(siogate.url()).await;
    let (mut on_node, id_n) = client(format!("http://127.0.0.1:{node_port}")).await;
    let mut ids = vec![id_s, id_n.clone()];
    ids.sort();
    siogate
        .wait_sockets("/", &ids, common::cluster::RESUBSCRIBE)
        .await;

    // siogate → Node: to the namespace, then to the Node-hosted socket alone.
    let (status, _) = siogate
        .emit(json!({"event": "from-siogate", "args": [1]}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = siogate
        .emit(json!({"event": "direct", "args": [{"b": true}], "socket": id_n}))
        .await;
    assert_eq!(status, 200);
    // One marker per check below (each check consumes its marker).
    siogate.emit(json!({"event": "m1"})).await;
    siogate.emit(json!({"event": "m1b"})).await;
    let clients = &mut [&mut on_siogate, &mut on_node];
    assert_exactly(clients, &[true, true], "from-siogate", &json!([1]), "m1").await;
    let clients = &mut [&mut on_siogate, &mut on_node];
    assert_exactly(
        clients,
        &[false, true],
        "direct",
        &json!([{"b": true}]),
        "m1b",
    )
    .await;

    // Node → siogate, through the Node server's own push API (io.emit).
    let auth = format!("Bearer {NODE_TOKEN}");
    let node_addr = ([127, 0, 0, 1], node_port).into();
    for event in ["from-node", "m2"] {
        let body = json!({"event": event, "args": ["x"]}).to_string();
        let resp = http_client::request(
            node_addr,
            "POST",
            "/api/v1/emit",
            &[("authorization", &auth)],
            body,
        )
        .await;
        assert_eq!(resp.status, 200, "{}", resp.text());
    }
    let clients = &mut [&mut on_siogate, &mut on_node];
    assert_exactly(clients, &[true, true], "from-node", &json!(["x"]), "m2").await;
    siogate.stop().await;
}
