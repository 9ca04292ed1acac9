//! `[proxy.redis]`: Redis-emitter pushes injected into proxied client
//! sessions (issue 6 item 3). Off unless `url` is set. Sessions are put in
//! rooms derived from their handshake query (`room_from_query`) or from
//! claims of their JWT (`room_from_claim`); `claim_secret` makes siogate
//! verify that token (HS256) before using its claims.
use std::path::PathBuf;

use serde::Deserialize;

use super::Secret;
use super::error::Invalid;
use super::validate::check_redis_url;

/// `[proxy.redis]` in the TOML file.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProxyRedisConfig {
    /// `redis://[:password@]HOST:PORT[/DB]`: take `@socket.io/redis-emitter`
    /// pushes from this Redis. Default none (injection off).
    pub url: Option<Secret>,
    /// With a `rediss://` url: PEM file of the CA certificates that verify
    /// the Redis server instead of the system roots. Default none.
    pub ca_file: Option<PathBuf>,
    /// Channel key prefix, as the emitter's `key` option. Default `socket.io`.
    pub prefix: Option<String>,
    /// Handshake/CONNECT query (or SIO5 auth) keys: a session with `KEY=V`
    /// joins room `KEY:V` in its namespace. Default none.
    pub room_from_query: Vec<String>,
    /// JWT claims (token from the `token` query/auth field): a session whose
    /// token has claim `C` = `V` joins room `C:V`. Default none.
    pub room_from_claim: Vec<String>,
    /// HS256 secret: verify the token before reading its claims (a token
    /// that fails gives no claim rooms). Without it claims are read
    /// unverified, for routing only. Default none.
    pub claim_secret: Option<Secret>,
}

impl ProxyRedisConfig {
    /// The key prefix in effect.
    pub fn prefix(&self) -> &str {
        self.prefix.as_deref().unwrap_or("socket.io")
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<(), Invalid> {
        check_redis_url(
            ("proxy.redis.url", self.url.as_ref()),
            ("proxy.redis.ca_file", self.ca_file.as_deref()),
        )?;
        if let Some(p) = &self.prefix
            && (p.is_empty() || p.contains(|c: char| c.is_whitespace() || c == '#'))
        {
            return Err(Invalid::new(
                "proxy.redis.prefix",
                format!("{p:?} must be non-empty, without '#' or whitespace"),
            ));
        }
        check_names("proxy.redis.room_from_query", &self.room_from_query)?;
        check_names("proxy.redis.room_from_claim", &self.room_from_claim)?;
        if let Some(s) = &self.claim_secret {
            if s.expose().is_empty() {
                return Err(Invalid::new(
                    "proxy.redis.claim_secret",
                    "must not be empty",
                ));
            }
            if self.room_from_claim.is_empty() {
                return Err(Invalid::new(
                    "proxy.redis.claim_secret",
                    "is only used with room_from_claim",
                ));
            }
        }
        let rules = !self.room_from_query.is_empty() || !self.room_from_claim.is_empty();
        if self.url.is_none() && (rules || self.prefix.is_some()) {
            let field = match (self.room_from_query.is_empty(), self.prefix.is_some()) {
                (false, _) => "proxy.redis.room_from_query",
                (true, false) => "proxy.redis.room_from_claim",
                (true, true) => "proxy.redis.prefix",
            };
            return Err(Invalid::new(
                field,
                "needs proxy.redis.url (--redis) to take pushes from",
            ));
        }
        Ok(())
    }
}

/// Query keys and claim names: non-empty, no whitespace, no duplicates.
fn check_names(field: &str, names: &[String]) -> Result<(), Invalid> {
    for (i, name) in names.iter().enumerate() {
        let at = || format!("{field}[{i}]");
        if name.is_empty() {
            return Err(Invalid::new(at(), "must not be empty"));
        }
        if name.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err(Invalid::new(
                at(),
                format!("{name:?} may not contain whitespace"),
            ));
        }
        if names[..i].contains(name) {
            return Err(Invalid::new(at(), format!("{name:?} is listed twice")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_url() -> ProxyRedisConfig {
        ProxyRedisConfig {
            url: Some(Secret::new("redis://127.0.0.1:6379")),
            ..ProxyRedisConfig::default()
        }
    }

    #[test]
    fn off_by_default_and_prefix_defaults_to_socketio() {
        let c = ProxyRedisConfig::default();
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.prefix(), "socket.io");
    }

    #[test]
    fn empty_or_duplicate_names_are_refused_at_their_index() {
        let mut c = with_url();
        c.room_from_query = vec!["user".into(), String::new()];
        assert_eq!(
            c.validate().unwrap_err().field,
            "proxy.redis.room_from_query[1]"
        );
        c.room_from_query = vec!["user".into()];
        c.room_from_claim = vec!["sub".into(), "sub".into()];
        let e = c.validate().unwrap_err();
        assert_eq!(e.field, "proxy.redis.room_from_claim[1]");
        assert!(e.reason.contains("twice"), "{e}");
    }

    #[test]
    fn rules_without_url_and_secret_without_claims_are_refused() {
        let mut c = ProxyRedisConfig {
            room_from_query: vec!["user".into()],
            ..ProxyRedisConfig::default()
        };
        assert_eq!(
            c.validate().unwrap_err().field,
            "proxy.redis.room_from_query"
        );
        c = with_url();
        c.claim_secret = Some(Secret::new("s"));
        assert_eq!(c.validate().unwrap_err().field, "proxy.redis.claim_secret");
        c.room_from_claim = vec!["sub".into()];
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn ca_file_needs_a_rediss_url() {
        let mut c = ProxyRedisConfig {
            ca_file: Some("ca.pem".into()),
            ..with_url()
        };
        assert_eq!(c.validate().unwrap_err().field, "proxy.redis.ca_file");
        c.url = Some(Secret::new("rediss://127.0.0.1:6379"));
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn bad_url_is_not_echoed() {
        let c = ProxyRedisConfig {
            url: Some(Secret::new("http://u:pw@host")),
            ..ProxyRedisConfig::default()
        };
        let e = c.validate().unwrap_err();
        assert_eq!(e.field, "proxy.redis.url");
        assert!(!e.reason.contains("pw"), "{e}");
    }
}
