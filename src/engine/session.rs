//! One Engine.IO session: its sid and revision, the transport state
//! (polling → upgrading → websocket), heartbeat deadlines, the bounded
//! outbound queue, and the cancellation token that stops the session's
//! reader, writer and heartbeat together.
//!
//! The session holds no task and no buffer of its own beyond the queue
//! (an empty `VecDeque` allocates nothing), so an idle session costs a few
//! hundred bytes. Producers (the backend through [`ClientSink`], heartbeats)
//! push packets; the one consumer of the moment (a pending polling GET or the
//! WebSocket loop) waits in [`Session::wait_poll_ready`] or
//! [`Session::wait_queue`] and drains.
use std::collections::VecDeque;
use std::pin::pin;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::heartbeat::{Heartbeat, Tick};
use crate::metrics;
use crate::protocol::engineio::{Packet, Revision};
use crate::server::backend::{ClientSink, CloseReason, SessionClosed};

/// Where the session's outbound packets go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportState {
    /// Long-polling: packets wait for the next GET.
    Polling,
    /// A WebSocket probe is in progress; polling still carries packets.
    Upgrading,
    /// WebSocket only; polling requests are refused from now on.
    WebSocket,
}

/// Timing and size limits of a session (from `ServerConfig`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
    /// Outbound queue capacity in packets.
    pub max_queue: usize,
    /// Close the session after this long without a message in either
    /// direction (heartbeats do not count); None: never.
    pub idle_timeout: Option<Duration>,
}

/// What a polling GET takes out of the session.
#[derive(Debug, PartialEq, Eq)]
pub enum Batch {
    /// Queued packets (never empty).
    Packets(Vec<Packet>),
    /// The session moved to WebSocket: answer the GET with a noop.
    Upgraded,
    /// The session is closed: the packets still queued followed by `1`
    /// (server close) or `6` (the client closed it), or nothing at all when
    /// the goodbye was already delivered.
    Closed(Option<Vec<Packet>>),
}

/// The single request of one kind (GET or POST) a polling session may have
/// in flight; released on drop.
pub struct Busy<'a> {
    session: &'a Session,
    get: bool,
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        let mut inner = self.session.lock();
        if self.get {
            inner.get_pending = false;
        } else {
            inner.post_pending = false;
        }
    }
}

struct Inner {
    queue: VecDeque<Packet>,
    transport: TransportState,
    closed: Option<CloseReason>,
    /// The final `1`/`6` went out (over polling); later GETs are refused.
    goodbye_sent: bool,
    get_pending: bool,
    post_pending: bool,
    heartbeat: Heartbeat,
    /// Counted in `siogate_sessions` (set by [`Session::mark_open`] once the
    /// backend accepted the handshake; a refused one is never counted).
    counted: bool,
    /// The last message to or from the client (kept only with an idle timeout).
    last_message: Instant,
}

/// One Engine.IO session. Shared as `Arc<Session>`; also the backend's
/// [`ClientSink`].
pub struct Session {
    sid: String,
    rev: Revision,
    max_queue: usize,
    idle_timeout: Option<Duration>,
    inner: Mutex<Inner>,
    /// Woken on every push, close and transport change.
    wake: Notify,
    cancel: CancellationToken,
}

impl Session {
    pub fn new(sid: String, rev: Revision, transport: TransportState, limits: Limits) -> Session {
        let now = Instant::now();
        let heartbeat = Heartbeat::new(rev, limits.ping_interval, limits.ping_timeout, now);
        Session {
            sid,
            rev,
            max_queue: limits.max_queue.max(1),
            idle_timeout: limits.idle_timeout,
            inner: Mutex::new(Inner {
                queue: VecDeque::new(),
                transport,
                closed: None,
                goodbye_sent: false,
                get_pending: false,
                post_pending: false,
                heartbeat,
                counted: false,
                last_message: now,
            }),
            wake: Notify::new(),
            cancel: CancellationToken::new(),
        }
    }

    pub fn sid(&self) -> &str {
        &self.sid
    }

    pub fn revision(&self) -> Revision {
        self.rev
    }

    /// Cancelled when the session closes.
    pub fn cancelled(&self) -> tokio_util::sync::WaitForCancellationFuture<'_> {
        self.cancel.cancelled()
    }

    pub fn transport(&self) -> TransportState {
        self.lock().transport
    }

    /// Why the session closed, or None while it is open.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.lock().closed.clone()
    }

    pub fn is_closed(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Queues a packet, enforcing the bound: on overflow the session is closed
    /// with [`CloseReason::QueueFull`].
    pub fn push(&self, packet: Packet) -> Result<(), SessionClosed> {
        let mut inner = self.lock();
        if inner.closed.is_some() {
            return Err(SessionClosed);
        }
        if inner.queue.len() >= self.max_queue {
            drop(inner);
            tracing::debug!(sid = %self.sid, "outbound queue full");
            metrics::global()
                .queue_overflows
                .inc(metrics::Queue::Client);
            self.close(CloseReason::QueueFull);
            return Err(SessionClosed);
        }
        if self.idle_timeout.is_some() && is_message(&packet) {
            inner.last_message = Instant::now();
        }
        inner.queue.push_back(packet);
        drop(inner);
        self.wake.notify_waiters();
        Ok(())
    }

    /// Closes the session (first reason wins). Returns true if this call
    /// closed it. Stops everything waiting on [`Session::cancelled`].
    pub fn close(&self, reason: CloseReason) -> bool {
        let mut inner = self.lock();
        if inner.closed.is_some() {
            return false;
        }
        tracing::debug!(sid = %self.sid, reason = ?reason, "session closing");
        if reason == CloseReason::QueueFull {
            // Nobody is reading: free the memory now.
            inner.queue = VecDeque::new();
        }
        inner.count_close(self.rev, &reason);
        inner.closed = Some(reason);
        drop(inner);
        self.cancel.cancel();
        self.wake.notify_waiters();
        true
    }

    /// Polling GET: waits until [`Session::take_batch`] has an answer (a
    /// queued packet, a close, or a switch to WebSocket).
    pub async fn wait_poll_ready(&self) {
        self.wait_until(|i| {
            !i.queue.is_empty() || i.closed.is_some() || i.transport == TransportState::WebSocket
        })
        .await
    }

    /// WebSocket writer: waits until a packet is queued or the session closes.
    pub async fn wait_queue(&self) {
        self.wait_until(|i| !i.queue.is_empty() || i.closed.is_some())
            .await
    }

    /// Waits until the session is on WebSocket or closed.
    pub async fn wait_websocket(&self) {
        self.wait_until(|i| i.transport == TransportState::WebSocket || i.closed.is_some())
            .await
    }

    /// Waits until a polling GET delivered the final `1`/`6`.
    pub async fn wait_goodbye(&self) {
        self.wait_until(|i| i.goodbye_sent).await
    }

    /// Waits for `ready` to hold. The waiter registers with the `Notify`
    /// before checking, so a wake-up between check and await is not lost.
    async fn wait_until(&self, ready: impl Fn(&Inner) -> bool) {
        loop {
            let mut notified = pin!(self.wake.notified());
            notified.as_mut().enable();
            if ready(&self.lock()) {
                return;
            }
            notified.await;
        }
    }

    /// Marks a polling GET (`get = true`) or POST in flight; None if one of
    /// that kind is already pending.
    pub fn begin_request(&self, get: bool) -> Option<Busy<'_>> {
        let mut inner = self.lock();
        let flag = if get {
            &mut inner.get_pending
        } else {
            &mut inner.post_pending
        };
        if *flag {
            return None;
        }
        *flag = true;
        Some(Busy { session: self, get })
    }

    /// What a polling GET answers with, or None if nothing is ready yet.
    pub fn take_batch(&self) -> Option<Batch> {
        let mut inner = self.lock();
        if let Some(reason) = inner.closed.clone() {
            if inner.goodbye_sent {
                return Some(Batch::Closed(None));
            }
            inner.goodbye_sent = true;
            let mut packets: Vec<Packet> = inner.queue.drain(..).collect();
            packets.push(if reason == CloseReason::ClientClose {
                Packet::Noop
            } else {
                Packet::Close
            });
            drop(inner);
            self.wake.notify_waiters();
            return Some(Batch::Closed(Some(packets)));
        }
        if inner.transport == TransportState::WebSocket {
            return Some(Batch::Upgraded);
        }
        if inner.queue.is_empty() {
            return None;
        }
        let packets: Vec<Packet> = inner.queue.drain(..).collect();
        shrink_if_large(&mut inner.queue);
        Some(Batch::Packets(packets))
    }

    /// True once a closed session told its polling client goodbye.
    pub fn goodbye_sent(&self) -> bool {
        self.lock().goodbye_sent
    }

    /// Takes the next queued packet (WebSocket writer).
    pub fn pop(&self) -> Option<Packet> {
        let mut inner = self.lock();
        let p = inner.queue.pop_front();
        if inner.queue.is_empty() {
            shrink_if_large(&mut inner.queue);
        }
        p
    }

    /// Polling → Upgrading; false unless the session is on polling.
    pub fn begin_upgrade(&self) -> bool {
        let mut inner = self.lock();
        if inner.transport != TransportState::Polling || inner.closed.is_some() {
            return false;
        }
        inner.transport = TransportState::Upgrading;
        true
    }

    /// Upgrading → Polling (the probe failed).
    pub fn abort_upgrade(&self) {
        let mut inner = self.lock();
        if inner.transport == TransportState::Upgrading {
            inner.transport = TransportState::Polling;
        }
    }

    /// Upgrading → WebSocket: drops queued noops (they were only meant for
    /// the paused poll) and releases a pending GET with a noop.
    pub fn finish_upgrade(&self) -> bool {
        let mut inner = self.lock();
        if inner.transport != TransportState::Upgrading || inner.closed.is_some() {
            return false;
        }
        inner.count_upgrade(self.rev);
        inner.transport = TransportState::WebSocket;
        inner.queue.retain(|p| *p != Packet::Noop);
        drop(inner);
        self.wake.notify_waiters();
        true
    }

    /// Queues a noop to release a pending GET during an upgrade probe,
    /// unless one is already queued. Ignores the queue bound (at most one).
    pub fn push_noop(&self) {
        let mut inner = self.lock();
        if inner.closed.is_some() || inner.queue.contains(&Packet::Noop) {
            return;
        }
        inner.queue.push_back(Packet::Noop);
        drop(inner);
        self.wake.notify_waiters();
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every critical section is a few field updates; a panic inside one
        // cannot leave the state half-written in a way later code depends on.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Gives back an emptied queue's memory, so an idle session holds none
/// (a queue that held one packet keeps room for 4, ~0.3 KiB, otherwise).
/// Costs one allocation per burst of outbound packets.
fn shrink_if_large(queue: &mut VecDeque<Packet>) {
    if queue.is_empty() && queue.capacity() > 0 {
        *queue = VecDeque::new();
    }
}

impl ClientSink for Session {
    fn send(&self, packet: Packet) -> Result<(), SessionClosed> {
        self.push(packet)
    }

    fn close(&self, reason: CloseReason) {
        Session::close(self, reason);
    }

    fn sid(&self) -> &str {
        &self.sid
    }
}

#[path = "session_metrics.rs"]
mod session_metrics;

#[path = "session_timers.rs"]
mod session_timers;
use session_timers::is_message;

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
