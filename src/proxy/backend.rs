//! Proxy mode as a [`Backend`] of the server core. Each client session gets
//! a [`Normalizer`] (client revision × upstream flavor), a strict Socket.IO
//! assembler for what the client sends, and its legs (see `session` for how
//! events and actions are serialized, `leg_task` for one upstream session).
//!
//! `open` runs before the client's open packet is sent: for an SIO4 client
//! the root leg is opened right there and the handshake waits for it, so an
//! upstream that refuses (HTTP 4xx) or cannot be reached refuses the client's
//! handshake too (PROTOCOL.md §4.0). SIO5 clients' legs open lazily at their
//! first CONNECT; one that sends none within the server's
//! `connect_timeout_ms` is closed, as socket.io 4 does.
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::balance::Balancer;
use super::connect_deadline::ConnectDeadlines;
use super::normalize::{Flavor, Normalizer, Options};
use super::session::{Pin, Shared};
use super::upstream::{DialOptions, LegError};
use crate::protocol::engineio;
use crate::protocol::socketio::{Assembler, Revision};
use crate::server::{Backend, ClientSink, CloseReason, Handshake, Reject};

/// Live counts, for tests and status: proxied client sessions and legs
/// (upstream session tasks, dialing or open).
#[derive(Debug, Default)]
pub struct Gauges {
    sessions: AtomicUsize,
    legs: AtomicUsize,
}

impl Gauges {
    pub fn sessions(&self) -> usize {
        self.sessions.load(Ordering::Acquire)
    }

    pub fn legs(&self) -> usize {
        self.legs.load(Ordering::Acquire)
    }

    pub(super) fn leg_started(self: &Arc<Self>) -> Live {
        self.legs.fetch_add(1, Ordering::AcqRel);
        Live(self.clone(), Kind::Leg)
    }

    fn session_started(self: &Arc<Self>) -> Live {
        self.sessions.fetch_add(1, Ordering::AcqRel);
        Live(self.clone(), Kind::Session)
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Session,
    Leg,
}

/// Decrements its gauge when dropped.
#[derive(Debug)]
pub(super) struct Live(Arc<Gauges>, Kind);

impl Drop for Live {
    fn drop(&mut self) {
        let g = match self.1 {
            Kind::Session => &self.0.sessions,
            Kind::Leg => &self.0.legs,
        };
        g.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What every session of one proxy shares.
pub(super) struct Core {
    pub(super) flavor: Flavor,
    pub(super) norm: Options,
    pub(super) balancer: Arc<Balancer>,
    pub(super) dial: DialOptions,
    /// SIO5 clients that have not sent a CONNECT by the server core's
    /// `connect_timeout_ms` are closed (socket.io 4's `connectTimeout`).
    pub(super) connect_deadlines: Arc<ConnectDeadlines>,
    /// Capacity of each leg's outbox, in Socket.IO messages.
    pub(super) leg_queue: usize,
    /// Owns every leg task, so shutdown can wait for them.
    pub(super) tasks: TaskTracker,
    pub(super) gauges: Arc<Gauges>,
    /// Cancelled at shutdown; every session token is a child.
    pub(super) cancel: CancellationToken,
    /// Redis-emitter pushes into sessions, when `[proxy.redis]` is on.
    pub(super) inject: Option<Arc<super::inject::Injector>>,
}

/// The proxy [`Backend`].
#[derive(Clone)]
pub struct ProxyBackend {
    pub(super) core: Arc<Core>,
}

/// The backend's state of one client session.
pub struct ProxySession {
    shared: Arc<Shared>,
    assembler: Assembler,
    _live: Live,
}

impl ProxyBackend {
    pub fn gauges(&self) -> Arc<Gauges> {
        self.core.gauges.clone()
    }

    pub fn balancer(&self) -> Arc<Balancer> {
        self.core.balancer.clone()
    }
}

impl Backend for ProxyBackend {
    type Session = ProxySession;

    async fn open(
        &self,
        handshake: Arc<Handshake>,
        sink: Arc<dyn ClientSink>,
    ) -> Result<ProxySession, Reject> {
        let core = &self.core;
        let client = match handshake.eio {
            engineio::Revision::V3 => Revision::V4,
            engineio::Revision::V4 => Revision::V5,
        };
        let order = core.balancer.order(&handshake);
        let norm = Normalizer::new(
            client,
            core.flavor,
            handshake.query.clone(),
            core.norm.clone(),
            crate::engine::sid::generate,
        );
        let shared = Arc::new(Shared::new(
            core.clone(),
            sink,
            &handshake,
            norm,
            Pin::new(order),
        ));
        // If this future is dropped (the client went away mid-handshake),
        // the legs it started stop too.
        let abandon = shared.cancel.clone().drop_guard();
        if client == Revision::V4 {
            let (tx, rx) = tokio::sync::oneshot::channel();
            shared.with_norm(|st, out| {
                st.first_open = Some(tx);
                st.norm.on_client_open(out);
            });
            let outcome = rx.await.unwrap_or(Err(LegError::Cancelled));
            if let Err(e) = outcome {
                return Err(reject(&e));
            }
        }
        abandon.disarm();
        if client == Revision::V5 {
            core.connect_deadlines
                .add(&shared, &core.tasks, &core.cancel);
        }
        Ok(ProxySession {
            shared,
            assembler: Assembler::new(client),
            _live: core.gauges.session_started(),
        })
    }

    async fn on_message(
        &self,
        session: &mut ProxySession,
        packet: engineio::Packet,
    ) -> Result<(), CloseReason> {
        let decoded = match packet {
            engineio::Packet::Message(text) => session.assembler.push_text(text),
            engineio::Packet::Binary(data) => session.assembler.push_binary(data),
            _ => return Ok(()),
        };
        match decoded {
            Ok(Some(msg)) => {
                session.shared.from_client(msg);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) => Err(CloseReason::ProtocolError(e.to_string())),
        }
    }

    async fn on_close(&self, session: ProxySession, reason: CloseReason) {
        tracing::debug!(?reason, "proxied session closed");
        session.shared.client_closed();
    }
}

/// How an upstream's handshake failure reaches the client's handshake: a
/// refusal keeps its status (403 → Engine.IO code 4 "Forbidden", other 4xx
/// → 3 "Bad request"); anything else is 502.
pub(super) fn reject(e: &LegError) -> Reject {
    match e {
        LegError::Refused { status } if e.is_refusal() => Reject {
            status: *status,
            code: if *status == 403 { 4 } else { 3 },
            message: "upstream refused the handshake".into(),
        },
        _ => Reject {
            status: 502,
            code: 3,
            message: "upstream unavailable".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_refusals_keep_their_status_and_failures_become_502() {
        let r = reject(&LegError::Refused { status: 403 });
        assert_eq!((r.status, r.code), (403, 4));
        let r = reject(&LegError::Refused { status: 400 });
        assert_eq!((r.status, r.code), (400, 3));
        let r = reject(&LegError::Refused { status: 503 });
        assert_eq!(r.status, 502);
        let r = reject(&LegError::Timeout("upstream connect"));
        assert_eq!((r.status, r.code), (502, 3));
    }

    #[test]
    fn gauges_count_until_the_guard_drops() {
        let g = Arc::new(Gauges::default());
        let a = g.leg_started();
        let b = g.session_started();
        assert_eq!((g.legs(), g.sessions()), (1, 1));
        drop(a);
        drop(b);
        assert_eq!((g.legs(), g.sessions()), (0, 0));
    }
}
