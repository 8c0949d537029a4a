//! Pick the code a question is about, inside a token budget: walking, chunking, indexing,
//! ranking, packing.
//!
//! One job: given a tree and a question, return the chunks of code most likely to matter, as a
//! pack (Markdown, XML or JSON) that never exceeds a token budget counted with a real BPE.
//!
//! ```
//! use context_chop::{Format, Index, IndexOptions, Query, SelectOptions};
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::create_dir(dir.path().join("src"))?;
//! std::fs::write(
//!     dir.path().join("src/retry.rs"),
//!     "/// Retries with exponential backoff.\npub fn retry_with_backoff(n: u32) -> u32 {\n    n * 2\n}\n",
//! )?;
//! std::fs::write(dir.path().join("src/other.rs"), "pub fn unrelated() {}\n")?;
//!
//! let index = Index::open(dir.path(), IndexOptions::default())?; // walks, chunks, saves
//! let opts = SelectOptions::builder().max_tokens(2000).format(Format::Json).build();
//! let pack = index.pack(&Query::new("how does the retry backoff work?"), &opts)?;
//! assert_eq!(pack.chunks[0].path, "src/retry.rs");
//! assert_eq!((pack.chunks[0].start_line, pack.chunks[0].end_line), (1, 4));
//! assert!(pack.tokens_used <= 2000);
//! let json: serde_json::Value = serde_json::from_str(&pack.text)?;
//! assert!(json["chunks"][0]["text"].as_str().unwrap().contains("retry_with_backoff"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # API at a glance
//!
//! | step | call | notes |
//! |---|---|---|
//! | open / refresh | [`Index::open`]`(root, IndexOptions)`, [`Index::refresh`] | loads `<root>/.pipeline/index` (or [`IndexOptions::cache_dir`]); re-chunks only files whose blake3 changed; saves |
//! | cache key | [`Index::version`] | changes whenever any indexed file or option changes |
//! | rank | [`Index::rank`]`(&Query, &RankOptions)` | BM25F (path, symbols, body) + definitions + reference graph + route keywords + code-over-prose prior |
//! | select | [`Index::select`]`(&Query, &SelectOptions)` -> [`Selection`] | budget holds for the rendered pack; the caller may edit `chunks[i].text` (redact, compress) |
//! | render | [`render`]`(&Selection, &Tokenizer)` -> [`Pack`] | recounts with the real tokenizer, drops the lowest-scored blocks if edits made it too big |
//! | one step | [`Index::pack`] | select + render |
//! | pieces | [`walk`], [`Chunker`], [`terms`] | the walker, the syntax-aware chunker, the term splitter on their own |
//!
//! [`Pack`] serializes (serde) to the fields the facade's `pipeline pack --format json` needs:
//! `text`, `chunks[] {path, start_line, end_line, score, tokens}`, `tokens_used`, `max_tokens`,
//! `format`, `dropped`, `index_version`.
//!
//! Invariants: paths are relative to the root and never escape it; every line of a file is in
//! exactly one chunk; a corrupt, truncated or old index file is rebuilt, never a panic; a pack
//! is never over its budget.
#![deny(missing_docs)]

mod chunk;
mod index;
mod lexical;
mod pack;
mod postings;
mod rank;
mod store;
mod terms;
mod walk;

pub use chunk::{Chunk, ChunkOptions, Chunker, Syntax};
pub use index::{FileKind, Index, IndexOptions, IndexOptionsBuilder, RefreshStats};
pub use pack::{
    render, Format, Pack, PackChunk, SelectOptions, SelectOptionsBuilder, SelectedChunk, Selection,
};
pub use rank::{Hit, Query, RankOptions};
pub use terms::{for_each_term, path_terms, stem, terms};
pub use token_opt::{Encoding, Tokenizer};
pub use walk::{
    is_default_skipped_file, read_source, walk, Source, Walk, WalkIssue, WalkOptions, WalkedFile,
    DEFAULT_SKIP_DIRS, DEFAULT_SKIP_FILES, DEFAULT_SKIP_SUFFIXES, PIPELINE_IGNORE,
};

use std::path::PathBuf;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input or configuration was not valid; the message says why.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A saved index could not be used (it is rebuilt); the message says why.
    #[error("saved index unusable: {0}")]
    CorruptIndex(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
