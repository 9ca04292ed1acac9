//! Per-socket state: one client's membership of one namespace.
//!
//! - [`Outbox`]: the session's queue, shared by all its sockets, with a lock
//!   that keeps a binary packet's header and attachments contiguous when a
//!   push and an ack are sent at the same time.
//! - [`LocalSocket`]: what the adapter holds to reach a socket of this node.
//! - [`Socket`]: what the session holds: id, namespace, verified claims, and
//!   the [`SocketShared`] state: the flag the adapter sets when the push API
//!   disconnects the socket, and the server → client events awaiting acks.
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use rand::Rng as _;
use serde_json::{Map, Value};
use tokio::sync::oneshot;

use super::adapter::BroadcastPacket;
use super::codec::EventPayload;
use super::namespace::Namespace;
use crate::protocol::engineio;
use crate::protocol::socketio::connect::Query;
use crate::protocol::socketio::{Packet, PacketKind, Revision};
use crate::server::{ClientSink, CloseReason, SessionClosed};

/// The outbound side of one Engine.IO session.
pub struct Outbox {
    sink: Arc<dyn ClientSink>,
    /// Held while the packets of one Socket.IO message are queued.
    order: Mutex<()>,
}

impl Outbox {
    pub fn new(sink: Arc<dyn ClientSink>) -> Outbox {
        Outbox {
            sink,
            order: Mutex::new(()),
        }
    }

    /// Queues one Socket.IO message and its attachments, without waiting.
    pub fn send(&self, packet: &BroadcastPacket) -> Result<(), SessionClosed> {
        let _order = self.order.lock().unwrap_or_else(|e| e.into_inner());
        self.sink
            .send(engineio::Packet::Message(packet.text.clone()))?;
        for attachment in &packet.attachments {
            self.sink
                .send(engineio::Packet::Binary(attachment.clone()))?;
        }
        Ok(())
    }

    /// Queues one text-only Socket.IO packet.
    pub fn send_packet(&self, packet: &Packet) -> Result<(), SessionClosed> {
        self.send(&BroadcastPacket {
            text: packet.encode(),
            attachments: Vec::new(),
        })
    }

    /// Closes the session.
    pub fn close(&self, reason: CloseReason) {
        self.sink.close(reason);
    }

    /// The Engine.IO session id.
    pub fn eio_sid(&self) -> &str {
        self.sink.sid()
    }
}

/// The outcome of an event sent to one socket with an ack request.
#[derive(Debug, Clone, PartialEq)]
pub enum AckOutcome {
    /// No matching socket.
    NoSocket,
    /// The client acked with these args (binary as `{"$bin":…}`).
    Acked(Vec<Value>),
    /// No ack within the timeout.
    TimedOut,
    /// The socket left or its session closed first.
    Disconnected,
}

/// State shared between a socket's session and the adapter.
#[derive(Debug, Default)]
pub struct SocketShared {
    /// Set once the server disconnected the socket (push API).
    kicked: AtomicBool,
    /// Server → client events waiting for the client's ack, by ack id.
    pending: Mutex<HashMap<u64, oneshot::Sender<Vec<Value>>>>,
}

impl SocketShared {
    pub fn is_kicked(&self) -> bool {
        self.kicked.load(Ordering::Acquire)
    }

    /// Hands a client ACK to the event waiting for it; false if none waits.
    pub fn resolve_ack(&self, id: u64, args: Vec<Value>) -> bool {
        let waiter = self.pending().remove(&id);
        waiter.is_some_and(|tx| tx.send(args).is_ok())
    }

    /// Fails every pending ack (the socket is gone).
    pub fn drop_pending(&self) {
        self.pending().clear();
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<Vec<Value>>>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The adapter's handle on a socket connected to this node.
#[derive(Clone)]
pub struct LocalSocket {
    pub id: Arc<str>,
    pub nsp: Arc<str>,
    namespace: Arc<Namespace>,
    outbox: Arc<Outbox>,
    shared: Arc<SocketShared>,
}

impl LocalSocket {
    /// Queues a packet; false if the session is gone.
    pub fn send(&self, packet: &BroadcastPacket) -> bool {
        self.outbox.send(packet).is_ok()
    }

    /// Server-side disconnect: tells the client `41<nsp>,` (or closes the
    /// whole session) and marks the socket so its session drops it.
    pub fn kick(&self, close_session: bool) {
        self.shared.kicked.store(true, Ordering::Release);
        self.shared.drop_pending();
        if close_session {
            self.outbox
                .close(CloseReason::Backend("disconnected by the push API".into()));
        } else {
            let packet = Packet::new(PacketKind::Disconnect, 0, &self.nsp, None, Bytes::new());
            // A full queue closes the session, which disconnects it too.
            let _ = self.outbox.send_packet(&packet);
        }
    }

    /// Sends an event asking for an ack (id from the namespace's counter)
    /// and waits for the client's ACK, at most `timeout`.
    pub async fn emit_with_ack(&self, payload: &EventPayload, timeout: Duration) -> AckOutcome {
        let id = self.namespace.next_ack_id();
        let (tx, rx) = oneshot::channel();
        self.shared.pending().insert(id, tx);
        if !self.send(&payload.packet(&self.nsp, Some(id))) {
            self.shared.pending().remove(&id);
            return AckOutcome::Disconnected;
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(args)) => AckOutcome::Acked(args),
            Ok(Err(_)) => AckOutcome::Disconnected,
            Err(_) => {
                self.shared.pending().remove(&id);
                AckOutcome::TimedOut
            }
        }
    }
}

/// The session's view of one connected namespace.
pub struct Socket {
    pub id: Arc<str>,
    pub nsp: Arc<Namespace>,
    /// Verified token claims (`None` without a token).
    pub claims: Option<Arc<Value>>,
    /// SIO4: the query of the namespace CONNECT (merged over the handshake
    /// query when read). `None` when it had none.
    pub query: Option<Query>,
    /// SIO5: the auth object of the CONNECT.
    pub auth: Option<Map<String, Value>>,
    pub shared: Arc<SocketShared>,
}

impl Socket {
    /// A socket for `nsp` with the id the client will see: Node socket.io
    /// 2.x's `<nsp>#<eio sid>` (bare EIO sid on `/`) for SIO4 clients (their
    /// `socket.id` is computed that way client-side), a fresh random id for
    /// SIO5 (sent in the CONNECT reply).
    pub fn new(rev: Revision, nsp: Arc<Namespace>, eio_sid: &str, claims: Option<Value>) -> Socket {
        let id: Arc<str> = match rev {
            Revision::V4 if nsp.name() == "/" => Arc::from(eio_sid),
            Revision::V4 => Arc::from(format!("{}#{eio_sid}", nsp.name())),
            Revision::V5 => Arc::from(random_id()),
        };
        Socket {
            id,
            nsp,
            claims: claims.map(Arc::new),
            query: None,
            auth: None,
            shared: Arc::new(SocketShared::default()),
        }
    }

    /// The handle the adapter keeps.
    pub fn handle(&self, outbox: &Arc<Outbox>) -> LocalSocket {
        LocalSocket {
            id: self.id.clone(),
            nsp: self.nsp.name_arc(),
            namespace: self.nsp.clone(),
            outbox: outbox.clone(),
            shared: self.shared.clone(),
        }
    }
}

/// 20 base64url characters from 15 random bytes (socket.io's id shape).
pub fn random_id() -> String {
    let mut raw = [0u8; 15];
    rand::rng().fill_bytes(&mut raw);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}
