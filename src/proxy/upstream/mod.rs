//! The upstream side of proxy mode: an Engine.IO **client** over WebSocket
//! that opens one session ("leg") on a legacy gateway.
//!
//! - [`tls`]: the rustls client configuration for `wss://` upstreams (system
//!   roots plus configured CAs, optional client certificate); `no_verify` is
//!   the explicit opt-out of verification.
//! - [`dial`]: TCP (+TLS) connect and the WebSocket handshake to
//!   `<path>?EIO=3|4&transport=websocket&<query>`, with the client's headers
//!   forwarded and `X-Forwarded-*` added; connect and handshake timeouts.
//! - [`handshake`]: our own client side of the WebSocket upgrade (a small,
//!   bounded response-head parser; see there why not tungstenite's).
//! - [`leg`]: one upstream Engine.IO session: the open packet (go's trailing
//!   newline tolerated), its own heartbeats per revision, framing, and the
//!   loop that relays messages both ways until either side ends it.
//!
//! - [`stats`]: per-upstream counters of what went over the legs (messages,
//!   bytes, handshake time and failures), exported by the balancer.
//!
//! Nothing here parses Socket.IO: a leg moves Engine.IO `Message`/`Binary`
//! packets; the proxy backend assembles them.
pub mod dial;
pub mod handshake;
pub mod leg;
mod no_verify;
pub mod outbox;
pub mod stats;
pub mod tls;

pub use dial::{DialOptions, Target, forwarded_headers};
pub use handshake::HeaderBlock;
pub use leg::{Leg, LegEnd};

/// Why an upstream session could not be opened (or ended badly).
#[derive(Debug, thiserror::Error)]
pub enum LegError {
    /// TCP connect failed.
    #[error("connect to {addr} failed: {source}")]
    Connect {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    /// A stage did not finish in time.
    #[error("{0} timed out")]
    Timeout(&'static str),
    /// TLS setup or handshake failed.
    #[error("tls: {0}")]
    Tls(String),
    /// The upstream answered the WebSocket upgrade with an HTTP error
    /// (e.g. go's `AllowRequest` refusing a token).
    #[error("upstream refused the handshake with HTTP {status}")]
    Refused { status: u16 },
    /// The WebSocket upgrade failed (other than an HTTP status: that is
    /// [`LegError::Refused`]).
    #[error("websocket handshake: {0}")]
    Handshake(handshake::HandshakeError),
    /// A WebSocket read/write failed.
    #[error("websocket: {0}")]
    WebSocket(String),
    /// The first frame was not an Engine.IO open packet.
    #[error("no valid Engine.IO open packet from upstream")]
    BadOpen,
    /// The session was cancelled while connecting.
    #[error("cancelled")]
    Cancelled,
}

impl LegError {
    /// An application-level refusal: the same on every upstream, so it is
    /// neither retried elsewhere nor counted against the upstream's health.
    pub fn is_refusal(&self) -> bool {
        matches!(self, LegError::Refused { status } if (400..500).contains(status))
    }
}
