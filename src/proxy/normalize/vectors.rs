//! PROTOCOL.md §5 test vectors with an SIO4 client (mode A), one test per row,
//! asserting the exact frames (with the Engine.IO `4`) and the exact query of
//! every upstream session opened. Mode A = SIO4 client, B = SIO5 client in
//! front of an SIO4 upstream, C = SIO5 client and v4 upstream.
use super::Flavor::{GoLegacy, NodeV2, V4};
use super::harness::{H, NONE, SIO4, drop};
use super::reason;

/// A/G: SIO4 client, go-legacy, `/chat?token=abc` connected on leg 2.
fn a_g_chat() -> H {
    let mut h = H::sio4_connected(GoLegacy);
    assert_eq!(h.client("40/chat?token=abc,"), ["open 2 token=abc"]);
    assert_eq!(h.leg_open(2), ["U2 40/chat,"]);
    assert_eq!(h.up(2, "40"), NONE);
    assert_eq!(h.up(2, "40/chat?token=abc"), ["C 40/chat,"]);
    h
}

#[test]
fn vector_01_namespace_query_moves_into_the_upstream_url() {
    let mut h = H::sio4_connected(GoLegacy);
    assert_eq!(h.client("40/chat?token=abc,"), ["open 2 token=abc"]);
    assert_eq!(h.last_open_query().get("token"), Some("abc"));
    assert_eq!(h.leg_open(2), ["U2 40/chat,"]);
}

#[test]
fn vector_02_go_reply_without_comma_gets_the_client_path() {
    let mut h = H::sio4_connected(GoLegacy);
    h.client("40/chat,");
    h.leg_open(2);
    assert_eq!(h.up(2, "40"), NONE, "go's own root CONNECT on the leg");
    assert_eq!(h.up(2, "40/chat"), ["C 40/chat,"]);
}

#[test]
fn vector_03_go_reply_echoing_the_query_gets_the_client_path() {
    a_g_chat();
}

#[test]
fn vector_04_event_tagged_with_the_query_is_retagged() {
    let mut h = a_g_chat();
    assert_eq!(
        h.up(2, "42/chat?token=abc,[\"news\",1]"),
        ["C 42/chat,[\"news\",1]"]
    );
}

#[test]
fn vector_05_client_event_keeps_its_ack_id() {
    let mut h = a_g_chat();
    assert_eq!(
        h.client("42/chat,5[\"ping2\",\"x\"]"),
        ["U2 42/chat,5[\"ping2\",\"x\"]"]
    );
}

#[test]
fn vector_06_upstream_ack_is_retagged_with_its_id() {
    let mut h = a_g_chat();
    assert_eq!(
        h.up(2, "43/chat?token=abc,5[\"ack:x\"]"),
        ["C 43/chat,5[\"ack:x\"]"]
    );
}

#[test]
fn vector_07_upstream_packet_before_the_connect_reply_is_dropped() {
    let mut h = H::sio4_connected(GoLegacy);
    h.client("40/chat,");
    h.leg_open(2);
    h.up(2, "40");
    assert_eq!(
        h.up(2, "42[\"hello\",\"world\"]"),
        [drop(reason::PRE_CONNECT)]
    );
    assert_eq!(h.up(2, "40/chat"), ["C 40/chat,"]);
}

#[test]
fn vector_08_client_disconnect_closes_the_go_leg_instead_of_forwarding() {
    let mut h = a_g_chat();
    assert_eq!(h.client("41/chat,"), ["close 2"]);
    assert_eq!(h.up(2, "42/chat,[\"late\"]"), [drop(reason::CLOSED_LEG)]);
    assert_eq!(
        h.client("42/chat,[\"x\"]"),
        [drop(reason::UNKNOWN_CLIENT_NSP)]
    );
}

#[test]
fn vector_09_node_v2_gets_the_query_in_the_connect() {
    let mut h = H::sio4_connected(NodeV2);
    assert_eq!(h.client("40/chat?token=abc,"), ["U1 40/chat?token=abc,"]);
    assert_eq!(h.up(1, "40/chat,"), ["C 40/chat,"]);
}

#[test]
fn vector_10_empty_query_is_dropped() {
    let mut g = H::sio4_connected(GoLegacy);
    assert_eq!(g.client("40/chat?,"), ["open 2"]);
    assert_eq!(g.leg_open(2), ["U2 40/chat,"]);
    assert_eq!(g.up(2, "40/chat?"), ["C 40/chat,"]);
    let mut n = H::sio4_connected(NodeV2);
    assert_eq!(n.client("40/chat?,"), ["U1 40/chat,"]);
    assert_eq!(n.up(1, "40/chat,"), ["C 40/chat,"]);
}

#[test]
fn vector_11_comma_inside_the_query_is_recovered_and_encoded() {
    let mut g = H::sio4_connected(GoLegacy);
    assert_eq!(g.client("40/chat?tags=a,b,"), ["open 2 tags=a%2Cb"]);
    assert_eq!(g.last_open_query().get("tags"), Some("a,b"));
    assert_eq!(g.leg_open(2), ["U2 40/chat,"]);
    let mut n = H::sio4_connected(NodeV2);
    assert_eq!(n.client("40/chat?tags=a,b,"), ["U1 40/chat?tags=a%2Cb,"]);
}

#[test]
fn vector_12_query_is_form_decoded_and_reencoded() {
    let mut h = H::sio4_connected(GoLegacy);
    assert_eq!(
        h.client("40/chat?q=a%20b&q=c&x=%E2%82%AC,"),
        ["open 2 q=a%20b&q=c&x=%E2%82%AC"]
    );
    let query = h.last_open_query();
    let pairs: Vec<(&str, &str)> = query
        .0
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(pairs, [("q", "a b"), ("q", "c"), ("x", "€")]);
}

#[test]
fn vector_13_root_with_query_is_answered_once_without_upstream_connect() {
    for flavor in [GoLegacy, NodeV2, V4] {
        let mut h = H::sio4_connected(flavor);
        assert_eq!(h.client("40/?token=abc,"), ["C 40"], "{flavor}");
    }
    // Before the upstream's root reply: the one reply that comes answers both.
    let mut h = H::new(SIO4, GoLegacy);
    h.open();
    h.leg_open(1);
    assert_eq!(h.client("40/?token=abc,"), NONE);
    assert_eq!(h.up(1, "40"), ["C 40"]);
}

#[test]
fn vector_14_namespace_path_is_not_percent_decoded() {
    let mut h = H::sio4_connected(GoLegacy);
    assert_eq!(h.client("40/ch%61t,"), ["open 2"]);
    assert_eq!(h.leg_open(2), ["U2 40/ch%61t,"]);
    assert_eq!(h.up(2, "40/ch%61t"), ["C 40/ch%61t,"]);
    assert_eq!(h.client("42/ch%61t,[\"x\"]"), ["U2 42/ch%61t,[\"x\"]"]);
}

#[test]
fn vector_15_binary_event_travels_with_its_attachment() {
    let mut h = a_g_chat();
    assert_eq!(
        h.client_bin(
            "451-/chat,3[\"up\",{\"_placeholder\":true,\"num\":0}]",
            &[&[1, 2, 3]]
        ),
        ["U2 451-/chat,3[\"up\",{\"_placeholder\":true,\"num\":0}] + bin[01 02 03]"]
    );
}

#[test]
fn vector_go_legacy_two_namespaces_replies_come_back_on_their_own_leg() {
    let mut h = H::sio4_connected(GoLegacy);
    h.client("40/a,");
    assert_eq!(h.leg_open(2), ["U2 40/a,"]);
    h.up(2, "40");
    assert_eq!(h.up(2, "40/a"), ["C 40/a,"]);
    assert_eq!(h.client("40/b?x=1,"), ["open 3 x=1"]);
    assert_eq!(h.leg_open(3), ["U3 40/b,"]);
    h.up(3, "40");
    assert_eq!(h.up(3, "40/b?x=1"), ["C 40/b,"]);
    assert_eq!(
        h.client("42/a,[\"ping2\",\"to-a\"]"),
        ["U2 42/a,[\"ping2\",\"to-a\"]"]
    );
    // Even go's "last CONNECT wins" tagging is mapped back by leg.
    assert_eq!(
        h.up(2, "42/b?x=1,[\"pong2\",\"to-a\"]"),
        ["C 42/a,[\"pong2\",\"to-a\"]"]
    );
    assert_eq!(
        h.up(3, "42/b?x=1,[\"pong2\",\"to-b\"]"),
        ["C 42/b,[\"pong2\",\"to-b\"]"]
    );
}
