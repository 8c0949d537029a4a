//! The README's quick example, as a test, so it keeps working on first try.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keyword_trie::{CaseFolding, KeywordSet, MatchKind, Router};

#[test]
fn readme_quick_example() -> Result<(), keyword_trie::Error> {
    let set = KeywordSet::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .case_folding(CaseFolding::Ascii)
        .whole_words(true)
        .build([
            ("unwrap", "panics"),
            ("unwrap_or", "fine"),
            ("expect", "panics"),
        ])?;
    let found: Vec<_> = set
        .find_iter("x.UNWRAP_OR(1); y.unwrap(); unwrapped")
        .map(|m| (m.range(), *m.value()))
        .collect();
    assert_eq!(found, vec![(2..11, "fine"), (18..24, "panics")]);
    assert_eq!(set.get("Expect"), Some(&"panics"));
    assert_eq!(set.count("unwrap unwrap"), 2);
    let masked = set.replace_all("a.unwrap()", |m, out| out.push_str(m.value()));
    assert_eq!(masked, "a.panics()");
    let bytes = set.to_bytes()?;
    let back: KeywordSet<String> = KeywordSet::from_bytes(&bytes)?;
    assert_eq!(back.get("unwrap_or").map(String::as_str), Some("fine"));

    let router = Router::default_routes();
    let ranking = router.rank("the login form is vulnerable to XSS and CSRF");
    assert_eq!(ranking.route, "security");
    let json = serde_json::to_string(&ranking).unwrap();
    assert!(json.starts_with(
        "{\"route\":\"security\",\"default_used\":false,\"routes\":[{\"name\":\"security\""
    ));

    let ww = KeywordSet::builder()
        .whole_words(true)
        .build([("foo", 1), ("foo bar", 2)])?;
    let got: Vec<_> = ww
        .find_iter("foo barx")
        .map(|m| (m.start(), *m.value()))
        .collect();
    assert_eq!(got, vec![(0, 1)]);
    Ok(())
}
