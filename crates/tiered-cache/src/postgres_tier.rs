//! `PostgresTier`: the durable L3 in PostgreSQL, reached through `conn-pool`.
//!
//! The tier owns one table, created by a versioned migration (recorded in `TABLE_schema`):
//! `key text primary key, value bytea, expires_at timestamptz, created_at timestamptz`, UNLOGGED
//! when asked. Reads and writes are prepared statements; writes are upserts; batched reads are one
//! `key = ANY($1)` query; [`PostgresTier::sweep_expired`] deletes expired rows in batches.

use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::batch::{BatchConfig, Batcher};

use crate::codec;
use crate::redis_tier::Fetched;
use crate::tier::Tier;
use crate::{Error, Result};

/// Configuration of a [`PostgresTier`].
#[derive(Debug, Clone)]
pub struct PostgresConfig {
    /// Table name (letters, digits and `_`, starting with a letter or `_`; at most 48 chars).
    pub table: String,
    /// Create the table UNLOGGED (faster writes, emptied after a crash).
    pub unlogged: bool,
    /// Values larger than this many bytes are compressed with zstd (`None`: never).
    pub compress_above: Option<usize>,
    /// Largest value accepted when decompressing.
    pub max_value_bytes: usize,
    /// Connection pool settings.
    pub pool: crate::pool::PoolConfig,
    /// Batch concurrent lookups into one `key = ANY($1)` query (`None`: one query each). On by
    /// default ([`BatchConfig::default`]): a lone lookup goes out at once, and under load the
    /// server answers a few larger queries instead of one per key (1.0x `pgbench -S` at 16 in
    /// flight on 2 cores, against 0.6x unbatched).
    pub batch: Option<BatchConfig>,
    /// Connect (and migrate) on first use instead of in `connect`, so a cache can start while
    /// PostgreSQL is down (the tier is skipped until it answers).
    pub lazy_connect: bool,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        PostgresConfig {
            table: "tiered_cache".into(),
            unlogged: false,
            compress_above: Some(4096),
            max_value_bytes: 64 * 1024 * 1024,
            pool: crate::pool::PoolConfig::default(),
            batch: Some(BatchConfig::default()),
            lazy_connect: false,
        }
    }
}

impl PostgresConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> PostgresConfigBuilder {
        PostgresConfigBuilder(PostgresConfig::default())
    }
}

/// Builder for [`PostgresConfig`].
#[derive(Debug, Clone)]
pub struct PostgresConfigBuilder(PostgresConfig);

impl PostgresConfigBuilder {
    /// Table name.
    pub fn table(mut self, t: impl Into<String>) -> Self {
        self.0.table = t.into();
        self
    }
    /// UNLOGGED table.
    pub fn unlogged(mut self, yes: bool) -> Self {
        self.0.unlogged = yes;
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
    /// Batch concurrent lookups into one query.
    pub fn batch(mut self, batch: Option<BatchConfig>) -> Self {
        self.0.batch = batch;
        self
    }
    /// Connect and migrate on first use (start while PostgreSQL is down).
    pub fn lazy_connect(mut self, yes: bool) -> Self {
        self.0.lazy_connect = yes;
        self
    }
    /// The configuration.
    pub fn build(self) -> PostgresConfig {
        self.0
    }
}

fn pg_err<E: std::fmt::Display>(op: &'static str) -> impl Fn(E) -> Error {
    move |e| Error::Backend {
        tier: "postgres",
        op,
        message: e.to_string(),
    }
}

/// The schema version this code writes; migrations up to it run at connect.
pub const SCHEMA_VERSION: i32 = 1;

struct Sql {
    get: String,
    get_many: String,
    set: String,
    set_many: String,
    delete: String,
    delete_prefix: String,
    sweep: String,
}

/// The PostgreSQL tier.
pub struct PostgresTier {
    shared: Arc<PgShared>,
    batcher: Option<Batcher>,
}

pub(crate) struct PgShared {
    pool: crate::pool::PgPool,
    config: PostgresConfig,
    sql: Sql,
    migrated: std::sync::atomic::AtomicBool,
    migrating: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for PostgresTier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresTier")
            .field("table", &self.shared.config.table)
            .finish_non_exhaustive()
    }
}

fn valid_table(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 48
        && t.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

const LIVE: &str = "(expires_at IS NULL OR expires_at > now())";
const EXPIRY: &str =
    "CASE WHEN $3::bigint IS NULL THEN NULL ELSE now() + $3::bigint * interval '1 millisecond' END";

impl PostgresTier {
    /// Connects to `url` (`postgres://user[:password]@host:port/db`) and runs the migrations.
    pub async fn connect(url: &str, config: PostgresConfig) -> Result<Self> {
        if !valid_table(&config.table) {
            return Err(Error::Invalid(format!(
                "table name {:?} must be 1-48 letters, digits or _ and start with a letter or _",
                config.table
            )));
        }
        let pool = crate::pool::postgres(url, &config.pool, config.lazy_connect)
            .await
            .map_err(|e| match e {
                conn_pool::Error::Config(m) => Error::Invalid(m),
                e => pg_err("connect")(e),
            })?;
        let t = &config.table;
        let sql = Sql {
            get: format!("SELECT value FROM {t} WHERE key = $1 AND {LIVE}"),
            get_many: format!("SELECT key, value FROM {t} WHERE key = ANY($1) AND {LIVE}"),
            set: format!(
                "INSERT INTO {t} (key, value, expires_at) VALUES ($1, $2, {EXPIRY}) \
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, \
                 expires_at = EXCLUDED.expires_at, created_at = now()"
            ),
            set_many: format!(
                "INSERT INTO {t} (key, value, expires_at) \
                 SELECT k, v, {EXPIRY} FROM unnest($1::text[], $2::bytea[]) AS u(k, v) \
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, \
                 expires_at = EXCLUDED.expires_at, created_at = now()"
            ),
            delete: format!("DELETE FROM {t} WHERE key = $1"),
            delete_prefix: format!("DELETE FROM {t} WHERE left(key, length($1)) = $1"),
            sweep: format!(
                "DELETE FROM {t} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {t} \
                 WHERE expires_at <= now() LIMIT $1))"
            ),
        };
        let batch = config.batch;
        let lazy = config.lazy_connect;
        let shared = Arc::new(PgShared {
            pool,
            config,
            sql,
            migrated: std::sync::atomic::AtomicBool::new(false),
            migrating: tokio::sync::Mutex::new(()),
        });
        if !lazy {
            shared.ensure_migrated().await?;
        }
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
        Ok(PostgresTier { shared, batcher })
    }

    /// The pool behind this tier (health, metrics).
    pub fn pool(&self) -> &crate::pool::PgPool {
        &self.shared.pool
    }

    /// The configuration.
    pub fn config(&self) -> &PostgresConfig {
        &self.shared.config
    }

    /// The schema version recorded in the database.
    pub async fn schema_version(&self) -> Result<i32> {
        self.shared.schema_version().await
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

    /// Deletes expired rows, at most `batch` per statement, until none are left; returns how
    /// many were deleted.
    pub async fn sweep_expired(&self, batch: i64) -> Result<u64> {
        self.shared.sweep_expired(batch).await
    }

    /// Writes raw bytes under `key`, bypassing the envelope (for tests of corruption handling).
    #[doc(hidden)]
    pub async fn write_raw_for_tests(&self, key: &str, raw: &[u8]) -> Result<()> {
        self.shared.write_raw_for_tests(key, raw).await
    }

    /// Number of rows in the table, expired ones included (for tests and ops).
    pub async fn row_count(&self) -> Result<i64> {
        self.shared.row_count().await
    }
}

impl PgShared {
    /// Runs the migrations once (on first use when connecting lazily).
    async fn ensure_migrated(&self) -> Result<()> {
        use std::sync::atomic::Ordering;
        if self.migrated.load(Ordering::Acquire) {
            return Ok(());
        }
        let _guard = self.migrating.lock().await;
        if !self.migrated.load(Ordering::Acquire) {
            self.migrate().await?;
            self.migrated.store(true, Ordering::Release);
        }
        Ok(())
    }

    async fn conn(&self) -> Result<crate::pool::PgConn<'_>> {
        self.ensure_migrated().await?;
        self.pool.get().await.map_err(pg_err("get connection"))
    }

    async fn migrate(&self) -> Result<()> {
        let t = &self.config.table;
        let unlogged = if self.config.unlogged {
            "UNLOGGED "
        } else {
            ""
        };
        // One transaction under an advisory lock, so instances starting together do not race.
        let sql = format!(
            "BEGIN;
             SELECT pg_advisory_xact_lock(hashtext('tiered_cache_migrate:{t}'));
             CREATE TABLE IF NOT EXISTS {t}_schema (
                 version integer PRIMARY KEY,
                 applied_at timestamptz NOT NULL DEFAULT now());
             DO $mig$ BEGIN
               IF NOT EXISTS (SELECT 1 FROM {t}_schema WHERE version = 1) THEN
                 CREATE {unlogged}TABLE IF NOT EXISTS {t} (
                   key text COLLATE \"C\" PRIMARY KEY,
                   value bytea NOT NULL,
                   expires_at timestamptz,
                   created_at timestamptz NOT NULL DEFAULT now());
                 CREATE INDEX IF NOT EXISTS {t}_expires_at ON {t} (expires_at)
                   WHERE expires_at IS NOT NULL;
                 INSERT INTO {t}_schema (version) VALUES (1);
               END IF;
             END $mig$;
             COMMIT;"
        );
        let mut conn = self.pool.get().await.map_err(pg_err("get connection"))?;
        conn.batch_execute(&sql).await.map_err(pg_err("migrate"))
    }

    async fn schema_version(&self) -> Result<i32> {
        let mut conn = self.conn().await?;
        let row = conn
            .query_one(
                &format!(
                    "SELECT coalesce(max(version), 0) FROM {}_schema",
                    self.config.table
                ),
                &[],
            )
            .await
            .map_err(pg_err("schema version"))?;
        Ok(row.get(0))
    }

    fn ttl_ms(ttl: Option<Duration>) -> Option<i64> {
        ttl.map(|d| crate::codec::ttl_ms(d) as i64)
    }

    fn check(&self, raw: Option<&[u8]>) -> std::result::Result<Fetched, ()> {
        match raw {
            None => Ok(Fetched::Miss),
            Some(raw) => codec::decode(raw, self.config.max_value_bytes)
                .map(Fetched::Hit)
                .map_err(|_| ()),
        }
    }

    pub(crate) async fn fetch(&self, key: &str) -> Result<Fetched> {
        let mut conn = self.conn().await?;
        let sql = self.sql.get.as_str();
        let row = conn
            .query_opt(sql, &[&key])
            .await
            .map_err(pg_err("select"))?;
        let raw: Option<&[u8]> = row.as_ref().map(|r| r.get(0));
        match self.check(raw) {
            Ok(f) => Ok(f),
            Err(()) => {
                drop(conn);
                let _ = self.remove(key).await;
                Ok(Fetched::Corrupt)
            }
        }
    }

    pub(crate) async fn fetch_many(&self, keys: &[&str]) -> Result<Vec<Fetched>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.conn().await?;
        let sql = self.sql.get_many.as_str();
        let rows = conn
            .query(sql, &[&keys])
            .await
            .map_err(pg_err("select many"))?;
        drop(conn);
        // Borrowed from the rows: no copy of a key or value before the checksum check.
        let found: HashMap<&str, &[u8]> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            match self.check(found.get(*k).copied()) {
                Ok(f) => out.push(f),
                Err(()) => {
                    let _ = self.remove(k).await;
                    out.push(Fetched::Corrupt);
                }
            }
        }
        Ok(out)
    }

    pub(crate) async fn store(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
        fresh_until_ms: u64,
    ) -> Result<()> {
        let stored = codec::encode(value, fresh_until_ms, self.config.compress_above);
        let mut conn = self.conn().await?;
        let sql = self.sql.set.as_str();
        conn.execute(sql, &[&key, &stored, &Self::ttl_ms(ttl)])
            .await
            .map(|_| ())
            .map_err(pg_err("upsert"))
    }

    pub(crate) async fn store_many(
        &self,
        entries: &[(&str, Bytes)],
        ttl: Option<Duration>,
        fresh_until_ms: u64,
    ) -> Result<()> {
        // One row per key (the last value wins), as ON CONFLICT cannot touch a row twice.
        let mut last: HashMap<&str, &Bytes> = HashMap::new();
        for (k, v) in entries {
            last.insert(k, v);
        }
        if last.is_empty() {
            return Ok(());
        }
        let keys: Vec<&str> = last.keys().copied().collect();
        let values: Vec<Vec<u8>> = keys
            .iter()
            .map(|k| codec::encode(last[k], fresh_until_ms, self.config.compress_above))
            .collect();
        let mut conn = self.conn().await?;
        let sql = self.sql.set_many.as_str();
        conn.execute(sql, &[&keys, &values, &Self::ttl_ms(ttl)])
            .await
            .map(|_| ())
            .map_err(pg_err("upsert many"))
    }

    pub(crate) async fn remove(&self, key: &str) -> Result<()> {
        let mut conn = self.conn().await?;
        let sql = self.sql.delete.as_str();
        conn.execute(sql, &[&key])
            .await
            .map(|_| ())
            .map_err(pg_err("delete"))
    }

    pub(crate) async fn remove_prefix(&self, prefix: &str) -> Result<u64> {
        let mut conn = self.conn().await?;
        let sql = self.sql.delete_prefix.as_str();
        conn.execute(sql, &[&prefix])
            .await
            .map_err(pg_err("delete prefix"))
    }

    async fn sweep_expired(&self, batch: i64) -> Result<u64> {
        let mut conn = self.conn().await?;
        let sql = self.sql.sweep.as_str();
        let mut total = 0;
        loop {
            let n = conn
                .execute(sql, &[&batch.max(1)])
                .await
                .map_err(pg_err("sweep"))?;
            total += n;
            if n < batch.max(1) as u64 {
                return Ok(total);
            }
        }
    }

    async fn write_raw_for_tests(&self, key: &str, raw: &[u8]) -> Result<()> {
        let mut conn = self.conn().await?;
        let sql = self.sql.set.as_str();
        conn.execute(sql, &[&key, &raw, &None::<i64>])
            .await
            .map(|_| ())
            .map_err(pg_err("upsert"))
    }

    async fn row_count(&self) -> Result<i64> {
        let mut conn = self.conn().await?;
        let row = conn
            .query_one(&format!("SELECT count(*) FROM {}", self.config.table), &[])
            .await
            .map_err(pg_err("count"))?;
        Ok(row.get(0))
    }
}

impl Tier for PostgresTier {
    fn name(&self) -> &'static str {
        "postgres"
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
    use super::valid_table;

    #[test]
    fn table_names_are_checked() {
        assert!(valid_table("tiered_cache"));
        assert!(valid_table("_t1"));
        assert!(!valid_table("1t"));
        assert!(!valid_table("t; DROP TABLE x"));
        assert!(!valid_table(""));
    }
}
