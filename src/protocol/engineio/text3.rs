//! EIO3 text framing: `<len>:<packet>` repeated (PROTOCOL.md §1.6).
//!
//! `len` counts UTF-16 code units for JS peers and UTF-8 bytes for
//! go-engine.io ([`LengthRule`]). The body is validated as UTF-8 once, so
//! every length is measured from a char boundary; a length that ends inside
//! a character (or splits a surrogate pair) is a [`ParseError::LengthMismatch`].
use bytes::Bytes;

use super::packet::base64_len;
use super::{LengthRule, Packet, ParseError, Revision};

/// Longest accepted `<len>` (ten digits: far above any body size cap).
pub(super) const MAX_LEN_DIGITS: usize = 10;

/// Splits an EIO3 text-framed body. Empty body → [`ParseError::EmptyPayload`];
/// `0:` slots are skipped (engine.io-parser 2.x `decodePayload`).
pub(super) fn decode(
    rule: LengthRule,
    body: &Bytes,
    max_packets: usize,
) -> Result<Vec<Packet>, ParseError> {
    if body.is_empty() {
        return Err(ParseError::EmptyPayload);
    }
    std::str::from_utf8(body).map_err(|_| ParseError::InvalidUtf8)?;
    let mut packets = Vec::new();
    let mut pos = 0;
    while pos < body.len() {
        let (n, start) = read_header(body, pos)?;
        let len = prefix_bytes(rule, &body[start..], n).ok_or(ParseError::LengthMismatch)?;
        let end = start + len;
        if len > 0 {
            if packets.len() >= max_packets {
                return Err(ParseError::TooManyPackets(max_packets));
            }
            packets.push(Packet::decode_text_utf8(
                Revision::V3,
                body.slice(start..end),
            )?);
        }
        pos = end;
    }
    Ok(packets)
}

/// Reads `<digits>:` at `pos`; returns the length and the index after `:`.
fn read_header(body: &[u8], pos: usize) -> Result<(usize, usize), ParseError> {
    let mut n: usize = 0;
    for (i, &c) in body[pos..].iter().enumerate() {
        match c {
            b':' if i > 0 => return Ok((n, pos + i + 1)),
            b'0'..=b'9' if i < MAX_LEN_DIGITS => {
                n = n
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(usize::from(c - b'0')))
                    .ok_or(ParseError::InvalidLength)?;
            }
            _ => return Err(ParseError::InvalidLength),
        }
    }
    // digits ran to the end of the body with no `:`
    Err(ParseError::TrailingGarbage)
}

/// How many bytes of `rest` (valid UTF-8, starting at a char boundary) make
/// `n` length units; `None` if `rest` is too short or `n` ends mid-character.
fn prefix_bytes(rule: LengthRule, rest: &[u8], n: usize) -> Option<usize> {
    match rule {
        LengthRule::Utf8Bytes => {
            let boundary = rest.get(n).is_none_or(|&b| !is_continuation(b));
            (n <= rest.len() && boundary).then_some(n)
        }
        LengthRule::Utf16 => utf16_prefix_bytes(rest, n),
    }
}

/// Bytes of `rest` holding `n` UTF-16 units. Counts whole chunks with the
/// vectorizable [`utf16_units`]: a chunk of `need` bytes from a char
/// boundary holds at most `need` units, so the loop never overshoots except
/// by splitting a surrogate pair (which is a mismatch), and `need` shrinks
/// by at least a third per round (3 bytes hold at least 1 unit).
fn utf16_prefix_bytes(rest: &[u8], n: usize) -> Option<usize> {
    let (mut pos, mut need) = (0usize, n);
    while need > 0 {
        let end = pos.checked_add(need)?.min(rest.len());
        if end == pos {
            return None;
        }
        let units = utf16_units(&rest[pos..end]);
        // extend past the continuation bytes of a char cut by the chunk end
        let mut boundary = end;
        while rest.get(boundary).is_some_and(|&b| is_continuation(b)) {
            boundary += 1;
        }
        if units > need {
            return None;
        }
        need -= units;
        pos = boundary;
    }
    Some(pos)
}

fn is_continuation(b: u8) -> bool {
    b & 0xc0 == 0x80
}

/// Length of `text` under `rule`. Exact for valid UTF-8; for other bytes
/// (never produced by the decoders) it is a best effort and never panics.
pub(super) fn count_units(rule: LengthRule, text: &[u8]) -> usize {
    match rule {
        LengthRule::Utf8Bytes => text.len(),
        LengthRule::Utf16 => utf16_units(text),
    }
}

/// UTF-16 units of UTF-8 text: one per char leader, one more per 4-byte
/// leader. Counted in 64-byte blocks with a `u8` sum so it vectorizes.
fn utf16_units(text: &[u8]) -> usize {
    if text.is_ascii() {
        return text.len();
    }
    text.chunks(64)
        .map(|block| {
            let units = block.iter().fold(0u8, |acc, &b| {
                acc + u8::from(!is_continuation(b)) + u8::from(b >= 0xf0)
            });
            usize::from(units)
        })
        .sum()
}

/// Length of `p`'s EIO3 text form under `rule`, without encoding it
/// (`None` for the open packet, whose JSON must be serialized to measure).
pub(super) fn encoded_units(rule: LengthRule, p: &Packet) -> Option<usize> {
    match p {
        Packet::Open(_) => None,
        Packet::Ping(d) | Packet::Pong(d) | Packet::Message(d) => Some(1 + count_units(rule, d)),
        Packet::Binary(d) => Some(2 + base64_len(d.len())),
        Packet::Close | Packet::Upgrade | Packet::Noop => Some(1),
    }
}

/// Appends the decimal digits of `n` as ASCII.
pub(super) fn push_decimal(n: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(crate::protocol::decimal::digits(n as u64, &mut [0; 20]));
}

/// Appends `<len>:<packet>` for each packet; an empty list is `0:`.
pub(super) fn encode(rule: LengthRule, packets: &[Packet], out: &mut Vec<u8>) {
    if packets.is_empty() {
        out.extend_from_slice(b"0:");
        return;
    }
    for p in packets {
        match encoded_units(rule, p) {
            Some(units) => {
                push_decimal(units, out);
                out.push(b':');
                p.encode_text(Revision::V3, out);
            }
            None => {
                let mut tmp = Vec::with_capacity(p.size_hint());
                p.encode_text(Revision::V3, &mut tmp);
                push_decimal(count_units(rule, &tmp), out);
                out.push(b':');
                out.extend_from_slice(&tmp);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_and_utf8_counts_differ_on_non_ascii() {
        let cases: &[(&str, usize, usize)] = &[
            ("42[\"pong2\",\"€\"]", 15, 17),
            ("42[\"m\",\"😀\"]", 12, 14),
            ("40", 2, 2),
            ("", 0, 0),
        ];
        for (text, utf16, utf8) in cases {
            assert_eq!(
                count_units(LengthRule::Utf16, text.as_bytes()),
                *utf16,
                "{text}"
            );
            assert_eq!(
                count_units(LengthRule::Utf8Bytes, text.as_bytes()),
                *utf8,
                "{text}"
            );
        }
    }

    #[test]
    fn a_length_ending_inside_a_character_is_a_mismatch() {
        let s = "€a".as_bytes();
        assert_eq!(prefix_bytes(LengthRule::Utf8Bytes, s, 1), None);
        assert_eq!(prefix_bytes(LengthRule::Utf8Bytes, s, 3), Some(3));
        let pair = "😀a".as_bytes();
        // one unit would cut the surrogate pair in half
        assert_eq!(prefix_bytes(LengthRule::Utf16, pair, 1), None);
        assert_eq!(prefix_bytes(LengthRule::Utf16, pair, 2), Some(4));
        assert_eq!(prefix_bytes(LengthRule::Utf16, pair, 4), None);
    }

    #[test]
    fn chunked_utf16_walk_matches_a_char_by_char_walk() {
        let text = "a€😀é中x😀😀€€ab".repeat(9);
        let mut naive = vec![Some(0)];
        for (i, ch) in text.char_indices() {
            if ch.len_utf16() == 2 {
                naive.push(None); // the middle of a surrogate pair
            }
            naive.push(Some(i + ch.len_utf8()));
        }
        for (n, want) in naive.iter().enumerate() {
            assert_eq!(
                prefix_bytes(LengthRule::Utf16, text.as_bytes(), n),
                *want,
                "n={n}"
            );
        }
        assert_eq!(
            prefix_bytes(LengthRule::Utf16, text.as_bytes(), naive.len()),
            None
        );
    }

    #[test]
    fn decimal_digits_are_written_without_allocating_a_string() {
        for n in [0usize, 7, 10, 97, 123_456_789, usize::MAX] {
            let mut out = Vec::new();
            push_decimal(n, &mut out);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }

    #[test]
    fn bad_length_headers_are_rejected() {
        let cases: &[(&[u8], ParseError)] = &[
            (b":40", ParseError::InvalidLength),
            (b"x:40", ParseError::InvalidLength),
            (b"-2:40", ParseError::InvalidLength),
            (b" 2:40", ParseError::InvalidLength),
            (b"12345678901:4", ParseError::InvalidLength),
            (b"2:40x", ParseError::InvalidLength),
            (b"2:4012", ParseError::TrailingGarbage),
            (b"2", ParseError::TrailingGarbage),
        ];
        for (wire, want) in cases {
            let body = Bytes::copy_from_slice(wire);
            assert_eq!(
                decode(LengthRule::Utf16, &body, 16),
                Err(want.clone()),
                "{wire:?}"
            );
        }
    }
}
