//! The per-session limits of `[server.limits]`, applied where client
//! packets enter the core (both transports, both modes): the session slot
//! (`max_sessions`, `max_sessions_per_ip`), the packet token bucket, and the
//! namespace count. Each refusal is logged and counted by
//! [`crate::limits::refused`].
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};

use tokio::time::Instant;

use super::Error;
use crate::config::LimitsConfig;
use crate::limits::counter::Over;
use crate::limits::{Counter, NamespaceSet, Permit, Refusal, TokenBucket, Verdict, refused};
use crate::protocol::engineio::{Packet, Revision};
use crate::protocol::socketio;
use crate::server::backend::CloseReason;

/// Takes a session slot for a handshake from `ip`: `TooManySessions` (503)
/// or `TooManySessionsFromIp` (429) when a limit is reached.
pub fn admit_session(sessions: &Counter, ip: IpAddr) -> Result<Permit, Error> {
    sessions.acquire(ip).map_err(|over| {
        let (kind, err) = match over {
            Over::Global => (Refusal::Sessions, Error::TooManySessions),
            Over::PerIp => (Refusal::SessionsPerIp, Error::TooManySessionsFromIp),
        };
        refused(kind, Some(ip));
        err
    })
}

/// What to do with one client packet.
#[derive(Debug, PartialEq, Eq)]
pub enum Check {
    /// Handle it as usual.
    Pass,
    /// Do not handle it; queue this reply for the client instead.
    Reply(Packet),
    /// Close the session for this reason.
    Close(CloseReason),
}

/// One session's limit state; lives as long as the session's `Conn`.
pub struct Guard {
    peer: IpAddr,
    state: Mutex<State>,
}

struct State {
    /// The session's slot in the session counter, given back by
    /// [`Guard::release`] when the session ends (a closed polling session
    /// may linger a few seconds to say goodbye; it no longer counts).
    permit: Option<Permit>,
    bucket: Option<TokenBucket>,
    /// None when the session carries plain Engine.IO (no namespaces).
    namespaces: Option<NamespaceSet>,
}

impl Guard {
    /// `socket_io`: whether messages are Socket.IO packets (see
    /// [`crate::server::Backend::CARRIES_SOCKET_IO`]).
    pub fn new(
        cfg: &LimitsConfig,
        eio: Revision,
        socket_io: bool,
        peer: IpAddr,
        permit: Permit,
    ) -> Guard {
        let bucket = cfg
            .packet_rate_per_sec
            .zip(cfg.burst())
            .map(|(rate, burst)| TokenBucket::new(rate, burst, Instant::now()));
        let sio = match eio {
            Revision::V3 => socketio::Revision::V4,
            Revision::V4 => socketio::Revision::V5,
        };
        Guard {
            peer,
            state: Mutex::new(State {
                permit: Some(permit),
                bucket,
                namespaces: socket_io.then(|| NamespaceSet::new(sio, cfg.max_namespaces)),
            }),
        }
    }

    /// Applies the packet rate and the namespace limit to one packet.
    pub fn check(&self, packet: &Packet) -> Check {
        let mut st = self.lock();
        if let Some(bucket) = &mut st.bucket
            && !bucket.take(Instant::now())
        {
            refused(Refusal::RateLimit, Some(self.peer));
            return Check::Close(CloseReason::Limit(Refusal::RateLimit));
        }
        let (Packet::Message(text), Some(namespaces)) = (packet, &mut st.namespaces) else {
            return Check::Pass;
        };
        match namespaces.on_client_text(text) {
            Verdict::Pass => Check::Pass,
            Verdict::Refuse(reply) => {
                refused(Refusal::Namespaces, Some(self.peer));
                Check::Reply(reply)
            }
        }
    }

    /// Gives the session's slot back (the session has ended).
    pub fn release(&self) {
        self.lock().permit = None;
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Only the (serialized) delivery of one session takes this lock.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
