//! Binary attachment reassembly (PROTOCOL.md §2.6, §4.4): after a `5N-`/`6N-`
//! header exactly N binary Engine.IO messages follow, nothing else between.
use bytes::Bytes;

use super::{Packet, ParseError, Revision};

/// A complete Socket.IO message: the packet and its attachments (empty for
/// non-binary kinds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub packet: Packet,
    pub attachments: Vec<Bytes>,
}

/// Per-connection decoder state: idle, or collecting attachments.
#[derive(Debug)]
pub struct Assembler {
    rev: Revision,
    pending: Option<(Packet, Vec<Bytes>)>,
}

impl Assembler {
    pub fn new(rev: Revision) -> Assembler {
        Assembler { rev, pending: None }
    }

    /// Feeds one text Engine.IO message. A text message while attachments are
    /// pending is an error.
    pub fn push_text(&mut self, _text: Bytes) -> Result<Option<Message>, ParseError> {
        let _ = (&self.rev, &self.pending);
        todo!("socketio::Assembler::push_text")
    }

    /// Feeds one binary Engine.IO message (raw bytes, no EIO3 type byte).
    pub fn push_binary(&mut self, _data: Bytes) -> Result<Option<Message>, ParseError> {
        todo!("socketio::Assembler::push_binary")
    }
}
