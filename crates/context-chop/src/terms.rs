//! Code-aware terms: identifiers split at `camelCase`, `snake_case`, `kebab-case` and path
//! separators, lower-cased, with a light plural stemmer.

/// Calls `f(word, is_part)` for every term of `text`.
///
/// A word is a run of ASCII letters, digits and `_` (or any non-ASCII alphanumeric). Each word
/// is emitted lower-cased as a whole, and when it has several parts (split at `_`, at
/// lower-to-upper and acronym-to-word case changes, and between letters and digits) each part
/// is emitted too with `is_part = true`. Words made only of digits shorter than 2 characters
/// and one-letter parts are dropped. Parts are stemmed with [`stem`].
pub fn for_each_term(text: &str, mut f: impl FnMut(&str, bool)) {
    let mut word = String::new();
    let mut buf = String::new();
    let mut parts: Vec<(usize, usize)> = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if !is_word_char(c) {
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(i, c2)) = chars.peek() {
            if !is_word_char(c2) {
                break;
            }
            end = i + c2.len_utf8();
            chars.next();
        }
        let raw = &text[start..end];
        split_parts(raw, &mut parts);
        word.clear();
        for ch in raw.chars() {
            word.extend(ch.to_lowercase());
        }
        let whole = word.trim_matches('_');
        if whole.is_empty() {
            continue;
        }
        let digits_only = whole.bytes().all(|b| b.is_ascii_digit());
        if digits_only && whole.len() < 2 {
            continue;
        }
        if parts.len() <= 1 {
            buf.clear();
            buf.push_str(whole);
            stem_in_place(&mut buf);
            f(&buf, false);
            continue;
        }
        f(whole, false);
        for &(a, b) in &parts {
            let p = &raw[a..b];
            if p.chars().count() < 2 {
                continue;
            }
            buf.clear();
            for ch in p.chars() {
                buf.extend(ch.to_lowercase());
            }
            stem_in_place(&mut buf);
            f(&buf, true);
        }
    }
}

/// All terms of `text` in order (see [`for_each_term`]).
///
/// ```
/// let t = context_chop::terms("parseHTTPRequest my_var");
/// assert_eq!(t, ["parsehttprequest", "parse", "http", "request", "my_var", "my", "var"]);
/// ```
pub fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for_each_term(text, |t, _| out.push(t.to_string()));
    out
}

/// Characters that belong to identifiers.
pub fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || (!c.is_ascii() && c.is_alphanumeric())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Upper,
    Lower,
    Digit,
    Sep,
}

fn class(c: char) -> Class {
    if c == '_' {
        Class::Sep
    } else if c.is_ascii_digit() {
        Class::Digit
    } else if c.is_uppercase() {
        Class::Upper
    } else {
        Class::Lower
    }
}

/// Byte ranges of the parts of one identifier.
fn split_parts(word: &str, out: &mut Vec<(usize, usize)>) {
    out.clear();
    let cs: Vec<(usize, char)> = word.char_indices().collect();
    let mut start: Option<usize> = None;
    for (k, &(i, c)) in cs.iter().enumerate() {
        let cl = class(c);
        if cl == Class::Sep {
            if let Some(s) = start.take() {
                out.push((s, i));
            }
            continue;
        }
        let Some(s) = start else {
            start = Some(i);
            continue;
        };
        let prev = class(cs[k - 1].1);
        let next = cs.get(k + 1).map(|&(_, n)| class(n));
        let boundary = match (prev, cl) {
            (Class::Lower, Class::Upper) => true,
            (Class::Upper, Class::Upper) => next == Some(Class::Lower),
            (Class::Digit, Class::Upper | Class::Lower) => true,
            (Class::Upper | Class::Lower, Class::Digit) => true,
            _ => false,
        };
        if boundary {
            out.push((s, i));
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, word.len()));
    }
}

/// The light stem of a lower-case term: plural `-s`/`-es`/`-ies` removed.
///
/// ```
/// assert_eq!(context_chop::stem("queries"), "query");
/// assert_eq!(context_chop::stem("files"), "file");
/// assert_eq!(context_chop::stem("class"), "class");
/// ```
pub fn stem(term: &str) -> String {
    let mut s = term.to_string();
    stem_in_place(&mut s);
    s
}

fn stem_in_place(s: &mut String) {
    let n = s.len();
    if n > 4 && s.ends_with("ies") {
        s.truncate(n - 3);
        s.push('y');
    } else if n > 3
        && s.ends_with('s')
        && !s.ends_with("ss")
        && !s.ends_with("us")
        && !s.ends_with("is")
        && s.is_ascii()
    {
        s.truncate(n - 1);
    }
}

/// Terms of a path: every component and the parts of each (extensions included).
pub fn path_terms(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    for_each_term(&path.replace(['/', '\\', '.', '-'], " "), |t, _| {
        out.push(t.to_string())
    });
    out.sort();
    out.dedup();
    out
}

/// English words that carry no meaning in a query about code.
pub(crate) const STOPWORDS: &[&str] = &[
    "a", "an", "the", "to", "of", "in", "on", "for", "and", "or", "is", "are", "be", "it", "its",
    "this", "that", "with", "as", "at", "by", "from", "when", "if", "we", "not", "no", "can", "do",
    "does", "so", "into", "use", "was", "were", "has", "have", "had", "but", "which", "there",
    "then", "than", "also", "now", "all", "some", "how", "what", "where", "why", "who", "will",
    "would", "should", "could", "i", "you", "they", "them", "our", "my", "me", "us", "been",
    "being", "only", "more", "most", "such", "very", "just", "about", "over", "out", "up", "make",
    "made", "get", "set",
];

pub(crate) fn is_stopword(t: &str) -> bool {
    STOPWORDS.contains(&t)
}
