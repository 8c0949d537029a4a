//! [`Router`]: scores a query against named routes of weighted keywords.

use crate::set::{Engine, KeywordSet, MatchKind};
use crate::text::CaseFolding;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// The route table shipped with the crate (TOML), used by [`Router::default_routes`].
pub const DEFAULT_ROUTES_TOML: &str = include_str!("default_routes.toml");

/// A route table as read from TOML or JSON.
///
/// ```toml
/// threshold = 0.3
/// default_route = "general"
///
/// [[routes]]
/// name = "database"
/// keywords = ["sql", "postgres", { keyword = "query plan", weight = 2.0 }]
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteTable {
    /// Routes scoring below this (0..1) are not ranked.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// The route chosen when none reaches the threshold.
    #[serde(default = "default_route_name")]
    pub default_route: String,
    /// The routes.
    pub routes: Vec<RouteSpec>,
}

fn default_threshold() -> f64 {
    RouterOptions::default().threshold
}
fn default_route_name() -> String {
    RouterOptions::default().default_route
}
fn one() -> f64 {
    1.0
}

/// One route of a [`RouteTable`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// The route's name (an agent or a category).
    pub name: String,
    /// Multiplies the route's evidence (default 1).
    #[serde(default = "one")]
    pub weight: f64,
    /// What the route is for (documentation only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The keywords (matched as whole words, case-insensitively).
    pub keywords: Vec<KeywordSpec>,
}

/// A keyword, alone (weight 1) or with a weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KeywordSpec {
    /// A keyword of weight 1.
    Plain(String),
    /// A keyword with its weight.
    Weighted {
        /// The keyword.
        keyword: String,
        /// Its weight (> 0).
        weight: f64,
    },
}

impl KeywordSpec {
    fn parts(&self) -> (&str, f64) {
        match self {
            KeywordSpec::Plain(k) => (k, 1.0),
            KeywordSpec::Weighted { keyword, weight } => (keyword, *weight),
        }
    }
}

/// Router configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RouterOptions {
    /// Routes scoring below this (scores are in 0..1) are left out of the ranking.
    pub threshold: f64,
    /// The route chosen when none reaches the threshold.
    pub default_route: String,
    /// Queries longer than this many bytes have their evidence divided by
    /// `sqrt(len / long_query_bytes)`, so a long text does not win by sheer size.
    pub long_query_bytes: usize,
    /// The automaton for the keywords (see [`Engine`]); queries are short, so the choice
    /// matters less than for long texts.
    pub engine: Engine,
}

impl Default for RouterOptions {
    fn default() -> Self {
        RouterOptions {
            threshold: 0.3,
            default_route: "general".into(),
            long_query_bytes: 160,
            engine: Engine::Auto,
        }
    }
}

/// A route in a [`Ranking`]: its name, score (0..1) and the keywords that matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankedRoute<'r> {
    /// The route's name.
    pub name: &'r str,
    /// Its score in `0..1`: `evidence / (1 + evidence)`.
    pub score: f64,
    /// The matched keywords as written in the table, in order of first occurrence.
    pub keywords: KeywordList<'r>,
}

const INLINE_KEYWORDS: usize = 6;

/// The matched keywords of a [`RankedRoute`]: a slice of `&str` (it derefs to `[&str]` and
/// serializes as a JSON array), stored inline for the usual handful so ranking does not allocate
/// per route.
#[derive(Clone)]
pub struct KeywordList<'r> {
    inline: [&'r str; INLINE_KEYWORDS],
    len: usize,
    spill: Vec<&'r str>,
}

impl<'r> KeywordList<'r> {
    fn new() -> Self {
        KeywordList {
            inline: [""; INLINE_KEYWORDS],
            len: 0,
            spill: Vec::new(),
        }
    }

    fn push(&mut self, keyword: &'r str) {
        if self.spill.is_empty() {
            if let Some(slot) = self.inline.get_mut(self.len) {
                *slot = keyword;
                self.len += 1;
                return;
            }
            self.spill.extend_from_slice(&self.inline);
        }
        self.spill.push(keyword);
    }

    /// The keywords as a slice.
    pub fn as_slice(&self) -> &[&'r str] {
        if self.spill.is_empty() {
            self.inline.get(..self.len).unwrap_or_default()
        } else {
            &self.spill
        }
    }
}

impl<'r> std::ops::Deref for KeywordList<'r> {
    type Target = [&'r str];
    fn deref(&self) -> &Self::Target {
        self.as_slice()
    }
}

impl std::fmt::Debug for KeywordList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl PartialEq for KeywordList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Serialize for KeywordList<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.as_slice())
    }
}

impl<'a, 'r> IntoIterator for &'a KeywordList<'r> {
    type Item = &'a &'r str;
    type IntoIter = std::slice::Iter<'a, &'r str>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

/// The result of [`Router::rank`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranking<'r> {
    /// The chosen route: the best ranked one, or the default route.
    pub route: &'r str,
    /// Whether the default route was chosen because no route reached the threshold.
    pub default_used: bool,
    /// Routes at or above the threshold, best first (ties by table order).
    pub routes: Vec<RankedRoute<'r>>,
}

impl Ranking<'_> {
    /// The best ranked route, if any reached the threshold.
    pub fn best(&self) -> Option<&RankedRoute<'_>> {
        self.routes.first()
    }
}

struct RouteEntry {
    name: String,
    weight: f64,
}

struct KeywordEntry {
    text: String,
    /// `(route index, weight)`.
    hits: Vec<(u32, f64)>,
}

/// Scores queries against named routes of weighted keywords.
///
/// Evidence for a route is the sum over its distinct matched keywords of
/// `weight * (1 + ln(occurrences) / 2)` (repeats count, with diminishing returns), times the route's
/// weight, divided by `sqrt(len / long_query_bytes)` for long queries; the score is
/// `evidence / (1 + evidence)`, in `0..1` (one keyword of weight 1 scores 0.5, two 0.67). Keywords match case-insensitively (Unicode simple folding)
/// and as whole words.
///
/// ```
/// let router = keyword_trie::Router::default_routes();
/// let ranking = router.rank("why is this SQL query so slow? add an index to postgres");
/// assert_eq!(ranking.route, "database");
/// assert!(ranking.routes[0].keywords.contains(&"postgres"));
/// let json = serde_json::to_string(&ranking).unwrap();
/// assert!(json.contains("\"route\":\"database\""));
/// ```
pub struct Router {
    options: RouterOptions,
    routes: Vec<RouteEntry>,
    keywords: Vec<KeywordEntry>,
    /// Every keyword (queries with non-ASCII text).
    set: Option<KeywordSet<u32>>,
    /// ASCII queries: keywords that fold to one ASCII word, looked up word by word.
    words: WordIndex,
    /// ASCII queries: the other keywords (phrases, punctuation, non-ASCII), searched.
    phrases: Option<KeywordSet<u32>>,
}

/// Keywords that fold to a run of ASCII word characters (`[a-z0-9_]`). With whole-word
/// matching such a keyword occurs exactly where a maximal word of the query equals it, so an
/// ASCII query needs one hash lookup per word instead of an automaton pass.
#[derive(Debug, Clone)]
struct WordIndex {
    patterns: crate::index::Patterns,
    index: crate::index::ExactIndex,
    /// Keyword slot of each pattern.
    slots: Vec<u32>,
    /// Shortest and longest word keyword in bytes (`usize::MAX` / 0 when there is none).
    min_len: usize,
    max_len: usize,
}

impl Default for WordIndex {
    fn default() -> Self {
        WordIndex {
            patterns: crate::index::Patterns::new(),
            index: crate::index::ExactIndex::default(),
            slots: Vec::new(),
            min_len: usize::MAX,
            max_len: 0,
        }
    }
}

impl WordIndex {
    fn is_word(folded: &str) -> bool {
        !folded.is_empty()
            && folded
                .bytes()
                .all(|b| b < 0x80 && crate::text::ASCII_WORD[b as usize])
    }

    /// The keyword slot of `word` (already lowercase).
    #[inline]
    fn find(&self, word: &[u8]) -> Option<u32> {
        let id = self.index.find(word, &self.patterns)?;
        self.slots.get(id as usize).copied()
    }
}

/// Occurrence counts per keyword slot in first-match order: on the stack for up to 32 keywords.
struct Counts {
    buf: [(u32, u32); 32],
    len: usize,
    more: Vec<(u32, u32)>,
}

impl Counts {
    fn new() -> Self {
        Counts {
            buf: [(0, 0); 32],
            len: 0,
            more: Vec::new(),
        }
    }

    #[inline]
    fn add(&mut self, k: u32) {
        let in_buf = self
            .buf
            .get_mut(..self.len)
            .unwrap_or_default()
            .iter_mut()
            .find(|(s, _)| *s == k);
        let seen = match in_buf {
            Some(c) => Some(c),
            None => self.more.iter_mut().find(|(s, _)| *s == k),
        };
        match seen {
            Some((_, c)) => *c += 1,
            None => match self.buf.get_mut(self.len) {
                Some(slot) => {
                    *slot = (k, 1);
                    self.len += 1;
                }
                None => self.more.push((k, 1)),
            },
        }
    }

    fn iter(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.buf
            .iter()
            .take(self.len)
            .chain(self.more.iter())
            .copied()
    }
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field(
                "routes",
                &self.routes.iter().map(|r| &r.name).collect::<Vec<_>>(),
            )
            .field("keywords", &self.keywords.len())
            .field("options", &self.options)
            .finish()
    }
}

/// Builds a [`Router`].
#[derive(Debug, Clone, Default)]
pub struct RouterBuilder {
    options: RouterOptions,
    routes: Vec<RouteSpec>,
}

impl RouterBuilder {
    /// An empty builder with default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets all options.
    pub fn options(mut self, options: RouterOptions) -> Self {
        self.options = options;
        self
    }

    /// Sets the threshold (0..1).
    pub fn threshold(mut self, threshold: f64) -> Self {
        self.options.threshold = threshold;
        self
    }

    /// Sets the default route's name.
    pub fn default_route(mut self, name: impl Into<String>) -> Self {
        self.options.default_route = name.into();
        self
    }

    /// Adds a route of weight 1 whose keywords each weigh 1.
    pub fn route<I, S>(self, name: impl Into<String>, keywords: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let keywords = keywords
            .into_iter()
            .map(|k| KeywordSpec::Plain(k.into()))
            .collect();
        self.route_spec(RouteSpec {
            name: name.into(),
            weight: 1.0,
            description: String::new(),
            keywords,
        })
    }

    /// Adds a route with weights.
    pub fn route_spec(mut self, spec: RouteSpec) -> Self {
        self.routes.push(spec);
        self
    }

    /// Checks the routes and compiles their keywords into one automaton.
    pub fn build(self) -> Result<Router> {
        let bad = |m: String| Err(Error::Table(m));
        if !(0.0..1.0).contains(&self.options.threshold) {
            return bad(format!(
                "threshold {} is outside 0..1",
                self.options.threshold
            ));
        }
        if self.options.default_route.trim().is_empty() {
            return bad("the default route has no name".into());
        }
        let mut routes = Vec::new();
        let mut keywords: Vec<KeywordEntry> = Vec::new();
        let mut by_folded: HashMap<String, usize> = HashMap::new();
        for (ri, spec) in self.routes.iter().enumerate() {
            if spec.name.trim().is_empty() {
                return bad(format!("route #{} has no name", ri + 1));
            }
            if routes.iter().any(|r: &RouteEntry| r.name == spec.name) {
                return bad(format!("route {:?} appears twice", spec.name));
            }
            if !(spec.weight.is_finite() && spec.weight > 0.0) {
                return bad(format!("route {:?}: weight must be > 0", spec.name));
            }
            if spec.keywords.is_empty() {
                return bad(format!("route {:?} has no keywords", spec.name));
            }
            let route_id = u32::try_from(ri).map_err(|_| Error::Table("too many routes".into()))?;
            for k in &spec.keywords {
                let (text, weight) = k.parts();
                let text = text.trim();
                if text.is_empty() {
                    return bad(format!("route {:?} has an empty keyword", spec.name));
                }
                if !(weight.is_finite() && weight > 0.0) {
                    return bad(format!(
                        "route {:?}, keyword {text:?}: weight must be > 0",
                        spec.name
                    ));
                }
                let folded = crate::text::fold_pattern(text, CaseFolding::Unicode);
                let slot = *by_folded.entry(folded).or_insert_with(|| {
                    keywords.push(KeywordEntry {
                        text: text.to_owned(),
                        hits: Vec::new(),
                    });
                    keywords.len() - 1
                });
                let Some(entry) = keywords.get_mut(slot) else {
                    continue;
                };
                match entry.hits.iter().find(|(r, _)| *r == route_id) {
                    Some((_, w)) if (*w - weight).abs() > f64::EPSILON => {
                        return bad(format!(
                            "route {:?}: keyword {text:?} is listed twice with different weights",
                            spec.name
                        ));
                    }
                    Some(_) => {}
                    None => entry.hits.push((route_id, weight)),
                }
            }
            routes.push(RouteEntry {
                name: spec.name.clone(),
                weight: spec.weight,
            });
        }
        let engine = self.options.engine;
        let search = |pairs: Vec<(&str, u32)>| -> Result<Option<KeywordSet<u32>>> {
            if pairs.is_empty() {
                return Ok(None);
            }
            KeywordSet::builder()
                .match_kind(MatchKind::Overlapping)
                .case_folding(CaseFolding::Unicode)
                .whole_words(true)
                .engine(engine)
                .build(pairs)
                .map(Some)
        };
        let all: Vec<(&str, u32)> = keywords
            .iter()
            .enumerate()
            .map(|(i, k)| (k.text.as_str(), i as u32))
            .collect();
        let mut words = WordIndex::default();
        let mut others = Vec::new();
        for &(text, slot) in &all {
            let folded = crate::text::fold_pattern(text, CaseFolding::Unicode);
            if WordIndex::is_word(&folded) {
                words
                    .patterns
                    .push(&folded)
                    .ok_or_else(|| Error::Table("keywords too long".into()))?;
                words.slots.push(slot);
                words.min_len = words.min_len.min(folded.len());
                words.max_len = words.max_len.max(folded.len());
            } else {
                others.push((text, slot));
            }
        }
        words.index = crate::index::ExactIndex::build(&words.patterns);
        let phrases = search(others)?;
        let set = search(all)?;
        Ok(Router {
            options: self.options,
            routes,
            keywords,
            set,
            words,
            phrases,
        })
    }
}

impl Router {
    /// A builder for a router.
    pub fn builder() -> RouterBuilder {
        RouterBuilder::new()
    }

    /// The table shipped with the crate: security, database, performance, testing, debugging,
    /// documentation, devops, frontend, api-design, refactoring; default route `general`.
    pub fn default_routes() -> Router {
        Router::from_toml_str(DEFAULT_ROUTES_TOML).unwrap_or_else(|_| Router {
            options: RouterOptions::default(),
            routes: Vec::new(),
            keywords: Vec::new(),
            set: None,
            words: WordIndex::default(),
            phrases: None,
        })
    }

    /// A router from a [`RouteTable`].
    pub fn from_table(table: RouteTable) -> Result<Router> {
        let options = RouterOptions {
            threshold: table.threshold,
            default_route: table.default_route,
            ..RouterOptions::default()
        };
        table
            .routes
            .into_iter()
            .fold(RouterBuilder::new().options(options), |b, r| {
                b.route_spec(r)
            })
            .build()
    }

    /// A router from a TOML route table.
    pub fn from_toml_str(text: &str) -> Result<Router> {
        let table: RouteTable =
            toml::from_str(text).map_err(|e| Error::Table(format!("TOML: {e}")))?;
        Self::from_table(table)
    }

    /// A router from a JSON route table.
    pub fn from_json_str(text: &str) -> Result<Router> {
        let table: RouteTable =
            serde_json::from_str(text).map_err(|e| Error::Table(format!("JSON: {e}")))?;
        Self::from_table(table)
    }

    /// A router from a `.toml` or `.json` file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Router> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        let json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            || text.trim_start().starts_with('{');
        let r = if json {
            Self::from_json_str(&text)
        } else {
            Self::from_toml_str(&text)
        };
        r.map_err(|e| match e {
            Error::Table(m) => Error::Table(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// The route names in table order.
    pub fn route_names(&self) -> impl Iterator<Item = &str> {
        self.routes.iter().map(|r| r.name.as_str())
    }

    /// The number of distinct keywords.
    pub fn keyword_count(&self) -> usize {
        self.keywords.len()
    }

    /// The options.
    pub fn options(&self) -> &RouterOptions {
        &self.options
    }

    /// Ranks the routes for `query`.
    pub fn rank(&self, query: &str) -> Ranking<'_> {
        let mut counts = Counts::new();
        if query.is_ascii() {
            self.count_ascii(query.as_bytes(), &mut counts);
        } else {
            self.count_all(query, &mut counts);
        }
        self.score(query, &counts)
    }

    /// Counts the keywords of any query through the automaton of all keywords.
    fn count_all(&self, query: &str, counts: &mut Counts) {
        if let Some(set) = &self.set {
            for m in set.find_iter(query) {
                counts.add(*m.value());
            }
        }
    }

    /// Counts the keywords of an ASCII query: its words through the word index, the other
    /// keywords through their automaton, merged in the order of the matches' ends (the order
    /// the whole automaton reports them in).
    fn count_ascii(&self, q: &[u8], counts: &mut Counts) {
        let mut phrase_iter = self.phrases.as_ref().map(|p| p.find_iter(q));
        let mut pending = phrase_iter.as_mut().and_then(|it| it.next());
        let (min_len, max_len) = (self.words.min_len, self.words.max_len);
        // One pass: each word is lowercased while it is scanned; words whose length no word
        // keyword has are never hashed.
        let mut lower = [0u8; 64];
        let mut long = Vec::new();
        let mut len = 0usize;
        for end in 0..=q.len() {
            if let Some(&b) = q.get(end) {
                if crate::text::ASCII_WORD[(b & 0x7f) as usize] {
                    if let Some(d) = lower.get_mut(len) {
                        *d = b.to_ascii_lowercase();
                    }
                    len += 1;
                    continue;
                }
            }
            if len == 0 {
                continue;
            }
            let n = std::mem::take(&mut len);
            if n < min_len || n > max_len {
                continue;
            }
            let key: &[u8] = match lower.get(..n) {
                Some(k) => k,
                None => {
                    long.clear();
                    long.extend_from_slice(q.get(end - n..end).unwrap_or_default());
                    long.make_ascii_lowercase();
                    &long
                }
            };
            if let Some(slot) = self.words.find(key) {
                while let Some(m) = pending.as_ref().filter(|m| m.end() <= end) {
                    counts.add(*m.value());
                    pending = phrase_iter.as_mut().and_then(|it| it.next());
                }
                counts.add(slot);
            }
        }
        while let Some(m) = pending {
            counts.add(*m.value());
            pending = phrase_iter.as_mut().and_then(|it| it.next());
        }
    }

    /// Scores and orders the routes from the keyword counts.
    fn score(&self, query: &str, counts: &Counts) -> Ranking<'_> {
        let counts = || counts.iter();
        let mut evidence_buf = [0.0f64; 32];
        let mut evidence_vec = Vec::new();
        let evidence: &mut [f64] = if self.routes.len() <= evidence_buf.len() {
            evidence_buf
                .get_mut(..self.routes.len())
                .unwrap_or_default()
        } else {
            evidence_vec.resize(self.routes.len(), 0.0);
            &mut evidence_vec
        };
        for (slot, count) in counts() {
            if let Some(entry) = self.keywords.get(slot as usize) {
                let repeat = 1.0 + 0.5 * f64::from(count).ln();
                for &(r, w) in &entry.hits {
                    if let Some(e) = evidence.get_mut(r as usize) {
                        *e += w * repeat;
                    }
                }
            }
        }
        let long = self.options.long_query_bytes.max(1) as f64;
        let norm = (query.len() as f64 / long).max(1.0).sqrt();
        // Score and order first (small pairs, on the stack for up to 32 routes), then build
        // the ranked routes in order, so the larger route records are never moved by the sort.
        let mut order_buf = [(0.0f64, 0usize); 32];
        let mut order_len = 0usize;
        let mut order_more: Vec<(f64, usize)> = Vec::new();
        for (ri, (route, ev)) in self.routes.iter().zip(evidence.iter()).enumerate() {
            if *ev <= 0.0 {
                continue;
            }
            let x = ev * route.weight / norm;
            let score = x / (1.0 + x);
            if score < self.options.threshold {
                continue;
            }
            match order_buf.get_mut(order_len) {
                Some(slot) if order_more.is_empty() => {
                    *slot = (score, ri);
                    order_len += 1;
                }
                _ => {
                    if order_more.is_empty() {
                        order_more
                            .extend_from_slice(order_buf.get(..order_len).unwrap_or_default());
                    }
                    order_more.push((score, ri));
                }
            }
        }
        let order: &mut [(f64, usize)] = if order_more.is_empty() {
            order_buf.get_mut(..order_len).unwrap_or_default()
        } else {
            &mut order_more
        };
        // Stable: ties keep table order.
        order.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut ranked: Vec<RankedRoute<'_>> = Vec::with_capacity(order.len());
        for &(score, ri) in order.iter() {
            let Some(route) = self.routes.get(ri) else {
                continue;
            };
            let mut keywords = KeywordList::new();
            for k in counts()
                .filter_map(|(slot, _)| self.keywords.get(slot as usize))
                .filter(|k| k.hits.iter().any(|&(r, _)| r as usize == ri))
            {
                keywords.push(&k.text);
            }
            ranked.push(RankedRoute {
                name: &route.name,
                score,
                keywords,
            });
        }
        match ranked.first() {
            Some(best) => Ranking {
                route: best.name,
                default_used: false,
                routes: ranked,
            },
            None => Ranking {
                route: &self.options.default_route,
                default_used: true,
                routes: ranked,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The ranking through the whole automaton, as for a non-ASCII query.
    fn rank_slow<'r>(r: &'r Router, q: &str) -> Ranking<'r> {
        let mut counts = Counts::new();
        r.count_all(q, &mut counts);
        r.score(q, &counts)
    }

    fn same(a: &Ranking<'_>, b: &Ranking<'_>) -> std::result::Result<(), TestCaseError> {
        prop_assert_eq!(a.route, b.route);
        prop_assert_eq!(a.default_used, b.default_used);
        prop_assert_eq!(a.routes.len(), b.routes.len());
        for (x, y) in a.routes.iter().zip(&b.routes) {
            prop_assert_eq!(x.name, y.name);
            prop_assert!((x.score - y.score).abs() < 1e-12);
            let kx: Vec<&str> = x.keywords.iter().copied().collect();
            let ky: Vec<&str> = y.keywords.iter().copied().collect();
            prop_assert_eq!(kx, ky);
        }
        Ok(())
    }

    fn keyword() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-cA-C_0-9]{1,4}",
            "[a-c]{1,3} [a-c]{1,3}",
            "[a-c]{1,2}[-.+#][a-c]{0,2}",
            "[.#][a-c]{1,3}",
            "[a-c\\u{212A}\\u{e9}]{1,3}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        /// The word-by-word path for ASCII queries ranks exactly as the whole automaton does.
        #[test]
        fn ascii_word_path_matches_the_automaton(
            routes in prop::collection::vec(prop::collection::vec(keyword(), 1..6), 1..4),
            query in "[a-cA-CkK_0-9 .#+-]{0,40}",
        ) {
            let mut b = Router::builder().threshold(0.0);
            for (i, kws) in routes.iter().enumerate() {
                b = b.route(format!("r{i}"), kws.clone());
            }
            let r = match b.build() {
                Ok(r) => r,
                Err(_) => return Ok(()),
            };
            same(&r.rank(&query), &rank_slow(&r, &query))?;
        }
    }

    #[test]
    fn long_words_and_phrases_are_counted() {
        let long = "x".repeat(80);
        let r = Router::builder()
            .route("a", [long.as_str(), "unit test", "c++"])
            .build()
            .unwrap();
        let q = format!("{} a unit test in C++ {}", long.to_uppercase(), long);
        same(&r.rank(&q), &rank_slow(&r, &q)).unwrap();
        let k: Vec<&str> = r.rank(&q).routes[0].keywords.iter().copied().collect();
        assert_eq!(k, vec![long.as_str(), "unit test", "c++"]);
    }
}
