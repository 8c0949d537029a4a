//! Fuzz target: the JSON, YAML and TOML passes and the plain-text fallback on arbitrary bytes, at every level: never panics, never adds tokens,
//! idempotent. Run with `cargo +nightly fuzz run data` in crates/token-opt/fuzz.
#![no_main]

use libfuzzer_sys::fuzz_target;
use token_opt::Language;

fuzz_target!(|data: &[u8]| {
    token_opt_fuzz::check(data, &[Language::Json, Language::Yaml, Language::Toml, Language::Unknown]);
});
