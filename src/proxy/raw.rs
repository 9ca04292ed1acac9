//! Raw Engine.IO routes (`--raw-engineio-path /engine.io/`): clients of a
//! plain engine.io server are relayed to the same path on an upstream with
//! no Socket.IO parsing. Each side still has its own Engine.IO session (own
//! sid, heartbeats and framing; polling or WebSocket towards the client,
//! WebSocket upstream, same revision as the client), and only `Message` and
//! `Binary` packets cross, unchanged.
//!
//! The upstream session is opened in `open`, before the client's open packet
//! goes out, so an upstream refusal is the client's handshake error. The
//! upstream is chosen like a proxied session's (balancer order, the next one
//! if a dial fails).
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::backend::{Core, Live};
use super::upstream::outbox::{self, Refused};
use super::upstream::{HeaderBlock, Leg, LegEnd, LegError, Target, forwarded_headers};
use crate::protocol::engineio;
use crate::server::{Backend, ClientSink, CloseReason, Handshake, Reject};

/// The raw relay [`Backend`] for one path.
#[derive(Clone)]
pub struct RawBackend {
    core: Arc<Core>,
    path: String,
}

/// One relayed session: the outbox to its upstream task and the token that
/// stops it.
pub struct RawSession {
    tx: outbox::Sender,
    cancel: CancellationToken,
}

impl RawBackend {
    pub(super) fn new(core: Arc<Core>, path: String) -> RawBackend {
        RawBackend { core, path }
    }

    /// Dials the session's upstream, moving on to the next one on failure.
    async fn connect(&self, hs: &Handshake) -> Result<(Leg, usize), LegError> {
        let headers = HeaderBlock::from(&forwarded_headers(hs));
        let query = hs.query.encode();
        let mut last = LegError::Cancelled;
        for idx in self.core.balancer.order(hs) {
            let target = Target {
                url: self.core.balancer.upstreams()[idx].url.clone(),
                path: self.path.clone(),
            };
            let stats = &self.core.balancer.upstreams()[idx].stats;
            let dial = Leg::connect(&target, hs.eio, &query, &headers, &self.core.dial);
            match stats.timed(dial).await {
                Ok(leg) => {
                    self.core.balancer.report_success(idx);
                    return Ok((leg, idx));
                }
                Err(e) if e.is_refusal() => return Err(e),
                Err(e) => {
                    tracing::debug!(upstream.addr = %target.url, error = %e, "raw upstream dial failed");
                    self.core.balancer.report_failure(idx);
                    last = e;
                }
            }
        }
        Err(last)
    }
}

impl Backend for RawBackend {
    type Session = RawSession;
    // Plain Engine.IO: a message starting with `0` is not a CONNECT.
    const CARRIES_SOCKET_IO: bool = false;

    async fn open(
        &self,
        handshake: Arc<Handshake>,
        sink: Arc<dyn ClientSink>,
    ) -> Result<RawSession, Reject> {
        let (leg, idx) = self
            .connect(&handshake)
            .await
            .map_err(|e| super::backend::reject(&e))?;
        let (tx, rx) = outbox::channel(self.core.leg_queue);
        let cancel = self.core.cancel.child_token();
        let live = self.core.gauges.leg_started();
        let active = self.core.balancer.acquire(idx);
        let url = &self.core.balancer.upstreams()[idx].url;
        tracing::Span::current().record("upstream.addr", tracing::field::display(url));
        let span = tracing::debug_span!("raw", upstream.addr = %url);
        let task = relay(leg, rx, cancel.clone(), sink, (live, active));
        self.core.tasks.spawn(task.instrument(span));
        Ok(RawSession { tx, cancel })
    }

    async fn on_message(
        &self,
        session: &mut RawSession,
        packet: engineio::Packet,
    ) -> Result<(), CloseReason> {
        match session.tx.push([packet]) {
            Ok(()) => Ok(()),
            Err(Refused::Full) => Err(CloseReason::Backend("upstream queue full".into())),
            // The upstream task ended and closes the session itself.
            Err(Refused::Closed) => Ok(()),
        }
    }

    async fn on_close(&self, session: RawSession, _reason: CloseReason) {
        session.cancel.cancel();
    }
}

/// Relays upstream messages to the client until either side ends; an
/// upstream end closes the client session.
async fn relay(
    leg: Leg,
    rx: outbox::Receiver,
    cancel: CancellationToken,
    sink: Arc<dyn ClientSink>,
    held: (Live, super::balance::Active),
) {
    let to_client = sink.clone();
    let traffic = &held.1.stats().traffic;
    let end = leg
        .run(rx, cancel, Some(traffic), move |packet| {
            let _ = to_client.send(packet);
        })
        .await;
    if end != LegEnd::Closed {
        tracing::debug!(?end, "raw upstream session ended");
        sink.close(CloseReason::Backend("upstream closed".into()));
    }
}
