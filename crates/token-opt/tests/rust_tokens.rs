//! Rust files keep an identical token stream (proc-macro2's lexer is the reference): at
//! lossless and balanced exactly, at aggressive once doc attributes are ignored; at skeleton
//! the output still tokenizes; every level is idempotent. Corpus: a
//! bounded sample of the cargo registry sources on this machine plus this crate.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use token_opt::{CompressOptions, Compressor, Language, Level};

fn flatten(ts: TokenStream, skip_docs: bool, out: &mut Vec<String>) {
    let trees: Vec<TokenTree> = ts.into_iter().collect();
    let mut i = 0;
    while i < trees.len() {
        if skip_docs {
            // `#[doc = ...]` or `#![doc = ...]`
            if let TokenTree::Punct(p) = &trees[i] {
                if p.as_char() == '#' {
                    let mut j = i + 1;
                    if matches!(&trees.get(j), Some(TokenTree::Punct(b)) if b.as_char() == '!') {
                        j += 1;
                    }
                    if let Some(TokenTree::Group(g)) = trees.get(j) {
                        let first = g.stream().into_iter().next();
                        if g.delimiter() == Delimiter::Bracket
                            && matches!(&first, Some(TokenTree::Ident(id)) if id == "doc")
                        {
                            i = j + 1;
                            continue;
                        }
                    }
                }
            }
        }
        match &trees[i] {
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::None => ("", ""),
                };
                out.push(open.into());
                flatten(g.stream(), skip_docs, out);
                out.push(close.into());
            }
            TokenTree::Punct(p) => out.push(format!("{}{:?}", p.as_char(), p.spacing())),
            TokenTree::Ident(id) => out.push(id.to_string()),
            TokenTree::Literal(l) => {
                let s = l.to_string();
                out.push(if s.contains("[elided: ") {
                    "<elided>".into()
                } else {
                    s
                });
            }
        }
        i += 1;
    }
}

/// Equal, or `new` is the elision marker standing for a string literal.
fn same_token(orig: &str, new: &str) -> bool {
    orig == new || (new == "<elided>" && orig.ends_with(['"', '#']))
}

fn same_tokens(orig: &[String], new: &[String]) -> bool {
    orig.len() == new.len() && orig.iter().zip(new).all(|(a, b)| same_token(a, b))
}

fn tokens(text: &str, skip_docs: bool) -> Option<Vec<String>> {
    // rustc normalises CRLF to LF before lexing (so does the compressor).
    let ts = TokenStream::from_str(&text.replace("\r\n", "\n")).ok()?;
    let mut out = Vec::new();
    flatten(ts, skip_docs, &mut out);
    Some(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    if depth > 8 {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out, depth + 1);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn cargo_home() -> PathBuf {
    std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|_| std::env::var("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default()
}

fn registry_exists() -> bool {
    cargo_home().join("registry/src").is_dir()
}

fn sample(max: usize) -> Vec<PathBuf> {
    let mut all = Vec::new();
    walk(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        &mut all,
        0,
    );
    let home = cargo_home();
    let registry = home.join("registry/src");
    if !registry.is_dir() {
        eprintln!(
            "SKIPPED the registry part: {} does not exist (cargo creates it when it downloads \
             crates); only this crate's own sources are checked",
            registry.display()
        );
        return all;
    }
    let mut reg = Vec::new();
    walk(&registry, &mut reg, 0);
    let step = (reg.len() / max).max(1);
    all.extend(reg.into_iter().step_by(step).take(max));
    all
}

#[test]
fn registry_sample_keeps_its_token_stream() {
    let max = std::env::var("TOKEN_OPT_RS_SAMPLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150);
    let files = sample(max);
    let mut checked = 0;
    let mut failures = Vec::new();
    for level in Level::ALL {
        let options = CompressOptions::builder()
            .level(level)
            .token_guard(None)
            .build();
        let mut c = Compressor::new(options.clone());
        for f in &files {
            let Ok(text) = std::fs::read_to_string(f) else {
                continue;
            };
            let skip_docs = level == Level::Aggressive;
            let Some(before) = tokens(&text, skip_docs) else {
                continue;
            };
            let out = c.compress(&text, Language::Rust).unwrap();
            checked += 1;
            let again = Compressor::new(options.clone())
                .compress(&out.text, Language::Rust)
                .unwrap();
            if again.text != out.text {
                failures.push(format!("{level}: {} is not idempotent", f.display()));
            }
            if level == Level::Skeleton {
                // Bodies are elided by design: it must still tokenize.
                if tokens(&out.text, false).is_none() {
                    failures.push(format!("{level}: {} no longer lexes", f.display()));
                }
                continue;
            }
            match tokens(&out.text, skip_docs) {
                None => failures.push(format!("{level}: {} no longer lexes", f.display())),
                Some(after) if !same_tokens(&before, &after) => {
                    let at = before
                        .iter()
                        .zip(&after)
                        .position(|(a, b)| !same_token(a, b))
                        .unwrap_or(0);
                    failures.push(format!(
                        "{level}: {} differs at token {at}: {:?} vs {:?}",
                        f.display(),
                        &before[at..before.len().min(at + 5)],
                        &after[at..after.len().min(at + 5)]
                    ));
                }
                Some(_) => {}
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    if registry_exists() {
        assert!(checked > 100, "only {checked} files checked");
    } else {
        assert!(checked > 0, "not even this crate's sources were checked");
    }
}
