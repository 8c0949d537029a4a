//! Fuzz target: the tokenizer on arbitrary text: encode/decode round-trips, `count` agrees with
//! `encode`, `truncate_to` returns a fitting prefix, the estimator never panics. Run with
//! `cargo +nightly fuzz run tokenizer` in crates/token-opt/fuzz.
#![no_main]

use libfuzzer_sys::fuzz_target;
use token_opt::{estimate_tokens, Encoding, Tokenizer};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let n = data.first().copied().unwrap_or(0) as usize;
    for enc in [Encoding::O200k, Encoding::Cl100k] {
        let Ok(tok) = Tokenizer::new(enc) else {
            continue;
        };
        let ids = tok.encode(text);
        assert_eq!(tok.count(text), ids.len());
        assert_eq!(tok.decode(&ids).ok().as_deref(), Some(text));
        let prefix = tok.truncate_to(text, n);
        assert!(text.starts_with(prefix));
        assert!(tok.count(prefix) <= n);
    }
    let _ = estimate_tokens(text);
});
