//! Multi-keyword matching and query routing, choosing the fastest automaton for each set size.
//!
//! A [`KeywordSet`] compiles many `(keyword, value)` pairs into one automaton and finds them in a
//! text: leftmost-longest, leftmost-first or overlapping matches, optional ASCII or Unicode case
//! folding, optional whole-word matching, byte offsets into the original text, and O(1) exact
//! lookup of a keyword through a hash index kept beside the automaton. Small sets run on the
//! `aho-corasick` crate (whose SIMD prefilter is fastest there), large sets on `daachorse`'s
//! compact double-array automaton (fast to build and to load); [`Engine::Auto`] picks by size.
//! A built set serializes to versioned, checksummed bytes and loads back without a rebuild.
//!
//! A [`Router`] scores a query against named routes (agents or categories) of weighted keywords
//! and ranks them; [`Router::default_routes`] ships a table for the usual kinds of
//! coding-assistant request.
//!
//! ```
//! use keyword_trie::{CaseFolding, KeywordSet, MatchKind, Router};
//!
//! let set = KeywordSet::builder()
//!     .match_kind(MatchKind::LeftmostLongest)
//!     .case_folding(CaseFolding::Ascii)
//!     .build([("unwrap", 1u32), ("unwrap_or", 2), ("expect", 3)])?;
//! let ids: Vec<u32> = set.find_iter("x.UNWRAP_OR(0); y.expect(\"y\")").map(|m| *m.value()).collect();
//! assert_eq!(ids, vec![2, 3]);
//!
//! let router = Router::default_routes();
//! let ranking = router.rank("the login form is vulnerable to XSS");
//! assert_eq!(ranking.route, "security");
//! # Ok::<(), keyword_trie::Error>(())
//! ```
#![deny(missing_docs)]

mod index;
mod router;
mod serial;
mod set;
mod text;

pub use router::{
    KeywordList, KeywordSpec, RankedRoute, Ranking, RouteSpec, RouteTable, Router, RouterBuilder,
    RouterOptions, DEFAULT_ROUTES_TOML,
};
pub use serial::FORMAT_VERSION;
pub use set::{
    Engine, FindIter, KeywordSet, KeywordSetBuilder, Match, MatchKind, SetOptions,
    DEFAULT_AUTO_THRESHOLD,
};
pub use text::CaseFolding;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input or configuration was not valid; the message says why.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A keyword was empty.
    #[error("keyword #{index} is empty")]
    EmptyPattern {
        /// Position of the keyword in the input (0-based).
        index: usize,
    },
    /// No keywords were given.
    #[error("a keyword set needs at least one keyword")]
    NoPatterns,
    /// The same keyword (after case folding) was given twice with different values.
    #[error("keyword {keyword:?} is given twice with different values")]
    ConflictingDuplicate {
        /// The keyword as given the second time.
        keyword: String,
    },
    /// More keywords than the limit.
    #[error("too many keywords: the limit is {max}")]
    TooManyPatterns {
        /// The limit.
        max: usize,
    },
    /// The automaton could not be built.
    #[error("cannot build the automaton: {0}")]
    Build(String),
    /// Serialized bytes are truncated, corrupted or not a keyword set.
    #[error("corrupt keyword set bytes: {0}")]
    Corrupt(String),
    /// Serialized bytes come from another format version.
    #[error("keyword set format version {found} is not supported (this build reads {supported})")]
    UnsupportedVersion {
        /// The version in the bytes.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// Values could not be serialized.
    #[error("cannot serialize values: {0}")]
    Serialize(String),
    /// A route table is invalid; the message names the route and keyword.
    #[error("bad route table: {0}")]
    Table(String),
    /// A route table file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
