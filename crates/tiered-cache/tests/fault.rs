//! Fault test: Redis and then PostgreSQL stop under load and come back; no call fails, none
//! stalls for long, and the tiers are used again without restarting the cache.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use test_services::{PostgresServer, RedisServer};
use tiered_cache::{
    BreakerState, Bytes, MemoryConfig, PostgresConfig, RedisConfig, Tier, TieredCache,
};

struct Load {
    calls: AtomicU64,
    failures: AtomicU64,
    max_latency_us: AtomicU64,
    stop: AtomicBool,
}

async fn worker(cache: TieredCache, load: Arc<Load>, seed: u64) {
    let mut i = seed;
    while !load.stop.load(Ordering::Relaxed) {
        i = i
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let key = format!("k{}", (i >> 33) % 2000);
        let start = Instant::now();
        let r = if i % 10 == 0 {
            cache
                .set(&key, Bytes::from(key.clone()), None)
                .await
                .map(|_| ())
        } else {
            let k2 = key.clone();
            cache
                .get_or_load(&key, move || async move {
                    Ok::<_, std::io::Error>(Bytes::from(k2))
                })
                .await
                .map(|l| assert_eq!(l.value, Bytes::from(key.clone())))
        };
        let us = start.elapsed().as_micros() as u64;
        load.max_latency_us.fetch_max(us, Ordering::Relaxed);
        load.calls.fetch_add(1, Ordering::Relaxed);
        if r.is_err() {
            load.failures.fetch_add(1, Ordering::Relaxed);
        }
        tokio::task::yield_now().await;
    }
}

async fn run_for(d: Duration) {
    tokio::time::sleep(d).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_then_postgres_down_under_load_no_failed_calls_and_recovery() {
    let mut redis = tokio::task::spawn_blocking(RedisServer::start)
        .await
        .unwrap()
        .unwrap();
    let mut pg = tokio::task::spawn_blocking(PostgresServer::start)
        .await
        .unwrap()
        .unwrap();
    let cache = TieredCache::builder()
        .memory(MemoryConfig::builder().max_entries(100).build())
        .l1_ttl(Duration::from_millis(200))
        .redis(
            redis.url(),
            RedisConfig::builder().namespace("fault").build(),
        )
        .postgres(
            pg.url(),
            PostgresConfig::builder().table("fault_cache").build(),
        )
        .remote_timeout(Duration::from_millis(200))
        .build()
        .await
        .unwrap();
    let load = Arc::new(Load {
        calls: AtomicU64::new(0),
        failures: AtomicU64::new(0),
        max_latency_us: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    });
    let workers: Vec<_> = (0..8)
        .map(|s| tokio::spawn(worker(cache.clone(), load.clone(), s)))
        .collect();

    run_for(Duration::from_millis(800)).await;
    let before = cache.stats();
    assert!(before.tiers[1].hits > 0, "L2 in use before the fault");

    // Redis goes away.
    redis = tokio::task::spawn_blocking(move || {
        redis.stop().unwrap();
        redis
    })
    .await
    .unwrap();
    run_for(Duration::from_millis(1500)).await;
    assert_ne!(cache.breaker_states().0, Some(BreakerState::Closed));

    // PostgreSQL goes away too: only L1 and the loader remain.
    pg = tokio::task::spawn_blocking(move || {
        pg.stop().unwrap();
        pg
    })
    .await
    .unwrap();
    run_for(Duration::from_millis(1500)).await;
    assert_ne!(cache.breaker_states().1, Some(BreakerState::Closed));

    // Both come back on the same ports.
    let (redis, pg) = tokio::task::spawn_blocking(move || {
        redis.restart().unwrap();
        pg.restart().unwrap();
        (redis, pg)
    })
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (l2, l3) = cache.breaker_states();
        if l2 == Some(BreakerState::Closed) && l3 == Some(BreakerState::Closed) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "breakers did not close: {l2:?} {l3:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let hits_l2 = cache.stats().tiers[1].hits;
    run_for(Duration::from_millis(800)).await;
    load.stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }

    // The tiers work again without restarting the cache.
    cache
        .set("after", Bytes::from_static(b"back"), None)
        .await
        .unwrap();
    let key = cache.tier_key("after");
    assert!(cache.redis().unwrap().get(&key).await.unwrap().is_some());
    assert!(cache.postgres().unwrap().get(&key).await.unwrap().is_some());
    assert!(cache.stats().tiers[1].hits > hits_l2, "L2 answers again");

    let calls = load.calls.load(Ordering::Relaxed);
    let failures = load.failures.load(Ordering::Relaxed);
    let max_ms = load.max_latency_us.load(Ordering::Relaxed) / 1000;
    eprintln!("calls {calls}, failures {failures}, slowest call {max_ms} ms");
    assert!(calls > 1000, "the load ran ({calls} calls)");
    assert_eq!(failures, 0);
    assert!(max_ms < 3000, "a call stalled for {max_ms} ms");
    drop((redis, pg));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_while_servers_are_down_and_uses_them_once_they_are_up() {
    let (mut redis, mut pg) = tokio::task::spawn_blocking(|| {
        let mut r = RedisServer::start().unwrap();
        let mut p = PostgresServer::start().unwrap();
        r.stop().unwrap();
        p.stop().unwrap();
        (r, p)
    })
    .await
    .unwrap();
    let cache = TieredCache::builder()
        .redis(
            redis.url(),
            RedisConfig::builder()
                .namespace("lazy")
                .lazy_connect(true)
                .build(),
        )
        .postgres(
            pg.url(),
            PostgresConfig::builder()
                .table("lazy_cache")
                .lazy_connect(true)
                .build(),
        )
        .remote_timeout(Duration::from_millis(200))
        .build()
        .await
        .unwrap();
    // Down: answers from L1 and the loader, no error.
    let start = Instant::now();
    let v = cache
        .get_or_load("k", || async {
            Ok::<_, std::io::Error>(Bytes::from_static(b"v"))
        })
        .await
        .unwrap();
    assert_eq!(&v.value[..], b"v");
    assert!(start.elapsed() < Duration::from_secs(2));
    cache
        .set("k2", Bytes::from_static(b"v2"), None)
        .await
        .unwrap();

    (redis, pg) = tokio::task::spawn_blocking(move || {
        redis.restart().unwrap();
        pg.restart().unwrap();
        (redis, pg)
    })
    .await
    .unwrap();
    // Up: writes reach both tiers once the breakers let a probe through.
    let key = cache.tier_key("k3");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        cache
            .set("k3", Bytes::from_static(b"v3"), None)
            .await
            .unwrap();
        let in_redis = matches!(cache.redis().unwrap().get(&key).await, Ok(Some(_)));
        let in_pg = matches!(cache.postgres().unwrap().get(&key).await, Ok(Some(_)));
        if in_redis && in_pg {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "tiers not used after the servers came up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop((redis, pg));
}
