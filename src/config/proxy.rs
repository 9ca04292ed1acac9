//! `[proxy]`: settings of proxy mode (siogate in front of legacy gateways):
//! the upstream URLs, their flavor, balancing, health checks and timeouts.
//! The flavor is a plain name here; the proxy module maps it to its own type.
use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

use super::error::Invalid;
use super::proxy_redis::ProxyRedisConfig;
use super::tls::UpstreamTlsConfig;
use super::validate::{check_path, check_positive};

/// `[proxy]` in the TOML file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProxyConfig {
    /// Upstream gateways, `ws://HOST:PORT[/PATH]` or `wss://...`; the
    /// Socket.IO path is `/socket.io/` unless the URL gives one. At least one
    /// is required in proxy mode. Default empty.
    pub upstreams: Vec<UpstreamUrl>,
    /// What the upstreams are: `go-legacy`, `go-1.4`, `go-modern`, `node-v2`
    /// or `v4`. Required in proxy mode (validated at start). Default none.
    pub flavor: Option<UpstreamFlavor>,
    /// How a new client session picks an upstream. Default `round-robin`.
    pub balance: Balance,
    /// Interval between active health checks of each upstream. Default 5000 ms.
    pub health_interval_ms: u64,
    /// Upstream TCP (+TLS) connect timeout. Default 5000 ms.
    pub connect_timeout_ms: u64,
    /// Upstream Engine.IO + Socket.IO handshake timeout. Default 10000 ms.
    pub handshake_timeout_ms: u64,
    /// Relay plain Engine.IO on this path (e.g. `/engine.io/`) to the same
    /// path upstream, without Socket.IO parsing. Default none.
    pub raw_engineio_path: Option<String>,
    /// Upstream packets that arrive on a namespace before the upstream's
    /// CONNECT reply (go fires its root `connection` handler on every
    /// session, PROTOCOL.md row 7): true drops (and logs) them, false relays
    /// them re-tagged to the client. Default true.
    pub drop_pre_connect_packets: bool,
    /// Client packets held per namespace while its CONNECT is pending; one
    /// more closes the client session. Default 64.
    pub max_pending_packets: usize,
    /// Largest message accepted from an upstream (go-engine.io has no
    /// limit of its own); a bigger one fails that upstream session.
    /// Default 16777216 bytes.
    pub max_upstream_message_bytes: usize,
    /// `[proxy.tls]`: trust and client certificate for `wss://` upstreams.
    pub tls: UpstreamTlsConfig,
    /// `[proxy.redis]`: inject Redis-emitter pushes into client sessions.
    pub redis: ProxyRedisConfig,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig {
            upstreams: Vec::new(),
            flavor: None,
            balance: Balance::RoundRobin,
            health_interval_ms: 5_000,
            connect_timeout_ms: 5_000,
            handshake_timeout_ms: 10_000,
            raw_engineio_path: None,
            drop_pre_connect_packets: true,
            max_pending_packets: 64,
            max_upstream_message_bytes: 16 * 1024 * 1024,
            tls: UpstreamTlsConfig::default(),
            redis: ProxyRedisConfig::default(),
        }
    }
}

impl ProxyConfig {
    /// Checks every field; `proxy_mode` adds the checks that only matter
    /// when the proxy actually runs (upstreams and flavor present).
    pub fn validate(&self, proxy_mode: bool) -> Result<(), Invalid> {
        if proxy_mode && self.upstreams.is_empty() {
            return Err(Invalid::new(
                "proxy.upstreams",
                "proxy mode needs at least one upstream (--upstream URL)",
            ));
        }
        if proxy_mode && self.flavor.is_none() {
            return Err(Invalid::new(
                "proxy.flavor",
                format!(
                    "proxy mode needs the upstream flavor (--flavor), one of {}",
                    UpstreamFlavor::NAMES.join(", ")
                ),
            ));
        }
        for (i, u) in self.upstreams.iter().enumerate() {
            if self.upstreams[..i].contains(u) {
                return Err(Invalid::new(
                    format!("proxy.upstreams[{i}]"),
                    format!("{u} is listed twice"),
                ));
            }
        }
        check_positive("proxy.health_interval_ms", self.health_interval_ms)?;
        check_positive(
            "proxy.max_upstream_message_bytes",
            self.max_upstream_message_bytes as u64,
        )?;
        check_positive("proxy.connect_timeout_ms", self.connect_timeout_ms)?;
        check_positive("proxy.handshake_timeout_ms", self.handshake_timeout_ms)?;
        check_positive("proxy.max_pending_packets", self.max_pending_packets as u64)?;
        if let Some(p) = &self.raw_engineio_path {
            check_path("proxy.raw_engineio_path", p)?;
        }
        self.redis.validate()?;
        self.tls.validate()
    }
}

/// The kind of legacy gateway behind the proxy (PROTOCOL.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum UpstreamFlavor {
    /// go-socket.io ≤ 1.0.x.
    #[serde(rename = "go-legacy")]
    GoLegacy,
    /// go-socket.io 1.4.0–1.4.3.
    #[serde(rename = "go-1.4")]
    Go14,
    /// go-socket.io ≥ 1.4.4.
    #[serde(rename = "go-modern")]
    GoModern,
    /// socket.io 2.x, python-socketio 4.x.
    #[serde(rename = "node-v2")]
    NodeV2,
    /// socket.io ≥ 3.
    #[serde(rename = "v4")]
    V4,
}

impl UpstreamFlavor {
    /// Every accepted name, in the order of the variants.
    pub const NAMES: [&'static str; 5] = ["go-legacy", "go-1.4", "go-modern", "node-v2", "v4"];
    const ALL: [UpstreamFlavor; 5] = [
        Self::GoLegacy,
        Self::Go14,
        Self::GoModern,
        Self::NodeV2,
        Self::V4,
    ];

    /// The config/CLI name, e.g. `go-1.4`.
    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

impl FromStr for UpstreamFlavor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown flavor {s:?}; expected one of {}",
                    Self::NAMES.join(", ")
                )
            })
    }
}

impl fmt::Display for UpstreamFlavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a new session picks its upstream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Balance {
    /// `round-robin` (default).
    #[default]
    RoundRobin,
    /// `least-connections`.
    LeastConnections,
    /// `hash-query:<key>`: affinity by a handshake query parameter.
    HashQuery(String),
    /// `hash-header:<name>`: affinity by a request header (lowercased).
    HashHeader(String),
}

impl FromStr for Balance {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let non_empty = |rest: &str, what: &str| {
            if rest.is_empty() || rest.contains(char::is_whitespace) {
                Err(format!(
                    "{s:?}: `{what}:` needs a name without spaces after the colon"
                ))
            } else {
                Ok(rest.to_string())
            }
        };
        match s {
            "round-robin" => Ok(Balance::RoundRobin),
            "least-connections" => Ok(Balance::LeastConnections),
            _ => {
                if let Some(key) = s.strip_prefix("hash-query:") {
                    non_empty(key, "hash-query").map(Balance::HashQuery)
                } else if let Some(name) = s.strip_prefix("hash-header:") {
                    non_empty(name, "hash-header")
                        .map(|n| Balance::HashHeader(n.to_ascii_lowercase()))
                } else {
                    Err(format!(
                        "unknown balance {s:?}; expected round-robin, least-connections, hash-query:<key> or hash-header:<name>"
                    ))
                }
            }
        }
    }
}

impl<'de> Deserialize<'de> for Balance {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(FromStrVisitor::<Balance>::new("a balance strategy"))
    }
}

impl fmt::Display for Balance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Balance::RoundRobin => f.write_str("round-robin"),
            Balance::LeastConnections => f.write_str("least-connections"),
            Balance::HashQuery(k) => write!(f, "hash-query:{k}"),
            Balance::HashHeader(h) => write!(f, "hash-header:{h}"),
        }
    }
}

/// A parsed upstream URL. `Display` gives `ws[s]://HOST:PORT/PATH`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UpstreamUrl {
    /// `wss://`.
    pub tls: bool,
    /// Host name or IP (IPv6 in brackets), as written.
    pub host: String,
    /// Port; 80 for `ws://` and 443 for `wss://` when the URL has none.
    pub port: u16,
    /// Socket.IO path, always ending in `/`; `/socket.io/` when the URL gives none.
    pub path: String,
}

impl UpstreamUrl {
    /// `HOST:PORT`, for connecting and for the `Host` header.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

impl FromStr for UpstreamUrl {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let uri: http::Uri = s.parse().map_err(|e| format!("{s:?} is not a URL: {e}"))?;
        let tls = match uri.scheme_str() {
            Some("ws") => false,
            Some("wss") => true,
            _ => return Err(format!("{s:?} must start with ws:// or wss://")),
        };
        let host = match uri.host() {
            Some(h) if !h.is_empty() => h.to_string(),
            _ => return Err(format!("{s:?} has no host")),
        };
        if uri.query().is_some() {
            return Err(format!(
                "{s:?}: a query is not allowed (the client's handshake query is forwarded)"
            ));
        }
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(format!("{s:?}: user info is not allowed in upstream URLs"));
        }
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let path = match uri.path() {
            "" | "/" => "/socket.io/".to_string(),
            p if p.ends_with('/') => p.to_string(),
            p => format!("{p}/"),
        };
        Ok(UpstreamUrl {
            tls,
            host,
            port,
            path,
        })
    }
}

impl<'de> Deserialize<'de> for UpstreamUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(FromStrVisitor::<UpstreamUrl>::new("a ws:// or wss:// URL"))
    }
}

/// Deserializes a string through `FromStr`, raising the error while the
/// string itself is being read, so toml reports the span of that value
/// (an array element) rather than of the enclosing array.
struct FromStrVisitor<T> {
    expecting: &'static str,
    _marker: std::marker::PhantomData<T>,
}

impl<T> FromStrVisitor<T> {
    fn new(expecting: &'static str) -> Self {
        FromStrVisitor {
            expecting,
            _marker: std::marker::PhantomData,
        }
    }
}

impl<T: FromStr<Err = String>> serde::de::Visitor<'_> for FromStrVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(E::custom)
    }
}

impl fmt::Display for UpstreamUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "wss" } else { "ws" };
        write!(f, "{scheme}://{}:{}{}", self.host, self.port, self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_url_defaults_port_and_socketio_path() {
        let u: UpstreamUrl = "ws://10.0.0.5:8000".parse().unwrap();
        assert_eq!(u.to_string(), "ws://10.0.0.5:8000/socket.io/");
        let u: UpstreamUrl = "wss://gw.example.com".parse().unwrap();
        assert_eq!((u.tls, u.port, u.path.as_str()), (true, 443, "/socket.io/"));
        let u: UpstreamUrl = "ws://[::1]:9000/push/socket.io".parse().unwrap();
        assert_eq!(u.to_string(), "ws://[::1]:9000/push/socket.io/");
        assert_eq!(u.authority(), "[::1]:9000");
    }

    #[test]
    fn upstream_url_rejects_other_schemes_and_queries() {
        assert!(
            "http://a:1"
                .parse::<UpstreamUrl>()
                .unwrap_err()
                .contains("ws://")
        );
        assert!("ws://a:1/?x=1".parse::<UpstreamUrl>().is_err());
        assert!("10.0.0.5:8000".parse::<UpstreamUrl>().is_err());
        assert!("ws://u:p@a:1".parse::<UpstreamUrl>().is_err());
    }

    #[test]
    fn flavor_names_round_trip_and_unknown_lists_choices() {
        for name in UpstreamFlavor::NAMES {
            assert_eq!(name.parse::<UpstreamFlavor>().unwrap().as_str(), name);
        }
        let err = "go-2".parse::<UpstreamFlavor>().unwrap_err();
        assert!(err.contains("go-legacy") && err.contains("v4"), "{err}");
    }

    #[test]
    fn balance_parses_every_form() {
        assert_eq!("round-robin".parse(), Ok(Balance::RoundRobin));
        assert_eq!("least-connections".parse(), Ok(Balance::LeastConnections));
        assert_eq!(
            "hash-query:user".parse(),
            Ok(Balance::HashQuery("user".into()))
        );
        assert_eq!(
            "hash-header:X-User".parse(),
            Ok(Balance::HashHeader("x-user".into()))
        );
        assert!("hash-query:".parse::<Balance>().is_err());
        assert!("random".parse::<Balance>().is_err());
    }

    #[test]
    fn proxy_mode_requires_upstreams_and_flavor() {
        let mut p = ProxyConfig::default();
        assert_eq!(p.validate(false), Ok(()));
        assert_eq!(p.validate(true).unwrap_err().field, "proxy.upstreams");
        p.upstreams.push("ws://a:1".parse().unwrap());
        assert_eq!(p.validate(true).unwrap_err().field, "proxy.flavor");
        p.flavor = Some(UpstreamFlavor::Go14);
        assert_eq!(p.validate(true), Ok(()));
        p.upstreams.push("ws://a:1/socket.io/".parse().unwrap());
        assert_eq!(p.validate(true).unwrap_err().field, "proxy.upstreams[1]");
    }
}
