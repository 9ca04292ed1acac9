//! TLS termination of client connections, with real TLS peers and a test
//! CA made by the test: socket.io-client 2.5.0 and 4.x over `https` and
//! `wss` (polling + upgrade, WebSocket only) with the CA passed as `ca`;
//! the certificate chosen by SNI; TLS 1.2 and 1.3 with ALPN `http/1.1`;
//! HTTP and HTTPS listeners side by side sharing one session registry;
//! plain HTTP on the TLS port and silent clients are turned away.
#[allow(unused_imports)]
mod common;
mod standalone_harness;
mod tls_harness;

use std::sync::Arc;
use std::time::Duration;

use common::node::{Client, ClientOpts, STEP, Transports, http_get, require_peers};
use common::siogate_bin::Siogate;
use common::tls::{client_config, connect, served_cert};
use serde_json::{Value, json};
use siogate::config::SniCert;
use siogate::metrics::Outcome;
use siogate::standalone::{Standalone, WebhookOptions};
use standalone_harness::gateway;
use standalone_harness::net::{Reply, http, webhook_server};
use tls_harness::{Pki, TlsGateway, eventually, https_get};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls::version::{TLS12, TLS13};

/// A gateway whose webhook answers every client event with its own args.
async fn echo_gateway() -> Standalone {
    let reply: Reply = Arc::new(|body| (200, json!([body["args"][0]]).to_string()));
    let (hook, _requests) = webhook_server(reply).await;
    gateway(move |o| o.webhook = Some(WebhookOptions::new(hook)))
}

/// Pushes `event` to every socket of `/` through the API on the plain listener.
async fn push_all(gw: &TlsGateway, event: &str) -> u64 {
    let body = json!({"namespace": "/", "event": event, "args": ["over tls"]});
    let (status, resp) = gw.server.api("POST", "emit", &body.to_string()).await;
    assert_eq!(status, 200, "{resp}");
    resp["delivered"].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn socketio_clients_2_and_4_connect_over_https_and_wss() {
    require_peers();
    let pki = Pki::new();
    let gw = TlsGateway::start(echo_gateway().await, &pki.config(|_| {}), true).await;
    for version in [2u8, 4] {
        for t in [Transports::PollingThenUpgrade, Transports::WebsocketOnly] {
            let ctx = format!("client {version}.x {t:?}");
            let opts = ClientOpts::new(version, gw.https_url())
                .transports(t)
                .ca(&pki.ca_pem)
                .no_reconnect();
            let (mut c, line) = Client::connect(&opts).await;
            if t == Transports::PollingThenUpgrade {
                // 4.x may finish the upgrade before `connect` fires.
                let up = c.proc.wait_ev("upgrade", STEP).await;
                assert_eq!(up["transport"], "websocket", "{ctx}: {up}");
            } else {
                assert_eq!(line["transport"], "websocket", "{ctx}: {line}");
            }
            // Client → server (the webhook's reply is the ack) over TLS.
            let ack = c.emit_ack("greet", json!(["héllo"])).await;
            assert_eq!(ack, vec![json!("héllo")], "{ctx}");
            // The push API on the plain listener reaches the TLS session.
            assert_eq!(push_all(&gw, "news").await, 1, "{ctx}");
            assert_eq!(c.wait_event("news").await, vec![json!("over tls")], "{ctx}");
            c.disconnect().await;
            assert_eq!(c.wait_disconnect().await, "io client disconnect", "{ctx}");
        }
    }
}

#[tokio::test]
async fn client_without_the_ca_is_refused() {
    require_peers();
    let pki = Pki::new();
    let gw = TlsGateway::start(echo_gateway().await, &pki.config(|_| {}), false).await;
    let opts = ClientOpts::new(4, gw.https_url())
        .transports(Transports::WebsocketOnly)
        .no_reconnect();
    let mut c = Client::spawn(&opts);
    let err = c.proc.wait_ev("connect_error", STEP).await;
    assert!(err["message"].is_string(), "{err}");
}

#[tokio::test]
async fn sni_selects_the_certificate_by_server_name() {
    let pki = Pki::new();
    let a = pki.ca.leaf("site-a", &["a.test"]);
    let b = pki.ca.leaf("site-b", &["x.b.test", "y.b.test"]);
    let (a_cert, a_key) = a.write(pki.dir.path(), "a");
    let (b_cert, b_key) = b.write(pki.dir.path(), "b");
    let cfg = pki.config(|c| {
        // a: names from its SANs; b: an explicit wildcard.
        c.sni = vec![
            SniCert {
                cert: a_cert,
                key: a_key,
                names: vec![],
            },
            SniCert {
                cert: b_cert,
                key: b_key,
                names: vec!["*.b.test".into()],
            },
        ];
    });
    let gw = TlsGateway::start(gateway(|_| {}), &cfg, false).await;
    let client = pki.client();
    let cases = [
        ("a.test", &a.der, "site-a"),
        ("x.b.test", &b.der, "site-b"),
        ("y.b.test", &b.der, "site-b"),
        ("localhost", &pki.default.der, "default (no SNI entry)"),
        ("127.0.0.1", &pki.default.der, "default (no SNI)"),
    ];
    for (name, expected, what) in cases {
        let got = served_cert(gw.https(), name, client.clone()).await;
        assert!(&got == expected, "{name}: expected the {what} certificate");
    }
    // A name only the wildcard's certificate would cover, but the wildcard
    // covers one label: the default is served and the client refuses it.
    let err = connect(gw.https(), "z.y.b.test", client).await.unwrap_err();
    assert!(err.to_string().contains("certificate"), "{err}");
}

#[tokio::test]
async fn tls_12_and_13_both_negotiate_alpn_http11() {
    let pki = Pki::new();
    let gw = TlsGateway::start(gateway(|_| {}), &pki.config(|_| {}), false).await;
    for (version, name) in [(&TLS12, "TLS 1.2"), (&TLS13, "TLS 1.3")] {
        let config = client_config(&pki.ca.der(), &[version]);
        let tls = connect(gw.https(), "localhost", config)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let conn = tls.get_ref().1;
        assert_eq!(conn.protocol_version(), Some(version.version), "{name}");
        assert_eq!(conn.alpn_protocol(), Some(&b"http/1.1"[..]), "{name}");
    }
}

/// `0{"sid":…}` of an EIO4 polling handshake → the sid.
fn open_sid(body: &str) -> String {
    let open: Value = serde_json::from_str(body.trim_start_matches('0')).expect("open packet");
    open["sid"].as_str().expect("sid").to_string()
}

#[tokio::test]
async fn http_and_https_listeners_share_one_session_registry() {
    let pki = Pki::new();
    let gw = TlsGateway::start(gateway(|_| {}), &pki.config(|_| {}), true).await;
    // A session opened over HTTPS …
    let (status, body) = https_get(
        gw.https(),
        "/socket.io/?EIO=4&transport=polling",
        pki.client(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let sid = open_sid(&body);
    // … is the same session on the plain listener: its CONNECT posted there
    // is answered on the next poll there.
    let pq = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let (status, body) = http(gw.server.addr, "POST", &pq, &[], "40").await;
    assert_eq!(status, 200, "plain POST to a TLS session: {body:?}");
    let port = gw.server.addr.port();
    let raw = http(gw.server.addr, "GET", &pq, &[], "").await;
    let text = String::from_utf8_lossy(&raw.1).into_owned();
    assert_eq!(raw.0, 200, "{text}");
    assert!(
        text.starts_with("40{\"sid\":"),
        "the namespace CONNECT is answered: {text}"
    );
    // … and both listeners open sessions of their own.
    let (status, _) = http_get(port, "/socket.io/?EIO=4&transport=polling").await;
    assert_eq!(status, 200);
    let (status, _) = http_get(port, "/socket.io/?EIO=4&transport=polling&sid=unknown").await;
    assert_eq!(status, 400, "an unknown sid is still refused");
}

#[tokio::test]
async fn plain_http_on_the_tls_port_gets_no_http_answer() {
    let failed_before = handshakes(Outcome::Error);
    let pki = Pki::new();
    let gw = TlsGateway::start(gateway(|_| {}), &pki.config(|_| {}), false).await;
    let mut tcp = tokio::net::TcpStream::connect(gw.https())
        .await
        .expect("connect");
    let exchange = async {
        tcp.write_all(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.0\r\n\r\n")
            .await?;
        let mut raw = Vec::new();
        tcp.read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>(raw)
    };
    let raw = tokio::time::timeout(STEP, exchange)
        .await
        .expect("the server ends it");
    let raw = raw.unwrap_or_default();
    assert!(
        !raw.starts_with(b"HTTP/"),
        "{:?}",
        String::from_utf8_lossy(&raw)
    );
    let counted = eventually(|| handshakes(Outcome::Error) > failed_before).await;
    assert!(counted, "counted as a failed handshake");
}

#[tokio::test]
async fn silent_client_is_dropped_after_the_handshake_timeout() {
    let (timeouts_before, ok_before) = (handshakes(Outcome::Timeout), handshakes(Outcome::Ok));
    let pki = Pki::new();
    let cfg = pki.config(|c| c.handshake_timeout_ms = 300);
    let gw = TlsGateway::start(gateway(|_| {}), &cfg, false).await;
    let mut tcp = tokio::net::TcpStream::connect(gw.https())
        .await
        .expect("connect");
    let started = tokio::time::Instant::now();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(STEP, tcp.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "the server closes a connection that never starts its handshake: {read:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    let counted = eventually(|| handshakes(Outcome::Timeout) > timeouts_before).await;
    assert!(counted, "counted as a timeout");
    // The listener still serves others.
    assert_eq!(
        served_cert(gw.https(), "localhost", pki.client()).await,
        pki.default.der
    );
    assert!(
        handshakes(Outcome::Ok) > ok_before,
        "counted as a handshake"
    );
}

#[tokio::test]
async fn binary_serves_http_and_https_side_by_side() {
    let pki = Pki::new();
    let (cert, key) = (
        pki.cert.display().to_string(),
        pki.key.display().to_string(),
    );
    let sio = Siogate::start(&[
        "standalone",
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
        "--tls-listen",
        "127.0.0.1:0",
    ])
    .await;
    let line = sio.wait_stderr("HTTPS listening on https://", STEP).await;
    let https: std::net::SocketAddr = line
        .rsplit("https://")
        .next()
        .and_then(|a| a.trim().parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    let handshake = "/socket.io/?EIO=4&transport=polling";
    let (status, body) = http_get(sio.addr.port(), handshake).await;
    assert_eq!(status, 200, "plain HTTP on --listen");
    assert!(body.is_null(), "an open packet, not JSON: {body}");
    let (status, body) = https_get(https, handshake, pki.client()).await;
    assert_eq!(status, 200, "HTTPS on --tls-listen: {body}");
    assert!(body.starts_with("0{\"sid\":"), "{body}");
}

/// `siogate_tls_handshakes_total{outcome}` (process-wide: tests running in
/// parallel only add to it, so checks compare before and after).
fn handshakes(outcome: Outcome) -> u64 {
    siogate::metrics::global().tls_handshakes.get(outcome)
}
