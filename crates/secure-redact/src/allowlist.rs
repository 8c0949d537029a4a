//! Allowlists: built-in placeholder detection (`EXAMPLE`, `xxxx`, `${VAR}`, `{{ var }}`,
//! `<your-key>`, `changeme`, repeated characters, test fixtures) and user allowlists (regexes on
//! the secret, stop words, path patterns).

use crate::scanner::ByteSet;
use crate::{Error, Result};
use regex_automata::meta::Regex;

/// Values that are placeholders, not secrets. Checked on the captured secret of every rule.
pub fn is_placeholder(secret: &[u8]) -> bool {
    if secret.is_empty() {
        return true;
    }
    has_placeholder_word(secret)
        || EXACT.iter().any(|w| w.eq_ignore_ascii_case(secret))
        || low_variety(secret)
}

/// Whether `s` holds one of the placeholder words, ASCII case-insensitively. Secrets are short
/// (tens of bytes), so instead of an automaton's start-up per call this walks the secret once
/// through a table of the words' first two bytes (lowercased; 2 KiB) and compares whole words
/// only where a pair starts some word; one-byte words are a set of bytes.
fn has_placeholder_word(s: &[u8]) -> bool {
    let t = word_table();
    for (i, &a) in s.iter().enumerate() {
        if t.singles.has(a) {
            return true;
        }
        let Some(k) = s.get(i + 1).and_then(|&b| pair_key(a, b)) else {
            continue;
        };
        if t.pairs[k >> 6] >> (k & 63) & 1 == 0 {
            continue;
        }
        let from = t.words.partition_point(|(wk, _)| *wk < k);
        let rest = &s[i..];
        if t.words[from..]
            .iter()
            .take_while(|(wk, _)| *wk == k)
            .any(|(_, w)| {
                rest.get(..w.len())
                    .is_some_and(|x| x.eq_ignore_ascii_case(w))
            })
        {
            return true;
        }
    }
    false
}

/// [`WORDS`] by their first two bytes, and the one-byte words.
struct WordTable {
    /// One bit per lowercased ASCII pair that starts a word.
    pairs: [u64; 256],
    /// The words of two bytes or more, sorted by their pair.
    words: Vec<(usize, &'static [u8])>,
    /// The one-byte words (both cases).
    singles: ByteSet,
}

/// Index of a lowercased ASCII byte pair, or `None` when either byte is not ASCII (no word
/// holds one).
#[inline]
fn pair_key(a: u8, b: u8) -> Option<usize> {
    (a.is_ascii() && b.is_ascii())
        .then(|| usize::from(a.to_ascii_lowercase()) << 7 | usize::from(b.to_ascii_lowercase()))
}

fn word_table() -> &'static WordTable {
    static T: std::sync::OnceLock<WordTable> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let mut t = WordTable {
            pairs: [0; 256],
            words: Vec::new(),
            singles: ByteSet::default(),
        };
        for &w in WORDS {
            match *w {
                [a] => {
                    t.singles.insert(a.to_ascii_lowercase());
                    t.singles.insert(a.to_ascii_uppercase());
                }
                [a, b, ..] => {
                    if let Some(k) = pair_key(a, b) {
                        t.pairs[k >> 6] |= 1 << (k & 63);
                        t.words.push((k, w));
                    }
                }
                [] => {}
            }
        }
        t.words.sort_unstable();
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
    let mut counts = [0u16; 256];
    let (mut distinct, mut max) = (0usize, 0u16);
    for &b in s {
        let c = &mut counts[b as usize];
        distinct += usize::from(*c == 0);
        *c = c.saturating_add(1);
        max = max.max(*c);
    }
    let max = max as usize;
    (s.len() >= 8 && distinct <= 3) || (s.len() >= 12 && max * 2 > s.len())
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
