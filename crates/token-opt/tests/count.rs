//! Token counting agrees with tiktoken-rs, id for id, on real files and edge cases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use token_opt::{estimate_tokens, Encoding, Tokenizer};

fn samples() -> Vec<String> {
    let mut out: Vec<String> = [
        "",
        " ",
        "hello world",
        "fn main() {\n    println!(\"hi\");\n}\n",
        "   \n\n\t  trailing   ",
        "日本語のテキストと emoji 🎉🎉 mixed",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "<|endoftext|> is ordinary text here",
        "I'm sure they'll've DONE it's",
        "1234567890 3.14159 0xDEADBEEF",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // A bounded sample of real files.
    for path in [
        concat!(env!("CARGO_MANIFEST_DIR"), "/src/count.rs"),
        concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs"),
    ] {
        if let Ok(s) = std::fs::read_to_string(path) {
            out.push(s);
        }
    }
    if let Ok(out_dir) = std::process::Command::new("python3")
        .args([
            "-c",
            "import sysconfig;print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
    {
        let dir = String::from_utf8_lossy(&out_dir.stdout).trim().to_string();
        for f in ["os.py", "json/decoder.py", "textwrap.py"] {
            if let Ok(s) = std::fs::read_to_string(format!("{dir}/{f}")) {
                out.push(s);
            }
        }
    }
    out
}

#[test]
fn o200k_ids_match_tiktoken() {
    let ours = Tokenizer::new(Encoding::O200k).unwrap();
    let theirs = tiktoken_rs::o200k_base().unwrap();
    for s in samples() {
        let ids = ours.encode(&s);
        assert_eq!(
            ids,
            theirs.encode_ordinary(&s),
            "o200k mismatch on {:?}",
            &s[..s.len().min(60)]
        );
        assert_eq!(ours.count(&s), ids.len());
        assert_eq!(ours.decode(&ids).unwrap(), s);
    }
}

#[test]
fn cl100k_ids_match_tiktoken() {
    let ours = Tokenizer::new(Encoding::Cl100k).unwrap();
    let theirs = tiktoken_rs::cl100k_base().unwrap();
    for s in samples() {
        let ids = ours.encode(&s);
        assert_eq!(
            ids,
            theirs.encode_ordinary(&s),
            "cl100k mismatch on {:?}",
            &s[..s.len().min(60)]
        );
        assert_eq!(ours.count(&s), ids.len());
    }
}

#[test]
fn truncate_to_is_a_fitting_prefix() {
    let tok = Tokenizer::new(Encoding::O200k).unwrap();
    for s in samples() {
        let total = tok.count(&s);
        for n in [0, 1, 2, 5, 17, 100, total, total + 1] {
            let p = tok.truncate_to(&s, n);
            assert!(s.starts_with(p));
            assert!(tok.count(p) <= n, "{} > {n}", tok.count(p));
            if n >= total {
                assert_eq!(p, s);
            } else if n > 0 && s.is_ascii() {
                // On ASCII text every token boundary is a char boundary: exactly n tokens.
                assert_eq!(tok.count(p), n);
            }
        }
    }
}

#[test]
fn decode_rejects_bad_ids_and_split_chars() {
    let tok = Tokenizer::new(Encoding::O200k).unwrap();
    assert!(tok.decode(&[u32::MAX]).is_err());
    let ids = tok.encode("🎉");
    if ids.len() > 1 {
        assert!(tok.decode(&ids[..1]).is_err());
    }
}

#[test]
fn tokenizer_is_cheap_clone_send_sync() {
    fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<Tokenizer>();
    let a = Tokenizer::new(Encoding::O200k).unwrap();
    let b = a;
    assert_eq!(a.count("x y z"), b.count("x y z"));
    assert_eq!("cl100k_base".parse::<Encoding>().unwrap(), Encoding::Cl100k);
    assert!("p50k".parse::<Encoding>().is_err());
}

#[test]
fn estimate_is_in_the_right_range() {
    let tok = Tokenizer::new(Encoding::O200k).unwrap();
    for s in samples().into_iter().filter(|s| s.len() > 2000) {
        let exact = tok.count(&s) as f64;
        let est = estimate_tokens(&s) as f64;
        let err = (est - exact).abs() / exact;
        assert!(err < 0.35, "estimate {est} vs exact {exact}");
    }
    assert_eq!(estimate_tokens(""), 0);
}

/// Long pieces (over the 128 bytes that merge on the stack) go through the heap merge.
#[test]
fn long_pieces_match_tiktoken() {
    let mut texts = vec![
        "a".repeat(5000),
        "ab".repeat(700),
        "=".repeat(300),
        " ".repeat(400) + "x",
        "\n".repeat(300),
        "🎉".repeat(100),
        "Supercalifragilisticexpialidocious".repeat(12),
    ];
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut word = String::new();
    for _ in 0..3000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        word.push((b'a' + (x % 26) as u8) as char);
    }
    texts.push(word.clone());
    // Past 16 KiB the merge queue groups positions by rank.
    texts.push("a".repeat(40_000));
    texts.push(word.repeat(12));
    for (ours, theirs) in [
        (
            Tokenizer::new(Encoding::O200k).unwrap(),
            tiktoken_rs::o200k_base().unwrap(),
        ),
        (
            Tokenizer::new(Encoding::Cl100k).unwrap(),
            tiktoken_rs::cl100k_base().unwrap(),
        ),
    ] {
        for t in &texts {
            assert_eq!(
                ours.encode(t),
                theirs.encode_ordinary(t),
                "{:?} on {:?}",
                ours.encoding(),
                &t[..t.len().min(40)]
            );
            let n = theirs.encode_ordinary(t).len();
            assert_eq!(ours.count(t), n);
            // A piece too long to fit stops the count before it is merged.
            assert_eq!(ours.count_up_to(t, 1), (n <= 1).then_some(n));
            assert_eq!(ours.count_up_to(t, n), Some(n));
        }
    }
}

mod random {
    use super::*;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    fn reference(enc: Encoding) -> &'static tiktoken_rs::CoreBPE {
        static O: OnceLock<tiktoken_rs::CoreBPE> = OnceLock::new();
        static C: OnceLock<tiktoken_rs::CoreBPE> = OnceLock::new();
        match enc {
            Encoding::O200k => O.get_or_init(|| tiktoken_rs::o200k_base().unwrap()),
            _ => C.get_or_init(|| tiktoken_rs::cl100k_base().unwrap()),
        }
    }

    /// Characters that exercise every branch of the pre-tokenizer patterns: letters of each
    /// case class, marks, digits (ASCII and not), apostrophes and contractions, Unicode
    /// whitespace of several widths, punctuation, slashes, CR/LF, emoji.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z]{1,12}",
            "[0-9]{1,7}",
            "[ \t\r\n]{1,5}",
            "[!-/:-@\\[-`{-~]{1,4}",
            prop::sample::select(vec![
                "'s",
                "'T",
                "'re",
                "'VE",
                "'ll",
                "'d",
                "'M",
                "’s",
                "ſ",
                "K",
                "ǅ",
                "ʰ",
                "ĳ",
                "é",
                "e\u{301}",
                "\u{300}",
                "日本",
                "한국어",
                "٣٤٥",
                "Ⅻ",
                "\u{a0}",
                "\u{3000}",
                "\u{2028}",
                "\u{85}",
                "\u{b}",
                "\u{c}",
                "\r\n",
                " \n",
                "  ",
                "//",
                "🎉",
                "👍🏽",
                "\u{feff}",
                "\u{200b}",
                "Ǆenovo",
                "İstanbul",
                "ΣΑΣ",
                "straße",
            ])
            .prop_map(str::to_string),
            "\\PC{1,6}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Ids identical to tiktoken-rs on random mixtures, both encodings; count, encode and
        /// decode agree with each other.
        #[test]
        fn ids_match_tiktoken_on_random_text(parts in prop::collection::vec(piece(), 0..24)) {
            let text = parts.concat();
            for enc in [Encoding::O200k, Encoding::Cl100k] {
                let ours = Tokenizer::new(enc).unwrap();
                let ids = ours.encode(&text);
                prop_assert_eq!(&ids, &reference(enc).encode_ordinary(&text), "{:?} on {:?}", enc, text);
                prop_assert_eq!(ours.count(&text), ids.len());
                prop_assert_eq!(ours.decode(&ids).unwrap(), text.clone());
                for k in [0, ids.len().saturating_sub(1), ids.len(), ids.len() + 1] {
                    prop_assert_eq!(ours.count_up_to(&text, k), (ids.len() <= k).then_some(ids.len()));
                }
            }
        }
    }
}
