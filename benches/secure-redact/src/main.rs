//! secure-redact benchmark: scan throughput on clean real Rust code (the `.rs` files under
//! `~/.cargo/registry/src`), findings per MB at `sensitive` and above on that code (and which
//! rules fire), throughput on keyword-dense text (the secrets corpus repeated), redaction latency
//! of a 100 KB prompt, and corpus recall / false-positive rate; beside detect-secrets (PyPI) and
//! secretlint (npm) on the same files in the same run. `--quick` skips installing peers.

use bench_support::{Bench, Record};
use secure_redact::{Level, RedactMode, Scanner};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Real Rust files (path, bytes) up to `limit` bytes in total.
fn clean_code(limit: usize) -> Vec<(String, Vec<u8>)> {
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo")
        });
    let mut files = Vec::new();
    rs_files(&home.join("registry/src"), &mut files);
    let mut out = Vec::new();
    let mut total = 0;
    for f in files {
        if total >= limit {
            break;
        }
        if let Ok(b) = std::fs::read(&f) {
            total += b.len();
            out.push((f.display().to_string(), b));
        }
    }
    if out.is_empty() {
        eprintln!(
            "secure-redact bench: no .rs files under {}/registry/src; using generated code",
            home.display()
        );
        let mut s = String::new();
        let mut i = 0u64;
        while s.len() < limit {
            s.push_str(&format!("fn item_{i}(key: &str, token: u32) -> Option<u32> {{ lookup(key).map(|v| v + token + {i}) }}\n"));
            i += 1;
        }
        out.push(("generated.rs".into(), s.into_bytes()));
    }
    out
}

struct Sample {
    text: String,
    kind: String,
    path: Option<String>,
    other: bool,
}

fn corpus(name: &str) -> Vec<Sample> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/secrets")
        .join(name);
    let Ok(t) = std::fs::read_to_string(&p) else {
        eprintln!("secure-redact bench: corpus {} missing", p.display());
        return Vec::new();
    };
    t.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| Sample {
            text: v["text"].as_str().unwrap_or_default().to_string(),
            kind: v["kind"].as_str().unwrap_or_default().to_string(),
            path: v["path"].as_str().map(str::to_string),
            other: v.get("tp_of_other_rule").is_some_and(|x| !x.is_null()),
        })
        .collect()
}

fn mb(n: usize) -> f64 {
    n as f64 / 1e6
}

fn time<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let t = Instant::now();
    let r = f();
    (t.elapsed(), r)
}

/// CPU time of this thread (Linux `/proc/thread-self/schedstat`), so figures hold on a busy
/// shared machine; falls back to wall time elsewhere.
fn cpu_now() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace()
        .next()?
        .parse::<u64>()
        .ok()
        .map(Duration::from_nanos)
}

/// (wall, cpu) time of `f`.
fn time_cpu<T>(f: impl FnOnce() -> T) -> (Duration, Duration, T) {
    let c0 = cpu_now();
    let t = Instant::now();
    let r = f();
    let wall = t.elapsed();
    let cpu = match (c0, cpu_now()) {
        (Some(a), Some(b)) if b > a => b - a,
        _ => wall,
    };
    (wall, cpu, r)
}

fn tools_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-tools");
    let _ = std::fs::create_dir_all(&d);
    d.canonicalize().unwrap_or(d)
}

/// Install detect-secrets into a venv under target/bench-tools; returns the executable.
fn detect_secrets() -> Option<PathBuf> {
    let venv = tools_dir().join("venv-detect-secrets");
    let exe = venv.join("bin/detect-secrets");
    if exe.exists() {
        return Some(exe);
    }
    let ok = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success())
        && Command::new(venv.join("bin/pip"))
            .args(["install", "-q", "detect-secrets"])
            .status()
            .is_ok_and(|s| s.success());
    if ok && exe.exists() {
        Some(exe)
    } else {
        eprintln!(
            "secure-redact bench: could not install detect-secrets from PyPI; recording ours only"
        );
        None
    }
}

/// Install secretlint + the recommended preset under target/bench-tools; returns the executable.
fn secretlint() -> Option<PathBuf> {
    let dir = tools_dir();
    let exe = dir.join("node_modules/.bin/secretlint");
    if !exe.exists() {
        let _ = std::fs::create_dir_all(&dir);
        let ok = Command::new("npm")
            .args([
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                "secretlint",
                "@secretlint/secretlint-rule-preset-recommend",
            ])
            .current_dir(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok || !exe.exists() {
            eprintln!(
                "secure-redact bench: could not install secretlint from npm; recording ours only"
            );
            return None;
        }
    }
    Some(exe)
}

/// Write samples one file each; returns the directory.
fn write_samples(dir: &Path, samples: &[&Sample]) -> Vec<PathBuf> {
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::create_dir_all(dir);
    samples
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let name = s
                .path
                .as_deref()
                .and_then(|p| Path::new(p).file_name())
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_else(|| "sample.txt".into());
            let p = dir.join(format!("{i:05}_{name}"));
            let _ = std::fs::write(&p, &s.text);
            p
        })
        .collect()
}

/// Files detect-secrets reports something in.
fn detect_secrets_flagged(exe: &Path, dir: &Path) -> Option<(usize, Duration)> {
    let (d, out) = time(|| {
        Command::new(exe)
            .args(["scan", "--all-files"])
            .arg(dir)
            .current_dir(dir)
            .output()
    });
    let out = out.ok()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    Some((v["results"].as_object().map_or(0, |m| m.len()), d))
}

/// Files secretlint reports something in.
fn secretlint_flagged(exe: &Path, dir: &Path) -> Option<(usize, Duration)> {
    // secretlint's glob does not follow `..` components.
    let dir = &dir.canonicalize().ok()?;
    let _ = std::fs::write(
        dir.join(".secretlintrc.json"),
        r#"{"rules":[{"id":"@secretlint/secretlint-rule-preset-recommend"}]}"#,
    );
    let cwd = tools_dir();
    // Node truncates large piped stdout at exit; have secretlint write the report to a file.
    let report = cwd.join("secretlint-report.json");
    let _ = std::fs::remove_file(&report);
    let (d, out) = time(|| {
        Command::new(exe)
            .arg(format!("{}/**/*", dir.display()))
            .args(["--format", "json", "--secretlintrc"])
            .arg(dir.join(".secretlintrc.json"))
            .arg("--output")
            .arg(&report)
            .current_dir(&cwd)
            .output()
    });
    let out = out.map(|mut o| {
        if let Ok(r) = std::fs::read(&report) {
            o.stdout = r;
        }
        o
    });
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            eprintln!("secure-redact bench: secretlint did not start: {e}");
            return None;
        }
    };
    let v: serde_json::Value = match serde_json::from_slice(&out.stdout) {
        Ok(v) => v,
        Err(e) => {
            let err = String::from_utf8_lossy(&out.stderr);
            eprintln!(
                "secure-redact bench: secretlint output unreadable ({e}; {} bytes, status {}): {}",
                out.stdout.len(),
                out.status,
                err.chars().take(300).collect::<String>()
            );
            return None;
        }
    };
    let n = v.as_array().map_or(0, |a| {
        a.iter()
            .filter(|r| r["messages"].as_array().is_some_and(|m| !m.is_empty()))
            .count()
    });
    Some((n, d))
}

fn main() {
    let mut bench = Bench::from_args("secure-redact");
    let quick = bench.quick;
    let scanner = Scanner::new();

    // 1. Clean real code.
    let limit = if quick { 2 << 20 } else { 200 << 20 };
    let files = clean_code(limit);
    let total: usize = files.iter().map(|(_, b)| b.len()).sum();
    let runs = if quick { 1 } else { 3 };
    let mut best = Duration::MAX;
    let mut best_wall = Duration::MAX;
    let mut findings = Vec::new();
    for _ in 0..runs {
        let (w, d, f) = time_cpu(|| {
            files
                .iter()
                .map(|(p, b)| (p.as_str(), scanner.scan_path(p, b)))
                .filter(|(_, f)| !f.is_empty())
                .map(|(p, f)| (p.to_string(), f))
                .collect::<Vec<_>>()
        });
        best = best.min(d);
        best_wall = best_wall.min(w);
        findings = f;
    }
    let mbps = mb(total) / best.as_secs_f64();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    bench.record(
        Record::higher_is_better(
            &format!(
                "scan clean Rust code ({:.0} MB, {} files)",
                mb(total),
                files.len()
            ),
            "throughput, one core (CPU time)",
            "MB/s",
            mbps,
        )
        .with_target(">= 300 MB/s", mbps >= 300.0)
        .with_note(&format!(
            "wall-clock {:.1} MB/s on a shared machine, load average {}",
            mb(total) / best_wall.as_secs_f64(),
            load.join(" ")
        )),
    );
    let mut by_rule: BTreeMap<String, usize> = BTreeMap::new();
    let mut all_rule: BTreeMap<String, usize> = BTreeMap::new();
    let mut examples: BTreeMap<String, String> = BTreeMap::new();
    for (p, fs) in &findings {
        for f in fs {
            *all_rule.entry(f.rule.to_string()).or_default() += 1;
            if f.level >= Level::Sensitive {
                *by_rule.entry(f.rule.to_string()).or_default() += 1;
                examples
                    .entry(f.rule.to_string())
                    .or_insert_with(|| format!("{p}:{}", f.line));
            }
        }
    }
    let sens: usize = by_rule.values().sum();
    let per_mb = sens as f64 / mb(total);
    let mut top: Vec<_> = by_rule.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1));
    let note = top
        .iter()
        .take(8)
        .map(|(r, n)| {
            format!(
                "{r}: {n} (e.g. {})",
                examples.get(*r).map(String::as_str).unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    bench.record(
        Record::lower_is_better(
            "findings at sensitive+ on clean Rust code",
            "findings per MB",
            "1/MB",
            per_mb,
        )
        .with_target("<= 0.05 /MB", per_mb <= 0.05)
        .with_note(&format!("{sens} findings; {note}")),
    );
    let all: usize = all_rule.values().sum();
    bench.record(
        Record::lower_is_better(
            "findings at any level on clean Rust code",
            "findings per MB",
            "1/MB",
            all as f64 / mb(total),
        )
        .with_note(
            &all_rule
                .iter()
                .map(|(r, n)| format!("{r}: {n}"))
                .collect::<Vec<_>>()
                .join(", "),
        ),
    );

    // 2. Keyword-dense text: the corpus repeated.
    let tp = corpus("tp.jsonl");
    let fp = corpus("fp.jsonl");
    let mut dense = Vec::new();
    let want = if quick { 1 << 20 } else { 32 << 20 };
    while !tp.is_empty() && dense.len() < want {
        for s in &tp {
            dense.extend_from_slice(s.text.as_bytes());
            dense.push(b'\n');
        }
    }
    if !dense.is_empty() {
        // Best of five (as for clean code: the machine's other load only ever slows a run);
        // the median goes in the note.
        let runs: Vec<_> = (0..if quick { 1 } else { 5 })
            .map(|_| time_cpu(|| scanner.scan(&dense).len()))
            .collect();
        let mut cpu: Vec<Duration> = runs.iter().map(|r| r.1).collect();
        cpu.sort();
        let (d, median) = (cpu[0], cpu[cpu.len() / 2]);
        let w = runs.iter().map(|r| r.0).min().unwrap_or(d);
        let n = runs.first().map_or(0, |r| r.2);
        let v = mb(dense.len()) / d.as_secs_f64();
        bench.record(
            Record::higher_is_better(
                &format!(
                    "scan keyword-dense text (corpus repeated, {:.0} MB)",
                    mb(dense.len())
                ),
                "throughput, one core (CPU time)",
                "MB/s",
                v,
            )
            .with_target(">= 50 MB/s", v >= 50.0)
            .with_note(&format!(
                "{n} findings; best of {} runs, median {:.1} MB/s; wall-clock {:.1} MB/s",
                runs.len(),
                mb(dense.len()) / median.as_secs_f64(),
                mb(dense.len()) / w.as_secs_f64()
            )),
        );
    }

    // 3. Redact a 100 KB prompt (code with a few planted secrets).
    let mut prompt = Vec::new();
    for (_, b) in &files {
        if prompt.len() >= 100_000 {
            break;
        }
        prompt.extend_from_slice(&b[..b.len().min(100_000 - prompt.len())]);
    }
    let plant = b"\nlet key = \"AKIAZ7Q4MXWD2KJ5HRTE\"; // aws\nGITHUB_TOKEN=ghp_i6ueojowig3fjl1dzvq3uhfm0ig05bkhoiz6\npostgres://app:Tr0ub4dor-x9@db.internal:5432/app\n";
    for i in 0..4 {
        let at = prompt.len() * (i + 1) / 5;
        let at = prompt[..at].iter().rposition(|&b| b == b'\n').unwrap_or(at);
        prompt.splice(at..at, plant.iter().copied());
    }
    let iters = if quick { 20 } else { 300 };
    let mut times: Vec<Duration> = (0..iters)
        .map(|_| time_cpu(|| scanner.redact(&prompt, RedactMode::Mask)).1)
        .collect();
    times.sort();
    let p50 = times[times.len() / 2].as_secs_f64() * 1e3;
    bench.record(
        Record::lower_is_better(
            &format!("redact a {} KB prompt (mask mode)", prompt.len() / 1000),
            "median CPU time",
            "ms",
            p50,
        )
        .with_target("< 1 ms", p50 < 1.0),
    );

    // 4. Corpus recall and false positives.
    let flagged = |s: &Sample| match &s.path {
        Some(p) => !scanner.scan_path(p, s.text.as_bytes()).is_empty(),
        None => !scanner.scan(s.text.as_bytes()).is_empty(),
    };
    let hits = tp.iter().filter(|s| flagged(s)).count();
    let recall = hits as f64 / tp.len().max(1) as f64;
    let lit: Vec<_> = tp.iter().filter(|s| s.kind == "literal").collect();
    let lit_recall = lit.iter().filter(|s| flagged(s)).count() as f64 / lit.len().max(1) as f64;
    let fps: Vec<_> = fp.iter().filter(|s| !s.other).collect();
    let fp_rate = fps.iter().filter(|s| flagged(s)).count() as f64 / fps.len().max(1) as f64;

    // 5. Peers on the same files.
    let work = tools_dir().join("secure-redact-work");
    let (mut ds, mut sl) = (None, None);
    // `SECURE_REDACT_NO_PEERS=1` skips the peers (for quick before/after runs of our own figures).
    if !quick && std::env::var_os("SECURE_REDACT_NO_PEERS").is_none() {
        ds = detect_secrets();
        sl = secretlint();
    }
    // The peers are slow: they see every third tp sample (and every fp sample); our recall on
    // the same subset is what their figures are compared with.
    let tp_refs: Vec<&Sample> = tp.iter().step_by(3).collect();
    let fp_refs: Vec<&Sample> = fps.clone();
    let sub_recall =
        tp_refs.iter().filter(|s| flagged(s)).count() as f64 / tp_refs.len().max(1) as f64;
    if ds.is_some() || sl.is_some() {
        write_samples(&work.join("tp"), &tp_refs);
        write_samples(&work.join("fp"), &fp_refs);
    }
    let peer_recall = |f: &dyn Fn(&Path) -> Option<(usize, Duration)>| -> Option<(f64, f64)> {
        let (a, _) = f(&work.join("tp"))?;
        let (b, _) = f(&work.join("fp"))?;
        Some((
            a as f64 / tp_refs.len().max(1) as f64,
            b as f64 / fp_refs.len().max(1) as f64,
        ))
    };
    let ds_q = ds
        .as_ref()
        .and_then(|e| peer_recall(&|d| detect_secrets_flagged(e, d)));
    let sl_q = sl
        .as_ref()
        .and_then(|e| peer_recall(&|d| secretlint_flagged(e, d)));
    bench.record(
        Record::higher_is_better(
            "corpus recall (tp.jsonl, any finding)",
            "recall",
            "share",
            recall,
        )
        .with_target(">= 0.98", recall >= 0.98),
    );
    if ds.is_some() && ds_q.is_none() {
        eprintln!("secure-redact bench: detect-secrets ran but its output could not be read");
    }
    for (name, q) in [("detect-secrets", ds_q), ("secretlint", sl_q)] {
        if let Some((rc, _)) = q {
            bench.record(
                Record::higher_is_better(
                    &format!(
                        "corpus recall, every 3rd tp sample ({} files)",
                        tp_refs.len()
                    ),
                    &format!("recall vs {name}"),
                    "share",
                    sub_recall,
                )
                .with_peer(name, rc),
            );
        }
    }
    bench.record(
        Record::higher_is_better("corpus recall, kind=literal", "recall", "share", lit_recall)
            .with_target(">= 0.99", lit_recall >= 0.99),
    );
    bench.record(
        Record::lower_is_better(
            "corpus false-positive rate (fp.jsonl, excluding tp_of_other_rule)",
            "FP rate",
            "share",
            fp_rate,
        )
        .with_target("<= 0.02", fp_rate <= 0.02),
    );
    for (name, q) in [("detect-secrets", ds_q), ("secretlint", sl_q)] {
        if let Some((_, f)) = q {
            bench.record(
                Record::lower_is_better(
                    "corpus false-positive rate",
                    &format!("FP rate vs {name}"),
                    "share",
                    fp_rate,
                )
                .with_peer(name, f),
            );
        }
    }

    // Throughput against the peers on the same clean files (a slice: the peers are slow).
    if ds.is_some() || sl.is_some() {
        let slice_limit = 1 << 20;
        let mut slice = Vec::new();
        let mut n = 0;
        for (p, b) in &files {
            if n >= slice_limit {
                break;
            }
            n += b.len();
            slice.push((p.clone(), b.clone()));
        }
        let dir = work.join("clean");
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::create_dir_all(&dir);
        for (i, (_, b)) in slice.iter().enumerate() {
            let _ = std::fs::write(dir.join(format!("{i:05}.rs")), b);
        }
        // Ours, including reading the files, to be fair.
        let (d_ours, _) = time(|| {
            let mut c = 0;
            for i in 0..slice.len() {
                if let Ok(b) = std::fs::read(dir.join(format!("{i:05}.rs"))) {
                    c += scanner.scan(&b).len();
                }
            }
            c
        });
        let ours = mb(n) / d_ours.as_secs_f64();
        if let Some((_, d)) = ds.as_ref().and_then(|e| detect_secrets_flagged(e, &dir)) {
            bench.record(
                Record::higher_is_better(
                    &format!("scan {:.0} MB of clean Rust files", mb(n)),
                    "throughput vs detect-secrets",
                    "MB/s",
                    ours,
                )
                .with_peer("detect-secrets", mb(n) / d.as_secs_f64()),
            );
        }
        if let Some((_, d)) = sl.as_ref().and_then(|e| secretlint_flagged(e, &dir)) {
            bench.record(
                Record::higher_is_better(
                    &format!("scan {:.0} MB of clean Rust files", mb(n)),
                    "throughput vs secretlint",
                    "MB/s",
                    ours,
                )
                .with_peer("secretlint", mb(n) / d.as_secs_f64()),
            );
        }
    } else if !quick {
        eprintln!("secure-redact bench: no peer available; peer ratios not recorded");
    }
    bench.finish();
}
