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
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_util::sync::CancellationToken;

use super::dial::{DialOptions, Target, UpstreamWs, dial};
use super::handshake::HeaderBlock;
use super::stats::LegTraffic;
use super::{LegError, outbox};
use crate::metrics::Direction;
use crate::protocol::engineio::{OpenPacket, Packet, Revision, WsFrame};

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
        headers: &HeaderBlock,
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
    /// goes to `on_packet` (in order); every packet queued on `rx` is
    /// written. `cancel` (or the queue's sender going away) ends the leg
    /// with a goodbye. Every message read or written counts in `traffic`
    /// (the upstream's counters, resolved once by the caller; `None` for a
    /// health check).
    ///
    /// One hand-written poll loop (`Relay::poll_turn`) rather than a
    /// `select!` over async reads and writes: the leg's task lives as long
    /// as the session, and the loop's state is only what it needs (the
    /// select version, with a send future per branch, made the task ~2.8 KiB;
    /// BENCHMARKS.md). It also writes everything queued, then flushes once.
    ///
    /// Not an `async fn`: its parameters would be kept twice in the
    /// future's state (rustc stores them, then moves them into locals),
    /// 384 bytes more per leg for the `Leg` alone; the block below uses the
    /// captured values in place.
    pub fn run(
        mut self,
        rx: outbox::Receiver,
        cancel: CancellationToken,
        traffic: Option<&LegTraffic>,
        mut on_packet: impl FnMut(Packet),
    ) -> impl Future<Output = LegEnd> {
        let interval = Duration::from_millis(self.open.ping_interval).max(MIN_PING_INTERVAL);
        let grace = interval + Duration::from_millis(self.open.ping_timeout);
        let now = Instant::now();
        let mut relay = Relay {
            rx,
            traffic,
            out: VecDeque::new(),
            unflushed: false,
            write_blocked: false,
            interval,
            grace,
            last_rx: now,
            next_ping: now + interval,
        };
        async move {
            // One timer, re-armed only when it fires (not per frame): at the
            // next ping (EIO3) or at the earliest moment the upstream could
            // be dead.
            let timer = tokio::time::sleep_until(relay.wake(self.rev));
            tokio::pin!(timer);
            // One cancellation future for the whole run (a new one per turn
            // costs a waiter registration per message).
            let cancelled = cancel.cancelled();
            tokio::pin!(cancelled);
            let turn = std::future::poll_fn(|cx| {
                if cancelled.as_mut().poll(cx).is_ready() {
                    // A write stuck on a full socket would only delay the end.
                    return Poll::Ready(if relay.write_blocked {
                        Turn::End(LegEnd::Closed)
                    } else {
                        Turn::Goodbye
                    });
                }
                relay.poll_turn(cx, &mut self, timer.as_mut(), &mut on_packet)
            })
            .await;
            match turn {
                Turn::Goodbye => Box::pin(self.goodbye()).await,
                Turn::End(end) => end,
            }
        }
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

/// How [`Leg::run`] stops.
enum Turn {
    /// Say goodbye first (cancelled, or the session dropped its sender).
    Goodbye,
    End(LegEnd),
}

/// Most upstream frames handled in one turn before yielding (the socket's
/// own cooperative budget bounds it as well).
const FRAMES_PER_TURN: usize = 64;

const WRITE_FAILED: LegEnd = LegEnd::Failed("upstream write failed");

/// The state of a running leg besides its socket and timers.
struct Relay<'t> {
    rx: outbox::Receiver,
    traffic: Option<&'t LegTraffic>,
    /// Packets taken from the queue (and our pongs/pings), not yet written.
    out: VecDeque<Packet>,
    unflushed: bool,
    /// The socket refused a write; it wakes us when it has room.
    write_blocked: bool,
    interval: Duration,
    grace: Duration,
    last_rx: Instant,
    next_ping: Instant,
}

impl Relay<'_> {
    /// When the heartbeat timer must fire next.
    fn wake(&self, rev: Revision) -> Instant {
        let dead_at = self.last_rx + self.grace;
        match rev {
            Revision::V3 => self.next_ping.min(dead_at),
            Revision::V4 => dead_at,
        }
    }

    /// Reads what the upstream sent, runs the heartbeat, takes what the
    /// session queued, then writes and flushes; `Pending` once every source
    /// has registered for a wake-up.
    fn poll_turn(
        &mut self,
        cx: &mut std::task::Context<'_>,
        leg: &mut Leg,
        mut timer: Pin<&mut tokio::time::Sleep>,
        on_packet: &mut impl FnMut(Packet),
    ) -> Poll<Turn> {
        let mut frames = 0;
        while let Poll::Ready(frame) = leg.ws.poll_next_unpin(cx) {
            self.last_rx = Instant::now();
            if let Some(end) = self.on_frame(leg.rev, frame, on_packet) {
                return Poll::Ready(Turn::End(end));
            }
            frames += 1;
            if frames == FRAMES_PER_TURN {
                cx.waker().wake_by_ref();
                break;
            }
        }
        if timer.as_mut().poll(cx).is_ready() {
            let now = Instant::now();
            if now >= self.last_rx + self.grace {
                return Poll::Ready(Turn::End(LegEnd::Failed("upstream heartbeat timeout")));
            }
            if leg.rev == Revision::V3 && now >= self.next_ping {
                self.next_ping = now + self.interval;
                self.out.push_back(Packet::Ping(Bytes::new()));
            }
            timer.as_mut().reset(self.wake(leg.rev));
            // Registers the re-armed timer.
            let _ = timer.as_mut().poll(cx);
        }
        loop {
            // Take from the session only once the last batch is written:
            // while the socket is full the queue fills up and its bound
            // applies.
            if self.out.is_empty() && !self.unflushed {
                match self.rx.poll_take(cx, &mut self.out) {
                    Poll::Ready(true) => {}
                    Poll::Ready(false) => return Poll::Ready(Turn::Goodbye),
                    Poll::Pending => return Poll::Pending,
                }
            }
            match self.poll_write(cx, leg) {
                Err(end) => return Poll::Ready(Turn::End(end)),
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(())) => {}
            }
        }
    }

    /// One upstream frame (or the end of the stream); `Some` ends the leg.
    fn on_frame(
        &mut self,
        rev: Revision,
        frame: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
        on_packet: &mut impl FnMut(Packet),
    ) -> Option<LegEnd> {
        let packet = match frame {
            Some(Ok(Message::Text(t))) => Packet::decode_text(rev, Bytes::from(t)),
            Some(Ok(Message::Binary(b))) => Packet::decode_binary(rev, b),
            Some(Ok(Message::Close(_))) => return Some(LegEnd::UpstreamClosed),
            Some(Ok(_)) => return None,
            Some(Err(_)) => return Some(LegEnd::Failed("upstream read failed")),
            None => return Some(LegEnd::Failed("upstream closed the connection")),
        };
        match packet {
            Ok(p @ (Packet::Message(_) | Packet::Binary(_))) => {
                if let Some(t) = self.traffic {
                    t.record(Direction::In, &p);
                }
                on_packet(p);
            }
            // go appends `\n` to its frames; answer with the bare probe data.
            Ok(Packet::Ping(data)) => self.out.push_back(Packet::Pong(trim(data))),
            Ok(Packet::Close) => return Some(LegEnd::UpstreamClosed),
            Ok(Packet::Pong(_) | Packet::Open(_) | Packet::Upgrade | Packet::Noop) => {}
            Err(e) => tracing::debug!(error = %e, "undecodable upstream packet dropped"),
        }
        None
    }

    /// Writes what is in `out` as far as the socket takes it, then flushes:
    /// `Ready` once all of it went out, `Pending` while the socket is full
    /// (it wakes the task when it has room).
    fn poll_write(
        &mut self,
        cx: &mut std::task::Context<'_>,
        leg: &mut Leg,
    ) -> Result<Poll<()>, LegEnd> {
        self.write_blocked = true;
        while !self.out.is_empty() {
            match leg.ws.poll_ready_unpin(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(_)) => return Err(WRITE_FAILED),
                Poll::Pending => return Ok(Poll::Pending),
            }
            let Some(packet) = self.out.pop_front() else {
                break;
            };
            if let Some(t) = self.traffic {
                t.record(Direction::Out, &packet);
            }
            if let Some(msg) = to_message(packet.to_ws(leg.rev)) {
                leg.ws.start_send_unpin(msg).map_err(|_| WRITE_FAILED)?;
                self.unflushed = true;
            }
        }
        if self.unflushed {
            match leg.ws.poll_flush_unpin(cx) {
                Poll::Ready(Ok(())) => self.unflushed = false,
                Poll::Ready(Err(_)) => return Err(WRITE_FAILED),
                Poll::Pending => return Ok(Poll::Pending),
            }
        }
        self.write_blocked = false;
        // Freed once written: an idle leg holds no buffer (`Packet` is large
        // enough that a few kept slots would cost more than the allocation).
        if self.out.capacity() > 0 {
            self.out = VecDeque::new();
        }
        Ok(Poll::Ready(()))
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
