//! Fuzz target: the Java lexer (text blocks, char literals) on arbitrary bytes, at every level: never panics, never adds tokens,
//! idempotent. Run with `cargo +nightly fuzz run java` in crates/token-opt/fuzz.
#![no_main]

use libfuzzer_sys::fuzz_target;
use token_opt::Language;

fuzz_target!(|data: &[u8]| {
    token_opt_fuzz::check(data, &[Language::Java]);
});
