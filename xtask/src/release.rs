//! `cargo xtask release-check`: every published crate packages (and dry-run publishes) cleanly,
//! in dependency order, with complete metadata and a README.

use crate::tidy::{crate_dirs, read_toml};
use crate::util::{cargo, root, run as step};

pub fn run(args: &[String]) -> Result<(), String> {
    let no_verify = args.iter().any(|a| a == "--no-verify");
    crate::tidy::run()?;
    let root = root();
    let mut names = Vec::new();
    for dir in crate_dirs(&root) {
        let manifest = read_toml(&dir.join("Cargo.toml"))?;
        if let Some(name) = manifest
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
        {
            names.push(name.to_string());
        }
    }
    // `cargo package --workspace` packages in dependency order and verifies each crate against
    // the packages of its siblings, through a local registry overlay, so crates that depend on
    // unpublished siblings are checked too.
    let mut cmd = cargo();
    cmd.args(["package", "--allow-dirty"]);
    for n in &names {
        cmd.args(["-p", n]);
    }
    if no_verify {
        cmd.arg("--no-verify");
    }
    step("package", &mut cmd)?;
    let mut listing = cargo();
    listing.args(["package", "--allow-dirty", "--list"]);
    for n in &names {
        listing.args(["-p", n]);
    }
    let out = listing
        .output()
        .map_err(|e| format!("cargo package --list: {e}"))?;
    let files = String::from_utf8_lossy(&out.stdout);
    if !files.contains("README.md") {
        return Err("a packaged crate has no README.md".into());
    }
    // A dry-run publish checks what `cargo package` does not (registry-side manifest rules). It
    // needs the registry index; without network it is reported and skipped, not failed.
    eprintln!("\n==> [publish --dry-run]");
    let out = cargo()
        .args([
            "publish",
            "--dry-run",
            "--workspace",
            "--allow-dirty",
            "--no-verify",
        ])
        .output()
        .map_err(|e| format!("cargo publish --dry-run: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        eprintln!("==> [publish --dry-run] ok");
    } else if [
        "network",
        "failed to get",
        "Unable to update",
        "spurious",
        "Couldn't resolve",
    ]
    .iter()
    .any(|m| stderr.contains(m))
    {
        eprintln!("==> [publish --dry-run] skipped: the registry index is unreachable");
    } else {
        return Err(format!("cargo publish --dry-run failed:\n{stderr}"));
    }
    eprintln!("release-check: {} crates package cleanly", names.len());
    Ok(())
}
