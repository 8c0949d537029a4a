//! `RedisTier`: the shared L2 in Redis, reached through `conn-pool`.
//!
//! Values are binary and travel in the checksummed envelope of [`crate::codec`]; writes use
//! `SET key value PX ttl`, batched reads use `MGET`, batched writes a pipeline. Keys live under a
//! namespace, optionally with a Redis Cluster hash tag so related keys share a slot.

use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;

use crate::batch::{BatchConfig, Batcher};

use crate::codec::{self, Decoded};
use crate::tier::Tier;
use crate::{Error, Result};

/// How keys are hash-tagged for Redis Cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HashTag {
    /// No tag: every key hashes on its own (spreads load; `MGET` must then stay within one
    /// node, so use this on a single Redis or with batching off in a cluster).
    #[default]
    None,
    /// Tag the first `:`-separated segment of the key (the tenant in a [`crate::TieredCache`]),
    /// so one tenant's keys share a slot and `MGET` across them works in a cluster.
    FirstSegment,
}

/// Configuration of a [`RedisTier`].
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// Prefix of every key (`NAMESPACE:key`).
    pub namespace: String,
    /// Cluster hash tags.
    pub hash_tag: HashTag,
    /// Values larger than this many bytes are compressed with zstd (`None`: never).
    pub compress_above: Option<usize>,
    /// Largest value accepted when decompressing (guards against zstd bombs).
    pub max_value_bytes: usize,
    /// Connection pool settings.
    pub pool: crate::pool::PoolConfig,
    /// Batch concurrent lookups into one `MGET` (`None`: one `GET` each).
    pub batch: Option<BatchConfig>,
    /// Connect on first use instead of in `connect`, so a cache can start while Redis is down
    /// (the tier is skipped until it answers).
    pub lazy_connect: bool,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            namespace: "tc".into(),
            hash_tag: HashTag::None,
            compress_above: Some(4096),
            max_value_bytes: 64 * 1024 * 1024,
            pool: crate::pool::PoolConfig::default(),
            batch: None,
            lazy_connect: false,
        }
    }
}

impl RedisConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> RedisConfigBuilder {
        RedisConfigBuilder(RedisConfig::default())
    }
}

/// Builder for [`RedisConfig`].
#[derive(Debug, Clone)]
pub struct RedisConfigBuilder(RedisConfig);

impl RedisConfigBuilder {
    /// Key namespace.
    pub fn namespace(mut self, ns: impl Into<String>) -> Self {
        self.0.namespace = ns.into();
        self
    }
    /// Cluster hash tags.
    pub fn hash_tag(mut self, tag: HashTag) -> Self {
        self.0.hash_tag = tag;
        self
    }
    /// Compress values above this size (`None`: never).
    pub fn compress_above(mut self, n: Option<usize>) -> Self {
        self.0.compress_above = n;
        self
    }
    /// Largest value accepted when decompressing.
    pub fn max_value_bytes(mut self, n: usize) -> Self {
        self.0.max_value_bytes = n;
        self
    }
    /// Connection pool settings.
    pub fn pool(mut self, pool: crate::pool::PoolConfig) -> Self {
        self.0.pool = pool;
        self
    }
    /// Batch concurrent lookups into one `MGET`.
    pub fn batch(mut self, batch: Option<BatchConfig>) -> Self {
        self.0.batch = batch;
        self
    }
    /// Connect on first use (start while Redis is down).
    pub fn lazy_connect(mut self, yes: bool) -> Self {
        self.0.lazy_connect = yes;
        self
    }
    /// The configuration.
    pub fn build(self) -> RedisConfig {
        self.0
    }
}

pub(crate) fn redis_err(op: &'static str) -> impl Fn(redis::RedisError) -> Error {
    move |e| Error::Backend {
        tier: "redis",
        op,
        message: e.to_string(),
    }
}

/// The Redis tier.
pub struct RedisTier {
    shared: Arc<RedisShared>,
    batcher: Option<Batcher>,
}

pub(crate) struct RedisShared {
    pool: crate::pool::RedisPool,
    config: RedisConfig,
    client: redis::Client,
}

impl std::fmt::Debug for RedisTier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTier")
            .field("namespace", &self.shared.config.namespace)
            .finish_non_exhaustive()
    }
}

impl RedisTier {
    /// Connects to the Redis at `url` (`redis://[:password@]host:port[/db]`).
    pub async fn connect(url: &str, config: RedisConfig) -> Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| Error::Invalid(format!("redis URL is not valid: {:?}", e.kind())))?;
        let pool = crate::pool::redis(url, &config.pool, config.lazy_connect)
            .await
            .map_err(|e| match e {
                conn_pool::Error::Config(m) => Error::Invalid(m),
                e => Error::Backend {
                    tier: "redis",
                    op: "connect",
                    message: e.to_string(),
                },
            })?;
        let batch = config.batch;
        let shared = Arc::new(RedisShared {
            pool,
            config,
            client,
        });
        let batcher = batch.map(|b| {
            let shared = shared.clone();
            Batcher::start(b, move |keys| {
                let shared = shared.clone();
                async move {
                    let names: Vec<&str> = keys.iter().map(String::as_str).collect();
                    shared.fetch_many(&names).await
                }
            })
        });
        Ok(RedisTier { shared, batcher })
    }

    /// The pool behind this tier (health, metrics).
    pub fn pool(&self) -> &crate::pool::RedisPool {
        &self.shared.pool
    }

    pub(crate) fn client(&self) -> &redis::Client {
        &self.shared.client
    }

    /// The configuration.
    pub fn config(&self) -> &RedisConfig {
        &self.shared.config
    }

    /// The Redis key for a cache key.
    pub fn redis_key(&self, key: &str) -> String {
        self.shared.redis_key(key)
    }

    /// Reads and verifies `key` (through the batcher when batching is on).
    pub(crate) async fn fetch(&self, key: &str) -> Result<Fetched> {
        match &self.batcher {
            Some(b) => b.get(key).await,
            None => self.shared.fetch(key).await,
        }
    }

    pub(crate) async fn fetch_many(&self, keys: &[&str]) -> Result<Vec<Fetched>> {
        self.shared.fetch_many(keys).await
    }

    pub(crate) async fn store(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
        fresh_until_ms: u64,
    ) -> Result<()> {
        self.shared.store(key, value, ttl, fresh_until_ms).await
    }

    pub(crate) async fn store_many(
        &self,
        entries: &[(&str, Bytes)],
        ttl: Option<Duration>,
        fresh_until_ms: u64,
    ) -> Result<()> {
        self.shared.store_many(entries, ttl, fresh_until_ms).await
    }

    pub(crate) async fn remove(&self, key: &str) -> Result<()> {
        self.shared.remove(key).await
    }

    pub(crate) async fn remove_prefix(&self, prefix: &str) -> Result<u64> {
        self.shared.remove_prefix(prefix).await
    }

    pub(crate) async fn publish(&self, channel: &str, message: &[u8]) -> Result<()> {
        self.shared.publish(channel, message).await
    }

    /// Writes raw bytes under `key`, bypassing the envelope (for tests of corruption handling).
    #[doc(hidden)]
    pub async fn write_raw_for_tests(&self, key: &str, raw: &[u8]) -> Result<()> {
        self.shared.write_raw_for_tests(key, raw).await
    }

    /// Reads raw stored bytes under `key` (for tests).
    #[doc(hidden)]
    pub async fn read_raw_for_tests(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.shared.read_raw_for_tests(key).await
    }
}

impl RedisShared {
    /// The Redis key for a cache key.
    pub fn redis_key(&self, key: &str) -> String {
        let ns = &self.config.namespace;
        match self.config.hash_tag {
            HashTag::None => format!("{ns}:{key}"),
            HashTag::FirstSegment => match key.split_once(':') {
                Some((first, rest)) => format!("{ns}:{{{first}}}:{rest}"),
                None => format!("{ns}:{{{key}}}"),
            },
        }
    }

    pub(crate) async fn conn(&self) -> Result<crate::pool::RedisConn> {
        self.pool.get().await.map_err(|e| Error::Backend {
            tier: "redis",
            op: "get connection",
            message: e.to_string(),
        })
    }

    /// Reads and verifies `key`. `Err(Corrupt)` values are deleted and reported as `Ok(None)`
    /// with `corrupt` set.
    pub(crate) async fn fetch(&self, key: &str) -> Result<Fetched> {
        let mut conn = self.conn().await?;
        let rkey = self.redis_key(key);
        let raw: Option<Vec<u8>> = redis::cmd("GET")
            .arg(&rkey)
            .query_async(&mut conn)
            .await
            .map_err(redis_err("GET"))?;
        self.check(&mut conn, &rkey, raw).await
    }

    async fn check(
        &self,
        conn: &mut crate::pool::RedisConn,
        rkey: &str,
        raw: Option<Vec<u8>>,
    ) -> Result<Fetched> {
        let Some(raw) = raw else {
            return Ok(Fetched::Miss);
        };
        match codec::decode(&raw, self.config.max_value_bytes) {
            Ok(d) => Ok(Fetched::Hit(d)),
            Err(_) => {
                let _: redis::RedisResult<i64> =
                    redis::cmd("DEL").arg(rkey).query_async(conn).await;
                Ok(Fetched::Corrupt)
            }
        }
    }

    /// Reads several keys with one `MGET`.
    pub(crate) async fn fetch_many(&self, keys: &[&str]) -> Result<Vec<Fetched>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.conn().await?;
        let rkeys: Vec<String> = keys.iter().map(|k| self.redis_key(k)).collect();
        let raws: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
            .arg(&rkeys)
            .query_async(&mut conn)
            .await
            .map_err(redis_err("MGET"))?;
        let mut out = Vec::with_capacity(keys.len());
        for (rkey, raw) in rkeys.iter().zip(raws) {
            out.push(self.check(&mut conn, rkey, raw).await?);
        }
        Ok(out)
    }

    /// Writes `value` (wrapped in the envelope) for `ttl`.
    pub(crate) async fn store(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
        fresh_until_ms: u64,
    ) -> Result<()> {
        let stored = codec::encode(value, fresh_until_ms, self.config.compress_above);
        let mut conn = self.conn().await?;
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.redis_key(key)).arg(stored);
        if let Some(ttl) = ttl {
            cmd.arg("PX").arg(crate::codec::ttl_ms(ttl));
        }
        cmd.query_async::<()>(&mut conn)
            .await
            .map_err(redis_err("SET"))
    }

    /// Writes many entries in one pipeline.
    pub(crate) async fn store_many(
        &self,
        entries: &[(&str, Bytes)],
        ttl: Option<Duration>,
        fresh_until_ms: u64,
    ) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for (k, v) in entries {
            let stored = codec::encode(v, fresh_until_ms, self.config.compress_above);
            let cmd = pipe.cmd("SET").arg(self.redis_key(k)).arg(stored);
            if let Some(ttl) = ttl {
                cmd.arg("PX").arg(crate::codec::ttl_ms(ttl));
            }
            cmd.ignore();
        }
        let mut conn = self.conn().await?;
        pipe.query_async::<()>(&mut conn)
            .await
            .map_err(redis_err("SET pipeline"))
    }

    /// Deletes `key`.
    pub(crate) async fn remove(&self, key: &str) -> Result<()> {
        let mut conn = self.conn().await?;
        redis::cmd("DEL")
            .arg(self.redis_key(key))
            .query_async::<i64>(&mut conn)
            .await
            .map(|_| ())
            .map_err(redis_err("DEL"))
    }

    /// Deletes every key under `prefix` (SCAN + UNLINK in batches).
    pub(crate) async fn remove_prefix(&self, prefix: &str) -> Result<u64> {
        let mut conn = self.conn().await?;
        let pattern = format!("{}*", glob_escape(&self.redis_key(prefix)));
        let mut cursor: u64 = 0;
        let mut removed = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .map_err(redis_err("SCAN"))?;
            if !keys.is_empty() {
                let n: u64 = redis::cmd("UNLINK")
                    .arg(&keys)
                    .query_async(&mut conn)
                    .await
                    .map_err(redis_err("UNLINK"))?;
                removed += n;
            }
            if next == 0 {
                return Ok(removed);
            }
            cursor = next;
        }
    }

    /// Publishes `message` on `channel`.
    pub(crate) async fn publish(&self, channel: &str, message: &[u8]) -> Result<()> {
        let mut conn = self.conn().await?;
        redis::cmd("PUBLISH")
            .arg(channel)
            .arg(message)
            .query_async::<i64>(&mut conn)
            .await
            .map(|_| ())
            .map_err(redis_err("PUBLISH"))
    }

    /// Writes raw bytes under `key`, bypassing the envelope (for tests of corruption handling).
    #[doc(hidden)]
    pub async fn write_raw_for_tests(&self, key: &str, raw: &[u8]) -> Result<()> {
        let mut conn = self.conn().await?;
        redis::cmd("SET")
            .arg(self.redis_key(key))
            .arg(raw)
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_err("SET"))
    }

    /// Reads raw stored bytes under `key` (for tests).
    #[doc(hidden)]
    pub async fn read_raw_for_tests(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let mut conn = self.conn().await?;
        redis::cmd("GET")
            .arg(self.redis_key(key))
            .query_async(&mut conn)
            .await
            .map_err(redis_err("GET"))
    }
}

/// Escapes Redis glob metacharacters.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// What a remote read found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fetched {
    Hit(Decoded),
    Miss,
    /// The stored value failed its checksum; it was deleted.
    Corrupt,
}

impl Fetched {
    pub(crate) fn into_value(self) -> Option<Bytes> {
        match self {
            Fetched::Hit(d) => Some(d.value),
            _ => None,
        }
    }
}

impl Tier for RedisTier {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        Ok(self.fetch(key).await?.into_value())
    }

    async fn set(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<()> {
        self.store(key, &value, ttl, 0).await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.remove(key).await
    }

    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Bytes>>> {
        Ok(self
            .fetch_many(keys)
            .await?
            .into_iter()
            .map(Fetched::into_value)
            .collect())
    }

    async fn set_many(&self, entries: &[(&str, Bytes)], ttl: Option<Duration>) -> Result<()> {
        self.store_many(entries, ttl, 0).await
    }
}

#[cfg(test)]
mod tests {
    use super::glob_escape;

    #[test]
    fn glob_escape_escapes_metacharacters() {
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }
}
