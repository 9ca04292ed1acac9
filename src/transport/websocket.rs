//! The WebSocket transport: one Engine.IO packet per message (PROTOCOL.md
//! §1.8), WebSocket-only handshakes (the open packet is the first frame),
//! the switch after a polling upgrade, and the per-session loop.
//!
//! Memory: one task per WebSocket session does everything (read, write,
//! heartbeat), so an idle session is one task plus tungstenite's state with
//! a 1 KiB read buffer ([`READ_BUFFER_BYTES`]) and no write buffering; the
//! backend's `on_message` future is boxed only while a message is being
//! delivered, so it does not grow the idle task. Measured (release,
//! `tests/ws_memory.rs`): about 6 KiB of RSS per idle session, the test
//! client's sockets included (4 KiB more with a 4 KiB read buffer).
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};
use tracing::Instrument;

use super::upgrade::{accept_response, probe};
use super::{Conn, Context, Error, Response, lookup, open_session};
use crate::config::ServerConfig;
use crate::engine::Session;
use crate::metrics::{self, Direction};
use crate::protocol::engineio::{Packet, Revision, WsFrame};
use crate::server::backend::{Backend, CloseReason, Handshake};

/// A server-side WebSocket over an upgraded hyper connection.
pub type WsStream = WebSocketStream<TokioIo<Upgraded>>;

/// tungstenite's read buffer per connection (its default is 128 KiB, which
/// would dominate the memory of idle sessions). It is also the largest
/// single read, so a big upload takes more reads; larger messages still
/// work, as the buffer grows to the frame being read. tungstenite
/// zero-fills it before reading, so all of it is resident in every idle
/// session: 1 KiB holds typical Socket.IO messages (≤ a few hundred bytes)
/// in one read and keeps an idle session under 8 KiB (BENCHMARKS.md).
pub const READ_BUFFER_BYTES: usize = 1024;

/// How long the final `1` and close frame may take to go out.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(2);

/// tungstenite settings: small buffers, eager writes, and messages limited to
/// `max_payload_bytes` (a bigger one ends the session with close 1009).
pub fn ws_config(cfg: &ServerConfig) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_message_size(Some(cfg.max_payload_bytes))
        .max_frame_size(Some(cfg.max_payload_bytes))
}

/// A handshake that starts on WebSocket: the backend's `open` runs before
/// the 101 (so a `Reject` is an HTTP error), then the open packet is the
/// first frame, followed by what the backend queued during `open`.
pub async fn handshake<B: Backend, T>(
    ctx: &Arc<Context<B>>,
    hs: Handshake,
    mut req: http::Request<T>,
) -> Result<Response, Error> {
    let resp = accept_response(&req)?;
    let open = ctx.open_packet(&hs.sid, hs.eio, hs.transport);
    let conn = open_session(ctx, hs).await?;
    let on_upgrade = hyper::upgrade::on(&mut req);
    let task_ctx = ctx.clone();
    let span = conn.span.clone();
    ctx.tracker.spawn(
        async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    let ws = wrap(&task_ctx.cfg, upgraded).await;
                    run(task_ctx, conn, ws, Some(open)).await;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "websocket upgrade failed");
                    conn.session.close(CloseReason::TransportError);
                    end(&task_ctx, &conn).await;
                }
            }
        }
        .instrument(span),
    );
    Ok(resp)
}

/// `transport=websocket&sid=…`: upgrade a polling session. The 101 goes out
/// at once; the probe then runs on the new socket.
pub async fn upgrade<B: Backend, T>(
    ctx: &Arc<Context<B>>,
    sid: &str,
    mut req: http::Request<T>,
) -> Result<Response, Error> {
    let resp = accept_response(&req)?;
    let conn = lookup(ctx, sid)?;
    if conn.session.is_closed() {
        return Err(Error::SessionUnknown);
    }
    if !conn.session.begin_upgrade() {
        return Err(Error::BadRequest);
    }
    let on_upgrade = hyper::upgrade::on(&mut req);
    let task_ctx = ctx.clone();
    let span = conn.span.clone();
    ctx.tracker.spawn(
        async move {
            let upgraded = match on_upgrade.await {
                Ok(u) => u,
                Err(e) => {
                    tracing::debug!(error = %e, "websocket upgrade failed");
                    conn.session.abort_upgrade();
                    return;
                }
            };
            let mut ws = wrap(&task_ctx.cfg, upgraded).await;
            let timeout = Duration::from_millis(task_ctx.cfg.upgrade_timeout_ms);
            match probe(&conn.session, &mut ws, timeout).await {
                Ok(()) => {
                    tracing::Span::current().record("transport", "websocket");
                    tracing::debug!("upgraded to websocket");
                    run(task_ctx, conn, ws, None).await;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "upgrade abandoned");
                    conn.session.abort_upgrade();
                    let _ = tokio::time::timeout(GOODBYE_TIMEOUT, ws.close(None)).await;
                }
            }
        }
        .instrument(span),
    );
    Ok(resp)
}

async fn wrap(cfg: &ServerConfig, upgraded: Upgraded) -> WsStream {
    WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(ws_config(cfg)))
        .await
}

/// A WebSocket frame for a packet (None only if the codec produced invalid
/// UTF-8 for a text frame, which it never should).
pub fn to_message(frame: WsFrame) -> Option<Message> {
    match frame {
        WsFrame::Text(b) => Utf8Bytes::try_from(b).ok().map(Message::Text),
        WsFrame::Binary(b) => Some(Message::Binary(b)),
    }
}

/// What one read from the socket means for the session.
enum Incoming {
    Packet(Packet),
    Skip,
    Closed,
    TooBig,
    Malformed,
    Failed,
}

fn classify(rev: Revision, msg: Option<Result<Message, WsError>>) -> Incoming {
    if let Some(Ok(Message::Text(_) | Message::Binary(_))) = &msg {
        count_bytes(Direction::In, msg_len(msg.as_ref()));
    }
    let decoded = match msg {
        Some(Ok(Message::Text(t))) => Packet::decode_text(rev, Bytes::from(t)),
        Some(Ok(Message::Binary(b))) => Packet::decode_binary(rev, b),
        Some(Ok(Message::Close(_))) | None => return Incoming::Closed,
        Some(Ok(_)) => return Incoming::Skip,
        Some(Err(WsError::Capacity(_))) => return Incoming::TooBig,
        Some(Err(_)) => return Incoming::Failed,
    };
    decoded.map_or(Incoming::Malformed, Incoming::Packet)
}

/// The session loop: reads client packets, writes queued packets, runs the
/// heartbeat, and ends the session (goodbye, `on_close`, unregister).
///
/// Not an `async fn`: rustc would keep its parameters twice in the
/// session task's state (stored, then moved into locals), the socket's
/// 328 bytes among them, for every WebSocket session; the block below uses
/// the captured values in place.
#[allow(
    clippy::manual_async_fn,
    reason = "an async fn stores its parameters twice"
)]
pub fn run<B: Backend>(
    ctx: Arc<Context<B>>,
    conn: Arc<Conn<B>>,
    mut ws: WsStream,
    first: Option<Packet>,
) -> impl std::future::Future<Output = ()> {
    async move {
        let session = conn.session.clone();
        let rev = session.revision();
        let mut close_code = None;
        let exit = 'run: {
            if let Some(open) = first
                && send(&mut ws, open, rev).await.is_err()
            {
                break 'run Some(CloseReason::TransportError);
            }
            // Created once, not per loop turn: a fresh cancellation future and
            // timer per message cost a waiter registration and a timer-wheel
            // insert/remove each (measured with callgrind). The timer is moved
            // only when the deadline changed.
            // The queue waiter likewise lives until it fires; it is registered
            // with the session's `Notify`, so no push in between is missed.
            let mut cancelled = pin!(session.cancelled());
            let mut queued = pin!(session.wait_queue());
            let timer = tokio::time::sleep_until(session.heartbeat_deadline());
            let mut timer = pin!(timer);
            loop {
                let deadline = session.heartbeat_deadline();
                if timer.deadline() != deadline {
                    timer.as_mut().reset(deadline);
                }
                tokio::select! {
                    biased;
                    _ = &mut cancelled => break None,
                    _ = &mut queued => {
                        queued.set(session.wait_queue());
                        tokio::select! {
                            biased;
                            _ = &mut cancelled => break None,
                            r = write_queued(&mut ws, &session) => if r.is_err() {
                                break Some(CloseReason::TransportError);
                            }
                        }
                    }
                    _ = &mut timer => {
                        session.heartbeat_tick();
                    }
                    msg = ws.next() => match classify(rev, msg) {
                        Incoming::Packet(p) => {
                            if deliver(&ctx, &conn, &mut ws, p).await.is_err() {
                                break Some(CloseReason::TransportError);
                            }
                        }
                        Incoming::Skip => {}
                        Incoming::Closed => break Some(CloseReason::ClientClose),
                        Incoming::TooBig => {
                            close_code = Some(CloseCode::Size);
                            break Some(CloseReason::ProtocolError("message too large".into()));
                        }
                        Incoming::Malformed => {
                            close_code = Some(CloseCode::Protocol);
                            break Some(CloseReason::ProtocolError("malformed packet".into()));
                        }
                        Incoming::Failed => break Some(CloseReason::TransportError),
                    },
                }
            }
        };
        if let Some(reason) = exit {
            session.close(reason);
        }
        // The backend hears of the close first; the goodbye below may take up
        // to GOODBYE_TIMEOUT on a client that stopped reading. Boxed: this runs
        // once, and inline its futures (the backend's `on_close`, the goodbye
        // writes and timeout) would be part of every idle session's task.
        Box::pin(async move {
            conn.finish(&ctx).await;
            goodbye(&mut ws, &session, close_code).await;
            ctx.registry.remove(session.sid(), &conn);
        })
        .await;
    }
}

/// Delivers one packet to the backend while still flushing the outbound
/// queue (a slow `on_message` must not stall writes to the client).
async fn deliver<B: Backend>(
    ctx: &Context<B>,
    conn: &Conn<B>,
    ws: &mut WsStream,
    p: Packet,
) -> Result<(), WsError> {
    let session = &conn.session;
    let mut delivery = Box::pin(conn.deliver(ctx, std::iter::once(p)));
    let mut failed = None;
    loop {
        tokio::select! {
            biased;
            _ = &mut delivery => break,
            r = async {
                session.wait_queue().await;
                if session.is_closed() {
                    std::future::pending::<()>().await;
                }
                write_queued(ws, session).await
            }, if failed.is_none() => if let Err(e) = r {
                failed = Some(e);
            },
        }
    }
    failed.map_or(Ok(()), Err)
}

/// Writes every queued packet, then flushes. Cancel-safe: a packet leaves
/// the queue only once the sink has room for it.
async fn write_queued(ws: &mut WsStream, session: &Session) -> Result<(), WsError> {
    let rev = session.revision();
    loop {
        std::future::poll_fn(|cx| ws.poll_ready_unpin(cx)).await?;
        let Some(packet) = session.pop() else { break };
        tracing::trace!("packet to client");
        metrics::global().packet(Direction::Out, &packet);
        if let Some(msg) = to_message(packet.to_ws(rev)) {
            count_bytes(Direction::Out, msg.len());
            ws.start_send_unpin(msg)?;
        }
    }
    ws.flush().await
}

async fn send(ws: &mut WsStream, packet: Packet, rev: Revision) -> Result<(), WsError> {
    metrics::global().packet(Direction::Out, &packet);
    match to_message(packet.to_ws(rev)) {
        Some(msg) => {
            count_bytes(Direction::Out, msg.len());
            ws.send(msg).await
        }
        None => Ok(()),
    }
}

fn msg_len(msg: Option<&Result<Message, WsError>>) -> usize {
    match msg {
        Some(Ok(m)) => m.len(),
        _ => 0,
    }
}

fn count_bytes(dir: Direction, n: usize) {
    metrics::global()
        .bytes
        .add((dir, metrics::Transport::WebSocket), n as u64);
}

/// Says goodbye on a closing socket: for server-side closes the rest of the
/// queue and `1`, then a close frame; bounded by [`GOODBYE_TIMEOUT`].
async fn goodbye(ws: &mut WsStream, session: &Session, close_code: Option<CloseCode>) {
    let reason = session.close_reason();
    if reason == Some(CloseReason::QueueFull) {
        // The client stopped reading: nothing more would get through.
        return;
    }
    let say_close = close_code.is_none()
        && matches!(
            reason,
            Some(
                CloseReason::Shutdown
                    | CloseReason::Backend(_)
                    | CloseReason::PingTimeout
                    | CloseReason::ProtocolError(_)
                    | CloseReason::Limit(_)
            )
        );
    let code = match (close_code, &reason) {
        (Some(code), _) => code,
        (None, Some(CloseReason::Shutdown)) => CloseCode::Away,
        (None, Some(CloseReason::Limit(_))) => CloseCode::Policy,
        _ => CloseCode::Normal,
    };
    let _ = tokio::time::timeout(GOODBYE_TIMEOUT, async {
        if say_close {
            write_queued(ws, session).await?;
            send(ws, Packet::Close, session.revision()).await?;
        }
        ws.close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::default(),
        }))
        .await
    })
    .await;
}

/// Ends the backend side and forgets the session.
async fn end<B: Backend>(ctx: &Context<B>, conn: &Arc<Conn<B>>) {
    conn.finish(ctx).await;
    ctx.registry.remove(conn.session.sid(), conn);
}
