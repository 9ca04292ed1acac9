//! Requests this node sent to the others and is waiting on: answers from
//! the response channel are routed to the waiter by `requestId`. A waiter
//! unregisters itself when dropped, so a timed-out request leaves nothing
//! behind and late answers are ignored.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::wire::request::Response;

/// Answers a waiter can hold before further ones are dropped.
const ANSWER_QUEUE: usize = 256;

/// The table of open requests. Shared by the adapter and its message handler.
#[derive(Default)]
pub struct Pending {
    open: Mutex<HashMap<String, mpsc::Sender<Response>>>,
}

impl Pending {
    pub fn new() -> Arc<Pending> {
        Arc::new(Pending::default())
    }

    /// Registers a new request id and returns its waiter.
    pub fn open(self: &Arc<Self>) -> Waiter {
        let id = super::redis::node_uid();
        let (tx, rx) = mpsc::channel(ANSWER_QUEUE);
        self.lock().insert(id.clone(), tx);
        Waiter {
            id,
            answers: rx,
            pending: self.clone(),
        }
    }

    /// Hands an answer to its waiter; false if nobody waits for it.
    pub fn dispatch(&self, answer: Response) -> bool {
        let tx = self.lock().get(&answer.request_id).cloned();
        tx.is_some_and(|tx| tx.try_send(answer).is_ok())
    }

    /// Whether `id` is one of this node's open requests (its own request
    /// coming back on the request channel).
    pub fn is_open(&self, id: &str) -> bool {
        self.lock().contains_key(id)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::Sender<Response>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One open request: its id and the answers as they come.
pub struct Waiter {
    pub id: String,
    answers: mpsc::Receiver<Response>,
    pending: Arc<Pending>,
}

impl Waiter {
    /// The next answer; `None` at `deadline`.
    pub async fn next_until(&mut self, deadline: tokio::time::Instant) -> Option<Response> {
        tokio::time::timeout_at(deadline, self.answers.recv())
            .await
            .ok()
            .flatten()
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        self.pending.lock().remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn answers_reach_their_waiter_until_it_is_dropped() {
        let pending = Pending::new();
        let mut w = pending.open();
        assert!(pending.is_open(&w.id));
        assert!(pending.dispatch(Response::new(&w.id)));
        assert!(!pending.dispatch(Response::new("other")));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        assert_eq!(w.next_until(deadline).await.unwrap().request_id, w.id);
        let id = w.id.clone();
        drop(w);
        assert!(!pending.is_open(&id));
        assert!(!pending.dispatch(Response::new(&id)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_gives_up_at_its_deadline() {
        let pending = Pending::new();
        let mut w = pending.open();
        let deadline = tokio::time::Instant::now() + Duration::from_millis(50);
        assert!(w.next_until(deadline).await.is_none());
    }
}
