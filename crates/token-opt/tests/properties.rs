//! Property tests: random input (including invalid UTF-8) never panics, compression is
//! idempotent and never adds tokens, lexers agree with reference implementations, templates
//! reconstruct exactly, budgets hold.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use std::str::FromStr;
use token_opt::{
    BudgetFitter, Chunk, CompressOptions, Compressor, Encoding, Language, Level, TemplateStore,
    Tokenizer,
};

fn session(level: Level) -> Compressor {
    Compressor::new(CompressOptions::builder().level(level).build())
}

/// Code-like text from fragments that stress the lexers.
fn fragment() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "fn", " ", "  ", "\n", "\n\n\n", "    ", "\t", "x", "y1", "=", "+", "/", "*", "(", ")",
        "{", "}", "[", "]", ";", ",", "'", "\"", "`", "#", "\\", "//", "/*", "*/", "/**", "///",
        "\"\"\"", "'''", "r#\"", "\"#", "${", "'a", "'b'", "1'000", "\r\n", "é", "🎉", "def",
        "class", ":", "pass", "return", "<!--", "-", "|", ">", "0x1F",
    ])
}

fn code() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..80).prop_map(|v| v.concat())
}

/// The reference for plain-text lossless: trim line ends, keep at most one blank line, drop
/// leading blank lines, CRLF to LF.
fn reference_lossless(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let mut lines: Vec<&str> = Vec::new();
    let mut blank = 0;
    for l in text.split('\n') {
        let t = l.trim_end();
        if t.is_empty() {
            blank += 1;
            continue;
        }
        if blank > 0 && !lines.is_empty() {
            lines.push("");
        }
        blank = 0;
        lines.push(t);
    }
    let mut out = lines.join("\n");
    if !out.is_empty() && text[text.trim_end().len()..].contains('\n') {
        out.push('\n');
    }
    out
}

fn rust_tokens(text: &str) -> Option<Vec<String>> {
    let ts = proc_macro2::TokenStream::from_str(text).ok()?;
    fn flat(ts: proc_macro2::TokenStream, out: &mut Vec<String>) {
        for t in ts {
            match t {
                proc_macro2::TokenTree::Group(g) => {
                    out.push(format!("{:?}", g.delimiter()));
                    flat(g.stream(), out);
                    out.push("end".into());
                }
                proc_macro2::TokenTree::Punct(p) => {
                    out.push(format!("{}{:?}", p.as_char(), p.spacing()))
                }
                other => out.push(other.to_string()),
            }
        }
    }
    let mut out = Vec::new();
    flat(ts, &mut out);
    Some(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300),
                                lang in prop::sample::select(Language::ALL.to_vec()),
                                level in prop::sample::select(Level::ALL.to_vec())) {
        let mut s = session(level);
        match s.compress_bytes(&bytes, lang) {
            Ok(out) => prop_assert!(out.tokens_after <= out.tokens_before),
            Err(_) => prop_assert!(std::str::from_utf8(&bytes).is_err()),
        }
    }

    #[test]
    fn compression_is_idempotent_and_never_adds_tokens(text in code(),
            lang in prop::sample::select(Language::ALL.to_vec()),
            level in prop::sample::select(Level::ALL.to_vec())) {
        let mut s = session(level);
        let once = s.compress(&text, lang).unwrap();
        prop_assert!(once.tokens_after.unwrap() <= once.tokens_before.unwrap());
        let twice = session(level).compress(&once.text, lang).unwrap();
        prop_assert_eq!(&twice.text, &once.text, "input {:?}", text);
    }

    #[test]
    fn plain_lossless_matches_the_reference(text in "[a-z \t\r\n]{0,120}") {
        let out = Compressor::new(CompressOptions::builder().level(Level::Lossless)
            .token_guard(None).build()).compress(&text, Language::Unknown).unwrap();
        prop_assert_eq!(out.text, reference_lossless(&text));
    }

    #[test]
    fn rust_lexer_keeps_the_token_stream(text in code(),
            level in prop::sample::select(vec![Level::Lossless, Level::Balanced])) {
        // Reference: proc-macro2's lexer, on inputs it accepts, after the CRLF -> LF
        // normalisation rustc applies to every source file (so a CRLF inside a string literal
        // already means LF).
        if let Some(before) = rust_tokens(&text.replace("\r\n", "\n")) {
            let out = Compressor::new(CompressOptions::builder().level(level).token_guard(None)
                .build()).compress(&text, Language::Rust).unwrap();
            prop_assert_eq!(rust_tokens(&out.text), Some(before), "{:?} -> {:?}", text, out.text);
        }
    }

    #[test]
    fn truncate_to_gives_a_fitting_prefix(text in "\\PC{0,200}", n in 0usize..60) {
        let tok = Tokenizer::new(Encoding::O200k).unwrap();
        let p = tok.truncate_to(&text, n);
        prop_assert!(text.starts_with(p));
        prop_assert!(tok.count(p) <= n);
        if tok.count(&text) <= n { prop_assert_eq!(p, text.as_str()); }
    }

    #[test]
    fn templates_reconstruct_exactly(names in prop::collection::vec("[a-z]{1,12}", 1..12),
                                     nums in prop::collection::vec(0u32..100000, 1..12)) {
        let tok = Tokenizer::new(Encoding::O200k).unwrap();
        let mut store = TemplateStore::new(tok);
        let mut ids = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let n = nums[i % nums.len()];
            let text = if i % 3 == 2 {
                format!("Unrelated reply number {n} about {name}.")
            } else {
                format!("I could not find the function `{name}` in the index. It was last seen in src/{name}.rs at line {n}; rebuild the index with `pipeline index --root .` and retry.")
            };
            ids.push((store.insert(&text), text));
        }
        for (id, text) in ids {
            prop_assert_eq!(store.get(id).unwrap(), text);
        }
        let st = store.stats();
        prop_assert!(st.stored_tokens <= st.raw_tokens + 8 * st.templates);
    }

    #[test]
    fn budget_is_never_exceeded_and_well_used(lines in prop::collection::vec("[a-z ]{1,30}", 1..200),
                                              splits in prop::collection::vec(1usize..20, 1..20),
                                              budget in 1usize..400) {
        let tok = Tokenizer::new(Encoding::O200k).unwrap();
        let mut chunks = Vec::new();
        let mut it = lines.iter();
        for (k, &n) in splits.iter().enumerate() {
            let text: String = it.by_ref().take(n).map(|l| format!("{l}\n")).collect();
            if !text.is_empty() { chunks.push(Chunk::new(text, (k * 7 % 5) as f64)); }
        }
        let sel = BudgetFitter::new(tok).fit(&chunks, budget);
        prop_assert!(sel.tokens_used <= budget);
        prop_assert_eq!(tok.count(&sel.joined()), sel.tokens_used);
        let material: usize = chunks.iter().map(|c| tok.count(&c.text)).sum();
        if material >= 2 * budget && budget >= 100 {
            prop_assert!(sel.tokens_used * 10 >= budget * 9, "{} of {}", sel.tokens_used, budget);
        }
    }
}
