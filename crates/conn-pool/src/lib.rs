//! Fair, fast Redis and PostgreSQL connection pools that are honest about failure.
//!
//! - [`PgPool`]: bb8 with a tokio-postgres manager of our own. Waiters are served first come,
//!   first served (a fair FIFO gate in front of bb8), high-priority callers may use a reserved
//!   share, each connection caches its prepared statements, and a checkout makes no round
//!   trip: broken connections are noticed from the client's closed state and from errors seen.
//! - [`RedisPool`]: a few multiplexed connections shared by every task; `get` is a clone, never
//!   an exclusive checkout, and bb8 (with bb8-redis) owns their creation, checks and replacement.
//! - [`PoolConfig`]: sizes, timeouts, warm-up, reserved share; checked when a pool is built.
//! - [`Error`]: `Timeout { waited, last_connect_error }`, `Unavailable { cause }`, `Auth`,
//!   `Config`, `Backend` — the real cause, and never a password ([`RedactedUrl`]).
//! - [`PoolStats`] and [`Health`]: counters, sizes, an acquire-latency histogram and a
//!   serializable health report; counters also go to the `metrics` facade.
//!
//! Configuration and URLs are checked without a server:
//!
//! ```
//! use conn_pool::{Error, PgPool, PoolConfig, RedisPool};
//! use std::time::Duration;
//!
//! let config = PoolConfig::builder()
//!     .max_size(16)
//!     .acquire_timeout(Duration::from_secs(2))
//!     .reserved_for_priority(2)
//!     .build();
//! assert!(PgPool::builder("postgres://app:s3cret@db:5432/app").config(config.clone()).validate().is_ok());
//!
//! // A bad value or URL is a `Config` error that says what is wrong, without the password.
//! let err = PgPool::builder("postgres://app:s3cret@db:notaport/app").validate().unwrap_err();
//! assert!(matches!(err, Error::Config(_)));
//! assert!(!err.to_string().contains("s3cret"));
//! let err = RedisPool::builder("redis://127.0.0.1/").config(
//!     PoolConfig::builder().acquire_timeout(Duration::ZERO).build()).validate().unwrap_err();
//! assert!(err.to_string().contains("acquire_timeout"));
//! ```
//!
//! With servers (not run here):
//!
//! ```no_run
//! # async fn demo() -> conn_pool::Result<()> {
//! use conn_pool::{Error, PgPool, PoolConfig, RedisPool};
//!
//! let pg = PgPool::connect("postgres://app@127.0.0.1/app", PoolConfig::default()).await?;
//! let mut conn = pg.get().await?;
//! let n: i64 = conn.query_one("SELECT count(*) FROM pg_class", &[]).await?.get(0);
//! drop(conn);
//!
//! let redis = RedisPool::builder("redis://127.0.0.1/").build().await?;
//! match redis.query::<Option<String>>(redis::cmd("GET").arg("k")).await {
//!     Ok(v) => println!("{n} {v:?}"),
//!     Err(Error::Unavailable { cause, .. }) => eprintln!("redis is down: {cause}"),
//!     Err(e) => return Err(e),
//! }
//! println!("{}", serde_json::to_string(&pg.health().await).unwrap());
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod config;
mod core;
mod error;
mod pg;
mod redact;
mod redis_pool;
mod stats;

pub use crate::config::{PoolConfig, PoolConfigBuilder};
pub use crate::core::Priority;
pub use crate::error::{BackendError, Error, Result};
pub use crate::pg::{PgConn, PgPool, PgPoolBuilder};
pub use crate::redact::RedactedUrl;
pub use crate::redis_pool::{RedisConn, RedisPool, RedisPoolBuilder};
pub use crate::stats::{Health, HealthState, LatencySummary, PoolStats};
pub use redis;
pub use tokio_postgres;
