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
    #[inline]
    pub(super) fn next(&mut self) -> Result<Option<Token>, Invalid> {
        let b = self.b;
        while self.pos < b.len() && matches!(b[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let Some(&c) = b.get(self.pos) else {
            return Ok(None);
        };
        let tok = match c {
            b'{' => Token::ObjStart,
            b'}' => Token::ObjEnd,
            b'[' => Token::ArrStart,
            b']' => Token::ArrEnd,
            b':' => Token::Colon,
            b',' => Token::Comma,
            b'"' => return self.string().map(Some),
            b'-' | b'0'..=b'9' => return self.number().map(Some),
            b't' => return self.literal(b"true", Token::True).map(Some),
            b'f' => return self.literal(b"false", Token::False).map(Some),
            b'n' => return self.literal(b"null", Token::Null).map(Some),
            _ => return Err(Invalid),
        };
        self.pos += 1;
        Ok(Some(tok))
    }

    fn literal(&mut self, word: &[u8], tok: Token) -> Result<Token, Invalid> {
        if self.b[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(tok)
        } else {
            Err(Invalid)
        }
    }

    #[inline]
    fn string(&mut self) -> Result<Token, Invalid> {
        let b = self.b;
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            let Some(&c) = b.get(i) else {
                return Err(Invalid);
            };
            match c {
                b'"' => break,
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
        self.pos = i + 1;
        Ok(Token::Str {
            start,
            end: i,
            escaped,
        })
    }

    fn number(&mut self) -> Result<Token, Invalid> {
        let b = self.b;
        let start = self.pos;
        let mut i = start;
        if b[i] == b'-' {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = digits(b, i),
            _ => return Err(Invalid),
        }
        if b.get(i) == Some(&b'.') {
            let j = digits(b, i + 1);
            if j == i + 1 {
                return Err(Invalid);
            }
            i = j;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let j = digits(b, i);
            if j == i {
                return Err(Invalid);
            }
            i = j;
        }
        self.pos = i;
        Ok(Token::Num { start, end: i })
    }
}

/// End of the ASCII digit run starting at `i`.
fn digits(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

/// What the grammar accepts next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    Value,
    /// Right after `[`: a value or `]`.
    ValueOrArrEnd,
    /// Right after `{`: a key or `}`.
    KeyOrObjEnd,
    Key,
    Colon,
    /// After a value inside a container: `,` or the container's end.
    CommaOrEnd,
    /// The top-level value is complete.
    Done,
}

/// Checks that `b` is exactly one well-formed JSON value (whitespace around
/// it allowed) and reports its top-level shape.
pub(crate) fn scan(b: &[u8]) -> Result<Shape, Invalid> {
    let mut lx = Lexer::new(b);
    // Bit d of `stack` is 1 when the container at depth d+1 is an object.
    let mut stack: u128 = 0;
    let mut depth = 0usize;
    let mut expect = Expect::Value;
    let mut top: Option<Kind> = None;
    let mut head: Option<Kind> = None;

    while let Some(tok) = lx.next()? {
        let in_object = depth > 0 && stack >> (depth - 1) & 1 == 1;
        match (expect, tok) {
            (Expect::Value | Expect::ValueOrArrEnd, t) if !matches!(t, Token::ArrEnd) => {
                let kind = match t {
                    Token::ObjStart | Token::ArrStart => {
                        if depth == MAX_DEPTH {
                            return Err(Invalid);
                        }
                        let is_obj = t == Token::ObjStart;
                        stack = (stack & !(1u128 << depth)) | (u128::from(is_obj) << depth);
                        depth += 1;
                        expect = if is_obj {
                            Expect::KeyOrObjEnd
                        } else {
                            Expect::ValueOrArrEnd
                        };
                        if is_obj { Kind::Object } else { Kind::Array }
                    }
                    Token::Str {
                        start,
                        end,
                        escaped,
                    } => {
                        expect = after_value(depth);
                        Kind::Str {
                            start,
                            end,
                            escaped,
                        }
                    }
                    Token::Num { .. } => {
                        expect = after_value(depth);
                        Kind::Number
                    }
                    Token::True | Token::False | Token::Null => {
                        expect = after_value(depth);
                        Kind::Literal
                    }
                    _ => return Err(Invalid),
                };
                if top.is_none() {
                    top = Some(kind);
                } else if head.is_none()
                    && top == Some(Kind::Array)
                    && depth_of_value(kind, depth) == 1
                {
                    head = Some(kind);
                }
            }
            (Expect::ValueOrArrEnd | Expect::CommaOrEnd, Token::ArrEnd) if !in_object => {
                depth -= 1;
                expect = after_value(depth);
            }
            (Expect::KeyOrObjEnd | Expect::CommaOrEnd, Token::ObjEnd) if in_object => {
                depth -= 1;
                expect = after_value(depth);
            }
            (Expect::KeyOrObjEnd | Expect::Key, Token::Str { .. }) => expect = Expect::Colon,
            (Expect::Colon, Token::Colon) => expect = Expect::Value,
            (Expect::CommaOrEnd, Token::Comma) => {
                expect = if in_object {
                    Expect::Key
                } else {
                    Expect::Value
                };
            }
            _ => return Err(Invalid),
        }
    }
    match (expect, top) {
        (Expect::Done, Some(top)) => Ok(Shape { top, head }),
        _ => Err(Invalid),
    }
}

/// The depth at which a value sits: containers have already been pushed.
fn depth_of_value(kind: Kind, depth_after: usize) -> usize {
    match kind {
        Kind::Object | Kind::Array => depth_after - 1,
        _ => depth_after,
    }
}

fn after_value(depth: usize) -> Expect {
    if depth == 0 {
        Expect::Done
    } else {
        Expect::CommaOrEnd
    }
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
