//! Uncontended acquire + release: one task, `get` then drop, timed per operation.

use crate::common;
use bench_support::{Bench, Record};
use conn_pool::{PgPool, PoolConfig, RedisPool};
use hdrhistogram::Histogram;
use std::future::Future;
use std::time::Instant;

/// Times `n` calls of `op` after a warm-up; returns (p50 ns, p99 ns).
async fn time_ops<F, Fut>(n: u64, mut op: F) -> (f64, f64)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    for _ in 0..n / 10 + 100 {
        op().await;
    }
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
    for _ in 0..n {
        let t = Instant::now();
        op().await;
        h.record(t.elapsed().as_nanos().max(1) as u64).unwrap();
    }
    (
        h.value_at_quantile(0.5) as f64,
        h.value_at_quantile(0.99) as f64,
    )
}

fn records(
    bench: &mut Bench,
    name: &str,
    ours: (f64, f64),
    peers: &[(&str, (f64, f64))],
    targets: bool,
    note: &str,
) {
    for (i, (metric, value)) in [("p50 latency", ours.0), ("p99 latency", ours.1)]
        .into_iter()
        .enumerate()
    {
        for (j, (peer, figures)) in peers.iter().enumerate() {
            let peer_value = if i == 0 { figures.0 } else { figures.1 };
            let mut rec =
                Record::lower_is_better(&format!("{name} vs {peer}"), metric, "ns", value)
                    .with_peer(peer, peer_value)
                    .with_note(note);
            if targets && j == 0 {
                let (t, limit) = if i == 0 {
                    ("<= 1 us", 1000.0)
                } else {
                    ("<= 5 us", 5000.0)
                };
                rec = rec.with_target(t, value <= limit);
            }
            bench.record(rec);
        }
    }
}

pub fn run(
    bench: &mut Bench,
    rt: &tokio::runtime::Runtime,
    pg: Option<&test_services::PostgresServer>,
    redis: Option<&test_services::RedisServer>,
) {
    let n = if bench.quick { 2_000 } else { 200_000 };
    if let Some(pg) = pg {
        let url = pg.url();
        let figures = rt.block_on(async {
            let ours = PgPool::builder(&url)
                .config(PoolConfig::builder().max_size(4).min_idle(4).build())
                .build()
                .await
                .unwrap();
            let ours = time_ops(n, || async {
                drop(ours.get().await.unwrap());
            })
            .await;
            let dp = common::deadpool_pg(&url, 4);
            drop(dp.get().await.unwrap());
            let dp = time_ops(n, || async {
                drop(dp.get().await.unwrap());
            })
            .await;
            let raw = common::raw_bb8(&url, 4, false).await;
            let raw = time_ops(n, || async {
                drop(raw.get().await.unwrap());
            })
            .await;
            let checked = common::raw_bb8(&url, 4, true).await;
            let checked = time_ops(n / 20, || async {
                drop(checked.get().await.unwrap());
            })
            .await;
            (ours, dp, raw, checked)
        });
        eprintln!("conn-pool bench: PgPool get+drop p50/p99 {:?} ns; deadpool {:?}; bb8 {:?}; bb8 (defaults) {:?}", figures.0, figures.1, figures.2, figures.3);
        records(
            bench,
            "PgPool uncontended get+drop",
            figures.0,
            &[
                ("deadpool-postgres (RecyclingMethod::Fast)", figures.1),
                ("raw bb8 (test_on_check_out off)", figures.2),
                ("raw bb8 (defaults: test_on_check_out)", figures.3),
            ],
            true,
            "one task, 4 idle connections; includes the fair gate, stale checks and stats",
        );
    }
    if let Some(redis) = redis {
        let url = redis.url();
        let figures = rt.block_on(async {
            let ours = RedisPool::builder(&url).build().await.unwrap();
            let ours = time_ops(n, || async {
                drop(ours.get().await.unwrap());
            })
            .await;
            let dp = common::deadpool_redis(&url, 4);
            drop(dp.get().await.unwrap());
            let dp = time_ops(n, || async {
                drop(dp.get().await.unwrap());
            })
            .await;
            (ours, dp)
        });
        eprintln!(
            "conn-pool bench: RedisPool get+drop p50/p99 {:?} ns; deadpool-redis {:?}",
            figures.0, figures.1
        );
        records(
            bench,
            "RedisPool uncontended get+drop",
            figures.0,
            &[("deadpool-redis", figures.1)],
            true,
            "one task; our get is a clone of a shared multiplexed connection",
        );
    }
}
