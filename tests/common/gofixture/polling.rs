//! EIO3 long-polling as the Go servers do it (PROTOCOL.md §1.6): GET bodies use
//! XHR2 binary framing (`00 <len digits> ff <packet>`) unless `b64=1`, text
//! framing `<len>:<packet>` otherwise, lengths in **UTF-8 bytes** both ways.
//! v1.0.1 answers a GET with everything queued once its one-slot send token is
//! set — which can be an empty 200 body — and sets cookie `io=<sid>`;
//! v1.4.3/v1.7.0 hand over one packet per GET, and when a connection is killed
//! the pending GET gets `500 EOF`, later requests `400 invalid sid`. POST
//! decoding is lenient like go's: it stops at the first framing error and
//! still answers `ok`.

use super::GoVersion;
use super::engine::{self, Inbound, Out, Session, Shared, Transport};
use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use std::sync::Arc;
use std::sync::atomic::Ordering;

pub(crate) type Resp = Response<Full<Bytes>>;

/// XHR2 binary framing of text packets.
pub(crate) fn encode_xhr2(packets: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in packets {
        out.push(0x00);
        out.extend(p.len().to_string().bytes().map(|d| d - b'0'));
        out.push(0xff);
        out.extend_from_slice(p.as_bytes());
    }
    out
}

/// Text framing with go's byte lengths.
pub(crate) fn encode_text(packets: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in packets {
        out.extend_from_slice(format!("{}:", p.len()).as_bytes());
        out.extend_from_slice(p.as_bytes());
    }
    out
}

/// Decodes a POST body (either framing). Text packets only; binary ones are
/// dropped (the app has no binary handlers). Stops at the first framing error.
pub(crate) fn decode_payload(body: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let binary_framing = rest[0] <= 1;
        let (is_text, len, after) = if binary_framing {
            let Some(ff) = rest.iter().position(|&b| b == 0xff) else {
                break;
            };
            let digits = &rest[1..ff];
            if digits.is_empty() || digits.iter().any(|&d| d > 9) {
                break;
            }
            let len = digits.iter().fold(0usize, |n, &d| {
                n.saturating_mul(10).saturating_add(d as usize)
            });
            (rest[0] == 0, len, &rest[ff + 1..])
        } else {
            let Some(colon) = rest.iter().position(|&b| b == b':') else {
                break;
            };
            let Some(len) = std::str::from_utf8(&rest[..colon])
                .ok()
                .and_then(|s| s.parse().ok())
            else {
                break;
            };
            let after = &rest[colon + 1..];
            (!after.starts_with(b"b"), len, after)
        };
        // go reads up to `len` bytes, whatever is there.
        let take = len.min(after.len());
        if is_text {
            out.push(String::from_utf8_lossy(&after[..take]).into_owned());
        }
        rest = &after[take..];
    }
    out
}

fn builder(shared: &Shared, sid: Option<&str>) -> http::response::Builder {
    let mut b = Response::builder();
    match (shared.version, sid) {
        (GoVersion::V1_0_1, Some(sid)) => b = b.header("Set-Cookie", format!("io={sid}")),
        (GoVersion::V1_7_0, _) => b = b.header("Access-Control-Allow-Origin", "*"),
        _ => {}
    }
    b
}

fn finish(b: http::response::Builder, body: Vec<u8>) -> Resp {
    b.body(Full::new(Bytes::from(body)))
        .expect("static headers are valid")
}

/// Go's `http.Error`.
pub(crate) fn http_error(status: StatusCode, msg: &str) -> Resp {
    finish(
        Response::builder()
            .status(status)
            .header("Content-Type", "text/plain; charset=utf-8")
            .header("X-Content-Type-Options", "nosniff"),
        format!("{msg}\n").into_bytes(),
    )
}

fn packets_response(shared: &Shared, session: &Session, packets: &[String]) -> Resp {
    let (ct, body) = if session.b64 {
        ("text/plain; charset=UTF-8", encode_text(packets))
    } else {
        ("application/octet-stream", encode_xhr2(packets))
    };
    finish(
        builder(shared, Some(&session.sid)).header("Content-Type", ct),
        body,
    )
}

/// First GET without `sid`: creates the session, answers the open packet.
pub(crate) fn handshake(shared: &Arc<Shared>, url_query: &str, b64: bool) -> Resp {
    let session = engine::open_session(shared, url_query, b64, false);
    let open = engine::open_packet(shared, &session.sid, false);
    packets_response(shared, &session, &[open])
}

/// Clears `get_pending` when the GET ends, however it ends.
struct PendingGet<'a>(&'a Session);

impl Drop for PendingGet<'_> {
    fn drop(&mut self) {
        self.0.get_pending.store(false, Ordering::Release);
    }
}

/// Long-poll GET on an existing session.
pub(crate) async fn get(shared: &Arc<Shared>, session: Arc<Session>) -> Resp {
    if session.transport() == Transport::WebSocket {
        return http_error(StatusCode::BAD_REQUEST, "invalid sid");
    }
    if session.get_pending.swap(true, Ordering::AcqRel) {
        return http_error(StatusCode::BAD_REQUEST, "overlay get");
    }
    let _pending = PendingGet(&session);
    let legacy = shared.version == GoVersion::V1_0_1;
    // `Some(true)`: packets are due; `Some(false)`: upgrading, answer a noop.
    let woke = session
        .wait_out(|v| {
            if v.transport != Transport::Polling {
                Some(false)
            } else if legacy {
                std::mem::take(v.token).then_some(true)
            } else {
                (!v.queue.is_empty()).then_some(true)
            }
        })
        .await;
    let packets: Vec<String> = match woke {
        None => return http_error(StatusCode::INTERNAL_SERVER_ERROR, "EOF"),
        Some(false) => vec!["6".into()],
        Some(true) if legacy => {
            // go-engine.io encodes after taking the token: packets written in
            // between ride along and leave the token set for the next GET.
            tokio::task::yield_now().await;
            session
                .drain()
                .into_iter()
                .filter_map(packet_text)
                .collect()
        }
        Some(true) => match session.pop() {
            Some(Out::Packet(p)) => vec![p],
            _ => return http_error(StatusCode::INTERNAL_SERVER_ERROR, "EOF"),
        },
    };
    packets_response(shared, &session, &packets)
}

fn packet_text(out: Out) -> Option<String> {
    match out {
        Out::Packet(p) => Some(p),
        Out::Close => None,
    }
}

/// POST on an existing session: feeds the packets to the session task.
pub(crate) async fn post(shared: &Arc<Shared>, session: Arc<Session>, body: &[u8]) -> Resp {
    if session.transport() == Transport::WebSocket {
        return http_error(StatusCode::BAD_REQUEST, "invalid sid");
    }
    for p in decode_payload(body) {
        if session.inbox.send(Inbound::Packet(p)).await.is_err() {
            break;
        }
    }
    let ct = match shared.version {
        GoVersion::V1_0_1 => "text/html",
        _ => "text/plain; charset=utf-8",
    };
    finish(
        builder(shared, Some(&session.sid)).header("Content-Type", ct),
        b"ok".to_vec(),
    )
}
