//! Fuzz target: the C/C++ lexer (raw strings, digit separators, line splices) on arbitrary bytes, at every level: never panics, never adds tokens,
//! idempotent. Run with `cargo +nightly fuzz run c_cpp` in crates/token-opt/fuzz.
#![no_main]

use libfuzzer_sys::fuzz_target;
use token_opt::Language;

fuzz_target!(|data: &[u8]| {
    token_opt_fuzz::check(data, &[Language::C, Language::Cpp]);
});
