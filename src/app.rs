//! Startup of a validated configuration: load the TLS certificates (and
//! start their reloader), bind the listeners (and the metrics listener, if
//! any), announce where siogate listens (and, in standalone mode, how to
//! push), then hand the listeners to the mode's backend. `main` and
//! integration tests both call [`run`]; tests pass their own shutdown
//! future, `main` passes [`shutdown_signal`].
use std::future::Future;
use std::io::Write as _;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::config::{Config, ConfigError, Mode, ServerConfig};
use crate::error::Error;
use crate::server::{Listeners, TlsListener};
use crate::tls::TlsServer;

/// Runs `mode` with `config` until `shutdown` completes (or an error).
pub async fn run(
    mode: Mode,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let tls = TlsServer::from_config(&config.tls).map_err(|e| ConfigError::Usage(e.to_string()))?;
    let listener = bind(&config.server)?;
    let addr = listener.local_addr()?;
    let listeners = listeners(listener, &config, tls.as_ref())?;
    let metrics_listener = match &config.metrics.listen {
        Some(a) => Some(bind_addr(a, config.server.backlog)?),
        None => None,
    };
    crate::metrics::global().set_mode(match mode {
        Mode::Standalone => crate::metrics::Mode::Standalone,
        Mode::Proxy => crate::metrics::Mode::Proxy,
    });
    tracing::info!(%mode, listen.addr = %addr, path = %config.server.path, "siogate starting");
    // A plain line as well, so the address (and a generated token) reach the
    // operator whatever the log filter says.
    let mut lines = banner(mode, &config, addr);
    if let (Some(tls_addr), Some(_)) = (listeners.tls_addr(), &config.tls.listen) {
        lines.push_str(&format!("\nHTTPS listening on https://{tls_addr}"));
    }
    let _ = writeln!(std::io::stderr(), "{lines}");
    // Certificates are reloaded on file change and SIGHUP until run ends.
    let reload = CancellationToken::new();
    let _stop_reload = reload.clone().drop_guard();
    if let Some(t) = &tls {
        tokio::spawn(t.reloader().run(reload).in_current_span());
    }
    // The metrics listener outlives the client side's drain (so `/readyz`
    // reports it) and stops once the mode returns.
    let stop_metrics = tokio_util::sync::CancellationToken::new();
    let metrics_task = metrics_listener.map(|l| {
        if let Ok(a) = l.local_addr() {
            let _ = writeln!(std::io::stderr(), "metrics on http://{a}/metrics");
        }
        tokio::spawn(crate::server::ops::serve_metrics(
            l,
            std::time::Duration::from_millis(config.server.limits.header_read_timeout_ms),
            stop_metrics.clone().cancelled_owned(),
        ))
    });
    let result = run_mode(mode, listeners, config, shutdown).await;
    stop_metrics.cancel();
    if let Some(task) = metrics_task {
        let _ = task.await;
    }
    result
}

async fn run_mode(
    mode: Mode,
    listeners: Listeners,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    // WIRING POINT: each arm builds its mode's `server::Backend` (plus the
    // push API routes in standalone mode) and replaces the error with
    // `server::serve(listeners, Arc::new(config.server), backend, routes,
    // shutdown).await; Ok(())`.
    match mode {
        Mode::Standalone => {
            crate::standalone::run(listeners, config.server, &config.standalone, shutdown)
                .await
                .map_err(|e| crate::config::ConfigError::Usage(e.to_string()).into())
        }
        Mode::Proxy => crate::proxy::run(listeners, config, shutdown).await,
    }
}

/// The listeners to serve: `listener` (`server.listen`) is plain HTTP, or
/// HTTPS when TLS is on without `tls.listen`; with `tls.listen` an HTTPS
/// listener is bound there beside the plain one.
fn listeners(
    listener: TcpListener,
    config: &Config,
    tls: Option<&TlsServer>,
) -> Result<Listeners, Error> {
    let Some(tls) = tls else {
        return Ok(listener.into());
    };
    let secure = |listener| TlsListener {
        listener,
        acceptor: tls.acceptor(),
        handshake_timeout: tls.handshake_timeout(),
    };
    match &config.tls.listen {
        None => Ok(secure(listener).into()),
        Some(addr) => {
            let https = bind_addr(addr, config.server.backlog)?;
            Ok(Listeners::both(listener, secure(https)))
        }
    }
}

/// Binds `server.listen` through [`crate::server::listener::bind`]
/// (`SO_REUSEADDR`, a backlog of at least 1024); errors name the address.
pub fn bind(server: &ServerConfig) -> Result<TcpListener, Error> {
    bind_addr(&server.listen, server.backlog)
}

fn bind_addr(listen: &str, backlog: u32) -> Result<TcpListener, Error> {
    let bind_err = |source| Error::Bind {
        addr: listen.to_string(),
        source,
    };
    let addr: SocketAddr = listen.parse().map_err(|_| {
        bind_err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not an IP:PORT address",
        ))
    })?;
    crate::server::listener::bind(addr, backlog).map_err(bind_err)
}

/// The startup lines printed to stderr: where siogate listens and, in
/// standalone mode, a push example. A generated API token is shown (the
/// operator has no other way to learn it); a configured one is not.
pub fn banner(mode: Mode, config: &Config, addr: SocketAddr) -> String {
    // HTTPS only when TLS is on and has no listener of its own.
    let scheme = if config.tls.enabled() && config.tls.listen.is_none() {
        "https"
    } else {
        "http"
    };
    let mut out = format!(
        "siogate {mode} listening on {scheme}://{addr} (Socket.IO path {})",
        config.server.path
    );
    match mode {
        Mode::Standalone => {
            let s = &config.standalone;
            // The push API is on the main listener unless it has its own.
            let api_scheme = if s.api_listen.is_some() {
                "http"
            } else {
                scheme
            };
            let api_addr = s
                .api_listen
                .as_deref()
                .map_or_else(|| addr.to_string(), str::to_string);
            let token = match &s.api_token {
                Some(t) if t.is_generated() => {
                    out.push_str(&format!("\npush API token (generated): {}", t.expose()));
                    t.expose()
                }
                _ => "<token>",
            };
            out.push_str(&format!(
                "\npush example: curl -H \"Authorization: Bearer {token}\" -d '{{\"event\":\"news\",\"args\":[\"hi\"]}}' {api_scheme}://{api_addr}{}emit",
                s.api_prefix
            ));
        }
        Mode::Proxy => {
            let p = &config.proxy;
            let ups: Vec<String> = p.upstreams.iter().map(ToString::to_string).collect();
            let flavor = p.flavor.map_or("?", |f| f.as_str());
            out.push_str(&format!(
                "\nupstreams ({flavor}, {}): {}",
                p.balance,
                ups.join(", ")
            ));
        }
    }
    out
}

/// Completes on SIGTERM (graceful shutdown, `server.shutdown_grace_ms`) or
/// SIGINT (the same, with the grace period capped at
/// [`crate::server::drain::FAST_GRACE_CAP`]). After the first signal a
/// second one of either kind exits the process at once (status 130 for
/// SIGINT, 143 for SIGTERM, as a shell reports a signal death).
pub async fn shutdown_signal() {
    let first = next_signal().await;
    if first == Signal::Interrupt {
        crate::server::drain::request_fast();
    }
    tracing::info!(signal = first.name(), "shutdown requested");
    tokio::spawn(async {
        let second = next_signal().await;
        tracing::warn!(signal = second.name(), "second signal; exiting now");
        std::process::exit(second.exit_status());
    });
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Interrupt,
    Terminate,
}

impl Signal {
    fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }

    fn exit_status(self) -> i32 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }
}

/// The next SIGINT or SIGTERM (a handler that cannot be installed is
/// logged and never fires).
async fn next_signal() -> Signal {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => Signal::Interrupt,
        () = terminate => Signal::Terminate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn addr() -> SocketAddr {
        "127.0.0.1:3000".parse().expect("literal address")
    }

    #[test]
    fn standalone_banner_shows_generated_token_and_push_example() {
        let mut c = Config::default();
        c.standalone.api_token = Some(Secret::generate());
        let token = c
            .standalone
            .api_token
            .as_ref()
            .map(|t| t.expose().to_string())
            .unwrap_or_default();
        let b = banner(Mode::Standalone, &c, addr());
        assert!(b.starts_with(
            "siogate standalone listening on http://127.0.0.1:3000 (Socket.IO path /socket.io/)"
        ));
        assert!(b.contains(&format!(
            "curl -H \"Authorization: Bearer {token}\" -d '{{\"event\":\"news\",\"args\":[\"hi\"]}}' http://127.0.0.1:3000/api/v1/emit"
        )), "{b}");
    }

    #[test]
    fn tls_without_its_own_listener_announces_https() {
        let mut c = Config::default();
        c.tls.cert = Some("c.pem".into());
        c.tls.key = Some("k.pem".into());
        let b = banner(Mode::Standalone, &c, addr());
        assert!(
            b.starts_with("siogate standalone listening on https://127.0.0.1:3000"),
            "{b}"
        );
        assert!(b.contains("https://127.0.0.1:3000/api/v1/emit"), "{b}");
        // With `tls.listen` the main listener stays plain HTTP.
        c.tls.listen = Some("127.0.0.1:3443".into());
        let b = banner(Mode::Standalone, &c, addr());
        assert!(
            b.starts_with("siogate standalone listening on http://127.0.0.1:3000"),
            "{b}"
        );
    }

    #[test]
    fn configured_token_is_not_printed() {
        let mut c = Config::default();
        c.standalone.api_token = Some(Secret::new("s3cret"));
        c.standalone.api_listen = Some("127.0.0.1:9000".into());
        let b = banner(Mode::Standalone, &c, addr());
        assert!(!b.contains("s3cret"), "{b}");
        assert!(
            b.contains("Bearer <token>") && b.contains("http://127.0.0.1:9000/api/v1/emit"),
            "{b}"
        );
    }

    #[tokio::test]
    async fn bind_uses_the_configured_address_and_reports_failures() {
        let mut s = ServerConfig {
            listen: "127.0.0.1:0".into(),
            ..Default::default()
        };
        let l = bind(&s).expect("bind loopback");
        let taken = l.local_addr().expect("local addr");
        assert_ne!(taken.port(), 0);
        s.listen = "203.0.113.1:1".into(); // TEST-NET-3: not a local address
        let err = bind(&s).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot listen on 203.0.113.1:1"),
            "{err}"
        );
    }
}
