//! Chunking at syntax boundaries: tree-sitter for Rust, Python, JavaScript/TypeScript, Go, Java,
//! C and C++; an indentation / blank-line / heading fallback for everything else.
//!
//! Every line of a file belongs to exactly one chunk, in order, so the chunk texts joined give
//! the file back. A cut between two lines costs the number of syntax nodes it would split
//! (zero between top-level items), plus a little when it would separate a comment or attribute
//! from the item below it; chunks are grown to about the target size and cut at the cheapest
//! place nearby, so small items are grouped and large ones are split at their inner boundaries.

use token_opt::{Language, Tokenizer};

/// How big chunks should be and how their boundaries are found. Plain struct with defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkOptions {
    /// The size to aim for, in tokens (default 200; the best of 120/180/200/300/450 for recall
    /// on the eval-context dev split).
    pub target_tokens: usize,
    /// The largest chunk, in tokens, unless one line is larger on its own (default 2x target).
    pub max_tokens: usize,
    /// What finds the syntax boundaries (default [`Syntax::Lexical`]).
    pub syntax: Syntax,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        ChunkOptions {
            target_tokens: 200,
            max_tokens: 400,
            syntax: Syntax::default(),
        }
    }
}

/// What finds the syntax boundaries of the languages with a grammar (Rust, Python,
/// JavaScript/TypeScript, Go, Java, C, C++). Other files use the indentation fallback either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Syntax {
    /// A lexer per language family (comments, strings, brackets, statements, definition
    /// keywords): over 100 MB/s, and on the eval-context repositories the same recall as
    /// tree-sitter. The default.
    #[default]
    Lexical,
    /// The tree-sitter grammars: the exact syntax tree, at about 8 MB/s per core.
    TreeSitter,
}

/// One piece of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// First line, 1-based.
    pub start_line: u32,
    /// Last line, 1-based, inclusive.
    pub end_line: u32,
    /// Byte offset of the first line in the file text.
    pub byte_start: usize,
    /// Byte offset just past the last line.
    pub byte_end: usize,
    /// Names of the items defined in this chunk (functions, types, classes, modules...).
    pub symbols: Vec<String>,
    /// Tokens of the chunk text: exact when the chunker has a tokenizer, else an estimate.
    pub tokens: usize,
}

impl Chunk {
    /// The chunk's text within the file text it was cut from.
    pub fn text<'a>(&self, file_text: &'a str) -> &'a str {
        file_text.get(self.byte_start..self.byte_end).unwrap_or("")
    }
}

/// Splits files into chunks.
///
/// ```
/// use context_chop::{ChunkOptions, Chunker};
///
/// let src = "fn a() {\n    1\n}\n\nfn b() {\n    2\n}\n";
/// let chunks = Chunker::new(ChunkOptions { target_tokens: 5, max_tokens: 10, ..Default::default() })
///     .chunk("x.rs", src);
/// assert_eq!(chunks.len(), 2);
/// assert_eq!((chunks[0].start_line, chunks[0].end_line), (1, 4));
/// assert_eq!(chunks[1].symbols, ["b"]);
/// assert_eq!(chunks.iter().map(|c| c.text(src)).collect::<String>(), src);
/// ```
#[derive(Debug, Clone)]
pub struct Chunker {
    opts: ChunkOptions,
    tokenizer: Option<Tokenizer>,
}

impl Chunker {
    /// A chunker sizing chunks with the fast token estimate.
    pub fn new(opts: ChunkOptions) -> Chunker {
        let mut opts = opts;
        opts.target_tokens = opts.target_tokens.max(1);
        opts.max_tokens = opts.max_tokens.max(opts.target_tokens);
        Chunker {
            opts,
            tokenizer: None,
        }
    }

    /// Sizes chunks with the exact tokenizer instead (slower).
    pub fn with_tokenizer(mut self, tokenizer: Tokenizer) -> Chunker {
        self.tokenizer = Some(tokenizer);
        self
    }

    /// The options in use.
    pub fn options(&self) -> ChunkOptions {
        self.opts
    }

    /// Chunks `text`, the contents of the file at `path` (the path picks the language).
    pub fn chunk(&self, path: &str, text: &str) -> Vec<Chunk> {
        let first = text.lines().next().unwrap_or("");
        self.chunk_lang(Language::detect(path, first), path, text)
    }

    /// Chunks `text` as `lang`.
    pub fn chunk_lang(&self, lang: Language, path: &str, text: &str) -> Vec<Chunk> {
        if text.is_empty() {
            return Vec::new();
        }
        let lines: Vec<(usize, usize)> = line_spans(text);
        let n = lines.len();
        let mut costs = vec![0f32; n + 1];
        let mut defs: Vec<(usize, String)> = Vec::new();
        let parsed = syntax_costs(self.opts.syntax, lang, text, &lines, &mut costs, &mut defs);
        if !parsed {
            fallback_costs(path, text, &lines, &mut costs);
            defs.clear();
        }
        let tok: Vec<usize> = lines
            .iter()
            .map(|&(a, b)| self.count(&text[a..b]))
            .collect();
        let cuts = choose_cuts(&tok, &costs, self.opts);
        let mut out = Vec::with_capacity(cuts.len());
        let mut s = 0usize;
        defs.sort_by_key(|d| d.0);
        let mut di = 0usize;
        for e in cuts {
            let mut symbols = Vec::new();
            while di < defs.len() && defs[di].0 < e {
                if defs[di].0 >= s && !symbols.contains(&defs[di].1) {
                    symbols.push(defs[di].1.clone());
                }
                di += 1;
            }
            let (bs, be) = (lines[s].0, lines[e - 1].1);
            let tokens = match self.tokenizer {
                Some(t) => t.count(&text[bs..be]),
                None => tok[s..e].iter().sum(),
            };
            out.push(Chunk {
                start_line: s as u32 + 1,
                end_line: e as u32,
                byte_start: bs,
                byte_end: be,
                symbols,
                tokens,
            });
            s = e;
        }
        out
    }

    fn count(&self, s: &str) -> usize {
        match self.tokenizer {
            Some(t) => t.count(s),
            None => token_opt::estimate_tokens(s),
        }
    }
}

/// Byte spans of the lines of `text`, each including its line break.
fn line_spans(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(text.len() / 30 + 1);
    let mut start = 0usize;
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' {
            out.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push((start, text.len()));
    }
    out
}

/// Ends (exclusive line indices) of the chunks, greedy: grow to about the target and cut at
/// the cheapest line boundary, weighing cost against distance from the target size.
fn choose_cuts(tok: &[usize], costs: &[f32], opts: ChunkOptions) -> Vec<usize> {
    let n = tok.len();
    let target = opts.target_tokens as f32;
    let max = opts.max_tokens;
    let mut cuts = Vec::new();
    let mut s = 0usize;
    let mut rest: usize = tok.iter().sum();
    while s < n {
        if rest as f32 <= target * 1.25 {
            cuts.push(n);
            break;
        }
        let mut acc = 0usize;
        let mut best = (f32::MAX, s + 1);
        for e in s + 1..=n {
            acc += tok[e - 1];
            if acc > max && best.0 < f32::MAX {
                break;
            }
            let cost = if e == n { 0.0 } else { costs[e] };
            let size = acc as f32;
            let mut pen = (size - target).abs() / target;
            if size < target * 0.25 {
                pen += 0.5;
            }
            let score = cost + pen;
            if score <= best.0 {
                best = (score, e);
            }
        }
        cuts.push(best.1);
        rest -= tok[s..best.1].iter().sum::<usize>();
        s = best.1;
    }
    cuts
}

fn indent_of(line: &str) -> usize {
    let mut w = 0;
    for c in line.chars() {
        match c {
            ' ' => w += 1,
            '\t' => w += 4,
            _ => break,
        }
    }
    w
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// Costs from indentation, blank lines and Markdown headings, for files without a grammar.
fn fallback_costs(path: &str, text: &str, lines: &[(usize, usize)], costs: &mut [f32]) {
    let markdown = path.ends_with(".md") || path.ends_with(".markdown") || path.ends_with(".rst");
    for l in 1..lines.len() {
        let line = &text[lines[l].0..lines[l].1];
        let prev = &text[lines[l - 1].0..lines[l - 1].1];
        let mut c = if markdown && line.starts_with('#') {
            0.0
        } else {
            (indent_of(line) as f32 / 4.0).min(4.0) + if markdown { 0.5 } else { 0.0 }
        };
        if is_blank(line) {
            c += 0.3;
        }
        if !is_blank(prev) {
            c += 1.0;
        }
        costs[l] = c;
    }
}

fn grammar(lang: Language) -> Option<tree_sitter::Language> {
    Some(match lang {
        Language::Rust => tree_sitter_rust::LANGUAGE.into(),
        Language::Python => tree_sitter_python::LANGUAGE.into(),
        Language::JavaScript | Language::Jsx => tree_sitter_javascript::LANGUAGE.into(),
        Language::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
        Language::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
        Language::Go => tree_sitter_go::LANGUAGE.into(),
        Language::Java => tree_sitter_java::LANGUAGE.into(),
        Language::C => tree_sitter_c::LANGUAGE.into(),
        Language::Cpp => tree_sitter_cpp::LANGUAGE.into(),
        _ => return None,
    })
}

/// Node kinds that define a named item, and whether the name comes from the `name` field.
fn definition_kind(kind: &str) -> bool {
    matches!(
        kind,
        "function_item"
            | "function_signature_item"
            | "struct_item"
            | "enum_item"
            | "union_item"
            | "trait_item"
            | "type_item"
            | "mod_item"
            | "const_item"
            | "static_item"
            | "macro_definition"
            | "impl_item"
            | "function_definition"
            | "class_definition"
            | "function_declaration"
            | "generator_function_declaration"
            | "class_declaration"
            | "abstract_class_declaration"
            | "method_definition"
            | "interface_declaration"
            | "type_alias_declaration"
            | "enum_declaration"
            | "method_declaration"
            | "constructor_declaration"
            | "record_declaration"
            | "type_spec"
            | "struct_specifier"
            | "class_specifier"
            | "enum_specifier"
            | "union_specifier"
            | "namespace_definition"
            | "variable_declarator"
    )
}

/// The defined name of a definition node, if it has one.
fn definition_name<'a>(
    node: tree_sitter::Node<'a>,
    text: &'a str,
) -> Option<tree_sitter::Node<'a>> {
    let kind = node.kind();
    if kind == "impl_item" {
        let mut t = node.child_by_field_name("type")?;
        if t.kind() == "generic_type" {
            t = t.child_by_field_name("type")?;
        }
        return Some(t);
    }
    if kind == "variable_declarator" {
        let v = node.child_by_field_name("value")?;
        if !matches!(
            v.kind(),
            "arrow_function" | "function_expression" | "function" | "class"
        ) {
            return None;
        }
    }
    if matches!(
        kind,
        "struct_specifier" | "class_specifier" | "enum_specifier" | "union_specifier"
    ) && node.child_by_field_name("body").is_none()
    {
        return None;
    }
    if let Some(n) = node.child_by_field_name("name") {
        return Some(n);
    }
    if kind == "function_definition" {
        // C / C++: the name sits at the bottom of a chain of declarators.
        let mut d = node.child_by_field_name("declarator")?;
        for _ in 0..8 {
            match d.kind() {
                "identifier"
                | "field_identifier"
                | "qualified_identifier"
                | "operator_name"
                | "destructor_name" => return Some(d),
                _ => d = d.child_by_field_name("declarator")?,
            }
        }
        let _ = text;
    }
    None
}

/// Fills `costs` from the syntax (cuts that split constructs cost one per construct split) and
/// `defs` with (line index, name) of definitions; false when there is no grammar.
fn syntax_costs(
    syntax: Syntax,
    lang: Language,
    text: &str,
    lines: &[(usize, usize)],
    costs: &mut [f32],
    defs: &mut Vec<(usize, String)>,
) -> bool {
    let n = lines.len();
    let mut diff = vec![0i32; n + 2];
    let found = match syntax {
        Syntax::Lexical => crate::lexical::spans(lang, text, n, &mut diff, defs),
        Syntax::TreeSitter => tree_sitter_spans(lang, text, n, &mut diff, defs),
    };
    if !found {
        return false;
    }
    let mut run = 0i32;
    for (l, cost) in costs.iter_mut().enumerate().take(n) {
        run += diff[l];
        if l == 0 {
            continue;
        }
        let mut c = run.clamp(0, 8) as f32;
        let prev = text[lines[l - 1].0..lines[l - 1].1].trim_start();
        if !prev.trim().is_empty() && is_attached(prev) {
            c += 0.6;
        }
        let here_blank = is_blank(&text[lines[l].0..lines[l].1]);
        if here_blank {
            // Blank lines end the chunk above rather than start the next one.
            c += 0.2;
        } else if !prev.trim().is_empty() {
            c += 0.1;
        }
        *cost = c;
    }
    true
}

/// The constructs a cut before each line would split (as a difference array, see
/// [`crate::lexical::spans`]) and the definitions, from the tree-sitter tree of `text`.
pub(crate) fn tree_sitter_spans(
    lang: Language,
    text: &str,
    n: usize,
    diff: &mut [i32],
    defs: &mut Vec<(usize, String)>,
) -> bool {
    let Some(language) = grammar(lang) else {
        return false;
    };
    if diff.len() < n + 2 {
        return false;
    }
    thread_local! {
        static PARSER: std::cell::RefCell<tree_sitter::Parser> =
            std::cell::RefCell::new(tree_sitter::Parser::new());
    }
    let tree = PARSER.with(|p| {
        let mut parser = p.borrow_mut();
        parser.set_language(&language).ok()?;
        parser.parse(text, None)
    });
    let Some(tree) = tree else {
        return false;
    };
    let mut cursor = tree.walk();
    'walk: loop {
        let node = cursor.node();
        let (sr, er) = (node.start_position().row, node.end_position().row);
        // A node ending at column 0 does not really occupy its end row.
        let er = if node.end_position().column == 0 && er > sr {
            er - 1
        } else {
            er
        };
        if cursor.depth() > 0 {
            let row = |r: usize| u32::try_from(r).unwrap_or(u32::MAX);
            crate::lexical::span(diff, n, row(sr), row(er), 1);
        }
        if node.is_named() && definition_kind(node.kind()) {
            if let Some(name) = definition_name(node, text) {
                if let Some(s) = text.get(name.start_byte()..name.end_byte()) {
                    if !s.is_empty() && s.len() < 120 {
                        defs.push((name.start_position().row, s.to_string()));
                    }
                }
            }
        }
        if (er > sr || cursor.depth() < 4) && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    true
}

/// Lines that belong to the item below them: comments, doc comments, attributes, decorators.
fn is_attached(line: &str) -> bool {
    line.starts_with("//")
        || line.starts_with("/*")
        || line.starts_with('*')
        || line.starts_with("#[")
        || line.starts_with('@')
        || line.starts_with('#') && !line.starts_with("#!")
}
