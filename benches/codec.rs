//! Codec benchmarks (criterion): decode + normalize + encode on the hot path.
use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use siogate::protocol::engineio::{LengthRule, Packet, PayloadEncoding, Revision, payload};

/// Sixteen typical chat events (`42/chat,["news",{…~200 bytes…}]`).
fn engineio_packets() -> Vec<Packet> {
    (0..16)
        .map(|i| {
            let text = format!(
                "2/chat,[\"news\",{{\"id\":{i},\"title\":\"Breaking news headline number {i}\",\
                 \"body\":\"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod \
                 tempor incididunt ut labore\",\"tags\":[\"world\",\"politics\"],\"price\":\"12 €\"}}]"
            );
            Packet::Message(Bytes::from(text))
        })
        .collect()
}

fn engineio_benches(c: &mut Criterion) {
    let packets = engineio_packets();
    let cases = [
        (
            "eio3_text_utf16",
            Revision::V3,
            PayloadEncoding::V3Text(LengthRule::Utf16),
        ),
        ("eio4", Revision::V4, PayloadEncoding::V4),
    ];

    let mut group = c.benchmark_group("engineio/payload_decode");
    for (name, rev, enc) in cases {
        let body = payload::encode(enc, &packets);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                payload::decode(rev, LengthRule::Utf16, false, black_box(&body), 16)
                    .expect("bench payload decodes")
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("engineio/payload_encode");
    for (name, _, enc) in cases {
        group.throughput(Throughput::Bytes(
            payload::encode(enc, &packets).len() as u64
        ));
        group.bench_function(name, |b| {
            b.iter(|| payload::encode(enc, black_box(&packets)))
        });
    }
    group.finish();
}

/// `socketio/decode`: a typical ~200-byte chat EVENT and a CONNECT with a
/// namespace query, decoded strictly (JSON validated, event name sliced).
fn socketio_benches(c: &mut Criterion) {
    use siogate::protocol::socketio;
    // Shared (reference-counted) buffers, as frames from a socket are.
    let event = Bytes::copy_from_slice(
        b"2/chat,[\"news\",{\"id\":7,\"title\":\"Breaking news headline number 7\",\
          \"body\":\"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod \
          tempor incididunt ut labore\",\"tags\":[\"world\",\"politics\"],\"price\":\"12 \xe2\x82\xac\"}]",
    );
    let connect = Bytes::copy_from_slice(b"0/chat?token=abc&x=1,");
    let cases = [("event_200b", event), ("connect_query", connect)];

    let mut group = c.benchmark_group("socketio/decode");
    for (name, text) in cases {
        socketio::Packet::decode(socketio::Revision::V5, text.clone())
            .expect("bench packet decodes");
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| socketio::Packet::decode(socketio::Revision::V5, black_box(text.clone())))
        });
    }
    group.finish();
}

/// `normalize/*`: decode + normalize + encode, the per-packet work of the
/// proxy. SIO4 client in front of go-legacy with `/chat` connected; a ~200-byte
/// EVENT relayed unchanged (client → upstream and upstream → client), one
/// re-tagged (go's `/chat?token=abc`), and a CONNECT with a query (fresh
/// normalizer per iteration, built outside the timed part).
fn normalize_benches(c: &mut Criterion) {
    use criterion::BatchSize;
    use siogate::protocol::socketio::{self, Message, connect::Query};
    use siogate::proxy::normalize::{Action, Flavor, LegId, Normalizer, Options};

    fn msg(rev: socketio::Revision, text: &'static [u8]) -> Message {
        let packet = socketio::Packet::decode_lenient(rev, Bytes::from_static(text))
            .expect("bench packet decodes");
        Message {
            packet,
            attachments: Vec::new(),
        }
    }
    fn encoded(out: &[Action]) -> usize {
        out.iter()
            .map(|a| match a {
                Action::ToUpstream { msg, .. } | Action::ToClient { msg } => {
                    msg.packet.encode().len()
                }
                _ => 0,
            })
            .sum()
    }
    fn normalizer(client: socketio::Revision, flavor: Flavor) -> Normalizer {
        Normalizer::new(
            client,
            flavor,
            Query::parse("lang=en"),
            Options::default(),
            || "s".to_owned(),
        )
    }
    /// SIO4 client, go-legacy, `/` on leg 1 and `/chat` on leg 2 connected.
    fn go_legacy_chat() -> Normalizer {
        let v4 = socketio::Revision::V4;
        let mut n = normalizer(v4, Flavor::GoLegacy);
        let mut out = Vec::new();
        n.on_client_open(&mut out);
        n.on_leg_open(LegId(1), &mut out);
        n.on_upstream(LegId(1), msg(v4, b"0"), &mut out);
        n.on_client(msg(v4, b"0/chat?token=abc,"), &mut out);
        n.on_leg_open(LegId(2), &mut out);
        n.on_upstream(LegId(2), msg(v4, b"0/chat?token=abc"), &mut out);
        assert!(
            matches!(out.last(), Some(Action::ToClient { .. })),
            "bench setup connects /chat"
        );
        n
    }

    const BODY: &str = "[\"news\",{\"id\":7,\"title\":\"Breaking news headline number 7\",\
        \"body\":\"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod \
        tempor incididunt ut labore\",\"tags\":[\"world\",\"politics\"],\"price\":\"12 €\"}]";
    let plain = Bytes::from(format!("2/chat,{BODY}"));
    let tagged = Bytes::from(format!("2/chat?token=abc,{BODY}"));
    let v4 = socketio::Revision::V4;

    let mut group = c.benchmark_group("normalize");
    let mut n = go_legacy_chat();
    let mut out = Vec::with_capacity(8);
    group.bench_function("event_200b_client_to_go_legacy", |b| {
        b.iter(|| {
            let packet = socketio::Packet::decode(v4, black_box(plain.clone())).expect("decodes");
            n.on_client(
                Message {
                    packet,
                    attachments: Vec::new(),
                },
                &mut out,
            );
            let len = encoded(&out);
            out.clear();
            len
        })
    });
    for (name, text) in [
        ("event_200b_go_legacy_to_client", &plain),
        ("event_200b_go_legacy_to_client_retag", &tagged),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let packet =
                    socketio::Packet::decode_lenient(v4, black_box(text.clone())).expect("decodes");
                n.on_upstream(
                    LegId(2),
                    Message {
                        packet,
                        attachments: Vec::new(),
                    },
                    &mut out,
                );
                let len = encoded(&out);
                out.clear();
                len
            })
        });
    }
    let connect = Bytes::copy_from_slice(b"0/chat?token=abc&x=1,");
    let cases = [
        ("connect_query_sio4_go_legacy", v4, Flavor::GoLegacy),
        ("connect_query_sio5_v4", socketio::Revision::V5, Flavor::V4),
    ];
    for (name, client, flavor) in cases {
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    let mut n = normalizer(client, flavor);
                    let mut out = Vec::with_capacity(8);
                    n.on_client_open(&mut out);
                    out.clear();
                    (n, out)
                },
                |(mut n, mut out)| {
                    let packet = socketio::Packet::decode(client, black_box(connect.clone()))
                        .expect("decodes");
                    n.on_client(
                        Message {
                            packet,
                            attachments: Vec::new(),
                        },
                        &mut out,
                    );
                    n.on_leg_open(LegId(1), &mut out);
                    n.on_leg_open(LegId(2), &mut out);
                    (encoded(&out), n)
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    engineio_benches,
    socketio_benches,
    normalize_benches
);
criterion_main!(benches);
