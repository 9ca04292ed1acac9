//! Logging setup: a tracing-subscriber `fmt` layer, human-readable by
//! default or JSON lines, filtered by `RUST_LOG` or the configured level.
//! Logs go to stderr; stdout is left for command output.
use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The level/filter string does not parse.
    #[error("invalid log filter {filter:?}: {reason}")]
    Filter {
        /// The filter as given.
        filter: String,
        /// The parser's message.
        reason: String,
    },
    /// A global subscriber was already installed.
    #[error("a tracing subscriber is already installed")]
    AlreadySet,
}

/// Installs the global subscriber. `rust_log` (the `RUST_LOG` value, when
/// the caller wants it to apply) overrides `log.level`.
pub fn init(log: &LogConfig, rust_log: Option<&str>) -> Result<(), TelemetryError> {
    let directives = rust_log
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(&log.level);
    let filter = EnvFilter::builder()
        .parse(with_frame_dumps_capped(directives))
        .map_err(|e| TelemetryError::Filter {
            filter: directives.to_string(),
            reason: e.to_string(),
        })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none());
    let result = match log.format {
        LogFormat::Human => builder.with_target(false).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    result.map_err(|_| TelemetryError::AlreadySet)
}

/// Crates whose `trace` output dumps whole WebSocket messages (tokens in a
/// CONNECT's auth, event payloads): capped at `debug` unless the filter
/// names them itself.
const FRAME_DUMPERS: [&str; 2] = ["tungstenite", "tokio_tungstenite"];

/// `directives` plus `<crate>=debug` for each of [`FRAME_DUMPERS`] it does
/// not mention, so `--log-level trace` never logs message contents. Only
/// added when the default level is `trace`: a target directive sets its
/// crate's level, so with a quieter default (`--log-level error`) the cap
/// would *raise* those crates to debug (a line per WebSocket handshake and
/// close).
fn with_frame_dumps_capped(directives: &str) -> String {
    let mut out = directives.trim().to_string();
    let default_is_trace = directives.split(',').any(|d| {
        d.trim()
            .parse::<tracing_subscriber::filter::LevelFilter>()
            .is_ok_and(|l| l == tracing_subscriber::filter::LevelFilter::TRACE)
    });
    if !default_is_trace {
        return out;
    }
    for krate in FRAME_DUMPERS {
        let named = directives
            .split(',')
            .any(|d| d.trim().split(['=', '[']).next() == Some(krate));
        if !named {
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(krate);
            out.push_str("=debug");
        }
    }
    out
}

/// The span of one accepted client connection (`peer.addr`, `tls`).
pub fn conn_span(peer: std::net::SocketAddr, tls: bool) -> tracing::Span {
    tracing::debug_span!("conn", peer.addr = %peer, tls)
}

/// The span of one Engine.IO session: `sid`, `peer.addr`, `transport` (the
/// first one; recorded again on an upgrade), `eio` (3 or 4), and
/// `upstream.addr`, recorded by proxy mode once an upstream is chosen. Every
/// task of the session and every backend call runs in it. It has no parent:
/// a session outlives the HTTP connection that opened it. Never carries the
/// query, headers or auth (tokens, cookies).
pub fn session_span(hs: &crate::server::Handshake) -> tracing::Span {
    let transport = match hs.transport {
        crate::server::TransportKind::Polling => "polling",
        crate::server::TransportKind::WebSocket => "websocket",
    };
    let eio: u8 = match hs.eio {
        crate::protocol::engineio::Revision::V3 => 3,
        crate::protocol::engineio::Revision::V4 => 4,
    };
    tracing::debug_span!(parent: None, "session", sid = %hs.sid, peer.addr = %hs.remote,
        transport, eio, client.ip = tracing::field::Empty, upstream.addr = tracing::field::Empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_dumps_are_capped_unless_asked_for() {
        assert_eq!(
            with_frame_dumps_capped("trace"),
            "trace,tungstenite=debug,tokio_tungstenite=debug"
        );
        assert_eq!(
            with_frame_dumps_capped("trace,tungstenite=trace"),
            "trace,tungstenite=trace,tokio_tungstenite=debug"
        );
        // A quieter default needs no cap, and one would raise those crates.
        assert_eq!(with_frame_dumps_capped("error"), "error");
        assert_eq!(
            with_frame_dumps_capped("info,siogate=trace"),
            "info,siogate=trace"
        );
    }

    #[test]
    fn bad_rust_log_is_an_error_not_a_panic() {
        let log = LogConfig::default();
        let err = init(&log, Some("a=b=c")).unwrap_err();
        assert!(matches!(err, TelemetryError::Filter { .. }), "{err}");
    }
}
