//! The stream API, resource-aware admission, objectives, metrics, tower integration and the
//! circuit breaker as a layer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::StreamExt;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use pipeline_core::{
    AdmissionConfig, BoxError, BreakerState, CircuitBreaker, CircuitBreakerLayer, Engine,
    EngineConfig, Error, MachineResources, Objectives, Preset, Priority, Stage, StageContext,
    StageKind, StreamLimits, SubmitOptions,
};
use std::time::Duration;
use tower::{Layer, Service, ServiceExt};

fn config() -> EngineConfig {
    EngineConfig::preset(
        Preset::Minimal,
        MachineResources {
            cores: 2,
            memory_bytes: 64 << 30,
        },
    )
}

/// Echoes the request's length after a short wait.
struct Len;
impl Stage<Vec<u8>, usize> for Len {
    fn name(&self) -> &str {
        "len"
    }
    async fn process(&self, ctx: &StageContext<Vec<u8>>, _: usize) -> Result<usize, BoxError> {
        tokio::time::sleep(Duration::from_micros(200)).await;
        Ok(ctx.request().len())
    }
}

#[tokio::test]
async fn stream_yields_in_order_within_the_byte_bound() {
    let engine: Engine<Vec<u8>, usize> = Engine::builder()
        .config(config())
        .workers(64)
        .stage(Len)
        .build()
        .unwrap();
    let sizes: Vec<usize> = (0..500).map(|i| 100 + (i * 37) % 900).collect();
    let input = futures::stream::iter(sizes.clone().into_iter().map(|n| vec![0u8; n]));
    let limits = StreamLimits {
        max_bytes_in_flight: 4_000,
        max_concurrency: 32,
    };
    let mut out = engine.process_stream(input, SubmitOptions::new(), limits, |r| r.len());
    let mut got = Vec::new();
    while let Some(r) = out.next().await {
        assert!(out.bytes_in_flight() <= 4_000);
        got.push(r.unwrap());
    }
    assert_eq!(got, sizes);
    assert!(out.peak_bytes_in_flight() <= 4_000);
    assert!(
        out.peak_bytes_in_flight() > 1_000,
        "the stream never overlapped requests"
    );
}

#[tokio::test]
async fn a_request_larger_than_the_bound_still_runs_alone() {
    let engine: Engine<Vec<u8>, usize> = Engine::builder()
        .config(config())
        .stage(Len)
        .build()
        .unwrap();
    let input = futures::stream::iter(vec![vec![0u8; 10], vec![0u8; 5_000], vec![0u8; 10]]);
    let limits = StreamLimits {
        max_bytes_in_flight: 100,
        max_concurrency: 8,
    };
    let out: Vec<usize> = engine
        .process_stream(input, SubmitOptions::new(), limits, |r| r.len())
        .map(|r| r.unwrap())
        .collect()
        .await;
    assert_eq!(out, vec![10, 5_000, 10]);
}

#[tokio::test]
async fn memory_pressure_sheds_all_but_critical_and_soft_pressure_only_slows() {
    let hard = AdmissionConfig {
        memory_hard_bytes: Some(1),
        ..AdmissionConfig::default()
    };
    let engine: Engine<Vec<u8>, usize> = Engine::builder()
        .config(config())
        .admission(hard)
        .stage(Len)
        .build()
        .unwrap();
    let shed = engine.submit(vec![1], SubmitOptions::new()).await;
    assert!(
        matches!(
            shed,
            Err(Error::Overloaded {
                reason: "memory pressure"
            })
        ),
        "{shed:?}"
    );
    let critical = engine
        .submit(
            vec![1, 2],
            SubmitOptions::new().priority(Priority::Critical),
        )
        .await;
    assert_eq!(critical.unwrap(), 2);

    let soft = AdmissionConfig {
        memory_soft_bytes: Some(1),
        memory_hard_bytes: None,
        slow_delay: Duration::from_millis(1),
        ..AdmissionConfig::default()
    };
    let engine: Engine<Vec<u8>, usize> = Engine::builder()
        .config(config())
        .admission(soft)
        .stage(Len)
        .build()
        .unwrap();
    assert_eq!(
        engine
            .submit(vec![1, 2, 3], SubmitOptions::new())
            .await
            .unwrap(),
        3
    );
    assert!(engine.stats().rss_bytes > 0);
}

/// Fails every request whose length is odd.
struct FailOdd;
impl Stage<Vec<u8>, usize> for FailOdd {
    fn name(&self) -> &str {
        "fail-odd"
    }
    fn kind(&self) -> StageKind {
        StageKind::Cpu
    }
    async fn process(&self, ctx: &StageContext<Vec<u8>>, _: usize) -> Result<usize, BoxError> {
        let n = ctx.request().len();
        if n % 2 == 1 {
            return Err("odd".into());
        }
        Ok(n)
    }
}

#[tokio::test]
async fn a_window_that_misses_the_error_objective_is_counted() {
    let engine: Engine<Vec<u8>, usize> = Engine::builder()
        .config(config())
        .objectives(Objectives {
            max_error_rate: Some(0.1),
            p99_latency: Some(Duration::from_secs(60)),
            // Long enough that the whole batch lands in the first window even on a loaded
            // machine (with 20 ms, a slow batch was split over two windows, both missing).
            window: Duration::from_millis(1000),
            min_requests: 10,
        })
        .stage(FailOdd)
        .build()
        .unwrap();
    let batch: Vec<Vec<u8>> = (0..40).map(|i| vec![0u8; i]).collect();
    let results = engine.process_batch(batch, SubmitOptions::new(), 8).await;
    assert_eq!(results.iter().filter(|r| r.is_err()).count(), 20);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // The next completion closes the window and judges it.
    engine
        .submit(vec![0; 2], SubmitOptions::new())
        .await
        .unwrap();
    let s = engine.stats();
    assert_eq!(s.slo_violations, 1, "{s:?}");
    assert_eq!(s.stages.len(), 1);
    assert_eq!(s.stages[0].latency.count, 41);
    assert!(s.latency.p50 <= s.latency.p95 && s.latency.p95 <= s.latency.p99);
}

#[test]
fn metrics_are_reported_through_the_facade() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || {
        let engine: Engine<Vec<u8>, usize> = Engine::builder()
            .config(config())
            .name("test-engine")
            .stage(FailOdd)
            .build()
            .unwrap();
        rt.block_on(async {
            for i in 0..5 {
                let _ = engine.submit(vec![0u8; i], SubmitOptions::new()).await;
            }
        });
    });
    let snap = snapshotter.snapshot().into_vec();
    let counter = |outcome: &str| {
        snap.iter()
            .find(|(k, _, _, _)| {
                k.key().name() == "pipeline_requests_total"
                    && k.key()
                        .labels()
                        .any(|l| l.key() == "outcome" && l.value() == outcome)
            })
            .map(|(_, _, _, v)| match v {
                DebugValue::Counter(c) => *c,
                _ => 0,
            })
    };
    assert_eq!(counter("ok"), Some(3));
    assert_eq!(counter("stage_error"), Some(2));
    let has = |name: &str| snap.iter().any(|(k, _, _, _)| k.key().name() == name);
    assert!(has("pipeline_request_duration_seconds"));
    assert!(has("pipeline_stage_duration_seconds"));
    assert!(has("pipeline_in_flight"));
}

#[tokio::test]
async fn the_engine_is_a_tower_service() {
    let engine: Engine<Vec<u8>, usize> = Engine::builder()
        .config(config())
        .stage(Len)
        .build()
        .unwrap();
    let mut svc = tower::ServiceBuilder::new()
        .load_shed()
        .concurrency_limit(8)
        .timeout(Duration::from_secs(5))
        .service(engine);
    let n = svc.ready().await.unwrap().call(vec![0; 4]).await.unwrap();
    assert_eq!(n, 4);
}

#[tokio::test]
async fn circuit_breaker_layer_opens_after_failures_and_refuses_at_once() {
    let breaker = CircuitBreaker::builder("dep")
        .consecutive_failures(3)
        .open_duration(Duration::from_secs(60))
        .build();
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = calls.clone();
    let failing = tower::service_fn(move |_: ()| {
        c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async { Err::<(), BoxError>("down".into()) }
    });
    let mut svc = CircuitBreakerLayer::new(breaker.clone()).layer(failing);
    for _ in 0..3 {
        assert!(svc.ready().await.unwrap().call(()).await.is_err());
    }
    assert_eq!(breaker.state(), BreakerState::Open);
    let err = svc.ready().await.unwrap().call(()).await.unwrap_err();
    let err = err.downcast::<Error>().unwrap();
    assert!(matches!(*err, Error::CircuitOpen { .. }));
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 3);

    let ok = breaker.call(async { Ok::<_, ()>(1) }).await;
    assert!(matches!(ok, Err(Error::CircuitOpen { .. })));
}

/// Answers even-length requests from a "cache".
struct Cache;
impl Stage<Vec<u8>, Option<usize>> for Cache {
    fn name(&self) -> &str {
        "cache"
    }
    async fn process(
        &self,
        ctx: &StageContext<Vec<u8>>,
        _: Option<usize>,
    ) -> Result<Option<usize>, BoxError> {
        Ok((ctx.request().len() % 2 == 0).then_some(0))
    }
}

/// Computes the answer; skipped when the cache answered.
struct Compute(std::sync::Arc<std::sync::atomic::AtomicUsize>);
impl Stage<Vec<u8>, Option<usize>> for Compute {
    fn name(&self) -> &str {
        "compute"
    }
    fn kind(&self) -> StageKind {
        StageKind::Cpu
    }
    fn should_run(&self, _: &StageContext<Vec<u8>>, resp: &Option<usize>) -> bool {
        resp.is_none()
    }
    async fn process(
        &self,
        ctx: &StageContext<Vec<u8>>,
        _: Option<usize>,
    ) -> Result<Option<usize>, BoxError> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(Some(ctx.request().len()))
    }
}

#[tokio::test]
async fn answered_requests_skip_later_stages() {
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let engine: Engine<Vec<u8>, Option<usize>> = Engine::builder()
        .config(config())
        .stage(Cache)
        .stage(Compute(runs.clone()))
        .build()
        .unwrap();
    let out = engine
        .process_batch((0..10).map(|n| vec![0u8; n]), SubmitOptions::new(), 4)
        .await;
    let out: Vec<usize> = out.into_iter().map(|r| r.unwrap().unwrap()).collect();
    assert_eq!(out, vec![0, 1, 0, 3, 0, 5, 0, 7, 0, 9]);
    assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 5);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]
    /// Whatever the sizes and the bound, the stream yields exactly the inputs' results in order
    /// (reference: a plain sequential map), and the bytes in flight never exceed the bound
    /// (or one oversized request alone).
    #[test]
    fn stream_matches_sequential_reference(
        sizes in proptest::collection::vec(0usize..300, 0..60),
        bound in 1usize..1000,
        conc in 1usize..16,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let engine: Engine<Vec<u8>, usize> = Engine::builder().config(config()).workers(8).stage(Len).build().unwrap();
        let input = futures::stream::iter(sizes.clone().into_iter().map(|n| vec![0u8; n]));
        let limits = StreamLimits { max_bytes_in_flight: bound, max_concurrency: conc };
        let (got, peak) = rt.block_on(async {
            let mut out = engine.process_stream(input, SubmitOptions::new(), limits, |r| r.len());
            let mut got = Vec::new();
            while let Some(r) = out.next().await {
                got.push(r.unwrap());
            }
            (got, out.peak_bytes_in_flight())
        });
        let largest = sizes.iter().copied().max().unwrap_or(0);
        proptest::prop_assert_eq!(got, sizes);
        proptest::prop_assert!(peak <= bound.max(largest));
    }
}

/// Burns the CPU for a few milliseconds.
struct Busy;
impl Stage<Vec<u8>, usize> for Busy {
    fn name(&self) -> &str {
        "busy"
    }
    fn kind(&self) -> StageKind {
        StageKind::Cpu
    }
    async fn process(&self, ctx: &StageContext<Vec<u8>>, _: usize) -> Result<usize, BoxError> {
        let t = std::time::Instant::now();
        while t.elapsed() < Duration::from_millis(3) && !ctx.is_cancelled() {
            std::hint::spin_loop();
        }
        Ok(ctx.request().len())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compute_backlog_sheds_new_requests_but_not_critical_ones() {
    let engine: Engine<Vec<u8>, usize> = Engine::builder()
        .config(config())
        .workers(64)
        .compute_threads(1)
        .admission(AdmissionConfig {
            compute_queue_soft: Some(2),
            compute_queue_hard: Some(4),
            slow_delay: Duration::from_millis(1),
            ..AdmissionConfig::default()
        })
        .stage(Busy)
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let e = engine.clone();
        tasks.push(tokio::spawn(async move {
            e.submit(
                vec![0; 1],
                SubmitOptions::new().priority(Priority::Critical),
            )
            .await
        }));
    }
    for _ in 0..2000 {
        if engine.stats().compute_queue_depth >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(engine.stats().compute_queue_depth >= 4);
    let shed = engine.submit(vec![0; 2], SubmitOptions::new()).await;
    assert!(
        matches!(
            shed,
            Err(Error::Overloaded {
                reason: "compute queue pressure"
            })
        ),
        "{shed:?}"
    );
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 1);
    }
}

#[tokio::test]
async fn a_window_that_misses_the_latency_objective_is_counted() {
    let engine: Engine<Vec<u8>, usize> = Engine::builder()
        .config(config())
        .objectives(Objectives {
            p99_latency: Some(Duration::from_micros(50)),
            max_error_rate: None,
            window: Duration::from_millis(10),
            min_requests: 1,
        })
        .stage(Busy)
        .build()
        .unwrap();
    for _ in 0..5 {
        engine
            .submit(vec![0; 1], SubmitOptions::new())
            .await
            .unwrap();
    }
    // Requests of ~3 ms: the first window to close has a p99 far above 50 us.
    assert!(engine.stats().slo_violations >= 1);
}

#[test]
fn configuration_loads_from_a_file() {
    let dir = std::env::temp_dir().join(format!("pipeline-core-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("engine.toml");
    std::fs::write(
        &path,
        "workers = 5\nqueue_capacity = 17\n[stage_limits]\nbusy = 2\n",
    )
    .unwrap();
    let cfg = EngineConfig::load(Some(&path)).unwrap();
    // The environment may override (PIPELINE_*); without it the file's values hold.
    if std::env::var_os("PIPELINE_WORKERS").is_none() {
        assert_eq!(cfg.workers, 5);
    }
    let queue = std::env::var("PIPELINE_QUEUE_CAPACITY").map_or(17, |v| v.parse().unwrap());
    assert_eq!(cfg.stage_limits.get("busy"), Some(&2));
    let missing = EngineConfig::load(Some(&dir.join("nope.toml"))).unwrap_err();
    assert!(missing.to_string().contains("nope.toml"), "{missing}");
    let engine: Engine<Vec<u8>, usize> = Engine::builder().config(cfg).stage(Busy).build().unwrap();
    assert_eq!(engine.config().queue_capacity, queue);
    std::fs::remove_dir_all(&dir).unwrap();
}
