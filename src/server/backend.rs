//! The seam between the Engine.IO server core and a mode (proxy or
//! standalone). The core owns transports, heartbeats and the outbound queue;
//! a [`Backend`] only sees Socket.IO-carrying messages of one session.
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::protocol::engineio;
use crate::protocol::socketio::connect::Query;

/// The transport a session is on right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    Polling,
    WebSocket,
}

/// Everything known about a client at its Engine.IO handshake.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// The Engine.IO session id sent in the open packet.
    pub sid: String,
    pub eio: engineio::Revision,
    /// The transport of the first request.
    pub transport: TransportKind,
    /// The application query of the handshake URL (form-decoded), without
    /// the reserved keys `EIO`, `transport`, `sid`, `t`, `b64`, `j`.
    pub query: Query,
    /// Request headers of the handshake request.
    pub headers: http::HeaderMap,
    pub remote: SocketAddr,
    /// True when the client connection is TLS.
    pub secure: bool,
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The client sent `1` or closed its WebSocket.
    ClientClose,
    /// The transport failed (reset, bad frame, oversize message).
    TransportError,
    /// No heartbeat in time.
    PingTimeout,
    /// The client sent something the protocol forbids (the reason says what).
    ProtocolError(String),
    /// The outbound queue overflowed (the client stopped reading).
    QueueFull,
    /// The backend closed the session (e.g. its upstream died).
    Backend(String),
    /// The server is shutting down.
    Shutdown,
    /// A limit of `[server.limits]` closed it (packet rate, idle timeout).
    Limit(crate::limits::Refusal),
}

/// A handshake refused by the backend: answered as an Engine.IO HTTP error
/// (polling) or an HTTP error before the WebSocket upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// HTTP status (400 or 403 usually).
    pub status: u16,
    /// Engine.IO error code (3 = Bad request, 4 = Forbidden).
    pub code: u8,
    pub message: String,
}

/// Sending to a session failed: the session is gone (closed, or closed now
/// because its bounded queue was full).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("session closed")]
pub struct SessionClosed;

/// The backend's view of the client side of one session: a bounded
/// outbound queue. Cheap to clone; all clones refer to one session.
pub trait ClientSink: Send + Sync + 'static {
    /// Queues one Engine.IO packet (`Message` or `Binary`) for the client
    /// without waiting. If the queue is full, the session is closed with
    /// [`CloseReason::QueueFull`] and this returns `Err`.
    fn send(&self, packet: engineio::Packet) -> Result<(), SessionClosed>;
    /// Closes the session (sends `1` where the transport allows it).
    fn close(&self, reason: CloseReason);
    /// The Engine.IO session id.
    fn sid(&self) -> &str;
}

/// What a mode implements. The core calls `open` once per handshake,
/// `on_message` for every client message in order (never concurrently for
/// one session), and `on_close` exactly once.
pub trait Backend: Send + Sync + 'static {
    /// Per-session state owned by the core and handed back on each call.
    type Session: Send + 'static;

    /// Whether the messages carry Socket.IO (so the core applies
    /// `max_namespaces` to their CONNECTs). False for a plain Engine.IO relay.
    const CARRIES_SOCKET_IO: bool = true;

    /// Called before the open packet is sent. Packets the backend sends
    /// through `sink` during `open` are delivered right after the open
    /// packet (in the same polling response — socket.io 2.x's `97:0{…}2:40`).
    /// `Err` refuses the handshake.
    fn open(
        &self,
        handshake: Arc<Handshake>,
        sink: Arc<dyn ClientSink>,
    ) -> impl Future<Output = Result<Self::Session, Reject>> + Send;

    /// One `Message` (text, without the Engine.IO `4`) or `Binary` packet
    /// from the client. `Err` closes the session with that reason.
    fn on_message(
        &self,
        session: &mut Self::Session,
        packet: engineio::Packet,
    ) -> impl Future<Output = Result<(), CloseReason>> + Send;

    /// The session ended (for any reason); release everything it holds.
    fn on_close(
        &self,
        session: Self::Session,
        reason: CloseReason,
    ) -> impl Future<Output = ()> + Send;
}
