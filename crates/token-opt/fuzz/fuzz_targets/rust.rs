//! Fuzz target: the Rust lexer (raw strings, nested block comments, chars vs lifetimes) on arbitrary bytes, at every level: never panics, never adds tokens,
//! idempotent. Run with `cargo +nightly fuzz run rust` in crates/token-opt/fuzz.
#![no_main]

use libfuzzer_sys::fuzz_target;
use token_opt::Language;

fuzz_target!(|data: &[u8]| {
    token_opt_fuzz::check(data, &[Language::Rust]);
});
