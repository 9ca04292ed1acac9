//! Engine.IO session ids: 20 characters of base64url (15 random bytes from
//! the thread-local CSPRNG), the shape socket.io uses. Ids are unguessable so
//! a client cannot poll or upgrade someone else's session.
use base64::Engine as _;
use rand::Rng as _;

/// Number of random bytes behind a sid (15 bytes → 20 base64url chars).
const SID_BYTES: usize = 15;

/// A new random session id, e.g. `"xK3b9Q_aLmP0r2TzYw-1"`.
pub fn generate() -> String {
    let mut raw = [0u8; SID_BYTES];
    rand::rng().fill_bytes(&mut raw);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sid_is_twenty_base64url_chars() {
        let sid = generate();
        assert_eq!(sid.len(), 20);
        assert!(
            sid.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }

    #[test]
    fn sids_differ() {
        assert_ne!(generate(), generate());
    }
}
