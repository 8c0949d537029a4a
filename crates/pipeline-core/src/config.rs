//! Engine configuration: plain structs with defaults, presets, auto-configuration from the
//! machine, a TOML file and `PIPELINE_*` environment variables.

use crate::error::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// A starting point for the configuration, scaled to the machine's cores and memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Few workers, one or two compute threads, sheds early: a small footprint beside other
    /// programs.
    Minimal,
    /// The default: workers for I/O-heavy pipelines, one compute thread per core, sheds at
    /// half of the machine's memory.
    #[default]
    Balanced,
    /// Many workers, a deep queue, sheds late: a machine dedicated to the pipeline.
    Aggressive,
}

impl std::str::FromStr for Preset {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "minimal" => Ok(Preset::Minimal),
            "balanced" => Ok(Preset::Balanced),
            "aggressive" => Ok(Preset::Aggressive),
            other => Err(Error::Invalid(format!(
                "unknown preset {other:?} (expected minimal, balanced or aggressive)"
            ))),
        }
    }
}

/// What the machine offers: cores and memory (the cgroup limit when it is lower).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MachineResources {
    /// CPU cores available to this process.
    pub cores: usize,
    /// Memory available to this process, in bytes.
    pub memory_bytes: u64,
}

impl MachineResources {
    /// Reads the machine: `available_parallelism` for cores, `/proc/meminfo` and the cgroup v2
    /// `memory.max` for memory (4 GiB when neither can be read).
    pub fn detect() -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let total = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("MemTotal:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            })
            .map(|kb| kb * 1024);
        let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok());
        let memory_bytes = match (total, cgroup) {
            (Some(t), Some(c)) => t.min(c),
            (Some(t), None) => t,
            (None, Some(c)) => c,
            (None, None) => 4 << 30,
        };
        MachineResources {
            cores,
            memory_bytes,
        }
    }
}

/// When admission slows down and then sheds, by process memory and compute-pool backlog.
#[derive(Debug, Clone, PartialEq)]
pub struct AdmissionConfig {
    /// Resident memory above which admission slows (non-critical requests wait `slow_delay`).
    pub memory_soft_bytes: Option<u64>,
    /// Resident memory above which non-critical requests are shed with `Overloaded`.
    pub memory_hard_bytes: Option<u64>,
    /// Compute-pool backlog (queued CPU jobs) above which admission slows.
    pub compute_queue_soft: Option<usize>,
    /// Compute-pool backlog above which non-critical requests are shed.
    pub compute_queue_hard: Option<usize>,
    /// How long a request waits before entering the queue while the engine is under soft
    /// pressure.
    pub slow_delay: Duration,
    /// How often process memory is sampled (read lazily on submission, never more often).
    pub sample_interval: Duration,
}

impl Default for AdmissionConfig {
    fn default() -> Self {
        AdmissionConfig {
            memory_soft_bytes: None,
            memory_hard_bytes: None,
            compute_queue_soft: None,
            compute_queue_hard: None,
            slow_delay: Duration::from_millis(2),
            sample_interval: Duration::from_millis(100),
        }
    }
}

/// Latency and error-rate objectives; each window that misses one logs a warning and counts an
/// alert (`pipeline_slo_violations_total`, [`EngineStats::slo_violations`](crate::EngineStats)).
#[derive(Debug, Clone, PartialEq)]
pub struct Objectives {
    /// The p99 latency a window must stay under.
    pub p99_latency: Option<Duration>,
    /// The share of requests (0.0..=1.0) that may end in an error other than `Overloaded`.
    pub max_error_rate: Option<f64>,
    /// Length of an evaluation window.
    pub window: Duration,
    /// Windows with fewer requests are not judged.
    pub min_requests: u64,
}

impl Default for Objectives {
    fn default() -> Self {
        Objectives {
            p99_latency: None,
            max_error_rate: None,
            window: Duration::from_secs(10),
            min_requests: 100,
        }
    }
}

/// Everything the [`Engine`](crate::Engine) needs. `Default` is the balanced preset for this
/// machine.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// Requests that run their stages at the same time (async workers).
    pub workers: usize,
    /// Requests that may wait for a worker; beyond it submissions are shed at once.
    pub queue_capacity: usize,
    /// Threads of the compute pool for CPU-bound stages.
    pub compute_threads: usize,
    /// How fast waiting requests gain priority: a request competes as if it had arrived
    /// `rank * aging` later (rank 0 for `Critical` to 3 for `Low`).
    pub aging: Duration,
    /// Deadline for requests submitted without one (`None`: no deadline).
    pub default_timeout: Option<Duration>,
    /// Resource-aware admission thresholds.
    pub admission: AdmissionConfig,
    /// Latency and error-rate objectives.
    pub objectives: Objectives,
    /// Per-stage concurrency limits, by stage name.
    pub stage_limits: BTreeMap<String, usize>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self::auto()
    }
}

impl EngineConfig {
    /// The balanced preset for the detected machine.
    pub fn auto() -> Self {
        Self::preset(Preset::Balanced, MachineResources::detect())
    }

    /// A preset scaled to `machine`.
    pub fn preset(preset: Preset, machine: MachineResources) -> Self {
        let c = machine.cores.max(1);
        let m = machine.memory_bytes;
        let pct = |p: u64| Some(m / 100 * p);
        let (workers, queue, threads, soft, hard, cq_soft, cq_hard) = match preset {
            Preset::Minimal => {
                let t = (c / 2).max(1);
                (2 * c, 128 * c, t, pct(25), pct(40), 4 * t, 16 * t)
            }
            Preset::Balanced => (64 * c, 1024 * c, c, pct(50), pct(70), 32 * c, 128 * c),
            Preset::Aggressive => (256 * c, 4096 * c, c, pct(70), pct(85), 128 * c, 1024 * c),
        };
        EngineConfig {
            workers,
            queue_capacity: queue,
            compute_threads: threads,
            aging: Duration::from_millis(100),
            default_timeout: None,
            admission: AdmissionConfig {
                memory_soft_bytes: soft,
                memory_hard_bytes: hard,
                compute_queue_soft: Some(cq_soft),
                compute_queue_hard: Some(cq_hard),
                ..AdmissionConfig::default()
            },
            objectives: Objectives::default(),
            stage_limits: BTreeMap::new(),
        }
    }

    /// Auto-configuration, then the TOML file at `path` (when given; otherwise the file named
    /// by `PIPELINE_CONFIG`, if set), then `PIPELINE_*` environment variables: each layer
    /// overrides the one before.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let from_env = std::env::var_os("PIPELINE_CONFIG").map(std::path::PathBuf::from);
        let path = path.or(from_env.as_deref());
        let file = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| Error::Config {
                    path: p.display().to_string(),
                    message: e.to_string(),
                })?;
                Some((p.display().to_string(), text))
            }
            None => None,
        };
        Self::resolve(
            MachineResources::detect(),
            file.as_ref().map(|(p, t)| (p.as_str(), t.as_str())),
            std::env::vars(),
        )
    }

    /// The pure form of [`load`](Self::load): `machine`, then an optional `(name, toml text)`,
    /// then the given environment variables (only `PIPELINE_*` ones are read).
    pub fn resolve(
        machine: MachineResources,
        file: Option<(&str, &str)>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self> {
        let file_overlay = match file {
            Some((name, text)) => toml::from_str::<Overlay>(text).map_err(|e| Error::Config {
                path: name.to_string(),
                message: e.to_string(),
            })?,
            None => Overlay::default(),
        };
        let env_overlay = Overlay::from_env(env)?;
        let preset = env_overlay
            .preset
            .or(file_overlay.preset)
            .unwrap_or_default();
        let mut cfg = Self::preset(preset, machine);
        file_overlay.apply(&mut cfg);
        env_overlay.apply(&mut cfg);
        cfg.validate()?;
        Ok(cfg)
    }

    /// Parses a TOML document over the balanced preset for this machine.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        Self::resolve(
            MachineResources::detect(),
            Some(("<toml>", text)),
            std::iter::empty(),
        )
    }

    /// Checks the values make sense.
    pub fn validate(&self) -> Result<()> {
        if self.workers == 0 {
            return Err(Error::Invalid("workers must be at least 1".into()));
        }
        if self.compute_threads == 0 {
            return Err(Error::Invalid("compute_threads must be at least 1".into()));
        }
        if self.objectives.window.is_zero() {
            return Err(Error::Invalid("objectives.window must be positive".into()));
        }
        if let Some(r) = self.objectives.max_error_rate {
            if !(0.0..=1.0).contains(&r) {
                return Err(Error::Invalid(format!(
                    "objectives.max_error_rate must be within 0..=1, got {r}"
                )));
            }
        }
        if let (Some(s), Some(h)) = (
            self.admission.memory_soft_bytes,
            self.admission.memory_hard_bytes,
        ) {
            if s > h {
                return Err(Error::Invalid(
                    "admission.memory_soft must not exceed memory_hard".into(),
                ));
            }
        }
        if let Some((name, _)) = self.stage_limits.iter().find(|(_, &n)| n == 0) {
            return Err(Error::Invalid(format!(
                "stage limit for {name} must be at least 1"
            )));
        }
        Ok(())
    }
}

/// The optional fields of a config file or the environment.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Overlay {
    preset: Option<Preset>,
    workers: Option<usize>,
    queue_capacity: Option<usize>,
    compute_threads: Option<usize>,
    aging_ms: Option<u64>,
    default_timeout_ms: Option<u64>,
    #[serde(default)]
    admission: AdmissionOverlay,
    #[serde(default)]
    objectives: ObjectivesOverlay,
    #[serde(default)]
    stage_limits: BTreeMap<String, usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdmissionOverlay {
    memory_soft_mb: Option<u64>,
    memory_hard_mb: Option<u64>,
    compute_queue_soft: Option<usize>,
    compute_queue_hard: Option<usize>,
    slow_delay_ms: Option<u64>,
    sample_interval_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ObjectivesOverlay {
    p99_latency_ms: Option<u64>,
    max_error_rate: Option<f64>,
    window_ms: Option<u64>,
    min_requests: Option<u64>,
}

fn parse_env<T: std::str::FromStr>(key: &str, value: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    value.trim().parse::<T>().map_err(|e| Error::Config {
        path: "environment".into(),
        message: format!("{key}={value:?}: {e}"),
    })
}

impl Overlay {
    fn from_env(env: impl IntoIterator<Item = (String, String)>) -> Result<Self> {
        let mut o = Overlay::default();
        for (k, v) in env {
            let k = k.as_str();
            match k {
                "PIPELINE_PRESET" => o.preset = Some(v.parse()?),
                "PIPELINE_WORKERS" => o.workers = Some(parse_env(k, &v)?),
                "PIPELINE_QUEUE_CAPACITY" => o.queue_capacity = Some(parse_env(k, &v)?),
                "PIPELINE_COMPUTE_THREADS" => o.compute_threads = Some(parse_env(k, &v)?),
                "PIPELINE_AGING_MS" => o.aging_ms = Some(parse_env(k, &v)?),
                "PIPELINE_DEFAULT_TIMEOUT_MS" => o.default_timeout_ms = Some(parse_env(k, &v)?),
                "PIPELINE_MEMORY_SOFT_MB" => o.admission.memory_soft_mb = Some(parse_env(k, &v)?),
                "PIPELINE_MEMORY_HARD_MB" => o.admission.memory_hard_mb = Some(parse_env(k, &v)?),
                "PIPELINE_COMPUTE_QUEUE_SOFT" => {
                    o.admission.compute_queue_soft = Some(parse_env(k, &v)?)
                }
                "PIPELINE_COMPUTE_QUEUE_HARD" => {
                    o.admission.compute_queue_hard = Some(parse_env(k, &v)?)
                }
                "PIPELINE_P99_LATENCY_MS" => o.objectives.p99_latency_ms = Some(parse_env(k, &v)?),
                "PIPELINE_MAX_ERROR_RATE" => o.objectives.max_error_rate = Some(parse_env(k, &v)?),
                _ => {}
            }
        }
        Ok(o)
    }

    fn apply(&self, cfg: &mut EngineConfig) {
        let ms = Duration::from_millis;
        let mb = |v: u64| v.saturating_mul(1 << 20);
        if let Some(v) = self.workers {
            cfg.workers = v;
        }
        if let Some(v) = self.queue_capacity {
            cfg.queue_capacity = v;
        }
        if let Some(v) = self.compute_threads {
            cfg.compute_threads = v;
        }
        if let Some(v) = self.aging_ms {
            cfg.aging = ms(v);
        }
        if let Some(v) = self.default_timeout_ms {
            cfg.default_timeout = (v > 0).then(|| ms(v));
        }
        let a = &self.admission;
        if let Some(v) = a.memory_soft_mb {
            cfg.admission.memory_soft_bytes = (v > 0).then(|| mb(v));
        }
        if let Some(v) = a.memory_hard_mb {
            cfg.admission.memory_hard_bytes = (v > 0).then(|| mb(v));
        }
        if let Some(v) = a.compute_queue_soft {
            cfg.admission.compute_queue_soft = Some(v);
        }
        if let Some(v) = a.compute_queue_hard {
            cfg.admission.compute_queue_hard = Some(v);
        }
        // A lowered hard threshold pulls the preset's soft one down with it.
        if let (None, Some(h), Some(s)) = (
            a.memory_soft_mb,
            cfg.admission.memory_hard_bytes,
            cfg.admission.memory_soft_bytes,
        ) {
            cfg.admission.memory_soft_bytes = Some(s.min(h / 4 * 3));
        }
        if let (None, Some(h), Some(s)) = (
            a.compute_queue_soft,
            cfg.admission.compute_queue_hard,
            cfg.admission.compute_queue_soft,
        ) {
            cfg.admission.compute_queue_soft = Some(s.min(h / 4 * 3));
        }
        if let Some(v) = a.slow_delay_ms {
            cfg.admission.slow_delay = ms(v);
        }
        if let Some(v) = a.sample_interval_ms {
            cfg.admission.sample_interval = ms(v);
        }
        let o = &self.objectives;
        if let Some(v) = o.p99_latency_ms {
            cfg.objectives.p99_latency = (v > 0).then(|| ms(v));
        }
        if let Some(v) = o.max_error_rate {
            cfg.objectives.max_error_rate = Some(v);
        }
        if let Some(v) = o.window_ms {
            cfg.objectives.window = ms(v);
        }
        if let Some(v) = o.min_requests {
            cfg.objectives.min_requests = v;
        }
        for (k, v) in &self.stage_limits {
            cfg.stage_limits.insert(k.clone(), *v);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const M: MachineResources = MachineResources {
        cores: 2,
        memory_bytes: 8 << 30,
    };

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn presets_scale_with_cores_and_order_sensibly() {
        let min = EngineConfig::preset(Preset::Minimal, M);
        let bal = EngineConfig::preset(Preset::Balanced, M);
        let agg = EngineConfig::preset(Preset::Aggressive, M);
        assert!(min.workers < bal.workers && bal.workers < agg.workers);
        assert!(min.queue_capacity < bal.queue_capacity);
        assert!(min.admission.memory_hard_bytes < agg.admission.memory_hard_bytes);
        let big = EngineConfig::preset(Preset::Balanced, MachineResources { cores: 8, ..M });
        assert_eq!(big.workers, 4 * bal.workers);
        assert_eq!(big.compute_threads, 8);
    }

    #[test]
    fn file_then_env_override() {
        let file = r#"
            preset = "minimal"
            workers = 7
            queue_capacity = 99
            [admission]
            memory_hard_mb = 512
            [objectives]
            p99_latency_ms = 250
            [stage_limits]
            rank = 3
        "#;
        let cfg = EngineConfig::resolve(
            M,
            Some(("pipeline.toml", file)),
            env(&[("PIPELINE_WORKERS", "11"), ("HOME", "/root")]),
        )
        .unwrap();
        assert_eq!(cfg.workers, 11);
        assert_eq!(cfg.queue_capacity, 99);
        assert_eq!(cfg.compute_threads, 1); // minimal on 2 cores
        assert_eq!(cfg.admission.memory_hard_bytes, Some(512 << 20));
        assert_eq!(cfg.admission.memory_soft_bytes, Some(384 << 20));
        assert_eq!(cfg.objectives.p99_latency, Some(Duration::from_millis(250)));
        assert_eq!(cfg.stage_limits.get("rank"), Some(&3));
    }

    #[test]
    fn env_preset_wins_over_file_preset() {
        let cfg = EngineConfig::resolve(
            M,
            Some(("f", "preset = \"minimal\"")),
            env(&[("PIPELINE_PRESET", "aggressive")]),
        )
        .unwrap();
        assert_eq!(
            cfg.workers,
            EngineConfig::preset(Preset::Aggressive, M).workers
        );
    }

    #[test]
    fn bad_values_are_reported_with_their_source() {
        let e = EngineConfig::resolve(M, None, env(&[("PIPELINE_WORKERS", "many")])).unwrap_err();
        assert!(e.to_string().contains("PIPELINE_WORKERS"), "{e}");
        let e = EngineConfig::resolve(M, Some(("p.toml", "wokers = 3")), env(&[])).unwrap_err();
        assert!(e.to_string().contains("p.toml"), "{e}");
        let e = EngineConfig::resolve(M, None, env(&[("PIPELINE_WORKERS", "0")])).unwrap_err();
        assert!(e.to_string().contains("workers"), "{e}");
        assert!("turbo".parse::<Preset>().is_err());
    }
}
