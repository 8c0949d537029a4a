//! pipeline-core's engine beside a plain `tokio::spawn` + `Semaphore` baseline, in the same run.
//!
//! Measures: the engine's overhead per request with a no-op stage (p50 latency, throughput on
//! a 2-thread runtime), 10,000 requests in flight at once (memory, each side in a fresh child
//! process), the latency of I/O-only requests while CPU stages saturate the compute pool, and
//! the compute pool's dispatch cost beside `spawn_blocking` behind a semaphore.

use bench_support::{Bench, Record};
use hdrhistogram::Histogram;
use pipeline_core::{BoxError, Engine, Stage, StageContext, StageKind, SubmitOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Does nothing: the engine's own cost is all that is measured.
struct Noop;
impl Stage<u64, u64> for Noop {
    fn name(&self) -> &str {
        "noop"
    }
    async fn process(&self, ctx: &StageContext<u64>, _: u64) -> Result<u64, BoxError> {
        Ok(*ctx.request())
    }
}

/// Waits like a network call.
struct Wait(Duration);
impl Stage<u64, u64> for Wait {
    fn name(&self) -> &str {
        "wait"
    }
    async fn process(&self, ctx: &StageContext<u64>, _: u64) -> Result<u64, BoxError> {
        tokio::time::sleep(self.0).await;
        Ok(*ctx.request())
    }
}

/// A request of the mixed workload: `cpu_us > 0` is a cold request that burns CPU.
#[derive(Clone, Copy)]
struct Mixed {
    cpu_us: u64,
}

/// The I/O stage every request passes (a cache lookup): a yield.
struct Lookup;
impl Stage<Mixed, u64> for Lookup {
    fn name(&self) -> &str {
        "lookup"
    }
    async fn process(&self, _: &StageContext<Mixed>, _: u64) -> Result<u64, BoxError> {
        tokio::task::yield_now().await;
        Ok(0)
    }
}

/// The CPU stage of cold requests (skipped by hits).
struct Burn {
    kind: StageKind,
}
impl Stage<Mixed, u64> for Burn {
    fn name(&self) -> &str {
        "burn"
    }
    fn kind(&self) -> StageKind {
        self.kind
    }
    fn should_run(&self, ctx: &StageContext<Mixed>, _: &u64) -> bool {
        ctx.request().cpu_us > 0
    }
    async fn process(&self, ctx: &StageContext<Mixed>, _: u64) -> Result<u64, BoxError> {
        Ok(burn(ctx.request().cpu_us))
    }
}

fn burn(us: u64) -> u64 {
    let t = Instant::now();
    let mut x = 0u64;
    while t.elapsed() < Duration::from_micros(us) {
        for i in 0..100u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
    }
    x
}

fn runtime(threads: usize) -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bench-pipeline-core: cannot start a runtime: {e}");
            std::process::exit(2);
        }
    }
}

fn hist() -> Histogram<u64> {
    match Histogram::new_with_bounds(1, 60_000_000_000, 3) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("bench-pipeline-core: histogram: {e}");
            std::process::exit(2);
        }
    }
}

fn engine<S: Stage<u64, u64>>(stage: S, workers: usize, queue: usize) -> Engine<u64, u64> {
    match Engine::builder()
        .workers(workers)
        .queue_capacity(queue)
        .compute_threads(2)
        .stage(stage)
        .build()
    {
        Ok(e) => e,
        Err(e) => {
            eprintln!("bench-pipeline-core: cannot build the engine: {e}");
            std::process::exit(2);
        }
    }
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

/// p50 latency of one submit at a time (ns), engine and baseline.
fn sequential_latency(rt: &tokio::runtime::Runtime, n: u64) -> (Histogram<u64>, Histogram<u64>) {
    let e = engine(Noop, 64, 1024);
    let mut ours = hist();
    let mut base = hist();
    rt.block_on(async {
        let opts = SubmitOptions::new();
        for i in 0..n / 10 {
            let _ = e.submit(i, opts).await;
        }
        for i in 0..n {
            let t = Instant::now();
            let r = e.submit(i, opts).await;
            let ns = t.elapsed().as_nanos() as u64;
            std::hint::black_box(r.ok());
            let _ = ours.record(ns.max(1));
        }
        // Baseline: what a user writes by hand: a semaphore permit and a spawned task.
        let sem = Arc::new(Semaphore::new(64));
        for i in 0..n {
            let t = Instant::now();
            let permit = sem.clone().acquire_owned().await;
            let h = tokio::spawn(async move {
                let _p = permit;
                std::hint::black_box(i)
            });
            let r = h.await;
            let ns = t.elapsed().as_nanos() as u64;
            std::hint::black_box(r.ok());
            let _ = base.record(ns.max(1));
        }
    });
    (ours, base)
}

/// Requests per second with `callers` tasks each submitting `per_caller` requests in a loop.
fn throughput(rt: &tokio::runtime::Runtime, callers: u64, per_caller: u64) -> (f64, f64) {
    let e = engine(Noop, 256, 4096);
    let ours = rt.block_on(async {
        let t = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..callers {
            let e = e.clone();
            tasks.push(tokio::spawn(async move {
                let mut ok = 0u64;
                for i in 0..per_caller {
                    ok += e
                        .submit(c * per_caller + i, SubmitOptions::new())
                        .await
                        .is_ok() as u64;
                }
                ok
            }));
        }
        let mut ok = 0;
        for t in tasks {
            ok += t.await.unwrap_or(0);
        }
        ok as f64 / t.elapsed().as_secs_f64()
    });
    let base = rt.block_on(async {
        let sem = Arc::new(Semaphore::new(256));
        let t = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..callers {
            let sem = sem.clone();
            tasks.push(tokio::spawn(async move {
                let mut ok = 0u64;
                for i in 0..per_caller {
                    let permit = sem.clone().acquire_owned().await;
                    let h = tokio::spawn(async move {
                        let _p = permit;
                        std::hint::black_box(c * per_caller + i)
                    });
                    ok += h.await.is_ok() as u64;
                }
                ok
            }));
        }
        let mut ok = 0;
        for t in tasks {
            ok += t.await.unwrap_or(0);
        }
        ok as f64 / t.elapsed().as_secs_f64()
    });
    (ours, base)
}

/// Child process: `n` requests in flight at once, each waiting `wait`; prints
/// `{"rss_delta": bytes, "secs": wall}`.
fn child_in_flight(which: &str, n: usize, wait: Duration) {
    let rt = runtime(2);
    let before = pipeline_core::process_rss_bytes().unwrap_or(0);
    let (peak, secs) = rt.block_on(async {
        let t = Instant::now();
        let mut tasks = Vec::with_capacity(n);
        let peak;
        if which == "engine" {
            let e = engine(Wait(wait), n, n);
            for i in 0..n as u64 {
                let e = e.clone();
                tasks.push(tokio::spawn(async move {
                    e.submit(i, SubmitOptions::new()).await.is_ok()
                }));
            }
            while e.stats().in_flight < n as u64 && t.elapsed() < Duration::from_secs(30) {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            peak = pipeline_core::process_rss_bytes().unwrap_or(0);
        } else {
            let sem = Arc::new(Semaphore::new(n));
            let started = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            for i in 0..n as u64 {
                let (sem, started) = (sem.clone(), started.clone());
                tasks.push(tokio::spawn(async move {
                    let Ok(permit) = sem.acquire_owned().await else {
                        return false;
                    };
                    started.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let h = tokio::spawn(async move {
                        let _p = permit;
                        tokio::time::sleep(wait).await;
                        std::hint::black_box(i)
                    });
                    h.await.is_ok()
                }));
            }
            while started.load(std::sync::atomic::Ordering::Relaxed) < n
                && t.elapsed() < Duration::from_secs(30)
            {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            peak = pipeline_core::process_rss_bytes().unwrap_or(0);
        }
        let mut ok = 0;
        for t in tasks {
            ok += t.await.unwrap_or(false) as usize;
        }
        if ok != n {
            eprintln!("bench-pipeline-core: {which}: only {ok} of {n} succeeded");
        }
        (peak, t.elapsed().as_secs_f64())
    });
    println!(
        "{}",
        serde_json::json!({"rss_delta": peak.saturating_sub(before), "secs": secs})
    );
}

/// Size in bytes of each request of the stream benchmark.
struct Bytes;
impl Stage<Vec<u8>, usize> for Bytes {
    fn name(&self) -> &str {
        "bytes"
    }
    async fn process(&self, ctx: &StageContext<Vec<u8>>, _: usize) -> Result<usize, BoxError> {
        tokio::task::yield_now().await;
        Ok(ctx.request().iter().map(|b| *b as usize).sum())
    }
}

/// Child process: `n` requests of 4 KiB through `process_stream` with a 1 MiB bound, or
/// collected into a Vec first and run with `process_batch`; prints the RSS growth.
fn child_stream(which: &str, n: usize) {
    use futures::StreamExt;
    let rt = runtime(2);
    let before = pipeline_core::process_rss_bytes().unwrap_or(0);
    let e: Engine<Vec<u8>, usize> = match Engine::builder()
        .workers(256)
        .queue_capacity(4096)
        .stage(Bytes)
        .build()
    {
        Ok(e) => e,
        Err(err) => {
            eprintln!("bench-pipeline-core: {err}");
            std::process::exit(2);
        }
    };
    let t = Instant::now();
    let (peak, total) = rt.block_on(async {
        let make = |i: usize| vec![(i % 7) as u8; 4096];
        let mut peak = 0u64;
        let mut total = 0usize;
        if which == "stream" {
            let limits = pipeline_core::StreamLimits {
                max_bytes_in_flight: 1 << 20,
                max_concurrency: 256,
            };
            let input = futures::stream::iter((0..n).map(make));
            let mut out = e.process_stream(input, SubmitOptions::new(), limits, |r| r.len());
            let mut i = 0;
            while let Some(r) = out.next().await {
                total += r.unwrap_or(0);
                i += 1;
                if i % 1000 == 0 {
                    peak = peak.max(pipeline_core::process_rss_bytes().unwrap_or(0));
                }
            }
        } else {
            let all: Vec<Vec<u8>> = (0..n).map(make).collect();
            peak = pipeline_core::process_rss_bytes().unwrap_or(0);
            for r in e.process_batch(all, SubmitOptions::new(), 256).await {
                total += r.unwrap_or(0);
            }
        }
        (
            peak.max(pipeline_core::process_rss_bytes().unwrap_or(0)),
            total,
        )
    });
    std::hint::black_box(total);
    println!(
        "{}",
        serde_json::json!({"rss_delta": peak.saturating_sub(before), "secs": t.elapsed().as_secs_f64()})
    );
}

fn run_child(which: &str, n: usize, wait_ms: u64) -> Option<(f64, f64)> {
    let exe = std::env::current_exe().ok()?;
    let out = std::process::Command::new(exe)
        .args(["--child", which, &n.to_string(), &wait_ms.to_string()])
        .output()
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(out.stdout.trim_ascii()).ok()?;
    Some((v["rss_delta"].as_f64()?, v["secs"].as_f64()?))
}

/// Latency of hits (I/O only) alone, then while cold requests saturate the CPU stage.
fn mixed_latency(
    rt: &tokio::runtime::Runtime,
    cpu_kind: StageKind,
    hits: u64,
    cold_callers: u64,
    burn_us: u64,
) -> (Histogram<u64>, Histogram<u64>, u64) {
    let e: Engine<Mixed, u64> = match Engine::builder()
        .workers(1024)
        .queue_capacity(65536)
        .compute_threads(2)
        .stage(Lookup)
        .stage(Burn { kind: cpu_kind })
        .build()
    {
        Ok(e) => e,
        Err(err) => {
            eprintln!("bench-pipeline-core: {err}");
            std::process::exit(2);
        }
    };
    rt.block_on(async {
        // The hits are submitted from a task on the runtime (like a server's connection
        // task), so they compete with whatever else occupies the runtime's threads.
        let measure = |e: Engine<Mixed, u64>| async move {
            let task = tokio::spawn(async move {
                let mut h = hist();
                for _ in 0..hits {
                    let t = Instant::now();
                    let _ = e.submit(Mixed { cpu_us: 0 }, SubmitOptions::new()).await;
                    let _ = h.record((t.elapsed().as_nanos() as u64).max(1));
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                h
            });
            task.await.unwrap_or_else(|_| hist())
        };
        let idle = measure(e.clone()).await;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut cold = Vec::new();
        for _ in 0..cold_callers {
            let (e, stop) = (e.clone(), stop.clone());
            cold.push(tokio::spawn(async move {
                let mut n = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = e
                        .submit(Mixed { cpu_us: burn_us }, SubmitOptions::new())
                        .await;
                    n += 1;
                }
                n
            }));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let loaded = measure(e.clone()).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut cold_done = 0;
        for c in cold {
            cold_done += c.await.unwrap_or(0);
        }
        (idle, loaded, cold_done)
    })
}

/// Dispatch cost of a tiny CPU job: the engine's compute pool vs spawn_blocking + semaphore.
fn cpu_dispatch(rt: &tokio::runtime::Runtime, n: u64) -> (f64, f64) {
    struct Tiny;
    impl Stage<u64, u64> for Tiny {
        fn name(&self) -> &str {
            "tiny"
        }
        fn kind(&self) -> StageKind {
            StageKind::Cpu
        }
        async fn process(&self, ctx: &StageContext<u64>, _: u64) -> Result<u64, BoxError> {
            Ok(burn(1) ^ *ctx.request())
        }
    }
    let e: Engine<u64, u64> = match Engine::builder()
        .workers(64)
        .queue_capacity(4096)
        .compute_threads(2)
        .stage(Tiny)
        .build()
    {
        Ok(e) => e,
        Err(err) => {
            eprintln!("bench-pipeline-core: {err}");
            std::process::exit(2);
        }
    };
    let ours = rt.block_on(async {
        let t = Instant::now();
        let results = e.process_batch(0..n, SubmitOptions::new(), 64).await;
        std::hint::black_box(results.len());
        n as f64 / t.elapsed().as_secs_f64()
    });
    let base = rt.block_on(async {
        let sem = Arc::new(Semaphore::new(2));
        let t = Instant::now();
        let futs = (0..n).map(|i| {
            let sem = sem.clone();
            async move {
                let permit = sem.acquire_owned().await;
                let r = tokio::task::spawn_blocking(move || {
                    let _p = permit;
                    burn(1) ^ i
                })
                .await;
                r.is_ok()
            }
        });
        let ok = futures::StreamExt::collect::<Vec<bool>>(futures::StreamExt::buffered(
            futures::stream::iter(futs),
            64,
        ))
        .await;
        std::hint::black_box(ok.len());
        n as f64 / t.elapsed().as_secs_f64()
    });
    (ours, base)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        let which = args.get(2).cloned().unwrap_or_default();
        if which == "stream" || which == "collect" {
            let n = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(100_000);
            child_stream(&which, n);
            return;
        }
        let n = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10_000);
        let wait = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(200);
        child_in_flight(&which, n, Duration::from_millis(wait));
        return;
    }
    let mut bench = Bench::from_args("pipeline-core");
    let quick = bench.quick;
    let rt = runtime(2);

    // 1. Overhead per request, one at a time.
    let n = if quick { 2_000 } else { 200_000 };
    // Best of 3 interleaved runs on each side: the machine is shared, and the least disturbed
    // run is the one that shows the cost.
    let runs = if quick { 1 } else { 3 };
    let (mut ours, mut base) = sequential_latency(&rt, n);
    for _ in 1..runs {
        let (o, b) = sequential_latency(&rt, n);
        if o.value_at_quantile(0.5) < ours.value_at_quantile(0.5) {
            ours = o;
        }
        if b.value_at_quantile(0.5) < base.value_at_quantile(0.5) {
            base = b;
        }
    }
    let p50 = us(ours.value_at_quantile(0.5));
    bench.record(
        Record::lower_is_better(
            "no-op stage, one request at a time",
            "p50 latency",
            "us",
            p50,
        )
        .with_peer("tokio::spawn + Semaphore", us(base.value_at_quantile(0.5)))
        .with_target("< 2 us", p50 < 2.0),
    );
    bench.record(
        Record::lower_is_better(
            "no-op stage, one request at a time",
            "p99 latency",
            "us",
            us(ours.value_at_quantile(0.99)),
        )
        .with_peer("tokio::spawn + Semaphore", us(base.value_at_quantile(0.99))),
    );

    // 2. Throughput on 2 runtime threads.
    let (callers, per) = if quick { (8, 200) } else { (64, 20_000) };
    let (mut ours, mut base) = (0f64, 0f64);
    for _ in 0..runs {
        let (o, b) = throughput(&rt, callers, per);
        ours = ours.max(o);
        base = base.max(b);
    }
    bench.record(
        Record::higher_is_better(
            "no-op stage, 64 callers, 2 threads",
            "throughput",
            "req/s",
            ours,
        )
        .with_peer("tokio::spawn + Semaphore", base)
        .with_target(">= 500k req/s", ours >= 500_000.0),
    );

    // 3. 10,000 requests in flight at once, each in a fresh process so memory is its own.
    let (n, wait_ms) = if quick { (500, 20) } else { (10_000, 200) };
    match (
        run_child("engine", n, wait_ms),
        run_child("baseline", n, wait_ms),
    ) {
        (Some((mem, secs)), Some((bmem, bsecs))) => {
            let mb = mem / 1e6;
            bench.record(
                Record::lower_is_better(
                    &format!("{n} requests in flight ({wait_ms} ms I/O each)"),
                    "memory (RSS growth)",
                    "MB",
                    mb,
                )
                .with_peer("tokio::spawn + Semaphore", bmem / 1e6)
                .with_target("< 100 MB", mb < 100.0)
                .with_note("includes the callers' spawned tasks on both sides"),
            );
            bench.record(
                Record::lower_is_better(
                    &format!("{n} requests in flight ({wait_ms} ms I/O each)"),
                    "wall time",
                    "ms",
                    secs * 1e3,
                )
                .with_peer("tokio::spawn + Semaphore", bsecs * 1e3),
            );
        }
        _ => eprintln!("bench-pipeline-core: the in-flight child processes failed; skipped"),
    }

    // 3b. The stream API keeps memory bounded whatever the input's length.
    let n = if quick { 2_000 } else { 100_000 };
    match (run_child("stream", n, 0), run_child("collect", n, 0)) {
        (Some((mem, secs)), Some((cmem, csecs))) => {
            let mb = mem / 1e6;
            let name = format!("{n} requests of 4 KiB, 1 MiB in flight");
            bench.record(
                Record::lower_is_better(&name, "memory (RSS growth)", "MB", mb)
                    .with_peer("collect into a Vec + process_batch", cmem / 1e6)
                    .with_note(&format!(
                        "wall {:.0} ms vs {:.0} ms",
                        secs * 1e3,
                        csecs * 1e3
                    )),
            );
        }
        _ => eprintln!("bench-pipeline-core: the stream child processes failed; skipped"),
    }

    // 4. I/O latency while the CPU stage is saturated: compute pool vs CPU work inline.
    let (hits, cold, burn_us) = if quick {
        (50, 4, 500)
    } else {
        (1_000, 32, 2_000)
    };
    let (idle, loaded, _) = mixed_latency(&rt, StageKind::Cpu, hits, cold, burn_us);
    // Inline hits take tens of ms each: fewer samples keep the run short.
    let (_, inline_loaded, _) = mixed_latency(&rt, StageKind::Io, hits / 10, cold, burn_us);
    let p99_idle = us(idle.value_at_quantile(0.99));
    let p99_loaded = us(loaded.value_at_quantile(0.99));
    bench.record(
        Record::lower_is_better("I/O request p99, CPU stages saturated", "p99 latency", "us", p99_loaded)
            .with_peer("same CPU work inline on the runtime", us(inline_loaded.value_at_quantile(0.99)))
            .with_note(&format!(
                "idle p50 {:.1} us p99 {p99_idle:.1} us; loaded p50 {:.1} us; {cold} callers of {burn_us} us CPU requests, 2 compute threads, 2 runtime threads",
                us(idle.value_at_quantile(0.5)),
                us(loaded.value_at_quantile(0.5))
            )),
    );
    bench.record(
        Record::lower_is_better(
            "I/O request p50, CPU stages saturated",
            "p50 latency",
            "us",
            us(loaded.value_at_quantile(0.5)),
        )
        .with_peer(
            "same CPU work inline on the runtime",
            us(inline_loaded.value_at_quantile(0.5)),
        ),
    );

    // 5. CPU-stage dispatch: the engine's compute pool vs spawn_blocking behind a semaphore.
    let n = if quick { 2_000 } else { 200_000 };
    let (ours, base) = cpu_dispatch(&rt, n);
    bench.record(
        Record::higher_is_better("1 us CPU stage, 64 in flight", "throughput", "req/s", ours)
            .with_peer("spawn_blocking + Semaphore(2)", base),
    );

    bench.finish();
}
