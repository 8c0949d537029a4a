//! Benchmarks `tiered-cache` beside the peers a user would otherwise pick, in the same run.
//!
//! - `MemoryTier` vs quick_cache and moka: 2 threads, Zipf (s = 0.9 and 1.1) over 1M keys,
//!   100k capacity, get-then-insert-on-miss; ops/s and hit ratio.
//! - `RedisTier` hit path at 50 in-flight vs `redis-benchmark -t get -c 50`.
//! - `PostgresTier` hit path at 16 in-flight vs `pgbench -S -M prepared -c 16`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod memory;
mod remote;

fn main() {
    let mut bench = bench_support::Bench::from_args("tiered-cache");
    let only = std::env::var("TIERED_BENCH_ONLY").unwrap_or_default();
    if !matches!(only.as_str(), "remote" | "pg" | "redis") {
        memory::run(&mut bench);
    }
    if only != "memory" && only != "fast" {
        remote::run(&mut bench);
    }
    bench.finish();
}
