//! Client tokens: JWTs signed with HS256 (shared secret) or RS256 (the
//! verifier holds the RSA public key), checked at namespace CONNECT.
//!
//! The token comes from the SIO5 auth object's `token` (falling back to the
//! handshake URL's `token`), or for SIO4 clients from the namespace query or
//! the handshake query (`token`, the namespace query wins). A valid token's
//! `rooms` claim (an array of strings, or one string) puts the socket in
//! those rooms. `exp` and `nbf` are checked when present (60 s leeway);
//! `exp` can be made mandatory. A token with an `aud` claim is refused unless
//! an audience is configured (RFC 7519 §4.1.3).
use std::fmt;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use super::StandaloneError;

/// The verification key.
#[derive(Clone)]
pub enum JwtKey {
    /// HS256 with this shared secret.
    Hs256(Vec<u8>),
    /// RS256 with this PEM public key (`-----BEGIN PUBLIC KEY-----` or
    /// `-----BEGIN RSA PUBLIC KEY-----`).
    Rs256Pem(Vec<u8>),
}

impl fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwtKey::Hs256(_) => f.write_str("Hs256(MASKED)"),
            JwtKey::Rs256Pem(_) => f.write_str("Rs256Pem(..)"),
        }
    }
}

/// Token settings.
#[derive(Debug, Clone)]
pub struct JwtOptions {
    pub key: JwtKey,
    /// Refuse a CONNECT without a token. Default true. (A token that is
    /// present but invalid is always refused.)
    pub required: bool,
    /// Refuse tokens without `exp`. Default false.
    pub require_exp: bool,
    /// Accepted `iss`, if set (then required).
    pub issuer: Option<String>,
    /// Accepted `aud`, if set (then required).
    pub audience: Option<String>,
    /// The claim listing the socket's rooms. Default `rooms`.
    pub rooms_claim: String,
}

impl JwtOptions {
    /// Required tokens with `key`, the other settings at their defaults.
    pub fn new(key: JwtKey) -> JwtOptions {
        JwtOptions {
            key,
            required: true,
            require_exp: false,
            issuer: None,
            audience: None,
            rooms_claim: "rooms".into(),
        }
    }
}

/// The verified claims of a token.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    /// The whole claims object (sent to the webhook).
    pub raw: Value,
    /// The rooms from the rooms claim.
    pub rooms: Vec<String>,
}

/// Why a CONNECT was refused; the text goes to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("authentication required: no token")]
    Missing,
    #[error("invalid token: {0}")]
    Invalid(&'static str),
}

/// Verifies tokens with one key.
pub struct Verifier {
    key: DecodingKey,
    validation: Validation,
    required: bool,
    rooms_claim: String,
}

impl Verifier {
    pub fn new(opts: &JwtOptions) -> Result<Verifier, StandaloneError> {
        let (key, alg) = match &opts.key {
            JwtKey::Hs256(secret) if secret.is_empty() => {
                return Err(StandaloneError::InvalidJwtKey("empty HS256 secret".into()));
            }
            JwtKey::Hs256(secret) => (DecodingKey::from_secret(secret), Algorithm::HS256),
            JwtKey::Rs256Pem(pem) => (
                DecodingKey::from_rsa_pem(pem)
                    .map_err(|e| StandaloneError::InvalidJwtKey(e.to_string()))?,
                Algorithm::RS256,
            ),
        };
        let mut validation = Validation::new(alg);
        validation.validate_nbf = true;
        let mut required: Vec<&str> = Vec::new();
        if opts.require_exp {
            required.push("exp");
        }
        if let Some(iss) = &opts.issuer {
            validation.set_issuer(&[iss]);
            required.push("iss");
        }
        if let Some(aud) = &opts.audience {
            validation.set_audience(&[aud]);
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        Ok(Verifier {
            key,
            validation,
            required: opts.required,
            rooms_claim: opts.rooms_claim.clone(),
        })
    }

    /// Checks `token`: `Ok(None)` when there is none and none is required.
    pub fn verify(&self, token: Option<&str>) -> Result<Option<Claims>, AuthError> {
        let token = match token {
            Some(t) if !t.is_empty() => t,
            _ if self.required => return Err(AuthError::Missing),
            _ => return Ok(None),
        };
        let data = jsonwebtoken::decode::<Value>(token, &self.key, &self.validation)
            .map_err(|e| AuthError::Invalid(reason(e.kind())))?;
        let raw = data.claims;
        let rooms = match raw.get(&self.rooms_claim) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(room)) => vec![room.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .map(|r| r.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or(AuthError::Invalid("rooms claim must be strings"))?,
            Some(_) => return Err(AuthError::Invalid("rooms claim must be strings")),
        };
        Ok(Some(Claims { raw, rooms }))
    }
}

fn reason(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "expired",
        ErrorKind::ImmatureSignature => "not yet valid (nbf)",
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::InvalidAlgorithm => "unexpected algorithm",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::InvalidAudience => "wrong audience",
        ErrorKind::MissingRequiredClaim(_) => "missing a required claim",
        ErrorKind::InvalidClaimFormat(_) => "malformed claim",
        _ => "malformed token",
    }
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;
