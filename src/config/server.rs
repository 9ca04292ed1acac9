//! Settings of the client-facing server core, shared by both modes. Defaults
//! are socket.io 4's.
use serde::Deserialize;

use super::{IpNet, LimitsConfig};

/// `[server]` in the TOML file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on. Default `127.0.0.1:3000`.
    pub listen: String,
    /// The Socket.IO path. Default `/socket.io/`.
    pub path: String,
    /// EIO4: how often the server pings; EIO3: the interval announced to the
    /// client. Default 25000 ms.
    pub ping_interval_ms: u64,
    /// How long to wait for the heartbeat answer. Default 20000 ms.
    pub ping_timeout_ms: u64,
    /// Largest WebSocket message or polling body accepted. Default 1000000 bytes.
    pub max_payload_bytes: usize,
    /// How long a client may take to connect to a namespace after the
    /// Engine.IO handshake. Default 45000 ms.
    pub connect_timeout_ms: u64,
    /// How long a polling → WebSocket upgrade may take. Default 10000 ms.
    pub upgrade_timeout_ms: u64,
    /// Outbound queue capacity per session, in packets. A client whose queue
    /// overflows is disconnected. Default 1024.
    pub max_queue_packets: usize,
    /// Allowed `Origin`s for polling CORS (and the WebSocket upgrade). Empty
    /// means any origin (the request's Origin is echoed). Default empty.
    pub cors_origins: Vec<String>,
    /// EIO4: close a session whose client sends `2` (wrong heartbeat
    /// direction), as engine.io 6 does. Default true.
    pub strict_heartbeat: bool,
    /// TCP listen backlog. Default 1024.
    pub backlog: u32,
    /// Graceful shutdown (SIGTERM): how long to wait for sessions to close
    /// after every client was told to reconnect. SIGINT caps it at 1000 ms.
    /// Default 10000 ms.
    pub shutdown_grace_ms: u64,
    /// Reverse proxies / load balancers in front of siogate (addresses or
    /// CIDR blocks). A request from one of them is attributed to the client
    /// its `X-Forwarded-For` names (per-IP session limits, logs). Default
    /// empty: the TCP peer is the client.
    pub trusted_proxies: Vec<IpNet>,
    /// `[server.limits]`: connection, rate, size and time limits.
    pub limits: LimitsConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:3000".into(),
            path: "/socket.io/".into(),
            ping_interval_ms: 25_000,
            ping_timeout_ms: 20_000,
            max_payload_bytes: 1_000_000,
            connect_timeout_ms: 45_000,
            upgrade_timeout_ms: 10_000,
            max_queue_packets: 1024,
            cors_origins: Vec::new(),
            strict_heartbeat: true,
            backlog: 1024,
            shutdown_grace_ms: 10_000,
            trusted_proxies: Vec::new(),
            limits: LimitsConfig::default(),
        }
    }
}
