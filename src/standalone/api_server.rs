//! Serving the push API over HTTP: as extra routes of the server core's
//! listener ([`routes`]), or on its own address ([`serve`], for
//! `--api-listen`). Both read the body with the API's size limit (413 over
//! it) and hand the request to [`PushApi::handle`].
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use super::push_api::{self, PushApi};
use crate::server::{RouteFuture, Routes};

/// The push API as the server core's extra routes (answers 404 outside its
/// prefix).
pub fn routes(api: PushApi) -> Routes {
    Arc::new(move |req: Request<Incoming>| -> RouteFuture {
        let api = api.clone();
        Box::pin(async move { respond(&api, req).await })
    })
}

/// Reads the body (bounded) and answers one request.
pub async fn respond(api: &PushApi, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    if !api.matches(parts.uri.path()) {
        let req = Request::from_parts(parts, Bytes::new());
        return api.handle(req).await.map(Full::new);
    }
    let body = match Limited::new(body, api.max_body_bytes()).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return push_api::too_large().map(Full::new);
        }
        Err(e) => {
            tracing::debug!(error = %e, "push API body read failed");
            return push_api::bad_request("could not read the body").map(Full::new);
        }
    };
    api.handle(Request::from_parts(parts, body))
        .await
        .map(Full::new)
}

/// Serves only the push API on `listener` until `shutdown` completes, then
/// lets open connections finish their current request.
pub async fn serve(api: PushApi, listener: TcpListener, shutdown: impl Future<Output = ()>) {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(listen.addr = %addr, prefix = api.prefix(), "push API listening");
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
                    tracing::debug!(error = %e, "push API accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let api = api.clone();
        let stop = stop.clone();
        let span = tracing::debug_span!("api_conn", peer.addr = %peer);
        conns.spawn(
            async move {
                let _ = stream.set_nodelay(true);
                let svc = service_fn(move |req| {
                    let api = api.clone();
                    async move { Ok::<_, std::convert::Infallible>(respond(&api, req).await) }
                });
                let mut builder = http1::Builder::new();
                builder
                    .timer(TokioTimer::new())
                    .header_read_timeout(std::time::Duration::from_secs(30));
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
                    tracing::debug!(error = %e, "push API connection error");
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
