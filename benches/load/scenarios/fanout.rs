//! `fanout` / `fanout-polling`: N clients join room `r1` (the `join` event),
//! then pushes go through the push API (`POST /api/v1/emit`, bearer token)
//! to that room.
//!
//! Two phases per run:
//! - latency: pushes one at a time; for each, the time from just before the
//!   POST to the moment the *last* client received it (p50/p99);
//! - throughput: `pushes` POSTs from `window` connections, a push starting
//!   only when the one `window` places before it has fully arrived (so
//!   per-session queues stay ≤ `window` deep and a bounded server queue is
//!   not overrun by design); deliveries/s = N × pushes / (last delivery −
//!   first POST). The CPU the server and the generator used in that
//!   phase (in cores) shows which side was the limit.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use bytes::Bytes;
use http::Method;

use super::fleet::{Counters, Fleet, Spec, Transport};
use super::{Common, TOKEN, compare, settle};
use crate::client::Sources;
use crate::frame;
use crate::http1::HttpConn;
use crate::proc;
use crate::stats::{Report, Sample, Side, p50_p99};

pub(super) const ROOM: &str = "r1";
const EMIT: &str = "/api/v1/emit";
/// How long one push may take to reach every client.
const PUSH_DEADLINE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct Opts {
    pub transport: Transport,
    pub clients: Vec<u64>,
    pub concurrency: usize,
    pub latency_pushes: u64,
    pub pushes: u64,
    pub window: u64,
    pub payload_bytes: usize,
}

pub async fn run(common: &Common, opts: &Opts) -> Vec<Report> {
    let mut reports = Vec::new();
    for &n in &opts.clients {
        let kind = match opts.transport {
            Transport::WebSocket => "WebSocket",
            Transport::Polling => "polling",
        };
        let title = format!(
            "fanout: {n} {kind} clients in one room, {}-byte pushes ({} runs)",
            opts.payload_bytes, common.runs
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
    let fleet = Fleet::spawn(Spec {
        transport: opts.transport,
        ports: vec![server.port],
        clients: n,
        room: Some(ROOM),
        concurrency: opts.concurrency,
        sources: common.sources.clone(),
    });
    let server_cpu = || server.cpu_secs();
    let ports = [server.port];
    let result = measure(&fleet, &ports, &common.sources, opts, n, &server_cpu).await;
    let alive = server.check_alive();
    // The server goes first: its side of each connection then holds
    // TIME_WAIT, so the generator's ports are free for the next run.
    drop(server);
    fleet.shutdown().await;
    alive?;
    result
}

/// Both phases against a fleet already spawned on `ports` (one per node);
/// pusher connection i goes to node `i % ports.len()`, latency pushes to
/// the first. With one node the first reply must count every client (a
/// cluster node only counts its own).
pub(super) async fn measure(
    fleet: &Fleet,
    ports: &[u16],
    sources: &Arc<Sources>,
    opts: &Opts,
    n: u64,
    server_cpu: &dyn Fn() -> f64,
) -> Result<Sample> {
    fleet
        .wait_connected(Duration::from_secs(120 + n / 100))
        .await?;
    let c = &fleet.counters;
    if c.failed.load(Ordering::Acquire) > 0 {
        bail!("not every client joined: {}", c.summary());
    }
    settle().await;
    let pad = "x".repeat(opts.payload_bytes);
    let mut pushers = Vec::new();
    for i in 0..opts.window.max(1) as usize {
        pushers.push(HttpConn::connect(ports[i % ports.len()], sources).await?);
    }
    // Latency: one push at a time.
    let mut lat_ms = Vec::new();
    for seq in 0..opts.latency_pushes {
        let target = c.received.load(Ordering::Acquire) + n;
        let t0 = c.now_ns();
        let reply = push(&mut pushers[0], seq, &pad).await?;
        if seq == 0 && ports.len() == 1 && !reply.contains(&format!("\"delivered\":{n}")) {
            bail!("push API answered {reply} for {n} clients");
        }
        c.wait_until(
            |c| c.received.load(Ordering::Acquire) >= target,
            PUSH_DEADLINE,
        )
        .await?;
        let last = c.last_delivery_ns.load(Ordering::Acquire);
        lat_ms.push(last.saturating_sub(t0) as f64 / 1e6);
    }
    let (p50, p99) = p50_p99(&mut lat_ms);
    // Throughput: a window of pushes in flight.
    let (cpu0, gen0, wall0) = (server_cpu(), proc::cpu_secs(None)?, Instant::now());
    let deliveries = throughput(c, pushers, opts, n, &pad).await?;
    let wall = wall0.elapsed().as_secs_f64();
    let server_busy = (server_cpu() - cpu0) / wall;
    let generator_busy = (proc::cpu_secs(None)? - gen0) / wall;
    let dropped = c.dropped.load(Ordering::Acquire);
    if dropped > 0 {
        bail!("clients dropped during the run: {}", c.summary());
    }
    let mut s = Sample::default();
    s.push("deliveries/s", deliveries);
    s.push("last-delivery p50 ms", p50);
    s.push("last-delivery p99 ms", p99);
    // Cores in use (1.0 = one core) during the throughput phase: shows
    // whether the server or the generator was the limit.
    s.push("server CPU (cores)", server_busy);
    s.push("generator CPU (cores)", generator_busy);
    Ok(s)
}

async fn throughput(
    c: &Arc<Counters>,
    pushers: Vec<HttpConn>,
    opts: &Opts,
    n: u64,
    pad: &str,
) -> Result<f64> {
    let base = c.received.load(Ordering::Acquire);
    let total = opts.pushes;
    let window = pushers.len() as u64;
    let next = Arc::new(AtomicU64::new(0));
    let t0 = c.now_ns();
    let mut workers = tokio::task::JoinSet::new();
    for mut conn in pushers {
        let (c, next, pad) = (c.clone(), next.clone(), pad.to_string());
        workers.spawn(async move {
            loop {
                let k = next.fetch_add(1, Ordering::AcqRel);
                if k >= total {
                    return anyhow::Ok(());
                }
                // Push k waits for push k - window to be fully delivered.
                let need = base + n * (k + 1).saturating_sub(window);
                c.wait_until(
                    |c| c.received.load(Ordering::Acquire) >= need,
                    PUSH_DEADLINE,
                )
                .await?;
                push(&mut conn, 1_000_000 + k, &pad).await?;
            }
        });
    }
    while let Some(r) = workers.join_next().await {
        r??;
    }
    let target = base + n * total;
    c.wait_until(
        |c| c.received.load(Ordering::Acquire) >= target,
        PUSH_DEADLINE,
    )
    .await?;
    let last = c.last_delivery_ns.load(Ordering::Acquire);
    let secs = last.saturating_sub(t0) as f64 / 1e9;
    Ok((n * total) as f64 / secs)
}

/// One `POST /api/v1/emit` of `news` {seq, pad} to the room; the reply body.
async fn push(conn: &mut HttpConn, seq: u64, pad: &str) -> Result<String> {
    let args = format!(r#"{{"seq":{seq},"pad":"{pad}"}}"#);
    let body = Bytes::from(frame::emit_body(ROOM, &args));
    let reply = conn.ok(Method::POST, EMIT, Some(TOKEN), body).await?;
    Ok(String::from_utf8_lossy(&reply).into_owned())
}
