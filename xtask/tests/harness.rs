//! Proves the test-service harness: both servers are reachable, writable and readable.

use std::time::Duration;

#[tokio::test(flavor = "current_thread")]
async fn redis_write_then_read() {
    let url = test_services::redis_url();
    let client = redis::Client::open(url.as_str()).expect("valid redis url");
    let mut conn = tokio::time::timeout(
        Duration::from_secs(10),
        client.get_multiplexed_async_connection(),
    )
    .await
    .expect("redis connect in time")
    .expect("redis connect");
    let key = format!("xtask-harness-{}", std::process::id());
    let _: () = redis::cmd("SET")
        .arg(&key)
        .arg("hello")
        .arg("PX")
        .arg(60_000)
        .query_async(&mut conn)
        .await
        .expect("SET");
    let got: String = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .expect("GET");
    assert_eq!(got, "hello");
    let _: () = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .expect("DEL");
}

#[tokio::test(flavor = "current_thread")]
async fn postgres_write_then_read() {
    let url = test_services::database_url();
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("postgres connect");
    tokio::spawn(connection);
    let table = format!("xtask_harness_{}", std::process::id());
    client
        .batch_execute(&format!(
            "CREATE TEMP TABLE {table} (k text primary key, v bytea)"
        ))
        .await
        .expect("create");
    client
        .execute(
            &format!("INSERT INTO {table} (k, v) VALUES ($1, $2)"),
            &[&"key", &b"value".to_vec()],
        )
        .await
        .expect("insert");
    let row = client
        .query_one(&format!("SELECT v FROM {table} WHERE k = $1"), &[&"key"])
        .await
        .expect("select");
    let v: Vec<u8> = row.get(0);
    assert_eq!(v, b"value");
}

#[test]
fn private_servers_stop_and_restart_on_the_same_port() {
    let mut redis = test_services::RedisServer::start().expect("start redis");
    let port = redis.port();
    let pid = redis.pid();
    redis.stop().expect("stop");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    redis.restart().expect("restart");
    assert_eq!(redis.port(), port);
    assert_ne!(redis.pid(), pid);
    drop(redis);
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
}
