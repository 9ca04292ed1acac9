//! Engine.IO revisions 3 and 4: single packets, the open packet, and the
//! polling payload framings (PROTOCOL.md §1).
//!
//! - [`packet`]: one packet as carried by a WebSocket message or one slot of a
//!   polling payload.
//! - [`open`]: the handshake (`0{...}`) packet, tolerant of go-engine.io's
//!   trailing newline.
//! - [`payload`]: polling bodies — EIO3 text framing (lengths in UTF-16 code
//!   units, or UTF-8 bytes for go-engine.io peers), EIO3 XHR2 binary framing,
//!   `b4<base64>`, EIO4 `\x1e` framing with `b<base64>`, JSONP.
//!
//! Every decoder is total (no panic on any input), checked by proptest
//! (`tests/engineio_props.rs`) and the cargo-fuzz targets in `fuzz/`.
mod error;
mod jsonp;
pub mod open;
pub mod packet;
pub mod payload;
mod text3;
mod xhr2;

pub use error::ParseError;
pub use open::OpenPacket;
pub use packet::{Packet, WsFrame};
pub use payload::{LengthRule, PayloadEncoding};

/// Engine.IO protocol revision, chosen by the `EIO` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Revision {
    /// EIO3 (socket.io 1.x/2.x): client pings, `<len>:<packet>` polling
    /// framing, binary WebSocket frames prefixed with type byte 0x04.
    V3,
    /// EIO4 (socket.io 3.x/4.x): server pings, `\x1e` polling framing, raw
    /// binary WebSocket frames.
    V4,
}

impl Revision {
    /// Reads the `EIO` query value the way engine.io 6 does: `"4"` is V4,
    /// anything else (including absent) is V3.
    pub fn from_query(eio: Option<&str>) -> Revision {
        match eio {
            Some("4") => Revision::V4,
            _ => Revision::V3,
        }
    }
}
