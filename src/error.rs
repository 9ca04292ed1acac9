//! The top-level `Error` of `siogate::run`: wraps each layer's error and says
//! who is at fault ([`Source`]: the client side, the upstream, or siogate
//! itself), as pingora's `ErrorSource` does. Callers use the predicates, not
//! the message text.
use std::io;

use crate::config::{ConfigError, Mode};

/// Who caused an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A client (or the operator's input, such as the configuration).
    Downstream,
    /// An upstream gateway, or another service siogate calls (webhook, Redis).
    Upstream,
    /// siogate itself or its host (bind failures, bugs).
    Internal,
}

/// Why `siogate::run` stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Binding the listener failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address from the config.
        addr: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Any other I/O failure at the top level.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// The mode's backend is not part of this build yet.
    #[error("{0} mode is not available in this build yet")]
    NotImplemented(Mode),
}

impl Error {
    /// Who is at fault.
    pub fn source_kind(&self) -> Source {
        match self {
            Error::Config(_) => Source::Downstream,
            Error::Bind { .. } | Error::Io(_) | Error::NotImplemented(_) => Source::Internal,
        }
    }

    /// Whether the configuration (file or flags) is to blame.
    pub fn is_config(&self) -> bool {
        matches!(self, Error::Config(_))
    }

    /// The process exit code for this error: 2 (like `EX_USAGE`) for
    /// configuration errors, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        if self.is_config() { 2 } else { 1 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_errors_blame_downstream_and_exit_2() {
        let e = Error::from(ConfigError::Usage("bad".into()));
        assert!(e.is_config());
        assert_eq!(e.source_kind(), Source::Downstream);
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn io_errors_are_internal_and_exit_1() {
        let e = Error::from(io::Error::other("boom"));
        assert_eq!(e.source_kind(), Source::Internal);
        assert_eq!(e.exit_code(), 1);
    }
}
