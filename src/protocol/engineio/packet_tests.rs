//! Table tests for single packets, with the wire bytes written literally.
use bytes::Bytes;

use super::*;
use crate::protocol::engineio::Revision::{V3, V4};

fn b(s: &'static [u8]) -> Bytes {
    Bytes::from_static(s)
}

fn text(rev: Revision, wire: &'static [u8]) -> Result<Packet, ParseError> {
    Packet::decode_text(rev, b(wire))
}

fn encoded(p: &Packet, rev: Revision) -> Vec<u8> {
    let mut out = Vec::new();
    p.encode_text(rev, &mut out);
    out
}

#[test]
fn text_packets_decode_in_both_revisions() {
    let cases: &[(&[u8], Packet)] = &[
        (b"1", Packet::Close),
        (b"2", Packet::Ping(b(b""))),
        (b"2probe", Packet::Ping(b(b"probe"))),
        (b"3probe", Packet::Pong(b(b"probe"))),
        (b"4", Packet::Message(b(b""))),
        (b"4hello", Packet::Message(b(b"hello"))),
        (
            "42[\"m\",\"€\"]".as_bytes(),
            Packet::Message(b("2[\"m\",\"€\"]".as_bytes())),
        ),
        (b"5", Packet::Upgrade),
        (b"6", Packet::Noop),
    ];
    for rev in [V3, V4] {
        for (wire, want) in cases {
            let got = Packet::decode_text(rev, Bytes::copy_from_slice(wire));
            assert_eq!(got.as_ref(), Ok(want), "{rev:?} {wire:?}");
            assert_eq!(encoded(want, rev), *wire, "{rev:?} re-encode");
        }
    }
}

#[test]
fn message_data_is_a_slice_of_the_input() {
    let input = b(b"4hello");
    let Ok(Packet::Message(data)) = Packet::decode_text(V4, input.clone()) else {
        panic!("not a message");
    };
    assert_eq!(data.as_ptr(), input[1..].as_ptr());
}

#[test]
fn binary_text_forms_depend_on_revision() {
    let bin = Packet::Binary(b(&[1, 2, 3, 4]));
    assert_eq!(text(V3, b"b4AQIDBA=="), Ok(bin.clone()));
    assert_eq!(text(V4, b"bAQIDBA=="), Ok(bin.clone()));
    assert_eq!(encoded(&bin, V3), b"b4AQIDBA==");
    assert_eq!(encoded(&bin, V4), b"bAQIDBA==");
    // padding is optional on input, as with Node's Buffer.from(s, "base64")
    assert_eq!(text(V4, b"bAQIDBA"), Ok(bin));
    assert_eq!(text(V4, b"b"), Ok(Packet::Binary(Bytes::new())));
}

#[test]
fn bad_text_packets_are_rejected() {
    let cases: &[(Revision, &[u8], ParseError)] = &[
        (V3, b"", ParseError::Empty),
        (V4, b"", ParseError::Empty),
        (V3, b"7", ParseError::UnknownType(b'7')),
        (V4, b"x", ParseError::UnknownType(b'x')),
        (V3, b"4\xff", ParseError::InvalidUtf8),
        (V3, b"0", ParseError::InvalidOpen),
        (V3, b"0{}", ParseError::InvalidOpen),
        (V3, b"b", ParseError::Empty),
        (V3, b"b2AQID", ParseError::UnexpectedBinary),
        (V3, b"bAQID", ParseError::UnknownType(b'A')),
        (V4, b"b4AQID", ParseError::InvalidBase64),
        (V4, b"b!!!!", ParseError::InvalidBase64),
    ];
    for (rev, wire, want) in cases {
        assert_eq!(
            Packet::decode_text(*rev, Bytes::copy_from_slice(wire)),
            Err(want.clone()),
            "{rev:?} {wire:?}"
        );
    }
}

#[test]
fn vector_53_go_open_packet_with_trailing_newline_is_accepted() {
    let wire = b"0{\"sid\":\"x\",\"upgrades\":[\"polling\"],\"pingInterval\":25000,\"pingTimeout\":60000}\n";
    let Ok(Packet::Open(open)) = text(V3, wire) else {
        panic!("open not accepted");
    };
    assert_eq!(open.sid, "x");
    assert_eq!(open.upgrades, ["polling"]);
    assert_eq!((open.ping_interval, open.ping_timeout), (25000, 60000));
}

#[test]
fn vector_22_eio4_open_packet_exact_bytes() {
    let open = Packet::Open(OpenPacket {
        sid: "AAAAAAAAAAAAAAAAAAAA".to_owned(),
        upgrades: vec!["websocket".to_owned()],
        ping_interval: 25000,
        ping_timeout: 20000,
        max_payload: Some(1_000_000),
    });
    let want: &[u8] = b"0{\"sid\":\"AAAAAAAAAAAAAAAAAAAA\",\"upgrades\":[\"websocket\"],\
\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}";
    assert_eq!(open.to_ws(V4), WsFrame::Text(b(want)));
    assert_eq!(text(V4, want), Ok(open));
}

#[test]
fn eio3_binary_frames_carry_a_type_byte() {
    let cases: &[(&[u8], Packet)] = &[
        (&[0x04, 1, 2, 3], Packet::Binary(b(&[1, 2, 3]))),
        (&[0x04], Packet::Binary(Bytes::new())),
        (&[0x01], Packet::Close),
        (b"\x02probe", Packet::Ping(b(b"probe"))),
        (b"\x03probe", Packet::Pong(b(b"probe"))),
        (&[0x05], Packet::Upgrade),
        (&[0x06], Packet::Noop),
    ];
    for (wire, want) in cases {
        let got = Packet::decode_binary(V3, Bytes::copy_from_slice(wire));
        assert_eq!(got.as_ref(), Ok(want), "{wire:?}");
    }
    assert_eq!(
        Packet::Binary(b(&[1, 2, 3])).to_ws(V3),
        WsFrame::Binary(b(&[0x04, 1, 2, 3]))
    );
}

#[test]
fn eio3_binary_frames_without_known_type_are_rejected() {
    // go-engine.io closed the connection on an EIO4-style raw frame `abc`.
    let cases: &[(&[u8], ParseError)] = &[
        (b"", ParseError::Empty),
        (b"abc", ParseError::UnknownType(b'a')),
        (&[0x07], ParseError::UnknownType(7)),
        (&[0x02, 0xff], ParseError::InvalidUtf8),
        (&[0x00, b'{'], ParseError::InvalidOpen),
    ];
    for (wire, want) in cases {
        assert_eq!(
            Packet::decode_binary(V3, Bytes::copy_from_slice(wire)),
            Err(want.clone()),
            "{wire:?}"
        );
    }
}

#[test]
fn eio4_binary_frames_are_raw_messages() {
    let raw = b(&[1, 2, 3]);
    assert_eq!(
        Packet::decode_binary(V4, raw.clone()),
        Ok(Packet::Binary(raw.clone()))
    );
    assert_eq!(Packet::Binary(raw.clone()).to_ws(V4), WsFrame::Binary(raw));
}

#[test]
fn non_binary_packets_become_text_frames() {
    for rev in [V3, V4] {
        assert_eq!(
            Packet::Ping(b(b"probe")).to_ws(rev),
            WsFrame::Text(b(b"2probe"))
        );
        assert_eq!(Packet::Message(b(b"0")).to_ws(rev), WsFrame::Text(b(b"40")));
        assert_eq!(Packet::Noop.to_ws(rev), WsFrame::Text(b(b"6")));
    }
}

#[test]
fn size_hint_bounds_the_text_encoding() {
    let packets = [
        Packet::Close,
        Packet::Message(b("2[\"€\"]".as_bytes())),
        Packet::Binary(b(&[0; 7])),
        Packet::Binary(Bytes::new()),
    ];
    for p in &packets {
        for rev in [V3, V4] {
            assert!(encoded(p, rev).len() <= p.size_hint(), "{p:?}");
        }
    }
}
