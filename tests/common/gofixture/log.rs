//! What the stand-in gateway's application saw, in order, readable by tests:
//! Engine.IO sessions opening and closing, namespace connections with the
//! handshake URL query, dispatched events, disconnections and pushes. The log
//! survives `stop()`/`restart()` so reconnect tests can look back across an
//! upstream restart. Waiting is event-driven (a `watch` of the entry count).

use serde_json::Value;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;

/// One thing the gateway app observed.
#[derive(Debug, Clone, PartialEq)]
pub enum LogEntry {
    /// An Engine.IO session was created (`transport` is `"websocket"` or `"polling"`).
    SessionOpened {
        sid: String,
        transport: &'static str,
        url_query: String,
    },
    /// The app's connection handler ran. `nsp` is what the server uses for the
    /// socket afterwards: for v1.0.1 go's raw `socket.namespace` (`""` for the
    /// implicit root and for `40`, otherwise the CONNECT nsp verbatim, query
    /// included, e.g. `/chat?token=abc`); for v1.4.3/v1.7.0 the namespace
    /// (`/`, `/chat`). `url_query` is the raw query of the handshake URL.
    Connect {
        sid: String,
        nsp: String,
        url_query: String,
    },
    /// An event reached a handler (`echo`, `msg`, `whoami`).
    Event {
        sid: String,
        nsp: String,
        name: String,
        args: Vec<Value>,
    },
    /// A namespace connection ended (client DISCONNECT or transport loss).
    Disconnect {
        sid: String,
        nsp: String,
        reason: String,
    },
    /// The Engine.IO session ended (`reason`: "transport closed", "ping timeout",
    /// "killed", "client close", "server stopped").
    SessionClosed { sid: String, reason: String },
    /// `GET /push` delivered `text` to `delivered` sockets/namespace connections.
    Push { text: String, delivered: usize },
}

impl LogEntry {
    /// The Engine.IO sid the entry belongs to (`None` for pushes).
    pub fn sid(&self) -> Option<&str> {
        match self {
            LogEntry::SessionOpened { sid, .. }
            | LogEntry::Connect { sid, .. }
            | LogEntry::Event { sid, .. }
            | LogEntry::Disconnect { sid, .. }
            | LogEntry::SessionClosed { sid, .. } => Some(sid),
            LogEntry::Push { .. } => None,
        }
    }
}

/// Append-only log with a change signal.
pub(crate) struct LogBook {
    entries: Mutex<Vec<LogEntry>>,
    len_tx: watch::Sender<usize>,
}

impl LogBook {
    pub(crate) fn new() -> Self {
        LogBook {
            entries: Mutex::new(Vec::new()),
            len_tx: watch::channel(0).0,
        }
    }

    pub(crate) fn push(&self, entry: LogEntry) {
        let len = {
            let mut entries = self.entries.lock().expect("log mutex poisoned");
            entries.push(entry);
            entries.len()
        };
        self.len_tx.send_replace(len);
    }

    pub(crate) fn snapshot(&self) -> Vec<LogEntry> {
        self.entries.lock().expect("log mutex poisoned").clone()
    }

    /// First entry (oldest first) matching `pred`, waiting up to `timeout` for it.
    pub(crate) async fn wait_for(
        &self,
        pred: impl Fn(&LogEntry) -> bool,
        timeout: Duration,
    ) -> Option<LogEntry> {
        let mut rx = self.len_tx.subscribe();
        let search = async {
            loop {
                rx.borrow_and_update();
                if let Some(hit) = self.snapshot().into_iter().find(|e| pred(e)) {
                    return hit;
                }
                if rx.changed().await.is_err() {
                    // The sender lives as long as `self`; this cannot happen.
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::time::timeout(timeout, search).await.ok()
    }
}
