//! Tree walking: `.gitignore` (every level), `.ignore`, `.pipelineignore`, globs, extensions,
//! size limits, binary detection and the default skip list for vendored and generated code.

use crate::{Error, Result};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

/// The name of the project-specific ignore file (gitignore syntax), honoured at every level.
pub const PIPELINE_IGNORE: &str = ".pipelineignore";

/// Directories skipped by default: vendored, generated or build output.
pub const DEFAULT_SKIP_DIRS: &[&str] = &[
    "node_modules",
    "vendor",
    "target",
    "dist",
    "build",
    "bower_components",
    "__pycache__",
    ".venv",
    "venv",
    ".tox",
    ".mypy_cache",
    ".pytest_cache",
    ".gradle",
    ".next",
    ".nuxt",
    "coverage",
    "Pods",
    ".git",
    ".hg",
    ".svn",
    ".pipeline",
];

/// File names skipped by default: lock files and other generated manifests.
pub const DEFAULT_SKIP_FILES: &[&str] = &[
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "Cargo.lock",
    "poetry.lock",
    "Pipfile.lock",
    "Gemfile.lock",
    "composer.lock",
    "go.sum",
    "flake.lock",
    "npm-shrinkwrap.json",
];

/// File name suffixes skipped by default: minified, generated and binary formats.
pub const DEFAULT_SKIP_SUFFIXES: &[&str] = &[
    ".lock", ".min.js", ".min.css", ".map", ".pb.go", "_pb2.py", ".png", ".jpg", ".jpeg", ".gif",
    ".bmp", ".ico", ".webp", ".pdf", ".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".7z", ".tar",
    ".jar", ".class", ".so", ".dylib", ".dll", ".exe", ".o", ".a", ".rlib", ".wasm", ".woff",
    ".woff2", ".ttf", ".otf", ".eot", ".mp3", ".mp4", ".mov", ".avi", ".pyc", ".sqlite", ".db",
];

/// What to walk and what to leave out. Plain struct with defaults; see [`WalkOptions::default`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkOptions {
    /// Only files with these extensions (without the dot, any case); empty means all.
    pub extensions: Vec<String>,
    /// Globs in gitignore syntax relative to the root: `src/**` includes (then only matches are
    /// kept), `!tests/**` excludes.
    pub globs: Vec<String>,
    /// Files larger than this many bytes are skipped (default 1 MiB).
    pub max_file_size: u64,
    /// Skip [`DEFAULT_SKIP_DIRS`], [`DEFAULT_SKIP_FILES`] and [`DEFAULT_SKIP_SUFFIXES`] (default on).
    pub skip_generated: bool,
    /// Include hidden files and directories (default off).
    pub hidden: bool,
    /// Follow symbolic links (default off). Loops are detected; targets outside the root are skipped.
    pub follow_links: bool,
    /// Honour `.gitignore`, `.ignore`, `.git/info/exclude` and `.pipelineignore` (default on).
    pub ignore_files: bool,
    /// Worker threads for the walk and for reading files; 0 means one per core.
    pub threads: usize,
    /// Absolute or root-relative directories never entered (the index cache is added automatically).
    pub exclude_dirs: Vec<PathBuf>,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            extensions: Vec::new(),
            globs: Vec::new(),
            max_file_size: 1 << 20,
            skip_generated: true,
            hidden: false,
            follow_links: false,
            ignore_files: true,
            threads: 0,
            exclude_dirs: Vec::new(),
        }
    }
}

/// A file the walk kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkedFile {
    /// Path relative to the root, `/`-separated, never starting with `/` or containing `..`.
    pub path: String,
    /// Absolute (root-joined) path to read.
    pub abs: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Modification time in nanoseconds since the epoch (0 when unknown).
    pub mtime_ns: u64,
}

/// Something the walk could not do; reported, never fatal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkIssue {
    /// The path concerned (relative when possible).
    pub path: String,
    /// What went wrong.
    pub message: String,
}

/// The result of a walk: files sorted by path, and the issues met on the way.
#[derive(Debug, Clone, Default)]
pub struct Walk {
    /// Kept files, sorted by path.
    pub files: Vec<WalkedFile>,
    /// Unreadable entries, symlink loops, and so on.
    pub issues: Vec<WalkIssue>,
}

/// The number of worker threads to use for `threads` (0 = one per core).
pub(crate) fn thread_count(threads: usize) -> usize {
    if threads > 0 {
        return threads;
    }
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

/// Whether the default skip list drops a file with this name.
pub fn is_default_skipped_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    DEFAULT_SKIP_FILES
        .iter()
        .any(|f| f.eq_ignore_ascii_case(name))
        || DEFAULT_SKIP_SUFFIXES.iter().any(|s| lower.ends_with(s))
}

/// `path` relative to `root` as a `/`-separated string; `None` when it escapes the root.
pub(crate) fn relative(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let mut out = String::new();
    for c in rel.components() {
        match c {
            Component::Normal(s) => {
                if !out.is_empty() {
                    out.push('/');
                }
                out.push_str(&s.to_string_lossy());
            }
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Walks `root` in parallel with `opts`; files come back sorted by relative path.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("a.rs"), "fn a() {}\n")?;
/// std::fs::write(dir.path().join("package-lock.json"), "{}")?;
/// let walk = context_chop::walk(dir.path(), &Default::default())?;
/// assert_eq!(walk.files.len(), 1);
/// assert_eq!(walk.files[0].path, "a.rs");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn walk(root: &Path, opts: &WalkOptions) -> Result<Walk> {
    let meta = std::fs::metadata(root).map_err(|e| Error::Io {
        path: root.to_path_buf(),
        source: e,
    })?;
    if !meta.is_dir() {
        return Err(Error::Invalid(format!(
            "root {} is not a directory",
            root.display()
        )));
    }
    let canon_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let mut builder = ignore::WalkBuilder::new(root);
    builder
        .hidden(!opts.hidden)
        .follow_links(opts.follow_links)
        .git_ignore(opts.ignore_files)
        .git_global(false)
        .git_exclude(opts.ignore_files)
        .ignore(opts.ignore_files)
        .parents(opts.ignore_files)
        .require_git(false)
        .threads(thread_count(opts.threads));
    if opts.ignore_files {
        builder.add_custom_ignore_filename(PIPELINE_IGNORE);
    }
    if !opts.globs.is_empty() {
        let mut ob = ignore::overrides::OverrideBuilder::new(root);
        for g in &opts.globs {
            ob.add(g)
                .map_err(|e| Error::Invalid(format!("bad glob {g:?}: {e}")))?;
        }
        let ov = ob
            .build()
            .map_err(|e| Error::Invalid(format!("bad globs: {e}")))?;
        builder.overrides(ov);
    }
    let excluded: Vec<PathBuf> = opts
        .exclude_dirs
        .iter()
        .map(|d| {
            if d.is_absolute() {
                d.clone()
            } else {
                root.join(d)
            }
        })
        .flat_map(|d| {
            let c = std::fs::canonicalize(&d).ok();
            std::iter::once(d).chain(c)
        })
        .collect();
    let skip_generated = opts.skip_generated;
    builder.filter_entry(move |entry| {
        if entry.depth() == 0 {
            return true;
        }
        let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
        if is_dir {
            if skip_generated {
                let name = entry.file_name().to_string_lossy();
                if DEFAULT_SKIP_DIRS.iter().any(|d| *d == name) {
                    return false;
                }
            }
            return !excluded.iter().any(|x| entry.path() == x);
        }
        true
    });
    let exts: Vec<String> = opts
        .extensions
        .iter()
        .map(|e| e.trim_start_matches('.').to_ascii_lowercase())
        .collect();
    let files = Mutex::new(Vec::new());
    let issues = Mutex::new(Vec::new());
    let push_issue = |path: String, message: String| {
        if let Ok(mut v) = issues.lock() {
            v.push(WalkIssue { path, message });
        }
    };
    builder.build_parallel().run(|| {
        Box::new(|res| {
            let entry = match res {
                Ok(e) => e,
                Err(err) => {
                    let path = match &err {
                        ignore::Error::WithPath { path, .. } => {
                            relative(root, path).unwrap_or_else(|| path.display().to_string())
                        }
                        _ => String::new(),
                    };
                    push_issue(path, err.to_string());
                    return ignore::WalkState::Continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return ignore::WalkState::Continue;
            }
            let name = entry.file_name().to_string_lossy();
            if skip_generated && is_default_skipped_file(&name) {
                return ignore::WalkState::Continue;
            }
            if !exts.is_empty() {
                let ext = Path::new(name.as_ref())
                    .extension()
                    .map(|e| e.to_string_lossy().to_ascii_lowercase())
                    .unwrap_or_default();
                if !exts.contains(&ext) {
                    return ignore::WalkState::Continue;
                }
            }
            let Some(rel) = relative(root, entry.path()) else {
                return ignore::WalkState::Continue;
            };
            if opts.follow_links {
                // A link may lead outside the root; such files are not ours to read.
                match std::fs::canonicalize(entry.path()) {
                    Ok(c) if c.starts_with(&canon_root) => {}
                    Ok(_) => return ignore::WalkState::Continue,
                    Err(e) => {
                        push_issue(rel, e.to_string());
                        return ignore::WalkState::Continue;
                    }
                }
            }
            let meta = match entry.metadata() {
                Ok(m) => m,
                Err(e) => {
                    push_issue(rel, e.to_string());
                    return ignore::WalkState::Continue;
                }
            };
            if meta.len() > opts.max_file_size {
                return ignore::WalkState::Continue;
            }
            let mtime_ns = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            if let Ok(mut v) = files.lock() {
                v.push(WalkedFile {
                    path: rel,
                    abs: entry.path().to_path_buf(),
                    size: meta.len(),
                    mtime_ns,
                });
            }
            ignore::WalkState::Continue
        })
    });
    let mut files = files.into_inner().unwrap_or_default();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files.dedup_by(|a, b| a.path == b.path);
    let mut issues = issues.into_inner().unwrap_or_default();
    issues.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Walk { files, issues })
}

/// The contents of a source file as the index sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Text (invalid UTF-8 replaced with U+FFFD, deterministically).
    Text(String),
    /// A NUL byte in the first 8 KiB: binary, skipped.
    Binary,
}

/// Reads a file and classifies it: binary when a NUL byte appears in the first 8 KiB.
pub fn read_source(path: &Path) -> std::io::Result<(Source, blake3::Hash)> {
    let bytes = std::fs::read(path)?;
    let hash = blake3::hash(&bytes);
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return Ok((Source::Binary, hash));
    }
    let text = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    Ok((Source::Text(text), hash))
}
