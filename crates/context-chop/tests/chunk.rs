//! Chunker: spans cover every line once and reassemble the file, sizes stay near the target,
//! cuts fall between items, symbols are found, for every grammar and the fallback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use context_chop::{ChunkOptions, Chunker};
use proptest::prelude::*;

fn check_cover(path: &str, text: &str, opts: ChunkOptions) -> Vec<context_chop::Chunk> {
    let chunks = Chunker::new(opts).chunk(path, text);
    let joined: String = chunks.iter().map(|c| c.text(text)).collect();
    assert_eq!(joined, text, "{path}: chunks must reassemble the file");
    let lines = text.split_inclusive('\n').count() as u32;
    let mut next = 1;
    for c in &chunks {
        assert_eq!(c.start_line, next, "{path}: spans must be contiguous");
        assert!(c.end_line >= c.start_line);
        let n = c.text(text).split_inclusive('\n').count() as u32;
        assert_eq!(
            c.end_line - c.start_line + 1,
            n,
            "{path}: span matches text"
        );
        next = c.end_line + 1;
    }
    assert_eq!(next - 1, lines, "{path}: every line is covered");
    chunks
}

fn rust_file(fns: usize, body_lines: usize) -> String {
    let mut s = String::from("use std::io;\n\n");
    for i in 0..fns {
        s.push_str(&format!(
            "/// Doc for item {i}.\n#[inline]\npub fn item_{i}(x: u32) -> u32 {{\n"
        ));
        for j in 0..body_lines {
            s.push_str(&format!("    let v{j} = x.wrapping_mul({j}) + {i};\n"));
        }
        s.push_str("    x\n}\n\n");
    }
    s
}

#[test]
fn small_items_are_grouped_and_cut_between_items() {
    let src = rust_file(40, 3);
    let chunks = check_cover("lib.rs", &src, ChunkOptions::default());
    assert!(chunks.len() > 2);
    for c in &chunks[..chunks.len() - 1] {
        let last = c.text(&src).trim_end();
        assert!(last.ends_with('}'), "cut inside an item: {last:?}");
        assert!(c.text(&src).trim_start().starts_with("///") || c.start_line == 1);
        assert!(c.tokens <= 600);
    }
    let syms: Vec<&String> = chunks.iter().flat_map(|c| &c.symbols).collect();
    assert_eq!(syms.len(), 40);
}

#[test]
fn large_items_are_split_inside() {
    let src = rust_file(1, 400);
    let chunks = check_cover(
        "big.rs",
        &src,
        ChunkOptions {
            target_tokens: 200,
            max_tokens: 400,
            ..Default::default()
        },
    );
    assert!(chunks.len() > 5);
    assert!(chunks.iter().all(|c| c.tokens <= 400));
    assert_eq!(chunks.iter().filter(|c| !c.symbols.is_empty()).count(), 1);
}

#[test]
fn every_language_finds_its_definitions() {
    let samples: &[(&str, &str, &[&str])] = &[
        ("a.py", "import os\n\nclass Walker:\n    def step(self):\n        return 1\n\ndef main():\n    pass\n", &["Walker", "step", "main"]),
        ("a.js", "function parseArgs(a) {\n  return a;\n}\nclass Server {\n  listen() {}\n}\nconst handler = () => 1;\n", &["parseArgs", "Server", "listen", "handler"]),
        ("a.ts", "interface Opts { a: number }\nexport function run(o: Opts): void {}\ntype Id = string;\n", &["Opts", "run", "Id"]),
        ("a.go", "package m\n\ntype Conn struct{}\n\nfunc (c *Conn) Read() error {\n\treturn nil\n}\n\nfunc Dial() {}\n", &["Conn", "Read", "Dial"]),
        ("A.java", "class Pool {\n  Pool() {}\n  void acquire() {}\n}\n", &["Pool", "acquire"]),
        ("a.c", "struct node { int v; };\nint sum(int a, int b) {\n  return a + b;\n}\n", &["node", "sum"]),
        ("a.cpp", "namespace net {\nclass Socket { public: void open(); };\nvoid Socket::open() {}\n}\n", &["net", "Socket"]),
        ("a.rs", "mod m {}\nstruct S;\nimpl S { fn go(&self) {} }\ntrait T {}\nenum E { A }\n", &["m", "S", "go", "T", "E"]),
    ];
    for (path, src, want) in samples {
        let chunks = check_cover(path, src, ChunkOptions::default());
        let syms: Vec<&str> = chunks
            .iter()
            .flat_map(|c| c.symbols.iter().map(String::as_str))
            .collect();
        for w in *want {
            assert!(syms.contains(w), "{path}: {w} missing from {syms:?}");
        }
    }
}

#[test]
fn fallback_for_prose_and_unknown_languages() {
    let mut md = String::new();
    for i in 0..30 {
        md.push_str(&format!(
            "# Section {i}\n\nSome words about section {i} that go on for a while.\n\n"
        ));
    }
    let chunks = check_cover(
        "README.md",
        &md,
        ChunkOptions {
            target_tokens: 60,
            max_tokens: 120,
            ..Default::default()
        },
    );
    assert!(chunks.len() > 3);
    for c in &chunks {
        assert!(
            c.text(&md).starts_with("# Section"),
            "markdown cut at headings"
        );
    }
    check_cover(
        "x.unknownext",
        "a\n\n  b\n c\nno newline at end",
        ChunkOptions {
            target_tokens: 1,
            max_tokens: 2,
            ..Default::default()
        },
    );
    assert!(Chunker::new(ChunkOptions::default())
        .chunk("e.rs", "")
        .is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn chunks_always_cover_and_reassemble(
        lines in proptest::collection::vec("[ \t]{0,6}[a-z{}();#/\"=]{0,30}", 0..120),
        target in 1usize..200,
        ext in prop::sample::select(vec!["rs", "py", "js", "go", "c", "md", "txt"]),
        crlf in any::<bool>(),
    ) {
        let nl = if crlf { "\r\n" } else { "\n" };
        let text = lines.join(nl);
        check_cover(&format!("f.{ext}"), &text, ChunkOptions { target_tokens: target, max_tokens: target * 2, ..Default::default() });
    }
}
