//! Property tests for the Engine.IO codec: every packet kind round-trips
//! through WebSocket frames, text packets and each polling framing (both
//! revisions, both EIO3 length rules), and no decoder panics on any input.
use bytes::Bytes;
use proptest::prelude::*;
use siogate::protocol::engineio::payload::{self, DEFAULT_MAX_PACKETS};
use siogate::protocol::engineio::{
    LengthRule, OpenPacket, Packet, PayloadEncoding, Revision, WsFrame,
};

const REVS: [Revision; 2] = [Revision::V3, Revision::V4];

fn open_packet() -> impl Strategy<Value = OpenPacket> {
    (
        any::<String>(),
        prop::collection::vec(any::<String>(), 0..3),
        any::<u64>(),
        any::<u64>(),
        any::<Option<u64>>(),
    )
        .prop_map(
            |(sid, upgrades, ping_interval, ping_timeout, max_payload)| OpenPacket {
                sid,
                upgrades,
                ping_interval,
                ping_timeout,
                max_payload,
            },
        )
}

/// Any packet. With `v4_payload`, text data has no `\x1e` (it cannot appear
/// raw in an EIO4 payload: Socket.IO JSON escapes control characters).
fn packet(v4_payload: bool) -> impl Strategy<Value = Packet> {
    let text = any::<String>().prop_map(move |s| {
        let s = if v4_payload { s.replace('\x1e', "") } else { s };
        Bytes::from(s)
    });
    prop_oneof![
        open_packet().prop_map(Packet::Open),
        Just(Packet::Close),
        text.clone().prop_map(Packet::Ping),
        text.clone().prop_map(Packet::Pong),
        text.prop_map(Packet::Message),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| Packet::Binary(Bytes::from(b))),
        Just(Packet::Upgrade),
        Just(Packet::Noop),
    ]
}

fn packets(v4_payload: bool) -> impl Strategy<Value = Vec<Packet>> {
    prop::collection::vec(packet(v4_payload), 1..20)
}

/// Decodes `body` as the framing `enc` writes.
fn decode_as(enc: PayloadEncoding, body: &Bytes) -> Result<Vec<Packet>, impl std::fmt::Debug> {
    let (rev, rule, binary) = match enc {
        PayloadEncoding::V4 => (Revision::V4, LengthRule::Utf16, false),
        PayloadEncoding::V3Text(rule) => (Revision::V3, rule, false),
        PayloadEncoding::V3Binary => (Revision::V3, LengthRule::Utf16, true),
    };
    payload::decode(rev, rule, binary, body, usize::MAX)
}

fn check_payload_round_trip(enc: PayloadEncoding, packets: &[Packet]) -> Result<(), TestCaseError> {
    let body = payload::encode(enc, packets);
    prop_assert!(body.len() <= payload::size_hint(enc, packets));
    let decoded = decode_as(enc, &body);
    prop_assert_eq!(decoded.as_deref().ok(), Some(packets), "{:?}", decoded);
    Ok(())
}

proptest! {
    #[test]
    fn ws_frames_round_trip_in_both_revisions(p in packet(false)) {
        for rev in REVS {
            let back = match p.to_ws(rev) {
                WsFrame::Text(t) => Packet::decode_text(rev, t),
                WsFrame::Binary(b) => Packet::decode_binary(rev, b),
            };
            prop_assert_eq!(back.as_ref(), Ok(&p), "{:?}", rev);
        }
    }

    #[test]
    fn text_packets_round_trip_within_their_size_hint(p in packet(false)) {
        for rev in REVS {
            let mut out = Vec::new();
            p.encode_text(rev, &mut out);
            prop_assert!(out.len() <= p.size_hint());
            prop_assert_eq!(Packet::decode_text(rev, Bytes::from(out)), Ok(p.clone()));
        }
    }

    #[test]
    fn eio4_payloads_round_trip(ps in packets(true)) {
        check_payload_round_trip(PayloadEncoding::V4, &ps)?;
    }

    #[test]
    fn eio3_text_payloads_round_trip_with_both_length_rules(ps in packets(false)) {
        check_payload_round_trip(PayloadEncoding::V3Text(LengthRule::Utf16), &ps)?;
        check_payload_round_trip(PayloadEncoding::V3Text(LengthRule::Utf8Bytes), &ps)?;
    }

    #[test]
    fn eio3_xhr2_payloads_round_trip(ps in packets(false)) {
        check_payload_round_trip(PayloadEncoding::V3Binary, &ps)?;
    }

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(data in prop::collection::vec(any::<u8>(), 0..256)) {
        let body = Bytes::from(data.clone());
        for rev in REVS {
            let _ = Packet::decode_text(rev, body.clone());
            let _ = Packet::decode_binary(rev, body.clone());
            for rule in [LengthRule::Utf16, LengthRule::Utf8Bytes] {
                for binary in [false, true] {
                    let _ = payload::decode(rev, rule, binary, &body, DEFAULT_MAX_PACKETS);
                    let _ = payload::decode_upstream(rev, rule, binary, &body, DEFAULT_MAX_PACKETS);
                }
                let _ = payload::decode_jsonp(rev, rule, &data, DEFAULT_MAX_PACKETS);
            }
        }
        let _ = payload::encode_jsonp(7, &data);
    }

    /// Lengths that land anywhere inside multi-byte and astral characters
    /// are errors, never panics; a length that fits exactly decodes.
    #[test]
    fn eio3_any_declared_length_over_unicode_never_panics(s in any::<String>(), n in 0usize..80) {
        let body = Bytes::from(format!("{n}:4{s}"));
        for rule in [LengthRule::Utf16, LengthRule::Utf8Bytes] {
            let _ = payload::decode(Revision::V3, rule, false, &body, DEFAULT_MAX_PACKETS);
        }
        let exact = Bytes::from(format!("{}:4{s}", 1 + s.encode_utf16().count()));
        let got = payload::decode(Revision::V3, LengthRule::Utf16, false, &exact, 1);
        prop_assert_eq!(got, Ok(vec![Packet::Message(Bytes::from(s))]));
    }

    /// A form-encoded JSONP POST of a payload without backslashes gives the
    /// payload back (newlines arrive escaped as `\n`).
    #[test]
    fn jsonp_post_bodies_decode_to_the_payload(s in "[^\\\\]*") {
        let escaped = s.replace('\n', "\\n");
        let mut form = String::from("d=");
        for b in escaped.bytes() {
            form.push_str(&format!("%{b:02X}"));
        }
        let got = payload::decode_jsonp_post(form.as_bytes());
        prop_assert_eq!(got, Ok(Bytes::from(s)));
    }
}
