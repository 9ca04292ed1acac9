//! One scenario per client revision × upstream flavor: connect `/` and
//! `/chat?token=abc`, an event with ack each way, an upstream push on `/`,
//! then DISCONNECT of `/chat`. Frames are compared exactly.
use super::Flavor::{self, Go14, GoLegacy, GoModern, NodeV2, V4};
use super::harness::{H, NONE, SIO4, SIO5};

/// Events with acks both ways on `/chat` over leg `leg`. The upstream tags
/// its packets with `up_nsp` and ends them with `nl` (go ≥ 1.4 adds `\n`).
fn chat_events(h: &mut H, leg: u32, up_nsp: &str, nl: &str) {
    assert_eq!(
        h.client(r#"42/chat,1["echo","hi"]"#),
        [format!(r#"U{leg} 42/chat,1["echo","hi"]"#)]
    );
    assert_eq!(
        h.up(leg, &format!(r#"43{up_nsp},1["hi"]{nl}"#)),
        [format!(r#"C 43/chat,1["hi"]{nl}"#)]
    );
    assert_eq!(
        h.up(leg, &format!(r#"42{up_nsp},7["ask","q"]{nl}"#)),
        [format!(r#"C 42/chat,7["ask","q"]{nl}"#)]
    );
    assert_eq!(
        h.client(r#"43/chat,7["yes"]"#),
        [format!(r#"U{leg} 43/chat,7["yes"]"#)]
    );
}

/// An upstream push on `/` over leg `leg` reaches the client unchanged.
fn root_push(h: &mut H, leg: u32) {
    assert_eq!(h.up(leg, r#"42["push","p1"]"#), [r#"C 42["push","p1"]"#]);
    assert_eq!(
        h.client(r#"421["echo","root"]"#),
        [format!(r#"U{leg} 421["echo","root"]"#)]
    );
}

/// SIO4 client, go flavor: `/chat` on leg 2, replies in `reply` form.
fn sio4_go(flavor: Flavor, reply: &str, up_nsp: &str, nl: &str) {
    let mut h = H::sio4_connected(flavor);
    assert_eq!(h.client("40/chat?token=abc,"), ["open 2 token=abc"]);
    assert_eq!(h.leg_open(2), ["U2 40/chat,"]);
    assert_eq!(h.up(2, "40"), NONE);
    assert_eq!(h.up(2, reply), ["C 40/chat,"]);
    chat_events(&mut h, 2, up_nsp, nl);
    root_push(&mut h, 1);
    assert_eq!(h.client("41/chat,"), ["close 2"]);
}

#[test]
fn sio4_client_through_go_legacy() {
    sio4_go(GoLegacy, "40/chat?token=abc", "/chat?token=abc", "");
}

#[test]
fn sio4_client_through_go_1_4() {
    sio4_go(Go14, "40/chat,[]\n", "/chat", "\n");
}

#[test]
fn sio4_client_through_go_modern() {
    sio4_go(GoModern, "40/chat,[]\n", "/chat", "\n");
}

#[test]
fn sio4_client_through_node_v2() {
    let mut h = H::sio4_connected(NodeV2);
    assert_eq!(h.client("40/chat?token=abc,"), ["U1 40/chat?token=abc,"]);
    assert_eq!(h.up(1, "40/chat,"), ["C 40/chat,"]);
    chat_events(&mut h, 1, "/chat", "");
    root_push(&mut h, 1);
    assert_eq!(h.client("41/chat,"), ["U1 41/chat,"]);
}

#[test]
fn sio4_client_through_v4() {
    let mut h = H::new(SIO4, V4);
    assert_eq!(h.open(), ["open 1"]);
    assert_eq!(
        h.leg_open(1),
        ["U1 40"],
        "root CONNECT sent for the SIO4 client"
    );
    assert_eq!(h.up(1, r#"40{"sid":"u0"}"#), ["C 40"], "sid stripped");
    assert_eq!(
        h.client("40/chat?token=abc,"),
        [r#"U1 40/chat,{"token":"abc"}"#]
    );
    assert_eq!(h.up(1, r#"40/chat,{"sid":"u1"}"#), ["C 40/chat,"]);
    chat_events(&mut h, 1, "/chat", "");
    root_push(&mut h, 1);
    assert_eq!(h.client("41/chat,"), ["U1 41/chat,"]);
    // CONNECT_ERROR object → SIO4 ERROR: data if set, else the message string.
    assert_eq!(h.client("40/admin,"), ["U1 40/admin,"]);
    assert_eq!(
        h.up(
            1,
            r#"44/admin,{"message":"not authorized","data":{"code":401}}"#
        ),
        [r#"C 44/admin,{"code":401}"#]
    );
    assert_eq!(h.client("40/nope,"), ["U1 40/nope,"]);
    assert_eq!(
        h.up(1, r#"44/nope,{"message":"Invalid namespace"}"#),
        [r#"C 44/nope,"Invalid namespace""#]
    );
}

/// SIO5 client, go flavor: `/` on leg 1, `/chat` on leg 2.
fn sio5_go(flavor: Flavor, reply: &str, up_nsp: &str, nl: &str) {
    let mut h = H::new(SIO5, flavor);
    assert_eq!(h.open(), NONE);
    assert_eq!(h.client("40"), ["open 1"]);
    assert_eq!(h.leg_open(1), NONE);
    assert_eq!(h.up(1, "40"), [r#"C 40{"sid":"s1"}"#]);
    assert_eq!(h.client("40/chat?token=abc,"), ["open 2 token=abc"]);
    assert_eq!(h.leg_open(2), ["U2 40/chat,"]);
    assert_eq!(h.up(2, "40"), NONE);
    assert_eq!(h.up(2, reply), [r#"C 40/chat,{"sid":"s2"}"#]);
    chat_events(&mut h, 2, up_nsp, nl);
    root_push(&mut h, 1);
    assert_eq!(h.client("41/chat,"), ["close 2"]);
    // The official v4 client puts the token in the auth object instead.
    assert_eq!(h.client(r#"40/chat,{"token":"abc"}"#), ["open 3 token=abc"]);
}

#[test]
fn sio5_client_through_go_legacy() {
    sio5_go(GoLegacy, "40/chat?token=abc", "/chat?token=abc", "");
}

#[test]
fn sio5_client_through_go_1_4() {
    sio5_go(Go14, "40/chat,[]\n", "/chat", "\n");
}

#[test]
fn sio5_client_through_go_modern() {
    sio5_go(GoModern, "40/chat,[]\n", "/chat", "\n");
}

#[test]
fn sio5_client_through_node_v2() {
    let mut h = H::new(SIO5, NodeV2);
    assert_eq!(h.client("40"), ["open 1"]);
    assert_eq!(h.leg_open(1), NONE);
    assert_eq!(h.up(1, "40"), [r#"C 40{"sid":"s1"}"#]);
    assert_eq!(h.client("40/chat?token=abc,"), ["U1 40/chat?token=abc,"]);
    assert_eq!(h.up(1, "40/chat,"), [r#"C 40/chat,{"sid":"s2"}"#]);
    chat_events(&mut h, 1, "/chat", "");
    root_push(&mut h, 1);
    assert_eq!(h.client("41/chat,"), ["U1 41/chat,"]);
}

#[test]
fn sio5_client_through_v4() {
    let mut h = H::new(SIO5, V4);
    assert_eq!(h.open(), NONE);
    assert_eq!(h.client("40"), ["open 1"]);
    assert_eq!(h.leg_open(1), ["U1 40"]);
    assert_eq!(h.up(1, r#"40{"sid":"u0"}"#), [r#"C 40{"sid":"u0"}"#]);
    assert_eq!(
        h.client("40/chat?token=abc,"),
        [r#"U1 40/chat,{"token":"abc"}"#]
    );
    assert_eq!(
        h.up(1, r#"40/chat,{"sid":"u1"}"#),
        [r#"C 40/chat,{"sid":"u1"}"#]
    );
    chat_events(&mut h, 1, "/chat", "");
    root_push(&mut h, 1);
    assert_eq!(h.client("41/chat,"), ["U1 41/chat,"]);
    assert_eq!(
        h.client(r#"40/chat,{"token":"abc"}"#),
        [r#"U1 40/chat,{"token":"abc"}"#],
        "already normalized: relayed as is"
    );
}
