//! The timers of a [`Session`]: the heartbeat (EIO4 pings, EIO3 silence)
//! and the idle timeout of `[server.limits]` (no message either way for
//! `idle_timeout_ms`; heartbeats do not count). The transports sleep until
//! [`Session::heartbeat_deadline`] and then call [`Session::heartbeat_tick`].
use tokio::time::Instant;

use super::{Session, Tick};
use crate::limits::{Refusal, refused};
use crate::protocol::engineio::Packet;
use crate::server::backend::CloseReason;

/// A Socket.IO-carrying packet (what the idle timeout looks at).
pub(super) fn is_message(packet: &Packet) -> bool {
    matches!(packet, Packet::Message(_) | Packet::Binary(_))
}

impl Session {
    /// Records a packet from the client for the heartbeat.
    pub fn on_client_packet(&self, packet: &Packet) {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.heartbeat.on_client_packet(now);
        if matches!(packet, Packet::Pong(_)) {
            inner.heartbeat.on_pong(now);
        }
        if is_message(packet) {
            inner.last_message = now;
        }
    }

    /// When the heartbeat (or the idle timeout) next needs attention.
    pub fn heartbeat_deadline(&self) -> Instant {
        let inner = self.lock();
        let heartbeat = inner.heartbeat.next_deadline();
        match self.idle_timeout {
            Some(idle) => heartbeat.min(inner.last_message + idle),
            None => heartbeat,
        }
    }

    /// Runs the heartbeat: queues a ping (EIO4) or closes the session with
    /// `PingTimeout`; closes an idle session with `Limit(IdleTimeout)`.
    /// Returns false once the session is closed.
    pub fn heartbeat_tick(&self) -> bool {
        let now = Instant::now();
        let (tick, idle) = {
            let mut inner = self.lock();
            let idle = self
                .idle_timeout
                .is_some_and(|t| now >= inner.last_message + t);
            (inner.heartbeat.tick(now), idle)
        };
        if idle {
            refused(Refusal::IdleTimeout, None);
            self.close(CloseReason::Limit(Refusal::IdleTimeout));
            return false;
        }
        match tick {
            Tick::Idle => {}
            Tick::SendPing => {
                tracing::trace!(sid = %self.sid, "ping");
                let _ = self.push(Packet::Ping(bytes::Bytes::new()));
            }
            Tick::TimedOut => {
                self.close(CloseReason::PingTimeout);
            }
        }
        !self.is_closed()
    }
}
