//! `cargo xtask`: the workspace's automation, in Rust instead of shell scripts.
//!
//! ```text
//! cargo xtask ci                      fmt, tidy, clippy, tests (real services), docs, bench smoke
//! cargo xtask services up|down|env    throwaway Redis + PostgreSQL for local work
//! cargo xtask bench [--quick] [--only NAME] [--json PATH] [--compare PATH] [--reuse]
//! cargo xtask release-check           cargo package / publish --dry-run in dependency order
//! cargo xtask tidy                    repository conventions
//! cargo xtask chaos [--seconds N] [--rate R]   the service under load while tiers fail
//! cargo xtask fuzz [--seconds N] [--only NAME] every fuzz target for N seconds
//! ```

use std::process::ExitCode;

mod bench;
mod chaos;
mod charts;
mod ci;
mod eval_context;
mod fuzz;
mod release;
mod services;
mod tidy;
mod util;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  ci                         fmt check, tidy, clippy -D warnings, all tests with real
                             Redis/PostgreSQL, docs with -D warnings, bench smoke run
  services up|down|env       start / stop throwaway Redis and PostgreSQL; `env` prints
                             `export REDIS_URL=... DATABASE_URL=...` (eval \"$(cargo xtask services env)\")
  bench [--quick] [--only NAME] [--json PATH] [--compare PATH] [--reuse]
                             run the benchmarks beside their peers; write target/bench/results.json
                             and docs/BENCHMARKS.md
  release-check              package (and dry-run publish) every crate in dependency order
  tidy                       repository conventions only
  chaos [--seconds N] [--rate R] [--clients C] [--bin PATH]
                             the HTTP service under steady loopback load while Redis and
                             PostgreSQL are stopped and restarted and clients hang up;
                             writes target/chaos/report.json, fails on a failed request or a
                             recovery over 5 s
  fuzz [--seconds N] [--only NAME] [--mode cargo-fuzz|direct]
                             every fuzz target (crates/*/fuzz) for N seconds each: libFuzzer
                             through cargo-fuzz when it works here, else a stable replay
                             harness (see xtask/src/fuzz.rs)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest = &args[1..];
    let result = match cmd.as_str() {
        "ci" => ci::run(rest),
        "services" => services::run(rest),
        "bench" => bench::run(rest),
        "eval-context" => eval_context::run(rest),
        "release-check" => release::run(rest),
        "tidy" => tidy::run(),
        "chaos" => chaos::run(rest),
        "fuzz" => fuzz::run(rest),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
