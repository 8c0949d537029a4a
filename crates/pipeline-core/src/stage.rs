//! The `Stage` trait, its context, priorities and per-request options.

use crate::error::BoxError;
use futures::future::BoxFuture;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How urgently a request should be served. Higher priorities are served first; waiting
/// requests age, so a `Low` request is never starved (see [`EngineConfig::aging`](crate::EngineConfig)).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Served before everything else.
    Critical,
    /// Served before `Normal` and `Low`.
    High,
    /// The default.
    #[default]
    Normal,
    /// Background work; served when nothing more urgent waits, or once it has aged.
    Low,
}

impl Priority {
    /// All priorities, most urgent first.
    pub const ALL: [Priority; 4] = [
        Priority::Critical,
        Priority::High,
        Priority::Normal,
        Priority::Low,
    ];

    /// 0 for `Critical` up to 3 for `Low`.
    pub fn rank(self) -> usize {
        self as usize
    }

    /// The lowercase name (`critical`, `high`, `normal`, `low`).
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Critical => "critical",
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Low => "low",
        }
    }
}

/// Options for one submitted request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubmitOptions {
    /// How urgently to serve it.
    pub priority: Priority,
    /// When the request must be done; past it every stage's work is cancelled and the outcome is
    /// [`Error::DeadlineExceeded`](crate::Error::DeadlineExceeded). `None` uses the engine's
    /// default timeout (if any).
    pub deadline: Option<Instant>,
}

impl SubmitOptions {
    /// Normal priority, the engine's default deadline.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the priority.
    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// Sets an absolute deadline.
    pub fn deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Sets the deadline to `timeout` from now.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.deadline = Instant::now().checked_add(timeout);
        self
    }
}

/// Whether a stage's work is CPU-bound (runs on the bounded compute pool) or I/O-bound (runs on
/// the async workers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StageKind {
    /// Awaits I/O (network, cache tiers); runs on the async runtime and must not block.
    #[default]
    Io,
    /// Burns CPU (parsing, ranking, redaction, compression); runs on the engine's compute pool so
    /// the async workers never block. Its future is driven to completion on a compute thread
    /// (inside the caller's Tokio runtime context, so Tokio timers still work).
    Cpu,
}

/// What a stage sees of the request: the request itself, its deadline, priority and a
/// cancellation token that fires when the deadline passes or the engine shuts down.
pub struct StageContext<Req> {
    pub(crate) id: u64,
    pub(crate) request: Arc<Req>,
    pub(crate) deadline: Option<Instant>,
    pub(crate) priority: Priority,
    pub(crate) cancel: CancellationToken,
}

impl<Req> Clone for StageContext<Req> {
    fn clone(&self) -> Self {
        StageContext {
            id: self.id,
            request: Arc::clone(&self.request),
            deadline: self.deadline,
            priority: self.priority,
            cancel: self.cancel.clone(),
        }
    }
}

impl<Req> StageContext<Req> {
    /// The engine-assigned id of this request (unique per engine).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The request.
    pub fn request(&self) -> &Req {
        &self.request
    }

    /// The request, shared (cheap to clone into spawned work).
    pub fn request_arc(&self) -> Arc<Req> {
        Arc::clone(&self.request)
    }

    /// The deadline, if the request has one.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Time left until the deadline (`None` without a deadline, zero once it passed).
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// The request's priority.
    pub fn priority(&self) -> Priority {
        self.priority
    }

    /// Whether the work should stop (deadline passed or shutdown). CPU-bound stages should check
    /// this between units of work.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled() || self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Resolves when the request is cancelled; for I/O stages that want to clean up.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await
    }

    /// The cancellation token itself, to hand to spawned work.
    pub fn cancellation_token(&self) -> &CancellationToken {
        &self.cancel
    }
}

/// One step of the pipeline. Stages run in the order they were added to the
/// [`EngineBuilder`](crate::EngineBuilder); each receives the response built so far (starting
/// from `Resp::default()`) and returns it, extended, or an error that ends the request.
///
/// ```
/// use pipeline_core::{Stage, StageContext, StageKind, BoxError};
///
/// struct Upper;
/// impl Stage<String, String> for Upper {
///     fn name(&self) -> &str { "upper" }
///     fn kind(&self) -> StageKind { StageKind::Cpu }
///     async fn process(&self, ctx: &StageContext<String>, _resp: String) -> Result<String, BoxError> {
///         Ok(ctx.request().to_uppercase())
///     }
/// }
/// ```
pub trait Stage<Req, Resp>: Send + Sync + 'static {
    /// A short, stable name (used in errors, metrics labels and stats).
    fn name(&self) -> &str;

    /// CPU-bound or I/O-bound; I/O by default.
    fn kind(&self) -> StageKind {
        StageKind::Io
    }

    /// Whether this stage runs for this request, given the response so far (default: always).
    /// Checked on the async side before the stage is scheduled, so a request that is already
    /// answered (a cache hit) skips the CPU-bound stages without queueing for the compute pool.
    fn should_run(&self, _ctx: &StageContext<Req>, _response: &Resp) -> bool {
        true
    }

    /// Does this stage's work. The future is dropped when the request's deadline passes or the
    /// engine cancels it; CPU-bound work should also poll [`StageContext::is_cancelled`].
    fn process(
        &self,
        ctx: &StageContext<Req>,
        response: Resp,
    ) -> impl Future<Output = Result<Resp, BoxError>> + Send;
}

/// Object-safe form of [`Stage`], used inside the engine.
pub(crate) trait DynStage<Req, Resp>: Send + Sync + 'static {
    fn name(&self) -> &str;
    fn kind(&self) -> StageKind;
    fn should_run(&self, ctx: &StageContext<Req>, response: &Resp) -> bool;
    fn process_boxed<'a>(
        &'a self,
        ctx: &'a StageContext<Req>,
        response: Resp,
    ) -> BoxFuture<'a, Result<Resp, BoxError>>;
}

impl<Req, Resp, S> DynStage<Req, Resp> for S
where
    S: Stage<Req, Resp>,
    Req: Send + Sync + 'static,
    Resp: Send + 'static,
{
    fn name(&self) -> &str {
        Stage::name(self)
    }
    fn kind(&self) -> StageKind {
        Stage::kind(self)
    }
    fn should_run(&self, ctx: &StageContext<Req>, response: &Resp) -> bool {
        Stage::should_run(self, ctx, response)
    }
    fn process_boxed<'a>(
        &'a self,
        ctx: &'a StageContext<Req>,
        response: Resp,
    ) -> BoxFuture<'a, Result<Resp, BoxError>> {
        Box::pin(self.process(ctx, response))
    }
}
