//! [`PoolStats`] and [`Health`]: what a pool has done and how it is doing, safe to export.

use serde::Serialize;
use std::time::Duration;

/// A snapshot of a pool's counters and sizes.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Successful acquisitions.
    pub acquires: u64,
    /// Times a caller had to wait (for a slot of the fair gate or for a connection).
    pub waits: u64,
    /// Acquisitions that ended in [`crate::Error::Timeout`].
    pub timeouts: u64,
    /// Acquisitions that ended in [`crate::Error::Unavailable`] or [`crate::Error::Auth`].
    pub failures: u64,
    /// Connections opened.
    pub connects: u64,
    /// Failed connection attempts.
    pub connect_errors: u64,
    /// Connections closed because they were broken, expired or idle too long.
    pub closed: u64,
    /// Connections open now.
    pub size: u32,
    /// Connections open and idle now (PostgreSQL); for Redis, shared connections ready.
    pub idle: u32,
    /// Connections checked out now (PostgreSQL); always 0 for Redis, which hands out clones.
    pub in_use: u32,
    /// Callers waiting now.
    pub waiting: u32,
    /// The configured maximum.
    pub max_size: u32,
    /// Acquire latency (PostgreSQL: every acquisition; Redis: reconnecting acquisitions).
    pub acquire_latency: LatencySummary,
}

/// Percentiles of a latency histogram, in microseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct LatencySummary {
    /// Samples recorded.
    pub count: u64,
    /// Median, µs.
    pub p50_us: f64,
    /// 99th percentile, µs.
    pub p99_us: f64,
    /// Largest, µs.
    pub max_us: f64,
    /// Mean, µs.
    pub mean_us: f64,
}

/// Overall state for a `/healthz` endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthState {
    /// A connection was acquired and answered.
    Up,
    /// The server answers but the pool is exhausted (every connection busy).
    Degraded,
    /// The server cannot be reached or refuses the credentials.
    Down,
}

/// A pool's health, from a real round trip; serializable and free of secrets.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Health {
    /// The pool's name.
    pub name: String,
    /// `postgres` or `redis`.
    pub backend: &'static str,
    /// The redacted server address.
    pub server: String,
    /// Up, degraded or down.
    pub state: HealthState,
    /// How long the check took.
    pub latency: Duration,
    /// Connections open now.
    pub size: u32,
    /// Connections idle now.
    pub idle: u32,
    /// Connections in use now.
    pub in_use: u32,
    /// The configured maximum.
    pub max_size: u32,
    /// Callers waiting now.
    pub waiting: u32,
    /// The most recent connection error (redacted), if any.
    pub last_error: Option<String>,
    /// How long ago that error happened.
    pub last_error_age: Option<Duration>,
    /// The error of this check, when it failed (redacted).
    pub check_error: Option<String>,
}
