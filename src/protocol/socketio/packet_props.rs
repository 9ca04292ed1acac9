//! Property tests: encode → decode round trips for every kind and revision,
//! the scanner agrees with serde_json, and decoding never panics.
use super::*;
use proptest::prelude::*;
use serde_json::Value;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((".{0,8}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn object() -> impl Strategy<Value = Value> {
    prop::collection::vec(("[a-z]{1,8}", json_value()), 0..4)
        .prop_map(|kv| Value::Object(kv.into_iter().collect()))
}

fn args() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(json_value(), 0..4)
}

/// An event name that is not reserved (prefix `ev`) or a number head.
fn event_payload() -> impl Strategy<Value = Value> {
    let head = prop_oneof![
        "ev.{0,10}".prop_map(Value::String),
        any::<u32>().prop_map(Value::from)
    ];
    (head, args()).prop_map(|(h, mut rest)| {
        rest.insert(0, h);
        Value::Array(rest)
    })
}

fn payload(kind: PacketKind, rev: Revision) -> BoxedStrategy<String> {
    let text = |s: BoxedStrategy<Value>| s.prop_map(|v| v.to_string()).boxed();
    match kind {
        Connect => prop_oneof![Just(String::new()), text(object().boxed())].boxed(),
        Disconnect => Just(String::new()).boxed(),
        Event | BinaryEvent => text(event_payload().boxed()),
        Ack | BinaryAck => text(args().prop_map(Value::Array).boxed()),
        ConnectError if rev == V4 => prop_oneof![
            text(".{0,10}".prop_map(Value::String).boxed()),
            text(object().boxed())
        ]
        .boxed(),
        ConnectError => text(object().boxed()),
    }
}

fn kind() -> impl Strategy<Value = PacketKind> {
    prop_oneof![
        Just(Connect),
        Just(Disconnect),
        Just(Event),
        Just(Ack),
        Just(ConnectError),
        Just(BinaryEvent),
        Just(BinaryAck)
    ]
}

fn nsp() -> impl Strategy<Value = String> {
    prop_oneof![Just("/".to_owned()), "/[a-zA-Z0-9_.~%-]{1,30}"]
}

fn packet() -> impl Strategy<Value = (Revision, PacketKind, usize, String, Option<u64>, String)> {
    (prop_oneof![Just(V4), Just(V5)], kind()).prop_flat_map(|(rev, kind)| {
        (
            Just(rev),
            Just(kind),
            1..=MAX_ATTACHMENTS,
            nsp(),
            prop::option::of(0..=MAX_ACK_ID),
            payload(kind, rev),
        )
    })
}

proptest! {
    #[test]
    fn encoded_packets_decode_to_themselves((rev, kind, n, nsp, ack, data) in packet()) {
        let p = Packet::new(kind, n, &nsp, ack, Bytes::from(data.clone()));
        let d = Packet::decode(rev, p.raw.clone()).map_err(|e| TestCaseError::fail(format!("{:?}: {e}", p.raw)))?;
        prop_assert_eq!(&d, &p);
        prop_assert_eq!(d.nsp_str(), nsp.as_str());
        prop_assert_eq!(&d.data[..], data.as_bytes());
        prop_assert_eq!(d.attachments, if kind.is_binary() { n } else { 0 });
        // Lenient decoding accepts whatever strict decoding accepts.
        prop_assert_eq!(Packet::decode_lenient(rev, p.raw.clone()), Ok(d));
    }

    #[test]
    fn connect_queries_survive_the_header(path in "/[a-z]{0,10}", q in "[a-z0-9=&%+,]{0,20}") {
        let nsp = format!("{path}?{q}");
        let p = Packet::new(Connect, 0, &nsp, None, Bytes::new());
        let d = Packet::decode(V4, p.raw.clone()).unwrap();
        prop_assert_eq!(d.nsp_str(), nsp.as_str());
    }

    #[test]
    fn scanner_agrees_with_serde_json(s in r#"[\[\]{}",:a-f0-9 .eE+\-\\u/tnrl]{0,24}"#) {
        let serde_ok = serde_json::from_str::<serde::de::IgnoredAny>(&s).is_ok();
        prop_assert_eq!(super::json::scan(s.as_bytes()).is_ok(), serde_ok, "{:?}", s);
    }

    #[test]
    fn scanner_agrees_with_serde_json_on_mutated_documents(
        v in json_value(),
        at in any::<prop::sample::Index>(),
        c in prop::sample::select(&[None, Some('"'), Some(','), Some(':'), Some('['), Some(']'), Some('{'), Some('}'), Some('\\'), Some('0'), Some('-'), Some('e'), Some('.'), Some(' ')][..]),
    ) {
        let mut s: Vec<char> = v.to_string().chars().collect();
        let i = at.index(s.len() + 1);
        match c {
            Some(c) => s.insert(i, c),
            None if i < s.len() => { s.remove(i); }
            None => {}
        }
        let s: String = s.into_iter().collect();
        let serde_ok = serde_json::from_str::<serde::de::IgnoredAny>(&s).is_ok();
        prop_assert_eq!(super::json::scan(s.as_bytes()).is_ok(), serde_ok, "{:?}", s);
    }

    #[test]
    fn scanner_accepts_serialized_values(v in json_value()) {
        prop_assert!(super::json::scan(v.to_string().as_bytes()).is_ok());
        prop_assert!(super::json::scan(serde_json::to_string_pretty(&v).unwrap().as_bytes()).is_ok());
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(b in prop::collection::vec(any::<u8>(), 0..64)) {
        for rev in [V4, V5] {
            let _ = Packet::decode(rev, Bytes::from(b.clone()));
            let _ = Packet::decode_lenient(rev, Bytes::from(b.clone()));
        }
    }

    #[test]
    fn decoding_header_like_text_never_panics(
        s in r#"[0-6]([0-9]{0,3}-)?(/[a-z?=&,%]{0,10},?)?[0-9]{0,4}[\[\]{}",:a-z0-9 \\]{0,30}"#
    ) {
        for rev in [V4, V5] {
            if let Ok(p) = Packet::decode(rev, Bytes::from(s.clone())) {
                prop_assert_eq!(&p.raw[..], s.as_bytes());
                let _ = p.with_nsp("/x").encode();
                let _ = p.is_reserved_event();
            }
            let _ = Packet::decode_lenient(rev, Bytes::from(s.clone()));
        }
    }
}
