//! Leg lifecycle events: a leg opened (flush what waited for it), closed
//! (the namespace gets a CONNECT_ERROR or `41`, or the client is closed), or
//! could not be opened (its pending namespaces are refused).
use super::action::{Action, LegId, reason};
use super::{Normalizer, wire};

impl Normalizer {
    /// The upstream Engine.IO session of `leg` is open: queued packets (the
    /// namespace CONNECTs) go out now, in order.
    pub fn on_leg_open(&mut self, leg: LegId, out: &mut Vec<Action>) {
        if self.closed {
            return;
        }
        if let Some(l) = self.legs.iter_mut().find(|l| l.id == leg) {
            l.open = true;
            // Taken, not drained: an open leg never queues again, so its
            // spare capacity would stay allocated for the whole session.
            out.extend(
                std::mem::take(&mut l.outbox)
                    .into_iter()
                    .map(|msg| Action::ToUpstream { leg, msg }),
            );
        }
    }

    /// The upstream session of `leg` closed or died (not on our `CloseLeg`).
    /// The root leg or the multiplexed leg takes the client down; a go
    /// namespace leg only its namespace: CONNECT_ERROR "Invalid namespace"
    /// while connecting (go-socket.io v1.7.0 closes on unknown namespaces),
    /// `41<nsp,>` after.
    pub fn on_leg_closed(&mut self, leg: LegId, out: &mut Vec<Action>) {
        if self.closed {
            return;
        }
        let Some(li) = self.leg_index(leg) else {
            return;
        };
        self.legs.remove(li);
        let on_leg = || self.nsps.iter().filter(|n| n.leg == leg);
        if on_leg().next().is_none() {
            return;
        }
        if !self.flavor.one_leg_per_namespace() || on_leg().any(|n| n.path == "/") {
            return self.close_client(reason::UPSTREAM_CLOSED, out);
        }
        let client = self.client;
        for nsp in self.take_nsps(leg) {
            let msg = if nsp.connected {
                wire::disconnect(&nsp.path)
            } else {
                wire::connect_error(client, &nsp.path, wire::INVALID_NAMESPACE)
            };
            out.push(Action::ToClient { msg });
        }
    }

    /// The upstream session of `leg` could not be opened (refused, timed
    /// out). Its namespaces were all still connecting: each gets a
    /// CONNECT_ERROR "Connection refused" — except the SIO4 root opened at the
    /// client's handshake, which closes the client.
    pub fn on_leg_failed(&mut self, leg: LegId, out: &mut Vec<Action>) {
        if self.closed {
            return;
        }
        let Some(li) = self.leg_index(leg) else {
            return;
        };
        self.legs.remove(li);
        if self.nsps.iter().any(|n| n.leg == leg && n.implicit) {
            return self.close_client(reason::UPSTREAM_FAILED, out);
        }
        let client = self.client;
        for nsp in self.take_nsps(leg) {
            let msg = wire::connect_error(client, &nsp.path, wire::CONNECTION_REFUSED);
            out.push(Action::ToClient { msg });
        }
    }

    /// Removes and returns the namespaces served by `leg`, in order.
    fn take_nsps(&mut self, leg: LegId) -> Vec<super::Nsp> {
        let (taken, kept) = std::mem::take(&mut self.nsps)
            .into_iter()
            .partition(|n| n.leg == leg);
        self.nsps = kept;
        taken
    }
}
