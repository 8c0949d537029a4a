//! L1 benchmark: `MemoryTier` vs quick_cache (S3-FIFO) and moka (TinyLFU) on a Zipf workload.

use bench_support::{Bench, Record};
use bytes::Bytes;
use rand::{Rng, SeedableRng};
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// The operations a cache must offer for this workload: look up, insert on a miss.
trait Cache<Q: ?Sized>: Sync {
    fn get_or_insert(&self, key: &Q, value: &Bytes) -> bool;
}

impl Cache<str> for tiered_cache::MemoryTier<String> {
    #[inline]
    fn get_or_insert(&self, key: &str, value: &Bytes) -> bool {
        if self.lookup(key).is_some() {
            return true;
        }
        self.insert(key, value.clone(), None);
        false
    }
}

impl Cache<u64> for tiered_cache::MemoryTier<u64> {
    #[inline]
    fn get_or_insert(&self, key: &u64, value: &Bytes) -> bool {
        if self.lookup(key).is_some() {
            return true;
        }
        self.insert(key, value.clone(), None);
        false
    }
}

impl Cache<str> for quick_cache::sync::Cache<String, Bytes> {
    #[inline]
    fn get_or_insert(&self, key: &str, value: &Bytes) -> bool {
        if self.get(key).is_some() {
            return true;
        }
        self.insert(key.to_owned(), value.clone());
        false
    }
}

impl Cache<u64> for quick_cache::sync::Cache<u64, Bytes> {
    #[inline]
    fn get_or_insert(&self, key: &u64, value: &Bytes) -> bool {
        if self.get(key).is_some() {
            return true;
        }
        self.insert(*key, value.clone());
        false
    }
}

impl Cache<str> for moka::sync::Cache<String, Bytes> {
    #[inline]
    fn get_or_insert(&self, key: &str, value: &Bytes) -> bool {
        if self.get(key).is_some() {
            return true;
        }
        self.insert(key.to_owned(), value.clone());
        false
    }
}

impl Cache<u64> for moka::sync::Cache<u64, Bytes> {
    #[inline]
    fn get_or_insert(&self, key: &u64, value: &Bytes) -> bool {
        if self.get(key).is_some() {
            return true;
        }
        self.insert(*key, value.clone());
        false
    }
}

/// Maps a key rank to the key the cache sees.
trait KeySet: Sync {
    type Q: ?Sized;
    fn key(&self, rank: u32) -> &Self::Q;
}

/// Integer keys (the rank itself, scrambled).
struct IntKeys(Vec<u64>);

impl KeySet for IntKeys {
    type Q = u64;
    #[inline]
    fn key(&self, rank: u32) -> &u64 {
        &self.0[rank as usize]
    }
}

/// String keys such as `key:123`.
struct StrKeys(Vec<String>);

impl KeySet for StrKeys {
    type Q = str;
    #[inline]
    fn key(&self, rank: u32) -> &str {
        &self.0[rank as usize]
    }
}

/// Zipf(s) ranks over `n` keys by inverse CDF (exact, no rejection).
struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, s: f64) -> Self {
        let mut cdf = Vec::with_capacity(n);
        let mut sum = 0.0;
        for k in 1..=n {
            sum += 1.0 / (k as f64).powf(s);
            cdf.push(sum);
        }
        for c in &mut cdf {
            *c /= sum;
        }
        Zipf { cdf }
    }

    fn sample(&self, rng: &mut impl Rng) -> usize {
        let u: f64 = rng.random();
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }

    /// Hit ratio of an oracle that holds the `cap` most popular keys.
    fn optimal(&self, cap: usize) -> f64 {
        self.cdf[cap.min(self.cdf.len()) - 1]
    }
}

struct Outcome {
    ops_per_sec: f64,
    hit_ratio: f64,
}

/// The faster of two runs (the hit ratio is the same workload's, so it barely moves).
fn best(prev: Option<Outcome>, next: Outcome) -> Outcome {
    match prev {
        Some(p) if p.ops_per_sec >= next.ops_per_sec => p,
        _ => next,
    }
}

fn run_cache<S: KeySet>(
    cache: &dyn Cache<S::Q>,
    keys: &S,
    traces: &[Vec<u32>],
    warm: usize,
) -> Outcome {
    let value = Bytes::from_static(&[7u8; 64]);
    let barrier = Barrier::new(traces.len());
    let results: Vec<(u64, u64, Duration)> = std::thread::scope(|scope| {
        let handles: Vec<_> = traces
            .iter()
            .map(|trace| {
                let barrier = &barrier;
                let value = &value;
                scope.spawn(move || {
                    for &k in &trace[..warm] {
                        cache.get_or_insert(keys.key(k), value);
                    }
                    barrier.wait();
                    let start = Instant::now();
                    let mut hits = 0u64;
                    for &k in &trace[warm..] {
                        hits += u64::from(cache.get_or_insert(keys.key(k), value));
                    }
                    (hits, (trace.len() - warm) as u64, start.elapsed())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let hits: u64 = results.iter().map(|r| r.0).sum();
    let ops: u64 = results.iter().map(|r| r.1).sum();
    let wall = results.iter().map(|r| r.2).max().unwrap_or_default();
    Outcome {
        ops_per_sec: ops as f64 / wall.as_secs_f64().max(1e-9),
        hit_ratio: hits as f64 / ops.max(1) as f64,
    }
}

/// Runs the L1 comparison and records ops/s and hit ratio for each skew.
pub fn run(bench: &mut Bench) {
    let (n_keys, capacity, per_thread, threads) = if bench.quick {
        (20_000, 2_000, 40_000, 2)
    } else {
        (1_000_000, 100_000, 4_000_000, 2)
    };
    let threads = std::env::var("TIERED_BENCH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(threads);
    let warm = per_thread / 4;
    let only = std::env::var("TIERED_BENCH_ONLY").unwrap_or_default();
    let ints = IntKeys(
        (0..n_keys as u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect(),
    );
    let strs = StrKeys((0..n_keys).map(|i| format!("key:{i}")).collect());
    let config = tiered_cache::MemoryConfig::builder()
        .max_entries(capacity)
        .max_bytes(usize::MAX / 2)
        .build();
    for (s, target_hit) in [(0.9, 0.70), (1.1, 0.905)] {
        let zipf = Zipf::new(n_keys, s);
        let traces: Vec<Vec<u32>> = (0..threads)
            .map(|t| {
                let mut rng = rand::rngs::SmallRng::seed_from_u64(0x5eed + t as u64);
                (0..per_thread)
                    .map(|_| zipf.sample(&mut rng) as u32)
                    .collect()
            })
            .collect();
        // Best of two interleaved runs each: the first run in a process pays for page faults
        // while the heap grows, and the machine may be shared.
        let rounds = if bench.quick { 1 } else { 2 };
        let (mut ours, mut quick, mut moka): (Option<Outcome>, Option<Outcome>, Option<Outcome>) =
            (None, None, None);
        for _ in 0..rounds {
            let tier = tiered_cache::MemoryTier::<u64>::new(config.clone()).unwrap();
            ours = Some(best(ours, run_cache(&tier, &ints, &traces, warm)));
            drop(tier);
            let c = quick_cache::sync::Cache::<u64, Bytes>::new(capacity);
            quick = Some(best(quick, run_cache(&c, &ints, &traces, warm)));
            drop(c);
            if only != "fast" {
                let c = moka::sync::Cache::<u64, Bytes>::new(capacity as u64);
                moka = Some(best(moka, run_cache(&c, &ints, &traces, warm)));
            }
        }
        let (ours, quick) = (ours.unwrap(), quick.unwrap());
        let name =
            format!("MemoryTier zipf s={s} {threads} threads {n_keys} u64 keys cap {capacity}");
        let opt = zipf.optimal(capacity);
        bench.record(
            Record::higher_is_better(&name, "throughput", "Mops/s", ours.ops_per_sec / 1e6)
                .with_peer("quick_cache", quick.ops_per_sec / 1e6)
                .with_target(">= 1.0x quick_cache", ours.ops_per_sec >= quick.ops_per_sec),
        );
        if let Some(moka) = &moka {
            bench.record(
                Record::higher_is_better(&name, "throughput", "Mops/s", ours.ops_per_sec / 1e6)
                    .with_peer("moka", moka.ops_per_sec / 1e6)
                    .with_target(">= 10x moka", ours.ops_per_sec >= 10.0 * moka.ops_per_sec),
            );
        }
        let note = format!("oracle holding the {capacity} most popular keys: {opt:.4}");
        bench.record(
            Record::higher_is_better(&name, "hit ratio", "ratio", ours.hit_ratio)
                .with_peer("quick_cache", quick.hit_ratio)
                .with_target(
                    &format!(">= quick_cache and >= {target_hit}"),
                    ours.hit_ratio >= quick.hit_ratio && ours.hit_ratio >= target_hit,
                )
                .with_note(&note),
        );
        if let Some(moka) = &moka {
            bench.record(
                Record::higher_is_better(&name, "hit ratio", "ratio", ours.hit_ratio)
                    .with_peer("moka", moka.hit_ratio),
            );
        }
        // String keys (what TieredCache uses): quick_cache only, to keep the run short.
        let (mut ours, mut quick): (Option<Outcome>, Option<Outcome>) = (None, None);
        for _ in 0..rounds {
            let tier = tiered_cache::MemoryTier::<String>::new(config.clone()).unwrap();
            ours = Some(best(ours, run_cache(&tier, &strs, &traces, warm)));
            drop(tier);
            let c = quick_cache::sync::Cache::<String, Bytes>::new(capacity);
            quick = Some(best(quick, run_cache(&c, &strs, &traces, warm)));
        }
        let (ours, quick) = (ours.unwrap(), quick.unwrap());
        let name =
            format!("MemoryTier zipf s={s} {threads} threads {n_keys} string keys cap {capacity}");
        bench.record(
            Record::higher_is_better(&name, "throughput", "Mops/s", ours.ops_per_sec / 1e6)
                .with_peer("quick_cache", quick.ops_per_sec / 1e6),
        );
        bench.record(
            Record::higher_is_better(&name, "hit ratio", "ratio", ours.hit_ratio)
                .with_peer("quick_cache", quick.hit_ratio),
        );
    }
}
