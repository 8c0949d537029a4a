//! Keeping passwords out of errors, logs and metrics: [`RedactedUrl`] and a scrubber for messages.

use std::fmt;

const MASK: &str = "***";

/// A connection URL (or PostgreSQL `key=value` string) with its password replaced by `***`.
///
/// Only the redacted form is stored, so it can be logged, shown in errors and exported in a
/// health report safely.
///
/// ```
/// use conn_pool::RedactedUrl;
/// let url = RedactedUrl::new("postgres://app:s3cr3t@db.internal:5432/cache");
/// assert_eq!(url.to_string(), "postgres://app:***@db.internal:5432/cache");
/// let redis = RedactedUrl::new("redis://:hunter2@127.0.0.1:6379/0");
/// assert_eq!(redis.to_string(), "redis://:***@127.0.0.1:6379/0");
/// let kv = RedactedUrl::new("host=db user=app password='a b' dbname=x");
/// assert_eq!(kv.to_string(), "host=db user=app password=*** dbname=x");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RedactedUrl(String);

impl RedactedUrl {
    /// Redacts `raw`.
    pub fn new(raw: &str) -> Self {
        RedactedUrl(redact(raw))
    }

    /// The redacted text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedactedUrl({:?})", self.0)
    }
}

/// Whether `raw` is a URL: its scheme and where the `://` after it starts in `raw`. The scheme
/// (after leading whitespace) is a letter, then letters, digits, `+`, `-` or `.` (RFC 3986);
/// anything else before the first `://` is not a URL but a `key=value` string whose value
/// holds `://` (a password such as `x://y`).
pub(crate) fn url_scheme(raw: &str) -> Option<(&str, usize)> {
    let lead = raw.len() - raw.trim_start().len();
    let i = lead + raw[lead..].find("://")?;
    let scheme = &raw[lead..i];
    let mut b = scheme.bytes();
    let valid = b.next().is_some_and(|c| c.is_ascii_alphabetic())
        && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'));
    valid.then_some((scheme, i))
}

fn redact(raw: &str) -> String {
    match url_scheme(raw) {
        Some((_, i)) => redact_url(&raw[..i + 3], &raw[i + 3..]),
        None => redact_key_values(raw),
    }
}

/// `scheme://[user[:password]@]rest`: everything between the first `:` of the user info and the
/// last `@` is the password (a password may hold `@`, `/`, `?` unencoded; masking too much is
/// preferred to masking too little).
fn redact_url(scheme: &str, rest: &str) -> String {
    let mut out = String::with_capacity(scheme.len() + rest.len());
    out.push_str(scheme);
    let tail = match rest.rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            match userinfo.find(':') {
                Some(colon) => {
                    out.push_str(&userinfo[..colon]);
                    out.push(':');
                    out.push_str(MASK);
                }
                None => out.push_str(userinfo),
            }
            out.push('@');
            &rest[at + 1..]
        }
        None => rest,
    };
    match tail.find('?') {
        Some(q) => {
            out.push_str(&tail[..=q]);
            let params: Vec<String> = tail[q + 1..]
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if is_secret_key(k) => format!("{k}={MASK}"),
                    _ => kv.to_string(),
                })
                .collect();
            out.push_str(&params.join("&"));
        }
        None => out.push_str(tail),
    }
    out
}

fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k == "password" || k == "pass" || k == "passwd" || k == "pwd" || k.ends_with("password")
}

/// PostgreSQL `key=value key='quoted value'` strings: the value of `password` is masked.
fn redact_key_values(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while !rest.is_empty() {
        let ws = rest.len() - rest.trim_start().len();
        out.push_str(&rest[..ws]);
        rest = &rest[ws..];
        if rest.is_empty() {
            break;
        }
        let key_end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let key = &rest[..key_end];
        out.push_str(key);
        rest = &rest[key_end..];
        let after_ws = rest.trim_start();
        if !after_ws.starts_with('=') {
            continue;
        }
        out.push_str(&rest[..rest.len() - after_ws.len()]);
        out.push('=');
        rest = after_ws[1..].trim_start();
        let value_len = value_len(rest);
        if is_secret_key(key) {
            out.push_str(MASK);
        } else {
            out.push_str(&rest[..value_len]);
        }
        rest = &rest[value_len..];
    }
    out
}

/// Length of one value: `'quoted with \' escapes'` or up to the next whitespace.
fn value_len(s: &str) -> usize {
    if let Some(body) = s.strip_prefix('\'') {
        let mut escaped = false;
        for (i, c) in body.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '\'' if !escaped => return i + 2,
                _ => escaped = false,
            }
        }
        s.len()
    } else {
        s.find(char::is_whitespace).unwrap_or(s.len())
    }
}

/// The password in `raw` (URL user info, a `password` query parameter, or a `password=` pair),
/// as written and percent-decoded, for [`Scrubber`].
pub(crate) fn passwords_in(raw: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut push = |p: &str| {
        if !p.is_empty() {
            found.push(p.to_string());
            let decoded = percent_decode(p);
            if decoded != p {
                found.push(decoded);
            }
        }
    };
    if let Some((_, i)) = url_scheme(raw) {
        let rest = &raw[i + 3..];
        let tail = match rest.rfind('@') {
            Some(at) => {
                if let Some(colon) = rest[..at].find(':') {
                    push(&rest[colon + 1..at]);
                }
                &rest[at + 1..]
            }
            None => rest,
        };
        if let Some(q) = tail.find('?') {
            for kv in tail[q + 1..].split('&') {
                if let Some((k, v)) = kv.split_once('=') {
                    if is_secret_key(k) {
                        push(v);
                    }
                }
            }
        }
    } else {
        let mut rest = raw;
        while let Some(pos) = rest.find('=') {
            let key = rest[..pos].trim_end();
            let key = key.rsplit(char::is_whitespace).next().unwrap_or(key);
            let value = rest[pos + 1..].trim_start();
            let len = value_len(value);
            if is_secret_key(key) {
                let v = &value[..len];
                let v = v
                    .strip_prefix('\'')
                    .and_then(|v| v.strip_suffix('\''))
                    .unwrap_or(v);
                push(v);
            }
            rest = &value[len..];
        }
    }
    found
}

/// Removes known secrets from messages before they leave the crate (errors, logs, health).
#[derive(Clone, Default)]
pub(crate) struct Scrubber {
    secrets: Vec<String>,
}

impl fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scrubber({} secrets)", self.secrets.len())
    }
}

impl Scrubber {
    /// A scrubber for these passwords (each also in percent-encoded form).
    pub(crate) fn new<'a>(passwords: impl IntoIterator<Item = &'a str>) -> Self {
        let mut secrets = Vec::new();
        for p in passwords.into_iter().filter(|p| !p.is_empty()) {
            secrets.push(p.to_string());
            let encoded = percent_encode(p);
            if encoded != p {
                secrets.push(encoded);
            }
        }
        // Longest first, so a secret containing another is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Scrubber { secrets }
    }

    /// A scrubber for every password found in `raw`.
    pub(crate) fn for_url(raw: &str) -> Self {
        let found = passwords_in(raw);
        Self::new(found.iter().map(String::as_str))
    }

    /// `text` with every known secret replaced by `***`.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), MASK);
            }
        }
        out
    }
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-decodes `s` (invalid escapes are kept as they are).
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(b) = hex {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_without_password_are_kept() {
        assert_eq!(redact("redis://127.0.0.1:6379/"), "redis://127.0.0.1:6379/");
        assert_eq!(
            redact("postgres://postgres@127.0.0.1:5432/test"),
            "postgres://postgres@127.0.0.1:5432/test"
        );
    }

    #[test]
    fn query_password_is_masked() {
        assert_eq!(
            redact("postgres://db/x?user=a&password=zz&sslmode=disable"),
            "postgres://db/x?user=a&password=***&sslmode=disable"
        );
    }

    #[test]
    fn scrubber_masks_raw_and_encoded() {
        let s = Scrubber::new(["p@ss word"]);
        assert_eq!(s.scrub("x p@ss word y p%40ss%20word"), "x *** y ***");
        assert_eq!(percent_decode("p%40ss%20word"), "p@ss word");
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn passwords_are_found_in_every_form() {
        assert_eq!(passwords_in("redis://:p%40ss@h:1/"), vec!["p%40ss", "p@ss"]);
        assert_eq!(passwords_in("postgres://u@h/d?password=zz"), vec!["zz"]);
        assert_eq!(passwords_in("host=h password='a b' user=u"), vec!["a b"]);
        assert!(passwords_in("postgres://u@h/d").is_empty());
    }
}
