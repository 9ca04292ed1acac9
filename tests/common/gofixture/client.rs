//! Raw clients for talking to the stand-in (or to anything in front of it):
//! a tokio-tungstenite WebSocket that reports text frames and how the
//! connection ended (close frame or bare TCP close, i.e. 1006), and a
//! one-request-per-connection hyper HTTP/1 client. Every wait is bounded.

use super::transcript::HttpReply;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type WsClient = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Upper bound for any single wait in these helpers.
pub const WAIT: Duration = Duration::from_secs(5);

/// What the next read from a WebSocket produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Got {
    Text(String),
    /// The connection ended; `close_frame` says whether a close frame came
    /// first (`false` = what browsers report as 1006).
    Closed {
        close_frame: bool,
    },
    /// Nothing arrived within the wait.
    Silent,
}

pub async fn ws_connect(url: &str) -> WsClient {
    let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
        .await
        .unwrap_or_else(|_| panic!("connect {url}: timed out"))
        .unwrap_or_else(|e| panic!("connect {url}: {e}"));
    ws
}

pub async fn ws_send(ws: &mut WsClient, text: &str) {
    tokio::time::timeout(WAIT, ws.send(Message::text(text.to_owned())))
        .await
        .expect("send timed out")
        .expect("send failed");
}

/// Next text frame or end of connection, waiting at most `wait`.
pub async fn next_frame(ws: &mut WsClient, wait: Duration) -> Got {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return Got::Silent,
            Ok(Some(Ok(Message::Text(t)))) => return Got::Text(t.as_str().to_owned()),
            Ok(Some(Ok(Message::Close(_)))) => return Got::Closed { close_frame: true },
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(_)) | None) => return Got::Closed { close_frame: false },
        }
    }
}

/// The next text frame; panics on anything else.
pub async fn expect_text(ws: &mut WsClient) -> String {
    match next_frame(ws, WAIT).await {
        Got::Text(t) => t,
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// One HTTP/1.1 request on a fresh connection.
pub async fn http(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> HttpReply {
    let exchange = async {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("http handshake");
        tokio::spawn(conn);
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("Host", addr.to_string())
            .header("Content-Type", "text/plain;charset=UTF-8")
            .body(Full::new(Bytes::copy_from_slice(body)))
            .expect("valid request");
        let resp = sender.send_request(req).await.expect("send request");
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = resp
            .into_body()
            .collect()
            .await
            .expect("read body")
            .to_bytes()
            .to_vec();
        HttpReply {
            status,
            content_type,
            body,
        }
    };
    tokio::time::timeout(WAIT, exchange)
        .await
        .unwrap_or_else(|_| panic!("{method} {path}: timed out"))
}
