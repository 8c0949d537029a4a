//! Configuration: a plain struct with defaults, loaded from `pipeline.toml` and overridden by
//! environment variables and command-line flags (in that order).

use crate::types::{Clearance, PackFormat};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Everything the pipeline can be told; every field has a default.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// Cache tiers.
    pub cache: CacheConfig,
    /// Pack defaults.
    pub pack: PackConfig,
    /// Redaction policy.
    pub security: SecurityConfig,
    /// The request engine.
    pub engine: EngineSettings,
    /// The HTTP service.
    pub server: ServerConfig,
    /// A route table (TOML or JSON) replacing the default routes.
    pub routes: Option<PathBuf>,
    /// The tenant used when a request names none.
    pub tenant: String,
}

/// Cache tiers: L1 always; L2 and L3 when their URLs are set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Redis URL for L2 (or `PIPELINE_REDIS_URL`).
    pub redis_url: Option<String>,
    /// PostgreSQL URL for L3 (or `PIPELINE_POSTGRES_URL`).
    pub postgres_url: Option<String>,
    /// L1 capacity in entries.
    pub l1_entries: usize,
    /// L1 capacity in bytes.
    pub l1_bytes: usize,
    /// Time to live of a cached pack, in seconds.
    pub ttl_secs: u64,
    /// Turn caching off entirely.
    pub disabled: bool,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            redis_url: None,
            postgres_url: None,
            l1_entries: 10_000,
            l1_bytes: 256 << 20,
            ttl_secs: 3600,
            disabled: false,
        }
    }
}

/// Pack defaults.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PackConfig {
    /// Budget when a request names none.
    pub max_tokens: usize,
    /// Largest budget a request may ask for.
    pub max_tokens_limit: usize,
    /// Text format.
    pub format: PackFormat,
    /// Compression level for chunks: lossless, balanced, aggressive or skeleton.
    pub compression: String,
    /// Where indexes are kept (default: the user cache directory).
    pub index_dir: Option<PathBuf>,
    /// Largest file indexed, in bytes.
    pub max_file_bytes: u64,
    /// How long an index counts as fresh after a refresh, in milliseconds: within it a request
    /// reuses the index (and its cache key) without walking the tree again. 0 re-checks the
    /// tree on every request.
    pub refresh_interval_ms: u64,
}

impl Default for PackConfig {
    fn default() -> Self {
        PackConfig {
            max_tokens: 8000,
            max_tokens_limit: 1_000_000,
            format: PackFormat::Markdown,
            compression: "balanced".into(),
            index_dir: None,
            max_file_bytes: 1 << 20,
            refresh_interval_ms: 1000,
        }
    }
}

/// Redaction policy.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// Clearance when a request names none.
    pub clearance: Clearance,
    /// JSON-lines audit file (none: no audit file).
    pub audit_file: Option<PathBuf>,
    /// Extra rules and allowlists (TOML or JSON).
    pub rules_file: Option<PathBuf>,
    /// Baseline of accepted findings' fingerprints.
    pub baseline_file: Option<PathBuf>,
    /// Passphrase the fingerprint key is derived from (or `PIPELINE_FINGERPRINT_KEY`). A
    /// fingerprint is a keyed hash of the secret: with the public default key anyone can test
    /// a guess of a weak secret against a fingerprint in a report or audit record; with a key
    /// of your own they cannot. Changing it changes every fingerprint (baselines included).
    #[serde(skip_serializing)]
    pub fingerprint_key: Option<String>,
}

/// The request engine.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineSettings {
    /// Workers (0: one per core).
    pub workers: usize,
    /// Requests waiting beyond this are refused with `Overloaded`.
    pub queue_capacity: usize,
    /// Deadline of a request that names none, in milliseconds.
    pub default_deadline_ms: u64,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            workers: 0,
            queue_capacity: 10_000,
            default_deadline_ms: 30_000,
        }
    }
}

/// The HTTP service.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: String,
    /// Bearer token (or `PIPELINE_TOKEN`); required on a non-loopback address.
    pub token: Option<String>,
    /// The highest clearance a request authenticated by `token` (or, without any token, any
    /// request) may ask for; a request asking for more is refused with `403`. Default
    /// `classified`: the caller chooses.
    pub max_clearance: Clearance,
    /// More bearer tokens, each with the highest clearance it admits: callers are told apart
    /// by their token and cannot choose a level above their own.
    pub tokens: Vec<TokenConfig>,
    /// Directories requests may read under (default: the current directory).
    pub allowed_roots: Vec<PathBuf>,
    /// Largest request body in bytes.
    pub body_limit: usize,
    /// Per-request timeout in milliseconds.
    pub request_timeout_ms: u64,
    /// A request whose body has not fully arrived this many milliseconds after its headers is
    /// answered `408` and its connection closed (a stalled or slow client cannot hold a
    /// request open).
    pub body_read_timeout_ms: u64,
    /// A connection whose request headers have not fully arrived this many milliseconds
    /// after it opened (or after its previous response) is closed: a client that sends half
    /// of its headers and stalls cannot hold a connection.
    pub header_read_timeout_ms: u64,
    /// Seconds to finish in-flight requests on shutdown.
    pub shutdown_grace_secs: u64,
}

/// A bearer token and the highest clearance it admits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// The bearer token.
    pub token: String,
    /// The highest clearance a request with this token may ask for.
    pub max_clearance: Clearance,
}

impl ServerConfig {
    /// Every accepted bearer token (`token`, then `tokens`; empty ones ignored) with the
    /// highest clearance it admits.
    pub fn bearer_tokens(&self) -> impl Iterator<Item = (&str, Clearance)> {
        self.token
            .iter()
            .map(|t| (t.as_str(), self.max_clearance))
            .chain(
                self.tokens
                    .iter()
                    .map(|t| (t.token.as_str(), t.max_clearance)),
            )
            .filter(|(t, _)| !t.is_empty())
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8077".into(),
            token: None,
            max_clearance: Clearance::Classified,
            tokens: Vec::new(),
            allowed_roots: Vec::new(),
            body_limit: 1 << 20,
            request_timeout_ms: 30_000,
            body_read_timeout_ms: 10_000,
            header_read_timeout_ms: 10_000,
            shutdown_grace_secs: 10,
        }
    }
}

impl PipelineConfig {
    /// Loads `path`; a missing explicit file is an error, a bad file says where it is wrong.
    pub fn load(path: &Path) -> crate::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| crate::Error::Config(format!("cannot read {}: {e}", path.display())))?;
        toml::from_str(&text).map_err(|e| crate::Error::Config(format!("{}: {e}", path.display())))
    }

    /// `pipeline.toml` in the current directory if present, else defaults; then the
    /// environment (`PIPELINE_REDIS_URL`, `PIPELINE_POSTGRES_URL`, `PIPELINE_TOKEN`,
    /// `PIPELINE_FINGERPRINT_KEY`).
    pub fn discover(explicit: Option<&Path>) -> crate::Result<Self> {
        let mut cfg = match explicit {
            Some(p) => Self::load(p)?,
            None if Path::new("pipeline.toml").is_file() => Self::load(Path::new("pipeline.toml"))?,
            None => Self::default(),
        };
        cfg.apply_env();
        Ok(cfg)
    }

    /// Overrides from the environment.
    pub fn apply_env(&mut self) {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        if let Some(v) = var("PIPELINE_REDIS_URL") {
            self.cache.redis_url = Some(v);
        }
        if let Some(v) = var("PIPELINE_POSTGRES_URL") {
            self.cache.postgres_url = Some(v);
        }
        if let Some(v) = var("PIPELINE_TOKEN") {
            self.server.token = Some(v);
        }
        if let Some(v) = var("PIPELINE_FINGERPRINT_KEY") {
            self.security.fingerprint_key = Some(v);
        }
    }
}

/// `scheme://user:password@host` becomes `scheme://user:***@host` (for logs and errors).
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let user = userinfo.split(':').next().unwrap_or("");
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_string()
            };
            format!("{}://{masked}@{}", &url[..scheme_end], &rest[at + 1..])
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_passwords() {
        assert_eq!(
            redact_url("redis://:hunter2@localhost:6379/0"),
            "redis://:***@localhost:6379/0"
        );
        assert_eq!(
            redact_url("postgres://app:s3cr@t@db/x?sslmode=off"),
            "postgres://app:***@db/x?sslmode=off"
        );
        assert_eq!(redact_url("redis://localhost/"), "redis://localhost/");
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn config_round_trips_and_rejects_unknown_keys() {
        let cfg: PipelineConfig = toml::from_str("[cache]\nl1_entries = 5\n").unwrap();
        assert_eq!(cfg.cache.l1_entries, 5);
        assert_eq!(cfg.pack.max_tokens, 8000);
        assert!(toml::from_str::<PipelineConfig>("[cache]\nbogus = 1\n").is_err());
    }
}
