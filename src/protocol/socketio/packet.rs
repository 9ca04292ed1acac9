//! One Socket.IO packet: `<type>[<N>-][<nsp>,][<ackId>][<JSON>]`.
//!
//! Decoding follows socket.io-parser's algorithm (PROTOCOL.md §2.3) by slicing
//! the input: the namespace, the event name and the payload are `Bytes` views
//! of the text, and the payload is validated by one pass of the JSON scanner
//! (no `serde_json::Value` is built). Encoding writes the header once into a
//! buffer sized up front and appends the payload bytes.
//!
//! Two modes: [`DecodeMode::Strict`] is what the reference decoders accept and
//! is meant for client packets; [`DecodeMode::Lenient`] additionally accepts
//! what real upstreams send (see its doc) and leaves dropping reserved event
//! names to the caller via [`Packet::is_reserved_event`].
use bytes::{BufMut, Bytes, BytesMut};

use super::json::{self, Kind};
use super::{MAX_ACK_ID, MAX_ATTACHMENTS, MAX_NSP_LEN, ParseError, Revision};

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

impl PacketKind {
    /// The kind for a type digit (`b'0'`..=`b'6'`).
    pub fn from_digit(d: u8) -> Option<PacketKind> {
        Some(match d {
            b'0' => PacketKind::Connect,
            b'1' => PacketKind::Disconnect,
            b'2' => PacketKind::Event,
            b'3' => PacketKind::Ack,
            b'4' => PacketKind::ConnectError,
            b'5' => PacketKind::BinaryEvent,
            b'6' => PacketKind::BinaryAck,
            _ => return None,
        })
    }

    /// The type digit as written on the wire.
    pub fn digit(self) -> u8 {
        b'0' + self as u8
    }

    /// BINARY_EVENT or BINARY_ACK: attachments follow the packet.
    pub fn is_binary(self) -> bool {
        matches!(self, PacketKind::BinaryEvent | PacketKind::BinaryAck)
    }

    /// EVENT or BINARY_EVENT: the payload is `[name, ...args]`.
    pub fn is_event(self) -> bool {
        matches!(self, PacketKind::Event | PacketKind::BinaryEvent)
    }
}

/// How much a decoder tolerates beyond the reference parsers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DecodeMode {
    /// socket.io-parser 3.4.5 / 4.2.7 rules; SIO5 rejects reserved event
    /// names. Use for packets from clients.
    #[default]
    Strict,
    /// For packets from upstreams, on top of `Strict`: reserved event names
    /// are accepted in SIO5 (the caller drops them, [`Packet::is_reserved_event`]);
    /// CONNECT and DISCONNECT may carry an array (go-socket.io v1.7.0 replies
    /// `40/chat,[]\n`); a whitespace-only payload counts as absent; an SIO5
    /// CONNECT_ERROR may be a string (as socket.io-parser 4.x accepts).
    Lenient,
}

/// Event names socket.io 3+/4 refuses to receive (socket.io-parser 4.x).
pub const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

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

const ROOT: &[u8] = b"/";

impl Packet {
    /// Decodes one Engine.IO message text with the reference algorithm of
    /// PROTOCOL.md §2.3, validating the payload for `rev` (SIO5 rejects
    /// reserved event names). For CONNECT applies the comma recovery rule.
    pub fn decode(rev: Revision, text: Bytes) -> Result<Packet, ParseError> {
        Packet::decode_with(rev, DecodeMode::Strict, text)
    }

    /// [`Packet::decode`] in [`DecodeMode::Lenient`], for upstream packets.
    /// Reserved SIO5 event names decode fine here: check
    /// [`Packet::is_reserved_event`] and drop such packets before relaying.
    pub fn decode_lenient(rev: Revision, text: Bytes) -> Result<Packet, ParseError> {
        Packet::decode_with(rev, DecodeMode::Lenient, text)
    }

    /// Decodes with an explicit [`DecodeMode`].
    pub fn decode_with(rev: Revision, mode: DecodeMode, text: Bytes) -> Result<Packet, ParseError> {
        let b: &[u8] = &text;
        let &t = b.first().ok_or(ParseError::Empty)?;
        let kind = PacketKind::from_digit(t).ok_or(ParseError::UnknownType(t))?;
        std::str::from_utf8(b).map_err(|_| ParseError::InvalidUtf8)?;
        let mut pos = 1;
        let mut attachments = 0;
        if kind.is_binary() {
            (attachments, pos) = attachment_count(b, pos)?;
        }
        let nsp = if b.get(pos) == Some(&b'/') {
            let (end, next) = nsp_end(kind, b, pos);
            if end - pos > MAX_NSP_LEN {
                return Err(ParseError::NamespaceTooLong);
            }
            let nsp = text.slice(pos..end);
            pos = next;
            nsp
        } else {
            Bytes::from_static(ROOT)
        };
        let (ack_id, data_start) = ack_id(b, pos)?;
        let event = validate(rev, mode, kind, &b[data_start..])?
            .map(|(s, e)| text.slice(data_start + s..data_start + e));
        Ok(Packet {
            kind,
            attachments,
            nsp,
            ack_id,
            data: text.slice(data_start..),
            event,
            raw: text,
        })
    }

    /// Builds a packet from parts (used when rewriting); `raw` is encoded.
    /// `nsp` `""` or `"/"` is the root and is omitted on the wire; another
    /// nsp gets a leading `/` if it lacks one and is always followed by `,`
    /// (`40/admin,`), as the reference encoders do. `attachments` is written
    /// for binary kinds only. `data` is copied as is, not validated.
    pub fn new(
        kind: PacketKind,
        attachments: usize,
        nsp: &str,
        ack_id: Option<u64>,
        data: Bytes,
    ) -> Packet {
        let root = nsp.is_empty() || nsp == "/";
        let attachments = if kind.is_binary() { attachments } else { 0 };
        let mut buf = BytesMut::with_capacity(1 + 21 + 2 + nsp.len() + 20 + data.len());
        buf.put_u8(kind.digit());
        if kind.is_binary() {
            put_decimal(&mut buf, attachments as u64);
            buf.put_u8(b'-');
        }
        let nsp_range = (!root).then(|| {
            let start = buf.len();
            if !nsp.starts_with('/') {
                buf.put_u8(b'/');
            }
            buf.put_slice(nsp.as_bytes());
            let end = buf.len();
            buf.put_u8(b',');
            (start, end)
        });
        if let Some(id) = ack_id {
            put_decimal(&mut buf, id);
        }
        let data_start = buf.len();
        buf.put_slice(&data);
        let raw = buf.freeze();
        let nsp = match nsp_range {
            Some((s, e)) => raw.slice(s..e),
            None => Bytes::from_static(ROOT),
        };
        let data = raw.slice(data_start..);
        let event = if kind.is_event() {
            json::array_head_str(&data).map(|(s, e)| data.slice(s..e))
        } else {
            None
        };
        Packet {
            kind,
            attachments,
            nsp,
            ack_id,
            data,
            event,
            raw,
        }
    }

    /// The namespace as `&str` (the header was validated as UTF-8).
    pub fn nsp_str(&self) -> &str {
        std::str::from_utf8(&self.nsp).unwrap_or("/")
    }

    /// The same packet with another namespace; reuses `data` without parsing.
    pub fn with_nsp(&self, nsp: &str) -> Packet {
        Packet::new(
            self.kind,
            self.attachments,
            nsp,
            self.ack_id,
            self.data.clone(),
        )
    }

    /// The encoded text (what goes after the Engine.IO `4`). Returns `raw`
    /// unchanged — a reference-count bump, no copy.
    pub fn encode(&self) -> Bytes {
        self.raw.clone()
    }

    /// True for an EVENT whose name is reserved in SIO5 (`connect`,
    /// `disconnect`, … see [`RESERVED_EVENTS`]). A lenient decode accepts
    /// these; the proxy drops them rather than relaying them to v5 clients.
    pub fn is_reserved_event(&self) -> bool {
        self.event
            .as_ref()
            .is_some_and(|ev| is_reserved(ev, ev.contains(&b'\\')))
    }
}

/// Parses `N-` at `pos`: 1 ≤ N ≤ [`MAX_ATTACHMENTS`]. Returns N and the
/// position after the `-`.
fn attachment_count(b: &[u8], pos: usize) -> Result<(usize, usize), ParseError> {
    let mut n = 0usize;
    let mut i = pos;
    while let Some(d) = b.get(i).filter(|c| c.is_ascii_digit()) {
        n = n * 10 + usize::from(d - b'0');
        if n > MAX_ATTACHMENTS {
            return Err(ParseError::InvalidAttachments);
        }
        i += 1;
    }
    if i == pos || n == 0 || b.get(i) != Some(&b'-') {
        return Err(ParseError::InvalidAttachments);
    }
    Ok((n, i + 1))
}

/// Finds where the namespace starting at `start` (a `/`) ends: the first `,`
/// or the end. For CONNECT the recovery rule of PROTOCOL.md §4.4 applies: when
/// the nsp has a `?` and what follows the first `,` is not a well-formed
/// `[ackId][JSON]`, the nsp runs to the last `,` if what follows that is
/// well-formed, else to the end. Returns the nsp end and the position after
/// its `,` (if any).
fn nsp_end(kind: PacketKind, b: &[u8], start: usize) -> (usize, usize) {
    let Some(first) = memchr::memchr(b',', &b[start..]).map(|i| start + i) else {
        return (b.len(), b.len());
    };
    let recover = kind == PacketKind::Connect
        && b[start..first].contains(&b'?')
        && !tail_is_wellformed(&b[first + 1..]);
    if !recover {
        return (first, first + 1);
    }
    match memchr::memrchr(b',', b) {
        Some(last) if last > first && tail_is_wellformed(&b[last + 1..]) => (last, last + 1),
        _ => (b.len(), b.len()),
    }
}

/// Whether `t` is `[digits][JSON]`: empty, an ack id, or well-formed JSON.
fn tail_is_wellformed(t: &[u8]) -> bool {
    let json = &t[t.iter().take_while(|c| c.is_ascii_digit()).count()..];
    json.is_empty() || json::scan(json).is_ok()
}

/// Reads the maximal digit run at `pos` as the ack id (≤ [`MAX_ACK_ID`]).
/// Returns it and the position where the payload starts.
fn ack_id(b: &[u8], pos: usize) -> Result<(Option<u64>, usize), ParseError> {
    let mut id = 0u64;
    let mut i = pos;
    while let Some(d) = b.get(i).filter(|c| c.is_ascii_digit()) {
        // id ≤ 2^53 − 1 here, so id * 10 + 9 cannot overflow a u64.
        id = id * 10 + u64::from(d - b'0');
        if id > MAX_ACK_ID {
            return Err(ParseError::InvalidAckId);
        }
        i += 1;
    }
    Ok(((i > pos).then_some(id), i))
}

/// Applies the payload rules of §2.3 for `kind`. Returns, for an event whose
/// name is a string, the name's raw contents range within `d`.
fn validate(
    rev: Revision,
    mode: DecodeMode,
    kind: PacketKind,
    d: &[u8],
) -> Result<Option<(usize, usize)>, ParseError> {
    let lenient = mode == DecodeMode::Lenient;
    let absent =
        d.is_empty() || (lenient && d.iter().all(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r')));
    if absent {
        return match kind {
            PacketKind::Connect | PacketKind::Disconnect => Ok(None),
            _ => Err(ParseError::InvalidPayload),
        };
    }
    let shape = json::scan(d).map_err(|_| ParseError::InvalidJson)?;
    let ok = match (kind, shape.top) {
        (PacketKind::Connect, Kind::Object) => true,
        (PacketKind::Connect | PacketKind::Disconnect, Kind::Array) => lenient,
        (PacketKind::ConnectError, Kind::Object) => true,
        (PacketKind::ConnectError, Kind::Str { .. }) => rev == Revision::V4 || lenient,
        (PacketKind::Ack | PacketKind::BinaryAck, Kind::Array) => true,
        (PacketKind::Event | PacketKind::BinaryEvent, Kind::Array) => {
            return match shape.head {
                Some(Kind::Number) => Ok(None),
                Some(Kind::Str {
                    start,
                    end,
                    escaped,
                }) => {
                    if rev == Revision::V5 && !lenient && is_reserved(&d[start..end], escaped) {
                        Err(ParseError::ReservedEvent)
                    } else {
                        Ok(Some((start, end)))
                    }
                }
                _ => Err(ParseError::InvalidPayload),
            };
        }
        _ => false,
    };
    if ok {
        Ok(None)
    } else {
        Err(ParseError::InvalidPayload)
    }
}

fn is_reserved(raw: &[u8], escaped: bool) -> bool {
    if !escaped {
        // The common case: one length switch and a compare, no decoding.
        return matches!(
            raw,
            b"connect"
                | b"connect_error"
                | b"disconnect"
                | b"disconnecting"
                | b"newListener"
                | b"removeListener"
        );
    }
    RESERVED_EVENTS
        .iter()
        .any(|name| json::str_eq(raw, escaped, name))
}

fn put_decimal(buf: &mut BytesMut, n: u64) {
    buf.put_slice(crate::protocol::decimal::digits(n, &mut [0; 20]));
}

#[cfg(test)]
#[path = "packet_tests.rs"]
mod tests;
