//! [`Error`]: what went wrong, with the real cause and never a password.

use std::time::Duration;

/// Everything that can go wrong in this crate.
///
/// Every message is redacted: server addresses are shown as [`crate::RedactedUrl`]s and the
/// pool's password is scrubbed from any cause text before it is stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration or URL is not valid; the message says what is wrong.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// No connection became free within the acquire timeout.
    #[error(
        "timed out after {waited:?} waiting for a connection to {server}{}",
        last_connect_error.as_deref().map(|e| format!(" (last connect error: {e})")).unwrap_or_default()
    )]
    Timeout {
        /// The redacted server address.
        server: String,
        /// How long the caller waited.
        waited: Duration,
        /// The most recent failed connection attempt, when one failed while waiting.
        last_connect_error: Option<String>,
    },
    /// The server cannot be reached or the connection broke; retrying later may succeed.
    #[error("{server} is unavailable: {cause}")]
    Unavailable {
        /// The redacted server address.
        server: String,
        /// The underlying error (connection refused, reset, timed out, shut down...).
        cause: String,
    },
    /// The server refused the credentials: authentication failed. Retrying will not help.
    #[error("authentication failed for {server}: {cause}")]
    Auth {
        /// The redacted server address.
        server: String,
        /// The server's answer.
        cause: String,
    },
    /// The server answered a command or query with an error (the connection is fine).
    #[error("{0}")]
    Backend(#[from] BackendError),
}

/// An error from the server about one command or query.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// PostgreSQL's answer (SQL error, type mismatch...).
    #[error("postgres: {}", chain(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// Redis's answer (wrong type, script error...).
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

impl Error {
    /// Whether retrying later may succeed (a timeout or an unavailable server).
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Timeout { .. } | Error::Unavailable { .. })
    }

    /// Whether the server refused the credentials.
    pub fn is_auth(&self) -> bool {
        matches!(self, Error::Auth { .. })
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a connection attempt failed, already scrubbed (the error type of our bb8 managers).
#[derive(Debug, Clone)]
pub(crate) struct ConnectError {
    pub(crate) auth: bool,
    pub(crate) message: String,
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectError {}

impl ConnectError {
    pub(crate) fn into_error(self, server: &str) -> Error {
        if self.auth {
            Error::Auth {
                server: server.to_string(),
                cause: self.message,
            }
        } else {
            Error::Unavailable {
                server: server.to_string(),
                cause: self.message,
            }
        }
    }
}

/// `e` and its sources joined with `: ` (tokio-postgres keeps the server's message in the
/// source, so its `Display` alone says only "db error").
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
