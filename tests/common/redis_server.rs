//! A real `redis-server` (Debian's package; `./scripts/test.sh` installs it)
//! on a free loopback port for the cluster tests: no persistence, killed when
//! dropped, and restartable on the same port to test outages. Readiness is a
//! `PING` answered `+PONG`, polled until a deadline.
#![allow(dead_code)]

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// How long redis-server may take to answer its first PING.
const STARTUP: Duration = Duration::from_secs(10);

pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
    /// With [`RedisServer::start_tls`]: the TLS port and its arguments.
    tls: Option<(u16, Vec<String>)>,
}

impl RedisServer {
    /// Starts redis-server on a port the OS just handed out.
    pub async fn start() -> RedisServer {
        let mut server = RedisServer::reserve();
        server.spawn().await;
        server
    }

    /// A port for a redis-server that is not running yet (start it with
    /// [`RedisServer::restart`]): a node pointed at it starts during an outage.
    pub fn reserve() -> RedisServer {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
            l.local_addr().expect("local addr").port()
        };
        RedisServer {
            port,
            child: None,
            tls: None,
        }
    }

    /// Starts redis-server with a TLS port as well (`cert`/`key` PEM files
    /// for the server, clients not asked for certificates). The plain port
    /// stays for readiness checks.
    pub async fn start_tls(cert: &std::path::Path, key: &std::path::Path) -> RedisServer {
        let mut server = RedisServer::reserve();
        let tls_port = RedisServer::reserve().port;
        let path = |p: &std::path::Path| p.display().to_string();
        let args = vec![
            "--tls-port".into(),
            tls_port.to_string(),
            "--tls-cert-file".into(),
            path(cert),
            "--tls-key-file".into(),
            path(key),
            "--tls-auth-clients".into(),
            "no".into(),
        ];
        server.tls = Some((tls_port, args));
        server.spawn().await;
        server
    }

    /// `rediss://127.0.0.1:<tls port>` (after [`RedisServer::start_tls`]).
    pub fn tls_url(&self) -> String {
        let (port, _) = self.tls.as_ref().expect("started with start_tls");
        format!("rediss://127.0.0.1:{port}")
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL: an outage, not a shutdown) and waits for it.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = tokio::time::timeout(STARTUP, child.wait()).await;
        }
    }

    /// Starts it again on the same port (after [`RedisServer::kill`]).
    pub async fn restart(&mut self) {
        self.kill().await;
        self.spawn().await;
    }

    async fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--dir", "/tmp"])
            .args(self.tls.iter().flat_map(|(_, args)| args))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start redis-server ({e}): run ./scripts/test.sh, which installs it")
            });
        self.child = Some(child);
        let deadline = Instant::now() + STARTUP;
        while !ping(self.port).await {
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer PING on {}",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
    }
}

/// Whether a Redis answers `PING` on `port` right now.
pub async fn ping(port: u16) -> bool {
    let exchange = async {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await?;
        s.write_all(b"PING\r\n").await?;
        let mut buf = [0u8; 7];
        s.read_exact(&mut buf).await?;
        Ok::<_, std::io::Error>(buf)
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(1), exchange).await,
        Ok(Ok(buf)) if &buf == b"+PONG\r\n"
    )
}

impl RedisServer {
    /// `PUBSUB NUMSUB channel`: how many connections subscribe to it.
    pub async fn numsub(&self, channel: &str) -> u64 {
        let reply = self.command(&["PUBSUB", "NUMSUB", channel]).await;
        // *2 $<len> <channel> :<n>
        let n = reply.lines().last().and_then(|l| l.strip_prefix(':'));
        n.and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("unexpected NUMSUB reply {reply:?}"))
    }

    /// `PUBSUB NUMPAT`: pattern subscriptions in total.
    pub async fn numpat(&self) -> u64 {
        let reply = self.command(&["PUBSUB", "NUMPAT"]).await;
        reply
            .trim()
            .strip_prefix(':')
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("unexpected NUMPAT reply {reply:?}"))
    }

    /// One command in RESP; the raw reply (read until the server pauses).
    async fn command(&self, args: &[&str]) -> String {
        let mut req = format!("*{}\r\n", args.len());
        for a in args {
            req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        let exchange = async {
            let mut s = TcpStream::connect(("127.0.0.1", self.port)).await?;
            s.write_all(req.as_bytes()).await?;
            s.write_all(b"QUIT\r\n").await?;
            let mut raw = Vec::new();
            s.read_to_end(&mut raw).await?;
            Ok::<_, std::io::Error>(raw)
        };
        let raw = tokio::time::timeout(STARTUP, exchange)
            .await
            .expect("redis answers in time")
            .expect("redis command");
        let text = String::from_utf8_lossy(&raw).into_owned();
        // Drop QUIT's +OK.
        text.strip_suffix("+OK\r\n").unwrap_or(&text).to_string()
    }
}
