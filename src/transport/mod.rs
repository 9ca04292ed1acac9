//! Transports: long-polling and WebSocket adapters that move Engine.IO
//! packets between the wire and a [`Session`], plus what both share —
//! opening a session with the backend, feeding client packets to it in
//! order, and ending it exactly once.
//!
//! Layering: `transport` uses `engine` (sessions) and the seam types of
//! [`crate::server::backend`]; `server` routes requests here.
pub mod guard;
pub mod polling;
pub mod upgrade;
pub mod websocket;

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::config::ServerConfig;
use crate::engine::{Limits, Registry, Session, TransportState};
use crate::limits::Counter;
use crate::protocol::engineio::{OpenPacket, Packet, Revision};
use crate::server::backend::{Backend, ClientSink, CloseReason, Handshake, Reject, TransportKind};

/// Body of every HTTP response the server produces.
pub type Body = Full<Bytes>;
/// An HTTP response of the server.
pub type Response = http::Response<Body>;

/// Why an Engine.IO HTTP request failed; `server::errors` turns each into
/// the status and JSON body engine.io uses (PROTOCOL.md §1.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("transport unknown")]
    TransportUnknown,
    #[error("session id unknown")]
    SessionUnknown,
    #[error("bad handshake method")]
    BadHandshakeMethod,
    #[error("bad request")]
    BadRequest,
    #[error("forbidden")]
    Forbidden,
    #[error("unsupported protocol version")]
    UnsupportedProtocolVersion,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("handshake rejected by the backend: {}", .0.message)]
    Rejected(Reject),
    #[error("server shutting down")]
    ShuttingDown,
    #[error("too many sessions")]
    TooManySessions,
    #[error("too many sessions from this address")]
    TooManySessionsFromIp,
    #[error("request URL too long")]
    UrlTooLong,
}

/// What every transport handler needs: settings, the backend, the live
/// sessions, and the tracker that owns every session task (so shutdown can
/// wait for them).
pub struct Context<B: Backend> {
    pub cfg: Arc<ServerConfig>,
    pub backend: Arc<B>,
    pub registry: Registry<Conn<B>>,
    pub tracker: TaskTracker,
    /// Live Engine.IO sessions (`max_sessions`, `max_sessions_per_ip`).
    pub sessions: Counter,
    /// Open TCP connections (`max_connections`, `max_connections_per_ip`).
    pub connections: Counter,
    shutting_down: std::sync::atomic::AtomicBool,
}

impl<B: Backend> Context<B> {
    pub fn new(cfg: Arc<ServerConfig>, backend: Arc<B>) -> Context<B> {
        let l = &cfg.limits;
        Context {
            sessions: Counter::new(l.max_sessions, l.max_sessions_per_ip),
            connections: Counter::new(l.max_connections, l.max_connections_per_ip),
            cfg,
            backend,
            registry: Registry::default(),
            tracker: TaskTracker::new(),
            shutting_down: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Refuses new handshakes and closes every session with
    /// [`CloseReason::Shutdown`] (each sends `1` to its client).
    pub fn begin_shutdown(&self) {
        self.shutting_down
            .store(true, std::sync::atomic::Ordering::SeqCst);
        for conn in self.registry.all() {
            conn.session.close(CloseReason::Shutdown);
        }
    }

    /// Waits until every session still on polling has told its client
    /// goodbye (its next GET got the final `1`). For shutdown: bound it.
    pub async fn polling_goodbyes(&self) {
        for conn in self.registry.all() {
            if conn.session.transport() != TransportState::WebSocket {
                conn.session.wait_goodbye().await;
            }
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn limits(&self) -> Limits {
        Limits {
            ping_interval: std::time::Duration::from_millis(self.cfg.ping_interval_ms),
            ping_timeout: std::time::Duration::from_millis(self.cfg.ping_timeout_ms),
            max_queue: self.cfg.max_queue_packets,
            idle_timeout: self
                .cfg
                .limits
                .idle_timeout_ms
                .map(std::time::Duration::from_millis),
        }
    }

    /// The open packet for a new session.
    pub fn open_packet(&self, sid: &str, rev: Revision, transport: TransportKind) -> Packet {
        let upgrades = match transport {
            TransportKind::Polling => vec!["websocket".to_owned()],
            TransportKind::WebSocket => Vec::new(),
        };
        Packet::Open(OpenPacket {
            sid: sid.to_owned(),
            upgrades,
            ping_interval: self.cfg.ping_interval_ms,
            ping_timeout: self.cfg.ping_timeout_ms,
            max_payload: (rev == Revision::V4).then_some(self.cfg.max_payload_bytes as u64),
        })
    }
}

/// A live session plus the backend's state for it. The backend state sits
/// behind an async mutex: holding it is what serializes `on_message` calls
/// (a polling POST and the WebSocket reader both take it), and taking it out
/// of the `Option` is what makes `on_close` happen exactly once.
pub struct Conn<B: Backend> {
    pub session: Arc<Session>,
    /// The session's span ([`crate::telemetry::session_span`]): its tasks
    /// and every backend call run in it.
    pub span: tracing::Span,
    state: tokio::sync::Mutex<Option<B::Session>>,
    /// Packet rate and namespace limits; holds the session's slot.
    guard: guard::Guard,
}

impl<B: Backend> Conn<B> {
    /// Feeds client packets to the session in order: heartbeats are
    /// answered here, messages go to the backend. Stops at the first packet
    /// that closes the session.
    pub async fn deliver(&self, ctx: &Context<B>, packets: impl IntoIterator<Item = Packet>) {
        self.deliver_in_span(ctx, packets)
            .instrument(self.span.clone())
            .await
    }

    async fn deliver_in_span(&self, ctx: &Context<B>, packets: impl IntoIterator<Item = Packet>) {
        let mut state = self.state.lock().await;
        for packet in packets {
            let Some(st) = state.as_mut() else { return };
            if self.session.is_closed() {
                return;
            }
            self.session.on_client_packet(&packet);
            crate::metrics::global().packet(crate::metrics::Direction::In, &packet);
            let handled = match self.guard.check(&packet) {
                guard::Check::Pass => self.handle(ctx, st, packet).await,
                guard::Check::Reply(reply) => {
                    self.session.push(reply).map_err(|_| CloseReason::QueueFull)
                }
                guard::Check::Close(reason) => Err(reason),
            };
            if let Err(reason) = handled {
                self.session.close(reason);
                return;
            }
        }
    }

    async fn handle(
        &self,
        ctx: &Context<B>,
        st: &mut B::Session,
        packet: Packet,
    ) -> Result<(), CloseReason> {
        let rev = self.session.revision();
        match packet {
            Packet::Message(_) | Packet::Binary(_) => {
                tracing::trace!(sid = %self.session.sid(), "message from client");
                ctx.backend.on_message(st, packet).await
            }
            Packet::Ping(data) if rev == Revision::V3 => self
                .session
                .push(Packet::Pong(data))
                .map_err(|_| CloseReason::QueueFull),
            Packet::Ping(_) if ctx.cfg.strict_heartbeat => Err(CloseReason::ProtocolError(
                "invalid heartbeat direction".into(),
            )),
            Packet::Close => Err(CloseReason::ClientClose),
            Packet::Open(_) => Err(CloseReason::ProtocolError("open packet from client".into())),
            // Pongs only feed the heartbeat (done above); stray pings
            // (non-strict), upgrades and noops are ignored.
            Packet::Ping(_) | Packet::Pong(_) | Packet::Upgrade | Packet::Noop => Ok(()),
        }
    }

    /// Ends the backend side of a closed session: calls `on_close` exactly
    /// once (whoever gets here first; later calls do nothing).
    pub async fn finish(&self, ctx: &Context<B>) {
        let taken = self.state.lock().await.take();
        self.guard.release();
        if let Some(st) = taken {
            let reason = self
                .session
                .close_reason()
                .unwrap_or(CloseReason::TransportError);
            tracing::debug!(parent: &self.span, reason = ?reason, "session closed");
            ctx.backend
                .on_close(st, reason)
                .instrument(self.span.clone())
                .await;
        }
    }
}

/// Creates a session for a handshake and asks the backend to accept it.
/// Packets the backend sends during `open` wait in the queue, so they go out
/// right after the open packet. On success the session is registered.
pub async fn open_session<B: Backend>(
    ctx: &Context<B>,
    handshake: Handshake,
) -> Result<Arc<Conn<B>>, Error> {
    if ctx.is_shutting_down() {
        return Err(Error::ShuttingDown);
    }
    let peer = crate::limits::client_ip::client_ip(
        &ctx.cfg.trusted_proxies,
        handshake.remote.ip(),
        &handshake.headers,
    );
    let permit = guard::admit_session(&ctx.sessions, peer)?;
    let guard = guard::Guard::new(
        &ctx.cfg.limits,
        handshake.eio,
        B::CARRIES_SOCKET_IO,
        peer,
        permit,
    );
    let initial = match handshake.transport {
        TransportKind::Polling => TransportState::Polling,
        TransportKind::WebSocket => TransportState::WebSocket,
    };
    let sid = handshake.sid.clone();
    let span = crate::telemetry::session_span(&handshake);
    if peer != handshake.remote.ip() {
        span.record("client.ip", tracing::field::display(peer));
    }
    let session = Arc::new(Session::new(
        sid.clone(),
        handshake.eio,
        initial,
        ctx.limits(),
    ));
    let sink: Arc<dyn ClientSink> = session.clone();
    let opened = ctx.backend.open(Arc::new(handshake), sink);
    let state = match opened.instrument(span.clone()).await {
        Ok(state) => state,
        Err(reject) => {
            crate::metrics::global().handshakes_rejected.inc();
            // A sink the backend kept must report the session as gone.
            session.close(CloseReason::Backend("handshake rejected".into()));
            return Err(Error::Rejected(reject));
        }
    };
    let conn = Arc::new(Conn {
        session,
        span,
        state: tokio::sync::Mutex::new(Some(state)),
        guard,
    });
    if !ctx.registry.insert(sid.into(), conn.clone()) {
        // Two equal random 120-bit sids: practically impossible, but never
        // let one session shadow another.
        conn.session
            .close(CloseReason::ProtocolError("duplicate sid".into()));
        conn.finish(ctx).await;
        return Err(Error::BadRequest);
    }
    conn.session.mark_open();
    // Shutdown may have begun while the backend was deciding; it sets its
    // flag before closing the registered sessions, so one side sees the other.
    if ctx.is_shutting_down() {
        conn.session.close(CloseReason::Shutdown);
    }
    Ok(conn)
}

/// Looks up a session by sid for a follow-up request.
pub fn lookup<B: Backend>(ctx: &Context<B>, sid: &str) -> Result<Arc<Conn<B>>, Error> {
    ctx.registry.get(sid).ok_or(Error::SessionUnknown)
}
