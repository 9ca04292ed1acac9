//! What the normalizer asks its caller (the pump) to do. The normalizer never
//! performs I/O: every event it is fed yields zero or more [`Action`]s, pushed
//! into a caller-owned `Vec` that is reused across packets.
use std::fmt;

use crate::protocol::socketio::Message;
use crate::protocol::socketio::connect::Query;

/// One upstream Engine.IO session ("leg") of a client session. Ids are never
/// reused within one normalizer, so a late event from a closed leg is
/// recognised and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegId(pub u32);

impl fmt::Display for LegId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An instruction for the pump, in the order it must be carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Open an upstream Engine.IO session whose handshake URL carries
    /// `query` (the application part; the leg adds `EIO` and `transport`).
    /// Answer with [`super::Normalizer::on_leg_open`] or
    /// [`super::Normalizer::on_leg_failed`].
    OpenLeg { leg: LegId, query: Query },
    /// Send a Socket.IO message (packet + attachments) on an open leg.
    ToUpstream { leg: LegId, msg: Message },
    /// Send a Socket.IO message (packet + attachments) to the client.
    ToClient { msg: Message },
    /// Close that upstream session (EIO `1`, then close). No
    /// `on_leg_closed` is needed for it afterwards (it is ignored).
    CloseLeg { leg: LegId },
    /// Close the client's Engine.IO session; every leg was closed by a
    /// `CloseLeg` just before. Later events are ignored.
    CloseClient { reason: &'static str },
    /// A packet was dropped on purpose; log `reason` (at trace/debug).
    Drop { reason: &'static str },
}

/// Reasons carried by [`Action::Drop`] and [`Action::CloseClient`], public so
/// callers and tests can match on them.
pub mod reason {
    /// Upstream packet on a namespace whose CONNECT reply has not arrived
    /// (go fires the root `connection` handler on every leg; row 7).
    pub const PRE_CONNECT: &str = "upstream packet before the namespace CONNECT reply";
    /// Upstream EVENT named `connect`, `disconnect`, … for an SIO5 client (row 35).
    pub const RESERVED_EVENT: &str = "event name reserved in SIO5";
    /// Upstream packet for a namespace the client is not connected to.
    pub const UNKNOWN_UPSTREAM_NSP: &str =
        "upstream packet for a namespace the client has not connected";
    /// Root-tagged upstream packet on a namespace's own go-1.4/go-modern leg
    /// (that session's root socket; the client has a root leg for that).
    pub const ROOT_ON_NAMESPACE_LEG: &str = "root packet on a namespace leg";
    /// Upstream packet from a leg that was closed already.
    pub const CLOSED_LEG: &str = "upstream packet on a closed leg";
    /// A second CONNECT reply for a connected namespace.
    pub const DUPLICATE_REPLY: &str = "duplicate CONNECT reply from upstream";
    /// SIO4 client packet for a namespace it never connected.
    pub const UNKNOWN_CLIENT_NSP: &str = "client packet for a namespace it has not connected";
    /// Client DISCONNECT for a namespace that is not connected.
    pub const UNKNOWN_DISCONNECT: &str = "client DISCONNECT for a namespace it has not connected";
    /// A client sent type 4 (only servers send ERROR / CONNECT_ERROR).
    pub const CLIENT_CONNECT_ERROR: &str = "client sent a CONNECT_ERROR packet";
    /// Root CONNECT auth/query that cannot reach an upstream already open.
    pub const LATE_ROOT_QUERY: &str = "root CONNECT query ignored: upstream session already open";

    /// SIO5 client sent CONNECT for a namespace it is connected to (row 52).
    pub const DUPLICATE_CONNECT: &str = "duplicate CONNECT for a connected namespace";
    /// SIO5 client sent a packet on a namespace it never connected.
    pub const NOT_CONNECTED: &str = "packet for a namespace that is not connected";
    /// Too many client packets held while a namespace CONNECT is pending.
    pub const PENDING_OVERFLOW: &str = "too many packets before the namespace connected";
    /// The root (or the only, multiplexed) upstream session closed.
    pub const UPSTREAM_CLOSED: &str = "upstream session closed";
    /// The upstream session opened at the client's handshake failed.
    pub const UPSTREAM_FAILED: &str = "upstream session could not be opened";
}
