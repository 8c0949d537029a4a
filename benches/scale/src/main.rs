//! How each component's cost grows with the size of its work: the same operation at three sizes,
//! so the report shows whether cost per unit stays flat (linear growth) or climbs.
//!
//! - keyword-trie: search with 1k keywords (identifiers of the corpus itself, so matches are
//!   dense) beside raw daachorse, over 10 MB, 100 MB and 1 GB of real Rust source (the `.rs`
//!   files under `~/.cargo/registry/src`, repeated to size).
//! - secure-redact: `Scanner::scan` over the same three texts.
//! - token-opt: counting tokens (o200k) beside tiktoken-rs, and compressing (balanced, Rust),
//!   each over 1 MB, 10 MB and 100 MB.
//! - context-chop: a cold index and pack, then a warm query, on trees of 1k, 4k and 16k files
//!   (as many as the registry holds, up to 16k).
//! - tiered-cache: `MemoryTier` insert and lookup with 10k, 100k and 1M entries, beside
//!   quick_cache.
//!
//! Each size is a record (with a chart point); each component adds a "growth" record: the cost
//! per unit at the largest size over the cost per unit at the smallest (1.00x: linear).
//! `--quick` runs tiny sizes to check that the benchmark works.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bench_support::{Bench, Record};
use std::path::{Path, PathBuf};
use std::time::Instant;

const MB: usize = 1 << 20;

fn registry_files(limit_bytes: u64, limit_files: usize) -> Vec<PathBuf> {
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo")
        });
    let mut out = Vec::new();
    let mut total = 0u64;
    let Ok(rd) = std::fs::read_dir(home.join("registry/src")) else {
        return out;
    };
    let mut stack: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    stack.sort();
    stack.reverse();
    while let Some(p) = stack.pop() {
        if total >= limit_bytes || out.len() >= limit_files {
            break;
        }
        if p.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
                v.sort();
                v.reverse();
                stack.extend(v);
            }
        } else if p.extension().is_some_and(|e| e == "rs") {
            let len = p.metadata().map(|m| m.len()).unwrap_or(0);
            if len > 0 && len < 1 << 20 {
                total += len;
                out.push(p);
            }
        }
    }
    out
}

/// Real source repeated to `size` bytes, cut at a line end.
fn text_of(base: &str, size: usize) -> String {
    let mut s = String::with_capacity(size + base.len());
    while s.len() < size {
        let want = size - s.len();
        if want >= base.len() {
            s.push_str(base);
        } else {
            let cut = base[..want].rfind('\n').map_or(0, |i| i + 1);
            if cut == 0 {
                break;
            }
            s.push_str(&base[..cut]);
            break;
        }
    }
    s
}

fn label(bytes: usize) -> String {
    if bytes >= 1 << 30 {
        format!("{} GB", bytes >> 30)
    } else if bytes >= 1 << 20 {
        format!("{} MB", bytes >> 20)
    } else {
        format!("{} KB", bytes >> 10)
    }
}

/// A peer run beside ours at each size: its name and the work it does on the text.
type Peer<'a> = Option<(&'a str, &'a mut dyn FnMut(&str))>;

/// Runs `run` (and the peer's work) on the first `size` bytes of the text, for each size: one
/// record per size (throughput, MB/s, with the peer's at the same size when there is one) and
/// a growth record (per-MB cost, largest / smallest).
fn text_series<'t>(
    bench: &mut Bench,
    what: &str,
    sizes: &[usize],
    prefix: impl Fn(usize) -> &'t str,
    mut run: impl FnMut(&str),
    mut peer: Peer<'_>,
) {
    let mut per_mb = Vec::new();
    for &size in sizes {
        let t = prefix(size);
        let ours = secs(|| run(t));
        let mbs = size as f64 / MB as f64;
        per_mb.push(ours / mbs);
        let mut r = Record::higher_is_better(
            &format!("{what}, {}", label(size)),
            "throughput",
            "MB/s",
            mbs / ours.max(1e-9),
        )
        .with_point(&format!("{what} throughput"), mbs);
        if let Some((name, f)) = peer.as_mut() {
            let peer_secs = secs(|| f(t));
            r = r.with_peer(name, mbs / peer_secs.max(1e-9));
        }
        bench.record(r);
    }
    growth(bench, what, &per_mb, "MB", sizes.first(), sizes.last());
}

fn growth(
    bench: &mut Bench,
    what: &str,
    per_unit: &[f64],
    unit: &str,
    small: Option<&usize>,
    large: Option<&usize>,
) {
    if let (Some(first), Some(last), Some(s), Some(l)) =
        (per_unit.first(), per_unit.last(), small, large)
    {
        let (s, l) = if unit == "MB" {
            (label(*s), label(*l))
        } else {
            (format!("{s}"), format!("{l}"))
        };
        bench.record(
            Record::lower_is_better(
                &format!("{what}: growth {s} -> {l}"),
                &format!("cost per {unit} at {l} / at {s}"),
                "x",
                last / first.max(1e-12),
            )
            .with_note("1.00x: cost grows linearly with the work; above 1: faster than linear"),
        );
    }
}

fn secs(f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64()
}

/// `n` inserts of keys `0..n`, then `n` lookups in a scattered order (a multiplicative hash of
/// the index): the time per operation in ns and the number of hits.
fn insert_then_lookup(
    n: usize,
    mut insert: impl FnMut(u64),
    mut lookup: impl FnMut(u64) -> bool,
) -> (f64, usize) {
    let t = Instant::now();
    for k in 0..n as u64 {
        insert(k);
    }
    let mut hits = 0usize;
    for i in 0..n as u64 {
        hits += usize::from(lookup(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) % n as u64));
    }
    (t.elapsed().as_secs_f64() * 1e9 / (2 * n) as f64, hits)
}

fn main() {
    let mut bench = Bench::from_args("scale");
    let quick = bench.quick;
    let files = registry_files(if quick { 4 << 20 } else { 1 << 30 }, 16_000);
    let base_cap = if quick { 4 << 20 } else { 256 << 20 };
    let mut base = String::new();
    for f in &files {
        if base.len() >= base_cap {
            break;
        }
        if let Ok(t) = std::fs::read_to_string(f) {
            base.push_str(&t);
            if !base.ends_with('\n') {
                base.push('\n');
            }
        }
    }
    if base.is_empty() {
        eprintln!("scale bench: no Rust sources under ~/.cargo/registry/src; nothing to measure");
        bench.finish();
        return;
    }
    let big: &[usize] = if quick {
        &[MB, 2 * MB, 4 * MB]
    } else {
        &[10 * MB, 100 * MB, 1024 * MB]
    };
    let small: &[usize] = if quick {
        &[MB / 4, MB / 2, MB]
    } else {
        &[MB, 10 * MB, 100 * MB]
    };
    let largest = *big.last().unwrap_or(&MB);
    let text = text_of(&base, largest);
    eprintln!(
        "scale bench: {} source files, {} of text",
        files.len(),
        label(text.len())
    );
    let prefix = |n: usize| {
        let n = n.min(text.len());
        let cut = text[..n].rfind('\n').map_or(n, |i| i + 1);
        &text[..cut]
    };

    // keyword-trie: 1k distinct identifiers of the corpus, spread over its vocabulary.
    let mut words: Vec<&str> = base[..base.len().min(8 * MB)]
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.len() >= 6 && w.as_bytes()[0].is_ascii_alphabetic())
        .collect();
    words.sort_unstable();
    words.dedup();
    let step = (words.len() / 1000).max(1);
    let patterns: Vec<&str> = words.iter().step_by(step).take(1000).copied().collect();
    let set = keyword_trie::KeywordSet::builder()
        .build(patterns.iter().map(|p| (*p, ())))
        .expect("keyword set");
    let daac = daachorse::DoubleArrayAhoCorasickBuilder::new()
        .match_kind(daachorse::MatchKind::LeftmostLongest)
        .build::<_, _, u32>(&patterns)
        .expect("daachorse");
    let mut daac_run = |t: &str| {
        std::hint::black_box(daac.leftmost_find_iter(t).count());
    };
    text_series(
        &mut bench,
        &format!("keyword-trie search, {} keywords", patterns.len()),
        big,
        prefix,
        |t| {
            std::hint::black_box(set.count(t));
        },
        Some(("daachorse", &mut daac_run)),
    );

    // secure-redact.
    let scanner = secure_redact::Scanner::new();
    text_series(
        &mut bench,
        "secure-redact scan",
        big,
        prefix,
        |t| {
            std::hint::black_box(scanner.scan(t.as_bytes()).len());
        },
        None,
    );

    // token-opt.
    let tok = token_opt::Tokenizer::new(token_opt::Encoding::O200k).expect("tokenizer");
    let tik = tiktoken_rs::o200k_base().expect("tiktoken-rs o200k");
    let mut tik_run = |t: &str| {
        std::hint::black_box(tik.encode_ordinary(t).len());
    };
    text_series(
        &mut bench,
        "token-opt count (o200k)",
        small,
        prefix,
        |t| {
            std::hint::black_box(tok.count(t));
        },
        Some(("tiktoken-rs", &mut tik_run)),
    );
    // One session (its tokenizer loads once, outside the timing).
    let mut compressor = token_opt::Compressor::new(
        token_opt::CompressOptions::builder()
            .level(token_opt::Level::Balanced)
            .build(),
    );
    text_series(
        &mut bench,
        "token-opt compress (balanced, Rust)",
        small,
        prefix,
        |t| {
            // Piece by piece, as the pipeline compresses chunks of files.
            for part in t.split_inclusive("\n}\n") {
                std::hint::black_box(compressor.compress(part, token_opt::Language::Rust).ok());
            }
        },
        None,
    );
    drop(text);

    // context-chop: trees of 1k, 4k and 16k files.
    let counts: Vec<usize> = if quick {
        vec![25, 50, 100]
    } else {
        vec![1000, 4000, 16_000]
    };
    let scratch = tempfile::tempdir().expect("temp dir");
    let mut cold_per_file = Vec::new();
    let mut used = Vec::new();
    for &n in &counts {
        let n = n.min(files.len());
        if n == 0 || used.contains(&n) {
            continue;
        }
        used.push(n);
        let tree = scratch.path().join(format!("tree-{n}"));
        std::fs::create_dir_all(&tree).expect("tree dir");
        let mut bytes = 0u64;
        for (i, f) in files.iter().take(n).enumerate() {
            let dest = tree.join(format!("d{}/f{i}.rs", i / 500));
            std::fs::create_dir_all(dest.parent().unwrap_or(Path::new("."))).expect("dir");
            if std::fs::copy(f, &dest).is_ok() {
                bytes += dest.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
        let opts = context_chop::IndexOptions {
            cache_dir: Some(scratch.path().join(format!("cache-{n}"))),
            ..context_chop::IndexOptions::default()
        };
        let query = context_chop::Query::new("retry the connection with exponential backoff");
        let sel = context_chop::SelectOptions::default();
        let t = Instant::now();
        let index = match context_chop::Index::open(&tree, opts) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("scale bench: context-chop index of {n} files: {e}");
                continue;
            }
        };
        let packed = index.pack(&query, &sel).map(|p| p.tokens_used);
        let cold = t.elapsed().as_secs_f64();
        if let Err(e) = packed {
            eprintln!("scale bench: context-chop pack of {n} files: {e}");
            continue;
        }
        cold_per_file.push(cold / n as f64);
        bench.record(
            Record::lower_is_better(
                &format!("context-chop cold index + pack, {n} files"),
                "time",
                "ms",
                cold * 1e3,
            )
            .with_point("context-chop cold index + pack", n as f64)
            .with_note(&format!(
                "{:.0} MB, {} chunks",
                bytes as f64 / MB as f64,
                index.chunk_count()
            )),
        );
        let mut warm: Vec<f64> = (0..if quick { 3 } else { 21 })
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(index.pack(&query, &sel).map(|p| p.tokens_used).ok());
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        warm.sort_by(f64::total_cmp);
        bench.record(
            Record::lower_is_better(
                &format!("context-chop warm query, {n} files"),
                "median latency",
                "ms",
                warm[warm.len() / 2],
            )
            .with_point("context-chop warm query", n as f64),
        );
        let _ = std::fs::remove_dir_all(&tree);
    }
    growth(
        &mut bench,
        "context-chop cold index + pack",
        &cold_per_file,
        "file",
        used.first(),
        used.last(),
    );

    // tiered-cache: MemoryTier with 10k, 100k and 1M entries.
    let entries: &[usize] = if quick {
        &[1000, 10_000, 100_000]
    } else {
        &[10_000, 100_000, 1_000_000]
    };
    let value = bytes::Bytes::from(vec![7u8; 64]);
    let mut per_op = Vec::new();
    for &n in entries {
        let tier = tiered_cache::MemoryTier::<u64>::new(
            tiered_cache::MemoryConfig::builder()
                .max_entries(n)
                .max_bytes(usize::MAX / 2)
                .build(),
        )
        .expect("memory tier");
        let (ns, hits) = insert_then_lookup(
            n,
            |k| {
                tier.insert(&k, value.clone(), None);
            },
            |k| tier.lookup(&k).is_some(),
        );
        drop(tier);
        per_op.push(ns);
        let qc = quick_cache::sync::Cache::<u64, bytes::Bytes>::new(n);
        let (qc_ns, qc_hits) = insert_then_lookup(
            n,
            |k| {
                qc.insert(k, value.clone());
            },
            |k| qc.get(&k).is_some(),
        );
        drop(qc);
        bench.record(
            Record::lower_is_better(
                &format!("tiered-cache MemoryTier insert + lookup, {n} entries"),
                "time per op",
                "ns",
                ns,
            )
            .with_peer("quick_cache", qc_ns)
            .with_point("tiered-cache MemoryTier time per op", n as f64)
            .with_note(&format!(
                "{n} inserts of new keys, then {n} lookups in scattered order; hits: ours \
                 {hits}, quick_cache {qc_hits}"
            )),
        );
    }
    growth(
        &mut bench,
        "tiered-cache MemoryTier insert + lookup",
        &per_op,
        "op",
        entries.first(),
        entries.last(),
    );
    bench.finish();
}
