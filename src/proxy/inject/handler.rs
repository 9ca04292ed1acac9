//! What the proxy does with a message from Redis: a broadcast of
//! `@socket.io/redis-emitter` (or of a siogate / Node cluster node) on a
//! subscribed namespace's channel becomes one Socket.IO packet (plus its
//! binary attachments), encoded once and queued into every proxied session
//! the broadcast selects (rooms, except). Runs on the Redis reader task and
//! never blocks: each delivery is a `try`-style queue push.
//!
//! Skipped (counted, logged at debug): malformed messages, packets that are
//! not plain events (acks, events asking for an ack — the upstream would
//! get the client's answer for an id it never sent), event names reserved
//! in Socket.IO 5, and broadcasts to one socket id (proxied sessions have
//! no adapter socket ids).
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::Hub;
use crate::cluster::redis::MessageHandler;
use crate::cluster::wire::{self, Broadcast, Channels};
use crate::protocol::engineio;
use crate::protocol::socketio::{Packet, PacketKind, Revision};

impl MessageHandler for Hub {
    fn on_message(&self, channel: &str, payload: Bytes) {
        if !self.wanted(channel) {
            return;
        }
        let msg = match wire::decode_broadcast(&payload) {
            Ok(msg) => msg,
            Err(e) => return self.skip(channel, &e.to_string()),
        };
        // The channel must be the packet's namespace's (or one of its rooms').
        if Channels::new(&self.prefix, &msg.nsp)
            .room_of(channel)
            .is_none()
        {
            return self.skip(channel, "namespace does not match the channel");
        }
        let packets = match client_packets(&msg) {
            Ok(p) => p,
            Err(why) => return self.skip(channel, why),
        };
        let mut delivered = 0u64;
        for r in self.registry.recipients(&msg.nsp, &msg.targets) {
            if r.deliver(&msg.nsp, &packets) {
                delivered += 1;
            }
        }
        self.delivered.fetch_add(delivered, Ordering::Relaxed);
        tracing::trace!(nsp = %msg.nsp, from = %msg.uid, delivered, "push injected");
    }
}

impl Hub {
    /// Whether `channel` may matter here: a namespace channel of a
    /// subscribed namespace, or a room channel with a session in that room
    /// (room channels nobody here is in are skipped before decoding, as the
    /// Node adapter does).
    fn wanted(&self, channel: &str) -> bool {
        let subscribed = self.subscribed.lock().unwrap_or_else(|e| e.into_inner());
        subscribed.iter().any(|ch| match ch.room_of(channel) {
            Some(None) => true,
            Some(Some(room)) => self.registry.has_room(ch.nsp(), room),
            None => false,
        })
    }

    fn skip(&self, channel: &str, why: &str) {
        self.skipped.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(channel, why, "redis push not injected");
    }
}

/// The Engine.IO packets of a broadcast for a client: the Socket.IO packet
/// text (already tagged with the namespace, which is the client's own
/// spelling: sessions are listed under the path they connected with), then
/// each attachment. The transports add what each client revision needs
/// (the EIO3 `0x04` byte on WebSocket, base64 in polling payloads).
fn client_packets(msg: &Broadcast) -> Result<Vec<engineio::Packet>, &'static str> {
    let packet = Packet::decode_lenient(Revision::V5, msg.packet.text.clone())
        .map_err(|_| "undecodable packet")?;
    if !matches!(packet.kind, PacketKind::Event | PacketKind::BinaryEvent) {
        return Err("not an event");
    }
    if packet.ack_id.is_some() {
        return Err("an event asking for an ack");
    }
    if packet.is_reserved_event() {
        return Err("reserved event name");
    }
    let mut out = Vec::with_capacity(1 + msg.packet.attachments.len());
    out.push(engineio::Packet::Message(msg.packet.text.clone()));
    out.extend(
        msg.packet
            .attachments
            .iter()
            .cloned()
            .map(engineio::Packet::Binary),
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::wire::{SioPacket, Targets};

    fn broadcast(text: &'static str, attachments: Vec<Bytes>) -> Broadcast {
        Broadcast {
            uid: "emitter".into(),
            nsp: "/chat".into(),
            packet: SioPacket {
                text: Bytes::from_static(text.as_bytes()),
                attachments,
            },
            targets: Targets::default(),
        }
    }

    #[test]
    fn events_become_text_then_attachments() {
        let b = broadcast(
            r#"51-/chat,["news",{"_placeholder":true,"num":0}]"#,
            vec![Bytes::from_static(&[1, 2])],
        );
        let p = client_packets(&b).expect("event");
        assert_eq!(p.len(), 2);
        assert!(matches!(&p[1], engineio::Packet::Binary(b) if b.as_ref() == [1, 2]));
    }

    #[test]
    fn acks_ack_requests_and_reserved_names_are_refused() {
        assert!(client_packets(&broadcast(r#"3/chat,1[1]"#, vec![])).is_err());
        assert!(client_packets(&broadcast(r#"2/chat,5["news"]"#, vec![])).is_err());
        assert!(client_packets(&broadcast(r#"2/chat,["disconnect"]"#, vec![])).is_err());
        assert!(client_packets(&broadcast(r#"2/chat,["news",1]"#, vec![])).is_ok());
    }
}
