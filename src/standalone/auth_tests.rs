//! Token verification: HS256 and RS256 (keys in tests/fixtures/jwt/).
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::json;

use super::*;

const RS_PRIVATE: &[u8] = include_bytes!("../../tests/fixtures/jwt/rs256_private.pem");
const RS_PUBLIC: &[u8] = include_bytes!("../../tests/fixtures/jwt/rs256_public.pem");
const OTHER_PRIVATE: &[u8] = include_bytes!("../../tests/fixtures/jwt/other_private.pem");

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn hs(claims: &Value, secret: &[u8]) -> String {
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

fn rs(claims: &Value, pem: &[u8]) -> String {
    let key = EncodingKey::from_rsa_pem(pem).unwrap();
    encode(&Header::new(Algorithm::RS256), claims, &key).unwrap()
}

fn hs_verifier(f: impl FnOnce(&mut JwtOptions)) -> Verifier {
    let mut opts = JwtOptions::new(JwtKey::Hs256(b"s3cret".to_vec()));
    f(&mut opts);
    Verifier::new(&opts).unwrap()
}

#[test]
fn hs256_token_yields_claims_and_rooms() {
    let v = hs_verifier(|_| {});
    let claims = json!({"sub": "u1", "rooms": ["a", "b"], "exp": now() + 60});
    let got = v.verify(Some(&hs(&claims, b"s3cret"))).unwrap().unwrap();
    assert_eq!(got.rooms, ["a", "b"]);
    assert_eq!(got.raw, claims);
}

#[test]
fn a_single_room_string_is_accepted_and_no_rooms_is_empty() {
    let v = hs_verifier(|_| {});
    let one = v.verify(Some(&hs(&json!({"rooms": "solo"}), b"s3cret")));
    assert_eq!(one.unwrap().unwrap().rooms, ["solo"]);
    let none = v.verify(Some(&hs(&json!({"sub": "x"}), b"s3cret")));
    assert!(none.unwrap().unwrap().rooms.is_empty());
}

#[test]
fn rooms_claim_of_wrong_type_is_refused() {
    let v = hs_verifier(|_| {});
    for rooms in [json!([1, 2]), json!({"a": 1}), json!(3)] {
        let t = hs(&json!({ "rooms": rooms }), b"s3cret");
        assert_eq!(
            v.verify(Some(&t)),
            Err(AuthError::Invalid("rooms claim must be strings"))
        );
    }
}

#[test]
fn custom_rooms_claim_name() {
    let v = hs_verifier(|o| o.rooms_claim = "channels".into());
    let t = hs(
        &json!({"channels": ["c1"], "rooms": ["ignored"]}),
        b"s3cret",
    );
    assert_eq!(v.verify(Some(&t)).unwrap().unwrap().rooms, ["c1"]);
}

#[test]
fn missing_token_is_refused_only_when_required() {
    let required = hs_verifier(|_| {});
    assert_eq!(required.verify(None), Err(AuthError::Missing));
    assert_eq!(required.verify(Some("")), Err(AuthError::Missing));
    let optional = hs_verifier(|o| o.required = false);
    assert_eq!(optional.verify(None), Ok(None));
    // A bad token is refused even when tokens are optional.
    assert!(optional.verify(Some("garbage")).is_err());
}

#[test]
fn wrong_secret_expired_and_garbage_tokens_have_clear_reasons() {
    let v = hs_verifier(|_| {});
    let wrong = hs(&json!({"rooms": []}), b"other");
    assert_eq!(
        v.verify(Some(&wrong)),
        Err(AuthError::Invalid("bad signature"))
    );
    let expired = hs(&json!({"exp": now() - 3600}), b"s3cret");
    assert_eq!(v.verify(Some(&expired)), Err(AuthError::Invalid("expired")));
    let future = hs(&json!({"nbf": now() + 3600}), b"s3cret");
    assert_eq!(
        v.verify(Some(&future)),
        Err(AuthError::Invalid("not yet valid (nbf)"))
    );
    assert_eq!(
        v.verify(Some("not.a.jwt")),
        Err(AuthError::Invalid("malformed token"))
    );
    assert_eq!(
        AuthError::Invalid("expired").to_string(),
        "invalid token: expired"
    );
}

#[test]
fn require_exp_issuer_and_audience() {
    let v = hs_verifier(|o| o.require_exp = true);
    let t = hs(&json!({"sub": "x"}), b"s3cret");
    assert_eq!(
        v.verify(Some(&t)),
        Err(AuthError::Invalid("missing a required claim"))
    );
    let v = hs_verifier(|o| {
        o.issuer = Some("me".into());
        o.audience = Some("gw".into());
    });
    let good = hs(&json!({"iss": "me", "aud": "gw"}), b"s3cret");
    assert!(v.verify(Some(&good)).is_ok());
    let bad_iss = hs(&json!({"iss": "you", "aud": "gw"}), b"s3cret");
    assert_eq!(
        v.verify(Some(&bad_iss)),
        Err(AuthError::Invalid("wrong issuer"))
    );
    // Without a configured audience, a token that names one is refused.
    let plain = hs_verifier(|_| {});
    assert_eq!(
        plain.verify(Some(&good)),
        Err(AuthError::Invalid("wrong audience"))
    );
}

#[test]
fn rs256_token_verifies_with_the_public_key_only() {
    let v = Verifier::new(&JwtOptions::new(JwtKey::Rs256Pem(RS_PUBLIC.to_vec()))).unwrap();
    let claims = json!({"rooms": ["r1"], "exp": now() + 60});
    let got = v.verify(Some(&rs(&claims, RS_PRIVATE))).unwrap().unwrap();
    assert_eq!(got.rooms, ["r1"]);
    assert_eq!(
        v.verify(Some(&rs(&claims, OTHER_PRIVATE))),
        Err(AuthError::Invalid("bad signature"))
    );
    // An HS256 token is refused by an RS256 verifier (no algorithm confusion).
    let hs_token = hs(&claims, RS_PUBLIC);
    assert_eq!(
        v.verify(Some(&hs_token)),
        Err(AuthError::Invalid("unexpected algorithm"))
    );
}

#[test]
fn bad_keys_fail_at_start() {
    let empty = JwtOptions::new(JwtKey::Hs256(Vec::new()));
    assert!(Verifier::new(&empty).is_err());
    let bad_pem = JwtOptions::new(JwtKey::Rs256Pem(b"not a pem".to_vec()));
    assert!(Verifier::new(&bad_pem).is_err());
}
