//! `application/x-www-form-urlencoded` decoding, used for the request query
//! string and for JSONP POST bodies (`d=<payload>`). `+` is a space; an
//! invalid `%` escape is kept literally (as Node's `querystring` does).

/// Splits `a=1&b=x+y` into decoded pairs, in order, repeated keys kept.
/// A key without `=` gets an empty value; empty segments are skipped.
pub fn pairs(input: &str) -> Vec<(String, String)> {
    input
        .split('&')
        .filter(|seg| !seg.is_empty())
        .map(|seg| match seg.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(seg), String::new()),
        })
        .collect()
}

/// Percent-decodes one component (`+` → space). Decoded bytes that are not
/// UTF-8 are replaced with U+FFFD.
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_pairs_in_order() {
        assert_eq!(
            pairs("EIO=4&transport=polling&q=a+b&x=%E2%82%AC&flag&&q=c"),
            vec![
                ("EIO".into(), "4".into()),
                ("transport".into(), "polling".into()),
                ("q".into(), "a b".into()),
                ("x".into(), "€".into()),
                ("flag".into(), String::new()),
                ("q".into(), "c".into()),
            ]
        );
    }

    #[test]
    fn invalid_escapes_stay_literal() {
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(decode("%41"), "A");
        assert_eq!(decode("%ff"), "\u{fffd}");
    }
}
