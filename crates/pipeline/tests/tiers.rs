//! The shared tiers through the CLI, against real Redis and PostgreSQL: a second process is
//! served from L2, then (Redis emptied) from L3; and no secret is ever stored in either.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

const SECRET: &str = "ghp_i6ueojowig3fjl1dzvq3uhfm0ig05bkhoiz6";

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("auth.py"),
        format!(
            "GITHUB_TOKEN = \"{SECRET}\"\n\n\ndef login(user):\n    \"\"\"Log the user in with the token.\"\"\"\n    return connect(user, GITHUB_TOKEN)\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("util.py"),
        "def helper(x):\n    return x + 1\n",
    )
    .unwrap();
    dir
}

fn pack(root: &Path, cache: &Path, tenant: &str, level: &str) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_pipeline"))
        .env("XDG_CACHE_HOME", cache)
        .args([
            "pack",
            "how does login use the github token",
            "--format",
            "json",
        ])
        .args(["--tenant", tenant, "--security-level", level])
        .arg("--root")
        .arg(root)
        .arg("--redis")
        .arg(test_services::redis_url())
        .arg("--postgres")
        .arg(test_services::database_url())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn redis_entries(tenant: &str) -> Vec<(String, Vec<u8>)> {
    let client = redis::Client::open(test_services::redis_url()).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("*{tenant}*"))
        .query_async(&mut con)
        .await
        .unwrap();
    let mut out = Vec::new();
    for k in keys {
        let v: Vec<u8> = redis::cmd("GET")
            .arg(&k)
            .query_async(&mut con)
            .await
            .unwrap_or_default();
        out.push((k, v));
    }
    out
}

async fn postgres_rows(tenant: &str) -> Vec<(String, Vec<u8>)> {
    let (client, conn) =
        tokio_postgres::connect(&test_services::database_url(), tokio_postgres::NoTls)
            .await
            .unwrap();
    tokio::spawn(conn);
    let rows = client
        .query(
            "SELECT key, value FROM pipeline_cache WHERE key LIKE $1",
            &[&format!("%{tenant}%")],
        )
        .await
        .unwrap();
    rows.iter().map(|r| (r.get(0), r.get(1))).collect()
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_process_hits_l2_then_l3_and_no_secret_is_stored() {
    let root = tree();
    let cache = tempfile::tempdir().unwrap();
    let tenant = format!(
        "t{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );

    let first = pack(root.path(), cache.path(), &tenant, "public");
    assert_eq!(first["cache_level"], "miss");
    assert!(!first.to_string().contains(SECRET));
    let second = pack(root.path(), cache.path(), &tenant, "public");
    assert_eq!(second["cache_level"], "l2", "{second}");
    assert_eq!(second["pack"], first["pack"]);

    let stored_redis = redis_entries(&tenant).await;
    assert!(!stored_redis.is_empty(), "nothing was written to Redis");
    let client = redis::Client::open(test_services::redis_url()).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    for (k, _) in &stored_redis {
        let _: i64 = redis::cmd("DEL")
            .arg(k)
            .query_async(&mut con)
            .await
            .unwrap();
    }
    let third = pack(root.path(), cache.path(), &tenant, "public");
    assert_eq!(third["cache_level"], "l3", "{third}");
    assert_eq!(third["pack"], first["pack"]);

    // Cleared to see secrets: the pack shows it, so it must not be stored anywhere.
    let cleared = pack(root.path(), cache.path(), &tenant, "classified");
    assert!(cleared.to_string().contains(SECRET));
    assert_eq!(cleared["findings"][0]["redacted"], false);
    let again = pack(root.path(), cache.path(), &tenant, "classified");
    assert_eq!(
        again["cache_level"], "miss",
        "an unredacted pack was cached"
    );

    for (k, v) in redis_entries(&tenant).await {
        assert!(
            !contains(&v, SECRET) && !k.contains(SECRET),
            "secret in Redis key {k}"
        );
    }
    let rows = postgres_rows(&tenant).await;
    assert!(!rows.is_empty(), "nothing was written to PostgreSQL");
    for (k, v) in rows {
        assert!(
            !contains(&v, SECRET) && !k.contains(SECRET),
            "secret in PostgreSQL row {k}"
        );
    }
}
