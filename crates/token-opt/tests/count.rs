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
