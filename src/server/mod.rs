//! The client-facing Engine.IO/Socket.IO server core shared by both modes.
pub mod backend;

pub use backend::{Backend, ClientSink, CloseReason, Handshake, Reject, SessionClosed, TransportKind};
