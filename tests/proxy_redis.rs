//! Proxy mode taking `@socket.io/redis-emitter` pushes (issue 6 item 3):
//! siogate proxies the official socket.io-client 2.5 / 4 to a legacy
//! upstream (the go-socket.io 1.4.3 stand-in, a Node socket.io 2.5 server)
//! and injects pushes that the real npm emitter publishes on a real
//! redis-server into the sessions they select: by namespace, by the rooms
//! derived from `room_from_query` (`user=42` → `user:42`), minus `except`
//! rooms, binary arguments as binary, while the upstream traffic (acks)
//! goes on. Sessions leave the index when they leave a namespace or end;
//! Redis down at start does not stop proxying, and pushes flow once it is
//! up. Bad `[proxy.redis]` config stops the binary naming file and line.
//!
//! Exactness without waiting out windows: after the pushes under test the
//! same emitter sends a `mark` to each namespace; Redis and the proxy keep
//! one publisher's order, so a client holding the mark has every earlier
//! push it will ever get.

#[allow(unused_imports)] // each test binary uses a part of the shared harness
mod common;
mod proxy_harness;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::cluster::{Emitter, RESUBSCRIBE};
use common::gofixture::{GoFixture, GoVersion};
use common::node::{Client, ClientOpts, STEP, Transports, Upstream, bin};
use common::redis_server::RedisServer;
use proxy_harness::{TestProxy, config, echo, node_ws, spawn_proxy, wait_until};
use serde_json::{Value, json};
use siogate::config::Secret;
use siogate::proxy::Proxy;
use siogate::proxy::inject::Injector;
use tokio::time::Instant;

const BYTES: [u8; 5] = [0, 1, 0x7f, 0x80, 0xff];

/// A proxy for `flavor` in front of `upstream`, injecting from `redis_url`
/// with rooms from the `user` query/auth key.
async fn start_proxy(
    flavor: &str,
    upstream: String,
    redis_url: &str,
) -> (TestProxy, Arc<Injector>) {
    let cfg = config(flavor, &[upstream], |c| {
        c.proxy.redis.url = Some(Secret::new(redis_url));
        c.proxy.redis.room_from_query = vec!["user".into()];
    });
    let proxy = Proxy::new(&cfg).expect("proxy config");
    let injector = proxy.injector().expect("[proxy.redis] is on");
    (spawn_proxy(proxy).await, injector)
}

/// Waits until the index lists exactly `n` (session, namespace) pairs.
async fn wait_listed(inj: &Injector, n: usize) {
    let listed = wait_until(STEP, || inj.registry().len() == n).await;
    assert!(listed, "want {n} listed, have {}", inj.registry().len());
}

/// Waits until Redis has `n` pattern subscriptions (one per namespace the
/// proxy serves; nothing else here subscribes patterns).
async fn wait_patterns(redis: &RedisServer, n: u64, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let have = redis.numpat().await;
        if have == n {
            return;
        }
        assert!(Instant::now() < deadline, "want {n} patterns, have {have}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// After its `mark`: the args of each `(event, want)` the client got,
/// `None` for those it must not have got (checked once the mark is in).
async fn assert_got(client: &mut Client, ctx: &str, want: &[(&str, Option<Value>)]) {
    client.wait_event("mark").await;
    for (event, args) in want {
        let got = client
            .proc
            .try_wait_for(
                |v| v["ev"] == "event" && v["name"] == *event,
                Duration::ZERO,
            )
            .await
            .ok();
        match (got, args) {
            (Some(v), Some(args)) => assert_eq!(&v["args"], args, "{ctx}: {event}"),
            (None, None) => {}
            (got, _) => panic!(
                "{}",
                client
                    .proc
                    .report(&format!("{ctx}: {event}: want {args:?}, got {got:?}"))
            ),
        }
    }
}

fn client(version: u8, url: &str, nsp: &str, user: &str) -> ClientOpts {
    let o = ClientOpts::new(version, url).nsp(nsp).no_reconnect();
    match version {
        2 => o.query("user", user),
        _ => o.auth(json!({ "user": user })),
    }
}

async fn pushes_reach_exactly_the_selected_sessions(flavor: &str, upstream: String) {
    let redis = RedisServer::start().await;
    let (proxy, inj) = start_proxy(flavor, upstream, &redis.url()).await;
    let url = proxy.url();
    let (mut a, _) = Client::connect(&client(2, &url, "/chat", "42")).await;
    let (mut b, _) = Client::connect(&client(4, &url, "/chat", "7")).await;
    let (mut c, _) = Client::connect(&client(4, &url, "/", "42")).await;
    // a (SIO4) is also in `/`, implicitly.
    wait_listed(&inj, 4).await;
    wait_patterns(&redis, 2, STEP).await;

    let mut em = Emitter::start(&redis.url()).await;
    em.emit("/chat", &["user:42"], &[], "to42", json!(["only 42"]))
        .await;
    em.emit("/chat", &[], &[], "all", json!([{"n": 1}])).await;
    em.emit("/chat", &[], &["user:42"], "but42", json!(["not 42"]))
        .await;
    em.emit(
        "/chat",
        &["user:42", "user:7"],
        &[],
        "bin",
        json!([bin(&BYTES), "x"]),
    )
    .await;
    em.emit("/", &["user:42"], &[], "root42", json!([])).await;
    em.emit("/chat", &[], &[], "mark", json!([])).await;
    em.emit("/", &[], &[], "mark", json!([])).await;

    // client.js reports a Buffer as {"$bin"}: equal args mean the bytes
    // arrived as a binary attachment, not as a placeholder object.
    let binary = json!([bin(&BYTES), "x"]);
    let ctx = format!("{flavor}: 2.x user=42 on /chat");
    let want_a = [
        ("to42", Some(json!(["only 42"]))),
        ("all", Some(json!([{"n": 1}]))),
        ("but42", None),
        ("bin", Some(binary.clone())),
        ("root42", None),
    ];
    assert_got(&mut a, &ctx, &want_a).await;
    let ctx = format!("{flavor}: 4.x user=7 on /chat");
    let want_b = [
        ("to42", None),
        ("all", Some(json!([{"n": 1}]))),
        ("but42", Some(json!(["not 42"]))),
        ("bin", Some(binary.clone())),
    ];
    assert_got(&mut b, &ctx, &want_b).await;
    let ctx = format!("{flavor}: 4.x user=42 on /");
    let want_c = [
        ("to42", None),
        ("all", None),
        ("bin", None),
        ("root42", Some(json!([]))),
    ];
    assert_got(&mut c, &ctx, &want_c).await;

    // The upstream traffic goes on alongside.
    echo(&mut a, "after pushes", &format!("{flavor}: a")).await;
    echo(&mut b, "after pushes", &format!("{flavor}: b")).await;
    echo(&mut c, "after pushes", &format!("{flavor}: c")).await;
    drop((a, b, c));
    wait_listed(&inj, 0).await;
    proxy.wait_idle().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emitter_pushes_reach_go_upstream_sessions_by_namespace_room_and_except() {
    let fx = GoFixture::start(GoVersion::V1_4_3).await;
    pushes_reach_exactly_the_selected_sessions("go-1.4", format!("ws://{}", fx.addr)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emitter_pushes_reach_node_v2_upstream_sessions_by_namespace_room_and_except() {
    let up = Upstream::start(2).await;
    pushes_reach_exactly_the_selected_sessions("node-v2", node_ws(&up)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_leave_the_index_on_namespace_disconnect_and_session_end() {
    let redis = RedisServer::start().await;
    let fx = GoFixture::start(GoVersion::V1_4_3).await;
    let (proxy, inj) = start_proxy("go-1.4", format!("ws://{}", fx.addr), &redis.url()).await;
    let url = proxy.url();
    let opts = client(4, &url, "/chat", "7").transports(Transports::WebsocketOnly);
    let (mut b, _) = Client::connect(&opts).await;
    b.proc.send(&json!({"cmd": "open", "nsp": "/"})).await;
    b.proc
        .wait_for(|v| v["ev"] == "connect" && v["nsp"] == "/", STEP)
        .await;
    let (mut a, _) = Client::connect(&client(2, &url, "/chat", "42")).await;
    wait_listed(&inj, 4).await;
    assert!(inj.registry().has_room("/chat", "user:7"));

    // b leaves /chat but keeps its session (and `/`).
    b.disconnect().await;
    b.wait_disconnect().await;
    wait_listed(&inj, 3).await;
    assert!(!inj.registry().has_room("/chat", "user:7"));
    wait_patterns(&redis, 2, STEP).await;
    let mut em = Emitter::start(&redis.url()).await;
    em.emit("/chat", &[], &[], "after", json!([1])).await;
    em.emit("/chat", &["user:7"], &[], "to7", json!([2])).await;
    em.emit("/chat", &[], &[], "mark", json!([])).await;
    em.emit("/", &[], &[], "rootmark", json!([])).await;
    assert_got(&mut a, "a", &[("after", Some(json!([1]))), ("to7", None)]).await;
    b.proc
        .wait_for(|v| v["ev"] == "nsp_event" && v["name"] == "rootmark", STEP)
        .await;
    let stray = b
        .proc
        .try_wait_for(|v| v["ev"] == "event", Duration::ZERO)
        .await;
    assert!(
        stray.is_err(),
        "b got a /chat push after leaving: {stray:?}"
    );

    // Ending the sessions empties the index; pushes then reach nobody and
    // fail nowhere.
    a.disconnect().await;
    drop(b);
    wait_listed(&inj, 0).await;
    assert!(inj.registry().is_empty());
    em.emit("/chat", &["user:42"], &[], "late", json!([])).await;
    em.emit("/", &[], &[], "late", json!([])).await;
    proxy.wait_idle().await;
    let (mut d, _) = Client::connect(&client(4, &url, "/chat", "9")).await;
    echo(&mut d, "still proxying", "after the late pushes").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_at_start_does_not_stop_proxying_and_pushes_flow_once_it_is_up() {
    let mut redis = RedisServer::reserve();
    let fx = GoFixture::start(GoVersion::V1_4_3).await;
    let (proxy, inj) = start_proxy("go-1.4", format!("ws://{}", fx.addr), &redis.url()).await;
    let (mut a, _) = Client::connect(&client(4, &proxy.url(), "/chat", "42")).await;
    echo(&mut a, "no redis", "redis down").await;
    assert!(!inj.is_up());
    wait_listed(&inj, 1).await;

    redis.restart().await;
    wait_patterns(&redis, 1, RESUBSCRIBE).await;
    let mut em = Emitter::start(&redis.url()).await;
    em.emit("/chat", &["user:42"], &[], "to42", json!(["back"]))
        .await;
    em.emit("/chat", &[], &[], "mark", json!([])).await;
    assert_got(&mut a, "redis back", &[("to42", Some(json!(["back"])))]).await;
    assert!(inj.is_up());
    echo(&mut a, "redis up", "redis up").await;
}

/// `siogate <args>` (blocking; it exits at once on a bad config).
fn siogate(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_siogate"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run the siogate binary");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn proxy_redis_flags_fill_the_section() {
    let (_, c) = siogate::cli::load([
        "siogate",
        "proxy",
        "--flavor",
        "go-1.4",
        "--upstream",
        "ws://127.0.0.1:1",
        "--redis",
        "redis://127.0.0.1:6379",
        "--redis-prefix",
        "app",
        "--room-from-query",
        "user",
        "--room-from-query",
        "team",
        "--room-from-claim",
        "sub",
        "--room-claim-secret",
        "s3cret",
    ])
    .expect("valid flags");
    let r = &c.proxy.redis;
    assert_eq!(
        r.url.as_ref().map(Secret::expose),
        Some("redis://127.0.0.1:6379")
    );
    assert_eq!(r.prefix(), "app");
    assert_eq!(r.room_from_query, ["user", "team"]);
    assert_eq!(r.room_from_claim, ["sub"]);
    assert_eq!(r.claim_secret.as_ref().map(Secret::expose), Some("s3cret"));
}

#[test]
fn bad_proxy_redis_config_stops_the_binary_naming_file_line_or_flag() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/invalid");
    for (file, line, what) in [
        ("proxy_redis_empty_room_key.toml", 10, "room_from_query[1]"),
        ("proxy_redis_unknown_key.toml", 9, "room_from_queries"),
    ] {
        let path = dir.join(file).display().to_string();
        let (code, stderr) = siogate(&["proxy", "--config", &path]);
        assert_eq!(code, Some(2), "{file}: {stderr}");
        assert!(
            stderr.contains(&format!("{path}:{line}")),
            "{file}: {stderr}"
        );
        assert!(stderr.contains(what), "{file}: {stderr}");
    }
    let (code, stderr) = siogate(&[
        "proxy",
        "--flavor",
        "go-1.4",
        "--upstream",
        "ws://127.0.0.1:1",
        "--redis",
        "redis://127.0.0.1:1",
        "--room-from-query",
        "",
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--room-from-query"), "{stderr}");
    let (code, stderr) = siogate(&[
        "proxy",
        "--flavor",
        "go-1.4",
        "--upstream",
        "ws://127.0.0.1:1",
        "--room-from-claim",
        "sub",
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("proxy.redis.url"), "{stderr}");
}
