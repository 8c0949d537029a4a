//! `cargo xtask ci`: every check CI runs, in one command, with real Redis and PostgreSQL.

use crate::util::{cargo, run as step};
use std::time::Instant;
use test_services::{Services, StartOptions};

pub fn run(args: &[String]) -> Result<(), String> {
    let start = Instant::now();
    let skip_bench = args.iter().any(|a| a == "--no-bench");
    step("fmt", cargo().args(["fmt", "--all", "--", "--check"]))?;
    eprintln!("\n==> [tidy]");
    crate::tidy::run()?;
    step(
        "clippy",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;

    eprintln!("\n==> [services] REDIS_URL / DATABASE_URL, or throwaway servers");
    let services =
        Services::from_env_or_start(StartOptions::default()).map_err(|e| e.to_string())?;
    for (name, started) in [
        ("redis", services.redis.is_some()),
        ("postgres", services.postgres.is_some()),
    ] {
        eprintln!(
            "    {name}: {}",
            if started {
                "started here"
            } else {
                "from the environment"
            }
        );
    }
    let urls = services.urls.clone();
    let with_services = |cmd: &mut std::process::Command| {
        cmd.env("REDIS_URL", &urls.redis_url)
            .env("DATABASE_URL", &urls.database_url);
    };

    let mut test = cargo();
    test.args(["test", "--workspace", "--no-fail-fast"]);
    with_services(&mut test);
    step("test", &mut test)?;

    step(
        "doc",
        cargo()
            .args(["doc", "--workspace", "--no-deps"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;

    if !skip_bench {
        // Through cargo: `cargo test` may have rebuilt this very binary.
        let mut bench = cargo();
        bench.args(["run", "--quiet", "-p", "xtask", "--"]);
        bench.args(["bench", "--quick"]);
        with_services(&mut bench);
        step("bench --quick", &mut bench)?;
    }
    drop(services);
    eprintln!("\n==> ci passed in {:.0}s", start.elapsed().as_secs_f64());
    Ok(())
}
