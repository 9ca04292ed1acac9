//! Typed wrappers over the two Node peers: [`Upstream`] (`tests/js/upstream.js`, a real
//! socket.io 2.5.0 / 4.x server) and [`Client`] (`tests/js/client.js`, the official
//! socket.io-client 2.5.0 / 4.x). They only build command lines and JSON commands and wait
//! on the scripts' stdout lines; see the scripts' headers for the line formats.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::{NodeProc, STARTUP, STEP, bin, http_get, pct, unbin};

/// How to start an upstream. `version` is the socket.io major (2 or 4).
#[derive(Clone, Debug, Default)]
pub struct UpstreamOpts {
    pub version: u8,
    /// 4.x only: also serve Engine.IO 3 clients (`allowEIO3`).
    pub allow_eio3: bool,
    /// Serve HTTPS with this PEM certificate and key.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// With `tls`: demand a client certificate signed by this CA (mTLS).
    pub client_ca: Option<PathBuf>,
    /// `(pingInterval, pingTimeout)` in ms; socket.io's defaults when `None`.
    pub ping_ms: Option<(u64, u64)>,
    /// Listen on this port (to restart an upstream where it was); an
    /// OS-chosen one when `None`.
    pub port: Option<u16>,
    /// Serve on this path instead of `/socket.io` (e.g. `/engine.io`).
    pub path: Option<String>,
}

/// A running `upstream.js` on 127.0.0.1 (OS-chosen port).
pub struct Upstream {
    pub proc: NodeProc,
    pub port: u16,
    pub tls: bool,
}

impl Upstream {
    /// Starts a plain upstream of socket.io major `version` (2 or 4).
    pub async fn start(version: u8) -> Upstream {
        Upstream::start_with(UpstreamOpts {
            version,
            ..UpstreamOpts::default()
        })
        .await
    }

    /// Starts an upstream and waits for its `{"ready":true,"port":N}` line.
    pub async fn start_with(opts: UpstreamOpts) -> Upstream {
        let mut args = vec![
            "--version".to_string(),
            opts.version.to_string(),
            "--port".into(),
            opts.port.unwrap_or(0).to_string(),
        ];
        if opts.allow_eio3 {
            args.push("--allow-eio3".into());
        }
        if let Some((cert, key)) = &opts.tls {
            args.extend([
                "--tls".into(),
                cert.display().to_string(),
                key.display().to_string(),
            ]);
        }
        if let Some(ca) = &opts.client_ca {
            args.extend(["--tls-client-ca".into(), ca.display().to_string()]);
        }
        if let Some(path) = &opts.path {
            args.extend(["--path".into(), path.clone()]);
        }
        if let Some((interval, timeout)) = opts.ping_ms {
            args.extend(["--ping-interval".into(), interval.to_string()]);
            args.extend(["--ping-timeout".into(), timeout.to_string()]);
        }
        let mut proc = NodeProc::spawn("upstream.js", &args);
        let ready = proc.wait_for(|v| v["ready"] == true, STARTUP).await;
        let Some(port) = ready["port"].as_u64().and_then(|p| u16::try_from(p).ok()) else {
            panic!("{}", proc.report("ready line without a port"));
        };
        Upstream {
            proc,
            port,
            tls: opts.tls.is_some(),
        }
    }

    /// `http://127.0.0.1:PORT` (or `https://…`).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// `GET /push?msg=..&nsp=..` (plain HTTP only); returns how many sockets were in `nsp`.
    pub async fn push(&self, nsp: &str, msg: &str) -> u64 {
        self.http_count(&format!("/push?msg={}&nsp={}", pct(msg), pct(nsp)))
            .await
    }

    /// `GET /kick?nsp=..`: disconnects every socket of `nsp` (namespace only, the Engine.IO
    /// connection stays); returns how many there were.
    pub async fn kick(&self, nsp: &str) -> u64 {
        self.http_count(&format!("/kick?nsp={}", pct(nsp))).await
    }

    async fn http_count(&self, path: &str) -> u64 {
        assert!(
            !self.tls,
            "the HTTP side channel helpers speak plain HTTP; use push_cmd with TLS"
        );
        let (status, body) = http_get(self.port, path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body["count"]
            .as_u64()
            .unwrap_or_else(|| panic!("GET {path}: no count in {body}"))
    }

    /// Pushes `event(args…)` through stdin (works with TLS and binary `args`); returns the count.
    pub async fn push_cmd(&mut self, nsp: &str, event: &str, args: Value) -> u64 {
        self.proc
            .send(&json!({"cmd": "push", "nsp": nsp, "event": event, "args": args}))
            .await;
        let v = self
            .proc
            .wait_for(|v| v["ev"] == "pushed" || v["ev"] == "cmd_error", STEP)
            .await;
        v["count"]
            .as_u64()
            .unwrap_or_else(|| panic!("{}", self.proc.report(&format!("push failed: {v}"))))
    }

    /// Waits for the server's `connection` line for namespace `nsp`.
    pub async fn wait_connection(&mut self, nsp: &str) -> Value {
        self.proc
            .wait_for(|v| v["ev"] == "connection" && v["nsp"] == nsp, STEP)
            .await
    }

    /// Waits for the server's `disconnect` line for namespace `nsp`.
    pub async fn wait_disconnect(&mut self, nsp: &str) -> Value {
        self.proc
            .wait_for(|v| v["ev"] == "disconnect" && v["nsp"] == nsp, STEP)
            .await
    }
}

/// Which transports the client may use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Transports {
    /// The default: open with long-polling, then upgrade to WebSocket.
    #[default]
    PollingThenUpgrade,
    WebsocketOnly,
    PollingOnly,
}

impl Transports {
    fn arg(self) -> &'static str {
        match self {
            Transports::PollingThenUpgrade => "polling,websocket",
            Transports::WebsocketOnly => "websocket",
            Transports::PollingOnly => "polling",
        }
    }
}

/// How to start a client; build with [`ClientOpts::new`] and the chained setters.
#[derive(Clone, Debug)]
pub struct ClientOpts {
    pub version: u8,
    pub url: String,
    pub nsp: Option<String>,
    pub query: Vec<(String, String)>,
    pub auth: Option<Value>,
    pub transports: Transports,
    pub path: Option<String>,
    pub reconnect: bool,
    pub insecure: bool,
    /// Trust the CA certificates of this PEM file for `https://`.
    pub ca: Option<PathBuf>,
}

impl ClientOpts {
    /// socket.io-client major `version` (2 or 4) connecting to `url` (scheme://host:port[/nsp][?q]).
    pub fn new(version: u8, url: impl Into<String>) -> ClientOpts {
        ClientOpts {
            version,
            url: url.into(),
            nsp: None,
            query: Vec::new(),
            auth: None,
            transports: Transports::default(),
            path: None,
            reconnect: true,
            insecure: false,
            ca: None,
        }
    }
    pub fn nsp(mut self, nsp: &str) -> Self {
        self.nsp = Some(nsp.into());
        self
    }
    pub fn query(mut self, key: &str, value: &str) -> Self {
        self.query.push((key.into(), value.into()));
        self
    }
    /// 4.x only: the CONNECT auth payload.
    pub fn auth(mut self, auth: Value) -> Self {
        self.auth = Some(auth);
        self
    }
    pub fn transports(mut self, transports: Transports) -> Self {
        self.transports = transports;
        self
    }
    pub fn path(mut self, path: &str) -> Self {
        self.path = Some(path.into());
        self
    }
    pub fn no_reconnect(mut self) -> Self {
        self.reconnect = false;
        self
    }
    /// Accept self-signed TLS certificates.
    pub fn insecure(mut self) -> Self {
        self.insecure = true;
        self
    }
    /// Trust the CA certificates of `pem` (a test CA) for `https://`.
    pub fn ca(mut self, pem: &std::path::Path) -> Self {
        self.ca = Some(pem.to_path_buf());
        self
    }

    /// The command line of `client.js`; `tests/py/client.py` takes the same flags.
    pub fn args(&self) -> Vec<String> {
        let mut args = vec![
            "--version".into(),
            self.version.to_string(),
            "--url".into(),
            self.url.clone(),
        ];
        args.extend(["--transports".into(), self.transports.arg().into()]);
        if let Some(nsp) = &self.nsp {
            args.extend(["--nsp".into(), nsp.clone()]);
        }
        for (k, v) in &self.query {
            args.extend(["--query".into(), format!("{k}={v}")]);
        }
        if let Some(auth) = &self.auth {
            args.extend(["--auth".into(), auth.to_string()]);
        }
        if let Some(path) = &self.path {
            args.extend(["--path".into(), path.clone()]);
        }
        if !self.reconnect {
            args.push("--no-reconnect".into());
        }
        if self.insecure {
            args.push("--insecure".into());
        }
        if let Some(ca) = &self.ca {
            args.extend(["--ca".into(), ca.display().to_string()]);
        }
        args
    }
}

/// A running `client.js`.
pub struct Client {
    pub proc: NodeProc,
    next_ack: u64,
}

impl Client {
    /// Starts the client without waiting for the outcome of its connect.
    pub fn spawn(opts: &ClientOpts) -> Client {
        Client::from_proc(NodeProc::spawn("client.js", &opts.args()))
    }

    /// Wraps any client process that speaks `client.js`'s lines (e.g. the python-socketio
    /// driver `tests/py/client.py`).
    pub fn from_proc(proc: NodeProc) -> Client {
        Client { proc, next_ack: 0 }
    }

    /// Starts the client and waits for `connect`; panics on `connect_error`. Returns the client
    /// and its connect line (`{"ev":"connect","id":…,"transport":…}`).
    pub async fn connect(opts: &ClientOpts) -> (Client, Value) {
        Client::spawn(opts).connected().await
    }

    /// Waits for this client's `connect` line; panics on `connect_error`.
    pub async fn connected(mut self) -> (Client, Value) {
        let v = self
            .proc
            .wait_for(
                |v| v["ev"] == "connect" || v["ev"] == "connect_error",
                STARTUP,
            )
            .await;
        if v["ev"] != "connect" {
            panic!(
                "{}",
                self.proc.report(&format!("expected connect, got {v}"))
            );
        }
        (self, v)
    }

    /// Emits `event(args…)` without an ack. `args` is a JSON array; `{"$bin":…}` becomes a Buffer.
    pub async fn emit(&mut self, event: &str, args: Value) {
        self.proc
            .send(&json!({"cmd": "emit", "event": event, "args": args}))
            .await;
    }

    /// Emits with an ack callback and waits for the ack; returns the ack's arguments.
    pub async fn emit_ack(&mut self, event: &str, args: Value) -> Vec<Value> {
        self.next_ack += 1;
        let id = self.next_ack;
        let cmd = json!({"cmd": "emit", "event": event, "args": args, "ack": true, "id": id});
        self.proc.send(&cmd).await;
        let v = self
            .proc
            .wait_for(|v| v["ev"] == "ack" && v["id"] == id, STEP)
            .await;
        v["args"].as_array().cloned().unwrap_or_default()
    }

    /// Waits for the server event `name` and returns its arguments.
    pub async fn wait_event(&mut self, name: &str) -> Vec<Value> {
        let v = self
            .proc
            .wait_for(|v| v["ev"] == "event" && v["name"] == name, STEP)
            .await;
        v["args"].as_array().cloned().unwrap_or_default()
    }

    /// Waits for `disconnect` and returns its reason.
    pub async fn wait_disconnect(&mut self) -> String {
        let v = self.proc.wait_ev("disconnect", STEP).await;
        v["reason"].as_str().unwrap_or_default().to_string()
    }

    /// Asks the client to disconnect (`socket.disconnect()`).
    pub async fn disconnect(&mut self) {
        self.proc.send(&json!({"cmd": "disconnect"})).await;
    }
}

/// Sends a few bytes (0x00..0xff edges) as binary both ways between `client`
/// and the echo app of `up` (which answers binaries reversed): once as an ack
/// argument, once as an event. Asserts the client gets the reversed bytes
/// both times and the upstream app received the original bytes on `nsp`.
pub async fn assert_binary_reversed(client: &mut Client, up: &mut Upstream, nsp: &str, ctx: &str) {
    let payload = [0u8, 1, 2, 0x7f, 0x80, 0xff];
    let reversed: Vec<u8> = payload.iter().rev().copied().collect();
    let ack = client.emit_ack("bin", json!([bin(&payload)])).await;
    assert_eq!(ack.len(), 1, "{ctx}: {ack:?}");
    assert_eq!(
        unbin(&ack[0]).as_deref(),
        Some(&reversed[..]),
        "{ctx}: {ack:?}"
    );
    client.emit("bin", json!([bin(&payload)])).await;
    let event = client.wait_event("bin").await;
    assert_eq!(
        unbin(&event[0]).as_deref(),
        Some(&reversed[..]),
        "{ctx}: {event:?}"
    );
    let recv = up
        .proc
        .wait_for(
            |v| v["ev"] == "recv" && v["name"] == "bin" && v["nsp"] == nsp,
            STEP,
        )
        .await;
    assert_eq!(
        unbin(&recv["args"][0]).as_deref(),
        Some(&payload[..]),
        "{ctx}: {recv}"
    );
}
