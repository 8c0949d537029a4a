//! Packs the code of a tree relevant to a question, twice: the second answer comes from L1.
//!
//! ```sh
//! cargo run --example pack -p pipeline -- "how are cache misses loaded" .
//! PIPELINE_REDIS_URL=redis://127.0.0.1:6379 cargo run --example pack -p pipeline -- "..." .
//! ```

use pipeline::{Pipeline, PipelineConfig, Request};
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let query = args
        .next()
        .unwrap_or_else(|| "how are cache misses loaded".into());
    let root = args.next().unwrap_or_else(|| ".".into());

    // Defaults, then `./pipeline.toml` and PIPELINE_* variables when present.
    let config = PipelineConfig::discover(None)?;
    let pipeline = Pipeline::builder().config(config).build().await?;

    for _ in 0..2 {
        let response = pipeline.process(Request::new(query.clone(), &root)).await?;
        println!(
            "{:>4} chunks, {:>6} tokens used, {:>7} saved, cache {:?}, route {}, {:.2} ms",
            response.chunks.len(),
            response.tokens_used,
            response.tokens_saved,
            response.cache_level,
            response.route.name,
            response.latency_ms
        );
    }
    pipeline.shutdown(Duration::from_secs(5)).await;
    Ok(())
}
