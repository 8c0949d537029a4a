//! Ranking: BM25F over three fields (path, symbol names, body) plus structure: definitions of
//! identifiers the query names, neighbours in the reference graph, the caller's route keywords,
//! and a prior that favours code over prose unless the query is about documentation.

use crate::index::{whole_term, FileKind, Index};
use crate::terms::{for_each_term, is_stopword};
use foldhash::HashMap;

/// A question about the tree, with optional extra keywords (for example a route's keywords
/// from keyword-trie) and their weights.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// The question, in any words; identifiers are split like code.
    pub text: String,
    /// Extra terms with weights (1.0 weighs like a query word).
    pub keywords: Vec<(String, f32)>,
}

impl Query {
    /// A query from its text.
    pub fn new(text: impl Into<String>) -> Query {
        Query {
            text: text.into(),
            keywords: Vec::new(),
        }
    }

    /// Adds extra keywords with a weight each.
    pub fn with_keywords<I, S>(mut self, keywords: I) -> Query
    where
        I: IntoIterator<Item = (S, f32)>,
        S: Into<String>,
    {
        self.keywords
            .extend(keywords.into_iter().map(|(k, w)| (k.into(), w)));
        self
    }
}

/// Ranking weights. Plain struct; the defaults are the ones measured best on the development
/// split of `cargo xtask eval-context` (see the README).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankOptions {
    /// BM25 term-frequency saturation.
    pub k1: f32,
    /// BM25 length normalisation of the body field.
    pub b: f32,
    /// Weight of a term occurrence in the body.
    pub body_weight: f32,
    /// Weight of a term occurrence in a defined symbol's name.
    pub symbol_weight: f32,
    /// Weight of a term in the file's path.
    pub path_weight: f32,
    /// Extra score for a chunk defining an identifier the query names (times the term's idf).
    pub definition_boost: f32,
    /// Share of a top chunk's score given to the chunks defining what it references.
    pub neighbour_weight: f32,
    /// How many top chunks spread score to their neighbours.
    pub neighbour_seeds: usize,
    /// Score multiplier for prose (Markdown, text) unless the query is about docs.
    pub doc_prior: f32,
    /// Score multiplier for configuration, data and unrecognised text files.
    pub config_prior: f32,
    /// Share of the file's best chunk score added to its other chunks (files as a whole matter).
    pub file_weight: f32,
}

impl Default for RankOptions {
    fn default() -> Self {
        RankOptions {
            k1: 1.2,
            b: 0.75,
            body_weight: 1.0,
            symbol_weight: 2.0,
            path_weight: 2.0,
            definition_boost: 1.0,
            neighbour_weight: 0.0,
            neighbour_seeds: 8,
            doc_prior: 0.25,
            config_prior: 0.5,
            file_weight: 0.0,
        }
    }
}

impl RankOptions {
    /// Plain BM25F without any structural signal or prior (for comparisons).
    pub fn lexical_only() -> RankOptions {
        RankOptions {
            definition_boost: 0.0,
            neighbour_weight: 0.0,
            doc_prior: 1.0,
            config_prior: 1.0,
            file_weight: 0.0,
            ..RankOptions::default()
        }
    }
}

/// A ranked chunk.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Global chunk id within the index.
    pub chunk: u32,
    /// Score: higher is more relevant.
    pub score: f32,
}

const DOC_WORDS: &[&str] = &[
    "doc",
    "docs",
    "documentation",
    "readme",
    "changelog",
    "guide",
    "tutorial",
    "manual",
    "markdown",
    "typo",
    "wording",
    "document",
];

/// Query terms with weights, and whole words that may name symbols.
fn query_terms(q: &Query) -> (Vec<(String, f32)>, Vec<String>, bool) {
    let mut w: HashMap<String, f32> = HashMap::default();
    let mut order: Vec<String> = Vec::new();
    let mut wholes: Vec<String> = Vec::new();
    let mut docs = false;
    let mut add = |t: &str, weight: f32, w: &mut HashMap<String, f32>| {
        let e = w.entry(t.to_string()).or_insert_with(|| {
            order.push(t.to_string());
            0.0
        });
        *e = (*e + weight).min(2.0 * weight.max(1.0));
    };
    for_each_term(&q.text, |t, part| {
        if DOC_WORDS.contains(&t) {
            docs = true;
        }
        if !part {
            if is_stopword(t) {
                return;
            }
            wholes.push(t.to_string());
        }
        add(t, if part { 0.7 } else { 1.0 }, &mut w);
    });
    for (k, kw) in &q.keywords {
        if *kw <= 0.0 {
            continue;
        }
        for_each_term(k, |t, part| {
            add(t, kw * if part { 0.7 } else { 1.0 }, &mut w);
        });
    }
    let terms = order
        .into_iter()
        .map(|t| {
            let weight = w.get(&t).copied().unwrap_or(1.0);
            (t, weight)
        })
        .collect();
    wholes.sort();
    wholes.dedup();
    (terms, wholes, docs)
}

/// The per-chunk arrays of one ranking. Between rankings `scores`, `stamp` and `file_mark`
/// are all zero; `tf` is only read where this query term wrote it.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    scores: Vec<f32>,
    stamp: Vec<u32>,
    tf: Vec<f32>,
    file_mark: Vec<u32>,
}

/// A spare [`Scratch`] kept by an index (cloning an index does not clone it).
#[derive(Debug, Default)]
pub(crate) struct ScratchCell(std::sync::Mutex<Option<Scratch>>);

impl Clone for ScratchCell {
    fn clone(&self) -> Self {
        ScratchCell::default()
    }
}

impl ScratchCell {
    /// Zeroed arrays for `chunks` chunks and `files` files: the spare ones when free and of
    /// the right size, else new ones.
    fn take(&self, chunks: usize, files: usize) -> Scratch {
        let spare = self.0.lock().ok().and_then(|mut g| g.take());
        match spare {
            Some(s) if s.scores.len() == chunks && s.file_mark.len() == files => s,
            _ => Scratch {
                scores: vec![0.0; chunks],
                stamp: vec![0; chunks],
                tf: vec![0.0; chunks],
                file_mark: vec![0; files],
            },
        }
    }

    /// Keeps `s` (cleared by the caller) for the next ranking.
    fn put(&self, s: Scratch) {
        if let Ok(mut g) = self.0.lock() {
            *g = Some(s);
        }
    }
}

impl Index {
    /// The distinct terms of chunk `id`'s body (read back from its file, which must still hold
    /// the indexed contents; the index keeps postings by term, not terms by chunk).
    fn body_terms(&self, id: u32) -> Vec<u32> {
        let Some((fi, ci)) = self.derived.locate(id) else {
            return Vec::new();
        };
        let Some(rec) = self
            .files
            .get(fi as usize)
            .and_then(|f| f.chunk(ci as usize))
        else {
            return Vec::new();
        };
        let Some(text) = self.current_text(fi) else {
            return Vec::new();
        };
        let body = text
            .get(rec.byte_start as usize..rec.byte_end as usize)
            .unwrap_or("");
        let mut out = Vec::new();
        for_each_term(body, |t, _| {
            if let Some(id) = self.dict.get(t) {
                out.push(id);
            }
        });
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Ranks the chunks for `query`, best first (chunks without any matching term are left out).
    pub fn rank(&self, query: &Query, opts: &RankOptions) -> Vec<Hit> {
        let d = &self.derived;
        let n = d.chunks();
        if n == 0 {
            return Vec::new();
        }
        let (qterms, wholes, docs_query) = query_terms(query);
        let nf = n as f32;
        // Per-chunk arrays reused from the last ranking when free (a fresh set of zero pages
        // otherwise); a stamp or file mark is set while one query term is scored, then cleared.
        let mut sc = self.scratch.take(n, self.files.len());
        let Scratch {
            scores,
            stamp,
            tf,
            file_mark,
        } = &mut sc;
        let mut touched: Vec<u32> = Vec::new();
        let mut idf_of: HashMap<u32, f32> = HashMap::default();
        for (t, qw) in &qterms {
            let Some(tid) = self.dict.get(t) else {
                continue;
            };
            let posts = self.postings.of(tid);
            let pfiles = d.path_of(tid);
            // Document frequency: the chunks with the term, plus every chunk of a file whose
            // path has it (counted while the postings are decoded, once).
            let mut df = 0usize;
            for &(_, f) in pfiles {
                file_mark[f as usize] = 1;
                df += (d.file_first[f as usize + 1] - d.file_first[f as usize]) as usize;
            }
            let mut local: Vec<u32> = Vec::new();
            let mut cursor = 0usize;
            for (c, b, s) in posts {
                df += 1;
                let Some((fi, _)) = d.locate_from(&mut cursor, c) else {
                    continue;
                };
                let len = f32::from(d.body_len.get(c as usize).copied().unwrap_or(0));
                let norm = 1.0 - opts.b + opts.b * len / d.avg_body;
                let mut v =
                    opts.body_weight * f32::from(b) / norm + opts.symbol_weight * f32::from(s);
                if file_mark[fi as usize] != 0 {
                    v += opts.path_weight;
                }
                tf[c as usize] = v;
                stamp[c as usize] = 1;
                local.push(c);
            }
            let df = (df as f32).min(nf);
            let idf = (1.0 + (nf - df + 0.5) / (df + 0.5)).ln();
            idf_of.insert(tid, idf);
            for &(_, f) in pfiles {
                file_mark[f as usize] = 0;
                for c in d.file_first[f as usize]..d.file_first[f as usize + 1] {
                    if stamp[c as usize] == 0 {
                        stamp[c as usize] = 1;
                        tf[c as usize] = opts.path_weight;
                        local.push(c);
                    }
                }
            }
            for c in local {
                stamp[c as usize] = 0;
                let v = tf[c as usize];
                let s = qw * idf * v * (opts.k1 + 1.0) / (v + opts.k1);
                if scores[c as usize] == 0.0 {
                    touched.push(c);
                }
                scores[c as usize] += s;
            }
        }
        // Definitions of identifiers the query names.
        if opts.definition_boost > 0.0 {
            for w in &wholes {
                let Some(tid) = whole_term(w).and_then(|t| self.dict.get(&t)) else {
                    continue;
                };
                let Some(cs) = d.defs.get(&tid) else { continue };
                if cs.len() > 8 {
                    continue;
                }
                let idf = idf_of.get(&tid).copied().unwrap_or(1.0);
                for &(_, c) in cs {
                    if scores[c as usize] == 0.0 {
                        touched.push(c);
                    }
                    scores[c as usize] += opts.definition_boost * idf;
                }
            }
        }
        // Priors.
        for &c in &touched {
            let Some((fi, _)) = d.locate(c) else { continue };
            let kind = self.files[fi as usize].kind;
            let prior = match kind {
                FileKind::Doc if !docs_query => opts.doc_prior,
                FileKind::Config | FileKind::Other => opts.config_prior,
                _ => 1.0,
            };
            scores[c as usize] *= prior;
        }
        // Neighbours in the reference graph: what the best chunks use.
        if opts.neighbour_weight > 0.0 && opts.neighbour_seeds > 0 {
            let mut seeds: Vec<u32> = touched.clone();
            seeds.sort_unstable_by(|a, b| scores[*b as usize].total_cmp(&scores[*a as usize]));
            seeds.truncate(opts.neighbour_seeds);
            let mut bonus: HashMap<u32, f32> = HashMap::default();
            for &s in &seeds {
                let base = scores[s as usize] * opts.neighbour_weight;
                for t in self.body_terms(s) {
                    let Some(cs) = d.defs.get(&t) else { continue };
                    if cs.len() > 3 || cs.iter().any(|p| p.1 == s) {
                        continue;
                    }
                    for &(_, c) in cs {
                        *bonus.entry(c).or_default() += base / cs.len() as f32;
                    }
                }
            }
            for (c, v) in bonus {
                if scores[c as usize] == 0.0 {
                    touched.push(c);
                }
                scores[c as usize] += v;
            }
        }
        // Files as a whole: each chunk gets a share of its file's best score.
        if opts.file_weight > 0.0 {
            let mut best: HashMap<u32, f32> = HashMap::default();
            for &c in &touched {
                let Some((f, _)) = d.locate(c) else { continue };
                let e = best.entry(f).or_default();
                *e = e.max(scores[c as usize]);
            }
            for &c in &touched {
                let Some((f, _)) = d.locate(c) else { continue };
                scores[c as usize] += opts.file_weight * best.get(&f).copied().unwrap_or(0.0);
            }
        }
        let mut hits: Vec<Hit> = touched
            .iter()
            .filter(|&&c| scores[c as usize] > 0.0)
            .map(|&c| Hit {
                chunk: c,
                score: scores[c as usize],
            })
            .collect();
        // Clear what this ranking wrote and hand the arrays back.
        for &c in &touched {
            scores[c as usize] = 0.0;
        }
        self.scratch.put(sc);
        hits.sort_unstable_by(|a, b| b.score.total_cmp(&a.score).then(a.chunk.cmp(&b.chunk)));
        hits
    }
}
