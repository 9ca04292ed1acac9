//! A tiny [`Backend`] for the server-core tests: echoes every message back,
//! records every call as an [`Event`], and obeys a few commands.
//!
//! Handshake query: `reject=1` refuses with 403/code 4; `greet=1` sends
//! `40` during `open` (socket.io 2.x's merged root CONNECT).
//! Messages: `close` → the backend closes the session; `flood:<n>:<bytes>`
//! → sends `n` messages of `bytes` bytes, yielding between them (to fill a
//! non-reading client's socket and then its queue); anything else is echoed.
#![allow(dead_code)]

use std::sync::Arc;

use bytes::Bytes;
use siogate::protocol::engineio::Packet;
use siogate::server::{Backend, ClientSink, CloseReason, Handshake, Reject};
use tokio::sync::mpsc;

/// One recorded backend call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Open {
        sid: String,
        query: Vec<(String, String)>,
    },
    Message {
        sid: String,
        packet: Packet,
    },
    Close {
        sid: String,
        reason: CloseReason,
    },
}

pub struct EchoBackend {
    events: mpsc::UnboundedSender<Event>,
}

impl EchoBackend {
    pub fn new() -> (EchoBackend, mpsc::UnboundedReceiver<Event>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (EchoBackend { events: tx }, rx)
    }
}

pub struct EchoSession {
    sink: Arc<dyn ClientSink>,
}

impl Backend for EchoBackend {
    type Session = EchoSession;

    async fn open(
        &self,
        hs: Arc<Handshake>,
        sink: Arc<dyn ClientSink>,
    ) -> Result<EchoSession, Reject> {
        if hs.query.get("reject").is_some() {
            return Err(Reject {
                status: 403,
                code: 4,
                message: "Forbidden".into(),
            });
        }
        let _ = self.events.send(Event::Open {
            sid: hs.sid.clone(),
            query: hs.query.0.clone(),
        });
        if hs.query.get("greet").is_some() {
            let _ = sink.send(Packet::Message(Bytes::from_static(b"0")));
        }
        Ok(EchoSession { sink })
    }

    async fn on_message(&self, s: &mut EchoSession, packet: Packet) -> Result<(), CloseReason> {
        let _ = self.events.send(Event::Message {
            sid: s.sink.sid().to_owned(),
            packet: packet.clone(),
        });
        if let Packet::Message(text) = &packet {
            if &text[..] == b"close" {
                return Err(CloseReason::Backend("asked to close".into()));
            }
            if let Some(cmd) = text.strip_prefix(b"flood:") {
                return flood(s, cmd).await;
            }
        }
        s.sink.send(packet).map_err(|_| CloseReason::QueueFull)
    }

    async fn on_close(&self, s: EchoSession, reason: CloseReason) {
        let _ = self.events.send(Event::Close {
            sid: s.sink.sid().to_owned(),
            reason,
        });
    }
}

async fn flood(s: &EchoSession, cmd: &[u8]) -> Result<(), CloseReason> {
    let cmd = std::str::from_utf8(cmd).unwrap_or("");
    let (n, size) = cmd.split_once(':').unwrap_or(("0", "0"));
    let (n, size): (usize, usize) = (n.parse().unwrap_or(0), size.parse().unwrap_or(0));
    let body = Bytes::from(vec![b'x'; size]);
    for _ in 0..n {
        if s.sink.send(Packet::Message(body.clone())).is_err() {
            // The session is closed now; that is what the test waits for.
            return Ok(());
        }
        tokio::task::yield_now().await;
    }
    Ok(())
}
