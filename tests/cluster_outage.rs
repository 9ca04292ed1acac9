//! A Redis outage under three siogate cluster nodes: redis-server is killed
//! mid-test; pushes and listings answer 503 naming Redis, `/readyz` and the
//! `cluster_redis_up` gauge report it, a client may still connect; after a
//! restart on the same port every node re-subscribes by itself (including
//! the namespace first served during the outage) and delivery resumes; no
//! node crashes (each
//! stops cleanly at the end). Its own test binary, because readiness and
//! metrics are process-wide.

#[allow(unused_imports)] // each test binary uses a part of the shared harness
mod common;

use std::time::Duration;

use common::cluster::{Cluster, RESUBSCRIBE, is_event};
use serde_json::json;

/// `GET /readyz` on a node's client port: (status, body).
async fn readyz(c: &Cluster, i: usize) -> (u16, String) {
    let resp = common::http_client::request(c.nodes[i].addr, "GET", "/readyz", &[], "").await;
    (resp.status, resp.text().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_fails_pushes_with_503_and_delivery_resumes_after() {
    let mut c = Cluster::start(3).await;
    let (mut a0, id_a0) = c.client(0, "/chat").await;
    let (mut a1, id_a1) = c.client(1, "/chat").await;
    let (mut a2, id_a2) = c.client(2, "/chat").await;
    let ids = [id_a0, id_a1, id_a2];
    c.wait_all_see("/chat", &ids).await;
    assert_eq!(readyz(&c, 0).await.0, 200);
    assert_eq!(siogate::metrics::global().cluster_redis_up.get(), 1);

    c.redis.kill().await;
    for node in &c.nodes {
        let (status, body) = node
            .emit(json!({"namespace": "/chat", "event": "lost"}))
            .await;
        assert_eq!(status, 503, "{body}");
        let msg = body["error"].as_str().unwrap_or_default();
        assert!(msg.contains("Redis"), "{body}");
        let (status, _) = node.api("GET", "sockets?namespace=/chat", "").await;
        assert_eq!(status, 503);
    }
    // The pub/sub connections noticed too (polled: the kill is asynchronous to them).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while readyz(&c, 1).await.0 != 503 {
        assert!(tokio::time::Instant::now() < deadline, "readyz still ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, why) = readyz(&c, 1).await;
    assert!(why.contains("redis"), "{why}");
    assert_eq!(siogate::metrics::global().cluster_redis_up.get(), 0);

    // A client connecting during the outage (to a namespace no node served
    // yet) is accepted; its node subscribes the namespace once Redis is back.
    let (mut late, id_late) = c.client(1, "/late").await;

    // Clients stay connected to their nodes through the outage.
    c.redis.restart().await;
    c.wait_all_see("/chat", &ids).await;
    c.nodes[0]
        .wait_sockets("/late", &[id_late], RESUBSCRIBE)
        .await;
    let (status, _) = c.nodes[2]
        .emit(json!({"namespace": "/late", "event": "hello"}))
        .await;
    assert_eq!(status, 200);
    late.wait_event("hello").await;
    assert_eq!(readyz(&c, 2).await, (200, "ready\n".to_string()));
    assert_eq!(siogate::metrics::global().cluster_redis_up.get(), 1);
    for (i, node) in c.nodes.iter().enumerate() {
        let event = format!("back{i}");
        let (status, _) = node
            .emit(json!({"namespace": "/chat", "event": event}))
            .await;
        assert_eq!(status, 200);
        for client in [&mut a0, &mut a1, &mut a2] {
            client.wait_event(&event).await;
        }
    }
    for client in [&mut a0, &mut a1, &mut a2] {
        let lost = client
            .proc
            .try_wait_for(is_event("lost"), Duration::ZERO)
            .await;
        assert!(lost.is_err(), "a push that failed with 503 was delivered");
    }
    c.stop().await;
}
