//! One Socket.IO packet: `<type>[<N>-][<nsp>,][<ackId>][<JSON>]`.
use bytes::Bytes;

use super::{ParseError, Revision};

/// Packet type digit. Type 4 is ERROR in SIO4 and CONNECT_ERROR in SIO5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketKind {
    Connect = 0,
    Disconnect = 1,
    Event = 2,
    Ack = 3,
    ConnectError = 4,
    BinaryEvent = 5,
    BinaryAck = 6,
}

/// A parsed Socket.IO packet. The header fields are views into `raw`; the
/// JSON payload was validated once at decode and is never re-parsed to relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub kind: PacketKind,
    /// Declared attachment count (binary kinds only, else 0).
    pub attachments: usize,
    /// Namespace as on the wire, `/` when absent. For CONNECT this may carry
    /// `?query` (see [`super::connect`]); never percent-decoded.
    pub nsp: Bytes,
    pub ack_id: Option<u64>,
    /// The raw JSON payload (possibly empty). For go-socket.io's trailing
    /// newline, surrounding whitespace is kept as received.
    pub data: Bytes,
    /// For EVENT/BINARY_EVENT: the event name (first array element) if it is a
    /// string, as raw JSON string contents.
    pub event: Option<Bytes>,
    /// The whole original packet text (without the Engine.IO `4`), so an
    /// unchanged packet is relayed as is.
    pub raw: Bytes,
}

impl Packet {
    /// Decodes one Engine.IO message text with the reference algorithm of
    /// PROTOCOL.md §2.3, validating the payload for `rev` (SIO5 rejects
    /// reserved event names). For CONNECT applies the comma recovery rule.
    pub fn decode(_rev: Revision, _text: Bytes) -> Result<Packet, ParseError> {
        todo!("socketio::Packet::decode")
    }

    /// Builds a packet from parts (used when rewriting); `raw` is encoded.
    pub fn new(
        _kind: PacketKind,
        _attachments: usize,
        _nsp: &str,
        _ack_id: Option<u64>,
        _data: Bytes,
    ) -> Packet {
        todo!("socketio::Packet::new")
    }

    /// The namespace as `&str` (the header was validated as UTF-8).
    pub fn nsp_str(&self) -> &str {
        std::str::from_utf8(&self.nsp).unwrap_or("/")
    }

    /// The same packet with another namespace; reuses `data` without parsing.
    pub fn with_nsp(&self, _nsp: &str) -> Packet {
        todo!("socketio::Packet::with_nsp")
    }

    /// The encoded text (what goes after the Engine.IO `4`). Returns `raw`
    /// unchanged — a reference-count bump, no copy.
    pub fn encode(&self) -> Bytes {
        self.raw.clone()
    }
}
