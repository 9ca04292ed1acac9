//! `connect`: open N WebSocket clients (Socket.IO v5 CONNECT completed) and
//! hold them. Reports connections/s (N / time to the last CONNECT reply),
//! the server's RSS per connection ((RSS held − RSS idle) / N), and how many
//! clients failed to connect or were dropped while held.
use std::time::Duration;

use anyhow::{Result, bail};

use super::fleet::{Fleet, Spec, Transport};
use super::{Common, TOKEN, compare, settle};
use crate::proc;
use crate::stats::{Report, Sample, Side, p50_p99};

#[derive(Debug, Clone)]
pub struct Opts {
    pub clients: Vec<u64>,
    /// Handshakes in flight at once.
    pub concurrency: usize,
    /// How long the clients are held after the last connect.
    pub hold: Duration,
}

pub async fn run(common: &Common, opts: &Opts) -> Vec<Report> {
    let mut reports = Vec::new();
    for &n in &opts.clients {
        let title = format!(
            "connect: {n} WebSocket clients held {}s ({} runs)",
            opts.hold.as_secs(),
            common.runs
        );
        let report = compare(title, common, |side, _| once(common, opts, side, n)).await;
        println!("{}", report.render());
        reports.push(report);
    }
    reports
}

async fn once(common: &Common, opts: &Opts, side: Side, n: u64) -> Result<Sample> {
    let cpu = common.server_cpu.as_deref();
    let mut server = match side {
        Side::Siogate => proc::siogate_standalone(&common.programs, cpu, TOKEN)?,
        Side::Node => proc::node(&common.programs, cpu, TOKEN)?,
    };
    settle().await;
    let rss_idle = server.rss_kib()?;
    let fleet = Fleet::spawn(Spec {
        transport: Transport::WebSocket,
        ports: vec![server.port],
        clients: n,
        room: None,
        concurrency: opts.concurrency,
        sources: common.sources.clone(),
    });
    let result = measure(&fleet, &mut server, opts, n, rss_idle).await;
    // The server goes first: its side of each connection then holds
    // TIME_WAIT, so the generator's ports are free for the next run.
    drop(server);
    fleet.shutdown().await;
    result
}

async fn measure(
    fleet: &Fleet,
    server: &mut proc::Server,
    opts: &Opts,
    n: u64,
    rss_idle: f64,
) -> Result<Sample> {
    let took = fleet
        .wait_connected(Duration::from_secs(120 + n / 100))
        .await?;
    let c = &fleet.counters;
    let connected = c.connected.load(std::sync::atomic::Ordering::Acquire);
    tokio::time::sleep(opts.hold).await;
    server.check_alive()?;
    let rss_held = server.rss_kib()?;
    let failed = c.failed.load(std::sync::atomic::Ordering::Acquire);
    let dropped = c.dropped.load(std::sync::atomic::Ordering::Acquire);
    if connected == 0 {
        bail!("no client connected: {}", c.summary());
    }
    if failed + dropped > 0 {
        eprintln!("  errors: {}", c.summary());
    }
    let (p50, p99) = p50_p99(&mut c.connect_times_ms());
    let mut s = Sample::default();
    s.push("connections/s", connected as f64 / took.as_secs_f64());
    s.push("connect p50 ms", p50);
    s.push("connect p99 ms", p99);
    s.push(
        "RSS KiB / connection",
        (rss_held - rss_idle) / connected as f64,
    );
    s.push("RSS idle MiB", rss_idle / 1024.0);
    s.push("RSS held MiB", rss_held / 1024.0);
    s.push("failed to connect", failed as f64);
    s.push("dropped while held", dropped as f64);
    Ok(s)
}
