//! The processes a scenario measures: siogate (standalone or proxy) and the
//! Node socket.io 4 baseline (`tests/js/bench-server.js`), optionally pinned
//! to a core with `taskset`; their RSS read from `/proc/<pid>/status`; and
//! the generator's own setup (open-file limit, CPU pinning).
//!
//! A [`Server`] kills its process when dropped. Readiness is the address the
//! process prints (siogate's banner on stderr, Node's `{"ready":true}` line
//! on stdout), waited for with a deadline, never a sleep.
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};

/// How long a server may take to print its address.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// A running server process.
pub struct Server {
    /// None for a server started by someone else (`--attach`).
    child: Option<Child>,
    pid: Option<u32>,
    /// Kept open: bench-server.js exits when its stdin closes.
    _stdin: Option<ChildStdin>,
    pub port: u16,
    name: &'static str,
}

impl Server {
    /// A server that is already running (e.g. under a profiler); its RSS
    /// is read only when its pid is known.
    pub fn attached(port: u16, pid: Option<u32>) -> Self {
        Server {
            child: None,
            pid,
            _stdin: None,
            port,
            name: "attached server",
        }
    }

    /// CPU seconds used so far; NaN when the pid is unknown.
    pub fn cpu_secs(&self) -> f64 {
        self.pid
            .map_or(f64::NAN, |p| cpu_secs(Some(p)).unwrap_or(f64::NAN))
    }

    /// Resident set size in KiB (`VmRSS`); NaN when the pid is unknown.
    pub fn rss_kib(&self) -> Result<f64> {
        self.pid.map_or(Ok(f64::NAN), rss_kib)
    }

    /// Fails if the process has exited (e.g. crashed under load).
    pub fn check_alive(&mut self) -> Result<()> {
        let Some(child) = &mut self.child else {
            return Ok(());
        };
        match child.try_wait()? {
            Some(status) => bail!("{} exited: {status}", self.name),
            None => Ok(()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `VmRSS` of `pid` in KiB.
pub fn rss_kib(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .ok_or_else(|| anyhow!("no VmRSS for pid {pid}"))?;
    let kib = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse::<f64>().ok())
        .ok_or_else(|| anyhow!("bad VmRSS line {line:?}"))?;
    Ok(kib)
}

/// CPU time (user + system) `pid` has used so far, in seconds; `None`
/// reads this process.
pub fn cpu_secs(pid: Option<u32>) -> Result<f64> {
    let path = pid.map_or_else(
        || "/proc/self/stat".to_string(),
        |p| format!("/proc/{p}/stat"),
    );
    let stat = std::fs::read_to_string(&path)?;
    // Fields after the parenthesized command name; utime and stime are
    // fields 14 and 15 of the whole line, in clock ticks (USER_HZ = 100).
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| anyhow!("bad {path}"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(u), Some(s)) => Ok((u + s) / 100.0),
        _ => bail!("no utime/stime in {path}"),
    }
}

/// Where the programs live.
#[derive(Debug, Clone)]
pub struct Programs {
    pub siogate: PathBuf,
    pub node_script: PathBuf,
    /// Use this already-running `siogate standalone` (port, pid) instead of
    /// starting one.
    pub attach: Option<(u16, Option<u32>)>,
}

impl Programs {
    /// `siogate` next to this bench binary (`<target>/release/deps/load-*`
    /// → `<target>/release/siogate`) unless given.
    pub fn locate(siogate: Option<PathBuf>) -> Result<Self> {
        let siogate = match siogate {
            Some(p) => p,
            None => {
                let exe = std::env::current_exe()?;
                let release = exe
                    .parent()
                    .and_then(Path::parent)
                    .ok_or_else(|| anyhow!("cannot locate the target dir from {exe:?}"))?;
                release.join("siogate")
            }
        };
        let node_script = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/js/bench-server.js"
        ));
        Ok(Programs {
            siogate,
            node_script,
            attach: None,
        })
    }
}

/// `taskset -c CPU prog` or plain `prog`.
fn command(prog: &Path, cpu: Option<&str>) -> Command {
    match cpu {
        Some(cpu) => {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(cpu).arg(prog);
            c
        }
        None => Command::new(prog),
    }
}

/// `siogate standalone` on an OS-chosen port with the push API on the main
/// listener, token `token`, and the built-in join/leave events.
pub fn siogate_standalone(p: &Programs, cpu: Option<&str>, token: &str) -> Result<Server> {
    if let Some((port, pid)) = p.attach {
        return Ok(Server::attached(port, pid));
    }
    let mut c = command(&p.siogate, cpu);
    c.args([
        "standalone",
        "--listen",
        "127.0.0.1:0",
        "--api-token",
        token,
    ])
    .args(["--allow-join-leave", "--log-level", "error"]);
    spawn_siogate(c)
}

/// `siogate_standalone` as a cluster node (`--redis redis_url`).
pub fn siogate_cluster_node(
    p: &Programs,
    cpu: Option<&str>,
    token: &str,
    redis_url: &str,
) -> Result<Server> {
    let mut c = command(&p.siogate, cpu);
    c.args([
        "standalone",
        "--listen",
        "127.0.0.1:0",
        "--api-token",
        token,
    ])
    .args([
        "--allow-join-leave",
        "--log-level",
        "error",
        "--redis",
        redis_url,
    ]);
    spawn_siogate(c)
}

/// A `redis-server` on a free loopback port, without persistence; ready
/// once it answers `PING`.
pub fn redis_server(cpu: Option<&str>) -> Result<Server> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut c = command(Path::new("redis-server"), cpu);
    c.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--dir", "/tmp"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = c
        .spawn()
        .context("spawning redis-server (apt-get install redis-server)")?;
    let deadline = std::time::Instant::now() + READY_TIMEOUT;
    let ready = loop {
        if redis_ping(port) {
            break Ok(port);
        }
        if let Some(status) = child.try_wait()? {
            break Err(anyhow!("redis-server exited: {status}"));
        }
        if std::time::Instant::now() > deadline {
            break Err(anyhow!(
                "redis-server did not answer PING within {READY_TIMEOUT:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    finish(child, None, ready, "redis-server")
}

fn redis_ping(port: u16) -> bool {
    use std::io::Write as _;
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    let mut buf = [0u8; 7];
    s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

/// `siogate proxy` in front of a v4 upstream on `upstream_port`.
pub fn siogate_proxy(p: &Programs, cpu: Option<&str>, upstream_port: u16) -> Result<Server> {
    let mut c = command(&p.siogate, cpu);
    c.args(["proxy", "--listen", "127.0.0.1:0", "--flavor", "v4"])
        .arg("--upstream")
        .arg(format!("ws://127.0.0.1:{upstream_port}"))
        .args(["--log-level", "error"]);
    spawn_siogate(c)
}

/// The Node socket.io 4 baseline server.
pub fn node(p: &Programs, cpu: Option<&str>, token: &str) -> Result<Server> {
    node_with(p, cpu, token, None)
}

/// The Node baseline, with `@socket.io/redis-adapter` on `redis_url` if set.
pub fn node_with(
    p: &Programs,
    cpu: Option<&str>,
    token: &str,
    redis_url: Option<&str>,
) -> Result<Server> {
    let mut c = command(Path::new("node"), cpu);
    c.arg(&p.node_script)
        .args(["--port", "0", "--api-token", token]);
    if let Some(url) = redis_url {
        c.args(["--redis", url]);
    }
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = c.spawn().context("spawning node bench-server.js")?;
    let stdin = child.stdin.take();
    let stdout = child.stdout.take().expect("stdout is piped");
    let port = wait_for_line(stdout, "node", |line| {
        let rest = line.split("\"port\":").nth(1)?;
        rest.trim_end_matches('}').split(',').next()?.parse().ok()
    });
    finish(child, stdin, port, "node")
}

fn spawn_siogate(mut c: Command) -> Result<Server> {
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = c.spawn().context("spawning siogate")?;
    let stderr = child.stderr.take().expect("stderr is piped");
    // "siogate standalone listening on http://127.0.0.1:PORT (Socket.IO ...)"
    let port = wait_for_line(stderr, "siogate", |line| {
        let rest = line.split("listening on http://").nth(1)?;
        let addr = rest.split_whitespace().next()?;
        addr.rsplit(':').next()?.parse().ok()
    });
    finish(child, None, port, "siogate")
}

fn finish(
    mut child: Child,
    stdin: Option<ChildStdin>,
    port: Result<u16>,
    name: &'static str,
) -> Result<Server> {
    match port {
        Ok(port) => Ok(Server {
            pid: Some(child.id()),
            child: Some(child),
            _stdin: stdin,
            port,
            name,
        }),
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(e)
        }
    }
}

/// Reads `pipe` on a thread until `parse` finds the port (with a
/// deadline), then keeps forwarding the process's lines to our stderr so
/// its pipe never fills. Lines before readiness are kept for the error.
fn wait_for_line<R, F>(pipe: R, name: &'static str, parse: F) -> Result<u16>
where
    R: Read + Send + 'static,
    F: Fn(&str) -> Option<u16> + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut ready = false;
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if ready {
                // The rest of siogate's banner is not news; anything else
                // (warnings, crashes) is.
                if !(line.starts_with("push ") || line.starts_with("upstreams (")) {
                    eprintln!("[{name}] {line}");
                }
                continue;
            }
            if let Some(port) = parse(&line) {
                ready = true;
                let _ = tx.send(Ok(port));
            } else {
                seen.push(line);
            }
        }
        if !ready {
            let _ = tx.send(Err(seen.join("\n")));
        }
    });
    match rx.recv_timeout(READY_TIMEOUT) {
        Ok(Ok(port)) => Ok(port),
        Ok(Err(output)) => bail!("{name} exited before listening: {output}"),
        Err(_) => bail!("{name} did not report its port within {READY_TIMEOUT:?}"),
    }
}

/// Raises this process's open-file limit (inherited by the servers it
/// spawns) with util-linux `prlimit`, since the crate forbids the `unsafe`
/// a direct `setrlimit` call would need. Without `CAP_SYS_RESOURCE` only
/// the soft limit can move, up to the hard one. Returns the limit in force.
pub fn raise_nofile(limit: u64) -> Result<u64> {
    let pid = std::process::id().to_string();
    let set = |spec: String| {
        Command::new("prlimit")
            .args(["--pid", &pid, &spec])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !set(format!("--nofile={limit}:{limit}")) {
        // Soft limit up to the hard limit, whatever that is.
        let hard = nofile_limits()?.1;
        set(format!("--nofile={}:{hard}", hard.min(limit)));
    }
    Ok(nofile_limits()?.0)
}

/// (soft, hard) `Max open files` of this process.
fn nofile_limits() -> Result<(u64, u64)> {
    let limits = std::fs::read_to_string("/proc/self/limits")?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .ok_or_else(|| anyhow!("no open-file limit in /proc/self/limits"))?;
    let mut nums = line
        .split_whitespace()
        .filter_map(|w| w.parse::<u64>().ok());
    match (nums.next(), nums.next()) {
        (Some(soft), Some(hard)) => Ok((soft, hard)),
        _ => bail!("unreadable limit line {line:?}"),
    }
}

/// Pins the calling thread to `cpu`. Called before the runtime starts, so
/// every thread the generator creates inherits the mask (children started
/// with their own `taskset -c` override it).
pub fn pin_self(cpu: &str) -> Result<()> {
    let status = Command::new("taskset")
        .args(["-p", "-c", cpu])
        .arg(std::process::id().to_string())
        .stdout(Stdio::null())
        .status()
        .context("running taskset")?;
    if !status.success() {
        bail!("taskset -p -c {cpu} failed: {status}");
    }
    Ok(())
}
