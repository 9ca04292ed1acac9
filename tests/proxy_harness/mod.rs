//! Runs siogate's proxy mode in-process on `127.0.0.1:0` in front of real
//! upstreams (the Node peers of `tests/common/node.rs`, the go stand-in of
//! `tests/common/gofixture`), and the small helpers the proxy tests share:
//! the token check per flavor, restarting a Node upstream on its port,
//! what a go app must have seen of a proxied client, and waiting (with a
//! deadline) for the proxy's gauges to drain.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use siogate::config::Config;
use siogate::proxy::Proxy;
use siogate::proxy::backend::Gauges;
use siogate::proxy::balance::Balancer;
use siogate::server::Listeners;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::common::gofixture::{GoFixture, LogEntry};
use crate::common::node::{Client, ClientOpts, NodeProc, STARTUP, STEP, Transports, Upstream};

/// A running proxy; stopped (gracefully) when dropped or by [`TestProxy::stop`].
pub struct TestProxy {
    pub addr: SocketAddr,
    /// The HTTPS address, when started on a TLS listener.
    pub tls_addr: Option<SocketAddr>,
    pub gauges: Arc<Gauges>,
    pub balancer: Arc<Balancer>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

/// A proxy config for `flavor` in front of `upstreams` (`ws://…` URLs),
/// with quick timings; `tweak` adjusts it further.
pub fn config(flavor: &str, upstreams: &[String], tweak: impl FnOnce(&mut Config)) -> Config {
    let mut c = Config::default();
    c.proxy.flavor = Some(flavor.parse().expect("flavor name"));
    c.proxy.upstreams = upstreams
        .iter()
        .map(|u| u.parse().expect("upstream URL"))
        .collect();
    c.proxy.connect_timeout_ms = 2_000;
    c.proxy.handshake_timeout_ms = 5_000;
    c.proxy.health_interval_ms = 60_000;
    c.server.upgrade_timeout_ms = 5_000;
    tweak(&mut c);
    c
}

/// Starts a proxy for `config`.
pub async fn spawn(config: Config) -> TestProxy {
    spawn_proxy(Proxy::new(&config).expect("proxy config")).await
}

/// Logs of the proxy under test, filtered by `RUST_LOG` (nothing by default).
pub fn trace_init() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// Starts an already built proxy.
pub async fn spawn_proxy(proxy: Proxy) -> TestProxy {
    let listener =
        siogate::server::listener::bind("127.0.0.1:0".parse().expect("addr"), 1024).expect("bind");
    spawn_proxy_on(proxy, listener.into()).await
}

/// Starts an already built proxy on `listeners` (plain, TLS or both);
/// `addr` is the plain address when there is one, else the TLS one.
pub async fn spawn_proxy_on(proxy: Proxy, listeners: Listeners) -> TestProxy {
    trace_init();
    let tls_addr = listeners.tls_addr();
    let addr = listeners.plain_addr().or(tls_addr).expect("a listener");
    let gauges = proxy.gauges();
    let balancer = proxy.balancer();
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(proxy.serve(listeners, async {
        let _ = rx.await;
    }));
    TestProxy {
        addr,
        tls_addr,
        gauges,
        balancer,
        shutdown: Some(tx),
        handle: Some(handle),
    }
}

impl TestProxy {
    /// `http://127.0.0.1:PORT`, for Socket.IO clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits until no client session and no leg is left.
    pub async fn wait_idle(&self) {
        let g = self.gauges.clone();
        let idle = wait_until(STEP, || g.sessions() == 0 && g.legs() == 0).await;
        assert!(
            idle,
            "proxy not idle: {} sessions, {} legs",
            self.gauges.sessions(),
            self.gauges.legs()
        );
    }

    /// Stops accepting, closes every session and waits for the proxy to end.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            tokio::time::timeout(Duration::from_secs(15), h)
                .await
                .expect("proxy stops in time")
                .expect("proxy task");
        }
    }
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Polls `cond` every 10 ms until it holds or `within` passes.
pub async fn wait_until(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if cond() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Awaits `f` or fails the test after `STEP`.
pub async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(STEP, f)
        .await
        .unwrap_or_else(|_| panic!("{what}: no result within {STEP:?}"))
}

/// `ws://127.0.0.1:PORT` of a Node upstream.
pub fn node_ws(up: &Upstream) -> String {
    format!("ws://127.0.0.1:{}", up.port)
}

/// Kills a Node upstream (its stdin closes, it exits without saying
/// goodbye to its connections) and starts the same major on the same port.
pub async fn restart_node(mut up: Upstream, version: u8) -> Upstream {
    let port = up.port;
    up.proc.close_stdin();
    up.proc.wait_exit(STEP).await;
    let args = [
        "--version".to_string(),
        version.to_string(),
        "--port".into(),
        port.to_string(),
    ];
    let mut proc = NodeProc::spawn("upstream.js", &args);
    proc.wait_for(|v| v["ready"] == true, STARTUP).await;
    Upstream {
        proc,
        port,
        tls: false,
    }
}

/// Client options for `nsp` with the token the way that client major sends
/// it: 2.x in the namespace query (`/chat?token=abc`), 4.x as CONNECT auth.
pub fn with_token(version: u8, url: &str, nsp: &str, t: Transports) -> ClientOpts {
    let opts = ClientOpts::new(version, url).nsp(nsp).transports(t);
    match version {
        2 => opts.query("token", "abc"),
        _ => opts.auth(json!({"token": "abc"})),
    }
}

/// The client's connect line must be followed by a working echo.
pub async fn echo(client: &mut Client, text: &str, ctx: &str) {
    assert_eq!(
        client.emit_ack("echo", json!([text])).await,
        vec![json!(text)],
        "{ctx}: echo"
    );
}

/// Waits for the client to lose its connection and get it back (the
/// official clients reconnect on their own).
pub async fn wait_reconnect(client: &mut Client, ctx: &str) {
    let gone = client.proc.wait_ev("disconnect", STEP).await;
    assert!(gone["reason"].is_string(), "{ctx}: {gone}");
    let back = client
        .proc
        .wait_for(|v| v["ev"] == "connect", Duration::from_secs(30))
        .await;
    assert!(back["id"].is_string(), "{ctx}: {back}");
}

/// The `token` the upstream app saw, from a Node `whoami` ack: the handshake
/// query (socket.io 2) or the CONNECT auth (socket.io 4).
pub fn node_token(who: &Value, upstream_major: u8) -> Value {
    match upstream_major {
        2 => who["query"]["token"].clone(),
        _ => who["auth"]["token"].clone(),
    }
}

/// A test CA and a server certificate for `127.0.0.1`/`localhost` signed by
/// it (rustls refuses a self-signed CA certificate used as the server's own),
/// written into `dir` with the `openssl` CLI. Returns `(ca.pem, cert.pem, key.pem)`.
pub async fn ca_signed_cert(
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let p = |name: &str| dir.join(name);
    std::fs::write(
        p("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .expect("write ext.cnf");
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    let steps: Vec<Vec<String>> = vec![
        [
            "req",
            "-x509",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=siogate-test-ca",
        ]
        .iter()
        .map(ToString::to_string)
        .chain(ec.iter().map(ToString::to_string))
        .chain([
            "-keyout".into(),
            path(&p("ca.key")),
            "-out".into(),
            path(&p("ca.pem")),
        ])
        .collect(),
        ["req", "-new", "-nodes", "-subj", "/CN=localhost"]
            .iter()
            .map(ToString::to_string)
            .chain(ec.iter().map(ToString::to_string))
            .chain([
                "-keyout".into(),
                path(&p("key.pem")),
                "-out".into(),
                path(&p("leaf.csr")),
            ])
            .collect(),
        vec![
            "x509".into(),
            "-req".into(),
            "-days".into(),
            "2".into(),
            "-in".into(),
            path(&p("leaf.csr")),
            "-CA".into(),
            path(&p("ca.pem")),
            "-CAkey".into(),
            path(&p("ca.key")),
            "-CAcreateserial".into(),
            "-extfile".into(),
            path(&p("ext.cnf")),
            "-out".into(),
            path(&p("cert.pem")),
        ],
    ];
    for args in steps {
        let run = tokio::process::Command::new("openssl")
            .args(&args)
            .kill_on_drop(true)
            .output();
        let out = within("openssl", run).await.expect("run openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    (p("ca.pem"), p("cert.pem"), p("key.pem"))
}

fn path(p: &std::path::Path) -> String {
    p.display().to_string()
}

/// For a client connected through siogate to the go stand-in `fx` on `nsp`
/// with `token=abc` and `case=<case>`: the go app's `whoami` shows both in
/// its handshake URL, its connection handler ran on `app_nsp` for that
/// handshake, and a push to `nsp` reaches the client.
pub async fn assert_go_app_served(
    fx: &GoFixture,
    c: &mut Client,
    (nsp, app_nsp): (&str, &str),
    case: &str,
    ctx: &str,
) {
    let who = c.emit_ack("whoami", json!([])).await;
    let url_query = who[0].as_str().unwrap_or_default().to_owned();
    let marker = format!("case={case}");
    assert!(
        url_query.contains("token=abc") && url_query.contains(&marker),
        "{ctx}: the go app saw handshake query {url_query:?}"
    );
    let connected = fx
        .wait_for_log(
            |e| {
                matches!(e, LogEntry::Connect { nsp, url_query: q, .. }
                if nsp == app_nsp && q.contains(&marker))
            },
            STEP,
        )
        .await;
    assert!(
        connected.is_some(),
        "{ctx}: no app connection on {app_nsp:?}: {:?}",
        fx.log()
    );
    assert!(fx.push("news", Some(nsp)).await >= 1, "{ctx}");
    let pushed = c.wait_event("push").await;
    assert!(
        pushed[0].as_str().is_some_and(|s| s.starts_with("news #")),
        "{ctx}: {pushed:?}"
    );
}
