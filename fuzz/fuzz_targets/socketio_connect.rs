//! CONNECT namespaces and binary reassembly: `Target::parse`/`Query::parse`
//! must never panic and a parsed query must survive encode → parse; the
//! `Assembler` must never panic on any sequence of text and binary messages.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use siogate::protocol::socketio::connect::{Query, Target};
use siogate::protocol::socketio::{Assembler, DecodeMode, Revision};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let target = Target::parse(&text);
    if let Some(q) = target.query {
        assert_eq!(Query::parse(&q.encode()), q, "query round trip");
        let _ = q.to_auth();
    }
    let q = Query::parse(&text);
    assert_eq!(Query::parse(&q.encode()), q, "query round trip");

    // Messages separated by 0xFF; a leading 'b' marks a binary message.
    for (rev, mode) in [
        (Revision::V4, DecodeMode::Strict),
        (Revision::V5, DecodeMode::Strict),
        (Revision::V5, DecodeMode::Lenient),
    ] {
        let mut a = Assembler::with_mode(rev, mode);
        for msg in data.split(|&b| b == 0xff) {
            let result = match msg.split_first() {
                Some((b'b', rest)) => a.push_binary(Bytes::copy_from_slice(rest)),
                _ => a.push_text(Bytes::copy_from_slice(msg)),
            };
            if let Ok(Some(m)) = result {
                assert_eq!(m.attachments.len(), m.packet.attachments);
            }
        }
    }
});
