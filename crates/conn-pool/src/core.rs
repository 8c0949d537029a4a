//! What both pools share: counters, the last connect error, fail-fast wake-ups and the fair gate.

use crate::config::PoolConfig;
use crate::error::{ConnectError, Error};
use crate::redact::{RedactedUrl, Scrubber};
use crate::stats::{LatencySummary, PoolStats};
use futures::FutureExt;
use hdrhistogram::Histogram;
use parking_lot::Mutex;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, Semaphore, SemaphorePermit};

/// Who is asking: high-priority callers may use the reserved share of a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Priority {
    /// Ordinary work: every slot except the reserved ones.
    #[default]
    Normal,
    /// Work that must not starve (health checks, control traffic): every slot.
    High,
}

#[derive(Debug, Clone)]
pub(crate) struct LastError {
    pub(crate) error: ConnectError,
    pub(crate) at: Instant,
}

#[derive(Default)]
struct ConnState {
    last_error: Option<LastError>,
    last_ok: Option<Instant>,
}

struct Metrics {
    acquires: metrics::Counter,
    waits: metrics::Counter,
    timeouts: metrics::Counter,
    failures: metrics::Counter,
    connect_errors: metrics::Counter,
    in_use: metrics::Gauge,
    latency: metrics::Histogram,
}

impl Metrics {
    fn new(name: &str, backend: &'static str) -> Self {
        let labels = [("pool", name.to_string()), ("backend", backend.to_string())];
        Metrics {
            acquires: metrics::counter!("conn_pool_acquires_total", &labels),
            waits: metrics::counter!("conn_pool_waits_total", &labels),
            timeouts: metrics::counter!("conn_pool_timeouts_total", &labels),
            failures: metrics::counter!("conn_pool_failures_total", &labels),
            connect_errors: metrics::counter!("conn_pool_connect_errors_total", &labels),
            in_use: metrics::gauge!("conn_pool_in_use", &labels),
            latency: metrics::histogram!("conn_pool_acquire_seconds", &labels),
        }
    }
}

/// State shared by a pool, its bb8 manager and its handles.
pub(crate) struct Shared {
    pub(crate) name: String,
    pub(crate) backend: &'static str,
    pub(crate) server: RedactedUrl,
    pub(crate) scrubber: Scrubber,
    pub(crate) config: PoolConfig,
    state: Mutex<ConnState>,
    connecting: AtomicU64,
    /// Woken (all waiters) when a connection attempt fails, so waiters fail fast.
    connect_failed: Notify,
    acquires: AtomicU64,
    waits: AtomicU64,
    timeouts: AtomicU64,
    failures: AtomicU64,
    connects: AtomicU64,
    connect_errors: AtomicU64,
    pub(crate) closed: AtomicU64,
    in_use: AtomicU64,
    waiting: AtomicU64,
    latency: Mutex<Option<Histogram<u64>>>,
    metrics: Metrics,
}

impl Shared {
    pub(crate) fn new(
        name: String,
        backend: &'static str,
        server: RedactedUrl,
        scrubber: Scrubber,
        config: PoolConfig,
    ) -> Self {
        let metrics = Metrics::new(&name, backend);
        // 1 ns .. 1 h at 2 significant figures: valid bounds, so this is always `Some`.
        let latency = Histogram::new_with_bounds(1, 3_600_000_000_000, 2).ok();
        Shared {
            name,
            backend,
            server,
            scrubber,
            config,
            state: Mutex::new(ConnState::default()),
            connecting: AtomicU64::new(0),
            connect_failed: Notify::new(),
            acquires: AtomicU64::new(0),
            waits: AtomicU64::new(0),
            timeouts: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            connects: AtomicU64::new(0),
            connect_errors: AtomicU64::new(0),
            closed: AtomicU64::new(0),
            in_use: AtomicU64::new(0),
            waiting: AtomicU64::new(0),
            latency: Mutex::new(latency),
            metrics,
        }
    }

    pub(crate) fn server(&self) -> String {
        self.server.to_string()
    }

    /// A connection attempt failed: remember it (scrubbed), count it, wake waiters.
    pub(crate) fn connect_failed(&self, auth: bool, message: &str) -> ConnectError {
        let error = ConnectError {
            auth,
            message: self.scrubber.scrub(message),
        };
        self.metrics.connect_errors.increment(1);
        tracing::warn!(
            pool = %self.name,
            backend = self.backend,
            server = %self.server,
            auth,
            error = %error.message,
            "connection attempt failed"
        );
        self.state.lock().last_error = Some(LastError {
            error: error.clone(),
            at: Instant::now(),
        });
        self.connect_errors.fetch_add(1, Ordering::Release);
        self.connect_failed.notify_waiters();
        error
    }

    pub(crate) fn connected(&self) {
        self.connects.fetch_add(1, Ordering::Relaxed);
        self.state.lock().last_ok = Some(Instant::now());
    }

    pub(crate) fn last_error(&self) -> Option<LastError> {
        self.state.lock().last_error.clone()
    }

    /// Connection errors so far (a snapshot taken when an acquisition starts).
    pub(crate) fn connect_errors(&self) -> u64 {
        self.connect_errors.load(Ordering::Acquire)
    }

    /// Counts a connection attempt in progress until the guard drops.
    pub(crate) fn connecting(&self) -> CountGuard<'_> {
        CountGuard::new(&self.connecting)
    }

    /// Whether the most recent connection attempt failed.
    fn is_down(&self) -> bool {
        let state = self.state.lock();
        match (&state.last_error, state.last_ok) {
            (Some(e), Some(ok)) => e.at > ok,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    fn fail_fast(&self) -> Error {
        let err = self.last_error().map(|l| l.error).unwrap_or(ConnectError {
            auth: false,
            message: "connection attempt failed".into(),
        });
        self.fail(err.into_error(&self.server()))
    }

    fn finish<T, E: Into<ConnectError>>(
        &self,
        r: Result<T, bb8::RunError<E>>,
        start: Instant,
    ) -> Result<T, Error> {
        match r {
            Ok(v) => Ok(v),
            Err(bb8::RunError::TimedOut) => Err(self.timeout(start)),
            Err(bb8::RunError::User(e)) => Err(self.fail(e.into().into_error(&self.server()))),
        }
    }

    /// Drives a bb8 checkout (`make` starts one) until it yields, `deadline` passes (Timeout),
    /// or a connection attempt fails after the acquisition started (`seen` errors before):
    /// then it fails at once with Unavailable/Auth instead of waiting out the timeout.
    pub(crate) async fn wait<T, E, F>(
        &self,
        mut make: impl FnMut() -> F,
        seen: u64,
        start: Instant,
        deadline: tokio::time::Instant,
    ) -> Result<T, Error>
    where
        F: Future<Output = Result<T, bb8::RunError<E>>>,
        E: Into<ConnectError>,
    {
        let mut waiting = None;
        loop {
            // Created before the first poll so no failure after this point is missed.
            let failed = self.connect_failed.notified();
            let mut failed = std::pin::pin!(failed);
            let mut fut = std::pin::pin!(make());
            if let Some(r) = (&mut fut).now_or_never() {
                return self.finish(r, start);
            }
            if waiting.is_none() {
                self.note_wait();
                waiting = Some(CountGuard::new(&self.waiting));
            }
            if self.connect_errors() > seen {
                return Err(self.fail_fast());
            }
            loop {
                tokio::select! {
                    biased;
                    r = &mut fut => return self.finish(r, start),
                    _ = &mut failed => return Err(self.fail_fast()),
                    _ = tokio::time::sleep_until(deadline) => return Err(self.timeout(start)),
                    _ = tokio::time::sleep(RECHECK) => {
                        if self.connect_errors() > seen {
                            return Err(self.fail_fast());
                        }
                        // The server is down and nobody is trying: start the checkout again
                        // so bb8 makes a fresh attempt (which succeeds or fails us fast).
                        if self.connecting.load(Ordering::Acquire) == 0 && self.is_down() {
                            break;
                        }
                    }
                }
            }
        }
    }

    pub(crate) fn note_wait(&self) {
        self.waits.fetch_add(1, Ordering::Relaxed);
        self.metrics.waits.increment(1);
    }

    /// Builds the timeout error (with the latest connect error if one happened while waiting).
    pub(crate) fn timeout(&self, start: Instant) -> Error {
        self.timeouts.fetch_add(1, Ordering::Relaxed);
        self.metrics.timeouts.increment(1);
        let last_connect_error = self
            .last_error()
            .filter(|l| l.at >= start)
            .map(|l| l.error.message);
        Error::Timeout {
            server: self.server(),
            waited: start.elapsed(),
            last_connect_error,
        }
    }

    /// Counts a failed acquisition and passes the error on.
    pub(crate) fn fail(&self, e: Error) -> Error {
        self.failures.fetch_add(1, Ordering::Relaxed);
        self.metrics.failures.increment(1);
        e
    }

    /// Counts a successful acquisition that took `elapsed`.
    pub(crate) fn acquired(&self, elapsed: Option<Duration>) {
        self.acquires.fetch_add(1, Ordering::Relaxed);
        self.metrics.acquires.increment(1);
        if let Some(elapsed) = elapsed {
            let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX).max(1);
            if let Some(h) = self.latency.lock().as_mut() {
                let _ = h.record(nanos);
            }
            self.metrics.latency.record(elapsed.as_secs_f64());
        }
    }

    pub(crate) fn checked_out(&self) {
        self.in_use.fetch_add(1, Ordering::Relaxed);
        self.metrics.in_use.increment(1.0);
    }

    pub(crate) fn checked_in(&self) {
        self.in_use.fetch_sub(1, Ordering::Relaxed);
        self.metrics.in_use.decrement(1.0);
    }

    pub(crate) fn stats(&self, size: u32, idle: u32, in_use: Option<u32>, max: u32) -> PoolStats {
        let summary = {
            let h = self.latency.lock();
            let us = |v: u64| v as f64 / 1000.0;
            h.as_ref()
                .filter(|h| !h.is_empty())
                .map(|h| LatencySummary {
                    count: h.len(),
                    p50_us: us(h.value_at_quantile(0.5)),
                    p99_us: us(h.value_at_quantile(0.99)),
                    max_us: us(h.max()),
                    mean_us: h.mean() / 1000.0,
                })
                .unwrap_or_default()
        };
        let in_use = in_use
            .unwrap_or_else(|| self.in_use.load(Ordering::Relaxed).min(u32::MAX as u64) as u32);
        PoolStats {
            acquires: self.acquires.load(Ordering::Relaxed),
            waits: self.waits.load(Ordering::Relaxed),
            timeouts: self.timeouts.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            connects: self.connects.load(Ordering::Relaxed),
            connect_errors: self.connect_errors.load(Ordering::Relaxed),
            closed: self.closed.load(Ordering::Relaxed),
            size,
            idle,
            in_use,
            waiting: self.waiting.load(Ordering::Relaxed).min(u32::MAX as u64) as u32,
            max_size: max,
            acquire_latency: summary,
        }
    }
}

/// How often a waiter re-checks for a failure it could not be woken for.
const RECHECK: Duration = Duration::from_millis(50);

/// Adds one to a counter until dropped.
pub(crate) struct CountGuard<'a>(&'a AtomicU64);

impl<'a> CountGuard<'a> {
    fn new(c: &'a AtomicU64) -> Self {
        c.fetch_add(1, Ordering::Relaxed);
        CountGuard(c)
    }
}

impl Drop for CountGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A fair (FIFO) gate sized to the pool: callers are admitted in arrival order, so a task that
/// returns a connection cannot take it straight back ahead of earlier waiters. High priority
/// callers skip the `normal` semaphore, which holds `max_size - reserved` permits.
pub(crate) struct Gate {
    all: Semaphore,
    normal: Option<Semaphore>,
}

/// Holding a slot of the gate (released on drop).
pub(crate) struct GatePermit<'a> {
    _all: SemaphorePermit<'a>,
    _normal: Option<SemaphorePermit<'a>>,
}

impl Gate {
    pub(crate) fn new(max: u32, reserved: u32) -> Self {
        Gate {
            all: Semaphore::new(max as usize),
            normal: (reserved > 0).then(|| Semaphore::new(max.saturating_sub(reserved) as usize)),
        }
    }

    /// A slot, or `Err(())` at the deadline. Cancel-safe: dropping the future leaks nothing.
    pub(crate) async fn enter(
        &self,
        shared: &Shared,
        priority: Priority,
        deadline: tokio::time::Instant,
    ) -> Result<GatePermit<'_>, ()> {
        let normal = match (&self.normal, priority) {
            (Some(sem), Priority::Normal) => Some(Self::one(sem, shared, deadline).await?),
            _ => None,
        };
        let all = Self::one(&self.all, shared, deadline).await?;
        Ok(GatePermit {
            _all: all,
            _normal: normal,
        })
    }

    async fn one<'a>(
        sem: &'a Semaphore,
        shared: &Shared,
        deadline: tokio::time::Instant,
    ) -> Result<SemaphorePermit<'a>, ()> {
        if let Ok(p) = sem.try_acquire() {
            return Ok(p);
        }
        shared.note_wait();
        let _waiting = CountGuard::new(&shared.waiting);
        match tokio::time::timeout_at(deadline, sem.acquire()).await {
            Ok(Ok(p)) => Ok(p),
            _ => Err(()),
        }
    }
}
