//! Every label value siogate exports, as enums fixed at compile time, and
//! the mappings from the protocol and server types the data path already
//! has in hand (an Engine.IO [`Packet`], a [`CloseReason`], an HTTP status).
//! A mapping is a `match`: no allocation, no string comparison.
use super::family::label;
use crate::limits::Refusal;
use crate::protocol::engineio::{self, Packet};
use crate::protocol::socketio::PacketKind;
use crate::server::backend::{CloseReason, TransportKind};

label!(
    /// The mode of this process (a constant label of `siogate_info` and
    /// `siogate_sessions`).
    Mode, "mode", { Unknown => "unknown", Standalone => "standalone", Proxy => "proxy" }
);

label!(
    /// The client transport a session is on (an upgrade in progress counts
    /// as polling).
    Transport, "transport", { Polling => "polling", WebSocket => "websocket" }
);

label!(
    /// The Engine.IO protocol revision of a session.
    Eio, "eio", { V3 => "3", V4 => "4" }
);

label!(
    /// Which way a packet or byte went, seen from siogate: `in` from the
    /// client (or, on an upstream leg, from the upstream), `out` to it.
    Direction, "direction", { In => "in", Out => "out" }
);

label!(
    /// Engine.IO packet types (`binary` is a binary message).
    EioType, "type", {
        Open => "open", Close => "close", Ping => "ping", Pong => "pong",
        Message => "message", Binary => "binary", Upgrade => "upgrade", Noop => "noop",
    }
);

label!(
    /// Socket.IO packet types, read from the first byte of an Engine.IO
    /// message (attachments are not Socket.IO packets of their own).
    SioType, "type", {
        Connect => "connect", Disconnect => "disconnect", Event => "event", Ack => "ack",
        ConnectError => "connect_error", BinaryEvent => "binary_event", BinaryAck => "binary_ack",
    }
);

label!(
    /// Why a session ended ([`CloseReason`] without its detail text).
    DisconnectReason, "reason", {
        ClientClose => "client_close", TransportError => "transport_error",
        PingTimeout => "ping_timeout", ProtocolError => "protocol_error",
        QueueFull => "queue_full", Backend => "backend", Shutdown => "shutdown",
        RateLimit => "rate_limit", IdleTimeout => "idle_timeout",
    }
);

label!(
    /// What the proxy normalizer did (proxy mode): rewrites it applied,
    /// upstream sessions it opened or closed, and packets it dropped on
    /// purpose (by reason).
    NormalizeKind, "kind", {
        /// A CONNECT sent upstream (namespace query moved to the leg URL or
        /// the auth object, per flavor).
        ConnectUpstream => "connect_upstream",
        /// A CONNECT reply to the client, rewritten to the bare namespace
        /// (and a generated sid for SIO5 clients).
        ConnectReply => "connect_reply",
        /// An upstream ERROR / leg failure turned into the client's
        /// CONNECT_ERROR of its revision.
        ConnectError => "connect_error",
        /// A DISCONNECT to the client (namespace lost upstream).
        Disconnect => "disconnect",
        /// An upstream session opened for a namespace or the client.
        LegOpen => "leg_open",
        /// An upstream session closed instead of forwarding a DISCONNECT.
        LegClose => "leg_close",
        /// The client's session closed by the normalizer.
        ClientClose => "client_close",
        /// Upstream packet before the namespace's CONNECT reply (go's root
        /// `connection` firing on every leg).
        DropPreConnect => "drop_pre_connect",
        /// Upstream event name reserved in SIO5.
        DropReservedEvent => "drop_reserved_event",
        /// Packet for a namespace that is not connected (either side).
        DropUnknownNamespace => "drop_unknown_namespace",
        /// Duplicate CONNECT or CONNECT reply.
        DropDuplicate => "drop_duplicate",
        /// Any other packet dropped on purpose.
        DropOther => "drop_other",
    }
);

label!(
    /// Which bounded queue overflowed: a client session's outbound queue
    /// (the client stopped reading) or a leg's channel to its upstream.
    Queue, "queue", { Client => "client", Upstream => "upstream" }
);

label!(
    /// HTTP status of a push API answer (codes the API uses; `other` for
    /// anything else).
    Status, "status", {
        S200 => "200", S400 => "400", S401 => "401", S403 => "403", S404 => "404",
        S405 => "405", S413 => "413", S500 => "500", S502 => "502", S503 => "503",
        S504 => "504", Other => "other",
    }
);

label!(
    /// Result of a TLS handshake or certificate reload.
    Outcome, "outcome", { Ok => "ok", Error => "error", Timeout => "timeout" }
);

label!(
    /// Result of dialing an upstream (proxy mode).
    DialOutcome, "outcome", { Ok => "ok", Failed => "failed", Refused => "refused" }
);

label!(
    /// Why the handshake of an upstream leg (dial to Engine.IO open packet)
    /// failed (proxy mode).
    LegFailure, "reason", {
        /// TCP connect (or name resolution) failed.
        Connect => "connect",
        /// A stage (connect, TLS, upgrade, open packet) took too long.
        Timeout => "timeout",
        /// TLS setup or handshake failed.
        Tls => "tls",
        /// The upstream answered the upgrade with an HTTP error status.
        Refused => "refused",
        /// The WebSocket upgrade failed otherwise.
        Handshake => "handshake",
        /// A WebSocket read failed before the open packet.
        WebSocket => "websocket",
        /// The first packet was not a valid Engine.IO open packet.
        BadOpen => "bad_open",
    }
);

label!(
    /// Which limit refused a connection, handshake or packet.
    LimitKind, "kind", {
        /// The global connection limit.
        Connections => "connections",
        /// The per-client-IP connection limit.
        ConnectionsPerIp => "connections_per_ip",
        /// The global Engine.IO session limit.
        Sessions => "sessions",
        /// The per-client-IP Engine.IO session limit.
        SessionsPerIp => "sessions_per_ip",
        /// The per-session packet rate (token bucket).
        Rate => "rate",
        /// The HTTP/Engine.IO handshake took too long.
        HandshakeTimeout => "handshake_timeout",
        /// A silent client was closed.
        IdleTimeout => "idle_timeout",
        /// Too many namespaces in one session.
        Namespaces => "namespaces",
        /// URL or query too long.
        UrlLength => "url_length",
        /// `Origin` not on the allow-list.
        Origin => "origin",
    }
);

impl From<TransportKind> for Transport {
    fn from(t: TransportKind) -> Transport {
        match t {
            TransportKind::Polling => Transport::Polling,
            TransportKind::WebSocket => Transport::WebSocket,
        }
    }
}

impl From<engineio::Revision> for Eio {
    fn from(r: engineio::Revision) -> Eio {
        match r {
            engineio::Revision::V3 => Eio::V3,
            engineio::Revision::V4 => Eio::V4,
        }
    }
}

impl From<Refusal> for LimitKind {
    fn from(r: Refusal) -> LimitKind {
        match r {
            Refusal::Connections => LimitKind::Connections,
            Refusal::ConnectionsPerIp => LimitKind::ConnectionsPerIp,
            Refusal::Sessions => LimitKind::Sessions,
            Refusal::SessionsPerIp => LimitKind::SessionsPerIp,
            Refusal::RateLimit => LimitKind::Rate,
            Refusal::HandshakeTimeout => LimitKind::HandshakeTimeout,
            Refusal::IdleTimeout => LimitKind::IdleTimeout,
            Refusal::Namespaces => LimitKind::Namespaces,
            Refusal::UrlLength => LimitKind::UrlLength,
            Refusal::Origin => LimitKind::Origin,
        }
    }
}

impl From<&CloseReason> for DisconnectReason {
    fn from(r: &CloseReason) -> DisconnectReason {
        match r {
            CloseReason::ClientClose => DisconnectReason::ClientClose,
            CloseReason::TransportError => DisconnectReason::TransportError,
            CloseReason::PingTimeout => DisconnectReason::PingTimeout,
            CloseReason::ProtocolError(_) => DisconnectReason::ProtocolError,
            CloseReason::QueueFull => DisconnectReason::QueueFull,
            CloseReason::Backend(_) => DisconnectReason::Backend,
            CloseReason::Shutdown => DisconnectReason::Shutdown,
            CloseReason::Limit(Refusal::IdleTimeout) => DisconnectReason::IdleTimeout,
            // Only the packet rate and the idle timeout close sessions.
            CloseReason::Limit(_) => DisconnectReason::RateLimit,
        }
    }
}

impl From<PacketKind> for SioType {
    fn from(k: PacketKind) -> SioType {
        match k {
            PacketKind::Connect => SioType::Connect,
            PacketKind::Disconnect => SioType::Disconnect,
            PacketKind::Event => SioType::Event,
            PacketKind::Ack => SioType::Ack,
            PacketKind::ConnectError => SioType::ConnectError,
            PacketKind::BinaryEvent => SioType::BinaryEvent,
            PacketKind::BinaryAck => SioType::BinaryAck,
        }
    }
}

impl EioType {
    /// The type of an Engine.IO packet.
    pub fn of(p: &Packet) -> EioType {
        match p {
            Packet::Open(_) => EioType::Open,
            Packet::Close => EioType::Close,
            Packet::Ping(_) => EioType::Ping,
            Packet::Pong(_) => EioType::Pong,
            Packet::Message(_) => EioType::Message,
            Packet::Binary(_) => EioType::Binary,
            Packet::Upgrade => EioType::Upgrade,
            Packet::Noop => EioType::Noop,
        }
    }
}

impl SioType {
    /// The Socket.IO type of an Engine.IO text message (its first byte),
    /// None for other packets or a message that is not Socket.IO.
    pub fn of(p: &Packet) -> Option<SioType> {
        match p {
            Packet::Message(text) => PacketKind::from_digit(*text.first()?).map(SioType::from),
            _ => None,
        }
    }
}

impl Status {
    /// The label of an HTTP status code.
    pub fn of(code: u16) -> Status {
        match code {
            200 => Status::S200,
            400 => Status::S400,
            401 => Status::S401,
            403 => Status::S403,
            404 => Status::S404,
            405 => Status::S405,
            413 => Status::S413,
            500 => Status::S500,
            502 => Status::S502,
            503 => Status::S503,
            504 => Status::S504,
            _ => Status::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn packet_types_come_from_the_packet() {
        let event = Packet::Message(Bytes::from_static(b"2[\"a\"]"));
        assert_eq!(EioType::of(&event), EioType::Message);
        assert_eq!(SioType::of(&event), Some(SioType::Event));
        let cerr = Packet::Message(Bytes::from_static(b"4/chat,{}"));
        assert_eq!(SioType::of(&cerr), Some(SioType::ConnectError));
        assert_eq!(SioType::of(&Packet::Message(Bytes::new())), None);
        assert_eq!(SioType::of(&Packet::Close), None);
        assert_eq!(EioType::of(&Packet::Noop).as_str(), "noop");
    }

    #[test]
    fn statuses_and_close_reasons_map_to_fixed_labels() {
        assert_eq!(Status::of(401), Status::S401);
        assert_eq!(Status::of(418).as_str(), "other");
        let r = CloseReason::ProtocolError("bad".into());
        assert_eq!(DisconnectReason::from(&r).as_str(), "protocol_error");
    }
}
