//! Selection under a token budget and the pack formats (Markdown, XML, JSON).
//!
//! [`Index::select`] picks chunks (best first, skipping what does not fit, merging neighbours,
//! at most so many per file) so that the rendered pack, headers and fences included, fits the
//! budget. [`render`] builds the pack from a [`Selection`], whose chunk texts the caller may
//! have changed (redacted, compressed): it recounts everything with the real tokenizer and
//! drops the lowest-scored chunks until the pack fits again, so the budget always holds.

use crate::index::{lang_of, FileKind, Index};
use crate::rank::{Query, RankOptions};
use crate::walk::{read_source, Source};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;
use token_opt::{Encoding, Language, Tokenizer};

/// The text format of a pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `## path:start-end` headings and fenced code blocks.
    #[default]
    Markdown,
    /// `<context><chunk path=".." lines="s-e">...</chunk></context>`, text escaped.
    Xml,
    /// `{"chunks":[{"path","start_line","end_line","language","text"}, ...]}`.
    Json,
}

impl Format {
    /// The lower-case name (`markdown`, `xml`, `json`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Markdown => "markdown",
            Format::Xml => "xml",
            Format::Json => "json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = Error;
    /// Parses `markdown`/`md`, `xml`, `json` (case-insensitive).
    fn from_str(s: &str) -> Result<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "markdown" | "md" => Ok(Format::Markdown),
            "xml" => Ok(Format::Xml),
            "json" => Ok(Format::Json),
            other => Err(Error::Invalid(format!(
                "unknown format {other:?}; expected markdown, xml or json"
            ))),
        }
    }
}

/// How to select. Plain struct with defaults; see also [`SelectOptions::builder`].
#[derive(Debug, Clone, PartialEq)]
pub struct SelectOptions {
    /// The token budget for the whole pack, headers and fences included (default 8000).
    pub max_tokens: usize,
    /// The pack format (default Markdown).
    pub format: Format,
    /// The tokenizer's encoding (default o200k).
    pub encoding: Encoding,
    /// At most this many index chunks from one file; 0 (the default) scales with the budget:
    /// as many chunks of the index's target size as fill 60% of it (at least 2).
    pub max_chunks_per_file: usize,
    /// Merge chunks that touch into one block (one header) (default on).
    pub merge_adjacent: bool,
    /// Start the pack with a short outline of the tree (default off).
    pub outline: bool,
    /// The outline's share of the budget at most, in tokens (default 300).
    pub outline_max_tokens: usize,
    /// Fill what is left with the head of the best chunk that did not fit whole (default on).
    pub fill_partial: bool,
    /// Before anything else, take the best chunk of each of this many best-ranked files, so
    /// one file cannot crowd out the others (default 0: off).
    pub spread_files: usize,
    /// Ranking weights.
    pub rank: RankOptions,
}

impl Default for SelectOptions {
    fn default() -> Self {
        SelectOptions {
            max_tokens: 8000,
            format: Format::Markdown,
            encoding: Encoding::O200k,
            max_chunks_per_file: 0,
            merge_adjacent: true,
            outline: false,
            outline_max_tokens: 300,
            fill_partial: true,
            spread_files: 0,
            rank: RankOptions::default(),
        }
    }
}

impl SelectOptions {
    /// A builder starting from the defaults.
    pub fn builder() -> SelectOptionsBuilder {
        SelectOptionsBuilder(SelectOptions::default())
    }
}

/// Builds [`SelectOptions`].
#[derive(Debug, Clone)]
pub struct SelectOptionsBuilder(SelectOptions);

impl SelectOptionsBuilder {
    /// The token budget.
    pub fn max_tokens(mut self, n: usize) -> Self {
        self.0.max_tokens = n;
        self
    }
    /// The format.
    pub fn format(mut self, f: Format) -> Self {
        self.0.format = f;
        self
    }
    /// The encoding.
    pub fn encoding(mut self, e: Encoding) -> Self {
        self.0.encoding = e;
        self
    }
    /// Chunks per file at most (0: scale with the budget).
    pub fn max_chunks_per_file(mut self, n: usize) -> Self {
        self.0.max_chunks_per_file = n;
        self
    }
    /// Whether to merge touching chunks.
    pub fn merge_adjacent(mut self, on: bool) -> Self {
        self.0.merge_adjacent = on;
        self
    }
    /// Whether to start with an outline of the tree.
    pub fn outline(mut self, on: bool) -> Self {
        self.0.outline = on;
        self
    }
    /// See [`SelectOptions::spread_files`].
    pub fn spread_files(mut self, n: usize) -> Self {
        self.0.spread_files = n;
        self
    }
    /// Ranking weights.
    pub fn rank(mut self, r: RankOptions) -> Self {
        self.0.rank = r;
        self
    }
    /// The options.
    pub fn build(self) -> SelectOptions {
        self.0
    }
}

/// A chosen block of a file: one chunk, or several touching chunks merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectedChunk {
    /// Path relative to the root.
    pub path: String,
    /// First line, 1-based.
    pub start_line: u32,
    /// Last line, 1-based, inclusive.
    pub end_line: u32,
    /// Relevance (the best of the merged chunks).
    pub score: f32,
    /// Language name for the fence (`rust`, `python`, `md`, ...; may be empty).
    pub language: String,
    /// The text; the caller may change it before [`render`].
    pub text: String,
}

/// What [`Index::select`] chose, ready for [`render`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// Blocks, grouped by file (best file first), in line order within a file.
    pub chunks: Vec<SelectedChunk>,
    /// The outline, when asked for.
    pub outline: Option<String>,
    /// The budget.
    pub max_tokens: usize,
    /// The format.
    pub format: Format,
    /// The index version the selection came from (see [`Index::version`]).
    pub index_version: String,
    /// Chunks that matched the query at all.
    pub candidates: usize,
}

/// One block of a rendered pack (the facade's `chunks[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackChunk {
    /// Path relative to the root.
    pub path: String,
    /// First line, 1-based.
    pub start_line: u32,
    /// Last line, 1-based, inclusive.
    pub end_line: u32,
    /// Relevance.
    pub score: f32,
    /// Tokens of this block in the pack, header and fence included.
    pub tokens: usize,
}

/// A rendered pack: the text to send and what is in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pack {
    /// The pack text.
    pub text: String,
    /// Its format.
    pub format: Format,
    /// The blocks in the order they appear.
    pub chunks: Vec<PackChunk>,
    /// Exact tokens of `text` (never above `max_tokens`).
    pub tokens_used: usize,
    /// The budget.
    pub max_tokens: usize,
    /// Blocks dropped by [`render`] to get back under budget (after the caller changed texts).
    pub dropped: usize,
    /// The index version the pack came from.
    pub index_version: String,
}

fn fence_for(text: &str) -> String {
    let mut longest = 0usize;
    let mut run = 0usize;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

fn xml_escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

/// The opening and closing text of a pack (outline included).
fn frame(format: Format, outline: Option<&str>) -> (String, String) {
    match format {
        Format::Markdown => {
            let open = match outline {
                Some(o) => {
                    let f = fence_for(o);
                    format!("## Tree\n{f}\n{}{f}\n\n", with_newline(o))
                }
                None => String::new(),
            };
            (open, String::new())
        }
        Format::Xml => {
            let mut open = String::from("<context>\n");
            if let Some(o) = outline {
                open.push_str("<outline>\n");
                xml_escape(&with_newline(o), &mut open);
                open.push_str("</outline>\n");
            }
            (open, "</context>\n".into())
        }
        Format::Json => {
            let open = match outline {
                Some(o) => format!(
                    "{{\"outline\":{},\n\"chunks\":[\n",
                    serde_json::Value::String(o.to_string())
                ),
                None => "{\"chunks\":[\n".into(),
            };
            (open, "]}\n".into())
        }
    }
}

fn with_newline(s: &str) -> std::borrow::Cow<'_, str> {
    if s.is_empty() || s.ends_with('\n') {
        s.into()
    } else {
        format!("{s}\n").into()
    }
}

/// One block's text in `format`; JSON blocks after the first carry the separating comma.
fn block(format: Format, c: &SelectedChunk, first: bool) -> String {
    match format {
        Format::Markdown => {
            let text = with_newline(&c.text);
            let f = fence_for(&text);
            format!(
                "## {}:{}-{}\n{f}{}\n{text}{f}\n\n",
                c.path, c.start_line, c.end_line, c.language
            )
        }
        Format::Xml => {
            let mut s = String::with_capacity(c.text.len() + 64);
            s.push_str("<chunk path=\"");
            xml_escape(&c.path, &mut s);
            s.push_str(&format!("\" lines=\"{}-{}\">\n", c.start_line, c.end_line));
            xml_escape(&with_newline(&c.text), &mut s);
            s.push_str("</chunk>\n");
            s
        }
        Format::Json => {
            let v = serde_json::json!({
                "path": c.path,
                "start_line": c.start_line,
                "end_line": c.end_line,
                "language": c.language,
                "text": c.text,
            });
            format!("{}{v}\n", if first { "" } else { "," })
        }
    }
}

/// Renders a selection with the real tokenizer, dropping the lowest-scored blocks until the
/// whole pack is within `selection.max_tokens`. Block texts may have been changed by the caller.
///
/// ```
/// use context_chop::{render, Format, SelectedChunk, Selection};
/// use token_opt::{Encoding, Tokenizer};
///
/// let sel = Selection {
///     chunks: vec![SelectedChunk {
///         path: "src/lib.rs".into(), start_line: 1, end_line: 1, score: 1.0,
///         language: "rust".into(), text: "pub fn answer() -> u32 { 42 }\n".into(),
///     }],
///     outline: None, max_tokens: 100, format: Format::Json, index_version: String::new(),
///     candidates: 1,
/// };
/// let pack = render(&sel, &Tokenizer::new(Encoding::O200k)?);
/// assert!(pack.tokens_used <= 100);
/// let v: serde_json::Value = serde_json::from_str(&pack.text)?;
/// assert_eq!(v["chunks"][0]["path"], "src/lib.rs");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn render(selection: &Selection, tokenizer: &Tokenizer) -> Pack {
    let format = selection.format;
    let budget = selection.max_tokens;
    let mut keep: Vec<bool> = vec![true; selection.chunks.len()];
    let mut outline = selection.outline.as_deref();
    let mut dropped = 0usize;
    loop {
        let (open, close) = frame(format, outline);
        // Every block starts and ends where the BPE pre-tokenizer must split (a block ends in
        // punctuation plus newlines, the next starts with punctuation), so the pack's count is
        // the sum of its parts' counts; the tests check this against a count of the whole text.
        let mut used = tokenizer.count(&open) + tokenizer.count(&close);
        let mut text = open;
        let mut chunks = Vec::new();
        let mut first = true;
        for (c, _) in selection.chunks.iter().zip(&keep).filter(|(_, k)| **k) {
            let b = block(format, c, first);
            first = false;
            let tokens = tokenizer.count(&b);
            used += tokens;
            chunks.push(PackChunk {
                path: c.path.clone(),
                start_line: c.start_line,
                end_line: c.end_line,
                score: c.score,
                tokens,
            });
            text.push_str(&b);
        }
        text.push_str(&close);
        if used <= budget {
            return Pack {
                text,
                format,
                chunks,
                tokens_used: used,
                max_tokens: budget,
                dropped,
                index_version: selection.index_version.clone(),
            };
        }
        // Over: drop the lowest-scored block still kept, then the outline, then everything.
        let worst = selection
            .chunks
            .iter()
            .enumerate()
            .filter(|(i, _)| keep[*i])
            .min_by(|a, b| a.1.score.total_cmp(&b.1.score))
            .map(|(i, _)| i);
        match worst {
            Some(i) => {
                keep[i] = false;
                dropped += 1;
            }
            None if outline.is_some() => outline = None,
            None => {
                return Pack {
                    text: String::new(),
                    format,
                    chunks: Vec::new(),
                    tokens_used: 0,
                    max_tokens: budget,
                    dropped,
                    index_version: selection.index_version.clone(),
                }
            }
        }
    }
}

/// A short outline of the tree: one line per directory with its file names, within `max_tokens`.
fn outline(index: &Index, tokenizer: &Tokenizer, max_tokens: usize) -> String {
    let mut dirs: Vec<(String, Vec<&str>)> = Vec::new();
    for p in index.paths() {
        let (dir, name) = p.rsplit_once('/').unwrap_or(("", p));
        match dirs.last_mut() {
            Some((d, names)) if d == dir => names.push(name),
            _ => dirs.push((dir.to_string(), vec![name])),
        }
    }
    let mut out = String::new();
    let mut used = 0usize;
    for (dir, names) in dirs {
        let line = format!(
            "{}: {}\n",
            if dir.is_empty() { "." } else { dir.as_str() },
            names.join(" ")
        );
        let t = tokenizer.count(&line);
        if used + t > max_tokens {
            continue;
        }
        used += t;
        out.push_str(&line);
    }
    out
}

fn fence_language(lang: Language, path: &str) -> String {
    if lang != Language::Unknown {
        return lang.name().to_string();
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rsplit_once('.') {
        Some((_, ext)) if ext.len() <= 10 && ext.chars().all(|c| c.is_ascii_alphanumeric()) => {
            ext.to_ascii_lowercase()
        }
        _ => String::new(),
    }
}

impl Index {
    /// Ranks the chunks for `query` and selects blocks that fit `opts.max_tokens` once rendered.
    /// Change block texts if needed, then call [`render`].
    pub fn select(&self, query: &Query, opts: &SelectOptions) -> Result<Selection> {
        let tokenizer =
            Tokenizer::new(opts.encoding).map_err(|e| Error::Invalid(format!("tokenizer: {e}")))?;
        Ok(self.select_with(query, opts, &tokenizer))
    }

    /// Selects and renders in one step.
    ///
    /// ```
    /// use context_chop::{Index, IndexOptions, Query, SelectOptions};
    ///
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("config.rs"), "pub fn parse_config(s: &str) {}\n")?;
    /// std::fs::write(dir.path().join("other.rs"), "pub fn unrelated() {}\n")?;
    /// let index = Index::open(dir.path(), IndexOptions::default())?;
    /// let pack = index.pack(&Query::new("where is the config parsed?"), &SelectOptions::default())?;
    /// assert_eq!(pack.chunks[0].path, "config.rs");
    /// assert!(pack.tokens_used <= 8000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pack(&self, query: &Query, opts: &SelectOptions) -> Result<Pack> {
        let tokenizer =
            Tokenizer::new(opts.encoding).map_err(|e| Error::Invalid(format!("tokenizer: {e}")))?;
        let sel = self.select_with(query, opts, &tokenizer);
        Ok(render(&sel, &tokenizer))
    }

    /// The text of file `f` when it still has the contents that were indexed.
    pub(crate) fn current_text(&self, f: u32) -> Option<String> {
        let file = self.files.get(f as usize)?;
        match read_source(&self.root.join(&file.path)) {
            Ok((Source::Text(t), hash)) if *hash.as_bytes() == file.hash => Some(t),
            _ => None,
        }
    }

    /// [`Index::select`] with a tokenizer the caller already has.
    pub fn select_with(&self, query: &Query, opts: &SelectOptions, tok: &Tokenizer) -> Selection {
        let format = opts.format;
        let budget = opts.max_tokens;
        let per_file = match opts.max_chunks_per_file {
            0 => {
                let target = self.opts.chunk.target_tokens.max(1) as f64;
                ((0.6 * budget as f64 / target).ceil() as usize).max(2)
            }
            n => n,
        };
        let mut hits = self.rank(query, &opts.rank);
        if opts.spread_files > 0 {
            // The best chunk of each of the first files first, then the rest in rank order.
            let mut seen: BTreeSet<u32> = BTreeSet::new();
            let (mut first, mut rest) = (Vec::new(), Vec::new());
            for h in hits {
                let f = self.derived.locate(h.chunk).map(|c| c.0);
                match f {
                    Some(f) if seen.len() < opts.spread_files && seen.insert(f) => first.push(h),
                    _ => rest.push(h),
                }
            }
            first.extend(rest);
            hits = first;
        }
        let outline_text = if opts.outline {
            let cap = opts.outline_max_tokens.min(budget / 8);
            let o = outline(self, tok, cap);
            (!o.is_empty()).then_some(o)
        } else {
            None
        };
        let (open, close) = frame(format, outline_text.as_deref());
        let mut used = tok.count(&open) + tok.count(&close);
        let mut selection = Selection {
            chunks: Vec::new(),
            outline: outline_text,
            max_tokens: budget,
            format,
            index_version: self.version().to_string(),
            candidates: hits.len(),
        };
        if used > budget {
            selection.outline = None;
            return selection;
        }
        // Per file: its text (None when unreadable or changed since indexing), chosen chunks.
        let mut texts: HashMap<u32, Option<String>> = HashMap::new();
        let mut chosen: HashMap<u32, BTreeSet<u32>> = HashMap::new();
        let mut best_score: HashMap<(u32, u32), f32> = HashMap::new();
        let mut skipped: Vec<(u32, u32, f32)> = Vec::new();
        let mk = |index: &Index,
                  f: u32,
                  a: u32,
                  b: u32,
                  text: &str,
                  score: f32|
         -> Option<SelectedChunk> {
            let file = index.files.get(f as usize)?;
            let ca = file.chunk(a as usize)?;
            let cb = file.chunk(b as usize)?;
            let body = text.get(ca.byte_start as usize..cb.byte_end as usize)?;
            Some(SelectedChunk {
                path: file.path.clone(),
                start_line: ca.start_line,
                end_line: cb.end_line,
                score,
                language: fence_language(lang_of(file.lang), &file.path),
                text: body.to_string(),
            })
        };
        // Exact tokens of a chunk's text inside a block, and of a block's header and fence:
        // each chunk's text is counted once; a merged block is costed from its parts plus two
        // tokens per seam (a seam may change how whitespace splits), so the estimate is never
        // below the real count that `render` makes.
        let mut text_tokens: HashMap<(u32, u32), usize> = HashMap::new();
        let overhead = |c: &SelectedChunk| -> usize {
            let mut e = c.clone();
            e.text = String::new();
            tok.count(&block(format, &e, false))
        };
        let mut cost_of = |index: &Index, f: u32, a: u32, b: u32, text: &str| -> usize {
            let head = (|| {
                let file = index.files.get(f as usize)?;
                let (ca, cb) = (file.chunk(a as usize)?, file.chunk(b as usize)?);
                Some(SelectedChunk {
                    path: file.path.clone(),
                    start_line: ca.start_line,
                    end_line: cb.end_line,
                    score: 0.0,
                    language: fence_language(lang_of(file.lang), &file.path),
                    text: String::new(),
                })
            })();
            let Some(head) = head else {
                return usize::MAX / 4;
            };
            let mut total = overhead(&head) + 2 * (b - a) as usize;
            for k in a..=b {
                let t = *text_tokens.entry((f, k)).or_insert_with(|| {
                    match mk(index, f, k, k, text, 0.0) {
                        Some(c) => {
                            let all = tok.count(&block(format, &c, false));
                            all.saturating_sub(overhead(&c))
                        }
                        None => usize::MAX / 8,
                    }
                });
                total = total.saturating_add(t);
            }
            total
        };
        // Pass 0: rank order, at most `per_file` chunks a file. When that leaves more than 10%
        // of the budget: pass 1 adds the neighbours of what was chosen (the code around the
        // best matches), pass 2 goes down the ranking again without the per-file limit.
        for pass in 0..3 {
            if pass > 0 && (used as f64) >= 0.9 * budget as f64 {
                break;
            }
            let candidates: Vec<(u32, u32, f32)> = match pass {
                1 => {
                    let mut best: Vec<((u32, u32), f32)> =
                        best_score.iter().map(|(k, v)| (*k, *v)).collect();
                    best.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
                    let mut v = Vec::new();
                    for ((f, k), sc) in best {
                        let n = self.files.get(f as usize).map_or(0, |x| x.chunks.len()) as u32;
                        if k > 0 {
                            v.push((f, k - 1, sc * 0.5));
                        }
                        if k + 1 < n {
                            v.push((f, k + 1, sc * 0.5));
                        }
                    }
                    v
                }
                _ => hits
                    .iter()
                    .filter_map(|h| {
                        let (f, k) = self.derived.locate(h.chunk)?;
                        Some((f, k, h.score))
                    })
                    .collect(),
            };
            let limit = if pass == 0 { per_file } else { usize::MAX };
            let mut misses = 0usize;
            for (f, k, score) in candidates {
                if budget.saturating_sub(used) < 16 {
                    break;
                }
                let Some(file) = self.files.get(f as usize) else {
                    continue;
                };
                if file.kind == FileKind::Binary
                    || chosen
                        .get(&f)
                        .is_some_and(|s| s.contains(&k) || s.len() >= limit)
                {
                    continue;
                }
                // Cheap early skip: the stored estimate says it cannot fit (the estimate is
                // within about 30% of the exact count), or too many in a row did not fit.
                let est = file.chunks.get(k as usize).map(|c| c.tokens).unwrap_or(0) as f32;
                if est * 0.7 > budget.saturating_sub(used) as f32 {
                    if pass == 0 {
                        skipped.push((f, k, score));
                    }
                    misses += 1;
                    if misses > 200 {
                        break;
                    }
                    continue;
                }
                let text = texts.entry(f).or_insert_with(|| self.current_text(f));
                let Some(text) = text.as_deref() else {
                    continue;
                };
                let set = chosen.entry(f).or_default();
                // The block k joins, and the blocks it merges.
                let (mut a, mut b) = (k, k);
                let mut old_cost = 0usize;
                if opts.merge_adjacent {
                    while a > 0 && set.contains(&(a - 1)) {
                        a -= 1;
                    }
                    while set.contains(&(b + 1)) {
                        b += 1;
                    }
                    if a < k {
                        old_cost += cost_of(self, f, a, k - 1, text);
                    }
                    if b > k {
                        old_cost += cost_of(self, f, k + 1, b, text);
                    }
                }
                let new_cost = cost_of(self, f, a, b, text);
                let delta = new_cost.saturating_sub(old_cost);
                if used + delta > budget {
                    if pass == 0 {
                        skipped.push((f, k, score));
                    }
                    misses += 1;
                    if misses > 48 {
                        break;
                    }
                    continue;
                }
                misses = 0;
                used += delta;
                set.insert(k);
                best_score.insert((f, k), score);
            }
        }
        // Group into blocks.
        let mut blocks: Vec<(u32, u32, u32, f32)> = Vec::new();
        for (&f, set) in &chosen {
            let mut it = set.iter().copied().peekable();
            while let Some(a) = it.next() {
                let mut b = a;
                let mut s = best_score.get(&(f, a)).copied().unwrap_or(0.0);
                while opts.merge_adjacent && it.peek() == Some(&(b + 1)) {
                    b += 1;
                    it.next();
                    s = s.max(best_score.get(&(f, b)).copied().unwrap_or(0.0));
                }
                blocks.push((f, a, b, s));
            }
        }
        // Fill the rest with the head of the best chunk that did not fit.
        let mut partial: Option<SelectedChunk> = None;
        if opts.fill_partial && budget.saturating_sub(used) >= 24 {
            for &(f, k, score) in skipped
                .iter()
                .filter(|s| !chosen.get(&s.0).is_some_and(|c| c.contains(&s.1)))
                .take(8)
            {
                let set = chosen.get(&f);
                let near = set.is_some_and(|s| s.contains(&k));
                if near || set.is_some_and(|s| s.len() >= per_file) {
                    continue;
                }
                let Some(text) = texts.entry(f).or_insert_with(|| self.current_text(f)) else {
                    continue;
                };
                let Some(full) = mk(self, f, k, k, text, score) else {
                    continue;
                };
                if let Some(p) = truncate_block(format, &full, budget - used, tok) {
                    used += tok.count(&block(format, &p, false));
                    partial = Some(p);
                    break;
                }
            }
        }
        // Order: files by their best block, blocks by line.
        let mut file_best: HashMap<u32, f32> = HashMap::new();
        for &(f, _, _, s) in &blocks {
            let e = file_best.entry(f).or_insert(s);
            *e = e.max(s);
        }
        blocks.sort_by(|x, y| {
            let (bx, by) = (file_best[&x.0], file_best[&y.0]);
            by.total_cmp(&bx).then(x.0.cmp(&y.0)).then(x.1.cmp(&y.1))
        });
        for (f, a, b, s) in blocks {
            if let Some(Some(text)) = texts.get(&f) {
                if let Some(c) = mk(self, f, a, b, text, s) {
                    selection.chunks.push(c);
                }
            }
        }
        if let Some(p) = partial {
            selection.chunks.push(p);
        }
        let _ = used;
        selection
    }
}

/// The longest line prefix of `c` whose block fits in `room` tokens (at least 2 lines).
fn truncate_block(
    format: Format,
    c: &SelectedChunk,
    room: usize,
    tok: &Tokenizer,
) -> Option<SelectedChunk> {
    let mut empty = c.clone();
    empty.text = String::new();
    let overhead = tok.count(&block(format, &empty, false)) + 4;
    if overhead >= room {
        return None;
    }
    let avail = room - overhead;
    let mut end = 0usize;
    let mut lines = 0u32;
    let mut t = 0usize;
    for line in c.text.split_inclusive('\n') {
        let n = tok.count(line);
        if t + n > avail {
            break;
        }
        t += n;
        end += line.len();
        lines += 1;
    }
    if lines < 2 {
        return None;
    }
    let mut p = c.clone();
    p.text = c.text[..end].to_string();
    p.end_line = c.start_line + lines - 1;
    // Exact check of the block itself (line counts are not quite additive).
    while tok.count(&block(format, &p, false)) > room {
        let cut = p.text[..p.text.len() - 1].rfind('\n').map(|i| i + 1)?;
        p.text.truncate(cut);
        p.end_line -= 1;
        if p.end_line < p.start_line + 1 {
            return None;
        }
    }
    Some(p)
}
