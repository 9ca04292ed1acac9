//! A minimal Socket.IO v5 client over Engine.IO v4 long-polling: two
//! keep-alive HTTP connections per client, as a browser uses them — one
//! carries the pending GET, the other the POSTs (so a pong can go out while
//! a GET waits). At most one POST is in flight, as EIO4 requires.
use std::sync::Arc;

use anyhow::{Result, anyhow, bail};
use bytes::Bytes;
use http::Method;

use crate::client::Sources;
use crate::frame::{self, Eio, Sio};
use crate::http1::HttpConn;

/// One connected polling session on namespace "/".
pub struct PollClient {
    get: HttpConn,
    post: HttpConn,
    /// `/socket.io/?EIO=4&transport=polling&sid=...`
    path: String,
}

impl PollClient {
    /// Handshake, CONNECT "/", and the CONNECT reply.
    pub async fn connect(port: u16, sources: &Arc<Sources>) -> Result<Self> {
        let mut get = HttpConn::connect(port, sources).await?;
        let body = get
            .ok(
                Method::GET,
                "/socket.io/?EIO=4&transport=polling",
                None,
                Bytes::new(),
            )
            .await?;
        let text = std::str::from_utf8(&body)?;
        let sid = match frame::eio(text) {
            Eio::Open(json) => frame::open_sid(json).ok_or_else(|| anyhow!("no sid in {json}"))?,
            _ => bail!("expected OPEN, got {text:?}"),
        };
        let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
        let post = HttpConn::connect(port, sources).await?;
        let mut client = PollClient { get, post, path };
        client.post("40").await?;
        loop {
            let body = client.poll().await?;
            let mut connected = false;
            for packet in frame::split_payload(std::str::from_utf8(&body)?) {
                match client.handle(packet).await? {
                    Some(Sio::Connect(_)) => connected = true,
                    Some(Sio::ConnectError(e)) => bail!("CONNECT_ERROR {e}"),
                    _ => {}
                }
            }
            if connected {
                return Ok(client);
            }
        }
    }

    /// POSTs one packet (or a `\x1e`-joined payload).
    pub async fn post(&mut self, payload: impl Into<Bytes>) -> Result<()> {
        let body = self
            .post
            .ok(Method::POST, &self.path, None, payload.into())
            .await?;
        if &body[..] != b"ok" {
            bail!("POST answered {:?}", String::from_utf8_lossy(&body));
        }
        Ok(())
    }

    /// One long-poll GET: the raw payload.
    pub async fn poll(&mut self) -> Result<Bytes> {
        self.get
            .ok(Method::GET, &self.path, None, Bytes::new())
            .await
    }

    /// Answers a ping; returns the Socket.IO packet a message carries.
    /// A CLOSE or a DISCONNECT is an error: the session is over.
    pub async fn handle<'a>(&mut self, packet: &'a str) -> Result<Option<Sio<'a>>> {
        match frame::eio(packet) {
            Eio::Ping => {
                self.post("3").await?;
                Ok(None)
            }
            Eio::Close => bail!("server closed the session"),
            Eio::Message(m) => match frame::sio(m) {
                Sio::Disconnect => bail!("server disconnected the socket"),
                sio => Ok(Some(sio)),
            },
            _ => Ok(None),
        }
    }

    /// Emits `join` for `room` with an ack and polls until the ack.
    pub async fn join(&mut self, room: &str) -> Result<()> {
        self.post(frame::event(Some(0), "join", &format!("\"{room}\"")))
            .await?;
        loop {
            let body = self.poll().await?;
            for packet in frame::split_payload(std::str::from_utf8(&body)?) {
                if let Some(Sio::Ack { id: 0, data }) = self.handle(packet).await? {
                    if data.contains("error") {
                        bail!("join refused: {data}");
                    }
                    return Ok(());
                }
            }
        }
    }
}
