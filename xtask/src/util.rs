//! Small helpers shared by the xtask commands: running cargo, locating the workspace.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The workspace root (the parent of this crate's directory).
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// `cargo` as invoked by the caller (honours `$CARGO`).
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// How long one step may run before it is taken for hung and killed. A hung test would
/// otherwise run into CI's own limit with nothing said about which step it was.
const STEP_LIMIT: Duration = Duration::from_secs(40 * 60);

/// The limit of steps that legitimately run for hours (full benchmark suites, context
/// evaluation on large repositories); it only catches a hang.
pub const LONG_STEP_LIMIT: Duration = Duration::from_secs(4 * 3600);

/// Runs a command, echoing it, and fails with its exit status. A step that runs longer than
/// [`STEP_LIMIT`] is killed with everything it started, and fails saying so.
pub fn run(step: &str, cmd: &mut Command) -> Result<(), String> {
    run_limited(step, cmd, STEP_LIMIT)
}

/// [`run`] with an explicit time limit.
pub fn run_limited(step: &str, cmd: &mut Command, limit: Duration) -> Result<(), String> {
    let shown = format!("{cmd:?}").replace('"', "");
    eprintln!("\n==> [{step}] {shown}");
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("[{step}] could not start: {e}"))?;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() >= limit => {
                kill_tree(child.id());
                let _ = child.wait();
                return Err(format!(
                    "[{step}] still running after {} min: killed it and everything it started \
                     (the lines above say what was running: a test that \"has been running for \
                     over 60 seconds\" is the likely hang)",
                    limit.as_secs() / 60
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => return Err(format!("[{step}] could not wait for it: {e}")),
        }
    };
    let secs = start.elapsed().as_secs_f64();
    if status.success() {
        eprintln!("==> [{step}] ok in {secs:.1}s");
        Ok(())
    } else {
        Err(format!("[{step}] failed ({status}) after {secs:.1}s"))
    }
}

/// Kills `pid` and all its descendants (found through `/proc`), children first.
fn kill_tree(pid: u32) {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(p) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces or parens.
            if let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) {
                if let Some(ppid) = stat
                    .rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<u32>().ok())
                {
                    parents.push((p, ppid));
                }
            }
        }
    }
    let mut order = vec![pid];
    let mut i = 0;
    while i < order.len() {
        let parent = order[i];
        order.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    for p in order.iter().rev() {
        let Ok(pid) = libc::pid_t::try_from(*p) else {
            continue;
        };
        // SAFETY: kill(2) takes plain integers; a pid that has gone meanwhile gives ESRCH.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_over_its_limit_is_killed_with_its_children() {
        // A sleep length no other process is likely to use, to find leftovers by.
        let secs = 100_000 + std::process::id() % 100_000;
        let marker = format!("sleep {secs}");
        let mut cmd = Command::new("sh");
        cmd.args(["-c", &format!("{marker} & {marker}; true")]);
        let err = run_limited("sleepy", &mut cmd, Duration::from_millis(500)).unwrap_err();
        assert!(err.contains("still running after"), "{err}");
        std::thread::sleep(Duration::from_millis(200));
        let left: Vec<String> = std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .filter(|c| c.trim() == marker)
            .collect();
        assert!(left.is_empty(), "left running: {left:?}");
        assert!(run_limited("quick", &mut Command::new("true"), Duration::from_secs(60)).is_ok());
        assert!(run_limited("fails", &mut Command::new("false"), Duration::from_secs(60)).is_err());
    }
}
