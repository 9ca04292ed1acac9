//! The rustls client configuration for `wss://` upstreams, from
//! `[proxy.tls]`: the system's CA bundle (`SSL_CERT_FILE`, else the usual
//! distribution paths) unless `system_roots = false`, plus `ca_file` and any
//! extra CA certificates a caller supplies; optionally a client certificate
//! (mTLS); or, as an explicit opt-out for test setups, no verification at
//! all (see `no_verify`). Built once per proxy with the same crypto provider
//! as the client-facing side; knows nothing of Engine.IO.
use std::path::Path;
use std::sync::Arc;

use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::sign::SingleCertAndKey;
use tokio_rustls::rustls::{ClientConfig, RootCertStore, version};

use super::LegError;
use super::no_verify::NoVerification;
use crate::config::UpstreamTlsConfig;
use crate::tls::certs::{FileField, certified_key, load_certs};

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
/// list are skipped), without a client certificate. Fails when nothing at
/// all is trusted.
pub fn client_config(
    roots: impl IntoIterator<Item = CertificateDer<'static>>,
) -> Result<Arc<ClientConfig>, LegError> {
    let with_roots = builder()?.with_root_certificates(root_store(roots)?);
    Ok(Arc::new(with_roots.with_no_client_auth()))
}

/// The client configuration `[proxy.tls]` describes; `extra_ca` is trusted
/// as well (callers that build a proxy in code use it).
pub fn from_config(
    cfg: &UpstreamTlsConfig,
    extra_ca: Vec<CertificateDer<'static>>,
) -> Result<Arc<ClientConfig>, LegError> {
    let provider = crate::tls::provider();
    let wants_cert = if cfg.insecure_skip_verify {
        tracing::warn!(
            "upstream TLS certificates are NOT verified (proxy.tls.insecure_skip_verify); \
             use this for test setups only"
        );
        builder()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification::new(provider.clone())))
    } else {
        let mut roots = if cfg.system_roots {
            system_roots()
        } else {
            Vec::new()
        };
        if let Some(ca) = &cfg.ca_file {
            roots.extend(
                load_certs(FileField::new("proxy.tls.ca_file", ca))
                    .map_err(|e| LegError::Tls(e.to_string()))?,
            );
        }
        roots.extend(extra_ca);
        builder()?.with_root_certificates(root_store(roots)?)
    };
    let config = match (&cfg.client_cert, &cfg.client_key) {
        (Some(cert), Some(key)) => {
            let pair = certified_key(
                FileField::new("proxy.tls.client_cert", cert),
                FileField::new("proxy.tls.client_key", key),
                &provider,
            )
            .map_err(|e| LegError::Tls(e.to_string()))?;
            wants_cert.with_client_cert_resolver(Arc::new(SingleCertAndKey::from(pair)))
        }
        _ => wants_cert.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

fn builder() -> Result<
    tokio_rustls::rustls::ConfigBuilder<ClientConfig, tokio_rustls::rustls::WantsVerifier>,
    LegError,
> {
    ClientConfig::builder_with_provider(crate::tls::provider())
        .with_protocol_versions(&[&version::TLS13, &version::TLS12])
        .map_err(|e| LegError::Tls(e.to_string()))
}

fn root_store(
    roots: impl IntoIterator<Item = CertificateDer<'static>>,
) -> Result<RootCertStore, LegError> {
    let mut store = RootCertStore::empty();
    let (added, _ignored) = store.add_parsable_certificates(roots);
    if added == 0 {
        return Err(LegError::Tls(
            "no trusted CA certificates (set SSL_CERT_FILE or proxy.tls.ca_file)".into(),
        ));
    }
    Ok(store)
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

    #[test]
    fn missing_ca_file_names_field_and_file() {
        let cfg = UpstreamTlsConfig {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..Default::default()
        };
        let err = from_config(&cfg, Vec::new()).unwrap_err().to_string();
        assert!(
            err.contains("proxy.tls.ca_file") && err.contains("/nonexistent/ca.pem"),
            "{err}"
        );
    }

    #[test]
    fn insecure_needs_no_roots() {
        let cfg = UpstreamTlsConfig {
            system_roots: false,
            insecure_skip_verify: true,
            ..Default::default()
        };
        assert!(from_config(&cfg, Vec::new()).is_ok());
    }
}
