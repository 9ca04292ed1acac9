//! Single Socket.IO packets: strict and lenient decoding in both revisions
//! must never panic; whatever decodes keeps the input as `raw`, lenient
//! accepts whatever strict accepts, and re-encoding the parts decodes to the
//! same fields.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use siogate::protocol::socketio::{DecodeMode, Packet, Revision};

fuzz_target!(|data: &[u8]| {
    let input = Bytes::copy_from_slice(data);
    for rev in [Revision::V4, Revision::V5] {
        let strict = Packet::decode(rev, input.clone());
        let lenient = Packet::decode_lenient(rev, input.clone());
        if let Ok(p) = &strict {
            assert_eq!(lenient.as_ref(), Ok(p), "lenient accepts what strict accepts");
        }
        for (mode, p) in [(DecodeMode::Strict, strict), (DecodeMode::Lenient, lenient)] {
            let Ok(p) = p else { continue };
            assert_eq!(p.raw, input, "raw is the input");
            let _ = p.is_reserved_event();
            let again = p.with_nsp(p.nsp_str());
            let back = Packet::decode_with(rev, mode, again.raw.clone())
                .unwrap_or_else(|e| panic!("re-encoded {:?} fails: {e}", again.raw));
            assert_eq!(
                (back.kind, back.attachments, &back.nsp, back.ack_id, &back.data, &back.event),
                (p.kind, p.attachments, &p.nsp, p.ack_id, &p.data, &p.event),
                "re-encoded {:?}",
                again.raw
            );
        }
    }
});
