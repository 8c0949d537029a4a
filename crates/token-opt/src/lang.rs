//! Languages (detected from a path's extension or a shebang) and compression levels.

use crate::{Error, Result};
use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// A source language the compressor knows how to lex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Language {
    /// Rust (`.rs`).
    Rust,
    /// Python (`.py`, `.pyi`, `.pyw`, `python` shebangs).
    Python,
    /// JavaScript (`.js`, `.mjs`, `.cjs`, `node` shebangs).
    JavaScript,
    /// JavaScript with JSX (`.jsx`).
    Jsx,
    /// TypeScript (`.ts`, `.mts`, `.cts`).
    TypeScript,
    /// TypeScript with JSX (`.tsx`).
    Tsx,
    /// Go (`.go`).
    Go,
    /// Java (`.java`).
    Java,
    /// C (`.c`, `.h`).
    C,
    /// C++ (`.cc`, `.cpp`, `.cxx`, `.hpp`, `.hh`, `.hxx`, `.h++`, `.c++`).
    Cpp,
    /// CSS (`.css`).
    Css,
    /// JSON (`.json`, `.jsonl`, `.ndjson`, `.geojson`).
    Json,
    /// YAML (`.yaml`, `.yml`).
    Yaml,
    /// TOML (`.toml`).
    Toml,
    /// Anything else: only the `lossless` pass applies.
    Unknown,
}

impl Language {
    /// All languages, for listings and tests.
    pub const ALL: [Language; 15] = [
        Language::Rust,
        Language::Python,
        Language::JavaScript,
        Language::Jsx,
        Language::TypeScript,
        Language::Tsx,
        Language::Go,
        Language::Java,
        Language::C,
        Language::Cpp,
        Language::Css,
        Language::Json,
        Language::Yaml,
        Language::Toml,
        Language::Unknown,
    ];

    /// The language of a file from its extension, else from a shebang in `first_line`
    /// (`#!/usr/bin/env python3`, `#!/usr/bin/node`, ...); [`Language::Unknown`] otherwise.
    pub fn detect(path: impl AsRef<Path>, first_line: &str) -> Language {
        let path = path.as_ref();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            let lang = Self::from_extension(ext);
            if lang != Language::Unknown {
                return lang;
            }
        }
        Self::from_shebang(first_line)
    }

    /// The language for a file extension (without the dot, any case).
    pub fn from_extension(ext: &str) -> Language {
        match ext.to_ascii_lowercase().as_str() {
            "rs" => Language::Rust,
            "py" | "pyi" | "pyw" => Language::Python,
            "js" | "mjs" | "cjs" => Language::JavaScript,
            "jsx" => Language::Jsx,
            "ts" | "mts" | "cts" => Language::TypeScript,
            "tsx" => Language::Tsx,
            "go" => Language::Go,
            "java" => Language::Java,
            "c" | "h" => Language::C,
            "cc" | "cpp" | "cxx" | "c++" | "hpp" | "hh" | "hxx" | "h++" | "ipp" | "inl" => {
                Language::Cpp
            }
            "css" => Language::Css,
            "json" | "jsonl" | "ndjson" | "geojson" | "webmanifest" => Language::Json,
            "yaml" | "yml" => Language::Yaml,
            "toml" => Language::Toml,
            _ => Language::Unknown,
        }
    }

    /// The language named by a shebang line, if any.
    pub fn from_shebang(first_line: &str) -> Language {
        let Some(rest) = first_line.strip_prefix("#!") else {
            return Language::Unknown;
        };
        let mut words = rest.split_whitespace();
        let mut prog = words.next().unwrap_or("");
        if prog.ends_with("/env") {
            prog = words.find(|w| !w.starts_with('-')).unwrap_or("");
        }
        let name = prog.rsplit('/').next().unwrap_or(prog);
        if name.starts_with("python") || name == "pypy" || name == "pypy3" {
            Language::Python
        } else if name == "node" || name == "nodejs" || name == "bun" {
            Language::JavaScript
        } else if name == "deno" || name == "ts-node" || name == "tsx" {
            Language::TypeScript
        } else {
            Language::Unknown
        }
    }

    /// The short lower-case name (`rust`, `python`, ...), as accepted by [`FromStr`].
    pub fn name(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::JavaScript => "javascript",
            Language::Jsx => "jsx",
            Language::TypeScript => "typescript",
            Language::Tsx => "tsx",
            Language::Go => "go",
            Language::Java => "java",
            Language::C => "c",
            Language::Cpp => "cpp",
            Language::Css => "css",
            Language::Json => "json",
            Language::Yaml => "yaml",
            Language::Toml => "toml",
            Language::Unknown => "text",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Language {
    type Err = Error;

    /// Parses a language name (`rust`, `py`, `ts`, `c++`, `text`, ...) or a file extension.
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim().to_ascii_lowercase();
        let lang = match s.as_str() {
            "rust" => Language::Rust,
            "python" | "python3" => Language::Python,
            "javascript" | "node" => Language::JavaScript,
            "typescript" => Language::TypeScript,
            "golang" => Language::Go,
            "text" | "txt" | "plain" | "unknown" | "markdown" | "md" => Language::Unknown,
            other => {
                let lang = Language::from_extension(other.trim_start_matches('.'));
                if lang == Language::Unknown {
                    return Err(Error::Invalid(format!("unknown language {other:?}")));
                }
                lang
            }
        };
        Ok(lang)
    }
}

/// How far compression goes. Each level includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Level {
    /// Trailing whitespace, runs of blank lines, CRLF; never changes meaning anywhere.
    Lossless,
    /// Adds: comments removed with a real lexer, indentation re-encoded where the language allows,
    /// licence headers kept once, long data literals elided with a marker, JSON/YAML minified.
    #[default]
    Balanced,
    /// Adds: doc comments and docstrings removed.
    Aggressive,
    /// Signatures, types and structure only; function bodies elided (tree-sitter).
    Skeleton,
}

impl Level {
    /// All levels, weakest first.
    pub const ALL: [Level; 4] = [
        Level::Lossless,
        Level::Balanced,
        Level::Aggressive,
        Level::Skeleton,
    ];

    /// The lower-case name, as accepted by [`FromStr`].
    pub fn name(self) -> &'static str {
        match self {
            Level::Lossless => "lossless",
            Level::Balanced => "balanced",
            Level::Aggressive => "aggressive",
            Level::Skeleton => "skeleton",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Level {
    type Err = Error;

    /// Parses `lossless`, `balanced`, `aggressive` or `skeleton` (case-insensitive).
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "lossless" => Ok(Level::Lossless),
            "balanced" => Ok(Level::Balanced),
            "aggressive" => Ok(Level::Aggressive),
            "skeleton" => Ok(Level::Skeleton),
            other => Err(Error::Invalid(format!(
                "unknown level {other:?}; expected lossless, balanced, aggressive or skeleton"
            ))),
        }
    }
}
