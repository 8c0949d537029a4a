//! Python files keep an identical syntax tree: `ast.dump` at lossless and balanced, and once
//! docstrings are removed from both at aggressive; at skeleton they still parse; every level is
//! idempotent. Corpus: a bounded, deterministic sample of the python3 stdlib, checked by one
//! python3 process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use token_opt::{CompressOptions, Compressor, Language, Level};

const CHECK: &str = r#"
import ast, sys
sys.setrecursionlimit(20000)

def is_marker(v):
    return (isinstance(v, str) and v.startswith("[elided: ")) or (
        isinstance(v, bytes) and v.startswith(b"[elided: "))

def same(a, b):
    if isinstance(a, ast.AST):
        if type(a) is not type(b):
            return False
        return all(same(getattr(a, f, None), getattr(b, f, None)) for f in a._fields)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b or is_marker(b)

def strip_docstrings(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            # The docstring, and any string statements right after it (they would become the
            # docstring once it is gone).
            body = node.body
            removed = False
            while body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                body.pop(0)
                removed = True
            if removed and not body and not isinstance(node, ast.Module):
                body.append(ast.Pass())
    return tree

bad = 0
checked = 0
for line in sys.stdin:
    orig, comp, level = line.rstrip("\n").split("\t")
    try:
        a = ast.parse(open(orig, "rb").read())
    except Exception:
        continue  # the original is not valid for this Python
    checked += 1
    try:
        b = ast.parse(open(comp, "rb").read())
    except Exception as e:
        print(f"BROKEN {level} {orig}: {e}")
        bad += 1
        continue
    if level == "skeleton":
        continue  # bodies are elided by design: it must only still parse
    if level == "aggressive":
        a, b = strip_docstrings(a), strip_docstrings(b)
    if not same(a, b):
        print(f"DIFFERENT {level} {orig}")
        bad += 1
print(f"checked {checked} bad {bad}")
"#;

fn stdlib() -> Option<PathBuf> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sysconfig;print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .ok()?;
    let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    p.is_dir().then_some(p)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if !p.ends_with("site-packages") {
                walk(&p, out);
            }
        } else if p.extension().is_some_and(|e| e == "py") {
            out.push(p);
        }
    }
}

/// Every `step`-th stdlib file (bounded so the test stays fast).
fn sample(max: usize) -> Vec<PathBuf> {
    let Some(dir) = stdlib() else {
        return Vec::new();
    };
    let mut all = Vec::new();
    walk(&dir, &mut all);
    let step = (all.len() / max).max(1);
    all.into_iter().step_by(step).take(max).collect()
}

#[test]
fn stdlib_sample_keeps_its_syntax_tree() {
    // TOKEN_OPT_PY_SAMPLE=5000 checks the whole stdlib (slow; not in CI).
    let max = std::env::var("TOKEN_OPT_PY_SAMPLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150);
    let files = sample(max);
    assert!(
        !files.is_empty(),
        "python3 and its stdlib are needed for this test"
    );
    let tmp = std::env::temp_dir().join(format!("token-opt-pyast-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut manifest = String::new();
    let mut unstable = Vec::new();
    for level in Level::ALL {
        // The token guard is covered by the property tests; here it would only slow the
        // debug build down.
        let options = CompressOptions::builder()
            .level(level)
            .token_guard(None)
            .build();
        let mut c = Compressor::new(options.clone());
        for (i, f) in files.iter().enumerate() {
            let Ok(text) = std::fs::read_to_string(f) else {
                continue;
            };
            let out = c.compress(&text, Language::Python).unwrap();
            // Idempotent: compressing the output again changes nothing.
            let again = Compressor::new(options.clone())
                .compress(&out.text, Language::Python)
                .unwrap();
            if again.text != out.text {
                unstable.push(format!("{level} {}", f.display()));
            }
            let dest = tmp.join(format!("{level}-{i}.py"));
            std::fs::write(&dest, &out.text).unwrap();
            manifest.push_str(&format!("{}\t{}\t{level}\n", f.display(), dest.display()));
        }
    }
    let mut child = Command::new("python3")
        .args(["-c", CHECK])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(manifest.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(unstable.is_empty(), "not idempotent: {unstable:?}");
    assert!(report.contains("checked"), "checker failed: {report}");
    assert!(report.contains(" bad 0"), "{report}");
    let checked: usize = report
        .rsplit("checked ")
        .next()
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(checked > max.min(100), "{report}");
}
