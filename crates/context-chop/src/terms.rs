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
    let mut s = Scratch::default();
    let b = text.as_bytes();
    let mut i = 0usize;
    while i < b.len() {
        // Find the next word: ASCII bytes are classified directly, other characters decoded.
        let c = b[i];
        if c < 0x80 {
            if !(c.is_ascii_alphanumeric() || c == b'_') {
                i += 1;
                continue;
            }
        } else {
            let ch = text[i..].chars().next().unwrap_or(' ');
            if !is_word_char(ch) {
                i += ch.len_utf8();
                continue;
            }
        }
        let start = i;
        let mut ascii = true;
        while i < b.len() {
            let c = b[i];
            if c < 0x80 {
                if c.is_ascii_alphanumeric() || c == b'_' {
                    i += 1;
                    continue;
                }
                break;
            }
            let ch = text[i..].chars().next().unwrap_or(' ');
            if !is_word_char(ch) {
                break;
            }
            ascii = false;
            i += ch.len_utf8();
        }
        let raw = &text[start..i];
        if ascii {
            ascii_word(raw, &mut s, &mut f);
        } else {
            unicode_word(raw, &mut s, &mut f);
        }
    }
}

/// Buffers reused across the words of one text.
#[derive(Default)]
struct Scratch {
    word: String,
    buf: String,
    parts: Vec<(usize, usize)>,
}

/// The terms of one word made of ASCII letters, digits and `_` (same results as
/// [`unicode_word`], without decoding characters; tested against it).
fn ascii_word(raw: &str, s: &mut Scratch, f: &mut impl FnMut(&str, bool)) {
    let rb = raw.as_bytes();
    let (mut a, mut e) = (0usize, rb.len());
    while a < e && rb[a] == b'_' {
        a += 1;
    }
    while e > a && rb[e - 1] == b'_' {
        e -= 1;
    }
    if a == e {
        return;
    }
    if e - a < 2 && rb[a].is_ascii_digit() {
        return;
    }
    ascii_parts(rb, &mut s.parts);
    s.word.clear();
    s.word
        .extend(rb[a..e].iter().map(|c| c.to_ascii_lowercase() as char));
    if s.parts.len() <= 1 {
        stem_in_place(&mut s.word);
        f(&s.word, false);
        return;
    }
    f(&s.word, false);
    for &(pa, pb) in &s.parts {
        if pb - pa < 2 {
            continue;
        }
        s.buf.clear();
        s.buf
            .extend(rb[pa..pb].iter().map(|c| c.to_ascii_lowercase() as char));
        stem_in_place(&mut s.buf);
        f(&s.buf, true);
    }
}

fn ascii_class(c: u8) -> Class {
    match c {
        b'_' => Class::Sep,
        b'0'..=b'9' => Class::Digit,
        b'A'..=b'Z' => Class::Upper,
        _ => Class::Lower,
    }
}

/// [`split_parts`] for an ASCII word.
fn ascii_parts(w: &[u8], out: &mut Vec<(usize, usize)>) {
    out.clear();
    let mut start: Option<usize> = None;
    for i in 0..w.len() {
        let cl = ascii_class(w[i]);
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
        let next = w.get(i + 1).map(|&n| ascii_class(n));
        if is_boundary(ascii_class(w[i - 1]), cl, next) {
            out.push((s, i));
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, w.len()));
    }
}

/// The terms of one word with non-ASCII characters (the general rule).
fn unicode_word(raw: &str, s: &mut Scratch, f: &mut impl FnMut(&str, bool)) {
    split_parts(raw, &mut s.parts);
    s.word.clear();
    for ch in raw.chars() {
        s.word.extend(ch.to_lowercase());
    }
    let whole = s.word.trim_matches('_');
    if whole.is_empty() {
        return;
    }
    let digits_only = whole.bytes().all(|b| b.is_ascii_digit());
    if digits_only && whole.len() < 2 {
        return;
    }
    if s.parts.len() <= 1 {
        s.buf.clear();
        s.buf.push_str(whole);
        stem_in_place(&mut s.buf);
        f(&s.buf, false);
        return;
    }
    f(whole, false);
    for &(a, b) in &s.parts {
        let p = &raw[a..b];
        if p.chars().count() < 2 {
            continue;
        }
        s.buf.clear();
        for ch in p.chars() {
            s.buf.extend(ch.to_lowercase());
        }
        stem_in_place(&mut s.buf);
        f(&s.buf, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fast(word: &str) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        ascii_word(word, &mut Scratch::default(), &mut |t: &str, p| {
            out.push((t.to_string(), p))
        });
        out
    }

    fn general(word: &str) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        unicode_word(word, &mut Scratch::default(), &mut |t: &str, p| {
            out.push((t.to_string(), p))
        });
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// The ASCII path gives exactly what the general rule gives, on words built to reach
        /// every case: separators at the ends, acronyms, digits, plurals, one-letter parts.
        #[test]
        fn ascii_path_matches_the_general_rule(word in "[A-Za-z0-9_]{1,24}|(_?[A-Z]{0,3}[a-z]{0,6}s?[0-9]{0,2}_?){1,4}") {
            prop_assert_eq!(fast(&word), general(&word));
        }

        /// Whole texts: mixed ASCII and non-ASCII words give the terms of each word in order.
        #[test]
        fn texts_split_into_words(text in "([A-Za-z0-9_]{1,8}|[ .:/-]|é|Ünïcode|日本|ß){0,20}") {
            let mut got = Vec::new();
            for_each_term(&text, |t, p| got.push((t.to_string(), p)));
            let mut want = Vec::new();
            for w in text.split(|c: char| !is_word_char(c)).filter(|w| !w.is_empty()) {
                want.extend(general(w));
            }
            prop_assert_eq!(got, want);
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

/// Whether a part starts at a character of class `cl` after one of class `prev` (`next`: the
/// class after it): lower-to-upper, the last capital of an acronym before a lower-case letter,
/// and letter/digit changes.
fn is_boundary(prev: Class, cl: Class, next: Option<Class>) -> bool {
    match (prev, cl) {
        (Class::Lower, Class::Upper) => true,
        (Class::Upper, Class::Upper) => next == Some(Class::Lower),
        (Class::Digit, Class::Upper | Class::Lower) => true,
        (Class::Upper | Class::Lower, Class::Digit) => true,
        _ => false,
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
        let next = cs.get(k + 1).map(|&(_, n)| class(n));
        if is_boundary(class(cs[k - 1].1), cl, next) {
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
    for_each_path_term(path, |t| out.push(t.to_string()));
    out.sort();
    out.dedup();
    out
}

/// Calls `f` for every term of `path` (see [`path_terms`]; in order, with repeats).
pub(crate) fn for_each_path_term(path: &str, mut f: impl FnMut(&str)) {
    for_each_term(&path.replace(['/', '\\', '.', '-'], " "), |t, _| f(t));
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
