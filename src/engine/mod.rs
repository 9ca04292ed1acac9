//! The Engine.IO session layer: one [`Session`] per client (bounded outbound
//! queue, heartbeat deadlines, transport state, cancellation), the
//! [`Registry`] that maps sids to sessions, and sid generation.
//!
//! No HTTP or WebSocket here: `transport` moves packets between a session
//! and the wire. The only outside types used are the seam types of
//! [`crate::server::backend`] (`CloseReason`, `ClientSink`).
pub mod heartbeat;
pub mod registry;
pub mod session;
pub mod sid;

pub use heartbeat::{Heartbeat, Tick};
pub use registry::Registry;
pub use session::{Batch, Limits, Session, TransportState};
