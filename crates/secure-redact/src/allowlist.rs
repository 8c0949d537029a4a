//! Allowlists: built-in placeholder detection (`EXAMPLE`, `xxxx`, `${VAR}`, `{{ var }}`,
//! `<your-key>`, `changeme`, repeated characters, test fixtures) and user allowlists (regexes on
//! the secret, stop words, path patterns).

use crate::validate::ByteStats;
use crate::{Error, Result};
use regex_automata::meta::Regex;

/// Values that are placeholders, not secrets. Checked on the captured secret of every rule.
pub fn is_placeholder(secret: &[u8]) -> bool {
    is_placeholder_with(secret, None)
}

/// [`is_placeholder`], with the secret's byte counts when they are already known (a rule with
/// a minimum entropy has just counted them): the low-variety test is then read off them
/// instead of another pass over the secret. The cheap tests go first.
pub(crate) fn is_placeholder_with(secret: &[u8], stats: Option<&ByteStats>) -> bool {
    if secret.is_empty() {
        return true;
    }
    let n = secret.len();
    let low = match stats {
        Some(st) => low_variety_by(n, || st.distinct <= 3, || st.max_count as usize * 2 > n),
        None => low_variety(secret),
    };
    low || (n <= EXACT_MAX && EXACT.iter().any(|w| w.eq_ignore_ascii_case(secret)))
        || has_placeholder_word(secret)
}

/// Whether `s` holds one of the placeholder words, ASCII case-insensitively. Secrets are short
/// (tens of bytes), so instead of an automaton's start-up per call this walks the secret once:
/// each byte maps to a small code (0 for bytes that start no word's first two bytes) and to a
/// row of 64 bits, one per code that may follow it in a word, and whole words are compared only
/// where a pair starts some word; one-byte words are a flag on their code. Rows are looked up
/// by the byte itself, so the walk carries no chain of loads from one byte to the next.
fn has_placeholder_word(s: &[u8]) -> bool {
    let t = word_table();
    let (code, row_of) = (&t.code, &t.row);
    let Some((&first, rest)) = s.split_first() else {
        return false;
    };
    if code[usize::from(first)] & SINGLE != 0 {
        return true;
    }
    let mut row = row_of[usize::from(first)];
    for (i, &b) in rest.iter().enumerate() {
        let c = code[usize::from(b)];
        // One-byte words have their bit in every row: one test per byte.
        if row >> (c & CODE) & 1 != 0
            && (c & SINGLE != 0 || t.word_at(&s[i..], code[usize::from(s[i])], c))
        {
            return true;
        }
        row = row_of[usize::from(b)];
    }
    false
}

/// Flag on a byte's code: the byte is a one-byte word.
const SINGLE: u8 = 0x80;
/// The code proper (0: the byte is neither of the first two bytes of any word).
const CODE: u8 = 0x3f;

// Word indexes in `WordTable::first` are bytes, `u8::MAX` meaning none.
const _: () = assert!(WORDS.len() < u8::MAX as usize);

/// [`WORDS`] by the codes of their first two bytes.
struct WordTable {
    /// Per byte, its code (both cases of a letter share one), with [`SINGLE`] for one-byte
    /// words (whose code has its bit in every row).
    code: [u8; 256],
    /// Per byte, one bit per code of a second byte that starts a word after it (the row of
    /// the byte's code; one-byte words have their bit in every row).
    row: [u64; 256],
    /// The words of two bytes or more with the codes of their first two bytes, sorted.
    words: Vec<((u8, u8), &'static [u8])>,
    /// Per pair of codes `(a, b)` (at `a << 6 | b`), where its words start in `words`.
    first: Box<[u8; 4096]>,
}

impl WordTable {
    /// Whether a word whose first two bytes have codes `(a, b)` starts `s`.
    fn word_at(&self, s: &[u8], a: u8, b: u8) -> bool {
        let key = (a & CODE, b & CODE);
        let from = usize::from(self.first[usize::from(key.0) << 6 | usize::from(key.1)]);
        self.words
            .get(from..)
            .unwrap_or(&[])
            .iter()
            .take_while(|(k, _)| *k == key)
            .any(|(_, w)| s.get(..w.len()).is_some_and(|x| x.eq_ignore_ascii_case(w)))
    }
}

fn word_table() -> &'static WordTable {
    static T: std::sync::OnceLock<WordTable> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        // Per code of a first byte, one bit per code of a second byte that starts a word.
        let mut pairs = [0u64; 64];
        let mut t = WordTable {
            code: [0; 256],
            words: Vec::new(),
            first: Box::new([u8::MAX; 4096]),
            row: [0; 256],
        };
        let mut next = 1u8;
        // Codes run out at 63 (there are far fewer such bytes): later bytes share the last
        // code, which only makes the pair test less selective, never wrong.
        let mut code_of = |t: &mut WordTable, b: u8| -> u8 {
            let l = b.to_ascii_lowercase();
            let c = t.code[usize::from(l)] & CODE;
            if c != 0 {
                return c;
            }
            let c = next;
            next = (next + 1).min(CODE);
            for x in [l, l.to_ascii_uppercase()] {
                t.code[usize::from(x)] |= c;
            }
            c
        };
        for &w in WORDS {
            match *w {
                [a] => {
                    let c = code_of(&mut t, a);
                    for x in [a.to_ascii_lowercase(), a.to_ascii_uppercase()] {
                        t.code[usize::from(x)] |= SINGLE;
                    }
                    for row in &mut pairs {
                        *row |= 1 << c;
                    }
                }
                [a, b, ..] => {
                    let (ca, cb) = (code_of(&mut t, a), code_of(&mut t, b));
                    pairs[usize::from(ca)] |= 1 << cb;
                    t.words.push(((ca, cb), w));
                }
                [] => {}
            }
        }
        t.words.sort_unstable();
        for b in 0..256 {
            t.row[b] = pairs[usize::from(t.code[b] & CODE)];
        }
        for (i, ((a, b), _)) in t.words.iter().enumerate().rev() {
            t.first[usize::from(*a) << 6 | usize::from(*b)] = u8::try_from(i).unwrap_or(u8::MAX);
        }
        t
    })
}

const WORDS: &[&[u8]] = &[
    b"example",
    b"xxxx",
    b"****",
    b"....",
    b"${",
    b"{{",
    b"}}",
    b"$(",
    b"%(",
    b"<",
    b">",
    b"changeme",
    b"change_me",
    b"change-me",
    b"changeit",
    b"your_",
    b"your-",
    b"yourkey",
    b"yourtoken",
    b"yoursecret",
    b"placeholder",
    b"dummy",
    b"redacted",
    b"replace_me",
    b"replaceme",
    b"replace-me",
    b"insert_",
    b"insert-",
    b"sample",
    b"fake_",
    b"fake-",
    b"fakekey",
    b"faketoken",
    b"not_a_real",
    b"not-a-real",
    b"notreal",
    b"abcdefghij",
    b"bcdefghijk",
    b"qwertyuiop",
    b"put_your",
    b"put-your",
    b"_here",
    b"-here",
    b"todo",
    b"fixme",
    b"lorem",
    b"ipsum",
    b"mysecret",
    b"my-secret",
    b"my_secret",
    b"secretkey123",
    b"password123",
    b"hunter2",
    b"opensesame",
    b"qwxhzgrpbjpvcgvuc2vzyw1l",
    b"foobar",
    b"0000000000",
];

/// The longest of [`EXACT`] (longer secrets need no comparison).
const EXACT_MAX: usize = {
    let mut i = 0;
    let mut m = 0;
    while i < EXACT.len() {
        if EXACT[i].len() > m {
            m = EXACT[i].len();
        }
        i += 1;
    }
    m
};

const EXACT: &[&[u8]] = &[
    b"foo",
    b"bar",
    b"baz",
    b"password",
    b"passwd",
    b"pass",
    b"secret",
    b"token",
    b"apikey",
    b"api_key",
    b"username",
    b"user",
    b"admin",
    b"root",
    b"test",
    b"testing",
    b"postgres",
    b"mysql",
    b"guest",
    b"default",
    b"none",
    b"null",
    b"undefined",
    b"string",
    b"value",
    b"true",
    b"false",
    b"pwd",
    b"mypassword",
    b"letmein",
    b"secret123",
    b"s3cr3t",
];

/// Mostly one repeated character, or very few distinct characters for the length.
fn low_variety(s: &[u8]) -> bool {
    low_variety_by(s.len(), || at_most_three_distinct(s), || has_majority(s))
}

/// The low-variety test of a value of `n` bytes, given how to tell whether it holds at most
/// three distinct bytes and whether one byte fills more than half of it (each asked only
/// when the length calls for it).
fn low_variety_by(n: usize, few: impl FnOnce() -> bool, majority: impl FnOnce() -> bool) -> bool {
    n >= 8 && (few() || (n >= 12 && majority()))
}

/// Whether `s` holds three distinct bytes or fewer; stops at the fourth (a few bytes into a
/// random value).
fn at_most_three_distinct(s: &[u8]) -> bool {
    let Some(&first) = s.first() else {
        return true;
    };
    let mut seen = [first; 3];
    let mut k = 1;
    s.iter().all(|&b| {
        if seen[..k].contains(&b) {
            return true;
        }
        if k == 3 {
            return false;
        }
        seen[k] = b;
        k += 1;
        true
    })
}

/// Whether one byte fills more than half of `s`, without a histogram. Pair the bytes up
/// (`s[0]s[1]`, `s[2]s[3]`, ...): a byte `x` in more than half the places of the even-length
/// part fills both places of more pairs than there are pairs without it, so it is the majority
/// of the equal pairs' bytes (a Boyer-Moore vote finds it). For an odd length, `x` is either
/// that or the last byte. The candidates are then counted.
fn has_majority(s: &[u8]) -> bool {
    let n = s.len();
    let (mut cand, mut votes) = (0u8, 0usize);
    for p in s.chunks_exact(2) {
        if p[0] == p[1] {
            if votes == 0 {
                cand = p[0];
            }
            votes = if cand == p[0] { votes + 1 } else { votes - 1 };
        }
    }
    let more_than_half = |x: u8| s.iter().filter(|&&b| b == x).count() * 2 > n;
    (votes > 0 && more_than_half(cand)) || (n % 2 == 1 && more_than_half(s[n - 1]))
}

/// A user allowlist: a finding is dropped when its secret matches one of `regexes` or contains
/// one of `stopwords`, or when the scanned path matches one of `paths`.
#[derive(Debug, Clone, Default)]
pub struct Allowlist {
    regexes: Vec<Regex>,
    stopwords: Vec<Vec<u8>>,
    paths: Vec<Regex>,
    sources: AllowlistSource,
}

/// The textual form of an [`Allowlist`] (what a config file holds).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AllowlistSource {
    /// Regexes matched against the secret (unanchored).
    pub regexes: Vec<String>,
    /// Case-insensitive substrings of the secret.
    pub stopwords: Vec<String>,
    /// Regexes matched against the path of the scanned source.
    pub paths: Vec<String>,
}

/// The syntax every rule, allowlist and path regex is read with: bytes, not text (no Unicode
/// classes, matches need not be UTF-8).
pub(crate) fn bytes_syntax() -> regex_automata::util::syntax::Config {
    regex_automata::util::syntax::Config::new()
        .unicode(false)
        .utf8(false)
}

/// The syntax tree of `p` read with [`bytes_syntax`].
pub(crate) fn parse_bytes(p: &str) -> Option<regex_syntax::hir::Hir> {
    regex_automata::util::syntax::parse_with(p, &bytes_syntax()).ok()
}

pub(crate) fn compile_bytes_regex(p: &str, what: &str) -> Result<Regex> {
    Regex::builder()
        .syntax(bytes_syntax())
        .build(p)
        .map_err(|e| Error::Pattern {
            what: what.to_string(),
            message: e.to_string(),
        })
}

impl Allowlist {
    /// An empty allowlist.
    pub fn new() -> Self {
        Self::default()
    }

    /// Compile an allowlist from its textual form.
    pub fn from_source(src: &AllowlistSource) -> Result<Self> {
        let mut a = Allowlist::new();
        a.extend(src)?;
        Ok(a)
    }

    /// Add every entry of `src`.
    pub fn extend(&mut self, src: &AllowlistSource) -> Result<()> {
        for r in &src.regexes {
            self.regexes
                .push(compile_bytes_regex(r, "allowlist regex")?);
            self.sources.regexes.push(r.clone());
        }
        for s in &src.stopwords {
            self.stopwords.push(s.as_bytes().to_ascii_lowercase());
            self.sources.stopwords.push(s.clone());
        }
        for p in &src.paths {
            self.paths.push(compile_bytes_regex(p, "allowlist path")?);
            self.sources.paths.push(p.clone());
        }
        Ok(())
    }

    /// Add a regex on the secret.
    pub fn regex(mut self, pattern: &str) -> Result<Self> {
        self.extend(&AllowlistSource {
            regexes: vec![pattern.to_string()],
            ..Default::default()
        })?;
        Ok(self)
    }

    /// Add a case-insensitive stop word.
    pub fn stopword(mut self, word: &str) -> Self {
        self.stopwords.push(word.as_bytes().to_ascii_lowercase());
        self.sources.stopwords.push(word.to_string());
        self
    }

    /// Add a regex on the scanned path.
    pub fn path(mut self, pattern: &str) -> Result<Self> {
        self.extend(&AllowlistSource {
            paths: vec![pattern.to_string()],
            ..Default::default()
        })?;
        Ok(self)
    }

    /// The textual form of this allowlist.
    pub fn source(&self) -> &AllowlistSource {
        &self.sources
    }

    /// True when the secret is allowed (not reported).
    pub fn allows_secret(&self, secret: &[u8]) -> bool {
        if self.regexes.iter().any(|r| r.is_match(secret)) {
            return true;
        }
        if self.stopwords.is_empty() {
            return false;
        }
        let lower = secret.to_ascii_lowercase();
        self.stopwords
            .iter()
            .any(|w| memchr::memmem::find(&lower, w).is_some())
    }

    /// True when the path is allowed (nothing in it is reported).
    pub fn allows_path(&self, path: &str) -> bool {
        self.paths.iter().any(|r| r.is_match(path.as_bytes()))
    }

    /// True when the allowlist has no entries.
    pub fn is_empty(&self) -> bool {
        self.regexes.is_empty() && self.stopwords.is_empty() && self.paths.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fragment() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::sample::select(WORDS.to_vec()).prop_map(<[u8]>::to_vec),
            prop::sample::select(WORDS.to_vec()).prop_map(|w| w.to_ascii_uppercase()),
            prop::sample::select(WORDS.to_vec()).prop_map(|w| w[..w.len() / 2 + 1].to_vec()),
            prop::collection::vec(any::<u8>(), 0..6),
            "[A-Za-z0-9_\\-]{0,8}".prop_map(String::into_bytes),
        ]
    }

    proptest! {
        /// The pair table finds a placeholder word exactly where a plain case-insensitive
        /// substring search over every word does.
        #[test]
        fn placeholder_words_match_reference(parts in prop::collection::vec(fragment(), 0..6)) {
            let s = parts.concat();
            let lower = s.to_ascii_lowercase();
            let want = WORDS.iter().any(|w| {
                let w = w.to_ascii_lowercase();
                lower.windows(w.len()).any(|x| x == w.as_slice())
            });
            prop_assert_eq!(has_placeholder_word(&s), want, "{:?}", String::from_utf8_lossy(&s));
        }
    }

    /// The histogram itself, for every input.
    fn low_variety_reference(s: &[u8]) -> bool {
        let mut counts = std::collections::HashMap::new();
        for &b in s {
            *counts.entry(b).or_insert(0usize) += 1;
        }
        let max = counts.values().copied().max().unwrap_or(0);
        (s.len() >= 8 && counts.len() <= 3) || (s.len() >= 12 && max * 2 > s.len())
    }

    /// Values where low variety is common (small alphabets), near the majority threshold (one
    /// byte in about 60% of the places among pairs of others, with other bytes' equal pairs
    /// before it), and alternations like `xaxax` (the odd-length edge).
    fn variety_samples() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::collection::vec(0u8..3, 0..40),
            prop::collection::vec(0u8..6, 0..40),
            prop::collection::vec(any::<u8>(), 0..40),
            (3u8..6, prop::collection::vec((0u8..10, 0u8..3), 12..40)).prop_map(|(x, v)| {
                v.into_iter()
                    .map(|(k, o)| if k < 6 { x } else { o })
                    .collect()
            }),
            (
                1usize..20,
                any::<u8>(),
                prop::collection::vec(any::<u8>(), 1..8)
            )
                .prop_map(|(k, x, o)| {
                    (0..2 * k + 1)
                        .map(|i| if i % 2 == 0 { x } else { o[i / 2 % o.len()] })
                        .collect()
                }),
        ]
    }

    proptest! {
        /// The histogram-free check gives the histogram's answer.
        #[test]
        fn low_variety_matches_reference(s in variety_samples()) {
            prop_assert_eq!(low_variety(&s), low_variety_reference(&s), "{:?}", s);
        }

        /// Reading the low-variety test off the byte counts (as a rule with a minimum entropy
        /// does) gives the plain answer, and that is the reference's.
        #[test]
        fn placeholder_with_counts_matches_plain(
            s in prop_oneof![
                variety_samples(),
                prop::collection::vec(fragment(), 0..4).prop_map(|p| p.concat()),
            ]
        ) {
            let st = crate::validate::byte_stats(&s);
            prop_assert_eq!(is_placeholder_with(&s, Some(&st)), is_placeholder(&s), "{:?}", s);
            prop_assert_eq!(is_placeholder_with(&s, None), low_variety_reference(&s)
                || has_placeholder_word(&s)
                || EXACT.iter().any(|w| w.eq_ignore_ascii_case(&s))
                || s.is_empty());
        }
    }

    #[test]
    fn placeholders() {
        for p in [
            "AKIAIOSFODNN7EXAMPLE",
            "xxxxxxxxxxxxxxxx",
            "${API_KEY}",
            "{{ token }}",
            "<your-key>",
            "changeme",
            "aaaaaaaaaaaaaaaa",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
        for s in [
            "q8Rz3kLm9Vt2Xw7Yp4Bn",
            "ghp_i6ueojowig3fjl1dzvq3uhfm0ig05bkhoiz6",
        ] {
            assert!(!is_placeholder(s.as_bytes()), "{s}");
        }
    }
}
