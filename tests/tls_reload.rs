//! Certificates replaced without a restart: new files are picked up by the
//! poller (new handshakes see the new certificate while a socket.io client
//! connected before keeps working), a bad new file (garbage key, a key of
//! another certificate, a missing file) is counted as a failed reload and
//! the current certificate stays, and the real binary serving HTTPS only
//! reloads on SIGHUP with polling turned off.
#[allow(unused_imports)]
mod common;
mod standalone_harness;
mod tls_harness;

use std::time::Duration;

use common::node::{Client, ClientOpts, STEP, Transports, require_peers};
use common::siogate_bin::Siogate;
use common::tls::{served_cert, wait_for_cert};
use serde_json::json;
use standalone_harness::gateway;
use tls_harness::{Pki, TlsGateway, eventually, https_get};

/// How long a reload may take to show (the poller runs every 100 ms here).
const RELOAD: Duration = Duration::from_secs(10);

#[tokio::test]
async fn changed_files_are_served_to_new_connections_and_open_sessions_survive() {
    require_peers();
    let pki = Pki::new();
    let cfg = pki.config(|c| c.reload_interval_ms = 100);
    let gw = TlsGateway::start(gateway(|_| {}), &cfg, true).await;
    let opts = ClientOpts::new(4, gw.https_url())
        .transports(Transports::WebsocketOnly)
        .ca(&pki.ca_pem)
        .no_reconnect();
    let (mut c, _) = Client::connect(&opts).await;

    let next = pki.ca.leaf("siogate-next", &["127.0.0.1", "localhost"]);
    next.write_to(&pki.cert, &pki.key);
    let seen = wait_for_cert(gw.https(), "localhost", pki.client(), &next.der, RELOAD).await;
    assert!(seen, "new handshakes never got the new certificate");
    assert!(gw.tls.stats().reloads() >= 1);

    // The session opened before the reload still carries traffic.
    let body = json!({"namespace": "/", "event": "after", "args": [1]});
    let (status, resp) = gw.server.api("POST", "emit", &body.to_string()).await;
    assert_eq!(
        (status, resp["delivered"].as_u64()),
        (200, Some(1)),
        "{resp}"
    );
    assert_eq!(c.wait_event("after").await, vec![json!(1)]);
    // And new clients connect with the new certificate.
    let (mut d, _) = Client::connect(&opts).await;
    d.disconnect().await;
    c.disconnect().await;
}

#[tokio::test]
async fn a_bad_new_file_keeps_the_current_certificate() {
    let pki = Pki::new();
    let cfg = pki.config(|c| c.reload_interval_ms = 100);
    let gw = TlsGateway::start(gateway(|_| {}), &cfg, false).await;
    let stats = gw.tls.stats();
    let other = pki.ca.leaf("other", &["localhost"]);
    let other_cert = pki.dir.path().join("other.crt");
    std::fs::write(&other_cert, &other.cert_pem).expect("write");

    let bad_contents: [(&str, &std::path::Path, String); 3] = [
        ("a key that is not PEM", &pki.key, "garbage\n".to_string()),
        (
            "the key of another certificate",
            &pki.key,
            other.key_pem.clone(),
        ),
        (
            "a certificate without its key",
            &pki.cert,
            other.cert_pem.clone(),
        ),
    ];
    for (what, path, contents) in bad_contents {
        let failures = stats.failures();
        std::fs::write(path, contents).expect("write bad file");
        let failed = eventually(|| stats.failures() > failures).await;
        assert!(failed, "{what}: the reload was never attempted");
        assert_eq!(
            served_cert(gw.https(), "localhost", pki.client()).await,
            pki.default.der,
            "{what}: the current certificate must stay"
        );
        // Put the good pair back (a reload of the same certificate).
        let reloads = stats.reloads();
        pki.default.write_to(&pki.cert, &pki.key);
        assert!(eventually(|| stats.reloads() > reloads).await, "{what}");
    }
    // A file that disappears is a failed reload too.
    let failures = stats.failures();
    std::fs::remove_file(&pki.key).expect("remove key");
    assert!(eventually(|| stats.failures() > failures).await);
    assert_eq!(
        served_cert(gw.https(), "localhost", pki.client()).await,
        pki.default.der
    );
}

#[tokio::test]
async fn https_only_binary_reloads_on_sighup() {
    let pki = Pki::new();
    // Polling off: only the signal can trigger the reload.
    let toml = pki.dir.path().join("siogate.toml");
    std::fs::write(
        &toml,
        format!(
            "[tls]\ncert = {:?}\nkey = {:?}\nreload_interval_ms = 0\n",
            pki.cert, pki.key
        ),
    )
    .expect("write config");
    let config = toml.display().to_string();
    let sio = Siogate::start(&["standalone", "--config", &config]).await;
    let banner = sio.wait_stderr("listening on", STEP).await;
    assert!(banner.contains("listening on https://"), "{banner}");
    // HTTPS only: the Socket.IO handshake answers over TLS.
    let (status, body) = https_get(
        sio.addr,
        "/socket.io/?EIO=4&transport=polling",
        pki.client(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("0{\"sid\":"), "{body}");

    let next = pki.ca.leaf("siogate-next", &["127.0.0.1", "localhost"]);
    next.write_to(&pki.cert, &pki.key);
    sio.signal("HUP");
    sio.wait_stderr("tls certificates reloaded", STEP).await;
    assert_eq!(
        served_cert(sio.addr, "localhost", pki.client()).await,
        next.der
    );
    // A bad file on SIGHUP: a warning naming the file, the old one stays.
    std::fs::write(&pki.key, "garbage\n").expect("write bad key");
    sio.signal("HUP");
    let warning = sio.wait_stderr("tls reload failed", STEP).await;
    assert!(warning.contains("default.key"), "{warning}");
    assert_eq!(
        served_cert(sio.addr, "localhost", pki.client()).await,
        next.der
    );
}
