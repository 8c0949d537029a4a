//! Per-tier statistics: hits, misses, errors and a latency histogram, cheap enough for the hot
//! path (counters are striped across cache lines so threads do not fight over one).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const STRIPES: usize = 8;
const BUCKETS: usize = 32;

#[repr(align(64))]
#[derive(Default)]
struct Padded(AtomicU64);

/// A counter spread over a few cache lines; each thread adds to its own stripe.
#[derive(Default)]
pub(crate) struct Counter([Padded; STRIPES]);

/// This thread's stripe: derived from the address of a thread-local, so no shared state.
#[inline]
fn stripe() -> usize {
    thread_local! {
        static ANCHOR: u8 = const { 0 };
    }
    ANCHOR.with(|a| {
        let addr = std::ptr::from_ref(a) as usize;
        (addr >> 6).wrapping_mul(0x9E37_79B9) >> 8
    }) % STRIPES
}

impl Counter {
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        self.0[stripe()].0.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn get(&self) -> u64 {
        self.0.iter().map(|p| p.0.load(Ordering::Relaxed)).sum()
    }
}

/// Latency histogram with power-of-two microsecond buckets.
pub(crate) struct Histogram {
    buckets: [AtomicU64; BUCKETS],
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl Histogram {
    pub(crate) fn record(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1);
        let b = (63 - us.leading_zeros() as usize).min(BUCKETS - 1);
        self.buckets[b].fetch_add(1, Ordering::Relaxed);
    }

    /// Upper bound of the bucket holding quantile `q` (0..=1).
    pub(crate) fn quantile(&self, q: f64) -> Option<Duration> {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((total as f64) * q.clamp(0.0, 1.0)).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(Duration::from_micros(1u64 << (i + 1)));
            }
        }
        None
    }
}

/// Live counters of one tier.
#[derive(Default)]
pub(crate) struct TierCounters {
    pub hits: Counter,
    pub misses: Counter,
    pub errors: Counter,
    pub skipped: Counter,
    pub corrupt: Counter,
    pub latency: Histogram,
}

impl TierCounters {
    pub(crate) fn snapshot(&self, name: &'static str) -> TierStats {
        TierStats {
            tier: name,
            hits: self.hits.get(),
            misses: self.misses.get(),
            errors: self.errors.get(),
            skipped: self.skipped.get(),
            corrupt: self.corrupt.get(),
            p50: self.latency.quantile(0.5),
            p99: self.latency.quantile(0.99),
        }
    }
}

/// A snapshot of one tier's statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierStats {
    /// `memory`, `redis` or `postgres`.
    pub tier: &'static str,
    /// Lookups this tier answered.
    pub hits: u64,
    /// Lookups this tier could not answer.
    pub misses: u64,
    /// Calls that failed or timed out.
    pub errors: u64,
    /// Calls skipped because the tier's circuit breaker was open.
    pub skipped: u64,
    /// Values that failed their checksum and were deleted.
    pub corrupt: u64,
    /// Median call latency (bucket upper bound; remote tiers only).
    pub p50: Option<Duration>,
    /// 99th percentile call latency (bucket upper bound; remote tiers only).
    pub p99: Option<Duration>,
}

impl TierStats {
    /// hits / (hits + misses), or 0 when nothing was asked.
    pub fn hit_ratio(&self) -> f64 {
        let total = self.hits + self.misses;
        if total == 0 {
            0.0
        } else {
            self.hits as f64 / total as f64
        }
    }
}

/// Statistics of a whole [`crate::TieredCache`].
#[derive(Debug, Clone, PartialEq)]
pub struct CacheStats {
    /// One entry per configured tier, L1 first.
    pub tiers: Vec<TierStats>,
    /// Lookups through the cache.
    pub lookups: u64,
    /// Lookups answered by any tier.
    pub hits: u64,
    /// Loader runs in `get_or_load` (after single-flight merging).
    pub loads: u64,
    /// Callers that waited on another caller's load instead of running their own.
    pub coalesced: u64,
    /// L2/L3 hits copied into a faster tier.
    pub promotions: u64,
    /// Background reloads started (refresh-ahead and stale-while-revalidate).
    pub refreshes: u64,
}

impl CacheStats {
    /// Lookups answered by some tier / all lookups.
    pub fn hit_ratio(&self) -> f64 {
        if self.lookups == 0 {
            0.0
        } else {
            self.hits as f64 / self.lookups as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_and_histogram() {
        let c = Counter::default();
        c.add(2);
        c.add(3);
        assert_eq!(c.get(), 5);
        let h = Histogram::default();
        for _ in 0..99 {
            h.record(Duration::from_micros(100));
        }
        h.record(Duration::from_millis(50));
        assert_eq!(h.quantile(0.5), Some(Duration::from_micros(128)));
        assert!(h.quantile(1.0).unwrap() >= Duration::from_millis(50));
    }
}
