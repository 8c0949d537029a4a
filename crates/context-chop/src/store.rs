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
    fn var(&mut self, v: u64) {
        crate::postings::put_var(&mut self.buf, v);
    }
    fn bytes(&mut self, b: &[u8]) {
        self.var(b.len() as u64);
        self.buf.extend_from_slice(b);
    }
}

/// The payload as it is read from the file: hashed as it passes, never past its end.
struct HashRead {
    inner: std::fs::File,
    hasher: blake3::Hasher,
    left: u64,
}

impl std::io::Read for HashRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = self.inner.read(&mut buf[..want])?;
        self.hasher.update(&buf[..n]);
        self.left -= n as u64;
        Ok(n)
    }
}

/// Reads the payload, streaming: nothing of the file is held beyond a buffer.
struct Reader {
    src: std::io::BufReader<HashRead>,
    scratch: Vec<u8>,
}

fn corrupt(what: &str) -> Error {
    Error::CorruptIndex(what.to_string())
}

fn read_err(e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        corrupt("truncated")
    } else {
        corrupt(&format!("read failed: {e}"))
    }
}

impl Reader {
    /// Payload bytes not read yet.
    fn left(&self) -> u64 {
        self.src.get_ref().left + self.src.buffer().len() as u64
    }
    fn u8(&mut self) -> Result<u8> {
        let mut b = [0u8; 1];
        std::io::Read::read_exact(&mut self.src, &mut b).map_err(read_err)?;
        Ok(b[0])
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
        let n = self.var()?;
        // Each element takes at least one byte: a length larger than what is left is corrupt.
        if n > self.left() / max_each.max(1) as u64 + 1 {
            return Err(corrupt("length out of range"));
        }
        Ok(n as usize)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        std::io::Read::read_exact(&mut self.src, &mut a).map_err(read_err)?;
        Ok(a)
    }
    /// A length-prefixed byte string, in a buffer reused by the next call.
    fn bytes(&mut self) -> Result<&[u8]> {
        let n = self.len(1)?;
        self.scratch.resize(n, 0);
        std::io::Read::read_exact(&mut self.src, &mut self.scratch).map_err(read_err)?;
        Ok(&self.scratch)
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

/// Decodes an index file, streaming (the file is never held whole: its payload is hashed as it
/// is read); an error when the header, the options fingerprint, any part of the payload or the
/// checksum (checked at the end, before anything decoded is used) does not match.
pub(crate) fn decode(
    mut file: std::fs::File,
    fingerprint: &[u8; 32],
) -> Result<(Dict, Vec<FileRec>, Postings)> {
    use std::io::{Read, Seek, SeekFrom};
    let head = 8 + 4 + 32;
    let size = file
        .metadata()
        .map_err(|e| corrupt(&format!("read failed: {e}")))?
        .len();
    let mut header = [0u8; 44];
    if size < (head + 8 + 32) as u64 || file.read_exact(&mut header).is_err() {
        return Err(corrupt("not an index file"));
    }
    if &header[..8] != MAGIC {
        return Err(corrupt("not an index file"));
    }
    let mut v = [0u8; 4];
    v.copy_from_slice(&header[8..12]);
    let version = u32::from_le_bytes(v);
    if version != FORMAT_VERSION {
        return Err(corrupt(&format!(
            "format version {version}, expected {FORMAT_VERSION}"
        )));
    }
    if &header[12..44] != fingerprint {
        return Err(corrupt("built with other options"));
    }
    let mut trailer = [0u8; 40];
    file.seek(SeekFrom::Start(size - 40))
        .and_then(|_| file.read_exact(&mut trailer))
        .and_then(|_| file.seek(SeekFrom::Start(head as u64)))
        .map_err(read_err)?;
    let mut l = [0u8; 8];
    l.copy_from_slice(&trailer[..8]);
    let len = u64::from_le_bytes(l);
    if len != size - head as u64 - 40 {
        return Err(corrupt("wrong length"));
    }
    let mut r = Reader {
        src: std::io::BufReader::with_capacity(
            1 << 20,
            HashRead {
                inner: file,
                hasher: blake3::Hasher::new(),
                left: len,
            },
        ),
        scratch: Vec::new(),
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
        let hash: [u8; 32] = r.array()?;
        let size = r.var()?;
        let mtime_ns = r.var()?;
        let kind = FileKind::from_u8(r.u8()?).ok_or_else(|| corrupt("bad file kind"))?;
        let lang = r.u8()?;
        // A chunk takes at least 4 bytes (four varints).
        let nc = r.len(4)?;
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
    let mut postings = Postings::with_capacity(np, usize::try_from(r.left()).unwrap_or(0));
    for _ in 0..np {
        let list = r.bytes()?;
        if !postings.push_raw(list, nchunks) {
            return Err(corrupt("bad postings"));
        }
    }
    if r.left() != 0 {
        return Err(corrupt("trailing bytes"));
    }
    if r.src.get_ref().hasher.finalize().as_bytes()[..] != trailer[8..] {
        return Err(corrupt("checksum mismatch"));
    }
    Ok((dict, files, postings))
}
