//! What went over the legs of one upstream: Engine.IO messages and their
//! payload bytes each way, how long leg handshakes took and why they failed.
//! One [`UpstreamStats`] per configured upstream lives in the balancer for
//! the life of the proxy; a leg borrows its upstream's [`LegTraffic`] once
//! when it opens, so counting a message is two relaxed atomic adds (no
//! lookup, lock or allocation). Exported per `upstream` label by
//! [`UpstreamStats::collect`], called from the balancer's collector.
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::LegError;
use crate::metrics::{CounterVec, Direction, Exposition, Histogram, Kind, LegFailure};
use crate::protocol::engineio::Packet;

/// Messages and bytes over the legs of one upstream, by direction (`in`
/// from the upstream, `out` to it).
#[derive(Debug, Default)]
pub struct LegTraffic {
    messages: CounterVec<Direction>,
    bytes: CounterVec<Direction>,
}

impl LegTraffic {
    /// Counts `p` if it is a message: a Socket.IO packet (`Message`, its
    /// text without the Engine.IO type) or a binary attachment (`Binary`,
    /// its bytes). Heartbeats, the open packet and the goodbye are not
    /// counted.
    #[inline]
    pub fn record(&self, dir: Direction, p: &Packet) {
        if let Packet::Message(data) | Packet::Binary(data) = p {
            self.messages.inc(dir);
            self.bytes.add(dir, data.len() as u64);
        }
    }

    pub fn messages(&self, dir: Direction) -> u64 {
        self.messages.get(dir)
    }

    pub fn bytes(&self, dir: Direction) -> u64 {
        self.bytes.get(dir)
    }
}

/// Everything counted per upstream beside the balancer's own state.
#[derive(Debug, Default)]
pub struct UpstreamStats {
    /// Session legs' messages (health checks are not counted).
    pub traffic: LegTraffic,
    /// Session legs: dial to the Engine.IO open packet.
    handshake: Histogram,
    handshake_failures: CounterVec<LegFailure>,
}

impl UpstreamStats {
    /// Runs a session leg's handshake (`Leg::connect`), recording how long
    /// it took or why it failed.
    pub async fn timed<T>(
        &self,
        handshake: impl Future<Output = Result<T, LegError>>,
    ) -> Result<T, LegError> {
        let started = Instant::now();
        let result = handshake.await;
        match &result {
            Ok(_) => self.handshake_ok(started.elapsed()),
            Err(e) => self.handshake_failed(e),
        }
        result
    }

    /// A session leg's handshake succeeded after `took`.
    pub fn handshake_ok(&self, took: Duration) {
        self.handshake.observe(took);
    }

    /// A session leg's handshake failed with `e` (a cancelled dial is not
    /// a failure and is not counted).
    pub fn handshake_failed(&self, e: &LegError) {
        if let Some(reason) = failure_reason(e) {
            self.handshake_failures.inc(reason);
        }
    }

    pub fn handshakes(&self) -> u64 {
        self.handshake.count()
    }

    pub fn handshake_failures(&self, reason: LegFailure) -> u64 {
        self.handshake_failures.get(reason)
    }

    /// The families of this upstream, labelled `upstream="<url>"`.
    pub fn collect(&self, url: &str, out: &mut Exposition) {
        for dir in [Direction::In, Direction::Out] {
            let labels = [("upstream", url), ("direction", dir.as_str())];
            out.sample(
                "siogate_upstream_messages_total",
                "Engine.IO messages (Socket.IO packets and binary attachments; heartbeats excluded) \
                 received from (in) and sent to (out) the upstream over session legs.",
                Kind::Counter,
                &labels,
                self.traffic.messages(dir) as f64,
            );
            out.sample(
                "siogate_upstream_bytes_total",
                "Payload bytes of siogate_upstream_messages_total (Socket.IO packet text without \
                 the Engine.IO type, attachment bytes).",
                Kind::Counter,
                &labels,
                self.traffic.bytes(dir) as f64,
            );
        }
        out.histogram(
            "siogate_upstream_handshake_seconds",
            "Session legs: time from the dial to the upstream's Engine.IO open packet.",
            &[("upstream", url)],
            &self.handshake,
        );
        out.counter_vec(
            "siogate_upstream_handshake_failures_total",
            "Session legs whose handshake (dial to open packet) failed, by reason.",
            Some(("upstream", url)),
            &self.handshake_failures,
        );
    }
}

/// The label of a failed leg handshake; `None` for a cancelled one.
pub fn failure_reason(e: &LegError) -> Option<LegFailure> {
    Some(match e {
        LegError::Connect { .. } => LegFailure::Connect,
        LegError::Timeout(_) => LegFailure::Timeout,
        LegError::Tls(_) => LegFailure::Tls,
        LegError::Refused { .. } => LegFailure::Refused,
        LegError::Handshake(_) => LegFailure::Handshake,
        LegError::WebSocket(_) => LegFailure::WebSocket,
        LegError::BadOpen => LegFailure::BadOpen,
        LegError::Cancelled => return None,
    })
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    #[test]
    fn only_messages_are_counted_with_their_payload_bytes() {
        let t = LegTraffic::default();
        t.record(
            Direction::Out,
            &Packet::Message(Bytes::from_static(b"2[\"a\"]")),
        );
        t.record(
            Direction::Out,
            &Packet::Binary(Bytes::from_static(&[1, 2, 3])),
        );
        t.record(Direction::Out, &Packet::Ping(Bytes::new()));
        t.record(Direction::In, &Packet::Pong(Bytes::from_static(b"probe")));
        t.record(Direction::In, &Packet::Close);
        t.record(Direction::In, &Packet::Message(Bytes::from_static(b"0")));
        assert_eq!(t.messages(Direction::Out), 2);
        assert_eq!(t.bytes(Direction::Out), 6 + 3);
        assert_eq!(t.messages(Direction::In), 1);
        assert_eq!(t.bytes(Direction::In), 1);
    }

    #[test]
    fn every_family_is_exported_per_upstream() {
        let s = UpstreamStats::default();
        s.traffic
            .record(Direction::In, &Packet::Message(Bytes::from_static(b"0{}")));
        s.handshake_ok(Duration::from_millis(2));
        s.handshake_failed(&LegError::BadOpen);
        s.handshake_failed(&LegError::Timeout("upstream open packet"));
        s.handshake_failed(&LegError::Cancelled);
        assert_eq!(s.handshakes(), 1);
        assert_eq!(s.handshake_failures(LegFailure::BadOpen), 1);
        let mut e = Exposition::default();
        s.collect("ws://u/socket.io/", &mut e);
        let text = e.finish();
        let up = "upstream=\"ws://u/socket.io/\"";
        let expected = [
            format!("siogate_upstream_messages_total{{{up},direction=\"in\"}} 1"),
            format!("siogate_upstream_messages_total{{{up},direction=\"out\"}} 0"),
            format!("siogate_upstream_bytes_total{{{up},direction=\"in\"}} 3"),
            format!("siogate_upstream_handshake_seconds_count{{{up}}} 1"),
            format!("siogate_upstream_handshake_seconds_bucket{{{up},le=\"0.0025\"}} 1"),
            format!("siogate_upstream_handshake_failures_total{{{up},reason=\"timeout\"}} 1"),
            format!("siogate_upstream_handshake_failures_total{{{up},reason=\"connect\"}} 0"),
        ];
        for line in &expected {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
        let total: u64 = text
            .lines()
            .filter(|l| l.starts_with("siogate_upstream_handshake_failures_total{"))
            .filter_map(|l| l.rsplit_once(' ')?.1.parse::<u64>().ok())
            .sum();
        assert_eq!(total, 2, "a cancelled dial is no failure");
    }
}
