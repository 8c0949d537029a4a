//! Fuzz target: `KeywordSet::from_bytes` on arbitrary bytes must return an error or a set whose
//! lookups work; never panic. Run with `cargo +nightly fuzz run from_bytes` in this directory.
#![no_main]

use keyword_trie::KeywordSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(set) = KeywordSet::<u32>::from_bytes(data) {
        let _ = set.get("keyword");
        let _ = set.len();
    }
});
