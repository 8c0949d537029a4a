//! Property tests: planted secrets of every rule are found anywhere and across streaming chunk
//! boundaries, redaction removes them, random bytes never panic, and the checksums and entropy
//! agree with simple reference implementations.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use secure_redact::{Finding, RedactMode, Scanner, Source, StreamOptions};
use std::sync::OnceLock;

fn scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(Scanner::new)
}

/// (rule id, sample) for every positive sample of every built-in rule.
fn planted() -> &'static Vec<(String, Vec<u8>)> {
    static P: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    P.get_or_init(|| {
        let v: Vec<_> = secure_redact::builtin_samples()
            .into_iter()
            .flat_map(|(id, pos)| {
                pos.iter()
                    .map(move |p| (id.to_string(), p.as_bytes().to_vec()))
            })
            .collect();
        assert!(v.len() >= 150);
        v
    })
}

fn filler() -> impl Strategy<Value = String> {
    // Code-ish noise that never forms a secret by itself: words, spaces, punctuation, newlines.
    proptest::collection::vec(
        prop_oneof![
            Just("fn "),
            Just("let x = 1;"),
            Just("\n"),
            Just(" "),
            Just("(a, b)"),
            Just("// note"),
            Just("{ }"),
            Just("é"),
            Just("\t")
        ],
        0..60,
    )
    .prop_map(|v| v.concat())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// The secret bytes of `rule` found in `text`, if any.
fn found(f: &[Finding], rule: &str) -> bool {
    f.iter().any(|f| &*f.rule == rule)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn planted_secret_is_found_anywhere(idx in 0usize..10_000, pre in filler(), post in filler()) {
        let (rule, sample) = &planted()[idx % planted().len()];
        let mut text = pre.into_bytes();
        text.push(b'\n');
        let at = text.len();
        text.extend_from_slice(sample);
        text.push(b'\n');
        text.extend_from_slice(post.as_bytes());
        let f = scanner().scan(&text);
        prop_assert!(found(&f, rule), "{rule} not found at {at}: {:?}", f);
        // Redaction removes the secret part (the captured bytes) of every finding.
        let red = scanner().redact(&text, RedactMode::Mask);
        for x in &f {
            let secret = &text[x.start..x.end];
            if secret.len() >= 8 {
                prop_assert!(!contains(&red.text, secret), "secret of {} survived redaction", x.rule);
            }
        }
        prop_assert_eq!(red.text.iter().filter(|&&b| b == b'\n').count(), text.iter().filter(|&&b| b == b'\n').count());
    }

    #[test]
    fn streaming_finds_each_secret_once_across_boundaries(idx in 0usize..10_000, pad in 0usize..9000, chunk in 4096usize..6000) {
        let (_, sample) = &planted()[idx % planted().len()];
        let mut text = vec![b'x'; 0];
        for i in 0..pad { text.push(if i % 61 == 60 { b'\n' } else { b'a' + (i % 23) as u8 }); }
        text.push(b'\n');
        text.extend_from_slice(sample);
        text.extend_from_slice(b"\nend\n");
        text.extend(std::iter::repeat_n(b'z', pad / 3));
        let whole = scanner().scan(&text);
        let opts = StreamOptions { chunk_size: chunk, overlap: 1024 };
        let mut streamed = Vec::new();
        scanner().scan_reader_with(&text[..], Source::default(), opts, |f| streamed.push(f)).unwrap();
        prop_assert_eq!(&whole, &streamed);
        let mut out = Vec::new();
        scanner().redact_reader_with(&text[..], &mut out, Source::default(), RedactMode::Mask, opts).unwrap();
        prop_assert_eq!(out, scanner().redact(&text, RedactMode::Mask).text);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096), mode in 0u8..4) {
        let s = scanner();
        let f = s.scan(&bytes);
        for x in &f {
            prop_assert!(x.start <= x.end && x.end <= bytes.len() && x.line >= 1 && x.column >= 1);
        }
        let m = [RedactMode::Mask, RedactMode::Partial, RedactMode::Hash, RedactMode::DropLine][mode as usize];
        let _ = s.redact(&bytes, m);
        let _ = s.scan_path("x.tf", &bytes);
    }

    #[test]
    fn luhn_matches_reference(digits in proptest::collection::vec(0u8..10, 12..20)) {
        let s: String = digits.iter().map(|d| (b'0' + d) as char).collect();
        let reference = {
            let mut sum = 0u32;
            for (i, d) in digits.iter().rev().enumerate() {
                let mut d = u32::from(*d);
                if i % 2 == 1 { d *= 2; if d > 9 { d -= 9; } }
                sum += d;
            }
            sum % 10 == 0 && !digits.iter().all(|&d| d == digits[0])
        };
        prop_assert_eq!(secure_redact::luhn_ok(s.as_bytes()), reference);
    }

    #[test]
    fn mod97_matches_bigint_reference(body in "[A-Z0-9]{12,30}") {
        let v = format!("DE00{body}");
        // Reference: expand letters to numbers and reduce digit by digit with u128 chunks.
        let rearranged = format!("{}{}", &v[4..], &v[..4]);
        let digits: String = rearranged.chars().map(|c| if c.is_ascii_digit() { c.to_string() } else { (c as u32 - 'A' as u32 + 10).to_string() }).collect();
        let mut r: u128 = 0;
        for chunk in digits.as_bytes().chunks(20) {
            let s = format!("{r}{}", std::str::from_utf8(chunk).unwrap());
            r = s.parse::<u128>().unwrap() % 97;
        }
        prop_assert_eq!(u128::from(secure_redact::mod97(v.as_bytes())), r);
    }

    #[test]
    fn entropy_matches_reference(s in proptest::collection::vec(any::<u8>(), 1..200)) {
        let mut counts = std::collections::HashMap::new();
        for b in &s { *counts.entry(*b).or_insert(0usize) += 1; }
        let n = s.len() as f64;
        let reference: f64 = counts.values().map(|&c| { let p = c as f64 / n; -p * p.log2() }).sum();
        prop_assert!((secure_redact::shannon_entropy(&s) - reference).abs() < 1e-9);
    }
}

/// Every sample of every rule, planted once at a chunk boundary (deterministic complement to
/// the random cases above).
#[test]
fn every_rule_sample_across_a_chunk_boundary() {
    let s = scanner();
    let opts = StreamOptions {
        chunk_size: 4096,
        overlap: 1024,
    };
    for (rule, sample) in planted() {
        for cut in [1usize, sample.len() / 2, sample.len().saturating_sub(1)] {
            let mut text = vec![b'.'; 4096usize.saturating_sub(cut).max(1)];
            text.push(b'\n');
            text.extend_from_slice(sample);
            text.extend_from_slice(b"\n");
            let mut streamed = Vec::new();
            s.scan_reader_with(&text[..], Source::default(), opts, |f| streamed.push(f))
                .unwrap();
            assert!(
                found(&streamed, rule),
                "{rule} lost across a chunk boundary (cut {cut})"
            );
            assert_eq!(streamed, s.scan(&text), "{rule}: streamed findings differ");
            let red = s.redact(&text, RedactMode::Mask);
            for f in &streamed {
                let secret = &text[f.start..f.end];
                assert!(
                    secret.len() < 8 || !contains(&red.text, secret),
                    "{rule}: secret survived redaction"
                );
            }
        }
    }
}
