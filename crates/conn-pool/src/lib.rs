//! Fair, fast Redis and PostgreSQL connection pools that are honest about failure.
//!
//! It owns pools for Redis and PostgreSQL: sizing, timeouts, health checks, warm-up, fair waiting and metrics.
//!
//! ```
//! use conn_pool::Error;
//!
//! let err = Error::Invalid("example".into());
//! assert!(err.to_string().contains("example"));
//! ```
#![deny(missing_docs)]

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input or configuration was not valid; the message says why.
    #[error("invalid input: {0}")]
    Invalid(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
