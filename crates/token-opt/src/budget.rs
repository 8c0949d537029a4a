//! Budget fitting: choose and trim scored chunks so the joined result fits a token budget.

use crate::Tokenizer;

/// A candidate piece of context with its relevance score.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    /// The text.
    pub text: String,
    /// Relevance: higher is chosen first.
    pub score: f64,
}

impl Chunk {
    /// A chunk.
    pub fn new(text: impl Into<String>, score: f64) -> Chunk {
        Chunk {
            text: text.into(),
            score,
        }
    }
}

/// A chunk that made it into the selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    /// Its position in the input.
    pub index: usize,
    /// Its text, possibly trimmed to its first lines.
    pub text: String,
    /// Its tokens on its own.
    pub tokens: usize,
    /// Whether lines were cut from its end.
    pub trimmed: bool,
}

/// The chosen chunks, in input order, and what they cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The chosen chunks in input order.
    pub chunks: Vec<Selected>,
    /// Tokens of [`Selection::joined`], recounted with the real tokenizer.
    pub tokens_used: usize,
    /// The budget asked for.
    pub budget: usize,
    /// The separator placed between chunks.
    pub separator: String,
}

impl Selection {
    /// The chunks joined with the separator: the text whose tokens are `tokens_used`.
    pub fn joined(&self) -> String {
        self.chunks
            .iter()
            .map(|c| c.text.as_str())
            .collect::<Vec<_>>()
            .join(&self.separator)
    }
}

/// Fits scored chunks into a token budget: best first, whole chunks while they fit, then the
/// next chunk trimmed at a line boundary, then any smaller chunk that still fits. The result is
/// recounted with the real tokenizer and is always within budget.
///
/// ```
/// use token_opt::{BudgetFitter, Chunk, Encoding, Tokenizer};
///
/// let fitter = BudgetFitter::new(Tokenizer::new(Encoding::O200k)?);
/// let chunks = vec![
///     Chunk::new("fn a() {}\nfn b() {}\n", 0.9),
///     Chunk::new("struct S;\n".repeat(50), 0.5),
/// ];
/// let sel = fitter.fit(&chunks, 40);
/// assert!(sel.tokens_used <= 40);
/// assert_eq!(sel.chunks[0].index, 0);
/// # Ok::<(), token_opt::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BudgetFitter {
    tokenizer: Tokenizer,
    separator: String,
    min_trimmed_tokens: usize,
}

impl BudgetFitter {
    /// A fitter that joins chunks with a blank line.
    pub fn new(tokenizer: Tokenizer) -> BudgetFitter {
        BudgetFitter {
            tokenizer,
            separator: "\n\n".into(),
            min_trimmed_tokens: 8,
        }
    }

    /// Sets the separator placed between chunks (counted in the budget).
    pub fn separator(mut self, separator: impl Into<String>) -> Self {
        self.separator = separator.into();
        self
    }

    /// A trimmed chunk must keep at least this many tokens, else it is left out (default 8).
    pub fn min_trimmed_tokens(mut self, tokens: usize) -> Self {
        self.min_trimmed_tokens = tokens;
        self
    }

    /// Chooses and trims `chunks` to fit `budget` tokens.
    pub fn fit(&self, chunks: &[Chunk], budget: usize) -> Selection {
        let tok = &self.tokenizer;
        let sep_tokens = tok.count(&self.separator);
        let mut order: Vec<usize> = (0..chunks.len()).collect();
        order.sort_by(|&a, &b| {
            chunks[b]
                .score
                .partial_cmp(&chunks[a].score)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.cmp(&b))
        });
        let mut chosen: Vec<Selected> = Vec::new();
        let mut used = 0usize;
        for &i in &order {
            let cost_sep = if chosen.is_empty() { 0 } else { sep_tokens };
            if used + cost_sep >= budget {
                break;
            }
            let room = budget - used - cost_sep;
            let text = &chunks[i].text;
            if let Some(n) = tok.count_up_to(text, room) {
                if n == 0 {
                    continue;
                }
                chosen.push(Selected {
                    index: i,
                    text: text.clone(),
                    tokens: n,
                    trimmed: false,
                });
                used += cost_sep + n;
                continue;
            }
            if room < self.min_trimmed_tokens {
                continue;
            }
            if let Some((t, n)) = self.trim_lines(text, room) {
                if n >= self.min_trimmed_tokens {
                    chosen.push(Selected {
                        index: i,
                        text: t,
                        tokens: n,
                        trimmed: true,
                    });
                    used += cost_sep + n;
                }
            }
        }
        chosen.sort_by_key(|c| c.index);
        let mut sel = Selection {
            chunks: chosen,
            tokens_used: 0,
            budget,
            separator: self.separator.clone(),
        };
        // Joining can merge tokens across the separator; recount and cut until it fits.
        loop {
            let total = tok.count(&sel.joined());
            if total <= budget {
                sel.tokens_used = total;
                return sel;
            }
            let over = total - budget;
            let Some(last) = sel
                .chunks
                .iter()
                .enumerate()
                .min_by(|a, b| {
                    chunks[a.1.index]
                        .score
                        .partial_cmp(&chunks[b.1.index].score)
                        .unwrap_or(std::cmp::Ordering::Equal)
                })
                .map(|(k, _)| k)
            else {
                sel.tokens_used = 0;
                return sel;
            };
            let c = &sel.chunks[last];
            match self.trim_lines(&c.text, c.tokens.saturating_sub(over.max(1))) {
                Some((t, n)) if n > 0 && t.len() < c.text.len() => {
                    sel.chunks[last].text = t;
                    sel.chunks[last].tokens = n;
                    sel.chunks[last].trimmed = true;
                }
                _ => {
                    sel.chunks.remove(last);
                }
            }
        }
    }

    /// The longest prefix of whole lines with at most `room` tokens (then as much of the next
    /// line as still fits), and its count.
    fn trim_lines(&self, text: &str, room: usize) -> Option<(String, usize)> {
        let ends: Vec<usize> = text
            .match_indices('\n')
            .map(|(i, _)| i + 1)
            .chain(std::iter::once(text.len()))
            .collect();
        // Binary search over the number of lines kept.
        let (mut lo, mut hi) = (0usize, ends.len());
        let mut best: Option<(usize, usize)> = None;
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            let prefix = &text[..ends[mid - 1]];
            match self.tokenizer.count_up_to(prefix, room) {
                Some(n) => {
                    best = Some((ends[mid - 1], n));
                    lo = mid;
                }
                None => hi = mid - 1,
            }
        }
        // Fill what whole lines leave of `room` with the next line cut at a token boundary, so
        // a small budget is not left a line short; kept only if the whole still fits.
        let (end, n) = best.unwrap_or((0, 0));
        if n < room && end < text.len() {
            let next_end = text[end..].find('\n').map_or(text.len(), |k| end + k);
            let part = self.tokenizer.truncate_to(&text[end..next_end], room - n);
            if !part.is_empty() {
                let candidate = format!("{}{part}", &text[..end]);
                if let Some(m) = self.tokenizer.count_up_to(&candidate, room) {
                    if m > n {
                        return Some((candidate, m));
                    }
                }
            }
        }
        best.map(|(end, n)| (text[..end].to_string(), n))
    }
}
