//! The index of one tree: files (with their blake3), chunks, code-aware terms in three fields
//! (path, symbol names, body), the symbol table, persistence and incremental refresh.

use crate::chunk::{ChunkOptions, Chunker};
pub(crate) use crate::postings::Dict;
use crate::postings::{encode_entry, symbols_of, Builder, Postings};
use crate::terms::for_each_term;
use crate::walk::{read_source, thread_count, walk, Source, WalkIssue, WalkOptions};
use crate::{store, Error, Result};
use foldhash::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use token_opt::Language;

/// Postings buffered before the builder writes a sorted segment to a temporary file (12 bytes
/// each: 1M is 12 MB).
const POSTINGS_IN_MEMORY: usize = 1 << 20;

/// Where the index lives and how the tree is read. Plain struct with defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexOptions {
    /// What to walk.
    pub walk: WalkOptions,
    /// How to chunk.
    pub chunk: ChunkOptions,
    /// The cache directory; `None` means `<root>/.pipeline/index`. The walk never enters it.
    pub cache_dir: Option<PathBuf>,
    /// Save the index after a refresh that changed it, and load it on open (default on).
    pub persist: bool,
    /// Trust an unchanged (size, mtime) to mean unchanged contents, so unchanged files are not
    /// even read (default on). Off: every file is read and hashed on every refresh.
    pub trust_mtime: bool,
    /// When many files need indexing, load this tokenizer's vocabulary on a spare thread
    /// meanwhile (it takes tens of milliseconds), so the first select does not wait for it
    /// (default o200k; `None`: don't).
    pub warm_tokenizer: Option<token_opt::Encoding>,
}

impl Default for IndexOptions {
    fn default() -> Self {
        IndexOptions {
            walk: WalkOptions::default(),
            chunk: ChunkOptions::default(),
            cache_dir: None,
            persist: true,
            trust_mtime: true,
            warm_tokenizer: Some(token_opt::Encoding::O200k),
        }
    }
}

impl IndexOptions {
    /// A builder starting from the defaults.
    pub fn builder() -> IndexOptionsBuilder {
        IndexOptionsBuilder {
            opts: IndexOptions::default(),
        }
    }
}

/// Builds [`IndexOptions`].
#[derive(Debug, Clone)]
pub struct IndexOptionsBuilder {
    opts: IndexOptions,
}

impl IndexOptionsBuilder {
    /// The cache directory (see [`IndexOptions::cache_dir`]).
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.opts.cache_dir = Some(dir.into());
        self
    }
    /// Whether to load and save the index.
    pub fn persist(mut self, on: bool) -> Self {
        self.opts.persist = on;
        self
    }
    /// Only these extensions.
    pub fn extensions<I: IntoIterator<Item = S>, S: Into<String>>(mut self, exts: I) -> Self {
        self.opts.walk.extensions = exts.into_iter().map(Into::into).collect();
        self
    }
    /// Include / exclude globs (gitignore syntax; `!` excludes).
    pub fn globs<I: IntoIterator<Item = S>, S: Into<String>>(mut self, globs: I) -> Self {
        self.opts.walk.globs = globs.into_iter().map(Into::into).collect();
        self
    }
    /// The largest file indexed, in bytes.
    pub fn max_file_size(mut self, bytes: u64) -> Self {
        self.opts.walk.max_file_size = bytes;
        self
    }
    /// The chunk target size in tokens (the maximum becomes twice that).
    pub fn chunk_tokens(mut self, target: usize) -> Self {
        self.opts.chunk = ChunkOptions {
            target_tokens: target.max(1),
            max_tokens: target.max(1) * 2,
            syntax: self.opts.chunk.syntax,
        };
        self
    }
    /// What finds syntax boundaries (see [`crate::Syntax`]).
    pub fn syntax(mut self, syntax: crate::Syntax) -> Self {
        self.opts.chunk.syntax = syntax;
        self
    }
    /// Worker threads (0 = one per core).
    pub fn threads(mut self, n: usize) -> Self {
        self.opts.walk.threads = n;
        self
    }
    /// See [`IndexOptions::trust_mtime`].
    pub fn trust_mtime(mut self, on: bool) -> Self {
        self.opts.trust_mtime = on;
        self
    }
    /// The options.
    pub fn build(self) -> IndexOptions {
        self.opts
    }
}

/// What kind of content a file holds; drives the code-over-prose prior.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FileKind {
    /// Source code.
    Code = 0,
    /// Prose: Markdown, reStructuredText, plain text, READMEs.
    Doc = 1,
    /// Configuration and data: TOML, YAML, JSON, ...
    Config = 2,
    /// Binary: not indexed.
    Binary = 3,
    /// Text of no recognised kind (no or an unknown extension): man pages, logs, fixtures...
    Other = 4,
}

impl FileKind {
    pub(crate) fn from_u8(v: u8) -> Option<FileKind> {
        Some(match v {
            0 => FileKind::Code,
            1 => FileKind::Doc,
            2 => FileKind::Config,
            3 => FileKind::Binary,
            4 => FileKind::Other,
            _ => return None,
        })
    }

    /// The kind of a file from its path.
    pub fn of_path(path: &str) -> FileKind {
        let name = path.rsplit('/').next().unwrap_or(path);
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "md" | "markdown" | "rst" | "txt" | "adoc" | "asciidoc" | "org" | "tex" | "rdoc"
            | "pod" => FileKind::Doc,
            "toml" | "yaml" | "yml" | "json" | "jsonl" | "ini" | "cfg" | "conf" | "xml" | "csv"
            | "tsv" | "lock" | "properties" | "editorconfig" | "svg" => FileKind::Config,
            "" => {
                let upper = name.to_ascii_uppercase();
                if [
                    "README",
                    "CHANGELOG",
                    "LICENSE",
                    "COPYING",
                    "AUTHORS",
                    "NEWS",
                    "HISTORY",
                ]
                .iter()
                .any(|p| upper.starts_with(p))
                {
                    FileKind::Doc
                } else if [
                    "MAKEFILE",
                    "DOCKERFILE",
                    "JUSTFILE",
                    "RAKEFILE",
                    "GEMFILE",
                    "BUILD",
                ]
                .contains(&upper.as_str())
                {
                    FileKind::Code
                } else {
                    FileKind::Other
                }
            }
            e if Language::from_extension(e) != Language::Unknown
                || CODE_EXTENSIONS.contains(&e) =>
            {
                FileKind::Code
            }
            _ => FileKind::Other,
        }
    }
}

/// Extensions of source code beyond the languages with a grammar.
const CODE_EXTENSIONS: &[&str] = &[
    "sh", "bash", "zsh", "fish", "ps1", "bat", "rb", "php", "kt", "kts", "swift", "scala", "cs",
    "fs", "lua", "pl", "pm", "r", "jl", "ex", "exs", "erl", "hrl", "hs", "ml", "mli", "clj",
    "cljs", "dart", "vue", "svelte", "html", "htm", "scss", "sass", "less", "sql", "proto",
    "graphql", "gradle", "cmake", "mk", "nix", "zig", "nim", "v", "sv", "vhd", "m", "mm", "groovy",
    "elm", "tf", "hcl", "cu", "s", "asm", "d", "pyx", "pxd",
];

/// One chunk as stored: where it ends (it starts where the previous chunk of its file ends,
/// the first at line 1, byte 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChunkRec {
    pub end_line: u32,
    pub byte_end: u32,
    pub tokens: u32,
    pub body_len: u32,
}

/// A chunk's span, from its record and the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkSpan {
    pub start_line: u32,
    pub end_line: u32,
    pub byte_start: u32,
    pub byte_end: u32,
}

/// One file as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileRec {
    pub path: String,
    pub hash: [u8; 32],
    pub size: u64,
    pub mtime_ns: u64,
    pub kind: FileKind,
    pub lang: u8,
    pub chunks: Vec<ChunkRec>,
    /// The term ids of the names each chunk defines: one entry per chunk, in order.
    pub entries: Vec<u8>,
}

impl FileRec {
    /// The span of chunk `ci`.
    pub fn chunk(&self, ci: usize) -> Option<ChunkSpan> {
        let c = self.chunks.get(ci)?;
        let (start_line, byte_start) = match ci.checked_sub(1) {
            Some(p) => {
                let prev = self.chunks.get(p)?;
                (prev.end_line + 1, prev.byte_end)
            }
            None => (1, 0),
        };
        Some(ChunkSpan {
            start_line,
            end_line: c.end_line,
            byte_start,
            byte_end: c.byte_end,
        })
    }

    /// (chunk index, symbol term id) of the definitions in this file, by chunk.
    pub fn symbols(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        symbols_of(&self.entries)
    }
}

/// Query-time structures, rebuilt from the files after every change.
#[derive(Debug, Clone, Default)]
pub(crate) struct Derived {
    /// The first global chunk id of each file, then the number of chunks.
    pub file_first: Vec<u32>,
    /// Files whose path has each term.
    pub path_files: Defs,
    /// Body length in terms of every chunk, by global id (saturating at 65535), for ranking
    /// without a lookup through the file.
    pub body_len: Vec<u16>,
    /// Chunks defining a symbol, by the symbol's term id.
    pub defs: Defs,
    /// Mean body length in terms.
    pub avg_body: f32,
}

impl Derived {
    /// The files whose path has term `t`.
    pub fn path_of(&self, t: u32) -> &[(u32, u32)] {
        self.path_files.get(&t).unwrap_or(&[])
    }

    /// Number of chunks.
    pub fn chunks(&self) -> usize {
        self.file_first.last().copied().unwrap_or(0) as usize
    }

    /// (file index, chunk index in the file) of global chunk `c`.
    pub fn locate(&self, c: u32) -> Option<(u32, u32)> {
        if c as usize >= self.chunks() {
            return None;
        }
        // The last file starting at or before `c` (empty files share their start).
        let f = self
            .file_first
            .partition_point(|&x| x <= c)
            .checked_sub(1)?;
        Some((f as u32, c - self.file_first[f]))
    }

    /// [`Derived::locate`] for ids visited in increasing order: `cursor` is the file of the
    /// previous call (start at 0).
    pub fn locate_from(&self, cursor: &mut usize, c: u32) -> Option<(u32, u32)> {
        let ff = &self.file_first;
        // Step forward a few files (ids usually move on by little), else search.
        for _ in 0..8 {
            match (ff.get(*cursor), ff.get(*cursor + 1)) {
                (Some(&s), Some(&e)) if s <= c && c < e => return Some((*cursor as u32, c - s)),
                (Some(&s), Some(_)) if s <= c => *cursor += 1,
                _ => break,
            }
        }
        let (f, k) = self.locate(c)?;
        *cursor = f as usize;
        Some((f, k))
    }
}

/// Ids by term (chunks defining a symbol, files whose path has a term): (term, id) pairs
/// sorted, searched by term.
#[derive(Debug, Clone, Default)]
pub(crate) struct Defs {
    pairs: Vec<(u32, u32)>,
}

impl Defs {
    /// From (term, id) pairs in any order.
    fn from_pairs(mut pairs: Vec<(u32, u32)>) -> Defs {
        pairs.sort_unstable();
        pairs.dedup();
        Defs { pairs }
    }

    /// The (term, id) pairs of term `t`, by increasing id.
    pub fn get(&self, t: &u32) -> Option<&[(u32, u32)]> {
        let a = self.pairs.partition_point(|x| x.0 < *t);
        let b = self.pairs.partition_point(|x| x.0 <= *t);
        (b > a).then(|| self.pairs.get(a..b)).flatten()
    }
}

/// What a refresh did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefreshStats {
    /// Whether a saved index was loaded (false: built from scratch).
    pub loaded: bool,
    /// Why the saved index was not used, when it was not.
    pub load_error: Option<String>,
    /// Files walked.
    pub files: usize,
    /// Files whose contents were (re-)chunked and indexed.
    pub reindexed: usize,
    /// Files read and hashed (re-indexed or found unchanged by hash).
    pub hashed: usize,
    /// Files gone since the last refresh.
    pub removed: usize,
    /// Binary files skipped.
    pub binary: usize,
    /// Chunks in the index.
    pub chunks: usize,
    /// Whether the index was saved.
    pub saved: bool,
    /// Unreadable files, walk errors, save errors: reported, never fatal.
    pub issues: Vec<WalkIssue>,
}

/// The index of one tree. Open it with [`Index::open`]; keep it and call [`Index::refresh`] to
/// pick up changes (only files whose contents changed are re-chunked).
#[derive(Debug, Clone)]
pub struct Index {
    pub(crate) root: PathBuf,
    pub(crate) opts: IndexOptions,
    pub(crate) dict: Dict,
    pub(crate) files: Vec<FileRec>,
    pub(crate) derived: Derived,
    /// The inverted postings of every term, by global chunk id.
    pub(crate) postings: Postings,
    /// Per-chunk arrays a ranking reuses (cleared where it wrote them).
    pub(crate) scratch: crate::rank::ScratchCell,
    version: String,
    last: RefreshStats,
}

/// Result of processing one file in a worker.
struct Processed {
    hash: [u8; 32],
    kind: FileKind,
    lang: u8,
    /// None: unchanged (same hash as the old record).
    data: Option<Indexed>,
}

/// A file's chunks as a worker produces them, with file-local term ids.
#[derive(Default)]
struct Indexed {
    names: Dict,
    raw: Vec<RawChunk>,
}

/// A file's chunks once the main thread has interned their terms.
struct Interned {
    chunks: Vec<ChunkRec>,
    /// The chunks' symbol entries.
    entries: Vec<u8>,
    /// Each chunk's (term, tf in body, tf in symbols), global ids, sorted: for the postings.
    terms: Vec<Vec<(u32, u16, u16)>>,
}

/// One chunk before interning.
struct RawChunk {
    rec: ChunkRec,
    symbols: Vec<u32>,
    terms: Vec<(u32, u16, u16)>,
}

impl Indexed {
    /// Maps the file-local ids to `dict`'s and encodes the chunks' symbol entries.
    fn intern(self, dict: &mut Dict) -> Interned {
        let ids: Vec<u32> = self.names.iter().map(|n| dict.intern(n)).collect();
        drop(self.names);
        let map = |t: u32| ids.get(t as usize).copied().unwrap_or(0);
        let mut out = Interned {
            chunks: Vec::with_capacity(self.raw.len()),
            entries: Vec::new(),
            terms: Vec::with_capacity(self.raw.len()),
        };
        for mut c in self.raw {
            for t in &mut c.terms {
                t.0 = map(t.0);
            }
            // A term the dictionary had no room for (`u32::MAX`) is left out.
            c.terms.retain(|t| t.0 != u32::MAX);
            c.terms.sort_unstable_by_key(|t| t.0);
            for s in &mut c.symbols {
                *s = map(*s);
            }
            c.symbols.retain(|&s| s != u32::MAX);
            encode_entry(&mut out.entries, &c.symbols);
            out.terms.push(c.terms);
            out.chunks.push(c.rec);
        }
        out.entries.shrink_to_fit();
        out
    }
}

fn lang_id(lang: Language) -> u8 {
    Language::ALL.iter().position(|l| *l == lang).unwrap_or(0) as u8
}

/// The language stored under `id`.
pub(crate) fn lang_of(id: u8) -> Language {
    Language::ALL
        .get(id as usize)
        .copied()
        .unwrap_or(Language::Unknown)
}

/// The whole-word term of an identifier (its last word when qualified), as the indexer emits it.
pub(crate) fn whole_term(name: &str) -> Option<String> {
    let mut last = None;
    for_each_term(name, |t, part| {
        if !part {
            last = Some(t.to_string());
        }
    });
    last
}

/// Chunks and indexes one file's text with a file-local dictionary.
fn index_text(chunker: &Chunker, path: &str, text: &str) -> Indexed {
    // A file-local dictionary: one arena and one table, not a string per term.
    let mut names = Dict::default();
    let chunks = chunker.chunk(path, text);
    let mut out = Vec::with_capacity(chunks.len());
    let mut counts: Vec<(u16, u16)> = Vec::new();
    let mut touched: Vec<u32> = Vec::new();
    for c in chunks {
        let body = c.text(text);
        let mut body_len = 0u32;
        for_each_term(body, |t, _| {
            let id = names.intern(t);
            if id as usize >= counts.len() {
                counts.resize(id as usize + 1, (0, 0));
            }
            let e = &mut counts[id as usize];
            if e.0 == 0 && e.1 == 0 {
                touched.push(id);
            }
            e.0 = e.0.saturating_add(1);
            body_len += 1;
        });
        let mut symbols = Vec::new();
        for s in &c.symbols {
            for_each_term(s, |t, _| {
                let id = names.intern(t);
                if id as usize >= counts.len() {
                    counts.resize(id as usize + 1, (0, 0));
                }
                let e = &mut counts[id as usize];
                if e.0 == 0 && e.1 == 0 {
                    touched.push(id);
                }
                e.1 = e.1.saturating_add(1);
            });
            if let Some(w) = whole_term(s) {
                let id = names.intern(&w);
                if !symbols.contains(&id) {
                    symbols.push(id);
                }
            }
        }
        let mut terms: Vec<(u32, u16, u16)> = touched
            .drain(..)
            .map(|id| {
                let e = std::mem::take(&mut counts[id as usize]);
                (id, e.0, e.1)
            })
            .collect();
        terms.sort_unstable_by_key(|t| t.0);
        out.push(RawChunk {
            rec: ChunkRec {
                end_line: c.end_line,
                byte_end: c.byte_end as u32,
                tokens: c.tokens as u32,
                body_len,
            },
            symbols,
            terms,
        });
    }
    Indexed { names, raw: out }
}

impl Index {
    /// Opens the index of `root`: loads the saved index when there is a valid one, then
    /// refreshes it against the tree (re-indexing only changed files) and saves it if it changed.
    ///
    /// ```
    /// use context_chop::{Index, IndexOptions};
    ///
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("lib.rs"), "pub fn parse_config() {}\n")?;
    /// let index = Index::open(dir.path(), IndexOptions::default())?;
    /// assert_eq!(index.file_count(), 1);
    /// assert_eq!(index.last_refresh().reindexed, 1);
    /// let again = Index::open(dir.path(), IndexOptions::default())?;
    /// assert!(again.last_refresh().loaded);
    /// assert_eq!(again.last_refresh().reindexed, 0);
    /// assert_eq!(index.version(), again.version());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(root: impl AsRef<Path>, opts: IndexOptions) -> Result<Index> {
        let root = root.as_ref().to_path_buf();
        if !root.is_dir() {
            return Err(Error::Invalid(format!(
                "root {} is not a directory",
                root.display()
            )));
        }
        let mut index = Index {
            root,
            opts,
            dict: Dict::default(),
            files: Vec::new(),
            derived: Derived::default(),
            postings: Postings::default(),
            scratch: Default::default(),
            version: String::new(),
            last: RefreshStats::default(),
        };
        let mut loaded = false;
        let mut load_error = None;
        if index.opts.persist {
            match index.load() {
                Ok(()) => loaded = true,
                Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => load_error = Some(e.to_string()),
            }
        }
        index.refresh_inner(loaded, load_error, !loaded)?;
        Ok(index)
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The options.
    pub fn options(&self) -> &IndexOptions {
        &self.opts
    }

    /// The cache directory in use.
    pub fn cache_dir(&self) -> PathBuf {
        self.opts
            .cache_dir
            .clone()
            .unwrap_or_else(|| self.root.join(".pipeline").join("index"))
    }

    /// The index file path.
    pub fn cache_file(&self) -> PathBuf {
        let canon = std::fs::canonicalize(&self.root).unwrap_or_else(|_| self.root.clone());
        let h = blake3::hash(canon.to_string_lossy().as_bytes()).to_hex();
        self.cache_dir()
            .join(format!("context-chop-{}.idx", &h.as_str()[..16]))
    }

    /// A fingerprint of the whole indexed tree (paths and contents) and the options: changes
    /// whenever any file changes. Use it in cache keys.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// What the last refresh did.
    pub fn last_refresh(&self) -> &RefreshStats {
        &self.last
    }

    /// Number of indexed files (binary files excluded).
    pub fn file_count(&self) -> usize {
        self.files
            .iter()
            .filter(|f| f.kind != FileKind::Binary)
            .count()
    }

    /// Number of chunks.
    pub fn chunk_count(&self) -> usize {
        self.derived.chunks()
    }

    /// Indexed paths (relative, sorted).
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files
            .iter()
            .filter(|f| f.kind != FileKind::Binary)
            .map(|f| f.path.as_str())
    }

    /// Files that define `symbol` (compared as a whole lower-case term), with the line spans of
    /// the defining chunks.
    pub fn definitions(&self, symbol: &str) -> Vec<(&str, u32, u32)> {
        let Some(t) = whole_term(symbol).and_then(|w| self.dict.get(&w)) else {
            return Vec::new();
        };
        self.derived
            .defs
            .get(&t)
            .map(|cs| {
                cs.iter()
                    .filter_map(|&(_, c)| {
                        let (f, k) = self.derived.locate(c)?;
                        let file = self.files.get(f as usize)?;
                        let ch = file.chunk(k as usize)?;
                        Some((file.path.as_str(), ch.start_line, ch.end_line))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn options_fingerprint(&self) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        h.update(b"context-chop options v1\0");
        h.update(format!("{:?}", self.opts.chunk).as_bytes());
        h.update(format!("{:?}", self.opts.walk.extensions).as_bytes());
        h.update(format!("{:?}", self.opts.walk.globs).as_bytes());
        h.update(&self.opts.walk.max_file_size.to_le_bytes());
        h.update(&[
            self.opts.walk.skip_generated as u8,
            self.opts.walk.hidden as u8,
            self.opts.walk.follow_links as u8,
            self.opts.walk.ignore_files as u8,
        ]);
        *h.finalize().as_bytes()
    }

    fn load(&mut self) -> Result<()> {
        let path = self.cache_file();
        let file = std::fs::File::open(&path).map_err(|e| Error::Io {
            path: path.clone(),
            source: e,
        })?;
        let (dict, files, postings) = store::decode(file, &self.options_fingerprint())?;
        self.dict = dict;
        self.files = files;
        self.postings = postings;
        Ok(())
    }

    /// Saves the index to its cache file (atomically: write a temporary file, then rename).
    pub fn save(&self) -> Result<()> {
        let dir = self.cache_dir();
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |e| Error::Io { path: p, source: e }
        };
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let path = self.cache_file();
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            store::encode_to(
                &mut out,
                &self.options_fingerprint(),
                &self.dict,
                &self.files,
                &self.postings,
            )?;
            std::io::Write::flush(&mut out)
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_file(&tmp);
            return Err(io(&tmp)(e));
        }
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        Ok(())
    }

    /// Re-walks the tree and re-indexes the files whose contents changed (by blake3), drops the
    /// files that are gone, and saves the index when anything changed.
    ///
    /// On an error (the postings could not be built: a temporary file that could not be
    /// read back, or more than 4 GiB of postings) the index is left empty and consistent, and
    /// the next refresh rebuilds it from the tree; a failure to save is reported in
    /// [`RefreshStats::issues`], not as an error.
    pub fn refresh(&mut self) -> Result<&RefreshStats> {
        self.refresh_inner(true, None, false)?;
        Ok(&self.last)
    }

    fn refresh_inner(
        &mut self,
        loaded: bool,
        load_error: Option<String>,
        force_save: bool,
    ) -> Result<()> {
        let mut wopts = self.opts.walk.clone();
        wopts.exclude_dirs.push(self.cache_dir());
        let walked = walk(&self.root, &wopts)?;
        let mut stats = RefreshStats {
            loaded,
            load_error,
            files: walked.files.len(),
            issues: walked.issues,
            ..RefreshStats::default()
        };
        let old: HashMap<String, usize> = self
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.path.clone(), i))
            .collect();
        // Which walked files need reading.
        let mut todo: Vec<usize> = Vec::new();
        for (i, w) in walked.files.iter().enumerate() {
            match old.get(w.path.as_str()) {
                Some(&o)
                    if self.opts.trust_mtime
                        && self.files[o].size == w.size
                        && self.files[o].mtime_ns == w.mtime_ns
                        && w.mtime_ns != 0 => {}
                _ => todo.push(i),
            }
        }
        let chunker = Chunker::new(self.opts.chunk);
        let next = AtomicUsize::new(0);
        // Bounded: workers stay at most 64 files ahead of the assembly (8 left them idle
        // while it interned; unbounded, a stalled assembly could queue a whole tree).
        let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Option<Processed>)>(64);
        let issues: Mutex<Vec<WalkIssue>> = Mutex::new(Vec::new());
        let nthreads = thread_count(self.opts.walk.threads).min(todo.len().max(1));
        let warm = self.opts.warm_tokenizer.filter(|_| todo.len() >= 32);
        // Old chunk ids: where each old file's chunks started.
        let mut old_first: Vec<u32> = Vec::with_capacity(self.files.len());
        let mut old_chunks = 0u32;
        for f in &self.files {
            old_first.push(old_chunks);
            old_chunks += f.chunks.len() as u32;
        }
        let mut remap = vec![u32::MAX; old_chunks as usize];
        // Spill postings next to the saved index (written anyway), else in the temporary
        // directory; without either they stay in memory.
        let spill_dir = if self.opts.persist {
            self.cache_dir()
        } else {
            std::env::temp_dir()
        };
        let mut builder = Builder::new(spill_dir, POSTINGS_IN_MEMORY);
        let old_hash: Vec<[u8; 32]> = self.files.iter().map(|f| f.hash).collect();
        let mut old_files: Vec<Option<FileRec>> = std::mem::take(&mut self.files)
            .into_iter()
            .map(Some)
            .collect();
        let mut changed = false;
        let mut seen_old = 0usize;
        let mut hashed = 0usize;
        let mut new_files: Vec<FileRec> = Vec::with_capacity(walked.files.len());
        let mut next_chunk = 0u32;
        let dict = &mut self.dict;
        let result: Result<()> = std::thread::scope(|s| {
            // Owned here: when this closure returns (also early, on an error), the receiver is
            // dropped and a blocked worker's send fails, so the scope can end.
            let rx = rx;
            if let Some(enc) = warm {
                s.spawn(move || token_opt::Tokenizer::new(enc).map(|t| t.count("warm")));
            }
            for _ in 0..nthreads {
                let tx = tx.clone();
                s.spawn(|| {
                    let tx = tx;
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&wi) = todo.get(k) else { break };
                        let w = &walked.files[wi];
                        let (src, hash) = match read_source(&w.abs) {
                            Ok(r) => r,
                            Err(e) => {
                                if let Ok(mut v) = issues.lock() {
                                    v.push(WalkIssue {
                                        path: w.path.clone(),
                                        message: e.to_string(),
                                    });
                                }
                                if tx.send((wi, None)).is_err() {
                                    break;
                                }
                                continue;
                            }
                        };
                        let hash = *hash.as_bytes();
                        if matches!(&src, Source::Text(t) if t.len() > u32::MAX as usize) {
                            // Chunk offsets are 32-bit: such a file is left out, and said so.
                            if let Ok(mut v) = issues.lock() {
                                v.push(WalkIssue {
                                    path: w.path.clone(),
                                    message: "larger than 4 GiB: not indexed".into(),
                                });
                            }
                            if tx.send((wi, None)).is_err() {
                                break;
                            }
                            continue;
                        }
                        let same = old
                            .get(w.path.as_str())
                            .is_some_and(|&o| old_hash.get(o) == Some(&hash));
                        let (kind, lang, data) = match src {
                            Source::Binary => (FileKind::Binary, 0, Some(Indexed::default())),
                            Source::Text(text) => {
                                let first = text.lines().next().unwrap_or("");
                                let lang = Language::detect(&w.path, first);
                                let kind = FileKind::of_path(&w.path);
                                let data = if same {
                                    None
                                } else {
                                    Some(index_text(&chunker, &w.path, &text))
                                };
                                (kind, lang_id(lang), data)
                            }
                        };
                        let sent = tx.send((
                            wi,
                            Some(Processed {
                                hash,
                                kind,
                                lang,
                                data,
                            }),
                        ));
                        if sent.is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            // Assemble the new file list in walk order as results arrive (workers run a little
            // ahead; early arrivals wait in `ahead`), feeding re-indexed chunks to the postings
            // builder in chunk id order, so no file's terms are held longer than needed.
            let mut ahead: HashMap<usize, Option<Processed>> = HashMap::default();
            let mut todo_at = 0usize;
            let mut keep =
                |fi: usize, prev: FileRec, new_files: &mut Vec<FileRec>, next_chunk: &mut u32| {
                    let first = old_first.get(fi).copied().unwrap_or(0);
                    for k in 0..prev.chunks.len() as u32 {
                        if let Some(r) = remap.get_mut((first + k) as usize) {
                            *r = *next_chunk + k;
                        }
                    }
                    *next_chunk += prev.chunks.len() as u32;
                    new_files.push(prev);
                };
            for (i, w) in walked.files.iter().enumerate() {
                let o = old.get(w.path.as_str()).copied();
                if o.is_some() {
                    seen_old += 1;
                }
                let in_todo = todo.get(todo_at) == Some(&i);
                if !in_todo {
                    // Unchanged by metadata: keep what we had.
                    if let Some(prev) = o.and_then(|o| old_files[o].take()) {
                        keep(o.unwrap_or(0), prev, &mut new_files, &mut next_chunk);
                    }
                    continue;
                }
                todo_at += 1;
                let got = loop {
                    if let Some(g) = ahead.remove(&i) {
                        break g;
                    }
                    match rx.recv() {
                        Ok((wi, p)) if wi == i => break p,
                        Ok((wi, p)) => {
                            ahead.insert(wi, p);
                        }
                        Err(_) => break None,
                    }
                };
                let Some(mut p) = got else {
                    // Unreadable this time: keep what we had.
                    if let Some(prev) = o.and_then(|o| old_files[o].take()) {
                        keep(o.unwrap_or(0), prev, &mut new_files, &mut next_chunk);
                    }
                    continue;
                };
                hashed += 1;
                match (p.data.take(), o.and_then(|o| old_files[o].take())) {
                    (None, Some(mut prev)) => {
                        // Same contents: keep the chunks, remember the new metadata.
                        if prev.mtime_ns != w.mtime_ns || prev.size != w.size {
                            prev.mtime_ns = w.mtime_ns;
                            prev.size = w.size;
                            changed = true;
                        }
                        keep(o.unwrap_or(0), prev, &mut new_files, &mut next_chunk);
                    }
                    (data, _) => {
                        let data = data.unwrap_or_default().intern(dict);
                        for c in data.terms {
                            if let Err(e) = builder.push(next_chunk, c.into_iter()) {
                                // Stop the workers: no more files, and their sends fail
                                // once the receiver is gone with this closure.
                                next.store(todo.len(), Ordering::Relaxed);
                                return Err(e);
                            }
                            next_chunk += 1;
                        }
                        if p.kind != FileKind::Binary {
                            stats.reindexed += 1;
                        }
                        changed = true;
                        // Path terms are looked up again when the derived tables are built.
                        crate::terms::for_each_path_term(&w.path, |t| {
                            dict.intern(t);
                        });
                        new_files.push(FileRec {
                            path: w.path.clone(),
                            hash: p.hash,
                            size: w.size,
                            mtime_ns: w.mtime_ns,
                            kind: p.kind,
                            lang: p.lang,
                            chunks: data.chunks,
                            entries: data.entries,
                        });
                    }
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            self.clear_after_failure();
            return Err(e);
        }
        // What the assembly needed is no longer needed: free it before the postings are placed.
        drop((walked.files, todo, old_hash, old_first));
        stats.issues.extend(issues.into_inner().unwrap_or_default());
        stats.hashed = hashed;
        stats.removed = old.len() - seen_old;
        if stats.removed > 0 {
            changed = true;
        }
        self.files = new_files;
        stats.binary = self
            .files
            .iter()
            .filter(|f| f.kind == FileKind::Binary)
            .count();
        if changed || self.version.is_empty() {
            // The derived tables first: they reuse what the assembly freed, before the postings
            // take their final, largest allocation.
            self.dict.shrink();
            self.rebuild_derived();
            let old = std::mem::take(&mut self.postings);
            let built = builder.finish(self.dict.len()).and_then(|fresh| {
                if remap.iter().all(|&r| r == u32::MAX) {
                    // Nothing kept: the fresh postings are all of them.
                    Ok(fresh)
                } else if fresh.is_empty()
                    && old_chunks == next_chunk
                    && remap.iter().enumerate().all(|(i, &r)| r == i as u32)
                {
                    // Every chunk kept where it was: the old postings still hold.
                    Ok(old)
                } else {
                    Postings::merge(&old, &remap, &fresh, self.dict.len())
                }
            });
            drop(remap);
            match built {
                Ok(p) => self.postings = p,
                Err(e) => {
                    self.clear_after_failure();
                    return Err(e);
                }
            }
            self.version = self.compute_version();
        }
        stats.chunks = self.derived.chunks();
        if self.opts.persist && (changed || force_save) {
            match self.save() {
                Ok(()) => stats.saved = true,
                Err(e) => stats.issues.push(WalkIssue {
                    path: self.cache_file().display().to_string(),
                    message: format!("could not save the index: {e}"),
                }),
            }
        }
        self.last = stats;
        Ok(())
    }

    /// After a refresh failed half-way (the postings could not be built): an empty, consistent
    /// index, so the next refresh rebuilds everything from the tree.
    fn clear_after_failure(&mut self) {
        self.files = Vec::new();
        self.postings = Postings::default();
        self.derived = Derived::default();
        self.version = String::new();
    }

    fn compute_version(&self) -> String {
        let mut h = blake3::Hasher::new();
        h.update(&self.options_fingerprint());
        for f in &self.files {
            h.update(f.path.as_bytes());
            h.update(&[0]);
            h.update(&f.hash);
        }
        h.finalize().to_hex().as_str()[..32].to_string()
    }

    fn rebuild_derived(&mut self) {
        // Free the old tables before the new ones are built.
        self.derived = Derived::default();
        let mut file_first = Vec::with_capacity(self.files.len() + 1);
        let nchunks: usize = self.files.iter().map(|f| f.chunks.len()).sum();
        let mut body_len: Vec<u16> = Vec::with_capacity(nchunks);
        let mut total_len = 0u64;
        // Capacities: definitions counted; path terms estimated (about one per 4 bytes).
        let (np, nd) = self.files.iter().fold((0, 0), |(p, d), f| {
            (p + f.path.len() / 4, d + f.symbols().count())
        });
        let mut defs: Vec<(u32, u32)> = Vec::with_capacity(nd);
        let mut paths: Vec<(u32, u32)> = Vec::with_capacity(np);
        let mut id = 0u32;
        let dict = &self.dict;
        for (fi, f) in self.files.iter().enumerate() {
            file_first.push(id);
            crate::terms::for_each_path_term(&f.path, |t| {
                if let Some(id) = dict.get(t) {
                    paths.push((id, fi as u32));
                }
            });
            defs.extend(f.symbols().map(|(ci, s)| (s, id + ci)));
            for c in &f.chunks {
                total_len += u64::from(c.body_len);
                body_len.push(u16::try_from(c.body_len).unwrap_or(u16::MAX));
            }
            id += f.chunks.len() as u32;
        }
        file_first.push(id);
        self.derived = Derived {
            file_first,
            path_files: Defs::from_pairs(paths),
            body_len,
            defs: Defs::from_pairs(defs),
            avg_body: if id == 0 {
                1.0
            } else {
                (total_len as f32 / id as f32).max(1.0)
            },
        };
    }
}
