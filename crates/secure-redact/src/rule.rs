//! [`Rule`]: one kind of secret or PII, with its prefilter keywords, pattern, checks and level.

use crate::{Level, Validator};

/// One detection rule. Built-in rules come from [`crate::default_rules`]; build your own with
/// [`Rule::builder`] or load them from a [`crate::Config`].
///
/// The pattern is a regex-automata regex over bytes (ASCII classes, `(?i)` folds ASCII). The
/// secret is the capture group named `secret`, else the first capture group that took part in
/// the match, else the whole match.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable kebab-case id (`aws-access-key`).
    pub id: String,
    /// One line saying what the rule finds.
    #[serde(default)]
    pub description: String,
    /// Lowercase literals, one of which occurs in every match (ASCII case-insensitive). Empty:
    /// the rule runs in the shared keyword-less regex pass over the whole text.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The regex.
    #[serde(rename = "regex")]
    pub pattern: String,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_entropy: Option<f64>,
    /// Check run on the secret after the match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator: Option<Validator>,
    /// Regexes on the secret that suppress a finding of this rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowlist: Vec<String>,
    /// Regex on the source path; when set, the rule runs only on matching paths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// How sensitive a finding is.
    #[serde(default = "default_level")]
    pub level: Level,
    /// Generic rules yield to specific rules on overlapping matches.
    #[serde(default)]
    pub generic: bool,
    /// The finding is the file itself (its path matches `path`), whatever its content.
    #[serde(default)]
    pub file: bool,
    /// Bytes before / after a keyword hit that the pattern is run over.
    #[serde(default = "default_window")]
    pub window: (usize, usize),
    /// Built-in placeholder allowlist applies (default true).
    #[serde(default = "yes")]
    pub placeholders: bool,
    /// A cheap test of the bytes around a keyword hit that must pass before the window is
    /// verified (skips most hits of common words like `key` in code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hit_check: Option<HitCheck>,
    /// When set to `k`, every match starts `k` bytes or fewer before a keyword hit: the pattern
    /// is then run anchored at `hit - k` (fast: non-matching hits die within a few bytes)
    /// instead of over the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<usize>,
    /// For keyword-less rules whose matches hold at least four digits close together (cards,
    /// phone numbers, SSNs, IBANs, IPs): run only on digit-dense regions of the text.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub digit_regions: bool,
}

/// Cheap checks run on a keyword hit before its window is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum HitCheck {
    /// An assignment operator (`=`, `:`, `=>`, `,`, `>`, ...) follows the keyword, allowing a
    /// numeric suffix, closing quotes and spaces in between.
    Assignment,
    /// A `user:pass@` part follows `://` before the first `/` or space.
    UrlUserinfo,
    /// The `@` sits between two address characters.
    EmailAt,
}

impl HitCheck {
    /// How many kinds of check there are (see [`HitCheck::slot`]).
    pub(crate) const COUNT: usize = 3;

    /// A distinct index below [`HitCheck::COUNT`] per kind of check.
    pub(crate) fn slot(self) -> usize {
        match self {
            HitCheck::Assignment => 0,
            HitCheck::UrlUserinfo => 1,
            HitCheck::EmailAt => 2,
        }
    }

    pub(crate) fn pass(self, text: &[u8], s: usize, e: usize) -> bool {
        match self {
            HitCheck::Assignment => {
                let n = text.len();
                let mut i = e;
                let lim = (e + 5).min(n);
                while i < lim && matches!(text[i], b'_' | b'.' | b'-' | b'0'..=b'9') {
                    i += 1;
                }
                let lim = (i + 3).min(n);
                while i < lim && matches!(text[i], b'\\' | b'"' | b'\'' | b'`' | b']') {
                    i += 1;
                }
                let lim = (i + 4).min(n);
                while i < lim && matches!(text[i], b' ' | b'\t') {
                    i += 1;
                }
                for w in [&b"string"[..], b"String", b"str"] {
                    if text[i..].starts_with(w) {
                        i += w.len();
                        while i < n && matches!(text[i], b' ' | b'\t') {
                            i += 1;
                        }
                        break;
                    }
                }
                i < n
                    && matches!(
                        text[i],
                        b'=' | b':' | b',' | b'>' | b'?' | b'.' | b'+' | b'|'
                    )
            }
            HitCheck::UrlUserinfo => {
                for &b in &text[e..(e + 256).min(text.len())] {
                    match b {
                        b'@' => return true,
                        b'/' | b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'\'' | b'<' | b'>' => {
                            return false
                        }
                        _ => {}
                    }
                }
                false
            }
            HitCheck::EmailAt => {
                s > 0
                    && e < text.len()
                    && text[s - 1].is_ascii_alphanumeric()
                    && text[e].is_ascii_alphanumeric()
                    && !in_url_userinfo(text, s)
            }
        }
    }
}

/// Whether the `@` at `at` ends a URL's userinfo (`postgres://admin:pw@db.internal`,
/// `ssh://deploy@host.example.net`): the bytes before it, back to the first `/`, blank, quote,
/// `<`, `>` or `@` (at most 256), are preceded by `://`. Such a `user@host` is not an e-mail
/// address (the password is `url-credentials`' to find).
fn in_url_userinfo(text: &[u8], at: usize) -> bool {
    let from = at.saturating_sub(256);
    let stop = text[from..at].iter().rposition(|b| {
        matches!(
            b,
            b'/' | b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'\'' | b'<' | b'>' | b'@'
        )
    });
    stop.is_some_and(|i| text[..from + i + 1].ends_with(b"://"))
}

fn default_level() -> Level {
    Level::Sensitive
}
fn default_window() -> (usize, usize) {
    (64, 320)
}
fn yes() -> bool {
    true
}

impl Rule {
    /// Start a rule with an id and a regex; everything else has defaults (level `sensitive`).
    pub fn builder(id: &str, pattern: &str) -> RuleBuilder {
        RuleBuilder {
            rule: Rule {
                id: id.to_string(),
                description: String::new(),
                keywords: Vec::new(),
                pattern: pattern.to_string(),
                min_entropy: None,
                validator: None,
                allowlist: Vec::new(),
                path: None,
                level: Level::Sensitive,
                generic: false,
                file: false,
                window: default_window(),
                placeholders: true,
                hit_check: None,
                anchor: None,
                digit_regions: false,
            },
        }
    }
}

/// Builder for a [`Rule`].
#[derive(Debug, Clone)]
pub struct RuleBuilder {
    rule: Rule,
}

impl RuleBuilder {
    /// Description.
    pub fn description(mut self, d: &str) -> Self {
        self.rule.description = d.to_string();
        self
    }
    /// Prefilter keywords (lowercased here).
    pub fn keywords<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, k: I) -> Self {
        self.rule.keywords = k
            .into_iter()
            .map(|s| s.as_ref().to_ascii_lowercase())
            .collect();
        self
    }
    /// Minimum entropy of the secret.
    pub fn min_entropy(mut self, e: f64) -> Self {
        self.rule.min_entropy = Some(e);
        self
    }
    /// Validator.
    pub fn validator(mut self, v: Validator) -> Self {
        self.rule.validator = Some(v);
        self
    }
    /// Regex on the secret that suppresses a finding.
    pub fn allow(mut self, re: &str) -> Self {
        self.rule.allowlist.push(re.to_string());
        self
    }
    /// Only run on paths matching this regex.
    pub fn path(mut self, re: &str) -> Self {
        self.rule.path = Some(re.to_string());
        self
    }
    /// Level.
    pub fn level(mut self, l: Level) -> Self {
        self.rule.level = l;
        self
    }
    /// Mark as generic (yields to specific rules).
    pub fn generic(mut self, g: bool) -> Self {
        self.rule.generic = g;
        self
    }
    /// Window around keyword hits.
    pub fn window(mut self, before: usize, after: usize) -> Self {
        self.rule.window = (before, after);
        self
    }
    /// Whether the built-in placeholder allowlist applies.
    pub fn placeholders(mut self, on: bool) -> Self {
        self.rule.placeholders = on;
        self
    }
    /// Matches start at most `k` bytes before a keyword hit (enables anchored verification).
    pub fn anchor(mut self, k: usize) -> Self {
        self.rule.anchor = Some(k);
        self
    }
    /// Cheap check on keyword hits.
    pub fn hit_check(mut self, c: HitCheck) -> Self {
        self.rule.hit_check = Some(c);
        self
    }
    /// The rule.
    pub fn build(self) -> Rule {
        self.rule
    }
}

/// The built-in rules (over 150 kinds of secret and PII).
pub fn default_rules() -> Vec<Rule> {
    crate::rules::all()
        .into_iter()
        .map(|s| Rule {
            id: s.id.to_string(),
            description: s.description.to_string(),
            keywords: s.keywords.iter().map(|k| k.to_ascii_lowercase()).collect(),
            pattern: s.pattern(),
            min_entropy: s.entropy,
            validator: s.validator,
            allowlist: s.allow.iter().map(|a| a.to_string()).collect(),
            path: s.path.map(str::to_string),
            level: s.level,
            generic: s.generic,
            file: s.file,
            window: s.window,
            placeholders: true,
            hit_check: s.hit,
            anchor: s.anchor(),
            digit_regions: s.digits,
        })
        .collect()
}

/// The positive samples each built-in rule is tested with: `(rule id, samples)`. Handy as
/// examples of what a rule finds, and used by the property tests.
pub fn builtin_samples() -> Vec<(&'static str, &'static [&'static str])> {
    crate::rules::all()
        .into_iter()
        .map(|s| (s.id, s.pos))
        .collect()
}

/// Built-in rule ids grouped by family (for reports and the README).
pub fn rule_categories() -> Vec<(&'static str, Vec<&'static str>)> {
    crate::rules::categories()
}
