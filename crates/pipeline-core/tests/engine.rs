//! Behaviour of the engine: priorities and aging, deadlines, shedding, shutdown, exact outcomes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::FutureExt;
use pipeline_core::{
    BoxError, Engine, EngineConfig, Error, MachineResources, Preset, Priority, Stage, StageContext,
    StageKind, SubmitOptions,
};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// A request: a label, and whether it must wait for the test's gate.
#[derive(Debug, Clone)]
struct Req {
    n: u64,
    gated: bool,
}

fn req(n: u64) -> Req {
    Req { n, gated: false }
}

fn small_config() -> EngineConfig {
    EngineConfig::preset(
        Preset::Balanced,
        MachineResources {
            cores: 2,
            memory_bytes: 64 << 30,
        },
    )
}

/// Records the order of requests; gated ones wait for a permit first.
struct Recorder {
    order: Arc<Mutex<Vec<u64>>>,
    gate: Arc<Semaphore>,
}

impl Stage<Req, u64> for Recorder {
    fn name(&self) -> &str {
        "record"
    }
    async fn process(&self, ctx: &StageContext<Req>, _: u64) -> Result<u64, BoxError> {
        if ctx.request().gated {
            self.gate.acquire().await?.forget();
        }
        self.order.lock().unwrap().push(ctx.request().n);
        Ok(ctx.request().n)
    }
}

async fn wait_for(mut cond: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("condition not reached");
}

type Order = Arc<Mutex<Vec<u64>>>;

fn recorder_engine(aging: Duration) -> (Engine<Req, u64>, Order, Arc<Semaphore>) {
    let order = Arc::new(Mutex::new(Vec::new()));
    let gate = Arc::new(Semaphore::new(0));
    let engine = Engine::builder()
        .config(small_config())
        .workers(1)
        .queue_capacity(100)
        .aging(aging)
        .stage(Recorder {
            order: Arc::clone(&order),
            gate: Arc::clone(&gate),
        })
        .build()
        .unwrap();
    (engine, order, gate)
}

#[tokio::test]
async fn priorities_are_served_most_urgent_first() {
    let (engine, order, gate) = recorder_engine(Duration::from_secs(60));
    let mut tasks = Vec::new();
    let e = engine.clone();
    tasks.push(tokio::spawn(async move {
        e.submit(Req { n: 0, gated: true }, SubmitOptions::new())
            .await
    }));
    wait_for(|| engine.stats().in_flight == 1).await;
    let prios = [
        (1, Priority::Low),
        (2, Priority::Normal),
        (3, Priority::High),
        (4, Priority::Critical),
        (5, Priority::Low),
        (6, Priority::Critical),
    ];
    for (i, (n, p)) in prios.into_iter().enumerate() {
        let e = engine.clone();
        tasks.push(tokio::spawn(async move {
            e.submit(req(n), SubmitOptions::new().priority(p)).await
        }));
        wait_for(|| engine.stats().queue_depth == i as u64 + 1).await;
    }
    gate.add_permits(1);
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(*order.lock().unwrap(), vec![0, 4, 6, 3, 2, 1, 5]);
}

#[tokio::test]
async fn aged_low_priority_request_goes_before_fresh_urgent_ones() {
    let (engine, order, gate) = recorder_engine(Duration::from_millis(5));
    let mut tasks = Vec::new();
    let e = engine.clone();
    tasks.push(tokio::spawn(async move {
        e.submit(Req { n: 0, gated: true }, SubmitOptions::new())
            .await
    }));
    wait_for(|| engine.stats().in_flight == 1).await;
    let e = engine.clone();
    tasks.push(tokio::spawn(async move {
        e.submit(req(1), SubmitOptions::new().priority(Priority::Low))
            .await
    }));
    wait_for(|| engine.stats().queue_depth == 1).await;
    // 3 * aging = 15 ms: after 50 ms the Low request outranks any newcomer.
    tokio::time::sleep(Duration::from_millis(50)).await;
    for (n, p) in [(2, Priority::Critical), (3, Priority::High)] {
        let e = engine.clone();
        tasks.push(tokio::spawn(async move {
            e.submit(req(n), SubmitOptions::new().priority(p)).await
        }));
    }
    wait_for(|| engine.stats().queue_depth == 3).await;
    gate.add_permits(1);
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3]);
}

struct Sleepy(Duration);
impl Stage<Req, u64> for Sleepy {
    fn name(&self) -> &str {
        "sleepy"
    }
    async fn process(&self, ctx: &StageContext<Req>, _: u64) -> Result<u64, BoxError> {
        tokio::time::sleep(self.0).await;
        Ok(ctx.request().n)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn low_priority_is_not_starved_by_a_steady_stream_of_high() {
    let engine: Engine<Req, u64> = Engine::builder()
        .config(small_config())
        .workers(1)
        .queue_capacity(1000)
        .aging(Duration::from_millis(10))
        .stage(Sleepy(Duration::from_millis(2)))
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let high_done = Arc::new(AtomicUsize::new(0));
    let mut producers = Vec::new();
    for _ in 0..8 {
        let (engine, stop, done) = (engine.clone(), stop.clone(), high_done.clone());
        producers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                engine
                    .submit(req(0), SubmitOptions::new().priority(Priority::High))
                    .await
                    .unwrap();
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    wait_for(|| engine.stats().queue_depth >= 5).await;
    let low = engine.submit(req(7), SubmitOptions::new().priority(Priority::Low));
    let served = low.await.unwrap();
    // The High producers were still running when Low was served.
    assert!(!stop.load(Ordering::Relaxed));
    assert_eq!(served, 7);
    stop.store(true, Ordering::Relaxed);
    for p in producers {
        p.await.unwrap();
    }
    assert!(high_done.load(Ordering::Relaxed) > 0);
}

/// An I/O stage that would take a minute; notes when its future is dropped (cancelled).
struct SlowIo {
    dropped: Arc<AtomicBool>,
}
struct DropFlag(Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}
impl Stage<Req, u64> for SlowIo {
    fn name(&self) -> &str {
        "slow-io"
    }
    async fn process(&self, _: &StageContext<Req>, _: u64) -> Result<u64, BoxError> {
        let _flag = DropFlag(Arc::clone(&self.dropped));
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok(1)
    }
}

/// A CPU stage that works until it sees cancellation.
struct SpinCpu {
    saw_cancel: Arc<AtomicBool>,
}
impl Stage<Req, u64> for SpinCpu {
    fn name(&self) -> &str {
        "spin-cpu"
    }
    fn kind(&self) -> StageKind {
        StageKind::Cpu
    }
    async fn process(&self, ctx: &StageContext<Req>, _: u64) -> Result<u64, BoxError> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if ctx.is_cancelled() {
                self.saw_cancel.store(true, Ordering::SeqCst);
                return Err("cancelled".into());
            }
            std::hint::spin_loop();
        }
        Ok(2)
    }
}

#[tokio::test]
async fn deadline_cancels_a_slow_io_stage() {
    let dropped = Arc::new(AtomicBool::new(false));
    let engine: Engine<Req, u64> = Engine::builder()
        .config(small_config())
        .stage(SlowIo {
            dropped: Arc::clone(&dropped),
        })
        .build()
        .unwrap();
    let err = engine
        .submit(
            req(1),
            SubmitOptions::new().timeout(Duration::from_millis(30)),
        )
        .await
        .unwrap_err();
    match err {
        Error::DeadlineExceeded { stage, .. } => assert_eq!(stage.as_deref(), Some("slow-io")),
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        dropped.load(Ordering::SeqCst),
        "the stage's work was not cancelled"
    );
    assert_eq!(engine.stats().deadline_exceeded, 1);
}

#[tokio::test]
async fn deadline_reaches_a_cpu_stage_on_the_compute_pool() {
    let saw = Arc::new(AtomicBool::new(false));
    let engine: Engine<Req, u64> = Engine::builder()
        .config(small_config())
        .compute_threads(1)
        .default_timeout(Duration::from_millis(30))
        .stage(SpinCpu {
            saw_cancel: Arc::clone(&saw),
        })
        .build()
        .unwrap();
    let err = engine
        .submit(req(1), SubmitOptions::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::DeadlineExceeded { stage: Some(ref s), .. } if s == "spin-cpu"),
        "{err:?}"
    );
    wait_for(|| saw.load(Ordering::SeqCst)).await;
    // The compute thread is free again.
    wait_for(|| engine.stats().compute_busy == 0).await;
}

#[tokio::test]
async fn deadline_while_queued_is_reported_without_a_stage() {
    let (engine, _order, gate) = recorder_engine(Duration::from_secs(1));
    let e = engine.clone();
    let blocker = tokio::spawn(async move {
        e.submit(Req { n: 0, gated: true }, SubmitOptions::new())
            .await
    });
    wait_for(|| engine.stats().in_flight == 1).await;
    let err = engine
        .submit(
            req(1),
            SubmitOptions::new().timeout(Duration::from_millis(20)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::DeadlineExceeded { stage: None, .. }),
        "{err:?}"
    );
    gate.add_permits(1);
    blocker.await.unwrap().unwrap();
    // The abandoned queue place did not leak the worker slot.
    assert_eq!(
        engine.submit(req(2), SubmitOptions::new()).await.unwrap(),
        2
    );
}

#[tokio::test]
async fn a_full_queue_sheds_at_once() {
    let order = Arc::new(Mutex::new(Vec::new()));
    let gate = Arc::new(Semaphore::new(0));
    let engine: Engine<Req, u64> = Engine::builder()
        .config(small_config())
        .workers(1)
        .queue_capacity(2)
        .stage(Recorder {
            order,
            gate: Arc::clone(&gate),
        })
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for n in 0..3 {
        let e = engine.clone();
        tasks.push(tokio::spawn(async move {
            e.submit(Req { n, gated: true }, SubmitOptions::new()).await
        }));
        wait_for(|| engine.stats().in_flight == n + 1).await;
    }
    // The fourth resolves on its very first poll: no waiting, no queue growth.
    let shed = engine
        .submit(req(9), SubmitOptions::new().priority(Priority::High))
        .now_or_never()
        .expect("shedding must not wait");
    assert!(matches!(shed, Err(Error::Overloaded { .. })), "{shed:?}");
    assert!(shed.unwrap_err().is_retryable());
    assert_eq!(engine.stats().queue_depth, 2);
    gate.add_permits(3);
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(engine.stats().overloaded, 1);
}

#[tokio::test]
async fn shutdown_drains_in_flight_work_and_refuses_new_work() {
    let engine: Engine<Req, u64> = Engine::builder()
        .config(small_config())
        .workers(2)
        .stage(Sleepy(Duration::from_millis(30)))
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for n in 0..10 {
        let e = engine.clone();
        tasks.push(tokio::spawn(async move {
            e.submit(req(n), SubmitOptions::new()).await
        }));
    }
    wait_for(|| engine.stats().in_flight == 10).await;
    let report = engine.shutdown(Duration::from_secs(10)).await;
    assert!(report.drained_in_time);
    assert_eq!(report.in_flight_at_start, 10);
    assert_eq!(report.drained, 10);
    assert_eq!(report.cancelled, 0);
    for (n, t) in tasks.into_iter().enumerate() {
        assert_eq!(t.await.unwrap().unwrap(), n as u64);
    }
    let late = engine.submit(req(99), SubmitOptions::new()).await;
    assert!(matches!(late, Err(Error::ShuttingDown)), "{late:?}");
    let s = engine.stats();
    assert_eq!(
        (s.succeeded, s.rejected_shutting_down, s.in_flight),
        (10, 1, 0)
    );
}

#[tokio::test]
async fn shutdown_cancels_what_misses_the_timeout_and_reports_it() {
    let dropped = Arc::new(AtomicBool::new(false));
    let engine: Engine<Req, u64> = Engine::builder()
        .config(small_config())
        .workers(2)
        .queue_capacity(10)
        .stage(SlowIo {
            dropped: Arc::clone(&dropped),
        })
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for n in 0..5 {
        let e = engine.clone();
        tasks.push(tokio::spawn(async move {
            e.submit(req(n), SubmitOptions::new()).await
        }));
    }
    wait_for(|| engine.stats().in_flight == 5).await;
    let report = engine.shutdown(Duration::from_millis(30)).await;
    assert!(!report.drained_in_time);
    assert_eq!(report.cancelled, 5, "{report:?}");
    assert_eq!(report.cancelled_ids.len(), 5);
    assert_eq!(report.unfinished, 0);
    for t in tasks {
        assert!(matches!(t.await.unwrap(), Err(Error::Cancelled)));
    }
    assert!(dropped.load(Ordering::SeqCst));
}

struct Flaky;
impl Stage<Req, u64> for Flaky {
    fn name(&self) -> &str {
        "flaky"
    }
    async fn process(&self, ctx: &StageContext<Req>, _: u64) -> Result<u64, BoxError> {
        let n = ctx.request().n;
        match n % 10 {
            0 => Err(format!("request {n} failed").into()),
            1 => {
                tokio::time::sleep(Duration::from_millis(5)).await;
                Ok(n)
            }
            // A few panics (each prints a message), enough to show they become outcomes.
            2 if n % 10_000 == 2 => panic!("request {n} panicked"),
            _ => {
                tokio::task::yield_now().await;
                Ok(n)
            }
        }
    }
}

struct Square;
impl Stage<Req, u64> for Square {
    fn name(&self) -> &str {
        "square"
    }
    fn kind(&self) -> StageKind {
        StageKind::Cpu
    }
    async fn process(&self, _: &StageContext<Req>, v: u64) -> Result<u64, BoxError> {
        Ok(v * v)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_of_a_100k_burst_gets_exactly_one_outcome() {
    const N: u64 = 100_000;
    let engine: Engine<Req, u64> = Engine::builder()
        .config(small_config())
        .workers(64)
        .queue_capacity(2_000)
        .compute_threads(2)
        .stage(Flaky)
        .stage(Square)
        .build()
        .unwrap();
    let mut tasks = Vec::with_capacity(N as usize);
    for n in 0..N {
        let e = engine.clone();
        let opts =
            SubmitOptions::new().timeout(Duration::from_millis(if n % 3 == 0 { 2 } else { 5_000 }));
        tasks.push(tokio::spawn(
            async move { (n, e.submit(req(n), opts).await) },
        ));
    }
    let (mut ok, mut overloaded, mut deadline, mut stage) = (0u64, 0u64, 0u64, 0u64);
    let mut seen = vec![false; N as usize];
    for t in tasks {
        let (n, r) = t.await.unwrap();
        assert!(!seen[n as usize], "request {n} got two outcomes");
        seen[n as usize] = true;
        match r {
            Ok(v) => {
                assert_eq!(v, n * n, "request {n} got another request's response");
                ok += 1;
            }
            Err(Error::Overloaded { .. }) => overloaded += 1,
            Err(Error::DeadlineExceeded { .. }) => deadline += 1,
            Err(Error::Stage { .. }) => {
                assert_eq!(n % 10, 0);
                stage += 1
            }
            Err(Error::StagePanicked { .. }) => {
                assert_eq!(n % 10_000, 2);
                stage += 1
            }
            Err(other) => panic!("unexpected outcome {other:?}"),
        }
    }
    assert!(seen.iter().all(|s| *s), "a request got no outcome");
    assert_eq!(ok + overloaded + deadline + stage, N);
    assert!(ok > 0 && overloaded > 0, "ok {ok} overloaded {overloaded}");
    let s = engine.stats();
    assert_eq!(s.submitted, N);
    assert_eq!(
        (
            s.succeeded,
            s.overloaded,
            s.deadline_exceeded,
            s.stage_errors
        ),
        (ok, overloaded, deadline, stage)
    );
    assert_eq!(
        (s.in_flight, s.queue_depth, s.cancelled, s.abandoned),
        (0, 0, 0, 0)
    );
    assert_eq!(s.latency.count, ok + deadline + stage);
}

struct Concurrency {
    now: Arc<AtomicUsize>,
    max: Arc<AtomicUsize>,
}
impl Stage<Req, u64> for Concurrency {
    fn name(&self) -> &str {
        "limited"
    }
    async fn process(&self, ctx: &StageContext<Req>, _: u64) -> Result<u64, BoxError> {
        let c = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(c, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(5)).await;
        self.now.fetch_sub(1, Ordering::SeqCst);
        Ok(ctx.request().n)
    }
}

#[tokio::test]
async fn per_stage_limit_bounds_concurrency_and_batch_keeps_order() {
    let max = Arc::new(AtomicUsize::new(0));
    let engine: Engine<Req, u64> = Engine::builder()
        .config(small_config())
        .workers(16)
        .stage_with_limit(
            Concurrency {
                now: Arc::new(AtomicUsize::new(0)),
                max: Arc::clone(&max),
            },
            3,
        )
        .build()
        .unwrap();
    let results = engine
        .process_batch((0..40).map(req), SubmitOptions::new(), 16)
        .await;
    let got: Vec<u64> = results.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(got, (0..40).collect::<Vec<_>>());
    assert_eq!(max.load(Ordering::SeqCst), 3);
}

/// Burns the CPU for a while.
struct Burn(Duration);
impl Stage<Req, u64> for Burn {
    fn name(&self) -> &str {
        "burn"
    }
    fn kind(&self) -> StageKind {
        StageKind::Cpu
    }
    async fn process(&self, _: &StageContext<Req>, _: u64) -> Result<u64, BoxError> {
        let t = Instant::now();
        while t.elapsed() < self.0 {
            std::hint::spin_loop();
        }
        Ok(0)
    }
}

#[tokio::test(flavor = "current_thread")]
async fn cpu_stages_never_block_the_async_runtime() {
    let engine: Engine<Req, u64> = Engine::builder()
        .config(small_config())
        .compute_threads(1)
        .stage(Burn(Duration::from_millis(200)))
        .build()
        .unwrap();
    let e = engine.clone();
    let job = tokio::spawn(async move { e.submit(req(0), SubmitOptions::new()).await });
    wait_for(|| engine.stats().compute_busy == 1).await;
    // On this single-threaded runtime the ticker only runs if the CPU work is elsewhere.
    let mut ticks = 0;
    while engine.stats().compute_busy == 1 {
        tokio::time::sleep(Duration::from_millis(5)).await;
        ticks += 1;
    }
    job.await.unwrap().unwrap();
    assert!(ticks >= 5, "runtime was blocked: {ticks} ticks");
}

#[tokio::test]
async fn stage_errors_and_panics_are_outcomes_not_crashes() {
    let engine: Engine<Req, u64> = Engine::builder()
        .config(small_config())
        .stage(Flaky)
        .build()
        .unwrap();
    let e = engine
        .submit(req(10), SubmitOptions::new())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Stage { ref stage, .. } if stage == "flaky"));
    assert!(e.to_string().contains("request 10 failed"));
    let p = engine
        .submit(req(2), SubmitOptions::new())
        .await
        .unwrap_err();
    assert!(matches!(p, Error::StagePanicked { ref message, .. } if message.contains("request 2")));
    assert_eq!(
        engine.submit(req(13), SubmitOptions::new()).await.unwrap(),
        13
    );
}

#[tokio::test]
async fn dropped_submit_futures_count_as_abandoned_and_free_their_slot() {
    let (engine, _order, gate) = recorder_engine(Duration::from_secs(1));
    let running = engine.submit(Req { n: 0, gated: true }, SubmitOptions::new());
    let queued = engine.submit(req(1), SubmitOptions::new());
    let mut running = Box::pin(running);
    let mut queued = Box::pin(queued);
    assert!(futures::poll!(&mut running).is_pending());
    assert!(futures::poll!(&mut queued).is_pending());
    assert_eq!(engine.stats().queue_depth, 1);
    drop(running);
    // The slot passed to the queued request.
    assert_eq!(queued.await.unwrap(), 1);
    drop(gate);
    let s = engine.stats();
    assert_eq!((s.abandoned, s.succeeded, s.in_flight), (1, 1, 0));
}

#[test]
fn building_checks_the_configuration() {
    let none: Result<Engine<Req, u64>, _> = Engine::builder().config(small_config()).build();
    assert!(matches!(none, Err(Error::Invalid(_))));
    let zero: Result<Engine<Req, u64>, _> = Engine::builder()
        .config(small_config())
        .workers(0)
        .stage(Flaky)
        .build();
    assert!(matches!(zero, Err(Error::Invalid(_))));
    let dup: Result<Engine<Req, u64>, _> = Engine::builder()
        .config(small_config())
        .stage(Flaky)
        .stage(Flaky)
        .build();
    assert!(matches!(dup, Err(Error::Invalid(ref m)) if m.contains("flaky")));
}
