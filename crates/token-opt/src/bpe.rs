//! The BPE engine behind [`crate::Tokenizer`]: OpenAI's vocabularies as compact tables laid
//! out at build time (see `build.rs`), tiktoken's pre-tokenizer patterns, and tiktoken's merge
//! rule (repeatedly merge the adjacent pair whose merged bytes have the lowest rank, leftmost
//! first), so the ids are tiktoken's.
//!
//! Why not `bpe-openai` at run time (it supplies the vocabularies to `build.rs`): its encoder
//! carries three Aho-Corasick automata over the whole vocabulary, about 67 MB resident and
//! 40-70 ms to deserialize per process for o200k. These tables are about 6 MB for o200k, live
//! in the binary's read-only data (only the pages a text touches become resident) and need no
//! loading at all.

use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input};
use std::sync::OnceLock;

use crate::vocab_hash::{slot_key, slot_token, vocab_hash, vocab_slot, SLOT_KEY};

/// The rank of "no such token".
const NONE: u32 = u32::MAX;

/// One vocabulary, read in place from the bytes `build.rs` wrote.
pub(crate) struct Vocab {
    /// `n + 1` little-endian u32: where each token starts in `blob` (and where the last ends).
    starts: &'static [u8],
    /// The token bytes back to back, in id (= rank) order.
    blob: &'static [u8],
    /// `1 << bits` little-endian u64 slots (layout in `vocab_hash`).
    slots: &'static [u8],
    bits: u32,
    n: usize,
    /// The id of each single byte (every byte is a token in these vocabularies).
    bytes: [u32; 256],
}

/// Byte-slice equality for slices of equal length, with word loads for the short ones
/// (most tokens are under 16 bytes; a `memcmp` call costs more than the compare).
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let w8 = |x: &[u8], i: usize| {
        let s = &x[i..i + 8];
        u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]])
    };
    let w4 = |x: &[u8], i: usize| {
        let s = &x[i..i + 4];
        u32::from_le_bytes([s[0], s[1], s[2], s[3]])
    };
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => w4(a, 0) == w4(b, 0) && w4(a, n - 4) == w4(b, n - 4),
        8..=16 => w8(a, 0) == w8(b, 0) && w8(a, n - 8) == w8(b, n - 8),
        _ => a == b,
    }
}

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    let s = b.get(4 * i..4 * i + 4)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], i: usize) -> Option<u64> {
    let s = b.get(8 * i..8 * i + 8)?;
    Some(u64::from_le_bytes([
        s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7],
    ]))
}

impl Vocab {
    /// Reads the tables; `None` when `data` is not what `build.rs` writes.
    pub(crate) fn parse(data: &'static [u8]) -> Option<Vocab> {
        let rest = data.strip_prefix(b"TOKVOC01")?;
        let n = u32_at(rest, 0)? as usize;
        let blob_len = u32_at(rest, 1)? as usize;
        let bits = u32_at(rest, 2)?;
        if !(4..=31).contains(&bits) || n == 0 {
            return None;
        }
        let rest = rest.get(12..)?;
        let (starts, rest) = rest.split_at_checked(4 * (n + 1))?;
        let (blob, slots) = rest.split_at_checked(blob_len)?;
        if slots.len() != 8 << bits || u32_at(starts, n)? as usize != blob_len {
            return None;
        }
        let mut v = Vocab {
            starts,
            blob,
            slots,
            bits,
            n,
            bytes: [NONE; 256],
        };
        for b in 0..=255u8 {
            v.bytes[b as usize] = v.rank(&[b])?;
        }
        Some(v)
    }

    /// The number of tokens.
    pub(crate) fn len(&self) -> usize {
        self.n
    }

    /// The bytes of token `id`, if it exists.
    #[inline]
    pub(crate) fn token(&self, id: u32) -> Option<&'static [u8]> {
        let id = id as usize;
        if id >= self.n {
            return None;
        }
        let (s, e) = (u32_at(self.starts, id)?, u32_at(self.starts, id + 1)?);
        self.blob.get(s as usize..e as usize)
    }

    /// The id (= merge rank) of the token spelled `bytes`, if there is one.
    #[inline]
    pub(crate) fn rank(&self, bytes: &[u8]) -> Option<u32> {
        let h = vocab_hash(bytes);
        let want = slot_key(h, bytes.len());
        let mask = (1usize << self.bits) - 1;
        let mut s = vocab_slot(h, self.bits);
        // The table is at most half full, so an empty slot ends every probe; the bound only
        // guards against a damaged table.
        for _ in 0..=mask {
            let v = u64_at(self.slots, s)?;
            if v == 0 {
                return None;
            }
            if v & SLOT_KEY == want {
                let (id, start) = slot_token(v);
                if self
                    .blob
                    .get(start..start + bytes.len())
                    .is_some_and(|t| same(t, bytes))
                {
                    return Some(id);
                }
            }
            s = (s + 1) & mask;
        }
        None
    }

    #[inline]
    fn rank_or_none(&self, bytes: &[u8]) -> u32 {
        self.rank(bytes).unwrap_or(NONE)
    }

    /// The tokens of one pre-tokenized piece, in order: `emit(id, byte_len)`.
    pub(crate) fn encode_piece(&self, piece: &[u8], emit: &mut impl FnMut(u32, usize)) {
        match piece.len() {
            0 => {}
            1 => emit(self.bytes[piece[0] as usize], 1),
            n => {
                if let Some(id) = self.rank(piece) {
                    emit(id, n);
                } else if n <= SMALL {
                    self.merge_small(piece, emit);
                } else {
                    self.merge_large(piece, emit);
                }
            }
        }
    }

    /// The fewest tokens a piece of `len` bytes can take (no token is longer than 128 bytes in
    /// these vocabularies; `build.rs` fails on one over 255).
    #[inline]
    pub(crate) fn min_tokens(len: usize) -> usize {
        len.div_ceil(MAX_TOKEN_LEN)
    }

    /// The number of tokens of one pre-tokenized piece.
    #[inline]
    pub(crate) fn count_piece(&self, piece: &[u8]) -> usize {
        let mut n = 0usize;
        self.encode_piece(piece, &mut |_, _| n += 1);
        n
    }

    /// tiktoken's merge loop on stack arrays: find the lowest-ranked adjacent pair (leftmost
    /// on ties), merge it, re-rank its two neighbours' pairs; until no pair is a token.
    fn merge_small(&self, piece: &[u8], emit: &mut impl FnMut(u32, usize)) {
        let n = piece.len();
        // Part k covers piece[start[k]..start[k + 1]]; `rank[k]` is the rank of part k merged
        // with part k + 1; `tok[k]` is part k's id. Entry `m - 1` is the end sentinel.
        let mut start = [0u32; SMALL + 1];
        let mut rank = [NONE; SMALL + 1];
        let mut tok = [0u32; SMALL + 1];
        for (k, s) in start[..=n].iter_mut().enumerate() {
            *s = k as u32;
        }
        for (t, &b) in tok.iter_mut().zip(piece) {
            *t = self.bytes[b as usize];
        }
        for (r, w) in rank.iter_mut().zip(piece.windows(2)) {
            *r = self.rank_or_none(w);
        }
        let mut m = n + 1;
        let span = |start: &[u32], a: usize, b: usize| &piece[start[a] as usize..start[b] as usize];
        loop {
            let (mut best, mut at) = (NONE, 0usize);
            for (k, &r) in rank[..m - 2].iter().enumerate() {
                if r < best {
                    best = r;
                    at = k;
                }
            }
            if best == NONE {
                break;
            }
            // Merge parts `at` and `at + 1` (entry `at + 1` goes away).
            tok[at] = best;
            rank[at] = if at + 3 < m {
                self.rank_or_none(span(&start, at, at + 3))
            } else {
                NONE
            };
            if at > 0 {
                rank[at - 1] = self.rank_or_none(span(&start, at - 1, at + 2));
            }
            start.copy_within(at + 2..m, at + 1);
            rank.copy_within(at + 2..m, at + 1);
            tok.copy_within(at + 2..m, at + 1);
            m -= 1;
        }
        for (t, w) in tok[..m - 1].iter().zip(start[..m].windows(2)) {
            emit(*t, (w[1] - w[0]) as usize);
        }
    }

    /// The same merges for long pieces: candidate pairs in a priority queue keyed by (rank,
    /// position), parts in a linked list. A pair's bytes only grow as parts merge, and each
    /// rank spells one byte string, so an entry is current exactly when its part is alive and
    /// still has that pair rank.
    fn merge_large(&self, piece: &[u8], emit: &mut impl FnMut(u32, usize)) {
        // Positions are u32; a piece longer than u32::MAX - 1 bytes (never seen in practice) is
        // merged in parts, which may differ from tiktoken at the seams.
        const MAX: usize = u32::MAX as usize - 1;
        if piece.len() > MAX {
            for part in piece.chunks(MAX) {
                self.merge_large(part, emit);
            }
            return;
        }
        let n = piece.len();
        let end = n as u32;
        let mut next: Vec<u32> = (1..=end).collect();
        let mut prev: Vec<u32> = (0..end).map(|i| i.wrapping_sub(1)).collect();
        let mut alive = vec![true; n];
        let mut tok: Vec<u32> = piece.iter().map(|&b| self.bytes[b as usize]).collect();
        let mut pair = vec![NONE; n];
        let mut queue = Queue::new(n);
        for i in 0..n - 1 {
            let r = self.rank_or_none(&piece[i..i + 2]);
            pair[i] = r;
            if r != NONE {
                queue.push(key(r, i as u32));
            }
        }
        // The end of the part after part `i` (or the piece's end).
        let pair_end = |next: &[u32], i: u32| -> Option<u32> {
            let j = *next.get(i as usize)?;
            if j >= end {
                return None;
            }
            Some(*next.get(j as usize)?)
        };
        while let Some(k) = queue.pop() {
            let (r, i) = ((k >> 32) as u32, k as u32);
            let iu = i as usize;
            if !alive[iu] || pair[iu] != r {
                continue;
            }
            let j = next[iu];
            if j >= end {
                continue;
            }
            // Part i absorbs part j.
            tok[iu] = r;
            alive[j as usize] = false;
            let after = next[j as usize];
            next[iu] = after;
            if after < end {
                prev[after as usize] = i;
            }
            pair[iu] = match pair_end(&next, i) {
                Some(e) => self.rank_or_none(&piece[iu..e as usize]),
                None => NONE,
            };
            if pair[iu] != NONE {
                queue.push(key(pair[iu], i));
            }
            let p = prev[iu];
            if p != NONE {
                let pu = p as usize;
                pair[pu] = self.rank_or_none(&piece[pu..after as usize]);
                if pair[pu] != NONE {
                    queue.push(key(pair[pu], p));
                }
            }
        }
        let mut i = 0u32;
        while i < end {
            let j = next[i as usize];
            emit(tok[i as usize], (j - i) as usize);
            i = j;
        }
    }
}

/// A merge-queue key: ordered by rank, then position.
#[inline]
fn key(rank: u32, pos: u32) -> u64 {
    (u64::from(rank) << 32) | u64::from(pos)
}

/// The merge queue, keys from [`key`], smallest first.
///
/// Short pieces use a binary heap. Long ones (a megabyte of one letter) group positions by
/// rank ([`ByRank`]); a push that breaks its order moves everything to the binary heap, so the
/// result is exact either way.
enum Queue {
    Binary(std::collections::BinaryHeap<std::cmp::Reverse<u64>>),
    ByRank(ByRank),
}

/// Positions grouped by rank. With these vocabularies a merge creates only pairs of a higher
/// rank than the one it merged (an observed property of BPE training order, not a law: no
/// violation was found over every token's own merges, 200k random token pairs and long
/// repeated runs), so when a rank's turn comes all of its positions are known; they are sorted
/// once and taken in order, and only the ranks sit in a heap.
#[derive(Default)]
struct ByRank {
    /// Ranks with pending positions, smallest first.
    ranks: std::collections::BinaryHeap<std::cmp::Reverse<u32>>,
    pending: std::collections::HashMap<u32, Vec<u32>, std::hash::BuildHasherDefault<RankHasher>>,
    /// The rank being taken and its positions, largest first (popped from the back).
    current: u32,
    batch: Vec<u32>,
}

impl ByRank {
    /// Adds `(rank, pos)`; `false` (nothing added) when it would be out of order: below the
    /// rank being taken, or at it while positions of it remain.
    fn push(&mut self, rank: u32, pos: u32) -> bool {
        if rank < self.current || (rank == self.current && !self.batch.is_empty()) {
            return false;
        }
        let ranks = &mut self.ranks;
        self.pending
            .entry(rank)
            .or_insert_with(|| {
                ranks.push(std::cmp::Reverse(rank));
                Vec::new()
            })
            .push(pos);
        true
    }

    fn pop(&mut self) -> Option<u64> {
        if self.batch.is_empty() {
            let r = self.ranks.pop()?.0;
            self.batch = self.pending.remove(&r)?;
            self.batch.sort_unstable_by(|a, b| b.cmp(a));
            self.current = r;
        }
        let p = self.batch.pop()?;
        Some(key(self.current, p))
    }

    /// Every key still queued, in no order.
    fn into_keys(self) -> impl Iterator<Item = u64> {
        let current = self.current;
        let rest = self
            .pending
            .into_iter()
            .flat_map(|(r, ps)| ps.into_iter().map(move |p| key(r, p)));
        self.batch
            .into_iter()
            .map(move |p| key(current, p))
            .chain(rest)
    }
}

/// Pieces at least this long group their merge queue by rank.
const BY_RANK: usize = 1 << 14;

impl Queue {
    fn new(len: usize) -> Queue {
        if len < BY_RANK {
            Queue::Binary(std::collections::BinaryHeap::with_capacity(len))
        } else {
            Queue::ByRank(ByRank::default())
        }
    }

    fn push(&mut self, k: u64) {
        match self {
            Queue::Binary(heap) => heap.push(std::cmp::Reverse(k)),
            Queue::ByRank(b) => {
                if !b.push((k >> 32) as u32, k as u32) {
                    let b = std::mem::take(b);
                    let mut heap: std::collections::BinaryHeap<_> =
                        b.into_keys().map(std::cmp::Reverse).collect();
                    heap.push(std::cmp::Reverse(k));
                    *self = Queue::Binary(heap);
                }
            }
        }
    }

    fn pop(&mut self) -> Option<u64> {
        match self {
            Queue::Binary(heap) => heap.pop().map(|r| r.0),
            Queue::ByRank(b) => b.pop(),
        }
    }
}

/// A multiplicative hash for rank keys (the default SipHash costs more than the merge).
#[derive(Default)]
struct RankHasher(u64);

impl std::hash::Hasher for RankHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.0 = u64::from(v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// An upper bound on token length, for [`Vocab::min_tokens`] (the table's length field has 8
/// bits; build.rs rejects a longer token).
const MAX_TOKEN_LEN: usize = 255;

/// Pieces up to this many bytes merge on stack arrays; longer ones through a heap.
const SMALL: usize = 128;

/// Splits text into pieces the way tiktoken's pattern does. The pattern's `\s+(?!\S)` (a
/// look-ahead the regex engine lacks) is matched as `\s+$` or as `\s+\s` minus its last
/// character, which is the same piece.
///
/// ASCII text takes a hand-written path that follows the same alternatives in the same order
/// (`Pretokenizer::ascii_piece`); a piece that touches a non-ASCII byte goes through the regex.
pub(crate) struct Pretokenizer {
    /// Built on the first piece the ASCII path cannot decide (ASCII-only text never needs it,
    /// which keeps a tokenizer's start-up under a millisecond).
    re: OnceLock<Option<Regex>>,
    /// The index of the pattern whose last character is look-ahead only.
    lookahead: usize,
    o200k: bool,
}

/// ASCII byte classes of the pre-tokenizer patterns (`\s` is 0x09-0x0D and space).
#[derive(Clone, Copy, PartialEq, Eq)]
enum C {
    /// Whitespace other than CR and LF.
    Ws,
    /// CR or LF.
    Nl,
    /// `\p{Lu}` (A-Z).
    Up,
    /// `\p{Ll}` (a-z).
    Lo,
    /// `\p{N}` (0-9).
    Dig,
    /// Everything else ASCII: `[^\s\p{L}\p{N}]`.
    Oth,
    /// A non-ASCII byte: the regex decides.
    X,
}

const fn classes() -> [C; 256] {
    let mut t = [C::X; 256];
    let mut b = 0usize;
    while b < 128 {
        t[b] = match b as u8 {
            b'\t' | 0x0B | 0x0C | b' ' => C::Ws,
            b'\r' | b'\n' => C::Nl,
            b'A'..=b'Z' => C::Up,
            b'a'..=b'z' => C::Lo,
            b'0'..=b'9' => C::Dig,
            _ => C::Oth,
        };
        b += 1;
    }
    t
}

static CLASS: [C; 256] = classes();

/// The class of the byte at `i`, `None` past the end.
#[inline]
fn class_at(b: &[u8], i: usize) -> Option<C> {
    b.get(i).map(|&x| CLASS[x as usize])
}

/// The end of the run of bytes of class `c` (or `d`) from `i`; `None` when the run stops at a
/// non-ASCII byte (which might continue it).
#[inline]
fn run(b: &[u8], mut i: usize, c: C, d: C) -> Option<usize> {
    while let Some(k) = class_at(b, i) {
        if k == c || k == d {
            i += 1;
        } else if k == C::X {
            return None;
        } else {
            break;
        }
    }
    Some(i)
}

/// The end of `(?i:'s|'t|'re|'ve|'m|'ll|'d)` at `i`, `i` when there is none; `None` when a
/// non-ASCII byte takes part (case folding reaches beyond ASCII).
#[inline]
fn contraction(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'\'') {
        return Some(i);
    }
    let lower = |k: usize| b.get(k).map(|x| x.to_ascii_lowercase());
    let ascii = |k: usize| b.get(k).is_none_or(u8::is_ascii);
    if !ascii(i + 1) {
        return None;
    }
    Some(match lower(i + 1) {
        Some(b's' | b't' | b'm' | b'd') => i + 2,
        Some(c @ (b'r' | b'v' | b'l')) => {
            if !ascii(i + 2) {
                return None;
            }
            let want = if c == b'l' { b'l' } else { b'e' };
            if lower(i + 2) == Some(want) {
                i + 3
            } else {
                i
            }
        }
        _ => i,
    })
}

/// `\s*[\r\n]+` (up to the run's last CR or LF), else `\s+(?!\S)` (the whole run at the end of
/// the text, else all but its last character when it has two or more), else `\s+`.
#[inline]
fn whitespace(b: &[u8], p: usize) -> Option<usize> {
    let e = run(b, p, C::Ws, C::Nl)?;
    if let Some(q) = b[p..e].iter().rposition(|&x| x == b'\r' || x == b'\n') {
        return Some(p + q + 1);
    }
    if e == b.len() || e - p == 1 {
        Some(e)
    } else {
        Some(e - 1)
    }
}

/// tiktoken's cl100k_base pattern, look-ahead rewritten (see [`Pretokenizer`]).
const CL100K: &[&str] = &[
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+$",
    r"\s+\s",
    r"\s+",
];

/// tiktoken's o200k_base pattern, look-ahead rewritten (see [`Pretokenizer`]).
const O200K: &[&str] = &[
    concat!(
        r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
        r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
        r"|\p{N}{1,3}",
        r"| ?[^\s\p{L}\p{N}]+[\r\n/]*",
        r"|\s*[\r\n]+",
        r"|\s+$",
    ),
    r"\s+\s",
    r"\s+",
];

impl Pretokenizer {
    /// The pre-tokenizer of o200k_base (`o200k`) or cl100k_base.
    pub(crate) fn new(o200k: bool) -> Pretokenizer {
        Pretokenizer {
            re: OnceLock::new(),
            lookahead: 1,
            o200k,
        }
    }

    /// The patterns as one regex (built on first use).
    fn regex(&self) -> Option<&Regex> {
        self.re
            .get_or_init(|| Regex::new_many(if self.o200k { O200K } else { CL100K }).ok())
            .as_ref()
    }

    /// The end of the piece at `p` (< `b.len()`) by the patterns' alternatives read for ASCII
    /// bytes, in the patterns' order; `None` when a non-ASCII byte could change the answer.
    #[inline]
    fn ascii_piece(&self, b: &[u8], p: usize) -> Option<usize> {
        let c = class_at(b, p)?;
        let next = class_at(b, p + 1);
        if next == Some(C::X) {
            return None;
        }
        let letter = |k: Option<C>| matches!(k, Some(C::Up | C::Lo));
        match c {
            C::X => None,
            C::Dig => {
                let mut e = p;
                while e < p + 3 && class_at(b, e) == Some(C::Dig) {
                    e += 1;
                }
                // A non-ASCII digit could continue a run shorter than three.
                if e < p + 3 && class_at(b, e) == Some(C::X) {
                    return None;
                }
                Some(e)
            }
            C::Up | C::Lo => self.letters(b, p),
            C::Ws | C::Oth => {
                if !self.o200k && b[p] == b'\'' {
                    // cl100k tries the contractions first.
                    let e = contraction(b, p)?;
                    if e > p {
                        return Some(e);
                    }
                }
                if letter(next) {
                    // A prefix character, then letters.
                    return self.letters(b, p + 1);
                }
                let from = if c == C::Oth {
                    Some(p)
                } else if b[p] == b' ' && next == Some(C::Oth) {
                    Some(p + 1)
                } else {
                    None
                };
                match from {
                    // ` ?[^\s\p{L}\p{N}]+`, then `[\r\n/]*` (o200k) or `[\r\n]*` (cl100k).
                    Some(f) => {
                        let mut e = run(b, f, C::Oth, C::Oth)?;
                        while let Some(&x) = b.get(e) {
                            if x == b'\r' || x == b'\n' || (self.o200k && x == b'/') {
                                e += 1;
                            } else {
                                break;
                            }
                        }
                        Some(e)
                    }
                    None => whitespace(b, p),
                }
            }
            C::Nl => whitespace(b, p),
        }
    }

    /// The letter alternatives from `q` (a letter); the piece starts at or just before it.
    #[inline]
    fn letters(&self, b: &[u8], q: usize) -> Option<usize> {
        if self.o200k {
            // `[\p{Lu}..]*[\p{Ll}..]+` (the uppercase run, then at least one lowercase), else
            // `[\p{Lu}..]+[\p{Ll}..]*` (the uppercase run alone): either way the uppercase run
            // and then the lowercase run, then a contraction.
            let u = run(b, q, C::Up, C::Up)?;
            let e = run(b, u, C::Lo, C::Lo)?;
            contraction(b, e)
        } else {
            run(b, q, C::Up, C::Lo)
        }
    }

    /// Calls `f` on each piece of `text`, in order; the pieces concatenate to `text`.
    /// Stops early when `f` returns `false`.
    #[inline]
    pub(crate) fn for_each<'t>(&self, text: &'t str, mut f: impl FnMut(&'t str) -> bool) {
        let mut pos = 0usize;
        let mut input = Input::new(text).anchored(Anchored::Yes);
        while pos < text.len() {
            if let Some(end) = self.ascii_piece(text.as_bytes(), pos) {
                if end > pos && text.is_char_boundary(end) {
                    if !f(&text[pos..end]) {
                        return;
                    }
                    pos = end;
                    continue;
                }
            }
            input.set_start(pos);
            let mut end = match self.regex().and_then(|re| re.search(&input)) {
                Some(m) if m.end() > pos => {
                    if m.pattern().as_usize() == self.lookahead {
                        // Give back the last character (look-ahead only).
                        let mut e = m.end() - 1;
                        while !text.is_char_boundary(e) {
                            e -= 1;
                        }
                        e
                    } else {
                        m.end()
                    }
                }
                // Every character starts some alternative; this only guards progress.
                _ => pos + 1,
            };
            while !text.is_char_boundary(end) {
                end += 1;
            }
            if !f(&text[pos..end]) {
                return;
            }
            pos = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn regex_pieces(pre: &Pretokenizer, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut pos = 0usize;
        while pos < text.len() {
            let input = Input::new(text).range(pos..).anchored(Anchored::Yes);
            let m = pre
                .regex()
                .and_then(|re| re.search(&input))
                .map(|m| (m.pattern().as_usize(), m.end()));
            let mut end = match m {
                Some((pat, e)) if pat == pre.lookahead => {
                    let mut e = e - 1;
                    while !text.is_char_boundary(e) {
                        e -= 1;
                    }
                    e
                }
                Some((_, e)) if e > pos => e,
                _ => pos + 1,
            };
            while !text.is_char_boundary(end) {
                end += 1;
            }
            out.push(text[pos..end].to_string());
            pos = end;
        }
        out
    }

    fn pieces(pre: &Pretokenizer, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        pre.for_each(text, |p| {
            out.push(p.to_string());
            true
        });
        out
    }

    proptest! {
        /// Both queue kinds pop exactly what a binary min-heap pops, whatever order the keys
        /// come in (the by-rank queue falls back to a heap when a push breaks its order).
        #[test]
        fn queues_pop_like_a_min_heap(
            ops in prop::collection::vec(prop::option::weighted(0.7, (0u32..6, 0u32..50)), 0..200),
        ) {
            for len in [0, BY_RANK] {
                let mut q = Queue::new(len);
                let mut reference = std::collections::BinaryHeap::new();
                for op in &ops {
                    match op {
                        Some((r, p)) => {
                            let k = (u64::from(*r) << 32) | u64::from(*p);
                            q.push(k);
                            reference.push(std::cmp::Reverse(k));
                        }
                        None => prop_assert_eq!(q.pop(), reference.pop().map(|r| r.0)),
                    }
                }
                while let Some(std::cmp::Reverse(k)) = reference.pop() {
                    prop_assert_eq!(q.pop(), Some(k));
                }
                prop_assert_eq!(q.pop(), None);
            }
        }
    }

    #[test]
    fn the_patterns_compile() {
        for o200k in [true, false] {
            assert!(Pretokenizer::new(o200k).regex().is_some());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        /// The ASCII path splits exactly as the regex does, on ASCII text and on text with
        /// non-ASCII characters next to every ASCII class.
        #[test]
        fn ascii_path_splits_like_the_regex(
            parts in prop::collection::vec(prop_oneof![
                "[a-zA-Z]{1,6}",
                "[0-9]{1,5}",
                "[ \t\r\n\x0b\x0c]{1,4}",
                "[!-/:-@\\[-`{-~\x00-\x08\x7f]{1,3}",
                prop::sample::select(vec![
                    "'s", "'S", "'t", "'re", "'rE", "'ve", "'VE", "'m", "'ll", "'Ll", "'d", "'D",
                    "'r", "'x", "'", "'ſ", "'\u{301}", " /", "/\n", "é", "ſ", "\u{a0}", "٣",
                    "\u{301}", "日", "\u{85}", "\u{2028}", " é", "1é", "a\u{301}",
                ]).prop_map(str::to_string),
            ], 0..16),
        ) {
            static PRE: std::sync::OnceLock<[Pretokenizer; 2]> = std::sync::OnceLock::new();
            let pres = PRE.get_or_init(|| [Pretokenizer::new(true), Pretokenizer::new(false)]);
            let text = parts.concat();
            for (pre, o200k) in pres.iter().zip([true, false]) {
                prop_assert_eq!(pieces(pre, &text), regex_pieces(pre, &text), "o200k {} on {:?}", o200k, text);
            }
        }
    }
}
