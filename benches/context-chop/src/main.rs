//! context-chop beside repomix and code2prompt on the same real tree, in the same run.
//!
//! The tree is ripgrep's HEAD (from a `fetch`ed mirror under /work/.mirror, or `$BENCH_TREE_GIT`,
//! extracted with `git archive`), else Rust sources from `~/.cargo/registry/src` up to ~3 MB.
//! Measured: a cold pack (walk, chunk, index, rank, select, render; no saved index) in a child
//! process with its peak RSS; a warm query on an open index; re-opening a saved index; a
//! one-file change re-indexed; and the peers packing the same tree (time and peak RSS from
//! `/usr/bin/time`). Peers are installed into `target/bench-tools/` (repomix from npm,
//! code2prompt with `cargo install`) unless `--quick` or `BENCH_NO_INSTALL` is set.
//!
//! The scale target: a tree of at least 1 GB and 70k files (`target/bench-big-tree`, built once
//! and reused): this machine's own sources (the cargo registry, the Python standard library,
//! `/usr/include`, the JavaScript packages under `target/bench-tools`), then variant copies
//! of them in which a third of the identifiers get a per-copy suffix (so the vocabulary grows as
//! it would with more code, not just the postings) until both sizes are reached. Measured in a
//! child process: the cold index (walk, chunk, index, save) with its peak RSS, then warm packs;
//! code2prompt packs the same tree in the same run. `BENCH_NO_BIG=1` skips it.

use bench_support::{peak_rss_bytes, Bench, Record};
use context_chop::{Index, IndexOptions, Query, SelectOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const QUERIES: &[&str] = &[
    "fix the glob matching of hidden files when walking directories",
    "binary file detection should stop at the first NUL byte",
    "add a flag to print only the count of matching lines",
    "the searcher panics on invalid UTF-8 in a line with multiline mode",
    "respect .gitignore files in parent directories",
    "colour output for the path and line numbers",
    "memory map large files when searching",
    "replace the matched text with a capture group",
];

fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or(here)
}

fn extract_git(git_dir: &Path, dest: &Path) -> bool {
    let _ = std::fs::remove_dir_all(dest);
    if std::fs::create_dir_all(dest).is_err() {
        return false;
    }
    let Ok(mut child) = Command::new("git")
        .arg("--git-dir")
        .arg(git_dir)
        .args(["archive", "HEAD"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    let Some(out) = child.stdout.take() else {
        return false;
    };
    let ok = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(dest)
        .stdin(out)
        .status()
        .is_ok_and(|s| s.success());
    child.wait().is_ok_and(|s| s.success()) && ok
}

/// Copies `.rs` files from the cargo registry into `dest` until `limit` bytes.
fn registry_tree(dest: &Path, limit: u64) -> bool {
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo")
        });
    let Ok(rd) = std::fs::read_dir(home.join("registry/src")) else {
        return false;
    };
    let mut total = 0u64;
    let mut stack: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    stack.sort();
    while let Some(p) = stack.pop() {
        if total >= limit {
            break;
        }
        if p.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
                v.sort();
                stack.extend(v);
            }
        } else if p.extension().is_some_and(|e| e == "rs") {
            let rel = p.to_string_lossy().replace('/', "_");
            if std::fs::copy(&p, dest.join(rel.trim_start_matches('_'))).is_ok() {
                total += p.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
    }
    total > 0
}

fn tree_size(dir: &Path) -> (usize, u64) {
    let w = context_chop::walk(
        dir,
        &context_chop::WalkOptions {
            skip_generated: false,
            hidden: true,
            ignore_files: false,
            ..Default::default()
        },
    )
    .unwrap_or_default();
    (w.files.len(), w.files.iter().map(|f| f.size).sum())
}

const BIG_BYTES: u64 = 1_000_000_000;
const BIG_FILES: usize = 70_000;

/// Source trees of this machine for the big tree: (label, root).
fn big_sources(ws: &Path) -> Vec<(&'static str, PathBuf)> {
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo")
        });
    let mut out = vec![("cargo-registry", home.join("registry/src"))];
    if let Ok(o) = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
    {
        let p = String::from_utf8_lossy(&o.stdout).trim().to_string();
        if !p.is_empty() {
            out.push(("python-stdlib", PathBuf::from(p)));
        }
    }
    out.push(("usr-include", PathBuf::from("/usr/include")));
    out.push(("js-packages", ws.join("target/bench-tools/node_modules")));
    out.into_iter().filter(|(_, p)| p.is_dir()).collect()
}

/// A third of the identifiers (4+ characters, chosen by a hash of the word and `k`) get the
/// suffix `_v{k}`.
fn variant(text: &[u8], k: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 16);
    let mut i = 0usize;
    while i < text.len() {
        let c = text[i];
        if c.is_ascii_alphabetic() || c == b'_' {
            let s = i;
            while i < text.len() && (text[i].is_ascii_alphanumeric() || text[i] == b'_') {
                i += 1;
            }
            let w = &text[s..i];
            out.extend_from_slice(w);
            if w.len() >= 4 {
                let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ u64::from(k);
                for &b in w {
                    h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
                }
                if h.is_multiple_of(3) {
                    out.extend_from_slice(format!("_v{k}").as_bytes());
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Builds (or reuses) the big tree under `dest`; returns (files, bytes, description).
fn big_tree(dest: &Path, ws: &Path) -> Option<(usize, u64, String)> {
    let marker = dest.join(".bench-complete");
    if let Ok(m) = std::fs::read_to_string(&marker) {
        let mut it = m.splitn(3, ' ');
        if let (Some(f), Some(b), Some(d)) = (it.next(), it.next(), it.next()) {
            if let (Ok(f), Ok(b)) = (f.parse(), b.parse()) {
                return Some((f, b, d.trim().to_string()));
            }
        }
    }
    let _ = std::fs::remove_dir_all(dest);
    let t = Instant::now();
    let mut base: Vec<PathBuf> = Vec::new();
    let (mut files, mut bytes) = (0usize, 0u64);
    let mut parts = Vec::new();
    for (label, root) in big_sources(ws) {
        let Ok(w) = context_chop::walk(&root, &context_chop::WalkOptions::default()) else {
            continue;
        };
        let (f0, b0) = (files, bytes);
        for f in w.files {
            let Ok(data) = std::fs::read(&f.abs) else {
                continue;
            };
            if data[..data.len().min(8192)].contains(&0) {
                continue;
            }
            let rel = PathBuf::from(label).join(&f.path);
            let to = dest.join("base").join(&rel);
            if let Some(parent) = to.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            if std::fs::write(&to, &data).is_ok() {
                files += 1;
                bytes += data.len() as u64;
                base.push(rel);
            }
        }
        parts.push(format!(
            "{label} {} files {:.0} MB",
            files - f0,
            (bytes - b0) as f64 / 1e6
        ));
    }
    if base.is_empty() {
        return None;
    }
    let mut k = 0u32;
    'grow: while bytes < BIG_BYTES || files < BIG_FILES {
        k += 1;
        for rel in &base {
            if bytes >= BIG_BYTES && files >= BIG_FILES {
                break 'grow;
            }
            let Ok(data) = std::fs::read(dest.join("base").join(rel)) else {
                continue;
            };
            let v = variant(&data, k);
            let to = dest.join(format!("v{k}")).join(rel);
            if let Some(parent) = to.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            if std::fs::write(&to, &v).is_ok() {
                files += 1;
                bytes += v.len() as u64;
            }
        }
    }
    let desc = format!(
        "{}; then {k} variant cop{} with renamed identifiers",
        parts.join(", "),
        if k == 1 { "y" } else { "ies" }
    );
    eprintln!(
        "big tree: {files} files, {:.2} GB in {:.0} s ({desc})",
        bytes as f64 / 1e9,
        t.elapsed().as_secs_f64()
    );
    let _ = std::fs::write(&marker, format!("{files} {bytes} {desc}"));
    Some((files, bytes, desc))
}

/// Child mode: index `dir` cold (saving into `cache`), then warm packs; prints
/// `index_s peak_rss_bytes files chunks warm_median_ms`.
fn child_big(dir: &Path, cache: &Path) {
    let _ = std::fs::remove_dir_all(cache);
    let t = Instant::now();
    let opts = IndexOptions {
        cache_dir: Some(cache.to_path_buf()),
        ..IndexOptions::default()
    };
    let index = match Index::open(dir, opts) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("big index failed: {e}");
            std::process::exit(1);
        }
    };
    let secs = t.elapsed().as_secs_f64();
    let rss = peak_rss_bytes();
    let Ok(tok) = token_opt::Tokenizer::new(token_opt::Encoding::O200k) else {
        std::process::exit(1);
    };
    let sel = SelectOptions::default();
    let mut warm = Vec::new();
    for i in 0..24 {
        let q = Query::new(QUERIES[i % QUERIES.len()]);
        let t = Instant::now();
        let s = index.select_with(&q, &sel, &tok);
        std::hint::black_box(context_chop::render(&s, &tok).tokens_used);
        warm.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "{secs} {rss} {} {} {}",
        index.file_count(),
        index.chunk_count(),
        median(warm)
    );
}

/// Child mode: one cold pack of `dir`, printing `ms peak_rss_bytes tokens`.
fn child_cold(dir: &Path, cache: &Path) {
    let _ = std::fs::remove_dir_all(cache);
    let t = Instant::now();
    let opts = IndexOptions {
        cache_dir: Some(cache.to_path_buf()),
        ..IndexOptions::default()
    };
    let tokens = match Index::open(dir, opts)
        .and_then(|i| i.pack(&Query::new(QUERIES[0]), &SelectOptions::default()))
    {
        Ok(p) => p.tokens_used,
        Err(e) => {
            eprintln!("cold pack failed: {e}");
            std::process::exit(1);
        }
    };
    let ms = t.elapsed().as_secs_f64() * 1e3;
    println!("{ms} {} {tokens}", peak_rss_bytes());
}

/// Runs a command under `/usr/bin/time`, returning (seconds, peak RSS bytes).
fn timed(cmd: &mut Command) -> Option<(f64, u64)> {
    let mut timecmd = Command::new("/usr/bin/time");
    timecmd.arg("-f").arg("@@%e %M").arg(cmd.get_program());
    timecmd.args(cmd.get_args());
    if let Some(d) = cmd.get_current_dir() {
        timecmd.current_dir(d);
    }
    let out = timecmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "peer failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
        return None;
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err.lines().rev().find_map(|l| l.strip_prefix("@@"))?;
    let mut it = line.split_whitespace();
    let secs: f64 = it.next()?.parse().ok()?;
    let kb: u64 = it.next()?.parse().ok()?;
    Some((secs, kb * 1024))
}

fn best_peer(runs: usize, mut mk: impl FnMut() -> Command) -> Option<(f64, u64)> {
    let mut best: Option<(f64, u64)> = None;
    for _ in 0..runs {
        let r = timed(&mut mk())?;
        best = Some(match best {
            Some(b) => (b.0.min(r.0), b.1.min(r.1)),
            None => r,
        });
    }
    best
}

fn install_peers(tools: &Path) {
    let _ = std::fs::create_dir_all(tools);
    if !tools.join("node_modules/.bin/repomix").exists() {
        eprintln!("installing repomix into {}", tools.display());
        let ok = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(tools)
            .arg("repomix")
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("repomix: npm install failed (registry unreachable?); skipping it");
        }
    }
    if !tools.join("bin/code2prompt").exists() {
        eprintln!("installing code2prompt into {}", tools.display());
        let ok = Command::new("cargo")
            .args(["install", "--locked", "--root"])
            .arg(tools)
            .arg("code2prompt")
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("code2prompt: cargo install failed (registry unreachable?); skipping it");
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 4 && args[1] == "--child-cold" {
        child_cold(Path::new(&args[2]), Path::new(&args[3]));
        return;
    }
    if args.len() == 4 && args[1] == "--child-big" {
        child_big(Path::new(&args[2]), Path::new(&args[3]));
        return;
    }
    let mut bench = Bench::from_args("context-chop");
    let quick = bench.quick;
    let ws = workspace_root();
    let scratch = std::env::temp_dir().join(format!("bench-context-chop-{}", std::process::id()));
    let tree = scratch.join("tree");
    let git_dir = std::env::var("BENCH_TREE_GIT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("/work/.mirror/BurntSushi+ripgrep/repo"));
    let mut source = format!("ripgrep HEAD ({})", git_dir.display());
    if !extract_git(&git_dir, &tree) {
        let _ = std::fs::create_dir_all(&tree);
        source = "Rust sources from ~/.cargo/registry/src".into();
        if !registry_tree(&tree, if quick { 300_000 } else { 3_200_000 }) {
            eprintln!("context-chop bench: no tree to pack");
            bench.finish();
            return;
        }
    }
    if quick {
        // A smoke run: keep the first few dozen files.
        let w = context_chop::walk(&tree, &Default::default()).unwrap_or_default();
        for f in w.files.iter().skip(40) {
            let _ = std::fs::remove_file(&f.abs);
        }
    }
    let (nfiles, bytes) = tree_size(&tree);
    let note = format!("{source}: {nfiles} files, {:.2} MB", bytes as f64 / 1e6);
    eprintln!("tree: {note}");

    // Cold pack in a child process (its own peak RSS).
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("bench-context-chop"));
    let cache = scratch.join("cache-cold");
    let mut cold = Vec::new();
    for _ in 0..if quick { 1 } else { 5 } {
        let out = Command::new(&exe)
            .arg("--child-cold")
            .arg(&tree)
            .arg(&cache)
            .output();
        if let Ok(o) = out {
            let s = String::from_utf8_lossy(&o.stdout);
            let v: Vec<f64> = s
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            if v.len() == 3 {
                cold.push((v[0], v[1]));
            }
        }
    }
    let cold_ms = cold.iter().map(|c| c.0).fold(f64::INFINITY, f64::min);
    let cold_rss = cold.iter().map(|c| c.1).fold(f64::INFINITY, f64::min) / 1e6;

    // Peers on the same tree.
    let tools = ws.join("target/bench-tools");
    if !quick && std::env::var_os("BENCH_NO_INSTALL").is_none() {
        install_peers(&tools);
    }
    let out_dir = scratch.join("peer-out");
    let _ = std::fs::create_dir_all(&out_dir);
    let repomix = tools.join("node_modules/.bin/repomix");
    let code2prompt = tools.join("bin/code2prompt");
    let runs = if quick { 1 } else { 3 };
    let rmx = (!quick && repomix.exists())
        .then(|| {
            best_peer(runs, || {
                let mut c = Command::new(&repomix);
                c.arg("--quiet")
                    .arg("--output")
                    .arg(out_dir.join("repomix.xml"))
                    .arg(&tree);
                c
            })
        })
        .flatten();
    let c2p = (!quick && code2prompt.exists())
        .then(|| {
            best_peer(runs, || {
                let mut c = Command::new(&code2prompt);
                c.arg(&tree)
                    .arg("--output-file")
                    .arg(out_dir.join("c2p.md"))
                    .arg("--no-clipboard");
                c
            })
        })
        .flatten();

    let mut time_rec = Record::lower_is_better(
        "cold pack 8k (walk+chunk+index+rank+select)",
        "wall time",
        "ms",
        cold_ms,
    )
    .with_target("< 100 ms", cold_ms < 100.0)
    .with_note(&note);
    let mut mem_rec = Record::lower_is_better("cold pack 8k", "peak RSS", "MB", cold_rss)
        .with_target("< 40 MB", cold_rss < 40.0)
        .with_note(&note);
    if let Some((s, rss)) = rmx {
        time_rec = time_rec.with_peer("repomix (whole tree)", s * 1e3);
        mem_rec = mem_rec.with_peer("repomix (whole tree)", rss as f64 / 1e6);
    }
    bench.record(time_rec);
    bench.record(mem_rec);
    if let Some((s, rss)) = c2p {
        bench.record(
            Record::lower_is_better("cold pack 8k vs code2prompt", "wall time", "ms", cold_ms)
                .with_peer("code2prompt (whole tree)", s * 1e3)
                .with_note(&note),
        );
        bench.record(
            Record::lower_is_better("cold pack 8k vs code2prompt", "peak RSS", "MB", cold_rss)
                .with_peer("code2prompt (whole tree)", rss as f64 / 1e6)
                .with_note(&note),
        );
    }

    // Warm: an open index, one query per call.
    let cache = scratch.join("cache-warm");
    let opts = IndexOptions {
        cache_dir: Some(cache.clone()),
        ..IndexOptions::default()
    };
    let mut index = match Index::open(&tree, opts.clone()) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("context-chop bench: {e}");
            bench.finish();
            return;
        }
    };
    let sel = SelectOptions::default();
    let tok = match token_opt::Tokenizer::new(token_opt::Encoding::O200k) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("context-chop bench: {e}");
            bench.finish();
            return;
        }
    };
    let mut warm = Vec::new();
    for i in 0..if quick { 8 } else { 200 } {
        let q = Query::new(QUERIES[i % QUERIES.len()]);
        let t = Instant::now();
        let s = index.select_with(&q, &sel, &tok);
        let p = context_chop::render(&s, &tok);
        std::hint::black_box(p.tokens_used);
        warm.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let warm_ms = median(warm);
    bench.record(
        Record::lower_is_better(
            "warm query 8k (rank+select+render)",
            "median latency",
            "ms",
            warm_ms,
        )
        .with_target("< 5 ms", warm_ms < 5.0)
        .with_note(&format!("{} chunks in the index", index.chunk_count())),
    );

    // Re-open the saved index (load + metadata check + one pack).
    let mut reopen = Vec::new();
    for _ in 0..if quick { 2 } else { 10 } {
        let t = Instant::now();
        let ok = Index::open(&tree, opts.clone())
            .and_then(|i| i.pack(&Query::new(QUERIES[1]), &sel))
            .is_ok();
        if ok {
            reopen.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    bench.record(Record::lower_is_better(
        "re-open saved index + pack 8k",
        "median latency",
        "ms",
        median(reopen),
    ));

    // One file changed: refresh re-indexes just it.
    let victim = index
        .paths()
        .filter(|p| p.ends_with(".rs") || p.ends_with(".py"))
        .map(str::to_string)
        .next();
    if let Some(v) = victim {
        let p = tree.join(&v);
        let orig = std::fs::read_to_string(&p).unwrap_or_default();
        let mut times = Vec::new();
        for i in 0..if quick { 2 } else { 20 } {
            let _ = std::fs::write(&p, format!("{orig}\n// edit {i}\n"));
            let t = Instant::now();
            if index.refresh().is_ok_and(|s| s.reindexed == 1) {
                times.push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
        let ms = median(times);
        bench.record(
            Record::lower_is_better(
                "one-file change re-indexed (refresh + save)",
                "median latency",
                "ms",
                ms,
            )
            .with_target("< 50 ms", ms < 50.0)
            .with_note(&note),
        );
    }
    if !quick && std::env::var_os("BENCH_NO_BIG").is_none() {
        big_tree_records(&mut bench, &ws, &scratch, &code2prompt);
    }
    let _ = std::fs::remove_dir_all(&scratch);
    bench.finish();
}

/// The 1 GB / 70k-file tree: cold index, its peak memory and warm packs, beside code2prompt.
fn big_tree_records(bench: &mut Bench, ws: &Path, scratch: &Path, code2prompt: &Path) {
    let dest = ws.join("target/bench-big-tree");
    let Some((files, bytes, desc)) = big_tree(&dest, ws) else {
        eprintln!("context-chop bench: no sources for the big tree");
        return;
    };
    let note = format!("{files} files, {:.2} GB: {desc}", bytes as f64 / 1e9);
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let out = Command::new(exe)
        .arg("--child-big")
        .arg(&dest)
        .arg(scratch.join("cache-big"))
        .output();
    let v: Vec<f64> = match &out {
        Ok(o) => String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect(),
        Err(_) => Vec::new(),
    };
    if v.len() != 5 {
        eprintln!("context-chop bench: the big-tree child failed");
        return;
    }
    let (secs, rss_mb, warm_ms) = (v[0], v[1] / 1e6, v[4]);
    let note = format!("{note}; {} files and {} chunks indexed", v[2], v[3]);
    let c2p = code2prompt
        .exists()
        .then(|| {
            timed(
                Command::new(code2prompt)
                    .arg(&dest)
                    .arg("--output-file")
                    .arg(scratch.join("c2p-big.md"))
                    .arg("--no-clipboard"),
            )
        })
        .flatten();
    let _ = std::fs::remove_file(scratch.join("c2p-big.md"));
    let mut time_rec = Record::lower_is_better(
        "1 GB tree: cold index (walk+chunk+index+save)",
        "wall time",
        "s",
        secs,
    )
    .with_target("< 60 s", secs < 60.0)
    .with_note(&note);
    let mut mem_rec = Record::lower_is_better("1 GB tree: cold index", "peak RSS", "MB", rss_mb)
        .with_target("< 400 MB", rss_mb < 400.0)
        .with_note(&note);
    if let Some((s, rss)) = c2p {
        time_rec = time_rec.with_peer("code2prompt (whole tree)", s);
        mem_rec = mem_rec.with_peer("code2prompt (whole tree)", rss as f64 / 1e6);
    }
    bench.record(time_rec);
    bench.record(mem_rec);
    bench.record(
        Record::lower_is_better(
            "1 GB tree: warm pack 8k (rank+select+render)",
            "median latency",
            "ms",
            warm_ms,
        )
        .with_target("< 50 ms", warm_ms < 50.0)
        .with_note(&note),
    );
}
