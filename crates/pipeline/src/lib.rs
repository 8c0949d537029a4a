//! The pipeline facade: one flow from a question about a codebase to an LLM-ready context pack.
//!
//! A [`Request`] (a question, the project root, a token budget, the caller's clearance) passes
//! keyword routing ([`keyword_trie`]), a three-tier cache ([`tiered_cache`]: process, Redis,
//! PostgreSQL), context selection ([`context_chop`]), secret redaction ([`secure_redact`]) and
//! token compression ([`token_opt`]), run by the engine of [`pipeline_core`], and comes out as a
//! [`Response`]: the pack and its figures (tokens used and saved, cache level, route, findings,
//! latency). This crate only wires the components together and re-exports them; each one is
//! usable on its own.
//!
//! ```
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
//! use pipeline::{CacheLevel, Pipeline, Request};
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(
//!     dir.path().join("retry.rs"),
//!     "/// Retries with exponential backoff.\npub fn retry_with_backoff(n: u32) -> u32 {\n    n * 2\n}\n",
//! )?;
//! let cache = tempfile::tempdir()?;
//! let pipeline = Pipeline::builder().index_dir(cache.path()).build().await?;
//!
//! let request = Request::new("how does the retry backoff work?", dir.path());
//! let first = pipeline.process(request.clone()).await?;
//! assert_eq!(first.cache_level, CacheLevel::Miss);
//! assert_eq!(first.chunks[0].path, "retry.rs");
//! assert!(first.tokens_used <= request.max_tokens);
//!
//! let again = pipeline.process(request).await?; // same question, same tree: from L1
//! assert_eq!(again.cache_level, CacheLevel::L1);
//! assert_eq!(again.pack, first.pack);
//! pipeline.shutdown(std::time::Duration::from_secs(5)).await;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! With `.redis(url)` and `.postgres(url)` (or `PIPELINE_REDIS_URL` / `PIPELINE_POSTGRES_URL`
//! through [`PipelineConfig`]) a pack computed by one process is served to every other from
//! Redis (L2) or PostgreSQL (L3). Only redacted packs are ever stored there.
#![deny(missing_docs)]

pub mod config;
pub mod http;
mod pipeline;
mod progress;
pub mod scan;
mod types;

pub use conn_pool;
pub use context_chop;
pub use keyword_trie;
pub use pipeline_core;
pub use secure_redact;
pub use tiered_cache;
pub use token_opt;

pub use config::PipelineConfig;
pub use pipeline::{Backend, Health, Pipeline, PipelineBuilder, Stats, TierHealth};
pub use progress::Progress;
pub use types::{
    CacheLevel, Clearance, PackChunk, PackFinding, PackFormat, Priority, Request, Response,
    RouteInfo,
};

/// The README's examples run as doc tests, so the quick example keeps working.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// Everything that can go wrong in the facade.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request or input was not valid; the message says why.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The configuration was not valid; the message says why (URLs without passwords).
    #[error("configuration: {0}")]
    Config(String),
    /// The request asked for a root outside the allowed roots.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Too much work is queued; retry later.
    #[error("overloaded: {0}; retry later")]
    Overloaded(String),
    /// The request's deadline passed before it finished.
    #[error("deadline exceeded: {0}")]
    DeadlineExceeded(String),
    /// The pipeline is shutting down.
    #[error("the pipeline is shutting down")]
    ShuttingDown,
    /// Reading the tree, or another I/O step, failed.
    #[error("{0}")]
    Io(String),
    /// A stage failed; the message names it.
    #[error("{0}")]
    Stage(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<pipeline_core::Error> for Error {
    fn from(e: pipeline_core::Error) -> Self {
        use pipeline_core::Error as E;
        match e {
            E::Overloaded { .. } | E::CircuitOpen { .. } => Error::Overloaded(e.to_string()),
            E::DeadlineExceeded { .. } => Error::DeadlineExceeded(e.to_string()),
            E::ShuttingDown | E::Cancelled => Error::ShuttingDown,
            E::Invalid(m) => Error::Invalid(m),
            E::Config { .. } => Error::Config(e.to_string()),
            E::Stage { source, .. } => match source.downcast::<Error>() {
                Ok(ours) => *ours,
                Err(other) => Error::Stage(other.to_string()),
            },
            other => Error::Stage(other.to_string()),
        }
    }
}

/// Ranks the routes for `query` with the default table or the table in `routes` (TOML or JSON).
pub fn route_query(query: &str, routes: Option<&std::path::Path>) -> Result<serde_json::Value> {
    let router = pipeline::load_router(routes)?;
    serde_json::to_value(router.rank(query)).map_err(|e| Error::Stage(e.to_string()))
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`); JSON lines when
/// `PIPELINE_LOG_FORMAT=json`. Safe to call twice.
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("PIPELINE_LOG_FORMAT").is_ok_and(|v| v == "json");
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
