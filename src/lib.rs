//! siogate: a Socket.IO gateway that normalizes clients in front of legacy
//! upstreams (proxy mode) or serves pushes itself (standalone mode).
//!
//! One path for data: client transport (polling | WebSocket) → Engine.IO
//! session → Socket.IO packets → the per-session normalizer → a backend
//! (an upstream leg in proxy mode, the local hub in standalone mode), and back.
//!
//! # Layout
//! - [`protocol`]: the pure wire core (no I/O, fuzzed). `engineio` (packets,
//!   open packet, polling payloads of both revisions), `socketio` (packet
//!   header slicing, binary reassembly, CONNECT namespace/query/auth), `sid`.
//! - [`config`]: TOML + CLI settings, validated at start (file, line, reason).
//! - [`engine`]: one Engine.IO session (bounded outbound queue, heartbeats,
//!   transport state) and the session registry.
//! - [`transport`]: long-polling and WebSocket adapters around a session.
//! - [`limits`]: connection counters, the packet token bucket, the
//!   namespace count behind `[server.limits]`, the client's IP behind
//!   trusted proxies, and the refusal log.
//! - [`server`]: accept loop, HTTP routing by path, the [`server::Backend`]
//!   trait both modes implement.
//! - [`proxy`]: proxy mode — the pure `normalize` state machine, the upstream
//!   leg, the pump between the two, and `inject` (Redis-emitter pushes into
//!   proxied sessions, over [`cluster`]'s Redis link and wire format).
//! - [`metrics`]: process-wide Prometheus counters and the readiness
//!   registry (served by `server::ops`).
//! - [`standalone`]: standalone mode — namespaces, rooms, the `Adapter`
//!   trait, the push API.
//! - [`tls`]: client-side TLS termination (PEM certificates, SNI, reload);
//!   hands the server core a `TlsAcceptor`. `tls::client` builds the
//!   configurations of outgoing TLS (`wss://` upstreams, `https://` webhooks).
//! - [`cluster`]: the Redis link (reconnects, re-subscribes) and the
//!   socket.io Redis adapter/emitter wire format, used by standalone cluster
//!   mode and by proxy-mode injection.
//!
//! Dependencies point one way: `protocol ← engine ← transport ← server`.
//! `proxy` and `standalone` sit side by side and never import each other;
//! only [`app`] picks one (from the CLI's mode) and hands it to `server`;
//! `main.rs` only parses the command line and wires startup.
#![forbid(unsafe_code)]

pub mod app;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod engine;
pub mod error;
pub mod limits;
pub mod metrics;
pub mod protocol;
pub mod proxy;
pub mod server;
pub mod standalone;
pub mod telemetry;
pub mod tls;
pub mod transport;

pub use app::run;
pub use error::Error;
