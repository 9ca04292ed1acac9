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

/// Source addresses for client connections: `count` loopback addresses
/// 127.0.0.2 .. 127.0.0.(1+count), each with the ports 1025..=65024, handed
/// out in turn and bound explicitly. The kernel's own choice (`count` 0:
/// 127.0.0.1, port picked by connect()) scans for a free port on every
/// connect, which grows quadratically costly past ~10k connections to one
/// server and caps out at the ~28k ephemeral ports.
#[derive(Debug)]
pub struct Sources {
    count: usize,
    next: AtomicUsize,
}

const FIRST_PORT: usize = 1025;
const PORTS_PER_IP: usize = 64_000;
/// Ports tried before giving up (some may be busy: TIME_WAIT, other tools).
const BIND_ATTEMPTS: usize = 1024;

impl Sources {
    /// Starts at a port that differs per process, so an invocation does
    /// not trip over the TIME_WAIT ports the previous one left behind.
    pub fn new(count: usize) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() as usize);
        let start = (nanos ^ std::process::id() as usize) % PORTS_PER_IP;
        Sources {
            count: count.min(250),
            next: AtomicUsize::new(start),
        }
    }

    fn pick(&self) -> Option<SocketAddr> {
        if self.count == 0 {
            return None;
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let ip = (n / PORTS_PER_IP) % self.count;
        let port = FIRST_PORT + n % PORTS_PER_IP;
        let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + ip as u8));
        Some(SocketAddr::new(ip, port as u16))
    }
}

/// A TCP connection to 127.0.0.1:`port` from the next source address.
pub async fn tcp(port: u16, sources: &Sources) -> Result<TcpStream> {
    let socket = bound_socket(sources)?;
    let stream = socket
        .connect(SocketAddr::from(([127, 0, 0, 1], port)))
        .await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

fn bound_socket(sources: &Sources) -> Result<TcpSocket> {
    let mut last = None;
    for _ in 0..BIND_ATTEMPTS {
        let socket = TcpSocket::new_v4()?;
        let Some(addr) = sources.pick() else {
            return Ok(socket);
        };
        match socket.bind(addr) {
            Ok(()) => return Ok(socket),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => last = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    Err(anyhow!(
        "no free source port after {BIND_ATTEMPTS} tries: {last:?}"
    ))
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
