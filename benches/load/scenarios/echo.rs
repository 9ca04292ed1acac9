//! `proxy-echo`: echo-with-ack round trips (`42<id>["echo","<payload>"]` →
//! `43<id>[...]`) from C clients, each with one request outstanding,
//! through `siogate proxy --flavor v4` in front of the Node socket.io 4
//! bench server, versus directly to the same kind of Node server. The
//! servers run on `server_cpu`, the generator on another core (set up in
//! `main`).
//!
//! Reported: round trips/s over the measured window (after a warm-up),
//! round-trip p50/p99, and the proxy's RSS per session measured by opening
//! `idle_sessions` more sessions on top of the echo clients (Node's own
//! per-session RSS on the direct side).
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::task::JoinSet;

use super::fleet::{Fleet, Spec, Transport};
use super::{Common, TOKEN, compare, settle};
use crate::client::{Incoming, Sources, WsClient};
use crate::frame;
use crate::proc;
use crate::stats::{Report, Sample, Side, p50_p99};

const WARMUP: u8 = 0;
const MEASURE: u8 = 1;
const STOP: u8 = 2;

#[derive(Debug, Clone)]
pub struct Opts {
    pub clients: u64,
    pub payload_bytes: usize,
    pub warmup: Duration,
    pub measure: Duration,
    pub idle_sessions: u64,
    pub concurrency: usize,
}

pub async fn run(common: &Common, opts: &Opts) -> Report {
    let title = format!(
        "proxy-echo: {} clients, {}-byte echo with ack, siogate proxy vs direct to Node socket.io 4 ({} runs)",
        opts.clients, opts.payload_bytes, common.runs
    );
    let report = compare(title, common, |side, _| once(common, opts, side)).await;
    println!("{}", report.render());
    let (s, n) = (Side::Siogate, Side::Node);
    println!(
        "throughput ratio proxied/direct: {}; added latency p50 {} µs, p99 {} µs\n",
        crate::stats::fmt(
            report.median_of(s, "round trips/s") / report.median_of(n, "round trips/s")
        ),
        crate::stats::fmt(report.median_of(s, "p50 µs") - report.median_of(n, "p50 µs")),
        crate::stats::fmt(report.median_of(s, "p99 µs") - report.median_of(n, "p99 µs")),
    );
    report
}

async fn once(common: &Common, opts: &Opts, side: Side) -> Result<Sample> {
    let cpu = common.server_cpu.as_deref();
    let mut node = proc::node(&common.programs, cpu, TOKEN)?;
    let mut proxy = match side {
        Side::Siogate => Some(proc::siogate_proxy(&common.programs, cpu, node.port)?),
        Side::Node => None,
    };
    // The process whose memory per session is reported.
    let port = proxy.as_ref().map_or(node.port, |p| p.port);
    settle().await;
    let clients = connect_all(port, opts.clients, &common.sources).await?;
    let servers_cpu = || node.cpu_secs() + proxy.as_ref().map_or(0.0, |p| p.cpu_secs());
    let (round_trips, secs, mut lat_us, busy) = echo(clients, opts, &servers_cpu).await?;
    let (p50, p99) = p50_p99(&mut lat_us);
    let measured = proxy.as_mut().unwrap_or(&mut node);
    measured.check_alive()?;
    let rss_before = measured.rss_kib()?;
    let fleet = Fleet::spawn(Spec {
        transport: Transport::WebSocket,
        ports: vec![port],
        clients: opts.idle_sessions,
        room: None,
        concurrency: opts.concurrency,
        sources: common.sources.clone(),
    });
    let idle = fleet.wait_connected(Duration::from_secs(120)).await;
    settle().await;
    let rss_after = measured.rss_kib()?;
    let connected = fleet.counters.connected.load(Ordering::Acquire);
    let summary = fleet.counters.summary();
    let alive = node.check_alive();
    // Servers first: their side of each connection then holds TIME_WAIT,
    // so the generator's ports are free for the next run at once.
    drop((proxy, node));
    fleet.shutdown().await;
    alive?;
    idle?;
    if connected < opts.idle_sessions {
        bail!("idle sessions: {summary}");
    }
    let mut s = Sample::default();
    s.push("round trips/s", round_trips as f64 / secs);
    s.push("p50 µs", p50);
    s.push("p99 µs", p99);
    s.push("servers' core busy %", busy.servers * 100.0);
    s.push("generator busy %", busy.generator * 100.0);
    s.push(
        "RSS KiB / session (proxy; node direct)",
        (rss_after - rss_before) / connected.max(1) as f64,
    );
    Ok(s)
}

async fn connect_all(port: u16, n: u64, sources: &Arc<Sources>) -> Result<Vec<WsClient>> {
    let mut set = JoinSet::new();
    for _ in 0..n {
        let sources = sources.clone();
        set.spawn(async move {
            tokio::time::timeout(Duration::from_secs(30), WsClient::connect(port, &sources))
                .await
                .context("connect timed out")?
        });
    }
    let mut clients = Vec::with_capacity(n as usize);
    while let Some(r) = set.join_next().await {
        clients.push(r??);
    }
    Ok(clients)
}

/// Share of one core used during the window by the servers (together) and
/// by the generator: shows which side was saturated.
struct Busy {
    servers: f64,
    generator: f64,
}

/// Runs the closed loops; returns (round trips in the window, window
/// seconds, latencies in µs of those round trips, CPU use in the window).
/// `servers_cpu` reads the servers' CPU seconds so far.
async fn echo(
    clients: Vec<WsClient>,
    opts: &Opts,
    servers_cpu: &dyn Fn() -> f64,
) -> Result<(u64, f64, Vec<f64>, Busy)> {
    let phase = Arc::new(AtomicU8::new(WARMUP));
    let payload = format!("\"{}\"", "a".repeat(opts.payload_bytes));
    let mut set = JoinSet::new();
    for client in clients {
        set.spawn(client_loop(client, phase.clone(), payload.clone()));
    }
    tokio::time::sleep(opts.warmup).await;
    phase.store(MEASURE, Ordering::Release);
    let start = Instant::now();
    let (servers0, gen0) = (servers_cpu(), proc::cpu_secs(None)?);
    tokio::time::sleep(opts.measure).await;
    phase.store(STOP, Ordering::Release);
    let secs = start.elapsed().as_secs_f64();
    let busy = Busy {
        servers: (servers_cpu() - servers0) / secs,
        generator: (proc::cpu_secs(None)? - gen0) / secs,
    };
    let mut total = 0;
    let mut lat = Vec::new();
    while let Some(r) = set.join_next().await {
        let (count, mut l) = r??;
        total += count;
        lat.append(&mut l);
    }
    Ok((total, secs, lat, busy))
}

/// One request outstanding at a time; counts the round trips that both
/// started and ended inside the measured window.
async fn client_loop(
    mut client: WsClient,
    phase: Arc<AtomicU8>,
    payload: String,
) -> Result<(u64, Vec<f64>)> {
    let mut lat = Vec::with_capacity(4096);
    let mut id: u64 = 0;
    loop {
        let at_send = phase.load(Ordering::Acquire);
        if at_send == STOP {
            break;
        }
        id += 1;
        let t = Instant::now();
        client
            .send(frame::event(Some(id), "echo", &payload))
            .await?;
        let reply = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Incoming::Ack { id: got, text } = client.next().await?
                    && got == id
                {
                    return anyhow::Ok(text);
                }
            }
        })
        .await
        .context("echo ack timed out")??;
        if reply.len() < payload.len() {
            bail!("short echo reply {reply}");
        }
        if at_send == MEASURE && phase.load(Ordering::Acquire) == MEASURE {
            lat.push(t.elapsed().as_nanos() as f64 / 1e3);
        }
    }
    client.close().await;
    Ok((lat.len() as u64, lat))
}
