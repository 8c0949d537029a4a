//! `TieredCache`: L1 (memory) -> L2 (Redis) -> L3 (PostgreSQL) with promotion, write-through,
//! single-flight loading, tenants, per-call cache control, circuit breakers and invalidation
//! across instances over Redis pub/sub.

use bytes::Bytes;
use dashmap::DashMap;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::Future;
use std::hash::BuildHasher;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

use crate::breaker::{BreakerConfig, CircuitBreaker};
use crate::memory::{MemoryConfig, MemoryTier};
use crate::postgres_tier::{PostgresConfig, PostgresTier};
use crate::redis_tier::{Fetched, RedisConfig, RedisTier};
use crate::stats::{CacheStats, Counter, TierCounters};
use crate::{Error, LoadError, Result};

/// Which tier answered a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CacheLevel {
    /// No tier had the value (it was loaded, or is absent).
    Miss,
    /// The in-process memory tier.
    L1,
    /// Redis.
    L2,
    /// PostgreSQL.
    L3,
}

impl CacheLevel {
    /// `miss`, `l1`, `l2` or `l3`.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheLevel::Miss => "miss",
            CacheLevel::L1 => "l1",
            CacheLevel::L2 => "l2",
            CacheLevel::L3 => "l3",
        }
    }
}

impl std::fmt::Display for CacheLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value and the tier it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The value.
    pub value: Bytes,
    /// Where it came from ([`CacheLevel::Miss`] when `get_or_load` had to load it).
    pub level: CacheLevel,
}

/// When a value found in L2 or L3 is copied up into the faster tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Promotion {
    /// On the first hit.
    #[default]
    AtOnce,
    /// After this many hits in the lower tiers (counted per key in this process).
    AfterHits(u32),
    /// Never (each tier only holds what was written to it).
    Never,
}

/// Per-call cache control, in the spirit of HTTP `Cache-Control`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheControl {
    /// Do not store what this call loads (`no-store`).
    pub no_store: bool,
    /// Do not answer from the cache; load, then store (`no-cache`).
    pub no_cache: bool,
    /// Lifetime of what this call stores, instead of the configured TTLs (`max-age`).
    pub max_age: Option<Duration>,
}

impl CacheControl {
    /// `no-store`.
    pub fn no_store() -> Self {
        CacheControl {
            no_store: true,
            ..Default::default()
        }
    }
    /// `no-cache`.
    pub fn no_cache() -> Self {
        CacheControl {
            no_cache: true,
            ..Default::default()
        }
    }
    /// `max-age`.
    pub fn max_age(ttl: Duration) -> Self {
        CacheControl {
            max_age: Some(ttl),
            ..Default::default()
        }
    }
}

/// Adaptive TTL: keys hit often in L1 get longer lifetimes when they are refreshed or promoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdaptiveTtl {
    /// Hits (as counted by L1, at most 63) per extra TTL multiple.
    pub hits_per_step: u32,
    /// The largest multiple of the base TTL a key may reach.
    pub max_factor: u32,
}

impl Default for AdaptiveTtl {
    fn default() -> Self {
        AdaptiveTtl {
            hits_per_step: 8,
            max_factor: 4,
        }
    }
}

/// Configuration of a [`TieredCache`]: plain data with defaults; see [`TieredCacheBuilder`].
#[derive(Debug, Clone, PartialEq)]
pub struct TieredConfig {
    /// The memory tier.
    pub memory: MemoryConfig,
    /// Longest life in L1 (also the default when a call gives no TTL).
    pub l1_ttl: Duration,
    /// Longest life in L2.
    pub l2_ttl: Duration,
    /// Longest life in L3.
    pub l3_ttl: Duration,
    /// TTLs are spread by up to +/- this fraction (0.0-0.5) so entries do not expire together.
    pub ttl_jitter: f64,
    /// Values larger than this are not kept in L1.
    pub l1_max_value_bytes: usize,
    /// Write to L2 on `set` (write-through).
    pub write_l2: bool,
    /// Values larger than this are not written to L2.
    pub l2_max_value_bytes: usize,
    /// Write to L3 on `set` (write-through).
    pub write_l3: bool,
    /// Values larger than this are not written to L3.
    pub l3_max_value_bytes: usize,
    /// When L2/L3 hits are copied up.
    pub promotion: Promotion,
    /// Longest wait for one remote call before the tier counts as failed for this call.
    pub remote_timeout: Duration,
    /// Circuit breaker of each remote tier.
    pub breaker: BreakerConfig,
    /// Cache loader errors for this long (`None`: errors are never cached).
    pub negative_ttl: Option<Duration>,
    /// Serve values up to this long past their TTL while one background load refreshes them.
    pub stale_while_revalidate: Option<Duration>,
    /// Refresh keys this long before they expire, in the background, when L1 sees them hot.
    pub refresh_ahead: Option<Duration>,
    /// L1 hits (0-63, aged) that make a key hot for refresh-ahead.
    pub refresh_ahead_min_hits: u8,
    /// Longer TTLs for hot keys.
    pub adaptive_ttl: Option<AdaptiveTtl>,
    /// Tell other instances over Redis pub/sub to drop keys this one changes or deletes.
    pub coherence: bool,
    /// Delete expired rows from L3 this often (`None`: never; call `sweep_expired` yourself).
    pub sweep_interval: Option<Duration>,
}

impl Default for TieredConfig {
    fn default() -> Self {
        TieredConfig {
            memory: MemoryConfig::default(),
            l1_ttl: Duration::from_secs(300),
            l2_ttl: Duration::from_secs(3600),
            l3_ttl: Duration::from_secs(86_400),
            ttl_jitter: 0.1,
            l1_max_value_bytes: 1 << 20,
            write_l2: true,
            l2_max_value_bytes: 8 << 20,
            write_l3: true,
            l3_max_value_bytes: 64 << 20,
            promotion: Promotion::AtOnce,
            remote_timeout: Duration::from_millis(250),
            breaker: BreakerConfig::default(),
            negative_ttl: None,
            stale_while_revalidate: None,
            refresh_ahead: None,
            refresh_ahead_min_hits: 4,
            adaptive_ttl: None,
            coherence: true,
            sweep_interval: Some(Duration::from_secs(60)),
        }
    }
}

/// Builder of a [`TieredCache`].
#[derive(Debug, Default)]
pub struct TieredCacheBuilder {
    config: TieredConfig,
    redis: Option<(String, RedisConfig)>,
    postgres: Option<(String, PostgresConfig)>,
    redis_tier: Option<RedisTier>,
    postgres_tier: Option<PostgresTier>,
}

macro_rules! setter {
    ($(#[$doc:meta] $name:ident: $ty:ty),* $(,)?) => {
        $(
            #[$doc]
            pub fn $name(mut self, v: $ty) -> Self {
                self.config.$name = v;
                self
            }
        )*
    };
}

impl TieredCacheBuilder {
    /// Replaces the whole configuration.
    pub fn config(mut self, config: TieredConfig) -> Self {
        self.config = config;
        self
    }

    /// Adds L2: the Redis at `url`.
    pub fn redis(mut self, url: impl Into<String>, config: RedisConfig) -> Self {
        self.redis = Some((url.into(), config));
        self
    }

    /// Adds L2 from a tier built elsewhere.
    pub fn redis_tier(mut self, tier: RedisTier) -> Self {
        self.redis_tier = Some(tier);
        self
    }

    /// Adds L3: the PostgreSQL at `url`.
    pub fn postgres(mut self, url: impl Into<String>, config: PostgresConfig) -> Self {
        self.postgres = Some((url.into(), config));
        self
    }

    /// Adds L3 from a tier built elsewhere.
    pub fn postgres_tier(mut self, tier: PostgresTier) -> Self {
        self.postgres_tier = Some(tier);
        self
    }

    setter! {
        /// The memory tier.
        memory: MemoryConfig,
        /// Longest life in L1.
        l1_ttl: Duration,
        /// Longest life in L2.
        l2_ttl: Duration,
        /// Longest life in L3.
        l3_ttl: Duration,
        /// TTL jitter fraction.
        ttl_jitter: f64,
        /// Largest value kept in L1.
        l1_max_value_bytes: usize,
        /// Write-through to L2.
        write_l2: bool,
        /// Largest value written to L2.
        l2_max_value_bytes: usize,
        /// Write-through to L3.
        write_l3: bool,
        /// Largest value written to L3.
        l3_max_value_bytes: usize,
        /// Promotion policy.
        promotion: Promotion,
        /// Longest wait for one remote call.
        remote_timeout: Duration,
        /// Circuit breaker settings.
        breaker: BreakerConfig,
        /// Negative caching of loader errors.
        negative_ttl: Option<Duration>,
        /// Stale-while-revalidate window.
        stale_while_revalidate: Option<Duration>,
        /// Refresh-ahead window.
        refresh_ahead: Option<Duration>,
        /// Hits that make a key hot for refresh-ahead.
        refresh_ahead_min_hits: u8,
        /// Adaptive TTL.
        adaptive_ttl: Option<AdaptiveTtl>,
        /// Invalidation across instances.
        coherence: bool,
        /// L3 expiry sweep interval.
        sweep_interval: Option<Duration>,
    }

    /// Connects the configured tiers and starts the background tasks (invalidation listener,
    /// batchers, L3 sweep). Must run inside a Tokio runtime.
    pub async fn build(self) -> Result<TieredCache> {
        let c = &self.config;
        if !(0.0..=0.5).contains(&c.ttl_jitter) {
            return Err(Error::Invalid(format!(
                "ttl_jitter must be within 0.0..=0.5, got {}",
                c.ttl_jitter
            )));
        }
        let memory = MemoryTier::new(self.config.memory.clone())?;
        let redis = match (self.redis_tier, self.redis) {
            (Some(t), _) => Some(t),
            (None, Some((url, cfg))) => Some(RedisTier::connect(&url, cfg).await?),
            (None, None) => None,
        };
        let postgres = match (self.postgres_tier, self.postgres) {
            (Some(t), _) => Some(t),
            (None, Some((url, cfg))) => Some(PostgresTier::connect(&url, cfg).await?),
            (None, None) => None,
        };
        let id_hasher = std::collections::hash_map::RandomState::new();
        let instance_id = id_hasher.hash_one((SystemTime::now(), std::process::id()));
        let channel = redis
            .as_ref()
            .map(|r| format!("{}:__invalidate", r.config().namespace))
            .unwrap_or_default();
        let inner = Arc::new(Inner {
            l2: redis.map(|t| Remote::new(t, &self.config.breaker)),
            l3: postgres.map(|t| Remote::new(t, &self.config.breaker)),
            l1: memory,
            l1_stats: TierCounters::default(),
            config: self.config,
            flights: DashMap::new(),
            lower_hits: DashMap::new(),
            negative: DashMap::new(),
            lookups: Counter::default(),
            hits: Counter::default(),
            loads: Counter::default(),
            coalesced: Counter::default(),
            promotions: Counter::default(),
            refreshes: Counter::default(),
            jitter: foldhash::fast::RandomState::default(),
            instance_id,
            channel,
            tasks: parking_lot::Mutex::new(Vec::new()),
        });
        inner.start_tasks();
        Ok(TieredCache {
            inner,
            tenant: DEFAULT_TENANT.into(),
        })
    }
}

const DEFAULT_TENANT: &str = "_";

struct Remote<T> {
    tier: T,
    breaker: CircuitBreaker,
    stats: TierCounters,
}

impl<T> Remote<T> {
    fn new(tier: T, breaker: &BreakerConfig) -> Self {
        Remote {
            tier,
            breaker: CircuitBreaker::new(breaker.clone()),
            stats: TierCounters::default(),
        }
    }
}

type Flight = watch::Receiver<Option<std::result::Result<Bytes, LoadError>>>;

struct Inner {
    config: TieredConfig,
    l1: MemoryTier,
    l1_stats: TierCounters,
    l2: Option<Remote<RedisTier>>,
    l3: Option<Remote<PostgresTier>>,
    flights: DashMap<String, Flight>,
    lower_hits: DashMap<String, u32>,
    negative: DashMap<String, (Instant, LoadError)>,
    lookups: Counter,
    hits: Counter,
    loads: Counter,
    coalesced: Counter,
    promotions: Counter,
    refreshes: Counter,
    jitter: foldhash::fast::RandomState,
    instance_id: u64,
    channel: String,
    tasks: parking_lot::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for t in self.tasks.get_mut().drain(..) {
            t.abort();
        }
    }
}

/// The cache: L1 in memory, optional L2 in Redis and L3 in PostgreSQL.
///
/// Cheap to clone (an `Arc` inside); [`TieredCache::tenant`] gives a handle whose keys live in
/// that tenant's namespace. Remote failures never surface as errors from lookups or writes: the
/// tier is skipped (its circuit breaker opens after a few failures) and counted in
/// [`TieredCache::stats`].
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use tiered_cache::{CacheLevel, TieredCache};
///
/// let cache = TieredCache::builder().build().await.unwrap(); // L1 only
/// cache.set("k", "v".into(), None).await.unwrap();
/// let hit = cache.get("k").await.unwrap();
/// assert_eq!(hit.level, CacheLevel::L1);
///
/// let loaded = cache
///     .get_or_load("other", || async { Ok::<_, std::io::Error>("computed".into()) })
///     .await
///     .unwrap();
/// assert_eq!(loaded.level, CacheLevel::Miss);
/// # });
/// ```
#[derive(Clone)]
pub struct TieredCache {
    inner: Arc<Inner>,
    tenant: Arc<str>,
}

impl std::fmt::Debug for TieredCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TieredCache")
            .field("tenant", &self.tenant)
            .field("l2", &self.inner.l2.is_some())
            .field("l3", &self.inner.l3.is_some())
            .finish_non_exhaustive()
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Where a value came from and how fresh it is.
struct Found {
    value: Bytes,
    level: CacheLevel,
    /// Past its fresh lifetime (only inside a stale-while-revalidate window).
    stale: bool,
    /// Hot and near expiry: refresh in the background.
    refresh: bool,
    /// L1's aged hit count (0 when not from L1).
    hits: u8,
}

impl TieredCache {
    /// A builder with the default configuration (L1 only until Redis/PostgreSQL are added).
    pub fn builder() -> TieredCacheBuilder {
        TieredCacheBuilder::default()
    }

    /// A handle on the same cache whose keys live in `tenant`'s namespace: two tenants never
    /// see each other's entries. Tenant names are 1-128 characters without `:`.
    pub fn tenant(&self, tenant: &str) -> Result<TieredCache> {
        if tenant.is_empty() || tenant.len() > 128 || tenant.contains(':') {
            return Err(Error::Invalid(format!(
                "tenant name must be 1-128 characters without ':' (got {} characters)",
                tenant.len()
            )));
        }
        Ok(TieredCache {
            inner: self.inner.clone(),
            tenant: tenant.into(),
        })
    }

    /// This handle's tenant (`_` for the default namespace).
    pub fn tenant_name(&self) -> &str {
        &self.tenant
    }

    fn full_key(&self, key: &str) -> String {
        let mut k = String::with_capacity(self.tenant.len() + 1 + key.len());
        k.push_str(&self.tenant);
        k.push(':');
        k.push_str(key);
        k
    }

    /// The value under `key` from the fastest tier that has it (L1, then L2, then L3), copied
    /// up into the faster tiers by the promotion policy. `None` when no tier has a fresh value.
    pub async fn get(&self, key: &str) -> Option<Lookup> {
        let full = self.full_key(key);
        let found = self.inner.lookup(&full, true).await?;
        if found.stale {
            return None;
        }
        Some(Lookup {
            value: found.value,
            level: found.level,
        })
    }

    /// The values of `keys` (in order); L1 misses are looked up with one `MGET` and one query.
    pub async fn get_many(&self, keys: &[&str]) -> Vec<Option<Lookup>> {
        let full: Vec<String> = keys.iter().map(|k| self.full_key(k)).collect();
        self.inner.lookup_many(&full).await
    }

    /// Stores `value` under `key` in every tier the write policy and the value's size allow,
    /// with `ttl` (capped per tier; `None`: the tier defaults), and tells other instances to
    /// drop their L1 copy.
    pub async fn set(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<()> {
        let full = self.full_key(key);
        self.inner.negative.remove(&full);
        self.inner.store(&full, value, ttl, 0).await;
        self.inner.publish(b'k', &full).await;
        Ok(())
    }

    /// Stores many entries (one pipeline / one statement per remote tier).
    pub async fn set_many(&self, entries: &[(&str, Bytes)], ttl: Option<Duration>) -> Result<()> {
        let full: Vec<(String, Bytes)> = entries
            .iter()
            .map(|(k, v)| (self.full_key(k), v.clone()))
            .collect();
        self.inner.store_many(&full, ttl).await;
        for (k, _) in &full {
            self.inner.publish(b'k', k).await;
        }
        Ok(())
    }

    /// Deletes `key` from every tier and from every other instance's L1.
    pub async fn delete(&self, key: &str) -> Result<()> {
        let full = self.full_key(key);
        self.inner.delete(&full).await;
        self.inner.publish(b'k', &full).await;
        Ok(())
    }

    /// Same as [`TieredCache::delete`]: the name for "this is stale now".
    pub async fn invalidate(&self, key: &str) -> Result<()> {
        self.delete(key).await
    }

    /// Deletes every entry of this handle's tenant, in every tier and every instance's L1.
    pub async fn invalidate_tenant(&self) -> Result<()> {
        let prefix = self.full_key("");
        self.inner.delete_prefix(&prefix).await;
        self.inner.publish(b'p', &prefix).await;
        Ok(())
    }

    /// The value under `key`, or the loader's result (stored in the tiers) when no tier has it.
    ///
    /// Single-flight: while one load of a key runs, every other caller in this process waits
    /// for it and gets the same result. Loader errors reach every waiter and are not cached
    /// unless `negative_ttl` is set.
    pub async fn get_or_load<F, Fut, E>(&self, key: &str, loader: F) -> Result<Lookup>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = std::result::Result<Bytes, E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.get_or_load_with(key, CacheControl::default(), loader)
            .await
    }

    /// [`TieredCache::get_or_load`] with per-call cache control.
    pub async fn get_or_load_with<F, Fut, E>(
        &self,
        key: &str,
        control: CacheControl,
        loader: F,
    ) -> Result<Lookup>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = std::result::Result<Bytes, E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let full = self.full_key(key);
        let inner = &self.inner;
        if !control.no_cache {
            if let Some(found) = inner.lookup(&full, true).await {
                if found.stale || found.refresh {
                    inner.spawn_refresh(full, control, found.hits, loader);
                }
                return Ok(Lookup {
                    value: found.value,
                    level: found.level,
                });
            }
            if let Some(neg) = inner.negative.get(&full) {
                if neg.0 > Instant::now() {
                    return Err(Error::Load(neg.1.clone()));
                }
            }
            if let Some(neg) = inner.negative.get(&full).map(|n| n.0) {
                if neg <= Instant::now() {
                    inner.negative.remove(&full);
                }
            }
        }
        let value = Inner::load_once(inner, full, control, 0, loader).await?;
        Ok(Lookup {
            value,
            level: CacheLevel::Miss,
        })
    }

    /// The value under `key` deserialized from JSON.
    pub async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        match self.get(key).await {
            None => Ok(None),
            Some(l) => serde_json::from_slice(&l.value)
                .map(Some)
                .map_err(Error::Json),
        }
    }

    /// Stores `value` as JSON.
    pub async fn set_json<T: Serialize>(
        &self,
        key: &str,
        value: &T,
        ttl: Option<Duration>,
    ) -> Result<()> {
        let bytes = serde_json::to_vec(value).map_err(Error::Json)?;
        self.set(key, bytes.into(), ttl).await
    }

    /// [`TieredCache::get_or_load`] for a value stored as JSON; returns it with its level.
    pub async fn get_or_load_json<T, F, Fut, E>(
        &self,
        key: &str,
        loader: F,
    ) -> Result<(T, CacheLevel)>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = std::result::Result<T, E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let lookup = self
            .get_or_load(key, move || async move {
                let v = loader().await.map_err(Into::into)?;
                serde_json::to_vec(&v)
                    .map(Bytes::from)
                    .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
            })
            .await?;
        let v = serde_json::from_slice(&lookup.value).map_err(Error::Json)?;
        Ok((v, lookup.level))
    }

    /// Statistics per tier and combined.
    pub fn stats(&self) -> CacheStats {
        let i = &self.inner;
        let mut tiers = vec![i.l1_stats.snapshot("memory")];
        if let Some(r) = &i.l2 {
            tiers.push(r.stats.snapshot("redis"));
        }
        if let Some(p) = &i.l3 {
            tiers.push(p.stats.snapshot("postgres"));
        }
        CacheStats {
            tiers,
            lookups: i.lookups.get(),
            hits: i.hits.get(),
            loads: i.loads.get(),
            coalesced: i.coalesced.get(),
            promotions: i.promotions.get(),
            refreshes: i.refreshes.get(),
        }
    }

    /// The memory tier (L1).
    pub fn memory(&self) -> &MemoryTier {
        &self.inner.l1
    }

    /// The Redis tier (L2), when configured.
    pub fn redis(&self) -> Option<&RedisTier> {
        self.inner.l2.as_ref().map(|r| &r.tier)
    }

    /// The PostgreSQL tier (L3), when configured.
    pub fn postgres(&self) -> Option<&PostgresTier> {
        self.inner.l3.as_ref().map(|r| &r.tier)
    }

    /// The state of the L2 and L3 circuit breakers.
    pub fn breaker_states(
        &self,
    ) -> (
        Option<crate::breaker::BreakerState>,
        Option<crate::breaker::BreakerState>,
    ) {
        (
            self.inner.l2.as_ref().map(|r| r.breaker.state()),
            self.inner.l3.as_ref().map(|r| r.breaker.state()),
        )
    }

    /// The key a remote tier stores for `key` under this handle's tenant.
    pub fn tier_key(&self, key: &str) -> String {
        self.full_key(key)
    }
}

/// Runs one remote call under the tier's breaker and timeout; `None` when skipped or failed.
async fn guarded<T, R>(
    remote: &Remote<R>,
    timeout: Duration,
    fut: impl Future<Output = Result<T>>,
) -> Option<T> {
    if !remote.breaker.allow() {
        remote.stats.skipped.add(1);
        return None;
    }
    let start = Instant::now();
    let out = tokio::time::timeout(timeout, fut).await;
    remote.stats.latency.record(start.elapsed());
    match out {
        Ok(Ok(v)) => {
            remote.breaker.success();
            Some(v)
        }
        Ok(Err(_)) | Err(_) => {
            remote.breaker.failure();
            remote.stats.errors.add(1);
            None
        }
    }
}

impl Inner {
    fn jittered(&self, ttl: Duration, key: &str) -> Duration {
        let j = self.config.ttl_jitter;
        if j <= 0.0 {
            return ttl;
        }
        let h = self.jitter.hash_one((key, Instant::now()));
        let unit = (h >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
        Duration::try_from_secs_f64(ttl.as_secs_f64() * (1.0 + j * (2.0 * unit - 1.0)))
            .unwrap_or(ttl)
    }

    fn ttl_for(&self, requested: Option<Duration>, cap: Duration, key: &str) -> Duration {
        let base = requested.map_or(cap, |r| r.min(cap));
        self.jittered(base, key)
    }

    fn adaptive(&self, ttl: Option<Duration>, hits: u8) -> Option<Duration> {
        match (self.config.adaptive_ttl, ttl) {
            (Some(a), Some(t)) if hits > 0 => {
                let step = a.hits_per_step.max(1);
                let factor = (1 + u32::from(hits) / step).min(a.max_factor.max(1));
                Some(t.saturating_mul(factor))
            }
            _ => ttl,
        }
    }

    /// Walks the tiers. `record`: count the lookup in the combined stats.
    async fn lookup(self: &Arc<Self>, key: &str, record: bool) -> Option<Found> {
        if record {
            self.lookups.add(1);
        }
        let swr = self.config.stale_while_revalidate.unwrap_or_default();
        // A stale value (inside the stale-while-revalidate window) is only the fallback: a
        // lower tier may already hold a fresher one written by another instance.
        let mut fallback: Option<Found> = None;
        if let Some(f) = self.l1.lookup_found(key) {
            self.l1_stats.hits.add(1);
            let left = f.ttl_left.unwrap_or(Duration::MAX);
            let stale = !swr.is_zero() && left <= swr;
            let refresh = !stale
                && self.config.refresh_ahead.is_some_and(|w| left <= swr + w)
                && f.hits >= self.config.refresh_ahead_min_hits;
            let found = Found {
                value: f.value,
                level: CacheLevel::L1,
                stale,
                refresh,
                hits: f.hits,
            };
            if !stale {
                if record {
                    self.hits.add(1);
                }
                return Some(found);
            }
            fallback = Some(found);
        } else {
            self.l1_stats.misses.add(1);
        }
        let now = now_ms();
        if let Some(l2) = &self.l2 {
            if let Some(fetched) = self.fetch_l2(l2, key).await {
                if let Some(found) = self.on_remote(key, fetched, CacheLevel::L2, now, &l2.stats) {
                    if !found.stale {
                        if record {
                            self.hits.add(1);
                        }
                        return Some(found);
                    }
                    fallback.get_or_insert(found);
                }
            }
        }
        if let Some(l3) = &self.l3 {
            if let Some(fetched) = self.fetch_l3(l3, key).await {
                if let Some(found) = self.on_remote(key, fetched, CacheLevel::L3, now, &l3.stats) {
                    if !found.stale {
                        if record {
                            self.hits.add(1);
                        }
                        return Some(found);
                    }
                    fallback.get_or_insert(found);
                }
            }
        }
        if record && fallback.is_some() {
            self.hits.add(1);
        }
        fallback
    }

    /// Handles a remote read: stats, staleness, promotion.
    fn on_remote(
        self: &Arc<Self>,
        key: &str,
        fetched: Fetched,
        level: CacheLevel,
        now: u64,
        stats: &TierCounters,
    ) -> Option<Found> {
        match fetched {
            Fetched::Hit(d) => {
                stats.hits.add(1);
                let swr = self.config.stale_while_revalidate.unwrap_or_default();
                let stale = d.fresh_until_ms != 0 && now >= d.fresh_until_ms;
                if stale && swr.is_zero() {
                    return None;
                }
                let left = Duration::from_millis(d.fresh_until_ms.saturating_sub(now));
                let refresh = !stale
                    && d.fresh_until_ms != 0
                    && self.config.refresh_ahead.is_some_and(|w| left <= w);
                if !stale {
                    self.maybe_promote(key, &d.value, level, d.fresh_until_ms, now);
                }
                Some(Found {
                    value: d.value,
                    level,
                    stale,
                    refresh,
                    hits: 0,
                })
            }
            Fetched::Miss => {
                stats.misses.add(1);
                None
            }
            Fetched::Corrupt => {
                stats.corrupt.add(1);
                stats.misses.add(1);
                None
            }
        }
    }

    fn maybe_promote(
        self: &Arc<Self>,
        key: &str,
        value: &Bytes,
        level: CacheLevel,
        fresh_until_ms: u64,
        now: u64,
    ) {
        let go = match self.config.promotion {
            Promotion::Never => false,
            Promotion::AtOnce => true,
            Promotion::AfterHits(n) => {
                if self.lower_hits.len() > 100_000 {
                    self.lower_hits.clear();
                }
                let mut e = self.lower_hits.entry(key.to_owned()).or_insert(0);
                *e += 1;
                let reached = *e >= n.max(1);
                drop(e);
                if reached {
                    self.lower_hits.remove(key);
                }
                reached
            }
        };
        if !go {
            return;
        }
        self.promotions.add(1);
        // The promoted copy lives no longer than the value stays fresh.
        let left = (fresh_until_ms != 0).then(|| Duration::from_millis(fresh_until_ms - now));
        let swr = self.config.stale_while_revalidate.unwrap_or_default();
        if value.len() <= self.config.l1_max_value_bytes {
            let ttl = self
                .ttl_for(left, self.config.l1_ttl, key)
                .saturating_add(swr);
            self.l1.insert(key, value.clone(), Some(ttl));
        }
        if level == CacheLevel::L3 && self.config.write_l2 {
            if let Some(l2) = &self.l2 {
                if value.len() <= self.config.l2_max_value_bytes && l2.breaker.allow_peek() {
                    let this = self.clone();
                    let key = key.to_owned();
                    let value = value.clone();
                    tokio::spawn(async move {
                        if let Some(l2) = &this.l2 {
                            let ttl = this
                                .ttl_for(left, this.config.l2_ttl, &key)
                                .saturating_add(swr);
                            let _ = guarded(
                                l2,
                                this.config.remote_timeout,
                                l2.tier.store(&key, &value, Some(ttl), fresh_until_ms),
                            )
                            .await;
                        }
                    });
                }
            }
        }
    }

    async fn fetch_l2(&self, l2: &Remote<RedisTier>, key: &str) -> Option<Fetched> {
        let timeout = self.config.remote_timeout;
        guarded(l2, timeout, l2.tier.fetch(key)).await
    }

    async fn fetch_l3(&self, l3: &Remote<PostgresTier>, key: &str) -> Option<Fetched> {
        let timeout = self.config.remote_timeout;
        guarded(l3, timeout, l3.tier.fetch(key)).await
    }

    async fn lookup_many(self: &Arc<Self>, keys: &[String]) -> Vec<Option<Lookup>> {
        let mut out: Vec<Option<Lookup>> = Vec::with_capacity(keys.len());
        let mut missing: Vec<usize> = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            self.lookups.add(1);
            match self.l1.lookup(k) {
                Some(v) => {
                    self.l1_stats.hits.add(1);
                    self.hits.add(1);
                    out.push(Some(Lookup {
                        value: v,
                        level: CacheLevel::L1,
                    }));
                }
                None => {
                    self.l1_stats.misses.add(1);
                    out.push(None);
                    missing.push(i);
                }
            }
        }
        let now = now_ms();
        for level in [CacheLevel::L2, CacheLevel::L3] {
            if missing.is_empty() {
                break;
            }
            let names: Vec<&str> = missing.iter().map(|&i| keys[i].as_str()).collect();
            let timeout = self.config.remote_timeout;
            let (fetched, stats) = match level {
                CacheLevel::L2 => match &self.l2 {
                    Some(l2) => (
                        guarded(l2, timeout, l2.tier.fetch_many(&names)).await,
                        &l2.stats,
                    ),
                    None => continue,
                },
                _ => match &self.l3 {
                    Some(l3) => (
                        guarded(l3, timeout, l3.tier.fetch_many(&names)).await,
                        &l3.stats,
                    ),
                    None => continue,
                },
            };
            let Some(fetched) = fetched else { continue };
            let mut still = Vec::new();
            for (&i, f) in missing.iter().zip(fetched) {
                match self.on_remote(&keys[i], f, level, now, stats) {
                    Some(found) if !found.stale => {
                        self.hits.add(1);
                        out[i] = Some(Lookup {
                            value: found.value,
                            level,
                        });
                    }
                    _ => still.push(i),
                }
            }
            missing = still;
        }
        out
    }

    /// Write-through to every tier the policy allows.
    async fn store(self: &Arc<Self>, key: &str, value: Bytes, ttl: Option<Duration>, hits: u8) {
        let ttl = self.adaptive(ttl, hits);
        let c = &self.config;
        let swr = c.stale_while_revalidate.unwrap_or_default();
        let fresh_ttl = ttl.unwrap_or(c.l3_ttl.max(c.l2_ttl));
        let fresh_until =
            now_ms().saturating_add(u64::try_from(fresh_ttl.as_millis()).unwrap_or(u64::MAX));
        if value.len() <= c.l1_max_value_bytes {
            let t = self.ttl_for(ttl, c.l1_ttl, key).saturating_add(swr);
            self.l1.insert(key, value.clone(), Some(t));
        } else {
            self.l1.remove(key);
        }
        let l2 = async {
            if let Some(l2) = &self.l2 {
                if c.write_l2 && value.len() <= c.l2_max_value_bytes {
                    let t = self.ttl_for(ttl, c.l2_ttl, key).saturating_add(swr);
                    guarded(
                        l2,
                        c.remote_timeout,
                        l2.tier.store(key, &value, Some(t), fresh_until),
                    )
                    .await;
                } else {
                    guarded(l2, c.remote_timeout, l2.tier.remove(key)).await;
                }
            }
        };
        let l3 = async {
            if let Some(l3) = &self.l3 {
                if c.write_l3 && value.len() <= c.l3_max_value_bytes {
                    let t = self.ttl_for(ttl, c.l3_ttl, key).saturating_add(swr);
                    guarded(
                        l3,
                        c.remote_timeout,
                        l3.tier.store(key, &value, Some(t), fresh_until),
                    )
                    .await;
                } else {
                    guarded(l3, c.remote_timeout, l3.tier.remove(key)).await;
                }
            }
        };
        tokio::join!(l2, l3);
    }

    async fn store_many(self: &Arc<Self>, entries: &[(String, Bytes)], ttl: Option<Duration>) {
        let c = &self.config;
        let swr = c.stale_while_revalidate.unwrap_or_default();
        let fresh_ttl = ttl.unwrap_or(c.l3_ttl.max(c.l2_ttl));
        let fresh_until =
            now_ms().saturating_add(u64::try_from(fresh_ttl.as_millis()).unwrap_or(u64::MAX));
        for (k, v) in entries {
            self.negative.remove(k);
            if v.len() <= c.l1_max_value_bytes {
                let t = self.ttl_for(ttl, c.l1_ttl, k).saturating_add(swr);
                self.l1.insert(k, v.clone(), Some(t));
            }
        }
        let pick = |max: usize| -> Vec<(&str, Bytes)> {
            entries
                .iter()
                .filter(|(_, v)| v.len() <= max)
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect()
        };
        let l2 = async {
            if let (Some(l2), true) = (&self.l2, c.write_l2) {
                let items = pick(c.l2_max_value_bytes);
                let t = self
                    .jittered(ttl.map_or(c.l2_ttl, |t| t.min(c.l2_ttl)), "")
                    .saturating_add(swr);
                guarded(
                    l2,
                    c.remote_timeout,
                    l2.tier.store_many(&items, Some(t), fresh_until),
                )
                .await;
            }
        };
        let l3 = async {
            if let (Some(l3), true) = (&self.l3, c.write_l3) {
                let items = pick(c.l3_max_value_bytes);
                let t = self
                    .jittered(ttl.map_or(c.l3_ttl, |t| t.min(c.l3_ttl)), "")
                    .saturating_add(swr);
                guarded(
                    l3,
                    c.remote_timeout,
                    l3.tier.store_many(&items, Some(t), fresh_until),
                )
                .await;
            }
        };
        tokio::join!(l2, l3);
    }

    async fn delete(&self, key: &str) {
        self.l1.remove(key);
        self.negative.remove(key);
        let t = self.config.remote_timeout;
        let l2 = async {
            if let Some(l2) = &self.l2 {
                guarded(l2, t, l2.tier.remove(key)).await;
            }
        };
        let l3 = async {
            if let Some(l3) = &self.l3 {
                guarded(l3, t, l3.tier.remove(key)).await;
            }
        };
        tokio::join!(l2, l3);
    }

    async fn delete_prefix(&self, prefix: &str) {
        self.l1.remove_prefix(prefix);
        self.negative.retain(|k, _| !k.starts_with(prefix));
        // Scans can take longer than one lookup: allow more time.
        let t = self.config.remote_timeout.saturating_mul(20);
        let l2 = async {
            if let Some(l2) = &self.l2 {
                guarded(l2, t, l2.tier.remove_prefix(prefix)).await;
            }
        };
        let l3 = async {
            if let Some(l3) = &self.l3 {
                guarded(l3, t, l3.tier.remove_prefix(prefix)).await;
            }
        };
        tokio::join!(l2, l3);
    }

    /// Tells the other instances to drop `key` (kind `k`) or a prefix (kind `p`) from L1.
    async fn publish(&self, kind: u8, key: &str) {
        if !self.config.coherence {
            return;
        }
        let Some(l2) = &self.l2 else { return };
        let mut msg = Vec::with_capacity(10 + key.len());
        msg.extend_from_slice(&self.instance_id.to_le_bytes());
        msg.push(kind);
        msg.extend_from_slice(key.as_bytes());
        guarded(
            l2,
            self.config.remote_timeout,
            l2.tier.publish(&self.channel, &msg),
        )
        .await;
    }

    /// Runs `loader` once per key at a time across tasks; stores the result unless `no_store`.
    async fn load_once<F, Fut, E>(
        this: &Arc<Self>,
        key: String,
        control: CacheControl,
        hits: u8,
        loader: F,
    ) -> Result<Bytes>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = std::result::Result<Bytes, E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let mut loader = Some(loader);
        loop {
            let (tx, mut rx) = match this.flights.entry(key.clone()) {
                dashmap::Entry::Occupied(e) => (None, e.get().clone()),
                dashmap::Entry::Vacant(e) => {
                    let (tx, rx) = watch::channel(None);
                    e.insert(rx.clone());
                    (Some(tx), rx)
                }
            };
            let Some(tx) = tx else {
                this.coalesced.add(1);
                match rx.wait_for(Option::is_some).await {
                    Ok(v) => {
                        return match v.as_ref() {
                            Some(Ok(b)) => Ok(b.clone()),
                            Some(Err(e)) => Err(Error::Load(e.clone())),
                            None => continue,
                        }
                    }
                    // The loading task was cancelled: try again (possibly as the leader).
                    Err(_) => continue,
                }
            };
            // Leader. The guard removes the flight even if this future is dropped mid-load.
            let guard = FlightGuard {
                inner: this,
                key: &key,
            };
            let Some(load) = loader.take() else {
                return Err(Error::Invalid("loader already consumed".into()));
            };
            this.loads.add(1);
            let result: std::result::Result<Bytes, LoadError> =
                load().await.map_err(|e| LoadError::from(e.into()));
            match &result {
                Ok(v) if !control.no_store => {
                    let ttl = control.max_age;
                    this.store(&key, v.clone(), ttl, hits).await;
                    this.publish(b'k', &key).await;
                }
                Ok(_) => {}
                Err(e) => {
                    if let Some(nt) = this.config.negative_ttl {
                        if this.negative.len() >= 100_000 {
                            let now = Instant::now();
                            this.negative.retain(|_, (until, _)| *until > now);
                        }
                        if !control.no_store {
                            this.negative
                                .insert(key.clone(), (Instant::now() + nt, e.clone()));
                        }
                    }
                }
            }
            let _ = tx.send(Some(result.clone()));
            drop(guard);
            return result.map_err(Error::Load);
        }
    }

    fn spawn_refresh<F, Fut, E>(
        self: &Arc<Self>,
        key: String,
        control: CacheControl,
        hits: u8,
        loader: F,
    ) where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = std::result::Result<Bytes, E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if self.flights.contains_key(&key) {
            return;
        }
        self.refreshes.add(1);
        let this = self.clone();
        tokio::spawn(async move {
            let _ = Inner::load_once(&this, key, control, hits, loader).await;
        });
    }

    fn start_tasks(self: &Arc<Self>) {
        let mut tasks = Vec::new();
        if self.config.coherence && self.l2.is_some() {
            tasks.push(tokio::spawn(listen(Arc::downgrade(self))));
        }
        if let (Some(every), true) = (self.config.sweep_interval, self.l3.is_some()) {
            let weak = Arc::downgrade(self);
            tasks.push(tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    let Some(inner) = weak.upgrade() else { return };
                    if let Some(l3) = &inner.l3 {
                        let t = inner.config.remote_timeout.saturating_mul(40);
                        guarded(l3, t, l3.tier.sweep_expired(1000)).await;
                    }
                }
            }));
        }
        *self.tasks.lock() = tasks;
    }
}

struct FlightGuard<'a> {
    inner: &'a Inner,
    key: &'a str,
}

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        self.inner.flights.remove(self.key);
    }
}

impl CircuitBreaker {
    /// Whether the breaker is closed (a cheap check for optional background work).
    pub(crate) fn allow_peek(&self) -> bool {
        self.state() == crate::breaker::BreakerState::Closed
    }
}

/// Listens for invalidations from other instances and drops those keys from L1. After any
/// disconnect it clears L1, since messages may have been missed meanwhile.
async fn listen(weak: Weak<Inner>) {
    use futures::StreamExt;
    let mut connected_before = false;
    loop {
        let (client, channel, timeout) = {
            let Some(inner) = weak.upgrade() else { return };
            let Some(l2) = &inner.l2 else { return };
            (
                l2.tier.client().clone(),
                inner.channel.clone(),
                inner.config.remote_timeout.max(Duration::from_secs(1)),
            )
        };
        let sub = tokio::time::timeout(timeout, async {
            let mut ps = client.get_async_pubsub().await?;
            ps.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(ps)
        })
        .await;
        let Ok(Ok(pubsub)) = sub else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        if connected_before {
            if let Some(inner) = weak.upgrade() {
                inner.l1.clear();
            }
        }
        connected_before = true;
        let mut stream = pubsub.into_on_message();
        while let Some(msg) = stream.next().await {
            let Some(inner) = weak.upgrade() else { return };
            let payload = msg.get_payload_bytes();
            if payload.len() < 9 {
                continue;
            }
            let mut id = [0u8; 8];
            id.copy_from_slice(&payload[..8]);
            if u64::from_le_bytes(id) == inner.instance_id {
                continue;
            }
            let Ok(key) = std::str::from_utf8(&payload[9..]) else {
                continue;
            };
            match payload[8] {
                b'k' => {
                    inner.l1.remove(key);
                }
                b'p' => {
                    inner.l1.remove_prefix(key);
                }
                _ => {}
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The whole cache is itself a tier (remote failures are absorbed, so it never errs on reads).
impl crate::tier::Tier for TieredCache {
    fn name(&self) -> &'static str {
        "tiered"
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        Ok(TieredCache::get(self, key).await.map(|l| l.value))
    }

    async fn set(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<()> {
        TieredCache::set(self, key, value, ttl).await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        TieredCache::delete(self, key).await
    }

    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Bytes>>> {
        Ok(TieredCache::get_many(self, keys)
            .await
            .into_iter()
            .map(|l| l.map(|l| l.value))
            .collect())
    }

    async fn set_many(&self, entries: &[(&str, Bytes)], ttl: Option<Duration>) -> Result<()> {
        TieredCache::set_many(self, entries, ttl).await
    }
}
