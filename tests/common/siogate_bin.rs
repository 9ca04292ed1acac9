//! The real `siogate` binary as a test peer: started on `127.0.0.1:0` (the
//! addresses are read from its startup lines on stderr), signalled with
//! `kill -s SIG`, scraped over HTTP, and waited on with deadlines. stderr is
//! drained into a buffer the test can search (log assertions) and that
//! failure messages include. Killed on drop.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::Notify;
use tokio::time::{Instant, timeout};

use super::http_client;

/// Deadline for the binary to print its listening line.
const STARTUP: Duration = Duration::from_secs(20);

/// Runs `siogate <args…>` (RUST_LOG cleared) to its exit, for commands
/// that end at once (a bad configuration): the exit code and stderr. Killed
/// and failed if it is still running after the startup deadline.
pub async fn run_to_exit(args: &[&str]) -> (Option<i32>, String) {
    let run = Command::new(env!("CARGO_BIN_EXE_siogate"))
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = timeout(STARTUP, run)
        .await
        .unwrap_or_else(|_| panic!("siogate {args:?} still running after {STARTUP:?}"))
        .expect("run the siogate binary");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A running `siogate`.
pub struct Siogate {
    child: Child,
    /// The client listener.
    pub addr: SocketAddr,
    /// The metrics listener (`--metrics-listen 127.0.0.1:0` was given).
    pub metrics: Option<SocketAddr>,
    stderr: Arc<Mutex<String>>,
    more: Arc<Notify>,
}

impl Siogate {
    /// `siogate standalone --api-token t <args…>`, started as [`Siogate::start`] does.
    pub async fn standalone(args: &[&str]) -> Siogate {
        let mut all = vec!["standalone", "--api-token", "t"];
        all.extend_from_slice(args);
        Siogate::start(&all).await
    }

    /// Starts `siogate <args…> --listen 127.0.0.1:0` (RUST_LOG cleared) and
    /// waits for its listening line (and the metrics line when `args` has
    /// `--metrics-listen`).
    pub async fn start(args: &[&str]) -> Siogate {
        let mut child = Command::new(env!("CARGO_BIN_EXE_siogate"))
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the siogate binary");
        let stderr = Arc::new(Mutex::new(String::new()));
        let more = Arc::new(Notify::new());
        let pipe = child.stderr.take().expect("stderr is piped");
        let (sink, wake) = (stderr.clone(), more.clone());
        tokio::spawn(async move {
            let mut lines = BufReader::new(pipe).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut s = sink.lock().expect("stderr buffer");
                s.push_str(&line);
                s.push('\n');
                drop(s);
                wake.notify_waiters();
            }
        });
        let mut me = Siogate {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            metrics: None,
            stderr,
            more,
        };
        // `http://` or, when the listener serves TLS only, `https://`.
        let banner = me.wait_stderr("listening on http", STARTUP).await;
        me.addr = addr_after(&banner, "://");
        if args.contains(&"--metrics-listen") {
            let line = me.wait_stderr("metrics on http://", STARTUP).await;
            me.metrics = Some(addr_after(&line, "metrics on http://"));
        }
        me
    }

    /// Everything written to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr buffer").clone()
    }

    /// Waits until a stderr line contains `needle`; returns that line.
    pub async fn wait_stderr(&self, needle: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let notified = self.more.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(line) = self.stderr().lines().find(|l| l.contains(needle)) {
                return line.to_string();
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "siogate printed no line with {needle:?} within {within:?}; stderr:\n{}",
                    self.stderr()
                );
            }
        }
    }

    /// Sends `signal` (`TERM`, `INT`, …) with the `kill` command.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("siogate is still running");
        let ok = std::process::Command::new("kill")
            .args(["-s", signal, &pid.to_string()])
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -s {signal} {pid} failed");
    }

    /// Waits for the process to exit; panics with stderr after `within`.
    pub async fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        match timeout(within, self.child.wait()).await {
            Ok(Ok(status)) => status,
            Ok(Err(e)) => panic!("waiting for siogate: {e}"),
            Err(_) => panic!(
                "siogate still running after {within:?}; stderr:\n{}",
                self.stderr()
            ),
        }
    }

    /// `GET path` on the metrics listener: (status, body).
    pub async fn get_metrics_listener(&self, path: &str) -> (u16, String) {
        let addr = self.metrics.expect("started with --metrics-listen");
        let r = http_client::request(addr, "GET", path, &[], "").await;
        (r.status, r.text().to_string())
    }

    /// Scrapes until `pred` holds (every 25 ms, at most `within`); panics
    /// with `what` and the last scrape otherwise.
    pub async fn wait_metrics(
        &self,
        what: &str,
        pred: impl Fn(&Scrape) -> bool,
        within: Duration,
    ) -> Scrape {
        let deadline = Instant::now() + within;
        let mut tick = tokio::time::interval(Duration::from_millis(25));
        loop {
            tick.tick().await;
            let scrape = self.scrape().await;
            if pred(&scrape) {
                return scrape;
            }
            assert!(
                Instant::now() < deadline,
                "metrics never showed {what} within {within:?}; last scrape:\n{}",
                scrape.text
            );
        }
    }

    /// Polls `GET path` on the metrics listener until it answers `status`
    /// (every 25 ms, at most `within`); returns the body.
    pub async fn wait_status(&self, path: &str, status: u16, within: Duration) -> String {
        let deadline = Instant::now() + within;
        let mut tick = tokio::time::interval(Duration::from_millis(25));
        loop {
            tick.tick().await;
            let (got, body) = self.get_metrics_listener(path).await;
            if got == status {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "GET {path} still {got} ({body:?}) after {within:?}, expected {status}"
            );
        }
    }

    /// Scrapes `/metrics` and parses it.
    pub async fn scrape(&self) -> Scrape {
        let (status, text) = self.get_metrics_listener("/metrics").await;
        assert_eq!(status, 200, "{text}");
        Scrape::parse(&text)
    }
}

fn addr_after(line: &str, prefix: &str) -> SocketAddr {
    let rest = &line[line.find(prefix).expect("prefix in line") + prefix.len()..];
    let end = rest.find(['/', ' ']).unwrap_or(rest.len());
    rest[..end]
        .parse()
        .unwrap_or_else(|e| panic!("no address in {line:?}: {e}"))
}

/// One scrape in the Prometheus text format: `name{labels}` → value.
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    samples: HashMap<String, f64>,
    pub text: String,
}

impl Scrape {
    /// Parses the text format (comments skipped; every sample line is
    /// `series value`).
    pub fn parse(text: &str) -> Scrape {
        let mut samples = HashMap::new();
        for line in text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let (series, value) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("not a sample line: {line:?}"));
            let value: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line:?}"));
            assert!(
                samples.insert(series.to_string(), value).is_none(),
                "series twice: {series}"
            );
        }
        Scrape {
            samples,
            text: text.to_string(),
        }
    }

    /// The value of `series` (`name` or `name{a="b",…}` exactly as
    /// exported); 0 when absent.
    pub fn get(&self, series: &str) -> f64 {
        self.samples.get(series).copied().unwrap_or(0.0)
    }

    /// True when the scrape has `series`.
    pub fn has(&self, series: &str) -> bool {
        self.samples.contains_key(series)
    }

    /// How much `series` grew since `before`.
    pub fn delta(&self, before: &Scrape, series: &str) -> f64 {
        self.get(series) - before.get(series)
    }
}
