//! One upstream Engine.IO session over WebSocket ("leg"): [`Leg::connect`]
//! dials and reads the open packet; [`Leg::run`] then relays until either
//! side ends it. The leg keeps its own heartbeat, per revision (PROTOCOL.md
//! §1.5): EIO3 sends `2` every upstream `pingInterval` and expects traffic
//! within `pingInterval + pingTimeout`; EIO4 waits for the server's `2`.
//! Either way a server-sent `2` is answered with `3` (go-engine.io v1.0.1
//! pings its EIO3 clients too). Heartbeats never cross to the client.
//!
//! Framing quirks are absorbed here or in the codec: go's trailing `\n` after
//! the open JSON and after packets, and the EIO3 binary type byte (`0x04`),
//! added and stripped by [`Packet::to_ws`] / [`Packet::decode_binary`].
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::HeaderMap;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use super::LegError;
use super::dial::{DialOptions, Target, UpstreamWs, dial};
use crate::protocol::engineio::{OpenPacket, Packet, Revision, WsFrame};

/// What the session sends on a leg in one go: one Socket.IO message as
/// Engine.IO packets (the text, then its binary attachments).
pub type Outbound = Vec<Packet>;

/// Smallest heartbeat interval honoured (an upstream announcing 0 must not
/// make the leg spin).
const MIN_PING_INTERVAL: Duration = Duration::from_millis(50);

/// How long the goodbye (`1` + close frame) may take.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(1);

/// How a leg ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegEnd {
    /// We ended it (cancelled, or the session dropped its sender); the
    /// upstream was told `1`.
    Closed,
    /// The upstream sent `1` or a close frame.
    UpstreamClosed,
    /// The transport failed: a read or write error, end of stream without a
    /// close frame, or no heartbeat in time.
    Failed(&'static str),
}

/// An open upstream Engine.IO session.
pub struct Leg {
    ws: UpstreamWs,
    rev: Revision,
    open: OpenPacket,
}

impl std::fmt::Debug for Leg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leg")
            .field("rev", &self.rev)
            .field("open", &self.open)
            .finish_non_exhaustive()
    }
}

impl Leg {
    /// Dials `target` and waits for the open packet (within the handshake
    /// timeout). `query` is the encoded application query.
    pub async fn connect(
        target: &Target,
        rev: Revision,
        query: &str,
        headers: &HeaderMap,
        opts: &DialOptions,
    ) -> Result<Leg, LegError> {
        let mut ws = dial(target, rev, query, headers, opts).await?;
        let open = tokio::time::timeout(opts.handshake_timeout, read_open(&mut ws, rev))
            .await
            .map_err(|_| LegError::Timeout("upstream open packet"))??;
        Ok(Leg { ws, rev, open })
    }

    /// The upstream's open packet.
    pub fn open(&self) -> &OpenPacket {
        &self.open
    }

    /// Relays until the end: every `Message`/`Binary` packet from upstream
    /// goes to `on_packet` (in order); every [`Outbound`] from `rx` is
    /// written. `cancel` (or `rx` closing) ends the leg with a goodbye.
    pub async fn run(
        mut self,
        mut rx: mpsc::Receiver<Outbound>,
        cancel: CancellationToken,
        mut on_packet: impl FnMut(Packet),
    ) -> LegEnd {
        let interval = Duration::from_millis(self.open.ping_interval).max(MIN_PING_INTERVAL);
        let grace = interval + Duration::from_millis(self.open.ping_timeout);
        let mut last_rx = Instant::now();
        let mut next_ping = last_rx + interval;
        // One timer, re-armed only when it fires (not per frame): at the next
        // ping (EIO3) or at the earliest moment the upstream could be dead.
        let timer = tokio::time::sleep_until(self.wake(next_ping, last_rx + grace));
        tokio::pin!(timer);
        // One cancellation future for the whole run (a new one per turn
        // costs a waiter registration per message).
        let cancelled = cancel.cancelled();
        tokio::pin!(cancelled);
        loop {
            tokio::select! {
                biased;
                () = &mut cancelled => return Box::pin(self.goodbye()).await,
                out = rx.recv() => match out {
                    Some(packets) => {
                        if let Err(end) = self.send_all(packets, cancelled.as_mut()).await {
                            return end;
                        }
                    }
                    None => return Box::pin(self.goodbye()).await,
                },
                frame = self.ws.next() => {
                    last_rx = Instant::now();
                    let packet = match frame {
                        Some(Ok(Message::Text(t))) => Packet::decode_text(self.rev, Bytes::from(t)),
                        Some(Ok(Message::Binary(b))) => Packet::decode_binary(self.rev, b),
                        Some(Ok(Message::Close(_))) => return LegEnd::UpstreamClosed,
                        Some(Ok(_)) => continue,
                        Some(Err(_)) => return LegEnd::Failed("upstream read failed"),
                        None => return LegEnd::Failed("upstream closed the connection"),
                    };
                    match packet {
                        Ok(p) => {
                            if let Some(end) = self.on_upstream(p, &mut on_packet, cancelled.as_mut()).await {
                                return end;
                            }
                        }
                        Err(e) => tracing::debug!(error = %e, "undecodable upstream packet dropped"),
                    }
                }
                () = &mut timer => {
                    let now = Instant::now();
                    let dead_at = last_rx + grace;
                    if now >= dead_at {
                        return LegEnd::Failed("upstream heartbeat timeout");
                    }
                    if self.rev == Revision::V3 && now >= next_ping {
                        next_ping = now + interval;
                        if let Err(end) = self.send_all(vec![Packet::Ping(Bytes::new())], cancelled.as_mut()).await {
                            return end;
                        }
                    }
                    timer.as_mut().reset(self.wake(next_ping, dead_at));
                }
            }
        }
    }

    /// When the heartbeat timer must fire next.
    fn wake(&self, next_ping: Instant, dead_at: Instant) -> Instant {
        match self.rev {
            Revision::V3 => next_ping.min(dead_at),
            Revision::V4 => dead_at,
        }
    }

    /// One decoded packet from upstream; `Some` ends the leg.
    async fn on_upstream(
        &mut self,
        packet: Packet,
        on_packet: &mut impl FnMut(Packet),
        cancelled: Pin<&mut WaitForCancellationFuture<'_>>,
    ) -> Option<LegEnd> {
        match packet {
            Packet::Message(_) | Packet::Binary(_) => on_packet(packet),
            Packet::Ping(data) => {
                // go appends `\n` to its frames; answer with the bare probe data.
                let data = trim(data);
                self.send_all(vec![Packet::Pong(data)], cancelled)
                    .await
                    .err()?;
            }
            Packet::Close => return Some(LegEnd::UpstreamClosed),
            Packet::Pong(_) | Packet::Open(_) | Packet::Upgrade | Packet::Noop => {}
        }
        None
    }

    /// Writes packets in order; cancellation interrupts a blocked write.
    async fn send_all(
        &mut self,
        packets: Outbound,
        mut cancelled: Pin<&mut WaitForCancellationFuture<'_>>,
    ) -> Result<(), LegEnd> {
        for p in packets {
            let Some(msg) = to_message(p.to_ws(self.rev)) else {
                continue;
            };
            tokio::select! {
                () = &mut cancelled => return Err(LegEnd::Closed),
                r = self.ws.send(msg) => r.map_err(|_| LegEnd::Failed("upstream write failed"))?,
            }
        }
        Ok(())
    }

    /// Tells the upstream `1` and closes the socket (bounded). Callers box
    /// it: it runs once, and inline it (with its own copy of the leg) would
    /// take room in every open leg's task.
    async fn goodbye(mut self) -> LegEnd {
        let rev = self.rev;
        let _ = tokio::time::timeout(GOODBYE_TIMEOUT, async {
            if let Some(msg) = to_message(Packet::Close.to_ws(rev)) {
                self.ws.send(msg).await?;
            }
            self.ws.close(None).await
        })
        .await;
        LegEnd::Closed
    }
}

/// Reads frames until the first Engine.IO packet, which must be the open.
async fn read_open(ws: &mut UpstreamWs, rev: Revision) -> Result<OpenPacket, LegError> {
    loop {
        let packet = match ws.next().await {
            Some(Ok(Message::Text(t))) => Packet::decode_text(rev, Bytes::from(t)),
            Some(Ok(Message::Binary(b))) => Packet::decode_binary(rev, b),
            Some(Ok(Message::Close(_))) | None => return Err(LegError::BadOpen),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(LegError::WebSocket(e.to_string())),
        };
        return match packet {
            Ok(Packet::Open(open)) => Ok(open),
            _ => Err(LegError::BadOpen),
        };
    }
}

fn to_message(frame: WsFrame) -> Option<Message> {
    match frame {
        WsFrame::Text(b) => Utf8Bytes::try_from(b).ok().map(Message::Text),
        WsFrame::Binary(b) => Some(Message::Binary(b)),
    }
}

/// `data` without surrounding ASCII whitespace, as a slice (no copy).
fn trim(data: Bytes) -> Bytes {
    let start = data
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(data.len());
    let end = data
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    data.slice(start..end)
}

#[cfg(test)]
#[path = "leg_tests.rs"]
mod tests;
