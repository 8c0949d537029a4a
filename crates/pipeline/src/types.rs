//! The request and response of one pipeline run, as the library, the CLI and the HTTP service
//! see them. Field names are a public contract: fields are added, never renamed.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// How urgent a request is; served by priority with aging (low is never starved).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Served before everything else.
    Critical,
    /// Served before normal work.
    High,
    /// The default.
    #[default]
    Normal,
    /// Background work.
    Low,
}

/// The caller's clearance: findings above it are redacted, findings at or below it pass.
///
/// `public` (the default) redacts every finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Clearance {
    /// Nothing sensitive may pass.
    #[default]
    Public,
    /// Internal data (e-mail addresses, IP addresses, phone numbers) may pass.
    Internal,
    /// Sensitive data may pass too; classified never does through this setting's default.
    Sensitive,
    /// Everything may pass (redaction still reports findings).
    Classified,
}

impl std::str::FromStr for Clearance {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        [
            Clearance::Public,
            Clearance::Internal,
            Clearance::Sensitive,
            Clearance::Classified,
        ]
        .into_iter()
        .find(|c| c.as_str() == lower)
        .ok_or_else(|| {
            format!("unknown level `{lower}` (expected public, internal, sensitive or classified)")
        })
    }
}

impl std::fmt::Display for Clearance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Clearance {
    /// The same level in secure-redact's terms.
    pub fn level(self) -> secure_redact::Level {
        match self {
            Clearance::Public => secure_redact::Level::Public,
            Clearance::Internal => secure_redact::Level::Internal,
            Clearance::Sensitive => secure_redact::Level::Sensitive,
            Clearance::Classified => secure_redact::Level::Classified,
        }
    }

    /// `public`, `internal`, `sensitive` or `classified`.
    pub fn as_str(self) -> &'static str {
        match self {
            Clearance::Public => "public",
            Clearance::Internal => "internal",
            Clearance::Sensitive => "sensitive",
            Clearance::Classified => "classified",
        }
    }
}

/// The text format of a pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum PackFormat {
    /// Markdown with fenced code blocks (the default).
    #[default]
    Markdown,
    /// XML elements per file and chunk.
    Xml,
    /// A JSON document.
    Json,
}

/// Which tier answered a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum CacheLevel {
    /// Computed now.
    #[default]
    Miss,
    /// The process's memory.
    L1,
    /// Redis.
    L2,
    /// PostgreSQL.
    L3,
}

fn default_max_tokens() -> usize {
    8000
}

/// One request: a question about a codebase.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// An id the caller can correlate; generated when empty.
    #[serde(default)]
    pub request_id: String,
    /// The question.
    pub query: String,
    /// The project root to draw context from.
    pub root: PathBuf,
    /// Only files with these extensions (without the dot); empty means all.
    #[serde(default)]
    pub extensions: Vec<String>,
    /// The token budget of the pack.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: usize,
    /// The caller's clearance.
    #[serde(default)]
    pub security_level: Clearance,
    /// Scheduling priority.
    #[serde(default)]
    pub priority: Priority,
    /// Milliseconds the caller is willing to wait; none means the service default.
    #[serde(default)]
    pub deadline_ms: Option<u64>,
    /// The tenant: two tenants never see each other's cache entries.
    #[serde(default)]
    pub tenant: String,
    /// The pack's text format.
    #[serde(default)]
    pub format: PackFormat,
}

impl Request {
    /// A request with defaults for everything but the question and the root.
    pub fn new(query: impl Into<String>, root: impl Into<PathBuf>) -> Self {
        Request {
            request_id: String::new(),
            query: query.into(),
            root: root.into(),
            extensions: Vec::new(),
            max_tokens: default_max_tokens(),
            security_level: Clearance::default(),
            priority: Priority::default(),
            deadline_ms: None,
            tenant: String::new(),
            format: PackFormat::default(),
        }
    }
}

/// One chunk of a pack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackChunk {
    /// The file, relative to the root.
    pub path: String,
    /// First line (1-based).
    pub start_line: usize,
    /// Last line (inclusive).
    pub end_line: usize,
    /// Relevance score.
    pub score: f64,
    /// Tokens of the chunk as it appears in the pack.
    pub tokens: usize,
}

/// A secret or PII found while building the pack (never the secret itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackFinding {
    /// The rule that matched.
    pub rule: String,
    /// Its classification level.
    pub level: String,
    /// The file, relative to the root.
    pub path: String,
    /// Line (1-based).
    pub line: usize,
    /// Column (1-based, in bytes).
    pub column: usize,
    /// Keyed fingerprint (not reversible, not an unkeyed hash).
    pub fingerprint: String,
    /// Whether it was redacted from the pack (above the caller's clearance).
    pub redacted: bool,
}

/// The route a request was given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RouteInfo {
    /// The route's name (`default` when none scored).
    pub name: String,
    /// Its score.
    pub score: f64,
    /// The keywords that matched.
    pub keywords: Vec<String>,
}

/// The answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Response {
    /// The request's id.
    #[serde(default)]
    pub request_id: String,
    /// The pack's text.
    pub pack: String,
    /// The chunks in the pack.
    pub chunks: Vec<PackChunk>,
    /// Tokens of the pack.
    pub tokens_used: usize,
    /// Tokens saved by selection and compression against sending the candidate files whole.
    pub tokens_saved: usize,
    /// Which tier answered.
    #[serde(default)]
    pub cache_level: CacheLevel,
    /// The route.
    pub route: RouteInfo,
    /// Findings in the selected code.
    pub findings: Vec<PackFinding>,
    /// Wall time of this request in milliseconds.
    #[serde(default)]
    pub latency_ms: f64,
    /// The index version the pack was built from (part of the cache key).
    #[serde(default)]
    pub index_version: String,
    /// The highest level among the findings (`public` when there were none).
    #[serde(default)]
    pub level: String,
    /// The answer of the configured [`Backend`](crate::Backend), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
}
