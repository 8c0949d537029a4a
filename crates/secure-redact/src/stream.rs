//! Streaming: scan or redact any `Read` in chunks with an overlap, so a secret across a chunk
//! boundary is found exactly once and memory stays bounded by the chunk size.

use crate::redact::apply;
use crate::scanner::Pos;
use crate::{Error, Finding, Level, RedactMode, Result, Scanner, Source};
use std::io::{Read, Write};

/// Chunking for streaming scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamOptions {
    /// Bytes read per step (default 1 MiB).
    pub chunk_size: usize,
    /// Bytes kept from the previous step (default 64 KiB); must exceed the longest secret
    /// (private keys are the longest) plus its context. Clamped to below `chunk_size`.
    pub overlap: usize,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            chunk_size: 1 << 20,
            overlap: 64 << 10,
        }
    }
}

/// What a streaming redaction saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamSummary {
    /// Every finding, offsets into the whole stream.
    pub findings: Vec<Finding>,
    /// Highest level seen.
    pub level: Level,
    /// Bytes read.
    pub bytes_in: u64,
    /// Bytes written.
    pub bytes_out: u64,
}

fn fill<R: Read>(r: &mut R, buf: &mut Vec<u8>, want: usize) -> Result<bool> {
    let start = buf.len();
    buf.resize(start + want, 0);
    let mut got = 0;
    while got < want {
        match r.read(&mut buf[start + got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                buf.truncate(start + got);
                return Err(Error::Io {
                    what: "stream input".into(),
                    source: e,
                });
            }
        }
    }
    buf.truncate(start + got);
    Ok(got < want)
}

/// Advance a position over `bytes`.
fn advance(pos: &mut Pos, bytes: &[u8]) {
    let n = memchr::memchr_iter(b'\n', bytes).count();
    if n > 0 {
        pos.line += n;
        pos.column = bytes.len() - memchr::memrchr(b'\n', bytes).unwrap_or(0);
    } else {
        pos.column += bytes.len();
    }
    pos.offset += bytes.len();
}

/// Bytes before the carry-over point kept as context for the next step, so a rule whose
/// keyword sits before the secret still sees it.
fn context_len(overlap: usize) -> usize {
    (overlap / 2).min(2048)
}

impl Scanner {
    /// Scan a reader with default [`StreamOptions`]; findings have offsets, lines and columns
    /// in the whole stream.
    pub fn scan_reader<R: Read>(&self, reader: R) -> Result<Vec<Finding>> {
        let mut all = Vec::new();
        self.scan_reader_with(reader, Source::default(), StreamOptions::default(), |f| {
            all.push(f)
        })?;
        Ok(all)
    }

    /// Scan a reader, calling `on_finding` for each finding in order.
    pub fn scan_reader_with<R: Read>(
        &self,
        mut reader: R,
        src: Source<'_>,
        opts: StreamOptions,
        mut on_finding: impl FnMut(Finding),
    ) -> Result<()> {
        let chunk = opts.chunk_size.max(4096);
        let overlap = opts.overlap.min(chunk / 2);
        let ctx = context_len(overlap);
        let mut buf: Vec<u8> = Vec::with_capacity(chunk + overlap);
        let mut pos = Pos::default(); // position of buf[0] in the stream
        let mut done = 0usize; // relative to buf: findings starting before this were reported
        let mut first = true;
        loop {
            let eof = fill(&mut reader, &mut buf, chunk)?;
            let raws = self.candidates(src.path, &buf);
            // Findings starting in the committed part are final; the overlap is rescanned.
            let commit = if eof {
                buf.len()
            } else {
                buf.len().saturating_sub(overlap)
            };
            let keep: Vec<_> = raws
                .into_iter()
                .filter(|r| r.start >= done && r.start < commit && (first || r.end > r.start))
                .collect();
            for f in self.finish(&buf, &keep, pos) {
                on_finding(f);
            }
            if eof {
                return Ok(());
            }
            let cut = keep
                .iter()
                .map(|r| r.end)
                .max()
                .map_or(commit, |e| e.max(commit))
                .min(buf.len());
            let drop = cut.saturating_sub(ctx).max(done.min(cut));
            advance(&mut pos, &buf[..drop]);
            buf.drain(..drop);
            done = cut - drop;
            first = false;
        }
    }

    /// Redact a reader into a writer with default [`StreamOptions`].
    pub fn redact_reader<R: Read, W: Write>(
        &self,
        reader: R,
        writer: W,
        mode: RedactMode,
    ) -> Result<StreamSummary> {
        self.redact_reader_with(
            reader,
            writer,
            Source::default(),
            mode,
            StreamOptions::default(),
        )
    }

    /// Redact a reader into a writer. Output is written as each chunk is final; memory is
    /// bounded by the chunk size.
    pub fn redact_reader_with<R: Read, W: Write>(
        &self,
        mut reader: R,
        mut writer: W,
        src: Source<'_>,
        mode: RedactMode,
        opts: StreamOptions,
    ) -> Result<StreamSummary> {
        let chunk = opts.chunk_size.max(4096);
        let overlap = opts.overlap.min(chunk / 2);
        let ctx = context_len(overlap);
        let mut buf: Vec<u8> = Vec::with_capacity(chunk + overlap);
        let mut out: Vec<u8> = Vec::with_capacity(chunk + 1024);
        let mut pos = Pos::default();
        let mut done = 0usize; // relative to buf: bytes before this were written
        let mut summary = StreamSummary::default();
        let mut first = true;
        loop {
            let eof = fill(&mut reader, &mut buf, chunk)?;
            let raws = self.candidates(src.path, &buf);
            let mut commit = if eof {
                buf.len()
            } else {
                buf.len().saturating_sub(overlap)
            };
            if !eof && mode == RedactMode::DropLine {
                // Cut at a line start so a dropped line is never split.
                commit = memchr::memrchr(b'\n', &buf[..commit])
                    .map_or(commit, |p| p + 1)
                    .max(done);
            }
            let keep: Vec<_> = raws
                .into_iter()
                .filter(|r| r.start >= done && r.start < commit && (first || r.end > r.start))
                .collect();
            let mut cut = keep
                .iter()
                .map(|r| r.end)
                .max()
                .map_or(commit, |e| e.max(commit))
                .min(buf.len());
            if !eof && mode == RedactMode::DropLine && cut > commit {
                cut = memchr::memchr(b'\n', &buf[cut..]).map_or(buf.len(), |p| cut + p + 1);
            }
            let findings = self.finish(&buf, &keep, pos);
            out.clear();
            apply(
                &buf[done..cut],
                pos.offset + done,
                &findings,
                mode,
                &mut out,
            );
            writer.write_all(&out).map_err(|e| Error::Io {
                what: "stream output".into(),
                source: e,
            })?;
            summary.bytes_in += (cut - done) as u64;
            summary.bytes_out += out.len() as u64;
            summary.level = summary.level.max(Scanner::level_of(&findings));
            summary.findings.extend(findings);
            if eof {
                writer.flush().map_err(|e| Error::Io {
                    what: "stream output".into(),
                    source: e,
                })?;
                return Ok(summary);
            }
            let drop = if mode == RedactMode::DropLine {
                cut
            } else {
                cut.saturating_sub(ctx).max(done.min(cut))
            };
            advance(&mut pos, &buf[..drop]);
            buf.drain(..drop);
            done = cut - drop;
            first = false;
        }
    }
}
