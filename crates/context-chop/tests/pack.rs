//! Selection and packs: never over budget (property test over budgets, formats and edits),
//! the budget is used when material exists, formats parse, per-file limits and merging hold.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use context_chop::{render, Format, Index, IndexOptions, Query, SelectOptions};
use proptest::prelude::*;
use std::fs;
use std::sync::OnceLock;
use token_opt::{Encoding, Tokenizer};

fn corpus() -> &'static (tempfile::TempDir, Index) {
    static C: OnceLock<(tempfile::TempDir, Index)> = OnceLock::new();
    C.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("src")).unwrap();
        for i in 0..30 {
            let mut s = String::new();
            for j in 0..12 {
                s.push_str(&format!(
                    "/// Parses the <config> & \"value\" {j} of part {i}.\npub fn parse_config_{i}_{j}(input: &str) -> Result<Config, Error> {{\n    let cfg = Config::from_str(input)?; // `code`\n    validate(&cfg, {j})?;\n    Ok(cfg)\n}}\n\n"
                ));
            }
            fs::write(d.path().join(format!("src/part_{i}.rs")), s).unwrap();
        }
        fs::write(d.path().join("notes.md"), "# Config\n\n```rust\nlet x = 1;\n```\n").unwrap();
        let opts = IndexOptions { persist: false, ..IndexOptions::default() };
        let idx = Index::open(d.path(), opts).unwrap();
        (d, idx)
    })
}

fn tok() -> Tokenizer {
    Tokenizer::new(Encoding::O200k).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]
    #[test]
    fn never_over_budget(
        budget in 0usize..6000,
        fmt in prop::sample::select(vec![Format::Markdown, Format::Xml, Format::Json]),
        outline in any::<bool>(),
        per_file in 1usize..10,
        grow in 0usize..3,
    ) {
        let (_, idx) = corpus();
        let t = tok();
        let opts = SelectOptions::builder().max_tokens(budget).format(fmt).outline(outline)
            .max_chunks_per_file(per_file).build();
        let mut sel = idx.select(&Query::new("parse config validate"), &opts).unwrap();
        let pack = render(&sel, &t);
        prop_assert!(pack.tokens_used <= budget);
        prop_assert_eq!(pack.tokens_used, t.count(&pack.text));
        prop_assert_eq!(pack.dropped, 0, "select's own choice fits without drops");
        // The caller's edits (longer placeholders) never break the budget either.
        for c in &mut sel.chunks {
            c.text = c.text.repeat(grow + 1);
        }
        let pack = render(&sel, &t);
        prop_assert!(pack.tokens_used <= budget);
        prop_assert_eq!(pack.tokens_used, t.count(&pack.text));
    }
}

#[test]
fn uses_at_least_90_percent_when_material_exists() {
    let (_, idx) = corpus();
    for budget in [500, 2000, 8000, 16000] {
        for fmt in [Format::Markdown, Format::Xml, Format::Json] {
            let opts = SelectOptions::builder()
                .max_tokens(budget)
                .format(fmt)
                .max_chunks_per_file(50)
                .build();
            let pack = idx.pack(&Query::new("parse config"), &opts).unwrap();
            assert!(pack.tokens_used <= budget);
            assert!(
                pack.tokens_used * 10 >= budget * 9,
                "{fmt} {budget}: {} {:?}",
                pack.tokens_used,
                pack.chunks
            );
        }
    }
}

#[test]
fn formats_parse_and_carry_paths_and_spans() {
    let (dir, idx) = corpus();
    let q = Query::new("parse_config_3_4 validate");
    let opts = |f| {
        SelectOptions::builder()
            .max_tokens(3000)
            .format(f)
            .outline(true)
            .build()
    };
    let json = idx.pack(&q, &opts(Format::Json)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json.text).unwrap();
    let arr = v["chunks"].as_array().unwrap();
    assert_eq!(arr.len(), json.chunks.len());
    assert!(v["outline"].as_str().unwrap().contains("src:"));
    for (c, p) in arr.iter().zip(&json.chunks) {
        assert_eq!(c["path"], p.path.as_str());
        let file = fs::read_to_string(dir.path().join(&p.path)).unwrap();
        let lines: Vec<&str> = file.split_inclusive('\n').collect();
        let want: String = lines[p.start_line as usize - 1..p.end_line as usize].concat();
        assert_eq!(
            c["text"].as_str().unwrap(),
            want,
            "text is exactly the span"
        );
    }
    assert_eq!(json.chunks[0].path, "src/part_3.rs");
    // The Pack itself serializes for the facade's JSON contract.
    let pv = serde_json::to_value(&json).unwrap();
    for k in ["text", "chunks", "tokens_used"] {
        assert!(pv.get(k).is_some());
    }
    for k in ["path", "start_line", "end_line", "score", "tokens"] {
        assert!(pv["chunks"][0].get(k).is_some());
    }

    let xml = idx.pack(&q, &opts(Format::Xml)).unwrap().text;
    assert!(xml.starts_with("<context>\n") && xml.ends_with("</context>\n"));
    let mut depth = 0i32;
    let mut rest = xml.as_str();
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').unwrap();
        let tag = &rest[..end];
        assert!(!tag.contains('<'), "unescaped < inside a tag");
        if tag.starts_with('/') {
            depth -= 1;
        } else {
            depth += 1;
        }
        assert!(depth >= 0);
    }
    assert_eq!(depth, 0, "balanced tags, text escaped");
    assert!(xml.contains("&lt;config&gt; &amp; &quot;value&quot;"));

    let md = idx.pack(&q, &opts(Format::Markdown)).unwrap();
    assert!(md.text.starts_with("## Tree\n"));
    assert!(md.text.contains(&format!(
        "## {}:{}-{}\n```rust\n",
        md.chunks[0].path, md.chunks[0].start_line, md.chunks[0].end_line
    )));
    assert_eq!(md.text.matches("\n```rust\n").count(), md.chunks.len());
}

#[test]
fn per_file_limit_and_merging() {
    let (_, idx) = corpus();
    let opts = SelectOptions::builder()
        .max_tokens(20000)
        .max_chunks_per_file(2)
        .build();
    let sel = idx.select(&Query::new("parse config"), &opts).unwrap();
    let mut per: std::collections::HashMap<&str, u32> = Default::default();
    for c in &sel.chunks {
        assert!(c.end_line >= c.start_line);
        *per.entry(c.path.as_str()).or_default() += 1;
    }
    assert!(per.len() > 5);
    // Blocks of one file never overlap or touch (touching ones are merged).
    let mut spans: Vec<(&str, u32, u32)> = sel
        .chunks
        .iter()
        .map(|c| (c.path.as_str(), c.start_line, c.end_line))
        .collect();
    spans.sort();
    for w in spans.windows(2) {
        if w[0].0 == w[1].0 {
            assert!(w[0].2 + 1 < w[1].1, "{w:?}");
        }
    }
    let nothing = idx
        .pack(&Query::new("zzzunknownzzz"), &SelectOptions::default())
        .unwrap();
    assert!(nothing.chunks.is_empty());
    assert!(nothing.tokens_used <= 8000);
}
