//! `cargo xtask services up|down|env`: throwaway Redis and PostgreSQL for local work.
//!
//! `up` starts detached servers (unless `REDIS_URL`/`DATABASE_URL` are set) and records them in
//! `target/xtask/services.env`; `env` prints the exports; `down` stops them by their PIDs and
//! removes their directories.

use crate::util::root;
use std::path::PathBuf;
use test_services::{PostgresServer, RedisServer, StartOptions};

fn state_file() -> PathBuf {
    root().join("target/xtask/services.env")
}

fn read_state() -> Vec<(String, String)> {
    std::fs::read_to_string(state_file())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

fn get<'a>(state: &'a [(String, String)], key: &str) -> Option<&'a str> {
    state
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn alive(pid: Option<&str>) -> bool {
    pid.and_then(|p| p.parse::<u32>().ok())
        .is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists())
}

fn print_env(state: &[(String, String)]) {
    for key in ["REDIS_URL", "DATABASE_URL"] {
        if let Some(v) = get(state, key) {
            println!("export {key}={v}");
        }
    }
}

pub fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("up") => up(),
        Some("down") => down(),
        Some("env") => {
            let state = read_state();
            if state.is_empty() {
                return Err("no services are up: run `cargo xtask services up` first".into());
            }
            print_env(&state);
            Ok(())
        }
        _ => Err("usage: cargo xtask services up|down|env".into()),
    }
}

fn up() -> Result<(), String> {
    let state = read_state();
    let redis_ok = get(&state, "REDIS_PID").is_none() || alive(get(&state, "REDIS_PID"));
    let pg_ok = get(&state, "PG_PID").is_none() || alive(get(&state, "PG_PID"));
    if !state.is_empty() && redis_ok && pg_ok {
        eprintln!("services are already up ({})", state_file().display());
        print_env(&state);
        return Ok(());
    }
    if !state.is_empty() {
        down()?;
    }
    let opts = StartOptions { detached: true };
    let mut lines = Vec::new();
    match std::env::var("REDIS_URL").ok().filter(|v| !v.is_empty()) {
        Some(url) => lines.push(format!("REDIS_URL={url}")),
        None => {
            let s = RedisServer::start_with(opts).map_err(|e| e.to_string())?;
            let url = s.url();
            let (pid, _, dir) = s.detach();
            lines.push(format!("REDIS_URL={url}"));
            lines.push(format!("REDIS_PID={pid}"));
            lines.push(format!("REDIS_DIR={}", dir.display()));
        }
    }
    match std::env::var("DATABASE_URL").ok().filter(|v| !v.is_empty()) {
        Some(url) => lines.push(format!("DATABASE_URL={url}")),
        None => {
            let s = PostgresServer::start_with(opts).map_err(|e| e.to_string())?;
            let url = s.url();
            let (pid, _, dir) = s.detach();
            lines.push(format!("DATABASE_URL={url}"));
            lines.push(format!("PG_PID={pid}"));
            lines.push(format!("PG_DIR={}", dir.display()));
        }
    }
    let file = state_file();
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    std::fs::write(&file, lines.join("\n") + "\n").map_err(|e| e.to_string())?;
    eprintln!(
        "services up; stop them with `cargo xtask services down` ({})",
        file.display()
    );
    print_env(&read_state());
    Ok(())
}

fn down() -> Result<(), String> {
    let state = read_state();
    for (pid_key, dir_key, pg) in [
        ("REDIS_PID", "REDIS_DIR", false),
        ("PG_PID", "PG_DIR", true),
    ] {
        if let (Some(pid), Some(dir)) = (get(&state, pid_key), get(&state, dir_key)) {
            if let Ok(pid) = pid.parse::<u32>() {
                test_services::stop_detached(pid, std::path::Path::new(dir), pg);
                eprintln!(
                    "stopped {} (pid {pid})",
                    if pg { "postgres" } else { "redis" }
                );
            }
        }
    }
    let _ = std::fs::remove_file(state_file());
    Ok(())
}
