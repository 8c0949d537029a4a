//! Redaction: replace every finding with a placeholder, keeping the line structure.

use crate::audit::{Action, AuditEvent, AuditSink};
use crate::{Error, Finding, Level, Scanner, Source};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// How a finding is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RedactMode {
    /// `[REDACTED:rule-id:abc123]` (rule and the first 6 hex digits of the keyed fingerprint).
    #[default]
    Mask,
    /// Keep a short prefix of the secret (at most 4 bytes, at most a quarter of it), then the mask:
    /// `ghp_[REDACTED:github-pat:abc123]`.
    Partial,
    /// `[HASH:rule-id:<32 hex>]`: a longer keyed fingerprint, for joining across logs.
    Hash,
    /// Replace each whole line holding a finding with `[REDACTED-LINE:rule-id:abc123]`.
    DropLine,
}

impl fmt::Display for RedactMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RedactMode::Mask => "mask",
            RedactMode::Partial => "partial",
            RedactMode::Hash => "hash",
            RedactMode::DropLine => "drop-line",
        })
    }
}

impl FromStr for RedactMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "mask" => Ok(RedactMode::Mask),
            "partial" => Ok(RedactMode::Partial),
            "hash" => Ok(RedactMode::Hash),
            "drop-line" | "dropline" => Ok(RedactMode::DropLine),
            o => Err(Error::Invalid(format!(
                "unknown redaction mode {o:?} (expected mask, partial, hash or drop-line)"
            ))),
        }
    }
}

/// The result of a redaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted {
    /// The redacted bytes (valid UTF-8 when the input was).
    pub text: Vec<u8>,
    /// What was found, with offsets into the **input**.
    pub findings: Vec<Finding>,
    /// The document's level: the highest finding level, `Public` when clean.
    pub level: Level,
}

impl Redacted {
    /// The redacted text as a string (lossy for invalid UTF-8 input).
    pub fn text_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.text)
    }
}

/// The placeholder written for a finding.
pub(crate) fn placeholder(mode: RedactMode, f: &Finding, secret: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(48);
    match mode {
        RedactMode::Mask => out.extend_from_slice(
            format!("[REDACTED:{}:{}]", f.rule, f.short_fingerprint()).as_bytes(),
        ),
        RedactMode::Partial => {
            let mut keep = (secret.len() / 4).min(4);
            while keep > 0
                && !secret[..keep]
                    .iter()
                    .all(|b| b.is_ascii() && !b.is_ascii_control())
            {
                keep -= 1;
            }
            out.extend_from_slice(&secret[..keep]);
            out.extend_from_slice(
                format!("[REDACTED:{}:{}]", f.rule, f.short_fingerprint()).as_bytes(),
            );
        }
        RedactMode::Hash => out.extend_from_slice(
            format!(
                "[HASH:{}:{}]",
                f.rule,
                f.fingerprint.get(..32).unwrap_or(f.fingerprint.as_str())
            )
            .as_bytes(),
        ),
        RedactMode::DropLine => out.extend_from_slice(
            format!("[REDACTED-LINE:{}:{}]", f.rule, f.short_fingerprint()).as_bytes(),
        ),
    }
    out
}

/// Apply findings (offsets relative to `text` after subtracting `base`) to `text`, writing into
/// `out`. Overlapping findings are merged into one placeholder (the highest level wins).
pub(crate) fn apply(
    text: &[u8],
    base: usize,
    findings: &[Finding],
    mode: RedactMode,
    out: &mut Vec<u8>,
) {
    // Groups of overlapping spans.
    let mut spans: Vec<(usize, usize, usize)> = Vec::new(); // (start, end, representative index)
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by_key(|&i| (findings[i].start, findings[i].end));
    for i in order {
        let f = &findings[i];
        let (mut s, mut e) = (f.start - base, f.end - base);
        if s == e {
            continue; // file-level findings have no bytes to hide
        }
        if mode == RedactMode::DropLine {
            s = memchr::memrchr(b'\n', &text[..s]).map_or(0, |p| p + 1);
            e = memchr::memchr(b'\n', &text[e..]).map_or(text.len(), |p| e + p);
        }
        match spans.last_mut() {
            Some(last) if s < last.1 => {
                last.1 = last.1.max(e);
                if findings[i].level > findings[last.2].level {
                    last.2 = i;
                }
            }
            _ => spans.push((s, e, i)),
        }
    }
    let mut pos = 0;
    for (s, e, i) in spans {
        out.extend_from_slice(&text[pos..s]);
        let f = &findings[i];
        let secret = &text[(f.start - base).min(text.len())..(f.end - base).min(text.len())];
        out.extend_from_slice(&placeholder(mode, f, secret));
        // Keep the line structure: as many newlines as the hidden bytes held.
        let n = memchr::memchr_iter(b'\n', &text[s..e]).count();
        out.extend(std::iter::repeat_n(b'\n', n));
        pos = e;
    }
    out.extend_from_slice(&text[pos..]);
}

impl Scanner {
    /// Scan and redact `text` in one go.
    pub fn redact(&self, text: &[u8], mode: RedactMode) -> Redacted {
        self.redact_source(Source::default(), text, mode)
    }

    /// Scan and redact bytes from a [`Source`] (path-dependent rules included).
    pub fn redact_source(&self, src: Source<'_>, text: &[u8], mode: RedactMode) -> Redacted {
        let findings = self.scan_source(src, text);
        let mut out = Vec::with_capacity(text.len() + 64);
        apply(text, 0, &findings, mode, &mut out);
        let level = Scanner::level_of(&findings);
        Redacted {
            text: out,
            findings,
            level,
        }
    }
}

/// A scanner, a redaction mode, the lowest level that is redacted, and an optional audit sink.
#[derive(Clone)]
pub struct Redactor {
    scanner: Scanner,
    mode: RedactMode,
    min_level: Level,
    sink: Option<Arc<dyn AuditSink>>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("mode", &self.mode)
            .field("min_level", &self.min_level)
            .field("audit", &self.sink.is_some())
            .finish()
    }
}

/// Builder for [`Redactor`].
#[derive(Clone, Default)]
pub struct RedactorBuilder {
    scanner: Option<Scanner>,
    mode: RedactMode,
    min_level: Level,
    sink: Option<Arc<dyn AuditSink>>,
}

impl fmt::Debug for RedactorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedactorBuilder")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl RedactorBuilder {
    /// The scanner (default: [`Scanner::new`]).
    pub fn scanner(mut self, s: Scanner) -> Self {
        self.scanner = Some(s);
        self
    }
    /// The mode (default: mask).
    pub fn mode(mut self, m: RedactMode) -> Self {
        self.mode = m;
        self
    }
    /// Redact only findings at or above this level (default: all). Lower findings are still
    /// returned and audited as `reported`.
    pub fn min_level(mut self, l: Level) -> Self {
        self.min_level = l;
        self
    }
    /// Send an audit event per finding.
    pub fn audit(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.sink = Some(sink);
        self
    }
    /// The redactor.
    pub fn build(self) -> Redactor {
        Redactor {
            scanner: self.scanner.unwrap_or_default(),
            mode: self.mode,
            min_level: self.min_level,
            sink: self.sink,
        }
    }
}

impl Redactor {
    /// Start configuring a redactor.
    pub fn builder() -> RedactorBuilder {
        RedactorBuilder::default()
    }

    /// The scanner in use.
    pub fn scanner(&self) -> &Scanner {
        &self.scanner
    }

    /// Redact `text`; `path` (if any) enables path rules and goes into audit events.
    pub fn redact(&self, path: Option<&str>, text: &[u8]) -> crate::Result<Redacted> {
        let findings = self.scanner.scan_source(Source { path }, text);
        let (hide, keep): (Vec<Finding>, Vec<Finding>) = findings
            .iter()
            .cloned()
            .partition(|f| f.level >= self.min_level);
        let mut out = Vec::with_capacity(text.len() + 64);
        apply(text, 0, &hide, self.mode, &mut out);
        if let Some(sink) = &self.sink {
            for f in &hide {
                sink.record(&AuditEvent::new(f, path, Action::Redacted(self.mode)))?;
            }
            for f in &keep {
                sink.record(&AuditEvent::new(f, path, Action::Reported))?;
            }
        }
        let level = Scanner::level_of(&findings);
        Ok(Redacted {
            text: out,
            findings,
            level,
        })
    }
}
