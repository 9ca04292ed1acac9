//! Operations endpoints: `GET /metrics` (the Prometheus text format of
//! [`crate::metrics::global`]), `GET /healthz` (200 `ok` while the process
//! runs) and `GET /readyz` (200 `ready`, or 503 with the reasons from
//! [`crate::metrics::readiness`]).
//!
//! With `metrics.listen` set they are served on that address
//! ([`serve_metrics`]); `/healthz` and `/readyz` are also always answered on
//! the main client listener ([`health`]), so a load balancer can probe the
//! port it sends clients to. `/metrics` is only on the metrics listener, to
//! keep it off the public port.
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Method, StatusCode};
use hyper::body::Incoming;
use tokio::net::TcpListener;

use super::{Body, Response, RouteFuture, Routes};
use crate::metrics;

/// `/healthz` and `/readyz` for the main listener; None for other paths.
pub fn health(method: &Method, path: &str) -> Option<Response> {
    match path {
        "/healthz" | "/readyz" => Some(answer(method, path)),
        _ => None,
    }
}

/// Answers one request on the metrics listener.
pub fn answer(method: &Method, path: &str) -> Response {
    if !matches!(path, "/metrics" | "/healthz" | "/readyz") {
        return text(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found\n".into(),
        );
    }
    if method != Method::GET && method != Method::HEAD {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "GET only\n".into(),
        );
    }
    match path {
        "/metrics" => text(
            StatusCode::OK,
            metrics::CONTENT_TYPE,
            metrics::global().render(),
        ),
        "/healthz" => text(StatusCode::OK, "text/plain; charset=utf-8", "ok\n".into()),
        _ => match metrics::readiness().status() {
            Ok(()) => text(
                StatusCode::OK,
                "text/plain; charset=utf-8",
                "ready\n".into(),
            ),
            Err(why) => text(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain; charset=utf-8",
                format!("not ready: {why}\n"),
            ),
        },
    }
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut resp = http::Response::new(Body::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Serves `/metrics`, `/healthz` and `/readyz` on `listener` until
/// `shutdown` completes (it keeps answering while the client side drains,
/// so `/readyz` reports the shutdown).
pub async fn serve_metrics(
    listener: TcpListener,
    header_timeout: std::time::Duration,
    shutdown: impl Future<Output = ()>,
) {
    let routes: Routes = Arc::new(|req: http::Request<Incoming>| -> RouteFuture {
        let resp = answer(req.method(), req.uri().path());
        Box::pin(async move { resp })
    });
    super::extra_listener::serve_routes(listener, routes, "metrics", header_timeout, shutdown)
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_health_paths_are_taken_from_the_main_listener() {
        assert!(health(&Method::GET, "/metrics").is_none());
        assert!(health(&Method::GET, "/socket.io/").is_none());
        let r = health(&Method::GET, "/healthz").expect("healthz");
        assert_eq!(r.status(), StatusCode::OK);
        let r = health(&Method::POST, "/readyz").expect("readyz");
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    }

    #[test]
    fn metrics_are_text_format() {
        let r = answer(&Method::GET, "/metrics");
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()[CONTENT_TYPE],
            "text/plain; version=0.0.4; charset=utf-8"
        );
        assert_eq!(
            answer(&Method::GET, "/nope").status(),
            StatusCode::NOT_FOUND
        );
    }
}
