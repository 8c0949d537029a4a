//! The `Tier` trait: what every cache level (memory, Redis, PostgreSQL) offers.

use bytes::Bytes;
use std::future::Future;
use std::time::Duration;

use crate::Result;

/// One level of the cache: a map from string keys to byte values with per-entry TTLs.
///
/// All methods are async so that remote tiers fit the same shape; the memory tier answers at
/// once. A `ttl` of `None` means "no expiry" (the tier may still evict the entry).
pub trait Tier: Send + Sync {
    /// A short name for logs and stats (`memory`, `redis`, `postgres`).
    fn name(&self) -> &'static str;

    /// The value stored under `key`, or `None` when absent or expired.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Bytes>>> + Send;

    /// Stores `value` under `key` for `ttl`.
    fn set(
        &self,
        key: &str,
        value: Bytes,
        ttl: Option<Duration>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Removes `key`; removing an absent key is not an error.
    fn delete(&self, key: &str) -> impl Future<Output = Result<()>> + Send;

    /// The values of `keys`, in the same order (`None` where absent).
    fn get_many(&self, keys: &[&str]) -> impl Future<Output = Result<Vec<Option<Bytes>>>> + Send;

    /// Stores every `(key, value)` pair with the same `ttl`.
    fn set_many(
        &self,
        entries: &[(&str, Bytes)],
        ttl: Option<Duration>,
    ) -> impl Future<Output = Result<()>> + Send;
}
