//! Heartbeat deadlines of one session, without I/O or timers: the caller
//! asks for the next deadline, sleeps until it, and calls [`Heartbeat::tick`].
//!
//! - EIO3: the client pings. Any packet from the client proves liveness; the
//!   session times out after `pingInterval + pingTimeout` of silence.
//! - EIO4: the server sends `2` every `pingInterval` and expects `3` within
//!   `pingTimeout`; the next ping is scheduled when the pong arrives (as
//!   engine.io 6 does).
use std::time::Duration;

use tokio::time::Instant;

use crate::protocol::engineio::Revision;

/// What the session must do after a [`Heartbeat::tick`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// Nothing is due yet.
    Idle,
    /// EIO4: send a `2` now.
    SendPing,
    /// The client missed its heartbeat: close with `PingTimeout`.
    TimedOut,
}

/// The heartbeat state machine of one session.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    rev: Revision,
    interval: Duration,
    timeout: Duration,
    /// EIO4: when the next ping is due (None while a pong is awaited).
    next_ping: Option<Instant>,
    /// EIO4: when the awaited pong is overdue. EIO3: when silence is fatal.
    deadline: Option<Instant>,
}

impl Heartbeat {
    pub fn new(rev: Revision, interval: Duration, timeout: Duration, now: Instant) -> Heartbeat {
        match rev {
            Revision::V3 => Heartbeat {
                rev,
                interval,
                timeout,
                next_ping: None,
                deadline: Some(now + interval + timeout),
            },
            Revision::V4 => Heartbeat {
                rev,
                interval,
                timeout,
                next_ping: Some(now + interval),
                deadline: None,
            },
        }
    }

    /// The next instant at which [`Heartbeat::tick`] has work to do.
    pub fn next_deadline(&self) -> Instant {
        match (self.next_ping, self.deadline) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            // Unreachable by construction; a far deadline keeps callers simple.
            (None, None) => Instant::now() + self.interval + self.timeout,
        }
    }

    /// Any packet arrived from the client.
    pub fn on_client_packet(&mut self, now: Instant) {
        if self.rev == Revision::V3 {
            self.deadline = Some(now + self.interval + self.timeout);
        }
    }

    /// A `3` arrived from the client (EIO4: schedules the next ping).
    pub fn on_pong(&mut self, now: Instant) {
        if self.rev == Revision::V4 && self.deadline.is_some() {
            self.deadline = None;
            self.next_ping = Some(now + self.interval);
        }
    }

    /// Advances the state to `now`.
    pub fn tick(&mut self, now: Instant) -> Tick {
        if self.deadline.is_some_and(|d| now >= d) {
            return Tick::TimedOut;
        }
        if self.next_ping.is_some_and(|p| now >= p) {
            self.next_ping = None;
            self.deadline = Some(now + self.timeout);
            return Tick::SendPing;
        }
        Tick::Idle
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const I: Duration = Duration::from_millis(100);
    const T: Duration = Duration::from_millis(50);

    #[test]
    fn eio4_pings_then_times_out_without_pong() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(Revision::V4, I, T, t0);
        assert_eq!(hb.tick(t0), Tick::Idle);
        assert_eq!(hb.next_deadline(), t0 + I);
        assert_eq!(hb.tick(t0 + I), Tick::SendPing);
        assert_eq!(hb.next_deadline(), t0 + I + T);
        assert_eq!(hb.tick(t0 + I + T / 2), Tick::Idle);
        assert_eq!(hb.tick(t0 + I + T), Tick::TimedOut);
    }

    #[test]
    fn eio4_pong_schedules_next_ping() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(Revision::V4, I, T, t0);
        assert_eq!(hb.tick(t0 + I), Tick::SendPing);
        hb.on_pong(t0 + I + T / 2);
        assert_eq!(hb.tick(t0 + I + T), Tick::Idle);
        assert_eq!(hb.next_deadline(), t0 + I + T / 2 + I);
    }

    #[test]
    fn eio3_times_out_after_interval_plus_timeout_of_silence() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(Revision::V3, I, T, t0);
        assert_eq!(hb.tick(t0 + I), Tick::Idle, "EIO3 servers never ping");
        hb.on_client_packet(t0 + I);
        assert_eq!(hb.tick(t0 + I + T), Tick::Idle);
        assert_eq!(hb.tick(t0 + I + I + T), Tick::TimedOut);
    }

    #[test]
    fn eio3_ignores_pong_for_scheduling() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(Revision::V3, I, T, t0);
        hb.on_pong(t0);
        assert_eq!(hb.next_deadline(), t0 + I + T);
    }
}
