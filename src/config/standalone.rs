//! `[standalone]`: settings of standalone mode (siogate is the push gateway):
//! namespaces, room joins, the push API, JWT verification, the webhook and
//! the optional Redis cluster adapter.
use std::path::PathBuf;

use serde::Deserialize;

use super::Secret;
use super::error::Invalid;
use super::validate::{
    check_http_url, check_path_prefix, check_positive, check_redis_url, check_socket_addr,
};

/// `[standalone]` in the TOML file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StandaloneConfig {
    /// Namespaces clients may connect to, e.g. `["/", "/chat"]`. Empty means
    /// any namespace. Default empty.
    pub namespaces: Vec<String>,
    /// Whether the built-in `join`/`leave` client events are honoured.
    /// Default false.
    pub allow_join_leave: bool,
    /// Limits `join` to matching room names: an exact name, or `prefix*`.
    /// Default none (any room, when `allow_join_leave` is on).
    pub join_pattern: Option<String>,
    /// Bearer token of the push API. Default none: a random one is generated
    /// at start and printed once.
    pub api_token: Option<Secret>,
    /// Serve the push API only on this separate address (`IP:PORT`) instead of
    /// the main listener. Default none.
    pub api_listen: Option<String>,
    /// Path prefix of the push API. Default `/api/v1/`.
    pub api_prefix: String,
    /// Verification of client tokens (JWT) that carry the `rooms` claim.
    pub jwt: JwtConfig,
    /// Client events other than join/leave are POSTed here (`http://` or
    /// `https://`); the JSON reply becomes the ack. Default none (ignored).
    pub webhook_url: Option<String>,
    /// How long a webhook call may take. Default 5000 ms.
    pub webhook_timeout_ms: u64,
    /// With an `https://` webhook_url: PEM file of the CA certificates that
    /// verify the webhook server instead of the system roots. Default none.
    pub webhook_ca_file: Option<PathBuf>,
    /// `redis://` or `rediss://` URL switching to the Redis cluster adapter.
    /// Default none (single node, in memory).
    pub redis_url: Option<Secret>,
    /// With a `rediss://` URL: PEM file of the CA certificates that verify
    /// the Redis server, instead of the system roots. Default none.
    pub redis_ca_file: Option<PathBuf>,
    /// With `namespaces` empty (any namespace), the most namespaces created
    /// on demand; a CONNECT to one more is refused. Default 10000.
    pub max_dynamic_namespaces: usize,
    /// Push API: how long an `"ack": true` emit waits for the client's ack
    /// when the request gives no `timeout_ms`. Default 5000 ms.
    pub push_ack_timeout_ms: u64,
    /// Push API: the largest `timeout_ms` a request may ask for. Default
    /// 120000 ms.
    pub max_push_ack_timeout_ms: u64,
}

impl Default for StandaloneConfig {
    fn default() -> Self {
        StandaloneConfig {
            namespaces: Vec::new(),
            allow_join_leave: false,
            join_pattern: None,
            api_token: None,
            api_listen: None,
            api_prefix: "/api/v1/".into(),
            jwt: JwtConfig::default(),
            webhook_url: None,
            webhook_timeout_ms: 5_000,
            webhook_ca_file: None,
            redis_url: None,
            redis_ca_file: None,
            max_dynamic_namespaces: 10_000,
            push_ack_timeout_ms: 5_000,
            max_push_ack_timeout_ms: 120_000,
        }
    }
}

/// `[standalone.jwt]`: how client tokens are verified. Give `secret`
/// (HS256) or `public_key_file` (RS256, PEM), not both.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JwtConfig {
    /// Shared HS256 secret. Default none.
    pub secret: Option<Secret>,
    /// PEM file with the RS256 public key. Default none.
    pub public_key_file: Option<PathBuf>,
    /// Refuse CONNECTs without a valid token. Default false.
    pub required: bool,
    /// The claim holding the list of rooms to join. Default `rooms`.
    pub rooms_claim: String,
}

impl Default for JwtConfig {
    fn default() -> Self {
        JwtConfig {
            secret: None,
            public_key_file: None,
            required: false,
            rooms_claim: "rooms".into(),
        }
    }
}

impl JwtConfig {
    /// Whether a key is configured, i.e. tokens can be verified.
    pub fn has_key(&self) -> bool {
        self.secret.is_some() || self.public_key_file.is_some()
    }
}

impl StandaloneConfig {
    /// Whether `join_pattern` lets a client join `room`.
    pub fn join_allowed(&self, room: &str) -> bool {
        match self.join_pattern.as_deref() {
            None => true,
            Some(p) => match p.strip_suffix('*') {
                Some(prefix) => room.starts_with(prefix),
                None => room == p,
            },
        }
    }

    /// Checks every field; the first problem is returned.
    pub fn validate(&self) -> Result<(), Invalid> {
        for (i, nsp) in self.namespaces.iter().enumerate() {
            let field = format!("standalone.namespaces[{i}]");
            if !nsp.starts_with('/') {
                return Err(Invalid::new(field, format!("{nsp:?} must start with '/'")));
            }
            if nsp.contains(['?', ' ', '#', ',']) {
                return Err(Invalid::new(
                    field,
                    format!("{nsp:?} may not contain '?', '#', ',' or spaces"),
                ));
            }
        }
        if let Some(p) = &self.join_pattern {
            let stars = p.matches('*').count();
            if p.is_empty() || stars > 1 || (stars == 1 && !p.ends_with('*')) {
                return Err(Invalid::new(
                    "standalone.join_pattern",
                    format!("{p:?} is not a room name or `prefix*` glob (one '*', at the end)"),
                ));
            }
        }
        if let Some(t) = &self.api_token
            && t.expose().trim().is_empty()
        {
            return Err(Invalid::new("standalone.api_token", "must not be empty"));
        }
        if let Some(addr) = &self.api_listen {
            check_socket_addr("standalone.api_listen", addr)?;
        }
        check_path_prefix("standalone.api_prefix", &self.api_prefix)?;
        check_positive(
            "standalone.max_dynamic_namespaces",
            self.max_dynamic_namespaces as u64,
        )?;
        check_positive("standalone.push_ack_timeout_ms", self.push_ack_timeout_ms)?;
        if self.push_ack_timeout_ms > self.max_push_ack_timeout_ms {
            return Err(Invalid::new(
                "standalone.push_ack_timeout_ms",
                format!(
                    "{} is above standalone.max_push_ack_timeout_ms ({})",
                    self.push_ack_timeout_ms, self.max_push_ack_timeout_ms
                ),
            ));
        }
        if let Some(url) = &self.webhook_url {
            check_http_url("standalone.webhook_url", url)?;
        }
        let https = self
            .webhook_url
            .as_ref()
            .is_some_and(|u| u.starts_with("https://"));
        if self.webhook_ca_file.is_some() && !https {
            return Err(Invalid::new(
                "standalone.webhook_ca_file",
                "only used with an https:// webhook_url",
            ));
        }
        if self.webhook_timeout_ms == 0 {
            return Err(Invalid::new(
                "standalone.webhook_timeout_ms",
                "must be greater than 0",
            ));
        }
        check_redis_url(
            ("standalone.redis_url", self.redis_url.as_ref()),
            ("standalone.redis_ca_file", self.redis_ca_file.as_deref()),
        )?;
        self.validate_jwt()
    }

    fn validate_jwt(&self) -> Result<(), Invalid> {
        let jwt = &self.jwt;
        if jwt.secret.is_some() && jwt.public_key_file.is_some() {
            return Err(Invalid::new(
                "standalone.jwt.secret",
                "give either `secret` (HS256) or `public_key_file` (RS256), not both",
            ));
        }
        if let Some(s) = &jwt.secret
            && s.expose().is_empty()
        {
            return Err(Invalid::new("standalone.jwt.secret", "must not be empty"));
        }
        if jwt.required && !jwt.has_key() {
            return Err(Invalid::new(
                "standalone.jwt.required",
                "tokens are required but no `secret` or `public_key_file` is set",
            ));
        }
        if jwt.rooms_claim.is_empty() {
            return Err(Invalid::new(
                "standalone.jwt.rooms_claim",
                "must not be empty",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_pattern_is_exact_or_prefix_glob() {
        let mut c = StandaloneConfig::default();
        assert!(c.join_allowed("anything"));
        c.join_pattern = Some("user:*".into());
        assert!(c.join_allowed("user:42"));
        assert!(!c.join_allowed("admin"));
        c.join_pattern = Some("lobby".into());
        assert!(c.join_allowed("lobby"));
        assert!(!c.join_allowed("lobby2"));
    }

    #[test]
    fn glob_with_inner_star_is_rejected() {
        let c = StandaloneConfig {
            join_pattern: Some("a*b".into()),
            ..Default::default()
        };
        assert_eq!(c.validate().unwrap_err().field, "standalone.join_pattern");
    }

    #[test]
    fn both_jwt_keys_are_rejected() {
        let mut c = StandaloneConfig::default();
        c.jwt.secret = Some(Secret::new("s"));
        c.jwt.public_key_file = Some("k.pem".into());
        assert_eq!(c.validate().unwrap_err().field, "standalone.jwt.secret");
    }

    #[test]
    fn required_tokens_need_a_key() {
        let mut c = StandaloneConfig::default();
        c.jwt.required = true;
        assert_eq!(c.validate().unwrap_err().field, "standalone.jwt.required");
        c.jwt.secret = Some(Secret::new("s"));
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn redis_error_does_not_echo_the_url() {
        let c = StandaloneConfig {
            redis_url: Some(Secret::new("http://user:pw@host")),
            ..Default::default()
        };
        let e = c.validate().unwrap_err();
        assert_eq!(e.field, "standalone.redis_url");
        assert!(!e.reason.contains("pw"));
    }

    #[test]
    fn redis_ca_file_needs_a_rediss_url() {
        let mut c = StandaloneConfig {
            redis_url: Some(Secret::new("redis://127.0.0.1:6379")),
            redis_ca_file: Some("ca.pem".into()),
            ..Default::default()
        };
        assert_eq!(c.validate().unwrap_err().field, "standalone.redis_ca_file");
        c.redis_url = Some(Secret::new("rediss://127.0.0.1:6379"));
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn namespace_without_slash_is_rejected() {
        let c = StandaloneConfig {
            namespaces: vec!["/".into(), "chat".into()],
            ..Default::default()
        };
        assert_eq!(c.validate().unwrap_err().field, "standalone.namespaces[1]");
    }
}
