//! The async request engine: priority queue, workers, deadlines, backpressure, circuit
//! breakers, batch and stream APIs.
//!
//! One job: run requests through a sequence of [`Stage`]s, fairly and within bounds. The
//! [`Engine`] admits a request into a bounded priority queue (or sheds it at once with
//! [`Error::Overloaded`]), serves `Critical` before `High` before `Normal` before `Low` with
//! aging so nothing starves, enforces each request's deadline by cancelling the work in every
//! stage, runs CPU-bound stages on a bounded compute pool so async workers never block, and
//! drains gracefully on [`Engine::shutdown`]. Every submitted request gets exactly one outcome.
//! It knows stages only through the trait, so it serves any request and response types.
//!
//! `submit` runs on the caller's task and needs a Tokio runtime with timers enabled. CPU-bound
//! stages run on the engine's own compute threads. See the README for configuration (presets,
//! TOML file, `PIPELINE_*` variables), metrics names and benchmark figures.
//!
//! ```
//! use pipeline_core::{BoxError, Engine, Priority, Stage, StageContext, StageKind, SubmitOptions};
//! use std::time::Duration;
//!
//! struct WordCount;
//! impl Stage<String, usize> for WordCount {
//!     fn name(&self) -> &str { "count" }
//!     fn kind(&self) -> StageKind { StageKind::Cpu }
//!     async fn process(&self, ctx: &StageContext<String>, _: usize) -> Result<usize, BoxError> {
//!         Ok(ctx.request().split_whitespace().count())
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let engine = Engine::builder()
//!     .workers(4)
//!     .queue_capacity(64)
//!     .compute_threads(1)
//!     .stage(WordCount)
//!     .build()?;
//! let opts = SubmitOptions::new().priority(Priority::High).timeout(Duration::from_secs(1));
//! assert_eq!(engine.submit("one two three".to_string(), opts).await?, 3);
//! assert_eq!(engine.stats().succeeded, 1);
//! let report = engine.shutdown(Duration::from_secs(1)).await;
//! assert_eq!(report.cancelled, 0);
//! # Ok::<(), pipeline_core::Error>(())
//! # }).unwrap();
//! ```
#![deny(missing_docs)]

mod breaker;
mod compute;
mod config;
mod engine;
mod error;
mod queue;
mod stage;
mod stats;
mod stream;

pub use breaker::{
    BreakerState, CircuitBreaker, CircuitBreakerBuilder, CircuitBreakerConfig, CircuitBreakerLayer,
    CircuitBreakerService, CircuitPermit,
};
pub use config::{AdmissionConfig, EngineConfig, MachineResources, Objectives, Preset};
pub use engine::{Engine, EngineBuilder, ShutdownReport};
pub use error::{BoxError, EngineError, Error, Result};
pub use stage::{Priority, Stage, StageContext, StageKind, SubmitOptions};
pub use stats::{process_rss_bytes, EngineStats, LatencySummary, StageStats};
pub use stream::{ResultStream, StreamLimits};

/// The README's examples run as doc tests, so the quick example keeps working.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
