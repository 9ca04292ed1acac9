//! Redis-emitter pushes injected into proxied client sessions (issue 6
//! item 3): backends that push with `@socket.io/redis-emitter` (or its
//! ports) reach clients of a legacy gateway that cannot read Redis.
//!
//! - [`Injector`]: the Redis link (reconnects and re-subscribes by itself)
//!   and the room rules; started by `Proxy` when `[proxy.redis] url` is set.
//! - `registry`: namespace → sessions, room → sessions.
//! - `member`: one session's listing, kept in step with its normalizer.
//! - `rooms`: the rooms a session joins (`room_from_query`,
//!   `room_from_claim`).
//! - `handler`: Redis broadcasts → packets queued into matching sessions.
//!
//! Subscriptions: the pattern `<prefix>#<nsp>#*` of a namespace once a
//! session connected to it (kept afterwards, as standalone mode does), for
//! at most `MAX_SUBSCRIBED_NSPS` namespaces.
//! Redis is optional for proxying: while it is down, sessions keep being
//! proxied, pushes sent meanwhile are not seen (Redis pub/sub keeps
//! nothing), `siogate_cluster_redis_up` is 0, and `/readyz` is unaffected.
mod handler;
pub(super) mod member;
pub mod registry;
pub mod rooms;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::cluster::redis::{ClusterError, LinkOptions, MessageHandler, RedisLink};
use crate::cluster::wire::Channels;
use crate::config::ProxyRedisConfig;
use crate::metrics::{Collector, Exposition};
use registry::{MemberId, Recipient, Registry};
use rooms::RoomRules;

/// Namespaces whose pattern is subscribed, at most (clients choose the
/// namespaces, and a subscription stays for the life of the process).
const MAX_SUBSCRIBED_NSPS: usize = 1024;

/// The Redis side of proxy mode. See the module docs.
pub struct Injector {
    hub: Arc<Hub>,
    pub(super) rules: RoomRules,
    link: RedisLink,
    tasks: TaskTracker,
    next_id: AtomicU64,
    /// The namespace cap was hit (warned once).
    cap_warned: AtomicBool,
}

/// What the Redis reader task shares with the sessions.
pub(super) struct Hub {
    prefix: String,
    registry: Registry,
    /// Namespaces whose pattern is subscribed (channels of each).
    subscribed: Mutex<Vec<Channels>>,
    /// Packets queued into sessions.
    delivered: AtomicU64,
    /// Messages not injected (malformed, not a plain event, …).
    skipped: AtomicU64,
}

impl Injector {
    /// Starts the link to `cfg.url` (not waiting for Redis; inside a tokio
    /// runtime, else an error). `None` when injection is off. The link stops when `stop` is cancelled; the
    /// subscribe tasks belong to `tasks` (the proxy's).
    pub fn start(
        cfg: &ProxyRedisConfig,
        stop: CancellationToken,
        tasks: TaskTracker,
    ) -> Result<Option<Arc<Injector>>, ClusterError> {
        let Some(url) = &cfg.url else {
            return Ok(None);
        };
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(ClusterError::Unavailable(
                "the Redis link must start inside a tokio runtime".into(),
            ));
        }
        let hub = Arc::new(Hub {
            prefix: cfg.prefix().to_owned(),
            registry: Registry::default(),
            subscribed: Mutex::new(Vec::new()),
            delivered: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
        });
        let tls_roots_pem = match &cfg.ca_file {
            Some(path) => Some(std::fs::read(path).map_err(|e| {
                ClusterError::InvalidUrl(format!("proxy.redis.ca_file {}: {e}", path.display()))
            })?),
            None => None,
        };
        let opts = LinkOptions {
            ready_check: false,
            tls_roots_pem,
            ..LinkOptions::default()
        };
        let handler: Arc<dyn MessageHandler> = hub.clone();
        let link = RedisLink::start(url.expose(), opts, handler, stop)?;
        let collector: Arc<dyn Collector> = hub.clone();
        crate::metrics::global().register(Arc::downgrade(&collector));
        let rules = RoomRules::new(
            cfg.room_from_query.clone(),
            cfg.room_from_claim.clone(),
            cfg.claim_secret.as_ref().map(|s| s.expose().as_bytes()),
        );
        Ok(Some(Arc::new(Injector {
            hub,
            rules,
            link,
            tasks,
            next_id: AtomicU64::new(1),
            cap_warned: AtomicBool::new(false),
        })))
    }

    /// The session index (for tests and status).
    pub fn registry(&self) -> &Registry {
        &self.hub.registry
    }

    /// Whether the Redis link is up.
    pub fn is_up(&self) -> bool {
        self.link.is_up()
    }

    /// Why the link is down (the last connection error), if it is.
    pub fn link_error(&self) -> Option<String> {
        self.link.last_error()
    }

    fn next_member_id(&self) -> MemberId {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Lists a session; the first session of a namespace subscribes its
    /// pattern (in the background: the caller holds the session's lock).
    fn join(&self, nsp: &str, id: MemberId, me: Weak<dyn Recipient>, rooms: Vec<String>) {
        self.hub.registry.join(nsp, id, me, rooms);
        let channels = {
            let mut subscribed = self
                .hub
                .subscribed
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if subscribed.iter().any(|c| c.nsp() == nsp) {
                return;
            }
            if subscribed.len() >= MAX_SUBSCRIBED_NSPS {
                // Subscriptions are never dropped: bound what clients can add.
                if !self.cap_warned.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        nsp,
                        "too many namespaces subscribed; no pushes for new ones"
                    );
                }
                return;
            }
            let ch = Channels::new(&self.hub.prefix, nsp);
            subscribed.push(ch.clone());
            ch
        };
        let link = self.link.clone();
        self.tasks.spawn(async move {
            // Kept by the link even when this fails: a reconnect subscribes it.
            if let Err(e) = link.ensure(&[], &[channels.pattern()]).await {
                tracing::warn!(nsp = %channels.nsp(), error = %e, "redis subscribe failed; retried on reconnect");
            }
        });
    }
}

impl Collector for Hub {
    fn collect(&self, out: &mut Exposition) {
        out.counter(
            "siogate_proxy_injected_total",
            "Redis-emitter pushes queued into proxied client sessions (one per session).",
            self.delivered.load(Ordering::Relaxed),
        );
        out.counter(
            "siogate_proxy_inject_skipped_total",
            "Redis messages not injected (malformed, not a plain event, one socket id).",
            self.skipped.load(Ordering::Relaxed),
        );
        out.gauge(
            "siogate_proxy_inject_sessions",
            "Proxied sessions listed for injection, counted once per namespace.",
            i64::try_from(self.registry.len()).unwrap_or(i64::MAX),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use crate::protocol::engineio;

    struct Nobody;
    impl Recipient for Nobody {
        fn deliver(&self, _: &str, _: &[engineio::Packet]) -> bool {
            false
        }
    }

    #[test]
    fn starting_outside_a_runtime_is_an_error_not_a_panic() {
        let cfg = ProxyRedisConfig {
            url: Some(Secret::new("redis://127.0.0.1:1")),
            ..ProxyRedisConfig::default()
        };
        let r = Injector::start(&cfg, CancellationToken::new(), TaskTracker::new());
        assert!(matches!(r, Err(ClusterError::Unavailable(_))));
        let off = ProxyRedisConfig::default();
        let r = Injector::start(&off, CancellationToken::new(), TaskTracker::new());
        assert!(matches!(r, Ok(None)));
    }

    #[tokio::test]
    async fn namespace_subscriptions_are_capped_but_sessions_still_listed() {
        let cfg = ProxyRedisConfig {
            url: Some(Secret::new("redis://127.0.0.1:1")),
            ..ProxyRedisConfig::default()
        };
        let stop = CancellationToken::new();
        let inj = Injector::start(&cfg, stop.clone(), TaskTracker::new())
            .expect("valid URL")
            .expect("injection on");
        let r: Arc<dyn Recipient> = Arc::new(Nobody);
        let extra = 5;
        for i in 0..MAX_SUBSCRIBED_NSPS + extra {
            inj.join(
                &format!("/n{i}"),
                i as MemberId,
                Arc::downgrade(&r),
                Vec::new(),
            );
        }
        let subscribed = inj.hub.subscribed.lock().expect("lock").len();
        assert_eq!(subscribed, MAX_SUBSCRIBED_NSPS);
        assert_eq!(inj.registry().len(), MAX_SUBSCRIBED_NSPS + extra);
        stop.cancel();
    }
}
