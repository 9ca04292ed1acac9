//! What a cluster node does with the messages Redis hands it: broadcasts
//! from other nodes and from `@socket.io/redis-emitter` go to the matching
//! local sockets; requests (join, leave, disconnect, fetch, broadcast with
//! ack) are applied to local sockets and answered; answers go to the request
//! waiting for them. Runs on the Redis reader task, so anything that awaits
//! (publishing an answer, waiting for a client ack) is spawned.
use std::time::Duration;

use bytes::Bytes;

use super::redis::Shared;
use super::{AckOutcome, BroadcastOptions, BroadcastPacket};
use crate::cluster::redis::MessageHandler;
use crate::cluster::wire::request::{self, RemoteSocket, Request, RequestType, Response};
use crate::cluster::wire::{self, Targets};
use crate::protocol::socketio::{Packet, Revision};
use crate::standalone::codec::EventPayload;

/// Default wait for client acks of a remote broadcast-with-ack.
const DEFAULT_ACK_TIMEOUT: Duration = Duration::from_secs(5);

/// Which kind of channel a message came on, and for which namespace.
enum Inbound<'a> {
    Broadcast { nsp: &'a str, room: Option<&'a str> },
    Request { nsp: &'a str },
    Response,
}

impl MessageHandler for Shared {
    fn on_message(&self, channel: &str, payload: Bytes) {
        match self.classify(channel) {
            Some(Inbound::Broadcast { nsp, room }) => self.on_broadcast(nsp, room, &payload),
            Some(Inbound::Request { nsp }) => self.on_request(nsp, &payload),
            Some(Inbound::Response) => match request::decode_response(&payload) {
                Ok(answer) => {
                    self.pending.dispatch(answer);
                }
                Err(e) => tracing::debug!(error = %e, "ignoring malformed answer"),
            },
            None => tracing::trace!(channel, "ignoring message on unknown channel"),
        }
    }
}

impl Shared {
    /// Splits a channel name into its kind and namespace (one this node
    /// subscribed; a namespace may itself contain `#`).
    fn classify<'a>(&self, channel: &'a str) -> Option<Inbound<'a>> {
        let prefix = self.opts.prefix.as_str();
        let rest = channel.strip_prefix(prefix)?;
        if let Some(nsp) = rest.strip_prefix("-request#") {
            return Some(Inbound::Request {
                nsp: nsp.strip_suffix('#')?,
            });
        }
        if rest.starts_with("-response#") {
            return Some(Inbound::Response);
        }
        let rest = rest.strip_prefix('#')?;
        let nsps = self.subscribed.lock().unwrap_or_else(|e| e.into_inner());
        rest.match_indices('#').find_map(|(i, _)| {
            let nsp = &rest[..i];
            nsps.contains(nsp).then(|| {
                let tail = &rest[i + 1..];
                let room = tail.strip_suffix('#').filter(|_| !tail.is_empty());
                Inbound::Broadcast { nsp, room }
            })
        })
    }

    fn on_broadcast(&self, nsp: &str, room: Option<&str>, payload: &[u8]) {
        // A room channel for a room none of our sockets is in: skip before
        // decoding, as the Node adapter does.
        if let Some(room) = room
            && !self.local.has_room(nsp, room)
        {
            return;
        }
        let msg = match wire::decode_broadcast(payload) {
            Ok(msg) => msg,
            Err(e) => return tracing::debug!(nsp, error = %e, "ignoring malformed broadcast"),
        };
        if msg.uid == self.uid || msg.nsp != nsp {
            return;
        }
        let opts = options(nsp, msg.targets);
        let packet = BroadcastPacket {
            text: msg.packet.text,
            attachments: msg.packet.attachments,
        };
        let n = self.local.send_to_matching(&opts, &packet);
        tracing::trace!(nsp, from = %msg.uid, delivered = n, "cluster broadcast");
    }

    fn on_request(&self, nsp: &str, payload: &[u8]) {
        let req = match request::decode_request(payload) {
            Ok(req) => req,
            Err(e) => return tracing::debug!(nsp, error = %e, "ignoring malformed request"),
        };
        if req.uid.as_deref() == Some(self.uid.as_str()) {
            return;
        }
        let opts = options(nsp, req.targets.clone());
        let mut answer = req.request_id.as_deref().map(Response::new);
        match req.kind {
            RequestType::RemoteJoin | RequestType::RemoteLeave => {
                let join = req.kind == RequestType::RemoteJoin;
                let n = self.local.update_rooms(&opts, &req.rooms, join);
                set_count(&mut answer, n);
            }
            RequestType::RemoteDisconnect => {
                let n = self.local.disconnect_matching(&opts, req.close);
                set_count(&mut answer, n);
            }
            RequestType::RemoteFetch | RequestType::Sockets => {
                if let Some(a) = answer.as_mut() {
                    a.sockets = Some(self.local_sockets(&opts, req.kind == RequestType::Sockets));
                }
            }
            RequestType::AllRooms => {
                if let Some(a) = answer.as_mut() {
                    let mut rooms: Vec<String> = self.local.room_sizes(nsp).into_keys().collect();
                    rooms.extend(
                        self.local
                            .list(&BroadcastOptions::namespace(nsp))
                            .into_iter()
                            .map(|s| s.id),
                    );
                    a.rooms = rooms;
                }
            }
            RequestType::Broadcast => return self.broadcast_with_ack(nsp, req, opts),
            RequestType::ServerSideEmit => {
                // siogate runs no server-side handlers: nothing to deliver.
                return tracing::debug!(nsp, "ignoring server-side emit");
            }
            RequestType::BroadcastClientCount | RequestType::BroadcastAck => return,
        }
        if let Some(answer) = answer {
            self.spawn_answer(nsp, answer);
        }
    }

    /// Local sockets as a fetch answer lists them (own id among the rooms,
    /// as Node does), or bare ids for the older `SOCKETS` request.
    fn local_sockets(&self, opts: &BroadcastOptions, ids_only: bool) -> Vec<RemoteSocket> {
        self.local
            .list(opts)
            .into_iter()
            .map(|s| {
                let mut rooms = Vec::new();
                if !ids_only {
                    rooms.push(s.id.clone());
                    rooms.extend(s.rooms);
                }
                RemoteSocket { id: s.id, rooms }
            })
            .collect()
    }

    /// A broadcast with ack from another node: tell it how many local
    /// sockets got the event, then relay each client's ack as it comes.
    fn broadcast_with_ack(&self, nsp: &str, req: Request, opts: BroadcastOptions) {
        let (Some(id), Some(packet)) = (req.request_id, req.packet) else {
            return;
        };
        let Some(payload) = event_payload(&packet) else {
            return tracing::debug!(nsp, "ignoring broadcast with ack of a non-event packet");
        };
        let targets = self.local.targets(&opts);
        let timeout = req
            .timeout_ms
            .map_or(DEFAULT_ACK_TIMEOUT, Duration::from_millis);
        let Some(this) = self.this.upgrade() else {
            return;
        };
        let nsp = nsp.to_string();
        self.tasks.spawn(async move {
            let mut count = Response::new(&id);
            count.kind = Some(RequestType::BroadcastClientCount);
            count.client_count = Some(targets.len() as u64);
            this.answer(&nsp, count).await;
            let acks = targets.iter().map(|s| s.emit_with_ack(&payload, timeout));
            for outcome in futures_util::future::join_all(acks).await {
                if let AckOutcome::Acked(args) = outcome {
                    let mut ack = Response::new(&id);
                    ack.kind = Some(RequestType::BroadcastAck);
                    ack.ack_args = args;
                    this.answer(&nsp, ack).await;
                }
            }
        });
    }

    fn spawn_answer(&self, nsp: &str, answer: Response) {
        let Some(this) = self.this.upgrade() else {
            return;
        };
        let nsp = nsp.to_string();
        self.tasks
            .spawn(async move { this.answer(&nsp, answer).await });
    }

    async fn answer(&self, nsp: &str, answer: Response) {
        let channel = self.channels(nsp).response().to_string();
        let Ok(link) = self.link() else { return };
        if let Err(e) = link
            .publish(&channel, request::encode_response(&answer))
            .await
        {
            tracing::debug!(nsp, error = %e, "could not answer a request");
        }
    }
}

fn set_count(answer: &mut Option<Response>, n: usize) {
    if let Some(a) = answer.as_mut() {
        a.count = Some(n as u64);
    }
}

/// Wire targets as adapter options for `nsp`.
fn options(nsp: &str, t: Targets) -> BroadcastOptions {
    BroadcastOptions {
        nsp: nsp.to_string(),
        rooms: t.rooms,
        except: t.except,
        socket: t.socket,
    }
}

/// The payload of an EVENT packet (header dropped), for a local
/// `emit_with_ack` that adds its own ack id.
fn event_payload(packet: &wire::SioPacket) -> Option<EventPayload> {
    let parsed = Packet::decode_lenient(Revision::V5, packet.text.clone()).ok()?;
    parsed.kind.is_event().then(|| EventPayload {
        data: parsed.data.clone(),
        attachments: packet.attachments.clone(),
    })
}
