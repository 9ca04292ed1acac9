//! Single Engine.IO packets: text and WebSocket-binary decoding in both
//! revisions must never panic, and whatever decodes must re-encode and
//! decode to the same packet.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use siogate::protocol::engineio::{Packet, Revision, WsFrame};

fuzz_target!(|data: &[u8]| {
    let input = Bytes::copy_from_slice(data);
    for rev in [Revision::V3, Revision::V4] {
        let decoded = [
            Packet::decode_text(rev, input.clone()),
            Packet::decode_binary(rev, input.clone()),
        ];
        for packet in decoded.into_iter().flatten() {
            let again = match packet.to_ws(rev) {
                WsFrame::Text(t) => Packet::decode_text(rev, t),
                WsFrame::Binary(b) => Packet::decode_binary(rev, b),
            };
            assert_eq!(again.as_ref(), Ok(&packet), "ws round trip");
            let mut text = Vec::with_capacity(packet.size_hint());
            packet.encode_text(rev, &mut text);
            assert!(text.len() <= packet.size_hint(), "size hint");
        }
    }
});
