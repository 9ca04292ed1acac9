//! rustls client configurations for siogate's outgoing TLS (`wss://`
//! upstreams in proxy mode, `https://` webhooks in standalone mode): the
//! system's CA bundle (`SSL_CERT_FILE`, else the usual distribution paths),
//! PEM loading, and a TLS 1.2/1.3 builder with the crate's crypto provider.
//! Errors are plain strings; each caller wraps them in its own error type.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::{ClientConfig, ConfigBuilder, RootCertStore, WantsVerifier, version};

/// Where distributions keep the CA bundle (the first readable one is used).
const BUNDLE_PATHS: [&str; 5] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
];

/// Reads every certificate of a PEM file.
pub fn load_pem(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let data = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    parse_pem(&data).map_err(|e| format!("{}: {e}", path.display()))
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
    let env = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
    let candidates = env
        .into_iter()
        .chain(BUNDLE_PATHS.iter().map(PathBuf::from));
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
/// list are skipped), without a client certificate. Fails when nothing at
/// all is trusted.
pub fn client_config(
    roots: impl IntoIterator<Item = CertificateDer<'static>>,
) -> Result<Arc<ClientConfig>, String> {
    let with_roots = builder()?.with_root_certificates(root_store(roots)?);
    Ok(Arc::new(with_roots.with_no_client_auth()))
}

/// TLS 1.3 and 1.2 with the crate's crypto provider.
pub fn builder() -> Result<ConfigBuilder<ClientConfig, WantsVerifier>, String> {
    ClientConfig::builder_with_provider(super::provider())
        .with_protocol_versions(&[&version::TLS13, &version::TLS12])
        .map_err(|e| e.to_string())
}

/// A root store of `roots`; an error when none of them is usable.
pub fn root_store(
    roots: impl IntoIterator<Item = CertificateDer<'static>>,
) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    let (added, _ignored) = store.add_parsable_certificates(roots);
    if added == 0 {
        return Err("no trusted CA certificates (set SSL_CERT_FILE or a CA file)".into());
    }
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_set_is_an_error_not_a_panic() {
        let err = client_config(Vec::new()).unwrap_err();
        assert!(err.contains("no trusted CA"), "{err}");
    }

    #[test]
    fn garbage_pem_yields_no_certificates() {
        assert_eq!(parse_pem(b"not a pem").map(|c| c.len()), Ok(0));
    }

    #[test]
    fn missing_file_is_named() {
        let err = load_pem(Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    }
}
