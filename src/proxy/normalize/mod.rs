//! The per-session normalizer: a pure state machine that sits between one
//! client Engine.IO session and its upstream session(s) ("legs") and applies
//! every rewrite of PROTOCOL.md §4.1–§4.4. No I/O, no tokio: the pump feeds
//! it one event at a time (a decoded [`Message`] from either side, a leg that
//! opened, closed or failed) and carries out the [`Action`]s it returns.
//!
//! # Legs
//! - go flavors ([`Flavor::one_leg_per_namespace`]): one upstream session per
//!   client namespace, `/` included. The namespace query (SIO4 client) or the
//!   flattened auth object (SIO5 client) goes into that leg's handshake URL
//!   (handshake query ∪ it, it wins); the CONNECT sent upstream never carries a
//!   query (go-1.4 closes the connection on one, go-legacy echoes it into every
//!   nsp, go-modern drops it). Client DISCONNECTs are not forwarded (they wedge
//!   go-legacy): the leg is closed instead.
//! - `node-v2` and `v4`: one multiplexed leg. `node-v2` gets the query in the
//!   CONNECT nsp (`40/chat?token=abc,`; Node splits it); `v4` gets it merged
//!   into the auth object (`40/chat,{"token":"abc"}`, auth keys win, `pid` and
//!   `offset` kept).
//!
//! # Connecting
//! - SIO4 client: `/` is implicit. [`Normalizer::on_client_open`] opens the
//!   root leg with the handshake query; the upstream's `40` (SIO4 upstreams
//!   send it on open; for `v4` the normalizer sends the root CONNECT itself)
//!   becomes the client's `40`. Replies are always the bare client path
//!   (`40/chat,`), whatever the upstream wrote (`40/chat?token=abc`, `40/chat`,
//!   `40/chat,[]\n`, `40/chat,{"sid":…}`).
//! - SIO5 client: every namespace, `/` included, is connected explicitly. With
//!   an SIO4 upstream the reply `40<nsp,>{"sid":"<generated>"}` is sent only
//!   once both the client's CONNECT and the upstream's `40` arrived; the socket
//!   sid comes from the caller's generator, never the Engine.IO sid.
//! - Client packets on a namespace whose CONNECT is pending are held (bounded
//!   by [`Options::max_pending_packets`]) and sent upstream right after the
//!   reply. Upstream packets on a namespace before its CONNECT reply are go's
//!   implicit root `connection` firing and are dropped by default (row 7).
//! - Duplicate CONNECT: SIO5 client → the client is closed (as socket.io 4
//!   does); SIO4 client → answered again, idempotently (`40/?q,` for a root that
//!   is connected or connecting gets exactly one `40`, no upstream CONNECT).
//!
//! # Relaying
//! Every upstream packet is re-tagged with the client's namespace path; an
//! EVENT/ACK whose nsp already matches is relayed as the same [`Packet`] (its
//! raw `Bytes`), and attachments travel with their packet untouched (the EIO3
//! `0x04` byte is the transport's business). Ack ids pass through unchanged:
//! each upstream session serves exactly one client session, so ids chosen by
//! either side are already unique on the other. ERROR/CONNECT_ERROR payloads
//! are converted between revisions (rows 28–29). For SIO5 clients, upstream
//! events with a name reserved in SIO5 are dropped (row 35).
//!
//! Decode client packets strictly with the client's revision and upstream
//! packets leniently with [`Flavor::upstream_sio`] (go's `[]\n` payloads,
//! reserved event names), before calling in.
//!
//! # Failures
//! A leg that closes while its namespace is connecting yields a CONNECT_ERROR
//! "Invalid namespace" for that namespace only (go-socket.io v1.7.0 closes the
//! connection on unknown namespaces); after the connect, the client gets
//! `41<nsp,>`. Losing the root leg or the multiplexed leg closes the client. A
//! leg that cannot be opened answers its pending namespaces with CONNECT_ERROR
//! "Connection refused", except the SIO4 root leg opened at the handshake,
//! which closes the client.
//!
//! # Policy notes
//! - Auth objects are flattened for SIO4 upstreams by
//!   [`Query::from_auth`] (strings as is, numbers/bools stringified, nested
//!   values as JSON, `pid`/`offset` dropped).
//! - `v4`: the merged auth object is written with `serde_json::Map`, i.e. keys
//!   in sorted order.
//! - `node-v2` with an SIO5 client: the root's auth can only reach the URL if
//!   the root is the first namespace connected; otherwise it is dropped (the
//!   upstream session is already open).
use crate::protocol::socketio::connect::Query;
use crate::protocol::socketio::{Message, Packet, PacketKind, Revision};

mod action;
mod connect;
mod data;
mod flavor;
mod legs;
mod reply;
mod wire;

#[cfg(test)]
mod harness;
#[cfg(test)]
mod lifecycle;
#[cfg(test)]
mod matrix;
#[cfg(test)]
mod props;
#[cfg(test)]
mod vectors;
#[cfg(test)]
mod vectors_sio5;

pub use action::{Action, LegId, reason};
pub use flavor::{Flavor, UnknownFlavor};

/// Tunables of the normalizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Drop upstream packets that arrive on a namespace before its CONNECT
    /// reply (go fires the root `connection` handler on every session).
    /// `false` relays them re-tagged. Default `true` (PROTOCOL.md row 7).
    pub drop_pre_connect_packets: bool,
    /// Client packets held per namespace while its CONNECT is pending; one
    /// more closes the client. Default 64 packets (row 36).
    pub max_pending_packets: usize,
    /// Drop upstream EVENTs whose name is reserved in SIO5 (`disconnect`, …)
    /// instead of relaying them to SIO5 clients, whose decoder would close.
    /// Default `true` (row 35).
    pub drop_reserved_events: bool,
    /// Namespaces one client may have connected or connecting at once (each
    /// is an upstream session for go flavors). Further CONNECTs get a
    /// CONNECT_ERROR. Default 32.
    pub max_namespaces: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            drop_pre_connect_packets: true,
            max_pending_packets: 64,
            drop_reserved_events: true,
            max_namespaces: 32,
        }
    }
}

/// One client namespace, connected or connecting.
#[derive(Debug)]
struct Nsp {
    /// The client's path (`/`, `/chat`), never percent-decoded; replies and
    /// re-tagged packets carry exactly this.
    path: String,
    /// The leg serving it.
    leg: LegId,
    /// The reply was sent to the client.
    connected: bool,
    /// Client packets held until `connected`.
    held: Vec<Message>,
    /// The SIO4 root opened at the client's handshake (no client CONNECT).
    implicit: bool,
}

/// One upstream Engine.IO session.
#[derive(Debug)]
struct Leg {
    id: LegId,
    /// `on_leg_open` was called; until then packets wait in `outbox`.
    open: bool,
    outbox: Vec<Message>,
    /// An SIO4 upstream sent its implicit root `40` on this leg.
    root_seen: bool,
    /// … and the root has not been disconnected since.
    root_ready: bool,
}

/// The normalizer of one client session. See the module docs.
pub struct Normalizer {
    client: Revision,
    flavor: Flavor,
    handshake: Query,
    opts: Options,
    sid_gen: Box<dyn FnMut() -> String + Send>,
    nsps: Vec<Nsp>,
    legs: Vec<Leg>,
    next_leg: u32,
    closed: bool,
}

impl std::fmt::Debug for Normalizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Normalizer")
            .field("client", &self.client)
            .field("flavor", &self.flavor)
            .field("nsps", &self.nsps)
            .field("legs", &self.legs)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl Normalizer {
    /// A normalizer for a client speaking `client`, in front of a `flavor`
    /// upstream. `handshake_query` is the client's handshake URL query
    /// (reserved Engine.IO keys removed); `sid_gen` makes the socket sids of
    /// bridged SIO5 CONNECT replies (e.g. 20 random base64url chars).
    pub fn new(
        client: Revision,
        flavor: Flavor,
        handshake_query: Query,
        opts: Options,
        sid_gen: impl FnMut() -> String + Send + 'static,
    ) -> Normalizer {
        Normalizer {
            client,
            flavor,
            handshake: handshake_query,
            opts,
            sid_gen: Box::new(sid_gen),
            nsps: Vec::new(),
            legs: Vec::new(),
            next_leg: 1,
            closed: false,
        }
    }

    /// The client's Socket.IO revision.
    pub fn client(&self) -> Revision {
        self.client
    }

    /// The upstream flavor.
    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// True once a `CloseClient` was emitted (or the client closed); every
    /// later event is ignored.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The client's Engine.IO session was opened. An SIO4 client is connected
    /// to `/` implicitly: this opens the root leg (PROTOCOL.md §4.0).
    pub fn on_client_open(&mut self, out: &mut Vec<Action>) {
        if self.closed || self.client == Revision::V5 || self.nsp_index(b"/").is_some() {
            return;
        }
        let leg = self.open_leg(self.handshake.clone(), out);
        if !self.flavor.auto_connects_root() {
            self.send_up(leg, wire::connect("/", bytes::Bytes::new()), out);
        }
        push_exact_first(
            &mut self.nsps,
            Nsp {
                path: "/".to_owned(),
                leg,
                connected: false,
                held: Vec::new(),
                implicit: true,
            },
        );
    }

    /// One complete message (packet + attachments) from the client.
    pub fn on_client(&mut self, msg: Message, out: &mut Vec<Action>) {
        if self.closed {
            return;
        }
        match msg.packet.kind {
            PacketKind::Connect => self.client_connect(msg, out),
            PacketKind::Disconnect => self.client_disconnect(msg, out),
            PacketKind::ConnectError => out.push(Action::Drop {
                reason: reason::CLIENT_CONNECT_ERROR,
            }),
            PacketKind::Event
            | PacketKind::Ack
            | PacketKind::BinaryEvent
            | PacketKind::BinaryAck => self.client_data(msg, out),
        }
    }

    /// The client's session ended: close every leg.
    pub fn on_client_closed(&mut self, out: &mut Vec<Action>) {
        if self.closed {
            return;
        }
        out.extend(self.legs.drain(..).map(|l| Action::CloseLeg { leg: l.id }));
        self.nsps.clear();
        self.closed = true;
    }

    /// The position of the namespace with exactly this path.
    fn nsp_index(&self, path: &[u8]) -> Option<usize> {
        self.nsps.iter().position(|n| n.path.as_bytes() == path)
    }

    fn leg_index(&self, leg: LegId) -> Option<usize> {
        self.legs.iter().position(|l| l.id == leg)
    }

    /// SIO5 client in front of an SIO4 upstream: the normalizer makes up the
    /// `{"sid"}` CONNECT replies and converts connect errors.
    fn bridged(&self) -> bool {
        self.client != self.flavor.upstream_sio()
    }

    /// Allocates a leg and asks the pump to open it.
    fn open_leg(&mut self, query: Query, out: &mut Vec<Action>) -> LegId {
        let id = LegId(self.next_leg);
        self.next_leg = self.next_leg.wrapping_add(1);
        push_exact_first(
            &mut self.legs,
            Leg {
                id,
                open: false,
                outbox: Vec::new(),
                root_seen: false,
                root_ready: false,
            },
        );
        out.push(Action::OpenLeg { leg: id, query });
        id
    }

    /// Sends on `leg` now if it is open, else queues until `on_leg_open`.
    fn send_up(&mut self, leg: LegId, msg: Message, out: &mut Vec<Action>) {
        if let Some(l) = self.legs.iter_mut().find(|l| l.id == leg) {
            if l.open {
                out.push(Action::ToUpstream { leg, msg });
            } else {
                l.outbox.push(msg);
            }
        }
    }

    /// Forgets `leg` and asks the pump to close it.
    fn close_leg(&mut self, leg: LegId, out: &mut Vec<Action>) {
        if let Some(i) = self.leg_index(leg) {
            self.legs.remove(i);
            out.push(Action::CloseLeg { leg });
        }
    }

    /// Closes every leg, then the client; the normalizer goes inert.
    fn close_client(&mut self, why: &'static str, out: &mut Vec<Action>) {
        out.extend(self.legs.drain(..).map(|l| Action::CloseLeg { leg: l.id }));
        out.push(Action::CloseClient { reason: why });
        self.nsps.clear();
        self.closed = true;
    }

    /// The packet with its nsp set to `path`, re-encoded only if it differs.
    fn retag(packet: Packet, path: &str) -> Packet {
        if packet.nsp.as_ref() == path.as_bytes() {
            packet
        } else {
            packet.with_nsp(path)
        }
    }
}

/// Pushes `item`; the first push allocates room for exactly one (a session
/// has one namespace and one leg far more often than more, and `Vec`'s
/// first allocation holds four).
fn push_exact_first<T>(v: &mut Vec<T>, item: T) {
    if v.capacity() == 0 {
        v.reserve_exact(1);
    }
    v.push(item);
}
