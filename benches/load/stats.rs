//! Numbers for the load generator: percentiles of latency samples, medians
//! over repeated runs, and the report that puts the system under test next
//! to its Node baseline from the same invocation.
//!
//! Every scenario run yields a [`Sample`] (named values). A [`Report`]
//! collects the samples of each side over the runs and prints one Markdown
//! table: the median per metric and side, the ratio siogate / Node, and the
//! individual runs so the spread stays visible on a noisy machine.
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Which server a run measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    /// The system under test.
    Siogate,
    /// Node socket.io 4 (the baseline).
    Node,
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Side::Siogate => "siogate",
            Side::Node => "node",
        }
    }
}

/// The named values one run produced, in the order they should print.
#[derive(Debug, Default, Clone)]
pub struct Sample(pub Vec<(&'static str, f64)>);

impl Sample {
    pub fn push(&mut self, name: &'static str, value: f64) {
        self.0.push((name, value));
    }
}

/// Median of `values` (the mean of the two middle values for an even
/// count); NaN for an empty slice.
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// Nearest-rank percentile `p` (0..=100) of an ascending slice; NaN when
/// empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Sorts latency samples in place and returns (p50, p99).
pub fn p50_p99(samples: &mut [f64]) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    (percentile(samples, 50.0), percentile(samples, 99.0))
}

/// Samples per side and metric over the runs of one scenario setting.
#[derive(Debug)]
pub struct Report {
    title: String,
    /// Metric names in first-seen order.
    order: Vec<&'static str>,
    values: BTreeMap<(Side, &'static str), Vec<f64>>,
    /// Runs that failed, with the reason, per side.
    failures: Vec<(Side, String)>,
}

impl Report {
    pub fn new(title: impl Into<String>) -> Self {
        Report {
            title: title.into(),
            order: Vec::new(),
            values: BTreeMap::new(),
            failures: Vec::new(),
        }
    }

    pub fn add(&mut self, side: Side, sample: &Sample) {
        for &(name, value) in &sample.0 {
            if !self.order.contains(&name) {
                self.order.push(name);
            }
            self.values.entry((side, name)).or_default().push(value);
        }
    }

    pub fn fail(&mut self, side: Side, why: String) {
        self.failures.push((side, why));
    }

    /// Median of one metric for one side (NaN when absent).
    pub fn median_of(&self, side: Side, name: &str) -> f64 {
        self.values
            .iter()
            .find(|((s, n), _)| *s == side && *n == name)
            .map_or(f64::NAN, |(_, v)| median(v))
    }

    /// The Markdown table: metric | siogate median | node median | ratio |
    /// runs of each side.
    pub fn render(&self) -> String {
        let mut out = format!("### {}\n\n", self.title);
        out.push_str("| metric | siogate (median) | node (median) | siogate / node | siogate runs | node runs |\n");
        out.push_str("|---|---:|---:|---:|---|---|\n");
        for &name in &self.order {
            let s = self.median_of(Side::Siogate, name);
            let n = self.median_of(Side::Node, name);
            let runs = |side| {
                self.values
                    .get(&(side, name))
                    .map(|v| v.iter().map(|x| fmt(*x)).collect::<Vec<_>>().join(", "))
                    .unwrap_or_default()
            };
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {} | {} | {} |",
                fmt(s),
                fmt(n),
                ratio(s, n),
                runs(Side::Siogate),
                runs(Side::Node)
            );
        }
        for (side, why) in &self.failures {
            let _ = writeln!(out, "\n- {} run failed: {why}", side.name());
        }
        out
    }
}

fn ratio(a: f64, b: f64) -> String {
    if a.is_nan() || b.is_nan() || b == 0.0 {
        "–".into()
    } else {
        format!("{:.2}×", a / b)
    }
}

/// Three significant digits, or a dash for a missing value.
pub fn fmt(x: f64) -> String {
    if x.is_nan() {
        "–".into()
    } else if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}
