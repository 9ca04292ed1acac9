//! Standalone mode as a [`Backend`] of the server core: one [`Conn`] per
//! Engine.IO session holds the binary reassembly state and the connected
//! namespaces, and every client message is dispatched by packet type.
//!
//! A malformed client packet closes the session with
//! [`CloseReason::ProtocolError`] (what Node does); nothing here panics on
//! input. A session that has no connected namespace `connect_timeout` after
//! its handshake is closed (socket.io 4's `connectTimeout`).
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::socket::{Outbox, Socket};
use super::{Hub, events, namespace};
use crate::protocol::engineio;
use crate::protocol::socketio::{Assembler, Message, PacketKind, Revision};
use crate::server::{Backend, ClientSink, CloseReason, Handshake, Reject};

/// The standalone [`Backend`]. Cheap to clone.
#[derive(Clone)]
pub struct StandaloneBackend {
    pub(super) hub: Arc<Hub>,
}

/// The state of one Engine.IO session in standalone mode.
pub struct Conn {
    pub(super) handshake: Arc<Handshake>,
    pub(super) rev: Revision,
    pub(super) outbox: Arc<Outbox>,
    assembler: Assembler,
    /// Connected namespaces (one per name). A list, not a map: a session
    /// almost always has one or two, and an empty `HashMap` that got one
    /// entry holds ~0.5 KiB for the rest of the session.
    sockets: Vec<Socket>,
    /// Cancels the connect timeout when dropped (first connect, or close).
    connect_timer: Option<DropGuard>,
    /// Bounds this session's concurrent webhook calls (created on first use).
    pub(super) webhook_slots: Option<Arc<Semaphore>>,
}

impl Conn {
    fn new(handshake: Arc<Handshake>, outbox: Arc<Outbox>) -> Conn {
        let rev = match handshake.eio {
            engineio::Revision::V3 => Revision::V4,
            engineio::Revision::V4 => Revision::V5,
        };
        Conn {
            handshake,
            rev,
            outbox,
            assembler: Assembler::new(rev),
            sockets: Vec::new(),
            connect_timer: None,
            webhook_slots: None,
        }
    }

    /// The connected socket of `nsp`. A socket the push API disconnected is
    /// dropped here, so it counts as not connected from then on.
    pub(super) fn socket(&mut self, nsp: &str) -> Option<&Socket> {
        let i = self.position(nsp)?;
        if self.sockets[i].shared.is_kicked() {
            self.sockets.swap_remove(i);
            return None;
        }
        self.sockets.get(i)
    }

    fn position(&self, nsp: &str) -> Option<usize> {
        self.sockets.iter().position(|s| s.nsp.name() == nsp)
    }

    pub(super) fn insert(&mut self, socket: Socket) {
        self.connect_timer = None;
        match self.position(socket.nsp.name()) {
            Some(i) => self.sockets[i] = socket,
            None => self.sockets.push(socket),
        }
    }

    pub(super) fn remove(&mut self, nsp: &str) -> Option<Socket> {
        self.socket(nsp)?;
        let i = self.position(nsp)?;
        Some(self.sockets.swap_remove(i))
    }

    /// A packet other than CONNECT for a namespace that is not connected:
    /// socket.io 4 closes the session, socket.io 2 ignores the packet.
    pub(super) fn not_connected(&self, nsp: &str) -> Result<(), CloseReason> {
        match self.rev {
            Revision::V4 => {
                tracing::trace!(nsp, "packet for a namespace not connected, ignored");
                Ok(())
            }
            Revision::V5 => Err(CloseReason::ProtocolError(format!(
                "packet for namespace {nsp}, which is not connected"
            ))),
        }
    }

    fn start_connect_timer(&mut self, hub: &Hub) {
        let token = CancellationToken::new();
        let cancelled = token.clone();
        let outbox = self.outbox.clone();
        let timeout = hub.opts.connect_timeout;
        let stopping = hub.stopping.clone();
        hub.tasks.spawn(async move {
            tokio::select! {
                () = cancelled.cancelled() => {}
                () = stopping.cancelled() => {}
                () = tokio::time::sleep(timeout) => {
                    tracing::debug!("no namespace connected in time");
                    outbox.close(CloseReason::Backend("connect timeout".into()));
                }
            }
        });
        self.connect_timer = Some(token.drop_guard());
    }
}

impl Backend for StandaloneBackend {
    type Session = Conn;

    async fn open(
        &self,
        handshake: Arc<Handshake>,
        sink: Arc<dyn ClientSink>,
    ) -> Result<Conn, Reject> {
        let hub = &*self.hub;
        let mut conn = Conn::new(handshake, Arc::new(Outbox::new(sink)));
        if conn.rev == Revision::V4 {
            // socket.io 2.x connects `/` implicitly: `40` right after the open
            // packet (or `44"reason"` when the handshake's token is refused).
            let token = conn.handshake.query.get("token").map(str::to_owned);
            let extra = namespace::Extra {
                query: None,
                auth: None,
            };
            namespace::establish(hub, &mut conn, "/", token.as_deref(), extra).await;
        }
        if conn.sockets.is_empty() {
            conn.start_connect_timer(hub);
        }
        Ok(conn)
    }

    async fn on_message(
        &self,
        conn: &mut Conn,
        packet: engineio::Packet,
    ) -> Result<(), CloseReason> {
        let decoded = match packet {
            engineio::Packet::Message(text) => conn.assembler.push_text(text),
            engineio::Packet::Binary(data) => conn.assembler.push_binary(data),
            _ => return Ok(()),
        };
        match decoded {
            Ok(Some(msg)) => dispatch(&self.hub, conn, msg).await,
            Ok(None) => Ok(()),
            Err(e) => Err(CloseReason::ProtocolError(e.to_string())),
        }
    }

    async fn on_close(&self, mut conn: Conn, reason: CloseReason) {
        tracing::debug!(?reason, sockets = conn.sockets.len(), "session closed");
        conn.connect_timer = None;
        for socket in conn.sockets.drain(..) {
            socket.shared.drop_pending();
            if !socket.shared.is_kicked() {
                namespace::release(&self.hub, &socket).await;
            }
        }
    }
}

async fn dispatch(hub: &Arc<Hub>, conn: &mut Conn, msg: Message) -> Result<(), CloseReason> {
    let packet = &msg.packet;
    match packet.kind {
        PacketKind::Connect => namespace::on_connect(hub, conn, packet).await,
        PacketKind::Disconnect => namespace::on_disconnect(hub, conn, packet).await,
        PacketKind::ConnectError => match conn.rev {
            Revision::V4 => Ok(()),
            Revision::V5 => Err(CloseReason::ProtocolError(
                "CONNECT_ERROR from a client".into(),
            )),
        },
        PacketKind::Event | PacketKind::BinaryEvent => {
            let nsp = packet.nsp_str();
            if conn.socket(nsp).is_none() {
                return conn.not_connected(nsp);
            }
            events::on_event(hub, conn, msg).await
        }
        PacketKind::Ack | PacketKind::BinaryAck => {
            let nsp = packet.nsp_str();
            if conn.socket(nsp).is_none() {
                return conn.not_connected(nsp);
            }
            events::on_ack(conn, msg);
            Ok(())
        }
    }
}
