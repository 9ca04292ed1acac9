//! Socket.IO protocol revisions 4 and 5 (PROTOCOL.md §2).
//!
//! - [`packet`]: the header (`<type>[<N>-][<nsp>,][<ack>]`) sliced from the
//!   text, the JSON payload validated once and kept as raw `Bytes`.
//! - [`binary`]: the attachment reassembly state machine.
//! - [`connect`]: the CONNECT namespace split into path and query (form
//!   decoding, the comma recovery rule of §4.4), query re-encoding, and the v5
//!   auth object.
pub mod binary;
pub mod connect;
mod error;
mod json;
pub mod packet;
mod placeholder;

pub use binary::{Assembler, Message};
pub use error::ParseError;
pub use packet::{DecodeMode, Packet, PacketKind, RESERVED_EVENTS};

/// Socket.IO protocol revision. SIO4 always rides on EIO3, SIO5 on EIO4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Revision {
    /// socket.io 1.x/2.x: implicit root CONNECT, ERROR (type 4) is a string or object.
    V4,
    /// socket.io 3.x/4.x: explicit CONNECT with auth, CONNECT_ERROR `{message,data}`.
    V5,
}

/// Largest ack id accepted: JS peers lose precision above 2^53 − 1.
pub const MAX_ACK_ID: u64 = (1 << 53) - 1;
/// Attachment count bounds of current parsers (socket.io-parser 3.4.5 / 4.2.7).
pub const MAX_ATTACHMENTS: usize = 10;
/// Longest namespace (path + query) accepted in a packet header.
pub const MAX_NSP_LEN: usize = 256;
