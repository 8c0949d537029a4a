//! Response templates: responses that share most of their text are stored as one template
//! (the shared text, once) plus the differing slots of each response; reconstruction is exact.

use crate::{Error, Result, Tokenizer};

/// Identifies a response in a [`TemplateStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResponseId(usize);

/// A template: literal pieces with a slot before, between and after them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Template {
    pieces: Vec<String>,
    members: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Stored {
    template: usize,
    /// `pieces.len() + 1` slot values.
    slots: Vec<String>,
}

/// Token figures of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TemplateStats {
    /// Responses stored.
    pub responses: usize,
    /// Templates learned.
    pub templates: usize,
    /// Tokens of all responses as given.
    pub raw_tokens: usize,
    /// Tokens kept: each template's literal text once, plus every response's slots.
    pub stored_tokens: usize,
}

impl TemplateStats {
    /// The fraction of tokens saved (0.0 to 1.0).
    pub fn saving(&self) -> f64 {
        if self.raw_tokens == 0 {
            0.0
        } else {
            1.0 - self.stored_tokens as f64 / self.raw_tokens as f64
        }
    }
}

/// Learns templates from responses and stores each response as a template plus slots.
///
/// ```
/// use token_opt::{Encoding, TemplateStore, Tokenizer};
///
/// let mut store = TemplateStore::new(Tokenizer::new(Encoding::O200k)?);
/// let first = "The build of crate alpha failed: 3 errors in src/lib.rs. Run cargo check for details.";
/// let a = store.insert(first);
/// let b = store.insert("The build of crate beta failed: 12 errors in src/main.rs. Run cargo check for details.");
/// assert_eq!(store.get(b)?, "The build of crate beta failed: 12 errors in src/main.rs. Run cargo check for details.");
/// assert_eq!(store.get(a)?, first);
/// assert_eq!(store.stats().templates, 1);
/// # Ok::<(), token_opt::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct TemplateStore {
    tokenizer: Tokenizer,
    templates: Vec<Template>,
    responses: Vec<Stored>,
    min_shared: f64,
    min_piece_chars: usize,
    raw_tokens: usize,
}

impl TemplateStore {
    /// An empty store: a response joins a template when at least 60% of its text is shared.
    pub fn new(tokenizer: Tokenizer) -> TemplateStore {
        TemplateStore {
            tokenizer,
            templates: Vec::new(),
            responses: Vec::new(),
            min_shared: 0.6,
            min_piece_chars: 6,
            raw_tokens: 0,
        }
    }

    /// The share of a response's text that must match a template (default 0.6).
    pub fn min_shared(mut self, fraction: f64) -> Self {
        self.min_shared = fraction.clamp(0.0, 1.0);
        self
    }

    /// Stores a response and returns its id.
    pub fn insert(&mut self, response: &str) -> ResponseId {
        self.raw_tokens += self.tokenizer.count(response);
        let id = self.responses.len();
        // 1. An existing template that already covers it.
        for t in (0..self.templates.len()).rev() {
            if let Some(slots) = encode(&self.templates[t].pieces, response) {
                let shared: usize = self.templates[t].pieces.iter().map(|p| p.len()).sum();
                if shared as f64 >= self.min_shared * response.len() as f64 {
                    self.templates[t].members.push(id);
                    self.responses.push(Stored { template: t, slots });
                    return ResponseId(id);
                }
            }
        }
        // 2. A template that can be generalised to cover it.
        for t in (0..self.templates.len()).rev() {
            let exemplar = self.reconstruct(self.templates[t].members[0]);
            let Some(pieces) = common_pieces(&exemplar, response, self.min_piece_chars) else {
                continue;
            };
            let shared: usize = pieces.iter().map(|p| p.len()).sum();
            if (shared as f64) < self.min_shared * response.len().max(exemplar.len()) as f64 {
                continue;
            }
            let members: Vec<(usize, String)> = self.templates[t]
                .members
                .iter()
                .map(|&m| (m, self.reconstruct(m)))
                .collect();
            let encoded: Option<Vec<Vec<String>>> = members
                .iter()
                .map(|(_, text)| encode(&pieces, text))
                .collect();
            let (Some(encoded), Some(slots)) = (encoded, encode(&pieces, response)) else {
                continue;
            };
            for ((m, _), s) in members.iter().zip(encoded) {
                self.responses[*m].slots = s;
            }
            self.templates[t].pieces = pieces;
            self.templates[t].members.push(id);
            self.responses.push(Stored { template: t, slots });
            return ResponseId(id);
        }
        // 3. A new template holding the whole response.
        self.templates.push(Template {
            pieces: vec![response.to_string()],
            members: vec![id],
        });
        self.responses.push(Stored {
            template: self.templates.len() - 1,
            slots: vec![String::new(), String::new()],
        });
        ResponseId(id)
    }

    /// The exact text of a stored response.
    pub fn get(&self, id: ResponseId) -> Result<String> {
        if id.0 >= self.responses.len() {
            return Err(Error::Invalid(format!("no response with id {}", id.0)));
        }
        Ok(self.reconstruct(id.0))
    }

    fn reconstruct(&self, id: usize) -> String {
        let r = &self.responses[id];
        let pieces = &self.templates[r.template].pieces;
        let mut out = String::new();
        for (i, slot) in r.slots.iter().enumerate() {
            out.push_str(slot);
            if let Some(p) = pieces.get(i) {
                out.push_str(p);
            }
        }
        out
    }

    /// Token figures: raw tokens against template text once plus slots.
    pub fn stats(&self) -> TemplateStats {
        let tok = &self.tokenizer;
        let literal: usize = self
            .templates
            .iter()
            .map(|t| t.pieces.iter().map(|p| tok.count(p)).sum::<usize>())
            .sum();
        let slots: usize = self
            .responses
            .iter()
            .map(|r| r.slots.iter().map(|s| tok.count(s)).sum::<usize>())
            .sum();
        TemplateStats {
            responses: self.responses.len(),
            templates: self.templates.len(),
            raw_tokens: self.raw_tokens,
            stored_tokens: literal + slots,
        }
    }
}

/// Slot values that rebuild `text` from `pieces` (each piece found in order), if any.
fn encode(pieces: &[String], text: &str) -> Option<Vec<String>> {
    let mut slots = Vec::with_capacity(pieces.len() + 1);
    let mut pos = 0usize;
    for p in pieces {
        let at = text[pos..].find(p.as_str())? + pos;
        slots.push(text[pos..at].to_string());
        pos = at + p.len();
    }
    slots.push(text[pos..].to_string());
    Some(slots)
}

/// Splits into word, whitespace and punctuation pieces (byte ranges).
fn words(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut prev: Option<u8> = None;
    for (i, ch) in s.char_indices() {
        let class = if ch.is_alphanumeric() || ch == '_' {
            0
        } else if ch.is_whitespace() {
            1
        } else {
            2
        };
        if let Some(p) = prev {
            if p != class || class == 2 {
                out.push((start, i));
                start = i;
            }
        }
        prev = Some(class);
    }
    if start < s.len() {
        out.push((start, s.len()));
    }
    out
}

/// The text shared by `a` and `b` in order (longest common subsequence of words), as runs of
/// at least `min_chars` characters; `None` when the texts are too long to align cheaply.
fn common_pieces(a: &str, b: &str, min_chars: usize) -> Option<Vec<String>> {
    let wa = words(a);
    let wb = words(b);
    let (n, m) = (wa.len(), wb.len());
    if n == 0 || m == 0 || n.saturating_mul(m) > 4_000_000 {
        return None;
    }
    let eq = |i: usize, j: usize| a[wa[i].0..wa[i].1] == b[wb[j].0..wb[j].1];
    // LCS lengths, suffix form.
    let w = m + 1;
    let mut dp = vec![0u32; (n + 1) * w];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            dp[i * w + j] = if eq(i, j) {
                dp[(i + 1) * w + j + 1] + 1
            } else {
                dp[(i + 1) * w + j].max(dp[i * w + j + 1])
            };
        }
    }
    // Walk the alignment; consecutive matches in both texts form a run.
    let mut pieces: Vec<String> = Vec::new();
    let (mut i, mut j) = (0usize, 0usize);
    let mut run: Option<(usize, usize)> = None; // byte range in `a`
    while i < n && j < m {
        if eq(i, j) && dp[i * w + j] == dp[(i + 1) * w + j + 1] + 1 {
            run = match run {
                Some((s, e)) if e == wa[i].0 => Some((s, wa[i].1)),
                Some((s, e)) => {
                    pieces.push(a[s..e].to_string());
                    Some(wa[i])
                }
                None => Some(wa[i]),
            };
            i += 1;
            j += 1;
        } else {
            if let Some((s, e)) = run.take() {
                pieces.push(a[s..e].to_string());
            }
            if dp[(i + 1) * w + j] >= dp[i * w + j + 1] {
                i += 1;
            } else {
                j += 1;
            }
        }
    }
    if let Some((s, e)) = run {
        pieces.push(a[s..e].to_string());
    }
    pieces.retain(|p| p.chars().count() >= min_chars);
    (!pieces.is_empty()).then_some(pieces)
}
