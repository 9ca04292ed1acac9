//! Polling payloads: many packets in one HTTP body (PROTOCOL.md §1.6, §1.7).
use bytes::Bytes;

use super::{Packet, ParseError, Revision};

/// How an EIO3 text payload counts `<len>`: JS peers count UTF-16 code
/// units, go-engine.io counts UTF-8 bytes (PROTOCOL.md §1.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthRule {
    Utf16,
    Utf8Bytes,
}

/// How to encode an outgoing polling body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadEncoding {
    /// EIO4: packets joined by `\x1e`, binary as `b<base64>`.
    V4,
    /// EIO3 text framing `<len>:<packet>`, binary as `b4<base64>` (used when
    /// `b64=1`, or when the payload has no binary packet).
    V3Text(LengthRule),
    /// EIO3 XHR2 binary framing (`application/octet-stream`).
    V3Binary,
}

/// Default cap on packets per polling payload (python-engineio uses 16).
pub const DEFAULT_MAX_PACKETS: usize = 16;

/// Splits a polling body into packets. `binary_body` is true when the
/// request's Content-Type was `application/octet-stream` (EIO3 XHR2 framing).
/// For EIO3 text framing, an empty body is an error; `0:` means no packets.
pub fn decode(
    _rev: Revision,
    _rule: LengthRule,
    _binary_body: bool,
    _body: &Bytes,
    _max_packets: usize,
) -> Result<Vec<Packet>, ParseError> {
    todo!("engineio::payload::decode")
}

/// Joins packets into one polling body.
pub fn encode(_enc: PayloadEncoding, _packets: &[Packet]) -> Bytes {
    todo!("engineio::payload::encode")
}

/// The JSONP wrapper `___eio[<j>]("<payload as a JS string>");` (EIO3 text
/// framing inside).
pub fn encode_jsonp(_index: u32, _text_body: &[u8]) -> Bytes {
    todo!("engineio::payload::encode_jsonp")
}
