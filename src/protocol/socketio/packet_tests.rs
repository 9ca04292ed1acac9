//! Table tests of the packet codec with literal wire texts (the Engine.IO
//! `4` is already stripped), PROTOCOL.md §5 vectors as `vector_NN_*`, and
//! property tests (round trip, totality).
use super::*;
use crate::protocol::socketio::connect::Target;
use PacketKind::*;
use Revision::{V4, V5};

/// kind, attachments, nsp, ack id, data, event.
type Fields<'a> = (
    PacketKind,
    usize,
    &'a str,
    Option<u64>,
    &'a str,
    Option<&'a str>,
);
/// kind, attachments, nsp, ack id, data, expected wire text.
type Parts<'a> = (PacketKind, usize, &'a str, Option<u64>, &'a str, &'a str);

fn dec(rev: Revision, s: &'static str) -> Result<Packet, ParseError> {
    Packet::decode(rev, Bytes::from_static(s.as_bytes()))
}

fn lenient(rev: Revision, s: &'static str) -> Result<Packet, ParseError> {
    Packet::decode_lenient(rev, Bytes::from_static(s.as_bytes()))
}

fn fields(p: &Packet) -> Fields<'_> {
    (
        p.kind,
        p.attachments,
        p.nsp_str(),
        p.ack_id,
        std::str::from_utf8(&p.data).unwrap(),
        p.event.as_deref().map(|e| std::str::from_utf8(e).unwrap()),
    )
}

fn check(rev: Revision, input: &'static str, want: Fields<'_>) {
    let p = dec(rev, input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
    assert_eq!(fields(&p), want, "{input:?}");
    assert_eq!(p.raw, input.as_bytes(), "raw is the input");
    assert_eq!(p.encode(), input.as_bytes());
}

#[test]
#[rustfmt::skip]
fn protocol_examples_decode() {
    let rows: &[(Revision, &str, Fields)] = &[
        (V4, r#"2/admin,456["project:delete",123]"#, (Event, 0, "/admin", Some(456), r#"["project:delete",123]"#, Some("project:delete"))),
        (V5, r#"3/admin,456[]"#, (Ack, 0, "/admin", Some(456), "[]", None)),
        (V4, r#"4/admin,"Not authorized""#, (ConnectError, 0, "/admin", None, r#""Not authorized""#, None)),
        (V5, r#"4{"message":"Not authorized"}"#, (ConnectError, 0, "/", None, r#"{"message":"Not authorized"}"#, None)),
        (V5, r#"61-/admin,456[{"_placeholder":true,"num":0}]"#, (BinaryAck, 1, "/admin", Some(456), r#"[{"_placeholder":true,"num":0}]"#, None)),
        (V5, r#"51-["baz",{"_placeholder":true,"num":0}]"#, (BinaryEvent, 1, "/", None, r#"["baz",{"_placeholder":true,"num":0}]"#, Some("baz"))),
        (V5, r#"2["foo"]"#, (Event, 0, "/", None, r#"["foo"]"#, Some("foo"))),
        (V5, r#"2[7,"x"]"#, (Event, 0, "/", None, r#"[7,"x"]"#, None)),
        (V5, r#"2["a\"b"]"#, (Event, 0, "/", None, r#"["a\"b"]"#, Some(r#"a\"b"#))),
        (V4, "0", (Connect, 0, "/", None, "", None)),
        (V4, "0/admin,", (Connect, 0, "/admin", None, "", None)),
        (V5, r#"0/chat,{"token":"abc"}"#, (Connect, 0, "/chat", None, r#"{"token":"abc"}"#, None)),
        (V5, r#"0{"sid":"HHPWsUiSfOrQQXwpAAAB"}"#, (Connect, 0, "/", None, r#"{"sid":"HHPWsUiSfOrQQXwpAAAB"}"#, None)),
        (V4, "1/admin,", (Disconnect, 0, "/admin", None, "", None)),
        (V4, "1", (Disconnect, 0, "/", None, "", None)),
        (V5, r#"2/chat,5["ping2","x"]"#, (Event, 0, "/chat", Some(5), r#"["ping2","x"]"#, Some("ping2"))),
        (V5, r#"2007["a"]"#, (Event, 0, "/", Some(7), r#"["a"]"#, Some("a"))),
        (V5, r#"29007199254740991["a"]"#, (Event, 0, "/", Some(9_007_199_254_740_991), r#"["a"]"#, Some("a"))),
        (V5, r#"510-["a"]"#, (BinaryEvent, 10, "/", None, r#"["a"]"#, Some("a"))),
        // go-socket.io forms: no trailing comma, query kept in the nsp, trailing newline.
        (V4, "0/chat", (Connect, 0, "/chat", None, "", None)),
        (V4, "0/chat?token=abc", (Connect, 0, "/chat?token=abc", None, "", None)),
        (V4, r#"2/chat?token=abc,["news",1]"#, (Event, 0, "/chat?token=abc", None, r#"["news",1]"#, Some("news"))),
        (V4, "3/chat?token=abc,5[\"ack:x\"]", (Ack, 0, "/chat?token=abc", Some(5), "[\"ack:x\"]", None)),
        (V4, "3/chat,1[\"hi\"]\n", (Ack, 0, "/chat", Some(1), "[\"hi\"]\n", None)),
        (V4, "2[\"msg\",\"recv: hello\"]\n", (Event, 0, "/", None, "[\"msg\",\"recv: hello\"]\n", Some("msg"))),
        // SIO4 has no reserved names.
        (V4, r#"2["disconnect"]"#, (Event, 0, "/", None, r#"["disconnect"]"#, Some("disconnect"))),
        // Recovery rule (§4.4) and its non-triggers.
        (V4, "0/chat?tags=a,b,", (Connect, 0, "/chat?tags=a,b", None, "", None)),
        (V4, "0/chat?tags=a,b", (Connect, 0, "/chat?tags=a,b", None, "", None)),
        (V4, "0/chat?tags=a,b,c", (Connect, 0, "/chat?tags=a,b,c", None, "", None)),
        (V5, r#"0/chat?t=a,b,{"token":"x"}"#, (Connect, 0, "/chat?t=a,b", None, r#"{"token":"x"}"#, None)),
        (V5, r#"0/chat?token=abc,{"a":1,"b":2}"#, (Connect, 0, "/chat?token=abc", None, r#"{"a":1,"b":2}"#, None)),
        (V4, "0/chat?,", (Connect, 0, "/chat?", None, "", None)),
        (V4, "0/?token=abc,", (Connect, 0, "/?token=abc", None, "", None)),
    ];
    for (rev, input, want) in rows {
        check(*rev, input, *want);
    }
}

#[test]
#[rustfmt::skip]
fn malformed_packets_are_rejected() {
    let long_nsp: &'static str = format!("0/{},", "a".repeat(MAX_NSP_LEN)).leak();
    let rows: &[(Revision, &str, ParseError)] = &[
        (V5, "", ParseError::Empty),
        (V5, "7", ParseError::UnknownType(b'7')),
        (V5, "x", ParseError::UnknownType(b'x')),
        (V5, "5", ParseError::InvalidAttachments),
        (V5, "5-[\"x\"]", ParseError::InvalidAttachments),
        (V5, "51[\"x\"]", ParseError::InvalidAttachments),
        (V5, "5a-[\"x\"]", ParseError::InvalidAttachments),
        (V5, "5999999999999999999999-[\"x\"]", ParseError::InvalidAttachments),
        (V5, long_nsp, ParseError::NamespaceTooLong),
        (V5, "299999999999999999999999999999[\"a\"]", ParseError::InvalidAckId),
        (V5, "29007199254740992[\"a\"]", ParseError::InvalidAckId),
        (V5, "2", ParseError::InvalidPayload),
        (V5, "2/chat,", ParseError::InvalidPayload),
        (V5, "2[]", ParseError::InvalidPayload),
        (V5, "2[null]", ParseError::InvalidPayload),
        (V5, "2[[\"a\"]]", ParseError::InvalidPayload),
        (V5, "2\"a\"", ParseError::InvalidPayload),
        (V5, "3{}", ParseError::InvalidPayload),
        (V5, "3", ParseError::InvalidPayload),
        (V5, "0[]", ParseError::InvalidPayload),
        (V5, "0\"x\"", ParseError::InvalidPayload),
        (V5, "1{}", ParseError::InvalidPayload),
        (V5, "4", ParseError::InvalidPayload),
        (V5, "4\"Not authorized\"", ParseError::InvalidPayload),
        (V4, "4[1]", ParseError::InvalidPayload),
        (V4, "4", ParseError::InvalidPayload),
        (V5, "0\n", ParseError::InvalidJson),
        (V5, "2/chat,abc[\"x\"]", ParseError::InvalidJson),
        (V5, "2,[\"a\"]", ParseError::InvalidJson),
        (V5, "2[\"a\"]x", ParseError::InvalidJson),
        (V5, "2[\"connect\"]", ParseError::ReservedEvent),
        (V5, "2[\"conn\\u0065ct\"]", ParseError::ReservedEvent),
        (V5, "2/chat,1[\"newListener\",1]", ParseError::ReservedEvent),
        (V5, "51-[\"removeListener\",{\"_placeholder\":true,\"num\":0}]", ParseError::ReservedEvent),
    ];
    for (rev, input, want) in rows {
        assert_eq!(
            dec(*rev, input).as_ref().map(fields),
            Err(want),
            "{input:?}"
        );
    }
}

#[test]
fn invalid_utf8_is_rejected() {
    let p = Packet::decode(V5, Bytes::from_static(b"2[\"\xff\"]"));
    assert_eq!(p, Err(ParseError::InvalidUtf8));
    let p = Packet::decode(V5, Bytes::from_static(b"0/\xc3,"));
    assert_eq!(p, Err(ParseError::InvalidUtf8));
}

#[test]
fn lenient_mode_accepts_what_upstreams_send() {
    // go-socket.io v1.7.0 CONNECT replies with a stray `[]` and a newline.
    let p = lenient(V4, "0/chat,[]\n").unwrap();
    assert_eq!(fields(&p), (Connect, 0, "/chat", None, "[]\n", None));
    assert_eq!(dec(V4, "0/chat,[]\n"), Err(ParseError::InvalidPayload));
    let p = lenient(V4, "0[]\n").unwrap();
    assert_eq!(fields(&p), (Connect, 0, "/", None, "[]\n", None));
    // Whitespace-only payloads count as absent.
    assert_eq!(lenient(V4, "1/chat,\n").unwrap().kind, Disconnect);
    assert_eq!(dec(V4, "1/chat,\n"), Err(ParseError::InvalidJson));
    // Reserved names decode; the caller drops them.
    let p = lenient(V5, r#"2["disconnect"]"#).unwrap();
    assert!(p.is_reserved_event());
    assert!(!lenient(V5, r#"2["news"]"#).unwrap().is_reserved_event());
    // SIO5 CONNECT_ERROR as a string (socket.io-parser 4 accepts it).
    assert_eq!(
        lenient(V5, "4/nope,\"Invalid namespace\"").unwrap().kind,
        ConnectError
    );
    // Still rejects real junk.
    assert_eq!(lenient(V5, "2[\"x\""), Err(ParseError::InvalidJson));
    assert_eq!(lenient(V5, "2{}"), Err(ParseError::InvalidPayload));
}

#[test]
fn header_fields_are_views_of_the_input() {
    let text = Bytes::from_static(br#"2/chat,12["news",{"a":1}]"#);
    let p = Packet::decode(V5, text.clone()).unwrap();
    let within = |b: &Bytes| text.as_ptr_range().contains(&b.as_ptr());
    assert!(within(&p.nsp) && within(&p.data) && within(p.event.as_ref().unwrap()));
}

#[test]
#[rustfmt::skip]
fn encoding_omits_root_and_always_writes_the_nsp_comma() {
    let rows: &[Parts] = &[
        (Connect, 0, "/", None, "", "0"),
        (Connect, 0, "", None, "", "0"),
        (Connect, 0, "/admin", None, "", "0/admin,"),
        (Connect, 0, "admin", None, "", "0/admin,"),
        (Connect, 0, "/chat", None, r#"{"sid":"x"}"#, r#"0/chat,{"sid":"x"}"#),
        (Disconnect, 0, "/admin", None, "", "1/admin,"),
        (Event, 3, "/admin", Some(456), r#"["project:delete",123]"#, r#"2/admin,456["project:delete",123]"#),
        (Ack, 0, "/", Some(0), "[]", "30[]"),
        (BinaryEvent, 1, "/", None, r#"["up",{"_placeholder":true,"num":0}]"#, r#"51-["up",{"_placeholder":true,"num":0}]"#),
        (BinaryAck, 10, "/x", Some(9), "[]", "610-/x,9[]"),
    ];
    for &(kind, n, nsp, ack, data, wire) in rows {
        let p = Packet::new(kind, n, nsp, ack, Bytes::copy_from_slice(data.as_bytes()));
        assert_eq!(p.encode(), wire.as_bytes(), "{wire}");
        assert_eq!(p.data, data.as_bytes());
    }
    let p = Packet::new(Event, 0, "/", None, Bytes::from_static(br#"["news",1]"#));
    assert_eq!(p.event.as_deref(), Some(&b"news"[..]));
}

#[test]
fn with_nsp_retags_and_keeps_everything_else() {
    let p = dec(V4, "3/chat?token=abc,5[\"ack:x\"]").unwrap();
    let q = p.with_nsp("/chat");
    assert_eq!(q.encode(), "3/chat,5[\"ack:x\"]".as_bytes());
    assert_eq!(q, dec(V4, "3/chat,5[\"ack:x\"]").unwrap());
    let p = dec(V4, r#"2/chat?token=abc,["news",1]"#).unwrap();
    assert_eq!(p.with_nsp("/chat").raw, r#"2/chat,["news",1]"#.as_bytes());
    assert_eq!(p.with_nsp("/").raw, r#"2["news",1]"#.as_bytes());
    assert_eq!(p.with_nsp("/").event.as_deref(), Some(&b"news"[..]));
}

#[path = "packet_vectors.rs"]
mod vectors;

#[path = "packet_props.rs"]
mod props;
