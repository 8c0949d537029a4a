//! Packs a tree for a question and prints the pack with timings on stderr:
//! `cargo run --release -p context-chop --example pack -- ROOT "QUESTION" [MAX_TOKENS] [markdown|xml|json]`.

use context_chop::{render, Format, Index, IndexOptions, Query, SelectOptions, Tokenizer};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(root), Some(question)) = (args.first(), args.get(1)) else {
        eprintln!("usage: pack ROOT QUESTION [MAX_TOKENS] [FORMAT]");
        std::process::exit(2);
    };
    let max_tokens = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(8000);
    let format: Format = args
        .get(3)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or_default();
    let t = Instant::now();
    let tok = Tokenizer::new(context_chop::Encoding::O200k)?;
    tok.count("warm up");
    let t_tok = t.elapsed();
    if std::env::var_os("PACK_COUNT_SPEED").is_some() {
        let w = context_chop::walk(std::path::Path::new(root), &Default::default())?;
        let all: String = w
            .files
            .iter()
            .filter_map(|f| std::fs::read_to_string(&f.abs).ok())
            .collect();
        let t = Instant::now();
        let n = tok.count(&all);
        let e = t.elapsed();
        let t = Instant::now();
        let est = token_opt::estimate_tokens(&all);
        eprintln!(
            "count {} bytes -> {n} tokens in {e:?} ({:.1} MB/s); estimate {est} in {:?}",
            all.len(),
            all.len() as f64 / e.as_secs_f64() / 1e6,
            t.elapsed()
        );
    }
    let t = Instant::now();
    let index = Index::open(root, IndexOptions::default())?;
    let t_open = t.elapsed();
    let opts = SelectOptions::builder()
        .max_tokens(max_tokens)
        .format(format)
        .build();
    let t = Instant::now();
    let hits = index.rank(&Query::new(question.as_str()), &opts.rank);
    let t_rank = t.elapsed();
    let t = Instant::now();
    let sel = index.select_with(&Query::new(question.as_str()), &opts, &tok);
    let t_sel = t.elapsed();
    let t = Instant::now();
    let pack = render(&sel, &tok);
    let t_render = t.elapsed();
    println!("{}", pack.text);
    let st = index.last_refresh();
    eprintln!(
        "files {} chunks {} reindexed {} loaded {} | tokenizer {:?} open {:?} rank {:?} ({} hits) select {:?} render {:?} | {} / {} tokens",
        st.files, st.chunks, st.reindexed, st.loaded, t_tok, t_open, t_rank, hits.len(), t_sel, t_render,
        pack.tokens_used, max_tokens
    );
    Ok(())
}
