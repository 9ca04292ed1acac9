//! A small validating JSON scanner for Socket.IO payloads.
//!
//! The proxy never needs the payload's value, only two facts about it: that it
//! is well-formed JSON (RFC 8259, as `JSON.parse` accepts it, surrounding
//! whitespace allowed) and the shape of its top level (object, array, string…;
//! for an array, its first element). [`scan`] checks both in one pass without
//! allocating. Nesting is tracked in a 128-bit stack, so depth is capped at
//! [`MAX_DEPTH`] and `[[[[…` can never overflow the call stack.
//!
//! Like `JSON.parse` (and unlike `serde_json` into a `String`), `\uXXXX`
//! escapes are not checked for surrogate pairing. UTF-8 validity is the
//! caller's job (the packet decoder checks the whole text once).
//!
//! The lexer is shared with the placeholder walk of binary packets
//! (`super::placeholder`).

/// Deepest nesting accepted (serde_json's default recursion limit).
pub(crate) const MAX_DEPTH: usize = 128;

/// Kind of a JSON value, as far as the validation rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Object,
    Array,
    /// A string: `start..end` are the raw contents between the quotes,
    /// `escaped` tells whether they contain a backslash escape.
    Str {
        start: usize,
        end: usize,
        escaped: bool,
    },
    Number,
    Literal,
}

/// The top-level shape of a well-formed document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    pub top: Kind,
    /// For an array: its first element (`None` when empty).
    pub head: Option<Kind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Token {
    ObjStart,
    ObjEnd,
    ArrStart,
    ArrEnd,
    Colon,
    Comma,
    Str {
        start: usize,
        end: usize,
        escaped: bool,
    },
    Num {
        start: usize,
        end: usize,
    },
    True,
    False,
    Null,
}

/// Not well-formed; the scanner does not say where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Invalid;

pub(super) struct Lexer<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(b: &'a [u8]) -> Lexer<'a> {
        Lexer { b, pos: 0 }
    }

    /// The next token, `None` at the end of input.
    pub(super) fn next(&mut self) -> Result<Option<Token>, Invalid> {
        let b = self.b;
        let i = skip_ws(b, self.pos);
        let Some(&c) = b.get(i) else {
            self.pos = i;
            return Ok(None);
        };
        let (tok, next) = match c {
            b'{' => (Token::ObjStart, i + 1),
            b'}' => (Token::ObjEnd, i + 1),
            b'[' => (Token::ArrStart, i + 1),
            b']' => (Token::ArrEnd, i + 1),
            b':' => (Token::Colon, i + 1),
            b',' => (Token::Comma, i + 1),
            b'"' => {
                let (end, escaped) = string_end(b, i + 1)?;
                let tok = Token::Str {
                    start: i + 1,
                    end,
                    escaped,
                };
                (tok, end + 1)
            }
            b'-' | b'0'..=b'9' => {
                let end = number_end(b, i)?;
                (Token::Num { start: i, end }, end)
            }
            b't' => (Token::True, literal_end(b, i, b"true")?),
            b'f' => (Token::False, literal_end(b, i, b"false")?),
            b'n' => (Token::Null, literal_end(b, i, b"null")?),
            _ => return Err(Invalid),
        };
        self.pos = next;
        Ok(Some(tok))
    }
}

#[inline]
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(i) {
        i += 1;
    }
    i
}

fn literal_end(b: &[u8], i: usize, word: &[u8]) -> Result<usize, Invalid> {
    if b[i..].starts_with(word) {
        Ok(i + word.len())
    } else {
        Err(Invalid)
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Nonzero iff one of the 8 bytes of `x` is `"`, `\` or a control character
/// (< 0x20): the classic SWAR "has zero byte" / "has byte less than" tests.
#[inline]
fn special_bytes(x: u64) -> u64 {
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let quote = has_zero(x ^ (ONES * u64::from(b'"')));
    let backslash = has_zero(x ^ (ONES * u64::from(b'\\')));
    let control = x.wrapping_sub(ONES * 0x20) & !x & HIGHS;
    quote | backslash | control
}

/// Scans string contents starting at `i` (just after the opening quote).
/// Returns the index of the closing quote and whether an escape was seen.
/// Plain runs are skipped 8 bytes at a time.
#[inline]
fn string_end(b: &[u8], mut i: usize) -> Result<(usize, bool), Invalid> {
    let mut escaped = false;
    loop {
        while let Some(chunk) = b.get(i..i + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let mask = special_bytes(u64::from_le_bytes(word));
            if mask != 0 {
                // The lowest flagged byte is always a real special byte
                // (false positives only sit above a real one).
                i += (mask.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        match *b.get(i).ok_or(Invalid)? {
            b'"' => return Ok((i, escaped)),
            b'\\' => {
                escaped = true;
                match b.get(i + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                    Some(b'u') => {
                        let hex = b.get(i + 2..i + 6).ok_or(Invalid)?;
                        if !hex.iter().all(u8::is_ascii_hexdigit) {
                            return Err(Invalid);
                        }
                        i += 6;
                    }
                    _ => return Err(Invalid),
                }
            }
            0..=0x1f => return Err(Invalid),
            _ => i += 1,
        }
    }
}

/// Scans a number starting at `i` (a `-` or a digit); returns its end.
#[inline]
fn number_end(b: &[u8], mut i: usize) -> Result<usize, Invalid> {
    if b[i] == b'-' {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(b, i + 1),
        _ => return Err(Invalid),
    }
    if b.get(i) == Some(&b'.') {
        let j = digits(b, i + 1);
        if j == i + 1 {
            return Err(Invalid);
        }
        i = j;
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        let j = digits(b, i);
        if j == i {
            return Err(Invalid);
        }
        i = j;
    }
    Ok(i)
}

/// End of the ASCII digit run starting at `i`.
#[inline]
fn digits(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

/// Checks that `b` is exactly one well-formed JSON value (whitespace around
/// it allowed) and reports its top-level shape.
///
/// A direct iterative parser (no token values): read a value, then close
/// containers until a `,` asks for the next one. Bit d of `stack` is 1 when
/// the container at depth d+1 is an object.
pub(crate) fn scan(b: &[u8]) -> Result<Shape, Invalid> {
    let mut stack: u128 = 0;
    let mut depth = 0usize;
    let mut top: Option<Kind> = None;
    let mut head: Option<Kind> = None;
    // True between the top-level `[` and its first element.
    let mut want_head = false;
    let mut i = skip_ws(b, 0);
    loop {
        // A value starts at `i` (whitespace skipped).
        let kind = match *b.get(i).ok_or(Invalid)? {
            c @ (b'{' | b'[') => {
                if depth == MAX_DEPTH {
                    return Err(Invalid);
                }
                let is_obj = c == b'{';
                stack = (stack & !(1u128 << depth)) | (u128::from(is_obj) << depth);
                depth += 1;
                i = skip_ws(b, i + 1);
                let kind = if is_obj { Kind::Object } else { Kind::Array };
                let empty = b.get(i) == Some(if is_obj { &b'}' } else { &b']' });
                record(&mut top, &mut head, &mut want_head, kind);
                if !empty {
                    if top == Some(Kind::Array) && depth == 1 {
                        want_head = true;
                    }
                    if is_obj {
                        i = key(b, i)?;
                    }
                    continue;
                }
                depth -= 1;
                i += 1;
                kind
            }
            b'"' => {
                let (end, escaped) = string_end(b, i + 1)?;
                let kind = Kind::Str {
                    start: i + 1,
                    end,
                    escaped,
                };
                i = end + 1;
                kind
            }
            b'-' | b'0'..=b'9' => {
                i = number_end(b, i)?;
                Kind::Number
            }
            b't' => {
                i = literal_end(b, i, b"true")?;
                Kind::Literal
            }
            b'f' => {
                i = literal_end(b, i, b"false")?;
                Kind::Literal
            }
            b'n' => {
                i = literal_end(b, i, b"null")?;
                Kind::Literal
            }
            _ => return Err(Invalid),
        };
        if !matches!(kind, Kind::Object | Kind::Array) {
            record(&mut top, &mut head, &mut want_head, kind);
        }
        // After a value: close containers until a `,` or the end.
        loop {
            i = skip_ws(b, i);
            if depth == 0 {
                return match (i == b.len(), top) {
                    (true, Some(top)) => Ok(Shape { top, head }),
                    _ => Err(Invalid),
                };
            }
            let in_object = stack >> (depth - 1) & 1 == 1;
            match (b.get(i), in_object) {
                (Some(b','), false) => {
                    i = skip_ws(b, i + 1);
                    break;
                }
                (Some(b','), true) => {
                    i = key(b, skip_ws(b, i + 1))?;
                    break;
                }
                (Some(b']'), false) | (Some(b'}'), true) => {
                    depth -= 1;
                    i += 1;
                }
                _ => return Err(Invalid),
            }
        }
    }
}

/// Notes a value's kind as the top level or as the top array's head.
#[inline]
fn record(top: &mut Option<Kind>, head: &mut Option<Kind>, want_head: &mut bool, kind: Kind) {
    if top.is_none() {
        *top = Some(kind);
    } else if *want_head {
        *head = Some(kind);
        *want_head = false;
    }
}

/// Reads `"key" :` at `i`; returns the position of the value (whitespace
/// skipped).
#[inline]
fn key(b: &[u8], i: usize) -> Result<usize, Invalid> {
    if b.get(i) != Some(&b'"') {
        return Err(Invalid);
    }
    let (end, _) = string_end(b, i + 1)?;
    let i = skip_ws(b, end + 1);
    if b.get(i) != Some(&b':') {
        return Err(Invalid);
    }
    Ok(skip_ws(b, i + 1))
}

/// Decodes a JSON string's raw contents (between the quotes). `None` when an
/// escape does not form a valid Unicode scalar (a lone surrogate).
pub(crate) fn unescape(raw: &[u8]) -> Option<String> {
    let mut quoted = Vec::with_capacity(raw.len() + 2);
    quoted.push(b'"');
    quoted.extend_from_slice(raw);
    quoted.push(b'"');
    serde_json::from_slice(&quoted).ok()
}

/// Whether a string token's raw contents decode to `want`.
pub(crate) fn str_eq(raw: &[u8], escaped: bool, want: &str) -> bool {
    if escaped {
        unescape(raw).is_some_and(|s| s == want)
    } else {
        raw == want.as_bytes()
    }
}

/// The first element of `data` if it is an array whose head is a string:
/// the raw contents' range and whether they contain escapes. Lexes only the
/// first two tokens; `data` is not validated.
pub(crate) fn array_head_str(data: &[u8]) -> Option<(usize, usize)> {
    let mut lx = Lexer::new(data);
    match (lx.next(), lx.next()) {
        (Ok(Some(Token::ArrStart)), Ok(Some(Token::Str { start, end, .. }))) => Some((start, end)),
        _ => None,
    }
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
