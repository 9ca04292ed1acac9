//! PROTOCOL.md §5 test vectors with an SIO5 client (modes B and C, row 52 and
//! the go-legacy extra rows), one test per row, asserting the exact frames
//! (with the Engine.IO `4`) and the exact query of every upstream session
//! opened. B = SIO5 client in front of an SIO4 upstream, C = v4 upstream.
use super::Flavor::{GoLegacy, GoModern, NodeV2, V4};
use super::harness::{H, NONE, SIO5, closed, drop};
use super::reason;

#[test]
fn vector_23_sio5_root_connect_is_answered_with_a_generated_sid() {
    for flavor in [GoLegacy, NodeV2] {
        let mut h = H::new(SIO5, flavor);
        assert_eq!(h.open(), NONE, "SIO5: nothing before the client's CONNECT");
        assert_eq!(h.client("40"), ["open 1"]);
        assert_eq!(h.leg_open(1), NONE);
        assert_eq!(h.up(1, "40"), ["C 40{\"sid\":\"s1\"}"]);
    }
}

#[test]
fn vector_24_sio5_root_auth_goes_into_the_upstream_url() {
    let mut h = H::with(SIO5, GoLegacy, "lang=en&token=old", Default::default());
    assert_eq!(
        h.client("40{\"token\":\"abc\"}"),
        ["open 1 lang=en&token=abc"]
    );
    assert_eq!(h.leg_open(1), NONE);
    assert_eq!(h.up(1, "40"), ["C 40{\"sid\":\"s1\"}"]);
}

/// B/N: SIO5 client, node-v2, root connected on leg 1.
fn b_n_root() -> H {
    let mut h = H::new(SIO5, NodeV2);
    assert_eq!(h.client("40"), ["open 1"]);
    h.leg_open(1);
    assert_eq!(h.up(1, "40"), ["C 40{\"sid\":\"s1\"}"]);
    h
}

#[test]
fn vector_25_node_v2_gets_sio5_auth_as_connect_query() {
    let mut h = b_n_root();
    assert_eq!(
        h.client("40/chat,{\"token\":\"abc\"}"),
        ["U1 40/chat?token=abc,"]
    );
    assert_eq!(h.up(1, "40/chat,"), ["C 40/chat,{\"sid\":\"s2\"}"]);
}

#[test]
fn vector_26_go_gets_sio5_auth_in_a_new_upstream_url() {
    let mut h = H::new(SIO5, GoLegacy);
    assert_eq!(
        h.client("40/chat,{\"token\":\"abc\"}"),
        ["open 1 token=abc"]
    );
    assert_eq!(h.leg_open(1), ["U1 40/chat,"]);
    assert_eq!(h.up(1, "40"), NONE);
    assert_eq!(h.up(1, "40/chat"), ["C 40/chat,{\"sid\":\"s1\"}"]);
}

#[test]
fn vector_27_every_upstream_reply_form_becomes_a_sio5_reply() {
    for (flavor, reply) in [
        (GoLegacy, "40/chat"),
        (GoLegacy, "40/chat,"),
        (GoModern, "40/chat,[]\n"),
    ] {
        let mut h = H::new(SIO5, flavor);
        h.client("40/chat,");
        assert_eq!(h.leg_open(1), ["U1 40/chat,"]);
        h.up(1, "40");
        assert_eq!(h.up(1, reply), ["C 40/chat,{\"sid\":\"s1\"}"], "{reply:?}");
    }
    let mut n = b_n_root();
    n.client("40/chat,");
    assert_eq!(n.up(1, "40/chat,"), ["C 40/chat,{\"sid\":\"s2\"}"]);
}

#[test]
fn vector_28_sio4_error_string_becomes_connect_error_object() {
    let mut h = b_n_root();
    assert_eq!(h.client("40/nope,"), ["U1 40/nope,"]);
    assert_eq!(
        h.up(1, "44/nope,\"Invalid namespace\""),
        ["C 44/nope,{\"message\":\"Invalid namespace\"}"]
    );
    assert_eq!(
        h.client("40/nope,"),
        ["U1 40/nope,"],
        "a refused namespace may be retried"
    );
}

#[test]
fn vector_29_sio4_error_object_becomes_connect_error_with_data() {
    let mut h = b_n_root();
    h.client("40/secure,");
    assert_eq!(
        h.up(1, "44/secure,{\"code\":401}"),
        ["C 44/secure,{\"message\":\"Connection refused\",\"data\":{\"code\":401}}"]
    );
}

#[test]
fn vector_32_sio5_binary_event_reaches_the_sio4_upstream_with_its_attachment() {
    let mut h = H::new(SIO5, GoLegacy);
    h.client("40");
    h.leg_open(1);
    h.up(1, "40");
    assert_eq!(
        h.client_bin(
            "451-[\"up\",{\"_placeholder\":true,\"num\":0}]",
            &[&[1, 2, 3]]
        ),
        ["U1 451-[\"up\",{\"_placeholder\":true,\"num\":0}] + bin[01 02 03]"]
    );
}

#[test]
fn vector_33_upstream_binary_ack_reaches_the_sio5_client_with_its_attachment() {
    let mut h = H::new(SIO5, GoLegacy);
    h.client("40");
    h.leg_open(1);
    h.up(1, "40");
    assert_eq!(
        h.up_bin(1, "461-3[{\"_placeholder\":true,\"num\":0}]", &[&[9, 8]]),
        ["C 461-3[{\"_placeholder\":true,\"num\":0}] + bin[09 08]"]
    );
}

#[test]
fn vector_35_reserved_event_from_upstream_is_dropped_for_sio5_clients() {
    let mut h = H::new(SIO5, GoLegacy);
    h.client("40");
    h.leg_open(1);
    h.up(1, "40");
    assert_eq!(
        h.up(1, "42[\"disconnect\"]"),
        [drop(reason::RESERVED_EVENT)]
    );
    // An SIO4 client gets what go would have sent it.
    let mut a = H::sio4_connected(GoLegacy);
    assert_eq!(a.up(1, "42[\"disconnect\"]"), ["C 42[\"disconnect\"]"]);
}

#[test]
fn vector_36_client_packets_wait_for_the_namespace_connect() {
    let mut h = H::new(SIO5, GoLegacy);
    assert_eq!(h.client("40/chat,"), ["open 1"]);
    assert_eq!(h.client("42/chat,[\"x\"]"), NONE);
    assert_eq!(h.leg_open(1), ["U1 40/chat,"]);
    assert_eq!(h.up(1, "40"), NONE);
    assert_eq!(
        h.up(1, "40/chat"),
        ["C 40/chat,{\"sid\":\"s1\"}", "U1 42/chat,[\"x\"]"]
    );
}

/// C: SIO5 client, v4 upstream; `/` connected on leg 1.
fn c_root() -> H {
    let mut h = H::new(SIO5, V4);
    assert_eq!(h.client("40"), ["open 1"]);
    assert_eq!(h.leg_open(1), ["U1 40"]);
    assert_eq!(h.up(1, "40{\"sid\":\"u0\"}"), ["C 40{\"sid\":\"u0\"}"]);
    h
}

#[test]
fn vector_37_v4_gets_the_namespace_query_as_auth() {
    let mut h = c_root();
    assert_eq!(
        h.client("40/chat?token=abc,"),
        ["U1 40/chat,{\"token\":\"abc\"}"]
    );
}

#[test]
fn vector_38_v4_auth_wins_over_the_namespace_query() {
    let mut h = c_root();
    assert_eq!(
        h.client("40/chat?token=abc&y=2,{\"token\":\"zzz\"}"),
        ["U1 40/chat,{\"token\":\"zzz\",\"y\":\"2\"}"]
    );
}

#[test]
fn vector_39_v4_connect_reply_is_relayed_unchanged() {
    let mut h = c_root();
    h.client("40/chat,{\"pid\":\"p0\",\"offset\":\"o1\"}");
    assert_eq!(
        h.last_upstream().encode(),
        "0/chat,{\"pid\":\"p0\",\"offset\":\"o1\"}",
        "pid/offset kept for a v4 upstream"
    );
    assert_eq!(
        h.up(1, "40/chat,{\"sid\":\"u1\",\"pid\":\"p1\"}"),
        ["C 40/chat,{\"sid\":\"u1\",\"pid\":\"p1\"}"]
    );
}

#[test]
fn vector_52_second_connect_from_a_sio5_client_closes_it() {
    for flavor in [GoLegacy, NodeV2, V4] {
        let mut h = H::new(SIO5, flavor);
        h.client("40/chat,");
        let out = h.client("40/chat,");
        assert_eq!(
            out,
            ["close 1", &closed(reason::DUPLICATE_CONNECT)],
            "{flavor}"
        );
        assert!(h.n.is_closed());
        assert_eq!(h.up(1, "40/chat"), NONE, "inert after close");
    }
}

#[test]
fn vector_go_legacy_sio5_root_auth_reply_is_go_plain_40() {
    let mut h = H::new(SIO5, GoLegacy);
    assert_eq!(h.client("40{\"token\":\"abc\"}"), ["open 1 token=abc"]);
    assert_eq!(
        h.leg_open(1),
        NONE,
        "no CONNECT upstream: go connects / by itself"
    );
    assert_eq!(h.up(1, "40"), ["C 40{\"sid\":\"s1\"}"]);
}

#[test]
fn vector_go_legacy_sio5_namespace_auth_reply_is_go_bare_path() {
    let mut h = H::new(SIO5, GoLegacy);
    assert_eq!(
        h.client("40/chat,{\"token\":\"abc\"}"),
        ["open 1 token=abc"]
    );
    assert_eq!(h.leg_open(1), ["U1 40/chat,"]);
    h.up(1, "40");
    assert_eq!(h.up(1, "40/chat"), ["C 40/chat,{\"sid\":\"s1\"}"]);
}
