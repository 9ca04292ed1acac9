//! The scenarios and the loop they share: every run measures siogate and
//! the Node baseline back to back (alternating which goes first), each on
//! a fresh server process, and the report keeps the median of the runs.
//!
//! - [`connect`]: open and hold N WebSocket clients.
//! - [`fanout`]: pushes through the push API to N clients in a room, over
//!   WebSocket or long-polling.
//! - [`cluster`]: the fanout measurement over 3 nodes sharing a Redis,
//!   against Node socket.io with `@socket.io/redis-adapter`.
//! - [`echo`]: echo-with-ack round trips through `siogate proxy` vs
//!   directly to the Node upstream.
use std::future::Future;
use std::sync::Arc;

use anyhow::Result;

use crate::client::Sources;
use crate::proc::Programs;
use crate::stats::{Report, Sample, Side};

pub mod cluster;
pub mod connect;
pub mod echo;
pub mod fanout;
pub mod fleet;

/// The push API token both servers are started with.
pub const TOKEN: &str = "bench-token";

/// Settings every scenario uses.
#[derive(Debug, Clone)]
pub struct Common {
    pub runs: usize,
    pub only: Option<Side>,
    pub programs: Programs,
    pub sources: Arc<Sources>,
    /// `taskset -c` list for the servers, if pinned.
    pub server_cpu: Option<String>,
}

/// Runs `once(side, run)` for both sides `common.runs` times and collects
/// the samples. When siogate cannot start (e.g. a build where the mode is
/// not wired yet) its failure is recorded once and Node still runs.
pub async fn compare<F, Fut>(title: String, common: &Common, mut once: F) -> Report
where
    F: FnMut(Side, usize) -> Fut,
    Fut: Future<Output = Result<Sample>>,
{
    let mut report = Report::new(title);
    let mut skip_siogate = common.only == Some(Side::Node);
    let skip_node = common.only == Some(Side::Siogate);
    for run in 0..common.runs {
        let order = if run % 2 == 0 {
            [Side::Siogate, Side::Node]
        } else {
            [Side::Node, Side::Siogate]
        };
        for side in order {
            if (side == Side::Siogate && skip_siogate) || (side == Side::Node && skip_node) {
                continue;
            }
            eprintln!("run {}/{} {}", run + 1, common.runs, side.name());
            match once(side, run).await {
                Ok(sample) => {
                    eprintln!("  {}", line(&sample));
                    report.add(side, &sample);
                }
                Err(e) => {
                    let why = format!("{e:#}");
                    eprintln!("  failed: {why}");
                    if side == Side::Siogate && why.contains("not available") {
                        skip_siogate = true;
                    }
                    report.fail(side, format!("run {}: {why}", run + 1));
                }
            }
        }
    }
    report
}

fn line(sample: &Sample) -> String {
    sample
        .0
        .iter()
        .map(|(k, v)| format!("{k}={}", crate::stats::fmt(*v)))
        .collect::<Vec<_>>()
        .join("  ")
}

/// Lets RSS and the server's timers settle after a burst.
pub async fn settle() {
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
}
