//! siogate's load generator: measures siogate and the Node socket.io 4
//! baseline in the same invocation and prints Markdown tables of medians
//! and ratios (see BENCHMARKS.md for results and commands).
//!
//! ```text
//! cargo build --release --bin siogate
//! cargo bench --bench load -- connect --clients 1000,5000,19900
//! cargo bench --bench load -- fanout --clients 1000,5000
//! cargo bench --bench load -- fanout-polling --clients 1000,5000
//! cargo bench --bench load -- proxy-echo
//! cargo bench --bench load -- cluster-fanout --clients 1000
//! ```
//!
//! It speaks Engine.IO 4 / Socket.IO 5 with its own framing (`frame.rs`)
//! and never links siogate's library, so it cannot share a bug with it.
//! This file only parses flags, prepares the process (open-file limit, CPU
//! pinning), builds the runtime and dispatches.
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

mod client;
mod frame;
mod http1;
mod polling;
mod proc;
mod scenarios;
mod stats;

use scenarios::fleet::Transport;
use scenarios::{Common, cluster, connect, echo, fanout};
use stats::Side;

#[derive(Debug, Parser)]
#[command(name = "load", about = "siogate vs Node socket.io 4 load generator")]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
    #[command(flatten)]
    global: Global,
}

#[derive(Debug, Args)]
struct Global {
    /// Runs per side; the report keeps the median.
    #[arg(long, default_value_t = 3, global = true)]
    runs: usize,
    /// Measure only one side.
    #[arg(long, value_enum, global = true)]
    only: Option<Only>,
    /// The siogate binary (default: `siogate` in this bench's target dir).
    #[arg(long, global = true)]
    siogate: Option<PathBuf>,
    /// Loopback source addresses (127.0.0.2..) whose ports the generator
    /// hands out itself, 64k clients each; 0 = let connect() pick ports
    /// from 127.0.0.1 (slower past ~10k clients, at most ~28k).
    #[arg(long, default_value_t = 1, global = true)]
    src_ips: usize,
    /// Pin the servers with `taskset -c` (proxy-echo default: 0).
    #[arg(long, global = true)]
    server_cpu: Option<String>,
    /// Pin the generator (proxy-echo default: 1).
    #[arg(long, global = true)]
    gen_cpu: Option<String>,
    /// Generator worker threads (default: 2, or 1 when pinned).
    #[arg(long, global = true)]
    threads: Option<usize>,
    /// Open-file limit set for the generator and the servers it starts.
    #[arg(long, default_value_t = 200_000, global = true)]
    nofile: u64,
    /// Measure an already-running `siogate standalone --api-token
    /// bench-token --allow-join-leave` on PORT (RSS needs :PID) instead of
    /// starting one, e.g. under heaptrack or perf.
    #[arg(long, value_name = "PORT[:PID]", global = true, value_parser = parse_attach)]
    attach: Option<(u16, Option<u32>)>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true, global = true)]
    bench: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Only {
    Siogate,
    Node,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Open and hold N WebSocket clients: connections/s, RSS per connection.
    Connect {
        /// Client counts, one measurement each. A server needs a few file
        /// descriptors beyond its clients: with an open-file limit of 20000
        /// (this machine's hard limit), 19900 is the largest count.
        #[arg(long, value_delimiter = ',', default_value = "1000,5000,19900")]
        clients: Vec<u64>,
        /// Handshakes in flight at once.
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
        /// Seconds to hold the clients before measuring RSS.
        #[arg(long, default_value_t = 3)]
        hold_secs: u64,
    },
    /// Push API fan-out to N WebSocket clients in a room.
    Fanout(FanoutArgs),
    /// Push API fan-out to N long-polling clients in a room.
    FanoutPolling(FanoutArgs),
    /// Push API fan-out to N WebSocket clients over 3 nodes sharing a
    /// redis-server (siogate --redis vs Node + @socket.io/redis-adapter),
    /// next to the single-node figure.
    ClusterFanout(FanoutArgs),
    /// Echo with ack through `siogate proxy` vs directly to Node.
    ProxyEcho {
        #[arg(long, default_value_t = 100)]
        clients: u64,
        #[arg(long, default_value_t = 64)]
        payload_bytes: usize,
        #[arg(long, default_value_t = 2)]
        warmup_secs: u64,
        #[arg(long, default_value_t = 8)]
        secs: u64,
        /// Extra idle sessions opened to measure RSS per session.
        #[arg(long, default_value_t = 2000)]
        idle_sessions: u64,
    },
}

#[derive(Debug, Args)]
struct FanoutArgs {
    #[arg(long, value_delimiter = ',', default_value = "1000")]
    clients: Vec<u64>,
    #[arg(long, default_value_t = 128)]
    concurrency: usize,
    /// Pushes sent one at a time for the latency figures.
    #[arg(long, default_value_t = 50)]
    latency_pushes: u64,
    /// Pushes for the deliveries/s figure.
    #[arg(long, default_value_t = 300)]
    pushes: u64,
    /// Pushes in flight at once in the throughput phase.
    #[arg(long, default_value_t = 4)]
    window: u64,
    #[arg(long, default_value_t = 64)]
    payload_bytes: usize,
}

fn main() -> Result<()> {
    // `cargo test --all-targets` runs every bench binary once with no
    // arguments (or `--test`/`--bench`): there is nothing to smoke-test
    // without a scenario, so say so and succeed.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args.iter().all(|a| a == "--test" || a == "--bench") {
        eprintln!("load: no scenario given (run `cargo bench --bench load -- --help`)");
        return Ok(());
    }
    let cli = Cli::parse();
    let g = &cli.global;
    let is_echo = matches!(cli.scenario, Scenario::ProxyEcho { .. });
    let gen_cpu = g.gen_cpu.clone().or_else(|| is_echo.then(|| "1".into()));
    let server_cpu = g.server_cpu.clone().or_else(|| is_echo.then(|| "0".into()));
    match proc::raise_nofile(g.nofile) {
        Ok(n) if n < g.nofile => eprintln!(
            "note: open-file limit is {n} per process (hard limit; raising it needs \
             CAP_SYS_RESOURCE): a server cannot hold more than about {} clients",
            n.saturating_sub(32)
        ),
        Ok(_) => {}
        Err(e) => eprintln!("warning: cannot read or raise the open-file limit: {e:#}"),
    }
    if let Some(cpu) = &gen_cpu {
        proc::pin_self(cpu)?;
    }
    let threads = g.threads.unwrap_or(if gen_cpu.is_some() { 1 } else { 2 });
    let common = Common {
        runs: g.runs.max(1),
        only: g.only.map(|o| match o {
            Only::Siogate => Side::Siogate,
            Only::Node => Side::Node,
        }),
        programs: proc::Programs {
            attach: g.attach,
            ..proc::Programs::locate(g.siogate.clone())?
        },
        sources: Arc::new(client::Sources::new(g.src_ips)),
        server_cpu,
    };
    eprintln!(
        "siogate: {}  node: {}  generator threads: {threads}{}",
        common.programs.siogate.display(),
        common.programs.node_script.display(),
        gen_cpu.map(|c| format!(" on cpu {c}")).unwrap_or_default()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .context("building the runtime")?;
    rt.block_on(dispatch(cli.scenario, &common));
    Ok(())
}

async fn dispatch(scenario: Scenario, common: &Common) {
    match scenario {
        Scenario::Connect {
            clients,
            concurrency,
            hold_secs,
        } => {
            let opts = connect::Opts {
                clients,
                concurrency,
                hold: Duration::from_secs(hold_secs),
            };
            connect::run(common, &opts).await;
        }
        Scenario::Fanout(a) => {
            fanout::run(common, &fanout_opts(a, Transport::WebSocket)).await;
        }
        Scenario::FanoutPolling(a) => {
            fanout::run(common, &fanout_opts(a, Transport::Polling)).await;
        }
        Scenario::ClusterFanout(a) => {
            cluster::run(common, &fanout_opts(a, Transport::WebSocket)).await;
        }
        Scenario::ProxyEcho {
            clients,
            payload_bytes,
            warmup_secs,
            secs,
            idle_sessions,
        } => {
            let opts = echo::Opts {
                clients,
                payload_bytes,
                warmup: Duration::from_secs(warmup_secs),
                measure: Duration::from_secs(secs),
                idle_sessions,
                concurrency: 128,
            };
            echo::run(common, &opts).await;
        }
    }
}

fn parse_attach(s: &str) -> Result<(u16, Option<u32>), String> {
    let (port, pid) = match s.split_once(':') {
        Some((port, pid)) => (port, Some(pid.parse().map_err(|e| format!("pid: {e}"))?)),
        None => (s, None),
    };
    Ok((port.parse().map_err(|e| format!("port: {e}"))?, pid))
}

fn fanout_opts(a: FanoutArgs, transport: Transport) -> fanout::Opts {
    fanout::Opts {
        transport,
        clients: a.clients,
        concurrency: a.concurrency,
        latency_pushes: a.latency_pushes,
        pushes: a.pushes,
        window: a.window,
        payload_bytes: a.payload_bytes,
    }
}
