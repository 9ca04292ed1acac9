//! The upstream flavor: which legacy gateway sits behind the proxy, and the
//! few facts about it the normalizer and the upstream leg depend on
//! (PROTOCOL.md §4, "Upstream flavor is configuration").
use std::fmt;
use std::str::FromStr;

use crate::config::UpstreamFlavor;
use crate::protocol::{engineio, socketio};

/// The kind of upstream server, chosen in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// go-socket.io ≤ 1.0.x: one socket per Engine.IO session, echoes the
    /// CONNECT query into every nsp, any DISCONNECT wedges the session.
    GoLegacy,
    /// go-socket.io 1.4.0–1.4.3: closes the connection on a query in CONNECT.
    Go14,
    /// go-socket.io ≥ 1.4.4: drops the CONNECT query, replies `40/chat,[]\n`,
    /// closes the connection on an unknown namespace (v1.7.0).
    GoModern,
    /// socket.io 2.x (and python-socketio 4.x): splits the CONNECT query
    /// itself, multiplexes namespaces on one session.
    NodeV2,
    /// socket.io ≥ 3 (EIO4/SIO5): CONNECT auth objects, `{"sid"}` replies.
    V4,
}

/// A flavor name that is not one of the five known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown upstream flavor {0:?} (expected go-legacy, go-1.4, go-modern, node-v2 or v4)")]
pub struct UnknownFlavor(pub String);

impl Flavor {
    /// Every flavor, in configuration order.
    pub const ALL: [Flavor; 5] = [
        Flavor::GoLegacy,
        Flavor::Go14,
        Flavor::GoModern,
        Flavor::NodeV2,
        Flavor::V4,
    ];

    /// The configuration name (`go-legacy`, `go-1.4`, …).
    pub fn name(self) -> &'static str {
        match self {
            Flavor::GoLegacy => "go-legacy",
            Flavor::Go14 => "go-1.4",
            Flavor::GoModern => "go-modern",
            Flavor::NodeV2 => "node-v2",
            Flavor::V4 => "v4",
        }
    }

    /// The Engine.IO revision spoken on the upstream leg.
    pub fn upstream_eio(self) -> engineio::Revision {
        match self {
            Flavor::V4 => engineio::Revision::V4,
            _ => engineio::Revision::V3,
        }
    }

    /// The Socket.IO revision spoken on the upstream leg (decode upstream
    /// packets with it, leniently).
    pub fn upstream_sio(self) -> socketio::Revision {
        match self {
            Flavor::V4 => socketio::Revision::V5,
            _ => socketio::Revision::V4,
        }
    }

    /// go-socket.io: one upstream Engine.IO session per client namespace
    /// (single-namespace sockets, the DISCONNECT wedge). Others multiplex
    /// every namespace of a client on one upstream session.
    pub fn one_leg_per_namespace(self) -> bool {
        matches!(self, Flavor::GoLegacy | Flavor::Go14 | Flavor::GoModern)
    }

    /// The upstream reads a `?query` in a namespace CONNECT (only socket.io
    /// 2.x does: go-legacy echoes it, go-1.4 dies on it, go-modern drops it,
    /// socket.io 4 answers "Invalid namespace").
    pub fn query_in_connect_ok(self) -> bool {
        self == Flavor::NodeV2
    }

    /// A client DISCONNECT may be forwarded (go: it wedges or is pointless;
    /// the proxy closes that namespace's upstream session instead).
    pub fn forwards_disconnect(self) -> bool {
        !self.one_leg_per_namespace()
    }

    /// The upstream connects `/` by itself right after the Engine.IO open
    /// (SIO4 servers send `40`); an SIO5 upstream waits for a CONNECT.
    pub fn auto_connects_root(self) -> bool {
        self.upstream_sio() == socketio::Revision::V4
    }
}

impl From<UpstreamFlavor> for Flavor {
    /// The configuration's flavor (a plain name there) as the proxy's type.
    fn from(f: UpstreamFlavor) -> Flavor {
        match f {
            UpstreamFlavor::GoLegacy => Flavor::GoLegacy,
            UpstreamFlavor::Go14 => Flavor::Go14,
            UpstreamFlavor::GoModern => Flavor::GoModern,
            UpstreamFlavor::NodeV2 => Flavor::NodeV2,
            UpstreamFlavor::V4 => Flavor::V4,
        }
    }
}

impl FromStr for Flavor {
    type Err = UnknownFlavor;

    fn from_str(s: &str) -> Result<Flavor, UnknownFlavor> {
        Flavor::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| UnknownFlavor(s.to_owned()))
    }
}

impl fmt::Display for Flavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Flavor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Flavor, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for Flavor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flavor_names_round_trip_and_unknown_is_rejected() {
        for f in Flavor::ALL {
            assert_eq!(f.name().parse::<Flavor>(), Ok(f));
            assert_eq!(f.to_string(), f.name());
        }
        assert_eq!("go".parse::<Flavor>(), Err(UnknownFlavor("go".to_owned())));
    }

    #[test]
    fn go_flavors_use_one_leg_per_namespace_and_never_forward_disconnect() {
        for f in [Flavor::GoLegacy, Flavor::Go14, Flavor::GoModern] {
            assert!(f.one_leg_per_namespace());
            assert!(!f.forwards_disconnect());
            assert!(!f.query_in_connect_ok());
            assert!(f.auto_connects_root());
            assert_eq!(f.upstream_eio(), engineio::Revision::V3);
        }
        assert!(Flavor::NodeV2.query_in_connect_ok());
        assert!(Flavor::NodeV2.forwards_disconnect());
        assert!(!Flavor::V4.auto_connects_root());
        assert_eq!(Flavor::V4.upstream_sio(), socketio::Revision::V5);
    }

    #[test]
    fn config_flavor_maps_to_the_same_name() {
        for name in UpstreamFlavor::NAMES {
            let config: UpstreamFlavor = name.parse().expect("config accepts its own names");
            assert_eq!(Flavor::from(config).name(), name);
        }
    }

    #[test]
    fn flavor_deserializes_from_its_config_name() {
        let f: Flavor = serde_json::from_str("\"go-1.4\"").expect("valid flavor");
        assert_eq!(f, Flavor::Go14);
        assert!(serde_json::from_str::<Flavor>("\"node\"").is_err());
    }
}
