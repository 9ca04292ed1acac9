//! Payload tests: PROTOCOL.md §5 vectors (`vector_NN_*`) and the §1.6/§1.7
//! examples, wire bytes written literally.
use bytes::Bytes;

use super::*;
use crate::protocol::engineio::OpenPacket;
use crate::protocol::engineio::Revision::{V3, V4};

const MAX: usize = DEFAULT_MAX_PACKETS;

fn msg(s: &str) -> Packet {
    Packet::Message(Bytes::copy_from_slice(s.as_bytes()))
}

fn v3_text(rule: LengthRule, wire: &[u8]) -> Result<Vec<Packet>, ParseError> {
    decode(V3, rule, false, &Bytes::copy_from_slice(wire), MAX)
}

fn v3_binary(wire: &[u8]) -> Result<Vec<Packet>, ParseError> {
    decode(
        V3,
        LengthRule::Utf16,
        true,
        &Bytes::copy_from_slice(wire),
        MAX,
    )
}

fn v4(wire: &[u8]) -> Result<Vec<Packet>, ParseError> {
    decode(
        V4,
        LengthRule::Utf16,
        false,
        &Bytes::copy_from_slice(wire),
        MAX,
    )
}

#[test]
fn vector_16_utf16_length_parses_and_reencodes_as_utf8_bytes() {
    let got = v3_text(LengthRule::Utf16, "15:42[\"ping2\",\"€\"]".as_bytes());
    let want = vec![msg("2[\"ping2\",\"€\"]")];
    assert_eq!(got, Ok(want.clone()));
    let upstream = encode(PayloadEncoding::V3Text(LengthRule::Utf8Bytes), &want);
    assert_eq!(upstream, "17:42[\"ping2\",\"€\"]".as_bytes());
}

#[test]
fn vector_17_utf8_byte_length_from_go_reencodes_as_utf16() {
    let got = v3_text(LengthRule::Utf8Bytes, "17:42[\"pong2\",\"€\"]".as_bytes());
    let want = vec![msg("2[\"pong2\",\"€\"]")];
    assert_eq!(got, Ok(want.clone()));
    let client = encode(PayloadEncoding::V3Text(LengthRule::Utf16), &want);
    assert_eq!(client, "15:42[\"pong2\",\"€\"]".as_bytes());
}

#[test]
fn vector_16_lengths_of_the_wrong_rule_are_mismatches() {
    let js = "15:42[\"ping2\",\"€\"]".as_bytes();
    let go = "17:42[\"ping2\",\"€\"]".as_bytes();
    assert!(v3_text(LengthRule::Utf8Bytes, js).is_err());
    assert_eq!(
        v3_text(LengthRule::Utf16, go),
        Err(ParseError::LengthMismatch)
    );
}

#[test]
fn vector_18_astral_char_counts_two_utf16_units() {
    let wire = "12:42[\"m\",\"😀\"]".as_bytes();
    assert_eq!(
        v3_text(LengthRule::Utf16, wire),
        Ok(vec![msg("2[\"m\",\"😀\"]")])
    );
    // 14 under go's byte rule; python's 11 code points is valid for neither
    let go = "14:42[\"m\",\"😀\"]".as_bytes();
    assert_eq!(
        v3_text(LengthRule::Utf8Bytes, go),
        Ok(vec![msg("2[\"m\",\"😀\"]")])
    );
    let py = "11:42[\"m\",\"😀\"]".as_bytes();
    assert!(v3_text(LengthRule::Utf16, py).is_err());
    assert!(v3_text(LengthRule::Utf8Bytes, py).is_err());
}

#[test]
fn vector_19_xhr2_text_slot_uses_byte_length() {
    let mut wire = vec![0x00, 0x01, 0x07, 0xff];
    wire.extend_from_slice("42[\"pong2\",\"€\"]".as_bytes());
    let want = vec![msg("2[\"pong2\",\"€\"]")];
    assert_eq!(v3_binary(&wire), Ok(want.clone()));
    assert_eq!(encode(PayloadEncoding::V3Binary, &want), wire);
}

#[test]
fn vector_20_empty_upstream_body_is_no_packets_but_empty_client_body_is_an_error() {
    let empty = Bytes::new();
    for (rev, binary) in [(V3, false), (V3, true), (V4, false)] {
        let rule = LengthRule::Utf8Bytes;
        assert_eq!(decode_upstream(rev, rule, binary, &empty, MAX), Ok(vec![]));
        assert_eq!(
            decode(rev, rule, binary, &empty, MAX),
            Err(ParseError::EmptyPayload)
        );
    }
}

#[test]
fn vector_21_first_eio3_get_has_open_then_root_connect() {
    let open = Packet::Open(OpenPacket {
        sid: "0123456789abcdefghij".to_owned(),
        upgrades: vec!["websocket".to_owned()],
        ping_interval: 25000,
        ping_timeout: 20000,
        max_payload: None,
    });
    let packets = [open, msg("0")];
    let want: &[u8] = b"97:0{\"sid\":\"0123456789abcdefghij\",\"upgrades\":[\"websocket\"],\
\"pingInterval\":25000,\"pingTimeout\":20000}2:40";
    for rule in [LengthRule::Utf16, LengthRule::Utf8Bytes] {
        let body = encode(PayloadEncoding::V3Text(rule), &packets);
        assert_eq!(body, want);
        assert_eq!(v3_text(rule, want), Ok(packets.to_vec()));
    }
}

#[test]
fn vector_34_eio4_post_with_attachment_reencodes_as_go_text_polling() {
    let header = r#"51-["up",{"_placeholder":true,"num":0}]"#;
    let post = format!("4{header}\x1ebAQID");
    let got = v4(post.as_bytes());
    let want = vec![msg(header), Packet::Binary(Bytes::from_static(&[1, 2, 3]))];
    assert_eq!(got, Ok(want.clone()));
    // `451-[…]` is 40 bytes (ASCII, so every length rule agrees); the
    // attachment is `b4` + base64 of [01 02 03] = 6.
    let upstream = encode(PayloadEncoding::V3Text(LengthRule::Utf8Bytes), &want);
    assert_eq!(
        upstream,
        br#"40:451-["up",{"_placeholder":true,"num":0}]6:b4AQID"#.as_slice()
    );
    let back = v3_text(LengthRule::Utf8Bytes, &upstream);
    assert_eq!(back, Ok(want));
}
#[test]
fn vector_48_declared_length_longer_than_packet_is_a_mismatch() {
    let wire = b"43:451-3[\"bin\",{\"_placeholder\":true,\"num\":0}]";
    assert_eq!(wire.len() - 3, 42);
    assert_eq!(
        v3_text(LengthRule::Utf16, wire),
        Err(ParseError::LengthMismatch)
    );
}

#[test]
fn eio3_text_examples_from_protocol_1_6() {
    let cases: &[(&[u8], Vec<Packet>)] = &[
        (b"2:40", vec![msg("0")]),
        (b"1:6", vec![Packet::Noop]),
        (b"1:61:1", vec![Packet::Noop, Packet::Close]),
        (b"0:", vec![]),
        (b"0:2:400:", vec![msg("0")]),
        (
            b"10:b4AQIDBA==",
            vec![Packet::Binary(Bytes::from_static(&[1, 2, 3, 4]))],
        ),
    ];
    for (wire, want) in cases {
        assert_eq!(
            v3_text(LengthRule::Utf16, wire).as_ref(),
            Ok(want),
            "{wire:?}"
        );
    }
    let b64 = encode(PayloadEncoding::V3Text(LengthRule::Utf16), &cases[5].1);
    assert_eq!(b64, &b"10:b4AQIDBA=="[..]);
    let empty = encode(PayloadEncoding::V3Text(LengthRule::Utf16), &[]);
    assert_eq!(empty, &b"0:"[..]);
}

#[test]
fn eio3_text_rejects_bad_bodies() {
    let cases: &[(&[u8], ParseError)] = &[
        (b"", ParseError::EmptyPayload),
        (b"abc", ParseError::InvalidLength),
        (b"2:4", ParseError::LengthMismatch),
        (b"2:40garbage", ParseError::InvalidLength),
        (b"2:401", ParseError::TrailingGarbage),
        (b"2:4\xff", ParseError::InvalidUtf8),
        (b"1:9", ParseError::UnknownType(b'9')),
    ];
    for (wire, want) in cases {
        assert_eq!(
            v3_text(LengthRule::Utf16, wire),
            Err(want.clone()),
            "{wire:?}"
        );
    }
}

#[test]
fn xhr2_examples_from_protocol_1_6() {
    let cases: &[(&[u8], Packet)] = &[
        (&[0x00, 0x02, 0xff, 0x34, 0x30], msg("0")),
        (
            &[0x01, 0x05, 0xff, 0x04, 0x01, 0x02, 0x03, 0x04],
            Packet::Binary(Bytes::from_static(&[1, 2, 3, 4])),
        ),
    ];
    for (wire, want) in cases {
        assert_eq!(v3_binary(wire), Ok(vec![want.clone()]), "{wire:02x?}");
        assert_eq!(
            encode(PayloadEncoding::V3Binary, std::slice::from_ref(want)),
            *wire
        );
    }
    let both: Vec<u8> = [cases[0].0, cases[1].0].concat();
    let want = vec![cases[0].1.clone(), cases[1].1.clone()];
    assert_eq!(v3_binary(&both), Ok(want));
}

#[test]
fn eio4_post_example_from_protocol_1_7() {
    let wire = "42/chat,1[\"ping2\",\"€\"]\x1e451-/chat,2[\"ping2\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID";
    let want = vec![
        msg("2/chat,1[\"ping2\",\"€\"]"),
        msg("51-/chat,2[\"ping2\",{\"_placeholder\":true,\"num\":0}]"),
        Packet::Binary(Bytes::from_static(&[1, 2, 3])),
    ];
    assert_eq!(v4(wire.as_bytes()), Ok(want.clone()));
    assert_eq!(encode(PayloadEncoding::V4, &want), wire.as_bytes());
}

#[test]
fn eio4_rejects_empty_bodies_and_empty_slots() {
    let cases: &[(&[u8], ParseError)] = &[
        (b"", ParseError::EmptyPayload),
        (b"\x1e", ParseError::Empty),
        (b"40\x1e", ParseError::Empty),
        (b"40\x1e\x1e6", ParseError::Empty),
        (b"4\xc3", ParseError::InvalidUtf8),
        (b"9", ParseError::UnknownType(b'9')),
    ];
    for (wire, want) in cases {
        assert_eq!(v4(wire), Err(want.clone()), "{wire:?}");
    }
}

#[test]
fn too_many_packets_are_rejected_in_every_framing() {
    let packets = vec![Packet::Noop; 3];
    let encodings = [
        PayloadEncoding::V4,
        PayloadEncoding::V3Text(LengthRule::Utf16),
        PayloadEncoding::V3Binary,
    ];
    for enc in encodings {
        let body = encode(enc, &packets);
        let binary = enc == PayloadEncoding::V3Binary;
        let rev = if enc == PayloadEncoding::V4 { V4 } else { V3 };
        let rule = LengthRule::Utf16;
        assert_eq!(decode(rev, rule, binary, &body, 3), Ok(packets.clone()));
        assert_eq!(
            decode(rev, rule, binary, &body, 2),
            Err(ParseError::TooManyPackets(2)),
            "{enc:?}"
        );
    }
}

#[test]
fn jsonp_post_round_trips_through_the_eio3_decoder() {
    let body = b"d=15%3A42%5B%22ping2%22%2C%22%E2%82%AC%22%5D";
    let got = decode_jsonp(V3, LengthRule::Utf16, body, MAX);
    assert_eq!(got, Ok(vec![msg("2[\"ping2\",\"€\"]")]));
    assert_eq!(
        decode_jsonp(V3, LengthRule::Utf16, b"x=1", MAX),
        Err(ParseError::InvalidJsonp)
    );
}

#[test]
fn response_encoding_follows_engine_io_3() {
    let bin = [Packet::Binary(Bytes::new())];
    let text = [Packet::Noop];
    let rule = LengthRule::Utf16;
    let pick = |rev, b64, p: &[Packet]| PayloadEncoding::for_response(rev, rule, b64, p);
    assert_eq!(pick(V3, false, &bin), PayloadEncoding::V3Binary);
    assert_eq!(pick(V3, true, &bin), PayloadEncoding::V3Text(rule));
    assert_eq!(pick(V3, false, &text), PayloadEncoding::V3Text(rule));
    assert_eq!(pick(V4, false, &bin), PayloadEncoding::V4);
    assert_eq!(
        PayloadEncoding::V3Binary.content_type(),
        BINARY_CONTENT_TYPE
    );
    assert!(is_binary_content_type(
        "Application/Octet-Stream; charset=x"
    ));
    assert!(!is_binary_content_type("text/plain;charset=UTF-8"));
}

#[test]
fn size_hint_bounds_every_encoding() {
    let packets = [
        msg("2[\"news\",{\"a\":\"€😀\"}]"),
        Packet::Binary(Bytes::from_static(&[0; 10])),
        Packet::Ping(Bytes::from_static(b"probe")),
    ];
    for enc in [
        PayloadEncoding::V4,
        PayloadEncoding::V3Text(LengthRule::Utf16),
        PayloadEncoding::V3Text(LengthRule::Utf8Bytes),
        PayloadEncoding::V3Binary,
    ] {
        assert!(
            encode(enc, &packets).len() <= size_hint(enc, &packets),
            "{enc:?}"
        );
    }
}
