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
use tokio::net::TcpListener;

use super::push_api::{self, PushApi};
use crate::metrics::Status;
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
            crate::metrics::global().push_api_requests.inc(Status::S413);
            return push_api::too_large().map(Full::new);
        }
        Err(e) => {
            tracing::debug!(error = %e, "push API body read failed");
            crate::metrics::global().push_api_requests.inc(Status::S400);
            return push_api::bad_request("could not read the body").map(Full::new);
        }
    };
    let resp = api.handle(Request::from_parts(parts, body)).await;
    crate::metrics::global()
        .push_api_requests
        .inc(Status::of(resp.status().as_u16()));
    resp.map(Full::new)
}

/// Serves only the push API on `listener` until `shutdown` completes, then
/// lets open connections finish their current request.
pub async fn serve(
    api: PushApi,
    listener: TcpListener,
    header_timeout: std::time::Duration,
    shutdown: impl Future<Output = ()>,
) {
    let routes = routes(api);
    crate::server::extra_listener::serve_routes(
        listener,
        routes,
        "push API",
        header_timeout,
        shutdown,
    )
    .await;
}
