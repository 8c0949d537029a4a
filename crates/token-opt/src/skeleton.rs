//! The `skeleton` level: function bodies elided with tree-sitter grammars, structure kept.

use crate::Language;

/// `text` with every function body replaced by `{ ... }` (or `...` in Python), and large data
/// values (see [`data_cut`]) by `...`; `None` when the language has no grammar in this build or
/// the parser gives up.
#[cfg(feature = "skeleton")]
pub(crate) fn elide_bodies(text: &str, lang: Language) -> Option<String> {
    let (language, kinds, python): (tree_sitter::Language, &[&str], bool) = match lang {
        Language::Rust => (tree_sitter_rust::LANGUAGE.into(), &["function_item"], false),
        Language::Python => (
            tree_sitter_python::LANGUAGE.into(),
            &["function_definition"],
            true,
        ),
        Language::JavaScript | Language::Jsx => {
            (tree_sitter_javascript::LANGUAGE.into(), JS, false)
        }
        Language::TypeScript => (
            tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            JS,
            false,
        ),
        Language::Tsx => (tree_sitter_typescript::LANGUAGE_TSX.into(), JS, false),
        Language::Go => (
            tree_sitter_go::LANGUAGE.into(),
            &["function_declaration", "method_declaration", "func_literal"],
            false,
        ),
        Language::Java => (
            tree_sitter_java::LANGUAGE.into(),
            &[
                "method_declaration",
                "constructor_declaration",
                "compact_constructor_declaration",
                "lambda_expression",
            ],
            false,
        ),
        Language::C => (
            tree_sitter_c::LANGUAGE.into(),
            &["function_definition"],
            false,
        ),
        Language::Cpp => (
            tree_sitter_cpp::LANGUAGE.into(),
            &["function_definition", "lambda_expression"],
            false,
        ),
        _ => return None,
    };
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&language).ok()?;
    let tree = parser.parse(text, None)?;
    let mut cuts: Vec<(usize, usize, &str)> = Vec::new();
    let mut cursor = tree.walk();
    // Pre-order walk without recursion (deeply nested code must not overflow the stack).
    'walk: loop {
        let node = cursor.node();
        let mut descend = true;
        // A function the parser could not make full sense of keeps its body (cutting at a
        // guessed boundary could leave half a body behind).
        if kinds.contains(&node.kind()) && !node.has_error() {
            if let Some(body) = node.child_by_field_name("body") {
                let block = matches!(
                    body.kind(),
                    "block"
                        | "statement_block"
                        | "compound_statement"
                        | "constructor_body"
                        | "function_body"
                );
                let elided = if python { "..." } else { "{ ... }" };
                // A body no longer than its marker (`{}`, `{ x }`) is kept: eliding it would
                // only add tokens.
                if block && body.end_byte() > body.start_byte() + elided.len() {
                    cuts.push((body.start_byte(), body.end_byte(), elided));
                    descend = false;
                }
            }
        } else if !node.has_error() {
            if let Some(cut) = data_cut(node, lang) {
                cuts.push(cut);
                descend = false;
            }
        }
        if descend && cursor.goto_first_child() {
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
    let mut out = String::with_capacity(text.len() / 2);
    let mut pos = 0usize;
    for (start, end, elided) in cuts {
        if start < pos || end > text.len() {
            continue;
        }
        out.push_str(text.get(pos..start)?);
        out.push_str(elided);
        pos = end;
    }
    out.push_str(text.get(pos..)?);
    Some(out)
}

/// Data rather than structure: the value of a multi-line `const`/`static` (Rust) or of a
/// multi-line literal assignment (Python), and the rules of a `macro_rules!` definition.
#[cfg(feature = "skeleton")]
fn data_cut(node: tree_sitter::Node<'_>, lang: Language) -> Option<(usize, usize, &'static str)> {
    let big = |n: tree_sitter::Node<'_>| {
        n.end_position().row >= n.start_position().row + 2 || n.end_byte() - n.start_byte() >= 400
    };
    match (lang, node.kind()) {
        (Language::Rust, "const_item" | "static_item") => {
            let v = node.child_by_field_name("value")?;
            big(v).then(|| (v.start_byte(), v.end_byte(), "..."))
        }
        (Language::Rust, "macro_definition") => {
            let name = node.child_by_field_name("name")?;
            big(node).then(|| (name.end_byte(), node.end_byte(), " { ... }"))
        }
        (Language::Python, "assignment") => {
            let v = node.child_by_field_name("right")?;
            let literal = matches!(
                v.kind(),
                "list" | "dictionary" | "set" | "tuple" | "concatenated_string"
            );
            (literal && big(v)).then(|| (v.start_byte(), v.end_byte(), "..."))
        }
        _ => None,
    }
}

#[cfg(feature = "skeleton")]
const JS: &[&str] = &[
    "function_declaration",
    "function_expression",
    "function",
    "generator_function_declaration",
    "generator_function",
    "arrow_function",
    "method_definition",
];

/// Without the `skeleton` feature there are no grammars.
#[cfg(not(feature = "skeleton"))]
pub(crate) fn elide_bodies(_text: &str, _lang: Language) -> Option<String> {
    None
}
