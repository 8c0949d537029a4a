//! Exact BPE token counting and semantics-safe code compression for LLM prompts.
//!
//! One job: make a piece of text cost fewer tokens without changing what it means, and know
//! exactly what it costs. It owns token counting ([`Tokenizer`], o200k and cl100k, identical ids
//! to tiktoken), compression passes by language, budget fitting and response templates.
//!
//! ```
//! use token_opt::{Encoding, Tokenizer};
//!
//! let tok = Tokenizer::new(Encoding::O200k)?;
//! let text = "fn main() { println!(\"hello\"); }";
//! let ids = tok.encode(text);
//! assert_eq!(tok.count(text), ids.len());
//! assert_eq!(tok.decode(&ids)?, text);
//! assert!(tok.count(tok.truncate_to(text, 3)) <= 3);
//! # Ok::<(), token_opt::Error>(())
//! ```
#![deny(missing_docs)]

mod bpe;
mod budget;
mod compress;
mod count;
mod lang;
mod lex;
mod skeleton;
mod template;
// The packing half of the module is build.rs's.
#[allow(dead_code)]
mod vocab_hash;

pub use budget::{BudgetFitter, Chunk, Selected, Selection};
pub use compress::{compress, CompressOptions, CompressOptionsBuilder, Compressed, Compressor};
pub use count::{estimate_tokens, Encoding, Tokenizer};
pub use lang::{Language, Level};
pub use template::{ResponseId, TemplateStats, TemplateStore};

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input or configuration was not valid; the message says why.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The encoding's vocabulary is not compiled in (enable its cargo feature).
    #[error(
        "encoding {0} is not available in this build; enable the token-opt cargo feature for it"
    )]
    EncodingUnavailable(&'static str),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The README's examples, run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
