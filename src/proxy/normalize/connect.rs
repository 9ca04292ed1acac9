//! Client CONNECT handling (PROTOCOL.md §4.1–§4.4): split the namespace into
//! path and query, read the SIO5 auth object, then per flavor open a leg with
//! the query in its URL (go), forward `40/<path>?<query>,` (node-v2) or
//! `40/<path>,{auth ∪ query}` (v4). Also duplicate CONNECTs and the root with
//! a query.
use bytes::Bytes;
use serde_json::{Map, Value};

use super::action::{Action, LegId, reason};
use super::{Flavor, Normalizer, Nsp, wire};
use crate::protocol::socketio::connect::{Query, Target};
use crate::protocol::socketio::{Message, Revision};

/// A client CONNECT, decoded once.
struct Request {
    path: String,
    /// The `?query` of the nsp (`None` without `?`).
    query: Option<Query>,
    /// The JSON object payload (SIO5 auth), if any.
    auth: Option<Map<String, Value>>,
}

impl Request {
    fn parse(msg: &Message) -> Request {
        let Target { path, query } = Target::parse(msg.packet.nsp_str());
        let auth = match serde_json::from_slice::<Value>(&msg.packet.data) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        };
        // `40?x,` is not produced by the decoder (no leading `/`), but a bare
        // `?query` would leave an empty path: that is the root.
        let path = if path.is_empty() {
            "/".to_owned()
        } else {
            path
        };
        Request { path, query, auth }
    }

    fn is_root(&self) -> bool {
        self.path == "/"
    }

    /// For SIO4 upstreams: nsp query ∪ flattened auth (auth keys win;
    /// `pid`/`offset` dropped, they only mean something to a v4 server).
    fn flat_query(&self) -> Query {
        let nsp = self.query.clone().unwrap_or_default();
        match &self.auth {
            Some(auth) => wire::merge_query(&nsp, &Query::from_auth(auth, true)),
            None => nsp,
        }
    }

    /// For v4 upstreams: the auth object with the nsp query merged in (auth
    /// keys win, `pid`/`offset` kept); `None` when the payload can stay as is.
    fn merged_auth(&self) -> Option<Bytes> {
        let query = self.query.as_ref()?;
        let mut map = query.to_auth();
        if let Some(auth) = &self.auth {
            map.extend(auth.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        Some(if map.is_empty() {
            Bytes::new()
        } else {
            Bytes::from(Value::Object(map).to_string())
        })
    }
}

impl Normalizer {
    pub(super) fn client_connect(&mut self, msg: Message, out: &mut Vec<Action>) {
        let req = Request::parse(&msg);
        if let Some(i) = self.nsp_index(req.path.as_bytes()) {
            return self.repeat_connect(i, out);
        }
        if self.nsps.len() >= self.opts.max_namespaces {
            let err = wire::connect_error(self.client, &req.path, wire::TOO_MANY_NAMESPACES);
            out.push(Action::ToClient { msg: err });
            return;
        }
        let leg = match self.flavor {
            Flavor::GoLegacy | Flavor::Go14 | Flavor::GoModern => self.connect_own_leg(&req, out),
            Flavor::NodeV2 => self.connect_node(&req, out),
            Flavor::V4 => self.connect_v4(msg, &req, out),
        };
        super::push_exact_first(
            &mut self.nsps,
            Nsp {
                path: req.path,
                leg,
                connected: false,
                held: Vec::new(),
                implicit: false,
            },
        );
        if self.flavor == Flavor::NodeV2 && self.nsps.last().is_some_and(|n| n.path == "/") {
            self.node_root_ready(leg, out);
        }
    }

    /// CONNECT for a namespace the client has already (or is connecting):
    /// SIO5 servers close the connection (row 52); SIO4 clients get the reply
    /// again if connected, nothing if the reply is still to come (so a
    /// `40/?q,` on the implicit root yields exactly one `40`, row 13).
    fn repeat_connect(&mut self, i: usize, out: &mut Vec<Action>) {
        match self.client {
            Revision::V5 => self.close_client(reason::DUPLICATE_CONNECT, out),
            Revision::V4 => {
                let nsp = &self.nsps[i];
                if nsp.connected {
                    let msg = wire::connect(&nsp.path, Bytes::new());
                    out.push(Action::ToClient { msg });
                }
            }
        }
    }

    /// go flavors: a leg of its own, with the query in the handshake URL and
    /// a query-less CONNECT (none for `/`: go connects the root by itself).
    fn connect_own_leg(&mut self, req: &Request, out: &mut Vec<Action>) -> LegId {
        let query = wire::merge_query(&self.handshake, &req.flat_query());
        let leg = self.open_leg(query, out);
        if !req.is_root() {
            self.send_up(leg, wire::connect(&req.path, Bytes::new()), out);
        }
        leg
    }

    /// The multiplexed leg, opened on first use with `query` in its URL.
    /// Returns the leg and whether it was just opened.
    fn mux_leg(
        &mut self,
        query: impl FnOnce(&Query) -> Query,
        out: &mut Vec<Action>,
    ) -> (LegId, bool) {
        match self.legs.first() {
            Some(l) => (l.id, false),
            None => {
                let q = query(&self.handshake);
                (self.open_leg(q, out), true)
            }
        }
    }

    /// node-v2: the query stays in the CONNECT (re-encoded, so a `,` in it
    /// cannot truncate the nsp again); the root's query can only go into the
    /// URL of a leg opened for it.
    fn connect_node(&mut self, req: &Request, out: &mut Vec<Action>) -> LegId {
        let flat = req.flat_query();
        if req.is_root() {
            let (leg, fresh) = self.mux_leg(|h| wire::merge_query(h, &flat), out);
            if !fresh && !flat.is_empty() {
                out.push(Action::Drop {
                    reason: reason::LATE_ROOT_QUERY,
                });
            }
            return leg;
        }
        let (leg, _) = self.mux_leg(Query::clone, out);
        let nsp = if flat.is_empty() {
            req.path.clone()
        } else {
            format!("{}?{}", req.path, flat.encode())
        };
        self.send_up(leg, wire::connect(&nsp, Bytes::new()), out);
        leg
    }

    /// node-v2 root CONNECT on a leg whose upstream already connected `/`:
    /// answer now. If the root was disconnected since, reconnect it with an
    /// explicit `40` (socket.io 2.x sends no reply to that, so answer now too;
    /// a `40` that does come later is dropped as a duplicate).
    fn node_root_ready(&mut self, leg: LegId, out: &mut Vec<Action>) {
        let Some(l) = self.legs.iter().find(|l| l.id == leg) else {
            return;
        };
        let (seen, ready) = (l.root_seen, l.root_ready);
        if !seen {
            return;
        }
        if !ready {
            self.send_up(leg, wire::connect("/", Bytes::new()), out);
            if let Some(l) = self.legs.iter_mut().find(|l| l.id == leg) {
                l.root_ready = true;
            }
        }
        let i = self.nsps.len() - 1;
        self.nsp_connected(i, None, out);
    }

    /// v4: the nsp query moves into the auth object; a CONNECT without a query
    /// is relayed as it came.
    fn connect_v4(&mut self, msg: Message, req: &Request, out: &mut Vec<Action>) -> LegId {
        let (leg, _) = self.mux_leg(Query::clone, out);
        let up = match req.merged_auth() {
            Some(data) => wire::connect(&req.path, data),
            None if msg.packet.nsp.as_ref() == req.path.as_bytes() => msg,
            None => wire::connect(&req.path, msg.packet.data.clone()),
        };
        self.send_up(leg, up, out);
        leg
    }
}
