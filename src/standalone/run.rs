//! Running standalone mode: the server core on the main listener with the
//! push API mounted on it, or the push API alone on `api_listen` when set;
//! with `redis_url`, over the Redis cluster adapter.
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::adapter::redis::{RedisAdapter, RedisOptions};
use super::{Options, Standalone, StandaloneError, api_server};
use crate::config::{ServerConfig, StandaloneConfig};
use crate::server::Listeners;

/// Serves standalone mode on `listener` (plain, TLS or both) until `shutdown` completes, then
/// drains the server core, the separate API listener (if any) and the
/// in-flight webhook calls.
pub async fn run(
    listener: impl Into<Listeners>,
    server: ServerConfig,
    cfg: &StandaloneConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StandaloneError> {
    let stop = CancellationToken::new();
    let opts = Options::from_config(&server, cfg)?;
    let gw = match &cfg.redis_url {
        Some(url) => {
            let mut redis = RedisOptions::new(url.expose());
            if let Some(path) = &cfg.redis_ca_file {
                let pem = std::fs::read(path).map_err(|e| {
                    StandaloneError::Cluster(format!("redis_ca_file {}: {e}", path.display()))
                })?;
                redis.link.tls_roots_pem = Some(pem);
            }
            let adapter = RedisAdapter::start(redis, stop.child_token())
                .map_err(|e| StandaloneError::Cluster(e.to_string()))?;
            tracing::info!(uid = adapter.uid(), "cluster mode (Redis)");
            Standalone::with_adapter(opts, Arc::new(adapter))?
        }
        None => Standalone::new(opts)?,
    };
    let api_listener = match &cfg.api_listen {
        Some(addr) => Some(bind_api(addr, server.backlog)?),
        None => None,
    };
    let trigger = stop.clone();
    tokio::spawn(async move {
        shutdown.await;
        trigger.cancel();
    });
    let routes = api_listener.is_none().then(|| gw.routes());
    let header_timeout = Duration::from_millis(server.limits.header_read_timeout_ms);
    let core = crate::server::serve(
        listener,
        Arc::new(server),
        Arc::new(gw.backend()),
        routes,
        stop.clone().cancelled_owned(),
    );
    match api_listener {
        Some(api) => {
            let api = api_server::serve(
                gw.push_api(),
                api,
                header_timeout,
                stop.clone().cancelled_owned(),
            );
            tokio::join!(core, api);
        }
        None => core.await,
    }
    gw.shutdown().await;
    stop.cancel();
    Ok(())
}

fn bind_api(addr: &str, backlog: u32) -> Result<TcpListener, StandaloneError> {
    let err = |why: String| StandaloneError::ApiListen(format!("{addr}: {why}"));
    let parsed: SocketAddr = addr
        .parse()
        .map_err(|_| err("not an IP:PORT address".into()))?;
    crate::server::listener::bind(parsed, backlog).map_err(|e| err(e.to_string()))
}
