//! `cargo xtask eval-context --repo GIT_DIR [--repo ...] [--cases N] [--ablate] [--json OUT]`:
//! context-chop's hunk and gold-file recall on a repository's history beside a plain BM25
//! chunk baseline. The harness is the `eval-context` binary of `benches/context-chop`; this
//! command builds it in release mode and passes the arguments through.

use crate::util;

/// Runs the harness with `args`.
pub fn run(args: &[String]) -> Result<(), String> {
    if args.is_empty() || args.iter().any(|a| a == "-h" || a == "--help") {
        return Err(
            "usage: cargo xtask eval-context --repo GIT_DIR [--repo GIT_DIR ...] [--cases N] [--ablate] [--json OUT]"
                .into(),
        );
    }
    let mut cmd = util::cargo();
    cmd.args([
        "run",
        "--release",
        "-q",
        "-p",
        "bench-context-chop",
        "--bin",
        "eval-context",
        "--",
    ]);
    cmd.args(args);
    util::run_limited("eval-context", &mut cmd, util::LONG_STEP_LIMIT)
}
