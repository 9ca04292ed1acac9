//! A plain HTTP/1.1 listener for side endpoints (the push API on its own
//! address, the metrics listener): each request goes to a [`Routes`]
//! handler. On shutdown it stops accepting and lets open connections finish
//! their current request.
use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use super::Routes;

/// Serves `routes` on `listener` until `shutdown` completes; `name` labels
/// the connection spans and logs (`"push API"`, `"metrics"`). A client has
/// `header_timeout` to send each request's headers (the server core's
/// `server.limits.header_read_timeout_ms`).
pub async fn serve_routes(
    listener: TcpListener,
    routes: Routes,
    name: &'static str,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(listen.addr = %addr, listener = name, "listening");
    }
    let conns = TaskTracker::new();
    let stop = CancellationToken::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::debug!(error = %e, listener = name, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let routes = routes.clone();
        let stop = stop.clone();
        let span = tracing::debug_span!("side_conn", listener = name, peer.addr = %peer);
        conns.spawn(
            async move {
                let _ = stream.set_nodelay(true);
                let svc = service_fn(move |req| {
                    let routes = routes.clone();
                    async move { Ok::<_, Infallible>(routes(req).await) }
                });
                let mut builder = http1::Builder::new();
                builder
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_timeout);
                let conn = builder.serve_connection(TokioIo::new(stream), svc);
                let mut conn = std::pin::pin!(conn);
                let result = tokio::select! {
                    r = conn.as_mut() => r,
                    () = stop.cancelled() => {
                        conn.as_mut().graceful_shutdown();
                        conn.await
                    }
                };
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection error");
                }
            }
            .instrument(span),
        );
    }
    drop(listener);
    stop.cancel();
    conns.close();
    conns.wait().await;
}
