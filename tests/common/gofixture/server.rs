//! HTTP side of the stand-in: the accept loop (hyper http1 with upgrades),
//! routing `/socket.io/` to the polling handlers or a WebSocket upgrade and
//! `GET /push?msg=X[&nsp=/chat]` to the app's push (answered `pushed to N
//! sockets` on v1.0.1, `pushed to N namespace connections` on v1.4.3/v1.7.0),
//! and a query-string reader. Every connection watches the run's cancel token
//! so `stop()` drops them all at once, like a killed process.

use super::app;
use super::engine::{self, Inbound, Shared, Transport};
use super::log::LogEntry;
use super::polling::{self, Resp, http_error};
use super::{ConnGuard, GoVersion};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

/// Accepts until the run is cancelled; the listener is dropped on return.
pub(crate) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let stream = tokio::select! {
            _ = shared.cancel.cancelled() => return,
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // Out of fds or similar: back off briefly and carry on.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
            },
        };
        let guard = ConnGuard::new(&shared.stats);
        let shared = shared.clone();
        tokio::spawn(async move {
            let _guard = guard;
            let cancel = shared.cancel.clone();
            let svc = service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(route(shared, req).await) }
            });
            let conn = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .with_upgrades();
            tokio::select! {
                _ = conn => {}
                _ = cancel.cancelled() => {}
            }
        });
    }
}

/// Value of `key` in a URL query, `+` and `%XX` decoded.
pub(crate) fn param(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn text(status: StatusCode, body: String) -> Resp {
    Response::builder()
        .status(status)
        .header("Content-Type", "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(body)))
        .expect("static headers are valid")
}

async fn route(shared: Arc<Shared>, req: Request<Incoming>) -> Resp {
    let query = req.uri().query().unwrap_or("").to_owned();
    match req.uri().path() {
        "/socket.io/" | "/socket.io" => engine_io(shared, req, query).await,
        "/push" => {
            let msg = param(&query, "msg").unwrap_or_default();
            let nsp = param(&query, "nsp");
            let n = push(&shared, &msg, nsp).await;
            let what = match shared.version {
                GoVersion::V1_0_1 => "sockets",
                _ => "namespace connections",
            };
            text(StatusCode::OK, format!("pushed to {n} {what}"))
        }
        _ => text(StatusCode::NOT_FOUND, "404 page not found\n".into()),
    }
}

/// Emits `push` to every session; returns how many sockets or namespace
/// connections received it.
pub(crate) async fn push(shared: &Shared, msg: &str, nsp: Option<String>) -> usize {
    let n = shared.push_count.fetch_add(1, Ordering::Relaxed) + 1;
    let text = app::push_text(msg, n);
    let mut delivered = 0;
    for session in shared.all_sessions() {
        let (tx, rx) = oneshot::channel();
        let ask = Inbound::Push {
            text: text.clone(),
            nsp: nsp.clone(),
            reply: tx,
        };
        if session.inbox.send(ask).await.is_ok() {
            delivered += rx.await.unwrap_or(0);
        }
    }
    shared.log.push(LogEntry::Push { text, delivered });
    delivered
}

async fn engine_io(shared: Arc<Shared>, req: Request<Incoming>, query: String) -> Resp {
    let sid = param(&query, "sid");
    let b64 = param(&query, "b64").is_some_and(|v| v == "1" || v == "true");
    match param(&query, "transport").as_deref() {
        Some("websocket") => websocket_upgrade(shared, req, query, sid),
        Some("polling") => match (req.method().clone(), sid) {
            (Method::GET, None) => polling::handshake(&shared, &query, b64),
            (method, Some(sid)) => {
                let Some(session) = shared.session(&sid) else {
                    return http_error(StatusCode::BAD_REQUEST, "invalid sid");
                };
                match method {
                    Method::GET => polling::get(&shared, session).await,
                    Method::POST => match req.into_body().collect().await {
                        Ok(body) => polling::post(&shared, session, &body.to_bytes()).await,
                        Err(_) => http_error(StatusCode::BAD_REQUEST, "bad body"),
                    },
                    _ => http_error(StatusCode::BAD_REQUEST, "invalid method"),
                }
            }
            _ => http_error(StatusCode::BAD_REQUEST, "invalid sid"),
        },
        _ => http_error(StatusCode::BAD_REQUEST, "invalid transport"),
    }
}

fn websocket_upgrade(
    shared: Arc<Shared>,
    mut req: Request<Incoming>,
    query: String,
    sid: Option<String>,
) -> Resp {
    let Some(key) = req
        .headers()
        .get("sec-websocket-key")
        .map(|k| derive_accept_key(k.as_bytes()))
    else {
        return http_error(StatusCode::BAD_REQUEST, "Bad Request");
    };
    let existing = match sid {
        None => None,
        Some(sid) => match shared.session(&sid) {
            Some(s) if s.transport() == Transport::Polling => Some(s),
            _ => return http_error(StatusCode::BAD_REQUEST, "invalid sid"),
        },
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    let guard = ConnGuard::new(&shared.stats);
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        let upgrading = existing.is_some();
        let session = match existing {
            Some(s) => s,
            None => engine::open_session(&shared, &query, false, true),
        };
        super::websocket::serve(shared, ws, session, upgrading, guard).await;
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("Upgrade", "websocket")
        .header("Connection", "Upgrade")
        .header("Sec-WebSocket-Accept", key)
        .body(Full::new(Bytes::new()))
        .expect("static headers are valid")
}
