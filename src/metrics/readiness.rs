//! The readiness registry behind `/readyz`: siogate is ready while at least
//! one client listener accepts connections ([`Readiness::listening`], held
//! by the accept loop and dropped when shutdown begins) and every registered
//! check passes. Modules add their own checks, e.g. proxy mode "at least one
//! upstream healthy", the Redis adapter "redis connected":
//!
//! ```
//! use std::sync::Arc;
//! let reg = siogate::metrics::readiness()
//!     .register("redis", Arc::new(|| Err("not connected yet".to_string())));
//! assert!(siogate::metrics::readiness().status().is_err());
//! drop(reg); // the check is gone with its registration
//! ```
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// A readiness check: `Err(reason)` while not ready. Called on every
/// `/readyz` request, so it should only read state (an atomic, a flag).
pub type Check = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// Listeners and checks; one per process ([`readiness`]).
#[derive(Default)]
pub struct Readiness {
    listening: AtomicUsize,
    next_id: AtomicU64,
    checks: Mutex<Vec<(u64, String, Check)>>,
}

static GLOBAL: OnceLock<Readiness> = OnceLock::new();

/// The process-wide readiness registry.
pub fn readiness() -> &'static Readiness {
    GLOBAL.get_or_init(Readiness::default)
}

/// Keeps a check registered; dropping it removes the check.
#[must_use = "the check is removed when the registration is dropped"]
pub struct Registration {
    owner: &'static Readiness,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.owner.lock().retain(|(id, _, _)| *id != self.id);
    }
}

/// Marks one listener as accepting; dropping it (shutdown) un-marks it.
#[must_use = "the listener counts as accepting only while this is held"]
pub struct Listening {
    owner: &'static Readiness,
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.owner.listening.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Readiness {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(u64, String, Check)>> {
        // Each critical section is one Vec operation; poisoning cannot
        // leave it half-done.
        self.checks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a check named `name` until the returned registration drops.
    pub fn register(&'static self, name: impl Into<String>, check: Check) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().push((id, name.into(), check));
        Registration { owner: self, id }
    }

    /// A client listener started accepting.
    pub fn listening(&'static self) -> Listening {
        self.listening.fetch_add(1, Ordering::AcqRel);
        Listening { owner: self }
    }

    /// `Ok` when ready, else every reason (`name: reason`, `; `-separated).
    pub fn status(&self) -> Result<(), String> {
        let mut reasons = Vec::new();
        if self.listening.load(Ordering::Acquire) == 0 {
            reasons.push("listener: not accepting connections".to_string());
        }
        let checks: Vec<(String, Check)> = self
            .lock()
            .iter()
            .map(|(_, name, c)| (name.clone(), c.clone()))
            .collect();
        for (name, check) in checks {
            if let Err(why) = check() {
                reasons.push(format!("{name}: {why}"));
            }
        }
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(reasons.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaked() -> &'static Readiness {
        Box::leak(Box::default())
    }

    #[test]
    fn ready_only_while_listening_and_every_check_passes() {
        let r = leaked();
        assert_eq!(
            r.status().unwrap_err(),
            "listener: not accepting connections"
        );
        let l = r.listening();
        assert_eq!(r.status(), Ok(()));
        let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let f = flag.clone();
        let reg = r.register(
            "redis",
            Arc::new(move || {
                if f.load(Ordering::Relaxed) {
                    Ok(())
                } else {
                    Err("disconnected".into())
                }
            }),
        );
        assert_eq!(r.status().unwrap_err(), "redis: disconnected");
        flag.store(true, Ordering::Relaxed);
        assert_eq!(r.status(), Ok(()));
        flag.store(false, Ordering::Relaxed);
        drop(reg);
        assert_eq!(r.status(), Ok(()), "a dropped registration is gone");
        drop(l);
        assert!(r.status().is_err());
    }
}
