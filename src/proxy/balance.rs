//! Choosing an upstream for a new client session, and keeping track of which
//! upstreams are healthy.
//!
//! - Strategies ([`Balance`]): round-robin, least-connections (live legs),
//!   or a hash (FNV-1a) of a handshake query value or request header for
//!   affinity (a session without that key falls back to round-robin).
//! - [`Balancer::order`] returns every upstream, preferred first, healthy
//!   before ejected: a session dials the first and, if that fails during the
//!   client's handshake, moves on to the next.
//! - Passive ejection: [`EJECT_AFTER_FAILURES`] failed dials in a row mark
//!   an upstream down. (A connection lost mid-session does not count: go
//!   v1.7.0 drops the connection on an unknown namespace, which a client can
//!   trigger at will.)
//! - Active health ([`health_loop`]): every `interval`, an Engine.IO
//!   handshake to each upstream (open packet read, then `1`); success brings
//!   it back, failure marks it down.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::upstream::stats::UpstreamStats;
use super::upstream::{DialOptions, HeaderBlock, Leg, LegEnd, Target};
use crate::config::{Balance, UpstreamUrl};
use crate::metrics;
use crate::protocol::engineio::Revision;
use crate::server::Handshake;

/// Consecutive failures after which an upstream is skipped until a health
/// check succeeds.
pub const EJECT_AFTER_FAILURES: u32 = 2;

/// One configured upstream and its live state.
#[derive(Debug)]
pub struct Upstream {
    pub url: UpstreamUrl,
    healthy: AtomicBool,
    failures: AtomicU32,
    active: AtomicUsize,
    /// Upstream sessions opened here so far.
    selected: AtomicU64,
    /// What went over this upstream's legs.
    pub stats: UpstreamStats,
}

impl Upstream {
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Acquire)
    }

    /// Open upstream connections (legs) right now.
    pub fn active(&self) -> usize {
        self.active.load(Ordering::Acquire)
    }
}

/// Counts one live connection to an upstream until dropped.
#[derive(Debug)]
pub struct Active(Arc<Balancer>, usize);

impl Active {
    /// The counters of the upstream this connection is to.
    pub fn stats(&self) -> &UpstreamStats {
        &self.0.ups[self.1].stats
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.0.ups[self.1].active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The upstreams of one proxy and the strategy to pick among them.
#[derive(Debug)]
pub struct Balancer {
    ups: Vec<Upstream>,
    strategy: Balance,
    next: AtomicUsize,
}

impl Balancer {
    pub fn new(urls: &[UpstreamUrl], strategy: Balance) -> Balancer {
        let ups = urls
            .iter()
            .map(|url| Upstream {
                url: url.clone(),
                healthy: AtomicBool::new(true),
                failures: AtomicU32::new(0),
                active: AtomicUsize::new(0),
                selected: AtomicU64::new(0),
                stats: UpstreamStats::default(),
            })
            .collect();
        Balancer {
            ups,
            strategy,
            next: AtomicUsize::new(0),
        }
    }

    pub fn upstreams(&self) -> &[Upstream] {
        &self.ups
    }

    /// `Ok` while at least one upstream is healthy (proxy readiness).
    pub fn ready(&self) -> Result<(), String> {
        if self.ups.iter().any(Upstream::is_healthy) {
            Ok(())
        } else {
            Err(format!("none of {} upstreams is healthy", self.ups.len()))
        }
    }

    pub fn get(&self, i: usize) -> Option<&Upstream> {
        self.ups.get(i)
    }

    /// Every upstream index, the one this session should use first; healthy
    /// ones before ejected ones (those are a last resort, not skipped).
    pub fn order(&self, hs: &Handshake) -> Vec<usize> {
        let n = self.ups.len();
        if n == 0 {
            return Vec::new();
        }
        let start = match self.affinity(hs) {
            Some(h) => (h % n as u64) as usize,
            None => self.next.fetch_add(1, Ordering::Relaxed) % n,
        };
        let mut order: Vec<usize> = (0..n).map(|k| (start + k) % n).collect();
        if self.strategy == Balance::LeastConnections {
            // Stable: ties keep the round-robin rotation.
            order.sort_by_key(|&i| self.ups[i].active());
        }
        order.sort_by_key(|&i| !self.ups[i].is_healthy());
        order
    }

    /// The hash of the affinity key, if the strategy has one and the
    /// handshake carries it.
    fn affinity(&self, hs: &Handshake) -> Option<u64> {
        let value = match &self.strategy {
            Balance::HashQuery(key) => hs.query.get(key)?.as_bytes(),
            Balance::HashHeader(name) => hs.headers.get(name.as_str())?.as_bytes(),
            Balance::RoundRobin | Balance::LeastConnections => return None,
        };
        Some(fnv1a(value))
    }

    /// A connection to upstream `i` opened; held until it closes.
    pub fn acquire(self: &Arc<Self>, i: usize) -> Active {
        self.ups[i].active.fetch_add(1, Ordering::AcqRel);
        self.ups[i].selected.fetch_add(1, Ordering::Relaxed);
        Active(self.clone(), i)
    }

    /// A dial or health check of `i` succeeded.
    pub fn report_success(&self, i: usize) {
        let u = &self.ups[i];
        u.failures.store(0, Ordering::Release);
        if !u.healthy.swap(true, Ordering::AcqRel) {
            tracing::info!(upstream.addr = %u.url, "upstream healthy again");
        }
    }

    /// A dial of `i` failed.
    pub fn report_failure(&self, i: usize) {
        let u = &self.ups[i];
        let n = u.failures.fetch_add(1, Ordering::AcqRel).saturating_add(1);
        if n >= EJECT_AFTER_FAILURES {
            self.mark_down(i);
        }
    }

    fn mark_down(&self, i: usize) {
        let u = &self.ups[i];
        if u.healthy.swap(false, Ordering::AcqRel) {
            tracing::warn!(upstream.addr = %u.url, "upstream ejected");
        }
    }

    /// One active check of `i`: an Engine.IO handshake, then `1`.
    pub async fn check(&self, i: usize, eio: Revision, path: &str, opts: &DialOptions) -> bool {
        let target = Target {
            url: self.ups[i].url.clone(),
            path: path.to_owned(),
        };
        let ok = match Leg::connect(&target, eio, "", &HeaderBlock::default(), opts).await {
            Ok(leg) => {
                let (tx, rx) = super::upstream::outbox::channel(1);
                drop(tx); // closed sender: `run` says goodbye at once
                // Not a session leg: its traffic is not counted.
                leg.run(rx, CancellationToken::new(), None, |_| {}).await == LegEnd::Closed
            }
            Err(e) => {
                tracing::debug!(upstream.addr = %self.ups[i].url, error = %e, "health check failed");
                false
            }
        };
        if ok {
            self.report_success(i);
        } else {
            self.mark_down(i);
        }
        ok
    }
}

impl metrics::Collector for Balancer {
    /// `siogate_upstream_healthy`, `_active`, `_selections_total` and the
    /// leg families of [`UpstreamStats::collect`], per upstream URL.
    fn collect(&self, out: &mut metrics::Exposition) {
        for u in &self.ups {
            let url = u.url.to_string();
            let labels = [("upstream", url.as_str())];
            out.sample(
                "siogate_upstream_healthy",
                "1 while the upstream is healthy, 0 while it is ejected.",
                metrics::Kind::Gauge,
                &labels,
                if u.is_healthy() { 1.0 } else { 0.0 },
            );
            out.sample(
                "siogate_upstream_active",
                "Open upstream sessions.",
                metrics::Kind::Gauge,
                &labels,
                u.active() as f64,
            );
            out.sample(
                "siogate_upstream_selections_total",
                "Upstream sessions opened on this upstream.",
                metrics::Kind::Counter,
                &labels,
                u.selected.load(Ordering::Relaxed) as f64,
            );
            u.stats.collect(&url, out);
        }
    }
}

/// Checks every upstream each `interval` until `cancel`.
pub async fn health_loop(
    balancer: Arc<Balancer>,
    eio: Revision,
    opts: DialOptions,
    interval: Duration,
    cancel: CancellationToken,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await; // the first tick is immediate: start healthy, check later
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let checks = (0..balancer.ups.len()).map(|i| {
            let b = &balancer;
            let path = b.ups[i].url.path.clone();
            let opts = &opts;
            async move { b.check(i, eio, &path, opts).await }
        });
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = futures_util::future::join_all(checks) => {}
        }
    }
}

/// FNV-1a, 64 bit: stable across processes, so affinity survives restarts.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
#[path = "balance_tests.rs"]
mod tests;
