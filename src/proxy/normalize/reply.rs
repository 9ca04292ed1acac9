//! Upstream → client: find the client namespace a leg's packet belongs to,
//! turn CONNECT replies into the client's form (`40/chat,`, or
//! `40/chat,{"sid":…}` for SIO5 clients), convert ERROR ↔ CONNECT_ERROR, drop
//! what a client must not see (pre-connect packets, reserved event names),
//! and re-tag everything else with the client's namespace path.
use bytes::Bytes;

use super::action::{Action, LegId, reason};
use super::wire::{self, nsp_path};
use super::{Flavor, Normalizer};
use crate::protocol::socketio::{Message, Packet, PacketKind, Revision};

/// Where an upstream packet goes.
enum Route {
    /// To the client namespace at this index.
    Nsp(usize),
    /// Nowhere, with this drop reason (`None`: expected, not worth a log).
    Drop(Option<&'static str>),
}

impl Normalizer {
    /// One complete message (packet + attachments) from leg `leg`.
    pub fn on_upstream(&mut self, leg: LegId, msg: Message, out: &mut Vec<Action>) {
        if self.closed {
            return;
        }
        let route = match self.leg_index(leg) {
            None => Route::Drop(Some(reason::CLOSED_LEG)),
            Some(li) if self.flavor.one_leg_per_namespace() => self.route_own_leg(li, &msg),
            Some(li) => self.route_mux(li, &msg),
        };
        let i = match route {
            Route::Nsp(i) => i,
            Route::Drop(Some(why)) => return out.push(Action::Drop { reason: why }),
            Route::Drop(None) => return,
        };
        match msg.packet.kind {
            PacketKind::Connect => self.upstream_connect(i, msg, out),
            PacketKind::ConnectError => self.upstream_error(i, msg, out),
            PacketKind::Disconnect => self.upstream_disconnect(i, out),
            _ => self.upstream_data(i, msg, out),
        }
    }

    /// go: whatever nsp go wrote (`/chat?token=abc`, `/b?x=1`, …) the packet
    /// belongs to the leg's namespace — except root-tagged packets on a
    /// namespace leg: the `40` go sends on open, and (go-1.4/go-modern, which
    /// keep a real root socket on every session) root traffic that the client
    /// receives on its own root leg already.
    fn route_own_leg(&self, li: usize, msg: &Message) -> Route {
        let leg = self.legs[li].id;
        let Some(i) = self.nsps.iter().position(|n| n.leg == leg) else {
            return Route::Drop(Some(reason::UNKNOWN_UPSTREAM_NSP));
        };
        let root_tagged = nsp_path(&msg.packet.nsp) == b"/";
        if root_tagged && self.nsps[i].path != "/" {
            if msg.packet.kind == PacketKind::Connect {
                return Route::Drop(None);
            }
            if self.flavor != Flavor::GoLegacy && self.nsps[i].connected {
                return Route::Drop(Some(reason::ROOT_ON_NAMESPACE_LEG));
            }
        }
        Route::Nsp(i)
    }

    /// node-v2 / v4: route by the packet's path. An SIO4 upstream's own root
    /// `40` is remembered even when the client has not asked for `/` yet.
    fn route_mux(&mut self, li: usize, msg: &Message) -> Route {
        let path = nsp_path(&msg.packet.nsp);
        if msg.packet.kind == PacketKind::Connect
            && path == b"/"
            && self.flavor.auto_connects_root()
        {
            let leg = &mut self.legs[li];
            leg.root_seen = true;
            leg.root_ready = true;
        }
        match self.nsp_index(path) {
            Some(i) if self.nsps[i].leg == self.legs[li].id => Route::Nsp(i),
            _ if msg.packet.kind == PacketKind::Connect && path == b"/" => Route::Drop(None),
            _ => Route::Drop(Some(reason::UNKNOWN_UPSTREAM_NSP)),
        }
    }

    fn upstream_connect(&mut self, i: usize, msg: Message, out: &mut Vec<Action>) {
        if self.nsps[i].connected {
            return out.push(Action::Drop {
                reason: reason::DUPLICATE_REPLY,
            });
        }
        self.nsp_connected(i, Some(msg), out);
    }

    /// Marks namespace `i` connected: sends the client its CONNECT reply, then
    /// the packets held while it was pending. `upstream` is the upstream's
    /// reply (`None` when the normalizer answers by itself).
    pub(super) fn nsp_connected(
        &mut self,
        i: usize,
        upstream: Option<Message>,
        out: &mut Vec<Action>,
    ) {
        let reply = self.connect_reply(&self.nsps[i].path.clone(), upstream);
        out.push(Action::ToClient { msg: reply });
        let nsp = &mut self.nsps[i];
        nsp.connected = true;
        let leg = nsp.leg;
        // Taken, not drained: nothing is held once connected, so the spare
        // capacity would stay allocated for the whole session.
        out.extend(
            std::mem::take(&mut nsp.held)
                .into_iter()
                .map(|msg| Action::ToUpstream { leg, msg }),
        );
    }

    /// The client's CONNECT reply: SIO4 `40<path,>` (any upstream sid
    /// stripped), SIO5 bridged `40<path,>{"sid":"<new>"}`, SIO5 ↔ v4 the
    /// upstream's reply re-tagged (its sid and pid kept, row 39).
    fn connect_reply(&mut self, path: &str, upstream: Option<Message>) -> Message {
        match (self.client, upstream) {
            (Revision::V4, _) => wire::connect(path, Bytes::new()),
            (Revision::V5, Some(m)) if !self.bridged() => Message {
                packet: Self::retag(m.packet, path),
                attachments: m.attachments,
            },
            (Revision::V5, _) => {
                let sid = (self.sid_gen)();
                wire::connect(path, wire::sid_payload(&sid))
            }
        }
    }

    /// ERROR / CONNECT_ERROR: converted to the client's revision (rows
    /// 28–29). A namespace whose CONNECT was refused is forgotten (and its go
    /// leg closed).
    fn upstream_error(&mut self, i: usize, msg: Message, out: &mut Vec<Action>) {
        let path = self.nsps[i].path.clone();
        let upstream = self.flavor.upstream_sio();
        let packet = match (self.client, upstream) {
            (Revision::V5, Revision::V4) => Some(wire::error_v4_to_v5(&msg.packet.data)),
            (Revision::V4, Revision::V5) => Some(wire::error_v5_to_v4(&msg.packet.data)),
            _ => None,
        }
        .map_or_else(
            || Self::retag(msg.packet, &path),
            |data| Packet::new(PacketKind::ConnectError, 0, &path, None, data),
        );
        out.push(Action::ToClient {
            msg: wire::msg(packet),
        });
        if !self.nsps[i].connected {
            self.forget_nsp(i, out);
        }
    }

    /// The upstream left the namespace: the client is told with `41<path,>`
    /// (or a CONNECT_ERROR if it was still connecting).
    fn upstream_disconnect(&mut self, i: usize, out: &mut Vec<Action>) {
        let nsp = &self.nsps[i];
        let msg = if nsp.connected {
            wire::disconnect(&nsp.path)
        } else {
            wire::connect_error(self.client, &nsp.path, wire::CONNECTION_REFUSED)
        };
        out.push(Action::ToClient { msg });
        self.forget_nsp(i, out);
    }

    /// Removes namespace `i`; closes its leg if it had one of its own, or
    /// marks the shared leg's root as gone.
    fn forget_nsp(&mut self, i: usize, out: &mut Vec<Action>) {
        let nsp = self.nsps.remove(i);
        if self.flavor.one_leg_per_namespace() {
            self.close_leg(nsp.leg, out);
        } else if nsp.path == "/"
            && let Some(l) = self.legs.iter_mut().find(|l| l.id == nsp.leg)
        {
            l.root_ready = false;
        }
    }

    /// EVENT / ACK / BINARY_*: re-tagged and relayed with its attachments.
    fn upstream_data(&mut self, i: usize, msg: Message, out: &mut Vec<Action>) {
        let nsp = &self.nsps[i];
        if !nsp.connected && self.opts.drop_pre_connect_packets {
            return out.push(Action::Drop {
                reason: reason::PRE_CONNECT,
            });
        }
        if self.client == Revision::V5
            && self.opts.drop_reserved_events
            && msg.packet.is_reserved_event()
        {
            return out.push(Action::Drop {
                reason: reason::RESERVED_EVENT,
            });
        }
        let packet = Self::retag(msg.packet, &nsp.path);
        out.push(Action::ToClient {
            msg: Message {
                packet,
                attachments: msg.attachments,
            },
        });
    }
}
