//! A fleet of N clients (WebSocket or polling), each in its own task:
//! connect (at most `concurrency` handshakes in flight), optionally join a
//! room, then read until cancelled, answering heartbeats and counting
//! `news` deliveries.
//!
//! Clients record *when* things happened (nanoseconds since the fleet's
//! base instant, `fetch_max`), so the controller's wake-up delay never
//! enters a measurement. The controller waits on [`Counters::wait_until`],
//! which clients wake when a connect finishes or fails, a client drops, or
//! the delivery count crosses a multiple of `per_push`.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::client::{Incoming, Sources, WsClient};
use crate::frame::{self, Eio, Sio};
use crate::polling::PollClient;

/// How long one client may take to connect (and join).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    WebSocket,
    Polling,
}

/// What the fleet's clients report.
#[derive(Debug)]
pub struct Counters {
    base: Instant,
    pub connected: AtomicU64,
    pub failed: AtomicU64,
    /// Clients whose session ended before the fleet was cancelled.
    pub dropped: AtomicU64,
    pub received: AtomicU64,
    /// When the last connect completed / the last delivery arrived.
    pub last_connect_ns: AtomicU64,
    pub last_delivery_ns: AtomicU64,
    /// Deliveries per push (the fleet size): wake-ups fire at multiples.
    per_push: u64,
    changed: Notify,
    /// The first failure, for the report.
    first_error: std::sync::Mutex<Option<String>>,
    /// Per-client connect time in ms (TCP connect to CONNECT reply, after
    /// the client got its handshake slot).
    connect_ms: std::sync::Mutex<Vec<f64>>,
}

impl Counters {
    fn new(per_push: u64) -> Self {
        Counters {
            base: Instant::now(),
            connected: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            received: AtomicU64::new(0),
            last_connect_ns: AtomicU64::new(0),
            last_delivery_ns: AtomicU64::new(0),
            per_push,
            changed: Notify::new(),
            first_error: std::sync::Mutex::new(None),
            connect_ms: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub fn now_ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }

    fn error(&self, e: &anyhow::Error) {
        if let Ok(mut first) = self.first_error.lock() {
            first.get_or_insert_with(|| format!("{e:#}"));
        }
    }

    pub fn first_error(&self) -> Option<String> {
        self.first_error.lock().ok().and_then(|e| e.clone())
    }

    fn delivered(&self) {
        let now = self.now_ns();
        self.last_delivery_ns.fetch_max(now, Ordering::AcqRel);
        let n = self.received.fetch_add(1, Ordering::AcqRel) + 1;
        if n.is_multiple_of(self.per_push) {
            self.changed.notify_waiters();
        }
    }

    /// Waits until `cond` holds, or fails after `deadline` with a summary.
    pub async fn wait_until(&self, cond: impl Fn(&Self) -> bool, deadline: Duration) -> Result<()> {
        let wait = async {
            loop {
                let notified = self.changed.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if cond(self) {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(deadline, wait)
            .await
            .map_err(|_| anyhow!("timed out after {deadline:?}: {}", self.summary()))
    }

    /// The per-client connect times so far, in ms.
    pub fn connect_times_ms(&self) -> Vec<f64> {
        self.connect_ms
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default()
    }

    pub fn summary(&self) -> String {
        format!(
            "connected {} failed {} dropped {} received {} (first error: {})",
            self.connected.load(Ordering::Acquire),
            self.failed.load(Ordering::Acquire),
            self.dropped.load(Ordering::Acquire),
            self.received.load(Ordering::Acquire),
            self.first_error().unwrap_or_else(|| "none".into())
        )
    }
}

/// The running clients.
pub struct Fleet {
    pub counters: Arc<Counters>,
    pub started_ns: u64,
    size: u64,
    cancel: CancellationToken,
    tasks: JoinSet<()>,
}

/// Where and how the fleet connects.
pub struct Spec {
    pub transport: Transport,
    /// Client i connects to `ports[i % ports.len()]` (one per node).
    pub ports: Vec<u16>,
    pub clients: u64,
    pub room: Option<&'static str>,
    pub concurrency: usize,
    pub sources: Arc<Sources>,
}

impl Fleet {
    pub fn spawn(spec: Spec) -> Fleet {
        let counters = Arc::new(Counters::new(spec.clients.max(1)));
        let cancel = CancellationToken::new();
        let permits = Arc::new(Semaphore::new(spec.concurrency.max(1)));
        let started_ns = counters.now_ns();
        let mut tasks = JoinSet::new();
        for i in 0..spec.clients {
            let ctx = Ctx {
                counters: counters.clone(),
                cancel: cancel.clone(),
                permits: permits.clone(),
                sources: spec.sources.clone(),
                port: spec.ports[i as usize % spec.ports.len().max(1)],
                room: spec.room,
            };
            match spec.transport {
                Transport::WebSocket => tasks.spawn(ws_client(ctx)),
                Transport::Polling => tasks.spawn(poll_client(ctx)),
            };
        }
        Fleet {
            counters,
            started_ns,
            size: spec.clients,
            cancel,
            tasks,
        }
    }

    /// Waits until every client connected or failed; returns the time from
    /// spawn to the last successful connect.
    pub async fn wait_connected(&self, deadline: Duration) -> Result<Duration> {
        let n = self.size;
        self.counters
            .wait_until(
                |c| c.connected.load(Ordering::Acquire) + c.failed.load(Ordering::Acquire) >= n,
                deadline,
            )
            .await?;
        let last = self.counters.last_connect_ns.load(Ordering::Acquire);
        Ok(Duration::from_nanos(last.saturating_sub(self.started_ns)))
    }

    /// Stops every client and waits (bounded) for the tasks to end.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        let join = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(Duration::from_secs(30), join)
            .await
            .is_err()
        {
            self.tasks.abort_all();
        }
    }
}

struct Ctx {
    counters: Arc<Counters>,
    cancel: CancellationToken,
    permits: Arc<Semaphore>,
    sources: Arc<Sources>,
    port: u16,
    room: Option<&'static str>,
}

impl Ctx {
    fn connected(&self, began_ns: u64) {
        let c = &self.counters;
        let took_ms = c.now_ns().saturating_sub(began_ns) as f64 / 1e6;
        if let Ok(mut v) = c.connect_ms.lock() {
            v.push(took_ms);
        }
        c.last_connect_ns.fetch_max(c.now_ns(), Ordering::AcqRel);
        c.connected.fetch_add(1, Ordering::AcqRel);
        c.changed.notify_waiters();
    }

    fn failed(&self, e: anyhow::Error, counter: &AtomicU64) {
        self.counters.error(&e);
        counter.fetch_add(1, Ordering::AcqRel);
        self.counters.changed.notify_waiters();
    }
}

/// `42["news",...]` as a Socket.IO EVENT body.
fn is_news(sio_data: &str) -> bool {
    sio_data.starts_with("[\"news\"")
}

async fn ws_client(ctx: Ctx) {
    let began = AtomicU64::new(0);
    let connect = async {
        let _permit = ctx.permits.acquire().await?;
        began.store(ctx.counters.now_ns(), Ordering::Relaxed);
        let mut client = WsClient::connect(ctx.port, &ctx.sources).await?;
        if let Some(room) = ctx.room {
            client.join(room).await?;
        }
        anyhow::Ok(client)
    };
    let mut client = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return ctx.failed(e, &ctx.counters.failed),
        Err(_) => return ctx.failed(anyhow!("connect timed out"), &ctx.counters.failed),
    };
    ctx.connected(began.load(Ordering::Relaxed));
    loop {
        tokio::select! {
            () = ctx.cancel.cancelled() => break,
            r = client.next() => match r {
                Ok(Incoming::Event(text)) => {
                    if text.len() > 2 && is_news(&text[2..]) {
                        ctx.counters.delivered();
                    }
                }
                Ok(_) => {}
                Err(e) => return ctx.failed(e, &ctx.counters.dropped),
            },
        }
    }
    client.close().await;
}

async fn poll_client(ctx: Ctx) {
    let began = AtomicU64::new(0);
    let connect = async {
        let _permit = ctx.permits.acquire().await?;
        began.store(ctx.counters.now_ns(), Ordering::Relaxed);
        let mut client = PollClient::connect(ctx.port, &ctx.sources).await?;
        if let Some(room) = ctx.room {
            client.join(room).await?;
        }
        anyhow::Ok(client)
    };
    let mut client = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return ctx.failed(e, &ctx.counters.failed),
        Err(_) => return ctx.failed(anyhow!("connect timed out"), &ctx.counters.failed),
    };
    ctx.connected(began.load(Ordering::Relaxed));
    tokio::select! {
        () = ctx.cancel.cancelled() => {}
        r = poll_loop(&mut client, &ctx.counters) => {
            let e = r.err().unwrap_or_else(|| anyhow!("poll loop ended"));
            ctx.failed(e, &ctx.counters.dropped);
        }
    }
}

/// Long-polls until an error, counting `news` deliveries of each payload.
async fn poll_loop(client: &mut PollClient, counters: &Counters) -> Result<()> {
    loop {
        let body = client.poll().await?;
        let text = std::str::from_utf8(&body)?;
        for packet in frame::split_payload(text) {
            if let Eio::Message(m) = frame::eio(packet)
                && let Sio::Event { data, .. } = frame::sio(m)
            {
                if is_news(data) {
                    counters.delivered();
                }
                continue;
            }
            client.handle(packet).await?;
        }
    }
}
