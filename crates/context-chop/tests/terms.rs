//! Term splitting against a simple reference implementation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use context_chop::{path_terms, stem, terms};
use proptest::prelude::*;

/// The reference: insert a space at every boundary, then split.
fn reference(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        let whole = word.to_lowercase();
        let whole = whole.trim_matches('_');
        if whole.is_empty() || (whole.len() < 2 && whole.bytes().all(|b| b.is_ascii_digit())) {
            continue;
        }
        let cs: Vec<char> = word.chars().collect();
        let mut spaced = String::new();
        for i in 0..cs.len() {
            let c = cs[i];
            if c == '_' {
                spaced.push(' ');
                continue;
            }
            if i > 0 {
                let p = cs[i - 1];
                let n = cs.get(i + 1).copied();
                let lower_upper = p.is_ascii_lowercase() && c.is_ascii_uppercase();
                let acronym_end = p.is_ascii_uppercase()
                    && c.is_ascii_uppercase()
                    && n.is_some_and(|n| n.is_ascii_lowercase());
                let digit_edge = p.is_ascii_digit() != c.is_ascii_digit() && p != '_';
                if lower_upper || acronym_end || digit_edge {
                    spaced.push(' ');
                }
            }
            spaced.push(c);
        }
        let parts: Vec<&str> = spaced.split(' ').filter(|p| !p.is_empty()).collect();
        if parts.len() <= 1 {
            out.push(stem(whole));
        } else {
            out.push(whole.to_string());
            for p in parts {
                if p.chars().count() >= 2 {
                    out.push(stem(&p.to_lowercase()));
                }
            }
        }
    }
    out
}

#[test]
fn splits_code_identifiers() {
    assert_eq!(
        terms("getHTTPResponse"),
        ["gethttpresponse", "get", "http", "response"]
    );
    assert_eq!(
        terms("snake_case_name"),
        ["snake_case_name", "snake", "case", "name"]
    );
    assert_eq!(terms("kebab-case"), ["kebab", "case"]);
    assert_eq!(
        terms("utf8Decoder v2"),
        ["utf8decoder", "utf", "decoder", "v2"]
    );
    assert_eq!(terms("Files x 7 42"), ["file", "x", "42"]);
    assert_eq!(
        path_terms("src/http_client/mod.rs"),
        ["client", "http", "http_client", "mod", "rs", "src"]
    );
}

proptest! {
    #[test]
    fn matches_the_reference(s in "[a-zA-Z0-9_ .:/-]{0,60}") {
        prop_assert_eq!(terms(&s), reference(&s));
    }

    #[test]
    fn terms_are_lower_case_and_non_empty(s in "\\PC{0,80}") {
        for t in terms(&s) {
            prop_assert!(!t.is_empty());
            prop_assert_eq!(t.to_lowercase(), t.clone());
        }
    }
}
