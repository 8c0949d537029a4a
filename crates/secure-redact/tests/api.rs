//! Behaviour of the public API: findings, path rules, redaction modes, streaming, config,
//! baseline and audit sinks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use secure_redact::*;
use std::sync::Arc;

const GH: &str = "ghp_i6ueojowig3fjl1dzvq3uhfm0ig05bkhoiz6";
const AWS: &str = "AKIAZ7Q4MXWD2KJ5HRTE";

#[test]
fn finding_positions_are_bytes_and_one_based() {
    let s = Scanner::new();
    let text = format!("first line\n  é token {GH}\n");
    let f = s.scan(text.as_bytes());
    let gh = f
        .iter()
        .find(|f| &*f.rule == "github-pat")
        .expect("github-pat");
    assert_eq!(gh.line, 2);
    assert_eq!(&text.as_bytes()[gh.start..gh.end], GH.as_bytes());
    // column counts bytes: "  é token " is 11 bytes (é is 2).
    assert_eq!(gh.column, 12);
    assert_eq!(gh.fingerprint.len(), 64);
    assert!(
        !format!("{gh:?}").contains(GH),
        "Debug must not show the secret"
    );
}

#[test]
fn fingerprint_is_keyed_and_stable() {
    let a = Scanner::new();
    let b = Scanner::builder().key([7u8; 32]).build().unwrap();
    let fa = &a.scan(GH.as_bytes())[0];
    let fb = &b.scan(GH.as_bytes())[0];
    assert_ne!(fa.fingerprint, fb.fingerprint);
    assert_eq!(fa.fingerprint, a.fingerprint(GH.as_bytes()));
    assert_ne!(
        fa.fingerprint,
        blake3::hash(GH.as_bytes()).to_hex().to_string(),
        "never an unkeyed hash"
    );
}

#[test]
fn invalid_utf8_binary_and_empty_input() {
    let s = Scanner::new();
    assert!(s.scan(b"").is_empty());
    let mut bin: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    bin.extend_from_slice(b"\xff\xfe token=");
    bin.extend_from_slice(GH.as_bytes());
    bin.extend_from_slice(b"\x00\x80");
    let f = s.scan(&bin);
    assert!(f.iter().any(|f| &*f.rule == "github-pat"));
    let r = s.redact(&bin, RedactMode::Mask);
    assert!(!r.text.windows(GH.len()).any(|w| w == GH.as_bytes()));
}

#[test]
fn path_rules_need_a_matching_path() {
    let s = Scanner::new();
    let tf = b"administrator_login_password = \"thisIsDog11\"";
    assert!(s
        .scan_path("main.tf", tf)
        .iter()
        .any(|f| &*f.rule == "hashicorp-tf-password"));
    assert!(!s
        .scan_path("main.js", tf)
        .iter()
        .any(|f| &*f.rule == "hashicorp-tf-password"));
    assert!(!s
        .scan(tf)
        .iter()
        .any(|f| &*f.rule == "hashicorp-tf-password"));
    let p12 = s.scan_path("certs/client.p12", b"\x30\x82\x01");
    assert!(p12.iter().any(|f| &*f.rule == "pkcs12-file"));
}

#[test]
fn mask_mode_same_secret_same_placeholder_and_lines_kept() {
    let s = Scanner::new();
    let text = format!("a = \"{GH}\"\nb = \"{GH}\"\nkey: {AWS}\n");
    let r = s.redact(text.as_bytes(), RedactMode::Mask);
    let out = String::from_utf8(r.text.clone()).unwrap();
    assert!(!out.contains(GH) && !out.contains(AWS));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3);
    let p1 = &lines[0][5..lines[0].len() - 1];
    let p2 = &lines[1][5..lines[1].len() - 1];
    assert_eq!(p1, p2);
    assert!(
        p1.starts_with("[REDACTED:github-pat:") && p1.len() == "[REDACTED:github-pat:]".len() + 6,
        "{p1}"
    );
    assert!(lines[2].starts_with("key: [REDACTED:aws-access-key:"));
    assert_eq!(r.level, Level::Classified);
}

#[test]
fn other_modes() {
    let s = Scanner::new();
    let text = format!("x\ntoken={GH} trailing\ny\n");
    let partial = String::from_utf8(s.redact(text.as_bytes(), RedactMode::Partial).text).unwrap();
    assert!(
        partial.contains("token=ghp_[REDACTED:github-pat:"),
        "{partial}"
    );
    let hash = String::from_utf8(s.redact(text.as_bytes(), RedactMode::Hash).text).unwrap();
    let fp = s.fingerprint(GH.as_bytes());
    assert!(
        hash.contains(&format!("[HASH:github-pat:{}]", &fp[..32])),
        "{hash}"
    );
    let drop = String::from_utf8(s.redact(text.as_bytes(), RedactMode::DropLine).text).unwrap();
    assert_eq!(drop.lines().count(), 3);
    assert!(
        drop.starts_with("x\n[REDACTED-LINE:github-pat:") && drop.ends_with("]\ny\n"),
        "{drop}"
    );
    assert!("drop-line".parse::<RedactMode>().unwrap() == RedactMode::DropLine);
    assert!("nope".parse::<RedactMode>().is_err());
}

#[test]
fn multi_line_secret_keeps_line_count() {
    let s = Scanner::new();
    let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpQIBAAKCAQEAn6/O8li+SX4m98LLYt/PKSzEmQ++ZBD7Loh9P13f4yQ92EF3\nyxR5MsXFu9PRsrYQA7/4UTPHiC4y2sAVCBg4C2yyBpUEtMQjyCESi6Y=\n-----END RSA PRIVATE KEY-----";
    let text = format!("before\n{key}\nafter\n");
    let r = s.redact(text.as_bytes(), RedactMode::Mask);
    let out = String::from_utf8(r.text).unwrap();
    assert_eq!(out.lines().count(), text.lines().count());
    assert!(out.lines().last() == Some("after"));
    assert!(!out.contains("MIIEpQ"));
}

#[test]
fn levels_order_and_parse() {
    assert!(
        Level::Public < Level::Internal
            && Level::Internal < Level::Sensitive
            && Level::Sensitive < Level::Classified
    );
    assert_eq!("Sensitive".parse::<Level>().unwrap(), Level::Sensitive);
    assert_eq!(Level::Classified.to_string(), "classified");
    assert!("secret".parse::<Level>().is_err());
    assert_eq!(
        serde_json::to_string(&Level::Internal).unwrap(),
        "\"internal\""
    );
}

#[test]
fn pii_levels() {
    let s = Scanner::new();
    let f = s.scan(b"mail jane.doe@acme-corp.de, card 4539 1488 0343 6467, ip 203.0.113.42");
    let lvl = |id: &str| f.iter().find(|f| &*f.rule == id).map(|f| f.level);
    assert_eq!(lvl("email"), Some(Level::Internal));
    assert_eq!(lvl("ipv4-address"), Some(Level::Internal));
    assert_eq!(
        Scanner::level_of(&f),
        f.iter().map(|f| f.level).max().unwrap()
    );
}

#[test]
fn placeholders_are_not_findings() {
    let s = Scanner::new();
    for t in [
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "api_key = \"${API_KEY}\"",
        "token: {{ .Values.token }}",
        "password = \"<your-password>\"",
        "secret = \"changeme\"",
        "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "postgres://user:password@localhost/db",
    ] {
        let f = s.scan(t.as_bytes());
        assert!(f.iter().all(|f| f.level < Level::Sensitive), "{t}: {f:?}");
    }
}

#[test]
fn streaming_matches_whole_scan_across_tiny_chunks() {
    let s = Scanner::new();
    let mut text = String::new();
    for i in 0..200 {
        text.push_str(&format!("line {i} filler filler filler\n"));
        if i % 37 == 0 {
            text.push_str(&format!("GITHUB_TOKEN={GH}\nkey {AWS}\n"));
        }
    }
    let whole = s.scan(text.as_bytes());
    let mut streamed = Vec::new();
    s.scan_reader_with(
        text.as_bytes(),
        Source::default(),
        StreamOptions {
            chunk_size: 4096,
            overlap: 512,
        },
        |f| streamed.push(f),
    )
    .unwrap();
    assert_eq!(whole, streamed);
    let mut out = Vec::new();
    let sum = s
        .redact_reader_with(
            text.as_bytes(),
            &mut out,
            Source::default(),
            RedactMode::Mask,
            StreamOptions {
                chunk_size: 4096,
                overlap: 512,
            },
        )
        .unwrap();
    assert_eq!(out, s.redact(text.as_bytes(), RedactMode::Mask).text);
    assert_eq!(sum.findings, whole);
    assert_eq!(sum.bytes_in as usize, text.len());
}

#[test]
fn config_toml_json_and_baseline() {
    let toml = r#"
disable = ["email"]
min_level = "internal"
[allowlist]
stopwords = ["q8rz3k"]
[[rules]]
id = "acme-key"
description = "ACME key"
keywords = ["acme_"]
regex = '\b(acme_[a-z0-9]{16})\b'
level = "classified"
"#;
    let cfg = Config::from_toml_str(toml).unwrap();
    let s = cfg.scanner().unwrap();
    let f = s.scan(b"k = acme_0123456789abcdef x@example.org mail bob@acme.io");
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(&*f[0].rule, "acme-key");
    assert_eq!(f[0].level, Level::Classified);
    assert!(
        s.scan(b"GITHUB_TOKEN=ghp_q8Rz3kLm9Vt2Xw7Yp4Bn6Cd1Ef5Gh0Jk2Lm4")
            .is_empty(),
        "stopword allowlists"
    );

    let json = r#"{"rules": [{"id": "acme-key", "regex": "acme_[a-z]{4}", "keywords": ["acme_"]}], "baseline": []}"#;
    assert_eq!(
        Config::from_json_str(json).unwrap().rules[0].level,
        Level::Sensitive
    );
    assert!(Config::from_toml_str("rules = 3").is_err());
    let bad = Config::from_toml_str("[[rules]]\nid='x'\nregex='('\n").unwrap();
    assert!(matches!(bad.scanner(), Err(Error::Pattern { .. })));

    // Baseline: a known finding is ignored.
    let text = format!("t={GH}");
    let fp = Scanner::new().scan(text.as_bytes())[0].fingerprint;
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("baseline.txt");
    std::fs::write(&base, format!("# accepted\n{fp}\n")).unwrap();
    let cfg_path = dir.path().join("redact.toml");
    std::fs::write(&cfg_path, "baseline_file = \"baseline.txt\"\n").unwrap();
    let s = Config::from_path(&cfg_path).unwrap().scanner().unwrap();
    assert!(s.scan(text.as_bytes()).is_empty());
    assert_eq!(load_baseline(&base).unwrap(), vec![fp.to_string()]);
    let s = Scanner::builder().baseline([&fp[..12]]).build().unwrap();
    assert!(s.scan(text.as_bytes()).is_empty(), "prefix baseline");
}

#[test]
fn audit_sinks_never_hold_the_secret() {
    let mem = Arc::new(MemorySink::new());
    let r = Redactor::builder()
        .mode(RedactMode::Mask)
        .min_level(Level::Sensitive)
        .audit(mem.clone())
        .build();
    let text = format!("token={GH}\nmail jane.doe@acme-corp.de\n");
    let out = r.redact(Some("src/app.env"), text.as_bytes()).unwrap();
    let s = out.text_lossy();
    assert!(
        s.contains("jane.doe@acme-corp.de"),
        "internal is below the redaction level"
    );
    assert!(!s.contains(GH));
    let ev = mem.events();
    assert_eq!(ev.len(), 2);
    assert!(ev.iter().any(|e| e.rule == "github-pat"
        && e.action == Action::Redacted(RedactMode::Mask)
        && e.path.as_deref() == Some("src/app.env")
        && e.line == 1));
    assert!(ev
        .iter()
        .any(|e| e.rule == "email" && e.action == Action::Reported));

    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("audit.jsonl");
    {
        let sink = Arc::new(JsonlFileSink::open(&p).unwrap());
        let r = Redactor::builder().audit(sink.clone()).build();
        r.redact(None, text.as_bytes()).unwrap();
        sink.flush().unwrap();
    }
    let log = std::fs::read_to_string(&p).unwrap();
    assert_eq!(log.lines().count(), 2);
    assert!(!log.contains(GH) && !log.contains("jane.doe"));
    let v: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    for k in [
        "time_ms",
        "rule",
        "level",
        "line",
        "column",
        "fingerprint",
        "action",
    ] {
        assert!(v.get(k).is_some(), "missing {k} in {v}");
    }
}

#[test]
fn user_rules_and_errors() {
    let r = Rule::builder("acme-token", r"\b(acme_[a-z]{8})\b")
        .keywords(["ACME_"])
        .level(Level::Internal)
        .build();
    assert_eq!(r.keywords, vec!["acme_"]);
    let s = Scanner::builder().rules(vec![r.clone()]).build().unwrap();
    assert_eq!(s.scan(b"x acme_qwzxcvbn y").len(), 1);
    assert!(
        Scanner::builder()
            .rules(vec![r.clone(), r])
            .build()
            .is_err(),
        "duplicate ids"
    );
    let e = Scanner::builder()
        .rules(vec![Rule::builder("bad", "(").build()])
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("rule bad"), "{e}");
    assert!(default_rules().len() >= 150);
    assert!(
        rule_categories()
            .iter()
            .map(|(_, v)| v.len())
            .sum::<usize>()
            >= 150
    );
}

#[test]
fn generic_findings_yield_to_specific_ones() {
    let s = Scanner::new();
    let rules = |text: &str| -> Vec<String> {
        let mut r: Vec<String> = s
            .scan(text.as_bytes())
            .iter()
            .map(|f| f.rule.to_string())
            .collect();
        r.sort();
        r
    };
    // The assigned value is a GitHub token: only the specific rule reports it.
    assert_eq!(rules(&format!("token = \"{GH}\"\n")), ["github-pat"]);
    assert_eq!(rules(&format!("MY_API_KEY={GH}\n")), ["github-pat"]);
    // A generic value next to (not overlapping) a specific one is kept, whichever comes first.
    let g = "q8Rz3kLm9Vt2Xw7Yp4Bn";
    assert_eq!(
        rules(&format!("api_key = \"{g}\" # {GH}\n")),
        ["generic-api-key", "github-pat"]
    );
    assert_eq!(
        rules(&format!("{GH} api_key = \"{g}\"\n")),
        ["generic-api-key", "github-pat"]
    );

    // On the very same span the specific rule wins even when the generic one ranks higher,
    // for generic rules verified at the keyword (anchored) and over a window.
    for anchored in [true, false] {
        let mut generic = Rule::builder("my-generic", r"(?i:secret)\s*=\s*([A-Za-z0-9]{20})\b")
            .keywords(["secret"])
            .level(Level::Classified)
            .generic(true);
        if anchored {
            generic = generic.anchor(0);
        }
        let specific = Rule::builder("my-specific", r"\b(zq[A-Za-z0-9]{18})\b")
            .keywords(["zq"])
            .level(Level::Internal)
            .build();
        let s = Scanner::builder()
            .rules(vec![generic.build(), specific])
            .build()
            .unwrap();
        let f = s.scan(b"secret = zq8Rz3kLm9Vt2Xw7Yp4B\nsecret = q8Rz3kLm9Vt2Xw7Yp4Bn\n");
        let got: Vec<(&str, usize)> = f.iter().map(|f| (&*f.rule, f.line)).collect();
        assert_eq!(
            got,
            [("my-specific", 1), ("my-generic", 2)],
            "anchored {anchored}"
        );
    }
}
