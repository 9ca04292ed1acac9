//! One Engine.IO packet (`0`..`6` + data) and its WebSocket frame form
//! (PROTOCOL.md §1.3, §1.8).
//!
//! Decoding slices the input `Bytes` (no copy for text data); only base64
//! binary allocates. Encoding appends to a caller's buffer so a polling
//! payload is built with one allocation.
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use bytes::{BufMut, Bytes, BytesMut};

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

/// Standard alphabet, padding written on encode. Decoding is lenient like
/// Node's `Buffer.from(s, "base64")`: padding optional, trailing bits allowed.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// The type byte of a message, in text (`'4'`) and EIO3 binary (`0x04`) form.
const MESSAGE_DIGIT: u8 = b'4';
const MESSAGE_BYTE: u8 = 0x04;

/// Length of `n` bytes as padded base64.
pub(crate) fn base64_len(n: usize) -> usize {
    n.div_ceil(3).saturating_mul(4)
}

/// Appends `data` as padded standard base64.
pub(crate) fn push_base64(data: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + base64_len(data.len()), 0);
    let written = BASE64
        .encode_slice(data, &mut out[start..])
        .expect("buffer sized by base64_len");
    out.truncate(start + written);
}

fn decode_base64(text: &[u8]) -> Result<Bytes, ParseError> {
    BASE64
        .decode(text)
        .map(Bytes::from)
        .map_err(|_| ParseError::InvalidBase64)
}

impl Packet {
    /// Decodes a text packet (a WebSocket text frame or one packet of a
    /// text polling payload). `b<base64>` (EIO4) and `b4<base64>` (EIO3) are
    /// accepted as binary messages.
    pub fn decode_text(rev: Revision, text: Bytes) -> Result<Packet, ParseError> {
        std::str::from_utf8(&text).map_err(|_| ParseError::InvalidUtf8)?;
        Packet::decode_text_utf8(rev, text)
    }

    /// [`Packet::decode_text`] for input already known to be UTF-8 (a
    /// tungstenite text frame, a slice of a validated polling body). Invalid
    /// UTF-8 here is not unsafe, but it would be relayed as is.
    pub(crate) fn decode_text_utf8(rev: Revision, text: Bytes) -> Result<Packet, ParseError> {
        let Some(&kind) = text.first() else {
            return Err(ParseError::Empty);
        };
        let data = text.slice(1..);
        match kind {
            b'0' => OpenPacket::parse_json(&data).map(Packet::Open),
            b'1' => Ok(Packet::Close),
            b'2' => Ok(Packet::Ping(data)),
            b'3' => Ok(Packet::Pong(data)),
            MESSAGE_DIGIT => Ok(Packet::Message(data)),
            b'5' => Ok(Packet::Upgrade),
            b'6' => Ok(Packet::Noop),
            b'b' => decode_base64_packet(rev, &data),
            other => Err(ParseError::UnknownType(other)),
        }
    }

    /// Decodes a WebSocket binary frame: EIO3 requires the leading type byte
    /// (0x04 for a message), EIO4 frames are raw message bytes.
    pub fn decode_binary(rev: Revision, data: Bytes) -> Result<Packet, ParseError> {
        match rev {
            Revision::V4 => Ok(Packet::Binary(data)),
            Revision::V3 => decode_typed_binary(data),
        }
    }

    /// Encodes for a WebSocket message of the given revision.
    pub fn to_ws(&self, rev: Revision) -> WsFrame {
        match (self, rev) {
            (Packet::Binary(data), Revision::V4) => WsFrame::Binary(data.clone()),
            (Packet::Binary(data), Revision::V3) => {
                let mut buf = BytesMut::with_capacity(1 + data.len());
                buf.put_u8(MESSAGE_BYTE);
                buf.put_slice(data);
                WsFrame::Binary(buf.freeze())
            }
            _ => {
                let mut out = Vec::with_capacity(self.size_hint());
                self.encode_text(rev, &mut out);
                WsFrame::Text(Bytes::from(out))
            }
        }
    }

    /// Appends the text form (`4hello`, `2probe`, binary as `b<base64>` for
    /// V4 or `b4<base64>` for V3) to `out`.
    pub fn encode_text(&self, rev: Revision, out: &mut Vec<u8>) {
        match self {
            Packet::Open(open) => {
                out.push(b'0');
                open.encode_json(out);
            }
            Packet::Close => out.push(b'1'),
            Packet::Ping(data) => push_typed(b'2', data, out),
            Packet::Pong(data) => push_typed(b'3', data, out),
            Packet::Message(data) => push_typed(MESSAGE_DIGIT, data, out),
            Packet::Binary(data) => {
                out.push(b'b');
                if rev == Revision::V3 {
                    out.push(MESSAGE_DIGIT);
                }
                push_base64(data, out);
            }
            Packet::Upgrade => out.push(b'5'),
            Packet::Noop => out.push(b'6'),
        }
    }

    /// Upper bound of the encoded text length, for reserving capacity once.
    pub fn size_hint(&self) -> usize {
        match self {
            Packet::Open(open) => 1 + open.json_size_hint(),
            Packet::Ping(data) | Packet::Pong(data) | Packet::Message(data) => 1 + data.len(),
            Packet::Binary(data) => 2 + base64_len(data.len()),
            Packet::Close | Packet::Upgrade | Packet::Noop => 1,
        }
    }
}

fn push_typed(digit: u8, data: &[u8], out: &mut Vec<u8>) {
    out.reserve(1 + data.len());
    out.push(digit);
    out.extend_from_slice(data);
}

/// `b<base64>` (EIO4) or `b4<base64>` (EIO3); `data` is what follows `b`.
fn decode_base64_packet(rev: Revision, data: &[u8]) -> Result<Packet, ParseError> {
    let encoded = match rev {
        Revision::V4 => data,
        Revision::V3 => match data.split_first() {
            None => return Err(ParseError::Empty),
            Some((&MESSAGE_DIGIT, rest)) => rest,
            // `b2…` would be a ping with binary data: legal in engine.io-parser
            // 2.x, never sent by any peer, and not representable here.
            Some((b'0'..=b'6', _)) => return Err(ParseError::UnexpectedBinary),
            Some((&other, _)) => return Err(ParseError::UnknownType(other)),
        },
    };
    decode_base64(encoded).map(Packet::Binary)
}

/// An EIO3 binary frame (or XHR2 binary slot): type byte, then data.
fn decode_typed_binary(data: Bytes) -> Result<Packet, ParseError> {
    let Some(&kind) = data.first() else {
        return Err(ParseError::Empty);
    };
    let rest = data.slice(1..);
    let utf8 = |rest: Bytes| match std::str::from_utf8(&rest) {
        Ok(_) => Ok(rest),
        Err(_) => Err(ParseError::InvalidUtf8),
    };
    match kind {
        0 => OpenPacket::parse_json(&rest).map(Packet::Open),
        1 => Ok(Packet::Close),
        2 => utf8(rest).map(Packet::Ping),
        3 => utf8(rest).map(Packet::Pong),
        MESSAGE_BYTE => Ok(Packet::Binary(rest)),
        5 => Ok(Packet::Upgrade),
        6 => Ok(Packet::Noop),
        other => Err(ParseError::UnknownType(other)),
    }
}

#[cfg(test)]
#[path = "packet_tests.rs"]
mod tests;
