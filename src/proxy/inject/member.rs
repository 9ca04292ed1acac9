//! One proxied session's side of injection: which namespaces it is listed
//! in and with which rooms. Lives in the session's state, so every change
//! happens under the session's lock, in step with the normalizer:
//!
//! - a client CONNECT is remembered (its namespace query, or its auth
//!   object flattened) until the normalizer answers it;
//! - the CONNECT reply to the client lists the session in that namespace,
//!   with the rooms of the handshake query plus that CONNECT;
//! - a client DISCONNECT, a DISCONNECT to the client, or the end of the
//!   session removes it (and dropping the member removes whatever is left).
//!
//! [`Recipient`] for the session queues injected packets under the same
//! lock, so they never land between a packet and its attachments.
use std::sync::{Arc, Weak};

use serde_json::{Map, Value};

use super::Injector;
use super::registry::{MemberId, Recipient};
use super::rooms::auth_pairs;
use crate::protocol::engineio;
use crate::protocol::socketio::connect::{Query, Target};
use crate::protocol::socketio::{Packet, PacketKind};
use crate::proxy::normalize::Action;
use crate::proxy::session::Shared;

/// CONNECTs remembered while their reply is pending; older ones are
/// forgotten (the normalizer limits a client's namespaces anyway).
const MAX_PENDING: usize = 32;

/// A session's injection state. See the module docs.
pub struct Member {
    id: MemberId,
    injector: Arc<Injector>,
    handshake: Query,
    /// (client path, CONNECT pairs) awaiting the reply.
    pending: Vec<(String, Query)>,
    /// Client paths the session is listed under.
    joined: Vec<String>,
}

impl Member {
    pub fn new(injector: Arc<Injector>, handshake: Query) -> Member {
        Member {
            id: injector.next_member_id(),
            injector,
            handshake,
            pending: Vec::new(),
            joined: Vec::new(),
        }
    }

    /// A packet from the client, before the normalizer sees it.
    pub fn on_client(&mut self, packet: &Packet) {
        match packet.kind {
            PacketKind::Connect => {
                let target = Target::parse(packet.nsp_str());
                let mut pairs = target.query.unwrap_or_default();
                if let Ok(auth) = serde_json::from_slice::<Map<String, Value>>(&packet.data) {
                    auth_pairs(&auth, &mut pairs);
                }
                self.pending.retain(|(p, _)| *p != target.path);
                if self.pending.len() == MAX_PENDING {
                    self.pending.remove(0);
                }
                self.pending.push((target.path, pairs));
            }
            PacketKind::Disconnect => self.leave(packet.nsp_str()),
            _ => {}
        }
    }

    /// The normalizer's actions for one event (before they are carried
    /// out), and whether it is closed now. `me` is the session itself.
    pub fn observe(&mut self, actions: &[Action], closed: bool, me: &Arc<Shared>) {
        if closed {
            return self.leave_all();
        }
        for action in actions {
            match action {
                Action::ToClient { msg } if msg.packet.kind == PacketKind::Connect => {
                    self.join(msg.packet.nsp_str(), me);
                }
                Action::ToClient { msg } if msg.packet.kind == PacketKind::Disconnect => {
                    self.leave(msg.packet.nsp_str());
                }
                Action::CloseClient { .. } => return self.leave_all(),
                _ => {}
            }
        }
    }

    /// Whether the session is listed under the client path `nsp`.
    pub fn is_joined(&self, nsp: &str) -> bool {
        self.joined.iter().any(|n| n == nsp)
    }

    fn join(&mut self, nsp: &str, me: &Arc<Shared>) {
        let connect = match self.pending.iter().position(|(p, _)| p == nsp) {
            Some(i) => self.pending.swap_remove(i).1,
            None => Query::default(),
        };
        let rooms = self.injector.rules.rooms(&self.handshake, &connect);
        tracing::debug!(nsp, rooms = rooms.len(), "session injectable");
        let me: Weak<dyn Recipient> = Arc::downgrade(me) as Weak<Shared>;
        self.injector.join(nsp, self.id, me, rooms);
        if !self.is_joined(nsp) {
            self.joined.push(nsp.to_owned());
        }
    }

    fn leave(&mut self, nsp: &str) {
        if let Some(i) = self.joined.iter().position(|n| n == nsp) {
            self.joined.swap_remove(i);
            self.injector.registry().leave(nsp, self.id);
        }
    }

    fn leave_all(&mut self) {
        for nsp in self.joined.drain(..) {
            self.injector.registry().leave(&nsp, self.id);
        }
        self.pending.clear();
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.leave_all();
    }
}

impl Recipient for Shared {
    fn deliver(&self, nsp: &str, packets: &[engineio::Packet]) -> bool {
        let st = self.lock();
        let listed = st.inject.as_ref().is_some_and(|m| m.is_joined(nsp));
        if st.norm.is_closed() || !listed {
            return false;
        }
        // Under the session lock: nothing else reaches the client between
        // the packet and its attachments. A failed send means the session
        // is closing (e.g. its queue overflowed); the core ends it.
        packets.iter().all(|p| self.sink.send(p.clone()).is_ok())
    }
}
