//! The Redis side of cluster mode, shared by both modes: one publish
//! connection ([`redis::aio::ConnectionManager`], which reconnects by
//! itself) and one pub/sub connection driven by a task that reconnects with
//! backoff and re-subscribes everything registered so far.
//!
//! The node subscribes only to what it registers ([`RedisLink::ensure`]):
//! the channels and patterns of the namespaces it serves. Every message is
//! handed to the [`MessageHandler`] on the reader task, so handlers must not
//! block (they spawn for anything that awaits). [`RedisLink::is_up`] is true
//! while the pub/sub connection is subscribed and the publish connection
//! answers; operations that need Redis fail fast with
//! [`ClusterError::Unavailable`] while it is down. The state is also the
//! `siogate_cluster_redis_up` gauge and a `redis` check of `/readyz`.
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

/// Redis could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClusterError {
    #[error("invalid Redis URL: {0}")]
    InvalidUrl(String),
    #[error("Redis is unavailable: {0}")]
    Unavailable(String),
}

/// Receives every message of the subscribed channels and patterns.
pub trait MessageHandler: Send + Sync + 'static {
    /// One message. Runs on the reader task: must not block.
    fn on_message(&self, channel: &str, payload: Bytes);
}

/// Reconnect backoff and timeouts.
#[derive(Debug, Clone)]
pub struct LinkOptions {
    /// First reconnect delay; doubles up to `max_backoff`. Default 100 ms.
    pub min_backoff: Duration,
    /// Default 2 s.
    pub max_backoff: Duration,
    /// Connect and command timeout. Default 2 s.
    pub timeout: Duration,
    /// For `rediss://`: PEM certificates that replace the system roots when
    /// verifying the Redis server. Default none (the system roots).
    pub tls_roots_pem: Option<Vec<u8>>,
    /// Whether `/readyz` fails while the link is down. Default true; proxy
    /// mode turns it off (Redis only feeds injected pushes there).
    pub ready_check: bool,
}

impl Default for LinkOptions {
    fn default() -> LinkOptions {
        LinkOptions {
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            timeout: Duration::from_secs(2),
            tls_roots_pem: None,
            ready_check: true,
        }
    }
}

#[derive(Default)]
pub(super) struct Subscriptions {
    pub(super) channels: BTreeSet<String>,
    pub(super) patterns: BTreeSet<String>,
}

/// A new subscription for the reader task, acked once Redis confirmed it.
pub(super) struct Subscribe {
    pub(super) channels: Vec<String>,
    pub(super) patterns: Vec<String>,
    pub(super) done: oneshot::Sender<Result<(), String>>,
}

/// The node's connections to Redis. Cheap to clone.
#[derive(Clone)]
pub struct RedisLink {
    inner: Arc<Inner>,
}

pub(super) struct Inner {
    publisher: ConnectionManager,
    pub(super) subs: Mutex<Subscriptions>,
    commands: mpsc::Sender<Subscribe>,
    up: watch::Receiver<bool>,
    timeout: Duration,
    stop: CancellationToken,
    /// Why the last connection attempt failed (empty once connected): shown
    /// by `/readyz` and in the push API's 503 while the link is down.
    pub(super) last_error: Arc<Mutex<String>>,
    /// `/readyz` fails with "redis: …" while the link is down (if asked).
    _ready: Option<crate::metrics::Registration>,
}

impl RedisLink {
    /// Starts the link to `url` (`redis://[:password@]host:port[/db]`, or
    /// `rediss://` for TLS, verified against `opts.tls_roots_pem` or the
    /// system roots). Does
    /// not wait for Redis: while it is unreachable the link is down and keeps
    /// retrying. The reader task ends when `stop` is cancelled.
    pub fn start(
        url: &str,
        opts: LinkOptions,
        handler: Arc<dyn MessageHandler>,
        stop: CancellationToken,
    ) -> Result<RedisLink, ClusterError> {
        use redis::IntoConnectionInfo as _;
        let invalid = |e: redis::RedisError| ClusterError::InvalidUrl(e.to_string());
        // No Nagle: a push is one small PUBLISH that should leave at once.
        let nodelay = redis::io::tcp::TcpSettings::default().set_nodelay(true);
        let info = url
            .into_connection_info()
            .map_err(invalid)?
            .set_tcp_settings(nodelay);
        let client = match &opts.tls_roots_pem {
            Some(pem) => {
                let certs = redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.clone()),
                };
                redis::Client::build_with_tls(info, certs).map_err(invalid)?
            }
            None => redis::Client::open(info).map_err(invalid)?,
        };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(opts.timeout))
            .set_response_timeout(Some(opts.timeout))
            .set_number_of_retries(1)
            .set_max_delay(opts.max_backoff);
        let publisher = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| ClusterError::InvalidUrl(e.to_string()))?;
        let (commands, rx) = mpsc::channel(64);
        let (up_tx, up) = watch::channel(false);
        let state = up.clone();
        let last_error = Arc::new(Mutex::new(String::new()));
        let why = last_error.clone();
        let check: crate::metrics::Check = Arc::new(move || {
            if *state.borrow() {
                Ok(())
            } else {
                Err(not_connected(&why))
            }
        });
        crate::metrics::global().cluster_redis_up.set(0);
        let inner = Arc::new(Inner {
            _ready: opts
                .ready_check
                .then(|| crate::metrics::readiness().register("redis", check)),
            publisher,
            subs: Mutex::new(Subscriptions::default()),
            commands,
            up,
            timeout: opts.timeout,
            stop: stop.clone(),
            last_error,
        });
        let reader = super::reader::Reader {
            client,
            opts,
            handler,
            inner: Arc::downgrade(&inner),
            up: up_tx,
            stop,
        };
        tokio::spawn(reader.run(rx).instrument(tracing::info_span!("redis")));
        Ok(RedisLink { inner })
    }

    /// Whether the pub/sub connection is subscribed right now.
    pub fn is_up(&self) -> bool {
        *self.inner.up.borrow()
    }

    /// Why the last connection attempt failed; `None` while up or before the
    /// first attempt ended.
    pub fn last_error(&self) -> Option<String> {
        let why = self
            .inner
            .last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        (!why.is_empty()).then(|| why.clone())
    }

    /// Follows [`RedisLink::is_up`] (for readiness and metrics).
    pub fn watch_up(&self) -> watch::Receiver<bool> {
        self.inner.up.clone()
    }

    /// Waits until the link is up, at most `limit`. Returns whether it is.
    pub async fn wait_up(&self, limit: Duration) -> bool {
        let mut up = self.inner.up.clone();
        tokio::time::timeout(limit, up.wait_for(|u| *u))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Makes sure `channels` and `patterns` are subscribed. Registered ones
    /// return at once; new ones are kept for every reconnect, handed to the
    /// reader and, while the link is up, awaited until Redis confirmed them.
    pub async fn ensure(
        &self,
        channels: &[String],
        patterns: &[String],
    ) -> Result<(), ClusterError> {
        let (new_channels, new_patterns) = {
            let mut subs = self.inner.subs.lock().unwrap_or_else(|e| e.into_inner());
            let c: Vec<String> = channels
                .iter()
                .filter(|c| subs.channels.insert((*c).clone()))
                .cloned()
                .collect();
            let p: Vec<String> = patterns
                .iter()
                .filter(|p| subs.patterns.insert((*p).clone()))
                .cloned()
                .collect();
            (c, p)
        };
        if new_channels.is_empty() && new_patterns.is_empty() {
            return Ok(());
        }
        // Sent even while down: the reader may be connecting with a snapshot
        // of the registry taken before this insert, and applies queued
        // commands once connected (a duplicate subscribe is harmless).
        let up = self.is_up();
        let (done, confirmed) = oneshot::channel();
        let cmd = Subscribe {
            channels: new_channels,
            patterns: new_patterns,
            done,
        };
        let unavailable = |why: &str| ClusterError::Unavailable(why.to_string());
        match tokio::time::timeout(self.inner.timeout, self.inner.commands.send(cmd)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(unavailable("the link is stopped")),
            Err(_) => return Err(unavailable("subscribe queue full")),
        }
        if !up {
            return Ok(());
        }
        match tokio::time::timeout(self.inner.timeout, confirmed).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(why))) => Err(ClusterError::Unavailable(why)),
            // The connection dropped meanwhile: the reconnect subscribes it.
            Ok(Err(_)) => Ok(()),
            Err(_) => Err(unavailable("subscribe timed out")),
        }
    }

    /// Publishes `payload` on `channel`; returns how many subscribers got it.
    pub async fn publish(&self, channel: &str, payload: Vec<u8>) -> Result<usize, ClusterError> {
        self.check_up()?;
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(channel).arg(payload);
        self.inner.query(&cmd).await
    }

    /// `PUBSUB NUMSUB channel`: how many connections subscribe to it (the
    /// node count, for a namespace's request channel).
    pub async fn numsub(&self, channel: &str) -> Result<usize, ClusterError> {
        self.check_up()?;
        let mut cmd = redis::cmd("PUBSUB");
        cmd.arg("NUMSUB").arg(channel);
        let reply: Vec<(String, usize)> = self.inner.query(&cmd).await?;
        Ok(reply.first().map_or(0, |(_, n)| *n))
    }

    /// Stops the reader task.
    pub fn stop(&self) {
        self.inner.stop.cancel();
    }

    fn check_up(&self) -> Result<(), ClusterError> {
        if self.is_up() {
            Ok(())
        } else {
            Err(ClusterError::Unavailable(not_connected(
                &self.inner.last_error,
            )))
        }
    }
}

impl Inner {
    /// Runs `cmd` on the publish connection. A command that fails because
    /// the connection dropped (Redis restarted) is retried once on the
    /// connection the manager re-opens.
    pub(super) async fn query<T: redis::FromRedisValue>(
        &self,
        cmd: &redis::Cmd,
    ) -> Result<T, ClusterError> {
        let mut conn = self.publisher.clone();
        match cmd.query_async(&mut conn).await {
            Err(e) if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() => {
                tracing::debug!(error = %e, "redis publish connection dropped; retrying once");
                let mut conn = self.publisher.clone();
                cmd.query_async(&mut conn).await.map_err(unavailable)
            }
            other => other.map_err(unavailable),
        }
    }
}

/// "not connected", with the last connection error when there is one.
fn not_connected(last_error: &Mutex<String>) -> String {
    let why = last_error.lock().unwrap_or_else(|e| e.into_inner());
    if why.is_empty() {
        "not connected".to_string()
    } else {
        format!("not connected ({why})")
    }
}

fn unavailable(e: redis::RedisError) -> ClusterError {
    ClusterError::Unavailable(e.to_string())
}

/// A random node id for the `uid` of broadcasts and requests.
pub fn node_uid() -> String {
    use rand::Rng as _;
    let mut raw = [0u8; 12];
    rand::rng().fill_bytes(&mut raw);
    raw.iter().map(|b| char::from(b'a' + b % 26)).collect()
}
