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

criterion_group!(benches, engineio_benches);
criterion_main!(benches);
