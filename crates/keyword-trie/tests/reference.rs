//! Property tests: every match kind, case folding and whole-word mode, on both engines, against
//! a naive reference that tries every span of the text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keyword_trie::{CaseFolding, Engine, KeywordSet, MatchKind};
use proptest::prelude::*;

fn fold_char(c: char) -> char {
    let l: Vec<char> = c.to_lowercase().collect();
    if l.len() == 1 {
        l[0]
    } else {
        c
    }
}

fn fold(s: &str, f: CaseFolding) -> String {
    match f {
        CaseFolding::None => s.to_owned(),
        CaseFolding::Ascii => s.to_ascii_lowercase(),
        _ => s.chars().map(fold_char).collect(),
    }
}

fn is_word(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || c == '_')
}

fn whole(text: &str, s: usize, e: usize) -> bool {
    let prev = text[..s].chars().next_back();
    let first = text[s..].chars().next();
    let last = text[..e].chars().next_back();
    let next = text[e..].chars().next();
    let cuts_start = is_word(prev) && is_word(first);
    let cuts_end = is_word(last) && is_word(next);
    !cuts_start && !cuts_end
}

/// Distinct folded patterns in order of first appearance.
fn distinct(patterns: &[String], f: CaseFolding) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in patterns {
        let fp = fold(p, f);
        if !out.contains(&fp) {
            out.push(fp);
        }
    }
    out
}

/// Every occurrence `(start, end, id)` of every pattern.
fn occurrences(
    text: &str,
    pats: &[String],
    f: CaseFolding,
    words: bool,
) -> Vec<(usize, usize, usize)> {
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    let mut out = Vec::new();
    for (a, &s) in bounds.iter().enumerate() {
        for &e in &bounds[a + 1..] {
            let span = fold(&text[s..e], f);
            if let Some(id) = pats.iter().position(|p| *p == span) {
                if !words || whole(text, s, e) {
                    out.push((s, e, id));
                }
            }
        }
    }
    out
}

fn reference(
    text: &str,
    pats: &[String],
    f: CaseFolding,
    words: bool,
    kind: MatchKind,
) -> Vec<(usize, usize, usize)> {
    let mut all = occurrences(text, pats, f, words);
    if kind == MatchKind::Overlapping {
        all.sort();
        return all;
    }
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        let best = all
            .iter()
            .filter(|m| m.0 >= pos)
            .min_by_key(|&&(s, e, id)| match kind {
                MatchKind::LeftmostLongest => (s, usize::MAX - e, 0),
                _ => (s, id, 0),
            })
            .copied();
        match best {
            Some(m) => {
                out.push(m);
                pos = m.1;
            }
            None => break,
        }
    }
    all.clear();
    out
}

fn ours(
    text: &str,
    patterns: &[String],
    f: CaseFolding,
    words: bool,
    kind: MatchKind,
    engine: Engine,
) -> Vec<(usize, usize, usize)> {
    let set = KeywordSet::builder()
        .match_kind(kind)
        .case_folding(f)
        .whole_words(words)
        .engine(engine)
        .build(patterns.iter().map(|p| (p.as_str(), fold(p, f))))
        .unwrap();
    let mut got: Vec<_> = set
        .find_iter(text)
        .map(|m| {
            assert_eq!(set.pattern(m.pattern()).unwrap(), m.value().as_str());
            (m.start(), m.end(), m.pattern())
        })
        .collect();
    if kind == MatchKind::Overlapping {
        got.sort();
    }
    assert_eq!(set.count(text), got.len());
    assert_eq!(set.is_match(text), !got.is_empty());
    got
}

const KINDS: [MatchKind; 3] = [
    MatchKind::LeftmostLongest,
    MatchKind::LeftmostFirst,
    MatchKind::Overlapping,
];
const FOLDS: [CaseFolding; 3] = [CaseFolding::None, CaseFolding::Ascii, CaseFolding::Unicode];
const ENGINES: [Engine; 2] = [Engine::AhoCorasick, Engine::DoubleArray];

fn check_all(text: &str, patterns: &[String]) {
    for f in FOLDS {
        let pats = distinct(patterns, f);
        for kind in KINDS {
            for words in [false, true] {
                let want = reference(text, &pats, f, words, kind);
                for engine in ENGINES {
                    let got = ours(text, patterns, f, words, kind, engine);
                    assert_eq!(
                        got, want,
                        "text {text:?} patterns {patterns:?} fold {f:?} kind {kind:?} words {words} engine {engine:?}"
                    );
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn small_alphabet_with_multibyte(
        patterns in prop::collection::vec("[abAB_ éÉ\u{212A}k]{1,4}", 1..8),
        text in "[abAB_ éÉ\u{212A}kß.]{0,40}",
    ) {
        check_all(&text, &patterns);
    }

    #[test]
    fn words_and_prefixes(
        patterns in prop::collection::vec("(foo|bar|Foo|fo|o b|ba|_x|ä|Ä)(foo|bar|r)?", 1..6),
        text in "((foo|bar|Foo|FOO|fo|ba|_x|ä|Ä|r)[ ._,]?){0,10}",
    ) {
        check_all(&text, &patterns);
    }

    #[test]
    fn exact_lookup_and_replace(
        patterns in prop::collection::vec("[a-cA-Cé]{1,5}", 1..10),
        text in "[a-cA-Cé ]{0,30}",
    ) {
        for f in FOLDS {
            let set = KeywordSet::builder()
                .case_folding(f)
                .build(patterns.iter().map(|p| (p.as_str(), fold(p, f))))
                .unwrap();
            for p in &patterns {
                prop_assert_eq!(set.get(p), Some(&fold(p, f)));
                let upper = p.to_ascii_uppercase();
                let want_upper = f != CaseFolding::None || patterns.contains(&upper);
                prop_assert_eq!(set.get(&upper).is_some(), want_upper);
                if f == CaseFolding::Unicode {
                    prop_assert!(set.get(&p.to_uppercase()).is_some());
                }
            }
            // replace_all equals splicing the reference matches
            let pats = distinct(&patterns, f);
            let want_matches = reference(&text, &pats, f, false, MatchKind::LeftmostLongest);
            let mut want = String::new();
            let mut last = 0;
            for (s, e, id) in want_matches {
                want.push_str(&text[last..s]);
                want.push_str(&format!("<{id}>"));
                last = e;
            }
            want.push_str(&text[last..]);
            let got = set.replace_all(&text, |m, out| out.push_str(&format!("<{}>", m.pattern())));
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        patterns in prop::collection::vec("[a-z\u{e9}]{1,3}", 1..5),
        bytes in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        for f in FOLDS {
            for words in [false, true] {
                for engine in ENGINES {
                    let set = KeywordSet::builder()
                        .case_folding(f)
                        .whole_words(words)
                        .engine(engine)
                        .build(patterns.iter().map(|p| (p.as_str(), ())))
                        .unwrap();
                    for m in set.find_iter(&bytes) {
                        prop_assert!(m.start() < m.end() && m.end() <= bytes.len());
                    }
                }
            }
        }
    }
}

/// `count` and `is_match` with a tiny fold block (so block borders fall everywhere) against the
/// reference. Filler keywords that never occur (`~` is outside the texts' alphabet) push the
/// aho-corasick engine past the size where it ignores ASCII case itself, so it folds too.
fn check_blockwise(text: &str, patterns: &[String], block: usize) {
    let fillers: Vec<String> = (0..60).map(|i| format!("~{i}")).collect();
    for f in [CaseFolding::Ascii, CaseFolding::Unicode] {
        for kind in KINDS {
            for engine in ENGINES {
                let all: Vec<String> = patterns.iter().chain(&fillers).cloned().collect();
                let pats = distinct(&all, f);
                let want = reference(text, &pats, f, false, kind);
                let mut set = KeywordSet::builder()
                    .match_kind(kind)
                    .case_folding(f)
                    .engine(engine)
                    .build(all.iter().map(|p| (p.as_str(), ())))
                    .unwrap();
                set.set_fold_block(block);
                assert_eq!(
                    set.count(text),
                    want.len(),
                    "text {text:?} patterns {patterns:?} fold {f:?} kind {kind:?} engine {engine:?} block {block}"
                );
                assert_eq!(set.is_match(text), !want.is_empty());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn blockwise_folding_at_block_borders(
        patterns in prop::collection::vec("[abAB_ .]{1,5}", 1..8),
        text in "[abAB_ .é]{0,60}",
        block in 1usize..9,
    ) {
        check_blockwise(&text, &patterns, block);
    }
}
