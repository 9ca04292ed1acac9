//! Reading PEM files into rustls types, with errors that name the config
//! field, the file and the reason: a certificate chain plus its private key
//! (checked to belong together), a CA bundle, and the DNS names of a
//! certificate's SANs (the default SNI names of a `[[tls.sni]]` entry).
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::sign::CertifiedKey;

use super::TlsError;

/// A config field naming a file: `("tls.key", "/etc/siogate/key.pem")`.
#[derive(Debug, Clone, Copy)]
pub struct FileField<'a> {
    /// The dotted config field, e.g. `tls.sni[1].cert`.
    pub field: &'a str,
    /// The path it names.
    pub path: &'a Path,
}

impl<'a> FileField<'a> {
    /// Shorthand constructor.
    pub fn new(field: &'a str, path: &'a Path) -> Self {
        FileField { field, path }
    }

    fn invalid(&self, reason: impl Into<String>) -> TlsError {
        TlsError::File {
            field: self.field.to_string(),
            path: self.path.to_path_buf(),
            reason: reason.into(),
        }
    }

    fn read(&self) -> Result<Vec<u8>, TlsError> {
        std::fs::read(self.path).map_err(|e| self.invalid(format!("cannot read: {e}")))
    }
}

/// Every certificate of a PEM file; an error when there is none.
pub fn load_certs(file: FileField<'_>) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let data = file.read()?;
    let certs = rustls_pemfile::certs(&mut &data[..])
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file.invalid(format!("invalid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(file.invalid("no CERTIFICATE section in the file"));
    }
    Ok(certs)
}

/// The first private key of a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn load_key(file: FileField<'_>) -> Result<PrivateKeyDer<'static>, TlsError> {
    let data = file.read()?;
    rustls_pemfile::private_key(&mut &data[..])
        .map_err(|e| file.invalid(format!("invalid PEM: {e}")))?
        .ok_or_else(|| file.invalid("no PRIVATE KEY section in the file"))
}

/// A certificate chain and its key, loaded with `provider` and checked to
/// match (rustls refuses a key whose public half differs from the leaf's).
pub fn certified_key(
    cert: FileField<'_>,
    key: FileField<'_>,
    provider: &CryptoProvider,
) -> Result<Arc<CertifiedKey>, TlsError> {
    let chain = load_certs(cert)?;
    let der = load_key(key)?;
    let signing = provider
        .key_provider
        .load_private_key(der)
        .map_err(|e| key.invalid(format!("unusable private key: {e}")))?;
    let certified = CertifiedKey::new(chain, signing);
    match certified.keys_match() {
        Ok(()) => Ok(Arc::new(certified)),
        // The key type cannot report its public half: nothing to compare.
        Err(tokio_rustls::rustls::Error::InconsistentKeys(
            tokio_rustls::rustls::InconsistentKeys::Unknown,
        )) => Ok(Arc::new(certified)),
        Err(tokio_rustls::rustls::Error::InconsistentKeys(_)) => Err(key.invalid(format!(
            "the private key does not match the certificate in {}",
            cert.path.display()
        ))),
        Err(e) => Err(cert.invalid(format!("unusable certificate: {e}"))),
    }
}

/// The DNS names (including `*.` wildcards) in the SANs of `cert`,
/// lowercased.
pub fn dns_names(cert: &CertificateDer<'_>) -> Result<Vec<String>, String> {
    let parsed = webpki::EndEntityCert::try_from(cert).map_err(|e| e.to_string())?;
    Ok(parsed
        .valid_dns_names()
        .map(str::to_ascii_lowercase)
        .collect())
}

/// Paths of a certificate/key pair, owned (what the reloader watches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemPair {
    /// Field of the certificate, e.g. `tls.cert`.
    pub cert_field: String,
    /// Path of the certificate chain.
    pub cert: PathBuf,
    /// Field of the key, e.g. `tls.key`.
    pub key_field: String,
    /// Path of the key.
    pub key: PathBuf,
}

impl PemPair {
    /// Loads and matches the pair.
    pub fn load(&self, provider: &CryptoProvider) -> Result<Arc<CertifiedKey>, TlsError> {
        certified_key(
            FileField::new(&self.cert_field, &self.cert),
            FileField::new(&self.key_field, &self.key),
            provider,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_empty_files_name_field_path_and_reason() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.pem");
        let err = load_certs(FileField::new("tls.cert", &missing)).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("nope.pem") && msg.contains("cannot read"),
            "{msg}"
        );
        assert_eq!(err.field(), "tls.cert");

        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "hello\n").unwrap();
        let err = load_certs(FileField::new("tls.cert", &empty)).unwrap_err();
        assert!(err.to_string().contains("no CERTIFICATE"), "{err}");
        let err = load_key(FileField::new("tls.key", &empty)).unwrap_err();
        assert!(err.to_string().contains("no PRIVATE KEY"), "{err}");
    }
}
