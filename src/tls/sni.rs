//! Choosing the server certificate by the client's SNI name: a
//! [`CertStore`] maps exact names and `*.` wildcards to certificates, with a
//! default for everything else (no SNI, an IP address, an unknown name).
//! [`SniResolver`] is rustls' `ResolvesServerCert` over the current store;
//! a reload swaps the whole store at once, so a handshake sees either the
//! old set or the new one, never a mix.
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;

use super::TlsError;
use super::certs::{PemPair, dns_names};
use crate::config::TlsConfig;

/// The certificates of one configuration, indexed by name.
#[derive(Debug)]
pub struct CertStore {
    default: Arc<CertifiedKey>,
    /// Lowercased exact names and `*.suffix` wildcards. The first entry that
    /// claims a name keeps it.
    by_name: HashMap<String, Arc<CertifiedKey>>,
}

impl CertStore {
    /// Loads every certificate of `cfg` (the default one and each
    /// `[[tls.sni]]` entry), checking that each key matches its certificate.
    pub fn load(cfg: &TlsConfig, provider: &CryptoProvider) -> Result<CertStore, TlsError> {
        let mut pairs = pem_pairs(cfg).into_iter();
        let default_pair = pairs.next().ok_or(TlsError::NotConfigured)?;
        let default = default_pair.load(provider)?;
        let mut by_name = HashMap::new();
        for (i, (pair, entry)) in pairs.zip(&cfg.sni).enumerate() {
            let key = pair.load(provider)?;
            let names = if entry.names.is_empty() {
                let leaf = key.end_entity_cert().map_err(|e| pair_error(&pair, e))?;
                let names = dns_names(leaf).map_err(|e| pair_error(&pair, e))?;
                if names.is_empty() {
                    return Err(TlsError::File {
                        field: format!("tls.sni[{i}].names"),
                        path: pair.cert.clone(),
                        reason:
                            "the certificate has no DNS names in its SANs; list them in `names`"
                                .into(),
                    });
                }
                names
            } else {
                entry.names.iter().map(|n| n.to_ascii_lowercase()).collect()
            };
            for name in names {
                by_name.entry(name).or_insert_with(|| key.clone());
            }
        }
        Ok(CertStore { default, by_name })
    }

    /// The certificate for `server_name`: an exact match, else a wildcard
    /// covering its first label, else the default.
    pub fn pick(&self, server_name: Option<&str>) -> Arc<CertifiedKey> {
        let Some(name) = server_name else {
            return self.default.clone();
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if let Some(key) = self.by_name.get(&name) {
            return key.clone();
        }
        if let Some((_, parent)) = name.split_once('.')
            && let Some(key) = self.by_name.get(&format!("*.{parent}"))
        {
            return key.clone();
        }
        self.default.clone()
    }

    /// How many names are mapped to a non-default certificate.
    pub fn names(&self) -> usize {
        self.by_name.len()
    }
}

fn pair_error(pair: &PemPair, e: impl std::fmt::Display) -> TlsError {
    TlsError::File {
        field: pair.cert_field.clone(),
        path: pair.cert.clone(),
        reason: format!("unusable certificate: {e}"),
    }
}

/// The certificate/key files of `cfg`, the default pair first, then one
/// per `[[tls.sni]]` entry in order. Empty when TLS is off.
pub fn pem_pairs(cfg: &TlsConfig) -> Vec<PemPair> {
    let (Some(cert), Some(key)) = (&cfg.cert, &cfg.key) else {
        return Vec::new();
    };
    let mut pairs = vec![PemPair {
        cert_field: "tls.cert".into(),
        cert: cert.clone(),
        key_field: "tls.key".into(),
        key: key.clone(),
    }];
    pairs.extend(cfg.sni.iter().enumerate().map(|(i, e)| PemPair {
        cert_field: format!("tls.sni[{i}].cert"),
        cert: e.cert.clone(),
        key_field: format!("tls.sni[{i}].key"),
        key: e.key.clone(),
    }));
    pairs
}

/// rustls' certificate callback over the current [`CertStore`].
#[derive(Debug)]
pub struct SniResolver {
    current: RwLock<Arc<CertStore>>,
}

impl SniResolver {
    /// A resolver serving `store`.
    pub fn new(store: CertStore) -> Self {
        SniResolver {
            current: RwLock::new(Arc::new(store)),
        }
    }

    /// Replaces the store; handshakes from now on use the new one.
    pub fn replace(&self, store: CertStore) {
        let store = Arc::new(store);
        match self.current.write() {
            Ok(mut guard) => *guard = store,
            Err(poisoned) => *poisoned.into_inner() = store,
        }
    }

    /// The store in use.
    pub fn store(&self) -> Arc<CertStore> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.store().pick(hello.server_name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};
    use tokio_rustls::rustls::sign::SigningKey;

    fn key(tag: u8) -> Arc<CertifiedKey> {
        // A certificate that is just a marker byte: `pick` never parses it.
        let provider = super::super::provider();
        let pkcs8 = rcgen::KeyPair::generate().unwrap().serialize_der();
        let der = PrivatePkcs8KeyDer::from(pkcs8).into();
        let signing: Arc<dyn SigningKey> = provider.key_provider.load_private_key(der).unwrap();
        Arc::new(CertifiedKey::new(
            vec![CertificateDer::from(vec![tag])],
            signing,
        ))
    }

    fn tag(k: &CertifiedKey) -> u8 {
        k.cert[0].as_ref()[0]
    }

    #[test]
    fn exact_then_wildcard_then_default() {
        let mut by_name = HashMap::new();
        by_name.insert("a.example".to_string(), key(1));
        by_name.insert("*.b.example".to_string(), key(2));
        let store = CertStore {
            default: key(0),
            by_name,
        };
        assert_eq!(tag(&store.pick(Some("a.example"))), 1);
        assert_eq!(tag(&store.pick(Some("A.Example."))), 1);
        assert_eq!(tag(&store.pick(Some("x.b.example"))), 2);
        // A wildcard covers exactly one label.
        assert_eq!(tag(&store.pick(Some("y.x.b.example"))), 0);
        assert_eq!(tag(&store.pick(Some("b.example"))), 0);
        assert_eq!(tag(&store.pick(Some("other"))), 0);
        assert_eq!(tag(&store.pick(None)), 0);
    }
}
