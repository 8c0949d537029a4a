//! Fuzz target: `Chunker::chunk_lang` over arbitrary bytes (lossily decoded, as the index reads
//! files) as every language, with sizes from the first byte. Never panics, and keeps the
//! chunker's promise: chunks cover the text in order, line ranges are contiguous, byte ranges
//! sit on character boundaries, and the chunk texts joined give the text back. Run with
//! `cargo xtask fuzz --only chunk` or `cargo +nightly fuzz run chunk` in crates/context-chop.
#![no_main]

use context_chop::{ChunkOptions, Chunker, Syntax};
use libfuzzer_sys::fuzz_target;
use token_opt::Language;

fuzz_target!(|data: &[u8]| {
    let Some((&size, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let target = 1 + usize::from(size % 64) * 8;
    let syntax = if size & 0x80 != 0 { Syntax::TreeSitter } else { Syntax::Lexical };
    let chunker = Chunker::new(ChunkOptions {
        target_tokens: target,
        max_tokens: target * 2,
        syntax,
    });
    for lang in Language::ALL {
        let chunks = chunker.chunk_lang(lang, "fuzz.input", &text);
        let mut byte = 0usize;
        let mut line = 1u32;
        for c in &chunks {
            assert_eq!(
                c.byte_start, byte,
                "{lang:?}: gap or overlap at byte {byte}"
            );
            assert!(c.byte_end >= c.byte_start && c.byte_end <= text.len());
            assert!(text.is_char_boundary(c.byte_start) && text.is_char_boundary(c.byte_end));
            assert_eq!(c.start_line, line, "{lang:?}: lines not contiguous");
            assert!(c.end_line >= c.start_line);
            byte = c.byte_end;
            line = c.end_line + 1;
        }
        assert_eq!(
            byte,
            text.len(),
            "{lang:?}: the chunks do not cover the text"
        );
        let joined: String = chunks.iter().map(|c| c.text(&text)).collect();
        assert_eq!(joined, text, "{lang:?}: joined chunks differ from the text");
    }
});
