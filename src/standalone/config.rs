//! The one place where the validated `[server]` + `[standalone]` config
//! becomes [`Options`]. Reads the RS256 public key file (the only I/O).
use std::time::Duration;

use super::auth::{JwtKey, JwtOptions};
use super::namespace::NamespacePolicy;
use super::webhook::WebhookOptions;
use super::{Options, StandaloneError};
use crate::config::{ServerConfig, StandaloneConfig};

impl Options {
    /// Maps the config onto options. A missing `api_token` leaves the API
    /// refusing every request (the CLI generates one before this).
    pub fn from_config(
        server: &ServerConfig,
        cfg: &StandaloneConfig,
    ) -> Result<Options, StandaloneError> {
        let namespaces = if cfg.namespaces.is_empty() {
            NamespacePolicy::Any
        } else {
            NamespacePolicy::List(cfg.namespaces.clone())
        };
        let jwt = if let Some(secret) = &cfg.jwt.secret {
            Some(JwtKey::Hs256(secret.expose().as_bytes().to_vec()))
        } else if let Some(path) = &cfg.jwt.public_key_file {
            let pem = std::fs::read(path)
                .map_err(|e| StandaloneError::InvalidJwtKey(format!("{}: {e}", path.display())))?;
            Some(JwtKey::Rs256Pem(pem))
        } else {
            None
        }
        .map(|key| JwtOptions {
            required: cfg.jwt.required,
            rooms_claim: cfg.jwt.rooms_claim.clone(),
            ..JwtOptions::new(key)
        });
        let webhook = cfg.webhook_url.as_ref().map(|url| WebhookOptions {
            timeout: Duration::from_millis(cfg.webhook_timeout_ms),
            ca_file: cfg.webhook_ca_file.clone(),
            ..WebhookOptions::new(url.clone())
        });
        Ok(Options {
            namespaces,
            connect_timeout: Duration::from_millis(server.connect_timeout_ms),
            jwt,
            join_leave: cfg.allow_join_leave,
            join_pattern: cfg.join_pattern.clone(),
            webhook,
            api_token: cfg
                .api_token
                .as_ref()
                .map(|t| t.expose().to_string())
                .unwrap_or_default(),
            api_prefix: cfg.api_prefix.clone(),
            max_api_body_bytes: server.max_payload_bytes,
            max_dynamic_namespaces: cfg.max_dynamic_namespaces,
            push_ack_timeout: Duration::from_millis(cfg.push_ack_timeout_ms),
            max_push_ack_timeout: Duration::from_millis(cfg.max_push_ack_timeout_ms),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    #[test]
    fn defaults_map_to_any_namespace_without_tokens() {
        let o =
            Options::from_config(&ServerConfig::default(), &StandaloneConfig::default()).unwrap();
        assert_eq!(o.namespaces, NamespacePolicy::Any);
        assert!(o.jwt.is_none() && o.webhook.is_none() && !o.join_leave);
        assert_eq!(o.connect_timeout, Duration::from_secs(45));
        assert_eq!(o.api_prefix, "/api/v1/");
        assert!(o.api_token.is_empty());
    }

    #[test]
    fn configured_values_are_carried_over() {
        let mut cfg = StandaloneConfig {
            namespaces: vec!["/chat".into()],
            allow_join_leave: true,
            join_pattern: Some("user:*".into()),
            api_token: Some(Secret::new("t0k")),
            webhook_url: Some("http://127.0.0.1:9/hook".into()),
            webhook_timeout_ms: 1500,
            max_dynamic_namespaces: 7,
            push_ack_timeout_ms: 900,
            max_push_ack_timeout_ms: 9_000,
            ..StandaloneConfig::default()
        };
        cfg.jwt.secret = Some(Secret::new("k"));
        cfg.jwt.required = true;
        let o = Options::from_config(&ServerConfig::default(), &cfg).unwrap();
        assert_eq!(o.namespaces, NamespacePolicy::List(vec!["/chat".into()]));
        assert_eq!(o.api_token, "t0k");
        assert!(o.join_leave);
        assert_eq!(o.join_pattern.as_deref(), Some("user:*"));
        let jwt = o.jwt.unwrap();
        assert!(jwt.required);
        assert!(matches!(jwt.key, JwtKey::Hs256(ref k) if k == b"k"));
        assert_eq!(o.webhook.unwrap().timeout, Duration::from_millis(1500));
        assert_eq!(o.max_dynamic_namespaces, 7);
        assert_eq!(o.push_ack_timeout, Duration::from_millis(900));
        assert_eq!(o.max_push_ack_timeout, Duration::from_secs(9));
    }

    #[test]
    fn unreadable_public_key_file_fails_with_its_path() {
        let mut cfg = StandaloneConfig::default();
        cfg.jwt.public_key_file = Some("/nonexistent/key.pem".into());
        let err = Options::from_config(&ServerConfig::default(), &cfg).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/key.pem"), "{err}");
    }
}
