//! The shared state of one proxied client session and the I/O that carries
//! out the normalizer's [`Action`]s.
//!
//! # Concurrency
//! Events reach a session from two sides: the server core calls the backend
//! with client messages (one at a time), and each leg's task reports upstream
//! messages and its own open/close. All of them take the session's
//! `std::sync::Mutex<State>`, feed the [`Normalizer`], and carry out the
//! resulting actions **before releasing it**. Every action is non-blocking
//! (queue to the client's bounded queue, `push` to a leg's bounded
//! outbox, spawn a leg task, cancel a token), so the lock is never held
//! across an `.await`, and actions run in exactly the order the normalizer
//! produced them, whichever side triggered them. A leg outbox that is full
//! (the upstream stopped reading) closes the client session rather than
//! buffering without bound.
//!
//! # Lifetime
//! Every leg task runs under a child of the session's cancellation token and
//! is tracked by the proxy's `TaskTracker`. The session token is cancelled
//! when the client session ends (`on_close`), when `open` is abandoned, and
//! when the proxy shuts down, so no leg outlives its client.
use std::cell::Cell;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::backend::Core;
use super::inject::member::Member;
use super::normalize::{Action, LegId, Normalizer, reason};
use super::upstream::outbox::{self, Refused};
use super::upstream::{HeaderBlock, LegError};
use crate::metrics;
use crate::protocol::engineio;
use crate::protocol::socketio::connect::Query;
use crate::protocol::socketio::{Message, PacketKind};
use crate::server::{ClientSink, CloseReason, Handshake};

/// One leg as the session sees it.
struct LegSlot {
    id: LegId,
    tx: outbox::Sender,
    cancel: CancellationToken,
}

/// Which upstream this session uses: the balancer's order, the current
/// choice, and whether a leg already opened there (then it never moves).
#[derive(Debug)]
pub(super) struct Pin {
    order: Vec<usize>,
    at: usize,
    established: bool,
}

impl Pin {
    pub(super) fn new(order: Vec<usize>) -> Pin {
        Pin {
            order,
            at: 0,
            established: false,
        }
    }

    /// The upstream to dial now, if any is left.
    pub(super) fn current(&self) -> Option<usize> {
        self.order.get(self.at).copied()
    }

    /// A dial of `idx` succeeded. True if `idx` is (still) the session's
    /// upstream; false if another leg moved the session on meanwhile.
    pub(super) fn opened(&mut self, idx: usize) -> bool {
        if self.current() == Some(idx) {
            self.established = true;
            true
        } else {
            false
        }
    }

    /// A dial of `idx` failed. Before any leg opened (the client's handshake)
    /// the session moves to the next upstream; returns whether there is one
    /// to try.
    pub(super) fn failed(&mut self, idx: usize) -> bool {
        if self.established {
            return false;
        }
        if self.current() == Some(idx) {
            self.at += 1;
        }
        self.current().is_some()
    }
}

pub(super) struct State {
    pub(super) norm: Normalizer,
    legs: Vec<LegSlot>,
    pub(super) pin: Pin,
    /// `open` waits here for the first leg (the SIO4 root) to open or fail.
    pub(super) first_open: Option<oneshot::Sender<Result<(), LegError>>>,
    /// Redis-emitter injection (`[proxy.redis]`); boxed, as it is optional.
    pub(super) inject: Option<Box<Member>>,
}

thread_local! {
    /// The action list `with_norm` fills and drains: one per worker thread
    /// rather than one per session (a per-session list kept ~0.8 KiB of
    /// spare capacity alive in every idle session), and no allocation per
    /// message. Taken while in use, so a nested call just gets a new one.
    static SCRATCH: Cell<Vec<Action>> = const { Cell::new(Vec::new()) };
}

/// Larger scratch lists (after a burst) are freed rather than kept.
const SCRATCH_KEEP: usize = 64;

/// Everything one client session shares with its leg tasks.
pub(super) struct Shared {
    pub(super) core: Arc<Core>,
    pub(super) sink: Arc<dyn ClientSink>,
    /// The headers every leg's handshake carries (computed once).
    pub(super) headers: HeaderBlock,
    pub(super) cancel: CancellationToken,
    /// The client session's span (current when the backend's `open` runs);
    /// the leg records `upstream.addr` on it.
    pub(super) span: tracing::Span,
    state: Mutex<State>,
}

impl Shared {
    pub(super) fn new(
        core: Arc<Core>,
        sink: Arc<dyn ClientSink>,
        handshake: &Handshake,
        norm: Normalizer,
        pin: Pin,
    ) -> Shared {
        let headers = HeaderBlock::from(&super::upstream::forwarded_headers(handshake));
        let cancel = core.cancel.child_token();
        let inject = core.inject.as_ref();
        let inject = inject.map(|i| Box::new(Member::new(i.clone(), handshake.query.clone())));
        Shared {
            core,
            sink,
            headers,
            cancel,
            span: tracing::Span::current(),
            state: Mutex::new(State {
                norm,
                legs: Vec::new(),
                pin,
                first_open: None,
                inject,
            }),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        // Critical sections only update plain fields; a panic inside one
        // leaves nothing half-written that later code relies on.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Feeds the normalizer and carries out what it asks, under the lock.
    pub(super) fn with_norm(self: &Arc<Self>, f: impl FnOnce(&mut State, &mut Vec<Action>)) {
        let mut st = self.lock();
        let mut out = SCRATCH.take();
        f(&mut st, &mut out);
        let closed = st.norm.is_closed();
        if let Some(member) = st.inject.as_mut() {
            member.observe(&out, closed, self);
        }
        self.apply(&mut st, &mut out);
        drop(st);
        out.clear();
        if out.capacity() <= SCRATCH_KEEP {
            SCRATCH.set(out);
        }
    }

    /// Carries out `actions` in order (see the module docs).
    fn apply(self: &Arc<Self>, st: &mut State, actions: &mut Vec<Action>) {
        for action in actions.drain(..) {
            if let Some(kind) = super::session_kind::normalize_kind(&action) {
                metrics::global().normalizations.inc(kind);
            }
            match action {
                Action::OpenLeg { leg, query } => self.spawn_leg(st, leg, query),
                Action::ToUpstream { leg, msg } => {
                    let Some(slot) = st.legs.iter().find(|s| s.id == leg) else {
                        continue;
                    };
                    if let Err(Refused::Full) = slot.tx.push(packets(msg)) {
                        tracing::debug!(leg = %leg, "upstream not reading; closing the client");
                        metrics::global()
                            .queue_overflows
                            .inc(metrics::Queue::Upstream);
                        self.close_all(st, "upstream queue full");
                    }
                }
                Action::ToClient { msg } => self.to_client(msg),
                Action::CloseLeg { leg } => {
                    if let Some(i) = st.legs.iter().position(|s| s.id == leg) {
                        st.legs.swap_remove(i).cancel.cancel();
                    }
                }
                Action::CloseClient { reason } => self.close_all(st, reason),
                Action::Drop { reason } => tracing::trace!(reason, "packet dropped"),
            }
        }
    }

    fn to_client(&self, msg: Message) {
        // A failed send means the session is closed (or closing because its
        // queue overflowed); the core ends it and calls `on_close`.
        for p in packets(msg) {
            if self.sink.send(p).is_err() {
                return;
            }
        }
    }

    fn spawn_leg(self: &Arc<Self>, st: &mut State, leg: LegId, query: Query) {
        let (tx, rx) = outbox::channel(self.core.leg_queue);
        let cancel = self.cancel.child_token();
        if st.legs.capacity() == 0 {
            st.legs.reserve_exact(1); // usually the only one
        }
        st.legs.push(LegSlot {
            id: leg,
            tx,
            cancel: cancel.clone(),
        });
        let span = tracing::debug_span!(parent: &self.span, "leg", leg = %leg,
            upstream.addr = tracing::field::Empty);
        let task = super::leg_task::run(self.clone(), leg, query, rx, cancel);
        self.core.tasks.spawn(task.instrument(span));
    }

    /// Ends everything: every leg, the normalizer, and the client session.
    pub(super) fn close_all(&self, st: &mut State, why: &str) {
        for slot in st.legs.drain(..) {
            slot.cancel.cancel();
        }
        let mut ignored = Vec::new();
        st.norm.on_client_closed(&mut ignored);
        st.first_open = None;
        self.sink.close(CloseReason::Backend(why.to_owned()));
    }

    /// The client session ended: stop every leg (and every dial in flight).
    pub(super) fn client_closed(self: &Arc<Self>) {
        self.with_norm(|st, out| {
            st.norm.on_client_closed(out);
            st.first_open = None;
        });
        let mut st = self.lock();
        st.legs.clear();
        drop(st);
        self.cancel.cancel();
    }

    /// True once the client asked for anything upstream (a leg exists or
    /// one opened before).
    pub(super) fn ever_connected(&self) -> bool {
        let st = self.lock();
        st.pin.established || !st.legs.is_empty()
    }

    /// A leg could not be opened.
    pub(super) fn leg_failed(self: &Arc<Self>, leg: LegId, err: LegError) {
        tracing::debug!(error = %err, "upstream session could not be opened");
        self.with_norm(|st, out| {
            st.legs.retain(|s| s.id != leg);
            if let Some(waiter) = st.first_open.take() {
                let _ = waiter.send(Err(err));
            }
            st.norm.on_leg_failed(leg, out);
        });
    }

    /// A leg is open: flush what waited for it.
    pub(super) fn leg_opened(self: &Arc<Self>, leg: LegId) {
        self.with_norm(|st, out| {
            if let Some(waiter) = st.first_open.take() {
                let _ = waiter.send(Ok(()));
            }
            st.norm.on_leg_open(leg, out);
        });
    }

    /// A leg ended without us asking. The normalizer decides per flavor
    /// (CONNECT_ERROR while connecting, the client closed for the root or
    /// multiplexed leg); a namespace that was already connected is not left
    /// disconnected in a live session either: the whole client session is
    /// closed, so the client reconnects (an SIO5 client would not retry after
    /// a server-side `41`).
    pub(super) fn leg_lost(self: &Arc<Self>, leg: LegId) {
        self.with_norm(|st, out| {
            st.legs.retain(|s| s.id != leg);
            st.norm.on_leg_closed(leg, out);
            let disconnects = out.iter().any(|a| {
                matches!(a, Action::ToClient { msg } if msg.packet.kind == PacketKind::Disconnect)
            });
            if disconnects {
                out.clear();
                st.norm.on_client_closed(out);
                out.push(Action::CloseClient {
                    reason: reason::UPSTREAM_CLOSED,
                });
            }
        });
    }

    /// One complete Socket.IO message from a leg.
    pub(super) fn from_upstream(self: &Arc<Self>, leg: LegId, msg: Message) {
        self.with_norm(|st, out| st.norm.on_upstream(leg, msg, out));
    }

    /// One complete Socket.IO message from the client.
    pub(super) fn from_client(self: &Arc<Self>, msg: Message) {
        self.with_norm(|st, out| {
            if let Some(member) = st.inject.as_mut() {
                member.on_client(&msg.packet);
            }
            st.norm.on_client(msg, out);
        });
    }
}

/// A Socket.IO message as Engine.IO packets: the text, then each attachment.
fn packets(msg: Message) -> impl Iterator<Item = engineio::Packet> {
    let text = engineio::Packet::Message(msg.packet.encode());
    std::iter::once(text).chain(msg.attachments.into_iter().map(engineio::Packet::Binary))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_moves_on_only_before_a_leg_opened() {
        let mut p = Pin::new(vec![1, 0]);
        assert_eq!(p.current(), Some(1));
        assert!(p.failed(1));
        assert_eq!(p.current(), Some(0));
        assert!(
            !p.opened(1),
            "a late success on the old upstream is not kept"
        );
        assert!(p.opened(0));
        assert!(!p.failed(0), "once established the session stays");
        assert_eq!(p.current(), Some(0));
    }

    #[test]
    fn pin_runs_out_of_upstreams() {
        let mut p = Pin::new(vec![0]);
        assert!(!p.failed(0));
        assert_eq!(p.current(), None);
        let mut q = Pin::new(vec![0, 1]);
        assert!(q.failed(0));
        assert!(
            q.failed(0),
            "a second failure on the old choice keeps the new one"
        );
        assert_eq!(q.current(), Some(1));
    }
}
