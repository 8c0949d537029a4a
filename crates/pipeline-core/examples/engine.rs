//! An engine with one I/O stage and one CPU stage, a burst of mixed-priority requests, and a
//! graceful shutdown: every request gets exactly one outcome.
//!
//! ```sh
//! cargo run --example engine -p pipeline-core
//! ```

use pipeline_core::{BoxError, Engine, Priority, Stage, StageContext, StageKind, SubmitOptions};
use std::time::Duration;

/// Waits like a cache lookup.
struct Lookup;
impl Stage<u64, u64> for Lookup {
    fn name(&self) -> &str {
        "lookup"
    }
    async fn process(&self, _: &StageContext<u64>, _: u64) -> Result<u64, BoxError> {
        tokio::time::sleep(Duration::from_millis(1)).await;
        Ok(0)
    }
}

/// Burns CPU on the compute pool.
struct Work;
impl Stage<u64, u64> for Work {
    fn name(&self) -> &str {
        "work"
    }
    fn kind(&self) -> StageKind {
        StageKind::Cpu
    }
    async fn process(&self, ctx: &StageContext<u64>, _: u64) -> Result<u64, BoxError> {
        Ok((0..*ctx.request() * 1000).fold(0u64, |a, x| a.wrapping_add(x * x)))
    }
}

#[tokio::main]
async fn main() -> Result<(), pipeline_core::Error> {
    let engine = Engine::builder()
        .queue_capacity(256)
        .stage(Lookup)
        .stage(Work)
        .build()?;
    let mut handles = Vec::new();
    for i in 0..1000u64 {
        let e = engine.clone();
        let priority = if i % 10 == 0 {
            Priority::High
        } else {
            Priority::Normal
        };
        let opts = SubmitOptions::new()
            .priority(priority)
            .timeout(Duration::from_secs(2));
        handles.push(tokio::spawn(async move { e.submit(i, opts).await }));
    }
    let (mut ok, mut shed, mut other) = (0, 0, 0);
    for h in handles {
        match h.await {
            Ok(Ok(_)) => ok += 1,
            Ok(Err(pipeline_core::Error::Overloaded { .. })) => shed += 1,
            _ => other += 1,
        }
    }
    let stats = engine.stats();
    println!("succeeded {ok}, shed {shed}, other {other}");
    println!(
        "latency p50 {:?} p99 {:?}, rss {} MB",
        stats.latency.p50,
        stats.latency.p99,
        stats.rss_bytes >> 20
    );
    let report = engine.shutdown(Duration::from_secs(5)).await;
    println!("shutdown: {report:?}");
    Ok(())
}
