//! [`KeywordSet`]: many keywords, one automaton, the fastest engine for the set's size.

use crate::index::{ExactIndex, Patterns};
use crate::text::{
    ascii_lowercase_into, end_ok, fold_pattern, next_word_start, start_ok, CaseFolding, Hay,
    Prepared,
};
use crate::{Error, Result};
use std::collections::HashMap;

/// Which matches are reported when several keywords match at overlapping places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchKind {
    /// Non-overlapping matches; at the leftmost start the longest keyword wins.
    #[default]
    LeftmostLongest,
    /// Non-overlapping matches; at the leftmost start the keyword added first wins.
    LeftmostFirst,
    /// Every occurrence of every keyword, reported in order of their end.
    Overlapping,
}

impl MatchKind {
    pub(crate) fn to_byte(self) -> u8 {
        match self {
            MatchKind::LeftmostLongest => 0,
            MatchKind::LeftmostFirst => 1,
            MatchKind::Overlapping => 2,
        }
    }

    pub(crate) fn from_byte(b: u8) -> Option<Self> {
        match b {
            0 => Some(MatchKind::LeftmostLongest),
            1 => Some(MatchKind::LeftmostFirst),
            2 => Some(MatchKind::Overlapping),
            _ => None,
        }
    }
}

/// The automaton that runs the search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Engine {
    /// [`Engine::AhoCorasick`] up to [`SetOptions::auto_threshold`] keywords, else
    /// [`Engine::DoubleArray`].
    #[default]
    Auto,
    /// The `aho-corasick` crate (SIMD prefilter, DFA for small sets): fastest for small sets.
    AhoCorasick,
    /// `daachorse`'s double-array automaton: compact, fast to build and load for large sets.
    DoubleArray,
}

/// Configuration of a [`KeywordSet`]; build one with [`KeywordSet::builder`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SetOptions {
    /// Which matches are reported.
    pub match_kind: MatchKind,
    /// How case is treated.
    pub case_folding: CaseFolding,
    /// Only report matches that do not cut a word (letters, digits, `_`) in two.
    pub whole_words: bool,
    /// Which automaton runs the search.
    pub engine: Engine,
    /// At most this many keywords (after removing duplicates); more is [`Error::TooManyPatterns`].
    pub max_patterns: usize,
    /// With [`Engine::Auto`], sets of up to this many keywords use [`Engine::AhoCorasick`].
    pub auto_threshold: usize,
}

impl Default for SetOptions {
    fn default() -> Self {
        SetOptions {
            match_kind: MatchKind::LeftmostLongest,
            case_folding: CaseFolding::None,
            whole_words: false,
            engine: Engine::Auto,
            max_patterns: 1 << 22,
            auto_threshold: DEFAULT_AUTO_THRESHOLD,
        }
    }
}

/// Sets up to this size use aho-corasick under [`Engine::Auto`] (measured: see the README).
pub const DEFAULT_AUTO_THRESHOLD: usize = 100;

/// Builds a [`KeywordSet`].
#[derive(Debug, Clone, Default)]
pub struct KeywordSetBuilder {
    options: SetOptions,
}

impl KeywordSetBuilder {
    /// A builder with default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts from a plain options struct.
    pub fn with_options(options: SetOptions) -> Self {
        KeywordSetBuilder { options }
    }

    /// Sets the match kind (default leftmost-longest).
    pub fn match_kind(mut self, kind: MatchKind) -> Self {
        self.options.match_kind = kind;
        self
    }

    /// Sets case folding (default none).
    pub fn case_folding(mut self, folding: CaseFolding) -> Self {
        self.options.case_folding = folding;
        self
    }

    /// Only report matches that do not cut a word in two (default off).
    pub fn whole_words(mut self, yes: bool) -> Self {
        self.options.whole_words = yes;
        self
    }

    /// Chooses the engine (default [`Engine::Auto`]).
    pub fn engine(mut self, engine: Engine) -> Self {
        self.options.engine = engine;
        self
    }

    /// Limits the number of keywords.
    pub fn max_patterns(mut self, max: usize) -> Self {
        self.options.max_patterns = max;
        self
    }

    /// Sets the size up to which [`Engine::Auto`] picks aho-corasick.
    pub fn auto_threshold(mut self, n: usize) -> Self {
        self.options.auto_threshold = n;
        self
    }

    /// Builds the set from `(keyword, value)` pairs.
    ///
    /// Keywords equal after case folding are one keyword: with equal values the later one is
    /// dropped, with different values the build fails with [`Error::ConflictingDuplicate`].
    /// Empty keywords give [`Error::EmptyPattern`].
    pub fn build<I, P, V>(self, pairs: I) -> Result<KeywordSet<V>>
    where
        I: IntoIterator<Item = (P, V)>,
        P: AsRef<str>,
        V: PartialEq,
    {
        let options = self.options;
        let mut patterns = Patterns::new();
        let mut values = Vec::new();
        let mut seen: HashMap<String, u32> = HashMap::new();
        for (index, (p, v)) in pairs.into_iter().enumerate() {
            let p = p.as_ref();
            if p.is_empty() {
                return Err(Error::EmptyPattern { index });
            }
            let folded = fold_pattern(p, options.case_folding);
            if let Some(&id) = seen.get(&folded) {
                if values.get(id as usize) != Some(&v) {
                    return Err(Error::ConflictingDuplicate {
                        keyword: p.to_owned(),
                    });
                }
                continue;
            }
            if values.len() >= options.max_patterns || values.len() >= (u32::MAX - 1) as usize {
                return Err(Error::TooManyPatterns {
                    max: options.max_patterns,
                });
            }
            patterns.push(&folded).ok_or(Error::TooManyPatterns {
                max: options.max_patterns,
            })?;
            seen.insert(folded, values.len() as u32);
            values.push(v);
        }
        if values.is_empty() {
            return Err(Error::NoPatterns);
        }
        drop(seen);
        let engine = resolve_engine(&options, values.len());
        let automaton = Automaton::build(engine, &options, &patterns)?;
        let index = ExactIndex::build(&patterns);
        Ok(KeywordSet::assemble(
            options, automaton, patterns, values, index,
        ))
    }
}

pub(crate) fn resolve_engine(options: &SetOptions, n: usize) -> Engine {
    match options.engine {
        Engine::Auto if n <= options.auto_threshold => Engine::AhoCorasick,
        Engine::Auto => Engine::DoubleArray,
        e => e,
    }
}

/// Up to this many keywords, the aho-corasick engine ignores ASCII case itself.
const AHO_FOLD_MAX: usize = 48;

fn aho_folds_ascii(options: &SetOptions, n: usize) -> bool {
    options.case_folding != CaseFolding::None && n <= AHO_FOLD_MAX
}

pub(crate) enum Automaton {
    Aho(aho_corasick::AhoCorasick),
    Daac(daachorse::DoubleArrayAhoCorasick<u32>),
}

impl Automaton {
    pub(crate) fn build(engine: Engine, options: &SetOptions, patterns: &Patterns) -> Result<Self> {
        let kind = options.match_kind;
        match engine {
            Engine::AhoCorasick | Engine::Auto => {
                let ac_kind = match kind {
                    MatchKind::LeftmostLongest => aho_corasick::MatchKind::LeftmostLongest,
                    MatchKind::LeftmostFirst => aho_corasick::MatchKind::LeftmostFirst,
                    MatchKind::Overlapping => aho_corasick::MatchKind::Standard,
                };
                // For small sets aho-corasick ignores ASCII case itself and keeps its SIMD
                // prefilter, cheaper than folding the haystack; for larger ones its
                // case-insensitive prefilter degrades and folding the haystack wins (measured).
                // Patterns are already folded.
                aho_corasick::AhoCorasick::builder()
                    .match_kind(ac_kind)
                    .ascii_case_insensitive(aho_folds_ascii(options, patterns.len()))
                    .build(patterns.iter())
                    .map(Automaton::Aho)
                    .map_err(|e| Error::Build(e.to_string()))
            }
            Engine::DoubleArray => {
                let dk = match kind {
                    MatchKind::LeftmostLongest => daachorse::MatchKind::LeftmostLongest,
                    MatchKind::LeftmostFirst => daachorse::MatchKind::LeftmostFirst,
                    MatchKind::Overlapping => daachorse::MatchKind::Standard,
                };
                daachorse::DoubleArrayAhoCorasickBuilder::new()
                    .match_kind(dk)
                    .build_with_values(patterns.iter().enumerate().map(|(i, p)| (p, i as u32)))
                    .map(Automaton::Daac)
                    .map_err(|e| Error::Build(e.to_string()))
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Automaton::Aho(a) => a.memory_usage(),
            Automaton::Daac(d) => d.heap_bytes(),
        }
    }
}

/// A set of keywords, each with a value, compiled for fast search and O(1) exact lookup.
///
/// ```
/// use keyword_trie::{CaseFolding, KeywordSet};
///
/// let set = KeywordSet::builder()
///     .case_folding(CaseFolding::Ascii)
///     .whole_words(true)
///     .build([("redis", "cache"), ("postgres", "db"), ("sql", "db")])?;
/// let found: Vec<_> = set.find_iter("Move Redis to PostgreSQL? No: postgres").map(|m| (m.range(), *m.value())).collect();
/// assert_eq!(found, vec![(5..10, "cache"), (30..38, "db")]);
/// assert_eq!(set.get("REDIS"), Some(&"cache"));
/// # Ok::<(), keyword_trie::Error>(())
/// ```
pub struct KeywordSet<V> {
    pub(crate) options: SetOptions,
    pub(crate) engine: Engine,
    pub(crate) automaton: Automaton,
    pub(crate) patterns: Patterns,
    pub(crate) values: Vec<V>,
    pub(crate) index: ExactIndex,
    pub(crate) max_len: usize,
    /// Haystacks longer than this are case-folded block by block (see [`FOLD_BLOCK`]).
    fold_block: usize,
}

/// Block size for folding long haystacks: the folded copy of one block (plus the longest
/// keyword's length minus one of overlap) stays in the CPU cache instead of a copy of the whole
/// haystack going through memory (measured: see the README).
pub(crate) const FOLD_BLOCK: usize = 64 << 10;

impl<V> std::fmt::Debug for KeywordSet<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeywordSet")
            .field("len", &self.len())
            .field("engine", &self.engine)
            .field("options", &self.options)
            .finish()
    }
}

/// One match: where it is in the haystack (byte offsets) and the keyword's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match<'s, V> {
    start: usize,
    end: usize,
    pattern: usize,
    value: &'s V,
}

impl<'s, V> Match<'s, V> {
    /// Byte offset where the match starts in the original haystack.
    pub fn start(&self) -> usize {
        self.start
    }
    /// Byte offset just after the match in the original haystack.
    pub fn end(&self) -> usize {
        self.end
    }
    /// `start..end`.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start..self.end
    }
    /// The keyword's id: its position among the distinct keywords, in the order they were added.
    pub fn pattern(&self) -> usize {
        self.pattern
    }
    /// The keyword's value.
    pub fn value(&self) -> &'s V {
        self.value
    }
}

impl KeywordSet<()> {
    /// A builder with default options (leftmost-longest, exact case, any position, auto engine).
    pub fn builder() -> KeywordSetBuilder {
        KeywordSetBuilder::new()
    }
}

impl<V> KeywordSet<V> {
    pub(crate) fn assemble(
        options: SetOptions,
        automaton: Automaton,
        patterns: Patterns,
        values: Vec<V>,
        index: ExactIndex,
    ) -> Self {
        let max_len = patterns
            .offsets
            .windows(2)
            .map(|w| w[1].saturating_sub(w[0]) as usize)
            .max()
            .unwrap_or(0);
        Self::assemble_with_max_len(options, automaton, patterns, values, index, max_len)
    }

    /// [`KeywordSet::assemble`] when the longest keyword's length is already known.
    pub(crate) fn assemble_with_max_len(
        options: SetOptions,
        automaton: Automaton,
        patterns: Patterns,
        values: Vec<V>,
        index: ExactIndex,
        max_len: usize,
    ) -> Self {
        let engine = match automaton {
            Automaton::Aho(_) => Engine::AhoCorasick,
            Automaton::Daac(_) => Engine::DoubleArray,
        };
        KeywordSet {
            options,
            engine,
            automaton,
            patterns,
            values,
            index,
            max_len,
            fold_block: FOLD_BLOCK,
        }
    }

    /// Testing knob: haystacks longer than `bytes` are folded in blocks of `bytes` (at least 1)
    /// by `count` and `is_match`. Not part of the stable API.
    #[doc(hidden)]
    pub fn set_fold_block(&mut self, bytes: usize) {
        self.fold_block = bytes.max(1);
    }

    /// Whether `count`/`is_match` fold `h` block by block: the haystack needs an ASCII fold the
    /// automaton does not do itself, and is longer than one block.
    fn folds_in_blocks(&self, h: &[u8]) -> bool {
        if h.len() <= self.fold_block || self.engine_folds_ascii() {
            return false;
        }
        match self.options.case_folding {
            CaseFolding::None => false,
            CaseFolding::Ascii => true,
            CaseFolding::Unicode => h.is_ascii(),
        }
    }

    /// Calls `f(start, end)` for every match (without whole-word checks) in `h`, in the order
    /// `count` sees them, folding ASCII one block at a time; stops when `f` returns false.
    ///
    /// Leftmost kinds: a block `[pos, end)` is folded together with the next `max_len - 1`
    /// bytes, so every keyword starting before `end` is entirely in the window; matches starting
    /// at or after `end` are left to the next block, which begins where the last match ended
    /// (or at `end`). Overlapping: a block is folded with the `max_len - 1` bytes before it and
    /// reports the matches that end inside it, so each is reported once.
    fn for_each_blockwise(&self, h: &[u8], mut f: impl FnMut(usize, usize) -> bool) {
        let block = self.fold_block.max(1);
        let overlap = self.max_len.saturating_sub(1);
        let mut buf = Vec::with_capacity(block + overlap);
        let overlapping = self.options.match_kind == MatchKind::Overlapping;
        let mut pos = 0usize;
        while pos < h.len() {
            let block_end = (pos + block).min(h.len());
            let (win_start, win_end) = if overlapping {
                (pos.saturating_sub(overlap), block_end)
            } else {
                (pos, (block_end + overlap).min(h.len()))
            };
            let Some(window) = h.get(win_start..win_end) else {
                return;
            };
            ascii_lowercase_into(window, &mut buf);
            let mut next = block_end;
            let mut stop = false;
            let mut visit = |s: usize, e: usize| -> bool {
                let (s, e) = (win_start + s, win_start + e);
                if overlapping {
                    if e > pos && !f(s, e) {
                        stop = true;
                        return false;
                    }
                    return true;
                }
                if s >= block_end {
                    return false;
                }
                next = next.max(e);
                if !f(s, e) {
                    stop = true;
                    return false;
                }
                true
            };
            match (&self.automaton, overlapping) {
                (Automaton::Aho(ac), true) => {
                    for m in ac.find_overlapping_iter(&buf) {
                        if !visit(m.start(), m.end()) {
                            break;
                        }
                    }
                }
                (Automaton::Aho(ac), false) => {
                    for m in ac.find_iter(&buf) {
                        if !visit(m.start(), m.end()) {
                            break;
                        }
                    }
                }
                (Automaton::Daac(d), true) => {
                    for m in d.find_overlapping_iter(&buf) {
                        if !visit(m.start(), m.end()) {
                            break;
                        }
                    }
                }
                (Automaton::Daac(d), false) => {
                    for m in d.leftmost_find_iter(&buf) {
                        if !visit(m.start(), m.end()) {
                            break;
                        }
                    }
                }
            }
            if stop {
                return;
            }
            pos = next;
        }
    }

    /// Whether the automaton itself ignores ASCII case (so the haystack is not folded).
    fn engine_folds_ascii(&self) -> bool {
        matches!(self.automaton, Automaton::Aho(_)) && aho_folds_ascii(&self.options, self.len())
    }

    /// The number of distinct keywords.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the set has no keywords (never true for a built set).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The options the set was built with.
    pub fn options(&self) -> &SetOptions {
        &self.options
    }

    /// The engine that runs the search (never [`Engine::Auto`]).
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Keyword `id` as stored (case-folded when folding is on).
    pub fn pattern(&self, id: usize) -> Option<&str> {
        self.patterns.get(id)
    }

    /// The value of keyword `id`.
    pub fn value(&self, id: usize) -> Option<&V> {
        self.values.get(id)
    }

    /// Heap bytes used by the automaton, the keywords and the lookup index (not the values'
    /// own heap data).
    pub fn heap_bytes(&self) -> usize {
        self.automaton.heap_bytes()
            + self.patterns.heap_bytes()
            + self.index.heap_bytes()
            + self.values.capacity() * std::mem::size_of::<V>()
    }

    /// The value of the keyword equal to `keyword` (after case folding), in O(1).
    pub fn get(&self, keyword: &str) -> Option<&V> {
        self.id_of(keyword).and_then(|id| self.values.get(id))
    }

    /// The id of the keyword equal to `keyword` (after case folding), in O(1).
    pub fn id_of(&self, keyword: &str) -> Option<usize> {
        let id = match self.options.case_folding {
            CaseFolding::None => self.index.find(keyword.as_bytes(), &self.patterns),
            CaseFolding::Ascii | CaseFolding::Unicode
                if keyword.len() <= 64 && keyword.is_ascii() =>
            {
                let mut buf = [0u8; 64];
                let dst = buf.get_mut(..keyword.len())?;
                dst.copy_from_slice(keyword.as_bytes());
                dst.make_ascii_lowercase();
                self.index.find(dst, &self.patterns)
            }
            folding => {
                let f = fold_pattern(keyword, folding);
                self.index.find(f.as_bytes(), &self.patterns)
            }
        };
        id.map(|i| i as usize)
    }

    /// Whether any keyword occurs in `haystack`.
    pub fn is_match(&self, haystack: impl AsRef<[u8]>) -> bool {
        let h = haystack.as_ref();
        if !self.options.whole_words {
            if let Automaton::Aho(ac) = &self.automaton {
                let plain = match self.options.case_folding {
                    CaseFolding::None => true,
                    CaseFolding::Ascii => self.engine_folds_ascii(),
                    CaseFolding::Unicode => self.engine_folds_ascii() && h.is_ascii(),
                };
                if plain {
                    return ac.is_match(h);
                }
            }
            if self.folds_in_blocks(h) {
                let mut found = false;
                self.for_each_blockwise(h, |_, _| {
                    found = true;
                    false
                });
                return found;
            }
        }
        self.find_iter(h).next().is_some()
    }

    /// The number of matches in `haystack` (what `find_iter(haystack).count()` returns, without
    /// building each match).
    pub fn count(&self, haystack: impl AsRef<[u8]>) -> usize {
        let h = haystack.as_ref();
        if self.options.whole_words {
            return self.find_iter(h).count();
        }
        if self.folds_in_blocks(h) {
            let mut n = 0usize;
            self.for_each_blockwise(h, |_, _| {
                n += 1;
                true
            });
            return n;
        }
        let prep = Prepared::new(h, self.options.case_folding, self.engine_folds_ascii());
        let text = prep.text.full();
        match (&self.automaton, self.options.match_kind) {
            (Automaton::Aho(ac), MatchKind::Overlapping) => ac.find_overlapping_iter(text).count(),
            (Automaton::Aho(ac), _) => ac.find_iter(text).count(),
            (Automaton::Daac(d), MatchKind::Overlapping) => d.find_overlapping_iter(text).count(),
            (Automaton::Daac(d), _) => d.leftmost_find_iter(text).count(),
        }
    }

    /// The matches in `haystack` (a `&str` or `&[u8]`), in order, with byte offsets into it.
    pub fn find_iter<'s, 'h>(
        &'s self,
        haystack: &'h (impl AsRef<[u8]> + ?Sized),
    ) -> FindIter<'s, 'h, V> {
        let prep = Prepared::new(
            haystack.as_ref(),
            self.options.case_folding,
            self.engine_folds_ascii(),
        );
        let state = match (&self.automaton, self.options.match_kind) {
            (Automaton::Aho(_), MatchKind::Overlapping) => {
                IterState::AhoOverlapping(aho_corasick::automaton::OverlappingState::start())
            }
            (Automaton::Aho(_), _) => IterState::AhoLeftmost(0),
            (Automaton::Daac(d), MatchKind::Overlapping) => {
                IterState::DaacOverlapping(d.find_overlapping_iter(prep.text.clone()))
            }
            (Automaton::Daac(d), _) => {
                IterState::DaacLeftmost(d.leftmost_find_iter(prep.text.clone()), 0)
            }
        };
        FindIter {
            set: self,
            prep,
            state,
        }
    }

    /// `haystack` with every match replaced by what `replace` appends to the output.
    /// With [`MatchKind::Overlapping`], matches that overlap an earlier replaced one are skipped.
    ///
    /// ```
    /// let set = keyword_trie::KeywordSet::builder().build([("secret", "[S]"), ("token", "[T]")])?;
    /// let out = set.replace_all("a secret token", |m, out| out.push_str(m.value()));
    /// assert_eq!(out, "a [S] [T]");
    /// # Ok::<(), keyword_trie::Error>(())
    /// ```
    pub fn replace_all<F>(&self, haystack: &str, mut replace: F) -> String
    where
        F: FnMut(&Match<'_, V>, &mut String),
    {
        let mut out = String::with_capacity(haystack.len());
        let mut last = 0;
        for m in self.find_iter(haystack) {
            if m.start < last {
                continue;
            }
            if let Some(between) = haystack.get(last..m.start) {
                out.push_str(between);
            }
            replace(&m, &mut out);
            last = m.end;
        }
        if let Some(rest) = haystack.get(last..) {
            out.push_str(rest);
        }
        out
    }

    /// Exact lookup of a haystack slice; folds ASCII first when the text was not folded.
    fn find_folded(&self, key: &[u8], text_folded: bool) -> Option<u32> {
        if text_folded || self.options.case_folding == CaseFolding::None {
            return self.index.find(key, &self.patterns);
        }
        let mut buf = [0u8; 128];
        match buf.get_mut(..key.len()) {
            Some(dst) => {
                dst.copy_from_slice(key);
                dst.make_ascii_lowercase();
                self.index.find(dst, &self.patterns)
            }
            None => self.index.find(&key.to_ascii_lowercase(), &self.patterns),
        }
    }

    /// With whole words, the best other keyword starting at `s` (folded text offsets) that ends
    /// on a word boundary, excluding `bad_end`.
    fn alternative_at(
        &self,
        prep: &Prepared<'_>,
        s: usize,
        bad_end: usize,
    ) -> Option<(usize, u32)> {
        let text = prep.text.full();
        let longest = self.options.match_kind == MatchKind::LeftmostLongest;
        // The rejected match was the longest at `s`, so under leftmost-longest every other
        // keyword there ends before it.
        let hi = if longest {
            bad_end.saturating_sub(1)
        } else {
            s + self.max_len
        }
        .min(text.len());
        // Candidate ends: positions that do not cut a word. With equal offsets and ASCII bytes
        // this is a byte-table scan; otherwise each position is checked in full.
        let mut ends = [0usize; 64];
        let mut n_ends = 0usize;
        let mut all_ends: Vec<usize> = Vec::new();
        let orig = prep.original;
        for e in s + 1..=hi {
            if e == bad_end {
                continue;
            }
            let ok = if prep.same_offsets() {
                match (orig.get(e - 1), orig.get(e)) {
                    (Some(&a), Some(&b)) if a.is_ascii() && b.is_ascii() => {
                        !(is_word_byte(a) && is_word_byte(b))
                    }
                    (Some(&a), None) if a.is_ascii() => true,
                    _ => end_ok(orig, e),
                }
            } else {
                end_ok(orig, prep.to_original(e))
            };
            if ok {
                match ends.get_mut(n_ends) {
                    Some(slot) => {
                        *slot = e;
                        n_ends += 1;
                    }
                    None => all_ends.push(e),
                }
            }
        }
        let candidates = ends.iter().take(n_ends).chain(all_ends.iter()).copied();
        let mut best: Option<(usize, u32)> = None;
        for e in candidates {
            let Some(id) = text
                .get(s..e)
                .and_then(|k| self.find_folded(k, prep.folded))
            else {
                continue;
            };
            // For leftmost-longest the last candidate found is the longest.
            if longest || best.is_none_or(|(_, b)| id < b) {
                best = Some((e, id));
            }
        }
        best
    }
}

#[inline]
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

enum IterState<'s, 'h> {
    AhoLeftmost(usize),
    AhoOverlapping(aho_corasick::automaton::OverlappingState),
    DaacLeftmost(
        daachorse::bytewise::iter::LeftmostFindIterator<'s, Hay<'h>, u32>,
        usize,
    ),
    DaacOverlapping(daachorse::bytewise::iter::FindOverlappingSliceIterator<'s, Hay<'h>, u32>),
}

/// Iterator over the matches in a haystack, from [`KeywordSet::find_iter`].
pub struct FindIter<'s, 'h, V> {
    set: &'s KeywordSet<V>,
    prep: Prepared<'h>,
    state: IterState<'s, 'h>,
}

impl<'s, V> FindIter<'s, '_, V> {
    /// The next raw match in folded-text offsets: `(start, end, id)`.
    #[inline]
    fn raw_next(&mut self) -> Option<(usize, usize, u32)> {
        let text = self.prep.text.full();
        let (s, e, id) = match (&mut self.state, &self.set.automaton) {
            (IterState::AhoLeftmost(pos), Automaton::Aho(ac)) => {
                if *pos > text.len() {
                    return None;
                }
                let m = ac.find(aho_corasick::Input::new(text).span(*pos..text.len()))?;
                *pos = m.end().max(m.start() + 1);
                (m.start(), m.end(), m.pattern().as_u32())
            }
            (IterState::AhoOverlapping(st), Automaton::Aho(ac)) => {
                ac.find_overlapping(text, st);
                let m = st.get_match()?;
                (m.start(), m.end(), m.pattern().as_u32())
            }
            (IterState::DaacLeftmost(it, off), _) => {
                let m = it.next()?;
                (m.start() + *off, m.end() + *off, m.value())
            }
            (IterState::DaacOverlapping(it), _) => {
                let m = it.next()?;
                (m.start(), m.end(), m.value())
            }
            _ => return None,
        };
        // Never trust offsets blindly (the automaton may come from bytes).
        (s < e && e <= text.len()).then_some((s, e, id))
    }

    /// Continues the leftmost search at folded offset `pos`.
    fn restart(&mut self, pos: usize) {
        match (&mut self.state, &self.set.automaton) {
            (IterState::AhoLeftmost(p), _) => *p = pos,
            (IterState::DaacLeftmost(it, off), Automaton::Daac(d)) => {
                let hay = self.prep.text.from(pos);
                *off = hay.start();
                *it = d.leftmost_find_iter(hay);
            }
            _ => {}
        }
    }

    /// Resumes the leftmost search at `p` after rejecting a match that ended at `e`. A fresh
    /// daachorse iterator is started even when its current one could go on: measured, the
    /// fresh prefilter state more than pays for the restart on source code.
    fn skip_to(&mut self, p: usize, _e: usize) {
        match self.state {
            IterState::AhoLeftmost(ref mut pos) => *pos = p,
            _ => self.restart(p),
        }
    }

    /// Where a whole-word match may start after a rejected start `s` (folded offsets).
    fn next_candidate(&self, s: usize) -> usize {
        if self.prep.same_offsets() {
            next_word_start(self.prep.original, s)
        } else {
            s + 1
        }
    }

    #[inline]
    fn emit(&self, s: usize, e: usize, id: u32) -> Option<Match<'s, V>> {
        let value = self.set.values.get(id as usize)?;
        Some(Match {
            start: self.prep.to_original(s),
            end: self.prep.to_original(e),
            pattern: id as usize,
            value,
        })
    }
}

impl<'s, V> Iterator for FindIter<'s, '_, V> {
    type Item = Match<'s, V>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (s, e, id) = self.raw_next()?;
            if !self.set.options.whole_words {
                match self.emit(s, e, id) {
                    Some(m) => return Some(m),
                    None => continue,
                }
            }
            let orig = self.prep.original;
            let os = self.prep.to_original(s);
            if self.set.options.match_kind == MatchKind::Overlapping {
                if start_ok(orig, os) && end_ok(orig, self.prep.to_original(e)) {
                    if let Some(m) = self.emit(s, e, id) {
                        return Some(m);
                    }
                }
                continue;
            }
            if !start_ok(orig, os) {
                let next = self.next_candidate(s);
                self.skip_to(next, e);
                continue;
            }
            if end_ok(orig, self.prep.to_original(e)) {
                if let Some(m) = self.emit(s, e, id) {
                    return Some(m);
                }
                continue;
            }
            match self.set.alternative_at(&self.prep, s, e) {
                Some((e2, id2)) => {
                    self.restart(e2);
                    if let Some(m) = self.emit(s, e2, id2) {
                        return Some(m);
                    }
                }
                None => {
                    let next = self.next_candidate(s);
                    self.skip_to(next, e);
                }
            }
        }
    }
}
