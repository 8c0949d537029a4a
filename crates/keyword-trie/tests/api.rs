//! Integration tests: errors, engine choice, serialization (round trip and corruption), Router.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keyword_trie::{CaseFolding, Engine, Error, KeywordSet, MatchKind, Router};

fn words(n: usize) -> Vec<(String, u32)> {
    (0..n).map(|i| (format!("kw{i}x"), i as u32)).collect()
}

#[test]
fn errors_for_bad_keywords() {
    let e = KeywordSet::builder()
        .build([("a", 1), ("", 2)])
        .unwrap_err();
    assert!(matches!(e, Error::EmptyPattern { index: 1 }), "{e}");
    let e = KeywordSet::builder()
        .case_folding(CaseFolding::Ascii)
        .build([("Key", 1), ("kEY", 2)])
        .unwrap_err();
    assert!(
        matches!(e, Error::ConflictingDuplicate { ref keyword } if keyword == "kEY"),
        "{e}"
    );
    // equal duplicates are merged
    let set = KeywordSet::builder().build([("k", 1), ("k", 1)]).unwrap();
    assert_eq!(set.len(), 1);
    let e = KeywordSet::builder()
        .max_patterns(2)
        .build(words(3))
        .unwrap_err();
    assert!(matches!(e, Error::TooManyPatterns { max: 2 }), "{e}");
    let e = KeywordSet::builder()
        .build(Vec::<(&str, u8)>::new())
        .unwrap_err();
    assert!(matches!(e, Error::NoPatterns));
}

#[test]
fn engine_is_chosen_by_size_and_overridable() {
    let small = KeywordSet::builder().build(words(10)).unwrap();
    assert_eq!(small.engine(), Engine::AhoCorasick);
    let large = KeywordSet::builder().build(words(5000)).unwrap();
    assert_eq!(large.engine(), Engine::DoubleArray);
    let forced = KeywordSet::builder()
        .engine(Engine::DoubleArray)
        .build(words(10))
        .unwrap();
    assert_eq!(forced.engine(), Engine::DoubleArray);
    let tuned = KeywordSet::builder()
        .auto_threshold(10_000)
        .build(words(5000))
        .unwrap();
    assert_eq!(tuned.engine(), Engine::AhoCorasick);
    assert_eq!(large.get("kw4999x"), Some(&4999));
    assert_eq!(large.get("kw5000x"), None);
    assert_eq!(large.count("kw1x kw22x kw333x kw4444x kw55555x"), 4);
}

#[test]
fn spans_are_original_offsets_under_unicode_folding() {
    let set = KeywordSet::builder()
        .case_folding(CaseFolding::Unicode)
        .whole_words(true)
        .build([("straße", 1), ("kelvin", 2)])
        .unwrap();
    let text = "STRAßE \u{212A}ELVIN kelvins";
    let got: Vec<_> = set
        .find_iter(text)
        .map(|m| (&text[m.range()], *m.value()))
        .collect();
    assert_eq!(got, vec![("STRAßE", 1), ("\u{212A}ELVIN", 2)]);
}

#[test]
fn leftmost_first_and_overlapping() {
    let pats = [("ab", 0), ("a", 1), ("abcd", 2)];
    let first = KeywordSet::builder()
        .match_kind(MatchKind::LeftmostFirst)
        .build(pats)
        .unwrap();
    assert_eq!(
        first
            .find_iter("abcd")
            .map(|m| *m.value())
            .collect::<Vec<_>>(),
        vec![0]
    );
    let over = KeywordSet::builder()
        .match_kind(MatchKind::Overlapping)
        .build(pats)
        .unwrap();
    assert_eq!(over.count("abcd"), 3);
}

fn round_trip(engine: Engine, kind: MatchKind) {
    let set = KeywordSet::builder()
        .engine(engine)
        .match_kind(kind)
        .case_folding(CaseFolding::Unicode)
        .whole_words(true)
        .build(words(300))
        .unwrap();
    let bytes = set.to_bytes().unwrap();
    let back: KeywordSet<u32> = KeywordSet::from_bytes(&bytes).unwrap();
    assert_eq!(back.engine(), set.engine());
    assert_eq!(back.options(), set.options());
    let text = "KW1X, kw299x kw2xx kw17x_ kw18x";
    let a: Vec<_> = set
        .find_iter(text)
        .map(|m| (m.range(), *m.value()))
        .collect();
    let b: Vec<_> = back
        .find_iter(text)
        .map(|m| (m.range(), *m.value()))
        .collect();
    assert_eq!(a, b);
    assert_eq!(a.len(), 3);
    assert_eq!(back.get("KW42X"), Some(&42));
}

#[test]
fn serialization_round_trips() {
    for engine in [Engine::AhoCorasick, Engine::DoubleArray] {
        for kind in [
            MatchKind::LeftmostLongest,
            MatchKind::LeftmostFirst,
            MatchKind::Overlapping,
        ] {
            round_trip(engine, kind);
        }
    }
}

#[test]
fn corrupt_bytes_are_errors() {
    for engine in [Engine::AhoCorasick, Engine::DoubleArray] {
        let set = KeywordSet::builder()
            .engine(engine)
            .build(words(40))
            .unwrap();
        let bytes = set.to_bytes().unwrap();
        for len in 0..bytes.len() {
            assert!(
                KeywordSet::<u32>::from_bytes(&bytes[..len]).is_err(),
                "truncated to {len}"
            );
        }
        for i in (0..bytes.len()).step_by(3) {
            let mut b = bytes.clone();
            b[i] ^= 0x5a;
            assert!(
                KeywordSet::<u32>::from_bytes(&b).is_err(),
                "flipped byte {i}"
            );
        }
        let mut b = bytes.clone();
        b.push(0);
        assert!(KeywordSet::<u32>::from_bytes(&b).is_err());
        let mut b = bytes.clone();
        b[8] = 9;
        assert!(matches!(
            KeywordSet::<u32>::from_bytes(&b),
            Err(Error::UnsupportedVersion { found: 9, .. })
        ));
        // values of the wrong type
        assert!(KeywordSet::<String>::from_bytes(&bytes).is_err());
    }
}

#[test]
fn default_routes_cover_the_usual_requests() {
    let r = Router::default_routes();
    let names: Vec<_> = r.route_names().collect();
    for want in [
        "security",
        "database",
        "performance",
        "testing",
        "debugging",
        "documentation",
        "devops",
        "frontend",
        "api-design",
        "refactoring",
    ] {
        assert!(names.contains(&want), "{want} missing");
    }
    assert!(r.keyword_count() > 300);
    let cases = [
        (
            "Is this endpoint vulnerable to SQL injection or XSS?",
            "security",
        ),
        (
            "add an index so the postgres query plan stops doing a seq scan",
            "database",
        ),
        (
            "the request handler is slow, p99 latency doubled; profile it",
            "performance",
        ),
        (
            "write unit tests with pytest fixtures and mocks for this module",
            "testing",
        ),
        (
            "it panics with a stack trace: thread main panicked at unwrap on None",
            "debugging",
        ),
        (
            "write a README and docstrings explaining the module",
            "documentation",
        ),
        (
            "deploy it with docker and kubernetes from github actions",
            "devops",
        ),
        (
            "the React component's CSS layout breaks on mobile",
            "frontend",
        ),
        (
            "design a REST API with pagination and versioning for the endpoints",
            "api-design",
        ),
        (
            "refactor this to remove dead code and duplication",
            "refactoring",
        ),
    ];
    for (q, want) in cases {
        let ranking = r.rank(q);
        assert_eq!(ranking.route, want, "{q}: {ranking:?}");
        assert!(!ranking.default_used);
        assert!(ranking.routes.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(ranking
            .routes
            .iter()
            .all(|x| x.score > 0.0 && x.score < 1.0));
    }
    let none = r.rank("hello there, how are you today?");
    assert_eq!(none.route, "general");
    assert!(none.default_used);
    assert!(none.routes.is_empty());
    let json = serde_json::to_value(r.rank("fix the flaky test")).unwrap();
    assert!(json["routes"][0]["keywords"].is_array());
}

#[test]
fn scoring_normalises_repeats_and_long_queries() {
    let r = Router::builder()
        .threshold(0.0)
        .route("a", ["alpha"])
        .route("b", ["beta", "gamma"])
        .build()
        .unwrap();
    let once = r.rank("alpha").routes[0].score;
    let thrice = r.rank("alpha alpha alpha").routes[0].score;
    let two_kw = r.rank("beta gamma").routes[0].score;
    assert!(thrice > once && thrice < two_kw, "{once} {thrice} {two_kw}");
    let long = format!("alpha {}", "filler ".repeat(200));
    assert!(r.rank(&long).routes[0].score < once);
    assert_eq!(r.rank("ALPHA").route, "a");
    assert!(r.rank("alphabet").default_used);
}

#[test]
fn tables_from_toml_and_json_and_bad_tables() {
    let toml = r#"
threshold = 0.5
default_route = "misc"
[[routes]]
name = "db"
weight = 2.0
keywords = ["sql", { keyword = "query plan", weight = 3.0 }]
[[routes]]
name = "sec"
keywords = ["sql"]
"#;
    let r = Router::from_toml_str(toml).unwrap();
    let k = r.rank("check the query plan");
    assert_eq!(k.route, "db");
    assert_eq!(k.routes[0].keywords.as_slice(), ["query plan"]);
    assert_eq!(r.rank("nothing").route, "misc");
    let both = r.rank("sql");
    assert_eq!(both.routes.len(), 2);
    assert_eq!(both.routes[0].name, "db");
    let json = r#"{"routes":[{"name":"x","keywords":["y"]}]}"#;
    assert_eq!(Router::from_json_str(json).unwrap().rank("y").route, "x");

    let bad = [
        "routes = []\nthreshold = 2.0",
        "[[routes]]\nname = \"\"\nkeywords = [\"a\"]",
        "[[routes]]\nname = \"a\"\nkeywords = []",
        "[[routes]]\nname = \"a\"\nkeywords = [\"\"]",
        "[[routes]]\nname = \"a\"\nweight = -1.0\nkeywords = [\"k\"]",
        "[[routes]]\nname = \"a\"\nkeywords = [{ keyword = \"k\", weight = 0.0 }]",
        "[[routes]]\nname = \"a\"\nkeywords = [\"k\", { keyword = \"K\", weight = 2.0 }]",
        "[[routes]]\nname = \"a\"\nkeywords = [\"k\"]\n[[routes]]\nname = \"a\"\nkeywords = [\"j\"]",
        "[[routes]]\nname = \"a\"\nkeywords = [\"k\"]\ncolour = \"red\"",
        "not toml at all [",
    ];
    for t in bad {
        let e = Router::from_toml_str(t).unwrap_err();
        assert!(matches!(e, Error::Table(_)), "{t}: {e}");
    }
    let e = Router::from_path("/nonexistent/routes.toml").unwrap_err();
    assert!(matches!(e, Error::Io { .. }));
    let dir = std::env::temp_dir().join(format!("kwtrie-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("routes.json");
    std::fs::write(&p, json).unwrap();
    assert_eq!(Router::from_path(&p).unwrap().rank("y").route, "x");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn default_table_constant_parses_as_a_table() {
    let t: keyword_trie::RouteTable = toml::from_str(keyword_trie::DEFAULT_ROUTES_TOML).unwrap();
    assert_eq!(t.default_route, "general");
}

mod mutated_bytes {
    use super::*;
    use proptest::prelude::*;

    /// Re-seals a mutated payload with a valid checksum, so the structural checks behind the
    /// checksum (and daachorse's own validation) are exercised too.
    fn reseal(mut bytes: Vec<u8>) -> Vec<u8> {
        if bytes.len() >= 28 {
            let sum = xxhash_rust::xxh3::xxh3_64(&bytes[28..]);
            bytes[20..28].copy_from_slice(&sum.to_le_bytes());
        }
        bytes
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn resealed_mutations_never_panic(
            engine in prop_oneof![Just(Engine::AhoCorasick), Just(Engine::DoubleArray)],
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        ) {
            let set = KeywordSet::builder().engine(engine).build(words(50)).unwrap();
            let mut bytes = set.to_bytes().unwrap();
            for (at, b) in edits {
                let i = 28 + at.index(bytes.len() - 28);
                bytes[i] = b;
            }
            if let Ok(back) = KeywordSet::<u32>::from_bytes(&reseal(bytes)) {
                for i in 0..60 {
                    let _ = back.get(&format!("kw{i}x"));
                }
            }
        }

        #[test]
        fn random_bytes_are_errors(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            prop_assert!(KeywordSet::<u32>::from_bytes(&bytes).is_err());
            prop_assert!(KeywordSet::<u32>::from_bytes(&reseal(bytes)).is_err());
        }
    }
}

#[test]
fn many_matched_keywords_are_all_listed_in_order() {
    let words: Vec<String> = (0..10).map(|i| format!("w{i}")).collect();
    let r = Router::builder()
        .route("all", words.clone())
        .build()
        .unwrap();
    let q = words.iter().rev().cloned().collect::<Vec<_>>().join(" ");
    let ranking = r.rank(&q);
    let got: Vec<&str> = ranking.routes[0].keywords.iter().copied().collect();
    let want: Vec<&str> = words.iter().rev().map(String::as_str).collect();
    assert_eq!(got, want);
    let json = serde_json::to_value(&ranking).unwrap();
    assert_eq!(json["routes"][0]["keywords"].as_array().unwrap().len(), 10);
    let few = r.rank("w1 w2");
    assert_eq!(few.routes[0].keywords.as_slice(), ["w1", "w2"]);
    assert_eq!(
        serde_json::to_value(&few).unwrap()["routes"][0]["keywords"],
        serde_json::json!(["w1", "w2"])
    );
}

#[test]
fn engines_agree_on_larger_folded_sets() {
    // Above 48 keywords the aho-corasick engine searches a folded haystack instead of
    // ignoring case itself; both paths must agree with daachorse.
    let pats: Vec<(String, u32)> = (0..120).map(|i| (format!("Kw{i}X"), i)).collect();
    let text = "KW1X kw12x Kw119X kW7x_ kw5xx, KW60X. \u{212A}W3X";
    for fold in [CaseFolding::Ascii, CaseFolding::Unicode] {
        for n in [20, 120] {
            for ww in [false, true] {
                let build = |engine| {
                    KeywordSet::builder()
                        .engine(engine)
                        .case_folding(fold)
                        .whole_words(ww)
                        .build(pats[..n].iter().cloned())
                        .unwrap()
                };
                let (a, d) = (build(Engine::AhoCorasick), build(Engine::DoubleArray));
                let got_a: Vec<_> = a.find_iter(text).map(|m| (m.range(), *m.value())).collect();
                let got_d: Vec<_> = d.find_iter(text).map(|m| (m.range(), *m.value())).collect();
                assert_eq!(got_a, got_d, "{fold:?} n={n} ww={ww}");
                assert!(!got_a.is_empty());
                assert_eq!(a.count(text), got_a.len());
                assert_eq!(a.is_match("xx KW1X"), d.is_match("xx KW1X"));
            }
        }
    }
}

#[test]
fn default_routes_on_short_everyday_requests() {
    let r = Router::default_routes();
    for (q, want) in [
        ("How do I fix this borrow checker error?", "debugging"),
        ("Add rate limiting to the API", "api-design"),
        ("Explain what this function does", "documentation"),
        ("Make this code faster", "performance"),
        ("Set up GitHub Actions CI for the repo", "devops"),
        (
            "Write a migration to add a column to the users table",
            "database",
        ),
        ("center a div with flexbox", "frontend"),
        ("store passwords safely", "security"),
        ("mock the http client in tests", "testing"),
        ("hello", "general"),
    ] {
        assert_eq!(r.rank(q).route, want, "{q}");
    }
}

#[test]
fn many_routes_rank_in_score_then_table_order() {
    let mut b = Router::builder().threshold(0.0);
    for i in 0..40 {
        b = b.route(format!("r{i}"), [format!("k{i}"), "common".to_string()]);
    }
    let r = b.build().unwrap();
    let ranking = r.rank("common k39 k3");
    assert_eq!(ranking.routes.len(), 40);
    let names: Vec<&str> = ranking.routes.iter().map(|x| x.name).collect();
    assert_eq!(&names[..3], ["r3", "r39", "r0"]);
    assert!(ranking.routes.windows(2).all(|w| w[0].score >= w[1].score));
    assert_eq!(ranking.routes[0].keywords.as_slice(), ["common", "k3"]);
}
