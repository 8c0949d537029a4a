//! Shared checks for the token-opt fuzz targets: for arbitrary bytes, every level of the
//! compressor for a language must return an error (invalid UTF-8) or a result that never has
//! more tokens than the input and is a fixed point (compressing it again changes nothing).
//! Run a target with `cargo +nightly fuzz run rust` (or `python`, `javascript`, `go`, `java`,
//! `c_cpp`, `css`, `data`, `tokenizer`) in this directory.

use token_opt::{CompressOptions, Compressor, Language, Level};

/// Compresses `data` as each of `languages` at every level and checks the invariants.
pub fn check(data: &[u8], languages: &[Language]) {
    let Ok(text) = std::str::from_utf8(data) else {
        for &lang in languages {
            let mut c = Compressor::new(CompressOptions::default());
            assert!(c.compress_bytes(data, lang).is_err());
        }
        return;
    };
    for &lang in languages {
        for level in Level::ALL {
            let options = CompressOptions::builder().level(level).build();
            let Ok(once) = Compressor::new(options.clone()).compress(text, lang) else {
                panic!("compress failed on valid UTF-8");
            };
            assert!(once.tokens_after <= once.tokens_before);
            let Ok(twice) = Compressor::new(options).compress(&once.text, lang) else {
                panic!("compress failed on its own output");
            };
            assert_eq!(twice.text, once.text, "not idempotent: {lang} {level}");
        }
    }
}
