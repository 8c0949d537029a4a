//! Allowlists: built-in placeholder detection (`EXAMPLE`, `xxxx`, `${VAR}`, `{{ var }}`,
//! `<your-key>`, `changeme`, repeated characters, test fixtures) and user allowlists (regexes on
//! the secret, stop words, path patterns).

use crate::{Error, Result};
use regex_automata::meta::Regex;

/// Values that are placeholders, not secrets. Checked on the captured secret of every rule.
pub fn is_placeholder(secret: &[u8]) -> bool {
    if secret.is_empty() {
        return true;
    }
    placeholder_words().is_match(secret)
        || EXACT.iter().any(|w| w.eq_ignore_ascii_case(secret))
        || low_variety(secret)
}

/// One automaton over the placeholder words, ASCII case-insensitive (no lowercased copy of the
/// secret), built once from a constant table.
fn placeholder_words() -> &'static aho_corasick::AhoCorasick {
    static AC: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    AC.get_or_init(|| {
        match aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            // Secrets are short: a prefilter's start-up costs more than the DFA's scan.
            .prefilter(false)
            .build(WORDS)
        {
            Ok(a) => a,
            // WORDS are distinct non-empty literals; the unit tests build this automaton.
            Err(e) => panic!("placeholder automaton: {e}"),
        }
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
