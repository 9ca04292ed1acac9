//! Certificates replaced without a restart: [`Reloader::run`] re-reads the
//! certificate and key files every `tls.reload_interval_ms` and reloads when
//! their contents changed, and reloads unconditionally on SIGHUP. A new set
//! that fails to load (unreadable file, bad PEM, a key that does not match)
//! is logged once with the field, file and reason, and the certificates in
//! use stay; connections already open are never touched. Each attempt is
//! counted in `siogate_tls_reloads_total{outcome}`.
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_util::sync::CancellationToken;

use super::sni::{CertStore, SniResolver, pem_pairs};
use crate::config::TlsConfig;
use crate::metrics::Outcome;

/// Outcomes of reload attempts since start.
#[derive(Debug, Default)]
pub struct ReloadStats {
    reloads: AtomicU64,
    failures: AtomicU64,
}

impl ReloadStats {
    /// Reloads that replaced the certificates.
    pub fn reloads(&self) -> u64 {
        self.reloads.load(Ordering::Relaxed)
    }

    /// Reloads that failed (the old certificates were kept).
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }
}

/// Watches the files of one `[tls]` configuration.
pub struct Reloader {
    pub(super) cfg: TlsConfig,
    pub(super) provider: Arc<CryptoProvider>,
    pub(super) resolver: Arc<SniResolver>,
    pub(super) stats: Arc<ReloadStats>,
    /// The files as they were read just before the certificates in use
    /// were loaded (read first, so a change in between is seen later).
    pub(super) loaded: Snapshot,
}

/// The contents of every watched file (`None`: unreadable right now).
pub(super) type Snapshot = Vec<Option<Vec<u8>>>;

/// Reads every certificate and key file of `cfg` (small files, at start).
pub(super) fn snapshot_now(cfg: &TlsConfig) -> Snapshot {
    files(cfg).iter().map(|f| std::fs::read(f).ok()).collect()
}

/// Every certificate and key path, in a stable order.
fn files(cfg: &TlsConfig) -> Vec<PathBuf> {
    pem_pairs(cfg)
        .into_iter()
        .flat_map(|p| [p.cert, p.key])
        .collect()
}

impl Reloader {
    /// Polls the files and listens for SIGHUP until `cancel` fires.
    pub async fn run(mut self, cancel: CancellationToken) {
        let files = files(&self.cfg);
        let mut seen = std::mem::take(&mut self.loaded);
        let mut hup = Hangup::new();
        let period = Duration::from_millis(self.cfg.reload_interval_ms);
        let mut tick = (!period.is_zero()).then(|| {
            let mut t = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            t
        });
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                () = hup.recv() => {
                    seen = snapshot(&files).await;
                    self.reload("SIGHUP");
                }
                () = next_tick(tick.as_mut()) => {
                    let now = snapshot(&files).await;
                    if now != seen {
                        seen = now;
                        self.reload("file change");
                    }
                }
            }
        }
    }

    /// Loads the whole set again and swaps it in, or keeps the old one.
    pub fn reload(&self, trigger: &'static str) -> bool {
        match CertStore::load(&self.cfg, &self.provider) {
            Ok(store) => {
                let names = store.names();
                self.resolver.replace(store);
                self.stats.reloads.fetch_add(1, Ordering::Relaxed);
                crate::metrics::global().tls_reloads.inc(Outcome::Ok);
                tracing::info!(trigger, sni.names = names, "tls certificates reloaded");
                true
            }
            Err(e) => {
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
                crate::metrics::global().tls_reloads.inc(Outcome::Error);
                tracing::warn!(
                    trigger,
                    field = e.field(),
                    file = %e.path().map(|p| p.display().to_string()).unwrap_or_default(),
                    reason = %e.reason(),
                    "tls reload failed; keeping the current certificates"
                );
                false
            }
        }
    }
}

async fn snapshot(files: &[PathBuf]) -> Snapshot {
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        out.push(tokio::fs::read(f).await.ok());
    }
    out
}

async fn next_tick(tick: Option<&mut tokio::time::Interval>) {
    match tick {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// SIGHUP as a stream of `()`; never fires where signals are unavailable.
struct Hangup {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangup {
    fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let signal = signal(SignalKind::hangup())
                .inspect_err(|e| tracing::warn!(error = %e, "cannot listen for SIGHUP"))
                .ok();
            Hangup { signal }
        }
        #[cfg(not(unix))]
        Hangup {}
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(s) = &mut self.signal
            && s.recv().await.is_some()
        {
            return;
        }
        std::future::pending().await
    }
}
