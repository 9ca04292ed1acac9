//! JSONP polling (`j=<n>` query, PROTOCOL.md §1.2), as engine.io 3.x/6.x
//! `polling-jsonp.js` does it:
//!
//! - responses are `___eio[<n>]("<payload>");`, the payload escaped like
//!   `JSON.stringify` plus `\u2028`/`\u2029` (valid JSON is not valid
//!   JavaScript with those two raw);
//! - POST bodies are forms `d=<payload>` whose newlines the client sent
//!   pre-escaped: `\n` (backslash, n) is a newline and `\\n` is a literal
//!   backslash-n.
use bytes::Bytes;

use super::ParseError;
use super::text3::push_decimal;

const HEAD: &[u8] = b"___eio[";
const HEX: &[u8; 16] = b"0123456789abcdef";

/// The JSONP wrapper `___eio[<j>]("<payload as a JS string>");`.
pub(super) fn encode(index: u32, text_body: &[u8]) -> Bytes {
    // 6 bytes per input byte is the worst case (`\u001f`).
    let mut out = Vec::with_capacity(HEAD.len() + 10 + 5 + text_body.len() + text_body.len() / 8);
    out.extend_from_slice(HEAD);
    push_decimal(index as usize, &mut out);
    out.extend_from_slice(b"](\"");
    push_js_string_body(text_body, &mut out);
    out.extend_from_slice(b"\");");
    Bytes::from(out)
}

/// Escapes like `JSON.stringify(s)` (without the quotes), then U+2028 and
/// U+2029. Bytes that are not ASCII pass through, so UTF-8 stays UTF-8.
fn push_js_string_body(text: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while let Some(&c) = text.get(i) {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x00..=0x1f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(c >> 4)]);
                out.push(HEX[usize::from(c & 0xf)]);
            }
            0xe2 if matches!(text.get(i + 1..i + 3), Some([0x80, 0xa8 | 0xa9])) => {
                let last = if text[i + 2] == 0xa8 { b'8' } else { b'9' };
                out.extend_from_slice(b"\\u202");
                out.push(last);
                i += 2;
            }
            _ => out.push(c),
        }
        i += 1;
    }
}

/// Extracts the payload from a JSONP POST body `d=<form-encoded payload>`.
/// Exactly one `d` field is required (Node's `qs.parse` would turn two into
/// an array, which engine.io then ignores).
pub(super) fn decode_post(body: &[u8]) -> Result<Bytes, ParseError> {
    let mut found = None;
    for pair in body.split(|&b| b == b'&') {
        let (key, value) = match pair.iter().position(|&b| b == b'=') {
            Some(eq) => (&pair[..eq], &pair[eq + 1..]),
            None => (pair, &b""[..]),
        };
        if form_decode(key) == b"d" {
            if found.is_some() {
                return Err(ParseError::InvalidJsonp);
            }
            found = Some(value);
        }
    }
    let value = found.ok_or(ParseError::InvalidJsonp)?;
    Ok(Bytes::from(unescape_newlines(&form_decode(value))))
}

/// `application/x-www-form-urlencoded` value decoding: `+` is a space,
/// `%XX` a byte; an invalid escape is kept literally (Node's `qs.unescape`).
fn form_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        let escaped = match (c, s.get(i + 1..i + 3)) {
            (b'%', Some(&[h, l])) => hex_val(h).zip(hex_val(l)),
            _ => None,
        };
        match (c, escaped) {
            (_, Some((h, l))) => {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
            (b'+', None) => out.push(b' '),
            (_, None) => out.push(c),
        }
        i += 1;
    }
    out
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// engine.io's two regex passes in one: `\\n` → `\n` (backslash, n) and a
/// lone `\n` (backslash, n) → newline.
fn unescape_newlines(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        match (c, s.get(i + 1), s.get(i + 2)) {
            (b'\\', Some(b'\\'), Some(b'n')) => {
                out.extend_from_slice(b"\\n");
                i += 3;
            }
            (b'\\', Some(b'n'), _) => {
                out.push(b'\n');
                i += 2;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonp_response_escapes_like_json_stringify_plus_line_separators() {
        let cases: &[(&str, &str)] = &[
            ("2:40", "___eio[0](\"2:40\");"),
            ("8:42[\"a\\\"\"]", "___eio[0](\"8:42[\\\"a\\\\\\\"\\\"]\");"),
            ("3:4\n\t", "___eio[0](\"3:4\\n\\t\");"),
            ("3:4\u{1}\u{7f}", "___eio[0](\"3:4\\u0001\u{7f}\");"),
            ("3:4\u{2028}\u{2029}", "___eio[0](\"3:4\\u2028\\u2029\");"),
            ("2:4€", "___eio[0](\"2:4€\");"),
        ];
        for (body, want) in cases {
            assert_eq!(encode(0, body.as_bytes()), want.as_bytes(), "{body:?}");
        }
        assert_eq!(encode(42, b"1:6"), &b"___eio[42](\"1:6\");"[..]);
    }

    #[test]
    fn jsonp_post_body_is_form_decoded_and_newlines_unescaped() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"d=2%3A40", b"2:40"),
            (b"d=14%3A42%5B%22a+b%22%5D", b"14:42[\"a b\"]"),
            (b"x=1&d=1:6", b"1:6"),
            // `\n` is a newline; `\\n` is a literal backslash-n
            (b"d=4:4a\\nb", b"4:4a\nb"),
            (b"d=5:4a\\\\nb", b"5:4a\\nb"),
            // engine.io's regexes: the last two of three backslashes pair with `n`
            (b"d=4a\\\\\\nb", b"4a\\\\nb"),
            (b"d=%E2%82%AC", "€".as_bytes()),
            (b"d=100%", b"100%"),
            (b"d=%zz", b"%zz"),
            (b"d", b""),
        ];
        for (body, want) in cases {
            assert_eq!(decode_post(body).as_deref(), Ok(*want), "{body:?}");
        }
    }

    #[test]
    fn jsonp_post_without_exactly_one_d_is_rejected() {
        for body in [&b""[..], b"e=1", b"d=1&d=2"] {
            assert_eq!(decode_post(body), Err(ParseError::InvalidJsonp), "{body:?}");
        }
    }
}
