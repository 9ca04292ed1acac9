//! One Engine.IO packet (`0`..`6` + data) and its WebSocket frame form.
use bytes::Bytes;

use super::{OpenPacket, ParseError, Revision};

/// A decoded Engine.IO packet. Text data stays as the original `Bytes`
/// (validated UTF-8), so relaying it costs no copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// `0{...}` — the handshake.
    Open(OpenPacket),
    /// `1`
    Close,
    /// `2` with optional data (`2probe`).
    Ping(Bytes),
    /// `3` with optional data (`3probe`).
    Pong(Bytes),
    /// `4<text>` — the text after the type digit (UTF-8, checked).
    Message(Bytes),
    /// A binary message: the raw bytes, without any EIO3 type byte or base64.
    Binary(Bytes),
    /// `5`
    Upgrade,
    /// `6`
    Noop,
}

/// One WebSocket message, as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsFrame {
    /// A text frame (valid UTF-8).
    Text(Bytes),
    /// A binary frame.
    Binary(Bytes),
}

impl Packet {
    /// Decodes a text packet (a WebSocket text frame or one packet of a
    /// text polling payload). `b<base64>` (EIO4) and `b4<base64>` (EIO3) are
    /// accepted as binary messages.
    pub fn decode_text(rev: Revision, text: Bytes) -> Result<Packet, ParseError> {
        packet_impl::decode_text(rev, text)
    }

    /// Decodes a WebSocket binary frame: EIO3 requires the leading type byte
    /// (0x04 for a message), EIO4 frames are raw message bytes.
    pub fn decode_binary(rev: Revision, data: Bytes) -> Result<Packet, ParseError> {
        packet_impl::decode_binary(rev, data)
    }

    /// Encodes for a WebSocket message of the given revision.
    pub fn to_ws(&self, rev: Revision) -> WsFrame {
        packet_impl::to_ws(self, rev)
    }

    /// Appends the text form (`4hello`, `2probe`, binary as `b<base64>` for
    /// V4 or `b4<base64>` for V3) to `out`.
    pub fn encode_text(&self, rev: Revision, out: &mut Vec<u8>) {
        packet_impl::encode_text(self, rev, out)
    }

    /// Upper bound of the encoded text length, for reserving capacity once.
    pub fn size_hint(&self) -> usize {
        packet_impl::size_hint(self)
    }
}

mod packet_impl {
    use super::*;
    pub fn decode_text(_rev: Revision, _text: Bytes) -> Result<Packet, ParseError> {
        todo!("engineio::Packet::decode_text")
    }
    pub fn decode_binary(_rev: Revision, _data: Bytes) -> Result<Packet, ParseError> {
        todo!("engineio::Packet::decode_binary")
    }
    pub fn to_ws(_p: &Packet, _rev: Revision) -> WsFrame {
        todo!("engineio::Packet::to_ws")
    }
    pub fn encode_text(_p: &Packet, _rev: Revision, _out: &mut Vec<u8>) {
        todo!("engineio::Packet::encode_text")
    }
    pub fn size_hint(_p: &Packet) -> usize {
        todo!("engineio::Packet::size_hint")
    }
}
