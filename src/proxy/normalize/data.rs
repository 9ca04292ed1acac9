//! Client EVENT/ACK/BINARY_* and DISCONNECT handling: find the namespace's
//! leg, hold packets while its CONNECT is pending (row 36), relay the rest as
//! the original message (ack ids, attachments and payload untouched), and turn
//! a DISCONNECT into a leg close (go) or a forwarded `41` (node-v2, v4).
use super::action::{Action, reason};
use super::wire::nsp_path;
use super::{Normalizer, Nsp};
use crate::protocol::socketio::{Message, Revision};

impl Normalizer {
    /// Finds the client packet's namespace. The nsp should be a bare path; a
    /// client that also tags data packets with the CONNECT query
    /// (`42/chat?token=abc,…`) is matched by path and re-tagged with it.
    fn client_nsp(&self, msg: &mut Message) -> Option<usize> {
        if let Some(i) = self.nsp_index(&msg.packet.nsp) {
            return Some(i);
        }
        let i = self.nsp_index(nsp_path(&msg.packet.nsp))?;
        msg.packet = msg.packet.with_nsp(&self.nsps[i].path);
        Some(i)
    }

    pub(super) fn client_data(&mut self, mut msg: Message, out: &mut Vec<Action>) {
        let Some(i) = self.client_nsp(&mut msg) else {
            // socket.io 4 closes on a packet for a namespace not connected;
            // socket.io 2 ignores it.
            return match self.client {
                Revision::V5 => self.close_client(reason::NOT_CONNECTED, out),
                Revision::V4 => out.push(Action::Drop {
                    reason: reason::UNKNOWN_CLIENT_NSP,
                }),
            };
        };
        let nsp = &mut self.nsps[i];
        if nsp.connected {
            out.push(Action::ToUpstream { leg: nsp.leg, msg });
        } else if nsp.held.len() < self.opts.max_pending_packets {
            nsp.held.push(msg);
        } else {
            self.close_client(reason::PENDING_OVERFLOW, out);
        }
    }

    pub(super) fn client_disconnect(&mut self, mut msg: Message, out: &mut Vec<Action>) {
        let Some(i) = self.client_nsp(&mut msg) else {
            return out.push(Action::Drop {
                reason: reason::UNKNOWN_DISCONNECT,
            });
        };
        let nsp = self.nsps.remove(i);
        if !self.flavor.forwards_disconnect() {
            // go: a DISCONNECT wedges go-legacy's socket loop; the namespace
            // has a session of its own, so closing it is the disconnect.
            return self.close_leg(nsp.leg, out);
        }
        self.forward_disconnect(&nsp, msg, out);
    }

    /// node-v2 / v4: forward the `41` on the shared leg. If the leg is still
    /// opening, the namespace's queued CONNECT is withdrawn instead, so the
    /// outbox never grows with connect/disconnect churn.
    fn forward_disconnect(&mut self, nsp: &Nsp, msg: Message, out: &mut Vec<Action>) {
        let Some(leg) = self.legs.iter_mut().find(|l| l.id == nsp.leg) else {
            return;
        };
        if nsp.path == "/" {
            leg.root_ready = false;
        }
        if leg.open {
            out.push(Action::ToUpstream { leg: leg.id, msg });
        } else {
            let path = nsp.path.as_bytes();
            leg.outbox.retain(|m| nsp_path(&m.packet.nsp) != path);
        }
    }
}
