//! Shared helpers for the benchmark binaries under `benches/`.
//!
//! Each benchmark is a binary package `bench-NAME` in `benches/NAME/`. `cargo xtask bench` runs it
//! as `cargo run --release -p bench-NAME -- [--quick] --out FILE`; the binary measures our
//! component and the peer a user would otherwise pick in the same run, and writes a JSON array of
//! [`Record`]s to `FILE` (see [`Bench::finish`]). The xtask adds machine, date and command and
//! renders `docs/BENCHMARKS.md`.
//!
//! ```no_run
//! let mut bench = bench_support::Bench::from_args("example");
//! let ours = bench_support::time_per_iter(1000, || std::hint::black_box(1 + 1));
//! let peer = bench_support::time_per_iter(1000, || std::hint::black_box(2 + 2));
//! bench.record(
//!     bench_support::Record::lower_is_better("add", "time per op", "ns", ours.as_nanos() as f64)
//!         .with_peer("std", peer.as_nanos() as f64),
//! );
//! bench.finish();
//! ```

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// One measured figure, with the peer's figure from the same run when there is one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// Benchmark group (the component), filled in by [`Bench::record`].
    #[serde(default)]
    pub group: String,
    /// What was measured, for example `search 1k patterns sparse`.
    pub name: String,
    /// The metric, for example `throughput` or `p99 latency`.
    pub metric: String,
    /// The unit of `value` and `peer_value`, for example `MB/s`.
    pub unit: String,
    /// Our figure.
    pub value: f64,
    /// The peer's name, when one ran beside us.
    pub peer: Option<String>,
    /// The peer's figure in the same unit.
    pub peer_value: Option<f64>,
    /// Ours relative to the peer, oriented so that > 1.0 means we are better.
    pub ratio: Option<f64>,
    /// Whether a larger value is better (throughput) or worse (latency, memory).
    pub higher_is_better: bool,
    /// The target from the issue, as text (for example `>= 0.95x`), when there is one.
    pub target: Option<String>,
    /// Whether the target was met, when there is a target.
    pub target_met: Option<bool>,
    /// Anything a reader needs to interpret the figure.
    pub note: Option<String>,
    /// For charts: the series this point belongs to (for example `p99 latency`).
    #[serde(default)]
    pub series: Option<String>,
    /// For charts: the x value of this point (for example the concurrency or the cache size).
    #[serde(default)]
    pub x: Option<f64>,
}

impl Record {
    fn new(name: &str, metric: &str, unit: &str, value: f64, higher: bool) -> Self {
        Record {
            group: String::new(),
            name: name.into(),
            metric: metric.into(),
            unit: unit.into(),
            value,
            peer: None,
            peer_value: None,
            ratio: None,
            higher_is_better: higher,
            target: None,
            target_met: None,
            note: None,
            series: None,
            x: None,
        }
    }

    /// A figure where more is better (throughput, hit ratio).
    pub fn higher_is_better(name: &str, metric: &str, unit: &str, value: f64) -> Self {
        Self::new(name, metric, unit, value, true)
    }

    /// A figure where less is better (latency, memory).
    pub fn lower_is_better(name: &str, metric: &str, unit: &str, value: f64) -> Self {
        Self::new(name, metric, unit, value, false)
    }

    /// Adds the peer's figure from the same run and computes the ratio (> 1.0: we are better).
    pub fn with_peer(mut self, peer: &str, peer_value: f64) -> Self {
        self.peer = Some(peer.into());
        self.peer_value = Some(peer_value);
        self.ratio = if self.higher_is_better {
            (peer_value > 0.0).then(|| self.value / peer_value)
        } else {
            (self.value > 0.0).then(|| peer_value / self.value)
        };
        self
    }

    /// Records the issue's target and whether it was met.
    pub fn with_target(mut self, target: &str, met: bool) -> Self {
        self.target = Some(target.into());
        self.target_met = Some(met);
        self
    }

    /// Marks the record as a point `x` of a chart line `series` (value against x, with the peer's
    /// line beside it when there is a peer value).
    pub fn with_point(mut self, series: &str, x: f64) -> Self {
        self.series = Some(series.into());
        self.x = Some(x);
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: &str) -> Self {
        self.note = Some(note.into());
        self
    }
}

/// A benchmark run: its arguments and the records it collects.
pub struct Bench {
    group: String,
    /// `--quick`: a smoke run that checks the benchmark works, not its speed.
    pub quick: bool,
    out: Option<PathBuf>,
    records: Vec<Record>,
}

impl Bench {
    /// Reads `--quick` and `--out FILE` from the command line.
    pub fn from_args(group: &str) -> Self {
        let mut quick = false;
        let mut out = None;
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            match a.as_str() {
                "--quick" => quick = true,
                "--out" => out = args.next().map(PathBuf::from),
                "--bench" => {} // passed by `cargo bench`
                other => eprintln!("{group}: ignoring unknown argument {other}"),
            }
        }
        Bench {
            group: group.into(),
            quick,
            out,
            records: Vec::new(),
        }
    }

    /// Adds a record and prints it as a line on stdout.
    pub fn record(&mut self, mut r: Record) {
        r.group = self.group.clone();
        let peer = match (&r.peer, r.peer_value, r.ratio) {
            (Some(p), Some(v), Some(ratio)) => {
                format!("  | {p}: {v:.3} {}  ratio {ratio:.2}x", r.unit)
            }
            _ => String::new(),
        };
        println!(
            "{:<48} {:>14.3} {:<8}{peer}",
            format!("{} / {}", r.name, r.metric),
            r.value,
            r.unit
        );
        self.records.push(r);
    }

    /// Writes the records to `--out` (or stdout as JSON when no file was given).
    pub fn finish(self) {
        let json = serde_json::to_string_pretty(&self.records).unwrap_or_else(|_| "[]".into());
        match self.out {
            Some(path) => {
                if let Err(e) = std::fs::write(&path, json) {
                    eprintln!("{}: cannot write {}: {e}", self.group, path.display());
                    std::process::exit(2);
                }
            }
            None => println!("{json}"),
        }
    }
}

/// Mean wall time per call of `f` over `iters` calls (after a short warm-up).
pub fn time_per_iter<T>(iters: u64, mut f: impl FnMut() -> T) -> Duration {
    for _ in 0..iters.min(100) {
        std::hint::black_box(f());
    }
    let start = Instant::now();
    for _ in 0..iters {
        std::hint::black_box(f());
    }
    Duration::from_secs_f64(start.elapsed().as_secs_f64() / iters.max(1) as f64)
}

/// Best-of-`runs` wall time of `f` (the least disturbed run).
pub fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    (0..runs.max(1))
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// The peak resident set size of this process so far, in bytes (Linux; 0 elsewhere).
pub fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}
