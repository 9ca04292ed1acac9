//! Configuration: serde types for every mode, defaults, validation, and
//! loading from a TOML file with errors that name the file, line and reason.
//!
//! One root [`Config`] holds `[server]` (the client-facing core, both modes),
//! `[standalone]`, `[proxy]` (with `[proxy.tls]`, `[proxy.redis]`), `[log]`, `[metrics]` and `[tls]`. Every struct denies unknown keys and
//! defaults every field, so an empty file is a valid standalone config.
//! [`Config::from_file`] is the only function here that does I/O.
mod error;
pub mod ipnet;
mod limits;
mod log;
mod metrics;
mod proxy;
mod proxy_redis;
mod secret;
mod server;
mod standalone;
mod tls;
mod validate;

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::Deserialize;

pub use error::{ConfigError, Invalid, Location, line_col, line_of_field};
pub use ipnet::IpNet;
pub use limits::LimitsConfig;
pub use log::{LogConfig, LogFormat};
pub use metrics::MetricsConfig;
pub use proxy::{Balance, ProxyConfig, UpstreamFlavor, UpstreamUrl};
pub use proxy_redis::ProxyRedisConfig;
pub use secret::Secret;
pub use server::ServerConfig;
pub use standalone::{JwtConfig, StandaloneConfig};
pub use tls::{SniCert, TlsConfig, UpstreamTlsConfig};

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Which mode the file is written for (`standalone` or `proxy`). When
    /// set, `check-config` applies that mode's checks and the subcommand
    /// must match. Default none.
    pub mode: Option<Mode>,
    /// `[server]`: the client-facing server core.
    pub server: ServerConfig,
    /// `[standalone]`: standalone mode.
    pub standalone: StandaloneConfig,
    /// `[proxy]`: proxy mode.
    pub proxy: ProxyConfig,
    /// `[log]`: logging.
    pub log: LogConfig,
    /// `[metrics]`: the operations endpoints.
    pub metrics: MetricsConfig,
    /// `[tls]`: TLS termination of client connections.
    pub tls: TlsConfig,
}

/// The two ways siogate runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// siogate is the push gateway.
    Standalone,
    /// siogate normalizes clients in front of legacy upstream gateways.
    Proxy,
}

impl Mode {
    /// `standalone` or `proxy`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Standalone => "standalone",
            Mode::Proxy => "proxy",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "standalone" => Ok(Mode::Standalone),
            "proxy" => Ok(Mode::Proxy),
            _ => Err(format!("unknown mode {s:?}; expected standalone or proxy")),
        }
    }
}

impl Config {
    /// Parses TOML text without validating it. `origin` names the text in
    /// errors (usually the file name).
    pub fn parse_toml(text: &str, origin: &str) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| error::from_toml(&e, text, origin))
    }

    /// Parses and validates TOML text; errors carry `origin` and the line.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let config = Self::parse_toml(text, origin)?;
        config.validate().map_err(|e| e.in_file(origin, text))?;
        Ok(config)
    }

    /// Reads, parses and validates a TOML file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    /// Checks every section. The mode-specific requirements (upstreams and a
    /// flavor for proxy mode) apply when `mode` is set.
    pub fn validate(&self) -> Result<(), Invalid> {
        validate::server(&self.server)?;
        self.standalone.validate()?;
        self.proxy.validate(self.mode == Some(Mode::Proxy))?;
        validate::log(&self.log)?;
        self.metrics.validate()?;
        self.tls.validate()?;
        // Port 0 (an OS-chosen port, as in tests) never collides.
        if self.tls.listen.as_deref() == Some(self.server.listen.as_str())
            && !self.server.listen.ends_with(":0")
        {
            return Err(Invalid::new(
                "tls.listen",
                "is the same address as server.listen; leave it out to serve HTTPS only there",
            ));
        }
        if let Some(raw) = &self.proxy.raw_engineio_path
            && raw.trim_end_matches('/') == self.server.path.trim_end_matches('/')
        {
            return Err(Invalid::new(
                "proxy.raw_engineio_path",
                format!("{raw:?} is the same as server.path"),
            ));
        }
        if self.standalone.api_listen.is_none()
            && (self
                .server
                .path
                .starts_with(self.standalone.api_prefix.as_str())
                || self
                    .standalone
                    .api_prefix
                    .starts_with(self.server.path.as_str()))
        {
            return Err(Invalid::new(
                "standalone.api_prefix",
                format!(
                    "{:?} overlaps the Socket.IO path {:?} (server.path)",
                    self.standalone.api_prefix, self.server.path
                ),
            ));
        }
        Ok(())
    }
}

impl Invalid {
    /// Locates this failure in the TOML `text` of file `origin`.
    pub fn in_file(self, origin: &str, text: &str) -> ConfigError {
        let line = line_of_field(text, &self.field);
        ConfigError::Invalid {
            location: Location::File {
                origin: origin.to_string(),
                line,
            },
            field: self.field,
            reason: self.reason,
        }
    }

    /// Gives this failure an explicit location (a flag, or defaults).
    pub fn at(self, location: Location) -> ConfigError {
        ConfigError::Invalid {
            location,
            field: self.field,
            reason: self.reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_text_is_the_default_standalone_config() {
        let c = Config::from_toml_str("", "empty.toml").unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.server.listen, "127.0.0.1:3000");
        assert_eq!(c.standalone.api_prefix, "/api/v1/");
    }

    #[test]
    fn unknown_key_names_file_line_and_column() {
        let text = "[server]\nlisten = \"127.0.0.1:1\"\n  bogus = 1\n";
        let err = Config::from_toml_str(text, "x.toml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("x.toml:3:3: "), "{msg}");
        assert!(msg.contains("bogus"), "{msg}");
        assert_eq!(err.line(), Some(3));
    }

    #[test]
    fn invalid_value_names_field_and_its_line() {
        let text = "mode = \"proxy\"\n\n[proxy]\nflavor = \"v4\"\nupstreams = [\"ws://a:1\"]\nhealth_interval_ms = 0\n";
        let err = Config::from_toml_str(text, "p.toml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "p.toml:6: `proxy.health_interval_ms`: must be greater than 0"
        );
    }

    #[test]
    fn bad_upstream_is_reported_at_its_line() {
        let text = "[proxy]\nupstreams = [\n  \"ws://a:1\",\n  \"http://b:2\",\n]\n";
        let err = Config::from_toml_str(text, "u.toml").unwrap_err();
        assert_eq!(err.line(), Some(4), "{err}");
        assert!(err.to_string().contains("ws://"), "{err}");
    }

    #[test]
    fn https_listener_must_not_reuse_the_plain_address() {
        let text = "[server]\nlisten = \"127.0.0.1:3000\"\n[tls]\ncert = \"c\"\nkey = \"k\"\nlisten = \"127.0.0.1:3000\"\n";
        let err = Config::from_toml_str(text, "t.toml").unwrap_err();
        assert_eq!(err.line(), Some(6), "{err}");
        assert!(err.to_string().contains("`tls.listen`"), "{err}");
        let os_ports = text.replace(":3000", ":0");
        assert!(Config::from_toml_str(&os_ports, "t.toml").is_ok());
    }

    #[test]
    fn proxy_mode_file_without_upstreams_fails() {
        let err = Config::from_toml_str("mode = \"proxy\"\n", "m.toml").unwrap_err();
        assert!(err.to_string().contains("proxy.upstreams"), "{err}");
    }

    #[test]
    fn api_prefix_may_not_shadow_socketio_path() {
        let text = "[standalone]\napi_prefix = \"/\"\n";
        let err = Config::from_toml_str(text, "a.toml").unwrap_err();
        assert_eq!(err.line(), Some(2), "{err}");
    }

    #[test]
    fn debug_of_config_masks_secrets() {
        let text = "[standalone]\napi_token = \"tok-123\"\njwt.secret = \"jwt-456\"\n";
        let c = Config::from_toml_str(text, "s.toml").unwrap();
        let dbg = format!("{c:?}");
        assert!(
            !dbg.contains("tok-123") && !dbg.contains("jwt-456"),
            "{dbg}"
        );
        assert_eq!(c.standalone.api_token.unwrap().expose(), "tok-123");
    }
}
