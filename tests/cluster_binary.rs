//! The real binary with `standalone --redis URL`, started before its Redis:
//! it serves clients at once, reports the outage on `/readyz` and in
//! `siogate_cluster_redis_up`, answers pushes with 503, and connects by
//! itself once redis-server starts; then the same when Redis goes away again.

#[allow(unused_imports)] // each test binary uses a part of the shared harness
mod common;

use std::time::Duration;

use common::http_client;
use common::redis_server::RedisServer;
use common::siogate_bin::Siogate;

const TOKEN: &str = "bin-token";
const WAIT: Duration = Duration::from_secs(15);

async fn push(node: &Siogate) -> (u16, String) {
    let auth = format!("Bearer {TOKEN}");
    let body = r#"{"namespace":"/","event":"news","args":[1]}"#;
    let r = http_client::request(
        node.addr,
        "POST",
        "/api/v1/emit",
        &[("authorization", &auth)],
        body,
    )
    .await;
    (r.status, r.text().to_string())
}

#[tokio::test]
async fn binary_with_redis_flag_reports_outages_and_connects_when_redis_starts() {
    let mut redis = RedisServer::reserve();
    let url = redis.url();
    let node = Siogate::start(&[
        "standalone",
        "--api-token",
        TOKEN,
        "--redis",
        &url,
        "--metrics-listen",
        "127.0.0.1:0",
    ])
    .await;
    let why = node.wait_status("/readyz", 503, WAIT).await;
    assert!(why.contains("redis"), "{why}");
    assert_eq!(node.scrape().await.get("siogate_cluster_redis_up"), 0.0);
    let (status, body) = push(&node).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("Redis"), "{body}");
    // The password part of a URL never reaches the logs (there is none
    // here); the URL itself is not logged either.
    assert!(!node.stderr().contains(&url), "{}", node.stderr());

    redis.restart().await;
    node.wait_status("/readyz", 200, WAIT).await;
    node.wait_metrics(
        "redis up",
        |s| s.get("siogate_cluster_redis_up") == 1.0,
        WAIT,
    )
    .await;
    assert_eq!(push(&node).await.0, 200);

    redis.kill().await;
    node.wait_status("/readyz", 503, WAIT).await;
    assert_eq!(push(&node).await.0, 503);
}
