//! Cluster mode over `rediss://`: a real redis-server with a TLS port and a
//! certificate from a test CA. Two nodes given that CA (`redis_ca_file`, the
//! path `--redis-ca` takes) share pushes over TLS; a node given another CA
//! refuses the server's certificate, so its pushes fail with 503 naming
//! Redis instead of going out unverified. Proxy mode's emitter link
//! (`[proxy.redis] ca_file`) verifies the same way. Its own test binary,
//! because the Redis readiness gauge is process-wide.

#[allow(unused_imports)] // each test binary uses a part of the shared harness
mod common;

use common::cluster::ClusterNode;
use common::node::{Client, ClientOpts};
use common::redis_server::RedisServer;
use common::tls::TestCa;
use serde_json::json;
use siogate::config::{Secret, StandaloneConfig};

/// A node on the Redis at `url`, verifying it with the CA file `ca`.
async fn node(url: &str, ca: &std::path::Path) -> ClusterNode {
    ClusterNode::start_with(StandaloneConfig {
        redis_url: Some(Secret::new(url)),
        redis_ca_file: Some(ca.to_path_buf()),
        ..StandaloneConfig::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_share_pushes_over_rediss_and_a_wrong_ca_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = TestCa::new("siogate test redis CA");
    let ca_file = ca.write(dir.path(), "ca");
    let (cert, key) = ca
        .leaf("redis", &["127.0.0.1", "localhost"])
        .write(dir.path(), "redis");
    let redis = RedisServer::start_tls(&cert, &key).await;
    let url = redis.tls_url();

    let a = node(&url, &ca_file).await;
    let b = node(&url, &ca_file).await;
    let opts = ClientOpts::new(4, b.url()).nsp("/chat").no_reconnect();
    let (mut client, connect) = Client::connect(&opts).await;
    let id = connect["id"].as_str().expect("connect id").to_string();
    // Node a lists the client of node b: requests and answers crossed Redis.
    a.wait_sockets(
        "/chat",
        std::slice::from_ref(&id),
        common::cluster::RESUBSCRIBE,
    )
    .await;
    let (status, body) = a
        .emit(json!({"namespace": "/chat", "event": "over-tls", "args": [1]}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(client.wait_event("over-tls").await, [json!(1)]);

    // Another CA: the TLS handshake with Redis fails and the node stays down;
    // its pushes answer 503 with the reason (polled: the first attempt may
    // still be under way).
    let other = TestCa::new("not the redis CA");
    let other_file = other.write(dir.path(), "other");
    let c = node(&url, &other_file).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (status, body) = c
            .emit(json!({"namespace": "/chat", "event": "unverified"}))
            .await;
        assert_eq!(status, 503, "{body}");
        let msg = body["error"].as_str().unwrap_or_default().to_string();
        assert!(msg.contains("Redis"), "{body}");
        if msg.contains("certificate") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no certificate error: {msg}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let ready = common::http_client::request(c.addr, "GET", "/readyz", &[], "").await;
    assert_eq!(ready.status, 503);
    assert!(ready.text().contains("certificate"), "{}", ready.text());
    // The client of node b never saw the refused push.
    let (status, _) = a
        .emit(json!({"namespace": "/chat", "event": "after"}))
        .await;
    assert_eq!(status, 200);
    let next = client
        .proc
        .wait_for(|v| v["ev"] == "event", common::node::STEP)
        .await;
    assert_eq!(next["name"], "after", "{next}");

    client.disconnect().await;
    for n in [a, b, c] {
        n.stop().await;
    }
}

#[tokio::test]
async fn a_ca_file_that_cannot_be_read_fails_at_start() {
    let listener =
        siogate::server::listener::bind("127.0.0.1:0".parse().unwrap(), 16).expect("bind");
    let cfg = StandaloneConfig {
        redis_url: Some(Secret::new("rediss://127.0.0.1:1")),
        redis_ca_file: Some("/nonexistent/redis-ca.pem".into()),
        api_token: Some(Secret::new("t")),
        ..StandaloneConfig::default()
    };
    let err = siogate::standalone::run(
        listener,
        siogate::config::ServerConfig::default(),
        &cfg,
        std::future::pending(),
    )
    .await
    .expect_err("an unreadable CA file stops the start");
    let msg = err.to_string();
    assert!(msg.contains("/nonexistent/redis-ca.pem"), "{msg}");
}

#[tokio::test]
async fn proxy_injection_link_verifies_rediss_with_its_ca_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = TestCa::new("siogate test redis CA");
    let (cert, key) = ca
        .leaf("redis", &["127.0.0.1", "localhost"])
        .write(dir.path(), "redis");
    let redis = RedisServer::start_tls(&cert, &key).await;
    let injector = |ca_file: std::path::PathBuf| {
        let mut cfg = siogate::config::Config::default();
        cfg.proxy.flavor = Some("v4".parse().expect("flavor"));
        cfg.proxy.upstreams = vec!["ws://127.0.0.1:9".parse().expect("upstream")];
        cfg.proxy.redis.url = Some(Secret::new(redis.tls_url()));
        cfg.proxy.redis.ca_file = Some(ca_file);
        let proxy = siogate::proxy::Proxy::new(&cfg).expect("proxy config");
        (proxy.injector().expect("injection on"), proxy)
    };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);

    let (good, _p1) = injector(ca.write(dir.path(), "ca"));
    while !good.is_up() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "link not up: {:?}",
            good.link_error()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let (bad, _p2) = injector(TestCa::new("another CA").write(dir.path(), "other"));
    loop {
        let why = bad.link_error().unwrap_or_default();
        if why.contains("certificate") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no certificate error: {why:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!bad.is_up());
}
