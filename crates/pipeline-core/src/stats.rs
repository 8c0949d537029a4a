//! Counters, histograms, metrics-facade handles and the stats snapshot.

use crate::config::Objectives;
use crate::stage::StageKind;
use hdrhistogram::Histogram;
use metrics::{Counter, Gauge, Histogram as MetricHistogram};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const SHARDS: usize = 16;
/// Histograms cover 1 ns .. 1 hour with 2 significant digits.
const MAX_NS: u64 = 3_600_000_000_000;

#[allow(clippy::expect_used)]
fn new_hist() -> Histogram<u64> {
    // Constant, valid bounds (1 <= low, high >= 2 * low, sigfig <= 5): this cannot fail.
    Histogram::new_with_bounds(1, MAX_NS, 2).expect("constant histogram bounds are valid")
}

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    Overloaded,
    DeadlineExceeded,
    StageError,
    ShuttingDown,
    Cancelled,
    Abandoned,
}

impl Outcome {
    const ALL: [Outcome; 7] = [
        Outcome::Ok,
        Outcome::Overloaded,
        Outcome::DeadlineExceeded,
        Outcome::StageError,
        Outcome::ShuttingDown,
        Outcome::Cancelled,
        Outcome::Abandoned,
    ];
    fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Overloaded => "overloaded",
            Outcome::DeadlineExceeded => "deadline_exceeded",
            Outcome::StageError => "stage_error",
            Outcome::ShuttingDown => "shutting_down",
            Outcome::Cancelled => "cancelled",
            Outcome::Abandoned => "abandoned",
        }
    }
    fn is_error(self) -> bool {
        matches!(
            self,
            Outcome::DeadlineExceeded | Outcome::StageError | Outcome::Cancelled
        )
    }
}

struct Shard {
    total: Histogram<u64>,
    window: Histogram<u64>,
}

struct StageSlot {
    name: String,
    kind: StageKind,
    hist: Mutex<Histogram<u64>>,
    metric: MetricHistogram,
}

/// Latency percentiles of a set of requests.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LatencySummary {
    /// Requests measured.
    pub count: u64,
    /// Median.
    pub p50: Duration,
    /// 95th percentile.
    pub p95: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Slowest.
    pub max: Duration,
}

impl LatencySummary {
    fn of(h: &Histogram<u64>) -> Self {
        let q = |p: f64| Duration::from_nanos(h.value_at_quantile(p));
        LatencySummary {
            count: h.len(),
            p50: q(0.50),
            p95: q(0.95),
            p99: q(0.99),
            max: Duration::from_nanos(h.max()),
        }
    }
}

/// Latency of one stage.
#[derive(Debug, Clone, PartialEq)]
pub struct StageStats {
    /// The stage's name.
    pub name: String,
    /// CPU- or I/O-bound.
    pub kind: StageKind,
    /// Its latency (time inside the stage, including the wait for the compute pool).
    pub latency: LatencySummary,
}

/// A snapshot of the engine: outcomes so far, what is in flight, latency and memory.
///
/// Every submission ends in exactly one of the outcome counters, so once nothing is in flight
/// `submitted == succeeded + overloaded + deadline_exceeded + stage_errors +
/// rejected_shutting_down + cancelled + abandoned`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EngineStats {
    /// Requests submitted.
    pub submitted: u64,
    /// Requests that returned a response.
    pub succeeded: u64,
    /// Requests shed at admission (`Overloaded`).
    pub overloaded: u64,
    /// Requests whose deadline passed.
    pub deadline_exceeded: u64,
    /// Requests that ended with a stage's error or panic.
    pub stage_errors: u64,
    /// Requests refused because the engine was shutting down.
    pub rejected_shutting_down: u64,
    /// Admitted requests cancelled by shutdown.
    pub cancelled: u64,
    /// Requests whose caller dropped the `submit` future before it finished.
    pub abandoned: u64,
    /// Admitted requests not yet finished (queued or running).
    pub in_flight: u64,
    /// Requests waiting for a worker.
    pub queue_depth: u64,
    /// CPU jobs waiting for a compute thread.
    pub compute_queue_depth: u64,
    /// Compute threads busy now.
    pub compute_busy: u64,
    /// End-to-end latency of admitted requests (queue wait included).
    pub latency: LatencySummary,
    /// Per-stage latency, in pipeline order.
    pub stages: Vec<StageStats>,
    /// Resident memory of the process, in bytes (0 when it cannot be read).
    pub rss_bytes: u64,
    /// Objective windows that missed a latency or error-rate objective.
    pub slo_violations: u64,
}

/// The resident set size of this process in bytes (Linux `/proc/self/status`; `None`
/// elsewhere).
pub fn process_rss_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = s
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse::<u64>()
        .ok()?;
    Some(kb * 1024)
}

pub(crate) struct Collector {
    counts: [AtomicU64; 7],
    /// Whether any objective is set (otherwise windows are not tracked).
    judging: bool,
    shards: Vec<Mutex<Shard>>,
    stages: Vec<StageSlot>,
    window_total: AtomicU64,
    window_errors: AtomicU64,
    window_end_ns: AtomicU64,
    slo_violations: AtomicU64,
    objectives: Objectives,
    outcome_counters: [Counter; 7],
    latency_metric: MetricHistogram,
    pub(crate) queue_gauge: Gauge,
    pub(crate) in_flight_gauge: Gauge,
    pub(crate) compute_gauge: Gauge,
    slo_latency_counter: Counter,
    slo_error_counter: Counter,
    engine: String,
}

impl Collector {
    pub(crate) fn new(
        engine: &str,
        stages: &[(String, StageKind)],
        objectives: Objectives,
    ) -> Self {
        let e = engine.to_string();
        let outcome_counters = Outcome::ALL.map(|o| {
            metrics::counter!("pipeline_requests_total", "engine" => e.clone(), "outcome" => o.label())
        });
        Collector {
            counts: Default::default(),
            judging: objectives.p99_latency.is_some() || objectives.max_error_rate.is_some(),
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        total: new_hist(),
                        window: new_hist(),
                    })
                })
                .collect(),
            stages: stages
                .iter()
                .map(|(name, kind)| StageSlot {
                    name: name.clone(),
                    kind: *kind,
                    hist: Mutex::new(new_hist()),
                    metric: metrics::histogram!("pipeline_stage_duration_seconds", "engine" => e.clone(), "stage" => name.clone()),
                })
                .collect(),
            window_total: AtomicU64::new(0),
            window_errors: AtomicU64::new(0),
            window_end_ns: AtomicU64::new(duration_ns(objectives.window)),
            slo_violations: AtomicU64::new(0),
            objectives,
            outcome_counters,
            latency_metric: metrics::histogram!("pipeline_request_duration_seconds", "engine" => e.clone()),
            queue_gauge: metrics::gauge!("pipeline_queue_depth", "engine" => e.clone()),
            in_flight_gauge: metrics::gauge!("pipeline_in_flight", "engine" => e.clone()),
            compute_gauge: metrics::gauge!("pipeline_compute_queue_depth", "engine" => e.clone()),
            slo_latency_counter: metrics::counter!("pipeline_slo_violations_total", "engine" => e.clone(), "objective" => "p99_latency"),
            slo_error_counter: metrics::counter!("pipeline_slo_violations_total", "engine" => e.clone(), "objective" => "error_rate"),
            engine: e,
        }
    }

    /// Counts an outcome; for admitted requests also their latency (`latency_ns`).
    pub(crate) fn outcome(&self, o: Outcome, id: u64, latency_ns: Option<u64>, now_ns: u64) {
        let i = o as usize;
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        self.outcome_counters[i].increment(1);
        if let Some(ns) = latency_ns {
            let ns = ns.clamp(1, MAX_NS);
            {
                let mut sh = self.shards[(id as usize) % SHARDS].lock();
                let _ = sh.total.record(ns);
                if self.judging {
                    let _ = sh.window.record(ns);
                }
            }
            self.latency_metric.record(ns as f64 / 1e9);
            if self.judging {
                self.window_total.fetch_add(1, Ordering::Relaxed);
                if o.is_error() {
                    self.window_errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        if !self.judging {
            return;
        }
        let end = self.window_end_ns.load(Ordering::Relaxed);
        if now_ns >= end {
            let next = now_ns + duration_ns(self.objectives.window);
            if self
                .window_end_ns
                .compare_exchange(end, next, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                self.close_window();
            }
        }
    }

    pub(crate) fn stage(&self, index: usize, ns: u64) {
        if let Some(s) = self.stages.get(index) {
            let _ = s.hist.lock().record(ns.clamp(1, MAX_NS));
            s.metric.record(ns as f64 / 1e9);
        }
    }

    fn close_window(&self) {
        let mut merged = new_hist();
        for sh in &self.shards {
            let mut sh = sh.lock();
            let _ = merged.add(&sh.window);
            sh.window.reset();
        }
        let total = self.window_total.swap(0, Ordering::Relaxed);
        let errors = self.window_errors.swap(0, Ordering::Relaxed);
        if total < self.objectives.min_requests.max(1) {
            return;
        }
        if let Some(target) = self.objectives.p99_latency {
            let p99 = Duration::from_nanos(merged.value_at_quantile(0.99));
            if p99 > target {
                self.slo_violations.fetch_add(1, Ordering::Relaxed);
                self.slo_latency_counter.increment(1);
                tracing::warn!(engine = %self.engine, ?p99, ?target, requests = total, "latency objective missed in this window");
            }
        }
        if let Some(max) = self.objectives.max_error_rate {
            let rate = errors as f64 / total as f64;
            if rate > max {
                self.slo_violations.fetch_add(1, Ordering::Relaxed);
                self.slo_error_counter.increment(1);
                tracing::warn!(engine = %self.engine, rate, max, requests = total, "error-rate objective missed in this window");
            }
        }
    }

    pub(crate) fn count(&self, o: Outcome) -> u64 {
        self.counts[o as usize].load(Ordering::Relaxed)
    }

    pub(crate) fn snapshot(&self) -> EngineStats {
        let mut merged = new_hist();
        for sh in &self.shards {
            let _ = merged.add(&sh.lock().total);
        }
        let c = |o| self.count(o);
        EngineStats {
            succeeded: c(Outcome::Ok),
            overloaded: c(Outcome::Overloaded),
            deadline_exceeded: c(Outcome::DeadlineExceeded),
            stage_errors: c(Outcome::StageError),
            rejected_shutting_down: c(Outcome::ShuttingDown),
            cancelled: c(Outcome::Cancelled),
            abandoned: c(Outcome::Abandoned),
            latency: LatencySummary::of(&merged),
            stages: self
                .stages
                .iter()
                .map(|s| StageStats {
                    name: s.name.clone(),
                    kind: s.kind,
                    latency: LatencySummary::of(&s.hist.lock()),
                })
                .collect(),
            rss_bytes: process_rss_bytes().unwrap_or(0),
            slo_violations: self.slo_violations.load(Ordering::Relaxed),
            ..EngineStats::default()
        }
    }
}

pub(crate) fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
