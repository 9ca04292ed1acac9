//! A fixed-bucket histogram of durations: one atomic per bucket plus a sum
//! and a count, so observing is a few relaxed `fetch_add`s (no lock, no
//! allocation). Buckets are stored per bucket and made cumulative only when
//! rendered ([`super::Exposition::histogram`]).
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the buckets of [`Histogram`]: from a local
/// dial (~1 ms) to the default handshake timeout (10 s).
pub const DURATION_BUCKETS: [f64; 10] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 10.0,
];

/// Durations sorted into [`DURATION_BUCKETS`] (and `+Inf`).
#[derive(Debug, Default)]
pub struct Histogram {
    /// Observations per bucket (not cumulative); the last is `+Inf` only.
    buckets: [AtomicU64; DURATION_BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
    count: AtomicU64,
}

/// A consistent-enough copy of a [`Histogram`] for rendering.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    /// `(upper bound, cumulative count)`, `+Inf` last.
    pub cumulative: Vec<(f64, u64)>,
    pub sum_seconds: f64,
    pub count: u64,
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = DURATION_BUCKETS
            .iter()
            .position(|&le| secs <= le)
            .unwrap_or(DURATION_BUCKETS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// The buckets made cumulative. Observations racing with the copy may
    /// show in some numbers and not yet in others (as in any lock-free
    /// exposition); `+Inf` is the sum of the buckets, so it never falls
    /// below the one before it.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut total = 0;
        let mut cumulative = Vec::with_capacity(self.buckets.len());
        for (i, b) in self.buckets.iter().enumerate() {
            total += b.load(Ordering::Relaxed);
            let le = DURATION_BUCKETS.get(i).copied().unwrap_or(f64::INFINITY);
            cumulative.push((le, total));
        }
        HistogramSnapshot {
            cumulative,
            sum_seconds: self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9,
            count: total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_that_holds_them() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(500)); // ≤ 0.001
        h.observe(Duration::from_millis(1)); // ≤ 0.001 (bounds are inclusive)
        h.observe(Duration::from_millis(30)); // ≤ 0.05
        h.observe(Duration::from_secs(60)); // +Inf only
        let s = h.snapshot();
        assert_eq!(s.count, 4);
        assert_eq!(h.count(), 4);
        assert_eq!(s.cumulative.len(), DURATION_BUCKETS.len() + 1);
        assert_eq!(s.cumulative[0], (0.001, 2));
        assert_eq!(s.cumulative[4], (0.025, 2));
        assert_eq!(s.cumulative[5], (0.05, 3));
        assert_eq!(s.cumulative[9], (10.0, 3));
        assert_eq!(s.cumulative[10], (f64::INFINITY, 4));
        assert!((s.sum_seconds - 60.0315).abs() < 1e-9, "{}", s.sum_seconds);
    }
}
