//! Routes questions to agents with the default table, then finds keywords in a file.
//!
//! ```sh
//! cargo run --example route -p keyword-trie -- "the login form is vulnerable to XSS" src/lib.rs
//! ```

use keyword_trie::{CaseFolding, KeywordSet, MatchKind, Router};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let query = args
        .next()
        .unwrap_or_else(|| "why is this SQL query slow on postgres".into());
    let router = Router::default_routes();
    let ranking = router.rank(&query);
    println!(
        "route: {} (default used: {})",
        ranking.route, ranking.default_used
    );
    for r in ranking.routes.iter().take(3) {
        println!(
            "  {:<14} {:.3}  {:?}",
            r.name,
            r.score,
            r.keywords.as_slice()
        );
    }

    if let Some(path) = args.next() {
        let text = std::fs::read(&path)?;
        let set = KeywordSet::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .case_folding(CaseFolding::Ascii)
            .whole_words(true)
            .build([
                ("unwrap", "may panic"),
                ("expect", "may panic"),
                ("unsafe", "review"),
            ])?;
        for m in set.find_iter(&text[..]) {
            println!("{path}:{}: {}", m.range().start, m.value());
        }
    }
    Ok(())
}
