//! Faults on private real servers: a server stopped while the pool is in use (calls fail fast
//! with `Unavailable`, then the pool recovers on its own after a restart) and wrong passwords
//! (`Auth`, never a timeout, never the password in the message).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use conn_pool::{Error, HealthState, PgPool, PoolConfig, RedisPool};
use std::time::Duration;
use test_services::{PostgresServer, RedisServer};

/// Generous bound that only catches hangs (a failing call must return long before it).
const HANG: Duration = Duration::from_secs(20);

fn fault_config() -> PoolConfig {
    PoolConfig::builder()
        .max_size(4)
        .min_idle(2)
        .connect_timeout(Duration::from_secs(1))
        .acquire_timeout(Duration::from_secs(3))
        .build()
}

async fn pg_call(pool: &PgPool) -> conn_pool::Result<i32> {
    let mut conn = pool.get().await?;
    Ok(conn.query_one("SELECT 1", &[]).await?.get(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_in_use_fails_fast_then_recovers() {
    let mut server = PostgresServer::start().unwrap();
    let pool = PgPool::connect(&server.url(), fault_config())
        .await
        .unwrap();
    assert_eq!(pg_call(&pool).await.unwrap(), 1);
    let busy = pool.get().await.unwrap();

    server.stop().unwrap();
    for _ in 0..6 {
        let r = tokio::time::timeout(HANG, pg_call(&pool))
            .await
            .expect("call hung");
        match r {
            Err(Error::Unavailable { cause, .. }) => assert!(!cause.is_empty()),
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }
    drop(busy);
    let health = pool.health().await;
    assert_eq!(health.state, HealthState::Down, "{health:?}");
    assert!(health.last_error.is_some());

    server.restart().unwrap();
    let mut recovered = false;
    for _ in 0..100 {
        if tokio::time::timeout(HANG, pg_call(&pool))
            .await
            .expect("call hung")
            .is_ok()
        {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the pool did not recover after the restart");
    // Every connection works again, not just one.
    let conns: Vec<_> = futures::future::join_all((0..4).map(|_| pool.get())).await;
    for c in conns {
        let mut c = c.unwrap();
        assert_eq!(
            c.query_one("SELECT 1", &[]).await.unwrap().get::<_, i32>(0),
            1
        );
    }
    assert_eq!(pool.health().await.state, HealthState::Up);
}

async fn redis_call(pool: &RedisPool) -> conn_pool::Result<String> {
    pool.query(&redis::cmd("PING")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_in_use_fails_fast_then_recovers() {
    let mut server = RedisServer::start().unwrap();
    let pool = RedisPool::builder(server.url())
        .config(fault_config())
        .connections(2)
        .build()
        .await
        .unwrap();
    assert_eq!(redis_call(&pool).await.unwrap(), "PONG");
    let handle = pool.get().await.unwrap();

    server.stop().unwrap();
    for _ in 0..6 {
        let r = tokio::time::timeout(HANG, redis_call(&pool))
            .await
            .expect("call hung");
        match r {
            Err(Error::Unavailable { cause, .. }) => assert!(!cause.is_empty()),
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }
    let mut handle2 = handle.clone();
    let r = handle2.query::<String>(&redis::cmd("PING")).await;
    assert!(matches!(r, Err(Error::Unavailable { .. })), "{r:?}");
    assert_eq!(pool.health().await.state, HealthState::Down);

    server.restart().unwrap();
    let mut recovered = false;
    for _ in 0..100 {
        if tokio::time::timeout(HANG, redis_call(&pool))
            .await
            .expect("call hung")
            .is_ok()
        {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the pool did not recover after the restart");
    for _ in 0..20 {
        assert_eq!(redis_call(&pool).await.unwrap(), "PONG");
    }
    assert_eq!(pool.health().await.state, HealthState::Up);
}

fn assert_auth(err: &Error, password: &str) {
    assert!(
        matches!(err, Error::Auth { .. }),
        "expected Auth, got {err:?}"
    );
    assert!(err.is_auth());
    let text = format!("{err} {err:?}");
    assert!(text.contains("authentication failed"), "{text}");
    assert!(!text.contains(password), "the password leaked: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_wrong_password_is_an_auth_error() {
    let server = RedisServer::start().unwrap();
    let admin = RedisPool::builder(server.url())
        .connections(1)
        .build()
        .await
        .unwrap();
    let _: () = admin
        .query(
            redis::cmd("CONFIG")
                .arg("SET")
                .arg("requirepass")
                .arg("right-horse-battery"),
        )
        .await
        .unwrap();
    let port = server.port();
    let config = PoolConfig::builder()
        .acquire_timeout(Duration::from_secs(10))
        .build();

    let wrong = format!("redis://:wrong-staple-9@127.0.0.1:{port}/");
    let err = RedisPool::connect(&wrong, config.clone())
        .await
        .unwrap_err();
    assert_auth(&err, "wrong-staple-9");

    // Without warm-up the first call reports it, at once rather than after the timeout.
    let lazy = RedisPool::builder(&wrong)
        .config(PoolConfig {
            warm_up: false,
            ..config.clone()
        })
        .build()
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let err = lazy.query::<String>(&redis::cmd("PING")).await.unwrap_err();
    assert_auth(&err, "wrong-staple-9");
    assert!(
        started.elapsed() < config.acquire_timeout,
        "auth failure waited for the timeout"
    );

    let none = format!("redis://127.0.0.1:{port}/");
    let err = RedisPool::connect(&none, config.clone()).await.unwrap_err();
    assert_auth(&err, "right-horse-battery");

    let right = format!("redis://:right-horse-battery@127.0.0.1:{port}/");
    let ok = RedisPool::connect(&right, config).await.unwrap();
    assert_eq!(redis_call(&ok).await.unwrap(), "PONG");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_wrong_password_is_an_auth_error() {
    let server = PostgresServer::start().unwrap();
    let admin = PgPool::builder(server.url())
        .config(PoolConfig::builder().max_size(1).build())
        .build()
        .await
        .unwrap();
    {
        let mut c = admin.get().await.unwrap();
        c.batch_execute("CREATE ROLE app LOGIN PASSWORD 'right-horse-battery'")
            .await
            .unwrap();
        let hba: String = c.query_one("SHOW hba_file", &[]).await.unwrap().get(0);
        // `postgres` keeps trust (the admin pool); every other role needs its password.
        std::fs::write(
            &hba,
            "local all all trust\n\
             host all postgres 127.0.0.1/32 trust\n\
             host all all 127.0.0.1/32 scram-sha-256\n",
        )
        .unwrap();
        let reloaded: bool = c
            .query_one("SELECT pg_reload_conf()", &[])
            .await
            .unwrap()
            .get(0);
        assert!(reloaded);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let port = server.port();
    let config = PoolConfig::builder()
        .acquire_timeout(Duration::from_secs(10))
        .build();

    let wrong = format!("postgres://app:wrong-staple-9@127.0.0.1:{port}/postgres");
    let err = PgPool::connect(&wrong, config.clone()).await.unwrap_err();
    assert_auth(&err, "wrong-staple-9");

    let lazy = PgPool::builder(&wrong)
        .config(PoolConfig {
            warm_up: false,
            ..config.clone()
        })
        .build()
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let err = lazy.get().await.unwrap_err();
    assert_auth(&err, "wrong-staple-9");
    assert!(
        started.elapsed() < config.acquire_timeout,
        "auth failure waited for the timeout"
    );
    let health = lazy.health().await;
    assert_eq!(health.state, HealthState::Down);
    assert!(!serde_json::to_string(&health)
        .unwrap()
        .contains("wrong-staple-9"));

    let none = format!("postgres://app@127.0.0.1:{port}/postgres");
    let err = PgPool::connect(&none, config.clone()).await.unwrap_err();
    assert_auth(&err, "right-horse-battery");

    let right = format!("postgres://app:right-horse-battery@127.0.0.1:{port}/postgres");
    let ok = PgPool::connect(&right, config).await.unwrap();
    assert_eq!(pg_call(&ok).await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_is_unavailable_within_the_connect_timeout() {
    let port = test_services::free_port().unwrap();
    let config = PoolConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .acquire_timeout(Duration::from_secs(10))
        .build();
    let err = PgPool::connect(
        &format!("postgres://u:pw1234@127.0.0.1:{port}/d"),
        config.clone(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    assert!(!err.to_string().contains("pw1234"));
    let err = RedisPool::connect(&format!("redis://:pw1234@127.0.0.1:{port}/"), config)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    assert!(!err.to_string().contains("pw1234"));
}
