//! Compression by language at four levels: lossless, balanced, aggressive, skeleton.

use crate::lex::{self, Kind, Span};
use crate::{Encoding, Error, Language, Level, Result, Tokenizer};
use std::collections::HashSet;
use std::hash::{Hash, Hasher};

/// How to compress. Plain data with defaults; see [`CompressOptions::builder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompressOptions {
    /// How far to go (default `balanced`).
    pub level: Level,
    /// String literals at least this long (bytes) that look like data (base64, hex, data URIs,
    /// escaped bytes) are elided with a marker at `balanced` and above (default 256; 0 = never).
    pub elide_literals_over: usize,
    /// Re-encode indentation where the language allows (default true): Python at one space
    /// per indentation level (never inside strings; kept as is when tabs indent), brace
    /// languages without indentation (it carries no meaning there).
    pub reindent: bool,
    /// Recount with this encoding and return the input unchanged when the output would have
    /// more tokens (default `Some(O200k)`; `None` skips the recount, for speed).
    pub token_guard: Option<Encoding>,
}

impl Default for CompressOptions {
    fn default() -> Self {
        CompressOptions {
            level: Level::Balanced,
            elide_literals_over: 256,
            reindent: true,
            token_guard: Some(Encoding::O200k),
        }
    }
}

impl CompressOptions {
    /// A builder starting from the defaults.
    pub fn builder() -> CompressOptionsBuilder {
        CompressOptionsBuilder(CompressOptions::default())
    }
}

/// Builds [`CompressOptions`].
#[derive(Debug, Clone, Default)]
pub struct CompressOptionsBuilder(CompressOptions);

impl CompressOptionsBuilder {
    /// Sets the level.
    pub fn level(mut self, level: Level) -> Self {
        self.0.level = level;
        self
    }
    /// Sets the length from which data-like string literals are elided (0 = never).
    pub fn elide_literals_over(mut self, bytes: usize) -> Self {
        self.0.elide_literals_over = bytes;
        self
    }
    /// Turns indentation re-encoding on or off.
    pub fn reindent(mut self, on: bool) -> Self {
        self.0.reindent = on;
        self
    }
    /// Sets the encoding of the token guard (`None`: no recount).
    pub fn token_guard(mut self, encoding: Option<Encoding>) -> Self {
        self.0.token_guard = encoding;
        self
    }
    /// The options.
    pub fn build(self) -> CompressOptions {
        self.0
    }
}

/// The result of compressing one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compressed {
    /// The compressed text.
    pub text: String,
    /// The language it was compressed as.
    pub language: Language,
    /// The level that was applied (lower than asked when the language has no lexer or grammar).
    pub level: Level,
    /// Tokens before, when the token guard counted them.
    pub tokens_before: Option<usize>,
    /// Tokens after, when the token guard counted them.
    pub tokens_after: Option<usize>,
    /// Comments and docstrings removed.
    pub comments_removed: usize,
    /// Long literals replaced by a marker.
    pub literals_elided: usize,
    /// Repeated licence/header blocks dropped (kept once per [`Compressor`]).
    pub headers_deduplicated: usize,
    /// Why the input was returned (nearly) unchanged, when it was: the lexer could not make
    /// sense of it, or the output would have had more tokens.
    pub fallback: Option<String>,
}

/// Compresses `text` as `language` at `level` with default options; see [`Compressor`] for
/// licence headers kept once across many files.
///
/// ```
/// use token_opt::{compress, Language, Level};
///
/// let src = "fn add(a: u32, b: u32) -> u32 {\n    // add them\n    a + b // sum\n}\n";
/// let out = compress(src, Language::Rust, Level::Balanced)?;
/// assert_eq!(out.text, "fn add(a: u32, b: u32) -> u32 {\na + b\n}\n");
/// # Ok::<(), token_opt::Error>(())
/// ```
pub fn compress(text: &str, language: Language, level: Level) -> Result<Compressed> {
    Compressor::new(CompressOptions {
        level,
        ..CompressOptions::default()
    })
    .compress(text, language)
}

/// A compression session: options, plus the licence/header blocks already seen, so a block
/// repeated across the files of one context pack is kept once.
#[derive(Debug, Clone)]
pub struct Compressor {
    options: CompressOptions,
    seen_headers: HashSet<u64>,
    guard: Option<Tokenizer>,
}

impl Default for Compressor {
    fn default() -> Self {
        Compressor::new(CompressOptions::default())
    }
}

impl Compressor {
    /// A session with these options. When the guard's encoding is not compiled in, the guard
    /// falls back to any available encoding.
    pub fn new(options: CompressOptions) -> Compressor {
        let guard = options.token_guard.and_then(|e| {
            Tokenizer::new(e)
                .or_else(|_| Tokenizer::new(Encoding::O200k))
                .or_else(|_| Tokenizer::new(Encoding::Cl100k))
                .ok()
        });
        Compressor {
            options,
            seen_headers: HashSet::new(),
            guard,
        }
    }

    /// The options of this session.
    pub fn options(&self) -> &CompressOptions {
        &self.options
    }

    /// Compresses raw bytes; an error when they are not UTF-8.
    pub fn compress_bytes(&mut self, bytes: &[u8], language: Language) -> Result<Compressed> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            Error::Invalid(format!(
                "input is not UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ))
        })?;
        self.compress(text, language)
    }

    /// Compresses `text` as `language` at the session's level.
    pub fn compress(&mut self, text: &str, language: Language) -> Result<Compressed> {
        let mut out = self.compress_once(text, language);
        if out.text.starts_with("\n#!")
            || out
                .text
                .bytes()
                .any(|b| (b < 0x20 && b != b'\t' && b != b'\n') || b == 0x7f)
        {
            // Rare control characters (and a `#!` kept from reading as a shebang) can take part
            // in what a pass sees only after it ran: a CR that was not in a line's trailing
            // whitespace ends up there once a comment or the blanks after it are gone
            // (`/\r\t//` -> `/\r`), and compressing the result again would change it (found by
            // the fuzz targets). Repeat (on a fresh session, so a licence header is not taken
            // for a repeat) until nothing changes: the result is a fixed point. Ordinary text
            // never pays for this.
            let mut again = Compressor {
                options: self.options.clone(),
                seen_headers: HashSet::new(),
                guard: None,
            };
            for _ in 0..4 {
                let next = again.compress_once(&out.text, language);
                if next.text == out.text {
                    break;
                }
                out.text = next.text;
                out.comments_removed += next.comments_removed;
                out.literals_elided += next.literals_elided;
            }
        }
        if let Some(tok) = &self.guard {
            let before = tok.count(text);
            let after = tok.count(&out.text);
            if after > before {
                out.text = text.to_string();
                out.fallback = Some(format!(
                    "compression would grow the text from {before} to {after} tokens"
                ));
                out.tokens_after = Some(before);
            } else {
                out.tokens_after = Some(after);
            }
            out.tokens_before = Some(before);
        }
        Ok(out)
    }

    /// One compression pass, without the token guard.
    fn compress_once(&mut self, text: &str, language: Language) -> Compressed {
        let normalized;
        let text_lf: &str = if text.contains('\r') {
            // CRs in the whitespace that ends a line go (CRLF becomes LF, and so do `\r\r\n`
            // and `\r\t\r\n`): removing them only where they touch the LF would leave a CR
            // that trimming trailing whitespace exposes, and the next pass would change the
            // text again (found by the fuzz targets).
            let mut s = String::with_capacity(text.len());
            for line in text.split_inclusive('\n') {
                match line.strip_suffix('\n') {
                    Some(body) => {
                        let kept = body.trim_end_matches([' ', '\t', '\r']);
                        s.push_str(kept);
                        s.extend(body[kept.len()..].chars().filter(|&c| c != '\r'));
                        s.push('\n');
                    }
                    None => s.push_str(line),
                }
            }
            normalized = s;
            &normalized
        } else {
            text
        };
        let mut out = Compressed {
            text: String::new(),
            language,
            level: self.options.level,
            tokens_before: None,
            tokens_after: None,
            comments_removed: 0,
            literals_elided: 0,
            headers_deduplicated: 0,
            fallback: None,
        };
        let level = self.options.level;
        // Rust at aggressive: doc attributes (`#[doc = ...]`, `#![doc(...)]`) go with the doc
        // comments (they are the same thing to the compiler).
        let without_docs;
        let text_lf: &str = if language == Language::Rust && level >= Level::Aggressive {
            match lex::lex(text_lf, language) {
                Some(l) if l.ok => match strip_doc_attributes(text_lf, &l.spans) {
                    Some((t, n)) => {
                        out.comments_removed += n;
                        without_docs = t;
                        &without_docs
                    }
                    None => text_lf,
                },
                _ => text_lf,
            }
        } else {
            text_lf
        };
        out.text = match language {
            Language::Json if level >= Level::Balanced => minify_json(text_lf),
            Language::Yaml if level >= Level::Balanced => minify_yaml(text_lf, &mut out),
            _ => match lex::lex(text_lf, language) {
                None => {
                    out.level = Level::Lossless;
                    plain_lossless(text_lf)
                }
                Some(lexed) if !lexed.ok => {
                    out.level = Level::Lossless;
                    out.fallback = Some(format!(
                        "not valid {language}: an unterminated literal or comment"
                    ));
                    plain_lossless_lines_only(text_lf)
                }
                Some(lexed) if level == Level::Skeleton => {
                    // The grammar parses the text with its original indentation (tree-sitter's
                    // Python scanner misreads continuation lines indented less than their
                    // block); indentation is re-encoded after the bodies are gone.
                    let t = self.rewrite(
                        text_lf,
                        language,
                        Level::Aggressive,
                        &lexed,
                        &mut out,
                        false,
                        true,
                    );
                    match crate::skeleton::elide_bodies(&t, language) {
                        Some(s) => {
                            // The grammar may see more once bodies are gone (error recovery
                            // differs): repeat until nothing changes, so the result is a fixed
                            // point and compressing it again gives it back.
                            let mut cur = self.reencode(s, language);
                            for _ in 0..4 {
                                let next = crate::skeleton::elide_bodies(&cur, language)
                                    .map(|s| self.reencode(s, language));
                                match next {
                                    Some(n) if n != cur => cur = n,
                                    _ => break,
                                }
                            }
                            cur
                        }
                        None => {
                            out.level = Level::Aggressive;
                            let mut scratch = out.clone();
                            self.reencode_with(t, language, &mut scratch)
                        }
                    }
                }
                Some(lexed) => {
                    let reindent = self.options.reindent;
                    self.rewrite(text_lf, language, level, &lexed, &mut out, reindent, true)
                }
            },
        };
        if out.text.starts_with("#!") && !text.starts_with("#!") {
            // Dropping leading blanks exposed a `#!` that is not a shebang here; at the start
            // of the text it would read as one the next time. One newline keeps it what it is.
            out.text.insert(0, '\n');
        }
        out
    }

    /// Re-encodes the indentation of already compressed text (no comment or licence changes).
    fn reencode(&mut self, text: String, lang: Language) -> String {
        let mut scratch = Compressed {
            text: String::new(),
            language: lang,
            level: Level::Balanced,
            tokens_before: None,
            tokens_after: None,
            comments_removed: 0,
            literals_elided: 0,
            headers_deduplicated: 0,
            fallback: None,
        };
        self.reencode_with(text, lang, &mut scratch)
    }

    fn reencode_with(&mut self, text: String, lang: Language, scratch: &mut Compressed) -> String {
        if !self.options.reindent {
            return text;
        }
        match lex::lex(&text, lang) {
            Some(lexed) if lexed.ok => {
                self.rewrite(&text, lang, Level::Balanced, &lexed, scratch, true, false)
            }
            _ => text,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn rewrite(
        &mut self,
        text: &str,
        lang: Language,
        level: Level,
        lexed: &lex::Lexed,
        stats: &mut Compressed,
        reindent: bool,
        licences: bool,
    ) -> String {
        let python = lang == Language::Python;
        let strip = level >= Level::Balanced;
        let mut em = Emitter::new(text.len());
        em.collapse = strip;
        em.relevel = strip && reindent && !(python && tabbed_indent(text, lexed));
        em.python = python;
        let licence = if strip && licences {
            self.licence_block(text, &lexed.spans, stats)
        } else {
            None
        };
        let mut pos = 0usize;
        for (idx, span) in lexed.spans.iter().enumerate() {
            em.code(&text[pos..span.start]);
            let body = &text[span.start..span.end];
            match span.kind {
                Kind::Str => {
                    if strip && self.options.elide_literals_over > 0 {
                        if let Some(marker) = elide(body, self.options.elide_literals_over) {
                            stats.literals_elided += 1;
                            em.protected(&marker);
                            pos = span.end;
                            continue;
                        }
                    }
                    em.protected(body);
                }
                Kind::Comment { doc, keep, line } => {
                    let in_licence = licence.is_some_and(|(a, b, _)| idx >= a && idx < b);
                    let drop_licence = licence.is_some_and(|(_, _, seen)| seen) && in_licence;
                    let remove = drop_licence
                        || (strip && !keep && !in_licence && (!doc || level >= Level::Aggressive));
                    if remove {
                        stats.comments_removed += 1;
                        if em.removed_whole_line() {
                            // The comment stood alone on its line: the line goes too.
                        } else if !line && body.contains('\n') {
                            em.code("\n");
                        } else if !line {
                            em.separator();
                        }
                    } else if line && !doc {
                        // Doc comments keep trailing spaces: they are part of the doc text. A
                        // newline stays: it is in a comment only when a `\` spliced it in.
                        em.protected(
                            body.trim_end_matches(|c: char| c.is_whitespace() && c != '\n'),
                        );
                    } else {
                        em.protected(body);
                    }
                }
                Kind::Docstring { sole } => {
                    if level >= Level::Aggressive {
                        stats.comments_removed += 1;
                        if sole {
                            em.code("pass");
                        } else {
                            em.removed_whole_line();
                        }
                    } else {
                        em.protected(body);
                    }
                }
            }
            pos = span.end;
        }
        em.code(&text[pos..]);
        em.finish()
    }

    /// The leading comment block when it is a licence/header: (first span, end span, seen before).
    fn licence_block(
        &mut self,
        text: &str,
        spans: &[Span],
        stats: &mut Compressed,
    ) -> Option<(usize, usize, bool)> {
        let mut pos = 0usize;
        let mut first = 0usize;
        let mut end = 0usize;
        for s in spans {
            let gap = &text[pos..s.start];
            if !gap.trim().is_empty() {
                break;
            }
            match s.kind {
                Kind::Comment { keep: true, .. } if end == first => first += 1,
                Kind::Comment {
                    keep: false,
                    doc: false,
                    ..
                } => {}
                _ => break,
            }
            end += 1;
            pos = s.end;
        }
        if end == first {
            return None;
        }
        let block = &text[spans[first].start..spans[end - 1].end];
        let lower = block.to_ascii_lowercase();
        if !(lower.contains("copyright") || lower.contains("licen") || lower.contains("spdx")) {
            return None;
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for line in block.lines() {
            line.trim().hash(&mut h);
        }
        let seen = !self.seen_headers.insert(h.finish());
        if seen {
            stats.headers_deduplicated += 1;
        }
        Some((first, end, seen))
    }
}

/// `text` without its Rust doc attributes, and how many there were; `None` when it has none.
/// An attribute alone on its line takes the line with it. Attributes that mention a macro
/// metavariable (`#[doc = $doc]`) stay: removing them could leave an empty `$()*` repetition.
fn strip_doc_attributes(text: &str, spans: &[Span]) -> Option<(String, usize)> {
    let b = text.as_bytes();
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    let mut si = 0usize;
    let mut i = 0usize;
    while i < b.len() {
        while si < spans.len() && spans[si].end <= i {
            si += 1;
        }
        if let Some(sp) = spans.get(si) {
            if sp.start <= i {
                i = sp.end;
                continue;
            }
        }
        if b[i] == b'#' {
            if let Some(end) = doc_attribute_end(b, i, &spans[si..]) {
                cuts.push((i, end));
                i = end;
                continue;
            }
        }
        i += 1;
    }
    if cuts.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut pos = 0usize;
    for &(start, end) in &cuts {
        let line_start = text[..start].rfind('\n').map_or(0, |p| p + 1);
        let line_end = text[end..].find('\n').map_or(text.len(), |p| end + p);
        let (start, end) = if text[line_start..start].trim().is_empty()
            && text[end..line_end].trim().is_empty()
            && line_start >= pos
        {
            (line_start, (line_end + 1).min(text.len()))
        } else {
            (start, end)
        };
        if start < pos {
            continue;
        }
        out.push_str(&text[pos..start]);
        pos = end;
    }
    out.push_str(&text[pos..]);
    Some((out, cuts.len()))
}

/// The end of a doc attribute starting with the `#` at `start`, if it is one; `spans` are the
/// literal and comment spans from there on.
fn doc_attribute_end(b: &[u8], start: usize, spans: &[Span]) -> Option<usize> {
    let ws = |mut j: usize| {
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        j
    };
    let mut j = start + 1;
    if b.get(j) == Some(&b'!') {
        j += 1;
    }
    j = ws(j);
    if b.get(j) != Some(&b'[') {
        return None;
    }
    j = ws(j + 1);
    if !b[j..].starts_with(b"doc")
        || b.get(j + 3)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    {
        return None;
    }
    let mut depth = 1usize;
    let mut k = j + 3;
    let mut spans = spans.iter().peekable();
    while k < b.len() {
        while spans.peek().is_some_and(|s| s.end <= k) {
            spans.next();
        }
        if let Some(s) = spans.peek() {
            if s.start <= k {
                k = s.end;
                continue;
            }
        }
        match b[k] {
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(k + 1);
                }
            }
            b'$' => return None,
            _ => {}
        }
        k += 1;
    }
    None
}

/// Whether any code line of a Python file indents with tabs or form feeds (then indentation
/// is kept as is: re-encoding it safely would need Python's tab rules).
fn tabbed_indent(text: &str, lexed: &lex::Lexed) -> bool {
    let b = text.as_bytes();
    let mut spans = lexed.spans.iter().peekable();
    let mut line_start = 0usize;
    while line_start < b.len() {
        while spans.peek().is_some_and(|s| s.end <= line_start) {
            spans.next();
        }
        let inside = spans
            .peek()
            .is_some_and(|s| s.start < line_start && line_start < s.end);
        if !inside {
            let mut i = line_start;
            while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\x0c') {
                if b[i] != b' ' {
                    return true;
                }
                i += 1;
            }
        }
        line_start = match b[line_start..].iter().position(|&c| c == b'\n') {
            Some(p) => line_start + p + 1,
            None => break,
        };
    }
    false
}

/// Writes the output: trims trailing whitespace, collapses blank lines, re-encodes indentation
/// and collapses inner whitespace in code, and copies protected text (literals) verbatim.
struct Emitter {
    out: String,
    collapse: bool,
    relevel: bool,
    python: bool,
    pending_nl: usize,
    pending_ws: usize,
    pending_ws_text: String,
    indent: usize,
    indent_text: String,
    at_line_start: bool,
    stack: Vec<usize>,
    depth: usize,
    continued: bool,
    last: u8,
    swallow_nl: bool,
}

impl Emitter {
    fn new(cap: usize) -> Self {
        Emitter {
            out: String::with_capacity(cap),
            collapse: false,
            relevel: false,
            python: false,
            pending_nl: 0,
            pending_ws: 0,
            pending_ws_text: String::new(),
            indent: 0,
            indent_text: String::new(),
            at_line_start: true,
            stack: vec![0],
            depth: 0,
            continued: false,
            last: 0,
            swallow_nl: false,
        }
    }

    /// Ends pending whitespace before content.
    fn flush(&mut self) {
        self.swallow_nl = false;
        if self.pending_nl > 0 {
            if !self.out.is_empty() {
                for _ in 0..self.pending_nl.min(2) {
                    self.out.push('\n');
                }
            }
            self.pending_nl = 0;
        }
        if self.at_line_start {
            let free = !self.python || self.depth > 0 || self.continued;
            if self.relevel && !self.python {
                // Brace languages: indentation carries no meaning; one space survives only
                // after a backslash line splice (C macros), where it separates tokens.
                if self.last == b'\\' && self.indent > 0 {
                    self.out.push(' ');
                }
            } else if self.relevel && !free {
                let w = self.indent;
                while self.stack.len() > 1 && self.stack.last().is_some_and(|&t| w < t) {
                    self.stack.pop();
                }
                if self.stack.last().is_some_and(|&t| w > t) {
                    self.stack.push(w);
                }
                for _ in 1..self.stack.len() {
                    self.out.push(' ');
                }
            } else if self.relevel && self.python {
                // Continuation lines inside brackets or after a backslash: whitespace only
                // separates tokens.
                if self.indent > 0 {
                    self.out.push(' ');
                }
            } else {
                self.out.push_str(&self.indent_text);
            }
            self.at_line_start = false;
            self.continued = false;
        } else if self.pending_ws > 0 {
            if self.collapse {
                self.out.push(' ');
            } else {
                self.out.push_str(&self.pending_ws_text);
            }
        }
        self.indent = 0;
        self.indent_text.clear();
        self.pending_ws = 0;
        self.pending_ws_text.clear();
    }

    /// Code: whitespace is normalised, brackets tracked.
    fn code(&mut self, s: &str) {
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            match c {
                b' ' | b'\t' => {
                    if self.at_line_start {
                        self.indent += 1;
                        self.indent_text.push(c as char);
                    } else {
                        self.pending_ws += 1;
                        self.pending_ws_text.push(c as char);
                    }
                    i += 1;
                }
                b'\n' if self.swallow_nl && self.at_line_start => {
                    self.swallow_nl = false;
                    self.indent = 0;
                    self.indent_text.clear();
                    i += 1;
                }
                b'\n' => {
                    self.swallow_nl = false;
                    self.pending_ws = 0;
                    self.pending_ws_text.clear();
                    self.indent = 0;
                    self.indent_text.clear();
                    if self.python && self.last == b'\\' {
                        // A backslash line join: keep the newline exactly.
                        self.out.push('\n');
                        self.continued = true;
                        self.last = b' ';
                    } else {
                        self.pending_nl += 1;
                        if self.python && self.depth > 0 {
                            self.continued = true;
                        }
                    }
                    self.at_line_start = true;
                    i += 1;
                }
                _ => {
                    // Indentation is decided by the bracket depth before this line's content.
                    self.flush();
                    let start = i;
                    while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\n') {
                        match b[i] {
                            b'(' | b'[' | b'{' => self.depth += 1,
                            b')' | b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                            _ => {}
                        }
                        i += 1;
                    }
                    self.out.push_str(&s[start..i]);
                    self.last = b[i - 1];
                }
            }
        }
    }

    /// Something was removed; when it stood alone on its line (nothing emitted on the line
    /// yet), the newline ending that line is swallowed. Returns whether that was the case.
    fn removed_whole_line(&mut self) -> bool {
        if self.at_line_start {
            self.swallow_nl = true;
        }
        self.at_line_start
    }

    /// A separator where a comment was removed: one space unless at a line start.
    fn separator(&mut self) {
        if !self.at_line_start && self.pending_ws == 0 {
            self.pending_ws = 1;
            self.pending_ws_text.push(' ');
        }
    }

    /// Verbatim text (a literal or a kept comment).
    fn protected(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        self.flush();
        self.out.push_str(s);
        self.last = b'"';
    }

    fn finish(mut self) -> String {
        if !self.out.is_empty() && self.pending_nl > 0 {
            self.out.push('\n');
        }
        self.out
    }
}

/// Lossless without a lexer (plain text): trailing whitespace, blank-line runs, CRLF.
fn plain_lossless(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = false;
    for line in text.split_inclusive('\n') {
        let has_nl = line.ends_with('\n');
        let body = line.trim_end_matches('\n').trim_end();
        if body.is_empty() {
            blank = true;
            continue;
        }
        if blank && !out.is_empty() {
            out.push('\n');
        }
        blank = false;
        out.push_str(body);
        if has_nl {
            out.push('\n');
        }
    }
    out
}

/// For files the lexer rejects: only CRLF is normalised (already done); nothing else touched.
fn plain_lossless_lines_only(text: &str) -> String {
    text.to_string()
}

/// JSON: all whitespace outside strings removed, except newlines between top-level values
/// (JSON Lines).
fn minify_json(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    let mut i = 0;
    let mut seg_start = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i = (i + 1).min(b.len());
                out.push_str(&text[seg_start..start]);
                out.push_str(&text[start..i]);
                seg_start = i;
            }
            c @ (b' ' | b'\t' | b'\r' | b'\n') => {
                out.push_str(&text[seg_start..i]);
                if c == b'\n' && depth == 0 && !out.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                i += 1;
                seg_start = i;
            }
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => i += 1,
        }
    }
    out.push_str(&text[seg_start.min(b.len())..]);
    out
}

/// YAML: comments, blank lines and trailing whitespace removed; block scalars (`|`, `>`) and
/// quoted text kept exactly.
fn minify_yaml(text: &str, stats: &mut Compressed) -> String {
    let mut out = String::with_capacity(text.len());
    let mut block_indent: Option<usize> = None; // inside a block scalar deeper than this
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let indent = body.len() - body.trim_start().len();
        if let Some(parent) = block_indent {
            if body.trim().is_empty() || indent > parent {
                out.push_str(body.trim_end_matches([' ', '\t']));
                out.push('\n');
                continue;
            }
            block_indent = None;
        }
        let code = yaml_strip_comment(body);
        if code.len() < body.trim_end().len() {
            stats.comments_removed += 1;
        }
        let code = code.trim_end();
        if code.trim().is_empty() {
            continue;
        }
        let t = code.trim_end();
        let last_word = t.rsplit([' ', ':', '-']).next().unwrap_or("");
        if (last_word.starts_with('|') || last_word.starts_with('>'))
            && last_word[1..]
                .chars()
                .all(|c| c.is_ascii_digit() || c == '-' || c == '+')
        {
            block_indent = Some(indent);
        }
        out.push_str(code);
        out.push('\n');
    }
    // Trailing blank lines of a final block scalar.
    while out.ends_with("\n\n") {
        out.pop();
    }
    if !text.ends_with('\n') && out.ends_with('\n') {
        out.pop();
    }
    out
}

/// The part of a YAML line before a comment (`#` at the start or after whitespace, outside
/// quotes).
fn yaml_strip_comment(line: &str) -> &str {
    let b = line.as_bytes();
    let mut quote = 0u8;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if quote != 0 {
            if c == b'\\' && quote == b'"' {
                i += 2;
                continue;
            }
            if c == quote {
                quote = 0;
            }
        } else if c == b'#' && (i == 0 || matches!(b[i - 1], b' ' | b'\t')) {
            return &line[..i];
        } else if (c == b'"' || c == b'\'')
            && (i == 0 || matches!(b[i - 1], b' ' | b'\t' | b':' | b'-' | b'[' | b'{' | b','))
        {
            quote = c;
        }
        i += 1;
    }
    line
}

/// A marker literal for a long data-like string literal, keeping its prefix and quotes.
fn elide(lit: &str, min_len: usize) -> Option<String> {
    if lit.len() < min_len {
        return None;
    }
    let qpos = lit.find(['"', '\'', '`'])?;
    let q = lit.as_bytes()[qpos];
    let prefix = &lit[..qpos];
    if prefix
        .chars()
        .any(|c| matches!(c, 'f' | 'F' | 't' | 'T' | '#'))
    {
        return None;
    }
    let rest = &lit[qpos..];
    let delim_len = if rest.len() >= 6 && rest.as_bytes()[..3].iter().all(|&c| c == q) {
        3
    } else {
        1
    };
    if rest.len() < 2 * delim_len
        || !rest.as_bytes()[rest.len() - delim_len..]
            .iter()
            .all(|&c| c == q)
    {
        return None;
    }
    if q == b'`' {
        return None; // template literals may hold code
    }
    let content = &rest[delim_len..rest.len() - delim_len];
    let what = classify_data(content)?;
    let delim = &rest[..delim_len];
    Some(format!(
        "{prefix}{delim}[elided: {what}, {} bytes]{delim}",
        content.len()
    ))
}

/// What kind of data a literal's content is, if it is data rather than prose or code.
fn classify_data(content: &str) -> Option<&'static str> {
    if content.starts_with("data:") && content.contains(";base64,") {
        return Some("data URI");
    }
    let b = content.as_bytes();
    let escapes = content.matches("\\x").count() + content.matches("\\u").count();
    if escapes * 4 >= b.len() * 3 / 4 && escapes > 16 {
        return Some("escaped bytes");
    }
    let mut hex = 0usize;
    let mut b64 = 0usize;
    let mut other = 0usize;
    for &c in b {
        if c.is_ascii_hexdigit() {
            hex += 1;
            b64 += 1;
        } else if c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'-' | b'_') {
            b64 += 1;
        } else if !matches!(c, b'\n' | b'\\' | b' ') {
            other += 1;
        }
    }
    let n = b.len().max(1);
    if other * 100 > n {
        return None;
    }
    if hex * 100 >= n * 95 {
        Some("hex")
    } else if b64 * 100 >= n * 97 && !content.contains(' ') {
        // Prose has spaces; identifiers-only text is rare at this length.
        Some("base64")
    } else {
        None
    }
}
