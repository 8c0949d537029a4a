//! Small helpers shared by the xtask commands: running cargo, locating the workspace.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

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

/// Runs a command, echoing it, and fails with its exit status.
pub fn run(step: &str, cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}").replace('"', "");
    eprintln!("\n==> [{step}] {shown}");
    let start = Instant::now();
    let status = cmd
        .status()
        .map_err(|e| format!("[{step}] could not start: {e}"))?;
    let secs = start.elapsed().as_secs_f64();
    if status.success() {
        eprintln!("==> [{step}] ok in {secs:.1}s");
        Ok(())
    } else {
        Err(format!("[{step}] failed ({status}) after {secs:.1}s"))
    }
}
