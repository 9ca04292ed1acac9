//! How a [`Session`] shows in the metrics: counted in `siogate_sessions`
//! (by transport and revision) from [`Session::mark_open`] until it closes,
//! moved between transports by the upgrade, and its close counted in
//! `siogate_disconnects_total` by reason. `session.rs` calls these under
//! the session's lock, so the gauge never counts a session twice.
use super::{Inner, Session, TransportState};
use crate::metrics;
use crate::protocol::engineio::Revision;
use crate::server::backend::CloseReason;

impl Inner {
    /// The transport label of `siogate_sessions` (an upgrade in progress
    /// still counts as polling).
    fn metric_transport(&self) -> metrics::Transport {
        match self.transport {
            TransportState::WebSocket => metrics::Transport::WebSocket,
            TransportState::Polling | TransportState::Upgrading => metrics::Transport::Polling,
        }
    }

    /// The session is closing (first close only).
    pub(super) fn count_close(&self, rev: Revision, reason: &CloseReason) {
        if self.counted {
            let m = metrics::global();
            m.sessions.dec((self.metric_transport(), rev.into()));
            m.disconnects.inc(reason.into());
        }
    }

    /// Polling → WebSocket.
    pub(super) fn count_upgrade(&self, rev: Revision) {
        if self.counted {
            let m = metrics::global();
            m.sessions.dec((metrics::Transport::Polling, rev.into()));
            m.sessions.inc((metrics::Transport::WebSocket, rev.into()));
        }
    }
}

impl Session {
    /// The backend accepted the session: it counts as open in
    /// `siogate_sessions` (and in `siogate_connects_total`) from now until
    /// it closes, and its close counts in `siogate_disconnects_total`.
    pub fn mark_open(&self) {
        let mut inner = self.lock();
        if inner.counted || inner.closed.is_some() {
            return;
        }
        inner.counted = true;
        let labels = (inner.metric_transport(), self.rev.into());
        let m = metrics::global();
        m.sessions.inc(labels);
        m.connects.inc(labels);
    }
}

impl Drop for Session {
    /// A session dropped without a close (tests, or a task that panicked)
    /// leaves the open-sessions gauge.
    fn drop(&mut self) {
        let inner = self.lock();
        if inner.counted && inner.closed.is_none() {
            metrics::global()
                .sessions
                .dec((inner.metric_transport(), self.rev.into()));
        }
    }
}
