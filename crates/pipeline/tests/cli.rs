//! The CLI contract of shared/DESIGN.md, through the real binary: outputs, exit codes, stdin,
//! bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const GITHUB_PAT: &str = "ghp_i6ueojowig3fjl1dzvq3uhfm0ig05bkhoiz6";

fn pipeline(cache: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pipeline"));
    c.env("XDG_CACHE_HOME", cache)
        .env_remove("PIPELINE_REDIS_URL")
        .env_remove("PIPELINE_POSTGRES_URL");
    c
}

fn run_with_stdin(mut cmd: Command, input: &[u8]) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/retry.rs"),
        "/// Retries a request with exponential backoff.\npub fn retry_with_backoff(attempts: u32) -> u32 {\n    // double the delay each time\n    attempts * 2\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/config.rs"),
        format!("pub fn github_token() -> &'static str {{\n    \"{GITHUB_PAT}\"\n}}\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("README.md"), "# demo\n\nA demo tree.\n").unwrap();
    dir
}

#[test]
fn pack_json_has_the_contract_fields_and_never_the_secret() {
    let root = tree();
    let cache = tempfile::tempdir().unwrap();
    let out = pipeline(cache.path())
        .args(["pack", "where is the github token configured", "--root"])
        .arg(root.path())
        .args(["--max-tokens", "2000", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for field in [
        "pack",
        "chunks",
        "tokens_used",
        "tokens_saved",
        "cache_level",
        "route",
        "findings",
        "latency_ms",
    ] {
        assert!(v.get(field).is_some(), "missing {field}: {v}");
    }
    assert_eq!(v["cache_level"], "miss");
    assert!(v["tokens_used"].as_u64().unwrap() <= 2000);
    let chunks = v["chunks"].as_array().unwrap();
    assert!(!chunks.is_empty());
    for c in chunks {
        let path = c["path"].as_str().unwrap();
        assert!(
            !path.starts_with('/') && !path.contains(".."),
            "path {path} not relative"
        );
        for f in ["start_line", "end_line", "score", "tokens"] {
            assert!(c.get(f).is_some(), "chunk without {f}");
        }
    }
    assert!(chunks.iter().any(|c| c["path"] == "src/config.rs"));
    let findings = v["findings"].as_array().unwrap();
    assert!(findings
        .iter()
        .any(|f| f["rule"] == "github-pat" && f["path"] == "src/config.rs" && f["line"] == 2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains(GITHUB_PAT), "the secret left redaction");
    assert!(v["pack"]
        .as_str()
        .unwrap()
        .contains("[REDACTED:github-pat:"));
}

#[test]
fn pack_markdown_and_xml_print_the_pack_text() {
    let root = tree();
    let cache = tempfile::tempdir().unwrap();
    let md = pipeline(cache.path())
        .args(["pack", "retry backoff", "--root"])
        .arg(root.path())
        .output()
        .unwrap();
    assert!(md.status.success());
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.contains("src/retry.rs") && md.contains("```"), "{md}");
    let xml = pipeline(cache.path())
        .args(["pack", "retry backoff", "--format", "xml", "--root"])
        .arg(root.path())
        .output()
        .unwrap();
    assert!(xml.status.success());
    let xml = String::from_utf8(xml.stdout).unwrap();
    assert!(xml.contains("<") && xml.contains("src/retry.rs"), "{xml}");
}

#[test]
fn pack_rejects_bad_input_with_exit_2_and_a_reason() {
    let root = tree();
    let cache = tempfile::tempdir().unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "pack".into(),
                "".into(),
                "--root".into(),
                root.path().display().to_string(),
            ],
            "query is empty",
        ),
        (
            vec![
                "pack".into(),
                "x".into(),
                "--root".into(),
                "/definitely/not/here".into(),
            ],
            "no such file",
        ),
        (
            vec![
                "pack".into(),
                "x".into(),
                "--max-tokens".into(),
                "0".into(),
                "--root".into(),
                root.path().display().to_string(),
            ],
            "max_tokens",
        ),
        (
            vec![
                "pack".into(),
                "x".into(),
                "--security-level".into(),
                "top".into(),
            ],
            "unknown level",
        ),
    ];
    for (args, why) in cases {
        let out = pipeline(cache.path()).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(why), "{args:?}: {err}");
    }
}

#[test]
fn scan_exit_codes_and_jsonl_fields() {
    let root = tree();
    let cache = tempfile::tempdir().unwrap();
    let out = pipeline(cache.path())
        .args(["scan", "--format", "jsonl"])
        .arg(root.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains(GITHUB_PAT));
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    for f in ["rule", "level", "path", "line", "column", "fingerprint"] {
        assert!(lines[0].get(f).is_some(), "no {f}");
    }
    assert_eq!(lines[0]["rule"], "github-pat");
    assert_eq!(lines[0]["line"], 2);

    // Below --fail-on: still reported, exit 0.
    let out = pipeline(cache.path())
        .args(["scan", "--fail-on", "classified"])
        .arg(root.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 1);

    // Clean input: exit 0, nothing printed.
    let out = run_with_stdin(
        {
            let mut c = pipeline(cache.path());
            c.args(["scan", "-"]);
            c
        },
        b"fn main() { println!(\"hello\"); }\n",
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());

    // Unreadable path: exit 2 with the reason.
    let out = pipeline(cache.path())
        .args(["scan", "/no/such/path"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file"));
}

#[test]
fn scan_sarif_is_a_sarif_log() {
    let root = tree();
    let cache = tempfile::tempdir().unwrap();
    let out = pipeline(cache.path())
        .args(["scan", "--format", "sarif"])
        .arg(root.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results[0]["ruleId"], "github-pat");
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        2
    );
}

#[test]
fn redact_replaces_each_secret_with_one_placeholder_and_keeps_lines() {
    let cache = tempfile::tempdir().unwrap();
    let input = format!("a = \"{GITHUB_PAT}\"\nb = 1\nc = \"{GITHUB_PAT}\"\n");
    let out = run_with_stdin(
        {
            let mut c = pipeline(cache.path());
            c.args(["redact", "-"]);
            c
        },
        input.as_bytes(),
    );
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains(GITHUB_PAT));
    assert_eq!(text.lines().count(), 3);
    let placeholders: Vec<&str> = text.lines().filter_map(|l| l.split('"').nth(1)).collect();
    assert_eq!(placeholders.len(), 2);
    assert_eq!(placeholders[0], placeholders[1]);
    assert!(
        placeholders[0].starts_with("[REDACTED:github-pat:"),
        "{text}"
    );
    assert_eq!(text.lines().nth(1), Some("b = 1"));
}

#[test]
fn tokens_compress_and_route_work_on_stdin_and_files() {
    let root = tree();
    let cache = tempfile::tempdir().unwrap();
    let out = run_with_stdin(
        {
            let mut c = pipeline(cache.path());
            c.args(["tokens", "-", "--encoding", "cl100k"]);
            c
        },
        b"hello world",
    );
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "2");

    let out = pipeline(cache.path())
        .arg("compress")
        .arg(root.path().join("src/retry.rs"))
        .args(["--level", "balanced"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("double the delay"), "comment kept: {text}");
    assert!(text.contains("attempts * 2"));

    let out = pipeline(cache.path())
        .args(["route", "this SQL query is slow on postgres"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["route"], "database");
}

#[test]
fn bad_input_never_panics() {
    let cache = tempfile::tempdir().unwrap();
    let mut junk = vec![0xff, 0xfe, 0x00, 0xc3];
    junk.extend((0..50_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    for args in [
        vec!["tokens", "-"],
        vec!["redact", "-"],
        vec!["scan", "-"],
        vec!["compress", "-", "--lang", "python"],
    ] {
        let out = run_with_stdin(
            {
                let mut c = pipeline(cache.path());
                c.args(&args);
                c
            },
            &junk,
        );
        let code = out.status.code();
        assert!(
            matches!(code, Some(0..=2)),
            "{args:?} ended with {code:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("panicked"),
            "{args:?}"
        );
    }
    // A directory where a file is expected, and unknown options, are usage errors.
    let dir = tempfile::tempdir().unwrap();
    let out = pipeline(cache.path())
        .arg("tokens")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("directory"));
    let out = pipeline(cache.path())
        .args(["compress", "-", "--level", "extreme"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
