//! `cargo xtask bench`: every benchmark beside its peer, one JSON file and one markdown table.
//!
//! Each benchmark is a binary package `bench-NAME` in `benches/NAME/` (see `bench-support`). This
//! command runs them in release mode, merges their records into `target/bench/results.json` with
//! the machine, date and command, and regenerates `docs/BENCHMARKS.md` (a full run) or
//! `target/bench/BENCHMARKS.quick.md` (`--quick`, the CI smoke run).

use crate::util::{cargo, root, run_limited, LONG_STEP_LIMIT};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

struct Options {
    quick: bool,
    only: Vec<String>,
    json: Option<PathBuf>,
    compare: Option<PathBuf>,
    reuse: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        quick: false,
        only: Vec::new(),
        json: None,
        compare: None,
        reuse: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--reuse" => o.reuse = true,
            "--only" => o.only.push(it.next().ok_or("--only needs a NAME")?.clone()),
            "--json" => o.json = Some(it.next().ok_or("--json needs a PATH")?.into()),
            "--compare" => o.compare = Some(it.next().ok_or("--compare needs a PATH")?.into()),
            other => return Err(format!("bench: unknown argument `{other}`")),
        }
    }
    Ok(o)
}

/// The benchmark packages: `benches/NAME/` whose package is named `bench-NAME`.
fn suites(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("benches"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "support")
        .collect();
    names.sort();
    names
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown cpu".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    format!("{cpu}, {cores} cores, {mem_gib:.0} GiB")
}

fn today() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

pub fn run(args: &[String]) -> Result<(), String> {
    let opts = parse(args)?;
    let root = root();
    let out_dir = root.join("target/bench");
    std::fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;
    let all = suites(&root);
    for name in &opts.only {
        if !all.contains(name) {
            return Err(format!(
                "no benchmark named `{name}`; there are: {}",
                all.join(", ")
            ));
        }
    }
    let selected: Vec<&String> = all
        .iter()
        .filter(|n| opts.only.is_empty() || opts.only.contains(n))
        .collect();
    if selected.is_empty() {
        eprintln!("bench: no benchmark suites under benches/ yet");
    }
    let machine = machine();
    let date = today();
    let mut records: Vec<Value> = Vec::new();
    let mut failed = Vec::new();
    for name in selected {
        let file = out_dir.join(format!("{name}.json"));
        let command = format!(
            "cargo xtask bench --only {name}{}",
            if opts.quick { " --quick" } else { "" }
        );
        if opts.reuse && !opts.quick && file.is_file() {
            // A suite's own full run from earlier (`cargo xtask bench --only NAME` writes it):
            // kept as it is, so a long suite need not run again to regenerate the report.
            eprintln!("bench: reusing {}", file.display());
            let text = std::fs::read_to_string(&file).map_err(|e| e.to_string())?;
            let parsed: Vec<Value> = serde_json::from_str(&text)
                .map_err(|e| format!("bench {name}: bad results in {}: {e}", file.display()))?;
            for mut r in parsed {
                if let Some(obj) = r.as_object_mut() {
                    obj.entry("machine").or_insert(json!(machine));
                    obj.entry("date").or_insert(json!(date));
                    obj.entry("command").or_insert(json!(command));
                }
                records.push(r);
            }
            continue;
        }
        let _ = std::fs::remove_file(&file);
        let mut cmd = cargo();
        cmd.args(["run", "--quiet"]);
        // The smoke run checks that the benchmarks work, not their speed: a debug build shares
        // the test build's artifacts, so CI does not build the whole workspace a second time.
        if !opts.quick {
            cmd.arg("--release");
        }
        // `--bin`: a suite may ship more binaries (context-chop also has `eval-context`).
        let package = format!("bench-{name}");
        cmd.args(["-p", &package, "--bin", &package, "--"]);
        if opts.quick {
            cmd.arg("--quick");
        }
        cmd.arg("--out").arg(&file);
        // A full suite may run long on a loaded machine; the limit only catches a hang.
        let limit = if opts.quick {
            std::time::Duration::from_secs(20 * 60)
        } else {
            LONG_STEP_LIMIT
        };
        if let Err(e) = run_limited(&format!("bench {name}"), &mut cmd, limit) {
            eprintln!("bench: {e}");
            failed.push(name.clone());
            continue;
        }
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("bench {name} wrote no results ({}): {e}", file.display()))?;
        let parsed: Vec<Value> =
            serde_json::from_str(&text).map_err(|e| format!("bench {name}: bad results: {e}"))?;
        for mut r in parsed {
            if let Some(obj) = r.as_object_mut() {
                obj.insert("machine".into(), json!(machine));
                obj.insert("date".into(), json!(date));
                obj.insert("command".into(), json!(command));
            }
            records.push(r);
        }
    }
    let results = out_dir.join("results.json");
    let json_text = serde_json::to_string_pretty(&records).map_err(|e| e.to_string())?;
    std::fs::write(&results, &json_text).map_err(|e| e.to_string())?;
    if let Some(path) = &opts.json {
        std::fs::write(path, &json_text).map_err(|e| e.to_string())?;
    }
    let chart_dir = if opts.quick || !opts.only.is_empty() {
        out_dir.join("charts")
    } else {
        root.join("docs/bench")
    };
    let charts = crate::charts::write(&records, &chart_dir)?;
    let mut md = render_markdown(&records, &machine, &date, opts.quick);
    if !charts.is_empty() {
        md.push_str("\n## Charts\n\n");
        for (group, file) in &charts {
            md.push_str(&format!("- {group}: [{file}](bench/{file})\n"));
        }
    }
    let md_path = if opts.quick || !opts.only.is_empty() {
        out_dir.join(if opts.quick {
            "BENCHMARKS.quick.md"
        } else {
            "BENCHMARKS.partial.md"
        })
    } else {
        root.join("docs/BENCHMARKS.md")
    };
    std::fs::write(&md_path, md).map_err(|e| e.to_string())?;
    eprintln!(
        "bench: {} records -> {} and {}",
        records.len(),
        results.display(),
        md_path.display()
    );
    if let Some(base) = &opts.compare {
        compare(base, &records)?;
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("benchmarks failed: {}", failed.join(", ")))
    }
}

fn fmt_num(v: Option<f64>) -> String {
    match v {
        None => "".into(),
        Some(v) if v.abs() >= 100.0 => format!("{v:.0}"),
        Some(v) if v.abs() >= 1.0 => format!("{v:.2}"),
        Some(v) => format!("{v:.4}"),
    }
}

fn render_markdown(records: &[Value], machine: &str, date: &str, quick: bool) -> String {
    let mut out = String::new();
    out.push_str("# Benchmarks\n\n");
    out.push_str("Generated by `cargo xtask bench`");
    if quick {
        out.push_str(" --quick (a smoke run: figures are not meaningful)");
    }
    out.push_str(&format!(
        ".\n\nMachine: {machine}. Date: {date}.\n\nRatio: ours relative to the peer in the same \
         run, oriented so that above 1.00x means ours is better (faster, smaller, more hits).\n"
    ));
    let mut groups: Vec<&str> = records
        .iter()
        .filter_map(|r| r.get("group")?.as_str())
        .collect();
    groups.dedup();
    for g in groups {
        out.push_str(&format!(
            "\n## {g}\n\nCommand: `cargo xtask bench --only {g}`\n\n"
        ));
        out.push_str("| benchmark | metric | ours | peer | peer's | ratio | target | met |\n");
        out.push_str("|---|---|---|---|---|---|---|---|\n");
        for r in records
            .iter()
            .filter(|r| r.get("group").and_then(Value::as_str) == Some(g))
        {
            let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let n = |k: &str| r.get(k).and_then(Value::as_f64);
            let unit = s("unit");
            out.push_str(&format!(
                "| {} | {} | {} {unit} | {} | {} | {} | {} | {} |\n",
                s("name"),
                s("metric"),
                fmt_num(n("value")),
                s("peer"),
                n("peer_value")
                    .map(|v| format!("{} {unit}", fmt_num(Some(v))))
                    .unwrap_or_default(),
                n("ratio").map(|v| format!("{v:.2}x")).unwrap_or_default(),
                s("target"),
                match r.get("target_met").and_then(Value::as_bool) {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None => "",
                }
            ));
            if let Some(note) = r.get("note").and_then(Value::as_str) {
                out.push_str(&format!("| | note: {note} | | | | | | |\n"));
            }
        }
    }
    out
}

/// Flags every ratio that got worse than `base` beyond a 10% noise band.
fn compare(base: &Path, records: &[Value]) -> Result<(), String> {
    let text = std::fs::read_to_string(base).map_err(|e| format!("{}: {e}", base.display()))?;
    let old: Vec<Value> =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", base.display()))?;
    let key = |r: &Value| {
        ["group", "name", "metric"]
            .iter()
            .map(|k| r.get(*k).and_then(Value::as_str).unwrap_or(""))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let mut worse = 0;
    for r in records {
        let Some(new_ratio) = r.get("ratio").and_then(Value::as_f64) else {
            continue;
        };
        let k = key(r);
        if let Some(old_ratio) = old
            .iter()
            .find(|o| key(o) == k)
            .and_then(|o| o.get("ratio").and_then(Value::as_f64))
        {
            if new_ratio < old_ratio * 0.9 {
                worse += 1;
                eprintln!("REGRESSION {k}: ratio {old_ratio:.2}x -> {new_ratio:.2}x");
            }
        }
    }
    if worse > 0 {
        Err(format!(
            "{worse} figure(s) regressed beyond the 10% noise band"
        ))
    } else {
        eprintln!("bench --compare: no ratio regressed beyond 10%");
        Ok(())
    }
}
