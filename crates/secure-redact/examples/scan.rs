//! Scans files for secrets and PII and prints where they are (never the values), then the
//! first file redacted.
//!
//! ```sh
//! cargo run --release --example scan -p secure-redact -- .env config/settings.py
//! ```

use secure_redact::{RedactMode, Scanner};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        return Err("usage: scan FILE...".into());
    }
    let scanner = Scanner::new();
    for path in &paths {
        let bytes = std::fs::read(path)?;
        for f in scanner.scan_path(path, &bytes) {
            println!(
                "{path}:{}:{}: {} {} {}",
                f.line,
                f.column,
                f.level,
                f.rule,
                f.short_fingerprint()
            );
        }
    }
    let first = std::fs::read(&paths[0])?;
    let out = scanner.redact(&first, RedactMode::Mask);
    println!("--- {} redacted (level {}) ---", paths[0], out.level);
    print!("{}", String::from_utf8_lossy(&out.text));
    Ok(())
}
