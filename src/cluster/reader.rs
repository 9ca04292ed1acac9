//! The pub/sub task of a [`super::redis::RedisLink`]: connect, subscribe
//! everything registered, confirm the publish connection, then read
//! messages and apply new subscriptions until the connection drops; back
//! off (doubling, capped) and start over. It owns the up/down state.
use std::sync::{Arc, Weak};

use bytes::Bytes;
use futures_util::StreamExt as _;
use redis::aio::PubSubSink;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::redis::{Inner, LinkOptions, MessageHandler, Subscribe};

/// The pub/sub task: connect, subscribe all, read until the connection
/// drops, back off, repeat.
pub(super) struct Reader {
    pub(super) client: redis::Client,
    pub(super) opts: LinkOptions,
    pub(super) handler: Arc<dyn MessageHandler>,
    pub(super) inner: Weak<Inner>,
    pub(super) up: watch::Sender<bool>,
    pub(super) stop: CancellationToken,
}

impl Reader {
    pub(super) async fn run(self, mut commands: mpsc::Receiver<Subscribe>) {
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
                    self.set_last_error(String::new());
                    tracing::info!("redis subscribed");
                    was_up = true;
                    self.set_up(true);
                    if self.read(sink, stream, &mut commands).await.is_break() {
                        self.set_up(false);
                        return;
                    }
                    self.set_up(false);
                    tracing::error!("redis connection lost; reconnecting");
                }
                Err(e) => {
                    self.set_last_error(e.clone());
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

    /// Publishes the link state to waiters, `/readyz` and the
    /// `cluster_redis_up` gauge.
    fn set_up(&self, up: bool) {
        self.up.send_replace(up);
        crate::metrics::global().cluster_redis_up.set(i64::from(up));
    }

    /// Records why the link is down (for `/readyz` and the 503 of pushes).
    fn set_last_error(&self, why: String) {
        if let Some(inner) = self.inner.upgrade() {
            *inner.last_error.lock().unwrap_or_else(|e| e.into_inner()) = why;
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
