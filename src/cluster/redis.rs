//! The Redis side of cluster mode, shared by both modes: one publish
//! connection ([`redis::aio::ConnectionManager`], which reconnects by
//! itself) and one pub/sub connection driven by a task that reconnects with
//! backoff and re-subscribes everything registered so far.
//!
//! The node subscribes only to what it registers ([`RedisLink::ensure`]):
//! the channels and patterns of the namespaces it serves. Every message is
//! handed to the [`MessageHandler`] on the reader task, so handlers must not
//! block (they spawn for anything that awaits). [`RedisLink::is_up`] is true
//! while the pub/sub connection is subscribed; operations that need Redis
//! fail fast with [`ClusterError::Unavailable`] while it is down.
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSubSink};
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
}

impl Default for LinkOptions {
    fn default() -> LinkOptions {
        LinkOptions {
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            timeout: Duration::from_secs(2),
        }
    }
}

#[derive(Default)]
struct Subscriptions {
    channels: BTreeSet<String>,
    patterns: BTreeSet<String>,
}

/// A new subscription for the reader task, acked once Redis confirmed it.
struct Subscribe {
    channels: Vec<String>,
    patterns: Vec<String>,
    done: oneshot::Sender<Result<(), String>>,
}

/// The node's connections to Redis. Cheap to clone.
#[derive(Clone)]
pub struct RedisLink {
    inner: Arc<Inner>,
}

struct Inner {
    publisher: ConnectionManager,
    subs: Mutex<Subscriptions>,
    commands: mpsc::Sender<Subscribe>,
    up: watch::Receiver<bool>,
    timeout: Duration,
    stop: CancellationToken,
}

impl RedisLink {
    /// Starts the link to `url` (`redis://[:password@]host:port[/db]`). Does
    /// not wait for Redis: while it is unreachable the link is down and keeps
    /// retrying. The reader task ends when `stop` is cancelled.
    pub fn start(
        url: &str,
        opts: LinkOptions,
        handler: Arc<dyn MessageHandler>,
        stop: CancellationToken,
    ) -> Result<RedisLink, ClusterError> {
        let client =
            redis::Client::open(url).map_err(|e| ClusterError::InvalidUrl(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(opts.timeout))
            .set_response_timeout(Some(opts.timeout))
            .set_number_of_retries(1)
            .set_max_delay(opts.max_backoff);
        let publisher = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| ClusterError::InvalidUrl(e.to_string()))?;
        let (commands, rx) = mpsc::channel(64);
        let (up_tx, up) = watch::channel(false);
        let inner = Arc::new(Inner {
            publisher,
            subs: Mutex::new(Subscriptions::default()),
            commands,
            up,
            timeout: opts.timeout,
            stop: stop.clone(),
        });
        let reader = Reader {
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
    /// return at once; new ones are kept for every reconnect and, while the
    /// link is up, awaited until Redis confirmed them.
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
        if new_channels.is_empty() && new_patterns.is_empty() || !self.is_up() {
            return Ok(());
        }
        let (done, confirmed) = oneshot::channel();
        let cmd = Subscribe {
            channels: new_channels,
            patterns: new_patterns,
            done,
        };
        let unavailable = |why: &str| ClusterError::Unavailable(why.to_string());
        self.inner
            .commands
            .send(cmd)
            .await
            .map_err(|_| unavailable("the link is stopped"))?;
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
            Err(ClusterError::Unavailable("not connected to Redis".into()))
        }
    }
}

impl Inner {
    /// Runs `cmd` on the publish connection. A command that fails because
    /// the connection dropped (Redis restarted) is retried once on the
    /// connection the manager re-opens.
    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, ClusterError> {
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

fn unavailable(e: redis::RedisError) -> ClusterError {
    ClusterError::Unavailable(e.to_string())
}

/// The pub/sub task: connect, subscribe all, read until the connection
/// drops, back off, repeat.
struct Reader {
    client: redis::Client,
    opts: LinkOptions,
    handler: Arc<dyn MessageHandler>,
    inner: std::sync::Weak<Inner>,
    up: watch::Sender<bool>,
    stop: CancellationToken,
}

impl Reader {
    async fn run(self, mut commands: mpsc::Receiver<Subscribe>) {
        let mut backoff = self.opts.min_backoff;
        let mut was_up = false;
        loop {
            let session = tokio::select! {
                _ = self.stop.cancelled() => return,
                s = self.connect() => s,
            };
            match session {
                Ok((sink, stream)) => {
                    backoff = self.opts.min_backoff;
                    tracing::info!("redis subscribed");
                    was_up = true;
                    self.up.send_replace(true);
                    if self.read(sink, stream, &mut commands).await.is_break() {
                        self.up.send_replace(false);
                        return;
                    }
                    self.up.send_replace(false);
                    tracing::error!("redis connection lost; reconnecting");
                }
                Err(e) => {
                    if was_up {
                        tracing::debug!(error = %e, "redis reconnect failed");
                    } else {
                        tracing::warn!(error = %e, "redis unreachable; retrying");
                        was_up = true; // warn once, then debug until it is back
                    }
                }
            }
            // Subscriptions asked for while down are in the registry already.
            while let Ok(cmd) = commands.try_recv() {
                let _ = cmd.done.send(Ok(()));
            }
            tokio::select! {
                _ = self.stop.cancelled() => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(self.opts.max_backoff);
        }
    }

    /// Opens the pub/sub connection and subscribes everything registered.
    async fn connect(&self) -> Result<(PubSubSink, redis::aio::PubSubStream), String> {
        let pubsub = tokio::time::timeout(self.opts.timeout, self.client.get_async_pubsub())
            .await
            .map_err(|_| "connect timed out".to_string())?
            .map_err(|e| e.to_string())?;
        let (mut sink, stream) = pubsub.split();
        let (channels, patterns) = {
            let Some(inner) = self.inner.upgrade() else {
                return Err("link dropped".into());
            };
            let subs = inner.subs.lock().unwrap_or_else(|e| e.into_inner());
            (
                subs.channels.iter().cloned().collect::<Vec<_>>(),
                subs.patterns.iter().cloned().collect::<Vec<_>>(),
            )
        };
        let subscribe = async {
            if !channels.is_empty() {
                sink.subscribe(&channels).await?;
            }
            if !patterns.is_empty() {
                sink.psubscribe(&patterns).await?;
            }
            Ok::<_, redis::RedisError>(())
        };
        tokio::time::timeout(self.opts.timeout, subscribe)
            .await
            .map_err(|_| "subscribe timed out".to_string())?
            .map_err(|e| e.to_string())?;
        // Up means both connections work: make the publish connection
        // reconnect now rather than on the first push.
        let Some(inner) = self.inner.upgrade() else {
            return Err("link dropped".into());
        };
        inner
            .query::<String>(&redis::cmd("PING"))
            .await
            .map_err(|e| e.to_string())?;
        Ok((sink, stream))
    }

    /// Reads messages and applies new subscriptions until the connection
    /// drops (`Continue`) or the link stops (`Break`).
    async fn read(
        &self,
        mut sink: PubSubSink,
        mut stream: redis::aio::PubSubStream,
        commands: &mut mpsc::Receiver<Subscribe>,
    ) -> std::ops::ControlFlow<()> {
        use std::ops::ControlFlow::{Break, Continue};
        loop {
            tokio::select! {
                _ = self.stop.cancelled() => return Break(()),
                msg = stream.next() => match msg {
                    Some(msg) => {
                        let payload = Bytes::copy_from_slice(msg.get_payload_bytes());
                        self.handler.on_message(msg.get_channel_name(), payload);
                    }
                    None => return Continue(()),
                },
                cmd = commands.recv() => {
                    let Some(cmd) = cmd else { return Break(()) };
                    let result = apply(&mut sink, &cmd).await;
                    let failed = result.is_err();
                    let _ = cmd.done.send(result);
                    if failed {
                        return Continue(());
                    }
                }
            }
        }
    }
}

async fn apply(sink: &mut PubSubSink, cmd: &Subscribe) -> Result<(), String> {
    if !cmd.channels.is_empty() {
        sink.subscribe(&cmd.channels)
            .await
            .map_err(|e| e.to_string())?;
    }
    if !cmd.patterns.is_empty() {
        sink.psubscribe(&cmd.patterns)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A random node id for the `uid` of broadcasts and requests.
pub fn node_uid() -> String {
    use rand::Rng as _;
    let mut raw = [0u8; 12];
    rand::rng().fill_bytes(&mut raw);
    raw.iter().map(|b| char::from(b'a' + b % 26)).collect()
}
