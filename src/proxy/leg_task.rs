//! The task behind one leg: pick the session's upstream (moving on to the
//! next one if a dial fails during the client's handshake), open the
//! upstream Engine.IO session, then relay until it ends, reporting every
//! upstream message and the leg's fate to the session.
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::normalize::LegId;
use super::session::Shared;
use super::upstream::outbox;
use super::upstream::{Leg, LegEnd, LegError, Target};
use crate::metrics::{self, DialOutcome};
use crate::protocol::engineio;
use crate::protocol::socketio::connect::Query;
use crate::protocol::socketio::{Assembler, DecodeMode};

/// Runs leg `leg` of a session until it ends or `cancel` fires.
pub(super) async fn run(
    shared: Arc<Shared>,
    leg: LegId,
    query: Query,
    rx: outbox::Receiver,
    cancel: CancellationToken,
) {
    let core = shared.core.clone();
    let _live = core.gauges.leg_started();
    // Boxed, and owning the query: the dial (TCP, TLS, WebSocket handshake)
    // is by far the largest state of this task, and unboxed it would set
    // the size of the task's future for the whole life of the leg.
    let connecting = Box::pin({
        let shared = shared.clone();
        async move { connect(&shared, &query.encode()).await }
    });
    let mut asm = Assembler::with_mode(core.flavor.upstream_sio(), DecodeMode::Lenient);
    // The dial's outcome is a temporary of this statement and the relay
    // future is built in it, so neither the outcome nor the opened `Leg` is
    // kept in this task's state beside the relay while it runs.
    let (_active, relaying) = match tokio::select! {
        // Closed by the normalizer (then it ignores this) or with the whole
        // session; either way nobody may keep waiting for this leg.
        () = cancel.cancelled() => Err(LegError::Cancelled),
        r = connecting => r,
    } {
        Ok((conn, idx)) => {
            let active = core.balancer.acquire(idx);
            let url = tracing::field::display(&core.balancer.upstreams()[idx].url);
            tracing::Span::current().record("upstream.addr", &url);
            shared.span.record("upstream.addr", &url);
            tracing::debug!("upstream session open");
            shared.leg_opened(leg);
            let on_packet = |packet| {
                let decoded = match packet {
                    engineio::Packet::Message(text) => asm.push_text(text),
                    engineio::Packet::Binary(data) => asm.push_binary(data),
                    _ => return,
                };
                match decoded {
                    Ok(Some(msg)) => shared.from_upstream(leg, msg),
                    Ok(None) => {}
                    Err(e) => tracing::debug!(error = %e, "invalid upstream packet dropped"),
                }
            };
            // Resolved once: counting a message is then two atomic adds.
            let traffic = &core.balancer.upstreams()[idx].stats.traffic;
            (active, conn.run(rx, cancel, Some(traffic), on_packet))
        }
        Err(e) => return shared.leg_failed(leg, e),
    };
    let end = relaying.await;
    match end {
        LegEnd::Closed => tracing::debug!("upstream session closed"),
        LegEnd::UpstreamClosed => {
            tracing::debug!("upstream closed the session");
            shared.leg_lost(leg);
        }
        // Not counted against the upstream's health: go v1.7.0 drops the
        // connection on an unknown namespace, which is the client's doing.
        // Dial failures and the active checks decide health.
        LegEnd::Failed(why) => {
            tracing::debug!(why, "upstream session lost");
            shared.leg_lost(leg);
        }
    }
}

/// Dials the session's upstream; before any leg of the session opened, a
/// failed dial moves the session to the next upstream in its order. A refusal
/// (HTTP 4xx) is final: another upstream would refuse the same client.
async fn connect(shared: &Shared, query: &str) -> Result<(Leg, usize), LegError> {
    let core = &shared.core;
    let eio = core.flavor.upstream_eio();
    // Each turn either returns or moves the pin on; bound it anyway.
    for _ in 0..=2 * core.balancer.upstreams().len() {
        let Some(idx) = shared.lock().pin.current() else {
            break;
        };
        let target = Target::socketio(&core.balancer.upstreams()[idx].url);
        let stats = &core.balancer.upstreams()[idx].stats;
        let dial = Leg::connect(&target, eio, query, &shared.headers, &core.dial);
        match stats.timed(dial).await {
            Ok(conn) => {
                metrics::global().upstream_dials.inc(DialOutcome::Ok);
                if shared.lock().pin.opened(idx) {
                    core.balancer.report_success(idx);
                    return Ok((conn, idx));
                }
                // Another leg moved the session on meanwhile: follow it.
            }
            Err(e) if e.is_refusal() => {
                metrics::global().upstream_dials.inc(DialOutcome::Refused);
                return Err(e);
            }
            Err(e) => {
                metrics::global().upstream_dials.inc(DialOutcome::Failed);
                tracing::debug!(upstream.addr = %target.url, error = %e, "upstream dial failed");
                core.balancer.report_failure(idx);
                if !shared.lock().pin.failed(idx) {
                    return Err(e);
                }
            }
        }
    }
    Err(LegError::Connect {
        addr: "no upstream left".into(),
        source: std::io::Error::other("every upstream failed"),
    })
}

#[cfg(test)]
mod tests {
    use std::future::Future;

    /// The size of the future an async function returns, from the function
    /// alone (nothing is run).
    fn future_size<A, B, C, D, E, F: Future>(_f: impl Fn(A, B, C, D, E) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    fn future_size4<A, B, C, D, F: Future>(_f: impl Fn(A, B, C, D) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    /// Every proxied session holds one leg task and one client session task
    /// for its whole life, so their sizes are most of its memory
    /// (BENCHMARKS.md, "Proxy pass 2": 2592 and 1720 bytes before, 1088 and
    /// 1296 after). A select with a send future per branch, or an `async fn`
    /// that stores its `Leg` or socket parameter twice, fails this.
    #[test]
    fn long_lived_session_futures_stay_small() {
        let leg = future_size(super::run);
        assert!(leg <= 1400, "leg task future is {leg} bytes");
        let client =
            future_size4(crate::transport::websocket::run::<crate::proxy::backend::ProxyBackend>);
        assert!(client <= 1600, "client session future is {client} bytes");
    }
}
