//! The rustls client configuration for `wss://` upstreams, from
//! `[proxy.tls]`: the system's CA bundle (`crate::tls::client`) unless
//! `system_roots = false`, plus `ca_file` and any
//! extra CA certificates a caller supplies; optionally a client certificate
//! (mTLS); or, as an explicit opt-out for test setups, no verification at
//! all (see `no_verify`). Built once per proxy with the same crypto provider
//! as the client-facing side; knows nothing of Engine.IO.
use std::path::Path;
use std::sync::Arc;

use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::sign::SingleCertAndKey;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use super::LegError;
use super::no_verify::NoVerification;
use crate::config::UpstreamTlsConfig;
use crate::tls::certs::{FileField, certified_key, load_certs};
use crate::tls::client;

/// Reads every certificate of a PEM file.
pub fn load_pem(path: &Path) -> Result<Vec<CertificateDer<'static>>, LegError> {
    client::load_pem(path).map_err(LegError::Tls)
}

/// A client configuration trusting `roots`, without a client certificate.
/// Fails when nothing at all is trusted.
pub fn client_config(
    roots: impl IntoIterator<Item = CertificateDer<'static>>,
) -> Result<Arc<ClientConfig>, LegError> {
    client::client_config(roots).map_err(LegError::Tls)
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
            client::system_roots()
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
    client::builder().map_err(LegError::Tls)
}

fn root_store(
    roots: impl IntoIterator<Item = CertificateDer<'static>>,
) -> Result<RootCertStore, LegError> {
    client::root_store(roots).map_err(LegError::Tls)
}

#[cfg(test)]
mod tests {
    use super::*;

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
