//! The built-in rule table: one `Spec` per kind of secret or PII, written from the providers'
//! documented token formats, each with positive and negative samples checked by a unit test.
//!
//! Rule families live in one file each: cloud, source hosting and CI, chat and social, payments
//! and finance, AI providers, package registries, SaaS and observability, private keys and
//! tokens, generic assignments, and PII.

use crate::{Level, Validator};

mod ai;
mod cloud;
mod generic;
mod keys;
mod payments;
mod pii;
mod registries;
mod saas;
mod social;
mod vcs;

/// The assignment between an identifier and its value in code and config files:
/// `k = v`, `k: v`, `"k": "v"`, `k := v`, `k ::= v`, `k ?= v`, `$k .= v`, `"k" => v`,
/// `setProperty("K", "v")`, `var k string = v`, `<k>v</k>`.
pub(crate) const SEP: &str = r#"(?:\\?["'`])?\]?(?:[ \t]+(?:string|str|String))?[ \t]{0,4}(?:=>|:{1,3}=|[?.+|]=|==?|:|,|>\s{0,16})[ \t]{0,8}(?:\\?["'`][ \t]{0,4})?"#;

/// What may follow a value (a quote, space, separator, escaped newline or the end).
pub(crate) const END: &str = r"(?:[^A-Za-z0-9_\-+/=]|$)";

/// How a rule's regex is written.
#[derive(Debug, Clone)]
pub(crate) enum Pat {
    /// A complete regex; capture group 1 (or the first that took part) is the secret.
    Raw(&'static str),
    /// `IDENT ... SEP VALUE END`: a provider name in an identifier assigned a value of a known
    /// shape. `IDENT` is case-insensitive and must start at a word start.
    Ctx {
        ident: &'static str,
        value: &'static str,
    },
}

/// One row of the rule table.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub id: &'static str,
    pub description: &'static str,
    pub level: Level,
    pub keywords: &'static [&'static str],
    pub pat: Pat,
    pub entropy: Option<f64>,
    pub validator: Option<Validator>,
    pub path: Option<&'static str>,
    pub allow: &'static [&'static str],
    pub generic: bool,
    pub file: bool,
    pub hit: Option<crate::HitCheck>,
    pub no_anchor: bool,
    pub force_anchor: bool,
    pub digits: bool,
    pub window: (usize, usize),
    pub pos: &'static [&'static str],
    pub neg: &'static [&'static str],
}

impl Spec {
    pub(crate) fn pattern(&self) -> String {
        match &self.pat {
            Pat::Raw(p) => (*p).to_string(),
            Pat::Ctx { ident, value } => {
                format!(
                    r"(?i:(?:^|[^A-Za-z]|(?-i:D))(?P<kw>{ident})[\w.\-]{{0,40}}?{SEP})(?P<secret>(?-i:{value})){END}"
                )
            }
        }
    }
    const fn base(
        id: &'static str,
        description: &'static str,
        level: Level,
        keywords: &'static [&'static str],
        pat: Pat,
    ) -> Spec {
        Spec {
            id,
            description,
            level,
            keywords,
            pat,
            entropy: None,
            validator: None,
            path: None,
            allow: &[],
            generic: false,
            file: false,
            hit: None,
            no_anchor: false,
            force_anchor: false,
            digits: false,
            window: (64, 320),
            pos: &[],
            neg: &[],
        }
    }
    pub(crate) fn ent(mut self, e: f64) -> Self {
        self.entropy = Some(e);
        self
    }
    pub(crate) fn val(mut self, v: Validator) -> Self {
        self.validator = Some(v);
        self
    }
    pub(crate) fn path(mut self, p: &'static str) -> Self {
        self.path = Some(p);
        self
    }
    pub(crate) fn allow(mut self, a: &'static [&'static str]) -> Self {
        self.allow = a;
        self
    }
    pub(crate) fn generic(mut self) -> Self {
        self.generic = true;
        self
    }
    /// The keyword may sit in the middle of a match: verify over windows.
    pub(crate) fn no_anchor(mut self) -> Self {
        self.no_anchor = true;
        self
    }
    /// Every match starts at a keyword hit (a `\b` before it is fine).
    pub(crate) fn anchored(mut self) -> Self {
        self.force_anchor = true;
        self
    }
    /// Keyword-less rule whose matches hold at least four digits close together: it only runs
    /// on digit-dense regions.
    pub(crate) fn digits(mut self) -> Self {
        self.digits = true;
        self
    }
    /// Where matches start relative to a keyword hit, when that is fixed.
    pub(crate) fn anchor(&self) -> Option<usize> {
        if self.no_anchor || self.keywords.is_empty() {
            return None;
        }
        if self.force_anchor {
            return Some(0);
        }
        match &self.pat {
            Pat::Ctx { .. } => Some(1),
            Pat::Raw(p) => {
                let body = p.strip_prefix("(?i)").unwrap_or(p);
                let lit = body.strip_prefix(r"\b(")?;
                let lit = lit.to_ascii_lowercase().replace('\\', "");
                self.keywords
                    .iter()
                    .all(|k| lit.starts_with(k))
                    .then_some(0)
            }
        }
    }
    pub(crate) fn hit(mut self, h: crate::HitCheck) -> Self {
        self.hit = Some(h);
        self
    }
    pub(crate) fn file(mut self) -> Self {
        self.file = true;
        self
    }
    pub(crate) fn win(mut self, back: usize, fwd: usize) -> Self {
        self.window = (back, fwd);
        self
    }
    pub(crate) fn pos(mut self, p: &'static [&'static str]) -> Self {
        self.pos = p;
        self
    }
    pub(crate) fn neg(mut self, n: &'static [&'static str]) -> Self {
        self.neg = n;
        self
    }
}

/// A raw-pattern rule.
pub(crate) const fn raw(
    id: &'static str,
    description: &'static str,
    level: Level,
    keywords: &'static [&'static str],
    pattern: &'static str,
) -> Spec {
    Spec::base(id, description, level, keywords, Pat::Raw(pattern))
}

/// A context rule: provider name in an identifier, assignment, value of a known shape.
pub(crate) const fn ctx(
    id: &'static str,
    description: &'static str,
    level: Level,
    keywords: &'static [&'static str],
    ident: &'static str,
    value: &'static str,
) -> Spec {
    Spec::base(id, description, level, keywords, Pat::Ctx { ident, value })
}

/// Every built-in rule.
pub(crate) fn all() -> Vec<Spec> {
    let mut v = Vec::with_capacity(256);
    v.extend(cloud::rules());
    v.extend(vcs::rules());
    v.extend(social::rules());
    v.extend(payments::rules());
    v.extend(ai::rules());
    v.extend(registries::rules());
    v.extend(saas::rules());
    v.extend(keys::rules());
    v.extend(generic::rules());
    v.extend(pii::rules());
    v
}

/// The rule family (file) of each built-in rule id, for reports.
pub(crate) fn categories() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("cloud", cloud::rules().iter().map(|s| s.id).collect()),
        (
            "source hosting and CI",
            vcs::rules().iter().map(|s| s.id).collect(),
        ),
        (
            "chat and social",
            social::rules().iter().map(|s| s.id).collect(),
        ),
        (
            "payments and finance",
            payments::rules().iter().map(|s| s.id).collect(),
        ),
        ("AI providers", ai::rules().iter().map(|s| s.id).collect()),
        (
            "package registries",
            registries::rules().iter().map(|s| s.id).collect(),
        ),
        (
            "SaaS, mail and observability",
            saas::rules().iter().map(|s| s.id).collect(),
        ),
        (
            "private keys and tokens",
            keys::rules().iter().map(|s| s.id).collect(),
        ),
        ("generic", generic::rules().iter().map(|s| s.id).collect()),
        ("PII", pii::rules().iter().map(|s| s.id).collect()),
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use crate::Scanner;
    use std::collections::HashSet;

    #[test]
    fn table_is_sound() {
        let specs = super::all();
        assert!(specs.len() >= 150, "only {} rules", specs.len());
        let mut ids = HashSet::new();
        for s in &specs {
            assert!(ids.insert(s.id), "duplicate id {}", s.id);
            assert!(
                s.id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "id {} is not kebab-case",
                s.id
            );
            assert!(
                s.keywords.iter().all(|k| *k == k.to_ascii_lowercase()),
                "keywords of {} must be lowercase",
                s.id
            );
        }
    }

    #[test]
    fn every_rule_finds_its_positives_and_not_its_negatives() {
        let scanner = Scanner::new();
        let mut without = Vec::new();
        let mut bad = Vec::new();
        for s in super::all() {
            if s.pos.is_empty() && s.path.is_none() {
                without.push(s.id);
            }
            for p in s.pos {
                let f = scanner.scan(p.as_bytes());
                if !f.iter().any(|f| &*f.rule == s.id) {
                    bad.push(format!(
                        "rule {} missed its sample {p:?}; got {:?}",
                        s.id,
                        f.iter().map(|f| f.rule.to_string()).collect::<Vec<_>>()
                    ));
                }
            }
            for n in s.neg {
                let f = scanner.scan(n.as_bytes());
                if f.iter().any(|f| &*f.rule == s.id) {
                    bad.push(format!("rule {} fired on its negative {n:?}", s.id));
                }
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
        assert!(
            without.is_empty(),
            "rules without positive samples: {without:?}"
        );
    }
}
