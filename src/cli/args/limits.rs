//! The `[server.limits]` flags, shared by both modes (flattened into
//! `CommonArgs`). Each overrides one key of `server.limits`.
use clap::Args;

use super::Overrides;
use crate::config::{Config, IpNet};

/// Limits that protect siogate and the upstreams behind it.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Most open TCP connections; more are closed at accept. Default: no limit.
    #[arg(long, value_name = "N")]
    pub max_connections: Option<u32>,
    /// Most open TCP connections from one client IP. Default: no limit.
    #[arg(long, value_name = "N")]
    pub max_connections_per_ip: Option<u32>,
    /// Most live Engine.IO sessions; more handshakes get 503. Default: no limit.
    #[arg(long, value_name = "N")]
    pub max_sessions: Option<u32>,
    /// Most live sessions from one client IP; more get 429. Default: no limit.
    #[arg(long, value_name = "N")]
    pub max_sessions_per_ip: Option<u32>,
    /// Packets per second a session may send (token bucket rate). Default: no limit.
    #[arg(long, value_name = "N")]
    pub packet_rate: Option<u32>,
    /// Packets a session may send at once (token bucket size). Default: the rate.
    #[arg(long, value_name = "N")]
    pub packet_burst: Option<u32>,
    /// Time a client has to send a request's headers, in ms. Default 30000.
    #[arg(long, value_name = "MS")]
    pub header_read_timeout: Option<u64>,
    /// Close sessions without a message either way for this long, in ms. Default: never.
    #[arg(long, value_name = "MS")]
    pub idle_timeout: Option<u64>,
    /// Namespaces one session may connect at once. Default 32.
    #[arg(long, value_name = "N")]
    pub max_namespaces: Option<u32>,
    /// A reverse proxy in front (address or CIDR, repeatable): requests from it
    /// count for the client its X-Forwarded-For names. Default: none.
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    pub trusted_proxies: Vec<IpNet>,
}

impl LimitArgs {
    /// Applies the given flags, recording each in `o`.
    pub(crate) fn apply(&self, config: &mut Config, o: &mut Overrides) {
        let l = self;
        over!(
            o,
            config.server.limits.max_connections = l.max_connections.map(Some),
            "--max-connections"
        );
        over!(
            o,
            config.server.limits.max_connections_per_ip = l.max_connections_per_ip.map(Some),
            "--max-connections-per-ip"
        );
        over!(
            o,
            config.server.limits.max_sessions = l.max_sessions.map(Some),
            "--max-sessions"
        );
        over!(
            o,
            config.server.limits.max_sessions_per_ip = l.max_sessions_per_ip.map(Some),
            "--max-sessions-per-ip"
        );
        over!(
            o,
            config.server.limits.packet_rate_per_sec = l.packet_rate.map(Some),
            "--packet-rate"
        );
        over!(
            o,
            config.server.limits.packet_burst = l.packet_burst.map(Some),
            "--packet-burst"
        );
        over!(
            o,
            config.server.limits.header_read_timeout_ms = l.header_read_timeout,
            "--header-read-timeout"
        );
        over!(
            o,
            config.server.limits.idle_timeout_ms = l.idle_timeout.map(Some),
            "--idle-timeout"
        );
        over!(
            o,
            config.server.limits.max_namespaces = l.max_namespaces,
            "--max-namespaces"
        );
        let proxies = (!l.trusted_proxies.is_empty()).then(|| l.trusted_proxies.clone());
        over!(
            o,
            config.server.trusted_proxies = proxies,
            "--trusted-proxy"
        );
    }
}
