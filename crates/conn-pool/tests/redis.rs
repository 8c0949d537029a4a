//! `RedisPool` against a real Redis: commands, sharing one multiplexed connection among many
//! tasks, classified errors, the `ConnectionLike` path, and health.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use conn_pool::{Error, HealthState, PoolConfig, RedisPool};
use redis::AsyncCommands;

fn url() -> String {
    test_services::redis_url()
}

fn key(name: &str) -> String {
    format!("conn-pool-test:{}:{name}", std::process::id())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_and_get_through_the_pool() {
    let pool = RedisPool::builder(url()).build().await.unwrap();
    let k = key("greeting");
    let _: () = pool
        .query(redis::cmd("SET").arg(&k).arg("hello"))
        .await
        .unwrap();
    let v: Option<String> = pool.query(redis::cmd("GET").arg(&k)).await.unwrap();
    assert_eq!(v.as_deref(), Some("hello"));
    let missing: Option<String> = pool
        .query(redis::cmd("GET").arg(key("none")))
        .await
        .unwrap();
    assert_eq!(missing, None);
    // The redis crate's own API works on a handle too.
    let mut conn = pool.get().await.unwrap();
    let v: String = conn.get(&k).await.unwrap();
    assert_eq!(v, "hello");
    let _: () = conn.del(&k).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_share_a_few_connections() {
    let pool = RedisPool::builder(url())
        .connections(2)
        .build()
        .await
        .unwrap();
    let tasks: Vec<_> = (0..64)
        .map(|t| {
            let pool = pool.clone();
            tokio::spawn(async move {
                for i in 0..50 {
                    let k = key(&format!("share:{t}:{i}"));
                    let _: () = pool.query(redis::cmd("SET").arg(&k).arg(i)).await.unwrap();
                    let v: i64 = pool.query(redis::cmd("GET").arg(&k)).await.unwrap();
                    assert_eq!(v, i);
                    let _: () = pool.query(redis::cmd("DEL").arg(&k)).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let stats = pool.stats();
    assert_eq!(stats.size, 2, "two shared connections served 64 tasks");
    assert_eq!(stats.timeouts, 0);
    assert!(stats.acquires >= 64 * 150);
    assert!(stats.connects <= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_type_is_a_backend_error_and_keeps_the_connection() {
    let pool = RedisPool::builder(url())
        .connections(1)
        .build()
        .await
        .unwrap();
    let k = key("list");
    let _: () = pool
        .query(redis::cmd("RPUSH").arg(&k).arg("x"))
        .await
        .unwrap();
    let err = pool
        .query::<Option<String>>(redis::cmd("GET").arg(&k))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Backend(_)), "{err:?}");
    assert!(err.to_string().contains("WRONGTYPE"), "{err}");
    let conn = pool.get().await.unwrap();
    assert!(!conn.is_broken());
    let _: () = pool.query(redis::cmd("DEL").arg(&k)).await.unwrap();
    assert_eq!(pool.stats().connects, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_connection_is_replaced() {
    let pool = RedisPool::builder(url())
        .connections(1)
        .build()
        .await
        .unwrap();
    let id: i64 = pool
        .query(&redis::cmd("CLIENT").arg("ID").to_owned())
        .await
        .unwrap();
    // Kill our own shared connection from another client.
    let other = redis::Client::open(url()).unwrap();
    let mut other = other.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(id)
        .query_async(&mut other)
        .await
        .unwrap();
    // The first call may see the dead socket (Unavailable); then a new connection serves.
    let mut ok = None;
    for _ in 0..5 {
        match pool
            .query::<i64>(&redis::cmd("CLIENT").arg("ID").to_owned())
            .await
        {
            Ok(v) => {
                ok = Some(v);
                break;
            }
            Err(e) => assert!(matches!(e, Error::Unavailable { .. }), "{e:?}"),
        }
    }
    let new_id = ok.expect("the pool replaced the killed connection");
    assert_ne!(new_id, id);
    assert!(pool.stats().connects >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_up() {
    let pool = RedisPool::connect(&url(), PoolConfig::default())
        .await
        .unwrap();
    let health = pool.health().await;
    assert_eq!(health.state, HealthState::Up, "{health:?}");
    assert_eq!(health.backend, "redis");
    let json = serde_json::to_string(&health).unwrap();
    assert!(json.contains("\"state\":\"up\""), "{json}");
}
