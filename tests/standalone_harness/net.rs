//! Real-socket helpers: a standalone gateway served by the server core on
//! 127.0.0.1:0 (push API on the same listener), a raw WebSocket client and a
//! one-shot HTTP client. Every wait is bounded by [`STEP`].
#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use siogate::config::ServerConfig;
use siogate::server::Listeners;
use siogate::standalone::Standalone;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{WebSocketStream, client_async};

use super::API_TOKEN;

pub const STEP: Duration = Duration::from_secs(5);

pub async fn within<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(STEP, f).await.expect("step timed out")
}

/// A running gateway; shuts down when dropped.
pub struct Server {
    pub addr: SocketAddr,
    /// The HTTPS address, when serving TLS.
    pub tls_addr: Option<SocketAddr>,
    pub gw: Standalone,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl Server {
    pub async fn start(gw: Standalone) -> Server {
        Server::start_with(gw, ServerConfig::default()).await
    }

    pub async fn start_with(gw: Standalone, cfg: ServerConfig) -> Server {
        let listener =
            siogate::server::listener::bind("127.0.0.1:0".parse().unwrap(), 1024).unwrap();
        Server::start_on(gw, cfg, listener.into()).await
    }

    /// Serves on `listeners` (plain, TLS or both); `addr` is the plain
    /// address when there is one, else the TLS one.
    pub async fn start_on(gw: Standalone, cfg: ServerConfig, listeners: Listeners) -> Server {
        let tls_addr = listeners.tls_addr();
        let addr = listeners.plain_addr().or(tls_addr).expect("a listener");
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(siogate::server::serve(
            listeners,
            Arc::new(cfg),
            Arc::new(gw.backend()),
            Some(gw.routes()),
            async {
                let _ = rx.await;
            },
        ));
        Server {
            addr,
            tls_addr,
            gw,
            stop: Some(tx),
            handle: Some(handle),
        }
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            within(h).await.unwrap();
        }
    }

    /// A push API call over HTTP with the test token.
    pub async fn api(&self, method: &str, route: &str, body: &str) -> (u16, Value) {
        let auth = format!("Bearer {API_TOKEN}");
        let (status, body) = http(
            self.addr,
            method,
            &format!("/api/v1/{route}"),
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body,
        )
        .await;
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// One HTTP/1.1 request on a fresh connection (the shared client of
/// `tests/common/http_client.rs`), as (status, body).
pub async fn http(
    addr: SocketAddr,
    method: &str,
    pq: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Bytes) {
    let resp =
        crate::common::http_client::request(addr, method, pq, headers, body.to_string()).await;
    (resp.status, resp.body)
}

pub type Ws = WebSocketStream<TcpStream>;

/// A WebSocket-only Engine.IO session; returns it with its open packet.
pub async fn ws_connect(addr: SocketAddr, eio: u8, query: &str) -> (Ws, String) {
    let url = format!("ws://{addr}/socket.io/?EIO={eio}&transport=websocket&{query}");
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut ws, _) = within(client_async(url, stream)).await.unwrap();
    let open = ws_text(&mut ws).await;
    assert!(open.starts_with("0{"), "{open}");
    (ws, open)
}

/// The next data frame: text as is, binary as `bin[..]` in hex.
pub async fn ws_next(ws: &mut Ws) -> String {
    within(async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => return t.as_str().to_string(),
                Some(Ok(Message::Binary(b))) => {
                    let hex: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
                    return format!("bin[{}]", hex.join(" "));
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return "closed".into(),
                Some(Ok(_)) => {}
            }
        }
    })
    .await
}

/// The next text frame that is not an Engine.IO heartbeat.
pub async fn ws_text(ws: &mut Ws) -> String {
    loop {
        let m = ws_next(ws).await;
        if m != "2" && m != "3" {
            return m;
        }
    }
}

pub async fn ws_send(ws: &mut Ws, text: &str) {
    within(ws.send(Message::text(text.to_string())))
        .await
        .unwrap();
}

pub async fn ws_send_bin(ws: &mut Ws, data: &[u8]) {
    within(ws.send(Message::binary(data.to_vec())))
        .await
        .unwrap();
}

/// Reads until the server ends the connection; returns what came before.
pub async fn ws_until_closed(ws: &mut Ws) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let m = ws_next(ws).await;
        if m == "closed" {
            return seen;
        }
        seen.push(m);
    }
}

/// What the fake backend answers: status and body.
pub type Reply = Arc<dyn Fn(&Value) -> (u16, String) + Send + Sync>;

/// What the webhook receiver passes on: each request's body and its
/// `Authorization` header.
pub type HookRequests = mpsc::UnboundedReceiver<(Value, Option<String>)>;

/// A webhook receiver: returns its URL and the stream of request bodies.
pub async fn webhook_server(reply: Reply) -> (String, HookRequests) {
    hook_server(reply, None).await
}

/// The same over TLS (`https://localhost:<port>/hook`), with the server
/// configuration the test built (its certificate must cover `localhost`).
pub async fn webhook_server_tls(
    reply: Reply,
    tls: Arc<tokio_rustls::rustls::ServerConfig>,
) -> (String, HookRequests) {
    hook_server(reply, Some(tokio_rustls::TlsAcceptor::from(tls))).await
}

async fn hook_server(
    reply: Reply,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> (String, HookRequests) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let url = match tls {
        Some(_) => format!("https://localhost:{}/hook", addr.port()),
        None => format!("http://{addr}/hook"),
    };
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (tx, reply, tls) = (tx.clone(), reply.clone(), tls.clone());
            tokio::spawn(async move {
                match tls {
                    // A failed handshake (a client that refuses the
                    // certificate) just ends the connection.
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(stream).await {
                            serve_hook(stream, tx, reply).await;
                        }
                    }
                    None => serve_hook(stream, tx, reply).await,
                }
            });
        }
    });
    (url, rx)
}

/// Serves webhook calls on one connection.
async fn serve_hook<S>(stream: S, tx: mpsc::UnboundedSender<(Value, Option<String>)>, reply: Reply)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
        let tx = tx.clone();
        let reply = reply.clone();
        async move {
            let auth = req
                .headers()
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_string());
            let body = req.into_body().collect().await.unwrap().to_bytes();
            let body: Value = serde_json::from_slice(&body).unwrap();
            let (status, text) = reply(&body);
            let _ = tx.send((body, auth));
            if status == 0 {
                // Never answer (timeout test).
                std::future::pending::<()>().await;
            }
            let mut resp = http::Response::new(Full::new(Bytes::from(text)));
            *resp.status_mut() = http::StatusCode::from_u16(status).unwrap();
            Ok::<_, Infallible>(resp)
        }
    });
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), svc)
        .await;
}
