//! Connections to Redis and PostgreSQL, through `conn-pool`: fair waiting, no round trip per
//! checkout, fail-fast `Unavailable` errors when a server is down, redacted URLs.

pub use conn_pool::{PgConn, PgPool, PoolConfig, RedisConn, RedisPool};

fn with_warm_up(config: &PoolConfig, lazy: bool) -> PoolConfig {
    PoolConfig {
        warm_up: config.warm_up && !lazy,
        ..config.clone()
    }
}

/// The L2 pool; with `lazy` nothing connects until first use (the server may be down at start).
pub(crate) async fn redis(
    url: &str,
    config: &PoolConfig,
    lazy: bool,
) -> Result<RedisPool, conn_pool::Error> {
    RedisPool::builder(url)
        .name("tiered-cache-l2")
        .config(with_warm_up(config, lazy))
        .build()
        .await
}

/// The L3 pool; with `lazy` nothing connects until first use.
pub(crate) async fn postgres(
    url: &str,
    config: &PoolConfig,
    lazy: bool,
) -> Result<PgPool, conn_pool::Error> {
    PgPool::builder(url)
        .name("tiered-cache-l3")
        .config(with_warm_up(config, lazy))
        .build()
        .await
}
