//! Property tests: normalizing a client CONNECT is idempotent (feeding the
//! normalized CONNECT back in yields the same packet), and no query or auth
//! pair is lost on the way to the upstream.
use bytes::Bytes;
use proptest::prelude::*;

use super::Flavor;
use super::harness::{H, SIO4, SIO5};
use super::wire::merge_query;
use crate::protocol::socketio::connect::Query;
use crate::protocol::socketio::{Packet, PacketKind, Revision};

/// The CONNECT the upstream receives for one client CONNECT `text`, and the
/// query of the leg it goes on.
fn normalized(client: Revision, flavor: Flavor, text: &str) -> (Bytes, Query) {
    let mut h = if client == SIO4 {
        H::sio4_connected(flavor)
    } else {
        H::new(client, flavor)
    };
    h.client(text);
    h.leg_open(1);
    h.leg_open(2);
    let packet = h.last_upstream();
    assert_eq!(packet.kind, PacketKind::Connect);
    (packet.encode(), h.last_open_query())
}

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(("[a-z]{1,4}", "[a-z0-9 ,&=%+€?]{0,6}"), 0..4)
}

fn connect_text(
    path: &str,
    query: &Option<Vec<(String, String)>>,
    auth: &[(String, String)],
) -> String {
    let nsp = match query {
        Some(q) => format!("{path}?{}", Query(q.clone()).encode()),
        None => path.to_owned(),
    };
    let data = if auth.is_empty() {
        Bytes::new()
    } else {
        let obj: serde_json::Map<String, serde_json::Value> = auth
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        Bytes::from(serde_json::Value::Object(obj).to_string())
    };
    let packet = Packet::new(PacketKind::Connect, 0, &nsp, None, data);
    format!("4{}", String::from_utf8_lossy(&packet.encode()))
}

proptest! {
    #[test]
    fn connect_normalization_is_idempotent(
        path in "/[a-z]{1,6}",
        query in prop::option::of(pairs()),
        auth in pairs(),
        client_v5 in any::<bool>(),
        flavor in prop::sample::select(Flavor::ALL.to_vec()),
    ) {
        let client = if client_v5 { SIO5 } else { SIO4 };
        let text = connect_text(&path, &query, &auth);
        let (once, _) = normalized(client, flavor, &text);
        let again = format!("4{}", String::from_utf8_lossy(&once));
        let (twice, _) = normalized(client, flavor, &again);
        prop_assert_eq!(&once, &twice);
        let prefix = format!("0{path}");
        prop_assert!(once.starts_with(prefix.as_bytes()));
    }

    #[test]
    fn go_legs_carry_every_query_and_auth_pair_in_their_url(
        path in "/[a-z]{1,6}",
        query in pairs(),
        auth in pairs(),
        flavor in prop::sample::select(vec![Flavor::GoLegacy, Flavor::Go14, Flavor::GoModern]),
    ) {
        let text = connect_text(&path, &Some(query.clone()), &auth);
        let (up, url) = normalized(SIO5, flavor, &text);
        prop_assert_eq!(up, Bytes::from(format!("0{path},")), "never a query in a go CONNECT");
        let auth_obj: serde_json::Map<String, serde_json::Value> = auth
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let expected = merge_query(&Query(query), &Query::from_auth(&auth_obj, true));
        prop_assert_eq!(url, expected);
    }
}
