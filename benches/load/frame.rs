//! The generator's own tiny Engine.IO v4 / Socket.IO v5 framing, kept apart
//! from siogate's `protocol` module on purpose: the load generator must not
//! share code (or bugs) with the system it measures.
//!
//! Only what the scenarios need: classify a text packet, pull the ack id out
//! of an ACK, the sid out of an OPEN packet, split a polling payload, and
//! build EVENT packets. Binary packets are never used. No I/O here.

/// The Engine.IO v4 record separator of polling payloads.
pub const RS: char = '\x1e';

/// One Engine.IO v4 text packet.
#[derive(Debug, PartialEq, Eq)]
pub enum Eio<'a> {
    /// `0{...}`: the handshake JSON.
    Open(&'a str),
    Close,
    /// `2[probe]`: the server's heartbeat (EIO4 pings come from the server).
    Ping,
    Pong,
    /// `4...`: a Socket.IO packet.
    Message(&'a str),
    Noop,
    Other,
}

/// A Socket.IO v5 packet on the default namespace (others are `Other`).
#[derive(Debug, PartialEq, Eq)]
pub enum Sio<'a> {
    Connect(&'a str),
    Disconnect,
    /// EVENT with its optional ack id and its JSON array.
    Event {
        ack: Option<u64>,
        data: &'a str,
    },
    Ack {
        id: u64,
        data: &'a str,
    },
    ConnectError(&'a str),
    Other,
}

pub fn eio(text: &str) -> Eio<'_> {
    let Some(kind) = text.as_bytes().first() else {
        return Eio::Other;
    };
    let rest = &text[1..];
    match kind {
        b'0' => Eio::Open(rest),
        b'1' => Eio::Close,
        b'2' => Eio::Ping,
        b'3' => Eio::Pong,
        b'4' => Eio::Message(rest),
        b'6' => Eio::Noop,
        _ => Eio::Other,
    }
}

pub fn sio(msg: &str) -> Sio<'_> {
    let Some(kind) = msg.as_bytes().first() else {
        return Sio::Other;
    };
    let mut rest = &msg[1..];
    if rest.starts_with('/') {
        // A namespace other than "/" (the scenarios only use "/").
        return Sio::Other;
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let id = rest[..digits].parse::<u64>().ok();
    rest = &rest[digits..];
    match (kind, id) {
        (b'0', _) => Sio::Connect(rest),
        (b'1', _) => Sio::Disconnect,
        (b'2', ack) => Sio::Event { ack, data: rest },
        (b'3', Some(id)) => Sio::Ack { id, data: rest },
        (b'4', _) => Sio::ConnectError(rest),
        _ => Sio::Other,
    }
}

/// The `sid` string of an OPEN packet's JSON, without a JSON parser.
pub fn open_sid(json: &str) -> Option<&str> {
    let start = json.find("\"sid\":\"")? + 7;
    let len = json[start..].find('"')?;
    Some(&json[start..start + len])
}

/// The packets of an EIO4 polling payload.
pub fn split_payload(body: &str) -> impl Iterator<Item = &str> {
    body.split(RS).filter(|p| !p.is_empty())
}

/// `42[ack]["name",args...]`: an EVENT on "/" as an EIO4 message, where
/// `args` is already-encoded JSON without the brackets (may be empty).
pub fn event(ack: Option<u64>, name: &str, args: &str) -> String {
    let mut out = String::with_capacity(8 + name.len() + args.len() + 24);
    out.push_str("42");
    if let Some(id) = ack {
        out.push_str(&id.to_string());
    }
    out.push_str("[\"");
    out.push_str(name);
    out.push('"');
    if !args.is_empty() {
        out.push(',');
        out.push_str(args);
    }
    out.push(']');
    out
}

/// The push API body that emits `news` with `args` (encoded JSON array
/// elements) to one room of "/".
pub fn emit_body(room: &str, args: &str) -> String {
    format!(r#"{{"namespace":"/","event":"news","args":[{args}],"rooms":["{room}"]}}"#)
}
