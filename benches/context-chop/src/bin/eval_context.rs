//! `eval-context`: recall of context-chop's packs on a repository's own history, beside a plain
//! BM25 baseline over 40-line chunks, in the same run (run through `cargo xtask eval-context`).
//!
//! Cases: non-merge commits whose subject has at least four words (releases, bumps, reverts and
//! formatting commits left out) and that change 1-4 source files that exist in the parent. The
//! query is the commit message; the gold is the lines the commit changed, in the parent tree.
//! Cases split dev/test by the first byte of blake3(commit id). For each case the parent tree
//! is extracted with `git archive` and indexed (incrementally, one cache across cases), then
//! packs at 2k/8k/32k tokens are scored: hunk recall (share of gold hunks overlapped by a packed
//! span) and gold-file recall (share of gold files with any packed span), means over cases.
//!
//! ```text
//! eval-context --repo GIT_DIR [--repo GIT_DIR ...] [--cases N] [--ablate] [--json OUT]
//! ```

use context_chop::{
    render, walk, FileKind, Format, Index, IndexOptions, Query, RankOptions, SelectOptions,
    SelectedChunk, Selection, WalkOptions,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use token_opt::{Encoding, Language, Tokenizer};

const BUDGETS: [usize; 3] = [2000, 8000, 32000];

struct Case {
    commit: String,
    parent: String,
    query: String,
    /// (path, first line, last line) in the parent.
    hunks: Vec<(String, u32, u32)>,
    files: Vec<String>,
    dev: bool,
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(dir)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("git: {e}"))?;
    if !out.status.success() {
        return Err(format!("git {args:?} failed"));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn is_source(path: &str) -> bool {
    let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    Language::from_extension(ext) != Language::Unknown
        && !matches!(
            Language::from_extension(ext),
            Language::Json | Language::Yaml | Language::Toml | Language::Css
        )
        || matches!(
            ext,
            "rb" | "php" | "kt" | "swift" | "scala" | "cs" | "sh" | "lua"
        )
}

fn descriptive(subject: &str) -> bool {
    let s = subject.trim().to_ascii_lowercase();
    let words = s.split_whitespace().count();
    if words < 4 {
        return false;
    }
    let bad = [
        "release",
        "bump",
        "version",
        "merge",
        "revert",
        "changelog",
        "rustfmt",
        "cargo fmt",
        "format code",
        "run fmt",
        "wip",
        "update dependencies",
        "deps:",
        "chore(deps",
    ];
    !bad.iter()
        .any(|b| s.starts_with(b) || s.contains(&format!(" {b} ")) && b.len() > 7)
}

fn cases(repo: &Path, want: usize) -> Result<Vec<Case>, String> {
    let log = git(
        repo,
        &[
            "log",
            "--no-merges",
            "-n",
            "4000",
            "--format=%x01%H %P%x02%B%x03",
            "--numstat",
            "HEAD",
        ],
    )?;
    let mut out = Vec::new();
    for rec in log.split('\x01').skip(1) {
        if out.len() >= want {
            break;
        }
        let Some((ids, rest)) = rec.split_once('\x02') else {
            continue;
        };
        let Some((msg, stat)) = rest.split_once('\x03') else {
            continue;
        };
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if ids.len() != 2 {
            continue;
        }
        let subject = msg.lines().next().unwrap_or("");
        if !descriptive(subject) {
            continue;
        }
        let files: Vec<&str> = stat
            .lines()
            .filter_map(|l| l.split('\t').nth(2))
            .filter(|p| is_source(p) && !p.contains("=>"))
            .collect();
        if files.is_empty() || files.len() > 4 {
            continue;
        }
        let (commit, parent) = (ids[0].to_string(), ids[1].to_string());
        let mut args = vec!["diff", "-U0", "--no-renames", &parent, &commit, "--"];
        args.extend(files.iter().copied());
        let Ok(diff) = git(repo, &args) else { continue };
        let mut hunks = Vec::new();
        let mut cur: Option<String> = None;
        for line in diff.lines() {
            if let Some(p) = line.strip_prefix("--- ") {
                cur = p.strip_prefix("a/").map(str::to_string);
            } else if let Some(h) = line.strip_prefix("@@ -") {
                let Some(path) = &cur else { continue };
                let old = h.split_whitespace().next().unwrap_or("");
                let (s, n) = old.split_once(',').unwrap_or((old, "1"));
                let (Ok(s), Ok(n)) = (s.parse::<u32>(), n.parse::<u32>()) else {
                    continue;
                };
                let (a, b) = if n == 0 {
                    (s.max(1), s + 1)
                } else {
                    (s, s + n - 1)
                };
                hunks.push((path.clone(), a, b));
            }
        }
        if hunks.is_empty() {
            continue;
        }
        let mut gold: Vec<String> = hunks.iter().map(|h| h.0.clone()).collect();
        gold.sort();
        gold.dedup();
        let dev = blake3::hash(commit.as_bytes()).as_bytes()[0].is_multiple_of(2);
        out.push(Case {
            commit,
            parent,
            query: msg.trim().to_string(),
            hunks,
            files: gold,
            dev,
        });
    }
    Ok(out)
}

fn extract(repo: &Path, rev: &str, dir: &Path) -> Result<(), String> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut archive = Command::new("git")
        .arg("--git-dir")
        .arg(repo)
        .args(["archive", rev])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let stdout = archive.stdout.take().ok_or("no stdout")?;
    let status = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(dir)
        .stdin(stdout)
        .status()
        .map_err(|e| e.to_string())?;
    let a = archive.wait().map_err(|e| e.to_string())?;
    if !status.success() || !a.success() {
        return Err(format!("git archive {rev} | tar failed"));
    }
    Ok(())
}

/// (hunk recall, file recall) of the spans in a pack.
fn score(case: &Case, spans: &[(String, u32, u32)]) -> (f64, f64) {
    let hit = |p: &str, a: u32, b: u32| spans.iter().any(|s| s.0 == p && s.1 <= b && a <= s.2);
    let h = case.hunks.iter().filter(|h| hit(&h.0, h.1, h.2)).count();
    let f = case
        .files
        .iter()
        .filter(|f| spans.iter().any(|s| &s.0 == *f))
        .count();
    (
        h as f64 / case.hunks.len() as f64,
        f as f64 / case.files.len() as f64,
    )
}

/// The baseline: plain BM25 (k1 1.2, b 0.75) over 40-line chunks of code files, lower-cased
/// `\w+` words, no identifier splitting, no structure; greedy fill, skipping what does not fit.
struct Baseline {
    chunks: Vec<(String, u32, u32, String)>,
    postings: HashMap<String, Vec<(u32, u32)>>,
    lens: Vec<u32>,
    avg: f64,
}

fn words(s: &str, mut f: impl FnMut(String)) {
    for w in s.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
        if !w.is_empty() {
            f(w.to_lowercase());
        }
    }
}

impl Baseline {
    fn build(root: &Path) -> Baseline {
        let w = walk(root, &WalkOptions::default()).unwrap_or_default();
        let mut b = Baseline {
            chunks: Vec::new(),
            postings: HashMap::new(),
            lens: Vec::new(),
            avg: 1.0,
        };
        for f in w.files {
            if FileKind::of_path(&f.path) != FileKind::Code || !is_source(&f.path) {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&f.abs) else {
                continue;
            };
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            for (k, group) in lines.chunks(40).enumerate() {
                let body: String = group.concat();
                let id = b.chunks.len() as u32;
                let mut tf: HashMap<String, u32> = HashMap::new();
                let mut len = 0;
                words(&body, |w| {
                    *tf.entry(w).or_default() += 1;
                    len += 1;
                });
                for (w, n) in tf {
                    b.postings.entry(w).or_default().push((id, n));
                }
                b.lens.push(len);
                let start = (k * 40 + 1) as u32;
                b.chunks
                    .push((f.path.clone(), start, start + group.len() as u32 - 1, body));
            }
        }
        let total: u64 = b.lens.iter().map(|&l| u64::from(l)).sum();
        b.avg = (total as f64 / b.lens.len().max(1) as f64).max(1.0);
        b
    }

    fn pack(
        &self,
        query: &str,
        budget: usize,
        tok: &Tokenizer,
    ) -> (Vec<(String, u32, u32)>, usize) {
        let n = self.chunks.len() as f64;
        let mut scores: HashMap<u32, f64> = HashMap::new();
        let mut q: Vec<String> = Vec::new();
        words(query, |w| q.push(w));
        q.sort();
        q.dedup();
        for t in &q {
            let Some(p) = self.postings.get(t) else {
                continue;
            };
            let df = p.len() as f64;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            for &(c, f) in p {
                let f = f as f64;
                let norm = 1.0 - 0.75 + 0.75 * self.lens[c as usize] as f64 / self.avg;
                *scores.entry(c).or_default() += idf * f * 2.2 / (f + 1.2 * norm);
            }
        }
        let mut ranked: Vec<(u32, f64)> = scores.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut used = 0usize;
        let mut chosen = Vec::new();
        for (c, s) in ranked {
            let (path, a, b, text) = &self.chunks[c as usize];
            let cost = tok.count(text) + 12 + tok.count(path);
            if used + cost > budget {
                continue;
            }
            used += cost;
            chosen.push(SelectedChunk {
                path: path.clone(),
                start_line: *a,
                end_line: *b,
                score: s as f32,
                language: String::new(),
                text: text.clone(),
            });
        }
        let sel = Selection {
            chunks: chosen,
            outline: None,
            max_tokens: budget,
            format: Format::Markdown,
            index_version: String::new(),
            candidates: 0,
        };
        let pack = render(&sel, tok);
        let spans = pack
            .chunks
            .iter()
            .map(|c| (c.path.clone(), c.start_line, c.end_line))
            .collect();
        (spans, pack.tokens_used)
    }
}

#[derive(Default, Clone)]
struct Acc {
    n: usize,
    hunk: [f64; 3],
    file: [f64; 3],
    fill: [f64; 3],
    over: usize,
}

impl Acc {
    fn add(&mut self, k: usize, (h, f): (f64, f64), used: usize, budget: usize) {
        self.hunk[k] += h;
        self.file[k] += f;
        self.fill[k] += used as f64 / budget as f64;
        if used > budget {
            self.over += 1;
        }
    }
}

/// A ranking / selection variant: name, weights, chunks per file (None: default), files spread.
type Variant = (&'static str, RankOptions, Option<usize>, usize);

fn variants(ablate: bool) -> Vec<Variant> {
    let full = RankOptions::default();
    let mut v: Vec<Variant> = vec![("ours", full, None, 0)];
    if ablate {
        v.push(("lexical-only", RankOptions::lexical_only(), None, 0));
        v.push((
            "no-definitions",
            RankOptions {
                definition_boost: 0.0,
                ..full
            },
            None,
            0,
        ));
        v.push((
            "definitions-3",
            RankOptions {
                definition_boost: 3.0,
                ..full
            },
            None,
            0,
        ));
        v.push((
            "neighbours-0.1",
            RankOptions {
                neighbour_weight: 0.1,
                ..full
            },
            None,
            0,
        ));
        v.push((
            "file-share-0.05",
            RankOptions {
                file_weight: 0.05,
                ..full
            },
            None,
            0,
        ));
        v.push((
            "no-priors",
            RankOptions {
                doc_prior: 1.0,
                config_prior: 1.0,
                ..full
            },
            None,
            0,
        ));
        v.push((
            "doc-prior-0.25",
            RankOptions {
                doc_prior: 0.25,
                config_prior: 0.5,
                ..full
            },
            None,
            0,
        ));
        v.push(("per-file-4", full, Some(4), 0));
        v.push(("per-file-16", full, Some(16), 0));
        v.push(("spread-3", full, None, 3));
        v.push(("spread-6", full, None, 6));
        v.push((
            "k1-2-b-0.5",
            RankOptions {
                k1: 2.0,
                b: 0.5,
                ..full
            },
            None,
            0,
        ));
    }
    v
}

fn main() {
    let mut repos: Vec<PathBuf> = Vec::new();
    let mut want = 200usize;
    let mut ablate = false;
    let mut json_out: Option<PathBuf> = None;
    let mut per_file: Option<usize> = None;
    let mut misses = false;
    let mut chunk_tokens: Option<usize> = None;
    let mut syntax = context_chop::Syntax::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--repo" => repos.extend(args.next().map(PathBuf::from)),
            "--cases" => want = args.next().and_then(|s| s.parse().ok()).unwrap_or(want),
            "--ablate" => ablate = true,
            "--misses" => misses = true,
            "--chunk-tokens" => chunk_tokens = args.next().and_then(|s| s.parse().ok()),
            "--syntax" => {
                syntax = match args.next().as_deref() {
                    Some("tree-sitter") => context_chop::Syntax::TreeSitter,
                    Some("lexical") => context_chop::Syntax::Lexical,
                    other => {
                        eprintln!(
                            "eval-context: --syntax takes lexical or tree-sitter, not {other:?}"
                        );
                        std::process::exit(2);
                    }
                }
            }
            "--per-file" => per_file = args.next().and_then(|s| s.parse().ok()),
            "--json" => json_out = args.next().map(PathBuf::from),
            other => {
                eprintln!("eval-context: unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    if repos.is_empty() {
        eprintln!(
            "usage: eval-context --repo GIT_DIR [--repo ...] [--cases N] [--ablate] [--json OUT]"
        );
        std::process::exit(2);
    }
    let tok = match Tokenizer::new(Encoding::O200k) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("eval-context: {e}");
            std::process::exit(2);
        }
    };
    let work = std::env::temp_dir().join(format!("eval-context-{}", std::process::id()));
    let vars = variants(ablate);
    let mut report = Vec::new();
    for repo in &repos {
        let name = repo
            .parent()
            .and_then(|p| p.file_name())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| repo.display().to_string());
        let cs = match cases(repo, want) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("eval-context: {}: {e}", repo.display());
                continue;
            }
        };
        eprintln!("{name}: {} cases", cs.len());
        let tree = work.join("tree");
        let cache = work.join("cache");
        // [split][variant]
        let mut acc: Vec<Vec<Acc>> = vec![vec![Acc::default(); vars.len() + 1]; 2];
        let t0 = std::time::Instant::now();
        for (i, case) in cs.iter().enumerate() {
            if extract(repo, &case.parent, &tree).is_err() {
                continue;
            }
            let mut opts = IndexOptions {
                cache_dir: Some(cache.clone()),
                ..IndexOptions::default()
            };
            opts.chunk.syntax = syntax;
            if let Some(t) = chunk_tokens {
                opts.chunk = context_chop::ChunkOptions {
                    target_tokens: t,
                    max_tokens: 2 * t,
                    syntax,
                };
            }
            let index = match Index::open(&tree, opts) {
                Ok(i) => i,
                Err(e) => {
                    eprintln!("  {}: {e}", case.commit);
                    continue;
                }
            };
            let split = usize::from(!case.dev);
            let base = Baseline::build(&tree);
            for (vi, (_, rank, pf, spread)) in vars.iter().enumerate() {
                let a = &mut acc[split][vi];
                a.n += 1;
                for (k, &budget) in BUDGETS.iter().enumerate() {
                    let mut so = SelectOptions::builder()
                        .max_tokens(budget)
                        .rank(*rank)
                        .build();
                    if let Some(p) = pf.or(per_file) {
                        so.max_chunks_per_file = p;
                    }
                    so.spread_files = *spread;
                    let sel = index.select_with(&Query::new(&case.query), &so, &tok);
                    let pack = render(&sel, &tok);
                    let spans: Vec<(String, u32, u32)> = pack
                        .chunks
                        .iter()
                        .map(|c| (c.path.clone(), c.start_line, c.end_line))
                        .collect();
                    let sc = score(case, &spans);
                    if misses && vi == 0 && budget == 8000 && case.dev && sc.1 < 1.0 {
                        let mut top: Vec<&str> = Vec::new();
                        for sp in &spans {
                            if !top.contains(&sp.0.as_str()) && top.len() < 6 {
                                top.push(&sp.0);
                            }
                        }
                        eprintln!(
                            "MISS {} {:?}\n  gold {:?}\n  got  {:?}",
                            &case.commit[..8],
                            case.query.lines().next().unwrap_or(""),
                            case.files,
                            top
                        );
                    }
                    a.add(k, sc, pack.tokens_used, budget);
                }
            }
            let a = &mut acc[split][vars.len()];
            a.n += 1;
            for (k, &budget) in BUDGETS.iter().enumerate() {
                let (spans, used) = base.pack(&case.query, budget, &tok);
                a.add(k, score(case, &spans), used, budget);
            }
            if (i + 1) % 25 == 0 {
                eprintln!(
                    "  {} / {} cases, {:.0}s",
                    i + 1,
                    cs.len(),
                    t0.elapsed().as_secs_f64()
                );
            }
        }
        for (split, label) in [(0usize, "dev"), (1, "test")] {
            println!("\n{name} [{label}]  hunk recall / gold-file recall / fill at 2k 8k 32k");
            let names: Vec<&str> = vars.iter().map(|v| v.0).chain(["bm25-40-lines"]).collect();
            for (vi, vname) in names.iter().enumerate() {
                let a = &acc[split][vi];
                let n = a.n.max(1) as f64;
                println!(
                    "  {vname:<16} n={:<4} hunk {:.3} {:.3} {:.3} | file {:.3} {:.3} {:.3} | fill {:.2} {:.2} {:.2} | over {}",
                    a.n,
                    a.hunk[0] / n, a.hunk[1] / n, a.hunk[2] / n,
                    a.file[0] / n, a.file[1] / n, a.file[2] / n,
                    a.fill[0] / n, a.fill[1] / n, a.fill[2] / n,
                    a.over
                );
                report.push(serde_json::json!({
                    "repo": name, "split": label, "ranking": vname, "cases": a.n,
                    "hunk_recall": {"2k": a.hunk[0] / n, "8k": a.hunk[1] / n, "32k": a.hunk[2] / n},
                    "file_recall": {"2k": a.file[0] / n, "8k": a.file[1] / n, "32k": a.file[2] / n},
                    "fill": {"2k": a.fill[0] / n, "8k": a.fill[1] / n, "32k": a.fill[2] / n},
                    "budget_overruns": a.over,
                }));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    if let Some(p) = json_out {
        let s = serde_json::to_string_pretty(&report).unwrap_or_default();
        if let Err(e) = std::fs::write(&p, s) {
            eprintln!("eval-context: cannot write {}: {e}", p.display());
        }
    }
}
