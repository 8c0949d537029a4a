//! Find, classify and redact secrets and PII in code and prompts before they leave the machine.
//!
//! Over 150 rules written from the providers' documented token formats (cloud, source hosting,
//! chat, payments, model providers, package registries, mail and SMS, observability, private
//! keys, JWTs, URLs with passwords, `Authorization` headers, generic `password = ...`
//! assignments) and PII (e-mail, phone, payment cards with Luhn, IBAN with mod-97, US SSN, IP
//! addresses), each with a [`Level`].
//!
//! # How it works
//! One aho-corasick DFA over every rule's keywords (ASCII case-insensitive) finds candidate
//! regions; only the rules whose keywords hit run their regex-automata pattern, in a window
//! around the hit; rules without keywords share one multi-pattern regex pass. Candidates then pass
//! entropy, validator (Luhn, mod-97, JWT header, PEM body) and allowlist checks. Input is `&[u8]`:
//! invalid UTF-8 and binary never panic. A [`Finding`] carries the rule, level, byte span,
//! line, column (1-based, in **bytes**) and a keyed blake3 fingerprint — never the secret.
//!
//! # API at a glance
//! - [`Scanner::new`] (built-in rules) or [`Scanner::builder`]`().rules(..).add_rules(..)
//!   .allowlist(..).baseline(..).key(..).min_level(..).build()?`
//! - [`Scanner::scan`]`(&[u8]) -> Vec<Finding>`; [`Scanner::scan_path`]`(path, &[u8])` runs the
//!   rules that depend on the file name too (`*.tf`, `NuGet.config`, `*.p12`, Kubernetes YAML).
//! - [`Scanner::redact`]`(&[u8], RedactMode) -> Redacted { text, findings, level }` with
//!   [`RedactMode::Mask`] (`[REDACTED:rule-id:abc123]`), `Partial`, `Hash`, `DropLine`;
//!   [`Redactor`] bundles a scanner, a mode and an optional audit sink.
//! - Streaming: [`Scanner::scan_reader`] / [`Scanner::redact_reader`] over any `Read`, memory
//!   bounded by the chunk size ([`StreamOptions`]).
//! - [`Config`] (TOML / JSON: extra rules, allowlist, baseline, disabled rules) and
//!   [`Config::scanner`].
//! - Audit: [`AuditSink`], [`JsonlFileSink`], [`MemorySink`], [`AuditEvent`].
//!
//! ```
//! use secure_redact::{Level, RedactMode, Scanner};
//!
//! let scanner = Scanner::new();
//! let text = b"export GITHUB_TOKEN=ghp_i6ueojowig3fjl1dzvq3uhfm0ig05bkhoiz6\n";
//! let findings = scanner.scan(text);
//! assert_eq!(&*findings[0].rule, "github-pat");
//! assert_eq!((findings[0].line, findings[0].column), (1, 21));
//! assert!(findings[0].level >= Level::Sensitive);
//!
//! let out = scanner.redact(text, RedactMode::Mask);
//! let redacted = String::from_utf8(out.text).unwrap();
//! assert!(redacted.starts_with("export GITHUB_TOKEN=[REDACTED:github-pat:"));
//! assert!(!redacted.contains("ghp_"));
//! assert_eq!(out.level, Level::Sensitive);
//! ```
#![deny(missing_docs)]

mod allowlist;
mod audit;
mod config;
mod fingerprint;
mod level;
mod redact;
mod rule;
mod rules;
mod scanner;
mod stream;
mod validate;

pub use allowlist::{is_placeholder, Allowlist, AllowlistSource};
pub use audit::{Action, AuditEvent, AuditSink, JsonlFileSink, MemorySink};
pub use config::{load_baseline, Config};
pub use fingerprint::Fingerprint;
pub use level::Level;
pub use redact::{RedactMode, Redacted, Redactor, RedactorBuilder};
pub use rule::{builtin_samples, default_rules, rule_categories, HitCheck, Rule, RuleBuilder};
pub use scanner::{default_key, Finding, Scanner, ScannerBuilder, Source};
pub use stream::{StreamOptions, StreamSummary};
pub use validate::{iban_ok, jwt_ok, luhn_ok, mod97, shannon_entropy, ssn_ok, Validator};

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input or configuration was not valid; the message says why.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A regex (of a rule, allowlist or path filter) did not compile.
    #[error("invalid pattern in {what}: {message}")]
    Pattern {
        /// Which pattern (`rule aws-access-key`, `allowlist regex`, ...).
        what: String,
        /// The regex compiler's message.
        message: String,
    },
    /// A configuration file could not be parsed.
    #[error("invalid config {origin}: {message}")]
    Config {
        /// Where the config came from (a path, `TOML string`, `JSON string`).
        origin: String,
        /// The parser's message.
        message: String,
    },
    /// Reading or writing failed.
    #[error("I/O error on {what}: {source}")]
    Io {
        /// What was being read or written.
        what: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
