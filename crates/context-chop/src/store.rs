//! The compact binary encoding of the index: a header (magic, format version, options
//! fingerprint), a varint payload, and a trailer (payload length, blake3 of the payload). Decoding checks every
//! bound and returns an error on anything unexpected; it never panics.

use crate::index::{ChunkRec, Dict, FileKind, FileRec};
use crate::postings::Postings;
use crate::{Error, Result};

/// The magic bytes at the start of an index file.
const MAGIC: &[u8; 8] = b"CCHOPIDX";
/// Bumped whenever the layout changes; older files are rebuilt.
pub(crate) const FORMAT_VERSION: u32 = 6;

pub(crate) struct Writer<'w> {
    buf: Vec<u8>,
    out: &'w mut dyn std::io::Write,
    hasher: blake3::Hasher,
    len: u64,
}

impl Writer<'_> {
    /// Hands the buffered payload bytes to the output once there are enough of them.
    fn spill(&mut self, force: bool) -> std::io::Result<()> {
        if force || self.buf.len() >= 1 << 20 {
            self.hasher.update(&self.buf);
            self.len += self.buf.len() as u64;
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
    fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    fn var(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }
    fn bytes(&mut self, b: &[u8]) {
        self.var(b.len() as u64);
        self.buf.extend_from_slice(b);
    }
}

pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn corrupt(what: &str) -> Error {
    Error::CorruptIndex(what.to_string())
}

impl<'a> Reader<'a> {
    fn u8(&mut self) -> Result<u8> {
        let b = *self.buf.get(self.pos).ok_or_else(|| corrupt("truncated"))?;
        self.pos += 1;
        Ok(b)
    }
    fn var(&mut self) -> Result<u64> {
        let mut v = 0u64;
        let mut shift = 0u32;
        loop {
            let b = self.u8()?;
            if shift >= 64 {
                return Err(corrupt("varint too long"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
            shift += 7;
        }
    }
    fn u32(&mut self) -> Result<u32> {
        u32::try_from(self.var()?).map_err(|_| corrupt("value out of range"))
    }
    fn len(&mut self, max_each: usize) -> Result<usize> {
        let n = self.var()? as usize;
        // Each element takes at least one byte: a length larger than what is left is corrupt.
        if n > (self.buf.len() - self.pos) / max_each.max(1) + 1 {
            return Err(corrupt("length out of range"));
        }
        Ok(n)
    }
    fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.len(1)?;
        let end = self.pos.checked_add(n).ok_or_else(|| corrupt("overflow"))?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| corrupt("truncated"))?;
        self.pos = end;
        Ok(s)
    }
    fn string(&mut self) -> Result<String> {
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| corrupt("string is not UTF-8"))
    }
}

/// Writes the header, the dictionary and files, then a trailer (payload length and blake3),
/// streaming: the payload is never held in memory whole.
pub(crate) fn encode_to(
    out: &mut dyn std::io::Write,
    fingerprint: &[u8; 32],
    dict: &Dict,
    files: &[FileRec],
    postings: &Postings,
) -> std::io::Result<()> {
    out.write_all(MAGIC)?;
    out.write_all(&FORMAT_VERSION.to_le_bytes())?;
    out.write_all(fingerprint)?;
    let mut w = Writer {
        buf: Vec::with_capacity(1 << 20),
        out,
        hasher: blake3::Hasher::new(),
        len: 0,
    };
    w.var(dict.len() as u64);
    for t in dict.iter() {
        w.bytes(t.as_bytes());
        w.spill(false)?;
    }
    w.var(files.len() as u64);
    for f in files {
        w.bytes(f.path.as_bytes());
        w.buf.extend_from_slice(&f.hash);
        w.var(f.size);
        w.var(f.mtime_ns);
        w.u8(f.kind as u8);
        w.u8(f.lang);
        w.var(f.chunks.len() as u64);
        let (mut line, mut byte) = (0u32, 0u32);
        for c in &f.chunks {
            // Each chunk ends after the one before it: store the steps.
            w.var(u64::from(c.end_line.saturating_sub(line)));
            w.var(u64::from(c.byte_end.saturating_sub(byte)));
            (line, byte) = (c.end_line, c.byte_end);
            w.var(u64::from(c.tokens));
            w.var(u64::from(c.body_len));
        }
        // The chunks' symbol entries as they are held in memory (checked entry by entry on load).
        w.bytes(&f.entries);
        w.spill(false)?;
    }
    // The postings as held in memory: per term, the encoded list.
    w.var(postings.terms() as u64);
    for t in 0..postings.terms() as u32 {
        w.bytes(postings.raw(t));
        w.spill(false)?;
    }
    w.spill(true)?;
    let (len, hash) = (w.len, w.hasher.finalize());
    w.out.write_all(&len.to_le_bytes())?;
    w.out.write_all(hash.as_bytes())?;
    Ok(())
}

/// Decodes an index file; an error when the header, the options fingerprint, the checksum or
/// any part of the payload does not match.
pub(crate) fn decode(
    bytes: &[u8],
    fingerprint: &[u8; 32],
) -> Result<(Dict, Vec<FileRec>, Postings)> {
    let head = 8 + 4 + 32;
    if bytes.len() < head + 8 + 32 || &bytes[..8] != MAGIC {
        return Err(corrupt("not an index file"));
    }
    let mut v = [0u8; 4];
    v.copy_from_slice(&bytes[8..12]);
    let version = u32::from_le_bytes(v);
    if version != FORMAT_VERSION {
        return Err(corrupt(&format!(
            "format version {version}, expected {FORMAT_VERSION}"
        )));
    }
    if &bytes[12..44] != fingerprint {
        return Err(corrupt("built with other options"));
    }
    let trailer = bytes.len() - 40;
    let mut l = [0u8; 8];
    l.copy_from_slice(&bytes[trailer..trailer + 8]);
    let len = u64::from_le_bytes(l);
    if len != (trailer - head) as u64 {
        return Err(corrupt("wrong length"));
    }
    let payload = &bytes[head..trailer];
    if blake3::hash(payload).as_bytes() != &bytes[trailer + 8..] {
        return Err(corrupt("checksum mismatch"));
    }
    let mut r = Reader {
        buf: payload,
        pos: 0,
    };
    let nterms = r.len(1)?;
    let mut dict = Dict::default();
    for _ in 0..nterms {
        let t = r.bytes()?;
        let t = std::str::from_utf8(t).map_err(|_| corrupt("term is not UTF-8"))?;
        dict.intern(t);
    }
    if dict.len() != nterms {
        return Err(corrupt("duplicate terms"));
    }
    let nfiles = r.len(36)?;
    let mut files = Vec::with_capacity(nfiles);
    for _ in 0..nfiles {
        let path = r.string()?;
        let end = r.pos + 32;
        let h = r.buf.get(r.pos..end).ok_or_else(|| corrupt("truncated"))?;
        let mut hash = [0u8; 32];
        hash.copy_from_slice(h);
        r.pos = end;
        let size = r.var()?;
        let mtime_ns = r.var()?;
        let kind = FileKind::from_u8(r.u8()?).ok_or_else(|| corrupt("bad file kind"))?;
        let lang = r.u8()?;
        let nc = r.len(7)?;
        let mut chunks = Vec::with_capacity(nc);
        let (mut end_line, mut byte_end) = (0u32, 0u32);
        for _ in 0..nc {
            let (dl, db) = (r.u32()?, r.u32()?);
            if dl == 0 || db == 0 {
                return Err(corrupt("empty chunk"));
            }
            end_line = end_line
                .checked_add(dl)
                .ok_or_else(|| corrupt("overflow"))?;
            byte_end = byte_end
                .checked_add(db)
                .ok_or_else(|| corrupt("overflow"))?;
            let tokens = r.u32()?;
            let body_len = r.u32()?;
            chunks.push(ChunkRec {
                end_line,
                byte_end,
                tokens,
                body_len,
            });
        }
        let entries = r.bytes()?.to_vec();
        let file = FileRec {
            path,
            hash,
            size,
            mtime_ns,
            kind,
            lang,
            chunks,
            entries,
        };
        if !crate::postings::check_symbols(&file.entries, file.chunks.len(), nterms) {
            return Err(corrupt("bad chunk entry"));
        }
        files.push(file);
    }
    let nchunks: usize = files.iter().map(|f| f.chunks.len()).sum();
    let np = r.len(1)?;
    if np > nterms {
        return Err(corrupt("postings for unknown terms"));
    }
    let mut postings = Postings::with_capacity(np, payload.len().saturating_sub(r.pos));
    for _ in 0..np {
        let list = r.bytes()?;
        if !postings.push_raw(list, nchunks) {
            return Err(corrupt("bad postings"));
        }
    }
    if r.pos != payload.len() {
        return Err(corrupt("trailing bytes"));
    }
    Ok((dict, files, postings))
}
