//! Compression behaviour per language: what is removed, what is never touched.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use token_opt::{compress, CompressOptions, Compressor, Language, Level};

fn c(text: &str, lang: Language, level: Level) -> String {
    compress(text, lang, level).unwrap().text
}

#[test]
fn detects_languages_from_extension_and_shebang() {
    assert_eq!(Language::detect("a/b.rs", ""), Language::Rust);
    assert_eq!(Language::detect("x.PY", ""), Language::Python);
    assert_eq!(
        Language::detect("tool", "#!/usr/bin/env python3"),
        Language::Python
    );
    assert_eq!(
        Language::detect("tool", "#!/usr/bin/node"),
        Language::JavaScript
    );
    assert_eq!(Language::detect("README", "hello"), Language::Unknown);
    assert_eq!(Language::detect("a.tsx", ""), Language::Tsx);
    assert_eq!("py".parse::<Language>().unwrap(), Language::Python);
    assert_eq!("c++".parse::<Language>().unwrap(), Language::Cpp);
    assert!("cobol".parse::<Language>().is_err());
    for l in ["lossless", "balanced", "aggressive", "skeleton"] {
        assert_eq!(l.parse::<Level>().unwrap().to_string(), l);
    }
    assert!("max".parse::<Level>().is_err());
}

#[test]
fn lossless_trims_whitespace_but_not_strings() {
    let src = "x = \"\"\"a   \n\n\n\nb\"\"\"   \r\n\r\n\r\n\r\ny = 1  \r\n";
    let out = c(src, Language::Python, Level::Lossless);
    assert_eq!(out, "x = \"\"\"a   \n\n\n\nb\"\"\"\n\ny = 1\n");
    let text = "para one   \n\n\n\npara two\t\n";
    assert_eq!(
        c(text, Language::Unknown, Level::Lossless),
        "para one\n\npara two\n"
    );
    // Unknown languages fall back to lossless at every level.
    let out = compress(text, Language::Unknown, Level::Aggressive).unwrap();
    assert_eq!(out.level, Level::Lossless);
}

#[test]
fn rust_comments_strings_raw_strings_chars_lifetimes() {
    let src = r####"/// Doc.
fn f<'a>(x: &'a str) -> char { /* outer /* nested */ still comment */
    let s = "not // a comment"; // real comment
    let r = r#"raw /* not comment */ "quoted""#;
    let c = '"'; let d = b'\''; let e = '/';
    'outer: loop { break 'outer; }
    x.len(); c
}
"####;
    let out = c(src, Language::Rust, Level::Balanced);
    assert!(out.contains("/// Doc."));
    assert!(!out.contains("nested"));
    assert!(!out.contains("real comment"));
    assert!(out.contains(r#""not // a comment""#));
    assert!(out.contains(r##"r#"raw /* not comment */ "quoted""#"##));
    assert!(out.contains(r#"let c = '"';"#));
    assert!(out.contains("'outer: loop"));
    let agg = c(src, Language::Rust, Level::Aggressive);
    assert!(!agg.contains("Doc."));
}

#[test]
fn javascript_templates_regexes_and_directives() {
    let src = "/// <reference path=\"x.d.ts\" />\n// @ts-ignore\nconst t = `a ${ {b: '/* no */'}.b } // kept`; // gone\nconst re = /\\/\\/ not a comment/g; /* gone */\nlet x = a / b / c; // gone too\n";
    let out = c(src, Language::TypeScript, Level::Balanced);
    assert!(out.contains("/// <reference path=\"x.d.ts\" />"));
    assert!(out.contains("// @ts-ignore"));
    assert!(out.contains("`a ${ {b: '/* no */'}.b } // kept`"));
    assert!(out.contains("/\\/\\/ not a comment/g"));
    assert!(out.contains("let x = a / b / c;"));
    assert!(!out.contains("gone"));
}

#[test]
fn go_keeps_directives_and_newlines_of_block_comments() {
    let src = "//go:build linux\n\npackage p\n\nvar s = `raw // text`\nfunc f() int { x := 1 /* a\n b */ return x } // c\n";
    let out = c(src, Language::Go, Level::Balanced);
    assert!(out.starts_with("//go:build linux\n"));
    assert!(out.contains("`raw // text`"));
    assert!(out.contains("x := 1\nreturn x }"), "{out}");
    assert!(!out.contains("// c"));
}

#[test]
fn cpp_raw_strings_digit_separators_and_splices() {
    let src = "#define X(a) a \\\n    + 1 // c\nauto s = R\"d(/* not */ \")d\"; int n = 1'000'000; char q = '\\''; // gone\n";
    let out = c(src, Language::Cpp, Level::Balanced);
    assert!(out.contains("R\"d(/* not */ \")d\""));
    assert!(out.contains("1'000'000"));
    assert!(out.contains("'\\''"));
    assert!(out.contains("a \\\n + 1"), "{out:?}");
    assert!(!out.contains("gone"));
}

#[test]
fn java_text_blocks_and_char_literals() {
    let src = "class A {\n  /** doc */\n  String s = \"\"\"\n    // inside\n    \"\"\"; // out\n  char c = '/';\n}\n";
    let out = c(src, Language::Java, Level::Balanced);
    assert!(out.contains("\"\"\"\n    // inside\n    \"\"\""));
    assert!(out.contains("/** doc */"));
    assert!(!out.contains("// out"));
    assert!(!c(src, Language::Java, Level::Aggressive).contains("doc"));
}

#[test]
fn python_docstrings_and_indentation() {
    let src = "#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\n\"\"\"Module doc.\"\"\"\nimport os  # why\n\ndef f(x):\n    \"\"\"Only a docstring.\"\"\"\n\nclass A:\n    '''Doc.'''\n    def g(self):\n        return [1,\n                2]  # two\n";
    let bal = c(src, Language::Python, Level::Balanced);
    assert!(bal.starts_with("#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\n"));
    assert!(bal.contains("Module doc."));
    assert!(bal.contains(" def g(self):\n  return [1,\n 2]"), "{bal}");
    let agg = c(src, Language::Python, Level::Aggressive);
    assert!(!agg.contains("doc"), "{agg}");
    assert!(agg.contains("def f(x):\n pass"), "{agg}");
    assert!(agg.contains("class A:\n def g(self):"), "{agg}");
}

#[test]
fn licence_headers_are_kept_once_per_session() {
    let a = "// Copyright 2024 Example Corp.\n// Licensed under the MIT licence.\n\nfn a() {}\n";
    let b = "// Copyright 2024 Example Corp.\n// Licensed under the MIT licence.\n\nfn b() {}\n";
    let mut s = Compressor::new(CompressOptions::builder().level(Level::Balanced).build());
    let first = s.compress(a, Language::Rust).unwrap();
    let second = s.compress(b, Language::Rust).unwrap();
    assert!(first.text.contains("Copyright"));
    assert!(!second.text.contains("Copyright"));
    assert_eq!(second.headers_deduplicated, 1);
}

#[test]
fn long_data_literals_are_elided_with_a_marker() {
    let blob = "QUJD".repeat(200);
    let src = format!(
        "const DATA: &str = \"{blob}\";\nconst MSG: &str = \"{}\";\n",
        "word ".repeat(100)
    );
    let out = compress(&src, Language::Rust, Level::Balanced).unwrap();
    assert!(
        out.text.contains("\"[elided: base64, 800 bytes]\""),
        "{}",
        out.text
    );
    assert!(out.text.contains("word word"));
    assert_eq!(out.literals_elided, 1);
    assert!(compress(&src, Language::Rust, Level::Lossless)
        .unwrap()
        .text
        .contains(&blob));
}

#[test]
fn json_and_yaml_are_minified() {
    let json = "{\n  \"a\": [1, 2,\n 3],\n  \"s\": \"x  y\"\n}\n";
    assert_eq!(
        c(json, Language::Json, Level::Balanced),
        "{\"a\":[1,2,3],\"s\":\"x  y\"}\n"
    );
    let yaml = "# top\nkey: value  # note\nlist:\n  - 'a # not comment'\n\nscript: |\n  echo hi   # kept\n\n  done\nother: 2\n";
    let out = c(yaml, Language::Yaml, Level::Balanced);
    assert_eq!(
        out,
        "key: value\nlist:\n  - 'a # not comment'\nscript: |\n  echo hi   # kept\n\n  done\nother: 2\n"
    );
}

#[test]
fn skeleton_elides_bodies() {
    let rs = "/// Adds.\npub fn add(a: u32, b: u32) -> u32 {\n    let c = a + b;\n    c\n}\nstruct S { x: u32 }\nimpl S {\n    fn get(&self) -> u32 { self.x }\n}\n";
    let out = compress(rs, Language::Rust, Level::Skeleton).unwrap();
    assert_eq!(out.level, Level::Skeleton);
    assert!(
        out.text
            .contains("pub fn add(a: u32, b: u32) -> u32 { ... }"),
        "{}",
        out.text
    );
    assert!(out.text.contains("struct S { x: u32 }"));
    assert!(out.text.contains("fn get(&self) -> u32 { ... }"));
    let py = "class A:\n    def f(self, x):\n        y = x * 2\n        return y\n";
    let out = c(py, Language::Python, Level::Skeleton);
    assert!(out.contains("def f(self, x):\n  ..."), "{out}");
    for (lang, src) in [
        (
            Language::Go,
            "package p\nfunc F(x int) int {\n\treturn x * 2\n}\n",
        ),
        (
            Language::Java,
            "class A { int f(int x) { return x * 2; } }\n",
        ),
        (Language::C, "int f(int x) {\n  return x * 2;\n}\n"),
        (Language::Cpp, "int f(int x) {\n  return x * 2;\n}\n"),
        (
            Language::JavaScript,
            "function f(x) {\n  return x * 2;\n}\n",
        ),
        (
            Language::TypeScript,
            "function f(x: number): number {\n  return x * 2;\n}\n",
        ),
    ] {
        let out = c(src, lang, Level::Skeleton);
        assert!(!out.contains("x * 2"), "{lang}: {out}");
        assert!(out.contains("{ ... }"), "{lang}: {out}");
    }
}

#[test]
fn broken_code_is_left_alone() {
    let src = "fn f() { let s = \"unterminated;\n    // comment\n";
    let out = compress(src, Language::Rust, Level::Aggressive).unwrap();
    assert_eq!(out.text, src);
    assert!(out.fallback.is_some());
}

#[test]
fn invalid_utf8_is_an_error_not_a_panic() {
    let mut s = Compressor::default();
    assert!(s
        .compress_bytes(b"fn f() {}\xff\xfe", Language::Rust)
        .is_err());
}

#[test]
fn rust_aggressive_drops_doc_attributes_but_not_macro_ones() {
    let src = "#![doc = include_str!(\"../README.md\")]\n#[doc(hidden)]\npub fn f() {}\n#[doc = \"x]\"] #[inline] fn g() {}\nmacro_rules! m { ($d:expr) => { $(#[doc = $d])* fn h() {} } }\n#[cfg_attr(docsrs, doc(cfg(feature = \"a\")))]\nfn k() {}\n";
    let out = c(src, Language::Rust, Level::Aggressive);
    assert_eq!(
        out,
        "pub fn f() {}\n#[inline] fn g() {}\nmacro_rules! m { ($d:expr) => { $(#[doc = $d])* fn h() {} } }\n#[cfg_attr(docsrs, doc(cfg(feature = \"a\")))]\nfn k() {}\n"
    );
    // Balanced keeps them.
    assert!(c(src, Language::Rust, Level::Balanced).contains("#[doc(hidden)]"));
}
