//! `Secret`: a string (API token, JWT key, Redis password) that never shows
//! up in `Debug` output or logs, and remembers whether siogate generated it.
use std::fmt;

use rand::distr::{Alphanumeric, SampleString};
use serde::Deserialize;

/// A secret string. `Debug` prints `MASKED`; read it with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub struct Secret {
    value: String,
    generated: bool,
}

impl Secret {
    /// Wraps a secret given by the operator.
    pub fn new(value: impl Into<String>) -> Self {
        Secret {
            value: value.into(),
            generated: false,
        }
    }

    /// A fresh random token: 32 alphanumeric characters (about 190 bits)
    /// from the thread-local CSPRNG, marked as generated so it gets printed
    /// once at start.
    pub fn generate() -> Self {
        Secret {
            value: Alphanumeric.sample_string(&mut rand::rng(), 32),
            generated: true,
        }
    }

    /// The secret itself. Never log the result.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Whether siogate generated this value (so the operator must be told it).
    pub fn is_generated(&self) -> bool {
        self.generated
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MASKED")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "MASKED");
        assert_eq!(format!("{:?}", Some(s.clone())), "Some(MASKED)");
        assert_eq!(s.expose(), "hunter2");
        assert!(!s.is_generated());
    }

    #[test]
    fn generated_tokens_are_long_distinct_and_marked() {
        let a = Secret::generate();
        let b = Secret::generate();
        assert_eq!(a.expose().len(), 32);
        assert!(a.expose().chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a.expose(), b.expose());
        assert!(a.is_generated());
    }
}
