//! Starts the server core on `127.0.0.1:0` with the [`EchoBackend`] and
//! gives tests its address, its recorded events and a shutdown handle.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use siogate::config::ServerConfig;
use siogate::server::{CloseReason, Routes, serve};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::echo_backend::{EchoBackend, Event};

/// Deadline for any single step of a test.
pub const STEP: Duration = Duration::from_secs(5);

/// Awaits `f`, failing the test if it takes longer than [`STEP`].
pub async fn within<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(STEP, f).await.expect("step timed out")
}

pub struct TestServer {
    pub addr: SocketAddr,
    events: mpsc::UnboundedReceiver<Event>,
    backlog: Vec<Event>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

/// A config with defaults suitable for tests (quick upgrade timeout).
pub fn test_config() -> ServerConfig {
    ServerConfig {
        upgrade_timeout_ms: 2_000,
        ..ServerConfig::default()
    }
}

/// [`test_config`] with `f` applied to its `[server.limits]`.
pub fn with_limits(f: impl FnOnce(&mut siogate::config::LimitsConfig)) -> ServerConfig {
    let mut cfg = test_config();
    f(&mut cfg.limits);
    cfg
}

pub async fn spawn(cfg: ServerConfig) -> TestServer {
    spawn_with_routes(cfg, None).await
}

pub async fn spawn_with_routes(cfg: ServerConfig, routes: Option<Routes>) -> TestServer {
    let listener =
        siogate::server::listener::bind("127.0.0.1:0".parse().expect("addr"), 1024).expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let (backend, events) = EchoBackend::new();
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(serve(
        listener,
        Arc::new(cfg),
        Arc::new(backend),
        routes,
        async {
            let _ = rx.await;
        },
    ));
    TestServer {
        addr,
        events,
        backlog: Vec::new(),
        shutdown: Some(tx),
        handle: Some(handle),
    }
}

impl TestServer {
    /// Waits for the first recorded event matching `pred` (others are kept).
    pub async fn expect(&mut self, what: &str, pred: impl Fn(&Event) -> bool) -> Event {
        if let Some(i) = self.backlog.iter().position(&pred) {
            return self.backlog.remove(i);
        }
        let deadline = tokio::time::Instant::now() + STEP;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(e)) if pred(&e) => return e,
                Ok(Some(e)) => self.backlog.push(e),
                Ok(None) => panic!(
                    "backend gone while waiting for {what}; seen {:?}",
                    self.backlog
                ),
                Err(_) => panic!("timed out waiting for {what}; seen {:?}", self.backlog),
            }
        }
    }

    /// Waits for `on_close` of `sid` and returns its reason.
    pub async fn closed(&mut self, sid: &str) -> CloseReason {
        match self
            .expect(
                "on_close",
                |e| matches!(e, Event::Close { sid: s, .. } if s == sid),
            )
            .await
        {
            Event::Close { reason, .. } => reason,
            _ => unreachable!(),
        }
    }

    /// Waits for `on_message` of `sid`.
    pub async fn message(&mut self, sid: &str) -> siogate::protocol::engineio::Packet {
        match self
            .expect(
                "on_message",
                |e| matches!(e, Event::Message { sid: s, .. } if s == sid),
            )
            .await
        {
            Event::Message { packet, .. } => packet,
            _ => unreachable!(),
        }
    }

    /// True if `on_close` was already recorded for `sid` (no waiting).
    pub fn has_closed(&mut self, sid: &str) -> bool {
        while let Ok(e) = self.events.try_recv() {
            self.backlog.push(e);
        }
        self.backlog
            .iter()
            .any(|e| matches!(e, Event::Close { sid: s, .. } if s == sid))
    }

    /// Triggers shutdown and waits for `serve` to return.
    pub async fn shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            tokio::time::timeout(Duration::from_secs(15), h)
                .await
                .expect("serve did not stop")
                .expect("serve panicked");
        }
    }
}
