//! Logs of the real binary: `--log-format json` writes one JSON object per
//! line, and every session event carries the session span (sid, peer
//! address, transport, revision, and in proxy mode the upstream); even with
//! `--log-level trace`, tokens and cookies a client sends (headers, query,
//! CONNECT auth, over polling and WebSocket) never show up.
mod common;

use std::time::Duration;

use common::gofixture::{GoFixture, GoVersion};
use common::http_client;
use common::node::{Client, ClientOpts, Transports, Upstream};
use common::siogate_bin::Siogate;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

/// Every stderr line that is a JSON object (the banner lines are not).
fn json_lines(s: &Siogate) -> Vec<Value> {
    s.stderr()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(Value::is_object)
        .collect()
}

/// The `session` span among a log line's spans, if any.
fn session_span(line: &Value) -> Option<&Value> {
    line["spans"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == "session")
}

#[tokio::test]
async fn json_logs_carry_the_session_span_fields() {
    let s = Siogate::standalone(&["--log-format", "json", "--log-level", "debug"]).await;
    let url = format!("http://{}", s.addr);
    let (mut c, _) = Client::connect(&ClientOpts::new(4, &url).no_reconnect()).await;
    c.proc.wait_ev("upgrade", WAIT).await;
    c.disconnect().await;
    s.wait_stderr("session closed", WAIT).await;
    let lines = json_lines(&s);
    assert!(!lines.is_empty(), "no JSON lines:\n{}", s.stderr());
    for l in &lines {
        assert!(l["level"].is_string() && l["timestamp"].is_string(), "{l}");
    }
    let closed = lines
        .iter()
        .find(|l| l["message"] == "session closed")
        .unwrap_or_else(|| panic!("no `session closed` line:\n{}", s.stderr()));
    let span = session_span(closed).unwrap_or_else(|| panic!("no session span in {closed}"));
    assert!(
        span["sid"].as_str().is_some_and(|sid| sid.len() >= 16),
        "{span}"
    );
    assert!(
        span["peer.addr"]
            .as_str()
            .is_some_and(|a| a.starts_with("127.0.0.1:")),
        "{span}"
    );
    assert_eq!(span["eio"], 4, "{span}");
    assert_eq!(
        span["transport"], "websocket",
        "recorded at the upgrade: {span}"
    );
    assert_eq!(closed["reason"], "ClientClose", "{closed}");
}

#[tokio::test]
async fn proxy_session_span_names_its_upstream() {
    let up = Upstream::start(4).await;
    let upstream = format!("ws://127.0.0.1:{}", up.port);
    let s = Siogate::start(&[
        "proxy",
        "--upstream",
        &upstream,
        "--flavor",
        "v4",
        "--log-format",
        "json",
        "--log-level",
        "debug",
    ])
    .await;
    let url = format!("http://{}", s.addr);
    let opts = ClientOpts::new(4, &url)
        .transports(Transports::WebsocketOnly)
        .no_reconnect();
    let (mut c, _) = Client::connect(&opts).await;
    assert_eq!(c.emit_ack("echo", json!([1])).await, [json!(1)]);
    c.disconnect().await;
    s.wait_stderr("proxied session closed", WAIT).await;
    let want = format!("{upstream}/socket.io/");
    let lines = json_lines(&s);
    let closed = lines
        .iter()
        .find(|l| l["message"] == "proxied session closed")
        .unwrap_or_else(|| panic!("no close line:\n{}", s.stderr()));
    let span = session_span(closed).unwrap_or_else(|| panic!("no session span in {closed}"));
    assert_eq!(span["upstream.addr"], want.as_str(), "{span}");
    assert_eq!(span["transport"], "websocket", "{span}");
    assert_eq!(span["eio"], 4, "{span}");
}

#[tokio::test]
async fn trace_logs_never_show_tokens_or_cookies() {
    let secrets = [
        "SECRET-AUTHZ-1f3",
        "SECRET-COOKIE-9a2",
        "SECRET-QUERY-77c",
        "SECRET-AUTH-5d0",
    ];
    let s = Siogate::start(&[
        "standalone",
        "--api-token",
        "SECRET-API-TOKEN-e41",
        "--jwt-secret",
        "SECRET-JWT-KEY-0b8",
        "--log-level",
        "trace",
    ])
    .await;
    // A raw polling client sending every kind of credential.
    let authz = format!("Bearer {}", secrets[0]);
    let cookie = format!("io=abc; session={}", secrets[1]);
    let headers = [
        ("authorization", authz.as_str()),
        ("cookie", cookie.as_str()),
    ];
    let pq = format!("/socket.io/?EIO=4&transport=polling&token={}", secrets[2]);
    let open = http_client::request(s.addr, "GET", &pq, &headers, "").await;
    assert_eq!(open.status, 200, "{}", open.text());
    let body: Value = serde_json::from_str(&open.text()[1..]).expect("open packet");
    let sid = body["sid"].as_str().expect("sid");
    let post = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let connect = format!("40{{\"token\":\"{}\"}}", secrets[3]);
    let r = http_client::request(s.addr, "POST", &post, &headers, connect).await;
    assert_eq!(r.status, 200);
    // The token is no valid JWT: a CONNECT_ERROR comes back.
    let r = http_client::request(s.addr, "GET", &post, &headers, "").await;
    assert!(r.text().starts_with("44"), "{}", r.text());
    // A real client with a token in the query and in auth, and a push with
    // a wrong API token.
    let url = format!("http://{}", s.addr);
    let opts = ClientOpts::new(4, &url)
        .query("token", secrets[2])
        .auth(json!({"token": secrets[3]}))
        .transports(Transports::WebsocketOnly)
        .no_reconnect();
    let mut c = Client::spawn(&opts);
    c.proc.wait_ev("connect_error", WAIT).await;
    let auth = format!("Bearer {}", secrets[0]);
    let r = http_client::request(
        s.addr,
        "POST",
        "/api/v1/emit",
        &[("authorization", auth.as_str())],
        "{}",
    )
    .await;
    assert_eq!(r.status, 401);
    // Everything is logged by the time the process finished shutting down.
    s.signal("TERM");
    s.wait_stderr("shutdown finished", WAIT).await;
    let log = s.stderr();
    assert!(log.contains("TRACE"), "trace logging is on:\n{log}");
    for secret in secrets
        .iter()
        .chain(&["SECRET-API-TOKEN-e41", "SECRET-JWT-KEY-0b8"])
    {
        assert!(!log.contains(secret), "{secret} leaked:\n{log}");
    }
}

#[tokio::test]
async fn proxy_trace_logs_never_show_the_tokens_sent_upstream() {
    // go flavors put the namespace query (SIO4) or the flattened auth (SIO5)
    // into the upstream handshake URL: it must not be logged either.
    let fx = GoFixture::start(GoVersion::V1_4_3).await;
    let upstream = format!("ws://{}", fx.addr);
    let s = Siogate::start(&[
        "proxy",
        "--upstream",
        &upstream,
        "--flavor",
        "go-1.4",
        "--log-level",
        "trace",
    ])
    .await;
    let (query_secret, auth_secret) = ("SECRET-NSPQ-31e", "SECRET-AUTH-8c4");
    let base = format!("http://{}", s.addr);
    let v2 = ClientOpts::new(2, format!("{base}/chat?token={query_secret}"))
        .transports(Transports::WebsocketOnly)
        .no_reconnect();
    let v4 = ClientOpts::new(4, &base)
        .nsp("/chat")
        .auth(json!({"token": auth_secret}))
        .no_reconnect();
    for opts in [v2, v4] {
        let (mut c, _) = Client::connect(&opts).await;
        c.disconnect().await;
        c.wait_disconnect().await;
    }
    let entries = fx.log();
    assert!(
        format!("{entries:?}").contains(query_secret),
        "the token did reach the upstream: {entries:?}"
    );
    s.signal("TERM");
    s.wait_stderr("shutdown finished", WAIT).await;
    let log = s.stderr();
    assert!(log.contains("TRACE"), "{log}");
    for secret in [query_secret, auth_secret] {
        assert!(!log.contains(secret), "{secret} leaked:\n{log}");
    }
}
