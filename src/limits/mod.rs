//! Runtime side of `[server.limits]`: the pieces the server core uses to
//! refuse what is over a limit, and [`refused`], the one place where a
//! refusal is logged and counted (`siogate_limit_refusals_total{kind}`).
//!
//! - [`counter`]: live connections or sessions, globally and per client IP,
//!   held by RAII permits.
//! - [`bucket`]: the per-session packet token bucket (pure, no timers).
//! - [`client_ip`]: the client's address behind trusted proxies
//!   (`X-Forwarded-For`), for per-IP session limits.
//! - [`namespaces`]: the namespaces a session has asked for, read from the
//!   CONNECT/DISCONNECT headers without decoding the rest of the packet.
//!
//! Nothing here does I/O; the server core and transports decide what the
//! client sees (an HTTP status, a close, a CONNECT_ERROR).
pub mod bucket;
pub mod client_ip;
pub mod counter;
pub mod namespaces;

use std::fmt;
use std::net::IpAddr;

pub use bucket::TokenBucket;
pub use counter::{Counter, Permit};
pub use namespaces::{NamespaceSet, Verdict};

/// Which limit refused something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// `max_connections`: a TCP connection was closed at accept.
    Connections,
    /// `max_connections_per_ip`.
    ConnectionsPerIp,
    /// `max_sessions`: an Engine.IO handshake got 503.
    Sessions,
    /// `max_sessions_per_ip`: an Engine.IO handshake got 429.
    SessionsPerIp,
    /// `packet_rate_per_sec` / `packet_burst`: a session was closed.
    RateLimit,
    /// `header_read_timeout_ms`: a connection was too slow to send headers.
    HandshakeTimeout,
    /// `idle_timeout_ms`: a silent session was closed.
    IdleTimeout,
    /// `max_namespaces`: a CONNECT got CONNECT_ERROR / ERROR.
    Namespaces,
    /// `max_url_bytes`: a request got 414.
    UrlLength,
    /// `server.cors_origins`: a request got 403.
    Origin,
}

impl Refusal {
    /// The name used in logs (and as the metrics label).
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Connections => "connections",
            Refusal::ConnectionsPerIp => "connections_per_ip",
            Refusal::Sessions => "sessions",
            Refusal::SessionsPerIp => "sessions_per_ip",
            Refusal::RateLimit => "rate limit",
            Refusal::HandshakeTimeout => "handshake timeout",
            Refusal::IdleTimeout => "idle timeout",
            Refusal::Namespaces => "namespaces",
            Refusal::UrlLength => "url length",
            Refusal::Origin => "origin",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Logs (and counts) one refusal. `peer` is the client's IP when known;
/// no URL, header or token value is ever logged.
pub fn refused(kind: Refusal, peer: Option<IpAddr>) {
    crate::metrics::global().limit_refusals.inc(kind.into());
    match peer {
        Some(ip) => tracing::info!(limit = %kind, peer.ip = %ip, "refused by a limit"),
        None => tracing::info!(limit = %kind, "refused by a limit"),
    }
}
