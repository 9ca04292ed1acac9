//! The operations endpoints of the real binary: `/metrics` scraped before
//! and after scripted sessions (real socket.io-client 4.x and 2.5.0, the push
//! API, a proxied session through a Node socket.io upstream), with the
//! counters' changes asserted from the parsed text format (in proxy mode
//! also the upstream leg's messages, bytes and handshakes); `/healthz` and
//! `/readyz` on the metrics and the main listener, and `/readyz` following
//! the health of the only upstream in proxy mode.
mod common;

use std::time::Duration;

use common::http_client;
use common::node::{Client, ClientOpts, Transports, Upstream, UpstreamOpts, bin, unbin};
use common::siogate_bin::{Scrape, Siogate};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);

fn series(name: &str, labels: &str) -> String {
    format!("{name}{{{labels}}}")
}

/// `siogate proxy --flavor v4` in front of `upstream`, with metrics.
async fn proxy(upstream: &str, extra: &[&str]) -> Siogate {
    let mut args = vec!["proxy", "--upstream", upstream, "--flavor", "v4"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--metrics-listen", "127.0.0.1:0"]);
    Siogate::start(&args).await
}

/// `(messages, bytes)` over the legs of the upstream `up_label` in
/// direction `dir`, grown from `then` to `now`.
fn leg_traffic(now: &Scrape, then: &Scrape, up_label: &str, dir: &str) -> (f64, f64) {
    let labels = format!(r#"{up_label},direction="{dir}""#);
    (
        now.delta(then, &series("siogate_upstream_messages_total", &labels)),
        now.delta(then, &series("siogate_upstream_bytes_total", &labels)),
    )
}

async fn push(s: &Siogate, token: &str, body: serde_json::Value) -> u16 {
    let auth = format!("Bearer {token}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let r = http_client::request(s.addr, "POST", "/api/v1/emit", &headers, body.to_string()).await;
    r.status
}

#[tokio::test]
async fn standalone_session_and_push_calls_move_the_counters() {
    let s = Siogate::start(&[
        "standalone",
        "--api-token",
        "t0ken",
        "--metrics-listen",
        "127.0.0.1:0",
    ])
    .await;
    let before = s.scrape().await;
    assert!(
        before.has("siogate_info{mode=\"standalone\",version=\"0.1.0\"}"),
        "{}",
        before.text
    );
    let url = format!("http://{}", s.addr);
    let (mut ws4, _) = Client::connect(
        &ClientOpts::new(4, &url)
            .transports(Transports::WebsocketOnly)
            .no_reconnect(),
    )
    .await;
    let (mut poll2, _) = Client::connect(
        &ClientOpts::new(2, &url)
            .transports(Transports::PollingOnly)
            .no_reconnect(),
    )
    .await;
    let open = s
        .wait_metrics(
            "two open sessions",
            |m| {
                m.get(&series(
                    "siogate_sessions",
                    r#"mode="standalone",transport="websocket",eio="4""#,
                )) == 1.0
                    && m.get(&series(
                        "siogate_sessions",
                        r#"mode="standalone",transport="polling",eio="3""#,
                    )) == 1.0
            },
            WAIT,
        )
        .await;
    // No webhook: the ack says so.
    let ack = ws4.emit_ack("hello", json!(["x"])).await;
    assert_eq!(ack, [json!({"error": "no handler"})]);
    assert_eq!(
        push(&s, "t0ken", json!({"event": "news", "args": [1]})).await,
        200
    );
    assert_eq!(push(&s, "wrong", json!({"event": "news"})).await, 401);
    assert_eq!(ws4.wait_event("news").await, [json!(1)]);
    assert_eq!(poll2.wait_event("news").await, [json!(1)]);
    ws4.disconnect().await;
    poll2.disconnect().await;
    let after = s
        .wait_metrics(
            "every session closed",
            |m| {
                m.get(&series(
                    "siogate_disconnects_total",
                    r#"reason="client_close""#,
                )) - before.get(&series(
                    "siogate_disconnects_total",
                    r#"reason="client_close""#,
                )) == 2.0
            },
            WAIT,
        )
        .await;
    let d = |name: &str, labels: &str| after.delta(&before, &series(name, labels));
    assert_eq!(
        d("siogate_connects_total", r#"transport="websocket",eio="4""#),
        1.0
    );
    assert_eq!(
        d("siogate_connects_total", r#"transport="polling",eio="3""#),
        1.0
    );
    for t in ["websocket", "polling"] {
        for eio in ["3", "4"] {
            let labels = format!(r#"mode="standalone",transport="{t}",eio="{eio}""#);
            assert_eq!(
                after.get(&series("siogate_sessions", &labels)),
                0.0,
                "{labels}"
            );
        }
    }
    let sio = "siogate_sio_packets_total";
    assert_eq!(
        d(sio, r#"direction="in",type="connect""#),
        1.0,
        "v4 CONNECT"
    );
    assert_eq!(
        d(sio, r#"direction="out",type="connect""#),
        2.0,
        "both replies"
    );
    assert_eq!(d(sio, r#"direction="in",type="event""#), 1.0);
    assert_eq!(d(sio, r#"direction="out",type="ack""#), 1.0);
    assert_eq!(
        d(sio, r#"direction="out",type="event""#),
        2.0,
        "one push, two sockets"
    );
    assert_eq!(d(sio, r#"direction="in",type="disconnect""#), 2.0);
    let eio = "siogate_eio_packets_total";
    assert_eq!(d(eio, r#"direction="out",type="open""#), 2.0);
    let bytes = "siogate_bytes_total";
    for labels in [
        r#"direction="in",transport="websocket""#,
        r#"direction="out",transport="websocket""#,
        r#"direction="in",transport="polling""#,
        r#"direction="out",transport="polling""#,
    ] {
        assert!(d(bytes, labels) > 0.0, "{labels}");
    }
    assert_eq!(d("siogate_push_api_requests_total", r#"status="200""#), 1.0);
    assert_eq!(d("siogate_push_api_requests_total", r#"status="401""#), 1.0);
    assert_eq!(after.delta(&open, "siogate_connect_errors_total"), 0.0);
}

#[tokio::test]
async fn an_upgrade_moves_the_session_from_the_polling_to_the_websocket_gauge() {
    let s = Siogate::standalone(&["--metrics-listen", "127.0.0.1:0"]).await;
    let polling = series(
        "siogate_sessions",
        r#"mode="standalone",transport="polling",eio="3""#,
    );
    let websocket = series(
        "siogate_sessions",
        r#"mode="standalone",transport="websocket",eio="3""#,
    );
    let before = s.scrape().await;
    let url = format!("http://{}", s.addr);
    let (mut c, _) = Client::connect(&ClientOpts::new(2, &url).no_reconnect()).await;
    c.proc.wait_ev("upgrade", WAIT).await;
    let upgraded = s
        .wait_metrics(
            "the session on websocket",
            |m| m.get(&websocket) == 1.0,
            WAIT,
        )
        .await;
    assert_eq!(upgraded.get(&polling), 0.0, "{}", upgraded.text);
    let d = |name: &str, labels: &str| upgraded.delta(&before, &series(name, labels));
    assert_eq!(
        d("siogate_connects_total", r#"transport="polling",eio="3""#),
        1.0
    );
    assert_eq!(
        d("siogate_connects_total", r#"transport="websocket",eio="3""#),
        0.0
    );
    let eio = "siogate_eio_packets_total";
    assert_eq!(d(eio, r#"direction="in",type="upgrade""#), 1.0);
    assert!(d(eio, r#"direction="out",type="pong""#) >= 1.0, "3probe");
    c.disconnect().await;
    let after = s
        .wait_metrics("no session left", |m| m.get(&websocket) == 0.0, WAIT)
        .await;
    assert_eq!(after.get(&polling), 0.0);
}

#[tokio::test]
async fn health_endpoints_answer_on_both_listeners_and_metrics_only_on_its_own() {
    let s = Siogate::standalone(&["--metrics-listen", "127.0.0.1:0"]).await;
    assert_eq!(
        s.get_metrics_listener("/healthz").await,
        (200, "ok\n".into())
    );
    // Ready once the accept loop runs (the metrics listener may answer a
    // moment earlier).
    assert_eq!(s.wait_status("/readyz", 200, WAIT).await, "ready\n");
    let main = |path: &'static str| http_client::request(s.addr, "GET", path, &[], "");
    let r = main("/healthz").await;
    assert_eq!((r.status, r.text()), (200, "ok\n"));
    let r = main("/readyz").await;
    assert_eq!((r.status, r.text()), (200, "ready\n"));
    assert_eq!(
        main("/metrics").await.status,
        404,
        "metrics stay off the client port"
    );
    let r = http_client::request(s.metrics.expect("metrics"), "GET", "/metrics", &[], "").await;
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    Scrape::parse(r.text());
}

#[tokio::test]
async fn proxied_session_is_counted_and_readyz_follows_the_only_upstream() {
    let mut up = Upstream::start(4).await;
    let port = up.port;
    let upstream = format!("ws://127.0.0.1:{port}");
    let s = proxy(&upstream, &["--health-interval", "500"]).await;
    let up_label = format!(r#"upstream="ws://127.0.0.1:{port}/socket.io/""#);
    // The upstreams are exported once proxy mode runs (the metrics listener
    // may answer a moment earlier).
    let before = s
        .wait_metrics(
            "the upstream, healthy",
            |m| m.get(&series("siogate_upstream_healthy", &up_label)) == 1.0,
            WAIT,
        )
        .await;
    assert_eq!(s.wait_status("/readyz", 200, WAIT).await, "ready\n");

    let url = format!("http://{}", s.addr);
    let (mut c, _) = Client::connect(
        &ClientOpts::new(4, &url)
            .nsp("/chat")
            .auth(json!({"token": "abc"}))
            .transports(Transports::WebsocketOnly)
            .no_reconnect(),
    )
    .await;
    // One leg: its handshake timed, then the CONNECT and its reply.
    let connected = s.scrape().await;
    let hs = |m: &Scrape, part: &str, labels: &str| {
        m.delta(
            &before,
            &series(
                &format!("siogate_upstream_handshake_seconds_{part}"),
                labels,
            ),
        )
    };
    assert_eq!(hs(&connected, "count", &up_label), 1.0);
    assert_eq!(
        hs(&connected, "bucket", &format!(r#"{up_label},le="+Inf""#)),
        1.0
    );
    assert!(hs(&connected, "sum", &up_label) > 0.0);
    assert_eq!(leg_traffic(&connected, &before, &up_label, "out").0, 1.0);
    assert_eq!(leg_traffic(&connected, &before, &up_label, "in").0, 1.0);
    // Counted before they are written / handed on: the ack means both are in.
    assert_eq!(c.emit_ack("echo", json!(["hi"])).await, [json!("hi")]);
    let during = s.scrape().await;
    assert_eq!(
        during.get(&series("siogate_upstream_active", &up_label)),
        1.0
    );
    let echo_out = r#"2/chat,0["echo","hi"]"#.len() as f64;
    let echo_in = r#"3/chat,0["hi"]"#.len() as f64;
    assert_eq!(
        leg_traffic(&during, &connected, &up_label, "out"),
        (1.0, echo_out)
    );
    assert_eq!(
        leg_traffic(&during, &connected, &up_label, "in"),
        (1.0, echo_in)
    );
    // A binary event with an ack: the packet plus one attachment each way.
    let ack = c.emit_ack("bin", json!([bin(&[1, 2, 3])])).await;
    assert_eq!(unbin(&ack[0]).as_deref(), Some(&[3u8, 2, 1][..]), "{ack:?}");
    let binary = s.scrape().await;
    let bin_out = r#"51-/chat,1["bin",{"_placeholder":true,"num":0}]"#.len() as f64 + 3.0;
    let bin_in = r#"61-/chat,1[{"_placeholder":true,"num":0}]"#.len() as f64 + 3.0;
    assert_eq!(
        leg_traffic(&binary, &during, &up_label, "out"),
        (2.0, bin_out)
    );
    assert_eq!(
        leg_traffic(&binary, &during, &up_label, "in"),
        (2.0, bin_in)
    );
    c.disconnect().await;
    let after = s
        .wait_metrics(
            "the proxied session closed",
            |m| m.get(&series("siogate_upstream_active", &up_label)) == 0.0,
            WAIT,
        )
        .await;
    let d = |name: &str, labels: &str| after.delta(&before, &series(name, labels));
    assert_eq!(d("siogate_upstream_dials_total", r#"outcome="ok""#), 1.0);
    assert_eq!(d("siogate_upstream_selections_total", &up_label), 1.0);
    let norm = "siogate_normalizations_total";
    assert_eq!(d(norm, r#"kind="leg_open""#), 1.0);
    assert_eq!(d(norm, r#"kind="connect_upstream""#), 1.0);
    assert_eq!(d(norm, r#"kind="connect_reply""#), 1.0);
    let sio = "siogate_sio_packets_total";
    assert_eq!(d(sio, r#"direction="in",type="event""#), 1.0);
    assert_eq!(d(sio, r#"direction="out",type="ack""#), 1.0);

    // The only upstream goes away: not ready, with the reason.
    up.proc.close_stdin();
    up.proc.wait_exit(WAIT).await;
    let body = s.wait_status("/readyz", 503, WAIT).await;
    assert!(
        body.contains("upstreams: none of 1 upstreams is healthy"),
        "{body}"
    );
    let down = s.scrape().await;
    assert_eq!(
        down.get(&series("siogate_upstream_healthy", &up_label)),
        0.0
    );
    assert_eq!(
        s.get_metrics_listener("/healthz").await.0,
        200,
        "still alive"
    );

    // It comes back on the same port: ready again.
    let _up = Upstream::start_with(UpstreamOpts {
        version: 4,
        port: Some(port),
        ..Default::default()
    })
    .await;
    assert_eq!(s.wait_status("/readyz", 200, WAIT).await, "ready\n");
}

#[tokio::test]
async fn a_failed_upstream_leg_handshake_is_counted_by_reason() {
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = dead.local_addr().expect("addr").port();
    drop(dead);
    let upstream = format!("ws://127.0.0.1:{port}");
    let s = proxy(&upstream, &[]).await;
    let up_label = format!(r#"upstream="ws://127.0.0.1:{port}/socket.io/""#);
    let failed = series(
        "siogate_upstream_handshake_failures_total",
        &format!(r#"{up_label},reason="connect""#),
    );
    let before = s
        .wait_metrics("the upstream", |m| m.has(&failed), WAIT)
        .await;
    let url = format!("http://{}", s.addr);
    let _client = Client::spawn(
        &ClientOpts::new(4, &url)
            .transports(Transports::WebsocketOnly)
            .no_reconnect(),
    );
    let after = s
        .wait_metrics("a failed leg", |m| m.delta(&before, &failed) >= 1.0, WAIT)
        .await;
    let count = series("siogate_upstream_handshake_seconds_count", &up_label);
    assert_eq!(after.get(&count), 0.0, "no leg opened");
    let timeouts = format!(r#"{up_label},reason="timeout""#);
    let timeouts = series("siogate_upstream_handshake_failures_total", &timeouts);
    assert_eq!(after.get(&timeouts), 0.0, "{}", after.text);
}
