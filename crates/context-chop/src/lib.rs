//! Pick the code a question is about, inside a token budget: walking, chunking, indexing, ranking, packing.
//!
//! It owns tree walking (.gitignore aware), syntax-aware chunking, the persistent index, ranking, budgeted selection and pack formats.
//!
//! ```
//! use context_chop::Error;
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
