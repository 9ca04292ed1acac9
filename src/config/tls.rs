//! `[tls]` (TLS termination of client connections) and `[proxy.tls]` (TLS
//! towards `wss://` upstreams): file paths and switches only. The shape is
//! checked here without I/O; reading and matching the PEM files is
//! `crate::tls::check_files`, run at start right after this validation.
use std::path::PathBuf;

use serde::Deserialize;

use super::error::Invalid;
use super::validate::check_socket_addr;

/// `[tls]` in the TOML file.
///
/// With `cert` + `key` and no `listen`, `server.listen` speaks HTTPS only.
/// With `listen` as well, `server.listen` stays plain HTTP and `listen`
/// serves HTTPS beside it (same sessions, same routes).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// Separate HTTPS address (`IP:PORT`) served beside the plain
    /// `server.listen`. Default none: HTTPS (if configured) on `server.listen`.
    pub listen: Option<String>,
    /// PEM certificate chain (leaf first) served when no `[[tls.sni]]` entry
    /// matches the client's server name. Paths are relative to the working
    /// directory. Default none (no TLS).
    pub cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of `cert`. Default none.
    pub key: Option<PathBuf>,
    /// More certificates, chosen by the client's SNI name. Default none.
    pub sni: Vec<SniCert>,
    /// How often the certificate and key files are checked for changes
    /// (SIGHUP reloads at once as well); 0 turns the polling off. Default 2000 ms.
    pub reload_interval_ms: u64,
    /// How long a client may take to finish the TLS handshake. Default 10000 ms.
    pub handshake_timeout_ms: u64,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            listen: None,
            cert: None,
            key: None,
            sni: Vec::new(),
            reload_interval_ms: 2_000,
            handshake_timeout_ms: 10_000,
        }
    }
}

/// One `[[tls.sni]]` entry.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SniCert {
    /// PEM certificate chain, leaf first. Required.
    pub cert: PathBuf,
    /// PEM private key of `cert`. Required.
    pub key: PathBuf,
    /// Server names (`example.com`, `*.example.com`) this certificate is
    /// served for. Default: the DNS names in the certificate's SANs.
    pub names: Vec<String>,
}

impl TlsConfig {
    /// Whether client connections are TLS-terminated at all.
    pub fn enabled(&self) -> bool {
        self.cert.is_some()
    }

    /// Checks the shape: cert and key come together, nothing TLS without a
    /// default certificate, addresses and names well-formed.
    pub fn validate(&self) -> Result<(), Invalid> {
        match (&self.cert, &self.key) {
            (Some(_), None) => {
                return Err(Invalid::new(
                    "tls.key",
                    "`tls.cert` is set but its key is not (--tls-key)",
                ));
            }
            (None, Some(_)) => {
                return Err(Invalid::new(
                    "tls.cert",
                    "`tls.key` is set but the certificate is not (--tls-cert)",
                ));
            }
            _ => {}
        }
        if let Some(addr) = &self.listen {
            check_socket_addr("tls.listen", addr)?;
            if !self.enabled() {
                return Err(Invalid::new(
                    "tls.listen",
                    "an HTTPS listener needs `tls.cert` and `tls.key` (--tls-cert, --tls-key)",
                ));
            }
        }
        if !self.sni.is_empty() && !self.enabled() {
            return Err(Invalid::new(
                "tls.sni",
                "[[tls.sni]] certificates need a default certificate: set `tls.cert` and `tls.key`",
            ));
        }
        for (i, entry) in self.sni.iter().enumerate() {
            entry.validate(i)?;
        }
        if self.handshake_timeout_ms == 0 {
            return Err(Invalid::new(
                "tls.handshake_timeout_ms",
                "must be greater than 0",
            ));
        }
        Ok(())
    }
}

impl SniCert {
    fn validate(&self, i: usize) -> Result<(), Invalid> {
        if self.cert.as_os_str().is_empty() {
            return Err(Invalid::new(format!("tls.sni[{i}]"), "`cert` is required"));
        }
        if self.key.as_os_str().is_empty() {
            return Err(Invalid::new(format!("tls.sni[{i}]"), "`key` is required"));
        }
        for (j, name) in self.names.iter().enumerate() {
            check_server_name(&format!("tls.sni[{i}].names[{j}]"), name)?;
        }
        Ok(())
    }
}

/// A DNS name, or `*.` followed by one: letters, digits, `-` and `.`.
fn check_server_name(field: &str, name: &str) -> Result<(), Invalid> {
    let bare = name.strip_prefix("*.").unwrap_or(name);
    let ok = !bare.is_empty()
        && bare.len() <= 253
        && bare.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(Invalid::new(
            field,
            format!("{name:?} is not a DNS name or `*.` wildcard such as *.example.com"),
        ))
    }
}

/// `[proxy.tls]` in the TOML file: how `wss://` upstreams are trusted and
/// whether siogate presents a client certificate to them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpstreamTlsConfig {
    /// PEM bundle of CA certificates trusted for `wss://` upstreams, in
    /// addition to the system roots (see `system_roots`). Default none.
    pub ca_file: Option<PathBuf>,
    /// Also trust the system's CA bundle (`SSL_CERT_FILE`, else the
    /// distribution's). Set false to trust `ca_file` only. Default true.
    pub system_roots: bool,
    /// PEM client certificate chain presented to upstreams (mTLS). Default none.
    pub client_cert: Option<PathBuf>,
    /// PEM private key of `client_cert`. Default none.
    pub client_key: Option<PathBuf>,
    /// Accept any upstream certificate without verification. For test
    /// setups only; logged as a warning at start. Default false.
    pub insecure_skip_verify: bool,
}

impl Default for UpstreamTlsConfig {
    fn default() -> Self {
        UpstreamTlsConfig {
            ca_file: None,
            system_roots: true,
            client_cert: None,
            client_key: None,
            insecure_skip_verify: false,
        }
    }
}

impl UpstreamTlsConfig {
    /// Checks that the client certificate and key come together and that
    /// something is trusted.
    pub fn validate(&self) -> Result<(), Invalid> {
        match (&self.client_cert, &self.client_key) {
            (Some(_), None) => Err(Invalid::new(
                "proxy.tls.client_key",
                "`client_cert` is set but its key is not (--upstream-client-key)",
            )),
            (None, Some(_)) => Err(Invalid::new(
                "proxy.tls.client_cert",
                "`client_key` is set but the certificate is not (--upstream-client-cert)",
            )),
            _ if !self.system_roots && self.ca_file.is_none() && !self.insecure_skip_verify => {
                Err(Invalid::new(
                    "proxy.tls.system_roots",
                    "with system_roots = false, `ca_file` must name the CAs to trust",
                ))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(text: &str) -> Result<TlsConfig, String> {
        let c: TlsConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        c.validate().map_err(|e| e.to_string())?;
        Ok(c)
    }

    #[test]
    fn default_is_off_and_valid() {
        let c = tls("").unwrap();
        assert!(!c.enabled());
        assert_eq!(c.reload_interval_ms, 2_000);
    }

    #[test]
    fn cert_needs_key_and_listen_needs_cert() {
        assert!(tls("cert = \"c.pem\"").unwrap_err().contains("tls.key"));
        assert!(tls("key = \"k.pem\"").unwrap_err().contains("tls.cert"));
        let err = tls("listen = \"127.0.0.1:3443\"").unwrap_err();
        assert!(err.contains("tls.listen"), "{err}");
        let err = tls("cert = \"c\"\nkey = \"k\"\nlisten = \"localhost:1\"").unwrap_err();
        assert!(err.contains("tls.listen"), "{err}");
    }

    #[test]
    fn sni_entries_need_a_default_and_valid_names() {
        let err = tls("[[sni]]\ncert = \"a\"\nkey = \"b\"\n").unwrap_err();
        assert!(err.contains("tls.sni"), "{err}");
        let base = "cert = \"c\"\nkey = \"k\"\n[[sni]]\ncert = \"a\"\nkey = \"b\"\n";
        assert!(tls(base).is_ok());
        let ok = format!("{base}names = [\"a.example\", \"*.b.example\"]\n");
        assert!(tls(&ok).is_ok());
        let bad = format!("{base}names = [\"a b\"]\n");
        assert!(tls(&bad).unwrap_err().contains("tls.sni[0].names[0]"));
        let missing = "cert = \"c\"\nkey = \"k\"\n[[sni]]\ncert = \"a\"\n";
        assert!(tls(missing).unwrap_err().contains("`key` is required"));
        assert!(tls("bogus = 1").unwrap_err().contains("bogus"));
    }

    #[test]
    fn upstream_client_cert_and_key_come_together() {
        let mut u = UpstreamTlsConfig::default();
        assert_eq!(u.validate(), Ok(()));
        u.client_cert = Some("c.pem".into());
        assert_eq!(u.validate().unwrap_err().field, "proxy.tls.client_key");
        u.client_key = Some("k.pem".into());
        assert_eq!(u.validate(), Ok(()));
        u.system_roots = false;
        assert_eq!(u.validate().unwrap_err().field, "proxy.tls.system_roots");
        u.ca_file = Some("ca.pem".into());
        assert_eq!(u.validate(), Ok(()));
    }
}
