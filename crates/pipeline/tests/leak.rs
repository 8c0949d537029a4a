//! The leak test: a tree planted with a secret of every built-in rule (secure-redact's own
//! positive samples, each in a file whose name fits the rule) is packed through the HTTP
//! service with Redis (L2) and PostgreSQL (L3) on, an audit file and tracing captured at debug
//! level. Then every Redis key and value under the pipeline's namespace, every row of the
//! `pipeline_cache` table (both read raw and decoded through the tiers' own handles, so values
//! zstd-compressed above the size threshold are searched too), the audit file, the captured
//! logs, `/metrics`, `/v1/stats` and every response are searched for the planted values.
//!
//! Only samples the scanner itself finds in their file are planted (a secret the rules do not
//! recognise cannot be redacted); the test asserts they cover at least 95% of the rules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pipeline::config::ServerConfig;
use pipeline::tiered_cache::{PostgresConfig, PostgresTier, RedisConfig, RedisTier, Tier};
use pipeline::{CacheLevel, Pipeline, Request, Response};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One planted secret: the rule, the file it lives in, and the secret bytes the scanner reports.
struct Planted {
    rule: String,
    path: String,
    secrets: Vec<Vec<u8>>,
}

/// File names tried for a rule, in order; the first one in which the scanner finds the sample
/// is used (rules that depend on the path, such as Terraform or NuGet ones, need theirs).
fn candidate_names(id: &str) -> Vec<String> {
    [
        "txt", "py", "env", "tf", "yaml", "php", "json", "sh", "config",
    ]
    .iter()
    .map(|ext| format!("{id}.{ext}"))
    .chain([format!("{id}/nuget.config"), format!("{id}/NuGet.Config")])
    .collect()
}

/// Samples for the built-in rules that ship none (the path-dependent ones), written for this
/// test; each still has to be found by the scanner in its file to be planted.
const EXTRA_SAMPLES: &[(&str, &[&str])] = &[
    (
        "hashicorp-tf-password",
        &["resource \"db\" {\n  admin_password = \"Zx9qLm2vR7tKp4wQ\"\n}"],
    ),
    (
        "kubernetes-secret-yaml",
        &[
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: cTh2WDJyTHA5VHo0V2s3bU4x\n",
        ],
    ),
    (
        "nuget-config-password",
        &[
            "<packageSourceCredentials><feed><add key=\"ClearTextPassword\" value=\"Qm8vX2rLp9Tz4Wk7\" /></feed></packageSourceCredentials>",
        ],
    ),
    (
        "freemius-secret-key",
        &["$config = array('secret_key' => 'sk_Qm8vX2rLp9Tz4Wk7Bn6Cd1Ef5GhJq');"],
    ),
];

fn file_text(id: &str, sample: &str) -> String {
    format!(
        "# credential settings for the {id} integration\n{sample}\n# end of credential settings\n"
    )
}

/// Plants one sample per rule that the scanner finds in its file; returns what was planted and
/// the number of rules.
fn plant(root: &Path) -> (Vec<Planted>, usize, Vec<String>) {
    let scanner = pipeline::scan::scanner(None, None, None).unwrap();
    let rules: BTreeMap<String, (bool, pipeline::secure_redact::Level)> = scanner
        .rules()
        .map(|r| (r.id.clone(), (r.file, r.level)))
        .collect();
    let mut planted = Vec::new();
    let mut missing = Vec::new();
    let extra = EXTRA_SAMPLES.iter().map(|&(id, s)| (id, s));
    for (id, samples) in pipeline::secure_redact::builtin_samples()
        .into_iter()
        .filter(|(_, s)| !s.is_empty())
        .chain(extra)
    {
        let Some(&(is_file_rule, level)) = rules.get(id) else {
            continue;
        };
        // A file rule's finding is the file's name, not a value inside it; a public-level
        // finding is not a secret. Neither has a value to leak.
        if is_file_rule || level == pipeline::secure_redact::Level::Public {
            missing.push(format!("{id} (file rule or public level)"));
            continue;
        }
        let mut done = false;
        'samples: for sample in samples.iter() {
            let text = file_text(id, sample);
            for name in candidate_names(id) {
                let findings = scanner.scan_path(&name, text.as_bytes());
                if !findings.iter().any(|f| &*f.rule == id) {
                    continue;
                }
                let secrets: Vec<Vec<u8>> = findings
                    .iter()
                    .map(|f| text.as_bytes()[f.start..f.end].to_vec())
                    .filter(|s| s.len() >= 8)
                    .collect();
                if secrets.is_empty() {
                    continue;
                }
                let path = root.join(&name);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &text).unwrap();
                planted.push(Planted {
                    rule: id.to_string(),
                    path: name,
                    secrets,
                });
                done = true;
                break 'samples;
            }
        }
        if !done {
            missing.push(id.to_string());
        }
    }
    for id in rules.keys() {
        if !planted.iter().any(|p| &p.rule == id)
            && !missing.iter().any(|m| m.starts_with(id.as_str()))
        {
            missing.push(format!("{id} (no sample)"));
        }
    }
    (planted, rules.len(), missing)
}

/// A `MakeWriter` that appends every log line to a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A tiny HTTP/1.1 client: one request per connection.
async fn call(addr: &str, method: &str, path: &str, body: &str) -> (u16, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(120), s.read_to_end(&mut out))
        .await
        .expect("the service answers within two minutes")
        .unwrap();
    let head_end = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP response");
    let head = String::from_utf8_lossy(&out[..head_end]).to_string();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut body = out[head_end + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let n = usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + n]);
        b = &b[eol + 2 + n + 2..];
    }
    out
}

/// Every form a stored or sent value is searched in: the raw bytes, and when they are JSON,
/// each string inside it unescaped (a multi-line key is `\n`-escaped in JSON).
fn haystacks(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![bytes.to_vec()];
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
        let mut strings = Vec::new();
        collect_strings(&v, &mut strings);
        out.push(strings.join("\n").into_bytes());
    }
    out
}

fn collect_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(m) => m.iter().for_each(|(k, x)| {
            out.push(k.clone());
            collect_strings(x, out);
        }),
        _ => {}
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The planted values found in `bytes` (named `what` in the report).
fn leaks(planted: &[Planted], what: &str, bytes: &[u8]) -> Vec<String> {
    let hays = haystacks(bytes);
    let mut out = Vec::new();
    for p in planted {
        for s in &p.secrets {
            // A multi-line secret (a PEM key) is searched whole and by its longest line.
            let longest = s
                .split(|&b| b == b'\n')
                .max_by_key(|l| l.len())
                .unwrap_or(s)
                .to_vec();
            let needles: Vec<&[u8]> = if longest.len() >= 16 && longest.len() < s.len() {
                vec![s.as_slice(), longest.as_slice()]
            } else {
                vec![s.as_slice()]
            };
            if hays.iter().any(|h| needles.iter().any(|n| contains(h, n))) {
                out.push(format!("{} ({}) in {what}", p.rule, p.path));
            }
        }
    }
    out
}

async fn redis_values(url: &str) -> Vec<(String, Vec<Vec<u8>>)> {
    let client = redis::Client::open(url).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("pipeline:*")
        .query_async(&mut con)
        .await
        .unwrap();
    let tier = RedisTier::connect(url, RedisConfig::builder().namespace("pipeline").build())
        .await
        .unwrap();
    let mut out = Vec::new();
    for k in keys {
        let raw: Vec<u8> = redis::cmd("GET")
            .arg(&k)
            .query_async(&mut con)
            .await
            .unwrap_or_default();
        let mut forms = vec![k.clone().into_bytes(), raw];
        // Decoded the way the tier reads it (checksum verified, zstd undone).
        if let Some(cache_key) = k.strip_prefix("pipeline:") {
            if let Ok(Some(v)) = tier.get(cache_key).await {
                forms.push(v.to_vec());
            }
        }
        out.push((k, forms));
    }
    out
}

async fn postgres_values(url: &str) -> Vec<(String, Vec<Vec<u8>>)> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let rows = client
        .query("SELECT key, value FROM pipeline_cache", &[])
        .await
        .unwrap();
    let tier = PostgresTier::connect(
        url,
        PostgresConfig::builder().table("pipeline_cache").build(),
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    for row in rows {
        let key: String = row.get(0);
        let raw: Vec<u8> = row.get(1);
        let mut forms = vec![key.clone().into_bytes(), raw];
        if let Ok(Some(v)) = tier.get(&key).await {
            forms.push(v.to_vec());
        }
        out.push((key, forms));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_planted_secret_leaves_through_packs_tiers_logs_audit_or_metrics() {
    let logs = Captured::default();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
        .with_writer(logs.clone())
        .with_ansi(false)
        .try_init()
        .expect("the only subscriber of this test binary");

    let tree = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let (planted, rules, missing) = plant(tree.path());
    assert!(
        planted.len() * 100 >= rules * 95,
        "only {} of {rules} rules could be planted (the scanner finds their samples); missing: {missing:?}",
        planted.len()
    );
    eprintln!(
        "planted {} of {rules} rules; not planted: {missing:?}",
        planted.len()
    );

    let redis_url = test_services::redis_url();
    let pg_url = test_services::database_url();
    let tenant = format!("leak{}", std::process::id());
    let audit = work.path().join("audit.jsonl");
    let mut config = pipeline::PipelineConfig::default();
    config.security.audit_file = Some(audit.clone());
    let build = |config: pipeline::PipelineConfig, dir: &str| {
        Pipeline::builder()
            .config(config)
            .redis(redis_url.clone())
            .postgres(pg_url.clone())
            .index_dir(work.path().join(dir))
            .allowed_roots([tree.path()])
            .build()
    };
    let p = build(config.clone(), "index-a").await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(pipeline::http::serve_listener(
        listener,
        p,
        ServerConfig {
            listen: addr.clone(),
            body_limit: 1 << 20,
            ..ServerConfig::default()
        },
        async {
            let _ = stopped.await;
        },
    ));

    let mut sent: Vec<(String, Vec<u8>)> = Vec::new();
    let mut covered: BTreeSet<String> = BTreeSet::new();
    let mut redacted_findings = 0usize;
    let pack = |query: String, level: &str| {
        let mut r = Request::new(query, tree.path());
        r.max_tokens = 400_000;
        r.tenant = tenant.clone();
        r.security_level = level.parse().unwrap();
        serde_json::to_string(&r).unwrap()
    };
    // One broad pack, then one per file the broad one left out, then each again (L1 hits).
    let mut queries = vec!["credential settings integration".to_string()];
    for round in 0..2 {
        for q in queries.clone() {
            let (status, body) = call(&addr, "POST", "/v1/pack", &pack(q.clone(), "public")).await;
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
            let resp: Response = serde_json::from_slice(&body).unwrap();
            if round == 1 {
                assert_eq!(resp.cache_level, CacheLevel::L1, "a repeat of `{q}`");
            }
            covered.extend(resp.chunks.iter().map(|c| c.path.clone()));
            redacted_findings += resp.findings.iter().filter(|f| f.redacted).count();
            assert!(resp.findings.iter().all(|f| f.redacted));
            sent.push((format!("response to `{q}`"), body));
        }
        if round == 0 {
            queries = planted
                .iter()
                .filter(|p| !covered.contains(&p.path))
                .map(|p| {
                    format!(
                        "credential settings {} {}",
                        p.rule.replace('-', " "),
                        p.path
                    )
                })
                .collect();
            for q in queries.clone() {
                let (status, body) =
                    call(&addr, "POST", "/v1/pack", &pack(q.clone(), "public")).await;
                assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
                let resp: Response = serde_json::from_slice(&body).unwrap();
                covered.extend(resp.chunks.iter().map(|c| c.path.clone()));
                sent.push((format!("response to `{q}`"), body));
            }
            queries.insert(0, "credential settings integration".to_string());
        }
    }
    let uncovered: Vec<&str> = planted
        .iter()
        .filter(|p| !covered.contains(&p.path))
        .map(|p| p.path.as_str())
        .collect();
    assert!(
        uncovered.len() * 100 <= planted.len() * 2,
        "the packs left out too many planted files, so the search would not be real: {uncovered:?}"
    );
    assert!(redacted_findings >= planted.len() - uncovered.len());

    // A caller cleared for everything gets the secrets in its response (by design), but such a
    // pack is never stored: the tiers below must still be clean.
    let (status, _classified) = call(
        &addr,
        "POST",
        "/v1/pack",
        &pack("credential settings integration".into(), "classified"),
    )
    .await;
    assert_eq!(status, 200);

    // The other endpoints: scan findings name rules, never values; errors never echo them.
    for p in planted.iter().take(20) {
        let text = std::fs::read_to_string(tree.path().join(&p.path)).unwrap();
        let body = serde_json::json!({ "text": text, "path": p.path }).to_string();
        let (status, out) = call(&addr, "POST", "/v1/scan", &body).await;
        assert_eq!(status, 200);
        sent.push((format!("scan of {}", p.path), out));
        let body = serde_json::json!({ "text": text }).to_string();
        let (status, out) = call(&addr, "POST", "/v1/redact", &body).await;
        assert_eq!(status, 200);
        sent.push((format!("redact of {}", p.path), out));
        let bad = serde_json::json!({ "query": text, "root": "/nonexistent/x" }).to_string();
        let (status, out) = call(&addr, "POST", "/v1/pack", &bad).await;
        assert_eq!(status, 400);
        sent.push((format!("error for a query holding {}", p.path), out));
    }
    for path in ["/metrics", "/v1/stats", "/healthz"] {
        let (status, out) = call(&addr, "GET", path, "").await;
        assert_eq!(status, 200, "{path}");
        sent.push((path.to_string(), out));
    }

    // A second process with an empty L1 is served the same packs from L2: decode path too.
    let other = build(config.clone(), "index-b").await.unwrap();
    let mut r = Request::new("credential settings integration", tree.path());
    r.max_tokens = 400_000;
    r.tenant = tenant.clone();
    let again = other.process(r).await.unwrap();
    assert_eq!(again.cache_level, CacheLevel::L2);
    sent.push((
        "L2 response to a second process".into(),
        serde_json::to_vec(&again).unwrap(),
    ));
    other.shutdown(Duration::from_secs(5)).await;

    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();

    let mut found = Vec::new();
    for (what, bytes) in &sent {
        found.extend(leaks(&planted, what, bytes));
    }
    let redis = redis_values(&redis_url).await;
    assert!(
        redis.iter().any(|(k, _)| k.contains(&tenant)),
        "the packs were stored in Redis under the tenant"
    );
    for (key, forms) in &redis {
        for f in forms {
            found.extend(leaks(&planted, &format!("redis {key}"), f));
        }
    }
    let pg = postgres_values(&pg_url).await;
    assert!(
        pg.iter().any(|(k, _)| k.contains(&tenant)),
        "the packs were stored in PostgreSQL under the tenant"
    );
    for (key, forms) in &pg {
        for f in forms {
            found.extend(leaks(&planted, &format!("postgres {key}"), f));
        }
    }
    let audit_text = std::fs::read(&audit).unwrap();
    assert!(
        audit_text
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count()
            >= planted.len() / 2,
        "the audit file records the findings"
    );
    for line in audit_text.split(|&b| b == b'\n') {
        found.extend(leaks(&planted, "the audit file", line));
    }
    let log = logs.0.lock().unwrap().clone();
    assert!(!log.is_empty(), "tracing captured the service's logs");
    found.extend(leaks(&planted, "the logs", &log));

    found.sort();
    found.dedup();
    assert!(found.is_empty(), "planted secrets leaked: {found:#?}");
}
