//! Lexers that find the strings and comments of a source file; everything between is code.
//!
//! They do not build tokens: compression only needs to know where whitespace and comments may
//! be touched (code) and where every byte is significant (string, char, raw string, template or
//! regex literals). A lexer that ends inside a string or a block comment reports `ok == false`
//! and the compressor leaves the file unchanged.

use crate::Language;

/// What a span of non-code text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A literal whose every byte matters (string, char, template, regex).
    Str,
    /// A comment. `doc`: documentation (`///`, `/** */`, ...). `keep`: a directive that changes
    /// what the code means (`//go:build`, `/// <reference>`, coding cookies, ...).
    Comment {
        /// A documentation comment.
        doc: bool,
        /// A directive: never removed.
        keep: bool,
        /// A line comment (`//`, `#`) rather than a block comment.
        line: bool,
    },
    /// A Python docstring (the whole expression statement). `sole`: the only statement of its
    /// body, so removing it needs a `pass`.
    Docstring {
        /// The body has no other statement.
        sole: bool,
    },
}

/// A span of non-code text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

/// The result of lexing a file.
#[derive(Debug, Default)]
pub(crate) struct Lexed {
    /// Strings and comments, in order, not overlapping.
    pub spans: Vec<Span>,
    /// False when the file ended inside a literal or block comment (not valid code).
    pub ok: bool,
}

/// Lexes `text` as `lang`; `None` for languages without a lexer.
pub(crate) fn lex(text: &str, lang: Language) -> Option<Lexed> {
    let flavor = match lang {
        Language::Python => return Some(python(text)),
        Language::Toml => return Some(hash_lang(text)),
        Language::Rust => Flavor {
            rust: true,
            nested_comments: true,
            ..Flavor::default()
        },
        Language::JavaScript | Language::TypeScript | Language::Jsx | Language::Tsx => Flavor {
            single_quote_string: true,
            template: true,
            regex: true,
            ts_directives: true,
            dollar_ident: true,
            ..Flavor::default()
        },
        Language::Go => Flavor {
            char_literals: true,
            backtick_raw: true,
            go: true,
            ..Flavor::default()
        },
        Language::Java => Flavor {
            char_literals: true,
            text_blocks: true,
            dollar_ident: true,
            ..Flavor::default()
        },
        Language::C | Language::Cpp => Flavor {
            char_literals: true,
            cpp_raw: lang == Language::Cpp,
            continued_line_comments: true,
            digit_separators: true,
            ..Flavor::default()
        },
        Language::Css => Flavor {
            single_quote_string: true,
            no_line_comments: true,
            ..Flavor::default()
        },
        Language::Json | Language::Yaml | Language::Unknown => return None,
    };
    Some(CLexer::new(text, flavor).run())
}

#[derive(Debug, Clone, Copy, Default)]
struct Flavor {
    rust: bool,
    nested_comments: bool,
    char_literals: bool,
    single_quote_string: bool,
    template: bool,
    backtick_raw: bool,
    text_blocks: bool,
    cpp_raw: bool,
    regex: bool,
    continued_line_comments: bool,
    digit_separators: bool,
    ts_directives: bool,
    go: bool,
    dollar_ident: bool,
    no_line_comments: bool,
}

const JS_REGEX_KEYWORDS: &[&[u8]] = &[
    b"return",
    b"typeof",
    b"instanceof",
    b"in",
    b"of",
    b"new",
    b"delete",
    b"void",
    b"throw",
    b"case",
    b"do",
    b"else",
    b"yield",
    b"await",
];

/// The lexer for C-like syntaxes (Rust, JS/TS, Go, Java, C, C++, CSS).
struct CLexer<'a> {
    b: &'a [u8],
    pos: usize,
    f: Flavor,
    spans: Vec<Span>,
    ok: bool,
    /// In JS: whether a `/` here starts a regex literal.
    regex_ok: bool,
    /// Go files with cgo keep every comment (the preamble is C code).
    keep_all: bool,
}

impl<'a> CLexer<'a> {
    fn new(text: &'a str, f: Flavor) -> Self {
        let keep_all = f.go && text.contains("import \"C\"");
        CLexer {
            b: text.as_bytes(),
            pos: 0,
            f,
            spans: Vec::new(),
            ok: true,
            regex_ok: true,
            keep_all,
        }
    }

    fn run(mut self) -> Lexed {
        if self.b.starts_with(b"#!") && !self.b.starts_with(b"#![") {
            // A shebang: kept as it is, like any kept comment (its blanks are not code).
            self.pos = memchr(b'\n', self.b, 0).unwrap_or(self.b.len());
            self.spans.push(Span {
                start: 0,
                end: self.pos,
                kind: Kind::Comment {
                    doc: false,
                    keep: true,
                    line: true,
                },
            });
        }
        self.code(false, true);
        Lexed {
            spans: self.spans,
            ok: self.ok,
        }
    }

    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    fn push(&mut self, record: bool, start: usize, end: usize, kind: Kind) {
        if record {
            self.spans.push(Span { start, end, kind });
        }
    }

    fn is_ident_byte(&self, c: u8) -> bool {
        c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 || (self.f.dollar_ident && c == b'$')
    }

    /// Lexes code until the end, or (`in_template`) until the `}` closing a `${`.
    fn code(&mut self, in_template: bool, record: bool) {
        let mut depth = 0usize;
        while self.pos < self.b.len() {
            let c = self.b[self.pos];
            match c {
                b'/' if self.at(self.pos + 1) == b'/' && !self.f.no_line_comments => {
                    self.line_comment(record)
                }
                b'/' if self.at(self.pos + 1) == b'*' => self.block_comment(record),
                b'/' if self.f.regex && self.regex_ok => {
                    if !self.regex(record) {
                        self.pos += 1;
                        self.regex_ok = true;
                    }
                }
                b'"' => {
                    let start = self.pos;
                    if self.f.text_blocks && self.b[self.pos..].starts_with(b"\"\"\"") {
                        self.text_block();
                    } else {
                        self.quoted(b'"');
                    }
                    self.push(record, start, self.pos, Kind::Str);
                    self.regex_ok = false;
                }
                b'\'' if self.f.single_quote_string => {
                    let start = self.pos;
                    self.quoted(b'\'');
                    self.push(record, start, self.pos, Kind::Str);
                    self.regex_ok = false;
                }
                b'\'' if self.f.rust => {
                    let start = self.pos;
                    if self.rust_char() {
                        self.push(record, start, self.pos, Kind::Str);
                    } else {
                        self.pos += 1;
                    }
                }
                b'\'' if self.f.char_literals => {
                    let start = self.pos;
                    if self.char_literal() {
                        self.push(record, start, self.pos, Kind::Str);
                    } else {
                        self.pos += 1;
                    }
                }
                b'`' if self.f.backtick_raw => {
                    let start = self.pos;
                    match memchr(b'`', self.b, self.pos + 1) {
                        Some(e) => self.pos = e + 1,
                        None => {
                            self.pos = self.b.len();
                            self.ok = false;
                        }
                    }
                    self.push(record, start, self.pos, Kind::Str);
                }
                b'`' if self.f.template => {
                    let start = self.pos;
                    self.template();
                    self.push(record, start, self.pos, Kind::Str);
                    self.regex_ok = false;
                }
                b'{' => {
                    depth += 1;
                    self.pos += 1;
                    self.regex_ok = true;
                }
                b'}' => {
                    if in_template && depth == 0 {
                        self.pos += 1;
                        return;
                    }
                    depth = depth.saturating_sub(1);
                    self.pos += 1;
                    self.regex_ok = true;
                }
                b')' | b']' => {
                    self.pos += 1;
                    self.regex_ok = false;
                }
                b'0'..=b'9' => {
                    self.pos += 1;
                    while self.pos < self.b.len() {
                        let d = self.b[self.pos];
                        if d.is_ascii_alphanumeric() || d == b'_' || d == b'.' {
                            self.pos += 1;
                        } else if d == b'\''
                            && self.f.digit_separators
                            && self.at(self.pos + 1).is_ascii_alphanumeric()
                        {
                            self.pos += 2;
                        } else {
                            break;
                        }
                    }
                    self.regex_ok = false;
                }
                c if self.is_ident_byte(c) => {
                    let start = self.pos;
                    while self.pos < self.b.len() && self.is_ident_byte(self.b[self.pos]) {
                        self.pos += 1;
                    }
                    let ident = &self.b[start..self.pos];
                    if self.f.rust && matches!(ident, b"r" | b"br" | b"cr") {
                        if let Some(end) = self.rust_raw(self.pos) {
                            self.pos = end;
                            self.push(record, start, end, Kind::Str);
                            continue;
                        }
                    }
                    if self.f.cpp_raw
                        && matches!(ident, b"R" | b"LR" | b"uR" | b"UR" | b"u8R")
                        && self.at(self.pos) == b'"'
                    {
                        if let Some(end) = self.cpp_raw(self.pos) {
                            self.pos = end;
                            self.push(record, start, end, Kind::Str);
                            continue;
                        }
                    }
                    self.regex_ok = self.f.regex && JS_REGEX_KEYWORDS.contains(&ident);
                }
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                _ => {
                    self.pos += 1;
                    self.regex_ok = true;
                }
            }
        }
        if in_template {
            self.ok = false;
        }
    }

    fn line_comment(&mut self, record: bool) {
        let start = self.pos;
        let mut end = memchr(b'\n', self.b, start).unwrap_or(self.b.len());
        if self.f.continued_line_comments {
            while end < self.b.len() && end > start && {
                let mut e = end;
                if self.b[e - 1] == b'\r' {
                    e -= 1;
                }
                self.b[e - 1] == b'\\'
            } {
                end = memchr(b'\n', self.b, end + 1).unwrap_or(self.b.len());
            }
        }
        let body = &self.b[start..end];
        let doc = if self.f.rust {
            (body.starts_with(b"///") && !body.starts_with(b"////")) || body.starts_with(b"//!")
        } else if self.f.go {
            self.go_doc(start)
        } else {
            (body.starts_with(b"///") && !body.starts_with(b"////")) || body.starts_with(b"//!")
        };
        let keep = self.keep_all
            || (self.f.go
                && (body.starts_with(b"//go:")
                    || starts_with_word(body, b"//export", b"")
                    || starts_with_word(body, b"//extern", b"")
                    || starts_with_word(body, b"//line", b"")
                    || body.starts_with(b"// +build")))
            || (self.f.ts_directives
                && (body.starts_with(b"/// <reference")
                    || body.starts_with(b"/// <amd")
                    || body.starts_with(b"// @ts-")
                    || contains(body, b"@jsx")));
        self.push(
            record,
            start,
            end,
            Kind::Comment {
                doc,
                keep,
                line: true,
            },
        );
        self.pos = end;
    }

    /// Go: a comment block at column 0 right above a top-level declaration documents it.
    fn go_doc(&self, start: usize) -> bool {
        if start > 0 && self.b[start - 1] != b'\n' {
            return false;
        }
        let mut i = start;
        while i < self.b.len() && self.b[i..].starts_with(b"//") {
            i = match memchr(b'\n', self.b, i) {
                Some(e) => e + 1,
                None => return false,
            };
        }
        let rest = &self.b[i..];
        // The keyword, then a blank, a bracket or the end (what follows it on the line may be
        // a comment that compression removes).
        [&b"func"[..], b"type", b"var", b"const", b"package"]
            .iter()
            .any(|k| starts_with_word(rest, k, b"(/"))
    }

    fn block_comment(&mut self, record: bool) {
        let start = self.pos;
        let mut i = start + 2;
        let mut depth = 1usize;
        while i < self.b.len() {
            if self.b[i] == b'*' && self.at(i + 1) == b'/' {
                depth -= 1;
                i += 2;
                if depth == 0 || !self.f.nested_comments {
                    depth = 0;
                    break;
                }
            } else if self.f.nested_comments && self.b[i] == b'/' && self.at(i + 1) == b'*' {
                depth += 1;
                i += 2;
            } else {
                i += 1;
            }
        }
        if depth > 0 {
            self.ok = false;
            i = self.b.len();
        }
        let body = &self.b[start..i];
        let doc = (body.starts_with(b"/**") && !body.starts_with(b"/***") && body != b"/**/")
            || body.starts_with(b"/*!");
        let keep = self.keep_all
            || (self.f.ts_directives && (contains(body, b"@ts-") || contains(body, b"@jsx")));
        self.push(
            record,
            start,
            i,
            Kind::Comment {
                doc,
                keep,
                line: false,
            },
        );
        self.pos = i;
    }

    /// A quoted string with backslash escapes; ends at an unescaped newline for robustness
    /// (except in Rust, Go raw strings and C line continuations, which allow newlines).
    fn quoted(&mut self, q: u8) {
        let mut i = self.pos + 1;
        let multiline = self.f.rust;
        while i < self.b.len() {
            let c = self.b[i];
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == q {
                self.pos = i + 1;
                return;
            }
            if c == b'\n' && !multiline {
                // Unterminated on this line: not valid code; stop the literal here.
                self.ok = false;
                self.pos = i;
                return;
            }
            i += 1;
        }
        self.ok = false;
        self.pos = self.b.len();
    }

    fn text_block(&mut self) {
        let mut i = self.pos + 3;
        while i < self.b.len() {
            if self.b[i] == b'\\' {
                i += 2;
                continue;
            }
            if self.b[i..].starts_with(b"\"\"\"") {
                self.pos = i + 3;
                return;
            }
            i += 1;
        }
        self.ok = false;
        self.pos = self.b.len();
    }

    fn template(&mut self) {
        self.pos += 1;
        while self.pos < self.b.len() {
            match self.b[self.pos] {
                b'\\' => self.pos += 2,
                b'`' => {
                    self.pos += 1;
                    return;
                }
                b'$' if self.at(self.pos + 1) == b'{' => {
                    self.pos += 2;
                    self.code(true, false);
                }
                _ => self.pos += 1,
            }
        }
        self.ok = false;
        self.pos = self.b.len();
    }

    /// A JS regex literal; false (nothing consumed) when the `/` is a division.
    fn regex(&mut self, record: bool) -> bool {
        let start = self.pos;
        let mut i = start + 1;
        let mut class = false;
        while i < self.b.len() {
            match self.b[i] {
                b'\\' => i += 2,
                b'\n' => return false,
                b'[' => {
                    class = true;
                    i += 1;
                }
                b']' => {
                    class = false;
                    i += 1;
                }
                b'/' if !class => {
                    i += 1;
                    while i < self.b.len() && self.b[i].is_ascii_alphabetic() {
                        i += 1;
                    }
                    self.pos = i;
                    self.push(record, start, i, Kind::Str);
                    self.regex_ok = false;
                    return true;
                }
                _ => i += 1,
            }
        }
        false
    }

    /// Rust `'x'`, `'\n'`, `b'x'`; false for lifetimes and labels (`'a`).
    fn rust_char(&mut self) -> bool {
        let i = self.pos + 1;
        if self.at(i) == b'\\' {
            let mut j = i + 2;
            while j < self.b.len() && self.b[j] != b'\'' && self.b[j] != b'\n' {
                j += 1;
            }
            if self.at(j) == b'\'' {
                self.pos = j + 1;
                return true;
            }
            return false;
        }
        let rest = match std::str::from_utf8(&self.b[i..self.b.len().min(i + 5)]) {
            Ok(s) => s.chars().next(),
            Err(e) => std::str::from_utf8(&self.b[i..i + e.valid_up_to()])
                .ok()
                .and_then(|s| s.chars().next()),
        };
        match rest {
            // A raw newline, CR or tab is not a char literal (rustc wants them escaped).
            Some(ch)
                if !matches!(ch, '\'' | '\n' | '\r' | '\t')
                    && self.at(i + ch.len_utf8()) == b'\'' =>
            {
                self.pos = i + ch.len_utf8() + 1;
                true
            }
            _ => false,
        }
    }

    /// C, Java, Go char/rune literals; false when no closing quote on the line.
    fn char_literal(&mut self) -> bool {
        let mut i = self.pos + 1;
        while i < self.b.len() {
            match self.b[i] {
                b'\\' => i += 2,
                b'\'' => {
                    self.pos = i + 1;
                    return true;
                }
                b'\n' => return false,
                _ => i += 1,
            }
        }
        false
    }

    /// Rust raw strings: `r"..."`, `r#"..."#`, `br##"..."##`; `at` is just after the prefix.
    fn rust_raw(&mut self, at: usize) -> Option<usize> {
        let mut i = at;
        while self.at(i) == b'#' {
            i += 1;
        }
        let hashes = i - at;
        if self.at(i) != b'"' {
            return None;
        }
        i += 1;
        while i < self.b.len() {
            if self.b[i] == b'"'
                && self.b[i + 1..].iter().take(hashes).all(|&c| c == b'#')
                && self.b.len() - (i + 1) >= hashes
            {
                return Some(i + 1 + hashes);
            }
            i += 1;
        }
        self.ok = false;
        Some(self.b.len())
    }

    /// C++ raw strings `R"delim( ... )delim"`; `at` is the opening quote.
    fn cpp_raw(&self, at: usize) -> Option<usize> {
        let open = memchr(b'(', self.b, at + 1)?;
        let delim = &self.b[at + 1..open];
        if delim.len() > 16 || delim.iter().any(|c| c.is_ascii_whitespace() || *c == b'\\') {
            return None;
        }
        let mut close = Vec::with_capacity(delim.len() + 2);
        close.push(b')');
        close.extend_from_slice(delim);
        close.push(b'"');
        let mut i = open + 1;
        while i + close.len() <= self.b.len() {
            if self.b[i..].starts_with(&close) {
                return Some(i + close.len());
            }
            i += 1;
        }
        None
    }
}

fn memchr(needle: u8, hay: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .iter()
        .position(|&c| c == needle)
        .map(|p| p + from)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// TOML: `#` comments; basic, literal and multi-line strings.
fn hash_lang(text: &str) -> Lexed {
    let b = text.as_bytes();
    let mut spans = Vec::new();
    let mut ok = true;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                let end = memchr(b'\n', b, i).unwrap_or(b.len());
                spans.push(Span {
                    start: i,
                    end,
                    kind: Kind::Comment {
                        doc: false,
                        keep: false,
                        line: true,
                    },
                });
                i = end;
            }
            q @ (b'"' | b'\'') => {
                let start = i;
                let triple = b[i..].starts_with(&[q, q, q]);
                i += if triple { 3 } else { 1 };
                let mut closed = false;
                while i < b.len() {
                    let c = b[i];
                    if c == b'\\' && q == b'"' {
                        i += 2;
                        continue;
                    }
                    if triple {
                        if b[i..].starts_with(&[q, q, q]) {
                            i += 3;
                            while i < b.len() && b[i] == q {
                                i += 1;
                            }
                            closed = true;
                            break;
                        }
                    } else if c == q {
                        i += 1;
                        closed = true;
                        break;
                    } else if c == b'\n' {
                        break;
                    }
                    i += 1;
                }
                ok &= closed;
                spans.push(Span {
                    start,
                    end: i.min(b.len()),
                    kind: Kind::Str,
                });
            }
            _ => i += 1,
        }
    }
    Lexed { spans, ok }
}

/// Python: `#` comments, all string forms (prefixes, triple quotes, f-string replacement fields
/// with nested strings), docstrings of modules, classes and functions.
fn python(text: &str) -> Lexed {
    let mut p = Py {
        b: text.as_bytes(),
        pos: 0,
        spans: Vec::new(),
        ok: true,
    };
    p.run();
    Lexed {
        spans: p.spans,
        ok: p.ok,
    }
}

struct Py<'a> {
    b: &'a [u8],
    pos: usize,
    spans: Vec<Span>,
    ok: bool,
}

/// Where the lexer is relative to the statement structure, for docstring detection.
#[derive(Clone, Copy, PartialEq, Eq)]
enum DocState {
    /// A string here is the module docstring.
    ModuleStart,
    /// The previous logical line was a `def`/`class` header with this indentation width.
    AfterHeader(usize),
    /// Anything else.
    None,
}

impl Py<'_> {
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    fn run(&mut self) {
        let mut depth = 0usize;
        let mut line_start = true; // at the start of a logical line
        let mut line_indent = 0usize; // indentation of the current logical line
        let mut first_word: &[u8] = b""; // first keyword of the logical line (after decorators)
        let mut header = false; // the logical line is a def/class header
        let mut last_code = 0u8; // last significant code byte of the logical line
        let mut doc = DocState::ModuleStart;
        let mut line_no = 0usize;
        while self.pos < self.b.len() {
            let c = self.b[self.pos];
            if line_start && depth == 0 {
                // Measure indentation; skip blank and comment-only lines.
                let (width, next) = indent_width(self.b, self.pos);
                match self.at(next) {
                    b'\n' | b'\r' => {
                        self.pos = next + 1;
                        line_no += 1;
                        continue;
                    }
                    b'#' => {
                        self.pos = next;
                        self.comment(line_no);
                        continue;
                    }
                    _ if next >= self.b.len() => {
                        self.pos = next;
                        break;
                    }
                    _ => {
                        self.pos = next;
                        line_start = false;
                        line_indent = width;
                        first_word = b"";
                        header = false;
                        last_code = 0;
                        // A docstring candidate: the logical line starts with a string.
                        if doc != DocState::None {
                            if let Some(more) = self.try_docstring(doc, width) {
                                if !more {
                                    doc = DocState::None;
                                }
                                line_start = true;
                                continue;
                            }
                        }
                        doc = DocState::None;
                    }
                }
                continue;
            }
            match c {
                b'#' => self.comment(line_no),
                b'\n' => {
                    self.pos += 1;
                    line_no += 1;
                    if depth == 0 && last_code != b'\\' {
                        line_start = true;
                        if header && last_code == b':' {
                            doc = DocState::AfterHeader(line_indent);
                        }
                    }
                    if last_code == b'\\' {
                        last_code = b' ';
                    }
                }
                b' ' | b'\t' | b'\r' | b'\x0c' => self.pos += 1,
                b'(' | b'[' | b'{' => {
                    depth += 1;
                    self.pos += 1;
                    last_code = c;
                }
                b')' | b']' | b'}' => {
                    depth = depth.saturating_sub(1);
                    self.pos += 1;
                    last_code = c;
                }
                b'"' | b'\'' => {
                    let start = self.pos;
                    // `def f(): "doc"` on one line.
                    if header && last_code == b':' && depth == 0 {
                        if let Some(end) = self.docstring_rest_of_line(start) {
                            self.spans.push(Span {
                                start,
                                end,
                                kind: Kind::Docstring { sole: true },
                            });
                            self.pos = end;
                            last_code = b'"';
                            continue;
                        }
                    }
                    self.string(b"");
                    self.spans.push(Span {
                        start,
                        end: self.pos,
                        kind: Kind::Str,
                    });
                    last_code = b'"';
                }
                c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                    let start = self.pos;
                    while self.pos < self.b.len()
                        && (self.b[self.pos].is_ascii_alphanumeric()
                            || self.b[self.pos] == b'_'
                            || self.b[self.pos] >= 0x80)
                    {
                        self.pos += 1;
                    }
                    let word = &self.b[start..self.pos];
                    if matches!(self.at(self.pos), b'"' | b'\'') && is_prefix(word) {
                        self.string(word);
                        self.spans.push(Span {
                            start,
                            end: self.pos,
                            kind: Kind::Str,
                        });
                        last_code = b'"';
                        continue;
                    }
                    if first_word.is_empty() && depth == 0 && last_code == 0 {
                        first_word = word;
                        header = matches!(word, b"def" | b"class");
                    } else if first_word == b"async" && word == b"def" {
                        header = true;
                    }
                    last_code = b'a';
                }
                b'\\' => {
                    // Outside a string a backslash only joins lines; anything else after it is
                    // not Python (and what a pass removes after it could make it a join).
                    if !matches!(self.at(self.pos + 1), b'\n' | b'\r') {
                        self.ok = false;
                    }
                    self.pos += 1;
                    last_code = b'\\';
                }
                _ => {
                    self.pos += 1;
                    last_code = c;
                }
            }
        }
        if depth > 0 {
            // Unclosed bracket at EOF: not valid Python.
            self.ok = false;
        }
    }

    fn comment(&mut self, line_no: usize) {
        let start = self.pos;
        let end = memchr(b'\n', self.b, start).unwrap_or(self.b.len());
        let body = &self.b[start..end];
        let keep = (line_no == 0 && start == 0 && body.starts_with(b"#!"))
            || (line_no <= 1 && is_coding_cookie(body));
        self.spans.push(Span {
            start,
            end,
            kind: Kind::Comment {
                doc: false,
                keep,
                line: true,
            },
        });
        self.pos = end;
    }

    /// At the first token of a logical line right after a header (or at module start): when
    /// the line is a docstring, records it and returns `Some(another string statement follows)`.
    fn try_docstring(&mut self, state: DocState, width: usize) -> Option<bool> {
        let start = self.pos;
        let mut i = start;
        while i < self.b.len() && (self.b[i].is_ascii_alphabetic()) && i - start < 3 {
            i += 1;
        }
        let prefix = &self.b[start..i];
        if !matches!(self.at(i), b'"' | b'\'') {
            return None;
        }
        if !prefix.is_empty() && !is_prefix(prefix) {
            return None;
        }
        if let DocState::AfterHeader(h) = state {
            if width <= h {
                return None;
            }
        }
        let end = self.docstring_rest_of_line(start)?;
        // A `pass` must replace the docstring when the body would be empty. A string statement
        // right after it is documentation too (it would become the docstring): removed as well.
        let (w, next) = next_statement_indent(self.b, end);
        let body_ends = match state {
            DocState::AfterHeader(h) => next >= self.b.len() || w <= h,
            _ => false,
        };
        let string_follows = next < self.b.len() && !body_ends && {
            let mut k = next;
            while k < self.b.len() && self.b[k].is_ascii_alphabetic() && k - next < 3 {
                k += 1;
            }
            matches!(self.at(k), b'"' | b'\'') && (k == next || is_prefix(&self.b[next..k]))
        };
        self.spans.push(Span {
            start,
            end,
            kind: Kind::Docstring { sole: body_ends },
        });
        self.pos = end;
        Some(string_follows)
    }

    /// When the string(s) at `start` form a whole docstring expression up to the end of the
    /// logical line (implicit concatenation allowed, no f/b prefixes), the end of the last one.
    fn docstring_rest_of_line(&mut self, start: usize) -> Option<usize> {
        let saved = (self.pos, self.spans.len(), self.ok);
        self.pos = start;
        let mut end;
        loop {
            let s = self.pos;
            let mut i = s;
            while i < self.b.len() && self.b[i].is_ascii_alphabetic() && i - s < 3 {
                i += 1;
            }
            let prefix = &self.b[s..i];
            if !matches!(self.at(i), b'"' | b'\'')
                || (!prefix.is_empty() && !is_prefix(prefix))
                || prefix
                    .iter()
                    .any(|c| matches!(c, b'f' | b'F' | b'b' | b'B' | b't' | b'T'))
            {
                break self.restore(saved);
            }
            self.pos = i;
            self.string(prefix);
            if !self.ok {
                // Unterminated: not a docstring; the main loop lexes it (and fails the file).
                break self.restore(saved);
            }
            end = self.pos;
            // Whitespace (and line joins in parens / backslashes) before the next token.
            let mut j = self.pos;
            loop {
                match self.at(j) {
                    b' ' | b'\t' | b'\x0c' => j += 1,
                    b'\\' if matches!(self.at(j + 1), b'\n') => j += 2,
                    _ => break,
                }
            }
            match self.at(j) {
                b'\n' | b'\r' | b'#' | 0 => {
                    self.spans.truncate(saved.1);
                    self.ok = saved.2;
                    self.pos = saved.0;
                    return Some(end);
                }
                b'"' | b'\'' => self.pos = j,
                c if c.is_ascii_alphabetic() => self.pos = j,
                _ => break self.restore(saved),
            }
        }
    }

    fn restore(&mut self, saved: (usize, usize, bool)) -> Option<usize> {
        self.pos = saved.0;
        self.spans.truncate(saved.1);
        self.ok = saved.2;
        None
    }

    /// Lexes one string starting at `self.pos` (the opening quote) with the given prefix.
    fn string(&mut self, prefix: &[u8]) {
        let q = self.b[self.pos];
        let fstring = prefix
            .iter()
            .any(|c| matches!(c, b'f' | b'F' | b't' | b'T'));
        let triple = self.b[self.pos..].starts_with(&[q, q, q]);
        self.pos += if triple { 3 } else { 1 };
        while self.pos < self.b.len() {
            let c = self.b[self.pos];
            match c {
                b'\\' => self.pos += 2,
                b'\n' if !triple => {
                    self.ok = false;
                    return;
                }
                b'{' if fstring => {
                    if self.at(self.pos + 1) == b'{' {
                        self.pos += 2;
                    } else {
                        self.pos += 1;
                        self.replacement_field();
                    }
                }
                _ if c == q => {
                    if !triple {
                        self.pos += 1;
                        return;
                    }
                    if self.b[self.pos..].starts_with(&[q, q, q]) {
                        self.pos += 3;
                        return;
                    }
                    self.pos += 1;
                }
                _ => self.pos += 1,
            }
        }
        self.pos = self.pos.min(self.b.len());
        self.ok = false;
    }

    /// Inside an f-string after `{`: skips to the matching `}` (nested strings lexed).
    fn replacement_field(&mut self) {
        let mut depth = 0usize;
        while self.pos < self.b.len() {
            let c = self.b[self.pos];
            match c {
                b'{' | b'(' | b'[' => {
                    depth += 1;
                    self.pos += 1;
                }
                b'}' if depth == 0 => {
                    self.pos += 1;
                    return;
                }
                b'}' | b')' | b']' => {
                    depth = depth.saturating_sub(1);
                    self.pos += 1;
                }
                b'"' | b'\'' => {
                    let start = self.pos;
                    let mut k = start;
                    while k > 0 && self.b[k - 1].is_ascii_alphabetic() {
                        k -= 1;
                    }
                    let prefix = self.b[k..start].to_vec();
                    let prefix = if is_prefix(&prefix) {
                        prefix
                    } else {
                        Vec::new()
                    };
                    self.string(&prefix);
                }
                _ => self.pos += 1,
            }
        }
    }
}

fn is_prefix(word: &[u8]) -> bool {
    if word.is_empty() || word.len() > 2 {
        return false;
    }
    let lower: Vec<u8> = word.iter().map(|c| c.to_ascii_lowercase()).collect();
    matches!(
        lower.as_slice(),
        b"r" | b"u" | b"b" | b"f" | b"t" | b"br" | b"rb" | b"fr" | b"rf" | b"tr" | b"rt"
    )
}

fn is_coding_cookie(line: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(line) else {
        return false;
    };
    s.contains("coding:") || s.contains("coding=")
}

/// Indentation width (tabs to multiples of 8, as Python counts) from `i`, and the first
/// non-blank position.
fn indent_width(b: &[u8], mut i: usize) -> (usize, usize) {
    let mut w = 0usize;
    while i < b.len() {
        match b[i] {
            b' ' => w += 1,
            b'\t' => w = (w / 8 + 1) * 8,
            b'\x0c' => w = 0,
            _ => break,
        }
        i += 1;
    }
    (w, i)
}

/// After position `i` (end of a docstring): the indentation of the next line that holds code.
fn next_statement_indent(b: &[u8], i: usize) -> (usize, usize) {
    let mut i = match memchr(b'\n', b, i) {
        Some(e) => e + 1,
        None => return (0, b.len()),
    };
    loop {
        let (w, next) = indent_width(b, i);
        match b.get(next) {
            None => return (0, b.len()),
            Some(b'\n') | Some(b'\r') | Some(b'#') => match memchr(b'\n', b, next) {
                Some(e) => i = e + 1,
                None => return (0, b.len()),
            },
            Some(_) => return (w, next),
        }
    }
}

/// Whether `b` starts with the word `word`: then a blank, one of `also`, or the end. Blanks
/// that compression trims (or a comment it removes) after the word leave it the same word.
fn starts_with_word(b: &[u8], word: &[u8], also: &[u8]) -> bool {
    b.starts_with(word)
        && b.get(word.len())
            .is_none_or(|c| c.is_ascii_whitespace() || *c == b'\x0b' || also.contains(c))
}
