//! The client-facing Engine.IO/Socket.IO server core shared by both modes:
//! the accept loop, HTTP/1.1 connections with upgrades, routing by path,
//! and graceful shutdown. A mode plugs in through [`Backend`] (sessions) and
//! optionally [`Routes`] (extra HTTP endpoints on the same listener, e.g. the
//! standalone push API under `/api/v1/`).
//!
//! - `request`: the URL parsed once into [`RequestInfo`].
//! - `errors`: Engine.IO HTTP error bodies.
//! - `cors`: the `Origin` allow-list.
//! - `limits`: the TCP connection limits and the header read timeout.
//! - `listener`: binding with a backlog.
//! - `listeners`: what `serve` accepts on: plain HTTP, HTTPS, or both.
//! - `router`: what each request is for.
//! - `ops`: `/metrics`, `/healthz`, `/readyz`; `extra_listener`: side listeners.
pub mod backend;
pub mod cors;
pub mod drain;
pub mod errors;
pub mod extra_listener;
pub mod limits;
pub mod listener;
pub mod listeners;
pub mod ops;
pub mod request;
pub mod router;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub use backend::{
    Backend, ClientSink, CloseReason, Handshake, Reject, SessionClosed, TransportKind,
};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
pub use listeners::{Listeners, Secure, TlsListener};
pub use request::RequestInfo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::config::ServerConfig;
use crate::transport::Context;
pub use crate::transport::{Body, Response};

/// The future an extra route answers with.
pub type RouteFuture = Pin<Box<dyn Future<Output = Response> + Send>>;

/// Extra HTTP routes served on the same listener. Called for every request
/// whose path is not the Socket.IO path; it answers 404 itself for paths it
/// does not know.
pub type Routes = Arc<dyn Fn(http::Request<Incoming>) -> RouteFuture + Send + Sync>;

fn engine_sid() -> String {
    crate::engine::sid::generate()
}

/// Serves Engine.IO on `listeners` (a plain `TcpListener`, a
/// [`TlsListener`], or [`Listeners::both`]) until `shutdown` resolves, then
/// reports not ready, refuses new handshakes (503), closes every session with
/// [`CloseReason::Shutdown`] (each client gets `1`, WebSocket clients then a
/// close frame 1001 "going away"), keeps accepting until every polling
/// client fetched its `1` (at most [`drain::GOODBYE_WINDOW`]), stops
/// accepting, lets connections finish, and waits for every session's
/// `on_close`; all within the grace period (`shutdown_grace_ms`, see
/// [`drain`]) counted from the signal.
pub async fn serve<B: Backend>(
    listeners: impl Into<Listeners>,
    cfg: Arc<ServerConfig>,
    backend: Arc<B>,
    routes: Option<Routes>,
    shutdown: impl Future<Output = ()>,
) {
    let ctx = Arc::new(Context::new(cfg, backend));
    let conns = TaskTracker::new();
    let stop_conns = CancellationToken::new();
    let listeners = listeners.into();
    if let Some(addr) = listeners.plain_addr() {
        tracing::info!(listen.addr = %addr, path = %ctx.cfg.path, "listening");
    }
    if let Some(addr) = listeners.tls_addr() {
        tracing::info!(listen.addr = %addr, path = %ctx.cfg.path, tls = true, "listening");
    }
    let listening = crate::metrics::readiness().listening();
    let deadline = Arc::new(std::sync::OnceLock::new());
    // Shutdown, phase 1: stop reporting ready, tell every session to close,
    // and keep accepting for a short while so polling clients between two
    // requests can still fetch their `1` (new handshakes get 503).
    let stop_accepting = {
        let (ctx, deadline) = (ctx.clone(), deadline.clone());
        async move {
            shutdown.await;
            let grace = drain::grace(ctx.cfg.shutdown_grace_ms);
            let _ = deadline.set(tokio::time::Instant::now() + grace);
            drop(listening);
            crate::metrics::global().shutting_down.set(1);
            tracing::info!(
                sessions = ctx.registry.len(),
                grace_ms = grace.as_millis() as u64,
                "shutdown started"
            );
            ctx.begin_shutdown();
            let window = grace.min(drain::GOODBYE_WINDOW);
            let _ = tokio::time::timeout(window, ctx.polling_goodbyes()).await;
        }
    };
    let mut stop_accepting = std::pin::pin!(stop_accepting);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut stop_accepting => break,
            accepted = listeners.accept() => accepted,
        };
        let Some(permit) = limits::admit_connection(&ctx.connections, peer.ip()) else {
            continue; // dropping the stream closes it
        };
        let tls = matches!(stream, listeners::Accepted::Tls(..));
        let span = crate::telemetry::conn_span(peer, tls);
        let conn = serve_conn(
            ctx.clone(),
            routes.clone(),
            stream,
            permit,
            peer,
            stop_conns.clone(),
        );
        conns.spawn(conn.instrument(span));
    }
    // Phase 2: stop accepting, let connections finish, and wait for every
    // session until the grace period (counted from the signal) is over.
    drop(listeners);
    stop_conns.cancel();
    conns.close();
    ctx.tracker.close();
    let deadline = deadline
        .get()
        .copied()
        .unwrap_or_else(tokio::time::Instant::now);
    let drained = tokio::time::timeout_at(deadline, async {
        ctx.tracker.wait().await;
        conns.wait().await;
    })
    .await;
    if drained.is_err() {
        tracing::warn!("shutdown grace period over; abandoning remaining connections");
    }
    tracing::info!("shutdown finished");
}

/// Errors from `accept`: per-connection ones are skipped; others (such as
/// running out of file descriptors) back off briefly so the loop does not spin.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted => {
            tracing::debug!(error = %e, "accept failed");
        }
        _ => {
            tracing::error!(error = %e, "accept failed; backing off");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn serve_conn<B: Backend>(
    ctx: Arc<Context<B>>,
    routes: Option<Routes>,
    stream: listeners::Accepted,
    permit: crate::limits::Permit,
    peer: SocketAddr,
    stop: CancellationToken,
) {
    // The connection's slot lives in the socket (`Counted`), so a
    // connection upgraded to WebSocket keeps counting until it closes.
    match stream {
        listeners::Accepted::Plain(tcp) => {
            let _ = tcp.set_nodelay(true);
            let tcp = limits::Counted::new(tcp, permit);
            serve_http(ctx, routes, tcp, peer, stop, false).await;
        }
        listeners::Accepted::Tls(tcp, acceptor, limit) => {
            let _ = tcp.set_nodelay(true);
            let tls = tokio::select! {
                r = listeners::handshake(tcp, &acceptor, limit) => r,
                _ = stop.cancelled() => return,
            };
            match tls {
                Ok(tls) => {
                    let tls = limits::Counted::new(tls, permit);
                    serve_http(ctx, routes, tls, peer, stop, true).await;
                }
                Err(e) => tracing::debug!(error = %e, "tls handshake failed"),
            }
        }
    }
}

/// HTTP/1.1 with upgrades on an established (plain or TLS) stream.
async fn serve_http<B: Backend, S>(
    ctx: Arc<Context<B>>,
    routes: Option<Routes>,
    stream: S,
    peer: SocketAddr,
    stop: CancellationToken,
    secure: bool,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let header_read_timeout = Duration::from_millis(ctx.cfg.limits.header_read_timeout_ms);
    let svc = service_fn(move |mut req: http::Request<Incoming>| {
        let ctx = ctx.clone();
        let routes = routes.clone();
        if secure {
            req.extensions_mut().insert(Secure);
        }
        async move { Ok::<_, Infallible>(router::route(&ctx, routes.as_ref(), req, peer).await) }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let conn = builder
        .serve_connection(TokioIo::new(stream), svc)
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        _ = stop.cancelled() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        limits::connection_error(&e, peer.ip());
    }
}
