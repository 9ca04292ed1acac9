//! Proxy mode taking `@socket.io/redis-emitter` pushes (issue 6 item 3):
//! siogate proxies the official socket.io-client 2.5 / 4 to a legacy
//! upstream (the go-socket.io 1.4.3 stand-in, a Node socket.io 2.5 server)
//! and injects pushes that the real npm emitter publishes on a real
//! redis-server into the sessions they select: by namespace, by the rooms
//! derived from `room_from_query` (`user=42` → `user:42`), minus `except`
//! rooms, binary arguments as binary, while the upstream traffic (acks)
//! goes on. Rooms from JWT claims need a token that verifies. Sessions
//! leave the index when they leave a namespace or end; Redis down (at start
//! or mid-test) does not stop proxying, and pushes flow once it is back.
//! The flags and bad config are in `proxy_redis_config.rs`.
//!
//! Exactness without waiting out windows: after the pushes under test the
//! same emitter sends a `mark` to each namespace; Redis and the proxy keep
//! one publisher's order, so a client holding the mark has every earlier
//! push it will ever get.

#[allow(unused_imports)] // each test binary uses a part of the shared harness
mod common;
mod proxy_harness;

use std::sync::Arc;
use std::time::Duration;

use common::cluster::{Emitter, RESUBSCRIBE};
use common::gofixture::{GoFixture, GoVersion};
use common::node::{Client, ClientOpts, STEP, Transports, Upstream, bin};
use common::redis_server::RedisServer;
use proxy_harness::{TestProxy, config, echo, node_ws, spawn_proxy, wait_until};
use serde_json::{Value, json};
use siogate::config::{ProxyRedisConfig, Secret};
use siogate::proxy::Proxy;
use siogate::proxy::inject::Injector;
use tokio::time::Instant;

const BYTES: [u8; 5] = [0, 1, 0x7f, 0x80, 0xff];

/// A proxy for `flavor` in front of `upstream`, injecting from `redis_url`
/// with rooms from the `user` query/auth key; `tweak` adjusts `[proxy.redis]`.
async fn start_proxy_with(
    flavor: &str,
    upstream: String,
    redis_url: &str,
    tweak: impl FnOnce(&mut ProxyRedisConfig),
) -> (TestProxy, Arc<Injector>) {
    let cfg = config(flavor, &[upstream], |c| {
        c.proxy.redis.url = Some(Secret::new(redis_url));
        c.proxy.redis.room_from_query = vec!["user".into()];
        tweak(&mut c.proxy.redis);
    });
    let proxy = Proxy::new(&cfg).expect("proxy config");
    let injector = proxy.injector().expect("[proxy.redis] is on");
    (spawn_proxy(proxy).await, injector)
}

async fn start_proxy(
    flavor: &str,
    upstream: String,
    redis_url: &str,
) -> (TestProxy, Arc<Injector>) {
    start_proxy_with(flavor, upstream, redis_url, |_| {}).await
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

/// `a` (socket.io-client 2, EIO3) uses `a_transport`: binary attachments
/// reach it with the EIO3 WebSocket type byte or as base64 polling packets.
async fn pushes_reach_exactly_the_selected_sessions(
    flavor: &str,
    upstream: String,
    a_transport: Transports,
) {
    let redis = RedisServer::start().await;
    let (proxy, inj) = start_proxy(flavor, upstream, &redis.url()).await;
    let url = proxy.url();
    let a_opts = client(2, &url, "/chat", "42").transports(a_transport);
    let (mut a, _) = Client::connect(&a_opts).await;
    let (mut b, _) = Client::connect(&client(4, &url, "/chat", "7")).await;
    // c (4.x) gives its user in the handshake query rather than auth.
    let c_opts = ClientOpts::new(4, &url).nsp("/").query("user", "42");
    let (mut c, _) = Client::connect(&c_opts.no_reconnect()).await;
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
    let ctx = format!("{flavor}: 4.x ?user=42 on /");
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
    // Closed the way the clients close (a polling-only session that just
    // vanished would linger until its ping timeout).
    for client in [&mut a, &mut b, &mut c] {
        client.disconnect().await;
        client.wait_disconnect().await;
    }
    wait_listed(&inj, 0).await;
    proxy.wait_idle().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emitter_pushes_reach_go_upstream_sessions_by_namespace_room_and_except() {
    let fx = GoFixture::start(GoVersion::V1_4_3).await;
    let upstream = format!("ws://{}", fx.addr);
    pushes_reach_exactly_the_selected_sessions("go-1.4", upstream, Transports::WebsocketOnly).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emitter_pushes_reach_node_v2_upstream_sessions_by_namespace_room_and_except() {
    let up = Upstream::start(2).await;
    pushes_reach_exactly_the_selected_sessions("node-v2", node_ws(&up), Transports::PollingOnly)
        .await;
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
async fn upstream_disconnecting_a_namespace_unlists_the_session() {
    let redis = RedisServer::start().await;
    let up = Upstream::start(2).await;
    let (proxy, inj) = start_proxy("node-v2", node_ws(&up), &redis.url()).await;
    let opts = client(4, &proxy.url(), "/chat", "7").transports(Transports::WebsocketOnly);
    let (mut b, _) = Client::connect(&opts).await;
    // A second namespace keeps the session alive after the kick.
    b.proc.send(&json!({"cmd": "open", "nsp": "/"})).await;
    b.proc
        .wait_for(|v| v["ev"] == "connect" && v["nsp"] == "/", STEP)
        .await;
    wait_listed(&inj, 2).await;
    assert_eq!(up.kick("/chat").await, 1);
    b.wait_disconnect().await;
    wait_listed(&inj, 1).await;
    assert!(!inj.registry().has_nsp("/chat") && inj.registry().has_nsp("/"));
    assert_eq!(proxy.gauges.sessions(), 1, "the session lives on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_at_start_or_mid_session_does_not_stop_proxying_and_pushes_flow_when_back() {
    let mut redis = RedisServer::reserve();
    let fx = GoFixture::start(GoVersion::V1_4_3).await;
    let (proxy, inj) = start_proxy("go-1.4", format!("ws://{}", fx.addr), &redis.url()).await;
    let (mut a, _) = Client::connect(&client(4, &proxy.url(), "/chat", "42")).await;
    echo(&mut a, "no redis", "redis down").await;
    assert!(!inj.is_up());
    // Redis only feeds injected pushes: it is no readiness check here.
    let ready = siogate::metrics::readiness().status();
    assert!(
        !ready.as_ref().is_err_and(|why| why.contains("redis")),
        "{ready:?}"
    );
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
    drop(em);

    // Killed mid-session: proxying goes on; after the restart the proxy
    // re-subscribes by itself and pushes flow again.
    redis.kill().await;
    assert!(wait_until(STEP, || !inj.is_up()).await, "link still up");
    echo(&mut a, "redis killed", "redis killed").await;
    redis.restart().await;
    wait_patterns(&redis, 1, RESUBSCRIBE).await;
    let mut em = Emitter::start(&redis.url()).await;
    em.emit("/chat", &["user:42"], &[], "to42", json!(["again"]))
        .await;
    em.emit("/chat", &[], &[], "mark", json!([])).await;
    assert_got(
        &mut a,
        "redis restarted",
        &[("to42", Some(json!(["again"])))],
    )
    .await;
    echo(&mut a, "redis restarted", "redis restarted").await;
}

/// An HS256 token with `claims`.
fn jwt(claims: Value, secret: &str) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).expect("sign a token")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_claims_give_rooms_only_when_the_token_verifies() {
    let redis = RedisServer::start().await;
    let fx = GoFixture::start(GoVersion::V1_0_1).await;
    let upstream = format!("ws://{}", fx.addr);
    let (proxy, inj) = start_proxy_with("go-legacy", upstream, &redis.url(), |r| {
        r.room_from_claim = vec!["sub".into(), "groups".into()];
        r.claim_secret = Some(Secret::new("s3cret"));
    })
    .await;
    let url = proxy.url();
    let good = jwt(json!({"sub": "42", "groups": ["ops"]}), "s3cret");
    let forged = jwt(json!({"sub": "42", "groups": ["ops"]}), "guessed");
    let v4 = ClientOpts::new(4, &url).nsp("/chat").no_reconnect();
    let (mut a, _) = Client::connect(&v4.clone().auth(json!({ "token": good }))).await;
    let (mut b, _) = Client::connect(&v4.auth(json!({ "token": forged }))).await;
    let v2 = ClientOpts::new(2, &url).nsp("/chat").no_reconnect();
    let (mut c, _) = Client::connect(&v2.query("token", &good)).await;
    // a, b: /chat; c: / and /chat.
    wait_listed(&inj, 4).await;
    wait_patterns(&redis, 2, STEP).await;

    let mut em = Emitter::start(&redis.url()).await;
    em.emit("/chat", &["sub:42"], &[], "to42", json!(["x"]))
        .await;
    em.emit("/chat", &["groups:ops"], &[], "ops", json!([1]))
        .await;
    em.emit("/chat", &[], &[], "mark", json!([])).await;
    let verified = [("to42", Some(json!(["x"]))), ("ops", Some(json!([1])))];
    assert_got(&mut a, "4.x auth token", &verified).await;
    assert_got(&mut c, "2.x query token", &verified).await;
    assert_got(&mut b, "forged token", &[("to42", None), ("ops", None)]).await;
    echo(&mut b, "forged but proxied", "forged token").await;
}
