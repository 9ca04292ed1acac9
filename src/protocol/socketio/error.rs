//! The Socket.IO codec's error type.
use thiserror::Error;

/// Why a Socket.IO packet (or its attachments) was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    #[error("empty packet")]
    Empty,
    #[error("packet text is not valid UTF-8")]
    InvalidUtf8,
    #[error("unknown packet type {0:#04x}")]
    UnknownType(u8),
    #[error("invalid attachment count")]
    InvalidAttachments,
    #[error("namespace too long")]
    NamespaceTooLong,
    #[error("ack id out of range")]
    InvalidAckId,
    #[error("invalid JSON payload")]
    InvalidJson,
    #[error("payload not allowed for this packet type")]
    InvalidPayload,
    #[error("reserved event name")]
    ReservedEvent,
    #[error("text packet while binary attachments are pending")]
    UnexpectedText,
    #[error("binary attachment without a pending binary packet")]
    UnexpectedBinary,
    #[error("attachment placeholders do not match the attachment count")]
    InvalidPlaceholder,
}
