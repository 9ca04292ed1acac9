//! HTTP long-polling for one session (PROTOCOL.md §1.6, §1.7): the
//! handshake GET, data GETs (one pending per session, batching everything
//! queued), POSTs (size-limited, decoded, fed to the backend in order),
//! `b64`, JSONP (`j`), and the per-session driver task that runs the
//! heartbeat while the session is on polling.
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http_body_util::{BodyExt, Limited};
use tracing::Instrument;

use super::{Body, Conn, Context, Error, Response, lookup};
use crate::engine::{Batch, Session, TransportState};
use crate::metrics::{self, Direction};
use crate::protocol::engineio::{LengthRule, Packet, PayloadEncoding, Revision, payload};
use crate::server::backend::{Backend, CloseReason, Handshake};

/// How long a closed polling session waits for the client's next GET to
/// tell it goodbye (`1`) before it is forgotten (then `Session ID unknown`).
/// During shutdown, [`crate::server::drain::GOODBYE_WINDOW`] instead.
const GOODBYE_LINGER: Duration = Duration::from_secs(5);

/// Response format options of a polling request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollFormat {
    /// EIO3 `b64=1`: text framing even for binary packets.
    pub b64: bool,
    /// JSONP callback index `j`.
    pub jsonp: Option<u32>,
}

/// The handshake GET: opens a session, answers with the open packet plus
/// whatever the backend queued during `open` (socket.io 2.x's
/// `97:0{…}2:40`), and starts the session's driver.
pub async fn handshake<B: Backend>(
    ctx: &Arc<Context<B>>,
    hs: Handshake,
    fmt: PollFormat,
) -> Result<Response, Error> {
    let rev = hs.eio;
    let open = ctx.open_packet(&hs.sid, rev, hs.transport);
    let conn = super::open_session(ctx, hs).await?;
    let mut packets = vec![open];
    match conn.session.take_batch() {
        Some(Batch::Packets(queued)) => packets.extend(queued),
        Some(Batch::Closed(Some(rest))) => packets.extend(rest),
        _ => {}
    }
    spawn_driver(ctx, conn);
    Ok(encode_response(rev, fmt, &packets))
}

/// A data GET: waits until something is queued, then sends it all.
pub async fn get<B: Backend>(
    ctx: &Arc<Context<B>>,
    sid: &str,
    fmt: PollFormat,
) -> Result<Response, Error> {
    let conn = lookup(ctx, sid)?;
    let session = &conn.session;
    if session.transport() == TransportState::WebSocket && !session.is_closed() {
        return Err(Error::BadRequest);
    }
    let Some(_busy) = session.begin_request(true) else {
        tracing::debug!(sid = %session.sid(), "overlapping GET");
        if session.revision() == Revision::V4 {
            session.close(CloseReason::ProtocolError("overlapping GET".into()));
        }
        return Err(Error::BadRequest);
    };
    let batch = loop {
        if let Some(batch) = session.take_batch() {
            break batch;
        }
        session.wait_poll_ready().await;
    };
    let packets = match batch {
        Batch::Packets(p) | Batch::Closed(Some(p)) => p,
        Batch::Upgraded => vec![Packet::Noop],
        Batch::Closed(None) => return Err(Error::SessionUnknown),
    };
    tracing::trace!(sid = %session.sid(), packets = packets.len(), "poll answered");
    Ok(encode_response(session.revision(), fmt, &packets))
}

/// A data POST: reads the body (413 above `max_payload_bytes`), decodes it
/// (a malformed body answers 400 and closes the session) and feeds every
/// packet to the session in order. Answers `ok`.
pub async fn post<B, ReqBody>(
    ctx: &Arc<Context<B>>,
    sid: &str,
    fmt: PollFormat,
    req: http::Request<ReqBody>,
) -> Result<Response, Error>
where
    B: Backend,
    ReqBody: hyper::body::Body<Data = Bytes>,
    ReqBody::Error: std::error::Error + Send + Sync + 'static,
{
    let conn = lookup(ctx, sid)?;
    let session = &conn.session;
    if session.is_closed() {
        return Err(Error::SessionUnknown);
    }
    if session.transport() == TransportState::WebSocket {
        return Err(Error::BadRequest);
    }
    let Some(_busy) = session.begin_request(false) else {
        tracing::debug!(sid = %session.sid(), "overlapping POST");
        if session.revision() == Revision::V4 {
            session.close(CloseReason::ProtocolError("overlapping POST".into()));
        }
        return Err(Error::BadRequest);
    };
    let rev = session.revision();
    let binary_body = rev == Revision::V3
        && fmt.jsonp.is_none()
        && req
            .headers()
            .get(CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/octet-stream"));
    let body = read_body(req, ctx.cfg.max_payload_bytes).await?;
    count_bytes(Direction::In, body.len());
    let body = match fmt.jsonp {
        // The `d=` form field, with engine.io's `\n` pre-escaping undone.
        Some(_) => payload::decode_jsonp_post(&body).map_err(|_| Error::BadRequest)?,
        None => body,
    };
    let packets = match payload::decode(
        rev,
        LengthRule::Utf16,
        binary_body,
        &body,
        // Caps the work one request can cause (`server.limits`).
        ctx.cfg.limits.max_packets_per_post,
    ) {
        Ok(p) => p,
        Err(e) => {
            tracing::debug!(sid = %session.sid(), error = %e, "malformed POST");
            session.close(CloseReason::ProtocolError(format!(
                "bad polling payload: {e}"
            )));
            return Err(Error::BadRequest);
        }
    };
    conn.deliver(ctx, packets).await;
    Ok(text_response("text/html", Bytes::from_static(b"ok")))
}

async fn read_body<ReqBody>(req: http::Request<ReqBody>, max: usize) -> Result<Bytes, Error>
where
    ReqBody: hyper::body::Body<Data = Bytes>,
    ReqBody::Error: std::error::Error + Send + Sync + 'static,
{
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(Error::PayloadTooLarge);
    }
    match Limited::new(req.into_body(), max).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(Error::PayloadTooLarge),
        // The client broke the request off; nobody reads the answer.
        Err(_) => Err(Error::BadRequest),
    }
}

/// Encodes a batch for the client: EIO4 `\x1e` text; EIO3 text framing
/// (UTF-16 lengths) when `b64`/JSONP is asked or no packet is binary, else
/// XHR2 binary framing; JSONP wraps the text in `___eio[j]("…");`.
pub fn encode_response(rev: Revision, fmt: PollFormat, packets: &[Packet]) -> Response {
    let enc = match rev {
        Revision::V4 => PayloadEncoding::V4,
        Revision::V3 => {
            let has_binary = packets.iter().any(|p| matches!(p, Packet::Binary(_)));
            if fmt.b64 || fmt.jsonp.is_some() || !has_binary {
                PayloadEncoding::V3Text(LengthRule::Utf16)
            } else {
                PayloadEncoding::V3Binary
            }
        }
    };
    let body = payload::encode(enc, packets);
    let m = metrics::global();
    for p in packets {
        m.packet(Direction::Out, p);
    }
    count_bytes(Direction::Out, body.len());
    match (fmt.jsonp, enc) {
        (Some(j), _) => text_response("text/javascript", payload::encode_jsonp(j, &body)),
        (None, PayloadEncoding::V3Binary) => response("application/octet-stream", body),
        (None, _) => text_response("text/plain", body),
    }
}

fn count_bytes(dir: Direction, n: usize) {
    metrics::global()
        .bytes
        .add((dir, metrics::Transport::Polling), n as u64);
}

fn text_response(mime: &'static str, body: Bytes) -> Response {
    let ct = match mime {
        "text/html" => "text/html; charset=UTF-8",
        "text/javascript" => "text/javascript; charset=UTF-8",
        _ => "text/plain; charset=UTF-8",
    };
    response(ct, body)
}

fn response(content_type: &'static str, body: Bytes) -> Response {
    let mut resp = http::Response::new(Body::new(body));
    resp.headers_mut()
        .insert(CONTENT_TYPE, http::HeaderValue::from_static(content_type));
    resp
}

/// Starts the task that owns a polling session: it runs the heartbeat,
/// exits quietly when the session moves to WebSocket (the WebSocket task
/// takes over), and otherwise ends the session when it closes.
pub fn spawn_driver<B: Backend>(ctx: &Arc<Context<B>>, conn: Arc<Conn<B>>) {
    let span = conn.span.clone();
    let task_ctx = ctx.clone();
    ctx.tracker.spawn(drive(task_ctx, conn).instrument(span));
}

async fn drive<B: Backend>(ctx: Arc<Context<B>>, conn: Arc<Conn<B>>) {
    let session: &Session = &conn.session;
    loop {
        tokio::select! {
            biased;
            _ = session.cancelled() => break,
            _ = session.wait_websocket() => return,
            _ = tokio::time::sleep_until(session.heartbeat_deadline()) => {
                if !session.heartbeat_tick() {
                    break;
                }
            }
        }
    }
    conn.finish(&ctx).await;
    if session.transport() != TransportState::WebSocket && wants_goodbye(session) {
        // During shutdown the listener stays open only this long.
        let linger = if ctx.is_shutting_down() {
            crate::server::drain::GOODBYE_WINDOW
        } else {
            GOODBYE_LINGER
        };
        let _ = tokio::time::timeout(linger, session.wait_goodbye()).await;
    }
    ctx.registry.remove(session.sid(), &conn);
}

/// A polling client should still be told `1`/`6` by its next GET.
fn wants_goodbye(session: &Session) -> bool {
    !session.goodbye_sent()
        && !matches!(
            session.close_reason(),
            Some(CloseReason::TransportError) | None
        )
}
