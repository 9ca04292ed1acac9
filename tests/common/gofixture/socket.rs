//! The seam between the Engine.IO session task and the Socket.IO behaviour of
//! each release: `SocketLoop` dispatches to the v1.0.1 single-socket loop
//! (`legacy`) or the v1.4.3/v1.7.0 per-namespace design (`modern`), and `Ctx`
//! collects what a step wants to send, log or kill. Also the tiny header
//! reader both share (type digit, attachment count, nsp up to the first `,`,
//! ack-id digits), written here so the fixture never uses siogate's codec.

use super::GoVersion;
use super::engine::{Out, Session, Shared};
use super::legacy::LegacySocket;
use super::log::LogEntry;
use super::modern::ModernConn;

/// Output collected while the socket loop handles one input.
pub(crate) struct Ctx<'a> {
    pub shared: &'a Shared,
    pub sid: &'a str,
    pub url_query: &'a str,
    out: Vec<String>,
    kill: bool,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(shared: &'a Shared, session: &'a Session) -> Self {
        Ctx {
            shared,
            sid: &session.sid,
            url_query: &session.url_query,
            out: Vec::new(),
            kill: false,
        }
    }

    /// Queues one Engine.IO packet (full text, e.g. `40/chat`).
    pub(crate) fn send(&mut self, packet: String) {
        self.out.push(packet);
    }

    /// Drops the whole Engine.IO connection without a packet (TCP close).
    pub(crate) fn kill(&mut self) {
        self.kill = true;
    }

    pub(crate) fn log(&self, entry: LogEntry) {
        self.shared.log.push(entry);
    }

    /// Hands the collected packets to the outbox; `true` if the step killed
    /// the session (then nothing is sent).
    pub(crate) fn flush(&mut self, session: &Session) -> bool {
        if self.kill {
            session.kill.cancel();
            return true;
        }
        for p in self.out.drain(..) {
            session.push(Out::Packet(p));
        }
        false
    }
}

/// The Socket.IO side of one Engine.IO session.
pub(crate) enum SocketLoop {
    Legacy(LegacySocket),
    Modern(ModernConn),
}

impl SocketLoop {
    pub(crate) fn new(version: GoVersion) -> Self {
        match version {
            GoVersion::V1_0_1 => SocketLoop::Legacy(LegacySocket::default()),
            v => SocketLoop::Modern(ModernConn::new(v)),
        }
    }

    pub(crate) fn on_open(&mut self, ctx: &mut Ctx<'_>) {
        match self {
            SocketLoop::Legacy(s) => s.on_open(ctx),
            SocketLoop::Modern(s) => s.on_open(ctx),
        }
    }

    /// `data` is the Engine.IO message payload (the Socket.IO packet text).
    pub(crate) fn on_message(&mut self, data: &str, ctx: &mut Ctx<'_>) {
        match self {
            SocketLoop::Legacy(s) => s.on_message(data, ctx),
            SocketLoop::Modern(s) => s.on_message(data, ctx),
        }
    }

    /// Emits `push` with `text`; returns how many sockets/namespace
    /// connections got it.
    pub(crate) fn on_push(&mut self, text: &str, nsp: Option<&str>, ctx: &mut Ctx<'_>) -> usize {
        match self {
            SocketLoop::Legacy(s) => s.on_push(text, ctx),
            SocketLoop::Modern(s) => s.on_push(text, nsp, ctx),
        }
    }

    pub(crate) fn on_close(&mut self, reason: &str, ctx: &mut Ctx<'_>) {
        match self {
            SocketLoop::Legacy(s) => s.on_close(reason, ctx),
            SocketLoop::Modern(s) => s.on_close(reason, ctx),
        }
    }

    /// v1.0.1 only: the socket loop died and a later message blocked
    /// go-engine.io's reader, so nothing more (pings included) is answered.
    pub(crate) fn stalled(&self) -> bool {
        match self {
            SocketLoop::Legacy(s) => s.stalled(),
            SocketLoop::Modern(_) => false,
        }
    }
}

/// A Socket.IO packet header as go's decoders read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header<'a> {
    /// Type digit value (`b'a' - b'0'` etc. for junk; callers ignore unknown types).
    pub kind: u8,
    /// `Some` when the text had `/…`: everything up to the first `,` (or end).
    pub nsp: Option<&'a str>,
    pub id: Option<u64>,
    /// What follows the header (`[…]`, `{…}`, junk or empty).
    pub rest: &'a str,
}

/// Reads `<type>[<n>-][/nsp[,]][id]` like go-socket.io's decoders. `None` for
/// an empty packet or a binary type without its `-`.
pub(crate) fn read_header(text: &str) -> Option<Header<'_>> {
    let first = *text.as_bytes().first()?;
    let kind = first.wrapping_sub(b'0');
    let Some(mut rest) = text.get(1..) else {
        // A non-ASCII first character: an unknown type, like go reads it.
        return Some(Header {
            kind: u8::MAX,
            nsp: None,
            id: None,
            rest: "",
        });
    };
    if kind == 5 || kind == 6 {
        let dash = rest.find('-')?;
        rest = &rest[dash + 1..];
    }
    let mut nsp = None;
    if rest.starts_with('/') {
        match rest.find(',') {
            Some(comma) => {
                nsp = Some(&rest[..comma]);
                rest = &rest[comma + 1..];
            }
            None => {
                nsp = Some(rest);
                rest = "";
            }
        }
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let id = if digits > 0 {
        rest[..digits].parse().ok()
    } else {
        None
    };
    Some(Header {
        kind,
        nsp,
        id,
        rest: &rest[digits..],
    })
}
