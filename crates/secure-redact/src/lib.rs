//! Find, classify and redact secrets and PII in code and prompts before they leave the machine.
//!
//! It owns secret and PII rules, a prefilter + verify engine, entropy checks and allowlists, classification levels, redaction modes, streaming scans and audit events.
//!
//! ```
//! use secure_redact::Error;
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
