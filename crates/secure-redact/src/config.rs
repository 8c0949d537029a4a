//! User configuration: extra rules, allowlists, disabled rules and a baseline of accepted
//! fingerprints, from TOML or JSON.
//!
//! ```toml
//! disable = ["email"]
//! baseline = ["3f9a1c7e..."]          # fingerprints to ignore
//! baseline_file = ".secrets-baseline" # one fingerprint a line, or JSON findings
//! min_level = "internal"
//!
//! [allowlist]
//! regexes = ["^AKIA.*TEST$"]
//! stopwords = ["dummy"]
//! paths = ["(^|/)testdata/"]
//!
//! [[rules]]
//! id = "acme-api-key"
//! description = "ACME internal API key"
//! keywords = ["acme_"]
//! regex = '\b(acme_[a-z0-9]{32})\b'
//! level = "sensitive"
//! min_entropy = 3.0
//! ```

use crate::{Allowlist, AllowlistSource, Error, Level, Result, Rule, Scanner, ScannerBuilder};
use std::path::{Path, PathBuf};

/// A configuration file's contents.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Extra rules (a rule with a built-in id replaces it).
    pub rules: Vec<Rule>,
    /// Global allowlist.
    pub allowlist: AllowlistSource,
    /// Built-in or extra rule ids to turn off.
    pub disable: Vec<String>,
    /// Fingerprints of accepted findings.
    pub baseline: Vec<String>,
    /// A baseline file to load as well (relative to the config file when loaded by path).
    pub baseline_file: Option<PathBuf>,
    /// Report only findings at or above this level.
    pub min_level: Option<Level>,
    /// Start from no built-in rules (only `rules`).
    pub no_default_rules: bool,
}

impl Config {
    /// Parse TOML.
    pub fn from_toml_str(s: &str) -> Result<Config> {
        toml::from_str(s).map_err(|e| Error::Config {
            origin: "TOML string".into(),
            message: e.to_string(),
        })
    }

    /// Parse JSON.
    pub fn from_json_str(s: &str) -> Result<Config> {
        serde_json::from_str(s).map_err(|e| Error::Config {
            origin: "JSON string".into(),
            message: e.to_string(),
        })
    }

    /// Read a `.toml` or `.json` file (by extension; otherwise TOML, then JSON). A relative
    /// `baseline_file` is resolved against the config file's directory.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Config> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            what: path.display().to_string(),
            source: e,
        })?;
        let origin = path.display().to_string();
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let mut cfg: Config = if is_json {
            serde_json::from_str(&text).map_err(|e| Error::Config {
                origin,
                message: e.to_string(),
            })?
        } else {
            match toml::from_str(&text) {
                Ok(c) => c,
                Err(te) => serde_json::from_str(&text).map_err(|_| Error::Config {
                    origin,
                    message: te.to_string(),
                })?,
            }
        };
        if let Some(b) = &cfg.baseline_file {
            if b.is_relative() {
                if let Some(dir) = path.parent() {
                    cfg.baseline_file = Some(dir.join(b));
                }
            }
        }
        Ok(cfg)
    }

    /// Apply this configuration to a builder.
    pub fn apply(&self, mut b: ScannerBuilder) -> Result<ScannerBuilder> {
        if self.no_default_rules {
            b = b.rules(Vec::new());
        }
        b = b
            .add_rules(self.rules.iter().cloned())
            .disable(self.disable.iter());
        b = b.allowlist(Allowlist::from_source(&self.allowlist)?);
        b = b.baseline(self.baseline.iter());
        if let Some(f) = &self.baseline_file {
            b = b.baseline(load_baseline(f)?);
        }
        if let Some(l) = self.min_level {
            b = b.min_level(l);
        }
        Ok(b)
    }

    /// A scanner with the built-in rules and this configuration.
    pub fn scanner(&self) -> Result<Scanner> {
        self.apply(Scanner::builder())?.build()
    }
}

/// Read a baseline file: one fingerprint a line (`#` comments allowed), or JSON — an array of
/// strings, an array of findings (`{"fingerprint": ...}`), or JSON lines of findings.
pub fn load_baseline(path: impl AsRef<Path>) -> Result<Vec<String>> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        what: path.display().to_string(),
        source: e,
    })?;
    Ok(parse_baseline(&text))
}

pub(crate) fn parse_baseline(text: &str) -> Vec<String> {
    fn from_value(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(a) => a.iter().for_each(|x| from_value(x, out)),
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::String(s)) = m.get("fingerprint") {
                    out.push(s.clone());
                } else if let Some(x) = m.get("fingerprints").or_else(|| m.get("baseline")) {
                    from_value(x, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        from_value(&v, &mut out);
        return out;
    }
    for line in text.lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if l.starts_with('{') {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(l) {
                from_value(&v, &mut out);
            }
            continue;
        }
        if let Some(tok) = l.split_whitespace().next() {
            if tok.chars().all(|c| c.is_ascii_hexdigit()) {
                out.push(tok.to_ascii_lowercase());
            }
        }
    }
    out
}
