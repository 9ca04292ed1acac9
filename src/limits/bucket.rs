//! A token bucket for the per-session packet rate: `burst` tokens at most,
//! refilled at `rate` tokens per second, one token per client packet. Pure:
//! the caller passes the time, so tests need no clock.
use tokio::time::Instant;

/// One session's bucket.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate_per_sec: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket. `rate_per_sec` and `burst` are at least 1 (the config
    /// refuses 0).
    pub fn new(rate_per_sec: u32, burst: u32, now: Instant) -> TokenBucket {
        let burst = f64::from(burst.max(1));
        TokenBucket {
            rate_per_sec: f64::from(rate_per_sec.max(1)),
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes one token; false when the bucket is empty (over the rate).
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate_per_sec).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn burst_passes_then_the_rate_refills() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(10, 3, t0);
        assert!(b.take(t0) && b.take(t0) && b.take(t0));
        assert!(!b.take(t0), "the fourth packet at once is over the burst");
        // 100 ms at 10/s is one token.
        let t1 = t0 + Duration::from_millis(100);
        assert!(b.take(t1));
        assert!(!b.take(t1));
    }

    #[test]
    fn refill_never_exceeds_the_burst() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(100, 2, t0);
        let later = t0 + Duration::from_secs(60);
        assert!(b.take(later) && b.take(later));
        assert!(!b.take(later));
    }

    #[test]
    fn steady_traffic_at_the_rate_is_never_refused() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(50, 1, t0);
        for i in 0..1000u64 {
            assert!(b.take(t0 + Duration::from_millis(20 * i)), "packet {i}");
        }
    }
}
