//! `[server.limits]`: the limits that protect siogate and the legacy
//! upstreams behind it from too many, too chatty, too slow or too silent
//! clients. Enforced by the server core, so both modes get them. A limit
//! that is absent (an `Option` left out) is off; the others have defaults.
//!
//! What each limit counts, and what a client sees when it is exceeded, is
//! documented on the field and in the README's Limits section.
use serde::Deserialize;

use super::error::Invalid;

/// `[server.limits]` in the TOML file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Open TCP connections, all clients together. A connection accepted
    /// over the limit is closed at once, before any byte is read. Default
    /// none (no limit).
    pub max_connections: Option<u32>,
    /// Open TCP connections from one client IP. Default none.
    pub max_connections_per_ip: Option<u32>,
    /// Live Engine.IO sessions (each one costs an upstream session in proxy
    /// mode). A handshake over the limit is answered `503` with an
    /// Engine.IO error body (a WebSocket handshake before the upgrade).
    /// Default none.
    pub max_sessions: Option<u32>,
    /// Live Engine.IO sessions opened from one client IP; over it the
    /// handshake gets `429`. Default none.
    pub max_sessions_per_ip: Option<u32>,
    /// Sustained Engine.IO packets per second a session may send (token
    /// bucket refill rate); a session that runs out of tokens is closed
    /// (close reason "rate limit"). Default none.
    pub packet_rate_per_sec: Option<u32>,
    /// Token bucket size: packets a session may send at once. Default
    /// `packet_rate_per_sec` (one second's worth); needs a rate.
    pub packet_burst: Option<u32>,
    /// How long a client may take to send a request's headers (the
    /// Engine.IO handshake request included); slower connections are
    /// closed. Default 30000 ms.
    pub header_read_timeout_ms: u64,
    /// A session with no Socket.IO message in either direction for this
    /// long is closed (heartbeats do not count). Default none.
    pub idle_timeout_ms: Option<u64>,
    /// Namespaces one session may be connected to at once (EIO3 sessions
    /// always hold `/`). A CONNECT over the limit gets CONNECT_ERROR (v5) /
    /// ERROR (v4) "Too many namespaces"; the session stays up. Default 32.
    pub max_namespaces: u32,
    /// Longest request target (path and query) on the Socket.IO path; a
    /// longer one gets `414`. Default 8192 bytes.
    pub max_url_bytes: usize,
    /// Most Engine.IO packets decoded from one polling POST body; more is a
    /// malformed body (`400`, session closed). Default 4096.
    pub max_packets_per_post: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_connections: None,
            max_connections_per_ip: None,
            max_sessions: None,
            max_sessions_per_ip: None,
            packet_rate_per_sec: None,
            packet_burst: None,
            header_read_timeout_ms: 30_000,
            idle_timeout_ms: None,
            max_namespaces: 32,
            max_url_bytes: 8192,
            max_packets_per_post: 4096,
        }
    }
}

/// The shortest `max_url_bytes` accepted: a handshake URL with a sid and a
/// cache-busting `t` is about 80 bytes.
pub const MIN_URL_BYTES: usize = 128;

impl LimitsConfig {
    /// The token bucket's burst: the configured one or one second's worth.
    pub fn burst(&self) -> Option<u32> {
        self.packet_burst.or(self.packet_rate_per_sec)
    }

    /// Checks every limit; errors name the field under `server.limits`.
    pub fn validate(&self) -> Result<(), Invalid> {
        let optional = [
            ("max_connections", self.max_connections.map(u64::from)),
            (
                "max_connections_per_ip",
                self.max_connections_per_ip.map(u64::from),
            ),
            ("max_sessions", self.max_sessions.map(u64::from)),
            (
                "max_sessions_per_ip",
                self.max_sessions_per_ip.map(u64::from),
            ),
            (
                "packet_rate_per_sec",
                self.packet_rate_per_sec.map(u64::from),
            ),
            ("packet_burst", self.packet_burst.map(u64::from)),
            ("idle_timeout_ms", self.idle_timeout_ms),
        ];
        for (name, value) in optional {
            if value == Some(0) {
                return Err(Invalid::new(
                    field(name),
                    "must be greater than 0 (leave the key out for no limit)",
                ));
            }
        }
        for (name, value) in [
            ("header_read_timeout_ms", self.header_read_timeout_ms),
            ("max_namespaces", u64::from(self.max_namespaces)),
            ("max_packets_per_post", self.max_packets_per_post as u64),
        ] {
            if value == 0 {
                return Err(Invalid::new(field(name), "must be greater than 0"));
            }
        }
        if self.packet_burst.is_some() && self.packet_rate_per_sec.is_none() {
            return Err(Invalid::new(
                field("packet_burst"),
                "needs server.limits.packet_rate_per_sec",
            ));
        }
        if self.max_url_bytes < MIN_URL_BYTES {
            return Err(Invalid::new(
                field("max_url_bytes"),
                format!("must be at least {MIN_URL_BYTES} (an Engine.IO URL with a sid)"),
            ));
        }
        per_ip_within_global(
            "max_connections_per_ip",
            self.max_connections_per_ip,
            "max_connections",
            self.max_connections,
        )?;
        per_ip_within_global(
            "max_sessions_per_ip",
            self.max_sessions_per_ip,
            "max_sessions",
            self.max_sessions,
        )
    }
}

fn field(name: &str) -> String {
    format!("server.limits.{name}")
}

/// A per-IP limit above its global limit could never apply: a typo.
fn per_ip_within_global(
    per_ip_name: &str,
    per_ip: Option<u32>,
    global_name: &str,
    global: Option<u32>,
) -> Result<(), Invalid> {
    match (per_ip, global) {
        (Some(p), Some(g)) if p > g => Err(Invalid::new(
            field(per_ip_name),
            format!("{p} is above server.limits.{global_name} ({g}), so it would never apply"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_unlimited_where_optional() {
        let l = LimitsConfig::default();
        assert_eq!(l.validate(), Ok(()));
        assert_eq!(l.max_sessions, None);
        assert_eq!(l.burst(), None);
    }

    #[test]
    fn zero_rate_and_zero_burst_are_refused() {
        let l = LimitsConfig {
            packet_rate_per_sec: Some(0),
            ..Default::default()
        };
        assert_eq!(
            l.validate().unwrap_err().field,
            "server.limits.packet_rate_per_sec"
        );
        let l = LimitsConfig {
            packet_rate_per_sec: Some(10),
            packet_burst: Some(0),
            ..Default::default()
        };
        assert_eq!(
            l.validate().unwrap_err().field,
            "server.limits.packet_burst"
        );
    }

    #[test]
    fn burst_defaults_to_the_rate_and_needs_one() {
        let l = LimitsConfig {
            packet_rate_per_sec: Some(20),
            ..Default::default()
        };
        assert_eq!(l.burst(), Some(20));
        let l = LimitsConfig {
            packet_burst: Some(5),
            ..Default::default()
        };
        let err = l.validate().unwrap_err();
        assert_eq!(err.field, "server.limits.packet_burst");
        assert!(err.reason.contains("packet_rate_per_sec"), "{err}");
    }

    #[test]
    fn per_ip_limit_may_not_exceed_the_global_one() {
        let l = LimitsConfig {
            max_sessions: Some(10),
            max_sessions_per_ip: Some(11),
            ..Default::default()
        };
        assert_eq!(
            l.validate().unwrap_err().field,
            "server.limits.max_sessions_per_ip"
        );
    }

    #[test]
    fn tiny_url_limit_is_refused() {
        let l = LimitsConfig {
            max_url_bytes: 64,
            ..Default::default()
        };
        assert_eq!(
            l.validate().unwrap_err().field,
            "server.limits.max_url_bytes"
        );
    }
}
