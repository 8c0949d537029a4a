//! `PgPool` against a real PostgreSQL: queries and the statement cache, exhaustion, cancelled
//! waiters, FIFO fairness, the reserved share, broken-connection detection, lifetimes, health.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use conn_pool::{Error, HealthState, PgPool, PoolConfig};
use futures::FutureExt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn url() -> String {
    test_services::database_url()
}

async fn pool(config: PoolConfig) -> PgPool {
    PgPool::builder(url()).config(config).build().await.unwrap()
}

async fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("gave up waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_run_and_statements_are_prepared_once_per_connection() {
    let pool = pool(PoolConfig::builder().max_size(1).build()).await;
    let mut conn = pool.get().await.unwrap();
    let row = conn
        .query_one("SELECT $1::int8 + 1", &[&41_i64])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 42);
    for i in 0..5_i64 {
        let row = conn.query_one("SELECT $1::int8 + 1", &[&i]).await.unwrap();
        assert_eq!(row.get::<_, i64>(0), i + 1);
    }
    assert_eq!(conn.cached_statements(), 1);
    let rows = conn
        .query("SELECT g FROM generate_series(1, $1::int4) g", &[&3_i32])
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(conn.cached_statements(), 2);
    let on_server: i64 = conn
        .query_one("SELECT count(*) FROM pg_prepared_statements", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        on_server, 3,
        "the server holds exactly the cached statements"
    );
    assert_eq!(conn.cached_statements(), 3);
    drop(conn);
    // The same connection comes back with its cache.
    let conn = pool.get().await.unwrap();
    assert_eq!(conn.cached_statements(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_errors_are_backend_errors_and_keep_the_connection() {
    let pool = pool(PoolConfig::builder().max_size(1).build()).await;
    let mut conn = pool.get().await.unwrap();
    let pid: i32 = conn
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    let err = conn
        .query("SELECT * FROM no_such_table_here", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Backend(_)), "{err:?}");
    assert!(err.to_string().contains("no_such_table_here"), "{err}");
    assert!(!conn.is_broken());
    drop(conn);
    let mut conn = pool.get().await.unwrap();
    let again: i32 = conn
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(pid, again);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_pool_times_out_with_the_wait_in_the_error() {
    let limit = Duration::from_millis(300);
    let pool = pool(
        PoolConfig::builder()
            .max_size(2)
            .acquire_timeout(limit)
            .build(),
    )
    .await;
    let a = pool.get().await.unwrap();
    let b = pool.get().await.unwrap();
    let err = pool.get().await.unwrap_err();
    match &err {
        Error::Timeout {
            waited,
            last_connect_error,
            ..
        } => {
            assert!(*waited >= limit, "waited {waited:?}");
            assert!(last_connect_error.is_none());
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert!(err.is_transient());
    assert!(err.to_string().contains("timed out"));
    assert_eq!(pool.stats().timeouts, 1);
    assert_eq!(pool.stats().in_use, 2);
    drop((a, b));
    assert!(pool.get().await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_share_is_kept_for_priority_callers() {
    let config = PoolConfig::builder()
        .max_size(3)
        .reserved_for_priority(1)
        .acquire_timeout(Duration::from_millis(200))
        .build();
    let pool = pool(config).await;
    let a = pool.get().await.unwrap();
    let b = pool.get().await.unwrap();
    assert!(matches!(pool.get().await, Err(Error::Timeout { .. })));
    let mut high = pool.get_priority().await.unwrap();
    assert_eq!(
        high.query_one("SELECT 1", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        1
    );
    assert!(matches!(
        pool.get_priority().await,
        Err(Error::Timeout { .. })
    ));
    drop((a, b, high));
    let all: Vec<_> = futures::future::join_all((0..2).map(|_| pool.get())).await;
    assert!(all.iter().all(Result::is_ok));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_cancelled_gets_leak_no_slot() {
    // warm_up off, so some gets are cancelled while connections are being opened.
    let config = PoolConfig::builder()
        .max_size(4)
        .warm_up(false)
        .acquire_timeout(Duration::from_secs(5))
        .build();
    let pool = pool(config).await;
    let early = futures::future::join_all(
        (0..500).map(|i| tokio::time::timeout(Duration::from_micros(i % 50), pool.get())),
    )
    .await;
    drop(early);
    let held: Vec<_> = futures::future::join_all((0..4).map(|_| pool.get()))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    // Every slot is taken: these wait in the fair gate and are dropped mid-wait.
    let cancelled = futures::future::join_all(
        (0..3000).map(|i| tokio::time::timeout(Duration::from_micros(i % 2000), pool.get())),
    )
    .await;
    assert!(cancelled.iter().all(|r| r.is_err()), "the pool was full");
    for _ in 0..1000 {
        assert!(pool.get().now_or_never().is_none());
    }
    assert_eq!(pool.stats().waiting, 0);
    drop(held);
    let again: Vec<_> = futures::future::join_all((0..4).map(|_| pool.get()))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let stats = pool.stats();
    assert_eq!(stats.in_use, 4);
    assert!(stats.size <= 4);
    drop(again);
    assert_eq!(pool.stats().in_use, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_are_served_in_arrival_order() {
    let pool = pool(PoolConfig::builder().max_size(1).build()).await;
    let held = pool.get().await.unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (pool2, order) = (pool.clone(), order.clone());
        tasks.push(tokio::spawn(async move {
            let conn = pool2.get().await.unwrap();
            order.lock().unwrap().push(i);
            tokio::task::yield_now().await;
            drop(conn);
        }));
        let p = pool.clone();
        wait_until("the waiter to queue", move || p.stats().waiting == i + 1).await;
    }
    drop(held);
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*order.lock().unwrap(), (0..20).collect::<Vec<u32>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returning_task_cannot_barge_ahead_of_a_waiter() {
    let pool = pool(PoolConfig::builder().max_size(1).build()).await;
    let order = Arc::new(Mutex::new(Vec::new()));
    let held = pool.get().await.unwrap();
    let waiter = {
        let (pool, order) = (pool.clone(), order.clone());
        tokio::spawn(async move {
            let _c = pool.get().await.unwrap();
            order.lock().unwrap().push("waiter");
        })
    };
    let p = pool.clone();
    wait_until("the waiter to queue", move || p.stats().waiting == 1).await;
    drop(held);
    // Asking again at once, without yielding: the waiter was first and must be served first.
    let _again = pool.get().await.unwrap();
    order.lock().unwrap().push("returner");
    waiter.await.unwrap();
    assert_eq!(*order.lock().unwrap(), vec!["waiter", "returner"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_tasks_on_sixteen_connections_all_finish_without_timeouts() {
    let pool = pool(
        PoolConfig::builder()
            .max_size(16)
            .min_idle(16)
            .acquire_timeout(Duration::from_secs(10))
            .build(),
    )
    .await;
    let counts = Arc::new(Mutex::new(vec![0u32; 50]));
    let tasks: Vec<_> = (0..50)
        .map(|t| {
            let (pool, counts) = (pool.clone(), counts.clone());
            tokio::spawn(async move {
                for _ in 0..20 {
                    let mut c = pool.get().await.unwrap();
                    c.query_one("SELECT pg_sleep(0.001)::text", &[])
                        .await
                        .unwrap();
                    counts.lock().unwrap()[t] += 1;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert!(counts.lock().unwrap().iter().all(|&c| c == 20));
    let stats = pool.stats();
    assert_eq!(stats.timeouts, 0);
    assert_eq!(stats.acquires, 1000);
    assert!(stats.size <= 16);
    assert_eq!(stats.acquire_latency.count, 1000);
}

async fn backend_pid(pool: &PgPool) -> i32 {
    let mut c = pool.get().await.unwrap();
    c.query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_connection_is_noticed_without_a_round_trip_and_replaced() {
    let pool = pool(PoolConfig::builder().max_size(2).build()).await;
    let mut victim = pool.get().await.unwrap();
    let pid: i32 = victim
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    {
        let mut killer = pool.get().await.unwrap();
        let killed: bool = killer
            .query_one("SELECT pg_terminate_backend($1)", &[&pid])
            .await
            .unwrap()
            .get(0);
        assert!(killed);
    }
    let err = victim.query_one("SELECT 1", &[]).await.unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    assert!(victim.is_broken());
    drop(victim);
    for _ in 0..4 {
        assert_ne!(backend_pid(&pool).await, pid);
    }
    // A connection killed while idle is noticed by the client's closed state at checkout.
    let idle_pid = backend_pid(&pool).await;
    {
        let mut killer = pool.get_priority().await.unwrap();
        let k: i32 = killer
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap()
            .get(0);
        if k != idle_pid {
            killer
                .query_one("SELECT pg_terminate_backend($1)", &[&idle_pid])
                .await
                .unwrap();
        }
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..4 {
        let mut c = pool.get().await.unwrap();
        let r = c.query_one("SELECT 1", &[]).await;
        assert!(r.is_ok(), "a dead idle connection was handed out: {r:?}");
    }
    assert!(pool.stats().closed >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_lifetime_applies_to_connections_that_are_never_idle() {
    let pool = pool(
        PoolConfig::builder()
            .max_size(1)
            .max_lifetime(Some(Duration::from_millis(300)))
            .build(),
    )
    .await;
    let first = backend_pid(&pool).await;
    let start = Instant::now();
    let mut seen = vec![first];
    while start.elapsed() < Duration::from_millis(1200) {
        let pid = backend_pid(&pool).await;
        if seen.last() != Some(&pid) {
            seen.push(pid);
        }
    }
    assert!(
        seen.len() >= 2,
        "the busy connection was never replaced: {seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_timeout_is_checked_at_checkout() {
    let pool = pool(
        PoolConfig::builder()
            .max_size(1)
            .idle_timeout(Some(Duration::from_millis(200)))
            .build(),
    )
    .await;
    let first = backend_pid(&pool).await;
    assert_eq!(backend_pid(&pool).await, first);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_ne!(backend_pid(&pool).await, first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_up_and_serializes_without_secrets() {
    let pool = pool(PoolConfig::builder().max_size(2).build()).await;
    let health = pool.health().await;
    assert_eq!(health.state, HealthState::Up, "{health:?}");
    assert_eq!(health.backend, "postgres");
    let json = serde_json::to_value(&health).unwrap();
    assert_eq!(json["state"], "up");
    assert!(json["size"].as_u64().unwrap() >= 1);
    let stats = pool.stats();
    assert!(stats.acquires >= 2);
    assert_eq!(stats.max_size, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_pool_is_degraded_not_down() {
    let pool = pool(
        PoolConfig::builder()
            .max_size(1)
            .acquire_timeout(Duration::from_millis(200))
            .build(),
    )
    .await;
    let _held = pool.get().await.unwrap();
    let health = pool.health().await;
    assert_eq!(health.state, HealthState::Degraded, "{health:?}");
}
