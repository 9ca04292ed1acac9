//! How long a graceful shutdown may take. `server.shutdown_grace_ms` sets
//! the grace period (SIGTERM); a fast shutdown (SIGINT, Ctrl-C) caps it at
//! [`FAST_GRACE_CAP`]: clients are told to reconnect either way, but an
//! operator at a terminal should not wait for slow clients.
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long the listener keeps accepting after a shutdown began, so that
/// polling clients between two requests can fetch their `1` (engine.io
/// clients poll again at once; this only bounds clients that went away).
pub const GOODBYE_WINDOW: Duration = Duration::from_secs(2);

/// The longest grace period of a fast shutdown.
pub const FAST_GRACE_CAP: Duration = Duration::from_secs(1);

/// Set by the signal handler of the binary (process-wide: one process has
/// one shutdown).
static FAST: AtomicBool = AtomicBool::new(false);

/// Asks for a fast shutdown; call before the shutdown future completes.
pub fn request_fast() {
    FAST.store(true, Ordering::SeqCst);
}

/// The grace period for a configured `shutdown_grace_ms`.
pub fn grace(configured_ms: u64) -> Duration {
    cap(configured_ms, FAST.load(Ordering::SeqCst))
}

fn cap(configured_ms: u64, fast: bool) -> Duration {
    let configured = Duration::from_millis(configured_ms);
    if fast {
        configured.min(FAST_GRACE_CAP)
    } else {
        configured
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_shutdown_caps_the_grace_period() {
        assert_eq!(cap(10_000, false), Duration::from_secs(10));
        assert_eq!(cap(10_000, true), FAST_GRACE_CAP);
        assert_eq!(cap(200, true), Duration::from_millis(200));
    }
}
