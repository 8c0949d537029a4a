//! Recall and false-positive rate on the labelled secrets corpus in
//! `$CARGO_MANIFEST_DIR/../../../shared/data/secrets` (tp.jsonl, fp.jsonl).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use secure_redact::Scanner;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn corpus_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/secrets");
    assert!(
        dir.join("tp.jsonl").is_file() && dir.join("fp.jsonl").is_file(),
        "secrets corpus missing: expected tp.jsonl and fp.jsonl in {} (CI keeps shared/ beside the checkout)",
        dir.display()
    );
    dir
}

struct Sample {
    rule: String,
    text: String,
    kind: String,
    path: Option<String>,
    other: bool,
}

fn load(name: &str) -> Vec<Sample> {
    let text = std::fs::read_to_string(corpus_dir().join(name)).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            Sample {
                rule: v["rule"].as_str().unwrap_or_default().to_string(),
                text: v["text"].as_str().unwrap_or_default().to_string(),
                kind: v["kind"].as_str().unwrap_or_default().to_string(),
                path: v["path"].as_str().map(str::to_string),
                other: v
                    .get("tp_of_other_rule")
                    .is_some_and(|x| !x.is_null() && x != &serde_json::Value::Bool(false)),
            }
        })
        .collect()
}

fn hits(s: &Scanner, x: &Sample) -> Vec<String> {
    let f = match &x.path {
        Some(p) => s.scan_path(p, x.text.as_bytes()),
        None => s.scan(x.text.as_bytes()),
    };
    f.iter().map(|f| f.rule.to_string()).collect()
}

#[test]
fn recall_and_false_positives() {
    let s = Scanner::new();
    let tp = load("tp.jsonl");
    let fp = load("fp.jsonl");

    let mut missed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let (mut found, mut lit, mut lit_found) = (0usize, 0usize, 0usize);
    for x in &tp {
        let ok = !hits(&s, x).is_empty();
        found += ok as usize;
        if x.kind == "literal" {
            lit += 1;
            lit_found += ok as usize;
        }
        if !ok {
            missed
                .entry(x.rule.clone())
                .or_default()
                .push(x.text.chars().take(120).collect());
        }
    }
    let mut fps: Vec<String> = Vec::new();
    let mut n_fp = 0;
    for x in fp.iter().filter(|x| !x.other) {
        n_fp += 1;
        let h = hits(&s, x);
        if !h.is_empty() {
            fps.push(format!(
                "{} -> {:?}: {}",
                x.rule,
                h,
                x.text.chars().take(120).collect::<String>()
            ));
        }
    }
    let recall = found as f64 / tp.len() as f64;
    let lit_recall = lit_found as f64 / lit.max(1) as f64;
    let fp_rate = fps.len() as f64 / n_fp.max(1) as f64;
    for (rule, m) in &missed {
        println!("MISS {rule} ({}): {:?}", m.len(), m.first());
    }
    for f in &fps {
        println!("FP {f}");
    }
    println!(
        "recall {:.4} ({found}/{}), literal {:.4} ({lit_found}/{lit}), fp rate {:.4} ({}/{n_fp})",
        recall,
        tp.len(),
        lit_recall,
        fp_rate,
        fps.len()
    );
    assert!(recall >= 0.98, "recall {recall:.4} < 0.98");
    assert!(lit_recall >= 0.99, "literal recall {lit_recall:.4} < 0.99");
    assert!(fp_rate <= 0.02, "false-positive rate {fp_rate:.4} > 0.02");
}
