//! The whole pipeline, measured the way a user runs it, beside the naive path.
//!
//! The naive path is what a user does without the pipeline: read the whole tree and send it
//! (here: read every file the walker admits and count its tokens, once per request). Measured:
//! a cold pack (fresh index), warm-cache pack latency in process (p50, p99), CPU-seconds and
//! peak memory per 1,000 requests, end-to-end latency at 1 / 64 / 1,000 / 10,000 concurrent
//! requests in process, and HTTP throughput and latency (a keep-alive load generator in a child
//! process, on the same 2 cores) beside a bare axum handler returning a response of the same
//! size (the HTTP stack's own ceiling). The load generator runs in its own process so that
//! 10,000 client sockets and 10,000 server sockets do not share one descriptor limit.

use bench_support::{Bench, Record};
use hdrhistogram::Histogram;
use pipeline::config::ServerConfig;
use pipeline::{Pipeline, Request};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const QUERY: &str = "how are cache misses loaded and promoted between tiers";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// CPU seconds (user + system) of this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |x| x.1);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// The naive path once: every file the walker admits, read and counted.
fn naive(root: &Path, tok: &pipeline::token_opt::Tokenizer) -> usize {
    let mut tokens = 0;
    for e in ignore::WalkBuilder::new(root).build().flatten() {
        if e.file_type().is_some_and(|t| t.is_file()) {
            if let Ok(text) = std::fs::read_to_string(e.path()) {
                tokens += tok.count(&text);
            }
        }
    }
    tokens
}

fn hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("histogram bounds are valid")
}

fn us(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1e3
}

/// One keep-alive connection: sends `body` to `path` until `stop`, recording latencies.
async fn http_client(
    addr: String,
    path: &'static str,
    body: Arc<String>,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicU64>,
    ready: Arc<AtomicU64>,
    measuring: Arc<AtomicBool>,
) -> Histogram<u64> {
    let mut h = hist();
    let mut first = true;
    let Ok(mut s) = tokio::net::TcpStream::connect(&addr).await else {
        return h;
    };
    let _ = s.set_nodelay(true);
    let req = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut buf = vec![0u8; 1 << 16];
    let mut have = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        if s.write_all(req.as_bytes()).await.is_err() {
            break;
        }
        // Read one response: headers, then content-length bytes.
        let total = loop {
            if let Some(end) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                break Some(end + 4 + len);
            }
            if have == buf.len() {
                buf.resize(buf.len() * 2, 0);
            }
            match s.read(&mut buf[have..]).await {
                Ok(0) | Err(_) => break None,
                Ok(n) => have += n,
            }
        };
        let Some(total) = total else { break };
        if buf.len() < total {
            buf.resize(total, 0);
        }
        while have < total {
            match s.read(&mut buf[have..]).await {
                Ok(0) | Err(_) => return h,
                Ok(n) => have += n,
            }
        }
        buf.copy_within(total..have, 0);
        have -= total;
        // Latency counts only inside the measured window (not the warm-up's connects).
        if measuring.load(Ordering::Relaxed) {
            let _ = h.record(t.elapsed().as_nanos() as u64);
        }
        done.fetch_add(1, Ordering::Relaxed);
        if std::mem::take(&mut first) {
            ready.fetch_add(1, Ordering::Relaxed);
        }
    }
    h
}

/// Requests per second and latency percentiles of `conns` keep-alive connections for `secs`.
async fn load(
    addr: &str,
    path: &'static str,
    body: &str,
    conns: usize,
    secs: f64,
) -> (f64, Histogram<u64>, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let ready = Arc::new(AtomicU64::new(0));
    let measuring = Arc::new(AtomicBool::new(false));
    let body = Arc::new(body.to_string());
    let tasks: Vec<_> = (0..conns)
        .map(|_| {
            tokio::spawn(http_client(
                addr.to_string(),
                path,
                body.clone(),
                stop.clone(),
                done.clone(),
                ready.clone(),
                measuring.clone(),
            ))
        })
        .collect();
    // Warm-up (at least 200 ms, and until every connection has had a response, at most 10 s:
    // 10,000 connects overflow the listen backlog and some retry after a second), then the
    // measured window.
    let warm = Instant::now();
    tokio::time::sleep(Duration::from_millis(200)).await;
    while ready.load(Ordering::Relaxed) < conns as u64 && warm.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    measuring.store(true, Ordering::Relaxed);
    let start_n = done.load(Ordering::Relaxed);
    let t = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    let n = done.load(Ordering::Relaxed) - start_n;
    let rate = n as f64 / t.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut h = hist();
    for t in tasks {
        if let Ok(x) = t.await {
            let _ = h.add(x);
        }
    }
    (rate, h, ready.load(Ordering::Relaxed))
}

/// The load generator in a child process (this binary with `--http-load`): `conns` keep-alive
/// connections for `secs`; returns (req/s, p50 ms, p99 ms, connections that got a response).
fn load_http(addr: &str, path: &str, body: &str, conns: usize, secs: f64) -> (f64, f64, f64, f64) {
    let failed = (0.0, 0.0, 0.0, 0.0);
    let Ok(exe) = std::env::current_exe() else {
        return failed;
    };
    let Ok(mut body_file) = tempfile::NamedTempFile::new() else {
        return failed;
    };
    if std::io::Write::write_all(&mut body_file, body.as_bytes()).is_err() {
        return failed;
    }
    let out = std::process::Command::new(exe)
        .arg("--http-load")
        .args([addr, path, &conns.to_string(), &secs.to_string()])
        .arg(body_file.path())
        .output();
    let Ok(out) = out else { return failed };
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Vec<f64> = text
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    match v.as_slice() {
        [rate, p50, p99, ready] => (*rate, *p50, *p99, *ready),
        _ => {
            eprintln!(
                "pipeline bench: the load generator failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            failed
        }
    }
}

/// Child-process side of [`load_http`]: prints `rate p50_ms p99_ms ready`.
fn http_load_child(args: &[String]) {
    let [addr, path, conns, secs, body_path] = args else {
        eprintln!("usage: --http-load ADDR PATH CONNS SECS BODY_FILE");
        std::process::exit(2);
    };
    let path: &'static str = Box::leak(path.clone().into_boxed_str());
    let conns: usize = conns.parse().unwrap_or(1);
    let secs: f64 = secs.parse().unwrap_or(1.0);
    let body = std::fs::read_to_string(body_path).unwrap_or_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let (rate, h, ready) = rt.block_on(load(addr, path, &body, conns, secs));
    println!(
        "{rate} {} {} {ready}",
        us(&h, 0.5) / 1e3,
        us(&h, 0.99) / 1e3
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--http-load") {
        http_load_child(args.get(2..).unwrap_or_default());
        return;
    }
    let mut bench = Bench::from_args("pipeline");
    let quick = bench.quick;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let root = if quick {
        workspace().join("crates/keyword-trie")
    } else {
        workspace().join("crates")
    };
    let root = std::fs::canonicalize(&root).unwrap_or(root);
    let tok = pipeline::token_opt::Tokenizer::new(pipeline::token_opt::Encoding::O200k)
        .expect("o200k is compiled in");
    let index_dir = tempfile::tempdir().expect("a temp dir");

    rt.block_on(async {
        // Cold: a fresh index of the tree, then the pack.
        let p = Pipeline::builder().index_dir(index_dir.path()).build().await.expect("pipeline");
        let t = Instant::now();
        let cold = p.process(Request::new(QUERY, &root)).await.expect("cold pack");
        let cold_ms = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let whole = naive(&root, &tok);
        let naive_ms = t.elapsed().as_secs_f64() * 1e3;
        bench.record(
            Record::lower_is_better("cold pack (walk, chunk, index, rank, select, redact, compress)", "latency", "ms", cold_ms)
                .with_peer("naive: read + count the whole tree", naive_ms)
                .with_note(&format!("tree {} ; pack {} tokens of {} in the whole tree", root.display(), cold.tokens_used, whole)),
        );
        bench.record(
            Record::higher_is_better("tokens sent per request", "reduction", "x", whole as f64 / cold.tokens_used.max(1) as f64)
                .with_note("whole tree tokens / pack tokens (default 8k budget)"),
        );

        // Warm, in process, sequential.
        let n = if quick { 200 } else { 20_000 };
        let req = Request::new(QUERY, &root);
        let _ = p.process(req.clone()).await;
        let mut h = hist();
        let cpu0 = cpu_seconds();
        for _ in 0..n {
            let t = Instant::now();
            let r = p.process(req.clone()).await.expect("warm pack");
            let _ = h.record(t.elapsed().as_nanos() as u64);
            std::hint::black_box(r);
        }
        let cpu_ours = (cpu_seconds() - cpu0) * 1000.0 / n as f64;
        let naive_n = if quick { 3 } else { 50 };
        let mut nh = hist();
        let cpu1 = cpu_seconds();
        for _ in 0..naive_n {
            let t = Instant::now();
            std::hint::black_box(naive(&root, &tok));
            let _ = nh.record(t.elapsed().as_nanos() as u64);
        }
        let cpu_naive = (cpu_seconds() - cpu1) * 1000.0 / naive_n as f64;
        bench.record(
            Record::lower_is_better("warm pack in process", "p50 latency", "us", us(&h, 0.5))
                .with_peer("naive path", us(&nh, 0.5)),
        );
        let p99 = us(&h, 0.99);
        bench.record(
            Record::lower_is_better("warm pack in process", "p99 latency", "us", p99)
                .with_peer("naive path", us(&nh, 0.99))
                .with_target("< 100 us", p99 < 100.0),
        );
        bench.record(
            Record::lower_is_better("1,000 warm requests", "CPU", "s", cpu_ours)
                .with_peer("naive path", cpu_naive)
                .with_note(&format!("naive measured over {naive_n} requests and scaled; /proc/self/stat has 10 ms resolution")),
        );
        bench.record(Record::lower_is_better("whole run", "peak memory", "MB", bench_support::peak_rss_bytes() as f64 / 1e6));

        // In process at 1 / 64 / 1,000 / 10,000 concurrent requests (warm, distinct ids).
        let levels: &[usize] = if quick { &[1, 64] } else { &[1, 64, 1000, 10_000] };
        for &c in levels {
            let rounds = if quick { 2 } else { (200_000 / c).clamp(3, 1000) };
            let mut h = hist();
            let t = Instant::now();
            let mut total = 0u64;
            for _ in 0..rounds {
                let futs = (0..c).map(|_| {
                    let p = p.clone();
                    let req = req.clone();
                    async move {
                        let t = Instant::now();
                        let ok = p.process(req).await.is_ok();
                        (ok, t.elapsed())
                    }
                });
                for (ok, d) in futures::future::join_all(futs).await {
                    if ok {
                        let _ = h.record(d.as_nanos() as u64);
                        total += 1;
                    }
                }
            }
            let rate = total as f64 / t.elapsed().as_secs_f64();
            bench.record(Record::higher_is_better(&format!("in process, {c} concurrent"), "throughput", "req/s", rate).with_point("in-process throughput", c as f64));
            bench.record(Record::lower_is_better(&format!("in process, {c} concurrent"), "p99 latency", "ms", us(&h, 0.99) / 1e3).with_point("in-process p99 latency", c as f64));
        }

        // Over HTTP: the service on loopback, a keep-alive load generator in a child process.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let config = ServerConfig { listen: addr.clone(), allowed_roots: vec![root.clone()], ..ServerConfig::default() };
        let server = tokio::spawn(pipeline::http::serve_listener(listener, p.clone(), config, async {
            let _ = stop_rx.await;
        }));
        let body = serde_json::json!({"query": QUERY, "root": root}).to_string();
        let sample = serde_json::to_string(&p.process(req.clone()).await.expect("pack")).unwrap_or_default();

        // The bare HTTP stack: axum returning a body of the same size.
        let bare_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let bare_addr = bare_listener.local_addr().expect("addr").to_string();
        let sample = Arc::new(sample);
        let app = axum::Router::new().route(
            "/v1/pack",
            axum::routing::post(move || {
                let s = sample.clone();
                async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], (*s).clone()) }
            }),
        );
        let bare = tokio::spawn(async move { axum::serve(bare_listener, app).await });

        let secs = if quick { 0.3 } else { 3.0 };
        let http_levels: &[usize] = if quick { &[1, 64] } else { &[1, 64, 1000, 10_000] };
        for &c in http_levels {
            let (a, b, bo) = (addr.clone(), bare_addr.clone(), body.clone());
            let ((rate, p50, p99, ready), (bare_rate, _, _, bare_ready)) = tokio::task::spawn_blocking(move || {
                (load_http(&a, "/v1/pack", &bo, c, secs), load_http(&b, "/v1/pack", &bo, c, secs))
            })
            .await
            .unwrap_or_default();
            let mut r = Record::higher_is_better(&format!("HTTP warm pack, {c} connections"), "throughput", "req/s", rate)
                .with_peer("bare axum, same body size", bare_rate)
                .with_point("HTTP throughput", c as f64)
                .with_note(&format!("connections served: ours {ready}, bare axum {bare_ready} of {c}; load generator in a child process"));
            if c == 64 {
                r = r.with_target(">= 20,000 req/s", rate >= 20_000.0);
            }
            bench.record(r);
            bench.record(Record::lower_is_better(&format!("HTTP warm pack, {c} connections"), "p99 latency", "ms", p99).with_point("HTTP p99 latency", c as f64));
            bench.record(Record::lower_is_better(&format!("HTTP warm pack, {c} connections"), "p50 latency", "ms", p50).with_point("HTTP p50 latency", c as f64));
        }
        let _ = stop_tx.send(());
        let _ = server.await;
        bare.abort();
    });
    bench.finish();
}
