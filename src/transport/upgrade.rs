//! Getting onto a WebSocket: the HTTP side (checking an upgrade request and
//! answering `101 Switching Protocols`) and the Engine.IO side, the
//! polling → WebSocket probe of PROTOCOL.md §1.9 (`2probe` → `3probe`, a noop
//! that releases the paused poll, then `5`).
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use http::header::{
    CONNECTION, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_VERSION,
    UPGRADE,
};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::websocket::{WsStream, to_message};
use super::{Body, Error, Response};
use crate::engine::Session;
use crate::metrics::{self, Direction};
use crate::protocol::engineio::Packet;

/// True when the request asks for a WebSocket (`Upgrade: websocket` and a
/// `Connection` header listing `upgrade`).
pub fn is_websocket_request<T>(req: &http::Request<T>) -> bool {
    let has_token = |name, token: &str| {
        req.headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    has_token(UPGRADE, "websocket") && has_token(CONNECTION, "upgrade")
}

/// The `101 Switching Protocols` answer to a valid RFC 6455 handshake
/// (version 13, a key); `BadRequest` otherwise.
pub fn accept_response<T>(req: &http::Request<T>) -> Result<Response, Error> {
    if req.method() != http::Method::GET || !is_websocket_request(req) {
        return Err(Error::BadRequest);
    }
    if req
        .headers()
        .get(SEC_WEBSOCKET_VERSION)
        .map(|v| v.as_bytes())
        != Some(b"13")
    {
        return Err(Error::BadRequest);
    }
    let key = req
        .headers()
        .get(SEC_WEBSOCKET_KEY)
        .ok_or(Error::BadRequest)?;
    let accept =
        HeaderValue::from_str(&derive_accept_key(key.as_bytes())).map_err(|_| Error::BadRequest)?;
    let mut resp = http::Response::new(Body::default());
    *resp.status_mut() = http::StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(SEC_WEBSOCKET_ACCEPT, accept);
    Ok(resp)
}

/// How often a poll is released while the client finishes its upgrade.
const RELEASE_POLL_EVERY: Duration = Duration::from_millis(100);

/// Why a probe did not end in a switch (the session stays on polling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    #[error("upgrade timed out")]
    Timeout,
    #[error("session closed during upgrade")]
    Closed,
    #[error("unexpected packet during upgrade")]
    Unexpected,
    #[error("websocket failed during upgrade")]
    Transport,
}

/// Runs the probe on a fresh WebSocket of a session that is `Upgrading`.
/// On success the session is on WebSocket and the caller runs the
/// WebSocket loop; on error the caller reverts the session to polling.
pub async fn probe(
    session: &Session,
    ws: &mut WsStream,
    timeout: Duration,
) -> Result<(), ProbeError> {
    let deadline = Instant::now() + timeout;
    let rev = session.revision();
    let mut probed = false;
    // After the probe, a client may have answered our noop with one more
    // GET before it saw `3probe` (the two arrive on different sockets); it
    // then waits for that GET before sending `5`. Like engine.io, keep
    // releasing polls every 100 ms until the upgrade completes.
    let mut release = tokio::time::interval(RELEASE_POLL_EVERY);
    release.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let msg = tokio::select! {
            biased;
            _ = session.cancelled() => return Err(ProbeError::Closed),
            _ = release.tick(), if probed => {
                session.push_noop();
                continue;
            }
            r = tokio::time::timeout_at(deadline, ws.next()) => r.map_err(|_| ProbeError::Timeout)?,
        };
        let packet = match msg {
            Some(Ok(Message::Text(text))) => {
                Packet::decode_text(rev, text.into()).map_err(|_| ProbeError::Unexpected)?
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(_)) => return Err(ProbeError::Unexpected),
            Some(Err(_)) | None => return Err(ProbeError::Transport),
        };
        metrics::global().packet(Direction::In, &packet);
        match packet {
            Packet::Ping(data) if !probed && &data[..] == b"probe" => {
                let pong = Packet::Pong(data);
                metrics::global().packet(Direction::Out, &pong);
                let Some(reply) = to_message(pong.to_ws(rev)) else {
                    return Err(ProbeError::Transport);
                };
                ws.send(reply).await.map_err(|_| ProbeError::Transport)?;
                // Release the client's paused GET so it can send `5`.
                session.push_noop();
                probed = true;
            }
            Packet::Upgrade if probed => {
                return if session.finish_upgrade() {
                    Ok(())
                } else {
                    Err(ProbeError::Closed)
                };
            }
            _ => return Err(ProbeError::Unexpected),
        }
    }
}
