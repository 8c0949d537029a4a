//! The HTTP service on a loopback port: pack, scan, redact, stats, metrics, health, and the
//! policy layers (bearer token, allowed roots, bad JSON, body limit).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pipeline::config::ServerConfig;
use pipeline::Pipeline;
use std::time::Duration;

const SECRET: &str = "ghp_i6ueojowig3fjl1dzvq3uhfm0ig05bkhoiz6";

struct Service {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<pipeline::Result<()>>,
    _cache: tempfile::TempDir,
}

async fn start(root: &std::path::Path, token: Option<&str>) -> Service {
    start_with(root, token, Pipeline::builder()).await
}

async fn start_with(
    root: &std::path::Path,
    token: Option<&str>,
    builder: pipeline::PipelineBuilder,
) -> Service {
    let config = ServerConfig {
        listen: "127.0.0.1:0".into(),
        token: token.map(str::to_string),
        body_limit: 64 * 1024,
        ..ServerConfig::default()
    };
    start_config(root, config, builder).await
}

async fn start_config(
    root: &std::path::Path,
    config: ServerConfig,
    builder: pipeline::PipelineBuilder,
) -> Service {
    let cache = tempfile::tempdir().unwrap();
    let p = builder
        .index_dir(cache.path())
        .allowed_roots([root])
        .build()
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(pipeline::http::serve_listener(listener, p, config, async {
        let _ = rx.await;
    }));
    Service {
        base,
        stop: Some(tx),
        task,
        _cache: cache,
    }
}

impl Service {
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
}

/// A tiny HTTP/1.1 client over a TcpStream (the service is ours, so no client crate needed).
async fn call(
    base: &str,
    method: &str,
    path: &str,
    body: &str,
    auth: Option<&str>,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    if let Some(t) = auth {
        req.push_str(&format!("authorization: Bearer {t}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status: u16 = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|x| x.1.to_string())
        .unwrap_or_default();
    // Chunked bodies: keep only the JSON between the first '{' and the last '}'.
    let body = match (body.find(['{', '[']), body.rfind(['}', ']'])) {
        (Some(a), Some(b)) if b >= a && !path.starts_with("/metrics") => body[a..=b].to_string(),
        _ => body,
    };
    (status, body)
}

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("client.rs"),
        format!("/// Connects with the token.\npub fn connect() -> &'static str {{\n    \"{SECRET}\"\n}}\n"),
    )
    .unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pack_scan_redact_stats_health() {
    let root = tree();
    let svc = start(root.path(), None).await;
    let body =
        serde_json::json!({"query": "how do we connect", "root": root.path(), "max_tokens": 1000})
            .to_string();
    let (status, text) = call(&svc.base, "POST", "/v1/pack", &body, None).await;
    assert_eq!(status, 200, "{text}");
    assert!(!text.contains(SECRET));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["cache_level"], "miss");
    assert_eq!(v["chunks"][0]["path"], "client.rs");
    let (_, text) = call(&svc.base, "POST", "/v1/pack", &body, None).await;
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["cache_level"], "l1");

    let scan = serde_json::json!({"text": format!("token = \"{SECRET}\"")}).to_string();
    let (status, text) = call(&svc.base, "POST", "/v1/scan", &scan, None).await;
    assert_eq!(status, 200);
    assert!(!text.contains(SECRET));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["findings"][0]["rule"], "github-pat");

    let (status, text) = call(&svc.base, "POST", "/v1/redact", &scan, None).await;
    assert_eq!(status, 200);
    assert!(
        !text.contains(SECRET) && text.contains("[REDACTED:github-pat:"),
        "{text}"
    );

    let (status, text) = call(&svc.base, "GET", "/v1/stats", "", None).await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(v["succeeded"].as_u64().unwrap() >= 2);
    let (status, text) = call(&svc.base, "GET", "/metrics", "", None).await;
    assert_eq!(status, 200);
    assert!(text.contains("pipeline_requests_total{outcome=\"success\"}"));
    assert!(!text.contains(SECRET));
    // Prometheus text format: `# TYPE name kind` comments and `name{labels} number` samples.
    let mut samples = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let kind = rest.split_whitespace().nth(1).unwrap();
            assert!(
                ["counter", "gauge", "summary", "histogram", "untyped"].contains(&kind),
                "{line}"
            );
            continue;
        }
        let (name, value) = line.rsplit_once(' ').unwrap();
        value
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("bad value in {line:?}"));
        let metric = name.split('{').next().unwrap();
        assert!(
            metric
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
        if let Some(labels) = name.strip_prefix(metric) {
            assert!(
                labels.is_empty() || (labels.starts_with('{') && labels.ends_with('}')),
                "{line}"
            );
        }
        samples += 1;
    }
    assert!(samples >= 5);
    let (status, text) = call(&svc.base, "GET", "/healthz", "", None).await;
    assert_eq!(status, 200, "{text}");
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_layers_refuse_with_clear_errors() {
    let root = tree();
    let other = tempfile::tempdir().unwrap();
    let svc = start(root.path(), Some("s3cret-token")).await;
    let body = serde_json::json!({"query": "connect", "root": root.path()}).to_string();

    let (status, text) = call(&svc.base, "POST", "/v1/pack", &body, None).await;
    assert_eq!(status, 401, "{text}");
    let (status, _) = call(&svc.base, "POST", "/v1/pack", &body, Some("wrong")).await;
    assert_eq!(status, 401);
    let (status, _) = call(&svc.base, "POST", "/v1/pack", &body, Some("s3cret-token")).await;
    assert_eq!(status, 200);

    let outside = serde_json::json!({"query": "connect", "root": other.path()}).to_string();
    let (status, text) = call(
        &svc.base,
        "POST",
        "/v1/pack",
        &outside,
        Some("s3cret-token"),
    )
    .await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("outside the allowed roots"));

    for bad in [
        "{",
        "{\"query\": 1}",
        "{\"query\": \"x\", \"root\": \"/\", \"bogus\": true}",
        "[]",
    ] {
        let (status, text) = call(&svc.base, "POST", "/v1/pack", bad, Some("s3cret-token")).await;
        assert_eq!(status, 400, "{bad}: {text}");
        assert!(text.contains("error"));
    }
    let huge = format!(
        "{{\"query\": \"{}\", \"root\": \"/\"}}",
        "a".repeat(100 * 1024)
    );
    let (status, _) = call(&svc.base, "POST", "/v1/pack", &huge, Some("s3cret-token")).await;
    assert_eq!(status, 413);
    let empty_query = serde_json::json!({"query": "  ", "root": root.path()}).to_string();
    let (status, text) = call(
        &svc.base,
        "POST",
        "/v1/pack",
        &empty_query,
        Some("s3cret-token"),
    )
    .await;
    assert_eq!(status, 400, "{text}");
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_token_admits_its_own_clearance_and_no_more() {
    use pipeline::config::TokenConfig;
    use pipeline::Clearance;
    let root = tree();
    let config = ServerConfig {
        listen: "127.0.0.1:0".into(),
        token: Some("admin-token".into()),
        max_clearance: Clearance::Classified,
        tokens: vec![
            TokenConfig {
                token: "reader-token".into(),
                max_clearance: Clearance::Public,
            },
            TokenConfig {
                token: "ops-token".into(),
                max_clearance: Clearance::Internal,
            },
        ],
        ..ServerConfig::default()
    };
    let svc = start_config(root.path(), config, Pipeline::builder()).await;
    let body = |level: &str| {
        serde_json::json!({"query": "connect", "root": root.path(), "security_level": level})
            .to_string()
    };
    for (token, level, want) in [
        ("reader-token", "public", 200),
        ("reader-token", "internal", 403),
        ("reader-token", "classified", 403),
        ("ops-token", "internal", 200),
        ("ops-token", "sensitive", 403),
        ("admin-token", "classified", 200),
        ("nobody", "public", 401),
    ] {
        let (status, text) = call(&svc.base, "POST", "/v1/pack", &body(level), Some(token)).await;
        assert_eq!(status, want, "{token} asking for {level}: {text}");
        if want == 403 {
            assert!(
                text.contains("above what this caller may ask for"),
                "{text}"
            );
            assert!(!text.contains(token), "the token is not echoed: {text}");
        }
    }
    // A pack the reader gets has every finding redacted (its clearance is public).
    let (_, text) = call(
        &svc.base,
        "POST",
        "/v1/pack",
        &body("public"),
        Some("reader-token"),
    )
    .await;
    assert!(!text.contains(SECRET), "{text}");
    svc.stop().await;
}

struct SlowModel;
impl pipeline::Backend for SlowModel {
    fn name(&self) -> &str {
        "slow"
    }
    fn answer<'a>(
        &'a self,
        _request: &'a pipeline::Request,
        _pack: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<String, pipeline::pipeline_core::BoxError>> {
        Box::pin(async {
            tokio::time::sleep(Duration::from_millis(400)).await;
            Ok("ok".to_string())
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_is_a_503_with_retry_after() {
    let root = tree();
    let builder = Pipeline::builder()
        .workers(1)
        .queue_capacity(1)
        .backend(SlowModel);
    let svc = start_with(root.path(), None, builder).await;
    let mut calls = Vec::new();
    for i in 0..12 {
        let base = svc.base.clone();
        let body =
            serde_json::json!({"query": format!("question {i} connect"), "root": root.path()})
                .to_string();
        calls.push(tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let addr = base.trim_start_matches("http://").to_string();
            let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
            let req = format!(
                "POST /v1/pack HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            s.write_all(req.as_bytes()).await.unwrap();
            let mut raw = Vec::new();
            s.read_to_end(&mut raw).await.unwrap();
            String::from_utf8_lossy(&raw).into_owned()
        }));
    }
    let mut shed = 0;
    let mut served = 0;
    for c in calls {
        let raw = c.await.unwrap();
        if raw.starts_with("HTTP/1.1 503") {
            assert!(raw.to_ascii_lowercase().contains("retry-after: 1"), "{raw}");
            shed += 1;
        } else if raw.starts_with("HTTP/1.1 200") {
            served += 1;
        } else {
            panic!("unexpected answer: {raw}");
        }
    }
    assert!(shed > 0 && served > 0, "shed {shed}, served {served}");
    svc.stop().await;
}
