//! Shared pieces: the runtime, a raw bb8 manager for tokio-postgres, peer pools, table set-up,
//! a task driver and a small random number generator.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Rows in `pgbench_accounts` (scale 1, as `pgbench -i -s 1` makes).
pub const ROWS: u64 = 100_000;
/// The primary-key read that `pgbench -S` runs.
pub const PK_READ: &str = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";
/// The key `redis-benchmark -t get` reads.
pub const REDIS_KEY: &str = "key:__rand_int__";

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

pub fn which(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// `pgbench` from PATH or the PostgreSQL bindir.
pub fn pgbench() -> Option<std::path::PathBuf> {
    if let Some(p) = which("pgbench") {
        return Some(p);
    }
    let out = std::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()?;
    let dir = std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let p = dir.join("pgbench");
    p.is_file().then_some(p)
}

/// xorshift64*: enough to spread primary keys without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// The `pgbench_accounts` table, made by `pgbench -i` when it is installed, else by hand with
/// the same shape.
pub async fn prepare_pg(url: &str, _quick: bool) {
    if let Some(pgbench) = pgbench() {
        let ok = std::process::Command::new(pgbench)
            .args(["-i", "-q", "-s", "1", url])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            return;
        }
        eprintln!("conn-pool bench: pgbench -i failed; creating pgbench_accounts by hand");
    }
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect to postgres");
    tokio::spawn(conn);
    client
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS pgbench_accounts;
             CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84));
             INSERT INTO pgbench_accounts SELECT g, 1, 0, '' FROM generate_series(1, {ROWS}) g;
             VACUUM ANALYZE pgbench_accounts;"
        ))
        .await
        .expect("create pgbench_accounts");
}

pub async fn prepare_redis(url: &str) {
    let client = redis::Client::open(url).expect("redis url");
    let mut c = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect to redis");
    let _: () = redis::cmd("SET")
        .arg(REDIS_KEY)
        .arg("xxx")
        .query_async(&mut c)
        .await
        .expect("SET");
}

/// A bb8 manager for tokio-postgres as a user would write it (PING-like check on checkout
/// when the pool tests on checkout, which is bb8's default).
pub struct RawPg {
    pub url: String,
}

impl bb8::ManageConnection for RawPg {
    type Connection = tokio_postgres::Client;
    type Error = tokio_postgres::Error;

    async fn connect(&self) -> Result<Self::Connection, Self::Error> {
        let (client, conn) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        Ok(client)
    }

    async fn is_valid(&self, conn: &mut Self::Connection) -> Result<(), Self::Error> {
        conn.simple_query("").await.map(drop)
    }

    fn has_broken(&self, conn: &mut Self::Connection) -> bool {
        conn.is_closed()
    }
}

pub async fn raw_bb8(url: &str, size: u32, test_on_check_out: bool) -> bb8::Pool<RawPg> {
    bb8::Pool::builder()
        .max_size(size)
        .min_idle(Some(size))
        .test_on_check_out(test_on_check_out)
        .connection_timeout(Duration::from_secs(5))
        .build(RawPg { url: url.into() })
        .await
        .expect("bb8 pool")
}

pub fn deadpool_pg(url: &str, size: usize) -> deadpool_postgres::Pool {
    let mut cfg = deadpool_postgres::Config::new();
    cfg.url = Some(url.into());
    cfg.manager = Some(deadpool_postgres::ManagerConfig {
        recycling_method: deadpool_postgres::RecyclingMethod::Fast,
    });
    let mut pool = deadpool_postgres::PoolConfig::new(size);
    pool.timeouts.wait = Some(Duration::from_secs(5));
    cfg.pool = Some(pool);
    cfg.create_pool(
        Some(deadpool_postgres::Runtime::Tokio1),
        tokio_postgres::NoTls,
    )
    .expect("deadpool-postgres pool")
}

pub fn deadpool_redis(url: &str, size: usize) -> deadpool_redis::Pool {
    let mut cfg = deadpool_redis::Config::from_url(url);
    let mut pool = deadpool_redis::PoolConfig::new(size);
    pool.timeouts.wait = Some(Duration::from_secs(5));
    cfg.pool = Some(pool);
    cfg.create_pool(Some(deadpool_redis::Runtime::Tokio1))
        .expect("deadpool-redis pool")
}

/// Runs `tasks` tasks calling `op(task, i)` for `dur`; returns (ops/s, failed ops).
pub async fn drive<F, Fut>(tasks: usize, dur: Duration, op: F) -> (f64, u64)
where
    F: Fn(usize, u64) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = bool> + Send,
{
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let (stop, done, failed, op) = (stop.clone(), done.clone(), failed.clone(), op.clone());
            tokio::spawn(async move {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    if !op(t, i).await {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    i += 1;
                }
                done.fetch_add(i, Ordering::Relaxed);
            })
        })
        .collect();
    tokio::time::sleep(dur).await;
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        let _ = h.await;
    }
    let secs = start.elapsed().as_secs_f64();
    (
        done.load(Ordering::Relaxed) as f64 / secs,
        failed.load(Ordering::Relaxed),
    )
}
