//! The placeholder walk of binary packets (PROTOCOL.md §2.6): finds the
//! `{"_placeholder":true,"num":i}` objects of a payload the JSON scanner has
//! already accepted and checks that they reference every attachment once.
//! Runs only for BINARY_EVENT/BINARY_ACK headers, so it may allocate (a stack
//! of open containers, bounded by the scanner's depth limit).
use super::ParseError;
use super::json::{Lexer, Token, str_eq};

/// One open container in the placeholder walk.
#[derive(Default)]
struct Frame {
    is_object: bool,
    /// The last key read in this object, classified.
    key: Key,
    placeholder: bool,
    num: Option<f64>,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Key {
    #[default]
    None,
    Placeholder,
    Num,
    Other,
}

/// Checks the binary placeholders of a payload already accepted by [`scan`]:
/// every object whose `_placeholder` is `true` must have a `num` that is an
/// integer in `0..n`, and the nums must cover `0..n` exactly once each (what
/// socket.io-parser's `deconstructPacket` produces). Last duplicate key wins,
/// as in `JSON.parse`. Stricter than the reference decoder, which ignores
/// unused attachments and would skip placeholders nested inside another.
pub(crate) fn check(data: &[u8], n: usize) -> Result<(), ParseError> {
    let bad = ParseError::InvalidPlaceholder;
    let mut seen = vec![false; n];
    let mut found = 0usize;
    let mut stack: Vec<Frame> = Vec::new();
    let mut lx = Lexer::new(data);
    // In an object: true when the next string token is a key.
    let mut want_key = false;
    while let Some(tok) = lx.next().map_err(|_| ParseError::InvalidJson)? {
        match tok {
            Token::ObjStart | Token::ArrStart => {
                set_value(&mut stack, None, data, tok);
                let is_object = tok == Token::ObjStart;
                stack.push(Frame {
                    is_object,
                    ..Frame::default()
                });
                want_key = is_object;
            }
            Token::ObjEnd | Token::ArrEnd => {
                let frame = stack.pop().ok_or(ParseError::InvalidJson)?;
                if frame.is_object && frame.placeholder {
                    let num = frame.num.ok_or(bad.clone())?;
                    if !(num >= 0.0 && num.fract() == 0.0 && num < n as f64) {
                        return Err(bad);
                    }
                    let slot = &mut seen[num as usize];
                    if *slot {
                        return Err(bad);
                    }
                    *slot = true;
                    found += 1;
                }
                want_key = false;
            }
            Token::Comma => want_key = stack.last().is_some_and(|f| f.is_object),
            Token::Colon => want_key = false,
            Token::Str {
                start,
                end,
                escaped,
            } if want_key => {
                if let Some(frame) = stack.last_mut() {
                    let raw = &data[start..end];
                    frame.key = if str_eq(raw, escaped, "_placeholder") {
                        Key::Placeholder
                    } else if str_eq(raw, escaped, "num") {
                        Key::Num
                    } else {
                        Key::Other
                    };
                }
            }
            t => set_value(&mut stack, Some(t), data, tok),
        }
    }
    if found == n { Ok(()) } else { Err(bad) }
}

/// Records a value read under the current key of the innermost object.
fn set_value(stack: &mut [Frame], scalar: Option<Token>, data: &[u8], tok: Token) {
    let Some(frame) = stack.last_mut().filter(|f| f.is_object) else {
        return;
    };
    match frame.key {
        Key::Placeholder => frame.placeholder = scalar == Some(Token::True),
        Key::Num => {
            frame.num = match tok {
                Token::Num { start, end } => std::str::from_utf8(&data[start..end])
                    .ok()
                    .and_then(|s| s.parse::<f64>().ok()),
                _ => None,
            }
        }
        Key::None | Key::Other => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_must_cover_every_attachment_once() {
        let cases: &[(&str, usize, bool)] = &[
            (r#"["a",{"_placeholder":true,"num":0}]"#, 1, true),
            (
                r#"["a",{"_placeholder":true,"num":1},{"x":[{"_placeholder":true,"num":0}]}]"#,
                2,
                true,
            ),
            (r#"[{"num":0,"_placeholder":true}]"#, 1, true),
            (r#"[{"_placeholder":true,"num":0.0}]"#, 1, true),
            (r#"[{"\u005fplaceholder":true,"num":0}]"#, 1, true),
            // Wrong, missing, duplicate or out-of-range nums.
            (r#"["a",{"_placeholder":true,"num":1}]"#, 1, false),
            (r#"["a"]"#, 1, false),
            (
                r#"[{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]"#,
                2,
                false,
            ),
            (r#"[{"_placeholder":true,"num":0.5}]"#, 1, false),
            (r#"[{"_placeholder":true,"num":-1}]"#, 1, false),
            (r#"[{"_placeholder":true,"num":"0"}]"#, 1, false),
            (r#"[{"_placeholder":true}]"#, 1, false),
            (r#"[{"_placeholder":true,"num":{"num":0}}]"#, 1, false),
            // `_placeholder` not literally true: an ordinary object.
            (
                r#"[{"_placeholder":1,"num":0},{"_placeholder":true,"num":0}]"#,
                1,
                true,
            ),
            (
                r#"[{"_placeholder":true,"_placeholder":false,"num":0}]"#,
                1,
                false,
            ),
        ];
        for (doc, n, ok) in cases {
            assert!(
                super::super::json::scan(doc.as_bytes()).is_ok(),
                "fixture must be valid: {doc}"
            );
            let got = check(doc.as_bytes(), *n);
            assert_eq!(got.is_ok(), *ok, "{doc} with {n} attachments: {got:?}");
        }
    }
}
