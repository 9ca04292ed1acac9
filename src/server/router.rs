//! Routing of one HTTP request: `/healthz` and `/readyz` to `ops`, the
//! Engine.IO path to the transports (after CORS and URL parsing), everything
//! else to the mode's extra routes (or 404).
use std::net::SocketAddr;
use std::sync::Arc;

use http::{Method, StatusCode};
use hyper::body::Incoming;

use super::cors::{self, Cors};
use super::errors::error_response;
use super::request::RequestInfo;
use super::{Routes, engine_sid};
use crate::limits::{Refusal, refused};
use crate::server::backend::{Backend, Handshake, TransportKind};
use crate::transport::polling::{self, PollFormat};
use crate::transport::{Body, Context, Error, Response, websocket};

/// Handles one request.
pub async fn route<B: Backend>(
    ctx: &Arc<Context<B>>,
    routes: Option<&Routes>,
    req: http::Request<Incoming>,
    remote: SocketAddr,
) -> Response {
    if let Some(resp) = super::ops::health(req.method(), req.uri().path()) {
        return resp;
    }
    if !is_engine_path(&ctx.cfg.path, req.uri().path()) {
        return match routes {
            Some(routes) => {
                let mut req = req;
                req.extensions_mut().insert(PeerAddr(remote));
                routes(req).await
            }
            None => not_found(),
        };
    }
    let cors = cors::check(&ctx.cfg.cors_origins, req.headers());
    let mut resp = if cors == Cors::Denied {
        refused(Refusal::Origin, Some(remote.ip()));
        error_response(&Error::Forbidden)
    } else if url_len(&req) > ctx.cfg.limits.max_url_bytes {
        refused(Refusal::UrlLength, Some(remote.ip()));
        error_response(&Error::UrlTooLong)
    } else if req.method() == Method::OPTIONS {
        cors::preflight(req.headers(), &cors)
    } else {
        engine(ctx, req, remote)
            .await
            .unwrap_or_else(|e| error_response(&e))
    };
    if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
        cors::apply(&mut resp, &cors);
    }
    resp
}

/// The client's address, set as a request extension for extra routes (a
/// mode that serves another Engine.IO path needs it for the handshake).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// Length of the request target (path and query), as sent.
fn url_len<T>(req: &http::Request<T>) -> usize {
    req.uri().path_and_query().map_or(0, |pq| pq.as_str().len())
}

/// `/socket.io/` also matches `/socket.io` (clients differ on the slash).
fn is_engine_path(configured: &str, path: &str) -> bool {
    path == configured || path == configured.trim_end_matches('/')
}

async fn engine<B: Backend>(
    ctx: &Arc<Context<B>>,
    req: http::Request<Incoming>,
    remote: SocketAddr,
) -> Result<Response, Error> {
    let info = RequestInfo::parse(req.uri().query())?;
    let fmt = PollFormat {
        b64: info.b64,
        jsonp: info.jsonp,
    };
    let method = req.method().clone();
    match (info.transport, info.sid.clone(), method) {
        (TransportKind::Polling, None, Method::GET) => {
            let hs = handshake(info, &req, remote);
            polling::handshake(ctx, hs, fmt).await
        }
        (TransportKind::Polling, None, _) => Err(Error::BadHandshakeMethod),
        (TransportKind::Polling, Some(sid), Method::GET) => polling::get(ctx, &sid, fmt).await,
        (TransportKind::Polling, Some(sid), Method::POST) => {
            polling::post(ctx, &sid, fmt, req).await
        }
        (TransportKind::WebSocket, None, Method::GET) => {
            let hs = handshake(info, &req, remote);
            websocket::handshake(ctx, hs, req).await
        }
        (TransportKind::WebSocket, None, _) => Err(Error::BadHandshakeMethod),
        (TransportKind::WebSocket, Some(sid), Method::GET) => {
            websocket::upgrade(ctx, &sid, req).await
        }
        _ => Err(Error::BadRequest),
    }
}

fn handshake<T>(info: RequestInfo, req: &http::Request<T>, remote: SocketAddr) -> Handshake {
    Handshake {
        sid: engine_sid(),
        eio: info.eio,
        transport: info.transport,
        query: info.query,
        headers: detach_headers(req.headers()),
        remote,
        secure: req.extensions().get::<super::Secure>().is_some(),
    }
}

fn not_found() -> Response {
    let mut resp = http::Response::new(Body::default());
    *resp.status_mut() = StatusCode::NOT_FOUND;
    resp
}

/// Copies the header values out of hyper's read buffer. `HeaderMap::clone`
/// would share the values' `Bytes` with the 8 KiB buffer they were parsed
/// from and keep it alive as long as the session (measured: ~4.7 KiB RSS per
/// idle WebSocket session, see BENCHMARKS.md).
fn detach_headers(headers: &http::HeaderMap) -> http::HeaderMap {
    let mut out = http::HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let mut copy = http::HeaderValue::from_bytes(value.as_bytes())
            .expect("a header value that parsed once is still valid");
        copy.set_sensitive(value.is_sensitive());
        out.append(name.clone(), copy);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_path_matches_with_or_without_slash() {
        assert!(is_engine_path("/socket.io/", "/socket.io/"));
        assert!(is_engine_path("/socket.io/", "/socket.io"));
        assert!(!is_engine_path("/socket.io/", "/api/v1/push"));
        assert!(!is_engine_path("/socket.io/", "/socket.io/x"));
    }
}
