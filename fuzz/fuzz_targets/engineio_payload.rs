//! Polling payloads: every framing (EIO3 text with both length rules, XHR2
//! binary, EIO4), the upstream variant and the JSONP POST decoder must never
//! panic; whatever decodes must re-encode and decode to the same packets.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use siogate::protocol::engineio::payload::{self, DEFAULT_MAX_PACKETS};
use siogate::protocol::engineio::{LengthRule, PayloadEncoding, Revision};

fuzz_target!(|data: &[u8]| {
    let body = Bytes::copy_from_slice(data);
    let max = DEFAULT_MAX_PACKETS;
    let cases = [
        (
            Revision::V3,
            LengthRule::Utf16,
            false,
            PayloadEncoding::V3Text(LengthRule::Utf16),
        ),
        (
            Revision::V3,
            LengthRule::Utf8Bytes,
            false,
            PayloadEncoding::V3Text(LengthRule::Utf8Bytes),
        ),
        (
            Revision::V3,
            LengthRule::Utf16,
            true,
            PayloadEncoding::V3Binary,
        ),
        (Revision::V4, LengthRule::Utf16, false, PayloadEncoding::V4),
    ];
    for (rev, rule, binary, enc) in cases {
        let _ = payload::decode_upstream(rev, rule, binary, &body, max);
        let _ = payload::decode_jsonp(rev, rule, data, max);
        if let Ok(packets) = payload::decode(rev, rule, binary, &body, max) {
            let encoded = payload::encode(enc, &packets);
            assert!(
                encoded.len() <= payload::size_hint(enc, &packets),
                "size hint"
            );
            let again = payload::decode_upstream(rev, rule, binary, &encoded, usize::MAX);
            assert_eq!(again.as_ref(), Ok(&packets), "payload round trip");
        }
    }
    let _ = payload::decode_jsonp_post(data);
    let _ = payload::encode_jsonp(0, data);
});
