//! The WebSocket transport of a stand-in session: one task per connection
//! that moves text frames into the session task and drains the outbox. A
//! killed session (v1.4.3 CONNECT with a query, an unknown namespace on
//! v1.7.0, a missed ping deadline, a stopped server) drops the stream without
//! a close frame, which a client sees as 1006. For a polling session being
//! upgraded it answers `2probe` with `3probe`, releases the pending GET with
//! a noop, and takes over the outbox on `5`. Binary frames other than EIO3
//! attachments (`04 …`) kill the connection, as go-engine.io v1.0.1 did on
//! `bin[61 62 63]`.

use super::engine::{Inbound, Out, Session, Shared, Transport};
use super::{ConnGuard, Stats};
use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

pub(crate) type Ws = WebSocketStream<TokioIo<Upgraded>>;

/// Counts open WebSockets for [`super::GoFixture::open_websockets`].
struct WsGuard(Arc<Stats>);

impl WsGuard {
    fn new(stats: &Arc<Stats>) -> Self {
        stats.open_ws.fetch_add(1, Ordering::AcqRel);
        WsGuard(stats.clone())
    }
}

impl Drop for WsGuard {
    fn drop(&mut self) {
        self.0.open_ws.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Everything queued so far (`None` once the session is killed).
async fn next_batch(session: &Session) -> Option<Vec<Out>> {
    session
        .wait_out(|v| {
            if v.queue.is_empty() {
                None
            } else {
                Some(v.queue.drain(..).collect())
            }
        })
        .await
}

/// Runs one WebSocket. `upgrading`: the session started on polling.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    mut ws: Ws,
    session: Arc<Session>,
    upgrading: bool,
    conn: ConnGuard,
) {
    let _conn = conn;
    let _ws_guard = WsGuard::new(&shared.stats);
    let mut draining = !upgrading;
    'conn: loop {
        tokio::select! {
            _ = session.kill.cancelled() => return,
            batch = next_batch(&session), if draining => {
                let Some(batch) = batch else { return };
                for out in batch {
                    match out {
                        Out::Packet(p) => {
                            if ws.send(Message::text(p)).await.is_err() {
                                break 'conn;
                            }
                        }
                        Out::Close => return,
                    }
                }
            }
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(t))) => {
                    let t = t.as_str();
                    if !draining && t == "2probe" {
                        if ws.send(Message::text("3probe")).await.is_err() {
                            break 'conn;
                        }
                        session.set_transport(Transport::Upgrading);
                    } else if !draining && t == "5" {
                        session.set_transport(Transport::WebSocket);
                        draining = true;
                    } else if session.inbox.send(Inbound::Packet(t.to_owned())).await.is_err() {
                        break 'conn;
                    }
                }
                Some(Ok(Message::Binary(b))) => {
                    if b.first() != Some(&0x04) {
                        session.kill.cancel();
                        return;
                    }
                }
                // Pings are answered by tungstenite; a close gets its reply
                // flushed by the next read, which then ends the stream.
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break 'conn,
            },
        }
    }
    if draining {
        let _ = session.inbox.send(Inbound::TransportClosed).await;
    } else {
        // The upgrade was abandoned: polling carries on.
        session.set_transport(Transport::Polling);
    }
}
