//! Proxy mode assembled: [`Proxy`] builds the backend from the
//! configuration (flavor, upstreams, balancing, timeouts, TLS roots) and
//! [`Proxy::serve`] runs the server core with it, plus the active health
//! checks and the optional raw Engine.IO route, until shutdown; then it waits
//! (bounded) for every upstream task to finish. [`run`] is what `app::run`
//! calls.
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::backend::{Core, Gauges, ProxyBackend};
use super::balance::{Balancer, health_loop};
use super::connect_deadline::ConnectDeadlines;
use super::normalize::{Flavor, Options};
use super::raw::RawBackend;
use super::upstream::{DialOptions, tls};
use crate::config::{Config, ConfigError, ServerConfig};
use crate::server::router::{self, PeerAddr};
use crate::server::{Listeners, Routes, serve};
use crate::transport::Context;

/// Why proxy mode cannot start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    #[error("proxy mode needs at least one upstream")]
    NoUpstreams,
    #[error("proxy mode needs the upstream flavor")]
    NoFlavor,
    #[error("wss:// upstreams: {0}")]
    Tls(String),
    #[error("proxy.redis: {0}")]
    Redis(String),
}

/// A configured proxy, ready to serve.
pub struct Proxy {
    backend: ProxyBackend,
    server: Arc<ServerConfig>,
    health_interval: Duration,
    raw_path: Option<String>,
}

impl Proxy {
    /// From a validated configuration; `wss://` upstreams are verified as
    /// `[proxy.tls]` says (by default against the system's CA bundle).
    pub fn new(config: &Config) -> Result<Proxy, ProxyError> {
        Proxy::with_ca(config, Vec::new())
    }

    /// Like [`Proxy::new`], also trusting `extra_ca` for `wss://` upstreams
    /// (in addition to `[proxy.tls]`).
    pub fn with_ca(
        config: &Config,
        extra_ca: Vec<CertificateDer<'static>>,
    ) -> Result<Proxy, ProxyError> {
        let p = &config.proxy;
        if p.upstreams.is_empty() {
            return Err(ProxyError::NoUpstreams);
        }
        let flavor: Flavor = p
            .flavor
            .ok_or(ProxyError::NoFlavor)?
            .as_str()
            .parse()
            .map_err(|_| ProxyError::NoFlavor)?;
        let tls = if p.upstreams.iter().any(|u| u.tls) {
            Some(tls::from_config(&p.tls, extra_ca).map_err(|e| ProxyError::Tls(e.to_string()))?)
        } else {
            None
        };
        let dial = DialOptions {
            connect_timeout: Duration::from_millis(p.connect_timeout_ms),
            handshake_timeout: Duration::from_millis(p.handshake_timeout_ms),
            tls,
            max_message_bytes: p.max_upstream_message_bytes,
        };
        let norm = Options {
            drop_pre_connect_packets: p.drop_pre_connect_packets,
            max_pending_packets: p.max_pending_packets,
            ..Options::default()
        };
        let cancel = CancellationToken::new();
        // The link needs a runtime: it is started here, inside one.
        let tasks = TaskTracker::new();
        let inject = super::inject::Injector::start(&p.redis, cancel.child_token(), tasks.clone())
            .map_err(|e| ProxyError::Redis(e.to_string()))?;
        let core = Core {
            flavor,
            norm,
            balancer: Arc::new(Balancer::new(&p.upstreams, p.balance.clone())),
            dial,
            connect_deadlines: Arc::new(ConnectDeadlines::new(Duration::from_millis(
                config.server.connect_timeout_ms,
            ))),
            leg_queue: config.server.max_queue_packets.max(1),
            tasks,
            gauges: Arc::new(Gauges::default()),
            cancel,
            inject,
        };
        Ok(Proxy {
            backend: ProxyBackend {
                core: Arc::new(core),
            },
            server: Arc::new(config.server.clone()),
            health_interval: Duration::from_millis(p.health_interval_ms.max(1)),
            raw_path: p.raw_engineio_path.clone(),
        })
    }

    /// Live session and leg counts (they return to 0 when clients leave).
    pub fn gauges(&self) -> Arc<Gauges> {
        self.backend.gauges()
    }

    /// The upstreams and their health.
    pub fn balancer(&self) -> Arc<Balancer> {
        self.backend.balancer()
    }

    /// The Redis-emitter injector, when `[proxy.redis]` is on.
    pub fn injector(&self) -> Option<Arc<super::inject::Injector>> {
        self.backend.core.inject.clone()
    }

    /// Serves on `listener` (plain, TLS or both) until `shutdown` completes, then closes every
    /// client session (and with it every leg) and waits for the upstream
    /// tasks; all of it within the server's grace period
    /// (`shutdown_grace_ms`). While serving, the upstreams are exported as
    /// metrics and `/readyz` needs one of them healthy.
    pub async fn serve(
        self,
        listener: impl Into<Listeners>,
        shutdown: impl Future<Output = ()> + Send,
    ) {
        let core = self.backend.core.clone();
        let collector: Arc<dyn crate::metrics::Collector> = core.balancer.clone();
        crate::metrics::global().register(Arc::downgrade(&collector));
        let balancer = Arc::downgrade(&core.balancer);
        let _ready = crate::metrics::readiness().register(
            "upstreams",
            Arc::new(move || balancer.upgrade().map_or(Ok(()), |b| b.ready())),
        );
        let grace_ms = self.server.shutdown_grace_ms;
        let deadline = Arc::new(std::sync::OnceLock::new());
        let started = deadline.clone();
        core.tasks.spawn(health_loop(
            core.balancer.clone(),
            core.flavor.upstream_eio(),
            core.dial.clone(),
            self.health_interval,
            core.cancel.clone(),
        ));
        let raw = self.raw_path.as_ref().map(|path| {
            let mut cfg = (*self.server).clone();
            cfg.path = path.clone();
            let backend = RawBackend::new(core.clone(), path.clone());
            Arc::new(Context::new(Arc::new(cfg), Arc::new(backend)))
        });
        let routes = raw.clone().map(raw_routes);
        let raw_stop = raw.clone();
        let shutdown = async move {
            shutdown.await;
            let grace = crate::server::drain::grace(grace_ms);
            let _ = started.set(tokio::time::Instant::now() + grace);
            if let Some(ctx) = raw_stop {
                ctx.begin_shutdown();
            }
        };
        serve(
            listener,
            self.server,
            Arc::new(self.backend),
            routes,
            shutdown,
        )
        .await;
        core.cancel.cancel();
        core.tasks.close();
        let deadline = deadline
            .get()
            .copied()
            .unwrap_or_else(tokio::time::Instant::now);
        let waited = tokio::time::timeout_at(deadline, async {
            if let Some(ctx) = &raw {
                ctx.tracker.close();
                ctx.tracker.wait().await;
            }
            core.tasks.wait().await;
        })
        .await;
        if waited.is_err() {
            tracing::warn!(
                legs = core.gauges.legs(),
                "upstream sessions still open after the grace period"
            );
        }
    }
}

/// The raw Engine.IO path served through a second core context.
fn raw_routes(ctx: Arc<Context<RawBackend>>) -> Routes {
    Arc::new(move |req: http::Request<hyper::body::Incoming>| {
        let ctx = ctx.clone();
        Box::pin(async move {
            let peer = req
                .extensions()
                .get::<PeerAddr>()
                .map_or(SocketAddr::from(([0, 0, 0, 0], 0)), |p| p.0);
            router::route(&ctx, None, req, peer).await
        })
    })
}

/// Proxy mode for `app::run`.
pub async fn run(
    listener: impl Into<Listeners>,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), crate::Error> {
    let proxy = Proxy::new(&config).map_err(|e| ConfigError::Usage(e.to_string()))?;
    proxy.serve(listener, shutdown).await;
    Ok(())
}
