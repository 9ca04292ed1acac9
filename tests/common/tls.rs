//! A test PKI made by the test itself with rcgen: a CA, server and client
//! certificates signed by it (or self-signed), written as PEM files; and a
//! rustls client (same aws-lc-rs provider as siogate) that reports which
//! certificate, protocol version and ALPN a server presented.
#![allow(dead_code)] // each test binary uses a part of the harness

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore, SupportedProtocolVersion};

/// Deadline of one TLS connect in these helpers.
pub const TLS_STEP: Duration = Duration::from_secs(5);

/// A certificate and its key, as PEM text and the certificate's DER.
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    pub der: CertificateDer<'static>,
}

impl Leaf {
    /// Writes `<name>.crt` and `<name>.key` into `dir`; returns their paths.
    pub fn write(&self, dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let cert = dir.join(format!("{name}.crt"));
        let key = dir.join(format!("{name}.key"));
        self.write_to(&cert, &key);
        (cert, key)
    }

    /// Overwrites `cert` and `key` with this pair.
    pub fn write_to(&self, cert: &Path, key: &Path) {
        std::fs::write(cert, &self.cert_pem).expect("write certificate");
        std::fs::write(key, &self.key_pem).expect("write key");
    }
}

/// A certificate authority that lives as long as the test.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    /// A new CA whose subject CN is `cn`.
    pub fn new(cn: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.distinguished_name.push(DnType::CommonName, cn);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("CA key");
        TestCa {
            issuer: CertifiedIssuer::self_signed(params, key).expect("CA certificate"),
        }
    }

    /// The CA certificate (DER).
    pub fn der(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }

    /// Writes the CA certificate as PEM to `dir/<name>`; returns the path.
    pub fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, self.issuer.pem()).expect("write CA certificate");
        path
    }

    /// A certificate with subject CN `cn` for `sans` (DNS names or IP
    /// addresses), signed by this CA.
    pub fn leaf(&self, cn: &str, sans: &[&str]) -> Leaf {
        let (params, key) = leaf_params(cn, sans);
        let cert = params.signed_by(&key, &self.issuer).expect("sign leaf");
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
        }
    }
}

/// A self-signed certificate (no CA): what `insecure_skip_verify` is for.
pub fn self_signed(cn: &str, sans: &[&str]) -> Leaf {
    let (params, key) = leaf_params(cn, sans);
    let cert = params.self_signed(&key).expect("self-sign");
    Leaf {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        der: cert.der().clone(),
    }
}

impl Leaf {
    /// A rustls server configuration presenting this certificate (for test
    /// servers that are not siogate, e.g. an https webhook receiver).
    pub fn server_config(&self) -> Arc<tokio_rustls::rustls::ServerConfig> {
        let key = rustls_pemfile::private_key(&mut self.key_pem.as_bytes())
            .expect("read key PEM")
            .expect("a private key");
        let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
        let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(vec![self.der.clone()], key)
            .expect("server certificate");
        Arc::new(config)
    }
}

fn leaf_params(cn: &str, sans: &[&str]) -> (CertificateParams, KeyPair) {
    let names: Vec<String> = sans.iter().map(ToString::to_string).collect();
    let mut params = CertificateParams::new(names).expect("leaf params");
    params.distinguished_name.push(DnType::CommonName, cn);
    (params, KeyPair::generate().expect("leaf key"))
}

/// A rustls client trusting `ca`, offering ALPN `http/1.1`, limited to
/// `versions` (TLS 1.3 and 1.2 when empty).
pub fn client_config(
    ca: &CertificateDer<'static>,
    versions: &[&'static SupportedProtocolVersion],
) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(ca.clone()).expect("add test CA");
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let versions = if versions.is_empty() {
        tokio_rustls::rustls::DEFAULT_VERSIONS
    } else {
        versions
    };
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// Connects and completes a TLS handshake for `server_name` (a DNS name
/// sends SNI; an IP address does not).
pub async fn connect(
    addr: SocketAddr,
    server_name: &str,
    config: Arc<ClientConfig>,
) -> std::io::Result<TlsStream<TcpStream>> {
    let name = ServerName::try_from(server_name.to_string())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let attempt = async {
        let tcp = TcpStream::connect(addr).await?;
        TlsConnector::from(config).connect(name, tcp).await
    };
    tokio::time::timeout(TLS_STEP, attempt)
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

/// The leaf certificate the server at `addr` presents for `server_name`.
pub async fn served_cert(
    addr: SocketAddr,
    server_name: &str,
    config: Arc<ClientConfig>,
) -> CertificateDer<'static> {
    let tls = connect(addr, server_name, config)
        .await
        .unwrap_or_else(|e| panic!("TLS connect to {addr} as {server_name:?}: {e}"));
    let (_, conn) = tls.get_ref();
    conn.peer_certificates()
        .and_then(|c| c.first())
        .expect("the server presents a certificate")
        .clone()
        .into_owned()
}

/// Polls new handshakes until the server presents `expected` for
/// `server_name`, or `within` passes; returns whether it did.
pub async fn wait_for_cert(
    addr: SocketAddr,
    server_name: &str,
    config: Arc<ClientConfig>,
    expected: &CertificateDer<'static>,
    within: Duration,
) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Ok(tls) = connect(addr, server_name, config.clone()).await
            && tls.get_ref().1.peer_certificates().and_then(|c| c.first()) == Some(expected)
        {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
