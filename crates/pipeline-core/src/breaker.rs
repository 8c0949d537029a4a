//! A circuit breaker for remote dependencies: closed, open, half-open probes; trips on
//! consecutive failures or on the error rate of a window. Also a tower layer.

use crate::error::{BoxError, Error, Result};
use parking_lot::Mutex;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// The state of a [`CircuitBreaker`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls pass; failures are counted.
    Closed,
    /// Calls are refused at once with [`Error::CircuitOpen`] until `open_duration` passes.
    Open,
    /// A few probe calls pass; their success closes the circuit, a failure opens it again.
    HalfOpen,
}

/// When a [`CircuitBreaker`] trips and how it recovers.
#[derive(Debug, Clone, PartialEq)]
pub struct CircuitBreakerConfig {
    /// Consecutive failures that open the circuit.
    pub consecutive_failures: u32,
    /// Failure share (0.0..=1.0) within a window that opens the circuit...
    pub error_rate: f64,
    /// ...once the window has at least this many calls.
    pub min_requests: u32,
    /// Length of the error-rate window (fixed windows).
    pub window: Duration,
    /// How long the circuit stays open before probing.
    pub open_duration: Duration,
    /// Probe calls allowed at once in half-open; this many successes close the circuit.
    pub half_open_probes: u32,
}

impl Default for CircuitBreakerConfig {
    fn default() -> Self {
        CircuitBreakerConfig {
            consecutive_failures: 5,
            error_rate: 0.5,
            min_requests: 20,
            window: Duration::from_secs(10),
            open_duration: Duration::from_secs(5),
            half_open_probes: 1,
        }
    }
}

struct BreakerInner {
    state: BreakerState,
    consecutive: u32,
    window_start: Instant,
    window_total: u32,
    window_failures: u32,
    opened_at: Instant,
    probes: u32,
    probe_successes: u32,
}

struct Shared {
    name: String,
    config: CircuitBreakerConfig,
    inner: Mutex<BreakerInner>,
    rejected: metrics::Counter,
    state_gauge: metrics::Gauge,
}

/// A circuit breaker. Cheap to clone (clones share state).
///
/// ```
/// use pipeline_core::{BreakerState, CircuitBreaker};
/// use std::time::Duration;
///
/// let breaker = CircuitBreaker::builder("redis").consecutive_failures(2).open_duration(Duration::from_secs(30)).build();
/// for _ in 0..2 {
///     let permit = breaker.try_acquire().unwrap();
///     permit.failure();
/// }
/// assert_eq!(breaker.state(), BreakerState::Open);
/// assert!(breaker.try_acquire().is_err());
/// ```
#[derive(Clone)]
pub struct CircuitBreaker {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.shared.name)
            .field("state", &self.state())
            .finish()
    }
}

/// Builds a [`CircuitBreaker`].
#[derive(Debug, Clone)]
pub struct CircuitBreakerBuilder {
    name: String,
    config: CircuitBreakerConfig,
}

impl CircuitBreakerBuilder {
    /// Replaces the whole configuration.
    pub fn config(mut self, config: CircuitBreakerConfig) -> Self {
        self.config = config;
        self
    }
    /// Consecutive failures that open the circuit.
    pub fn consecutive_failures(mut self, n: u32) -> Self {
        self.config.consecutive_failures = n.max(1);
        self
    }
    /// Failure share within a window (of at least `min_requests` calls) that opens it.
    pub fn error_rate(mut self, rate: f64, min_requests: u32) -> Self {
        self.config.error_rate = rate.clamp(0.0, 1.0);
        self.config.min_requests = min_requests.max(1);
        self
    }
    /// Length of the error-rate window.
    pub fn window(mut self, d: Duration) -> Self {
        self.config.window = d;
        self
    }
    /// How long the circuit stays open before probing.
    pub fn open_duration(mut self, d: Duration) -> Self {
        self.config.open_duration = d;
        self
    }
    /// Probes allowed at once in half-open (and successes needed to close).
    pub fn half_open_probes(mut self, n: u32) -> Self {
        self.config.half_open_probes = n.max(1);
        self
    }
    /// The breaker.
    pub fn build(self) -> CircuitBreaker {
        CircuitBreaker::new(self.name, self.config)
    }
}

/// Permission for one call; report its result with [`success`](Self::success) or
/// [`failure`](Self::failure). Dropping it reports nothing.
#[derive(Debug)]
#[must_use = "report the call's result with success() or failure()"]
pub struct CircuitPermit {
    breaker: CircuitBreaker,
    probe: bool,
    done: bool,
}

impl CircuitPermit {
    /// The call succeeded.
    pub fn success(mut self) {
        self.done = true;
        self.breaker.record_at(Instant::now(), self.probe, true);
    }
    /// The call failed.
    pub fn failure(mut self) {
        self.done = true;
        self.breaker.record_at(Instant::now(), self.probe, false);
    }
}

impl Drop for CircuitPermit {
    fn drop(&mut self) {
        if !self.done && self.probe {
            let mut st = self.breaker.shared.inner.lock();
            st.probes = st.probes.saturating_sub(1);
        }
    }
}

impl CircuitBreaker {
    /// A builder with the default thresholds (5 consecutive failures, or 50% of at least 20
    /// calls in 10 s; open for 5 s; one probe).
    pub fn builder(name: impl Into<String>) -> CircuitBreakerBuilder {
        CircuitBreakerBuilder {
            name: name.into(),
            config: CircuitBreakerConfig::default(),
        }
    }

    /// A breaker named `name` (the `breaker` label on its metrics).
    pub fn new(name: impl Into<String>, config: CircuitBreakerConfig) -> Self {
        let name = name.into();
        let now = Instant::now();
        CircuitBreaker {
            shared: Arc::new(Shared {
                rejected: metrics::counter!("pipeline_circuit_rejected_total", "breaker" => name.clone()),
                state_gauge: metrics::gauge!("pipeline_circuit_open", "breaker" => name.clone()),
                name,
                config,
                inner: Mutex::new(BreakerInner {
                    state: BreakerState::Closed,
                    consecutive: 0,
                    window_start: now,
                    window_total: 0,
                    window_failures: 0,
                    opened_at: now,
                    probes: 0,
                    probe_successes: 0,
                }),
            }),
        }
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The current state (an open breaker whose open time passed reports `HalfOpen`).
    pub fn state(&self) -> BreakerState {
        let st = self.shared.inner.lock();
        if st.state == BreakerState::Open
            && Instant::now() >= st.opened_at + self.shared.config.open_duration
        {
            return BreakerState::HalfOpen;
        }
        st.state
    }

    /// Asks to make a call: a permit, or [`Error::CircuitOpen`] at once.
    pub fn try_acquire(&self) -> Result<CircuitPermit> {
        self.acquire_at(Instant::now())
    }

    fn acquire_at(&self, now: Instant) -> Result<CircuitPermit> {
        let cfg = &self.shared.config;
        let mut st = self.shared.inner.lock();
        if st.state == BreakerState::Open {
            let reopen = st.opened_at + cfg.open_duration;
            if now < reopen {
                drop(st);
                self.shared.rejected.increment(1);
                return Err(Error::CircuitOpen {
                    name: self.shared.name.clone(),
                    retry_after: reopen - now,
                });
            }
            st.state = BreakerState::HalfOpen;
            st.probes = 0;
            st.probe_successes = 0;
        }
        let probe = st.state == BreakerState::HalfOpen;
        if probe {
            if st.probes >= cfg.half_open_probes {
                drop(st);
                self.shared.rejected.increment(1);
                return Err(Error::CircuitOpen {
                    name: self.shared.name.clone(),
                    retry_after: Duration::ZERO,
                });
            }
            st.probes += 1;
        }
        Ok(CircuitPermit {
            breaker: self.clone(),
            probe,
            done: false,
        })
    }

    fn record_at(&self, now: Instant, probe: bool, success: bool) {
        let cfg = &self.shared.config;
        let mut st = self.shared.inner.lock();
        if probe {
            st.probes = st.probes.saturating_sub(1);
            if st.state != BreakerState::HalfOpen {
                return;
            }
            if success {
                st.probe_successes += 1;
                if st.probe_successes >= cfg.half_open_probes {
                    st.state = BreakerState::Closed;
                    st.consecutive = 0;
                    st.window_start = now;
                    st.window_total = 0;
                    st.window_failures = 0;
                    self.shared.state_gauge.set(0.0);
                    tracing::info!(breaker = %self.shared.name, "circuit closed");
                }
            } else {
                self.open(&mut st, now);
            }
            return;
        }
        if st.state != BreakerState::Closed {
            return;
        }
        if now.saturating_duration_since(st.window_start) >= cfg.window {
            st.window_start = now;
            st.window_total = 0;
            st.window_failures = 0;
        }
        st.window_total += 1;
        if success {
            st.consecutive = 0;
        } else {
            st.consecutive += 1;
            st.window_failures += 1;
        }
        let rate_tripped = st.window_total >= cfg.min_requests
            && f64::from(st.window_failures) / f64::from(st.window_total) >= cfg.error_rate;
        if st.consecutive >= cfg.consecutive_failures || rate_tripped {
            self.open(&mut st, now);
        }
    }

    fn open(&self, st: &mut BreakerInner, now: Instant) {
        st.state = BreakerState::Open;
        st.opened_at = now;
        st.probes = 0;
        st.probe_successes = 0;
        self.shared.state_gauge.set(1.0);
        tracing::warn!(breaker = %self.shared.name, open_for = ?self.shared.config.open_duration, "circuit opened");
    }

    /// Runs `call` through the breaker: `Err(Error::CircuitOpen)` without calling it when open;
    /// otherwise the call's own result, recorded as success or failure.
    pub async fn call<T, E, F>(&self, call: F) -> Result<std::result::Result<T, E>>
    where
        F: Future<Output = std::result::Result<T, E>>,
    {
        let permit = self.try_acquire()?;
        let r = call.await;
        if r.is_ok() {
            permit.success();
        } else {
            permit.failure();
        }
        Ok(r)
    }
}

/// A tower layer that puts a [`CircuitBreaker`] in front of a service: errors count as
/// failures; while open, calls fail at once with [`Error::CircuitOpen`] (boxed).
#[derive(Debug, Clone)]
pub struct CircuitBreakerLayer {
    breaker: CircuitBreaker,
}

impl CircuitBreakerLayer {
    /// Wraps services with `breaker` (all wrapped services share it).
    pub fn new(breaker: CircuitBreaker) -> Self {
        CircuitBreakerLayer { breaker }
    }
}

impl<S> tower::Layer<S> for CircuitBreakerLayer {
    type Service = CircuitBreakerService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        CircuitBreakerService {
            inner,
            breaker: self.breaker.clone(),
        }
    }
}

/// The service made by [`CircuitBreakerLayer`].
#[derive(Debug, Clone)]
pub struct CircuitBreakerService<S> {
    inner: S,
    breaker: CircuitBreaker,
}

impl<S, Request> tower::Service<Request> for CircuitBreakerService<S>
where
    S: tower::Service<Request>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = futures::future::BoxFuture<'static, std::result::Result<S::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<std::result::Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        match self.breaker.try_acquire() {
            Err(e) => Box::pin(futures::future::ready(Err(e.into()))),
            Ok(permit) => {
                let fut = self.inner.call(req);
                Box::pin(async move {
                    match fut.await {
                        Ok(r) => {
                            permit.success();
                            Ok(r)
                        }
                        Err(e) => {
                            permit.failure();
                            Err(e.into())
                        }
                    }
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn breaker() -> CircuitBreaker {
        CircuitBreaker::builder("t")
            .consecutive_failures(3)
            .error_rate(0.5, 10)
            .open_duration(Duration::from_secs(5))
            .half_open_probes(2)
            .build()
    }

    fn call(b: &CircuitBreaker, now: Instant, ok: bool) -> bool {
        match b.acquire_at(now) {
            Ok(mut p) => {
                p.done = true;
                b.record_at(now, p.probe, ok);
                true
            }
            Err(_) => false,
        }
    }

    #[test]
    fn consecutive_failures_open_then_probes_close() {
        let b = breaker();
        let t = Instant::now();
        assert!(call(&b, t, false));
        assert!(call(&b, t, true)); // resets the run
        for _ in 0..3 {
            assert!(call(&b, t, false));
        }
        assert_eq!(b.shared.inner.lock().state, BreakerState::Open);
        assert!(!call(&b, t + Duration::from_secs(1), true));
        let later = t + Duration::from_secs(6);
        // two probes at once allowed, a third refused
        let p1 = b.acquire_at(later).unwrap();
        let p2 = b.acquire_at(later).unwrap();
        assert!(b.acquire_at(later).is_err());
        assert!(p1.probe && p2.probe);
        p1.success();
        assert_eq!(b.shared.inner.lock().state, BreakerState::HalfOpen);
        p2.success();
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn failed_probe_reopens() {
        let b = breaker();
        let t = Instant::now();
        for _ in 0..3 {
            call(&b, t, false);
        }
        let later = t + Duration::from_secs(6);
        assert!(call(&b, later, false));
        let st = b.shared.inner.lock();
        assert_eq!(st.state, BreakerState::Open);
        assert_eq!(st.opened_at, later);
    }

    #[test]
    fn error_rate_opens_without_a_long_run() {
        let b = breaker();
        let t = Instant::now();
        // alternate: never 3 in a row, but 50% of 10
        for i in 0..10 {
            call(&b, t, i % 2 == 0);
        }
        assert_eq!(b.shared.inner.lock().state, BreakerState::Open);
    }

    #[test]
    fn window_resets_the_rate() {
        let b = breaker();
        let t = Instant::now();
        for i in 0..9 {
            call(&b, t, i % 2 == 0);
        }
        // the window passes: the old failures no longer count
        let later = t + Duration::from_secs(11);
        call(&b, later, false);
        assert_eq!(b.shared.inner.lock().state, BreakerState::Closed);
    }

    #[test]
    fn dropped_probe_permit_frees_its_slot() {
        let b = breaker();
        let t = Instant::now();
        for _ in 0..3 {
            call(&b, t, false);
        }
        let later = t + Duration::from_secs(6);
        let p1 = b.acquire_at(later).unwrap();
        let p2 = b.acquire_at(later).unwrap();
        drop(p1);
        assert!(b.acquire_at(later).is_ok());
        drop(p2);
    }
}
