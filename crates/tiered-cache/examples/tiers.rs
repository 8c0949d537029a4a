//! A cache over L1, and Redis / PostgreSQL when their URLs are given: the first lookup loads,
//! the next ones hit.
//!
//! ```sh
//! cargo run --example tiers -p tiered-cache
//! cargo run --example tiers -p tiered-cache -- redis://127.0.0.1:6379 postgres://postgres@127.0.0.1/test
//! ```

use tiered_cache::{PostgresConfig, RedisConfig, TieredCache};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut builder = TieredCache::builder();
    if let Some(redis) = args.next() {
        builder = builder.redis(redis, RedisConfig::default());
    }
    if let Some(postgres) = args.next() {
        builder = builder.postgres(postgres, PostgresConfig::default());
    }
    let cache = builder.build().await?;
    for _ in 0..3 {
        let found = cache
            .get_or_load("example:answer", || async {
                Ok::<_, std::io::Error>("42".into())
            })
            .await?;
        println!(
            "{} from {}",
            String::from_utf8_lossy(&found.value),
            found.level
        );
    }
    println!("hit ratio {:.2}", cache.stats().hit_ratio());
    Ok(())
}
