//! Standalone mode: siogate is the push gateway itself.
//!
//! Clients connect over the shared server core ([`backend::StandaloneBackend`]
//! implements [`crate::server::Backend`]); backends push through the HTTP
//! [`push_api`]. Between the two sits the [`adapter::Adapter`] (in memory on
//! a single node, or over Redis with `redis_url`: cluster mode). Files:
//! - [`namespace`]: the namespace registry; CONNECT / DISCONNECT /
//!   CONNECT_ERROR as Node socket.io 2.5.0 (SIO4) and 4.x (SIO5) do them.
//! - [`socket`]: per-socket state and the session's outbound queue.
//! - [`rooms`]: the pure room ↔ socket index.
//! - [`auth`]: JWT (HS256/RS256) tokens and their `rooms` claim.
//! - [`events`]: client events: built-in join/leave, the rest to the webhook.
//! - [`webhook`]: the HTTP client for the backend webhook.
//! - [`codec`]: outbound packets from JSON, `{"$bin":…}` ↔ attachments.
//! - [`push_api`]: the HTTP API (emit, rooms, disconnect, listings);
//!   [`api_server`] serves it on the main listener or its own address.
//! - `config`: [`Options::from_config`], the config → options mapping.
//! - [`run()`]: serves the mode from a listener and the config.
pub mod adapter;
pub mod api_server;
pub mod auth;
pub mod backend;
pub mod codec;
mod config;
pub mod events;
pub mod namespace;
pub mod push_api;
pub mod rooms;
mod run;
pub mod socket;
pub mod webhook;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use adapter::Adapter;
use adapter::local::LocalAdapter;
pub use auth::{JwtKey, JwtOptions};
pub use backend::StandaloneBackend;
pub use namespace::NamespacePolicy;
pub use push_api::PushApi;
pub use run::run;
pub use webhook::WebhookOptions;

/// Everything standalone mode needs to know. `Default` gives a usable
/// single-node gateway: any namespace, no tokens, no join/leave, no webhook.
#[derive(Clone)]
pub struct Options {
    /// Which namespaces exist. Default: any.
    pub namespaces: NamespacePolicy,
    /// Cap on namespaces created on demand under [`NamespacePolicy::Any`].
    /// Default 10000.
    pub max_dynamic_namespaces: usize,
    /// A session with no connected namespace this long after its handshake
    /// is closed. Default 45 s (socket.io 4's `connectTimeout`).
    pub connect_timeout: Duration,
    /// Client tokens; `None` accepts every CONNECT (tokens are ignored).
    pub jwt: Option<JwtOptions>,
    /// Enables the built-in `join` / `leave` client events. Default false.
    pub join_leave: bool,
    /// Glob every room joined or left by a client must match (`*`, `?`).
    pub join_pattern: Option<String>,
    /// Where client events go. Default none.
    pub webhook: Option<WebhookOptions>,
    /// The push API's bearer token. An empty token refuses every request.
    pub api_token: String,
    /// Path prefix of the push API. Default `/api/v1/`.
    pub api_prefix: String,
    /// Largest push API request body. Default 1000000 bytes.
    pub max_api_body_bytes: usize,
    /// Push API: the ack wait of an `"ack": true` emit without
    /// `timeout_ms`. Default 5 s.
    pub push_ack_timeout: Duration,
    /// Push API: the largest `timeout_ms` accepted. Default 120 s.
    pub max_push_ack_timeout: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            namespaces: NamespacePolicy::Any,
            max_dynamic_namespaces: 10_000,
            connect_timeout: Duration::from_secs(45),
            jwt: None,
            join_leave: false,
            join_pattern: None,
            webhook: None,
            api_token: String::new(),
            api_prefix: "/api/v1/".into(),
            max_api_body_bytes: 1_000_000,
            push_ack_timeout: Duration::from_secs(5),
            max_push_ack_timeout: Duration::from_secs(120),
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("namespaces", &self.namespaces)
            .field("connect_timeout", &self.connect_timeout)
            .field("jwt", &self.jwt)
            .field("join_leave", &self.join_leave)
            .field("join_pattern", &self.join_pattern)
            .field("webhook", &self.webhook.as_ref().map(|w| &w.url))
            .field("api_token", &"MASKED")
            .field("api_prefix", &self.api_prefix)
            .finish_non_exhaustive()
    }
}

/// Settings that cannot work, found at start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StandaloneError {
    #[error("invalid JWT key: {0}")]
    InvalidJwtKey(String),
    #[error("invalid webhook: {0}")]
    InvalidWebhook(String),
    #[error("invalid namespace name {0:?} (must start with '/', no '?' or ',')")]
    InvalidNamespace(String),
    #[error("invalid push API prefix {0:?} (must start and end with '/')")]
    InvalidApiPrefix(String),
    #[error("cannot listen for the push API on {0}")]
    ApiListen(String),
    #[error("cluster mode: {0}")]
    Cluster(String),
}

/// State shared by every session and the push API.
pub(crate) struct Hub {
    pub(crate) opts: Options,
    pub(crate) namespaces: namespace::Registry,
    pub(crate) adapter: Arc<dyn Adapter>,
    pub(crate) auth: Option<auth::Verifier>,
    pub(crate) webhook: Option<webhook::Webhook>,
    /// Background tasks (webhook calls, connect timers), for shutdown.
    pub(crate) tasks: TaskTracker,
    /// Cancelled by [`Standalone::shutdown`]: stops the connect timers.
    pub(crate) stopping: CancellationToken,
}

/// A standalone gateway: hand [`Standalone::backend`] to the server core and
/// serve [`Standalone::push_api`]. Cheap to clone.
#[derive(Clone)]
pub struct Standalone {
    hub: Arc<Hub>,
}

impl Standalone {
    /// A single-node gateway (in-memory adapter).
    pub fn new(opts: Options) -> Result<Standalone, StandaloneError> {
        Standalone::with_adapter(opts, Arc::new(LocalAdapter::new()))
    }

    /// A gateway over another adapter (e.g. a cluster one).
    pub fn with_adapter(
        opts: Options,
        adapter: Arc<dyn Adapter>,
    ) -> Result<Standalone, StandaloneError> {
        let prefix = &opts.api_prefix;
        if !prefix.starts_with('/') || !prefix.ends_with('/') {
            return Err(StandaloneError::InvalidApiPrefix(prefix.clone()));
        }
        let hub = Hub {
            namespaces: namespace::Registry::new(&opts.namespaces, opts.max_dynamic_namespaces)?,
            auth: opts.jwt.as_ref().map(auth::Verifier::new).transpose()?,
            webhook: opts
                .webhook
                .as_ref()
                .map(webhook::Webhook::new)
                .transpose()?,
            adapter,
            tasks: TaskTracker::new(),
            stopping: CancellationToken::new(),
            opts,
        };
        Ok(Standalone { hub: Arc::new(hub) })
    }

    /// The [`crate::server::Backend`] for the server core.
    pub fn backend(&self) -> StandaloneBackend {
        StandaloneBackend {
            hub: self.hub.clone(),
        }
    }

    /// The push API handler.
    pub fn push_api(&self) -> PushApi {
        PushApi {
            hub: self.hub.clone(),
        }
    }

    /// The push API as extra routes of the server core's listener.
    pub fn routes(&self) -> crate::server::Routes {
        api_server::routes(self.push_api())
    }

    /// The adapter every operation goes through.
    pub fn adapter(&self) -> &Arc<dyn Adapter> {
        &self.hub.adapter
    }

    /// Stops connect timers and waits for in-flight webhook calls (each
    /// bounded by the webhook timeout); call after the server core returned.
    pub async fn shutdown(&self) {
        self.hub.stopping.cancel();
        self.hub.tasks.close();
        self.hub.tasks.wait().await;
    }
}
