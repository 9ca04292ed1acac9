//! The namespaces one session has asked for, for `max_namespaces`. Only
//! CONNECT (`0…`) and DISCONNECT (`1…`) texts are looked at: one byte is
//! compared for every other message, and only a CONNECT is decoded.
//!
//! A namespace counts from the client's CONNECT until its DISCONNECT or the
//! end of the session, whatever the server answered; a repeated CONNECT to
//! the same namespace counts once. EIO3 (Socket.IO 4) sessions hold `/` from
//! the start, as socket.io 2.x connects it implicitly.
use bytes::Bytes;

use crate::protocol::engineio;
use crate::protocol::socketio::connect::Target;
use crate::protocol::socketio::{Packet, PacketKind, Revision};

/// The message a refused CONNECT gets.
pub const TOO_MANY_NAMESPACES: &str = "Too many namespaces";

/// What to do with a client message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Hand it to the backend.
    Pass,
    /// Over the limit: drop it and send this reply to the client instead.
    Refuse(engineio::Packet),
}

/// One session's namespaces.
#[derive(Debug, Clone)]
pub struct NamespaceSet {
    rev: Revision,
    max: usize,
    names: Vec<Box<str>>,
}

impl NamespaceSet {
    /// An empty set (or `/` for a Socket.IO 4 session) allowing `max`.
    pub fn new(rev: Revision, max: u32) -> NamespaceSet {
        let names = match rev {
            Revision::V4 => vec!["/".into()],
            Revision::V5 => Vec::new(),
        };
        NamespaceSet {
            rev,
            max: max as usize,
            names,
        }
    }

    /// How many namespaces are held.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when no namespace is held.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Looks at one client message text (without the Engine.IO `4`).
    /// Malformed packets pass: the backend's decoder reports them.
    pub fn on_client_text(&mut self, text: &Bytes) -> Verdict {
        let kind = match text.first() {
            Some(b'0') => PacketKind::Connect,
            Some(b'1') => PacketKind::Disconnect,
            _ => return Verdict::Pass,
        };
        let Ok(packet) = Packet::decode(self.rev, text.clone()) else {
            return Verdict::Pass;
        };
        let path = Target::parse(packet.nsp_str()).path;
        let held = self.names.iter().position(|n| **n == *path);
        match (kind, held) {
            (PacketKind::Disconnect, Some(i)) => {
                self.names.swap_remove(i);
                Verdict::Pass
            }
            (PacketKind::Connect, None) if self.names.len() >= self.max => {
                Verdict::Refuse(self.refusal(&path))
            }
            (PacketKind::Connect, None) => {
                self.names.push(path.into());
                Verdict::Pass
            }
            _ => Verdict::Pass,
        }
    }

    /// `44/nsp,{"message":"Too many namespaces"}` (v5) or
    /// `44/nsp,"Too many namespaces"` (v4), as an Engine.IO message.
    fn refusal(&self, path: &str) -> engineio::Packet {
        let data = match self.rev {
            Revision::V4 => serde_json::Value::from(TOO_MANY_NAMESPACES),
            Revision::V5 => serde_json::json!({ "message": TOO_MANY_NAMESPACES }),
        };
        let packet = Packet::new(
            PacketKind::ConnectError,
            0,
            path,
            None,
            Bytes::from(data.to_string()),
        );
        engineio::Packet::Message(packet.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &'static str) -> Bytes {
        Bytes::from_static(s.as_bytes())
    }

    fn refused_with(v: Verdict) -> String {
        match v {
            Verdict::Refuse(engineio::Packet::Message(m)) => String::from_utf8(m.to_vec()).unwrap(),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn v5_connect_over_the_limit_gets_connect_error() {
        let mut s = NamespaceSet::new(Revision::V5, 2);
        assert_eq!(s.on_client_text(&text("0")), Verdict::Pass);
        assert_eq!(
            s.on_client_text(&text("0/a,{\"token\":\"x\"}")),
            Verdict::Pass
        );
        let reply = refused_with(s.on_client_text(&text("0/b,")));
        assert_eq!(reply, r#"4/b,{"message":"Too many namespaces"}"#);
        assert_eq!(s.len(), 2);
        // Events and repeated CONNECTs of held namespaces pass.
        assert_eq!(s.on_client_text(&text("2/a,[\"x\"]")), Verdict::Pass);
        assert_eq!(s.on_client_text(&text("0/a,")), Verdict::Pass);
    }

    #[test]
    fn disconnect_frees_a_slot() {
        let mut s = NamespaceSet::new(Revision::V5, 1);
        assert_eq!(s.on_client_text(&text("0/a,")), Verdict::Pass);
        assert_eq!(s.on_client_text(&text("1/a,")), Verdict::Pass);
        assert!(s.is_empty());
        assert_eq!(s.on_client_text(&text("0/b,")), Verdict::Pass);
    }

    #[test]
    fn v4_session_holds_root_and_refuses_with_error_string() {
        let mut s = NamespaceSet::new(Revision::V4, 2);
        assert_eq!(s.on_client_text(&text("0/chat?token=abc")), Verdict::Pass);
        let reply = refused_with(s.on_client_text(&text("0/admin?x=1")));
        assert_eq!(reply, r#"4/admin,"Too many namespaces""#);
    }

    #[test]
    fn malformed_connect_passes_to_the_backend() {
        let mut s = NamespaceSet::new(Revision::V5, 1);
        assert_eq!(s.on_client_text(&text("0/a,{")), Verdict::Pass);
        assert!(s.is_empty());
    }
}
