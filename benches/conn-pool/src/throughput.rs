//! Throughput on the same private servers as the peer programs: Redis GET at 50 in flight vs
//! `redis-benchmark -t get -c 50`, PostgreSQL primary-key reads at 16 in flight vs
//! `pgbench -S -M prepared -c 16 -j 2`; deadpool's figures beside ours.

use crate::common::{self, Rng, PK_READ, REDIS_KEY, ROWS};
use bench_support::{Bench, Record};
use conn_pool::{PgPool, PoolConfig, RedisPool};
use std::process::Command;
use std::time::Duration;

fn redis_benchmark(port: u16, requests: u64) -> Option<f64> {
    let rb = common::which("redis-benchmark")?;
    let out = Command::new(rb)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-t", "get", "-c", "50", "-n", &requests.to_string(), "-q"])
        .output()
        .ok()?;
    // "GET: 123456.79 requests per second, p50=0.199 msec"
    String::from_utf8_lossy(&out.stdout)
        .rsplit("GET:")
        .next()?
        .split_whitespace()
        .next()?
        .parse::<f64>()
        .ok()
}

pub fn redis(bench: &mut Bench, rt: &tokio::runtime::Runtime, server: &test_services::RedisServer) {
    let (dur, requests, rounds) = if bench.quick {
        (Duration::from_millis(300), 5_000u64, 1)
    } else {
        (Duration::from_secs(5), 500_000u64, 2)
    };
    let url = server.url();
    let mut ours = Vec::new();
    let mut dp_best = 0.0f64;
    let mut peer: Option<f64> = None;
    let connections = [1u32, 2, 4];
    for _ in 0..rounds {
        // The machine is shared: alternate ours and the peers, keep the best of each.
        if let Some(p) = redis_benchmark(server.port(), requests) {
            peer = Some(peer.map_or(p, |q| q.max(p)));
        }
        let run = rt.block_on(async {
            let mut figures = Vec::new();
            for &n in &connections {
                let pool = RedisPool::builder(&url)
                    .connections(n)
                    .build()
                    .await
                    .unwrap();
                let (ops, failed) = common::drive(50, dur, move |_, _| {
                    let pool = pool.clone();
                    async move {
                        matches!(
                            pool.query::<Option<Vec<u8>>>(redis::cmd("GET").arg(REDIS_KEY))
                                .await,
                            Ok(Some(_))
                        )
                    }
                })
                .await;
                if failed > 0 {
                    eprintln!("conn-pool bench: {failed} RedisPool GETs failed");
                }
                figures.push(ops);
            }
            let dp = common::deadpool_redis(&url, 16);
            let (dp_ops, _) = common::drive(50, dur, move |_, _| {
                let dp = dp.clone();
                async move {
                    let Ok(mut c) = dp.get().await else {
                        return false;
                    };
                    deadpool_redis::redis::cmd("GET")
                        .arg(REDIS_KEY)
                        .query_async::<Option<Vec<u8>>>(&mut c)
                        .await
                        .is_ok()
                }
            })
            .await;
            (figures, dp_ops)
        });
        if ours.is_empty() {
            ours = run.0;
        } else {
            for (a, b) in ours.iter_mut().zip(run.0) {
                *a = f64::max(*a, b);
            }
        }
        dp_best = dp_best.max(run.1);
    }
    eprintln!("conn-pool bench: Redis GET 50 in flight: ours {ours:?} (connections {connections:?}); deadpool-redis {dp_best:.0}; redis-benchmark {peer:?}");
    for (&n, &ops) in connections.iter().zip(&ours) {
        let name = format!("RedisPool GET, 50 in flight, {n} shared connection(s)");
        let note = "3-byte value, the key redis-benchmark reads; peer: redis-benchmark -t get -c 50 (50 connections) on the same server";
        let mut rec = Record::higher_is_better(&name, "throughput", "ops/s", ops)
            .with_note(note)
            .with_point("RedisPool GET ops/s", n as f64);
        if let Some(p) = peer {
            rec = rec.with_peer("redis-benchmark -t get -c 50", p);
            if n == 2 {
                rec = rec.with_target(">= 1.0x redis-benchmark", ops >= p);
            }
        }
        bench.record(rec);
    }
    if let Some(&default) = ours.get(1) {
        bench.record(
            Record::higher_is_better(
                "RedisPool GET, 50 in flight vs deadpool-redis",
                "throughput",
                "ops/s",
                default,
            )
            .with_peer(
                "deadpool-redis (16 connections, exclusive checkout)",
                dp_best,
            )
            .with_note("ours: 2 shared multiplexed connections (the default)"),
        );
    }
}

fn pgbench_tps(url: &str, secs: u64) -> Option<f64> {
    let pgbench = common::pgbench()?;
    let out = Command::new(pgbench)
        .args([
            "-S",
            "-M",
            "prepared",
            "-c",
            "16",
            "-j",
            "2",
            "-T",
            &secs.to_string(),
            url,
        ])
        .output()
        .ok()?;
    // "tps = 12345.678901 (without initial connection time)"
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.starts_with("tps = "))?
        .trim_start_matches("tps = ")
        .split_whitespace()
        .next()?
        .parse::<f64>()
        .ok()
}

pub fn postgres(
    bench: &mut Bench,
    rt: &tokio::runtime::Runtime,
    server: &test_services::PostgresServer,
) {
    let (secs, rounds) = if bench.quick { (1u64, 1) } else { (5u64, 2) };
    let dur = Duration::from_secs(secs);
    let url = server.url();
    let (mut ours, mut dp_best, mut peer) = (0.0f64, 0.0f64, None::<f64>);
    for _ in 0..rounds {
        if let Some(p) = pgbench_tps(&url, secs) {
            peer = Some(peer.map_or(p, |q| q.max(p)));
        }
        let (o, d) = rt.block_on(async {
            let pool = PgPool::builder(&url)
                .config(PoolConfig::builder().max_size(16).min_idle(16).build())
                .build()
                .await
                .unwrap();
            let (o, failed) = common::drive(16, dur, move |t, i| {
                let pool = pool.clone();
                async move {
                    let aid = Rng::new((t as u64) << 32 | i).below(ROWS) as i32 + 1;
                    let Ok(mut c) = pool.get().await else {
                        return false;
                    };
                    c.query_one(PK_READ, &[&aid]).await.is_ok()
                }
            })
            .await;
            if failed > 0 {
                eprintln!("conn-pool bench: {failed} PgPool reads failed");
            }
            let dp = common::deadpool_pg(&url, 16);
            let (d, _) = common::drive(16, dur, move |t, i| {
                let dp = dp.clone();
                async move {
                    let aid = Rng::new((t as u64) << 32 | i).below(ROWS) as i32 + 1;
                    let Ok(c) = dp.get().await else {
                        return false;
                    };
                    let Ok(stmt) = c.prepare_cached(PK_READ).await else {
                        return false;
                    };
                    c.query_one(&stmt, &[&aid]).await.is_ok()
                }
            })
            .await;
            (o, d)
        });
        ours = ours.max(o);
        dp_best = dp_best.max(d);
    }
    eprintln!("conn-pool bench: PG PK read 16 in flight: ours {ours:.0}; deadpool {dp_best:.0}; pgbench {peer:?}");
    let note = "pgbench_accounts (scale 1, 100k rows), SELECT abalance by aid, prepared once per connection; peer: pgbench -S -M prepared -c 16 -j 2";
    let mut rec = Record::higher_is_better(
        "PgPool primary-key read, 16 in flight",
        "throughput",
        "ops/s",
        ours,
    )
    .with_note(note);
    if let Some(p) = peer {
        rec = rec
            .with_peer("pgbench -S -M prepared -c 16 -j 2", p)
            .with_target(">= 0.85x pgbench", ours >= 0.85 * p);
    }
    bench.record(rec);
    bench.record(
        Record::higher_is_better(
            "PgPool primary-key read, 16 in flight vs deadpool",
            "throughput",
            "ops/s",
            ours,
        )
        .with_peer("deadpool-postgres (prepare_cached)", dp_best)
        .with_note(note),
    );
}
