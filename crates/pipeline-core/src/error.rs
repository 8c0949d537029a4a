//! The crate's one error type: every outcome of a request other than success.

use std::time::Duration;

/// A boxed error from a stage, so stages can return any error type.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in this crate.
///
/// Each request submitted to an [`Engine`](crate::Engine) ends with exactly one outcome: its
/// response, or one of these variants.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input or configuration was not valid; the message says why.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A configuration file could not be read or parsed.
    #[error("configuration {path}: {message}")]
    Config {
        /// The file (or `environment` for variables).
        path: String,
        /// What was wrong.
        message: String,
    },
    /// The engine shed the request at once (queue full or resource pressure); retry later.
    #[error("overloaded: {reason}; retry later")]
    Overloaded {
        /// Why: `queue full`, `memory pressure`, `compute queue pressure`.
        reason: &'static str,
    },
    /// The request's deadline passed; the work in every stage was cancelled.
    #[error("deadline exceeded after {elapsed:?} (in {})", stage.as_deref().unwrap_or("queue"))]
    DeadlineExceeded {
        /// The stage that was running, or `None` while the request waited in the queue.
        stage: Option<String>,
        /// Time from submission to the deadline.
        elapsed: Duration,
    },
    /// A stage returned an error.
    #[error("stage {stage} failed: {source}")]
    Stage {
        /// The stage's name.
        stage: String,
        /// The stage's error.
        #[source]
        source: BoxError,
    },
    /// A stage panicked; the engine caught it and kept running.
    #[error("stage {stage} panicked: {message}")]
    StagePanicked {
        /// The stage's name.
        stage: String,
        /// The panic message, when it was a string.
        message: String,
    },
    /// The engine is shutting down and admits no new requests.
    #[error("the engine is shutting down and admits no new requests")]
    ShuttingDown,
    /// The request was admitted but cancelled by shutdown before it finished.
    #[error("cancelled by shutdown")]
    Cancelled,
    /// A circuit breaker is open; the protected dependency is not called.
    #[error("circuit {name} is open; retry after {retry_after:?}")]
    CircuitOpen {
        /// The breaker's name.
        name: String,
        /// Time until the breaker lets a probe through.
        retry_after: Duration,
    },
}

impl Error {
    /// Whether the caller may retry the same request later (overload, open circuit).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Overloaded { .. } | Error::CircuitOpen { .. })
    }

    /// A short label for metrics and logs: `overloaded`, `deadline_exceeded`, `stage_error`, ...
    pub fn outcome_label(&self) -> &'static str {
        match self {
            Error::Invalid(_) | Error::Config { .. } => "invalid",
            Error::Overloaded { .. } => "overloaded",
            Error::DeadlineExceeded { .. } => "deadline_exceeded",
            Error::Stage { .. } | Error::StagePanicked { .. } => "stage_error",
            Error::ShuttingDown => "shutting_down",
            Error::Cancelled => "cancelled",
            Error::CircuitOpen { .. } => "circuit_open",
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The error type of [`Engine::submit`](crate::Engine::submit) (the crate's [`Error`]).
pub type EngineError = Error;
