//! Test harness: drives a [`Normalizer`] with wire texts written exactly as
//! in PROTOCOL.md §5 (Engine.IO `4` included) and renders the actions as
//! strings, so tests compare exact output bytes:
//! `open 2 token=abc`, `U2 40/chat,`, `C 40/chat,{"sid":"s1"}`,
//! `U1 451-[…] + bin[01 02 03]`, `close 2`, `close-client: …`, `drop: …`.
use bytes::Bytes;

use super::{Action, Flavor, LegId, Normalizer, Options};
use crate::protocol::socketio::connect::Query;
use crate::protocol::socketio::{Message, Packet, Revision};

pub(super) use crate::protocol::socketio::Revision::{V4 as SIO4, V5 as SIO5};

pub(super) struct H {
    pub n: Normalizer,
    client: Revision,
    upstream: Revision,
    /// Every action emitted so far, unrendered.
    pub log: Vec<Action>,
}

impl H {
    pub fn new(client: Revision, flavor: Flavor) -> H {
        H::with(client, flavor, "", Options::default())
    }

    /// `handshake` is the client's handshake query (`lang=en`).
    pub fn with(client: Revision, flavor: Flavor, handshake: &str, opts: Options) -> H {
        let mut next = 0u32;
        let sid_gen = move || {
            next += 1;
            format!("s{next}")
        };
        H {
            n: Normalizer::new(client, flavor, Query::parse(handshake), opts, sid_gen),
            client,
            upstream: flavor.upstream_sio(),
            log: Vec::new(),
        }
    }

    fn run(&mut self, f: impl FnOnce(&mut Normalizer, &mut Vec<Action>)) -> Vec<String> {
        let mut out = Vec::new();
        f(&mut self.n, &mut out);
        let rendered = out.iter().map(render).collect();
        self.log.extend(out);
        rendered
    }

    pub fn open(&mut self) -> Vec<String> {
        self.run(|n, out| n.on_client_open(out))
    }

    /// A client message: `text` as on the wire (`42/chat,…`), plus attachments.
    pub fn client_bin(&mut self, text: &str, attachments: &[&[u8]]) -> Vec<String> {
        let packet = Packet::decode(self.client, sio_text(text)).expect("test input decodes");
        let msg = with_attachments(packet, attachments);
        self.run(|n, out| n.on_client(msg, out))
    }

    pub fn client(&mut self, text: &str) -> Vec<String> {
        self.client_bin(text, &[])
    }

    /// An upstream message on leg `leg`, decoded leniently as the pump does.
    pub fn up_bin(&mut self, leg: u32, text: &str, attachments: &[&[u8]]) -> Vec<String> {
        let packet =
            Packet::decode_lenient(self.upstream, sio_text(text)).expect("test input decodes");
        let msg = with_attachments(packet, attachments);
        self.run(|n, out| n.on_upstream(LegId(leg), msg, out))
    }

    pub fn up(&mut self, leg: u32, text: &str) -> Vec<String> {
        self.up_bin(leg, text, &[])
    }

    pub fn leg_open(&mut self, leg: u32) -> Vec<String> {
        self.run(|n, out| n.on_leg_open(LegId(leg), out))
    }

    pub fn leg_closed(&mut self, leg: u32) -> Vec<String> {
        self.run(|n, out| n.on_leg_closed(LegId(leg), out))
    }

    pub fn leg_failed(&mut self, leg: u32) -> Vec<String> {
        self.run(|n, out| n.on_leg_failed(LegId(leg), out))
    }

    /// The query of the most recent `OpenLeg`.
    pub fn last_open_query(&self) -> Query {
        self.log
            .iter()
            .rev()
            .find_map(|a| match a {
                Action::OpenLeg { query, .. } => Some(query.clone()),
                _ => None,
            })
            .expect("an OpenLeg was emitted")
    }

    /// The packet of the most recent `ToUpstream`.
    pub fn last_upstream(&self) -> Packet {
        self.log
            .iter()
            .rev()
            .find_map(|a| match a {
                Action::ToUpstream { msg, .. } => Some(msg.packet.clone()),
                _ => None,
            })
            .expect("a ToUpstream was emitted")
    }

    /// SIO4 client, `flavor`: handshake, root leg 1 open, root connected.
    pub fn sio4_connected(flavor: Flavor) -> H {
        let mut h = H::new(SIO4, flavor);
        assert_eq!(h.open(), ["open 1"]);
        let root = if flavor == Flavor::V4 {
            "40{\"sid\":\"u0\"}"
        } else {
            "40"
        };
        let flushed = h.leg_open(1);
        assert_eq!(flushed.len(), usize::from(flavor == Flavor::V4));
        assert_eq!(h.up(1, root), ["C 40"]);
        h
    }
}

/// Strips the Engine.IO message type `4` the tests write for readability.
fn sio_text(text: &str) -> Bytes {
    let sio = text
        .strip_prefix('4')
        .expect("test frames start with the EIO message type 4");
    Bytes::copy_from_slice(sio.as_bytes())
}

fn with_attachments(packet: Packet, attachments: &[&[u8]]) -> Message {
    Message {
        packet,
        attachments: attachments
            .iter()
            .map(|a| Bytes::copy_from_slice(a))
            .collect(),
    }
}

fn render_msg(msg: &Message) -> String {
    let mut s = format!("4{}", String::from_utf8_lossy(&msg.packet.encode()));
    for a in &msg.attachments {
        let hex: Vec<String> = a.iter().map(|b| format!("{b:02x}")).collect();
        s.push_str(&format!(" + bin[{}]", hex.join(" ")));
    }
    s
}

pub(super) fn render(a: &Action) -> String {
    match a {
        Action::OpenLeg { leg, query } if query.is_empty() => format!("open {leg}"),
        Action::OpenLeg { leg, query } => format!("open {leg} {}", query.encode()),
        Action::ToUpstream { leg, msg } => format!("U{leg} {}", render_msg(msg)),
        Action::ToClient { msg } => format!("C {}", render_msg(msg)),
        Action::CloseLeg { leg } => format!("close {leg}"),
        Action::CloseClient { reason } => format!("close-client: {reason}"),
        Action::Drop { reason } => format!("drop: {reason}"),
    }
}

/// `drop: <reason>` as rendered.
pub(super) fn drop(reason: &str) -> String {
    format!("drop: {reason}")
}

/// `close-client: <reason>` as rendered.
pub(super) fn closed(reason: &str) -> String {
    format!("close-client: {reason}")
}

/// An empty action list, typed for `assert_eq!`.
pub(super) const NONE: [&str; 0] = [];
