//! Inputs the fuzz targets (crates/token-opt/fuzz) found, kept as regression tests: every
//! level of every language must never add tokens and must be a fixed point on them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use token_opt::{CompressOptions, Compressor, Language, Level};

fn check(text: &str) {
    for lang in Language::ALL {
        for level in Level::ALL {
            let options = CompressOptions::builder().level(level).build();
            let once = Compressor::new(options.clone())
                .compress(text, lang)
                .unwrap();
            assert!(
                once.tokens_after <= once.tokens_before,
                "{lang} {level}: {text:?} grew"
            );
            let twice = Compressor::new(options).compress(&once.text, lang).unwrap();
            assert_eq!(
                twice.text, once.text,
                "not idempotent: {lang} {level} on {text:?} -> {:?}",
                once.text
            );
        }
    }
}

#[test]
fn carriage_returns_before_a_crlf() {
    // Found by every language target in the first `cargo xtask fuzz` run.
    for text in [
        "\r\r\n",
        "\r\r\n\0",
        "0\r\r\n",
        " \r\r\n",
        "\r\r\n%",
        "J\r\r\n",
        "\u{b}\r\r\n",
        "\r\t\r\n!",
        "\r\t\n",
        "a \r \r\nb\r",
    ] {
        check(text);
    }
}

#[test]
fn a_line_that_starts_with_a_line_join() {
    // Found by the idempotence property in CI: the Python lexer looped forever on a logical
    // line opening with `\` + newline at bracket depth 0.
    for text in [
        "\\\n",
        "\\\r\n",
        "x = 1\n\\\ny = 2\n",
        "  \\\n  \"doc\"\n",
        "def f():\n    \\\n    \"doc\"\n    return 1\n",
        "a\0# comment\n\0\n# another\n",
    ] {
        check(text);
    }
}

#[test]
fn lone_carriage_returns_in_comments_shebangs_and_strings() {
    // The third `cargo xtask fuzz --only token-opt` run: one input per language target.
    for text in [
        "~~\n\0/\r\t//\n",
        "\r#\n",
        "   #!`\t#`",
        " #!/'/  #!''/\u{1a}",
        "\r\r\r//%\n\r\r\r\u{10}",
        "\r//\t\n",
        "\t#!\t\t'\t]\t\t'\0\0\tZ",
        "P\r#\n\r\n\r#",
    ] {
        check(text);
    }
}

#[test]
fn blanks_before_a_hash_bang_and_a_go_directive_after_nuls() {
    // The fourth `cargo xtask fuzz --only token-opt` run: a `#!` that only became the start of
    // the text once leading blanks were gone, and a Go directive comment after NUL bytes.
    for text in [
        " #!2\u{b}\u{b}",
        "\n#!\u{b}",
        "\0\0\0\0//extern ",
        "\n\n#!\u{c}",
        " #!//! \n",
        "l]//extern ",
        "\"\\\u{4}\"\\#\n",
        "\n' \n'\t'\t!\t!",
        "\t\n\t\n'\r\n#\t\n'\r\n##coding:\u{2}\n  'l\n\n~\n",
    ] {
        check(text);
    }
}

#[test]
fn fifth_fuzz_run() {
    // `cargo xtask fuzz --only token-opt --seconds 30`, after the fixes above.
    for text in [
        "//:/!\\\n\n",
        "//\"o\nconst //lice)\0\0\0\0;/o/line\n",
        "\n\n\n#!\n\n#\u{b}\n\n\n#\u{b}\n\n#spdx\n\u{12}",
        " #!\"r #\n//##!r#\" \n\"r #\n//##!r#\"",
    ] {
        check(text);
    }
}
