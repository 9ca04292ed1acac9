//! Standalone siogate with TLS on loopback for the TLS tests: a test PKI in
//! a temp dir ([`Pki`]), a gateway serving plain HTTP and HTTPS side by
//! side (or HTTPS only) with the certificate reloader running
//! ([`TlsGateway`]), and a one-shot HTTP/1.0 GET over TLS.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use siogate::config::{ServerConfig, TlsConfig};
use siogate::server::{Listeners, TlsListener};
use siogate::standalone::Standalone;
use siogate::tls::TlsServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls::ClientConfig;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::common::node::split_response;
use crate::common::tls::{self, Leaf, TestCa};
use crate::standalone_harness::net::Server;

/// A CA and the default server certificate (CN `siogate-default`, valid for
/// `127.0.0.1` and `localhost`) written into a temp dir.
pub struct Pki {
    pub dir: tempfile::TempDir,
    pub ca: TestCa,
    /// The CA certificate's PEM file (for Node clients' `ca`).
    pub ca_pem: PathBuf,
    pub default: Leaf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Pki {
    pub fn new() -> Pki {
        let dir = tempfile::tempdir().expect("temp dir");
        let ca = TestCa::new("siogate test CA");
        let ca_pem = ca.write(dir.path(), "ca.pem");
        let default = ca.leaf("siogate-default", &["127.0.0.1", "localhost"]);
        let (cert, key) = default.write(dir.path(), "default");
        Pki {
            dir,
            ca,
            ca_pem,
            default,
            cert,
            key,
        }
    }

    /// `[tls]` with the default certificate and `tweak` applied.
    pub fn config(&self, tweak: impl FnOnce(&mut TlsConfig)) -> TlsConfig {
        let mut c = TlsConfig {
            cert: Some(self.cert.clone()),
            key: Some(self.key.clone()),
            ..TlsConfig::default()
        };
        tweak(&mut c);
        c
    }

    /// A rustls client trusting this CA (TLS 1.2 and 1.3, ALPN http/1.1).
    pub fn client(&self) -> Arc<ClientConfig> {
        tls::client_config(&self.ca.der(), &[])
    }
}

/// A standalone gateway on loopback with TLS; the reloader stops on drop.
pub struct TlsGateway {
    pub server: Server,
    pub tls: TlsServer,
    _reload: DropGuard,
}

impl TlsGateway {
    /// Plain HTTP (`server.addr`) and HTTPS (`https()`) side by side, or
    /// HTTPS only when `plain` is false.
    pub async fn start(gw: Standalone, tls_cfg: &TlsConfig, plain: bool) -> TlsGateway {
        // Logs of the gateway under test, filtered by `RUST_LOG`.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let tls = TlsServer::from_config(tls_cfg)
            .expect("TLS certificates load")
            .expect("TLS is configured");
        let bind = || {
            siogate::server::listener::bind("127.0.0.1:0".parse().expect("addr"), 1024)
                .expect("bind")
        };
        let https = TlsListener {
            listener: bind(),
            acceptor: tls.acceptor(),
            handshake_timeout: tls.handshake_timeout(),
        };
        let listeners = if plain {
            Listeners::both(bind(), https)
        } else {
            https.into()
        };
        let server = Server::start_on(gw, ServerConfig::default(), listeners).await;
        let cancel = CancellationToken::new();
        tokio::spawn(tls.reloader().run(cancel.clone()));
        TlsGateway {
            server,
            tls,
            _reload: cancel.drop_guard(),
        }
    }

    /// The HTTPS address.
    pub fn https(&self) -> SocketAddr {
        self.server.tls_addr.expect("a TLS listener")
    }

    /// `https://127.0.0.1:PORT` for Socket.IO clients.
    pub fn https_url(&self) -> String {
        format!("https://{}", self.https())
    }
}

/// `GET path` as HTTP/1.0 over TLS to `addr` (no SNI: an IP address);
/// returns the status and the body.
pub async fn https_get(addr: SocketAddr, path: &str, config: Arc<ClientConfig>) -> (u16, String) {
    let mut stream = tls::connect(addr, "127.0.0.1", config)
        .await
        .unwrap_or_else(|e| panic!("TLS connect to {addr}: {e}"));
    let exchange = async {
        let req = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
        stream.write_all(req.as_bytes()).await?;
        let mut raw = Vec::new();
        // The server may close without close_notify after HTTP/1.0.
        match stream.read_to_end(&mut raw).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
            Err(e) => return Err(e),
        }
        Ok::<_, std::io::Error>(raw)
    };
    let raw = tokio::time::timeout(tls::TLS_STEP, exchange)
        .await
        .unwrap_or_else(|_| panic!("GET {path} over TLS: no answer in time"))
        .unwrap_or_else(|e| panic!("GET {path} over TLS: {e}"));
    split_response(&raw)
}

/// Polls `cond` every 20 ms until it holds or 5 s pass.
pub async fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + tls::TLS_STEP;
    while !cond() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    true
}
