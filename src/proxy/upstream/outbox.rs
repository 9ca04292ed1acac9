//! The queue from a client session to one of its legs: Engine.IO packets,
//! bounded in Socket.IO messages (a message is its text packet plus its
//! binary attachments), one producer handle ([`Sender`], which closes the
//! queue when dropped) and one consumer, the leg's task ([`Receiver`]).
//!
//! Why not a tokio `mpsc` channel: its first block of 32 slots cost ~0.8 KiB
//! per proxied session whether anything was queued or not, and a message
//! took one `Vec` allocation to fit one slot. Here an idle queue is one
//! small allocation, and the leg takes everything queued in one go, so it
//! writes a burst and flushes once.
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;

use crate::protocol::engineio::Packet;

/// Why a message was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// `capacity` messages are waiting already (the upstream stopped reading).
    Full,
    /// The leg ended.
    Closed,
}

struct State {
    packets: VecDeque<Packet>,
    messages: usize,
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    capacity: usize,
    waker: AtomicWaker,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every critical section is a few field updates: nothing half-done.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn close(&self) {
        self.lock().closed = true;
        self.waker.wake();
    }
}

/// A queue for at most `capacity` (≥ 1) messages.
pub fn channel(capacity: usize) -> (Sender, Receiver) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            packets: VecDeque::new(),
            messages: 0,
            closed: false,
        }),
        capacity: capacity.max(1),
        waker: AtomicWaker::new(),
    });
    (Sender(shared.clone()), Receiver(shared))
}

/// The session's end; dropping it closes the queue (the leg then says
/// goodbye to its upstream).
pub struct Sender(Arc<Shared>);

impl Sender {
    /// Queues one message's packets, in order, without waiting.
    pub fn push(&self, message: impl IntoIterator<Item = Packet>) -> Result<(), Refused> {
        {
            let mut st = self.0.lock();
            if st.closed {
                return Err(Refused::Closed);
            }
            if st.messages >= self.0.capacity {
                return Err(Refused::Full);
            }
            st.messages += 1;
            st.packets.extend(message);
        }
        self.0.waker.wake();
        Ok(())
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// The leg's end.
pub struct Receiver(Arc<Shared>);

impl Receiver {
    /// Moves every queued packet to the (empty) `out`: `Ready(true)` if
    /// there were any, `Ready(false)` once the queue is closed and empty,
    /// else `Pending` (woken by the next push or the close).
    pub fn poll_take(&self, cx: &mut Context<'_>, out: &mut VecDeque<Packet>) -> Poll<bool> {
        debug_assert!(out.is_empty());
        if let Some(ready) = self.try_take(out) {
            return Poll::Ready(ready);
        }
        self.0.waker.register(cx.waker());
        // A push between the first look and the registration is seen here.
        self.try_take(out).map_or(Poll::Pending, Poll::Ready)
    }

    fn try_take(&self, out: &mut VecDeque<Packet>) -> Option<bool> {
        let mut st = self.0.lock();
        if !st.packets.is_empty() {
            // A swap: the two buffers take turns, nothing is copied.
            std::mem::swap(&mut st.packets, out);
            st.messages = 0;
            Some(true)
        } else if st.closed {
            Some(false)
        } else {
            None
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        // The leg ended: later pushes are refused as `Closed`.
        self.0.lock().closed = true;
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;

    use bytes::Bytes;

    use super::*;

    fn text(s: &'static str) -> Packet {
        Packet::Message(Bytes::from_static(s.as_bytes()))
    }

    #[tokio::test]
    async fn messages_come_out_in_order_with_their_attachments() {
        let (tx, rx) = channel(4);
        tx.push([text("a")]).expect("queued");
        tx.push([text("b"), Packet::Binary(Bytes::from_static(&[1]))])
            .expect("queued");
        let mut out = VecDeque::new();
        assert!(poll_fn(|cx| rx.poll_take(cx, &mut out)).await);
        let got: Vec<Packet> = out.drain(..).collect();
        assert_eq!(
            got,
            [
                text("a"),
                text("b"),
                Packet::Binary(Bytes::from_static(&[1]))
            ]
        );
    }

    #[tokio::test]
    async fn the_bound_counts_messages_and_frees_up_once_taken() {
        let (tx, rx) = channel(2);
        tx.push([text("a"), Packet::Binary(Bytes::from_static(&[1]))])
            .expect("one message with an attachment");
        tx.push([text("b")]).expect("second");
        assert_eq!(tx.push([text("c")]), Err(Refused::Full));
        let mut out = VecDeque::new();
        assert!(poll_fn(|cx| rx.poll_take(cx, &mut out)).await);
        assert_eq!(out.len(), 3);
        out.clear();
        tx.push([text("c")]).expect("room again");
    }

    #[tokio::test]
    async fn a_waiting_leg_is_woken_by_a_push_and_by_the_senders_drop() {
        let (tx, rx) = channel(1);
        let leg = tokio::spawn(async move {
            let mut out = VecDeque::new();
            let first = poll_fn(|cx| rx.poll_take(cx, &mut out)).await;
            out.clear();
            let second = poll_fn(|cx| rx.poll_take(cx, &mut out)).await;
            (first, second)
        });
        tokio::task::yield_now().await;
        tx.push([text("a")]).expect("queued");
        tokio::task::yield_now().await;
        drop(tx);
        let got = tokio::time::timeout(std::time::Duration::from_secs(5), leg)
            .await
            .expect("woken")
            .expect("task");
        assert_eq!(got, (true, false));
    }

    #[test]
    fn a_queue_whose_leg_ended_refuses() {
        let (tx, rx) = channel(1);
        drop(rx);
        assert_eq!(tx.push([text("a")]), Err(Refused::Closed));
    }
}
