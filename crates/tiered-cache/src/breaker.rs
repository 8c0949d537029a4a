//! A small circuit breaker per remote tier: after a run of failures it opens and calls skip
//! the tier at once; after `open_for` it lets one probe through and closes when the probe works.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Configuration of a [`CircuitBreaker`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker.
    pub failure_threshold: u32,
    /// How long the breaker stays open before it lets a probe through.
    pub open_for: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: 3,
            open_for: Duration::from_millis(500),
        }
    }
}

/// The state a breaker is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are skipped until the next probe.
    Open,
    /// One probe call is in flight; the others are skipped.
    HalfOpen,
}

/// Circuit breaker guarding one remote tier; cheap to consult (atomics only).
#[derive(Debug)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    epoch: Instant,
    failures: AtomicU32,
    /// Milliseconds since `epoch` until which the breaker is open; 0 when closed.
    open_until: AtomicU64,
    probing: AtomicBool,
    probe_at: AtomicU64,
    opened: AtomicU64,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Self {
        CircuitBreaker {
            config,
            epoch: Instant::now(),
            failures: AtomicU32::new(0),
            open_until: AtomicU64::new(0),
            probing: AtomicBool::new(false),
            probe_at: AtomicU64::new(0),
            opened: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether a call may go to the tier now. When it returns true, report the outcome with
    /// [`CircuitBreaker::success`] or [`CircuitBreaker::failure`].
    pub fn allow(&self) -> bool {
        let until = self.open_until.load(Ordering::Acquire);
        if until == 0 {
            return true;
        }
        if self.now_ms() < until {
            return false;
        }
        // Open period over: one probe at a time (a probe that never reported back, for example
        // because its call was cancelled, is replaced after another `open_for`).
        let now = self.now_ms();
        let started = self.probe_at.load(Ordering::Acquire);
        let open_ms = u64::try_from(self.config.open_for.as_millis()).unwrap_or(u64::MAX);
        if started != 0 && now.saturating_sub(started) < open_ms.max(1) {
            return false;
        }
        if self
            .probe_at
            .compare_exchange(started, now.max(1), Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return false;
        }
        self.probing.store(true, Ordering::Release);
        true
    }

    /// The call worked: close the breaker.
    pub fn success(&self) {
        if self.failures.load(Ordering::Relaxed) != 0 {
            self.failures.store(0, Ordering::Relaxed);
        }
        if self.open_until.load(Ordering::Relaxed) != 0 {
            self.open_until.store(0, Ordering::Release);
            self.probing.store(false, Ordering::Release);
            self.probe_at.store(0, Ordering::Release);
        }
    }

    /// The call failed: count it, and open the breaker after enough in a row (or at once
    /// when the probe failed).
    pub fn failure(&self) {
        let n = self.failures.fetch_add(1, Ordering::AcqRel) + 1;
        let probing = self.probing.load(Ordering::Acquire);
        if n >= self.config.failure_threshold || probing {
            let open_ms = u64::try_from(self.config.open_for.as_millis()).unwrap_or(u64::MAX);
            self.open_until.store(
                self.now_ms().saturating_add(open_ms).max(1),
                Ordering::Release,
            );
            self.probing.store(false, Ordering::Release);
            self.probe_at.store(0, Ordering::Release);
            self.opened.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        let until = self.open_until.load(Ordering::Acquire);
        if until == 0 {
            BreakerState::Closed
        } else if self.probing.load(Ordering::Acquire) {
            BreakerState::HalfOpen
        } else {
            BreakerState::Open
        }
    }

    /// How many times the breaker has opened.
    pub fn times_opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_and_closes_after_probe() {
        let b = CircuitBreaker::new(BreakerConfig {
            failure_threshold: 2,
            open_for: Duration::from_millis(30),
        });
        assert!(b.allow());
        b.failure();
        assert_eq!(b.state(), BreakerState::Closed);
        b.failure();
        assert_eq!(b.state(), BreakerState::Open);
        assert!(!b.allow());
        std::thread::sleep(Duration::from_millis(40));
        assert!(b.allow(), "probe");
        assert!(!b.allow(), "only one probe");
        b.failure();
        assert_eq!(b.state(), BreakerState::Open);
        std::thread::sleep(Duration::from_millis(40));
        assert!(b.allow());
        b.success();
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(b.allow());
        assert_eq!(b.times_opened(), 2);
    }
}
