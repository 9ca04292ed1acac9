//! TLS for client connections (rustls with the aws-lc-rs provider, the one
//! the crate is built with): PEM certificates from `[tls]`, several chosen
//! by SNI, TLS 1.2 and 1.3 only, ALPN `http/1.1`, reloaded without a restart.
//! Knows nothing of Engine.IO: the server core gets a `TlsAcceptor`.
//!
//! - `certs`: PEM chain + key loading (errors name the field and the file).
//! - `sni`: the certificate store and rustls' `ResolvesServerCert` over it.
//! - `reload`: file polling and SIGHUP; a bad new file keeps the old set.
//! - `client`: client configurations for outgoing TLS (system roots, PEM
//!   CA files), shared by `wss://` upstreams and `https://` webhooks.
//!
//! [`check_files`] is the start-up check of every TLS file a configuration
//! names (including `[proxy.tls]`), run right after `Config::validate`.
pub mod certs;
pub mod client;
pub mod reload;
pub mod sni;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::{ServerConfig, version};

use crate::config::{Config, Invalid, TlsConfig};
use certs::FileField;
pub use reload::{ReloadStats, Reloader};
pub use sni::{CertStore, SniResolver};

/// The ALPN protocol offered to clients (siogate speaks HTTP/1.1 only).
pub const ALPN_HTTP11: &[u8] = b"http/1.1";

/// Why TLS could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsError {
    /// A configured file is missing, unreadable or unusable.
    #[error("`{field}`: {}: {reason}", path.display())]
    File {
        /// The config field naming the file, e.g. `tls.key`.
        field: String,
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// No `[tls]` certificate is configured.
    #[error("`tls.cert`: no certificate configured")]
    NotConfigured,
    /// rustls refused the settings.
    #[error("tls setup: {0}")]
    Setup(String),
}

impl TlsError {
    /// The config field to blame.
    pub fn field(&self) -> &str {
        match self {
            TlsError::File { field, .. } => field,
            TlsError::NotConfigured | TlsError::Setup(_) => "tls.cert",
        }
    }

    /// The file involved, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            TlsError::File { path, .. } => Some(path),
            _ => None,
        }
    }

    /// The reason without field and file.
    pub fn reason(&self) -> String {
        match self {
            TlsError::File { reason, .. } => reason.clone(),
            other => other.to_string(),
        }
    }

    /// As a validation failure: field, then `file: reason`.
    pub fn into_invalid(self) -> Invalid {
        match self {
            TlsError::File {
                field,
                path,
                reason,
            } => Invalid::new(field, format!("{}: {reason}", path.display())),
            other => Invalid::new(other.field().to_string(), other.reason()),
        }
    }
}

/// The crypto provider used for every TLS configuration siogate builds.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider())
}

/// The client-facing TLS setup of one configuration: the certificate store
/// (swapped on reload) and the rustls server configuration over it.
pub struct TlsServer {
    cfg: TlsConfig,
    provider: Arc<CryptoProvider>,
    resolver: Arc<SniResolver>,
    server_config: Arc<ServerConfig>,
    stats: Arc<ReloadStats>,
    loaded: reload::Snapshot,
}

impl TlsServer {
    /// Loads every certificate of `cfg`; `None` when TLS is off.
    pub fn from_config(cfg: &TlsConfig) -> Result<Option<TlsServer>, TlsError> {
        if !cfg.enabled() {
            return Ok(None);
        }
        let provider = provider();
        let loaded = reload::snapshot_now(cfg);
        let store = CertStore::load(cfg, &provider)?;
        let resolver = Arc::new(SniResolver::new(store));
        let mut server_config = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&version::TLS13, &version::TLS12])
            .map_err(|e| TlsError::Setup(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        server_config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
        Ok(Some(TlsServer {
            cfg: cfg.clone(),
            provider,
            resolver,
            server_config: Arc::new(server_config),
            stats: Arc::new(ReloadStats::default()),
            loaded,
        }))
    }

    /// An acceptor for the server core.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.server_config.clone())
    }

    /// How long a client may take to finish its handshake.
    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_millis(self.cfg.handshake_timeout_ms)
    }

    /// The certificate store in use.
    pub fn store(&self) -> Arc<CertStore> {
        self.resolver.store()
    }

    /// Reload outcomes so far.
    pub fn stats(&self) -> Arc<ReloadStats> {
        self.stats.clone()
    }

    /// The file watcher: run it (e.g. `tokio::spawn(tls.reloader().run(cancel))`)
    /// for reloads on file change and SIGHUP.
    pub fn reloader(&self) -> Reloader {
        Reloader {
            cfg: self.cfg.clone(),
            provider: self.provider.clone(),
            resolver: self.resolver.clone(),
            stats: self.stats.clone(),
            loaded: self.loaded.clone(),
        }
    }
}

/// Reads every TLS file `config` names (`[tls]` certificates and keys,
/// `[proxy.tls]` CA bundle and client pair) and checks that each key
/// matches its certificate. The error names the field, the file and why.
pub fn check_files(config: &Config) -> Result<(), Invalid> {
    let provider = provider();
    if config.tls.enabled() {
        CertStore::load(&config.tls, &provider).map_err(TlsError::into_invalid)?;
    }
    let up = &config.proxy.tls;
    if let Some(ca) = &up.ca_file {
        certs::load_certs(FileField::new("proxy.tls.ca_file", ca))
            .map_err(TlsError::into_invalid)?;
    }
    if let (Some(cert), Some(key)) = (&up.client_cert, &up.client_key) {
        certs::certified_key(
            FileField::new("proxy.tls.client_cert", cert),
            FileField::new("proxy.tls.client_key", key),
            &provider,
        )
        .map_err(TlsError::into_invalid)?;
    }
    Ok(())
}
