//! The SIO5 connect timeout of every proxied session, kept by one task per
//! proxy instead of one timer task per session (which cost ~0.4 KiB per
//! session for as long as the timeout, connected or not).
//!
//! Every session registers once, at its handshake, with a deadline of now +
//! the same timeout, so the queue is in deadline order by construction and
//! the task only ever sleeps until the front entry. An entry holds a `Weak`
//! reference: it keeps no session alive, and a session that ended or
//! connected a namespace by its deadline is just skipped.
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::session::Shared;
use crate::server::CloseReason;

/// Pending connect deadlines of one proxy.
pub(super) struct ConnectDeadlines {
    timeout: Duration,
    queue: Mutex<VecDeque<(Instant, Weak<Shared>)>>,
    /// Woken when the queue goes from empty to non-empty.
    wake: Notify,
    started: AtomicBool,
}

impl ConnectDeadlines {
    pub(super) fn new(timeout: Duration) -> ConnectDeadlines {
        ConnectDeadlines {
            timeout,
            queue: Mutex::new(VecDeque::new()),
            wake: Notify::new(),
            started: AtomicBool::new(false),
        }
    }

    /// Closes `shared`'s client session at now + the timeout unless a
    /// namespace was connected by then. Starts the task on first use (on
    /// `tasks`, ending with `cancel`).
    pub(super) fn add(
        self: &Arc<Self>,
        shared: &Arc<Shared>,
        tasks: &TaskTracker,
        cancel: &CancellationToken,
    ) {
        if !self.started.swap(true, Ordering::AcqRel) {
            tasks.spawn(self.clone().run(cancel.clone()));
        }
        let was_empty = {
            let mut q = self.lock();
            q.push_back((Instant::now() + self.timeout, Arc::downgrade(shared)));
            q.len() == 1
        };
        if was_empty {
            // Stores a permit if the task is not waiting yet: never missed.
            self.wake.notify_one();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(Instant, Weak<Shared>)>> {
        // Only pushes and pops happen under it; nothing is left half-done.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn run(self: Arc<Self>, cancel: CancellationToken) {
        loop {
            let front = self.lock().front().map(|(at, _)| *at);
            match front {
                None => tokio::select! {
                    () = cancel.cancelled() => return,
                    () = self.wake.notified() => {}
                },
                Some(at) => tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep_until(at) => self.expire(Instant::now()),
                },
            }
        }
    }

    /// Handles every entry due by `now` (the lock is not held while closing).
    fn expire(&self, now: Instant) {
        let due: Vec<Weak<Shared>> = {
            let mut q = self.lock();
            let n = q.iter().take_while(|(at, _)| *at <= now).count();
            q.drain(..n).map(|(_, s)| s).collect()
        };
        for shared in due.iter().filter_map(Weak::upgrade) {
            if !shared.cancel.is_cancelled() && !shared.ever_connected() {
                let _enter = shared.span.enter();
                tracing::debug!("no namespace connected in time");
                shared
                    .sink
                    .close(CloseReason::Backend("connect timeout".into()));
            }
        }
    }
}
