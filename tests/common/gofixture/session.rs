//! One Engine.IO session of the stand-in as the transports see it: the inbox
//! to its task, the outbox they drain (with go-engine.io v1.0.1's one-slot
//! send token that lets a GET answer with nothing), the current transport
//! (polling, upgrading, WebSocket) and the kill switch that drops every
//! transport at once without a close frame.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// The transport currently carrying a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    Polling,
    /// A WebSocket answered `3probe`; polling GETs get `6` (noop).
    Upgrading,
    WebSocket,
}

/// One outbound item.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Out {
    /// An Engine.IO packet as text (`40`, `3`, `42/chat,[…]`).
    Packet(String),
    /// After the packets before it: drop the transport (no WS close frame).
    Close,
}

/// What transports hand to the session task.
pub(crate) enum Inbound {
    Packet(String),
    Push {
        text: String,
        nsp: Option<String>,
        reply: oneshot::Sender<usize>,
    },
    TransportClosed,
}

struct Outbox {
    queue: VecDeque<Out>,
    /// go-engine.io v1.0.1's `sendChan` (capacity 1): set by every write, taken
    /// by a GET, which then drains whatever is queued — possibly nothing.
    token: bool,
}

/// One Engine.IO session.
pub(crate) struct Session {
    pub sid: String,
    pub url_query: String,
    pub b64: bool,
    pub inbox: mpsc::Sender<Inbound>,
    outbox: Mutex<Outbox>,
    out_notify: Notify,
    /// Fired to drop every transport of the session at once (TCP close).
    pub kill: CancellationToken,
    transport: Mutex<Transport>,
    pub get_pending: AtomicBool,
}

impl Session {
    pub(crate) fn new(
        sid: String,
        url_query: &str,
        b64: bool,
        inbox: mpsc::Sender<Inbound>,
        kill: CancellationToken,
        transport: Transport,
    ) -> Self {
        Session {
            sid,
            url_query: url_query.to_owned(),
            b64,
            inbox,
            outbox: Mutex::new(Outbox {
                queue: VecDeque::new(),
                token: false,
            }),
            out_notify: Notify::new(),
            kill,
            transport: Mutex::new(transport),
            get_pending: AtomicBool::new(false),
        }
    }

    pub(crate) fn push(&self, out: Out) {
        let mut ob = self.outbox.lock().expect("outbox mutex poisoned");
        ob.queue.push_back(out);
        ob.token = true;
        drop(ob);
        self.out_notify.notify_waiters();
    }

    /// Sets the v1.0.1 send token without a packet: the next GET answers 200
    /// with an empty body (what go-engine.io's race produces).
    pub(crate) fn force_empty_poll(&self) {
        self.outbox.lock().expect("outbox mutex poisoned").token = true;
        self.out_notify.notify_waiters();
    }

    pub(crate) fn transport(&self) -> Transport {
        *self.transport.lock().expect("transport mutex poisoned")
    }

    pub(crate) fn set_transport(&self, t: Transport) {
        *self.transport.lock().expect("transport mutex poisoned") = t;
        self.out_notify.notify_waiters();
    }

    /// Waits until `take` yields something; re-checked after every outbox or
    /// transport change. Returns `None` once the session is killed.
    pub(crate) async fn wait_out<T>(
        &self,
        mut take: impl FnMut(&mut OutView<'_>) -> Option<T>,
    ) -> Option<T> {
        loop {
            let notified = self.out_notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.kill.is_cancelled() {
                return None;
            }
            {
                let transport = self.transport();
                let mut ob = self.outbox.lock().expect("outbox mutex poisoned");
                let ob = &mut *ob;
                let mut view = OutView {
                    queue: &mut ob.queue,
                    token: &mut ob.token,
                    transport,
                };
                if let Some(v) = take(&mut view) {
                    return Some(v);
                }
            }
            tokio::select! {
                _ = notified => {}
                _ = self.kill.cancelled() => return None,
            }
        }
    }

    pub(crate) fn pop(&self) -> Option<Out> {
        self.outbox
            .lock()
            .expect("outbox mutex poisoned")
            .queue
            .pop_front()
    }

    pub(crate) fn drain(&self) -> Vec<Out> {
        self.outbox
            .lock()
            .expect("outbox mutex poisoned")
            .queue
            .drain(..)
            .collect()
    }
}

/// A transport's view of the outbox while deciding whether to wake up.
pub(crate) struct OutView<'a> {
    pub queue: &'a mut VecDeque<Out>,
    /// The v1.0.1 send token (see `Outbox::token`).
    pub token: &'a mut bool,
    pub transport: Transport,
}
