//! Fuzz target: the JavaScript/TypeScript lexer (template literals, regex literals, directives) on arbitrary bytes, at every level: never panics, never adds tokens,
//! idempotent. Run with `cargo +nightly fuzz run javascript` in crates/token-opt/fuzz.
#![no_main]

use libfuzzer_sys::fuzz_target;
use token_opt::Language;

fuzz_target!(|data: &[u8]| {
    token_opt_fuzz::check(data, &[Language::JavaScript, Language::Jsx, Language::TypeScript, Language::Tsx]);
});
