//! `cargo xtask tidy`: repository conventions that a compiler does not check.
//!
//! - every `.rs` file opens with `//!` (crate or module docs);
//! - every path dependency carries a version (so each crate publishes alone), except on crates
//!   that are never published (test helpers, used as dev-dependencies only);
//! - every component crate has a README, complete package metadata, `#![deny(missing_docs)]`,
//!   and no dependency on the `pipeline` facade.

use crate::util::root;
use std::path::{Path, PathBuf};

const FACADE: &str = "pipeline";
const METADATA: &[&str] = &[
    "description",
    "license",
    "repository",
    "readme",
    "keywords",
    "categories",
];

pub fn run() -> Result<(), String> {
    let root = root();
    let mut problems = Vec::new();
    for file in rust_files(&root) {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        if !first.trim_start().starts_with("//!") {
            problems.push(format!(
                "{}: does not open with `//!` docs",
                rel(&root, &file)
            ));
        }
    }
    let workspace: toml::Table = read_toml(&root.join("Cargo.toml"))?;
    let unpublished = unpublished_crates(&root)?;
    if let Some(deps) = workspace
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(|d| d.as_table())
    {
        for (name, spec) in deps {
            if spec.get("path").is_some()
                && spec.get("version").is_none()
                && !unpublished.contains(name)
            {
                problems.push(format!(
                    "Cargo.toml: workspace dependency `{name}` has a path but no version"
                ));
            }
        }
    }
    for dir in crate_dirs(&root) {
        let manifest_path = dir.join("Cargo.toml");
        let manifest = read_toml(&manifest_path)?;
        let name = manifest
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
            .unwrap_or("?")
            .to_string();
        let shown = rel(&root, &manifest_path);
        for table in ["dependencies", "dev-dependencies", "build-dependencies"] {
            let Some(deps) = manifest.get(table).and_then(|d| d.as_table()) else {
                continue;
            };
            for (dep, spec) in deps {
                if name != FACADE && dep == FACADE {
                    problems.push(format!(
                        "{shown}: component depends on the facade `{FACADE}`"
                    ));
                }
                let path_without_version =
                    spec.get("path").is_some() && spec.get("version").is_none();
                if path_without_version
                    && !(table == "dev-dependencies" && unpublished.contains(dep))
                {
                    problems.push(format!("{shown}: path dependency `{dep}` has no version"));
                }
            }
        }
        if !dir.join("README.md").is_file() {
            problems.push(format!("{}: no README.md", rel(&root, &dir)));
        }
        let package = manifest.get("package").and_then(|p| p.as_table());
        for key in METADATA {
            if package.and_then(|p| p.get(*key)).is_none() {
                problems.push(format!("{shown}: package metadata `{key}` missing"));
            }
        }
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap_or_default();
        if !lib.contains("#![deny(missing_docs)]") {
            problems.push(format!(
                "{}/src/lib.rs: no #![deny(missing_docs)]",
                rel(&root, &dir)
            ));
        }
    }
    if problems.is_empty() {
        eprintln!("    tidy: ok");
        Ok(())
    } else {
        for p in &problems {
            eprintln!("    tidy: {p}");
        }
        Err(format!("tidy found {} problem(s)", problems.len()))
    }
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

pub fn read_toml(path: &Path) -> Result<toml::Table, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.parse::<toml::Table>()
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The published component crates: every directory under `crates/`.
pub fn crate_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    dirs.sort();
    dirs
}

fn unpublished_crates(root: &Path) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut manifests = vec![
        root.join("xtask/Cargo.toml"),
        root.join("xtask/test-services/Cargo.toml"),
    ];
    for dir in ["benches", "fuzz"] {
        for entry in std::fs::read_dir(root.join(dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            manifests.push(entry.path().join("Cargo.toml"));
        }
    }
    manifests.push(root.join("fuzz/Cargo.toml"));
    for m in manifests.iter().filter(|m| m.is_file()) {
        let t = read_toml(m)?;
        let pkg = t.get("package");
        if pkg.and_then(|p| p.get("publish")).and_then(|p| p.as_bool()) == Some(false) {
            if let Some(name) = pkg.and_then(|p| p.get("name")).and_then(|n| n.as_str()) {
                out.push(name.to_string());
            }
        }
    }
    Ok(out)
}

fn rust_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = ["crates", "xtask", "benches", "fuzz"]
        .iter()
        .map(|d| root.join(d))
        .collect();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path.is_dir() {
                if !matches!(
                    name.as_ref(),
                    "target" | "corpus" | "artifacts" | "fixtures" | "testdata"
                ) && !name.starts_with('.')
                {
                    stack.push(path);
                }
            } else if name.ends_with(".rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}
