//! Which rooms a proxied session joins in a namespace, from the configured
//! rules: `room_from_query` keys (a session with `user=42` in its handshake
//! query, its SIO4 CONNECT namespace query or its SIO5 CONNECT auth joins
//! `user:42`) and `room_from_claim` claims of its JWT (`sub` = `42` →
//! `sub:42`). Pure: no I/O.
//!
//! The token is the `token` field of the CONNECT (auth or namespace query),
//! else of the handshake query, as standalone mode reads it. With an HS256
//! secret configured the token is verified (signature, `exp`/`nbf` when
//! present) and a token that fails gives no claim rooms; without one, the
//! claims are read **unverified**: they only route pushes, they grant
//! nothing (the upstream still authenticates the session).
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::protocol::socketio::connect::Query;

/// Tokens longer than this are ignored (a handshake URL is bounded anyway).
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// How claims are read from a token.
enum ClaimReader {
    /// No secret configured: decode the payload without verifying it.
    Unverified,
    /// Verify HS256 with this key first.
    Hs256(Box<(DecodingKey, Validation)>),
}

/// The room rules of one proxy.
pub struct RoomRules {
    query_keys: Vec<String>,
    claims: Vec<String>,
    reader: ClaimReader,
}

impl RoomRules {
    /// Rules for `query_keys` and `claims`; `secret` (HS256) verifies tokens.
    pub fn new(query_keys: Vec<String>, claims: Vec<String>, secret: Option<&[u8]>) -> RoomRules {
        let reader = match secret {
            Some(s) => {
                let mut v = Validation::new(Algorithm::HS256);
                v.validate_nbf = true;
                // Routing only: no claim is required, no audience expected.
                v.validate_aud = false;
                v.set_required_spec_claims::<&str>(&[]);
                ClaimReader::Hs256(Box::new((DecodingKey::from_secret(s), v)))
            }
            None => ClaimReader::Unverified,
        };
        RoomRules {
            query_keys,
            claims,
            reader,
        }
    }

    /// Whether any rule is configured (otherwise sessions join no room).
    pub fn is_empty(&self) -> bool {
        self.query_keys.is_empty() && self.claims.is_empty()
    }

    /// The rooms of a session with `handshake` query and `connect` pairs
    /// (its CONNECT's namespace query or flattened auth), sorted, deduplicated.
    pub fn rooms(&self, handshake: &Query, connect: &Query) -> Vec<String> {
        let mut rooms = Vec::new();
        for key in &self.query_keys {
            for (k, v) in handshake.0.iter().chain(&connect.0) {
                if k == key && !v.is_empty() {
                    rooms.push(format!("{key}:{v}"));
                }
            }
        }
        if !self.claims.is_empty() {
            let token = connect.get("token").or_else(|| handshake.get("token"));
            if let Some(claims) = token.and_then(|t| self.read(t)) {
                for name in &self.claims {
                    claim_values(claims.get(name), &mut |v| rooms.push(format!("{name}:{v}")));
                }
            }
        }
        rooms.sort_unstable();
        rooms.dedup();
        rooms
    }

    /// The claims of `token`, verified when a secret is configured.
    fn read(&self, token: &str) -> Option<Map<String, Value>> {
        if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
            return None;
        }
        let claims = match &self.reader {
            ClaimReader::Unverified => {
                jsonwebtoken::dangerous::insecure_decode_claims::<Map<String, Value>>(token)
            }
            ClaimReader::Hs256(kv) => {
                let (key, validation) = kv.as_ref();
                jsonwebtoken::decode::<Map<String, Value>>(token, key, validation).map(|d| d.claims)
            }
        };
        match claims {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::debug!(error = %e, "token gives no rooms");
                None
            }
        }
    }
}

/// Calls `f` with each usable value of a claim: a string, a number, a bool,
/// or those inside an array. Empty strings and nested values are skipped.
fn claim_values(v: Option<&Value>, f: &mut impl FnMut(&str)) {
    match v {
        Some(Value::String(s)) if !s.is_empty() => f(s),
        Some(Value::Number(n)) => f(&n.to_string()),
        Some(Value::Bool(b)) => f(if *b { "true" } else { "false" }),
        Some(Value::Array(items)) => {
            for item in items {
                if !item.is_array() {
                    claim_values(Some(item), f);
                }
            }
        }
        _ => {}
    }
}

/// Flattens a SIO5 CONNECT auth object into pairs: strings, numbers and
/// bools as text, arrays of them as one pair per element, the rest skipped.
pub fn auth_pairs(auth: &Map<String, Value>, out: &mut Query) {
    for (k, v) in auth {
        if v.is_array() || !v.is_object() {
            claim_values(Some(v), &mut |s| out.0.push((k.clone(), s.to_owned())));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    fn q(pairs: &[(&str, &str)]) -> Query {
        Query(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn token(claims: Value, secret: &[u8]) -> String {
        let key = EncodingKey::from_secret(secret);
        jsonwebtoken::encode(&Header::default(), &claims, &key).expect("encode")
    }

    #[test]
    fn query_keys_from_handshake_and_connect_become_rooms() {
        let r = RoomRules::new(vec!["user".into(), "team".into()], vec![], None);
        let rooms = r.rooms(
            &q(&[("user", "42"), ("other", "x"), ("team", "")]),
            &q(&[("team", "red"), ("user", "42")]),
        );
        assert_eq!(rooms, ["team:red", "user:42"]);
        assert!(r.rooms(&q(&[]), &q(&[])).is_empty());
    }

    #[test]
    fn auth_objects_flatten_to_pairs() {
        let mut out = Query::default();
        let auth = json!({"user": 7, "tags": ["a", 2], "ok": true, "nested": {"x": 1}, "n": null});
        auth_pairs(auth.as_object().expect("object"), &mut out);
        assert_eq!(
            out,
            q(&[("ok", "true"), ("tags", "a"), ("tags", "2"), ("user", "7")])
        );
    }

    #[test]
    fn unverified_claims_route_without_a_secret() {
        let r = RoomRules::new(vec![], vec!["sub".into(), "groups".into()], None);
        let t = token(json!({"sub": "42", "groups": ["a", "b"]}), b"whatever");
        let rooms = r.rooms(&q(&[("token", &t)]), &q(&[]));
        assert_eq!(rooms, ["groups:a", "groups:b", "sub:42"]);
        assert!(r.rooms(&q(&[("token", "not-a-jwt")]), &q(&[])).is_empty());
    }

    #[test]
    fn with_a_secret_only_valid_tokens_give_rooms() {
        let r = RoomRules::new(vec![], vec!["sub".into()], Some(b"s3cret"));
        let good = token(json!({"sub": 42, "aud": "x"}), b"s3cret");
        let forged = token(json!({"sub": 1}), b"other");
        let expired = token(json!({"sub": 9, "exp": 1_000}), b"s3cret");
        // The CONNECT's token wins over the handshake's.
        assert_eq!(
            r.rooms(&q(&[("token", &forged)]), &q(&[("token", &good)])),
            ["sub:42"]
        );
        assert!(r.rooms(&q(&[("token", &forged)]), &q(&[])).is_empty());
        assert!(r.rooms(&q(&[("token", &expired)]), &q(&[])).is_empty());
    }
}
