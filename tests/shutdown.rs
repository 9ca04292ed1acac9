//! Graceful shutdown of the real binary: SIGTERM tells every connected
//! client (socket.io-client 4.x and 2.5.0, WebSocket and polling) to
//! reconnect and exits 0 within the grace period; in proxy mode the upstream
//! sessions are closed too; SIGINT caps the grace period at 1 s; a second
//! signal exits at once.
mod common;

use std::time::Duration;

use common::http_client;
use common::node::{Client, ClientOpts, Transports, Upstream};
use common::siogate_bin::Siogate;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// What socket.io-client (2.x and 4.x) reports when the server sends `1`
/// over polling or closes the WebSocket with a close frame.
const TRANSPORT_CLOSE: &str = "transport close";

fn clients(url: &str) -> Vec<ClientOpts> {
    [2, 4]
        .into_iter()
        .flat_map(|v| {
            [Transports::WebsocketOnly, Transports::PollingOnly]
                .map(|t| ClientOpts::new(v, url).transports(t).no_reconnect())
        })
        .collect()
}

async fn connect_all(opts: &[ClientOpts]) -> Vec<Client> {
    let mut out = Vec::new();
    for o in opts {
        out.push(Client::connect(o).await.0);
    }
    out
}

/// A connection that sent half a request: hyper waits for the rest, so the
/// drain cannot finish before the grace period ends. A request on a second
/// connection is answered only after the accept loop took the first one
/// (connections are accepted in order), so the first is in the server's
/// hands before the test sends a signal.
async fn stuck_connection(s: &Siogate) -> TcpStream {
    let mut tcp = TcpStream::connect(s.addr).await.expect("connect");
    tcp.write_all(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write half a request");
    let r = http_client::request(s.addr, "GET", "/healthz", &[], "").await;
    assert_eq!(r.status, 200);
    tcp
}

#[tokio::test]
async fn sigterm_tells_every_client_to_reconnect_and_exits_zero_within_the_grace_period() {
    let grace = Duration::from_secs(5);
    let mut s =
        Siogate::start(&["standalone", "--api-token", "t", "--shutdown-grace", "5000"]).await;
    let url = format!("http://{}", s.addr);
    let opts = clients(&url);
    let mut clients = connect_all(&opts).await;
    let sent = Instant::now();
    s.signal("TERM");
    for (c, o) in clients.iter_mut().zip(&opts) {
        let reason = c.wait_disconnect().await;
        assert_eq!(
            reason,
            TRANSPORT_CLOSE,
            "v{} {:?}: {}",
            o.version,
            o.transports,
            c.proc.report("")
        );
    }
    let status = s.wait_exit(grace).await;
    assert!(status.success(), "{status:?}\n{}", s.stderr());
    assert!(sent.elapsed() < grace, "took {:?}", sent.elapsed());
    let log = s.stderr();
    assert!(
        log.contains("signal=\"SIGTERM\"") || log.contains("signal=SIGTERM"),
        "{log}"
    );
}

#[tokio::test]
async fn sigterm_in_proxy_mode_closes_the_upstream_sessions_too() {
    let mut up = Upstream::start(4).await;
    let upstream = format!("ws://127.0.0.1:{}", up.port);
    let mut s = Siogate::start(&[
        "proxy",
        "--upstream",
        &upstream,
        "--flavor",
        "v4",
        "--shutdown-grace",
        "5000",
    ])
    .await;
    let url = format!("http://{}", s.addr);
    let opts = [
        ClientOpts::new(4, &url)
            .transports(Transports::WebsocketOnly)
            .no_reconnect(),
        ClientOpts::new(2, &url)
            .transports(Transports::PollingOnly)
            .no_reconnect(),
    ];
    let mut clients = connect_all(&opts).await;
    up.wait_connection("/").await;
    up.wait_connection("/").await;
    s.signal("TERM");
    for c in &mut clients {
        assert_eq!(c.wait_disconnect().await, TRANSPORT_CLOSE);
    }
    up.wait_disconnect("/").await;
    up.wait_disconnect("/").await;
    let status = s.wait_exit(Duration::from_secs(5)).await;
    assert!(status.success(), "{status:?}\n{}", s.stderr());
}

#[tokio::test]
async fn sigint_caps_the_grace_period_at_one_second() {
    let mut s = Siogate::standalone(&["--shutdown-grace", "60000"]).await;
    let _stuck = stuck_connection(&s).await;
    let sent = Instant::now();
    s.signal("INT");
    let status = s.wait_exit(Duration::from_secs(10)).await;
    assert!(status.success(), "{status:?}\n{}", s.stderr());
    let took = sent.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "SIGINT with a stuck connection took {took:?}\n{}",
        s.stderr()
    );
}

#[tokio::test]
async fn sigterm_waits_for_the_configured_grace_period_at_most_and_reports_not_ready() {
    let mut s = Siogate::standalone(&[
        "--shutdown-grace",
        "1500",
        "--metrics-listen",
        "127.0.0.1:0",
    ])
    .await;
    // Ready once the accept loop runs (the metrics listener may answer a
    // moment earlier).
    s.wait_status("/readyz", 200, Duration::from_secs(5)).await;
    let _stuck = stuck_connection(&s).await;
    let sent = Instant::now();
    s.signal("TERM");
    let body = s.wait_status("/readyz", 503, Duration::from_secs(5)).await;
    assert!(body.contains("not accepting"), "{body}");
    assert_eq!(s.get_metrics_listener("/healthz").await.0, 200);
    let status = s.wait_exit(Duration::from_secs(10)).await;
    assert!(status.success(), "{status:?}\n{}", s.stderr());
    let took = sent.elapsed();
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_secs(5),
        "took {took:?}\n{}",
        s.stderr()
    );
    assert!(s.stderr().contains("grace period over"), "{}", s.stderr());
}

#[tokio::test]
async fn a_second_signal_exits_at_once() {
    let mut s = Siogate::standalone(&["--shutdown-grace", "60000"]).await;
    let _stuck = stuck_connection(&s).await;
    s.signal("TERM");
    s.wait_stderr("shutdown started", Duration::from_secs(5))
        .await;
    let sent = Instant::now();
    s.signal("TERM");
    let status = s.wait_exit(Duration::from_secs(5)).await;
    assert_eq!(status.code(), Some(143), "{}", s.stderr());
    assert!(sent.elapsed() < Duration::from_secs(3));
}
