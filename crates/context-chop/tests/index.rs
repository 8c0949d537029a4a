//! Index: persistence, incremental refresh by blake3, corrupt files rebuilt, version changes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use context_chop::{Index, IndexOptions, Query, RankOptions};
use std::fs;
use std::path::Path;

fn tree(root: &Path, n: usize) {
    fs::create_dir_all(root.join("src")).unwrap();
    for i in 0..n {
        fs::write(
            root.join(format!("src/mod_{i}.rs")),
            format!("/// Module {i}.\npub fn handler_{i}(req: Request) -> Response {{\n    route_{i}(req)\n}}\n"),
        )
        .unwrap();
    }
    fs::write(
        root.join("README.md"),
        "# Project\n\nHandlers route requests.\n",
    )
    .unwrap();
}

fn opts(cache: &Path) -> IndexOptions {
    IndexOptions {
        cache_dir: Some(cache.to_path_buf()),
        ..IndexOptions::default()
    }
}

#[test]
fn persists_and_reindexes_only_changed_files() {
    let d = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    tree(d.path(), 20);
    let first = Index::open(d.path(), opts(cache.path())).unwrap();
    assert!(!first.last_refresh().loaded);
    assert_eq!(first.last_refresh().reindexed, 21);
    assert!(first.last_refresh().saved);

    let mut idx = Index::open(d.path(), opts(cache.path())).unwrap();
    assert!(
        idx.last_refresh().loaded,
        "{:?}",
        idx.last_refresh().load_error
    );
    assert_eq!(idx.last_refresh().reindexed, 0);
    assert_eq!(
        idx.last_refresh().hashed,
        0,
        "unchanged metadata: nothing read"
    );
    assert_eq!(idx.version(), first.version());
    assert_eq!(idx.chunk_count(), first.chunk_count());

    // Touch one file (same contents, new mtime): hashed, not re-indexed, same version.
    let p = d.path().join("src/mod_3.rs");
    let body = fs::read(&p).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    fs::write(&p, &body).unwrap();
    let st = idx.refresh().unwrap().clone();
    assert_eq!((st.hashed, st.reindexed), (1, 0));
    assert_eq!(idx.version(), first.version());

    // Change one file: only it is re-indexed, the version moves, the query finds the change.
    fs::write(&p, "pub fn brand_new_symbol() {}\n").unwrap();
    let st = idx.refresh().unwrap().clone();
    assert_eq!(st.reindexed, 1);
    assert_ne!(idx.version(), first.version());
    let hits = idx.rank(&Query::new("brand_new_symbol"), &RankOptions::default());
    assert!(!hits.is_empty());
    assert_eq!(
        idx.definitions("brand_new_symbol"),
        [("src/mod_3.rs", 1, 1)]
    );
    assert!(idx.definitions("handler_3").is_empty());

    // Remove one file.
    fs::remove_file(d.path().join("src/mod_4.rs")).unwrap();
    let st = idx.refresh().unwrap().clone();
    assert_eq!((st.removed, st.reindexed), (1, 0));
    assert_eq!(idx.file_count(), 20);

    // A fresh open sees the same state as the refreshed one.
    let reopened = Index::open(d.path(), opts(cache.path())).unwrap();
    assert_eq!(reopened.last_refresh().reindexed, 0);
    assert_eq!(reopened.version(), idx.version());
}

#[test]
fn corrupt_truncated_or_foreign_index_files_are_rebuilt() {
    let d = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    tree(d.path(), 5);
    let idx = Index::open(d.path(), opts(cache.path())).unwrap();
    let file = idx.cache_file();
    let good = fs::read(&file).unwrap();
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0xff;
    let mut old_version = good.clone();
    old_version[8] = 0;
    let garbage: Vec<u8> = (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect();
    for bad in [
        flipped,
        good[..good.len() / 3].to_vec(),
        old_version,
        garbage,
        Vec::new(),
    ] {
        fs::write(&file, &bad).unwrap();
        let re = Index::open(d.path(), opts(cache.path())).unwrap();
        assert!(!re.last_refresh().loaded);
        assert_eq!(re.last_refresh().reindexed, 6);
        assert_eq!(re.version(), idx.version());
    }
    // Other chunk options: the saved index does not apply.
    let mut o = opts(cache.path());
    o.chunk.target_tokens = 50;
    let re = Index::open(d.path(), o).unwrap();
    assert!(!re.last_refresh().loaded);
    assert_ne!(re.version(), idx.version());
}

#[test]
fn ranking_prefers_definitions_and_code_over_prose() {
    let d = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    tree(d.path(), 10);
    let idx = Index::open(d.path(), opts(cache.path())).unwrap();
    let hits = idx.rank(&Query::new("handler_7 request"), &RankOptions::default());
    let (path, _, _) = idx.definitions("handler_7")[0];
    assert_eq!(path, "src/mod_7.rs");
    let top = &hits[0];
    let sel = idx
        .select(&Query::new("handler_7 request"), &Default::default())
        .unwrap();
    assert_eq!(sel.chunks[0].path, "src/mod_7.rs");
    assert!(top.score > 0.0);
    // A question about docs lifts the README.
    let docs = idx
        .select(&Query::new("readme docs project"), &Default::default())
        .unwrap();
    assert_eq!(docs.chunks[0].path, "README.md");
    // Route keywords steer the ranking.
    let q = Query::new("request").with_keywords([("handler_2", 5.0)]);
    let sel = idx.select(&q, &Default::default()).unwrap();
    assert_eq!(sel.chunks[0].path, "src/mod_2.rs");
}

mod incremental {
    use super::*;
    use proptest::prelude::*;

    const PATHS: &[&str] = &[
        "src/lib.rs",
        "src/net/client.rs",
        "src/net/server.rs",
        "app/main.py",
        "web/index.js",
        "docs/guide.md",
        "zzz/last.go",
    ];
    const WORDS: &[&str] = &[
        "parse",
        "request",
        "router",
        "HttpClient",
        "retry_policy",
        "cache",
        "token",
        "budget",
        "fn",
        "def",
        "server",
        "listen",
        "socket",
        "timeout",
        "error",
        "Value",
    ];

    fn text(seed: &[u8]) -> String {
        let mut out = String::new();
        for (i, &b) in seed.iter().enumerate() {
            let w = WORDS[b as usize % WORDS.len()];
            if i % 7 == 0 {
                out.push_str(&format!("fn {w}_{b}() {{\n"));
            } else {
                out.push_str(&format!("    {w}({b});\n"));
            }
            if i % 7 == 6 {
                out.push_str("}\n\n");
            }
        }
        out
    }

    fn ranks(index: &Index) -> Vec<Vec<(u32, u32)>> {
        [
            "parse request",
            "HttpClient retry",
            "socket timeout error",
            "cache token budget",
        ]
        .iter()
        .map(|q| {
            index
                .rank(&Query::new(*q), &RankOptions::default())
                .iter()
                .map(|h| (h.chunk, h.score.to_bits()))
                .collect()
        })
        .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// After any sequence of additions, edits and deletions, the incrementally refreshed
        /// index (postings merged, chunk ids remapped) ranks exactly like one built from
        /// scratch, and so does the index loaded back from its file.
        #[test]
        fn refreshed_equals_rebuilt(
            steps in prop::collection::vec(
                prop::collection::vec((0..PATHS.len(), prop::option::of(prop::collection::vec(any::<u8>(), 1..40))), 1..4),
                1..5,
            ),
        ) {
            let d = tempfile::tempdir().unwrap();
            let cache = tempfile::tempdir().unwrap();
            let o = IndexOptions { trust_mtime: false, ..opts(cache.path()) };
            let mut live = Index::open(d.path(), o.clone()).unwrap();
            for edits in steps {
                for (p, content) in edits {
                    let path = d.path().join(PATHS[p]);
                    match content {
                        Some(seed) => {
                            fs::create_dir_all(path.parent().unwrap()).unwrap();
                            fs::write(&path, text(&seed)).unwrap();
                        }
                        None => {
                            let _ = fs::remove_file(&path);
                        }
                    }
                }
                live.refresh().unwrap();
                let fresh_cache = tempfile::tempdir().unwrap();
                let fresh = Index::open(d.path(), IndexOptions { persist: false, ..opts(fresh_cache.path()) }).unwrap();
                prop_assert_eq!(live.chunk_count(), fresh.chunk_count());
                prop_assert_eq!(ranks(&live), ranks(&fresh));
                let reopened = Index::open(d.path(), o.clone()).unwrap();
                prop_assert!(reopened.last_refresh().loaded);
                prop_assert_eq!(ranks(&reopened), ranks(&fresh));
            }
        }
    }
}

/// Rankings reuse per-chunk arrays: each must start clean, whatever ran before it.
#[test]
fn rankings_do_not_leak_into_each_other() {
    let d = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    tree(d.path(), 30);
    let index = Index::open(d.path(), opts(cache.path())).unwrap();
    let r = |i: &Index, q: &str| -> Vec<(u32, u32)> {
        i.rank(&Query::new(q), &RankOptions::default())
            .iter()
            .map(|h| (h.chunk, h.score.to_bits()))
            .collect()
    };
    let queries = [
        "handler request",
        "route_3 response",
        "project readme handlers",
        "mod_7",
    ];
    let first: Vec<_> = queries.iter().map(|q| r(&index, q)).collect();
    for (q, want) in queries.iter().zip(&first).rev() {
        // A fresh clone has no spare arrays: its ranking is the reference.
        assert_eq!(&r(&index.clone(), q), want, "{q}");
        assert_eq!(&r(&index, q), want, "{q} after other queries");
    }
    assert!(first.iter().all(|h| !h.is_empty()));
}
