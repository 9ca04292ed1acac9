//! The Redis wire format of `@socket.io/redis-adapter` 8.x and
//! `@socket.io/redis-emitter` 5.x, written from their documented behaviour.
//! Pure: bytes in, typed values out, no I/O.
//!
//! Channels, for a key prefix `socket.io` and a namespace `/chat`
//! ([`Channels`]):
//! - `socket.io#/chat#`: broadcasts to the whole namespace, and
//!   `socket.io#/chat#<room>#` for broadcasts to exactly one room (nodes
//!   without a socket in that room skip them without decoding). Nodes
//!   subscribe with the pattern `socket.io#/chat#*`.
//! - `socket.io-request#/chat#`: requests between nodes (join, leave,
//!   disconnect, fetch, server-side emit, broadcast with ack); the number of
//!   subscribers of this channel (`PUBSUB NUMSUB`) is the node count.
//! - `socket.io-response#/chat#`: the answers.
//!
//! A broadcast is the msgpack array `[uid, packet, opts]` ([`Broadcast`]):
//! `uid` names the sending node (the emitter uses `"emitter"`) so a node
//! skips its own messages; `packet` is `{type, data, nsp}` with binary
//! arguments as msgpack `bin` (Socket.IO attachments on the client side);
//! `opts` is `{rooms, except, flags}`. Requests are JSON, except the
//! broadcast-with-ack ones which are msgpack ([`request`]).
pub mod request;
pub mod value;

use std::borrow::Cow;

use bytes::Bytes;
use rmpv::Value as Mp;

use crate::protocol::socketio::{Packet, PacketKind, Revision};

/// The default key prefix of the Node adapter and emitter.
pub const DEFAULT_PREFIX: &str = "socket.io";

/// Extension key in broadcast `opts` (ignored by Node): restricts a
/// broadcast to rooms *and* one socket. A broadcast to one socket alone is
/// sent as Node does it, `rooms: [<socket id>]`.
const SOCKET_KEY: &str = "siogate:socket";

/// A message that does not follow the wire format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("invalid msgpack")]
    InvalidMsgpack,
    #[error("invalid JSON")]
    InvalidJson,
    #[error("malformed message: bad or missing {0}")]
    Malformed(&'static str),
    #[error("unsupported packet type {0}")]
    UnsupportedPacket(u64),
    #[error("more than 10 binary values")]
    TooManyAttachments,
}

/// The channel names of one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channels {
    nsp: String,
    broadcast: String,
    request: String,
    response: String,
}

impl Channels {
    pub fn new(prefix: &str, nsp: &str) -> Channels {
        Channels {
            nsp: nsp.to_string(),
            broadcast: format!("{prefix}#{nsp}#"),
            request: format!("{prefix}-request#{nsp}#"),
            response: format!("{prefix}-response#{nsp}#"),
        }
    }

    pub fn nsp(&self) -> &str {
        &self.nsp
    }

    /// `<prefix>#<nsp>#`: broadcasts to the whole namespace.
    pub fn broadcast(&self) -> &str {
        &self.broadcast
    }

    /// `<prefix>#<nsp>#<room>#`: broadcasts to exactly that room.
    pub fn room(&self, room: &str) -> String {
        format!("{}{room}#", self.broadcast)
    }

    /// The channel a broadcast to `rooms` is published on: the room's own
    /// channel when there is exactly one, else the namespace's.
    pub fn for_rooms(&self, rooms: &[String]) -> Cow<'_, str> {
        match rooms {
            [room] => Cow::Owned(self.room(room)),
            _ => Cow::Borrowed(&self.broadcast),
        }
    }

    /// The subscription pattern for every broadcast of the namespace, with
    /// Redis glob characters of the namespace escaped.
    pub fn pattern(&self) -> String {
        let mut p = String::with_capacity(self.broadcast.len() + 4);
        for c in self.broadcast.chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                p.push('\\');
            }
            p.push(c);
        }
        p.push('*');
        p
    }

    pub fn request(&self) -> &str {
        &self.request
    }

    pub fn response(&self) -> &str {
        &self.response
    }

    /// `<prefix>-response#<nsp>#<uid>#`: where Node adapters configured
    /// with `publishOnSpecificResponseChannel` answer node `uid`.
    pub fn response_for(&self, uid: &str) -> String {
        format!("{}{uid}#", self.response)
    }

    /// For a channel matched by [`Channels::pattern`]: `Some(None)` for the
    /// namespace channel, `Some(Some(room))` for a room channel, `None` for
    /// anything else.
    pub fn room_of<'a>(&self, channel: &'a str) -> Option<Option<&'a str>> {
        let rest = channel.strip_prefix(self.broadcast.as_str())?;
        if rest.is_empty() {
            return Some(None);
        }
        rest.strip_suffix('#').map(Some)
    }
}

/// Which sockets of the namespace a broadcast is for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    /// Sockets in at least one of these rooms (a socket id is a room); empty
    /// means all.
    pub rooms: Vec<String>,
    /// Minus the sockets in any of these rooms.
    pub except: Vec<String>,
    /// Only this socket (siogate extension, see `SOCKET_KEY`).
    pub socket: Option<String>,
    /// `flags.volatile` (the message may be dropped; siogate never drops on
    /// purpose, so it is informational).
    pub volatile: bool,
}

/// A Socket.IO packet as sent to clients: the text after the Engine.IO
/// `4`, and its binary attachments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SioPacket {
    pub text: Bytes,
    pub attachments: Vec<Bytes>,
}

/// One decoded message of a broadcast channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broadcast {
    /// The sending node (`"emitter"` for the emitter).
    pub uid: String,
    /// The namespace named in the packet (`/` when absent).
    pub nsp: String,
    pub packet: SioPacket,
    pub targets: Targets,
}

/// Decodes `[uid, packet, opts]`. Event and ack packets only (the only
/// ones the adapter and emitter broadcast).
pub fn decode_broadcast(msg: &[u8]) -> Result<Broadcast, WireError> {
    let value = read_msgpack(msg)?;
    let Mp::Array(parts) = value else {
        return Err(WireError::Malformed("message array"));
    };
    let [uid, packet, opts] =
        <[Mp; 3]>::try_from(parts).map_err(|_| WireError::Malformed("message array"))?;
    let uid = as_string(&uid).ok_or(WireError::Malformed("uid"))?;
    let nsp = field(&packet, "nsp")
        .and_then(as_string)
        .unwrap_or_else(|| "/".into());
    let packet = decode_packet(&packet, &nsp)?;
    Ok(Broadcast {
        uid,
        nsp,
        packet,
        targets: decode_targets(&opts),
    })
}

/// Encodes a broadcast of `packet` (as built for clients) from node `uid`.
pub fn encode_broadcast(
    uid: &str,
    packet: &SioPacket,
    targets: &Targets,
) -> Result<Vec<u8>, WireError> {
    let (kind, nsp, id, data) = packet_to_msgpack(packet)?;
    let mut fields = vec![
        (Mp::from("type"), Mp::from(kind)),
        (Mp::from("data"), data),
        (Mp::from("nsp"), Mp::from(nsp.as_str())),
    ];
    if let Some(id) = id {
        fields.push((Mp::from("id"), Mp::from(id)));
    }
    let msg = Mp::Array(vec![
        Mp::from(uid),
        Mp::Map(fields),
        encode_targets(targets),
    ]);
    let mut out = Vec::with_capacity(packet.text.len() + 64);
    rmpv::encode::write_value(&mut out, &msg).expect("writing to a Vec cannot fail");
    Ok(out)
}

/// `{rooms, flags, except}` of a broadcast. One socket alone goes as
/// `rooms: [<id>]` (what Node does for `io.to(id)`).
pub fn encode_targets(t: &Targets) -> Mp {
    let strings = |v: &[String]| Mp::Array(v.iter().map(|s| Mp::from(s.as_str())).collect());
    let rooms = match (&t.socket, t.rooms.is_empty()) {
        (Some(sid), true) => strings(std::slice::from_ref(sid)),
        _ => strings(&t.rooms),
    };
    let mut flags = Vec::new();
    if t.volatile {
        flags.push((Mp::from("volatile"), Mp::Boolean(true)));
    }
    // The emitter's key order, so its messages and ours are byte-identical.
    let mut fields = vec![
        (Mp::from("rooms"), rooms),
        (Mp::from("flags"), Mp::Map(flags)),
        (Mp::from("except"), strings(&t.except)),
    ];
    if let (Some(sid), false) = (&t.socket, t.rooms.is_empty()) {
        fields.push((Mp::from(SOCKET_KEY), Mp::from(sid.as_str())));
    }
    Mp::Map(fields)
}

/// Reads `opts`; rooms may be strings or numbers (Node allows both).
pub fn decode_targets(opts: &Mp) -> Targets {
    let list = |key| {
        field(opts, key)
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(as_string).collect())
            .unwrap_or_default()
    };
    let volatile = field(opts, "flags")
        .and_then(|f| field(f, "volatile"))
        .and_then(Mp::as_bool)
        .unwrap_or(false);
    Targets {
        rooms: list("rooms"),
        except: list("except"),
        socket: field(opts, SOCKET_KEY).and_then(as_string),
        volatile,
    }
}

/// A wire packet `{type, data, nsp, id?}` as a client packet for `nsp`.
pub fn decode_packet(packet: &Mp, nsp: &str) -> Result<SioPacket, WireError> {
    let kind = field(packet, "type")
        .and_then(Mp::as_u64)
        .ok_or(WireError::Malformed("packet type"))?;
    let (text_kind, binary_kind) = match kind {
        2 | 5 => (PacketKind::Event, PacketKind::BinaryEvent),
        3 | 6 => (PacketKind::Ack, PacketKind::BinaryAck),
        other => return Err(WireError::UnsupportedPacket(other)),
    };
    let data = field(packet, "data").ok_or(WireError::Malformed("packet data"))?;
    let id = field(packet, "id").and_then(Mp::as_u64);
    let mut text = Vec::new();
    let mut attachments = Vec::new();
    value::to_json(data, &mut text, &mut attachments)?;
    let kind = if attachments.is_empty() {
        text_kind
    } else {
        binary_kind
    };
    let packet = Packet::new(kind, attachments.len(), nsp, id, Bytes::from(text));
    Ok(SioPacket {
        text: packet.encode(),
        attachments,
    })
}

/// A client packet as `(type, nsp, ack id, data)` for the wire. Node sends
/// events as type 2 (EVENT) even with binary data, acks as 3.
pub fn packet_to_msgpack(packet: &SioPacket) -> Result<(u64, String, Option<u64>, Mp), WireError> {
    let parsed = Packet::decode_lenient(Revision::V5, packet.text.clone())
        .map_err(|_| WireError::Malformed("packet"))?;
    let kind = match parsed.kind {
        PacketKind::Event | PacketKind::BinaryEvent => 2,
        PacketKind::Ack | PacketKind::BinaryAck => 3,
        _ => return Err(WireError::UnsupportedPacket(u64::from(parsed.kind.digit()))),
    };
    let json: serde_json::Value =
        serde_json::from_slice(&parsed.data).map_err(|_| WireError::InvalidJson)?;
    let data = value::from_json(&json, &packet.attachments);
    Ok((kind, parsed.nsp_str().to_string(), parsed.ack_id, data))
}

/// Decodes one msgpack value (rmpv bounds the nesting depth).
pub fn read_msgpack(mut msg: &[u8]) -> Result<Mp, WireError> {
    rmpv::decode::read_value(&mut msg).map_err(|_| WireError::InvalidMsgpack)
}

/// The value under string key `key` of a msgpack map.
pub fn field<'a>(map: &'a Mp, key: &str) -> Option<&'a Mp> {
    map.as_map()?
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
}

/// A string, or a number as its decimal text (numeric room names).
fn as_string(v: &Mp) -> Option<String> {
    match v {
        Mp::String(s) => s.as_str().map(str::to_string),
        Mp::Integer(i) => Some(i.to_string()),
        Mp::F64(f) => Some(f.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
