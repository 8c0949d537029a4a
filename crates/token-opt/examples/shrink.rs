//! Counts a file's tokens and shows what each compression level saves.
//!
//! ```sh
//! cargo run --release --example shrink -p token-opt -- src/lib.rs
//! ```

use token_opt::{compress, Encoding, Language, Level, Tokenizer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: shrink FILE")?;
    let text = std::fs::read_to_string(&path)?;
    let tok = Tokenizer::new(Encoding::O200k)?;
    let before = tok.count(&text);
    let language = Language::detect(&path, text.lines().next().unwrap_or(""));
    println!("{path}: {before} tokens ({})", language.name());
    for level in [
        Level::Lossless,
        Level::Balanced,
        Level::Aggressive,
        Level::Skeleton,
    ] {
        let out = compress(&text, language, level)?;
        let after = tok.count(&out.text);
        let saved = 100.0 * before.saturating_sub(after) as f64 / before.max(1) as f64;
        println!(
            "  {:<10} {after:>8} tokens  {saved:5.1}% saved",
            level.name()
        );
    }
    Ok(())
}
