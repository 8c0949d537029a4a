//! One cache across the process (L1), Redis (L2) and PostgreSQL (L3) with promotion,
//! single-flight and coherent invalidation.
//!
//! - [`MemoryTier`]: the in-process L1, sharded `lru` lists with TinyLFU admission, capacity in
//!   entries and bytes, per-entry TTL. Usable alone, synchronously.
//! - [`RedisTier`] (L2) and [`PostgresTier`] (L3): remote tiers with checksummed values.
//! - [`TieredCache`]: walks L1 -> L2 -> L3, promotes hits, writes through, loads misses once
//!   (single-flight), keeps tenants apart, drops keys from other instances' L1 over Redis
//!   pub/sub, and keeps answering from the remaining tiers when Redis or PostgreSQL is down.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use tiered_cache::{CacheLevel, TieredCache};
//!
//! // L1 only; add `.redis(url, RedisConfig::default())` and `.postgres(url, ...)` for L2/L3.
//! let cache = TieredCache::builder().build().await.unwrap();
//! let first = cache
//!     .get_or_load("answer", || async { Ok::<_, std::io::Error>("42".into()) })
//!     .await
//!     .unwrap();
//! assert_eq!(first.level, CacheLevel::Miss);
//! let again = cache.get("answer").await.unwrap();
//! assert_eq!((again.level, &again.value[..]), (CacheLevel::L1, &b"42"[..]));
//! # });
//! ```
#![deny(missing_docs)]

mod batch;
mod breaker;
mod cache;
mod codec;
mod memory;
mod pool;
mod postgres_tier;
mod redis_tier;
mod stats;
mod tier;

pub use batch::BatchConfig;
pub use breaker::{BreakerConfig, BreakerState, CircuitBreaker};
pub use bytes::Bytes;
pub use cache::{
    AdaptiveTtl, CacheControl, CacheLevel, Lookup, Promotion, TieredCache, TieredCacheBuilder,
    TieredConfig,
};
pub use memory::{Admission, Found, MemoryConfig, MemoryConfigBuilder, MemoryTier, ENTRY_OVERHEAD};
pub use pool::PoolConfig;
pub use postgres_tier::{PostgresConfig, PostgresConfigBuilder, PostgresTier, SCHEMA_VERSION};
pub use redis_tier::{HashTag, RedisConfig, RedisConfigBuilder, RedisTier};
pub use stats::{CacheStats, TierStats};
pub use tier::Tier;

/// A loader's error, shared by every caller that waited on the same load.
pub type LoadError = std::sync::Arc<dyn std::error::Error + Send + Sync>;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input or configuration was not valid; the message says why.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A remote tier failed (the message never contains credentials).
    #[error("{tier} {op} failed: {message}")]
    Backend {
        /// `redis` or `postgres`.
        tier: &'static str,
        /// What was being done.
        op: &'static str,
        /// The server's or driver's message.
        message: String,
    },
    /// The loader of `get_or_load` failed (every waiter gets the same error).
    #[error("loading the value failed: {0}")]
    Load(LoadError),
    /// A batched lookup failed (the message says why).
    #[error("batched lookup failed: {0}")]
    Batch(String),
    /// A value did not (de)serialize as JSON.
    #[error("JSON: {0}")]
    Json(#[source] serde_json::Error),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
