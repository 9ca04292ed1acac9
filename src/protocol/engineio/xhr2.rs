//! EIO3 XHR2 binary framing (`application/octet-stream`, PROTOCOL.md §1.6):
//! per packet `<0x00 text | 0x01 binary> <decimal digits as bytes 0–9> 0xFF
//! <packet>`, the length in bytes including the packet's type.
//!
//! Stricter than engine.io-parser 2.x (which reads any byte as a digit and
//! never checks that the body is long enough): a bad flag, a digit above 9,
//! a missing 0xFF or a short body rejects the whole payload.
use bytes::Bytes;

use super::text3::{MAX_LEN_DIGITS, encoded_units, push_decimal};
use super::{LengthRule, Packet, ParseError, Revision};

const TEXT_FLAG: u8 = 0x00;
const BINARY_FLAG: u8 = 0x01;
const LEN_END: u8 = 0xff;

/// Splits an XHR2-framed body; text slots must be UTF-8.
pub(super) fn decode(body: &Bytes, max_packets: usize) -> Result<Vec<Packet>, ParseError> {
    if body.is_empty() {
        return Err(ParseError::EmptyPayload);
    }
    let mut packets = Vec::new();
    let mut pos = 0;
    while let Some(&flag) = body.get(pos) {
        if flag != TEXT_FLAG && flag != BINARY_FLAG {
            return Err(ParseError::InvalidLength);
        }
        let (n, start) = read_length(body, pos + 1)?;
        let end = start
            .checked_add(n)
            .filter(|&end| end <= body.len())
            .ok_or(ParseError::LengthMismatch)?;
        if packets.len() >= max_packets {
            return Err(ParseError::TooManyPackets(max_packets));
        }
        let slot = body.slice(start..end);
        packets.push(match flag {
            TEXT_FLAG => Packet::decode_text(Revision::V3, slot)?,
            _ => Packet::decode_binary(Revision::V3, slot)?,
        });
        pos = end;
    }
    Ok(packets)
}

/// Reads digit bytes up to 0xFF from `pos`; returns the length and the index
/// after the 0xFF.
fn read_length(body: &[u8], pos: usize) -> Result<(usize, usize), ParseError> {
    let mut n: usize = 0;
    for (i, &d) in body.get(pos..).unwrap_or_default().iter().enumerate() {
        match d {
            LEN_END if i > 0 => return Ok((n, pos + i + 1)),
            0..=9 if i < MAX_LEN_DIGITS => {
                n = n
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(usize::from(d)))
                    .ok_or(ParseError::InvalidLength)?;
            }
            _ => return Err(ParseError::InvalidLength),
        }
    }
    Err(ParseError::InvalidLength)
}

/// Appends the XHR2 framing of `packets` (empty list → nothing, as
/// engine.io-parser 2.x).
pub(super) fn encode(packets: &[Packet], out: &mut Vec<u8>) {
    for p in packets {
        match p {
            Packet::Binary(data) => {
                push_header(BINARY_FLAG, 1 + data.len(), out);
                out.push(0x04);
                out.extend_from_slice(data);
            }
            _ => match encoded_units(LengthRule::Utf8Bytes, p) {
                Some(len) => {
                    push_header(TEXT_FLAG, len, out);
                    p.encode_text(Revision::V3, out);
                }
                None => {
                    let mut tmp = Vec::with_capacity(p.size_hint());
                    p.encode_text(Revision::V3, &mut tmp);
                    push_header(TEXT_FLAG, tmp.len(), out);
                    out.extend_from_slice(&tmp);
                }
            },
        }
    }
}

fn push_header(flag: u8, len: usize, out: &mut Vec<u8>) {
    out.push(flag);
    let start = out.len();
    push_decimal(len, out);
    for d in &mut out[start..] {
        *d -= b'0';
    }
    out.push(LEN_END);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_use_digit_values_not_ascii() {
        let mut out = Vec::new();
        push_header(TEXT_FLAG, 17, &mut out);
        assert_eq!(out, [0x00, 0x01, 0x07, 0xff]);
    }

    #[test]
    fn malformed_frames_are_rejected() {
        let cases: &[(&[u8], ParseError)] = &[
            (&[], ParseError::EmptyPayload),
            (&[0x02, 0x01, 0xff, b'6'], ParseError::InvalidLength),
            (&[0x00, 0xff, b'6'], ParseError::InvalidLength),
            (&[0x00, 0x0a, 0xff, b'6'], ParseError::InvalidLength),
            (&[0x00, 0x01], ParseError::InvalidLength),
            (&[0x00], ParseError::InvalidLength),
            (&[0x00, 0x02, 0xff, b'6'], ParseError::LengthMismatch),
            (&[0x00, 0x00, 0xff], ParseError::Empty),
            (&[0x00, 0x01, 0xff, 0xc3], ParseError::InvalidUtf8),
            (&[0x01, 0x01, 0xff, 0x09], ParseError::UnknownType(9)),
            (
                &[0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0xff],
                ParseError::InvalidLength,
            ),
        ];
        for (wire, want) in cases {
            let body = Bytes::copy_from_slice(wire);
            assert_eq!(decode(&body, 16), Err(want.clone()), "{wire:02x?}");
        }
    }
}
