//! `cluster-fanout`: the `fanout` measurement (see [`super::fanout`]) on a
//! cluster: N WebSocket clients spread evenly over 3 nodes sharing one
//! `redis-server`, all in room `r1`, pushes through the push API of the
//! nodes in turn (latency pushes through the first). siogate nodes run
//! `standalone --redis`; the baseline is 3 Node socket.io 4 servers with
//! `@socket.io/redis-adapter` on the same Redis. Each client count is also
//! measured on a single node without Redis in the same invocation, so the
//! cost of the cluster hop shows next to it. Server CPU adds up the nodes
//! and redis-server.
use anyhow::Result;

use super::fanout::{Opts, ROOM, measure};
use super::fleet::{Fleet, Spec};
use super::{Common, TOKEN, compare};
use crate::proc::{self, Server};
use crate::stats::{Report, Sample, Side};

/// Nodes in the cluster runs.
const NODES: usize = 3;

pub async fn run(common: &Common, opts: &Opts) -> Vec<Report> {
    let mut reports = Vec::new();
    for &n in &opts.clients {
        for nodes in [1, NODES] {
            let setup = if nodes == 1 {
                "1 node, no Redis".to_string()
            } else {
                format!("{nodes} nodes + Redis")
            };
            let title = format!(
                "cluster-fanout: {n} WebSocket clients in one room, {setup}, {}-byte pushes ({} runs)",
                opts.payload_bytes, common.runs
            );
            let report = compare(title, common, |side, _| once(common, opts, side, n, nodes)).await;
            println!("{}", report.render());
            reports.push(report);
        }
    }
    reports
}

/// Starts `nodes` servers of `side` (plus Redis when more than one).
fn start(common: &Common, side: Side, nodes: usize) -> Result<Vec<Server>> {
    let p = &common.programs;
    let cpu = common.server_cpu.as_deref();
    if nodes == 1 {
        return Ok(vec![match side {
            Side::Siogate => proc::siogate_standalone(p, cpu, TOKEN)?,
            Side::Node => proc::node(p, cpu, TOKEN)?,
        }]);
    }
    let redis = proc::redis_server(cpu)?;
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let mut servers = vec![redis];
    for _ in 0..nodes {
        servers.push(match side {
            Side::Siogate => proc::siogate_cluster_node(p, cpu, TOKEN, &url)?,
            Side::Node => proc::node_with(p, cpu, TOKEN, Some(&url))?,
        });
    }
    Ok(servers)
}

async fn once(common: &Common, opts: &Opts, side: Side, n: u64, nodes: usize) -> Result<Sample> {
    let mut servers = start(common, side, nodes)?;
    // Redis (if any) comes first; the rest are the nodes clients use.
    let ports: Vec<u16> = servers[servers.len() - nodes..]
        .iter()
        .map(|s| s.port)
        .collect();
    let fleet = Fleet::spawn(Spec {
        transport: opts.transport,
        ports: ports.clone(),
        clients: n,
        room: Some(ROOM),
        concurrency: opts.concurrency,
        sources: common.sources.clone(),
    });
    let server_cpu = || servers.iter().map(Server::cpu_secs).sum::<f64>();
    let result = measure(&fleet, &ports, &common.sources, opts, n, &server_cpu).await;
    let alive: Result<()> = servers.iter_mut().try_for_each(Server::check_alive);
    // Servers first, so their side of each connection holds TIME_WAIT;
    // nodes before Redis, so they do not log its loss.
    while let Some(server) = servers.pop() {
        drop(server);
    }
    fleet.shutdown().await;
    alive?;
    result
}
