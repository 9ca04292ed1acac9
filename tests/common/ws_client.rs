//! WebSocket test client (tokio-tungstenite) for the server core.
#![allow(dead_code)]

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error, Message};
use tokio_tungstenite::{WebSocketStream, client_async};

use super::core_server::within;

pub type Ws = WebSocketStream<TcpStream>;

/// Opens `ws://addr/socket.io/?EIO=<eio>&transport=websocket<extra>` with
/// extra request headers; the error is returned for refusal tests.
pub async fn try_connect(
    addr: SocketAddr,
    eio: u8,
    extra: &str,
    headers: &[(&str, &str)],
) -> Result<Ws, Error> {
    let url = format!("ws://{addr}/socket.io/?EIO={eio}&transport=websocket{extra}");
    let mut req = url.into_client_request()?;
    for (k, v) in headers {
        req.headers_mut().insert(
            http::HeaderName::from_bytes(k.as_bytes()).expect("header name"),
            http::HeaderValue::from_str(v).expect("header value"),
        );
    }
    let stream = TcpStream::connect(addr).await.expect("connect");
    within(client_async(req, stream)).await.map(|(ws, _)| ws)
}

pub async fn connect(addr: SocketAddr, eio: u8, extra: &str) -> Ws {
    try_connect(addr, eio, extra, &[])
        .await
        .expect("websocket connect")
}

/// The next data message (pings/pongs skipped).
pub async fn next(ws: &mut Ws) -> Message {
    within(async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(m)) => return m,
                other => panic!("websocket ended: {other:?}"),
            }
        }
    })
    .await
}

/// The next text message.
pub async fn next_text(ws: &mut Ws) -> String {
    match next(ws).await {
        Message::Text(t) => t.as_str().to_owned(),
        other => panic!("expected text, got {other:?}"),
    }
}

/// Reads until the server closes; returns its close frame (None for a bare
/// TCP close). Data messages before the close are returned too.
pub async fn until_close(ws: &mut Ws) -> (Vec<Message>, Option<CloseFrame>) {
    within(async {
        let mut seen = Vec::new();
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return (seen, frame),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(m)) => seen.push(m),
                Some(Err(_)) | None => return (seen, None),
            }
        }
    })
    .await
}

pub async fn send_text(ws: &mut Ws, text: &str) {
    within(ws.send(Message::text(text)))
        .await
        .expect("send text");
}

pub async fn send_binary(ws: &mut Ws, data: &[u8]) {
    within(ws.send(Message::binary(data.to_vec())))
        .await
        .expect("send binary");
}

/// Sends `text` and expects it echoed back (the echo backend).
pub async fn round_trip(ws: &mut Ws, text: &str) {
    send_text(ws, text).await;
    assert_eq!(next_text(ws).await, text);
}

/// The `sid` of an open packet frame.
pub fn open_sid(text: &str) -> String {
    let json: serde_json::Value =
        serde_json::from_str(text.strip_prefix('0').expect("open packet")).expect("open JSON");
    json["sid"].as_str().expect("sid").to_owned()
}
