//! The `[proxy.redis]` flags (flattened into `ProxyArgs`): take
//! Redis-emitter pushes and inject them into proxied client sessions.
use clap::Args;

use super::Overrides;
use crate::config::{Config, Secret};

/// Redis-emitter injection into proxied sessions.
#[derive(Debug, Args)]
pub struct InjectArgs {
    /// Redis URL: inject @socket.io/redis-emitter pushes into client sessions.
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,
    /// CA certificates (PEM) that verify a rediss:// server instead of the system roots.
    #[arg(long = "redis-ca", value_name = "FILE")]
    pub redis_ca: Option<std::path::PathBuf>,
    /// Redis channel key prefix. Default socket.io.
    #[arg(long, value_name = "P")]
    pub redis_prefix: Option<String>,
    /// Query/auth key K: a session with K=V joins room K:V (repeatable).
    #[arg(long = "room-from-query", value_name = "KEY")]
    pub room_from_query: Vec<String>,
    /// JWT claim C (token from the `token` field): joins room C:V (repeatable).
    #[arg(long = "room-from-claim", value_name = "CLAIM")]
    pub room_from_claim: Vec<String>,
    /// HS256 secret to verify that token; without it claims are read unverified.
    #[arg(long, value_name = "S")]
    pub room_claim_secret: Option<String>,
}

impl InjectArgs {
    /// Applies the given flags, recording each in `o`.
    pub(crate) fn apply(self, config: &mut Config, o: &mut Overrides) {
        let url = self.redis.map(|u| Some(Secret::new(u)));
        over!(o, config.proxy.redis.url = url, "--redis");
        let ca = self.redis_ca.map(Some);
        over!(o, config.proxy.redis.ca_file = ca, "--redis-ca");
        let prefix = self.redis_prefix.map(Some);
        over!(o, config.proxy.redis.prefix = prefix, "--redis-prefix");
        let keys = (!self.room_from_query.is_empty()).then_some(self.room_from_query);
        over!(
            o,
            config.proxy.redis.room_from_query = keys,
            "--room-from-query"
        );
        let claims = (!self.room_from_claim.is_empty()).then_some(self.room_from_claim);
        over!(
            o,
            config.proxy.redis.room_from_claim = claims,
            "--room-from-claim"
        );
        let secret = self.room_claim_secret.map(|s| Some(Secret::new(s)));
        over!(
            o,
            config.proxy.redis.claim_secret = secret,
            "--room-claim-secret"
        );
    }
}
