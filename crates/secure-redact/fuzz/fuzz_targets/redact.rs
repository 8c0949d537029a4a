//! Fuzz redaction (all modes) and the streaming redactor: never a panic, line count kept, the
//! streamed output equals the whole-buffer output.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secure_redact::{RedactMode, Scanner, Source, StreamOptions};
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static S: OnceLock<Scanner> = OnceLock::new();
    let s = S.get_or_init(Scanner::new);
    let lines = data.iter().filter(|&&b| b == b'\n').count();
    for m in [RedactMode::Mask, RedactMode::Partial, RedactMode::Hash, RedactMode::DropLine] {
        let r = s.redact(data, m);
        assert_eq!(r.text.iter().filter(|&&b| b == b'\n').count(), lines);
    }
    let mut out = Vec::new();
    let opts = StreamOptions { chunk_size: 4096, overlap: 1024 };
    s.redact_reader_with(data, &mut out, Source::default(), RedactMode::Mask, opts).unwrap();
    assert_eq!(out, s.redact(data, RedactMode::Mask).text);
});
