//! The one error type of the Engine.IO codec. No boxing and no `String` on
//! the hot path: each variant names the reason.
use thiserror::Error;

/// Why an Engine.IO packet or payload could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    #[error("empty packet")]
    Empty,
    #[error("unknown packet type {0:#04x}")]
    UnknownType(u8),
    #[error("text packet is not valid UTF-8")]
    InvalidUtf8,
    #[error("invalid base64 in binary packet")]
    InvalidBase64,
    #[error("invalid open packet JSON")]
    InvalidOpen,
    #[error("empty polling payload")]
    EmptyPayload,
    #[error("invalid length prefix in polling payload")]
    InvalidLength,
    #[error("packet length does not match the payload")]
    LengthMismatch,
    #[error("too many packets in one polling payload (limit {0})")]
    TooManyPackets(usize),
    #[error("binary packet not allowed here")]
    UnexpectedBinary,
    /// Bytes after the last complete `<len>:<packet>` that do not form
    /// another one (EIO3 text framing).
    #[error("trailing bytes after the last packet of a polling payload")]
    TrailingGarbage,
    /// A JSONP POST body without exactly one `d=` field.
    #[error("JSONP POST body has no single `d` field")]
    InvalidJsonp,
}
