//! A minimal Socket.IO v5 client over Engine.IO v4 WebSocket
//! (tokio-tungstenite), written for holding tens of thousands of sessions
//! from one process: one task per client, no split stream, small buffers,
//! heartbeats answered inline while reading.
//!
//! TCP connections can originate from several loopback addresses
//! (127.0.0.2, 127.0.0.3, ...) so a run is not limited by the ephemeral
//! port range of one source address.
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Result, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use crate::frame::{self, Eio, Sio};

/// Round-robin source addresses 127.0.0.2 .. 127.0.0.(1+count); a count of
/// 0 lets the kernel pick (127.0.0.1).
#[derive(Debug)]
pub struct Sources {
    count: usize,
    next: AtomicUsize,
}

impl Sources {
    pub fn new(count: usize) -> Self {
        Sources {
            count: count.min(250),
            next: AtomicUsize::new(0),
        }
    }

    fn pick(&self) -> Option<IpAddr> {
        if self.count == 0 {
            return None;
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.count;
        Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + i as u8)))
    }
}

/// A TCP connection to 127.0.0.1:`port` from the next source address.
pub async fn tcp(port: u16, sources: &Sources) -> Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    if let Some(ip) = sources.pick() {
        socket.set_reuseaddr(true)?;
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    let stream = socket
        .connect(SocketAddr::from(([127, 0, 0, 1], port)))
        .await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// What [`WsClient::next`] hands back after heartbeats are taken care of.
#[derive(Debug)]
pub enum Incoming {
    /// An EVENT; `text` is the whole WS message (`42[...]`).
    Event(Utf8Bytes),
    Ack {
        id: u64,
        text: Utf8Bytes,
    },
    /// A packet the scenarios don't act on.
    Other,
}

/// One connected Socket.IO v5 session on namespace "/".
pub struct WsClient {
    ws: WebSocketStream<TcpStream>,
}

fn ws_config() -> WebSocketConfig {
    // The generator's own memory matters at 20k clients: tungstenite's
    // default 128 KiB read buffer per socket would be gigabytes.
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
}

impl WsClient {
    /// Opens the WebSocket, reads the OPEN packet, sends CONNECT for "/"
    /// and waits for the CONNECT reply.
    pub async fn connect(port: u16, sources: &Sources) -> Result<Self> {
        let stream = tcp(port, sources).await?;
        let url = format!("ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket");
        let (ws, _) =
            tokio_tungstenite::client_async_with_config(url, stream, Some(ws_config())).await?;
        let mut client = WsClient { ws };
        let open = client.next_text().await?;
        if !matches!(frame::eio(&open), Eio::Open(_)) {
            bail!("expected OPEN, got {open:?}");
        }
        client.send("40").await?;
        loop {
            let text = client.next_text().await?;
            match frame::eio(&text) {
                Eio::Ping => client.send("3").await?,
                Eio::Message(m) => match frame::sio(m) {
                    Sio::Connect(_) => return Ok(client),
                    Sio::ConnectError(e) => bail!("CONNECT_ERROR {e}"),
                    _ => {}
                },
                Eio::Close => bail!("closed during connect"),
                _ => {}
            }
        }
    }

    /// Sends one text message (an encoded EIO packet).
    pub async fn send(&mut self, text: impl Into<Utf8Bytes>) -> Result<()> {
        self.ws.send(Message::Text(text.into())).await?;
        Ok(())
    }

    /// Emits `join` for `room` with an ack and waits for the ack.
    pub async fn join(&mut self, room: &str) -> Result<()> {
        self.send(frame::event(Some(0), "join", &format!("\"{room}\"")))
            .await?;
        loop {
            if let Incoming::Ack { id: 0, text } = self.next().await? {
                if text.contains("error") {
                    bail!("join refused: {text}");
                }
                return Ok(());
            }
        }
    }

    /// The next EVENT or ACK (or other packet); pings are answered here.
    pub async fn next(&mut self) -> Result<Incoming> {
        loop {
            let text = self.next_text().await?;
            match frame::eio(&text) {
                Eio::Ping => self.send("3").await?,
                Eio::Close => bail!("server closed the session"),
                Eio::Message(m) => {
                    return Ok(match frame::sio(m) {
                        Sio::Event { .. } => Incoming::Event(text),
                        Sio::Ack { id, .. } => Incoming::Ack { id, text },
                        Sio::Disconnect => bail!("server disconnected the socket"),
                        _ => Incoming::Other,
                    });
                }
                _ => return Ok(Incoming::Other),
            }
        }
    }

    async fn next_text(&mut self) -> Result<Utf8Bytes> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(t))) => return Ok(t),
                Some(Ok(Message::Close(c))) => bail!("websocket closed: {c:?}"),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e.into()),
                None => return Err(anyhow!("websocket ended")),
            }
        }
    }

    /// Closes the WebSocket politely (ignoring errors: the server may be gone).
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}
