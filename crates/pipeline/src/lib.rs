//! The pipeline facade: one flow from a question about a codebase to an LLM-ready context pack.
//!
//! A request passes keyword routing ([`keyword_trie`]), a three-tier cache ([`tiered_cache`]),
//! context selection ([`context_chop`]), secret redaction ([`secure_redact`]) and token
//! compression ([`token_opt`]), run by the engine in [`pipeline_core`]. This crate only wires the
//! components together and re-exports them; each one is usable on its own.
//!
//! ```
//! use pipeline::Error;
//!
//! let err = Error::Invalid("example".into());
//! assert!(err.to_string().contains("example"));
//! ```
#![deny(missing_docs)]

pub use conn_pool;
pub use context_chop;
pub use keyword_trie;
pub use pipeline_core;
pub use secure_redact;
pub use tiered_cache;
pub use token_opt;

/// Everything that can go wrong in the facade.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input or configuration was not valid; the message says why.
    #[error("invalid input: {0}")]
    Invalid(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
