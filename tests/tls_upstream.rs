//! TLS on the upstream leg of proxy mode, against a real socket.io 4 server
//! over TLS with a test CA made by the test: `proxy.tls.ca_file` verifies a
//! `wss://` upstream; a client certificate (mTLS) is presented to an
//! upstream that demands one, and without it the client gets a clear error
//! quickly; `--upstream-insecure` reaches a self-signed upstream and warns at
//! start; and a client that reached siogate over HTTPS is announced to the
//! upstream as `X-Forwarded-Proto: https`.
#[allow(unused_imports)]
mod common;
mod proxy_harness;

use std::path::PathBuf;

use common::node::{Client, ClientOpts, STEP, Transports, Upstream, UpstreamOpts};
use common::siogate_bin::Siogate;
use common::tls::{Leaf, TestCa, self_signed};
use proxy_harness::{config, echo, spawn, spawn_proxy_on};
use serde_json::json;
use siogate::config::TlsConfig;
use siogate::proxy::Proxy;
use siogate::server::{Listeners, TlsListener};
use siogate::tls::TlsServer;

/// A CA and files in a temp dir: `ca.pem`, the upstream's `upstream.crt/key`
/// (for 127.0.0.1) and siogate's client pair `client.crt/key`.
struct Files {
    dir: tempfile::TempDir,
    ca: TestCa,
    ca_pem: PathBuf,
    upstream: (PathBuf, PathBuf),
    client: (PathBuf, PathBuf),
}

fn files() -> Files {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = TestCa::new("upstream test CA");
    let ca_pem = ca.write(dir.path(), "ca.pem");
    let upstream = ca
        .leaf("node-upstream", &["127.0.0.1", "localhost"])
        .write(dir.path(), "upstream");
    let client = ca.leaf("siogate-client", &[]).write(dir.path(), "client");
    Files {
        dir,
        ca,
        ca_pem,
        upstream,
        client,
    }
}

/// A socket.io 4 upstream serving `cert` over TLS; with `client_ca` it
/// demands a client certificate signed by it.
async fn tls_upstream(cert: (PathBuf, PathBuf), client_ca: Option<PathBuf>) -> Upstream {
    Upstream::start_with(UpstreamOpts {
        version: 4,
        tls: Some(cert),
        client_ca,
        ..Default::default()
    })
    .await
}

fn wss(up: &Upstream) -> String {
    format!("wss://127.0.0.1:{}", up.port)
}

/// Connects a 4.x client to `url`, checks the echo and an upstream push.
async fn round_trip(up: &mut Upstream, url: &str, ctx: &str) -> Client {
    let opts = ClientOpts::new(4, url).transports(Transports::WebsocketOnly);
    let (mut c, _) = Client::connect(&opts).await;
    echo(&mut c, "over wss", ctx).await;
    assert_eq!(up.push_cmd("/", "news", json!(["hi"])).await, 1, "{ctx}");
    assert_eq!(c.wait_event("news").await, vec![json!("hi")], "{ctx}");
    c
}

#[tokio::test]
async fn wss_upstream_is_verified_with_ca_file() {
    let f = files();
    let mut up = tls_upstream(f.upstream.clone(), None).await;
    let ca = f.ca_pem.clone();
    let proxy = spawn(config("v4", &[wss(&up)], |c| {
        c.proxy.tls.ca_file = Some(ca)
    }))
    .await;
    let mut c = round_trip(&mut up, &proxy.url(), "ca_file").await;
    c.disconnect().await;
    proxy.wait_idle().await;
}

#[tokio::test]
async fn mtls_upstream_accepts_the_client_certificate_and_refuses_without() {
    let f = files();
    let mut up = tls_upstream(f.upstream.clone(), Some(f.ca_pem.clone())).await;
    let (ca, (cert, key)) = (f.ca_pem.clone(), f.client.clone());
    let with_cert = spawn(config("v4", &[wss(&up)], |c| {
        c.proxy.tls.ca_file = Some(ca.clone());
        c.proxy.tls.client_cert = Some(cert);
        c.proxy.tls.client_key = Some(key);
    }))
    .await;
    round_trip(&mut up, &with_cert.url(), "mTLS").await;
    up.wait_connection("/").await;

    // Same trust, no client certificate: the upstream ends the handshake.
    let without = spawn(config("v4", &[wss(&up)], |c| {
        c.proxy.tls.ca_file = Some(ca)
    }))
    .await;
    let opts = ClientOpts::new(4, without.url())
        .transports(Transports::WebsocketOnly)
        .no_reconnect();
    let mut refused = Client::spawn(&opts);
    let err = refused.proc.wait_ev("connect_error", STEP).await;
    assert!(err["message"].is_string(), "a clear error: {err}");
    without.wait_idle().await;
    // Only the client with a certificate reached the app.
    let window = std::time::Duration::from_millis(300);
    up.proc
        .assert_no_match(|v| v["ev"] == "connection", window)
        .await;
}

#[tokio::test]
async fn insecure_flag_reaches_a_self_signed_upstream_and_warns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let leaf: Leaf = self_signed("self-signed-upstream", &["127.0.0.1"]);
    let mut up = tls_upstream(leaf.write(dir.path(), "self"), None).await;
    let upstream = wss(&up);
    let sio = Siogate::start(&[
        "proxy",
        "--flavor",
        "v4",
        "--upstream",
        &upstream,
        "--upstream-insecure",
    ])
    .await;
    let warning = sio.wait_stderr("NOT verified", STEP).await;
    assert!(warning.contains("WARN"), "{warning}");
    round_trip(&mut up, &format!("http://{}", sio.addr), "insecure").await;
}

#[tokio::test]
async fn https_clients_are_forwarded_as_https() {
    let f = files();
    let mut up = tls_upstream(f.upstream.clone(), None).await;
    let ca = f.ca_pem.clone();
    let proxy = Proxy::new(&config("v4", &[wss(&up)], |c| {
        c.proxy.tls.ca_file = Some(ca)
    }))
    .expect("proxy");
    // siogate's own certificate comes from the same test CA.
    let (cert, key) =
        f.ca.leaf("siogate", &["127.0.0.1"])
            .write(f.dir.path(), "siogate");
    let tls = TlsServer::from_config(&TlsConfig {
        cert: Some(cert),
        key: Some(key),
        ..TlsConfig::default()
    })
    .expect("certificates")
    .expect("tls on");
    let bind = || siogate::server::listener::bind("127.0.0.1:0".parse().expect("addr"), 64);
    let https = TlsListener {
        listener: bind().expect("bind"),
        acceptor: tls.acceptor(),
        handshake_timeout: tls.handshake_timeout(),
    };
    let proxy = spawn_proxy_on(proxy, Listeners::both(bind().expect("bind"), https)).await;
    let https_url = format!("https://{}", proxy.tls_addr.expect("tls listener"));
    for (url, proto) in [(https_url, "https"), (proxy.url(), "http")] {
        let opts = ClientOpts::new(4, &url)
            .transports(Transports::WebsocketOnly)
            .ca(&f.ca_pem);
        let (mut c, _) = Client::connect(&opts).await;
        let who = c.emit_ack("whoami", json!([])).await;
        assert_eq!(who[0]["proto"], proto, "{url}: {who:?}");
        up.wait_connection("/").await;
    }
}
