//! `cargo xtask chaos [--seconds N] [--rate R] [--clients C] [--bin PATH]`: the HTTP service
//! under a bounded, steady load on loopback while Redis and PostgreSQL are stopped and
//! restarted, and while clients drop their connections mid-request.
//!
//! It starts a private Redis and PostgreSQL (`test_services`), builds `pipeline` in release
//! (or takes `--bin`), and runs three instances of `pipeline serve` against the workspace's
//! `crates/` directory: `writer` and `reader` with both tiers, and `l3-reader` with PostgreSQL
//! only. Keep-alive clients send a mix of repeated questions (any instance; mostly L1 hits),
//! new questions (to `writer`: computed, stored in L2 and L3) and repeats of those new
//! questions (to `reader`, which can only answer them from L2, else L3; and to `l3-reader`,
//! which can only answer them from L3). So an L2 or L3 hit is visible in a response's
//! `cache_level`, and the time to recover is the time from a server's return to the first
//! request started after it that the returned tier answered.
//!
//! Phases, each `--seconds` long: baseline, Redis down, Redis back, PostgreSQL down,
//! PostgreSQL back, both down, both back, and a phase in which extra clients send half a
//! request (or a whole one) and hang up. The report (requests sent / succeeded / failed,
//! p50 / p99 latency and cache levels per phase, time to recover per tier) goes to
//! `target/chaos/report.json` and a table on stdout. It fails when a request of the steady
//! clients failed, or a tier took more than 5 s to recover (or never did).

use crate::util;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use test_services::{PostgresServer, RedisServer};

const RECOVERY_LIMIT: Duration = Duration::from_secs(5);

const TOPICS: &[&str] = &[
    "how are cache misses loaded from redis",
    "where does the postgres tier create its table",
    "how does secret redaction pick a placeholder",
    "how is the token budget fitted",
    "how does the keyword router score a query",
    "when does the circuit breaker open",
    "how are rust files chunked",
    "how does the connection pool hand out connections",
];

struct Options {
    seconds: u64,
    rate: f64,
    clients: usize,
    bin: Option<PathBuf>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        seconds: 6,
        rate: 20.0,
        clients: 4,
        bin: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match a.as_str() {
            "--seconds" => {
                o.seconds = value("--seconds")?
                    .parse()
                    .map_err(|e| format!("--seconds: {e}"))?
            }
            "--rate" => {
                o.rate = value("--rate")?
                    .parse()
                    .map_err(|e| format!("--rate: {e}"))?
            }
            "--clients" => {
                o.clients = value("--clients")?
                    .parse()
                    .map_err(|e| format!("--clients: {e}"))?
            }
            "--bin" => {
                // The instances start in their own directory: resolve a relative path now.
                let given = PathBuf::from(value("--bin")?);
                let bin = std::fs::canonicalize(&given)
                    .map_err(|e| format!("chaos: --bin {}: {e}", given.display()))?;
                o.bin = Some(bin);
            }
            other => return Err(format!("chaos: unknown argument `{other}`")),
        }
    }
    if o.seconds == 0 || o.seconds > 600 {
        return Err("--seconds must be between 1 and 600".into());
    }
    if !(o.rate > 0.0 && o.rate <= 1000.0) {
        return Err("--rate must be between 0 and 1000 requests per second".into());
    }
    o.clients = o.clients.clamp(1, 64);
    Ok(o)
}

/// One instance of `pipeline serve`.
struct Instance {
    name: &'static str,
    addr: String,
    child: Child,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_instance(
    name: &'static str,
    bin: &Path,
    root: &Path,
    work: &Path,
    redis: Option<&str>,
    postgres: Option<&str>,
) -> Result<Instance, String> {
    let port = test_services::free_port().map_err(|e| e.to_string())?;
    let addr = format!("127.0.0.1:{port}");
    let cache = work.join(name);
    std::fs::create_dir_all(&cache).map_err(|e| e.to_string())?;
    let log = std::fs::File::create(work.join(format!("{name}.log"))).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(bin);
    cmd.current_dir(&cache)
        .env("XDG_CACHE_HOME", &cache)
        .env("RUST_LOG", "warn")
        .env_remove("PIPELINE_REDIS_URL")
        .env_remove("PIPELINE_POSTGRES_URL")
        .env_remove("PIPELINE_TOKEN");
    if let Some(u) = redis {
        cmd.arg("--redis").arg(u);
    }
    if let Some(u) = postgres {
        cmd.arg("--postgres").arg(u);
    }
    cmd.args(["serve", "--listen", &addr, "--allow-root"])
        .arg(root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let inst = Instance { name, addr, child };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(mut c) = Client::connect(&inst.addr) {
            if let Ok((200, _)) = c.request("GET", "/healthz", "") {
                return Ok(inst);
            }
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{name} did not answer /healthz within 30 s (see {})",
                work.join(format!("{name}.log")).display()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A keep-alive HTTP/1.1 client over a std TcpStream (the service is ours; bodies have a
/// content-length).
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(addr: &str) -> std::io::Result<Client> {
        let s = TcpStream::connect(addr)?;
        s.set_read_timeout(Some(Duration::from_secs(60)))?;
        s.set_nodelay(true)?;
        Ok(Client {
            writer: s.try_clone()?,
            reader: BufReader::new(s),
        })
    }

    fn request(&mut self, method: &str, path: &str, body: &str) -> std::io::Result<(u16, Vec<u8>)> {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nhost: chaos\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        self.writer.write_all(head.as_bytes())?;
        self.writer.write_all(body.as_bytes())?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line `{}`", line.trim())))?;
        let mut len = 0usize;
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(std::io::Error::other("connection closed in the headers"));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; len];
        self.reader.read_exact(&mut body)?;
        Ok((status, body))
    }
}

/// One request's outcome.
#[derive(Clone)]
struct Sample {
    start: Duration,
    latency_ms: f64,
    ok: bool,
    error: Option<String>,
    instance: &'static str,
    level: String,
}

struct Shared {
    samples: Mutex<Vec<Sample>>,
    repeats: Mutex<VecDeque<(String, u8)>>,
    next_new: AtomicU64,
    stop: AtomicBool,
    t0: Instant,
}

fn pack_body(query: &str, root: &Path) -> String {
    json!({ "query": query, "root": root, "max_tokens": 2000 }).to_string()
}

fn client_loop(
    id: usize,
    shared: Arc<Shared>,
    addrs: Vec<(&'static str, String)>,
    root: PathBuf,
    interval: Duration,
) {
    let mut conns: Vec<Option<Client>> = addrs.iter().map(|_| None).collect();
    let mut n = id as u64;
    let mut next = Instant::now() + interval.mul_f64((id as f64) / 4.0);
    while !shared.stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
        next += interval;
        n += 1;
        // 0: writer, 1: reader, 2: l3-reader.
        let mut fresh = None;
        let mut stage = 0u8;
        let (target, query) = match n % 10 {
            0..=3 => (
                (n as usize / 10) % addrs.len(),
                TOPICS[(n as usize * 7) % TOPICS.len()].to_string(),
            ),
            4..=6 => {
                let k = shared.next_new.fetch_add(1, Ordering::Relaxed);
                let q = format!("{} variant{k}", TOPICS[k as usize % TOPICS.len()]);
                fresh = Some(q.clone());
                (0, q)
            }
            _ => {
                // A repeat of the newest question `writer` has answered: first at `reader`,
                // then at `l3-reader`.
                let q = shared.repeats.lock().ok().and_then(|mut r| r.pop_back());
                match q {
                    Some((q, 0)) => {
                        stage = 1;
                        (1, q)
                    }
                    Some((q, _)) => (2, q),
                    None => (1, TOPICS[n as usize % TOPICS.len()].to_string()),
                }
            }
        };
        let body = pack_body(&query, &root);
        let start = shared.t0.elapsed();
        let began = Instant::now();
        let mut result = Err(String::new());
        // A connection the server closed while idle is reopened once; a request that fails
        // on a fresh connection is a failure.
        for attempt in 0..2 {
            if conns[target].is_none() {
                match Client::connect(&addrs[target].1) {
                    Ok(c) => conns[target] = Some(c),
                    Err(e) => {
                        result = Err(format!("connect: {e}"));
                        break;
                    }
                }
            }
            let Some(c) = conns[target].as_mut() else {
                break;
            };
            match c.request("POST", "/v1/pack", &body) {
                Ok((200, bytes)) => {
                    let level = serde_json::from_slice::<Value>(&bytes)
                        .ok()
                        .and_then(|v| v["cache_level"].as_str().map(str::to_string))
                        .unwrap_or_default();
                    result = Ok(level);
                    let again = match (&fresh, stage) {
                        (Some(q), _) => Some((q.clone(), 0)),
                        (None, 1) => Some((query.clone(), 1)),
                        _ => None,
                    };
                    // Newest first, and only the last few: a repeat follows its question
                    // closely, so a tier's return shows in the next repeats, not after a
                    // backlog of questions asked while it was away.
                    if let (Some(item), Ok(mut r)) = (again, shared.repeats.lock()) {
                        r.push_back(item);
                        if r.len() > 16 {
                            r.pop_front();
                        }
                    }
                    break;
                }
                Ok((status, bytes)) => {
                    result = Err(format!(
                        "HTTP {status}: {}",
                        String::from_utf8_lossy(&bytes)
                    ));
                    break;
                }
                Err(e) => {
                    conns[target] = None;
                    result = Err(format!("I/O: {e}"));
                    if attempt == 1 {
                        break;
                    }
                }
            }
        }
        let latency_ms = began.elapsed().as_secs_f64() * 1e3;
        let sample = match result {
            Ok(level) => Sample {
                start,
                latency_ms,
                ok: true,
                error: None,
                instance: addrs[target].0,
                level,
            },
            Err(e) => Sample {
                start,
                latency_ms,
                ok: false,
                error: Some(e),
                instance: addrs[target].0,
                level: String::new(),
            },
        };
        if let Ok(mut s) = shared.samples.lock() {
            s.push(sample);
        }
    }
}

/// `/healthz` samples: (time since start, instance, L2 state, L3 state).
type HealthLog = Arc<Mutex<Vec<(Duration, &'static str, String, String)>>>;

fn health_loop(shared: Arc<Shared>, addrs: Vec<(&'static str, String)>, out: HealthLog) {
    while !shared.stop.load(Ordering::Relaxed) {
        for (name, addr) in &addrs {
            let Ok(Ok((_, body))) =
                Client::connect(addr).map(|mut c| c.request("GET", "/healthz", ""))
            else {
                continue;
            };
            let v: Value = serde_json::from_slice(&body).unwrap_or_default();
            let state = |tier: &str| {
                v["tiers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|t| t["tier"] == tier)
                    .and_then(|t| t["state"].as_str())
                    .unwrap_or("none")
                    .to_string()
            };
            if let Ok(mut o) = out.lock() {
                o.push((shared.t0.elapsed(), name, state("l2"), state("l3")));
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Clients that hang up mid-request: half a body, or a whole request without reading.
fn dropper_loop(
    shared: Arc<Shared>,
    addrs: Vec<(&'static str, String)>,
    root: PathBuf,
    until: Instant,
    dropped: Arc<AtomicUsize>,
) {
    let mut n = 0usize;
    while Instant::now() < until && !shared.stop.load(Ordering::Relaxed) {
        n += 1;
        let addr = &addrs[n % addrs.len()].1;
        let body = pack_body(&format!("{} dropped{n}", TOPICS[n % TOPICS.len()]), &root);
        if let Ok(mut s) = TcpStream::connect(addr) {
            let head = format!(
                "POST /v1/pack HTTP/1.1\r\nhost: chaos\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            if n.is_multiple_of(2) {
                let _ = s.write_all(&body.as_bytes()[..body.len() / 2]);
            } else {
                let _ = s.write_all(body.as_bytes());
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = s.shutdown(std::net::Shutdown::Both);
            dropped.fetch_add(1, Ordering::Relaxed);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

struct Phase {
    name: &'static str,
    start: Duration,
    end: Duration,
}

/// Copies the source files (`rs`, `toml`, `md`, under 256 KiB) of `from` to `to`, skipping
/// build output, fuzz corpora and hidden directories; returns the number of files.
fn snapshot(from: &Path, to: &Path) -> Result<usize, String> {
    let mut count = 0;
    let mut stack = vec![from.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if !name.starts_with('.')
                    && !["target", "corpus", "artifacts"].contains(&name.as_str())
                {
                    stack.push(path);
                }
                continue;
            }
            let wanted = kind.is_file()
                && ["rs", "toml", "md"]
                    .iter()
                    .any(|e| name.ends_with(&format!(".{e}")))
                && entry.metadata().is_ok_and(|m| m.len() < 256 << 10);
            if !wanted {
                continue;
            }
            let rel = path.strip_prefix(from).map_err(|e| e.to_string())?;
            let dest = to.join(rel);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            std::fs::copy(&path, &dest).map_err(|e| format!("{}: {e}", path.display()))?;
            count += 1;
        }
    }
    Ok(count)
}

fn build_binary() -> Result<PathBuf, String> {
    util::run(
        "chaos: build",
        util::cargo().args(["build", "--release", "-p", "pipeline", "--bin", "pipeline"]),
    )?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                util::root().join(p)
            }
        })
        .unwrap_or_else(|| util::root().join("target"));
    let bin = target.join("release").join("pipeline");
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!("built, but {} is missing", bin.display()))
    }
}

/// Runs the chaos scenario; see the module docs.
pub fn run(args: &[String]) -> Result<(), String> {
    let opts = parse(args)?;
    let bin = match &opts.bin {
        Some(b) => b.clone(),
        None => build_binary()?,
    };
    let out_dir = util::root().join("target").join("chaos");
    std::fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;
    let work = out_dir.join("work");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    // A snapshot of crates/ (sources only): a tree edited during the run would change the
    // index version, and with it every cache key, which is not what this measures.
    let root = work.join("tree");
    let files = snapshot(&util::root().join("crates"), &root)?;
    eprintln!(
        "==> [chaos] tree: {files} files copied from crates/ to {}",
        root.display()
    );

    eprintln!("==> [chaos] starting private Redis and PostgreSQL");
    let mut redis = RedisServer::start().map_err(|e| format!("redis: {e}"))?;
    let mut pg = PostgresServer::start().map_err(|e| format!("postgres: {e}"))?;
    let (ru, pu) = (redis.url(), pg.url());
    eprintln!(
        "==> [chaos] starting three `pipeline serve` instances ({})",
        bin.display()
    );
    let writer = start_instance("writer", &bin, &root, &work, Some(&ru), Some(&pu))?;
    let reader = start_instance("reader", &bin, &root, &work, Some(&ru), Some(&pu))?;
    let l3 = start_instance("l3-reader", &bin, &root, &work, None, Some(&pu))?;
    let addrs: Vec<(&'static str, String)> = [&writer, &reader, &l3]
        .iter()
        .map(|i| (i.name, i.addr.clone()))
        .collect();
    // Warm every instance's index so the baseline measures the steady state.
    for (name, addr) in &addrs {
        let mut c = Client::connect(addr).map_err(|e| format!("{name}: {e}"))?;
        let (status, body) = c
            .request("POST", "/v1/pack", &pack_body(TOPICS[0], &root))
            .map_err(|e| format!("{name}: {e}"))?;
        if status != 200 {
            return Err(format!(
                "{name}: warm-up answered {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
    }

    let shared = Arc::new(Shared {
        samples: Mutex::new(Vec::new()),
        repeats: Mutex::new(VecDeque::new()),
        next_new: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        t0: Instant::now(),
    });
    let interval = Duration::from_secs_f64(opts.clients as f64 / opts.rate);
    let mut threads = Vec::new();
    for id in 0..opts.clients {
        let (s, a, r) = (shared.clone(), addrs.clone(), root.clone());
        threads.push(std::thread::spawn(move || {
            client_loop(id, s, a, r, interval)
        }));
    }
    // Each instance's view of its tiers (`/healthz`: up, recovering, down) every 250 ms.
    let health: HealthLog = Arc::default();
    {
        let (s, a, h) = (shared.clone(), addrs.clone(), health.clone());
        threads.push(std::thread::spawn(move || health_loop(s, a, h)));
    }
    let phase_len = Duration::from_secs(opts.seconds);
    let mut phases: Vec<Phase> = Vec::new();
    let mut returns: Vec<(&'static str, &'static str, Duration)> = Vec::new(); // (tier, phase, at)
    let dropped = Arc::new(AtomicUsize::new(0));
    let steps: [(&str, &str); 8] = [
        ("baseline", ""),
        ("redis down", "stop redis"),
        ("redis back", "start redis"),
        ("postgres down", "stop postgres"),
        ("postgres back", "start postgres"),
        ("both down", "stop both"),
        ("both back", "start both"),
        ("clients drop", "drop"),
    ];
    for (name, action) in steps {
        eprintln!("==> [chaos] phase `{name}` ({} s)", opts.seconds);
        let start = shared.t0.elapsed();
        match action {
            "stop redis" => redis.stop().map_err(|e| e.to_string())?,
            "stop postgres" => pg.stop().map_err(|e| e.to_string())?,
            "stop both" => {
                redis.stop().map_err(|e| e.to_string())?;
                pg.stop().map_err(|e| e.to_string())?;
            }
            "start redis" => {
                redis.restart().map_err(|e| e.to_string())?;
                returns.push(("l2", name, shared.t0.elapsed()));
            }
            "start postgres" => {
                pg.restart().map_err(|e| e.to_string())?;
                returns.push(("l3", name, shared.t0.elapsed()));
            }
            "start both" => {
                redis.restart().map_err(|e| e.to_string())?;
                returns.push(("l2", name, shared.t0.elapsed()));
                pg.restart().map_err(|e| e.to_string())?;
                returns.push(("l3", name, shared.t0.elapsed()));
            }
            "drop" => {
                let until = Instant::now() + phase_len;
                for _ in 0..2 {
                    let (s, a, r, d) =
                        (shared.clone(), addrs.clone(), root.clone(), dropped.clone());
                    threads.push(std::thread::spawn(move || dropper_loop(s, a, r, until, d)));
                }
            }
            _ => {}
        }
        std::thread::sleep(phase_len);
        phases.push(Phase {
            name,
            start,
            end: shared.t0.elapsed(),
        });
    }
    shared.stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    // The instances are still the same processes: none restarted.
    let mut restarted = Vec::new();
    for inst in [&writer, &reader, &l3] {
        let alive = Client::connect(&inst.addr)
            .and_then(|mut c| c.request("GET", "/healthz", ""))
            .is_ok_and(|(s, _)| s == 200);
        if !alive {
            restarted.push(inst.name);
        }
    }
    let samples = shared.samples.lock().map(|s| s.clone()).unwrap_or_default();
    drop((writer, reader, l3));
    let _ = redis.stop();
    let _ = pg.stop();

    // Per phase figures.
    let mut rows = Vec::new();
    let mut baseline_p99 = 0.0;
    let mut problems: Vec<String> = Vec::new();
    for ph in &phases {
        let in_phase: Vec<&Sample> = samples
            .iter()
            .filter(|s| s.start >= ph.start && s.start < ph.end)
            .collect();
        let mut lat: Vec<f64> = in_phase
            .iter()
            .filter(|s| s.ok)
            .map(|s| s.latency_ms)
            .collect();
        lat.sort_by(f64::total_cmp);
        let failed: Vec<&&Sample> = in_phase.iter().filter(|s| !s.ok).collect();
        let count = |lvl: &str| in_phase.iter().filter(|s| s.ok && s.level == lvl).count();
        let p99 = percentile(&lat, 0.99);
        if ph.name == "baseline" {
            baseline_p99 = p99;
        }
        for f in failed.iter().take(3) {
            problems.push(format!(
                "phase `{}`: a request to {} failed: {}",
                ph.name,
                f.instance,
                f.error.as_deref().unwrap_or("?")
            ));
        }
        rows.push(json!({
            "phase": ph.name,
            "seconds": (ph.end - ph.start).as_secs_f64(),
            "sent": in_phase.len(),
            "succeeded": in_phase.len() - failed.len(),
            "failed": failed.len(),
            "p50_ms": percentile(&lat, 0.5),
            "p99_ms": p99,
            "p99_vs_baseline": if baseline_p99 > 0.0 { p99 / baseline_p99 } else { 0.0 },
            "miss": count("miss"), "l1": count("l1"), "l2": count("l2"), "l3": count("l3"),
        }));
    }
    // Time to recover: from a server's return to the end of the first request started after
    // it that the returned tier answered.
    let mut recovery = Vec::new();
    for (tier, phase, at) in &returns {
        let first = samples
            .iter()
            .filter(|s| s.ok && s.level == *tier && s.start >= *at)
            .map(|s| s.start + Duration::from_secs_f64(s.latency_ms / 1e3))
            .min();
        let secs = first.map(|t| (t - *at).as_secs_f64());
        match secs {
            Some(s) if s > RECOVERY_LIMIT.as_secs_f64() => problems.push(format!(
                "{tier} took {s:.2} s to answer again after `{phase}` (limit 5 s)"
            )),
            None => problems.push(format!("{tier} never answered again after `{phase}`")),
            _ => {}
        }
        // When every instance with this tier last reported it `up` for good after the return.
        let log = health.lock().map(|h| h.clone()).unwrap_or_default();
        let mut closed_at = Vec::new();
        for (name, _) in &addrs {
            // Within the phase of the return (later phases stop servers again).
            let until = phases
                .iter()
                .find(|p| p.name == *phase)
                .map_or(Duration::MAX, |p| p.end);
            let mine: Vec<&(Duration, &str, String, String)> = log
                .iter()
                .filter(|(t, n, _, _)| n == name && t >= at && *t < until)
                .collect();
            let state = |e: &(Duration, &str, String, String)| {
                if *tier == "l2" {
                    e.2.clone()
                } else {
                    e.3.clone()
                }
            };
            if mine.first().is_some_and(|e| state(e) == "none") {
                continue; // this instance has no such tier
            }
            let last_not_up = mine.iter().rposition(|e| state(e) != "up");
            let up = match last_not_up {
                None => mine.first().map(|e| e.0),
                Some(i) => mine.get(i + 1).map(|e| e.0),
            };
            closed_at.push(json!({
                "instance": name,
                "breaker_closed_after_s": up.map(|u| (u - *at).as_secs_f64()),
            }));
        }
        recovery
            .push(json!({ "tier": tier, "phase": phase, "seconds": secs, "health": closed_at }));
    }
    if !restarted.is_empty() {
        problems.push(format!("instances not answering at the end: {restarted:?}"));
    }
    let total = samples.len();
    let failed = samples.iter().filter(|s| !s.ok).count();
    let report = json!({
        "command": format!("cargo xtask chaos --seconds {} --rate {} --clients {}", opts.seconds, opts.rate, opts.clients),
        "date_unix": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        "instances": ["writer (L1+L2+L3)", "reader (L1+L2+L3)", "l3-reader (L1+L3)"],
        "sent": total,
        "succeeded": total - failed,
        "failed": failed,
        "dropped_connections": dropped.load(Ordering::Relaxed),
        "phases": rows,
        "recovery": recovery,
        "problems": problems,
        "passed": problems.is_empty(),
    });
    let path = out_dir.join("report.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&report).map_err(|e| e.to_string())? + "\n",
    )
    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;

    println!(
        "{:<14} {:>6} {:>6} {:>6} {:>9} {:>9} {:>7} {:>5} {:>5} {:>5} {:>5}",
        "phase", "sent", "ok", "failed", "p50 ms", "p99 ms", "p99 x", "miss", "l1", "l2", "l3"
    );
    for r in report["phases"].as_array().into_iter().flatten() {
        let n = |k: &str| r[k].as_u64().unwrap_or(0);
        let f = |k: &str| r[k].as_f64().unwrap_or(0.0);
        println!(
            "{:<14} {:>6} {:>6} {:>6} {:>9.1} {:>9.1} {:>7.2} {:>5} {:>5} {:>5} {:>5}",
            r["phase"].as_str().unwrap_or(""),
            n("sent"),
            n("succeeded"),
            n("failed"),
            f("p50_ms"),
            f("p99_ms"),
            f("p99_vs_baseline"),
            n("miss"),
            n("l1"),
            n("l2"),
            n("l3"),
        );
    }
    for r in report["recovery"].as_array().into_iter().flatten() {
        let secs = r["seconds"]
            .as_f64()
            .map_or("never".to_string(), |s| format!("{s:.2} s"));
        let health: Vec<String> = r["health"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|h| {
                format!(
                    "{} {}",
                    h["instance"].as_str().unwrap_or(""),
                    h["breaker_closed_after_s"]
                        .as_f64()
                        .map_or("never".to_string(), |s| format!("{s:.2} s"))
                )
            })
            .collect();
        println!(
            "recovery of {} after `{}`: first hit {secs}; reported up: {}",
            r["tier"].as_str().unwrap_or(""),
            r["phase"].as_str().unwrap_or(""),
            health.join(", ")
        );
    }
    println!(
        "sent {total}, succeeded {}, failed {failed}; {} connections dropped mid-request; report: {}",
        total - failed,
        dropped.load(Ordering::Relaxed),
        path.display()
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "chaos found problems:\n  {}",
            problems.join("\n  ")
        ))
    }
}
