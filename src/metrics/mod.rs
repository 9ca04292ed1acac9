//! Process-wide metrics in the Prometheus text format, and the readiness
//! registry behind `/readyz`.
//!
//! Any module counts without plumbing: `metrics::global()` is a `static`
//! registry, e.g. `metrics::global().tls_handshakes.inc(Outcome::Ok)` or
//! `metrics::global().limit_refusals.inc(LimitKind::Rate)`.
//!
//! # Why hand-written
//! Every label value is an enum fixed at compile time ([`labels`]), so a
//! labelled family is a flat array of atomics and counting is one relaxed
//! `fetch_add` on a slot chosen by a `match`: no lock, no hashing, no
//! allocation on the data path. `prometheus-client` (the usual crate) keys
//! each family by a label set in a `RwLock<HashMap>`, which costs a lock
//! and a hash (and an allocation for a new set) per increment; we only need
//! the text format, which is ~150 lines (`exposition`). Labels known only
//! at run time (upstream URLs) come from [`Collector`]s asked at scrape time.
//!
//! # Metrics (all prefixed `siogate_`)
//! | name | type | labels | what |
//! |---|---|---|---|
//! | `info` | gauge | mode, version | always 1 |
//! | `sessions` | gauge | mode, transport, eio | open Engine.IO sessions |
//! | `connects_total` | counter | transport, eio | sessions opened (accepted handshakes) |
//! | `handshakes_rejected_total` | counter | | handshakes refused by the mode (upstream down, bad token…) |
//! | `disconnects_total` | counter | reason | sessions ended, by [`DisconnectReason`] |
//! | `eio_packets_total` | counter | direction, type | Engine.IO packets to/from clients |
//! | `sio_packets_total` | counter | direction, type | Socket.IO packets to/from clients |
//! | `bytes_total` | counter | direction, transport | client-side payload bytes (WebSocket messages, polling bodies) |
//! | `connect_errors_total` | counter | | CONNECT_ERROR packets sent to clients |
//! | `normalizations_total` | counter | kind | proxy normalizer rewrites, leg opens/closes and drops |
//! | `upstream_dials_total` | counter | outcome | upstream Engine.IO session dials (proxy) |
//! | `upstream_healthy` | gauge | upstream | 1 healthy, 0 ejected (proxy) |
//! | `upstream_active` | gauge | upstream | open upstream sessions (proxy) |
//! | `upstream_selections_total` | counter | upstream | upstream sessions opened per upstream (proxy) |
//! | `upstream_messages_total` | counter | upstream, direction | Engine.IO messages (Socket.IO packets and binary attachments, no heartbeats) from/to the upstream over session legs (proxy) |
//! | `upstream_bytes_total` | counter | upstream, direction | payload bytes of those messages (proxy) |
//! | `upstream_handshake_seconds` | histogram | upstream | session legs: dial to the Engine.IO open packet (proxy) |
//! | `upstream_handshake_failures_total` | counter | upstream, reason | session legs whose handshake failed, by [`LegFailure`] (proxy) |
//! | `push_api_requests_total` | counter | status | push API answers (standalone) |
//! | `queue_overflows_total` | counter | queue | bounded queues that overflowed (the session was closed) |
//! | `tls_handshakes_total` | counter | outcome | client-side TLS handshakes |
//! | `tls_reloads_total` | counter | outcome | certificate reloads |
//! | `limit_refusals_total` | counter | kind | connections, handshakes or packets refused by a limit |
//! | `cluster_redis_up` | gauge | | 1 while the Redis link is up (cluster mode, or proxy `--redis`) |
//! | `proxy_injected_total`, `proxy_inject_skipped_total`, `proxy_inject_sessions` | | | Redis-emitter injection in proxy mode (a [`Collector`] of `proxy::inject`) |
//! | `shutting_down` | gauge | | 1 once a graceful shutdown began |
mod exposition;
pub(crate) mod family;
mod histogram;
pub mod labels;
mod readiness;

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock, Weak};

pub use exposition::{CONTENT_TYPE, Exposition, Kind};
pub use family::{Counter, CounterVec, Gauge, GaugeVec, Label, LabelSet};
pub use histogram::{DURATION_BUCKETS, Histogram, HistogramSnapshot};
pub use labels::{
    DialOutcome, Direction, DisconnectReason, Eio, EioType, LegFailure, LimitKind, Mode,
    NormalizeKind, Outcome, Queue, SioType, Status, Transport,
};
pub use readiness::{Check, Listening, Readiness, Registration, readiness};

use crate::protocol::engineio::Packet;

/// Adds samples whose labels are known only at run time (e.g. one per
/// upstream) to a scrape. Registered with [`Metrics::register`] as a
/// `Weak`, so a dropped collector simply disappears.
pub trait Collector: Send + Sync {
    fn collect(&self, out: &mut Exposition);
}

/// Every metric siogate exports. See the module docs for the list.
#[derive(Default)]
pub struct Metrics {
    mode: AtomicU8,
    /// Open Engine.IO sessions.
    pub sessions: GaugeVec<(Transport, Eio)>,
    /// Sessions opened.
    pub connects: CounterVec<(Transport, Eio)>,
    /// Handshakes the mode refused.
    pub handshakes_rejected: Counter,
    /// Sessions ended, by reason.
    pub disconnects: CounterVec<DisconnectReason>,
    /// Engine.IO packets to/from clients.
    pub eio_packets: CounterVec<(Direction, EioType)>,
    /// Socket.IO packets to/from clients.
    pub sio_packets: CounterVec<(Direction, SioType)>,
    /// Client-side bytes.
    pub bytes: CounterVec<(Direction, Transport)>,
    /// CONNECT_ERRORs sent to clients.
    pub connect_errors: Counter,
    /// What the proxy normalizer did.
    pub normalizations: CounterVec<NormalizeKind>,
    /// Upstream dials.
    pub upstream_dials: CounterVec<DialOutcome>,
    /// Push API answers by status.
    pub push_api_requests: CounterVec<Status>,
    /// Queue overflows.
    pub queue_overflows: CounterVec<Queue>,
    /// Client-side TLS handshakes.
    pub tls_handshakes: CounterVec<Outcome>,
    /// Certificate reloads.
    pub tls_reloads: CounterVec<Outcome>,
    /// Refusals by a limit.
    pub limit_refusals: CounterVec<LimitKind>,
    /// 1 while the Redis cluster adapter is connected.
    pub cluster_redis_up: Gauge,
    /// 1 once shutdown began.
    pub shutting_down: Gauge,
    collectors: Mutex<Vec<Weak<dyn Collector>>>,
}

static GLOBAL: OnceLock<Metrics> = OnceLock::new();

/// The process-wide registry.
pub fn global() -> &'static Metrics {
    GLOBAL.get_or_init(Metrics::default)
}

impl Metrics {
    /// Sets the mode label (once, at start).
    pub fn set_mode(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::Relaxed);
    }

    pub fn mode(&self) -> Mode {
        match self.mode.load(Ordering::Relaxed) {
            1 => Mode::Standalone,
            2 => Mode::Proxy,
            _ => Mode::Unknown,
        }
    }

    /// Adds a collector asked at every scrape while it lives.
    pub fn register(&self, collector: Weak<dyn Collector>) {
        let mut list = self.collectors.lock().unwrap_or_else(|e| e.into_inner());
        list.retain(|c| c.strong_count() > 0);
        list.push(collector);
    }

    /// One Engine.IO packet to or from a client (and, for a message, its
    /// Socket.IO type; an outgoing CONNECT_ERROR also counts in
    /// `connect_errors_total`).
    pub fn packet(&self, dir: Direction, p: &Packet) {
        self.eio_packets.inc((dir, EioType::of(p)));
        if let Some(t) = SioType::of(p) {
            self.sio_packets.inc((dir, t));
            if t == SioType::ConnectError && dir == Direction::Out {
                self.connect_errors.inc();
            }
        }
    }

    /// Renders everything in the text format.
    pub fn render(&self) -> String {
        let mut e = Exposition::default();
        let mode = ("mode", self.mode().as_str());
        e.sample(
            "siogate_info",
            "Build and mode of this process (always 1).",
            Kind::Gauge,
            &[mode, ("version", env!("CARGO_PKG_VERSION"))],
            1.0,
        );
        e.gauge_vec(
            "siogate_sessions",
            "Open Engine.IO sessions.",
            Some(mode),
            &self.sessions,
        );
        e.counter_vec(
            "siogate_connects_total",
            "Engine.IO sessions opened.",
            None,
            &self.connects,
        );
        e.counter(
            "siogate_handshakes_rejected_total",
            "Handshakes refused by the mode.",
            self.handshakes_rejected.get(),
        );
        e.counter_vec(
            "siogate_disconnects_total",
            "Engine.IO sessions ended, by reason.",
            None,
            &self.disconnects,
        );
        e.counter_vec(
            "siogate_eio_packets_total",
            "Engine.IO packets from (in) and to (out) clients.",
            None,
            &self.eio_packets,
        );
        e.counter_vec(
            "siogate_sio_packets_total",
            "Socket.IO packets from (in) and to (out) clients.",
            None,
            &self.sio_packets,
        );
        e.counter_vec(
            "siogate_bytes_total",
            "Client-side bytes: WebSocket messages and polling bodies.",
            None,
            &self.bytes,
        );
        e.counter(
            "siogate_connect_errors_total",
            "CONNECT_ERROR packets sent to clients.",
            self.connect_errors.get(),
        );
        self.render_modes(&mut e);
        let collectors: Vec<_> = {
            let list = self.collectors.lock().unwrap_or_else(|e| e.into_inner());
            list.iter().filter_map(Weak::upgrade).collect()
        };
        for c in collectors {
            c.collect(&mut e);
        }
        e.finish()
    }

    /// The families fed by one mode or an optional feature.
    fn render_modes(&self, e: &mut Exposition) {
        e.counter_vec(
            "siogate_normalizations_total",
            "Proxy normalizer rewrites, upstream session opens/closes and deliberate drops.",
            None,
            &self.normalizations,
        );
        e.counter_vec(
            "siogate_upstream_dials_total",
            "Upstream Engine.IO session dials.",
            None,
            &self.upstream_dials,
        );
        e.counter_vec(
            "siogate_push_api_requests_total",
            "Push API answers by HTTP status.",
            None,
            &self.push_api_requests,
        );
        e.counter_vec(
            "siogate_queue_overflows_total",
            "Bounded queues that overflowed (the client session was closed).",
            None,
            &self.queue_overflows,
        );
        e.counter_vec(
            "siogate_tls_handshakes_total",
            "Client-side TLS handshakes.",
            None,
            &self.tls_handshakes,
        );
        e.counter_vec(
            "siogate_tls_reloads_total",
            "TLS certificate reloads.",
            None,
            &self.tls_reloads,
        );
        e.counter_vec(
            "siogate_limit_refusals_total",
            "Connections, handshakes or packets refused by a limit.",
            None,
            &self.limit_refusals,
        );
        e.gauge(
            "siogate_cluster_redis_up",
            "1 while the Redis cluster adapter is connected.",
            self.cluster_redis_up.get(),
        );
        e.gauge(
            "siogate_shutting_down",
            "1 once a graceful shutdown began.",
            self.shutting_down.get(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn render_lists_every_family_once() {
        let m = Metrics::default();
        m.set_mode(Mode::Proxy);
        m.sessions.inc((Transport::WebSocket, Eio::V4));
        m.packet(
            Direction::Out,
            &Packet::Message(Bytes::from_static(b"4{\"message\":\"x\"}")),
        );
        m.limit_refusals.inc(LimitKind::Rate);
        let text = m.render();
        assert!(
            text.contains("siogate_sessions{mode=\"proxy\",transport=\"websocket\",eio=\"4\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("siogate_connect_errors_total 1\n"), "{text}");
        assert!(
            text.contains(
                "siogate_sio_packets_total{direction=\"out\",type=\"connect_error\"} 1\n"
            )
        );
        assert!(text.contains("siogate_limit_refusals_total{kind=\"rate\"} 1\n"));
        let types = text.lines().filter(|l| l.starts_with("# TYPE ")).count();
        let helps = text.lines().filter(|l| l.starts_with("# HELP ")).count();
        assert_eq!(types, helps);
        assert_eq!(types, 18, "{text}");
    }
}
