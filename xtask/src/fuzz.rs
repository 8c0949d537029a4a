//! `cargo xtask fuzz [--seconds N] [--only NAME] [--mode cargo-fuzz|direct]`: runs every fuzz
//! target of the workspace for N seconds each (default 30).
//!
//! Targets are the `[[bin]]`s of each `crates/*/fuzz/Cargo.toml` (the cargo-fuzz layout: a
//! package of its own, outside the workspace, on `libfuzzer-sys`). Two ways to run them:
//!
//! - `cargo-fuzz` (chosen when `cargo fuzz` is installed): `cargo +nightly fuzz run TARGET`
//!   when a nightly toolchain is installed, else `cargo fuzz run` on stable with
//!   `RUSTC_BOOTSTRAP=1` (cargo-fuzz passes `-Zsanitizer=address`, a nightly flag). libFuzzer
//!   with AddressSanitizer and coverage feedback.
//! - `direct` (otherwise, or `--mode direct`): each fuzz package is built on the default
//!   toolchain with the same coverage instrumentation cargo-fuzz adds (`-Cpasses=sancov-module`
//!   and the `-sanitizer-coverage-*` LLVM options, all stable `-C` flags, plus `--cfg fuzzing`)
//!   but no sanitizer, and each binary is run as the libFuzzer program it is
//!   (`-max_total_time=N`). Same coverage-guided fuzzing; memory errors in `unsafe` code are
//!   not detected the way ASan would.
//!
//! Corpora live in `target/fuzz/corpus/<crate>/<target>` (seeded from
//! `crates/<crate>/fuzz/corpus/<target>` when that exists), crashes in
//! `target/fuzz/artifacts/<crate>/<target>/`. The command fails when any target crashed or
//! could not be built; a summary goes to `target/fuzz/report.json`.

use crate::util;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

struct Target {
    krate: String,
    dir: PathBuf,
    name: String,
}

/// Every `[[bin]]` of every `crates/*/fuzz/Cargo.toml`.
fn targets() -> Result<Vec<Target>, String> {
    let crates = util::root().join("crates");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&crates)
        .map_err(|e| format!("cannot list {}: {e}", crates.display()))?
        .flatten()
        .map(|e| e.path().join("fuzz"))
        .filter(|d| d.join("Cargo.toml").is_file())
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for dir in dirs {
        let manifest = dir.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest)
            .map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
        let value: toml::Value =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", manifest.display()))?;
        let krate = dir
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for bin in value
            .get("bin")
            .and_then(|b| b.as_array())
            .into_iter()
            .flatten()
        {
            if let Some(name) = bin.get("name").and_then(|n| n.as_str()) {
                out.push(Target {
                    krate: krate.clone(),
                    dir: dir.clone(),
                    name: name.to_string(),
                });
            }
        }
    }
    Ok(out)
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                util::root().join(p)
            }
        })
        .unwrap_or_else(|| util::root().join("target"))
        .join("fuzz")
}

fn works(cmd: &mut Command) -> bool {
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// cargo-fuzz, with `+nightly` or with `RUSTC_BOOTSTRAP=1` on stable.
    CargoFuzz { nightly: bool },
    /// A plain build with coverage instrumentation, run as a libFuzzer binary.
    Direct,
}

fn choose(forced: Option<&str>) -> Result<Mode, String> {
    let nightly = works(Command::new("rustup").args(["run", "nightly", "rustc", "--version"]));
    let has_cargo_fuzz = works(util::cargo().args(["fuzz", "--version"]));
    match forced {
        Some("direct") => Ok(Mode::Direct),
        Some("cargo-fuzz") if has_cargo_fuzz => Ok(Mode::CargoFuzz { nightly }),
        Some("cargo-fuzz") => {
            Err("cargo-fuzz is not installed: `cargo install cargo-fuzz --locked`".into())
        }
        Some(other) => Err(format!("--mode: `{other}` (expected cargo-fuzz or direct)")),
        None if has_cargo_fuzz => Ok(Mode::CargoFuzz { nightly }),
        None => Ok(Mode::Direct),
    }
}

/// The host's target triple (`rustc -vV`).
fn host_triple() -> String {
    Command::new("rustc")
        .arg("-vV")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        })
        .unwrap_or_else(|| "x86_64-unknown-linux-gnu".into())
}

/// The RUSTFLAGS cargo-fuzz uses for coverage, minus the sanitizer (all stable flags).
const COVERAGE_FLAGS: &str = "-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
     -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
     -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions \
     -Coverflow-checks -Cforce-frame-pointers=yes";

fn libfuzzer_args(seconds: u64, corpus: &Path, seed: &Path, artifacts: &Path) -> Vec<String> {
    let mut v = vec![
        format!("-max_total_time={seconds}"),
        "-print_final_stats=1".into(),
        "-rss_limit_mb=4096".into(),
        "-timeout=20".into(),
        format!("-artifact_prefix={}/", artifacts.display()),
        corpus.display().to_string(),
    ];
    if seed.is_dir() {
        v.push(seed.display().to_string());
    }
    v
}

/// Runs one target; returns (ok, executed units, note).
fn run_target(t: &Target, mode: Mode, seconds: u64) -> (bool, Option<u64>, String) {
    let base = target_dir();
    let corpus = base.join("corpus").join(&t.krate).join(&t.name);
    let artifacts = base.join("artifacts").join(&t.krate).join(&t.name);
    let _ = std::fs::create_dir_all(&corpus);
    let _ = std::fs::create_dir_all(&artifacts);
    let seed = t.dir.join("corpus").join(&t.name);
    let args = libfuzzer_args(seconds, &corpus, &seed, &artifacts);
    let mut cmd = match mode {
        Mode::CargoFuzz { nightly } => {
            let mut c = util::cargo();
            if nightly {
                // `+nightly` is understood by the rustup proxy only, not by the toolchain's
                // own cargo that `$CARGO` names under `cargo xtask`.
                c = Command::new("cargo");
                c.env_remove("RUSTUP_TOOLCHAIN")
                    .env_remove("CARGO")
                    .env_remove("RUSTC")
                    .arg("+nightly");
            } else {
                c.env("RUSTC_BOOTSTRAP", "1");
            }
            c.current_dir(t.dir.parent().unwrap_or(&t.dir))
                .args(["fuzz", "run", &t.name, "--target-dir"])
                .arg(base.join("cargo-fuzz"))
                .arg("--")
                .args(&args);
            c
        }
        Mode::Direct => {
            // One target dir for every fuzz package, so shared dependencies build once.
            let tdir = base.join("direct");
            // An explicit --target keeps the instrumentation off build scripts and proc
            // macros (they would not link without the libFuzzer runtime), as cargo-fuzz does.
            let host = host_triple();
            let mut build = util::cargo();
            build
                .current_dir(&t.dir)
                .env("RUSTFLAGS", COVERAGE_FLAGS)
                .args(["build", "--release", "--bin", &t.name, "--target", &host])
                .arg("--target-dir")
                .arg(&tdir);
            if let Err(e) = util::run(&format!("fuzz build {}/{}", t.krate, t.name), &mut build) {
                return (false, None, e);
            }
            let mut c = Command::new(tdir.join(&host).join("release").join(&t.name));
            c.args(&args);
            c
        }
    };
    let shown = format!("{cmd:?}").replace('"', "");
    eprintln!("\n==> [fuzz {}/{}] {shown}", t.krate, t.name);
    let started = Instant::now();
    let out = match cmd.stdout(std::process::Stdio::inherit()).output() {
        Ok(o) => o,
        Err(e) => return (false, None, format!("could not start: {e}")),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    // libFuzzer's final stats: `stat::number_of_executed_units: N`.
    let units = stderr
        .lines()
        .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
        .and_then(|v| v.trim().parse().ok());
    let tail: Vec<&str> = stderr.lines().rev().take(25).collect();
    let secs = started.elapsed().as_secs_f64();
    if out.status.success() {
        eprintln!(
            "==> [fuzz {}/{}] ok: {} runs in {secs:.0}s",
            t.krate,
            t.name,
            units.map_or("?".into(), |u: u64| u.to_string())
        );
        (true, units, String::new())
    } else {
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        eprintln!("{}", tail.join("\n"));
        let crash = std::fs::read_dir(&artifacts)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().display().to_string())
            .collect::<Vec<_>>();
        (
            false,
            units,
            format!(
                "exited with {} after {secs:.0}s; artifacts: {crash:?}",
                out.status
            ),
        )
    }
}

/// Runs the fuzz targets; see the module docs.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut seconds = 30u64;
    let mut only: Option<String> = None;
    let mut mode: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => {
                seconds = it
                    .next()
                    .ok_or("--seconds needs a value")?
                    .parse()
                    .map_err(|e| format!("--seconds: {e}"))?
            }
            "--only" => only = Some(it.next().ok_or("--only needs a target name")?.clone()),
            "--mode" => mode = Some(it.next().ok_or("--mode needs a value")?.clone()),
            other => return Err(format!("fuzz: unknown argument `{other}`")),
        }
    }
    let all = targets()?;
    let chosen: Vec<&Target> = all
        .iter()
        .filter(|t| {
            only.as_deref().is_none_or(|o| {
                o == t.name || o == t.krate || o == format!("{}/{}", t.krate, t.name)
            })
        })
        .collect();
    if chosen.is_empty() {
        let names: Vec<String> = all
            .iter()
            .map(|t| format!("{}/{}", t.krate, t.name))
            .collect();
        return Err(format!("no fuzz target matches; targets: {names:?}"));
    }
    let mode = choose(mode.as_deref())?;
    eprintln!(
        "==> [fuzz] {} targets, {seconds} s each, mode: {}",
        chosen.len(),
        match mode {
            Mode::CargoFuzz { nightly: true } => "cargo +nightly fuzz (libFuzzer + ASan)",
            Mode::CargoFuzz { nightly: false } =>
                "RUSTC_BOOTSTRAP=1 cargo fuzz on stable (libFuzzer + ASan)",
            Mode::Direct => "direct libFuzzer build with coverage, no sanitizer",
        }
    );
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for t in chosen {
        let (ok, units, note) = run_target(t, mode, seconds);
        if !ok {
            failed.push(format!("{}/{}: {note}", t.krate, t.name));
        }
        rows.push(json!({
            "crate": t.krate, "target": t.name, "ok": ok, "runs": units, "note": note,
        }));
    }
    let report = json!({ "seconds_per_target": seconds, "targets": rows });
    let path = target_dir().join("report.json");
    let _ = std::fs::create_dir_all(target_dir());
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
    )
    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!(
        "{:<16} {:<12} {:>4} {:>12}",
        "crate", "target", "ok", "runs"
    );
    for r in &rows {
        println!(
            "{:<16} {:<12} {:>4} {:>12}",
            r["crate"].as_str().unwrap_or(""),
            r["target"].as_str().unwrap_or(""),
            if r["ok"].as_bool().unwrap_or(false) {
                "yes"
            } else {
                "NO"
            },
            r["runs"].as_u64().map_or("?".into(), |u| u.to_string()),
        );
    }
    println!("report: {}", path.display());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("fuzzing failed:\n  {}", failed.join("\n  ")))
    }
}
