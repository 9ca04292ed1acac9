//! Behaviour beyond the §5 rows: legs that close or fail, bounded buffers,
//! strictness per client revision, re-tagging corner cases, zero-copy relay.
use super::Flavor::{GoLegacy, GoModern, NodeV2, V4};
use super::harness::{H, NONE, SIO4, SIO5, closed, drop};
use super::{Options, reason};

/// SIO5 client, go-modern, `/` on leg 1 connected.
fn sio5_go_root() -> H {
    let mut h = H::new(SIO5, GoModern);
    h.client("40");
    h.leg_open(1);
    assert_eq!(h.up(1, "40"), [r#"C 40{"sid":"s1"}"#]);
    h
}

#[test]
fn leg_closing_during_connect_refuses_only_that_namespace() {
    let mut h = sio5_go_root();
    assert_eq!(h.client("40/nope,"), ["open 2"]);
    h.leg_open(2);
    assert_eq!(
        h.leg_closed(2),
        [r#"C 44/nope,{"message":"Invalid namespace"}"#]
    );
    assert_eq!(
        h.client(r#"42["still","here"]"#),
        [r#"U1 42["still","here"]"#]
    );
    let mut a = H::sio4_connected(GoModern);
    a.client("40/nope?token=abc,");
    a.leg_open(2);
    assert_eq!(a.leg_closed(2), [r#"C 44/nope,"Invalid namespace""#]);
}

#[test]
fn leg_closing_after_connect_disconnects_the_namespace() {
    let mut h = sio5_go_root();
    h.client("40/chat,");
    h.leg_open(2);
    h.up(2, "40/chat,[]\n");
    assert_eq!(h.leg_closed(2), ["C 41/chat,"]);
    assert_eq!(
        h.client(r#"42/chat,["x"]"#),
        ["close 1", &closed(reason::NOT_CONNECTED)]
    );
}

#[test]
fn root_or_multiplexed_leg_closing_closes_the_client() {
    let mut h = sio5_go_root();
    h.client("40/chat,");
    assert_eq!(
        h.leg_closed(1),
        ["close 2", &closed(reason::UPSTREAM_CLOSED)]
    );
    let mut n = H::sio4_connected(NodeV2);
    assert_eq!(n.leg_closed(1), [closed(reason::UPSTREAM_CLOSED)]);
    assert_eq!(n.up(1, r#"42["late"]"#), NONE, "inert after close");
}

#[test]
fn leg_failing_to_open_refuses_its_namespace_or_closes_the_handshake() {
    let mut h = sio5_go_root();
    h.client("40/chat,");
    assert_eq!(
        h.leg_failed(2),
        [r#"C 44/chat,{"message":"Connection refused"}"#]
    );
    let mut r = H::new(SIO5, GoLegacy);
    r.client(r#"40{"token":"bad"}"#);
    assert_eq!(r.leg_failed(1), [r#"C 44{"message":"Connection refused"}"#]);
    assert_eq!(r.client("40"), ["open 2"], "the root may be retried");
    let mut a = H::new(SIO4, GoLegacy);
    a.open();
    assert_eq!(a.leg_failed(1), [closed(reason::UPSTREAM_FAILED)]);
}

#[test]
fn too_many_held_packets_close_the_client() {
    let opts = Options {
        max_pending_packets: 2,
        ..Options::default()
    };
    let mut h = H::with(SIO5, GoLegacy, "", opts);
    h.client("40/chat,");
    assert_eq!(h.client(r#"42/chat,["1"]"#), NONE);
    assert_eq!(h.client(r#"42/chat,["2"]"#), NONE);
    assert_eq!(
        h.client(r#"42/chat,["3"]"#),
        ["close 1", &closed(reason::PENDING_OVERFLOW)]
    );
}

#[test]
fn packet_on_a_namespace_never_connected_closes_sio5_and_is_dropped_for_sio4() {
    let mut h = sio5_go_root();
    assert_eq!(
        h.client(r#"42/x,["a"]"#),
        ["close 1", &closed(reason::NOT_CONNECTED)]
    );
    let mut a = H::sio4_connected(GoLegacy);
    assert_eq!(
        a.client(r#"42/x,["a"]"#),
        [drop(reason::UNKNOWN_CLIENT_NSP)]
    );
    assert_eq!(a.client("41/x,"), [drop(reason::UNKNOWN_DISCONNECT)]);
}

#[test]
fn sio4_duplicate_connect_is_answered_again_without_upstream_traffic() {
    let mut h = H::sio4_connected(GoLegacy);
    h.client("40/chat,");
    h.leg_open(2);
    h.up(2, "40/chat");
    assert_eq!(h.client("40/chat?token=abc,"), ["C 40/chat,"]);
    assert_eq!(h.client("40"), ["C 40"]);
}

#[test]
fn client_data_tagged_with_the_connect_query_is_retagged() {
    let mut h = H::sio4_connected(GoLegacy);
    h.client("40/chat?token=abc,");
    h.leg_open(2);
    h.up(2, "40/chat?token=abc");
    assert_eq!(
        h.client(r#"42/chat?token=abc,1["echo","hi"]"#),
        [r#"U2 42/chat,1["echo","hi"]"#]
    );
}

#[test]
fn unchanged_packets_are_relayed_without_reencoding() {
    let mut h = H::sio4_connected(GoLegacy);
    h.client("40/chat,");
    h.leg_open(2);
    h.up(2, "40/chat");
    h.client(r#"42/chat,["news",{"a":1}]"#);
    let sent = h.last_upstream();
    h.up(2, r#"42/chat,["pong"]"#);
    let Some(super::Action::ToClient { msg }) = h.log.last() else {
        panic!("expected a ToClient");
    };
    // Both are slices of the decoded input (no new buffer was written).
    assert_eq!(sent.raw.as_ref(), br#"2/chat,["news",{"a":1}]"#);
    assert_eq!(sent.nsp.as_ptr(), sent.raw[1..].as_ptr());
    assert_eq!(msg.packet.nsp.as_ptr(), msg.packet.raw[1..].as_ptr());
}

#[test]
fn upstream_binary_event_is_retagged_with_its_attachments() {
    let mut h = H::sio4_connected(GoLegacy);
    h.client("40/chat?token=abc,");
    h.leg_open(2);
    h.up(2, "40/chat?token=abc");
    assert_eq!(
        h.up_bin(2, r#"452-/chat?token=abc,["f",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#, &[&[1], &[2, 3]]),
        [r#"C 452-/chat,["f",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}] + bin[01] + bin[02 03]"#]
    );
}

#[test]
fn node_v2_root_reconnect_after_disconnect_is_answered_at_once() {
    let mut h = H::new(SIO5, NodeV2);
    h.client("40");
    h.leg_open(1);
    h.up(1, "40");
    assert_eq!(h.client("41"), ["U1 41"]);
    assert_eq!(h.client("40"), ["U1 40", r#"C 40{"sid":"s2"}"#]);
    assert_eq!(h.up(1, "40"), [drop(reason::DUPLICATE_REPLY)]);
}

#[test]
fn node_v2_root_auth_after_a_namespace_cannot_reach_the_url() {
    let mut h = H::new(SIO5, NodeV2);
    assert_eq!(h.client(r#"40/chat,{"token":"abc"}"#), ["open 1"]);
    assert_eq!(h.leg_open(1), ["U1 40/chat?token=abc,"]);
    assert_eq!(h.up(1, "40"), NONE, "root held until the client asks");
    assert_eq!(h.up(1, "40/chat,"), [r#"C 40/chat,{"sid":"s1"}"#]);
    assert_eq!(
        h.client(r#"40{"token":"x"}"#),
        [
            drop(reason::LATE_ROOT_QUERY),
            r#"C 40{"sid":"s2"}"#.to_owned()
        ]
    );
}

#[test]
fn namespace_limit_answers_with_connect_error() {
    let opts = Options {
        max_namespaces: 1,
        ..Options::default()
    };
    let mut h = H::with(SIO5, GoLegacy, "", opts);
    h.client("40/a,");
    assert_eq!(
        h.client("40/b,"),
        [r#"C 44/b,{"message":"Too many namespaces"}"#]
    );
}

#[test]
fn pre_connect_packets_can_be_relayed_instead_of_dropped() {
    let opts = Options {
        drop_pre_connect_packets: false,
        ..Options::default()
    };
    let mut h = H::with(SIO4, GoLegacy, "", opts);
    h.open();
    h.leg_open(1);
    h.up(1, "40");
    h.client("40/chat,");
    h.leg_open(2);
    assert_eq!(h.up(2, r#"42["hello"]"#), [r#"C 42/chat,["hello"]"#]);
}

#[test]
fn root_traffic_on_a_go_modern_namespace_leg_is_dropped_but_go_legacy_retags() {
    let mut h = sio5_go_root();
    h.client("40/chat,");
    h.leg_open(2);
    h.up(2, "40/chat,[]\n");
    assert_eq!(
        h.up(2, "42[\"push\"]\n"),
        [drop(reason::ROOT_ON_NAMESPACE_LEG)]
    );
    let mut g = H::sio4_connected(GoLegacy);
    g.client("40/chat,");
    g.leg_open(2);
    g.up(2, "40/chat");
    assert_eq!(g.up(2, r#"42["push"]"#), [r#"C 42/chat,["push"]"#]);
}

#[test]
fn client_close_closes_every_leg() {
    let mut h = sio5_go_root();
    h.client("40/chat,");
    let mut out = Vec::new();
    h.n.on_client_closed(&mut out);
    let rendered: Vec<String> = out.iter().map(super::harness::render).collect();
    assert_eq!(rendered, ["close 1", "close 2"]);
    assert!(h.n.is_closed());
}

#[test]
fn disconnect_before_the_leg_opens_withdraws_the_queued_connect() {
    let mut h = H::new(SIO5, V4);
    assert_eq!(h.client("40/chat,"), ["open 1"]);
    assert_eq!(h.client("41/chat,"), NONE);
    assert_eq!(h.leg_open(1), NONE);
}

#[test]
fn upstream_kick_disconnects_the_namespace() {
    let mut n = H::sio4_connected(NodeV2);
    n.client("40/chat,");
    n.up(1, "40/chat,");
    assert_eq!(n.up(1, "41/chat,"), ["C 41/chat,"]);
    assert_eq!(
        n.client(r#"42/chat,["x"]"#),
        [drop(reason::UNKNOWN_CLIENT_NSP)]
    );
    let mut g = H::sio4_connected(GoLegacy);
    g.client("40/chat,");
    g.leg_open(2);
    g.up(2, "40/chat");
    assert_eq!(g.up(2, "41/chat"), ["C 41/chat,", "close 2"]);
    let mut p = H::sio4_connected(NodeV2);
    p.client("40/chat,");
    assert_eq!(p.up(1, "41/chat,"), [r#"C 44/chat,"Connection refused""#]);
}

#[test]
fn client_connect_error_packet_is_dropped() {
    let mut h = H::sio4_connected(GoLegacy);
    assert_eq!(h.client(r#"44"x""#), [drop(reason::CLIENT_CONNECT_ERROR)]);
}

#[test]
fn v4_connect_error_reaches_a_sio5_client_unchanged_and_forgets_the_namespace() {
    let mut h = H::new(SIO5, V4);
    h.client("40");
    h.leg_open(1);
    h.up(1, r#"40{"sid":"u0"}"#);
    assert_eq!(h.client("40/nope?x=1,"), [r#"U1 40/nope,{"x":"1"}"#]);
    assert_eq!(
        h.up(1, r#"44/nope,{"message":"Invalid namespace"}"#),
        [r#"C 44/nope,{"message":"Invalid namespace"}"#]
    );
    assert_eq!(h.client("40/nope,"), ["U1 40/nope,"], "may be retried");
}
