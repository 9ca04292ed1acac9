//! Drives the real Node.js Socket.IO peers in `tests/js/` from Rust tests.
//!
//! `upstream.js` is a socket.io 2.5.0 / 4.x server running the same app as the go gateway;
//! `client.js` is the official socket.io-client 2.5.0 / 4.x. Both speak JSON lines: commands on
//! stdin, one event per stdout line. [`NodeProc`] owns such a process (killed on drop, and the
//! scripts exit when stdin closes) and waits on its lines with deadlines, never with sleeps.
//! Lines that a wait skips are kept in a backlog, so the order in which a test waits for
//! independent events does not matter. [`NodeProc::spawn_program`] runs other peers that speak
//! the same lines (the python-socketio driver of `tests/common/python.rs`). On failure the panic message lists every line seen
//! and the process's stderr.
#![allow(dead_code)] // each test binary uses a different part of the harness

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::TcpStream;
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::time::{Instant, timeout, timeout_at};

/// Deadline for one step of a conversation (an ack, an event, a connect).
pub const STEP: Duration = Duration::from_secs(10);
/// Deadline for a Node process to start and report ready (loading socket.io is slow on a busy box).
pub const STARTUP: Duration = Duration::from_secs(20);

/// True when a `node` binary is on PATH.
pub fn node_available() -> bool {
    std::process::Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `tests/js/`, where the scripts and their `node_modules` live.
pub fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("js")
}

/// Panics with instructions when Node or the pinned npm packages are missing.
pub fn require_peers() {
    assert!(
        node_available(),
        "`node` is not on PATH: the interop tests need Node.js >= 18 (see ./scripts/test.sh)"
    );
    assert!(
        js_dir().join("node_modules").is_dir(),
        "tests/js/node_modules is missing: run ./scripts/test.sh (it runs `npm ci` in tests/js), \
         or `npm ci --prefix tests/js`"
    );
}

/// Why [`NodeProc::try_next_json`] returned no line.
#[derive(Debug, PartialEq)]
pub enum NextError {
    Timeout,
    /// stdout closed: the process exited.
    Closed,
}

/// One Node peer process with piped stdin/stdout; killed when dropped.
pub struct NodeProc {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Lines<BufReader<ChildStdout>>,
    /// Lines read but not yet consumed by a wait.
    backlog: VecDeque<Value>,
    /// Every stdout line so far, for failure messages.
    seen: Vec<String>,
    stderr: Arc<Mutex<String>>,
}

impl NodeProc {
    /// Starts `node tests/js/<script> <args…>`. Must run inside a tokio runtime.
    pub fn spawn(script: &str, args: &[String]) -> NodeProc {
        require_peers();
        let script = js_dir().join(script);
        NodeProc::spawn_program(Path::new("node"), &script, args, &js_dir())
    }

    /// Starts `<program> <script> <args…>` in `dir`: any peer that speaks the scripts' line
    /// protocol (e.g. `tests/py/client.py` under a venv's python). Must run inside a tokio runtime.
    pub fn spawn_program(program: &Path, script: &Path, args: &[String], dir: &Path) -> NodeProc {
        let label = format!(
            "{} {}",
            program.file_name().unwrap_or_default().to_string_lossy(),
            script.file_name().unwrap_or_default().to_string_lossy()
        );
        let mut child = Command::new(program)
            .arg(script)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {label}: {e}"));
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(mut pipe) = child.stderr.take() {
            let sink = Arc::clone(&stderr);
            // Drain stderr so the child never blocks on a full pipe; ends at EOF.
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = pipe.read(&mut buf).await {
                    let text = String::from_utf8_lossy(&buf[..n]);
                    sink.lock().expect("stderr buffer lock").push_str(&text);
                }
            });
        }
        let name = format!("{label} {}", args.join(" "));
        NodeProc {
            name,
            child,
            stdin,
            stdout,
            backlog: VecDeque::new(),
            seen: Vec::new(),
            stderr,
        }
    }

    /// Every stdout line read so far.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    /// The next stdout line as JSON (oldest backlog entry first).
    pub async fn try_next_json(&mut self, within: Duration) -> Result<Value, NextError> {
        if let Some(v) = self.backlog.pop_front() {
            return Ok(v);
        }
        self.read_line(Instant::now() + within).await
    }

    /// Like [`Self::try_next_json`], but panics (with the transcript) when no line comes.
    pub async fn next_json(&mut self, within: Duration) -> Value {
        match self.try_next_json(within).await {
            Ok(v) => v,
            Err(e) => panic!(
                "{}",
                self.report(&format!("no line within {within:?}: {e:?}"))
            ),
        }
    }

    /// Returns (and consumes) the first line matching `pred`; other lines stay in the backlog.
    pub async fn try_wait_for(
        &mut self,
        mut pred: impl FnMut(&Value) -> bool,
        within: Duration,
    ) -> Result<Value, NextError> {
        if let Some(i) = self.backlog.iter().position(&mut pred) {
            return Ok(self.backlog.remove(i).expect("index from position"));
        }
        let deadline = Instant::now() + within;
        loop {
            let v = self.read_line(deadline).await?;
            if pred(&v) {
                return Ok(v);
            }
            self.backlog.push_back(v);
        }
    }

    /// Like [`Self::try_wait_for`], but panics with the transcript when nothing matches in time.
    pub async fn wait_for(&mut self, pred: impl FnMut(&Value) -> bool, within: Duration) -> Value {
        match self.try_wait_for(pred, within).await {
            Ok(v) => v,
            Err(e) => panic!(
                "{}",
                self.report(&format!("no matching line within {within:?}: {e:?}"))
            ),
        }
    }

    /// Waits for the line `{"ev": ev, ...}`.
    pub async fn wait_ev(&mut self, ev: &str, within: Duration) -> Value {
        self.wait_for(|v| v["ev"] == ev, within).await
    }

    /// Asserts that no line matching `pred` arrives during `window` (a negative check: the
    /// only place where the harness waits out a full duration).
    pub async fn assert_no_match(&mut self, pred: impl FnMut(&Value) -> bool, window: Duration) {
        match self.try_wait_for(pred, window).await {
            Err(NextError::Timeout) | Err(NextError::Closed) => {}
            Ok(v) => panic!("{}", self.report(&format!("unexpected line {v}"))),
        }
    }

    /// Writes one JSON command line to the process's stdin.
    pub async fn send(&mut self, cmd: &Value) {
        let mut line = cmd.to_string();
        line.push('\n');
        let stdin = self.stdin.as_mut().expect("stdin already closed");
        let res = async {
            stdin.write_all(line.as_bytes()).await?;
            stdin.flush().await
        };
        if let Err(e) = timeout(STEP, res)
            .await
            .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
        {
            panic!("{}", self.report(&format!("writing {cmd}: {e}")));
        }
    }

    /// Closes stdin; the scripts exit when it closes.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits for the process to exit.
    pub async fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        match timeout(within, self.child.wait()).await {
            Ok(Ok(status)) => status,
            Ok(Err(e)) => panic!("{}", self.report(&format!("waiting for exit: {e}"))),
            Err(_) => panic!(
                "{}",
                self.report(&format!("still running after {within:?}"))
            ),
        }
    }

    async fn read_line(&mut self, deadline: Instant) -> Result<Value, NextError> {
        loop {
            let line = match timeout_at(deadline, self.stdout.next_line()).await {
                Err(_) => return Err(NextError::Timeout),
                Ok(Ok(Some(line))) => line,
                Ok(Ok(None)) | Ok(Err(_)) => return Err(NextError::Closed),
            };
            self.seen.push(line.clone());
            match serde_json::from_str::<Value>(&line) {
                Ok(v) if v.is_object() => return Ok(v),
                // Stray output (a library's console.log) is kept in `seen` but never matched.
                _ => continue,
            }
        }
    }

    /// A failure message: what went wrong, every stdout line, and stderr.
    pub fn report(&self, why: &str) -> String {
        let stderr = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
        format!(
            "{}: {why}\n--- stdout ({} lines) ---\n{}\n--- stderr ---\n{stderr}",
            self.name,
            self.seen.len(),
            self.seen.join("\n")
        )
    }
}

/// `{"$bin": base64}`, the scripts' encoding of a binary value.
pub fn bin(bytes: &[u8]) -> Value {
    json!({ "$bin": STANDARD.encode(bytes) })
}

/// Decodes `{"$bin": base64}`; `None` for anything else.
pub fn unbin(v: &Value) -> Option<Vec<u8>> {
    STANDARD.decode(v.get("$bin")?.as_str()?).ok()
}

/// Percent-encodes a query component (RFC 3986 unreserved characters pass through).
pub fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A plain HTTP/1.0 GET on loopback (HTTP/1.0 so the body is neither chunked nor kept alive).
/// Returns the status code and the body parsed as JSON (`Null` if it is not JSON).
pub async fn http_get(port: u16, path_and_query: &str) -> (u16, Value) {
    let exchange = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
        let req = format!("GET {path_and_query} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
        stream.write_all(req.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>(raw)
    };
    let raw = match timeout(STEP, exchange).await {
        Ok(Ok(raw)) => raw,
        Ok(Err(e)) => panic!("GET {path_and_query} on port {port}: {e}"),
        Err(_) => panic!("GET {path_and_query} on port {port}: no answer within {STEP:?}"),
    };
    let (status, body) = split_response(&raw);
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// A raw HTTP/1.0 response → (status, body text); status 0 when unparsable.
pub fn split_response(raw: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_string())
}

/// Writes a self-signed certificate for `127.0.0.1`/`localhost` (P-256, via the `openssl` CLI,
/// which the base image ships) into `dir`; returns `(cert.pem, key.pem)`.
pub async fn self_signed_cert(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let run = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
        ])
        .args(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .kill_on_drop(true)
        .output();
    match timeout(STEP, run).await {
        Ok(Ok(out)) if out.status.success() => (cert, key),
        Ok(Ok(out)) => panic!(
            "openssl req failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Ok(Err(e)) => panic!("running openssl (is it installed?): {e}"),
        Err(_) => panic!("openssl req did not finish within {STEP:?}"),
    }
}

mod peers;
#[allow(unused_imports)] // each test binary uses a part of the harness
pub use peers::{Client, ClientOpts, Transports, Upstream, UpstreamOpts, assert_binary_reversed};
