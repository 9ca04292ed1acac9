//! The rustls client configuration for `wss://` upstreams: the system's CA
//! bundle (`SSL_CERT_FILE`, else the usual distribution paths) plus any
//! extra CA certificates (PEM) the operator or a test supplies. Built once
//! per proxy; knows nothing of Engine.IO.
use std::path::Path;
use std::sync::Arc;

use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use super::LegError;

/// Where distributions keep the CA bundle (the first readable one is used).
const BUNDLE_PATHS: [&str; 5] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
];

/// Reads every certificate of a PEM file.
pub fn load_pem(path: &Path) -> Result<Vec<CertificateDer<'static>>, LegError> {
    let data = std::fs::read(path)
        .map_err(|e| LegError::Tls(format!("reading {}: {e}", path.display())))?;
    parse_pem(&data).map_err(|e| LegError::Tls(format!("{}: {e}", path.display())))
}

/// Every certificate in PEM text (other sections are skipped).
pub fn parse_pem(data: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    rustls_pemfile::certs(&mut &data[..])
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("invalid PEM: {e}"))
}

/// The system roots: `$SSL_CERT_FILE` if set, else the first bundle found.
/// Empty when none is readable (then only extra CAs are trusted).
pub fn system_roots() -> Vec<CertificateDer<'static>> {
    let env = std::env::var_os("SSL_CERT_FILE").map(std::path::PathBuf::from);
    let candidates = env
        .into_iter()
        .chain(BUNDLE_PATHS.iter().map(std::path::PathBuf::from));
    for path in candidates {
        if let Ok(certs) = load_pem(&path)
            && !certs.is_empty()
        {
            return certs;
        }
    }
    Vec::new()
}

/// A client configuration trusting `roots` (invalid certificates in the
/// list are skipped). Fails when nothing at all is trusted.
pub fn client_config(
    roots: impl IntoIterator<Item = CertificateDer<'static>>,
) -> Result<Arc<ClientConfig>, LegError> {
    let mut store = RootCertStore::empty();
    let (added, _ignored) = store.add_parsable_certificates(roots);
    if added == 0 {
        return Err(LegError::Tls(
            "no trusted CA certificates (set SSL_CERT_FILE or configure a CA)".into(),
        ));
    }
    let config = ClientConfig::builder()
        .with_root_certificates(store)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_set_is_an_error_not_a_panic() {
        let err = client_config(Vec::new()).unwrap_err();
        assert!(err.to_string().contains("no trusted CA"), "{err}");
    }

    #[test]
    fn garbage_pem_yields_no_certificates() {
        assert_eq!(parse_pem(b"not a pem").map(|c| c.len()), Ok(0));
    }
}
