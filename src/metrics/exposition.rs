//! The Prometheus text exposition format, version 0.0.4: `# HELP` and
//! `# TYPE` once per family, then one `name{labels} value` line per sample.
//! Built at scrape time (allocation is fine here, never on the data path).
//! Families are kept in first-seen order, and samples added under a name
//! already seen join that family, so several collectors (two proxies in one
//! test process) still produce a valid exposition.
use std::fmt::Write as _;

use super::family::{CounterVec, GaugeVec, LabelSet};
use super::histogram::Histogram;

/// The `Content-Type` of the exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

struct Family {
    name: &'static str,
    help: &'static str,
    kind: Kind,
    samples: String,
}

/// An exposition being built.
#[derive(Default)]
pub struct Exposition {
    families: Vec<Family>,
}

impl Exposition {
    fn family(&mut self, name: &'static str, help: &'static str, kind: Kind) -> &mut String {
        let i = match self.families.iter().position(|f| f.name == name) {
            Some(i) => i,
            None => {
                self.families.push(Family {
                    name,
                    help,
                    kind,
                    samples: String::new(),
                });
                self.families.len() - 1
            }
        };
        &mut self.families[i].samples
    }

    /// One sample with labels given at run time (`("upstream", url)`);
    /// values are escaped.
    pub fn sample(
        &mut self,
        name: &'static str,
        help: &'static str,
        kind: Kind,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        let out = self.family(name, help, kind);
        write_series(out, name, "", labels, None);
        let _ = writeln!(out, " {value}");
    }

    /// A histogram with labels given at run time: `name_bucket{…,le=…}`
    /// (cumulative, `+Inf` last), `name_sum` and `name_count`.
    pub fn histogram(
        &mut self,
        name: &'static str,
        help: &'static str,
        labels: &[(&str, &str)],
        h: &Histogram,
    ) {
        let snap = h.snapshot();
        let out = self.family(name, help, Kind::Histogram);
        for (le, n) in &snap.cumulative {
            let le = if le.is_infinite() {
                "+Inf".to_string()
            } else {
                le.to_string()
            };
            write_series(out, name, "_bucket", labels, Some(("le", &le)));
            let _ = writeln!(out, " {n}");
        }
        write_series(out, name, "_sum", labels, None);
        let _ = writeln!(out, " {}", snap.sum_seconds);
        write_series(out, name, "_count", labels, None);
        let _ = writeln!(out, " {}", snap.count);
    }

    /// A counter without labels.
    pub fn counter(&mut self, name: &'static str, help: &'static str, value: u64) {
        let out = self.family(name, help, Kind::Counter);
        let _ = writeln!(out, "{name} {value}");
    }

    /// A gauge without labels.
    pub fn gauge(&mut self, name: &'static str, help: &'static str, value: i64) {
        let out = self.family(name, help, Kind::Gauge);
        let _ = writeln!(out, "{name} {value}");
    }

    /// Every slot of a labelled counter family, with `extra` (a constant
    /// label such as the mode) prepended to each label set.
    pub fn counter_vec<L: LabelSet>(
        &mut self,
        name: &'static str,
        help: &'static str,
        extra: Option<(&str, &str)>,
        v: &CounterVec<L>,
    ) {
        let out = self.family(name, help, Kind::Counter);
        for (slot, value) in v.values() {
            write_labelled::<L>(out, name, extra, slot);
            let _ = writeln!(out, " {value}");
        }
    }

    /// Every slot of a labelled gauge family (see [`Self::counter_vec`]).
    pub fn gauge_vec<L: LabelSet>(
        &mut self,
        name: &'static str,
        help: &'static str,
        extra: Option<(&str, &str)>,
        v: &GaugeVec<L>,
    ) {
        let out = self.family(name, help, Kind::Gauge);
        for (slot, value) in v.values() {
            write_labelled::<L>(out, name, extra, slot);
            let _ = writeln!(out, " {value}");
        }
    }

    /// The finished text.
    pub fn finish(self) -> String {
        let mut text = String::new();
        for f in self.families {
            let _ = writeln!(text, "# HELP {} {}", f.name, f.help);
            let _ = writeln!(text, "# TYPE {} {}", f.name, f.kind.as_str());
            text.push_str(&f.samples);
        }
        text
    }
}

fn write_labelled<L: LabelSet>(
    out: &mut String,
    name: &str,
    extra: Option<(&str, &str)>,
    slot: usize,
) {
    out.push_str(name);
    out.push('{');
    if let Some((k, v)) = extra {
        let _ = write!(out, "{k}=\"");
        escape_into(v, out);
        out.push_str("\",");
    }
    L::write_pairs(slot, out);
    out.push('}');
}

/// `name` + `suffix` and the run-time labels (escaped), `extra` last.
fn write_series(
    out: &mut String,
    name: &str,
    suffix: &str,
    labels: &[(&str, &str)],
    extra: Option<(&str, &str)>,
) {
    out.push_str(name);
    out.push_str(suffix);
    let mut pairs = labels.iter().copied().chain(extra).peekable();
    if pairs.peek().is_none() {
        return;
    }
    out.push('{');
    for (i, (k, v)) in pairs.enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{k}=\"");
        escape_into(v, out);
        out.push('"');
    }
    out.push('}');
}

/// Label value escaping: backslash, double quote and newline.
fn escape_into(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::labels::Queue;
    use std::time::Duration;

    #[test]
    fn families_are_written_once_with_help_and_type() {
        let mut e = Exposition::default();
        e.sample(
            "up",
            "Is it up.",
            Kind::Gauge,
            &[("upstream", "ws://a\"b\\")],
            1.0,
        );
        let v: CounterVec<Queue> = CounterVec::default();
        v.inc(Queue::Upstream);
        e.counter_vec("q_total", "Overflows.", Some(("mode", "proxy")), &v);
        e.sample(
            "up",
            "Is it up.",
            Kind::Gauge,
            &[("upstream", "ws://c")],
            0.0,
        );
        e.counter("plain_total", "Plain.", 7);
        assert_eq!(
            e.finish(),
            "# HELP up Is it up.\n# TYPE up gauge\nup{upstream=\"ws://a\\\"b\\\\\"} 1\nup{upstream=\"ws://c\"} 0\n\
             # HELP q_total Overflows.\n# TYPE q_total counter\n\
             q_total{mode=\"proxy\",queue=\"client\"} 0\nq_total{mode=\"proxy\",queue=\"upstream\"} 1\n\
             # HELP plain_total Plain.\n# TYPE plain_total counter\nplain_total 7\n"
        );
    }

    #[test]
    fn a_histogram_has_cumulative_buckets_sum_and_count() {
        let h = Histogram::default();
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(20));
        let mut e = Exposition::default();
        e.histogram("hs_seconds", "Handshakes.", &[("upstream", "ws://a")], &h);
        let text = e.finish();
        assert!(text.starts_with("# HELP hs_seconds Handshakes.\n# TYPE hs_seconds histogram\n"));
        let lines: Vec<&str> = text.lines().skip(2).collect();
        assert_eq!(
            lines.len(),
            super::super::histogram::DURATION_BUCKETS.len() + 3
        );
        assert_eq!(
            lines[0],
            "hs_seconds_bucket{upstream=\"ws://a\",le=\"0.001\"} 0"
        );
        assert_eq!(
            lines[2],
            "hs_seconds_bucket{upstream=\"ws://a\",le=\"0.005\"} 1"
        );
        assert_eq!(
            lines[9],
            "hs_seconds_bucket{upstream=\"ws://a\",le=\"10\"} 1"
        );
        assert_eq!(
            lines[10],
            "hs_seconds_bucket{upstream=\"ws://a\",le=\"+Inf\"} 2"
        );
        assert_eq!(lines[11], "hs_seconds_sum{upstream=\"ws://a\"} 20.003");
        assert_eq!(lines[12], "hs_seconds_count{upstream=\"ws://a\"} 2");
    }
}
