//! The engine: admission, the priority gate, running stages with deadlines and cancellation,
//! the compute pool, batch submission and graceful shutdown.

use crate::compute::ComputePool;
use crate::config::{AdmissionConfig, EngineConfig, Objectives};
use crate::error::{Error, Result};
use crate::queue::{Acquire, PriorityGate};
use crate::stage::{DynStage, Priority, Stage, StageContext, StageKind, SubmitOptions};
use crate::stats::{duration_ns, process_rss_bytes, Collector, EngineStats, Outcome};
use futures::{FutureExt, StreamExt};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, Notify, Semaphore};
use tokio_util::sync::CancellationToken;

struct StageEntry<Req, Resp> {
    stage: Arc<dyn DynStage<Req, Resp>>,
    name: String,
    kind: StageKind,
    limit: Option<Arc<Semaphore>>,
}

pub(crate) struct Inner<Req, Resp> {
    config: EngineConfig,
    stages: Vec<StageEntry<Req, Resp>>,
    gate: PriorityGate,
    pool: ComputePool,
    pub(crate) stats: Collector,
    root: CancellationToken,
    /// Children of `root` that running requests watch, so the waiter registrations of many
    /// requests do not contend on one lock.
    token_shards: Vec<CancellationToken>,
    closing: AtomicBool,
    in_flight: AtomicUsize,
    idle: Notify,
    next_id: AtomicU64,
    epoch: Instant,
    rss: AtomicU64,
    rss_sampled_ns: AtomicU64,
    cancelled_ids: parking_lot::Mutex<Vec<u64>>,
}

/// The async request engine. Cheap to clone (all clones share one engine).
///
/// Each [`submit`](Engine::submit) runs on the caller's task: it takes a worker slot (or waits
/// in the bounded priority queue, or is shed at once), then runs every stage in order, I/O
/// stages on the caller's runtime and CPU stages on the engine's compute pool, under the
/// request's deadline. Dropping the `submit` future cancels the request (it is counted as
/// `abandoned`).
pub struct Engine<Req, Resp> {
    inner: Arc<Inner<Req, Resp>>,
}

impl<Req, Resp> Clone for Engine<Req, Resp> {
    fn clone(&self) -> Self {
        Engine {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<Req, Resp> std::fmt::Debug for Engine<Req, Resp> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("workers", &self.inner.config.workers)
            .field("queue_capacity", &self.inner.config.queue_capacity)
            .field(
                "stages",
                &self
                    .inner
                    .stages
                    .iter()
                    .map(|s| &s.name)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// What [`Engine::shutdown`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShutdownReport {
    /// Admitted requests not finished when shutdown began (queued or running).
    pub in_flight_at_start: u64,
    /// Of those, requests that finished (with any outcome other than cancellation) during the
    /// drain.
    pub drained: u64,
    /// Requests cancelled because the timeout passed.
    pub cancelled: u64,
    /// Ids ([`StageContext::id`]) of the cancelled requests.
    pub cancelled_ids: Vec<u64>,
    /// Requests still not finished after cancellation (their callers stopped polling them).
    pub unfinished: u64,
    /// Whether everything finished within the timeout.
    pub drained_in_time: bool,
    /// How long the shutdown took.
    pub elapsed: Duration,
}

/// A stage and its optional concurrency limit, as given to the builder.
type StageSpec<Req, Resp> = (Arc<dyn DynStage<Req, Resp>>, Option<usize>);

/// Builds an [`Engine`]: configuration and stages.
pub struct EngineBuilder<Req, Resp> {
    config: EngineConfig,
    stages: Vec<StageSpec<Req, Resp>>,
    name: String,
}

impl<Req, Resp> Default for EngineBuilder<Req, Resp> {
    fn default() -> Self {
        EngineBuilder {
            config: EngineConfig::default(),
            stages: Vec::new(),
            name: "pipeline".into(),
        }
    }
}

impl<Req, Resp> EngineBuilder<Req, Resp>
where
    Req: Send + Sync + 'static,
    Resp: Default + Send + 'static,
{
    /// Replaces the whole configuration (later builder calls still override fields).
    pub fn config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }
    /// Requests that run their stages at the same time.
    pub fn workers(mut self, n: usize) -> Self {
        self.config.workers = n;
        self
    }
    /// Requests that may wait for a worker before new ones are shed.
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.config.queue_capacity = n;
        self
    }
    /// Threads of the compute pool for CPU-bound stages.
    pub fn compute_threads(mut self, n: usize) -> Self {
        self.config.compute_threads = n;
        self
    }
    /// How fast waiting requests gain priority (see [`EngineConfig::aging`]).
    pub fn aging(mut self, d: Duration) -> Self {
        self.config.aging = d;
        self
    }
    /// Deadline for requests submitted without one.
    pub fn default_timeout(mut self, d: Duration) -> Self {
        self.config.default_timeout = Some(d);
        self
    }
    /// Resource-aware admission thresholds.
    pub fn admission(mut self, a: AdmissionConfig) -> Self {
        self.config.admission = a;
        self
    }
    /// Latency and error-rate objectives.
    pub fn objectives(mut self, o: Objectives) -> Self {
        self.config.objectives = o;
        self
    }
    /// The `engine` label on metrics and the compute threads' name prefix.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
    /// Appends a stage (its concurrency limit comes from `config.stage_limits`, if any).
    pub fn stage<S: Stage<Req, Resp>>(mut self, stage: S) -> Self {
        self.stages.push((Arc::new(stage), None));
        self
    }
    /// Appends a stage that at most `limit` requests run at once.
    pub fn stage_with_limit<S: Stage<Req, Resp>>(mut self, stage: S, limit: usize) -> Self {
        self.stages.push((Arc::new(stage), Some(limit)));
        self
    }

    /// Checks the configuration, starts the compute pool and returns the engine.
    pub fn build(self) -> Result<Engine<Req, Resp>> {
        let config = self.config;
        config.validate()?;
        if self.stages.is_empty() {
            return Err(Error::Invalid("an engine needs at least one stage".into()));
        }
        let mut stages = Vec::with_capacity(self.stages.len());
        for (stage, limit) in self.stages {
            let name = stage.name().to_string();
            if stages
                .iter()
                .any(|s: &StageEntry<Req, Resp>| s.name == name)
            {
                return Err(Error::Invalid(format!("two stages are named {name:?}")));
            }
            let limit = limit.or_else(|| config.stage_limits.get(&name).copied());
            if limit == Some(0) {
                return Err(Error::Invalid(format!(
                    "stage {name}: limit must be at least 1"
                )));
            }
            stages.push(StageEntry {
                kind: stage.kind(),
                stage,
                name,
                limit: limit.map(|n| Arc::new(Semaphore::new(n))),
            });
        }
        let pool = ComputePool::new(
            config.compute_threads,
            &format!("{}-compute", self.name),
            duration_ns(config.aging),
        )
        .map_err(|e| Error::Invalid(format!("cannot start compute threads: {e}")))?;
        let stats = Collector::new(
            &self.name,
            &stages
                .iter()
                .map(|s| (s.name.clone(), s.kind))
                .collect::<Vec<_>>(),
            config.objectives.clone(),
        );
        let gate = PriorityGate::new(
            config.workers,
            config.queue_capacity,
            duration_ns(config.aging),
        );
        let root = CancellationToken::new();
        Ok(Engine {
            inner: Arc::new(Inner {
                gate,
                pool,
                stats,
                stages,
                token_shards: (0..16).map(|_| root.child_token()).collect(),
                root,
                closing: AtomicBool::new(false),
                in_flight: AtomicUsize::new(0),
                idle: Notify::new(),
                next_id: AtomicU64::new(0),
                epoch: Instant::now(),
                rss: AtomicU64::new(0),
                rss_sampled_ns: AtomicU64::new(0),
                cancelled_ids: parking_lot::Mutex::new(Vec::new()),
                config,
            }),
        })
    }
}

enum Pressure {
    Normal,
    Slow,
    Shed(&'static str),
}

/// Counts an admitted request in flight; records exactly one outcome when dropped.
struct Admitted<'a, Req, Resp> {
    inner: &'a Inner<Req, Resp>,
    id: u64,
    start: Instant,
    outcome: Option<Outcome>,
}

impl<Req, Resp> Drop for Admitted<'_, Req, Resp> {
    fn drop(&mut self) {
        let inner = self.inner;
        let outcome = self.outcome.unwrap_or(Outcome::Abandoned);
        let now = Instant::now();
        // Shed requests did no work: their (tiny) latency would only flatter the percentiles.
        let latency = (outcome != Outcome::Overloaded)
            .then(|| duration_ns(now.saturating_duration_since(self.start)));
        let now_ns = duration_ns(now.saturating_duration_since(inner.epoch));
        inner.stats.outcome(outcome, self.id, latency, now_ns);
        if outcome == Outcome::Cancelled {
            inner.cancelled_ids.lock().push(self.id);
        }
        let left = inner.in_flight.fetch_sub(1, Ordering::SeqCst) - 1;
        inner.stats.in_flight_gauge.set(left as f64);
        if left == 0 && inner.closing.load(Ordering::SeqCst) {
            inner.idle.notify_waiters();
        }
    }
}

/// A worker slot; handed to the next waiter when dropped.
struct Slot<'a>(&'a PriorityGate);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// A place in the queue; gives back a slot granted too late when dropped.
struct Ticket<'a> {
    gate: &'a PriorityGate,
    rx: oneshot::Receiver<()>,
    done: bool,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        self.rx.close();
        if self.rx.try_recv().is_ok() {
            self.gate.release();
        } else {
            self.gate.note_abandoned();
        }
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await,
        None => std::future::pending().await,
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".into()
    }
}

impl<Req, Resp> Engine<Req, Resp>
where
    Req: Send + Sync + 'static,
    Resp: Default + Send + 'static,
{
    /// A builder with the auto-configured balanced preset.
    pub fn builder() -> EngineBuilder<Req, Resp> {
        EngineBuilder::default()
    }

    /// The configuration the engine runs with.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// Runs one request through every stage and returns its response, or exactly one error:
    /// [`Error::Overloaded`] at once when the queue is full or resources are short,
    /// [`Error::DeadlineExceeded`] when the deadline passes (in the queue or in a stage, whose
    /// work is cancelled), the stage's error ([`Error::Stage`], [`Error::StagePanicked`]),
    /// [`Error::ShuttingDown`] after [`shutdown`](Self::shutdown) began, or [`Error::Cancelled`]
    /// when shutdown's timeout cancelled it.
    pub async fn submit(&self, request: Req, opts: SubmitOptions) -> Result<Resp> {
        let inner = &*self.inner;
        let start = Instant::now();
        let id = inner.next_id.fetch_add(1, Ordering::Relaxed);
        let now_ns = duration_ns(start.saturating_duration_since(inner.epoch));

        let slow = match self.pressure(now_ns) {
            Pressure::Shed(reason) if opts.priority != Priority::Critical => {
                inner.stats.outcome(Outcome::Overloaded, id, None, now_ns);
                return Err(Error::Overloaded { reason });
            }
            Pressure::Slow => opts.priority != Priority::Critical,
            _ => false,
        };

        // Count in flight before checking `closing` so shutdown never misses a request.
        let now_in_flight = inner.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        inner.stats.in_flight_gauge.set(now_in_flight as f64);
        if inner.closing.load(Ordering::SeqCst) {
            let left = inner.in_flight.fetch_sub(1, Ordering::SeqCst) - 1;
            if left == 0 {
                inner.idle.notify_waiters();
            }
            inner.stats.outcome(Outcome::ShuttingDown, id, None, now_ns);
            return Err(Error::ShuttingDown);
        }
        // From here on the guard records exactly one outcome, even if this future is dropped.
        let mut admitted = Admitted {
            inner,
            id,
            start,
            outcome: None,
        };
        let deadline = opts.deadline.or_else(|| {
            inner
                .config
                .default_timeout
                .and_then(|t| start.checked_add(t))
        });
        if slow {
            tokio::time::sleep(inner.config.admission.slow_delay).await;
        }

        let gate = &inner.gate;
        let acquired = gate.acquire(opts.priority, now_ns, usize::MAX);
        if let Acquire::Full = acquired {
            admitted.outcome = Some(Outcome::Overloaded);
            return Err(Error::Overloaded {
                reason: "queue full",
            });
        }
        let slot = match acquired {
            // Boxed: only waiting requests pay for the waiting state, and the `submit` future
            // of the common path stays small.
            Acquire::Wait(rx) => Box::pin(self.wait_in_queue(&mut admitted, rx, deadline)).await?,
            Acquire::Granted | Acquire::Full => Slot(gate),
        };
        self.run(admitted, slot, request, opts.priority, deadline)
            .await
    }

    /// Waits in the queue for a worker slot, the deadline or shutdown.
    async fn wait_in_queue<'a>(
        &'a self,
        admitted: &mut Admitted<'a, Req, Resp>,
        rx: oneshot::Receiver<()>,
        deadline: Option<Instant>,
    ) -> Result<Slot<'a>> {
        let inner = &*self.inner;
        let gate = &inner.gate;
        inner.stats.queue_gauge.set(gate.depth() as f64);
        let mut ticket = Ticket {
            gate,
            rx,
            done: false,
        };
        let waited = tokio::select! {
            biased;
            r = &mut ticket.rx => r.is_ok(),
            _ = sleep_until_opt(deadline) => {
                admitted.outcome = Some(Outcome::DeadlineExceeded);
                return Err(Error::DeadlineExceeded { stage: None, elapsed: admitted.start.elapsed() });
            }
            _ = inner.token_shards[(admitted.id % 16) as usize].cancelled() => false,
        };
        inner.stats.queue_gauge.set(gate.depth() as f64);
        if !waited {
            admitted.outcome = Some(Outcome::Cancelled);
            return Err(Error::Cancelled);
        }
        ticket.done = true;
        Ok(Slot(gate))
    }

    async fn run(
        &self,
        mut admitted: Admitted<'_, Req, Resp>,
        slot: Slot<'_>,
        request: Req,
        priority: Priority,
        deadline: Option<Instant>,
    ) -> Result<Resp> {
        let inner = &*self.inner;
        let ctx = StageContext {
            id: admitted.id,
            request: Arc::new(request),
            deadline,
            priority,
            // An independent token (no lock shared with other requests to create or drop it);
            // shutdown reaches it through the shard token watched below.
            cancel: CancellationToken::new(),
        };
        let current = AtomicUsize::new(0);
        let result = tokio::select! {
            biased;
            r = self.run_stages(&ctx, &current) => r,
            _ = sleep_until_opt(deadline) => {
                ctx.cancel.cancel();
                let stage = inner.stages.get(current.load(Ordering::Relaxed)).map(|s| s.name.clone());
                Err(Error::DeadlineExceeded { stage, elapsed: admitted.start.elapsed() })
            }
            _ = inner.token_shards[(admitted.id % 16) as usize].cancelled() => {
                ctx.cancel.cancel();
                Err(Error::Cancelled)
            }
        };
        drop(slot);
        // A stage that noticed the cancellation itself and returned an error: report why.
        let result = match result {
            Err(Error::Stage { .. } | Error::Cancelled)
                if !inner.root.is_cancelled() && deadline.is_some_and(|d| Instant::now() >= d) =>
            {
                let stage = inner
                    .stages
                    .get(current.load(Ordering::Relaxed))
                    .map(|s| s.name.clone());
                Err(Error::DeadlineExceeded {
                    stage,
                    elapsed: admitted.start.elapsed(),
                })
            }
            Err(Error::Stage { .. }) if inner.root.is_cancelled() => Err(Error::Cancelled),
            other => other,
        };
        admitted.outcome = Some(match &result {
            Ok(_) => Outcome::Ok,
            Err(Error::DeadlineExceeded { .. }) => Outcome::DeadlineExceeded,
            Err(Error::Cancelled) => Outcome::Cancelled,
            Err(_) => Outcome::StageError,
        });
        result
    }

    async fn run_stages(&self, ctx: &StageContext<Req>, current: &AtomicUsize) -> Result<Resp> {
        let inner = &*self.inner;
        let mut resp = Resp::default();
        for (i, st) in inner.stages.iter().enumerate() {
            if !st.stage.should_run(ctx, &resp) {
                continue;
            }
            current.store(i, Ordering::Relaxed);
            let _permit = match &st.limit {
                Some(sem) => Some(sem.acquire().await.map_err(|_| Error::Cancelled)?),
                None => None,
            };
            let t0 = Instant::now();
            let out = match st.kind {
                StageKind::Io => {
                    match AssertUnwindSafe(st.stage.process_boxed(ctx, resp))
                        .catch_unwind()
                        .await
                    {
                        Ok(Ok(r)) => Ok(r),
                        Ok(Err(source)) => Err(Error::Stage {
                            stage: st.name.clone(),
                            source,
                        }),
                        Err(p) => Err(Error::StagePanicked {
                            stage: st.name.clone(),
                            message: panic_message(p.as_ref()),
                        }),
                    }
                }
                StageKind::Cpu => self.run_cpu(st, ctx, resp).await,
            };
            inner.stats.stage(i, duration_ns(t0.elapsed()));
            resp = out?;
        }
        Ok(resp)
    }

    async fn run_cpu(
        &self,
        st: &StageEntry<Req, Resp>,
        ctx: &StageContext<Req>,
        resp: Resp,
    ) -> Result<Resp> {
        let (tx, rx) = oneshot::channel();
        let stage = Arc::clone(&st.stage);
        let ctx2 = ctx.clone();
        let handle = tokio::runtime::Handle::try_current().ok();
        let job = Box::new(move || {
            if ctx2.is_cancelled() || tx.is_closed() {
                return;
            }
            let _guard = handle.as_ref().map(|h| h.enter());
            let r = std::panic::catch_unwind(AssertUnwindSafe(|| {
                futures::executor::block_on(stage.process_boxed(&ctx2, resp))
            }));
            let _ = tx.send(r);
        });
        if self.inner.pool.spawn(ctx.priority, job).is_err() {
            return Err(Error::Cancelled);
        }
        self.inner
            .stats
            .compute_gauge
            .set(self.inner.pool.queue_depth() as f64);
        let out = rx.await;
        self.inner
            .stats
            .compute_gauge
            .set(self.inner.pool.queue_depth() as f64);
        match out {
            Ok(Ok(Ok(r))) => Ok(r),
            Ok(Ok(Err(source))) => Err(Error::Stage {
                stage: st.name.clone(),
                source,
            }),
            Ok(Err(p)) => Err(Error::StagePanicked {
                stage: st.name.clone(),
                message: panic_message(p.as_ref()),
            }),
            // The job was skipped (cancelled) or dropped by a closing pool.
            Err(_) => Err(Error::Cancelled),
        }
    }

    fn pressure(&self, now_ns: u64) -> Pressure {
        let inner = &*self.inner;
        let a = &inner.config.admission;
        if a.memory_soft_bytes.is_some() || a.memory_hard_bytes.is_some() {
            let last = inner.rss_sampled_ns.load(Ordering::Relaxed);
            let due = last == 0 || now_ns.saturating_sub(last) >= duration_ns(a.sample_interval);
            if due
                && inner
                    .rss_sampled_ns
                    .compare_exchange(last, now_ns.max(1), Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
            {
                inner
                    .rss
                    .store(process_rss_bytes().unwrap_or(0), Ordering::Relaxed);
            }
        }
        let rss = inner.rss.load(Ordering::Relaxed);
        let cq = inner.pool.queue_depth();
        let over = |v: u64, t: Option<u64>| t.is_some_and(|t| v >= t);
        if over(rss, a.memory_hard_bytes) {
            return Pressure::Shed("memory pressure");
        }
        if over(cq as u64, a.compute_queue_hard.map(|v| v as u64)) {
            return Pressure::Shed("compute queue pressure");
        }
        if over(rss, a.memory_soft_bytes) || over(cq as u64, a.compute_queue_soft.map(|v| v as u64))
        {
            return Pressure::Slow;
        }
        Pressure::Normal
    }

    /// Runs `requests` with at most `concurrency` in flight at once; the results come back in
    /// the order of the requests, one per request.
    pub async fn process_batch(
        &self,
        requests: impl IntoIterator<Item = Req>,
        opts: SubmitOptions,
        concurrency: usize,
    ) -> Vec<Result<Resp>> {
        futures::stream::iter(requests)
            .map(|r| self.submit(r, opts))
            .buffered(concurrency.max(1))
            .collect()
            .await
    }

    /// A snapshot of outcomes, in-flight work, latency percentiles and memory.
    pub fn stats(&self) -> EngineStats {
        let inner = &*self.inner;
        let mut s = inner.stats.snapshot();
        s.submitted = inner.next_id.load(Ordering::Relaxed);
        s.in_flight = inner.in_flight.load(Ordering::Relaxed) as u64;
        s.queue_depth = inner.gate.depth() as u64;
        s.compute_queue_depth = inner.pool.queue_depth() as u64;
        s.compute_busy = inner.pool.busy() as u64;
        s
    }

    /// Threads in the compute pool.
    pub fn compute_threads(&self) -> usize {
        self.inner.pool.threads()
    }

    /// Whether [`shutdown`](Self::shutdown) has begun.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.closing.load(Ordering::SeqCst)
    }

    async fn wait_idle(&self) {
        let inner = &*self.inner;
        loop {
            let notified = inner.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if inner.in_flight.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Stops admitting (new submissions get [`Error::ShuttingDown`]), lets admitted requests
    /// (queued and running) finish within `timeout`, then cancels the rest (they end with
    /// [`Error::Cancelled`]) and stops the compute pool. Every admitted request still gets
    /// exactly one outcome.
    pub async fn shutdown(&self, timeout: Duration) -> ShutdownReport {
        let inner = &*self.inner;
        let t0 = Instant::now();
        inner.closing.store(true, Ordering::SeqCst);
        let at_start = inner.in_flight.load(Ordering::SeqCst) as u64;
        let cancelled_before = inner.stats.count(Outcome::Cancelled);
        let drained_in_time = tokio::time::timeout(timeout, self.wait_idle())
            .await
            .is_ok();
        if !drained_in_time {
            inner.root.cancel();
            // Cancelled requests return at their next poll; give their callers a moment.
            let grace = timeout.clamp(Duration::from_millis(10), Duration::from_secs(1));
            let _ = tokio::time::timeout(grace, self.wait_idle()).await;
        }
        inner.pool.close();
        let cancelled = inner.stats.count(Outcome::Cancelled) - cancelled_before;
        let unfinished = inner.in_flight.load(Ordering::SeqCst) as u64;
        ShutdownReport {
            in_flight_at_start: at_start,
            drained: at_start.saturating_sub(cancelled + unfinished),
            cancelled,
            cancelled_ids: std::mem::take(&mut *inner.cancelled_ids.lock()),
            unfinished,
            drained_in_time,
            elapsed: t0.elapsed(),
        }
    }
}

impl<Req, Resp> tower::Service<Req> for Engine<Req, Resp>
where
    Req: Send + Sync + 'static,
    Resp: Default + Send + 'static,
{
    type Response = Resp;
    type Error = Error;
    type Future = futures::future::BoxFuture<'static, Result<Resp>>;

    /// Always ready: the engine sheds in `call` (with [`Error::Overloaded`]) rather than making
    /// callers wait, so tower's `LoadShed`, `Timeout` and `RateLimit` layers compose in front.
    fn poll_ready(&mut self, _cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let engine = self.clone();
        Box::pin(async move { engine.submit(req, SubmitOptions::default()).await })
    }
}
