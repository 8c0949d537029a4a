//! Builds a Redis and a PostgreSQL pool, runs one command on each and prints their health.
//!
//! ```sh
//! cargo run --example ping -p conn-pool -- redis://127.0.0.1:6379 postgres://postgres@127.0.0.1/test
//! ```

use conn_pool::{PgPool, RedisPool};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(redis_url), Some(pg_url)) = (args.next(), args.next()) else {
        return Err("usage: ping REDIS_URL POSTGRES_URL".into());
    };
    let redis = RedisPool::builder(redis_url).build().await?;
    let pong: String = redis.query(&redis::cmd("PING")).await?;
    println!("redis: {pong}");

    let pg = PgPool::builder(pg_url).build().await?;
    let mut conn = pg.get().await?;
    let rows = conn.query("SELECT 1::int4 + 1", &[]).await?;
    let two: i32 = rows[0].get(0);
    println!("postgres: 1 + 1 = {two}");
    drop(conn);

    println!("{}", serde_json::to_string_pretty(&redis.health().await)?);
    println!("{}", serde_json::to_string_pretty(&pg.health().await)?);
    Ok(())
}
