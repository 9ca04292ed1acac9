//! Binary attachment reassembly (PROTOCOL.md §2.6, §4.4): after a `5N-`/`6N-`
//! header exactly N binary Engine.IO messages follow, nothing else between.
//!
//! The [`Assembler`] is the per-connection state machine of socket.io-parser's
//! `Decoder.add`: idle, or collecting the attachments of one binary packet. A
//! text message while collecting and a binary message while idle are errors
//! (the caller closes the session). The header's placeholders are checked when
//! it arrives, so a bad packet fails before any attachment is buffered.
use bytes::Bytes;

use super::packet::DecodeMode;
use super::{Packet, ParseError, Revision, placeholder};

/// A complete Socket.IO message: the packet and its attachments (empty for
/// non-binary kinds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub packet: Packet,
    pub attachments: Vec<Bytes>,
}

/// Per-connection decoder state: idle, or collecting attachments.
///
/// The packet being completed is boxed: an idle assembler (nearly all of
/// them, nearly always) is then 16 bytes instead of ~190, and every session
/// holds one or two of them.
#[derive(Debug)]
pub struct Assembler {
    rev: Revision,
    mode: DecodeMode,
    pending: Option<Box<(Packet, Vec<Bytes>)>>,
}

impl Assembler {
    /// A strict assembler, for packets from clients.
    pub fn new(rev: Revision) -> Assembler {
        Assembler::with_mode(rev, DecodeMode::Strict)
    }

    /// An assembler that decodes text with `mode` (use
    /// [`DecodeMode::Lenient`] for packets from upstreams).
    pub fn with_mode(rev: Revision, mode: DecodeMode) -> Assembler {
        Assembler {
            rev,
            mode,
            pending: None,
        }
    }

    /// True while attachments of a binary packet are awaited.
    pub fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Feeds one text Engine.IO message. A text message while attachments are
    /// pending is an error (the pending packet is discarded).
    pub fn push_text(&mut self, text: Bytes) -> Result<Option<Message>, ParseError> {
        if self.pending.take().is_some() {
            return Err(ParseError::UnexpectedText);
        }
        let packet = Packet::decode_with(self.rev, self.mode, text)?;
        self.push_packet(packet)
    }

    /// Feeds a packet the caller already decoded (same rules as
    /// [`Assembler::push_text`]).
    pub fn push_packet(&mut self, packet: Packet) -> Result<Option<Message>, ParseError> {
        if self.pending.take().is_some() {
            return Err(ParseError::UnexpectedText);
        }
        if !packet.kind.is_binary() {
            return Ok(Some(Message {
                packet,
                attachments: Vec::new(),
            }));
        }
        placeholder::check(&packet.data, packet.attachments)?;
        let attachments = Vec::with_capacity(packet.attachments);
        self.pending = Some(Box::new((packet, attachments)));
        Ok(None)
    }

    /// Feeds one binary Engine.IO message (raw bytes, no EIO3 type byte).
    pub fn push_binary(&mut self, data: Bytes) -> Result<Option<Message>, ParseError> {
        let Some((packet, attachments)) = self.pending.as_deref_mut() else {
            return Err(ParseError::UnexpectedBinary);
        };
        attachments.push(data);
        if attachments.len() < packet.attachments {
            return Ok(None);
        }
        Ok(self.pending.take().map(|pending| {
            let (packet, attachments) = *pending;
            Message {
                packet,
                attachments,
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &'static str) -> Bytes {
        Bytes::from_static(s.as_bytes())
    }

    #[test]
    fn plain_packets_pass_through_immediately() {
        let mut a = Assembler::new(Revision::V5);
        let m = a.push_text(text(r#"2/chat,["x"]"#)).unwrap().unwrap();
        assert_eq!(m.packet.raw, text(r#"2/chat,["x"]"#));
        assert!(m.attachments.is_empty());
        assert!(!a.is_pending());
    }

    #[test]
    fn binary_event_collects_exactly_n_attachments() {
        let mut a = Assembler::new(Revision::V5);
        let header =
            r#"52-/chat,3["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
        assert_eq!(a.push_text(text(header)), Ok(None));
        assert!(a.is_pending());
        assert_eq!(a.push_binary(Bytes::from_static(&[1, 2, 3])), Ok(None));
        let m = a.push_binary(Bytes::from_static(&[9])).unwrap().unwrap();
        assert_eq!(
            m.packet.kind,
            crate::protocol::socketio::PacketKind::BinaryEvent
        );
        assert_eq!(m.packet.ack_id, Some(3));
        assert_eq!(
            m.attachments,
            vec![Bytes::from_static(&[1, 2, 3]), Bytes::from_static(&[9])]
        );
        assert!(!a.is_pending());
        // Back to idle: the next text packet is fine again.
        assert!(a.push_text(text(r#"2["b"]"#)).unwrap().is_some());
    }

    #[test]
    fn binary_ack_from_upstream_reassembles() {
        let mut a = Assembler::with_mode(Revision::V4, DecodeMode::Lenient);
        assert_eq!(
            a.push_text(text(r#"61-3[{"_placeholder":true,"num":0}]"#)),
            Ok(None)
        );
        let m = a.push_binary(Bytes::from_static(&[9, 8])).unwrap().unwrap();
        assert_eq!(m.attachments, vec![Bytes::from_static(&[9, 8])]);
    }

    #[test]
    fn vector_46_text_during_reconstruction_is_rejected() {
        let mut a = Assembler::new(Revision::V5);
        assert_eq!(
            a.push_text(text(r#"51-["a",{"_placeholder":true,"num":0}]"#)),
            Ok(None)
        );
        assert_eq!(
            a.push_text(text(r#"2["b"]"#)),
            Err(ParseError::UnexpectedText)
        );
    }

    #[test]
    fn vector_47_binary_without_header_is_rejected() {
        let mut a = Assembler::new(Revision::V5);
        assert_eq!(
            a.push_binary(Bytes::from_static(&[1, 2])),
            Err(ParseError::UnexpectedBinary)
        );
        a.push_text(text(r#"2["a"]"#)).unwrap();
        assert_eq!(
            a.push_binary(Bytes::from_static(&[1, 2])),
            Err(ParseError::UnexpectedBinary)
        );
    }

    #[test]
    fn placeholders_not_matching_the_count_are_rejected() {
        let cases = [
            r#"51-["a"]"#,
            r#"51-["a",{"_placeholder":true,"num":1}]"#,
            r#"52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]"#,
            r#"61-[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        ];
        for c in cases {
            let mut a = Assembler::new(Revision::V5);
            assert_eq!(
                a.push_text(text(c)),
                Err(ParseError::InvalidPlaceholder),
                "{c}"
            );
            assert!(!a.is_pending());
        }
    }

    #[test]
    fn decode_errors_surface_and_leave_the_assembler_idle() {
        let mut a = Assembler::new(Revision::V5);
        assert_eq!(
            a.push_text(text(r#"50-["x"]"#)),
            Err(ParseError::InvalidAttachments)
        );
        assert_eq!(
            a.push_text(text(r#"2["ping2""#)),
            Err(ParseError::InvalidJson)
        );
        assert!(!a.is_pending());
    }
}
