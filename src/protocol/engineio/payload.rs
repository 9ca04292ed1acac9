//! Polling payloads: many packets in one HTTP body (PROTOCOL.md §1.6, §1.7).
//!
//! This file picks the framing; the framings themselves live in `text3`
//! (EIO3 `<len>:<packet>`), `xhr2` (EIO3 binary) and `jsonp`. EIO4 `\x1e`
//! framing is small enough to live here. Decoders reject the whole body on
//! any error (as engine.io does) and never panic.
use bytes::Bytes;

use super::{Packet, ParseError, Revision, jsonp, text3, xhr2};

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

/// EIO4 packet separator (record separator).
const SEPARATOR: u8 = 0x1e;

/// Content type of an XHR2 binary body.
pub const BINARY_CONTENT_TYPE: &str = "application/octet-stream";
/// Content type of a text body (EIO3 text framing or EIO4).
pub const TEXT_CONTENT_TYPE: &str = "text/plain; charset=UTF-8";
/// Content type of a JSONP response.
pub const JSONP_CONTENT_TYPE: &str = "text/javascript; charset=UTF-8";

impl PayloadEncoding {
    /// What engine.io 3.x sends to a client: XHR2 framing only for an EIO3
    /// payload holding binary to a client that did not ask for `b64`
    /// (JSONP always implies `b64`); text framing otherwise.
    pub fn for_response(
        rev: Revision,
        rule: LengthRule,
        b64: bool,
        packets: &[Packet],
    ) -> PayloadEncoding {
        let has_binary = packets.iter().any(|p| matches!(p, Packet::Binary(_)));
        match rev {
            Revision::V4 => PayloadEncoding::V4,
            Revision::V3 if has_binary && !b64 => PayloadEncoding::V3Binary,
            Revision::V3 => PayloadEncoding::V3Text(rule),
        }
    }

    /// The `Content-Type` of a body in this encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            PayloadEncoding::V3Binary => BINARY_CONTENT_TYPE,
            PayloadEncoding::V4 | PayloadEncoding::V3Text(_) => TEXT_CONTENT_TYPE,
        }
    }
}

/// True if a request's `Content-Type` announces an XHR2 binary body (the
/// `binary_body` argument of [`decode`]). Parameters and case are ignored.
pub fn is_binary_content_type(content_type: &str) -> bool {
    let mime = content_type.split(';').next().unwrap_or_default().trim();
    mime.eq_ignore_ascii_case(BINARY_CONTENT_TYPE)
}

/// Splits a polling body into packets. `binary_body` is true when the
/// request's Content-Type was `application/octet-stream` (EIO3 XHR2 framing;
/// ignored for EIO4, which is always text). An empty body is an error in
/// every framing (use [`decode_upstream`] for go-engine.io's empty polls);
/// EIO3 `0:` means no packets. More than `max_packets` packets is
/// [`ParseError::TooManyPackets`].
pub fn decode(
    rev: Revision,
    rule: LengthRule,
    binary_body: bool,
    body: &Bytes,
    max_packets: usize,
) -> Result<Vec<Packet>, ParseError> {
    match rev {
        Revision::V4 => decode_v4(body, max_packets),
        Revision::V3 if binary_body => xhr2::decode(body, max_packets),
        Revision::V3 => text3::decode(rule, body, max_packets),
    }
}

/// [`decode`] for response bodies from an upstream: an empty body is "no
/// packets" rather than an error, because go-engine.io v1.0.1 answers some
/// GET polls with an empty 200 (PROTOCOL.md §1.6, vector 20). Never use this
/// for client bodies.
pub fn decode_upstream(
    rev: Revision,
    rule: LengthRule,
    binary_body: bool,
    body: &Bytes,
    max_packets: usize,
) -> Result<Vec<Packet>, ParseError> {
    if body.is_empty() {
        return Ok(Vec::new());
    }
    decode(rev, rule, binary_body, body, max_packets)
}

/// Decodes a JSONP POST body (`d=<form-encoded payload>`, newlines
/// pre-escaped by the client) into packets; the payload inside is text
/// framed for `rev`.
pub fn decode_jsonp(
    rev: Revision,
    rule: LengthRule,
    body: &[u8],
    max_packets: usize,
) -> Result<Vec<Packet>, ParseError> {
    let payload = decode_jsonp_post(body)?;
    decode(rev, rule, false, &payload, max_packets)
}

/// Extracts the payload text from a JSONP POST body (`d=…`), undoing the
/// form encoding and engine.io's `\n` pre-escaping. Exactly one `d` field
/// is required.
pub fn decode_jsonp_post(body: &[u8]) -> Result<Bytes, ParseError> {
    jsonp::decode_post(body)
}

fn decode_v4(body: &Bytes, max_packets: usize) -> Result<Vec<Packet>, ParseError> {
    if body.is_empty() {
        return Err(ParseError::EmptyPayload);
    }
    std::str::from_utf8(body).map_err(|_| ParseError::InvalidUtf8)?;
    let mut packets = Vec::new();
    let mut start = 0;
    let ends = memchr::memchr_iter(SEPARATOR, body).chain(std::iter::once(body.len()));
    for end in ends {
        if packets.len() >= max_packets {
            return Err(ParseError::TooManyPackets(max_packets));
        }
        packets.push(Packet::decode_text_utf8(
            Revision::V4,
            body.slice(start..end),
        )?);
        start = end + 1;
    }
    Ok(packets)
}

/// Upper bound of the encoded body length.
pub fn size_hint(enc: PayloadEncoding, packets: &[Packet]) -> usize {
    // `<len>:` or `<flag><digits>0xff` is at most 1 + 20 + 1 bytes.
    let per_packet = match enc {
        PayloadEncoding::V4 => 1,
        PayloadEncoding::V3Text(_) | PayloadEncoding::V3Binary => 22,
    };
    2 + packets
        .iter()
        .map(|p| p.size_hint() + per_packet)
        .sum::<usize>()
}

/// Joins packets into one polling body, allocated once from [`size_hint`].
/// An empty list gives `0:` in EIO3 text framing and an empty body in the
/// other framings (so don't answer a poll with an empty list: send `6`).
pub fn encode(enc: PayloadEncoding, packets: &[Packet]) -> Bytes {
    let mut out = Vec::with_capacity(size_hint(enc, packets));
    encode_into(enc, packets, &mut out);
    Bytes::from(out)
}

/// [`encode`] appending to a caller's buffer.
pub fn encode_into(enc: PayloadEncoding, packets: &[Packet], out: &mut Vec<u8>) {
    match enc {
        PayloadEncoding::V4 => {
            for (i, p) in packets.iter().enumerate() {
                if i > 0 {
                    out.push(SEPARATOR);
                }
                p.encode_text(Revision::V4, out);
            }
        }
        PayloadEncoding::V3Text(rule) => text3::encode(rule, packets, out),
        PayloadEncoding::V3Binary => xhr2::encode(packets, out),
    }
}

/// The JSONP wrapper `___eio[<j>]("<payload as a JS string>");` (EIO3 text
/// framing inside). Escapes like engine.io's `JSON.stringify` plus
/// `\u2028`/`\u2029`.
pub fn encode_jsonp(index: u32, text_body: &[u8]) -> Bytes {
    jsonp::encode(index, text_body)
}

#[cfg(test)]
#[path = "payload_tests.rs"]
mod tests;
