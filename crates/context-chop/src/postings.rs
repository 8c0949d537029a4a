//! Compact in-memory layouts of the index, so a gigabyte of code fits in a few hundred
//! megabytes: the term dictionary as one string arena with a table of ids, each file's
//! per-chunk symbols as one varint stream, and the inverted postings (the only copy of the
//! term frequencies) as delta-coded varint streams per term, built through sorted segments
//! spilled to a temporary file so the build never holds the terms twice.

use std::hash::BuildHasher;

/// Appends `v` as a LEB128 varint.
pub(crate) fn put_var(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Bytes `v` takes as a varint.
pub(crate) fn var_len(v: u64) -> usize {
    ((64 - (v | 1).leading_zeros()) as usize).div_ceil(7)
}

/// Reads a varint at `*pos`; `None` when truncated or longer than 64 bits.
pub(crate) fn get_var(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0u32;
    loop {
        let b = *buf.get(*pos)?;
        *pos += 1;
        if shift >= 64 {
            return None;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
        shift += 7;
    }
}

/// The term dictionary: ids to strings (one arena) and strings to ids (a table of ids).
#[derive(Clone, Default)]
pub(crate) struct Dict {
    arena: String,
    /// `arena[ends[i - 1]..ends[i]]` is term `i`.
    ends: Vec<u32>,
    table: hashbrown::HashTable<u32>,
    hasher: foldhash::fast::FixedState,
}

impl std::fmt::Debug for Dict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dict").field("terms", &self.len()).finish()
    }
}

impl Dict {
    /// Number of terms.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The text of term `id` ("" when out of range).
    pub fn term(&self, id: u32) -> &str {
        term_in(&self.arena, &self.ends, id)
    }

    /// The terms in id order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.ends.len() as u32).map(|i| self.term(i))
    }

    /// The id of `t`, adding it when new. Past 4 GiB of distinct term text (tens of millions
    /// of terms) new terms get the id `u32::MAX`, which has no text and no postings.
    pub fn intern(&mut self, t: &str) -> u32 {
        let hash = self.hasher.hash_one(t);
        let Dict {
            arena,
            ends,
            table,
            hasher,
        } = self;
        if let Some(&id) = table.find(hash, |&id| term_in(arena, ends, id) == t) {
            return id;
        }
        if arena.len() + t.len() > u32::MAX as usize || ends.len() >= u32::MAX as usize {
            return u32::MAX;
        }
        let id = ends.len() as u32;
        arena.push_str(t);
        ends.push(arena.len() as u32);
        table.insert_unique(hash, id, |&i| hasher.hash_one(term_in(arena, ends, i)));
        id
    }

    /// Gives back the spare capacity of the growing arrays.
    pub fn shrink(&mut self) {
        self.arena.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    /// The id of `t`, if known.
    pub fn get(&self, t: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(t);
        self.table.find(hash, |&id| self.term(id) == t).copied()
    }
}

fn term_in<'a>(arena: &'a str, ends: &[u32], id: u32) -> &'a str {
    let i = id as usize;
    let end = ends.get(i).copied().unwrap_or(0) as usize;
    let start = match i.checked_sub(1) {
        Some(p) => ends.get(p).copied().unwrap_or(0) as usize,
        None => 0,
    };
    arena.get(start..end).unwrap_or("")
}

/// Appends one chunk's entry to a file's stream: the term ids of the names it defines.
pub(crate) fn encode_entry(out: &mut Vec<u8>, symbols: &[u32]) {
    put_var(out, symbols.len() as u64);
    for &s in symbols {
        put_var(out, u64::from(s));
    }
}

/// The (chunk index, symbol term) pairs of a file's symbol stream (one entry per chunk, in
/// order; see [`encode_entry`]).
pub(crate) fn symbols_of(stream: &[u8]) -> impl Iterator<Item = (u32, u32)> + '_ {
    let mut pos = 0usize;
    let mut ci = 0u32;
    let mut left = 0u64;
    std::iter::from_fn(move || loop {
        if left > 0 {
            left -= 1;
            let v = get_var(stream, &mut pos)?;
            return Some((ci - 1, u32::try_from(v).ok()?));
        }
        if pos >= stream.len() {
            return None;
        }
        left = get_var(stream, &mut pos)?;
        ci += 1;
    })
}

/// Whether `stream` holds exactly `nchunks` entries with every id below `nterms`.
pub(crate) fn check_symbols(stream: &[u8], nchunks: usize, nterms: usize) -> bool {
    let mut pos = 0usize;
    for _ in 0..nchunks {
        let Some(n) = get_var(stream, &mut pos) else {
            return false;
        };
        for _ in 0..n {
            match get_var(stream, &mut pos) {
                Some(v) if (v as usize) < nterms => {}
                _ => return false,
            }
        }
    }
    pos == stream.len()
}

/// The inverted postings: for each term, the chunks holding it by increasing id.
///
/// A posting is `varint(delta << 1 | rare)`, where `delta` is the chunk id minus the previous
/// posting's (the first is the id itself); the common case, a term once in the body and not in
/// a symbol name, ends there (`rare = 0`). Otherwise `varint(body_tf << 1 | in_symbol)`
/// follows, then `varint(symbol_tf)` when `in_symbol`. About 1.6 bytes a posting on code.
#[derive(Debug, Clone, Default)]
pub(crate) struct Postings {
    bytes: Vec<u8>,
    /// `bytes[start[t]..start[t + 1]]` are term `t`'s postings.
    start: Vec<u32>,
}

/// The varints of one posting after `prev` (see [`Postings`]): one, two or three of them.
fn posting_words(prev: u32, c: u32, b: u16, s: u16) -> ([u64; 3], usize) {
    let delta = u64::from(c.wrapping_sub(prev)) << 1;
    match (b, s) {
        (1, 0) => ([delta, 0, 0], 1),
        (_, 0) => ([delta | 1, u64::from(b) << 1, 0], 2),
        _ => ([delta | 1, (u64::from(b) << 1) | 1, u64::from(s)], 3),
    }
}

/// Encodes one posting after `prev` into `out`.
fn put_posting(out: &mut Vec<u8>, prev: u32, c: u32, b: u16, s: u16) {
    let (w, n) = posting_words(prev, c, b, s);
    w[..n].iter().for_each(|&v| put_var(out, v));
}

/// Bytes [`put_posting`] writes.
fn posting_len(prev: u32, c: u32, b: u16, s: u16) -> usize {
    let (w, n) = posting_words(prev, c, b, s);
    w[..n].iter().map(|&v| var_len(v)).sum()
}

/// The postings of `list` whose chunk id increases, each with the id before it (0 first).
fn increasing(
    list: impl Iterator<Item = (u32, u16, u16)>,
) -> impl Iterator<Item = (u32, u32, u16, u16)> {
    let mut prev = None::<u32>;
    list.filter_map(move |(c, b, s)| {
        if prev.is_some_and(|p| c <= p) {
            return None;
        }
        let p = prev.replace(c).unwrap_or(0);
        Some((p, c, b, s))
    })
}

/// Postings larger than this are refused (offsets are 32-bit): about 2.5 billion postings,
/// some 30 GB of code.
const MAX_BYTES: usize = u32::MAX as usize;

fn too_large() -> crate::Error {
    crate::Error::Invalid("the index postings would exceed 4 GiB".into())
}

impl Postings {
    /// Builds the postings of `nterms` terms from `list(t)`, each term's postings by increasing
    /// chunk id (called twice per term: once to size, once to fill). A posting whose id does not
    /// increase is dropped.
    pub fn from_lists<I, F>(nterms: usize, list: F) -> crate::Result<Postings>
    where
        I: Iterator<Item = (u32, u16, u16)>,
        F: Fn(u32) -> I,
    {
        let mut start = vec![0u32; nterms + 1];
        let mut total = 0usize;
        for t in 0..nterms {
            total += increasing(list(t as u32))
                .map(|(p, c, b, s)| posting_len(p, c, b, s))
                .sum::<usize>();
            if total > MAX_BYTES {
                return Err(too_large());
            }
            start[t + 1] = total as u32;
        }
        let mut bytes = Vec::with_capacity(total);
        for t in 0..nterms {
            for (p, c, b, s) in increasing(list(t as u32)) {
                put_posting(&mut bytes, p, c, b, s);
            }
        }
        Ok(Postings { bytes, start })
    }

    /// The postings of `old` whose chunk `remap` keeps (to its new id; `u32::MAX`: dropped),
    /// merged with `fresh` (already in new ids), for `nterms` terms.
    pub fn merge(
        old: &Postings,
        remap: &[u32],
        fresh: &Postings,
        nterms: usize,
    ) -> crate::Result<Postings> {
        Postings::from_lists(nterms, |t| {
            let kept = old
                .of(t)
                .filter_map(|(c, b, s)| match remap.get(c as usize) {
                    Some(&n) if n != u32::MAX => Some((n, b, s)),
                    _ => None,
                });
            MergeIter {
                a: kept.peekable(),
                b: fresh.of(t).peekable(),
            }
        })
    }

    /// Whether no term has a posting.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Number of terms covered.
    pub fn terms(&self) -> usize {
        self.start.len().saturating_sub(1)
    }

    /// Term `t`'s postings as stored.
    pub fn raw(&self, t: u32) -> &[u8] {
        let t = t as usize;
        match (self.start.get(t), self.start.get(t + 1)) {
            (Some(&a), Some(&b)) if a <= b => self.bytes.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Starts a list of stored postings to be filled with [`Postings::push_raw`].
    pub fn with_capacity(nterms: usize, bytes: usize) -> Postings {
        let mut start = Vec::with_capacity(nterms + 1);
        start.push(0);
        Postings {
            bytes: Vec::with_capacity(bytes.min(MAX_BYTES)),
            start,
        }
    }

    /// Appends the next term's stored postings, checking them: chunk ids increasing and below
    /// `nchunks`, frequencies in range, nothing left over. False (nothing appended) otherwise.
    pub fn push_raw(&mut self, bytes: &[u8], nchunks: usize) -> bool {
        let mut it = PostIter {
            bytes,
            pos: 0,
            prev: 0,
        };
        let mut prev = None::<u32>;
        while it.pos < bytes.len() {
            let Some((c, _, _)) = it.next() else {
                return false;
            };
            if c as usize >= nchunks || prev.is_some_and(|p| c <= p) {
                return false;
            }
            prev = Some(c);
        }
        if self.bytes.len() + bytes.len() > MAX_BYTES {
            return false;
        }
        self.bytes.extend_from_slice(bytes);
        self.start.push(self.bytes.len() as u32);
        true
    }

    /// The postings of term `t`: (chunk id, body tf, symbol tf), by increasing chunk id.
    pub fn of(&self, t: u32) -> PostIter<'_> {
        PostIter {
            bytes: self.raw(t),
            pos: 0,
            prev: 0,
        }
    }
}

/// Two posting lists merged by chunk id.
struct MergeIter<A: Iterator<Item = (u32, u16, u16)>, B: Iterator<Item = (u32, u16, u16)>> {
    a: std::iter::Peekable<A>,
    b: std::iter::Peekable<B>,
}

impl<A, B> Iterator for MergeIter<A, B>
where
    A: Iterator<Item = (u32, u16, u16)>,
    B: Iterator<Item = (u32, u16, u16)>,
{
    type Item = (u32, u16, u16);
    fn next(&mut self) -> Option<Self::Item> {
        match (self.a.peek(), self.b.peek()) {
            (Some(x), Some(y)) => {
                if x.0 <= y.0 {
                    self.a.next()
                } else {
                    self.b.next()
                }
            }
            (Some(_), None) => self.a.next(),
            _ => self.b.next(),
        }
    }
}

/// Builds [`Postings`] from chunks given in increasing id order while holding at most about
/// `limit` postings in memory: each time the buffer fills, its postings are sorted by term and
/// encoded in their final form (deltas from the term's previous chunk, which is known because
/// chunks come in order), and written to a temporary file; [`Builder::finish`] sizes the final
/// arrays from the totals and places every term's bytes, reading the file back in one pass.
pub(crate) struct Builder {
    buf: Vec<(u32, u32, u16, u16)>,
    limit: usize,
    /// Per term: encoded bytes so far.
    size: Vec<u32>,
    /// Per term: the last chunk id plus one (0: none yet).
    last: Vec<u32>,
    /// Segments encoded so far: in memory until the first spill, then in the file (then it
    /// is only the reused buffer of the next segment).
    pending: Vec<u8>,
    /// Reused buffer of one term's postings.
    group: Vec<u8>,
    spill: Option<Spill>,
    /// No temporary file could be made: every segment stays in `pending`.
    no_spill: bool,
    dir: std::path::PathBuf,
    next_chunk: u32,
    total: usize,
}

/// The temporary file of a [`Builder`].
struct Spill {
    path: TempPath,
    file: std::io::BufWriter<std::fs::File>,
}

/// A temporary file's path; the file is removed when this is dropped (also on errors).
struct TempPath(std::path::PathBuf);

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn io_err(path: &std::path::Path, e: std::io::Error) -> crate::Error {
    crate::Error::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

impl Builder {
    /// A builder spilling into `dir` beyond `limit` buffered postings.
    pub fn new(dir: std::path::PathBuf, limit: usize) -> Builder {
        Builder {
            buf: Vec::new(),
            limit: limit.max(1024),
            size: Vec::new(),
            last: Vec::new(),
            pending: Vec::new(),
            group: Vec::new(),
            spill: None,
            no_spill: false,
            dir,
            next_chunk: 0,
            total: 0,
        }
    }

    /// Adds chunk `id` (at least every id before it) with its terms.
    pub fn push(
        &mut self,
        id: u32,
        terms: impl Iterator<Item = (u32, u16, u16)>,
    ) -> crate::Result<()> {
        if id < self.next_chunk {
            return Ok(());
        }
        self.next_chunk = id.saturating_add(1);
        for (t, b, s) in terms {
            self.buf.push((t, id, b, s));
        }
        if self.buf.len() >= self.limit {
            self.flush()?;
        }
        Ok(())
    }

    /// Encodes the buffer as one segment: (term, byte length, bytes) per term present.
    fn flush(&mut self) -> crate::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        // (term, chunk) pairs are unique: an unstable sort (no scratch allocation) orders each
        // term's postings by chunk id.
        self.buf.sort_unstable_by_key(|p| (p.0, p.1));
        let need = self.buf.last().map_or(0, |p| p.0 as usize + 1);
        if self.size.len() < need {
            self.size.resize(need, 0);
            self.last.resize(need, 0);
        }
        let mut seg = std::mem::take(&mut self.pending);
        let mut group = std::mem::take(&mut self.group);
        let mut i = 0usize;
        while i < self.buf.len() {
            let t = self.buf[i].0;
            let ti = t as usize;
            group.clear();
            let mut last = self.last[ti];
            while i < self.buf.len() && self.buf[i].0 == t {
                let (_, c, b, s) = self.buf[i];
                i += 1;
                if c < last {
                    continue; // not increasing (`last` is the previous id plus one)
                }
                put_posting(&mut group, last.saturating_sub(1), c, b, s);
                last = c + 1;
            }
            self.last[ti] = last;
            self.size[ti] = self.size[ti].saturating_add(group.len() as u32);
            self.total += group.len();
            put_var(&mut seg, u64::from(t));
            put_var(&mut seg, group.len() as u64);
            seg.extend_from_slice(&group);
        }
        self.group = group;
        if self.total > MAX_BYTES {
            return Err(too_large());
        }
        self.buf.clear();
        if self.spill.is_none() && !self.no_spill && seg.len() >= self.limit * 4 {
            self.spill = self.open_spill();
            // No temporary file can be made: hold the segments in memory instead.
            self.no_spill = self.spill.is_none();
        }
        if let Some(spill) = &mut self.spill {
            std::io::Write::write_all(&mut spill.file, &seg)
                .map_err(|e| io_err(&spill.path.0, e))?;
            // Keep the allocation for the next segment.
            seg.clear();
        }
        // Small so far, or no file: the segments stay in memory, in order.
        self.pending = seg;
        Ok(())
    }

    /// Creates the temporary file (a new one, never another builder's), or `None` when it
    /// cannot be.
    fn open_spill(&self) -> Option<Spill> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        std::fs::create_dir_all(&self.dir).ok()?;
        let (path, file) = (0..16).find_map(|_| {
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let path = self.dir.join(format!(
                ".context-chop-postings-{}-{n}-{nanos}.tmp",
                std::process::id()
            ));
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .ok()?;
            Some((path, file))
        })?;
        Some(Spill {
            path: TempPath(path),
            file: std::io::BufWriter::with_capacity(1 << 20, file),
        })
    }

    /// The postings of everything pushed, for at least `nterms` terms.
    pub fn finish(mut self, nterms: usize) -> crate::Result<Postings> {
        self.flush()?;
        self.buf = Vec::new();
        self.last = Vec::new();
        let nterms = nterms.max(self.size.len());
        // `start[t + 1]` begins as term t's first byte and advances as its bytes are placed,
        // ending as its end (= term t + 1's first byte).
        let mut start = vec![0u32; nterms + 1];
        let mut at = 0u32;
        for t in 0..nterms {
            start[t + 1] = at;
            at = at.saturating_add(self.size.get(t).copied().unwrap_or(0));
        }
        self.size = Vec::new();
        let mut bytes = vec![0u8; at as usize];
        let mut place = |seg: &[u8]| -> bool {
            let mut pos = 0usize;
            while pos < seg.len() {
                let (Some(t), Some(n)) = (get_var(seg, &mut pos), get_var(seg, &mut pos)) else {
                    return false;
                };
                let n = n as usize;
                let Some(cur) = usize::try_from(t)
                    .ok()
                    .and_then(|t| t.checked_add(1))
                    .and_then(|i| start.get_mut(i))
                else {
                    return false;
                };
                let at = *cur as usize;
                let (Some(se), Some(de)) = (pos.checked_add(n), at.checked_add(n)) else {
                    return false;
                };
                let (Some(src), Some(dst)) = (seg.get(pos..se), bytes.get_mut(at..de)) else {
                    return false;
                };
                dst.copy_from_slice(src);
                *cur = de as u32;
                pos = se;
            }
            true
        };
        let bad = |path: &std::path::Path| {
            io_err(
                path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, "bad postings segment"),
            )
        };
        if let Some(spill) = self.spill.take() {
            let Spill { path, file } = spill;
            let file = file
                .into_inner()
                .map_err(|e| io_err(&path.0, e.into_error()))?;
            drop(file);
            // Read the segments back in pieces: each piece ends at a whole term group.
            use std::io::Read;
            let mut reader = std::fs::File::open(&path.0).map_err(|e| io_err(&path.0, e))?;
            let mut carry: Vec<u8> = Vec::new();
            let mut piece = vec![0u8; 1 << 20];
            loop {
                let n = reader.read(&mut piece).map_err(|e| io_err(&path.0, e))?;
                if n == 0 {
                    break;
                }
                carry.extend_from_slice(&piece[..n]);
                let whole = whole_groups(&carry);
                if !place(&carry[..whole]) {
                    return Err(bad(&path.0));
                }
                carry.drain(..whole);
            }
            if !carry.is_empty() {
                return Err(bad(&path.0));
            }
        }
        let pending = std::mem::take(&mut self.pending);
        if !place(&pending) {
            return Err(bad(&self.dir));
        }
        Ok(Postings { bytes, start })
    }
}

/// The length of the longest prefix of `seg` made of whole (term, length, bytes) groups.
fn whole_groups(seg: &[u8]) -> usize {
    let mut pos = 0usize;
    loop {
        let mut p = pos;
        let (Some(_), Some(n)) = (get_var(seg, &mut p), get_var(seg, &mut p)) else {
            return pos;
        };
        match p.checked_add(n as usize) {
            Some(end) if end <= seg.len() => pos = end,
            _ => return pos,
        }
    }
}

/// The postings of one term.
#[derive(Debug, Clone)]
pub(crate) struct PostIter<'a> {
    bytes: &'a [u8],
    pos: usize,
    prev: u32,
}

impl Iterator for PostIter<'_> {
    type Item = (u32, u16, u16);
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.bytes.len() {
            return None;
        }
        let v = get_var(self.bytes, &mut self.pos)?;
        let c = self.prev.wrapping_add(u32::try_from(v >> 1).ok()?);
        self.prev = c;
        if v & 1 == 0 {
            return Some((c, 1, 0));
        }
        let w = get_var(self.bytes, &mut self.pos)?;
        let b = u16::try_from(w >> 1).ok()?;
        let s = if w & 1 == 1 {
            u16::try_from(get_var(self.bytes, &mut self.pos)?).ok()?
        } else {
            0
        };
        Some((c, b, s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A chunk id and its terms.
    type Chunk = (u32, Vec<(u32, u16, u16)>);

    fn entry_strategy() -> impl Strategy<Value = (Vec<u32>, Vec<(u32, u16, u16)>)> {
        (
            prop::collection::vec(0u32..5000, 0..4),
            prop::collection::btree_map(
                0u32..5000,
                (any::<u16>(), prop_oneof![Just(0u16), any::<u16>()]),
                0..40,
            ),
        )
            .prop_map(|(s, m)| (s, m.into_iter().map(|(t, (b, s))| (t, b, s)).collect()))
    }

    proptest! {
        /// Symbol streams decode to what was encoded, and pass their own check.
        #[test]
        fn symbol_streams_round_trip(chunks in prop::collection::vec(prop::collection::vec(0u32..5000, 0..4), 0..8)) {
            let mut buf = Vec::new();
            let mut want = Vec::new();
            for (ci, syms) in chunks.iter().enumerate() {
                encode_entry(&mut buf, syms);
                want.extend(syms.iter().map(|&s| (ci as u32, s)));
            }
            prop_assert!(check_symbols(&buf, chunks.len(), 5000));
            prop_assert_eq!(symbols_of(&buf).collect::<Vec<_>>(), want);
            prop_assert!(!check_symbols(&buf, chunks.len() + 1, 5000));
            if let Some(&m) = chunks.iter().flatten().max() {
                prop_assert!(!check_symbols(&buf, chunks.len(), m as usize));
            }
            buf.push(0);
            prop_assert!(!check_symbols(&buf, chunks.len(), 5000));
        }

        /// The postings are the transpose of the chunks' terms (the reference: a map per
        /// term), whether the builder keeps everything in memory or spills segments to disk.
        #[test]
        fn postings_transpose_the_chunks(
            chunks in prop::collection::vec(entry_strategy(), 0..30),
            limit in prop_oneof![Just(1usize), Just(50), Just(1_000_000)],
        ) {
            let dir = std::env::temp_dir().join(format!("cc-postings-test-{}", std::process::id()));
            let mut builder = Builder::new(dir.clone(), limit);
            builder.limit = limit; // below the usual floor, to spill on every chunk
            for (id, (_, terms)) in chunks.iter().enumerate() {
                builder.push(id as u32, terms.iter().copied()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            }
            let p = builder.finish(10).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut want: std::collections::BTreeMap<u32, Vec<(u32, u16, u16)>> = Default::default();
            for (id, (_, terms)) in chunks.iter().enumerate() {
                for &(t, b, s) in terms {
                    want.entry(t).or_default().push((id as u32, b, s));
                }
            }
            prop_assert!(p.terms() >= 10);
            for t in 0..5000u32 {
                let got: Vec<_> = p.of(t).collect();
                let w = want.get(&t).cloned().unwrap_or_default();
                prop_assert_eq!(got, w);
            }
            // Stored lists load back, checked.
            let mut back = Postings::with_capacity(p.terms(), 0);
            for t in 0..p.terms() as u32 {
                prop_assert!(back.push_raw(p.raw(t), chunks.len()));
                if !p.raw(t).is_empty() && chunks.len() > 1 {
                    prop_assert!(!Postings::default().push_raw(p.raw(t), 0));
                }
            }
            for t in 0..p.terms() as u32 {
                prop_assert_eq!(back.of(t).collect::<Vec<_>>(), p.of(t).collect::<Vec<_>>());
            }
            // The temporary file is gone.
            let left = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
            prop_assert_eq!(left, 0);
        }

        /// Without a place for the temporary file the builder keeps its segments in memory and
        /// gives the same postings.
        #[test]
        fn unwritable_spill_dir_falls_back_to_memory(chunks in prop::collection::vec(entry_strategy(), 1..20)) {
            let file = std::env::temp_dir().join(format!("cc-not-a-dir-{}", std::process::id()));
            std::fs::write(&file, b"x").map_err(|e| TestCaseError::fail(e.to_string()))?;
            let build = |dir: std::path::PathBuf| -> Result<Postings, TestCaseError> {
                let mut b = Builder::new(dir, 1);
                b.limit = 1;
                for (id, (_, terms)) in chunks.iter().enumerate() {
                    b.push(id as u32, terms.iter().copied()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                }
                b.finish(0).map_err(|e| TestCaseError::fail(e.to_string()))
            };
            let a = build(file.join("sub"))?;
            let m = build(std::env::temp_dir())?;
            for t in 0..5000u32 {
                prop_assert_eq!(a.of(t).collect::<Vec<_>>(), m.of(t).collect::<Vec<_>>());
            }
            let _ = std::fs::remove_file(&file);
        }

        /// Merging keeps the remapped old postings and adds the fresh ones, by chunk id.
        #[test]
        fn merge_is_filter_remap_and_union(
            old in prop::collection::vec(entry_strategy(), 0..12),
            keep in prop::collection::vec(any::<bool>(), 12),
            fresh in prop::collection::vec(entry_strategy(), 0..6),
        ) {
            let build = |chunks: &[Chunk]| {
                let mut b = Builder::new(std::env::temp_dir(), 1 << 20);
                for (id, (c, terms)) in chunks.iter().enumerate() {
                    let _ = id;
                    b.push(*c, terms.iter().copied()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                }
                b.finish(0).map_err(|e| TestCaseError::fail(e.to_string()))
            };
            let old_chunks: Vec<Chunk> =
                old.iter().enumerate().map(|(i, (_, t))| (i as u32, t.clone())).collect();
            // New ids: kept old chunks first-come in order, fresh chunks interleaved after each.
            let mut remap = vec![u32::MAX; old.len()];
            let mut next = 0u32;
            let mut fresh_chunks = Vec::new();
            let mut fi = 0usize;
            for (i, k) in keep.iter().take(old.len()).enumerate() {
                if *k {
                    remap[i] = next;
                    next += 1;
                }
                if fi < fresh.len() && i % 2 == 0 {
                    fresh_chunks.push((next, fresh[fi].1.clone()));
                    next += 1;
                    fi += 1;
                }
            }
            while fi < fresh.len() {
                fresh_chunks.push((next, fresh[fi].1.clone()));
                next += 1;
                fi += 1;
            }
            let po = build(&old_chunks)?;
            let pf = build(&fresh_chunks)?;
            let merged = Postings::merge(&po, &remap, &pf, po.terms().max(pf.terms()))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut want: std::collections::BTreeMap<u32, Vec<(u32, u16, u16)>> = Default::default();
            for (i, (_, terms)) in old_chunks.iter().enumerate() {
                if remap[i] != u32::MAX {
                    for &(t, b, s) in terms {
                        want.entry(t).or_default().push((remap[i], b, s));
                    }
                }
            }
            for (c, terms) in &fresh_chunks {
                for &(t, b, s) in terms {
                    want.entry(t).or_default().push((*c, b, s));
                }
            }
            for v in want.values_mut() {
                v.sort();
            }
            for t in 0..5000u32 {
                let w = want.get(&t).cloned().unwrap_or_default();
                prop_assert_eq!(merged.of(t).collect::<Vec<_>>(), w);
            }
        }

        /// The dictionary gives every distinct string one id, and ids back their strings.
        #[test]
        fn dict_interns(words in prop::collection::vec("[a-zé_0-9]{0,8}", 0..200)) {
            let mut d = Dict::default();
            let mut reference: std::collections::HashMap<String, u32> = Default::default();
            for w in &words {
                let id = d.intern(w);
                let n = reference.len() as u32;
                let want = *reference.entry(w.clone()).or_insert(n);
                prop_assert_eq!(id, want);
                prop_assert_eq!(d.term(id), w.as_str());
            }
            prop_assert_eq!(d.len(), reference.len());
            for (w, &id) in &reference {
                prop_assert_eq!(d.get(w), Some(id));
            }
            prop_assert_eq!(d.get("not-a-word!"), None);
        }

        #[test]
        fn var_len_matches_put_var(v in any::<u64>()) {
            let mut b = Vec::new();
            put_var(&mut b, v);
            prop_assert_eq!(b.len(), var_len(v));
            let mut pos = 0;
            prop_assert_eq!(get_var(&b, &mut pos), Some(v));
        }
    }
}
