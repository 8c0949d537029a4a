//! Benchmarks `conn-pool` beside the peers a user would otherwise pick, in the same run:
//!
//! - uncontended acquire + release: `PgPool` and `RedisPool` vs deadpool and raw bb8 (p50, p99);
//! - 50 tasks on 16 PostgreSQL connections running primary-key reads: timeouts and the longest
//!   wait, ours vs deadpool-postgres vs raw bb8;
//! - Redis GET through `RedisPool` at 50 in flight vs `redis-benchmark -t get -c 50` (and
//!   deadpool-redis) on the same server;
//! - PostgreSQL primary-key read through `PgPool` at 16 in flight vs
//!   `pgbench -S -M prepared -c 16 -j 2` (and deadpool-postgres) on the same server.
//!
//! Servers are private ones started for the run (test-services), like the tiered-cache bench, so
//! the peer programs can be pointed at the same port. `--quick` runs tiny counts and skips
//! peer programs that are not installed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod acquire;
mod common;
mod contention;
mod throughput;

use bench_support::Bench;

fn main() {
    let mut bench = Bench::from_args("conn-pool");
    let pg = match test_services::PostgresServer::start() {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("conn-pool bench: skipping PostgreSQL figures: {e}");
            None
        }
    };
    let redis = match test_services::RedisServer::start() {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("conn-pool bench: skipping Redis figures: {e}");
            None
        }
    };
    let only = std::env::var("CONN_POOL_BENCH_ONLY").unwrap_or_default();
    let rt = common::runtime();
    if let Some(pg) = &pg {
        rt.block_on(common::prepare_pg(&pg.url(), bench.quick));
    }
    if let Some(redis) = &redis {
        rt.block_on(common::prepare_redis(&redis.url()));
    }
    if only.is_empty() || only == "acquire" {
        acquire::run(&mut bench, &rt, pg.as_ref(), redis.as_ref());
    }
    if only.is_empty() || only == "contention" {
        if let Some(pg) = &pg {
            contention::run(&mut bench, &rt, &pg.url());
        }
    }
    if only.is_empty() || only == "redis" {
        if let Some(redis) = &redis {
            throughput::redis(&mut bench, &rt, redis);
        }
    }
    if only.is_empty() || only == "pg" {
        if let Some(pg) = &pg {
            throughput::postgres(&mut bench, &rt, pg);
        }
    }
    drop(rt);
    bench.finish();
}
