//! The [`Pipeline`]: the stages of shared/DESIGN.md on the engine of `pipeline-core`.
//!
//! | stage | kind | does |
//! |---|---|---|
//! | `prepare` | I/O | checks the request, routes it, builds the cache key when the root's index is fresh |
//! | `index` | CPU | otherwise: refreshes the root's index (incremental: only changed files), builds the key |
//! | `cache-lookup` | I/O | L1 -> L2 -> L3; concurrent identical misses wait for the first (single-flight) |
//! | `select` | CPU | ranks and selects chunks under the budget |
//! | `redact` | CPU | scans every chunk; findings above the caller's clearance become placeholders |
//! | `compress` | CPU | compresses every chunk at the configured level |
//! | `pack` | CPU | renders the pack, recounted with the real tokenizer |
//! | `backend` | I/O | the user's [`Backend`], when there is one |
//! | `cache-store` | I/O | stores the response in the tiers, only when every finding was redacted |
//!
//! Stages after `cache-lookup` are skipped on a hit, so a hit never queues for the compute pool.

use crate::config::{redact_url, PipelineConfig};
use crate::progress::Progress;
use crate::types::{CacheLevel, PackChunk, PackFinding, PackFormat, Request, Response};
use crate::{Error, Result};
use context_chop::{Format, Index, IndexOptions, Query, SelectOptions, Selection};
use dashmap::DashMap;
use futures::future::BoxFuture;
use keyword_trie::Router;
use pipeline_core::{BoxError, Engine, Stage, StageContext, StageKind, SubmitOptions};
use secure_redact::Scanner;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tiered_cache::{Bytes, TieredCache};
use token_opt::{Encoding, Language, Level as CompressLevel, Tokenizer};
use tokio::sync::watch;

/// A user stage after the pack, for example the call to a model; its answers are cached with
/// the pack by the same tiers.
pub trait Backend: Send + Sync + 'static {
    /// A short, stable name; part of the cache key.
    fn name(&self) -> &str;
    /// The answer for `request`, given the redacted, compressed `pack`.
    fn answer<'a>(
        &'a self,
        request: &'a Request,
        pack: &'a str,
    ) -> BoxFuture<'a, std::result::Result<String, BoxError>>;
}

/// One root's index, opened on first use and refreshed incrementally.
struct IndexSlot {
    root: PathBuf,
    options: IndexOptions,
    index: parking_lot::RwLock<Option<Index>>,
    /// Start time of the last refresh that completed; a request that arrived before it needs
    /// no refresh of its own (concurrent requests on one root share one walk).
    refreshed_at: parking_lot::Mutex<Option<Instant>>,
}

type Flight = watch::Sender<Option<Arc<Response>>>;

struct Inner {
    config: PipelineConfig,
    router: Router,
    scanner: Scanner,
    tokenizer: Tokenizer,
    compression: CompressLevel,
    cache: Option<TieredCache>,
    indexes: DashMap<(PathBuf, Vec<String>), Arc<IndexSlot>>,
    flights: DashMap<String, watch::Receiver<Option<Arc<Response>>>>,
    /// Responses decoded from recent L1 hits, with the stored bytes they came from: a hit on
    /// the same stored value (the same allocation, which the entry keeps alive, so it cannot
    /// be another value's) is answered without decoding its JSON again.
    decoded: DashMap<String, (Bytes, Arc<Response>)>,
    backend: Option<Arc<dyn Backend>>,
    allowed_roots: Vec<PathBuf>,
    index_dir: PathBuf,
    progress: Progress,
    audit: Option<Arc<dyn secure_redact::AuditSink>>,
}

/// The work of one request as it moves through the stages.
#[derive(Default)]
pub(crate) struct Work {
    response: Response,
    started: Option<Instant>,
    key: String,
    hit: bool,
    slot: Option<Arc<IndexSlot>>,
    root: PathBuf,
    keywords: Vec<(String, f32)>,
    selection: Option<Selection>,
    whole_tokens: usize,
    flight: Option<Flight>,
    /// On a hit: the stored bytes (see [`encode_response`]), decoded only when the caller
    /// wants a `Response` (the HTTP service splices them into its answer as they are).
    stored: Option<(Bytes, CacheLevel)>,
}

/// What one engine run gives back to [`Pipeline::process`] and [`Pipeline::process_json`].
struct RunOutput {
    response: Response,
    stored: Option<(Bytes, CacheLevel)>,
    key: String,
    request_id: String,
}

/// The whole flow, cheap to clone (one shared engine, cache and set of indexes).
#[derive(Clone)]
pub struct Pipeline {
    inner: Arc<Inner>,
    engine: Engine<Request, Work>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field(
                "l2",
                &self.inner.config.cache.redis_url.as_deref().map(redact_url),
            )
            .field(
                "l3",
                &self
                    .inner
                    .config
                    .cache
                    .postgres_url
                    .as_deref()
                    .map(redact_url),
            )
            .finish_non_exhaustive()
    }
}

/// Builds a [`Pipeline`]; every setting has a default.
#[must_use]
pub struct PipelineBuilder {
    config: PipelineConfig,
    progress: Progress,
    backend: Option<Arc<dyn Backend>>,
    router: Option<Router>,
    scanner: Option<Scanner>,
}

impl Pipeline {
    /// A builder with the defaults (L1 only, default routes and rules).
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder {
            config: PipelineConfig::default(),
            progress: Progress::Silent,
            backend: None,
            router: None,
            scanner: None,
        }
    }
}

impl PipelineBuilder {
    /// Everything from a configuration (file, environment and flags already applied).
    pub fn config(mut self, config: PipelineConfig) -> Self {
        self.config = config;
        self
    }
    /// Adds Redis as L2.
    pub fn redis(mut self, url: impl Into<String>) -> Self {
        self.config.cache.redis_url = Some(url.into());
        self
    }
    /// Adds PostgreSQL as L3.
    pub fn postgres(mut self, url: impl Into<String>) -> Self {
        self.config.cache.postgres_url = Some(url.into());
        self
    }
    /// Where indexes are kept (default: the user cache directory).
    pub fn index_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config.pack.index_dir = Some(dir.into());
        self
    }
    /// The tenant of requests that name none.
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.config.tenant = tenant.into();
        self
    }
    /// Worker count of the engine (0: one per core).
    pub fn workers(mut self, n: usize) -> Self {
        self.config.engine.workers = n;
        self
    }
    /// Requests queued beyond this are refused at once with [`Error::Overloaded`].
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.config.engine.queue_capacity = n;
        self
    }
    /// How long an index counts as fresh after a refresh (0: re-check the tree every request).
    pub fn refresh_interval(mut self, interval: Duration) -> Self {
        self.config.pack.refresh_interval_ms = interval.as_millis() as u64;
        self
    }
    /// Compression level of chunks (default balanced).
    pub fn compression(mut self, level: CompressLevel) -> Self {
        self.config.pack.compression = level.name().to_string();
        self
    }
    /// Default budget of requests.
    pub fn max_tokens(mut self, n: usize) -> Self {
        self.config.pack.max_tokens = n;
        self
    }
    /// Roots requests may read under (empty: any).
    pub fn allowed_roots<I: IntoIterator<Item = P>, P: Into<PathBuf>>(mut self, roots: I) -> Self {
        self.config.server.allowed_roots = roots.into_iter().map(Into::into).collect();
        self
    }
    /// A route table instead of the default one.
    pub fn router(mut self, router: Router) -> Self {
        self.router = Some(router);
        self
    }
    /// A scanner instead of the one the security config describes.
    pub fn scanner(mut self, scanner: Scanner) -> Self {
        self.scanner = Some(scanner);
        self
    }
    /// Progress on stderr while indexing.
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }
    /// A stage after the pack whose answers are cached with it.
    pub fn backend(mut self, backend: impl Backend) -> Self {
        self.backend = Some(Arc::new(backend));
        self
    }

    /// Connects the configured tiers and starts the engine.
    pub async fn build(self) -> Result<Pipeline> {
        let cfg = self.config;
        let router = match self.router {
            Some(r) => r,
            None => load_router(cfg.routes.as_deref())?,
        };
        let scanner = match self.scanner {
            Some(s) => s,
            None => load_scanner(&cfg)?,
        };
        let tokenizer =
            Tokenizer::new(Encoding::O200k).map_err(|e| Error::Config(e.to_string()))?;
        let compression: CompressLevel = cfg
            .pack
            .compression
            .parse()
            .map_err(|e| Error::Config(format!("[pack] compression: {e}")))?;
        if cfg.tenant.contains(':') || cfg.tenant.len() > 128 {
            return Err(Error::Config(
                "tenant must be at most 128 characters without ':'".into(),
            ));
        }
        let cache = if cfg.cache.disabled {
            None
        } else {
            Some(build_cache(&cfg).await?)
        };
        let audit: Option<Arc<dyn secure_redact::AuditSink>> = match &cfg.security.audit_file {
            Some(p) => Some(Arc::new(
                secure_redact::JsonlFileSink::open(p)
                    .map_err(|e| Error::Config(format!("audit file: {e}")))?,
            )),
            None => None,
        };
        let mut allowed_roots = Vec::new();
        for r in &cfg.server.allowed_roots {
            allowed_roots.push(
                std::fs::canonicalize(r)
                    .map_err(|e| Error::Config(format!("allowed root {}: {e}", r.display())))?,
            );
        }
        let index_dir = cfg.pack.index_dir.clone().unwrap_or_else(default_index_dir);
        let inner = Arc::new(Inner {
            router,
            scanner,
            tokenizer,
            compression,
            cache,
            indexes: DashMap::new(),
            flights: DashMap::new(),
            decoded: DashMap::new(),
            backend: self.backend,
            allowed_roots,
            index_dir,
            progress: self.progress,
            audit,
            config: cfg,
        });
        let e = &inner.config.engine;
        let mut builder = Engine::builder()
            .name("pipeline")
            .queue_capacity(e.queue_capacity.max(1))
            .default_timeout(Duration::from_millis(e.default_deadline_ms.max(1)));
        if e.workers > 0 {
            builder = builder.workers(e.workers);
        }
        let engine = builder
            .stage(Prepare(inner.clone()))
            .stage(IndexStage(inner.clone()))
            .stage(CacheLookup(inner.clone()))
            .stage(Select(inner.clone()))
            .stage(Redact(inner.clone()))
            .stage(Compress(inner.clone()))
            .stage(PackStage(inner.clone()))
            .stage(BackendStage(inner.clone()))
            .stage(CacheStore(inner.clone()))
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        Ok(Pipeline { inner, engine })
    }
}

impl Pipeline {
    /// Runs one request through every stage.
    pub async fn process(&self, request: Request) -> Result<Response> {
        let (work, latency_ms) = self.run(request.clone()).await?;
        let mut response = match work.stored {
            Some((bytes, level)) => match self.inner.decode_hit(&work.key, bytes) {
                Some(mut r) => {
                    r.cache_level = level;
                    r
                }
                None => return Box::pin(self.recompute(request, &work.key)).await,
            },
            None => work.response,
        };
        if response.request_id.is_empty() {
            response.request_id = work.request_id;
        }
        response.latency_ms = latency_ms;
        Ok(response)
    }

    /// [`process`](Self::process), answered as the JSON of the [`Response`]. A hit splices the
    /// stored bytes into the answer without decoding and re-encoding the pack (the HTTP
    /// service's path).
    pub async fn process_json(&self, request: Request) -> Result<Vec<u8>> {
        let (work, latency_ms) = self.run(request.clone()).await?;
        let Some((bytes, level)) = &work.stored else {
            let mut response = work.response;
            response.latency_ms = latency_ms;
            return serde_json::to_vec(&response).map_err(|e| Error::Stage(e.to_string()));
        };
        let Some(fields) = bytes.strip_prefix(STORED_MAGIC).filter(|f| f.len() >= 2) else {
            let r = Box::pin(self.recompute(request, &work.key)).await?;
            return serde_json::to_vec(&r).map_err(|e| Error::Stage(e.to_string()));
        };
        let mut out = Vec::with_capacity(fields.len() + 96);
        out.extend_from_slice(b"{\"request_id\":");
        serde_json::to_writer(&mut out, &work.request_id)
            .map_err(|e| Error::Stage(e.to_string()))?;
        out.extend_from_slice(b",\"cache_level\":");
        serde_json::to_writer(&mut out, level).map_err(|e| Error::Stage(e.to_string()))?;
        out.extend_from_slice(b",\"latency_ms\":");
        serde_json::to_writer(&mut out, &latency_ms).map_err(|e| Error::Stage(e.to_string()))?;
        if fields.len() > 2 {
            out.push(b',');
            out.extend_from_slice(&fields[1..]);
        } else {
            out.push(b'}');
        }
        Ok(out)
    }

    /// A stored value that does not decode is dropped and the request computed again.
    async fn recompute(&self, request: Request, key: &str) -> Result<Response> {
        if let Some(cache) = self.inner.tenant_cache(&request.tenant) {
            let _ = cache.delete(key).await;
        }
        let (work, latency_ms) = self.run(request).await?;
        let mut r = match work.stored.and_then(|(b, _)| decode_response(&b)) {
            Some(r) => r,
            None => work.response,
        };
        r.latency_ms = latency_ms;
        Ok(r)
    }

    async fn run(&self, mut request: Request) -> Result<(RunOutput, f64)> {
        if request.request_id.is_empty() {
            request.request_id = new_request_id();
        }
        if request.tenant.is_empty() {
            request.tenant = self.inner.config.tenant.clone();
        }
        let mut opts = SubmitOptions::new().priority(match request.priority {
            crate::Priority::Critical => pipeline_core::Priority::Critical,
            crate::Priority::High => pipeline_core::Priority::High,
            crate::Priority::Normal => pipeline_core::Priority::Normal,
            crate::Priority::Low => pipeline_core::Priority::Low,
        });
        if let Some(ms) = request.deadline_ms {
            opts = opts.timeout(Duration::from_millis(ms.max(1)));
        }
        let request_id = request.request_id.clone();
        let started = Instant::now();
        let mut work = self.engine.submit(request, opts).await?;
        let latency_ms = started.elapsed().as_secs_f64() * 1e3;
        Ok((
            RunOutput {
                response: std::mem::take(&mut work.response),
                stored: work.stored.take(),
                key: std::mem::take(&mut work.key),
                request_id,
            },
            latency_ms,
        ))
    }

    /// Runs `requests` with at most `concurrency` in flight; results in request order.
    pub async fn process_batch(
        &self,
        requests: impl IntoIterator<Item = Request>,
        concurrency: usize,
    ) -> Vec<Result<Response>> {
        use futures::StreamExt;
        futures::stream::iter(requests)
            .map(|r| self.process(r))
            .buffered(concurrency.max(1))
            .collect()
            .await
    }

    /// Runs a stream of requests, at most `concurrency` at once, yielding results in order.
    pub fn process_stream<S>(
        &self,
        requests: S,
        concurrency: usize,
    ) -> impl futures::Stream<Item = Result<Response>> + Send + 'static
    where
        S: futures::Stream<Item = Request> + Send + 'static,
    {
        use futures::StreamExt;
        let this = self.clone();
        requests
            .map(move |r| {
                let p = this.clone();
                async move { p.process(r).await }
            })
            .buffered(concurrency.max(1))
    }

    /// Counters and latency percentiles.
    pub fn stats(&self) -> Stats {
        let e = self.engine.stats();
        let cache = self.inner.cache.as_ref().map(|c| c.stats());
        Stats {
            submitted: e.submitted,
            succeeded: e.succeeded,
            overloaded: e.overloaded,
            deadline_exceeded: e.deadline_exceeded,
            errors: e.stage_errors,
            in_flight: e.in_flight,
            queue_depth: e.queue_depth,
            latency_p50_ms: e.latency.p50.as_secs_f64() * 1e3,
            latency_p95_ms: e.latency.p95.as_secs_f64() * 1e3,
            latency_p99_ms: e.latency.p99.as_secs_f64() * 1e3,
            cache_lookups: cache.as_ref().map_or(0, |c| c.lookups),
            cache_hits: cache.as_ref().map_or(0, |c| c.hits),
            cache_hit_ratio: cache.as_ref().map_or(0.0, |c| c.hit_ratio()),
            tiers: cache
                .map(|c| {
                    c.tiers
                        .iter()
                        .map(|t| TierCounts {
                            tier: t.tier.to_string(),
                            hits: t.hits,
                            misses: t.misses,
                            errors: t.errors,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            indexes: self.inner.indexes.len(),
            rss_bytes: e.rss_bytes,
        }
    }

    /// Prometheus text for `/metrics`: request outcomes, latency, cache hits per tier.
    pub fn prometheus_text(&self) -> String {
        use std::fmt::Write;
        let s = self.stats();
        let mut out = String::new();
        let _ = writeln!(out, "# TYPE pipeline_requests_total counter");
        for (outcome, v) in [
            ("success", s.succeeded),
            ("overloaded", s.overloaded),
            ("deadline_exceeded", s.deadline_exceeded),
            ("error", s.errors),
        ] {
            let _ = writeln!(out, "pipeline_requests_total{{outcome=\"{outcome}\"}} {v}");
        }
        let _ = writeln!(
            out,
            "# TYPE pipeline_in_flight gauge\npipeline_in_flight {}",
            s.in_flight
        );
        let _ = writeln!(
            out,
            "# TYPE pipeline_queue_depth gauge\npipeline_queue_depth {}",
            s.queue_depth
        );
        let _ = writeln!(out, "# TYPE pipeline_latency_ms summary");
        for (q, v) in [
            ("0.5", s.latency_p50_ms),
            ("0.95", s.latency_p95_ms),
            ("0.99", s.latency_p99_ms),
        ] {
            let _ = writeln!(out, "pipeline_latency_ms{{quantile=\"{q}\"}} {v}");
        }
        let _ = writeln!(out, "# TYPE pipeline_cache_hits_total counter");
        for t in &s.tiers {
            let _ = writeln!(
                out,
                "pipeline_cache_hits_total{{tier=\"{}\"}} {}",
                t.tier, t.hits
            );
        }
        let _ = writeln!(out, "# TYPE pipeline_cache_errors_total counter");
        for t in &s.tiers {
            let _ = writeln!(
                out,
                "pipeline_cache_errors_total{{tier=\"{}\"}} {}",
                t.tier, t.errors
            );
        }
        let _ = writeln!(
            out,
            "# TYPE pipeline_rss_bytes gauge\npipeline_rss_bytes {}",
            s.rss_bytes
        );
        out
    }

    /// Each tier's state; `serving` is false only when the engine is shutting down (a lost
    /// remote tier degrades the cache, it does not stop the service).
    pub async fn health(&self) -> Health {
        let mut tiers = vec![TierHealth {
            tier: "l1".into(),
            state: "up".into(),
        }];
        if let Some(cache) = &self.inner.cache {
            let (l2, l3) = cache.breaker_states();
            for (name, st) in [("l2", l2), ("l3", l3)] {
                if let Some(st) = st {
                    let state = match st {
                        tiered_cache::BreakerState::Closed => "up",
                        tiered_cache::BreakerState::HalfOpen => "recovering",
                        tiered_cache::BreakerState::Open => "down",
                    };
                    tiers.push(TierHealth {
                        tier: name.into(),
                        state: state.into(),
                    });
                }
            }
        }
        Health {
            serving: !self.engine.is_shutting_down(),
            tiers,
        }
    }

    /// Scans `text` (named `path` for the path-dependent rules): findings and the highest level.
    pub async fn scan_text(&self, text: &str, path: &str) -> Result<serde_json::Value> {
        let findings = self.inner.scanner.scan_path(path, text.as_bytes());
        let level = findings
            .iter()
            .map(|f| f.level)
            .max()
            .unwrap_or(secure_redact::Level::Public);
        let list: Vec<serde_json::Value> = findings
            .iter()
            .map(|f| crate::scan::finding_json(f, path))
            .collect();
        Ok(serde_json::json!({ "findings": list, "level": level }))
    }

    /// Redacts `text` with `mode` (`mask`, `partial`, `hash`, `drop-line`).
    pub async fn redact_text(&self, text: &str, mode: &str) -> Result<serde_json::Value> {
        let mode = crate::scan::parse_mode(mode)?;
        let out = self.inner.scanner.redact(text.as_bytes(), mode);
        let list: Vec<serde_json::Value> = out
            .findings
            .iter()
            .map(|f| crate::scan::finding_json(f, "-"))
            .collect();
        Ok(serde_json::json!({
            "text": String::from_utf8_lossy(&out.text),
            "findings": list,
            "level": out.level,
        }))
    }

    /// The cache, when caching is on.
    pub fn cache(&self) -> Option<&TieredCache> {
        self.inner.cache.as_ref()
    }

    /// Stops admitting, finishes in-flight requests within `timeout`, then returns.
    pub async fn shutdown(&self, timeout: Duration) {
        let report = self.engine.shutdown(timeout).await;
        if report.cancelled > 0 {
            tracing::warn!(
                cancelled = report.cancelled,
                "requests cancelled by shutdown"
            );
        }
    }
}

/// A snapshot of [`Pipeline::stats`].
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// Requests submitted.
    pub submitted: u64,
    /// Requests answered.
    pub succeeded: u64,
    /// Requests shed (queue full).
    pub overloaded: u64,
    /// Requests past their deadline.
    pub deadline_exceeded: u64,
    /// Requests that failed in a stage.
    pub errors: u64,
    /// Requests running or queued.
    pub in_flight: u64,
    /// Requests queued.
    pub queue_depth: u64,
    /// Latency percentiles, milliseconds.
    pub latency_p50_ms: f64,
    /// 95th percentile.
    pub latency_p95_ms: f64,
    /// 99th percentile.
    pub latency_p99_ms: f64,
    /// Cache lookups.
    pub cache_lookups: u64,
    /// Cache hits in any tier.
    pub cache_hits: u64,
    /// Hits / lookups.
    pub cache_hit_ratio: f64,
    /// Per tier.
    pub tiers: Vec<TierCounts>,
    /// Roots indexed by this process.
    pub indexes: usize,
    /// Resident memory.
    pub rss_bytes: u64,
}

/// One tier's counters.
#[derive(Debug, Clone, Serialize)]
pub struct TierCounts {
    /// `l1`, `redis` or `postgres`.
    pub tier: String,
    /// Hits.
    pub hits: u64,
    /// Misses.
    pub misses: u64,
    /// Errors (a down tier counts here, the request still succeeds).
    pub errors: u64,
}

/// What `/healthz` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    /// Whether the pipeline accepts requests.
    pub serving: bool,
    /// Each tier: `up`, `recovering` or `down`.
    pub tiers: Vec<TierHealth>,
}

/// One tier's state.
#[derive(Debug, Clone, Serialize)]
pub struct TierHealth {
    /// `l1`, `l2` or `l3`.
    pub tier: String,
    /// `up`, `recovering` or `down`.
    pub state: String,
}

pub(crate) fn load_router(routes: Option<&Path>) -> Result<Router> {
    match routes {
        Some(p) => Router::from_path(p).map_err(|e| Error::Config(e.to_string())),
        None => Ok(Router::default_routes()),
    }
}

pub(crate) fn load_scanner(cfg: &PipelineConfig) -> Result<Scanner> {
    let sec = &cfg.security;
    crate::scan::scanner(
        sec.rules_file.as_deref(),
        sec.baseline_file.as_deref(),
        sec.fingerprint_key.as_deref(),
    )
}

async fn build_cache(cfg: &PipelineConfig) -> Result<TieredCache> {
    let c = &cfg.cache;
    let ttl = Duration::from_secs(c.ttl_secs.max(1));
    let tc = tiered_cache::TieredConfig {
        memory: tiered_cache::MemoryConfig::builder()
            .max_entries(c.l1_entries.max(1))
            .max_bytes(c.l1_bytes.max(1))
            .build(),
        l1_ttl: ttl,
        l2_ttl: ttl,
        l3_ttl: ttl,
        ..Default::default()
    };
    let mut b = TieredCache::builder().config(tc);
    if let Some(url) = &c.redis_url {
        let rc = tiered_cache::RedisConfig::builder()
            .namespace("pipeline")
            .lazy_connect(true)
            .build();
        b = b.redis(url.clone(), rc);
    }
    if let Some(url) = &c.postgres_url {
        let pc = tiered_cache::PostgresConfig::builder()
            .table("pipeline_cache")
            .lazy_connect(true)
            .build();
        b = b.postgres(url.clone(), pc);
    }
    b.build().await.map_err(|e| {
        // The message of a tier never holds a password, but the URL may: say which by name.
        Error::Config(format!("cache: {}", scrub(&e.to_string(), cfg)))
    })
}

/// Removes the configured URLs (which may hold passwords) from a message.
fn scrub(message: &str, cfg: &PipelineConfig) -> String {
    let mut m = message.to_string();
    for url in [&cfg.cache.redis_url, &cfg.cache.postgres_url]
        .into_iter()
        .flatten()
    {
        m = m.replace(url.as_str(), &redact_url(url));
    }
    m
}

fn default_index_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("pipeline").join("index")
}

fn new_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let h = blake3::hash(format!("{t}:{}:{n}", std::process::id()).as_bytes());
    h.to_hex()[..16].to_string()
}

fn stage_err(e: Error) -> BoxError {
    Box::new(e)
}

impl Inner {
    fn check_request(&self, req: &Request) -> Result<PathBuf> {
        if req.query.trim().is_empty() {
            return Err(Error::Invalid("the query is empty".into()));
        }
        if req.query.len() > 64 * 1024 {
            return Err(Error::Invalid(format!(
                "the query is {} bytes; the limit is 65536",
                req.query.len()
            )));
        }
        let limit = self.config.pack.max_tokens_limit;
        if req.max_tokens == 0 || req.max_tokens > limit {
            return Err(Error::Invalid(format!(
                "max_tokens must be between 1 and {limit} (got {})",
                req.max_tokens
            )));
        }
        if req.tenant.contains(':') || req.tenant.len() > 128 {
            return Err(Error::Invalid(
                "tenant must be at most 128 characters without ':'".into(),
            ));
        }
        for e in &req.extensions {
            if e.is_empty() || e.contains(['/', '\\', '*']) {
                return Err(Error::Invalid(format!(
                    "bad extension `{e}` (give extensions without dots, like `rs`)"
                )));
            }
        }
        let root = std::fs::canonicalize(&req.root).map_err(|e| {
            Error::Invalid(format!(
                "root {}: {}",
                req.root.display(),
                crate::scan::io_reason(&e)
            ))
        })?;
        if !root.is_dir() {
            return Err(Error::Invalid(format!(
                "root {} is not a directory",
                req.root.display()
            )));
        }
        if !self.allowed_roots.is_empty() && !self.allowed_roots.iter().any(|a| root.starts_with(a))
        {
            return Err(Error::Forbidden(format!(
                "root {} is outside the allowed roots",
                req.root.display()
            )));
        }
        Ok(root)
    }

    fn slot(&self, root: PathBuf, extensions: &[String]) -> Arc<IndexSlot> {
        let mut exts: Vec<String> = extensions
            .iter()
            .map(|e| e.trim_start_matches('.').to_ascii_lowercase())
            .collect();
        exts.sort();
        exts.dedup();
        let key = (root.clone(), exts.clone());
        if let Some(s) = self.indexes.get(&key) {
            return s.clone();
        }
        let mut h = blake3::Hasher::new();
        h.update(root.as_os_str().as_encoded_bytes());
        for e in &exts {
            h.update(b"\0");
            h.update(e.as_bytes());
        }
        let dir = self.index_dir.join(&h.finalize().to_hex()[..20]);
        let mut b = IndexOptions::builder()
            .cache_dir(dir)
            .max_file_size(self.config.pack.max_file_bytes);
        if !exts.is_empty() {
            b = b.extensions(exts.clone());
        }
        let slot = Arc::new(IndexSlot {
            root,
            options: b.build(),
            index: parking_lot::RwLock::new(None),
            refreshed_at: parking_lot::Mutex::new(None),
        });
        self.indexes.entry(key).or_insert(slot).clone()
    }

    /// The index version when the slot was refreshed after `arrived` or within the refresh
    /// interval, without waiting for a refresh in progress.
    fn fresh_version(&self, slot: &IndexSlot, arrived: Instant) -> Option<String> {
        let interval = Duration::from_millis(self.config.pack.refresh_interval_ms);
        let last = (*slot.refreshed_at.lock())?;
        if last < arrived && last.elapsed() >= interval {
            return None;
        }
        let guard = slot.index.try_read()?;
        guard.as_ref().map(|ix| ix.version().to_string())
    }

    /// Opens or refreshes the slot's index unless a refresh started after `arrived`.
    fn refresh(&self, slot: &IndexSlot, arrived: Instant) -> Result<String> {
        let mut last = slot.refreshed_at.lock();
        if last.is_some_and(|t| t >= arrived) {
            if let Some(ix) = slot.index.read().as_ref() {
                return Ok(ix.version().to_string());
            }
        }
        let started = Instant::now();
        let mut guard = slot.index.write();
        let progress = self
            .progress
            .start(format!("indexing {}", slot.root.display()));
        match guard.as_mut() {
            Some(ix) => {
                ix.refresh()
                    .map_err(|e| Error::Io(format!("indexing: {e}")))?;
            }
            None => {
                let ix = Index::open(&slot.root, slot.options.clone())
                    .map_err(|e| Error::Io(format!("indexing: {e}")))?;
                *guard = Some(ix);
            }
        }
        let version = guard
            .as_ref()
            .map(|ix| ix.version().to_string())
            .unwrap_or_default();
        progress.set_message(format!("indexed {}", slot.root.display()));
        *last = Some(started);
        Ok(version)
    }

    fn cache_key(&self, req: &Request, root: &Path, version: &str) -> String {
        let mut h = blake3::Hasher::new();
        h.update(b"pipeline-pack-v2\0");
        let query: Vec<&str> = req.query.split_whitespace().collect();
        for part in [
            req.tenant.as_str(),
            &query.join(" "),
            &root.to_string_lossy(),
            version,
            &req.max_tokens.to_string(),
            req.security_level.as_str(),
            &format!("{:?}", req.format),
            self.compression.name(),
            self.backend.as_ref().map_or("", |b| b.name()),
        ] {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        format!("pack:{}", h.finalize().to_hex())
    }

    fn tenant_cache(&self, tenant: &str) -> Option<TieredCache> {
        let cache = self.cache.as_ref()?;
        if tenant.is_empty() {
            Some(cache.clone())
        } else {
            cache.tenant(tenant).ok()
        }
    }
}

/// The prefix of a stored response; a value without it (another format) is recomputed.
const STORED_MAGIC: &[u8] = b"PPK3";

/// The stored form of a response: [`STORED_MAGIC`], then the response's JSON object without
/// the fields that differ per request (`request_id`, `cache_level`, `latency_ms`), so a hit
/// can be answered over HTTP by splicing those three in front of the stored bytes.
fn encode_response(r: &Response) -> Option<Vec<u8>> {
    let mut value = serde_json::to_value(r).ok()?;
    let map = value.as_object_mut()?;
    for volatile in ["request_id", "cache_level", "latency_ms"] {
        map.remove(volatile);
    }
    let mut out = STORED_MAGIC.to_vec();
    serde_json::to_writer(&mut out, &value).ok()?;
    Some(out)
}

/// Decoded responses kept for repeated hits (each holds its stored bytes and a copy).
const DECODED_CAP: usize = 256;

impl Inner {
    fn decode_hit(&self, key: &str, bytes: Bytes) -> Option<Response> {
        decode_cached(&self.decoded, key, bytes)
    }
}

/// The response stored as `bytes` under `key`: from the decoded copy in `decoded` when it was
/// decoded from these very bytes, else decoded (and kept for the next hit).
fn decode_cached(
    decoded: &DashMap<String, (Bytes, Arc<Response>)>,
    key: &str,
    bytes: Bytes,
) -> Option<Response> {
    if let Some(e) = decoded.get(key) {
        let (kept, response) = e.value();
        if kept.as_ptr() == bytes.as_ptr() && kept.len() == bytes.len() {
            return Some(Response::clone(response));
        }
    }
    let r = decode_response(&bytes)?;
    if decoded.len() >= DECODED_CAP {
        // Bounded: drop one entry (whichever comes first) to make room.
        let victim = decoded.iter().next().map(|e| e.key().clone());
        if let Some(v) = victim {
            decoded.remove(&v);
        }
    }
    decoded.insert(key.to_string(), (bytes, Arc::new(r.clone())));
    Some(r)
}

/// The inverse of [`encode_response`] (with the volatile fields at their defaults); `None` for
/// anything else.
fn decode_response(bytes: &[u8]) -> Option<Response> {
    let json = bytes.strip_prefix(STORED_MAGIC)?;
    serde_json::from_slice(json).ok()
}

struct Prepare(Arc<Inner>);
impl Stage<Request, Work> for Prepare {
    fn name(&self) -> &str {
        "prepare"
    }
    async fn process(
        &self,
        ctx: &StageContext<Request>,
        mut work: Work,
    ) -> std::result::Result<Work, BoxError> {
        let arrived = Instant::now();
        work.started = Some(arrived);
        let inner = &self.0;
        let req = ctx.request();
        let root = inner.check_request(req).map_err(stage_err)?;
        let ranking = inner.router.rank(&req.query);
        if let Some(best) = ranking.best() {
            let keywords = best.keywords.as_slice();
            work.response.route = crate::types::RouteInfo {
                name: ranking.route.to_string(),
                score: best.score,
                keywords: keywords.iter().map(|k| k.to_string()).collect(),
            };
            work.keywords = keywords.iter().map(|k| (k.to_string(), 0.5)).collect();
        } else {
            work.response.route.name = ranking.route.to_string();
        }
        let slot = inner.slot(root.clone(), &req.extensions);
        work.response.request_id = req.request_id.clone();
        // The fast path of a warm service: an index refreshed within the refresh interval
        // gives the cache key here, on the async side, so a hit never waits for a compute
        // thread. Otherwise the `index` stage refreshes it on the compute pool.
        if let Some(version) = inner.fresh_version(&slot, arrived) {
            work.key = inner.cache_key(req, &root, &version);
            work.response.index_version = version;
        }
        work.root = root;
        work.slot = Some(slot);
        Ok(work)
    }
}

struct IndexStage(Arc<Inner>);
impl Stage<Request, Work> for IndexStage {
    fn name(&self) -> &str {
        "index"
    }
    fn kind(&self) -> StageKind {
        StageKind::Cpu
    }
    fn should_run(&self, _: &StageContext<Request>, work: &Work) -> bool {
        work.key.is_empty()
    }
    async fn process(
        &self,
        ctx: &StageContext<Request>,
        mut work: Work,
    ) -> std::result::Result<Work, BoxError> {
        let Some(slot) = work.slot.clone() else {
            return Err(stage_err(Error::Stage("index: prepare did not run".into())));
        };
        let arrived = work.started.unwrap_or_else(Instant::now);
        let version = self.0.refresh(&slot, arrived).map_err(stage_err)?;
        work.key = self.0.cache_key(ctx.request(), &work.root, &version);
        work.response.index_version = version;
        Ok(work)
    }
}

struct CacheLookup(Arc<Inner>);
impl Stage<Request, Work> for CacheLookup {
    fn name(&self) -> &str {
        "cache-lookup"
    }
    async fn process(
        &self,
        ctx: &StageContext<Request>,
        mut work: Work,
    ) -> std::result::Result<Work, BoxError> {
        let req = ctx.request();
        let Some(cache) = self.0.tenant_cache(&req.tenant) else {
            return Ok(work);
        };
        if let Some(found) = cache.get(&work.key).await {
            if found.value.starts_with(STORED_MAGIC) && found.value.ends_with(b"}") {
                let level = match found.level {
                    tiered_cache::CacheLevel::L1 => CacheLevel::L1,
                    tiered_cache::CacheLevel::L2 => CacheLevel::L2,
                    tiered_cache::CacheLevel::L3 => CacheLevel::L3,
                    tiered_cache::CacheLevel::Miss => CacheLevel::Miss,
                };
                let started = work.started;
                let key = std::mem::take(&mut work.key);
                work = Work {
                    started,
                    key,
                    hit: true,
                    stored: Some((found.value, level)),
                    ..Work::default()
                };
                return Ok(work);
            }
            // Not a response of this version: recompute and overwrite.
            let _ = cache.delete(&work.key).await;
        }
        // Single-flight: the first miss of a key computes it; the others wait for its answer.
        loop {
            let waiting = match self.0.flights.entry(work.key.clone()) {
                dashmap::Entry::Occupied(e) => e.get().clone(),
                dashmap::Entry::Vacant(v) => {
                    let (tx, rx) = watch::channel(None);
                    v.insert(rx);
                    work.flight = Some(tx);
                    return Ok(work);
                }
            };
            let mut rx = waiting;
            let answer = rx
                .wait_for(Option::is_some)
                .await
                .ok()
                .and_then(|v| v.clone());
            match answer {
                Some(resp) => {
                    let mut resp = (*resp).clone();
                    resp.request_id = req.request_id.clone();
                    resp.cache_level = CacheLevel::Miss;
                    let started = work.started;
                    return Ok(Work {
                        response: resp,
                        started,
                        hit: true,
                        ..Work::default()
                    });
                }
                None => {
                    // The leader failed; take over unless someone else already did.
                    self.0
                        .flights
                        .remove_if(&work.key, |_, r| r.has_changed().is_err());
                }
            }
        }
    }
}

struct Select(Arc<Inner>);
impl Stage<Request, Work> for Select {
    fn name(&self) -> &str {
        "select"
    }
    fn kind(&self) -> StageKind {
        StageKind::Cpu
    }
    fn should_run(&self, _: &StageContext<Request>, work: &Work) -> bool {
        !work.hit
    }
    async fn process(
        &self,
        ctx: &StageContext<Request>,
        mut work: Work,
    ) -> std::result::Result<Work, BoxError> {
        let req = ctx.request();
        let Some(slot) = work.slot.clone() else {
            return Err(stage_err(Error::Stage(
                "select: no index (prepare did not run)".into(),
            )));
        };
        let format = match req.format {
            PackFormat::Markdown => Format::Markdown,
            PackFormat::Xml => Format::Xml,
            PackFormat::Json => Format::Json,
        };
        let opts = SelectOptions::builder()
            .max_tokens(req.max_tokens)
            .format(format)
            .build();
        let query = Query::new(req.query.clone()).with_keywords(std::mem::take(&mut work.keywords));
        let guard = slot.index.read();
        let Some(index) = guard.as_ref() else {
            return Err(stage_err(Error::Stage(
                "select: the index is not open".into(),
            )));
        };
        let selection = index
            .select(&query, &opts)
            .map_err(|e| stage_err(Error::Stage(format!("select: {e}"))))?;
        drop(guard);
        // What sending the selected files whole would have cost.
        let mut seen = std::collections::HashSet::new();
        let mut whole = 0usize;
        for c in &selection.chunks {
            if seen.insert(c.path.clone()) {
                if let Ok(bytes) = std::fs::read(slot.root.join(&c.path)) {
                    whole += self.0.tokenizer.count(&String::from_utf8_lossy(&bytes));
                }
            }
        }
        work.whole_tokens = whole;
        work.selection = Some(selection);
        Ok(work)
    }
}

struct Redact(Arc<Inner>);
impl Stage<Request, Work> for Redact {
    fn name(&self) -> &str {
        "redact"
    }
    fn kind(&self) -> StageKind {
        StageKind::Cpu
    }
    fn should_run(&self, _: &StageContext<Request>, work: &Work) -> bool {
        !work.hit
    }
    async fn process(
        &self,
        ctx: &StageContext<Request>,
        mut work: Work,
    ) -> std::result::Result<Work, BoxError> {
        let req = ctx.request();
        let clearance = req.security_level.level();
        let Some(selection) = work.selection.as_mut() else {
            return Ok(work);
        };
        let mut max_level = secure_redact::Level::Public;
        for chunk in &mut selection.chunks {
            let findings = self.0.scanner.scan_path(&chunk.path, chunk.text.as_bytes());
            if findings.is_empty() {
                continue;
            }
            let mut redact: Vec<&secure_redact::Finding> = Vec::new();
            for f in &findings {
                max_level = max_level.max(f.level);
                let redacted = f.level > clearance;
                if redacted {
                    redact.push(f);
                }
                let line = chunk.start_line as usize + f.line - 1;
                work.response.findings.push(PackFinding {
                    rule: f.rule.to_string(),
                    level: f.level.to_string(),
                    path: chunk.path.clone(),
                    line,
                    column: f.column,
                    fingerprint: f.fingerprint.to_string(),
                    redacted,
                });
                if let Some(sink) = &self.0.audit {
                    let action = if redacted {
                        secure_redact::Action::Redacted(secure_redact::RedactMode::Mask)
                    } else {
                        secure_redact::Action::Reported
                    };
                    let mut event = secure_redact::AuditEvent::new(f, Some(&chunk.path), action);
                    event.line = line;
                    if let Err(e) = sink.record(&event) {
                        tracing::warn!(error = %e, "audit record failed");
                    }
                }
            }
            if !redact.is_empty() {
                chunk.text = replace_findings(&chunk.text, &redact);
            }
        }
        work.response.level = max_level.to_string();
        Ok(work)
    }
}

/// `text` with every finding's span replaced by `[REDACTED:rule:abc123]`; spans that overlap
/// are merged into the first one's placeholder.
fn replace_findings(text: &str, findings: &[&secure_redact::Finding]) -> String {
    let mut spans: Vec<(usize, usize, String)> = findings
        .iter()
        .map(|f| {
            (
                f.start,
                f.end,
                format!("[REDACTED:{}:{}]", f.rule, f.short_fingerprint()),
            )
        })
        .collect();
    spans.sort_by_key(|s| (s.0, std::cmp::Reverse(s.1)));
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut pos = 0usize;
    for (start, end, placeholder) in spans {
        let end = end.min(bytes.len());
        if end <= pos {
            continue;
        }
        let start = start.max(pos);
        out.extend_from_slice(&bytes[pos..start]);
        out.extend_from_slice(placeholder.as_bytes());
        pos = end;
    }
    out.extend_from_slice(&bytes[pos.min(bytes.len())..]);
    // Spans are byte offsets of a scan over this very text; cutting inside a multi-byte
    // character cannot happen for matches of ASCII-anchored rules, and lossy conversion keeps
    // it safe if a rule ever does.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

struct Compress(Arc<Inner>);
impl Stage<Request, Work> for Compress {
    fn name(&self) -> &str {
        "compress"
    }
    fn kind(&self) -> StageKind {
        StageKind::Cpu
    }
    fn should_run(&self, _: &StageContext<Request>, work: &Work) -> bool {
        !work.hit
    }
    async fn process(
        &self,
        _ctx: &StageContext<Request>,
        mut work: Work,
    ) -> std::result::Result<Work, BoxError> {
        let level = self.0.compression;
        let Some(selection) = work.selection.as_mut() else {
            return Ok(work);
        };
        for chunk in &mut selection.chunks {
            let first = chunk.text.lines().next().unwrap_or("");
            let lang = Language::detect(&chunk.path, first);
            // A chunk is part of a file: compression that fails on a fragment keeps the text.
            if let Ok(out) = token_opt::compress(&chunk.text, lang, level) {
                chunk.text = out.text;
            }
        }
        Ok(work)
    }
}

struct PackStage(Arc<Inner>);
impl Stage<Request, Work> for PackStage {
    fn name(&self) -> &str {
        "pack"
    }
    fn kind(&self) -> StageKind {
        StageKind::Cpu
    }
    fn should_run(&self, _: &StageContext<Request>, work: &Work) -> bool {
        !work.hit
    }
    async fn process(
        &self,
        _ctx: &StageContext<Request>,
        mut work: Work,
    ) -> std::result::Result<Work, BoxError> {
        let Some(selection) = work.selection.take() else {
            return Ok(work);
        };
        let pack = context_chop::render(&selection, &self.0.tokenizer);
        let r = &mut work.response;
        r.pack = pack.text;
        r.tokens_used = pack.tokens_used;
        r.tokens_saved = work.whole_tokens.saturating_sub(pack.tokens_used);
        r.chunks = pack
            .chunks
            .into_iter()
            .map(|c| PackChunk {
                path: c.path,
                start_line: c.start_line as usize,
                end_line: c.end_line as usize,
                score: f64::from(c.score),
                tokens: c.tokens,
            })
            .collect();
        if r.level.is_empty() {
            r.level = secure_redact::Level::Public.to_string();
        }
        r.cache_level = CacheLevel::Miss;
        Ok(work)
    }
}

struct BackendStage(Arc<Inner>);
impl Stage<Request, Work> for BackendStage {
    fn name(&self) -> &str {
        "backend"
    }
    fn should_run(&self, _: &StageContext<Request>, work: &Work) -> bool {
        !work.hit && self.0.backend.is_some()
    }
    async fn process(
        &self,
        ctx: &StageContext<Request>,
        mut work: Work,
    ) -> std::result::Result<Work, BoxError> {
        if let Some(b) = &self.0.backend {
            let answer = b.answer(ctx.request(), &work.response.pack).await?;
            work.response.answer = Some(answer);
        }
        Ok(work)
    }
}

struct CacheStore(Arc<Inner>);
impl Stage<Request, Work> for CacheStore {
    fn name(&self) -> &str {
        "cache-store"
    }
    fn should_run(&self, _: &StageContext<Request>, work: &Work) -> bool {
        !work.hit
    }
    async fn process(
        &self,
        ctx: &StageContext<Request>,
        mut work: Work,
    ) -> std::result::Result<Work, BoxError> {
        let req = ctx.request();
        // Only a pack with every finding redacted may be stored (L1, and above all L2/L3).
        // The stored form leaves out the per-request fields itself (see `encode_response`).
        let storable = work.response.findings.iter().all(|f| f.redacted);
        if storable {
            if let Some(cache) = self.0.tenant_cache(&req.tenant) {
                if let Some(bytes) = encode_response(&work.response) {
                    if let Err(e) = cache.set(&work.key, Bytes::from(bytes), None).await {
                        // A failed store degrades the cache, not the request.
                        tracing::warn!(error = %e, "cache store failed");
                    }
                }
            }
        }
        if let Some(tx) = work.flight.take() {
            let _ = tx.send(Some(Arc::new(work.response.clone())));
            self.0.flights.remove(&work.key);
        }
        Ok(work)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_hits_are_reused_only_for_the_same_stored_bytes() {
        let decoded = DashMap::new();
        let a = Response {
            pack: "first pack".into(),
            ..Response::default()
        };
        let b = Response {
            pack: "second pack".into(),
            ..Response::default()
        };
        let bytes_a = Bytes::from(encode_response(&a).unwrap());
        let bytes_b = Bytes::from(encode_response(&b).unwrap());
        assert_eq!(
            decode_cached(&decoded, "k", bytes_a.clone()).unwrap().pack,
            "first pack"
        );
        assert_eq!(
            decode_cached(&decoded, "k", bytes_a.clone()).unwrap().pack,
            "first pack"
        );
        // The same key stored anew (another allocation, other content) is decoded again.
        assert_eq!(
            decode_cached(&decoded, "k", bytes_b).unwrap().pack,
            "second pack"
        );
        // Equal content in another allocation is decoded, not matched by address.
        let copy = Bytes::from(bytes_a.to_vec());
        assert_eq!(
            decode_cached(&decoded, "k", copy).unwrap().pack,
            "first pack"
        );
        assert!(decode_cached(&decoded, "junk", Bytes::from_static(b"PPK3{")).is_none());
        for i in 0..DECODED_CAP + 50 {
            decode_cached(&decoded, &format!("key-{i}"), bytes_a.clone()).unwrap();
        }
        assert!(decoded.len() <= DECODED_CAP);
    }

    #[test]
    fn stored_responses_round_trip_and_junk_is_refused() {
        let r = Response {
            request_id: String::new(),
            pack: "## a.rs:1-2\n```rust\nfn a() {}\n```\n".into(),
            tokens_used: 12,
            index_version: "v".into(),
            ..Response::default()
        };
        let bytes = encode_response(&r).unwrap();
        assert_eq!(decode_response(&bytes), Some(r));
        assert!(bytes.starts_with(STORED_MAGIC) && bytes.ends_with(b"}"));
        assert_eq!(decode_response(b""), None);
        assert_eq!(decode_response(b"PPK3\xff\xff{}x"), None);
        assert_eq!(decode_response(b"{\"pack\": \"x\"}"), None);
        let mut bad = bytes.clone();
        bad.truncate(10);
        assert_eq!(decode_response(&bad), None);
    }

    #[test]
    fn overlapping_findings_become_one_placeholder() {
        let text = "key = AKIAABCDEFGHIJKLMNOP and more";
        let f = |start, end| secure_redact::Finding {
            rule: "aws-access-key".into(),
            level: secure_redact::Level::Sensitive,
            start,
            end,
            line: 1,
            column: start + 1,
            fingerprint: "abcdef0123".repeat(7)[..64].parse().expect("64 hex digits"),
        };
        let a = f(6, 26);
        let b = f(10, 20);
        let out = replace_findings(text, &[&a, &b]);
        assert_eq!(out, "key = [REDACTED:aws-access-key:abcdef] and more");
    }
}
