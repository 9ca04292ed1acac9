//! The CONNECT namespace: path and query split, form decoding of the query,
//! `encodeURIComponent` re-encoding, and the v5 auth object ↔ query mapping.
//!
//! The comma recovery rule of PROTOCOL.md §4.4 lives in the packet decoder
//! (it decides where the nsp ends); this module takes the recovered nsp. The
//! path is never percent-decoded: Node compares the raw pathname, so
//! `/ch%61t` is not `/chat`.
use serde_json::{Map, Value};

/// A decoded query: pairs in wire order, repeated keys kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(pub Vec<(String, String)>);

/// A CONNECT namespace split into its raw path (never percent-decoded) and
/// its query (`None` when there was no `?`; `Some(empty)` for `/chat?`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub path: String,
    pub query: Option<Query>,
}

impl Target {
    /// Splits `/chat?token=abc` into `/chat` and `{token: abc}`.
    pub fn parse(nsp: &str) -> Target {
        match nsp.split_once('?') {
            Some((path, query)) => Target {
                path: path.to_owned(),
                query: Some(Query::parse(query)),
            },
            None => Target {
                path: nsp.to_owned(),
                query: None,
            },
        }
    }
}

impl Query {
    /// Form-decodes `a=1&b=x+y&c=%E2%82%AC` (`+` is space, invalid escapes kept literally).
    ///
    /// Like Node's `querystring.parse`: pairs split on `&` (empty pieces
    /// skipped), key and value split at the first `=` (a key without `=` gets
    /// an empty value), `%XX` escapes decoded as bytes and the result read as
    /// UTF-8 with invalid sequences replaced by U+FFFD.
    pub fn parse(s: &str) -> Query {
        let pairs = s
            .split('&')
            .filter(|piece| !piece.is_empty())
            .map(|piece| {
                let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
                (form_decode(k), form_decode(v))
            })
            .collect();
        Query(pairs)
    }

    /// Re-encodes with `encodeURIComponent` rules: `q=a%20b&x=%E2%82%AC`.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            encode_component(&mut out, k);
            out.push('=');
            encode_component(&mut out, v);
        }
        out
    }

    /// First value for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Flattens a v5 auth object into query pairs (strings as is, numbers and
    /// bools stringified, nested values JSON-encoded), dropping `pid`/`offset`
    /// when `drop_recovery` is set.
    ///
    /// `null` becomes an empty value (as `querystring.stringify` does); arrays
    /// and objects are "nested" and become their JSON text. Pairs follow the
    /// map's key order.
    pub fn from_auth(auth: &Map<String, Value>, drop_recovery: bool) -> Query {
        let pairs = auth
            .iter()
            .filter(|(k, _)| !(drop_recovery && (k.as_str() == "pid" || k.as_str() == "offset")))
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    Value::Bool(b) => b.to_string(),
                    Value::Number(n) => n.to_string(),
                    nested => nested.to_string(),
                };
                (k.clone(), v)
            })
            .collect();
        Query(pairs)
    }

    /// Turns the query into a v5 auth object; repeated keys become arrays.
    ///
    /// Every value is a JSON string; a key seen more than once maps to an
    /// array of its strings in wire order (what Node's querystring yields).
    pub fn to_auth(&self) -> Map<String, Value> {
        let mut map = Map::new();
        for (k, v) in &self.0 {
            let v = Value::String(v.clone());
            match map.get_mut(k) {
                None => {
                    map.insert(k.clone(), v);
                }
                Some(Value::Array(items)) => items.push(v),
                Some(first) => {
                    let first = first.take();
                    map.insert(k.clone(), Value::Array(vec![first, v]));
                }
            }
        }
        map
    }
}

/// Form decoding of one key or value: `+` → space, `%XX` → byte, a `%` not
/// followed by two hex digits kept as is; bytes read as lossy UTF-8.
fn form_decode(s: &str) -> String {
    if !s.contains(['+', '%']) {
        return s.to_owned();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => match (b.get(i + 1).and_then(hex), b.get(i + 2).and_then(hex)) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: &u8) -> Option<u8> {
    (*c as char).to_digit(16).map(|d| d as u8)
}

/// Appends `s` percent-encoded like JavaScript's `encodeURIComponent`:
/// `A-Z a-z 0-9 - _ . ! ~ * ' ( )` kept, every other UTF-8 byte as `%XX`.
fn encode_component(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&c) {
            out.push(c as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(c >> 4)] as char);
            out.push(HEX[usize::from(c & 15)] as char);
        }
    }
}

#[cfg(test)]
#[path = "connect_tests.rs"]
mod tests;
