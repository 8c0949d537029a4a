//! `pipeline scan` and `pipeline redact`: secure-redact over files, directories and stdin, with
//! the machine-readable outputs of the CLI contract (JSON lines, SARIF 2.1.0, text).
//!
//! A finding is printed with its rule, level, path, line, column (1-based, bytes) and keyed
//! fingerprint, never with the secret.

use crate::types::Clearance;
use crate::{Error, Result};
use secure_redact::{Finding, Level, RedactMode, Scanner, Source, StreamOptions};
use serde_json::{json, Value};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Files larger than this are scanned as a stream (memory bounded by the chunk size).
const STREAM_ABOVE: u64 = 16 << 20;

/// What `scan_paths` reads and with which rules.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Baseline of accepted fingerprints (one per line, or a JSON array, or scan JSON lines).
    pub baseline: Option<PathBuf>,
    /// Extra rules and allowlists (TOML or JSON).
    pub rules: Option<PathBuf>,
    /// Kept for symmetry with the other commands; scanning streams, so any size is fine.
    pub max_input: u64,
    /// Scan files that `.gitignore` excludes too.
    pub no_ignore: bool,
    /// Passphrase of the fingerprint key (`[security] fingerprint_key`); none: the default key.
    pub fingerprint_key: Option<String>,
}

/// One finding and the file it is in.
#[derive(Debug, Clone)]
pub struct Located {
    /// The path as given or walked (`-` for stdin).
    pub path: String,
    /// The finding.
    pub finding: Finding,
}

/// The result of a scan.
#[derive(Debug, Default)]
pub struct ScanReport {
    /// Every finding, in path order then position.
    pub findings: Vec<Located>,
    /// Paths that could not be read, with the reason; the scan goes on past them.
    pub problems: Vec<String>,
    /// Files scanned.
    pub files: usize,
    /// Bytes scanned.
    pub bytes: u64,
}

/// A scanner with the built-in rules plus `rules` and `baseline` when given.
pub fn scanner(
    rules: Option<&Path>,
    baseline: Option<&Path>,
    fingerprint_key: Option<&str>,
) -> Result<Scanner> {
    let mut config = match rules {
        Some(p) => secure_redact::Config::from_path(p).map_err(|e| Error::Config(e.to_string()))?,
        None => secure_redact::Config::default(),
    };
    if let Some(b) = baseline {
        let fps = secure_redact::load_baseline(b).map_err(|e| Error::Config(e.to_string()))?;
        config.baseline.extend(fps);
    }
    let mut builder = config
        .apply(Scanner::builder())
        .map_err(|e| Error::Config(e.to_string()))?;
    if let Some(k) = fingerprint_key {
        if k.trim().is_empty() {
            return Err(Error::Config(
                "the fingerprint key is empty: set a passphrase or leave it unset".into(),
            ));
        }
        builder = builder.key_from_passphrase(k);
    }
    builder.build().map_err(|e| Error::Config(e.to_string()))
}

/// `mask`, `partial`, `hash` or `drop-line`.
pub fn parse_mode(mode: &str) -> Result<RedactMode> {
    mode.parse::<RedactMode>().map_err(|_| {
        Error::Invalid(format!(
            "unknown redaction mode `{mode}` (expected mask, partial, hash or drop-line)"
        ))
    })
}

/// The JSON object of one finding (the `scan --format jsonl` line).
pub fn finding_json(f: &Finding, path: &str) -> Value {
    json!({
        "rule": &*f.rule,
        "level": f.level,
        "path": path,
        "line": f.line,
        "column": f.column,
        "start": f.start,
        "end": f.end,
        "fingerprint": f.fingerprint,
    })
}

/// Scans every path (`-`: stdin; directories are walked, honouring `.gitignore` unless
/// `no_ignore`; hidden files such as `.env` are included; binary files are skipped).
pub fn scan_paths(paths: &[String], opts: &ScanOptions) -> Result<ScanReport> {
    let scanner = scanner(
        opts.rules.as_deref(),
        opts.baseline.as_deref(),
        opts.fingerprint_key.as_deref(),
    )?;
    let mut report = ScanReport::default();
    for p in paths {
        if p == "-" {
            let stdin = std::io::stdin();
            scan_stream(&scanner, stdin.lock(), "-", None, &mut report);
            continue;
        }
        let path = Path::new(p);
        match std::fs::metadata(path) {
            Err(e) => report.problems.push(format!("{p}: {}", io_reason(&e))),
            Ok(m) if m.is_dir() => walk_dir(&scanner, path, opts, &mut report),
            Ok(_) => scan_file(&scanner, path, p, &mut report),
        }
    }
    Ok(report)
}

fn walk_dir(scanner: &Scanner, dir: &Path, opts: &ScanOptions, report: &mut ScanReport) {
    let mut walker = ignore::WalkBuilder::new(dir);
    walker
        .hidden(false)
        .git_ignore(!opts.no_ignore)
        .git_exclude(!opts.no_ignore)
        .ignore(!opts.no_ignore)
        .parents(!opts.no_ignore)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|e| e.file_name() != ".git");
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in walker.build() {
        match entry {
            Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => files.push(e.into_path()),
            Ok(_) => {}
            Err(e) => report.problems.push(e.to_string()),
        }
    }
    files.sort();
    for f in files {
        let shown = f.to_string_lossy().into_owned();
        scan_file(scanner, &f, &shown, report);
    }
}

fn scan_file(scanner: &Scanner, path: &Path, shown: &str, report: &mut ScanReport) {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            report.problems.push(format!("{shown}: {}", io_reason(&e)));
            return;
        }
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > STREAM_ABOVE {
        // The same binary test as small files get (a NUL in the first 8 KiB), so a huge
        // binary file is skipped at once instead of streamed through the scanner.
        let mut head = Vec::with_capacity(8192);
        if let Err(e) = (&mut file).take(8192).read_to_end(&mut head) {
            report.problems.push(format!("{shown}: {}", io_reason(&e)));
            return;
        }
        if head.contains(&0) {
            return; // binary
        }
        scan_stream(scanner, (&head[..]).chain(file), shown, Some(shown), report);
        return;
    }
    let mut bytes = Vec::with_capacity(size as usize);
    if let Err(e) = file.read_to_end(&mut bytes) {
        report.problems.push(format!("{shown}: {}", io_reason(&e)));
        return;
    }
    if bytes[..bytes.len().min(8192)].contains(&0) {
        return; // binary
    }
    report.files += 1;
    report.bytes += bytes.len() as u64;
    for f in scanner.scan_path(shown, &bytes) {
        report.findings.push(Located {
            path: shown.to_string(),
            finding: f,
        });
    }
}

fn scan_stream(
    scanner: &Scanner,
    reader: impl Read,
    shown: &str,
    path: Option<&str>,
    report: &mut ScanReport,
) {
    let mut found = Vec::new();
    let mut counted = CountingReader {
        inner: reader,
        bytes: 0,
    };
    let res = scanner.scan_reader_with(
        &mut counted,
        Source { path },
        StreamOptions::default(),
        |f| found.push(f),
    );
    report.files += 1;
    report.bytes += counted.bytes;
    if let Err(e) = res {
        report.problems.push(format!("{shown}: {e}"));
    }
    for f in found {
        report.findings.push(Located {
            path: shown.to_string(),
            finding: f,
        });
    }
}

struct CountingReader<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

/// A short reason for an I/O error (`no such file or directory`, `permission denied`, ...),
/// without the OS error number: the one wording every command and the service use.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

impl ScanReport {
    /// Whether any finding is at or above `level`.
    pub fn max_level_at_least(&self, level: Clearance) -> bool {
        let l = level.level();
        self.findings.iter().any(|f| f.finding.level >= l)
    }

    /// One JSON object per finding, one per line.
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        for f in &self.findings {
            out.push_str(&finding_json(&f.finding, &f.path).to_string());
            out.push('\n');
        }
        out
    }

    /// `path:line:column: level rule fingerprint`, one per line.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for f in &self.findings {
            let x = &f.finding;
            out.push_str(&format!(
                "{}:{}:{}: {} {} {}\n",
                f.path,
                x.line,
                x.column,
                x.level,
                x.rule,
                x.short_fingerprint()
            ));
        }
        out
    }

    /// A SARIF 2.1.0 log (for code scanning tools).
    pub fn to_sarif(&self) -> String {
        let mut rule_ids: Vec<&str> = self.findings.iter().map(|f| &*f.finding.rule).collect();
        rule_ids.sort_unstable();
        rule_ids.dedup();
        let rules: Vec<Value> = rule_ids
            .iter()
            .map(|id| json!({ "id": id, "shortDescription": { "text": id } }))
            .collect();
        let results: Vec<Value> = self
            .findings
            .iter()
            .map(|f| {
                let x = &f.finding;
                json!({
                    "ruleId": &*x.rule,
                    "level": sarif_level(x.level),
                    "message": { "text": format!("{} ({} level) found; the value is not shown", x.rule, x.level) },
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": { "uri": f.path.replace('\\', "/") },
                            "region": { "startLine": x.line, "startColumn": x.column }
                        }
                    }],
                    "partialFingerprints": { "pipelineFingerprint/v1": x.fingerprint },
                })
            })
            .collect();
        let doc = json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": {
                    "name": "pipeline",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/pipeline-rs/pipeline",
                    "rules": rules,
                }},
                "results": results,
            }],
        });
        let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
        s.push('\n');
        s
    }
}

fn sarif_level(l: Level) -> &'static str {
    match l {
        Level::Classified | Level::Sensitive => "error",
        Level::Internal => "warning",
        Level::Public => "note",
    }
}

/// `bytes` with every finding replaced according to `mode`; line structure is kept. The
/// fingerprint key (a passphrase; none: the default key) shapes `hash` placeholders.
pub fn redact_bytes(
    bytes: &[u8],
    mode: &str,
    rules: Option<&Path>,
    fingerprint_key: Option<&str>,
) -> Result<Vec<u8>> {
    let mode = parse_mode(mode)?;
    let scanner = scanner(rules, None, fingerprint_key)?;
    Ok(scanner.redact(bytes, mode).text)
}
