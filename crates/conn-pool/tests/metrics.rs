//! The `metrics` facade: a pool's counters reach the installed recorder, labelled with the pool
//! name, and no label or key carries the URL's password.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use conn_pool::{PgPool, PoolConfig, RedisPool};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_reach_the_recorder_without_secrets() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().unwrap();

    // Trust auth ignores the password, so it can sit in the URL and must never come out.
    let pg_url =
        test_services::database_url().replacen("://postgres@", "://postgres:hunter2pw@", 1);
    let pg = PgPool::builder(&pg_url)
        .name("metrics-pg")
        .config(PoolConfig::builder().max_size(2).build())
        .build()
        .await
        .unwrap();
    for _ in 0..5 {
        let mut c = pg.get().await.unwrap();
        c.query_one("SELECT 1", &[]).await.unwrap();
    }
    let redis = RedisPool::builder(test_services::redis_url())
        .name("metrics-redis")
        .build()
        .await
        .unwrap();
    for _ in 0..3 {
        let _: String = redis.query(&redis::cmd("PING")).await.unwrap();
    }

    let mut acquires = std::collections::HashMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let key = key.key();
        let text = format!("{key:?}");
        assert!(!text.contains("hunter2pw"), "{text}");
        let pool = key
            .labels()
            .find(|l| l.key() == "pool")
            .map(|l| l.value().to_string())
            .unwrap_or_default();
        if key.name() == "conn_pool_acquires_total" {
            if let DebugValue::Counter(n) = value {
                acquires.insert(pool, n);
            }
        }
    }
    // Build's warm-up acquisition counts too.
    assert!(
        acquires.get("metrics-pg").copied().unwrap_or(0) >= 5,
        "{acquires:?}"
    );
    assert!(
        acquires.get("metrics-redis").copied().unwrap_or(0) >= 3,
        "{acquires:?}"
    );
    assert!(!format!("{pg:?} {:?}", pg.health().await).contains("hunter2pw"));
}
