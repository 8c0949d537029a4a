//! keyword-trie against raw daachorse and the aho-corasick crate on the same haystack of real
//! Rust source (the `.rs` files under `~/.cargo/registry/src`), 32 / 100 / 1k / 10k keywords,
//! sparse (rare identifiers) and dense (the most frequent identifiers); plus heap, build and load
//! time, exact lookup and `Router::rank` latency.

use bench_support::{best_of, Bench, Record};
use keyword_trie::{CaseFolding, Engine, KeywordSet, KeywordSpec, MatchKind, RouteSpec, Router};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Real Rust source, up to `limit` bytes (valid UTF-8 files only).
fn haystack(limit: usize) -> String {
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo")
        });
    let mut files = Vec::new();
    if let Ok(rd) = std::fs::read_dir(home.join("registry/src")) {
        let mut idx: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        idx.sort();
        for d in idx {
            rs_files(&d, &mut files);
        }
    }
    let mut out = String::new();
    for f in files {
        if out.len() >= limit {
            break;
        }
        if let Ok(s) = std::fs::read_to_string(&f) {
            out.push_str(&s);
        }
    }
    if out.is_empty() {
        eprintln!(
            "keyword-trie bench: no .rs files under {}/registry/src; using generated text",
            home.display()
        );
        let mut i = 0u64;
        while out.len() < limit {
            out.push_str(&format!(
                "fn item_{i}(x: u32) -> Option<u32> {{ x.checked_add({i}) }}\n"
            ));
            i += 1;
        }
    }
    out.truncate(out.floor_char_boundary_compat(limit));
    out
}

trait FloorBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}
impl FloorBoundary for String {
    fn floor_char_boundary_compat(&self, mut i: usize) -> usize {
        i = i.min(self.len());
        while !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}

/// Identifiers with their frequency, most frequent first.
fn identifiers(text: &str) -> Vec<(String, usize)> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for w in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if w.len() >= 3 && !w.as_bytes()[0].is_ascii_digit() {
            *counts.entry(w).or_default() += 1;
        }
    }
    let mut v: Vec<(String, usize)> = counts.into_iter().map(|(k, c)| (k.to_owned(), c)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

fn pattern_set(ids: &[(String, usize)], n: usize, dense: bool) -> Vec<String> {
    if dense {
        ids.iter().take(n).map(|x| x.0.clone()).collect()
    } else {
        // rare identifiers of 6+ bytes (each occurs once or twice)
        ids.iter()
            .rev()
            .filter(|x| x.0.len() >= 6)
            .take(n)
            .map(|x| x.0.clone())
            .collect()
    }
}

fn mbps(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64().max(1e-12) / 1e6
}

fn is_word(b: Option<&u8>) -> bool {
    b.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b >= 0x80)
}

/// The boundary filter a user would bolt onto a raw automaton.
fn whole(h: &[u8], s: usize, e: usize) -> bool {
    let cuts_start = s > 0 && is_word(h.get(s - 1)) && is_word(h.get(s));
    let cuts_end = is_word(h.get(e - 1)) && is_word(h.get(e));
    !cuts_start && !cuts_end
}

/// Best wall time of `f`, with enough repetitions for fast cases to settle: at least `runs`,
/// more while the total stays under a quarter second (up to 50).
fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    let first = best_of(1, &mut f);
    if runs <= 1 {
        return first; // --quick: checks that it works, not its speed
    }
    let extra = (0.25 / first.as_secs_f64().max(1e-6)) as usize;
    best_of(runs.max(extra.min(50)), f).min(first)
}

/// Best wall times of three contenders measured in alternating rounds (ours, peer, peer, ...),
/// so a burst of load on the shared machine hits them alike. Rounds as in [`best`].
fn race3(
    runs: usize,
    mut a: impl FnMut() -> usize,
    mut b: impl FnMut() -> usize,
    mut c: impl FnMut() -> usize,
) -> (Duration, Duration, Duration) {
    let time = |f: &mut dyn FnMut() -> usize| {
        let t0 = Instant::now();
        std::hint::black_box(f());
        t0.elapsed()
    };
    let (mut ta, mut tb, mut tc) = (time(&mut a), time(&mut b), time(&mut c));
    let rounds = if runs <= 1 {
        0
    } else {
        let slowest = ta.max(tb).max(tc).as_secs_f64().max(1e-6);
        runs.max(((0.25 / slowest) as usize).min(50))
    };
    for _ in 0..rounds {
        ta = ta.min(time(&mut a));
        tb = tb.min(time(&mut b));
        tc = tc.min(time(&mut c));
    }
    (ta, tb, tc)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn main() {
    let mut bench = Bench::from_args("keyword-trie");
    let quick = bench.quick;
    let limit = if quick { 256 << 10 } else { 50 << 20 };
    let runs = if quick { 1 } else { 3 };
    let hay = haystack(limit);
    let h = hay.as_bytes();
    println!("haystack: {} bytes of Rust source", h.len());
    let ids = identifiers(&hay);
    let sizes: &[usize] = if quick {
        &[32, 100, 1000]
    } else {
        &[32, 100, 1000, 10_000]
    };

    // KEYWORD_BENCH_ONLY=static: only heap, build, load, lookup and rank (for quick iteration).
    let search_sizes = if std::env::var("KEYWORD_BENCH_ONLY").as_deref() == Ok("static") {
        &[][..]
    } else {
        sizes
    };
    for &n in search_sizes {
        for dense in [false, true] {
            let pats = pattern_set(&ids, n, dense);
            let label = format!(
                "{} {} patterns",
                if n >= 1000 {
                    format!("{}k", n / 1000)
                } else {
                    n.to_string()
                },
                if dense { "dense" } else { "sparse" }
            );
            let ours = KeywordSet::builder()
                .build(pats.iter().enumerate().map(|(i, p)| (p.as_str(), i as u32)))
                .expect("build ours");
            let daac = daachorse::DoubleArrayAhoCorasickBuilder::new()
                .match_kind(daachorse::MatchKind::LeftmostLongest)
                .build::<_, _, u32>(&pats)
                .expect("build daachorse");
            let ac = aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(&pats)
                .expect("build aho-corasick");
            let expected = daac.leftmost_find_iter(h).count();
            assert_eq!(ours.count(h), expected, "{label}: match counts differ");
            let (t_ours, t_daac, t_ac) = race3(
                runs,
                || ours.count(h),
                || daac.leftmost_find_iter(h).count(),
                || ac.find_iter(h).count(),
            );
            let (peer, t_peer) = if t_daac < t_ac {
                ("daachorse", t_daac)
            } else {
                ("aho-corasick", t_ac)
            };
            let ratio = t_peer.as_secs_f64() / t_ours.as_secs_f64();
            bench.record(
                Record::higher_is_better(&format!("search {label}"), "throughput", "MB/s", mbps(h.len(), t_ours))
                    .with_peer(peer, mbps(h.len(), t_peer))
                    .with_target(">= 0.95x the faster peer", ratio >= 0.95)
                    .with_note(&format!(
                        "leftmost-longest, {expected} matches; engine {:?}; daachorse {:.0} MB/s, aho-corasick {:.0} MB/s",
                        ours.engine(), mbps(h.len(), t_daac), mbps(h.len(), t_ac)
                    ))
                    .with_point(if dense { "search dense" } else { "search sparse" }, n as f64),
            );

            // ASCII case folding: ours folds the haystack; peers: aho-corasick's own
            // case-insensitive mode, and daachorse over a haystack the user lowercases.
            let ours_ci = KeywordSet::builder()
                .case_folding(CaseFolding::Ascii)
                .build(pats.iter().map(|p| (p.as_str(), ())));
            if let Ok(ours_ci) = ours_ci {
                let lpats: Vec<String> = pats.iter().map(|p| p.to_ascii_lowercase()).collect();
                let mut uniq = lpats.clone();
                uniq.sort();
                uniq.dedup();
                let daac_ci = daachorse::DoubleArrayAhoCorasickBuilder::new()
                    .match_kind(daachorse::MatchKind::LeftmostLongest)
                    .build::<_, _, u32>(&uniq)
                    .expect("daachorse ci");
                let ac_ci = aho_corasick::AhoCorasick::builder()
                    .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                    .ascii_case_insensitive(true)
                    .build(&pats)
                    .expect("ac ci");
                let (t_ours, t_daac, t_ac) = race3(
                    runs,
                    || ours_ci.count(h),
                    || daac_ci.leftmost_find_iter(h.to_ascii_lowercase()).count(),
                    || ac_ci.find_iter(h).count(),
                );
                let (peer, t_peer) = if t_daac < t_ac {
                    ("daachorse+lowercase", t_daac)
                } else {
                    ("aho-corasick", t_ac)
                };
                let ratio = t_peer.as_secs_f64() / t_ours.as_secs_f64();
                bench.record(
                    Record::higher_is_better(&format!("search ascii-fold {label}"), "throughput", "MB/s", mbps(h.len(), t_ours))
                        .with_peer(peer, mbps(h.len(), t_peer))
                        .with_target(">= 0.90x the faster peer", ratio >= 0.90)
                        .with_note(&format!("daachorse+lowercase {:.0} MB/s, aho-corasick ascii_case_insensitive {:.0} MB/s", mbps(h.len(), t_daac), mbps(h.len(), t_ac))),
                );
            }

            // Whole words: peers filter their leftmost matches by the same boundary rule.
            let ours_ww = KeywordSet::builder()
                .whole_words(true)
                .build(pats.iter().enumerate().map(|(i, p)| (p.as_str(), i as u32)))
                .expect("ours ww");
            let (t_ours, t_daac, t_ac) = race3(
                runs,
                || ours_ww.count(h),
                || {
                    daac.leftmost_find_iter(h)
                        .filter(|m| whole(h, m.start(), m.end()))
                        .count()
                },
                || {
                    ac.find_iter(h)
                        .filter(|m| whole(h, m.start(), m.end()))
                        .count()
                },
            );
            let (peer, t_peer) = if t_daac < t_ac {
                ("daachorse+filter", t_daac)
            } else {
                ("aho-corasick+filter", t_ac)
            };
            let ratio = t_peer.as_secs_f64() / t_ours.as_secs_f64();
            bench.record(
                Record::higher_is_better(&format!("search whole-words {label}"), "throughput", "MB/s", mbps(h.len(), t_ours))
                    .with_peer(peer, mbps(h.len(), t_peer))
                    .with_target(">= 0.90x the faster peer", ratio >= 0.90)
                    .with_note("peers drop leftmost matches that cut a word; ours also finds the shorter whole-word match a rejected longer one hid"),
            );
        }
    }

    // Heap, build, load and lookup at the largest size.
    let n = *sizes.last().unwrap_or(&1000);
    let pats = pattern_set(&ids, n, false);
    let pairs: Vec<(&str, u32)> = pats
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_str(), i as u32))
        .collect();
    let builds = if quick { 2 } else { 7 };
    let t_build = best_of(builds, || {
        KeywordSet::builder()
            .build(pairs.iter().copied())
            .expect("build")
    });
    let t_build_daac = best_of(builds, || {
        daachorse::DoubleArrayAhoCorasickBuilder::new()
            .match_kind(daachorse::MatchKind::LeftmostLongest)
            .build::<_, _, u32>(&pats)
            .expect("daachorse")
    });
    let label = if n >= 1000 {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    };
    bench.record(
        Record::lower_is_better(
            &format!("build {label} patterns"),
            "time",
            "ms",
            t_build.as_secs_f64() * 1e3,
        )
        .with_peer("daachorse", t_build_daac.as_secs_f64() * 1e3)
        .with_target("<= 25 ms at 10k", t_build.as_secs_f64() <= 0.025),
    );
    let ours = KeywordSet::builder()
        .build(pairs.iter().copied())
        .expect("build");
    let daac = daachorse::DoubleArrayAhoCorasickBuilder::new()
        .match_kind(daachorse::MatchKind::LeftmostLongest)
        .build::<_, _, u32>(&pats)
        .expect("daachorse");
    let heap = ours.heap_bytes() as f64;
    let heap_daac = daac.heap_bytes() as f64;
    bench.record(
        Record::lower_is_better(
            &format!("heap {label} patterns"),
            "heap",
            "KiB",
            heap / 1024.0,
        )
        .with_peer("daachorse", heap_daac / 1024.0)
        .with_target("<= 1.5x raw daachorse", heap <= 1.5 * heap_daac)
        .with_note("ours = automaton + keywords + exact-lookup index + values"),
    );
    let bytes = ours.to_bytes().expect("to_bytes");
    let daac_bytes = daac.serialize();
    let loads = if quick { 5 } else { 200 };
    let t_load = best_of(loads, || {
        KeywordSet::<u32>::from_bytes(&bytes).expect("load")
    });
    let t_load_daac = best_of(loads, || {
        daachorse::DoubleArrayAhoCorasick::<u32>::deserialize(&daac_bytes).expect("load")
    });
    bench.record(
        Record::lower_is_better(
            &format!("load {label} patterns from bytes"),
            "time",
            "ms",
            t_load.as_secs_f64() * 1e3,
        )
        .with_peer("daachorse deserialize", t_load_daac.as_secs_f64() * 1e3)
        .with_target("<= 0.5 ms", t_load.as_secs_f64() <= 0.0005)
        .with_note(&format!(
            "{} bytes; ours also checks an xxh3-64 checksum, the keywords and the lookup table",
            bytes.len()
        )),
    );
    let map: HashMap<String, u32> = pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    let probes: Vec<&str> = pats
        .iter()
        .map(String::as_str)
        .chain(ids.iter().take(n).map(|x| x.0.as_str()))
        .collect();
    let reps = if quick { 1 } else { 200 };
    let t0 = Instant::now();
    let mut hits = 0usize;
    for _ in 0..reps {
        for p in &probes {
            hits += usize::from(std::hint::black_box(ours.get(std::hint::black_box(p))).is_some());
        }
    }
    let ns = t0.elapsed().as_secs_f64() * 1e9 / (reps * probes.len()) as f64;
    let t0 = Instant::now();
    let mut hits2 = 0usize;
    for _ in 0..reps {
        for p in &probes {
            hits2 += usize::from(std::hint::black_box(map.get(*std::hint::black_box(p))).is_some());
        }
    }
    let ns_map = t0.elapsed().as_secs_f64() * 1e9 / (reps * probes.len()) as f64;
    assert_eq!(hits, hits2);
    bench.record(
        Record::lower_is_better(
            &format!("exact lookup {label} patterns"),
            "time per lookup",
            "ns",
            ns,
        )
        .with_peer("std HashMap<String, u32>", ns_map)
        .with_target("<= 20 ns", ns <= 20.0)
        .with_note("half hits, half misses"),
    );

    // Router::rank on 100-byte queries.
    let queries = [
        "the request handler is slow after the migration; p99 latency doubled, can you profile it?",
        "write unit tests with fixtures for the parser and check coverage of the error paths today",
        "why does this panic with unwrap on None in the tokio runtime? stack trace attached below ok",
        "refactor the config loader: remove dead code and rename the builder methods to be idiomatic",
    ];
    for &n in if quick {
        &[1000usize][..]
    } else {
        &[1000usize, 10_000][..]
    } {
        let kws: Vec<&str> = ids
            .iter()
            .filter(|x| x.0.len() >= 4)
            .take(n)
            .map(|x| x.0.as_str())
            .collect();
        let mut b = Router::builder();
        for (r, chunk) in kws.chunks(kws.len().div_ceil(10).max(1)).enumerate() {
            b = b.route_spec(RouteSpec {
                name: format!("route{r}"),
                weight: 1.0,
                description: String::new(),
                keywords: chunk
                    .iter()
                    .map(|k| KeywordSpec::Plain((*k).to_owned()))
                    .collect(),
            });
        }
        let router = b.build().expect("router");
        let batches = if quick { 10 } else { 2000 };
        let mut samples = Vec::with_capacity(batches);
        for i in 0..batches {
            let q = queries[i % queries.len()];
            let t0 = Instant::now();
            for _ in 0..20 {
                std::hint::black_box(router.rank(std::hint::black_box(q)));
            }
            samples.push(t0.elapsed().as_secs_f64() * 1e9 / 20.0);
        }
        let med = median(samples);
        let target = if n <= 1000 { 450.0 } else { 600.0 };
        let label = if n >= 1000 {
            format!("{}k", n / 1000)
        } else {
            n.to_string()
        };
        bench.record(
            Record::lower_is_better(
                &format!("Router::rank {label} keywords, ~100-byte query"),
                "median latency",
                "ns",
                med,
            )
            .with_target(&format!("<= {target} ns"), med <= target)
            .with_note(&format!(
                "{} routes, {} keywords",
                router.route_names().count(),
                router.keyword_count()
            )),
        );
    }
    let dflt = Router::default_routes();
    let mut samples = Vec::new();
    for i in 0..if quick { 10 } else { 2000 } {
        let q = queries[i % queries.len()];
        let t0 = Instant::now();
        for _ in 0..20 {
            std::hint::black_box(dflt.rank(std::hint::black_box(q)));
        }
        samples.push(t0.elapsed().as_secs_f64() * 1e9 / 20.0);
    }
    bench.record(
        Record::lower_is_better(
            "Router::rank default table, ~100-byte query",
            "median latency",
            "ns",
            median(samples),
        )
        .with_note(&format!("{} keywords", dflt.keyword_count())),
    );

    // Overlapping and leftmost-first: same engines, checked against daachorse's counts.
    let pats = pattern_set(&ids, 1000, true);
    for (kind, dk) in [
        (MatchKind::Overlapping, daachorse::MatchKind::Standard),
        (
            MatchKind::LeftmostFirst,
            daachorse::MatchKind::LeftmostFirst,
        ),
    ] {
        let ours = KeywordSet::builder()
            .match_kind(kind)
            .engine(Engine::Auto)
            .build(pats.iter().map(|p| (p.as_str(), ())))
            .expect("ours");
        let d = daachorse::DoubleArrayAhoCorasickBuilder::new()
            .match_kind(dk)
            .build::<_, _, u32>(&pats)
            .expect("daac");
        let t_ours = best(runs, || ours.count(h));
        let t_d = best(runs, || {
            if kind == MatchKind::Overlapping {
                d.find_overlapping_iter(h).count()
            } else {
                d.leftmost_find_iter(h).count()
            }
        });
        bench.record(
            Record::higher_is_better(
                &format!("search {kind:?} 1k dense"),
                "throughput",
                "MB/s",
                mbps(h.len(), t_ours),
            )
            .with_peer("daachorse", mbps(h.len(), t_d)),
        );
    }
    bench.finish();
}
