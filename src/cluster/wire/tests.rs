//! Wire tests against bytes captured from the real `@socket.io/redis-emitter`
//! 5.1.0: `tests/js/emit.js` publishing to a redis-server while a
//! `PSUBSCRIBE socket.io*` client printed each message's channel and hex.
//! The cluster integration tests (`tests/cluster_*.rs`) replay the same
//! emitter live.
use super::request::*;
use super::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn text(p: &SioPacket) -> &str {
    std::str::from_utf8(&p.text).unwrap()
}

/// `emitter.of("/chat").to("r1").emit("news", 1, "x", {a: true})` on
/// channel `socket.io#/chat#r1#`.
const EMIT_ROOM: &str = "93a7656d697474657283a47479706502a46461746194a46e65777301a17881a161c3a36e7370a52f6368617483a5726f6f6d7391a27231a5666c61677380a665786365707490";
/// `emitter.except("r2").emit("file", Buffer[1,2,3], {k: Buffer[9]})` on
/// channel `socket.io#/#`.
const EMIT_BINARY: &str = "93a7656d697474657283a47479706502a46461746193a466696c65c40301020381a16bc40109a36e7370a12f83a5726f6f6d7390a5666c61677380a665786365707491a27232";
/// `emitter.of("/chat").to(["r1","r2"]).except("x").emit("multi")` on
/// channel `socket.io#/chat#`.
const EMIT_MULTI: &str = "93a7656d697474657283a47479706502a46461746191a56d756c7469a36e7370a52f6368617483a5726f6f6d7392a27231a27232a5666c61677380a665786365707491a178";
/// `emitter.of("/chat").to("sid1").socketsJoin("r3")` on
/// `socket.io-request#/chat#`.
const JOIN: &str = r#"{"type":2,"opts":{"rooms":["sid1"],"except":[]},"rooms":["r3"]}"#;
/// `emitter.of("/chat").to("sid1").disconnectSockets(true)`.
const DISCONNECT: &str = r#"{"type":4,"opts":{"rooms":["sid1"],"except":[]},"close":true}"#;

#[test]
fn channels_follow_the_node_adapter_names() {
    let c = Channels::new(DEFAULT_PREFIX, "/chat");
    assert_eq!(c.broadcast(), "socket.io#/chat#");
    assert_eq!(c.room("r1"), "socket.io#/chat#r1#");
    assert_eq!(c.pattern(), "socket.io#/chat#*");
    assert_eq!(c.request(), "socket.io-request#/chat#");
    assert_eq!(c.response(), "socket.io-response#/chat#");
    assert_eq!(c.response_for("n1"), "socket.io-response#/chat#n1#");
    assert_eq!(c.for_rooms(&["r1".into()]), "socket.io#/chat#r1#");
    assert_eq!(c.for_rooms(&["a".into(), "b".into()]), "socket.io#/chat#");
    assert_eq!(c.for_rooms(&[]), "socket.io#/chat#");
    assert_eq!(c.room_of("socket.io#/chat#"), Some(None));
    assert_eq!(c.room_of("socket.io#/chat#r#1#"), Some(Some("r#1")));
    assert_eq!(c.room_of("socket.io#/other#"), None);
    assert_eq!(Channels::new("k", "/a*b").pattern(), r"k#/a\*b#*");
}

#[test]
fn emitter_room_broadcast_decodes_to_a_client_packet() {
    let b = decode_broadcast(&hex(EMIT_ROOM)).unwrap();
    assert_eq!(b.uid, "emitter");
    assert_eq!(b.nsp, "/chat");
    assert_eq!(text(&b.packet), r#"2/chat,["news",1,"x",{"a":true}]"#);
    assert!(b.packet.attachments.is_empty());
    assert_eq!(b.targets.rooms, vec!["r1".to_string()]);
    assert!(b.targets.except.is_empty() && b.targets.socket.is_none());
}

#[test]
fn emitter_binary_args_become_attachments() {
    let b = decode_broadcast(&hex(EMIT_BINARY)).unwrap();
    assert_eq!(b.nsp, "/");
    assert_eq!(
        text(&b.packet),
        r#"52-["file",{"_placeholder":true,"num":0},{"k":{"_placeholder":true,"num":1}}]"#
    );
    assert_eq!(
        b.packet.attachments,
        vec![Bytes::from_static(&[1, 2, 3]), Bytes::from_static(&[9])]
    );
    assert_eq!(b.targets.except, vec!["r2".to_string()]);
}

#[test]
fn our_encoding_is_byte_identical_to_the_emitter() {
    for fixture in [EMIT_ROOM, EMIT_BINARY, EMIT_MULTI] {
        let bytes = hex(fixture);
        let b = decode_broadcast(&bytes).unwrap();
        let again = encode_broadcast("emitter", &b.packet, &b.targets).unwrap();
        assert_eq!(again, bytes, "{fixture}");
    }
}

#[test]
fn one_socket_goes_as_its_room_and_with_rooms_as_an_extension() {
    let packet = SioPacket {
        text: Bytes::from_static(br#"2/chat,["e"]"#),
        attachments: vec![],
    };
    let alone = Targets {
        socket: Some("s1".into()),
        ..Targets::default()
    };
    let b = decode_broadcast(&encode_broadcast("n1", &packet, &alone).unwrap()).unwrap();
    assert_eq!(
        (b.targets.rooms.clone(), b.targets.socket.clone()),
        (vec!["s1".to_string()], None)
    );
    let both = Targets {
        rooms: vec!["r".into()],
        socket: Some("s1".into()),
        except: vec!["x".into()],
        volatile: true,
    };
    let b = decode_broadcast(&encode_broadcast("n1", &packet, &both).unwrap()).unwrap();
    assert_eq!(b.targets, both);
    assert_eq!(b.uid, "n1");
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for bad in [
        &b""[..],
        b"\xc1",
        b"\x93\xa1x",
        b"\x91\x01",
        b"\x93\x01\x02\x03",
    ] {
        assert!(decode_broadcast(bad).is_err(), "{bad:?}");
    }
    // A CONNECT packet is not something a broadcast may carry.
    let msg = hex("93a1788202a4747970650000");
    assert!(decode_broadcast(&msg).is_err());
    assert!(decode_request(b"{").is_err());
    assert!(decode_request(br#"{"type":99}"#).is_err());
    assert!(decode_response(br#"{"sockets":[]}"#).is_err());
}

#[test]
fn emitter_requests_decode() {
    let r = decode_request(JOIN.as_bytes()).unwrap();
    assert_eq!(r.kind, RequestType::RemoteJoin);
    assert_eq!((r.uid.as_deref(), r.request_id.as_deref()), (None, None));
    assert_eq!(r.targets.rooms, vec!["sid1".to_string()]);
    assert_eq!(r.rooms, vec!["r3".to_string()]);
    let r = decode_request(DISCONNECT.as_bytes()).unwrap();
    assert_eq!(r.kind, RequestType::RemoteDisconnect);
    assert!(r.close);
}

#[test]
fn requests_round_trip() {
    let mut r = Request::new(
        RequestType::RemoteLeave,
        "n1",
        Some("q1".into()),
        Targets {
            socket: Some("s".into()),
            ..Targets::default()
        },
    );
    r.rooms = vec!["a".into()];
    let bytes = encode_request(&r).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let want = r#"{"uid":"n1","requestId":"q1","type":3,"opts":{"rooms":["s"],"except":[]},"rooms":["a"]}"#;
    assert_eq!(
        json,
        serde_json::from_str::<serde_json::Value>(want).unwrap()
    );
    let back = decode_request(&bytes).unwrap();
    assert_eq!(back.targets.rooms, vec!["s".to_string()]);
    assert_eq!(back.rooms, r.rooms);

    let mut b = Request::new(
        RequestType::Broadcast,
        "n1",
        Some("q2".into()),
        Targets::default(),
    );
    b.packet = Some(SioPacket {
        text: Bytes::from_static(br#"51-/chat,["ask",{"_placeholder":true,"num":0}]"#),
        attachments: vec![Bytes::from_static(b"z")],
    });
    b.timeout_ms = Some(1500);
    let back = decode_request(&encode_request(&b).unwrap()).unwrap();
    assert_eq!(back.kind, RequestType::Broadcast);
    assert_eq!(back.timeout_ms, Some(1500));
    assert_eq!(back.packet, b.packet);
}

#[test]
fn responses_round_trip() {
    let mut r = Response::new("q1");
    r.sockets = Some(vec![RemoteSocket {
        id: "s".into(),
        rooms: vec!["s".into(), "r".into()],
    }]);
    let back = decode_response(&encode_response(&r)).unwrap();
    assert_eq!(back.sockets, r.sockets);
    let mut c = Response::new("q2");
    c.count = Some(3);
    assert_eq!(
        decode_response(&encode_response(&c)).unwrap().count,
        Some(3)
    );
    let mut a = Response::new("q3");
    a.kind = Some(RequestType::BroadcastAck);
    a.ack_args = vec![serde_json::json!({"ok": 1}), serde_json::json!("two")];
    let back = decode_response(&encode_response(&a)).unwrap();
    assert_eq!(back.ack_args, a.ack_args);
    // A Node adapter's ack carries the first argument only, as `packet`.
    let node = rmpv::Value::Map(vec![
        (rmpv::Value::from("type"), rmpv::Value::from(9)),
        (rmpv::Value::from("requestId"), rmpv::Value::from("q4")),
        (rmpv::Value::from("packet"), rmpv::Value::from("yes")),
    ]);
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, &node).unwrap();
    assert_eq!(
        decode_response(&bytes).unwrap().ack_args,
        vec![serde_json::json!("yes")]
    );
}
