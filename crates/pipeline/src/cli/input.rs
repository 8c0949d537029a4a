//! Reading a command's input: a file, or standard input for `-`, with errors that say what was
//! wrong and a size limit so a huge input is refused rather than exhausting memory.

use pipeline::scan::io_reason;
use std::io::Read;
use std::path::Path;

/// Reads `arg` (`-` or none: standard input) up to `limit` bytes.
pub fn read_input(arg: Option<&str>, limit: u64) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    match arg {
        None | Some("-") => {
            std::io::stdin()
                .lock()
                .take(limit + 1)
                .read_to_end(&mut buf)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            if buf.len() as u64 > limit {
                return Err(format!(
                    "standard input is larger than the limit of {limit} bytes (--max-input)"
                ));
            }
        }
        Some(path) => {
            let p = Path::new(path);
            let meta = std::fs::metadata(p)
                .map_err(|e| format!("cannot read {path}: {}", io_reason(&e)))?;
            if meta.is_dir() {
                return Err(format!("cannot read {path}: it is a directory"));
            }
            if meta.len() > limit {
                return Err(format!(
                    "{path} is {} bytes, larger than the limit of {limit} bytes (--max-input)",
                    meta.len()
                ));
            }
            let file = std::fs::File::open(p)
                .map_err(|e| format!("cannot read {path}: {}", io_reason(&e)))?;
            file.take(limit + 1)
                .read_to_end(&mut buf)
                .map_err(|e| format!("cannot read {path}: {}", io_reason(&e)))?;
            if buf.len() as u64 > limit {
                return Err(format!(
                    "{path} grew past the limit of {limit} bytes while reading"
                ));
            }
        }
    }
    Ok(buf)
}

/// Text from bytes: invalid UTF-8 sequences become U+FFFD; returns whether any did.
pub fn to_text(bytes: &[u8]) -> (std::borrow::Cow<'_, str>, bool) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (std::borrow::Cow::Borrowed(s), false),
        Err(_) => (String::from_utf8_lossy(bytes), true),
    }
}
