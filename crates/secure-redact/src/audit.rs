//! Audit events: what was found where and what was done about it — never the secret, never an
//! unkeyed hash of it (only the keyed fingerprint).

use crate::{Error, Finding, Level, RedactMode, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// What happened to a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "action", content = "mode")]
pub enum Action {
    /// Reported only (scan, or below the redaction level).
    Reported,
    /// Replaced in the output with the given mode.
    Redacted(RedactMode),
    /// Caused the request or file to be blocked.
    Blocked,
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditEvent {
    /// Milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// Rule id.
    pub rule: String,
    /// Level.
    pub level: Level,
    /// Source path, when known.
    pub path: Option<String>,
    /// 1-based line.
    pub line: usize,
    /// 1-based column in bytes.
    pub column: usize,
    /// Keyed fingerprint.
    pub fingerprint: String,
    /// What was done.
    #[serde(flatten)]
    pub action: Action,
}

impl AuditEvent {
    /// An event for a finding, stamped now.
    pub fn new(f: &Finding, path: Option<&str>, action: Action) -> AuditEvent {
        let time_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        AuditEvent {
            time_ms,
            rule: f.rule.to_string(),
            level: f.level,
            path: path.map(str::to_string),
            line: f.line,
            column: f.column,
            fingerprint: f.fingerprint.to_string(),
            action,
        }
    }
}

/// Where audit events go. Implementations must be thread-safe.
pub trait AuditSink: Send + Sync {
    /// Record one event.
    fn record(&self, event: &AuditEvent) -> Result<()>;
    /// Flush buffered events (default: nothing to do).
    fn flush(&self) -> Result<()> {
        Ok(())
    }
}

/// Keeps events in memory (tests, or to forward them elsewhere).
#[derive(Debug, Default)]
pub struct MemorySink {
    events: Mutex<Vec<AuditEvent>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }
    /// A copy of the events so far.
    pub fn events(&self) -> Vec<AuditEvent> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

impl AuditSink for MemorySink {
    fn record(&self, event: &AuditEvent) -> Result<()> {
        if let Ok(mut e) = self.events.lock() {
            e.push(event.clone());
        }
        Ok(())
    }
}

/// Appends one JSON object per line to a file.
#[derive(Debug)]
pub struct JsonlFileSink {
    path: PathBuf,
    file: Mutex<std::io::BufWriter<std::fs::File>>,
}

impl JsonlFileSink {
    /// Open (create or append) the file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::Io {
                what: path.display().to_string(),
                source: e,
            })?;
        Ok(JsonlFileSink {
            path,
            file: Mutex::new(std::io::BufWriter::new(f)),
        })
    }
}

impl AuditSink for JsonlFileSink {
    fn record(&self, event: &AuditEvent) -> Result<()> {
        let mut line =
            serde_json::to_vec(event).map_err(|e| Error::Invalid(format!("audit event: {e}")))?;
        line.push(b'\n');
        let mut f = self
            .file
            .lock()
            .map_err(|_| Error::Invalid("audit sink lock poisoned".into()))?;
        f.write_all(&line).map_err(|e| Error::Io {
            what: self.path.display().to_string(),
            source: e,
        })
    }
    fn flush(&self) -> Result<()> {
        let mut f = self
            .file
            .lock()
            .map_err(|_| Error::Invalid("audit sink lock poisoned".into()))?;
        f.flush().map_err(|e| Error::Io {
            what: self.path.display().to_string(),
            source: e,
        })
    }
}

impl Drop for JsonlFileSink {
    fn drop(&mut self) {
        if let Ok(mut f) = self.file.lock() {
            let _ = f.flush();
        }
    }
}
