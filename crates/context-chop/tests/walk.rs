//! Walker: ignore files at every level, default skips, binary and size limits, symlink loops,
//! unreadable files, relative paths.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use context_chop::{walk, Index, IndexOptions, WalkOptions};
use std::fs;
use std::path::Path;

fn write(root: &Path, rel: &str, body: &[u8]) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, body).unwrap();
}

fn paths(root: &Path, opts: &WalkOptions) -> Vec<String> {
    walk(root, opts)
        .unwrap()
        .files
        .into_iter()
        .map(|f| f.path)
        .collect()
}

#[test]
fn gitignore_at_every_level_and_custom_ignore_files() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, ".gitignore", b"*.log\n/out/\n");
    write(r, "a.rs", b"fn a() {}\n");
    write(r, "x.log", b"log\n");
    write(r, "out/gen.rs", b"fn g() {}\n");
    write(r, "src/.gitignore", b"secret.rs\n");
    write(r, "src/secret.rs", b"fn s() {}\n");
    write(r, "src/keep.rs", b"fn k() {}\n");
    write(r, "src/deep/.ignore", b"skip_me.py\n");
    write(r, "src/deep/skip_me.py", b"x = 1\n");
    write(r, "src/deep/ok.py", b"x = 2\n");
    write(r, ".pipelineignore", b"fixtures/\n");
    write(r, "fixtures/big.rs", b"fn f() {}\n");
    assert_eq!(
        paths(r, &WalkOptions::default()),
        ["a.rs", "src/deep/ok.py", "src/keep.rs"]
    );
    // Turning ignore files off brings them back (hidden files stay out).
    let all = paths(
        r,
        &WalkOptions {
            ignore_files: false,
            ..WalkOptions::default()
        },
    );
    assert!(all.contains(&"src/secret.rs".to_string()));
    assert!(all.contains(&"fixtures/big.rs".to_string()));
}

#[test]
fn default_skips_globs_extensions_and_size() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "node_modules/lib/index.js", b"x\n");
    write(r, "vendor/v.go", b"package v\n");
    write(r, "target/debug/out.rs", b"fn x() {}\n");
    write(r, "dist/app.js", b"x\n");
    write(r, "web/app.min.js", b"x\n");
    write(r, "package-lock.json", b"{}\n");
    write(r, "Cargo.lock", b"x\n");
    write(r, "web/app.js", b"function app() {}\n");
    write(r, "src/lib.rs", b"fn l() {}\n");
    write(r, "src/big.rs", &vec![b'a'; 5000]);
    write(r, "tests/t.rs", b"fn t() {}\n");
    let opts = WalkOptions {
        max_file_size: 4096,
        ..WalkOptions::default()
    };
    assert_eq!(paths(r, &opts), ["src/lib.rs", "tests/t.rs", "web/app.js"]);
    let rs = WalkOptions {
        extensions: vec!["rs".into()],
        globs: vec!["!tests/**".into()],
        ..WalkOptions::default()
    };
    assert_eq!(paths(r, &rs), ["src/big.rs", "src/lib.rs"]);
    let keep_all = WalkOptions {
        skip_generated: false,
        ..WalkOptions::default()
    };
    assert!(paths(r, &keep_all).contains(&"node_modules/lib/index.js".to_string()));
    assert!(walk(&r.join("nope"), &WalkOptions::default()).is_err());
}

#[test]
fn binary_files_are_not_indexed() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    let mut bin = b"ELF".to_vec();
    bin.extend([0u8; 16]);
    bin.extend(b"fn hidden_in_binary() {}");
    write(r, "blob.dat", &bin);
    write(r, "text.rs", b"fn visible() {}\n");
    let idx = Index::open(r, IndexOptions::default()).unwrap();
    assert_eq!(idx.paths().collect::<Vec<_>>(), ["text.rs"]);
    assert_eq!(idx.last_refresh().binary, 1);
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_safe_and_links_outside_are_skipped() {
    let d = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "a/x.rs", b"fn x() {}\n");
    write(outside.path(), "o.rs", b"fn o() {}\n");
    std::os::unix::fs::symlink(r.join("a"), r.join("a/loop")).unwrap();
    std::os::unix::fs::symlink(outside.path(), r.join("out")).unwrap();
    // Not following links: the links are ignored.
    assert_eq!(paths(r, &WalkOptions::default()), ["a/x.rs"]);
    // Following: the loop is reported, not followed forever; nothing outside the root.
    let w = walk(
        r,
        &WalkOptions {
            follow_links: true,
            ..WalkOptions::default()
        },
    )
    .unwrap();
    let ps: Vec<&str> = w.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(ps, ["a/x.rs"]);
    assert!(!w.issues.is_empty());
}

#[cfg(unix)]
#[test]
fn unreadable_files_are_reported_not_fatal() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "ok.rs", b"fn ok() {}\n");
    write(r, "locked.rs", b"fn locked() {}\n");
    fs::set_permissions(r.join("locked.rs"), fs::Permissions::from_mode(0o000)).unwrap();
    let readable_anyway = fs::read(r.join("locked.rs")).is_ok(); // root reads everything
    let idx = Index::open(r, IndexOptions::default()).unwrap();
    assert!(idx.paths().any(|p| p == "ok.rs"));
    if !readable_anyway {
        assert!(idx
            .last_refresh()
            .issues
            .iter()
            .any(|i| i.path == "locked.rs"));
        assert!(!idx.paths().any(|p| p == "locked.rs"));
    }
    fs::set_permissions(r.join("locked.rs"), fs::Permissions::from_mode(0o644)).unwrap();
}

#[test]
fn paths_are_relative_and_the_cache_dir_is_not_walked() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "deep/er/file.py", b"def f():\n    pass\n");
    let cache = r.join("my-cache");
    let opts = IndexOptions {
        cache_dir: Some(cache.clone()),
        ..IndexOptions::default()
    };
    let idx = Index::open(r, opts.clone()).unwrap();
    assert!(idx.cache_file().starts_with(&cache));
    assert!(idx.cache_file().exists());
    let again = Index::open(r, opts).unwrap();
    let ps: Vec<&str> = again.paths().collect();
    assert_eq!(ps, ["deep/er/file.py"]);
    for p in ps {
        assert!(!p.starts_with('/') && !p.contains(".."));
    }
}
