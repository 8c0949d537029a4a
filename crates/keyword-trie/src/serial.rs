//! Versioned, checksummed serialization of a built [`KeywordSet`].
//!
//! Layout (little endian): magic `KWTRIE\r\n`, format version (u32), payload length (u64),
//! xxh3-64 of the payload (u64), payload. The payload holds the options, the keywords, the
//! exact-lookup table, the values (MessagePack) and, for the double-array engine, daachorse's own
//! serialized automaton (validated by `daachorse::DoubleArrayAhoCorasick::deserialize`). Small
//! aho-corasick sets are rebuilt from their keywords on load.

use crate::index::{ExactIndex, Patterns};
use crate::set::{Automaton, Engine, KeywordSet, MatchKind, SetOptions};
use crate::text::CaseFolding;
use crate::{Error, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

const MAGIC: &[u8; 8] = b"KWTRIE\r\n";
/// The serialization format version written by this crate.
/// Version 2 replaced version 1's CRC-32 with xxh3-64 (faster over a large automaton, and 64
/// bits); version 1 bytes give [`Error::UnsupportedVersion`](crate::Error::UnsupportedVersion).
pub const FORMAT_VERSION: u32 = 2;

/// xxh3-64 of the payload (SIMD where the CPU has it).
fn checksum(payload: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(payload)
}

fn corrupt(what: &str) -> Error {
    Error::Corrupt(what.to_owned())
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if self.buf.len() < n {
            return Err(corrupt(what));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }
    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?.first().copied().unwrap_or(0))
    }
    fn u32(&mut self, what: &str) -> Result<u32> {
        let b = self.take(4, what)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        Ok(u32::from_le_bytes(a))
    }
    fn u64(&mut self, what: &str) -> Result<u64> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    fn section(&mut self, what: &str) -> Result<&'a [u8]> {
        let n = self.u64(what)?;
        let n = usize::try_from(n).map_err(|_| corrupt(what))?;
        self.take(n, what)
    }
    fn u32s(&mut self, what: &str) -> Result<Vec<u32>> {
        let b = self.section(what)?;
        if b.len() % 4 != 0 {
            return Err(corrupt(what));
        }
        Ok(b.chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
}

fn put_u64s(out: &mut Vec<u8>, v: &[u64]) {
    out.extend_from_slice(&((v.len() * 8) as u64).to_le_bytes());
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

fn put_section(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(bytes);
}

fn put_u32s(out: &mut Vec<u8>, v: &[u32]) {
    out.extend_from_slice(&((v.len() * 4) as u64).to_le_bytes());
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

impl<V: Serialize> KeywordSet<V> {
    /// Serializes the built set (versioned and checksummed); load it with
    /// [`KeywordSet::from_bytes`].
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let engine_byte = match self.engine {
            Engine::DoubleArray => 2,
            _ => 1,
        };
        let mut p = vec![
            self.options.match_kind.to_byte(),
            self.options.case_folding.to_byte(),
            u8::from(self.options.whole_words),
            engine_byte,
        ];
        p.extend_from_slice(&(self.options.auto_threshold as u64).to_le_bytes());
        p.extend_from_slice(&(self.options.max_patterns as u64).to_le_bytes());
        put_section(&mut p, self.patterns.blob.as_bytes());
        put_u32s(&mut p, &self.patterns.offsets);
        put_u64s(&mut p, &self.index.slots);
        let values =
            rmp_serde::to_vec(&self.values).map_err(|e| Error::Serialize(e.to_string()))?;
        put_section(&mut p, &values);
        match &self.automaton {
            Automaton::Daac(d) => put_section(&mut p, &d.serialize()),
            Automaton::Aho(_) => put_section(&mut p, &[]),
        }
        let mut out = Vec::with_capacity(p.len() + 28);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(p.len() as u64).to_le_bytes());
        out.extend_from_slice(&checksum(&p).to_le_bytes());
        out.extend_from_slice(&p);
        Ok(out)
    }
}

impl<V: DeserializeOwned> KeywordSet<V> {
    /// Loads a set written by [`KeywordSet::to_bytes`]. Bytes that are truncated, corrupted or
    /// of another format version give an error, never a panic.
    ///
    /// ```
    /// use keyword_trie::KeywordSet;
    /// let set = KeywordSet::builder().build([("alpha", 1u32), ("beta", 2)])?;
    /// let bytes = set.to_bytes()?;
    /// let back: KeywordSet<u32> = KeywordSet::from_bytes(&bytes)?;
    /// assert_eq!(back.get("beta"), Some(&2));
    /// assert!(KeywordSet::<u32>::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    /// # Ok::<(), keyword_trie::Error>(())
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader { buf: bytes };
        if r.take(8, "magic")? != MAGIC {
            return Err(corrupt("not a keyword-trie set (bad magic)"));
        }
        let version = r.u32("version")?;
        if version != FORMAT_VERSION {
            return Err(Error::UnsupportedVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let len = usize::try_from(r.u64("length")?).map_err(|_| corrupt("length"))?;
        let sum = r.u64("checksum")?;
        let payload = r.take(len, "payload truncated")?;
        if !r.buf.is_empty() {
            return Err(corrupt("trailing bytes"));
        }
        if checksum(payload) != sum {
            return Err(corrupt("checksum mismatch"));
        }
        let mut r = Reader { buf: payload };
        let match_kind = MatchKind::from_byte(r.u8("match kind")?).ok_or(corrupt("match kind"))?;
        let case_folding =
            CaseFolding::from_byte(r.u8("case folding")?).ok_or(corrupt("case folding"))?;
        let whole_words = match r.u8("whole words")? {
            0 => false,
            1 => true,
            _ => return Err(corrupt("whole words")),
        };
        let engine = match r.u8("engine")? {
            1 => Engine::AhoCorasick,
            2 => Engine::DoubleArray,
            _ => return Err(corrupt("engine")),
        };
        let auto_threshold = usize::try_from(r.u64("options")?).unwrap_or(usize::MAX);
        let max_patterns = usize::try_from(r.u64("options")?).unwrap_or(usize::MAX);
        let blob = std::str::from_utf8(r.section("keywords")?)
            .map_err(|_| corrupt("keywords are not UTF-8"))?
            .to_owned();
        let offsets = r.u32s("keyword offsets")?;
        // One pass checks that offsets increase and finds the longest keyword.
        let mut max_len = 0u32;
        let mut increasing = true;
        for w in offsets.windows(2) {
            let (a, b) = (w[0], w[1]);
            increasing &= a < b;
            max_len = max_len.max(b.wrapping_sub(a));
        }
        if offsets.first() != Some(&0)
            || offsets.last().map(|&l| l as usize) != Some(blob.len())
            || !increasing
        {
            return Err(corrupt("keyword offsets"));
        }
        // Offsets inside a character (impossible from `to_bytes`) make `Patterns::get` return
        // None: harmless for lookups, but the aho-corasick engine is rebuilt from the keywords,
        // so there they are rejected up front.
        if engine == Engine::AhoCorasick
            && offsets.iter().any(|&o| !blob.is_char_boundary(o as usize))
        {
            return Err(corrupt("keyword offsets"));
        }
        let patterns = Patterns { blob, offsets };
        let n = patterns.len();
        if n == 0 {
            return Err(corrupt("no keywords"));
        }
        let index = ExactIndex::from_le_bytes(r.section("lookup table")?, n)
            .ok_or(corrupt("lookup table"))?;
        let values: Vec<V> = rmp_serde::from_slice(r.section("values")?)
            .map_err(|e| Error::Corrupt(format!("values: {e}")))?;
        if values.len() != n {
            return Err(corrupt("value count"));
        }
        let automaton_bytes = r.section("automaton")?;
        if !r.buf.is_empty() {
            return Err(corrupt("trailing payload"));
        }
        let options = SetOptions {
            match_kind,
            case_folding,
            whole_words,
            engine,
            max_patterns,
            auto_threshold,
        };
        let automaton = match engine {
            Engine::DoubleArray => {
                let (d, rest) =
                    daachorse::DoubleArrayAhoCorasick::<u32>::deserialize(automaton_bytes)
                        .map_err(|e| Error::Corrupt(format!("automaton: {e}")))?;
                let expected = match match_kind {
                    MatchKind::LeftmostLongest => daachorse::MatchKind::LeftmostLongest,
                    MatchKind::LeftmostFirst => daachorse::MatchKind::LeftmostFirst,
                    MatchKind::Overlapping => daachorse::MatchKind::Standard,
                };
                if !rest.is_empty() || d.match_kind() != expected {
                    return Err(corrupt("automaton"));
                }
                Automaton::Daac(d)
            }
            _ => Automaton::build(Engine::AhoCorasick, &options, &patterns)?,
        };
        Ok(KeywordSet::assemble_with_max_len(
            options,
            automaton,
            patterns,
            values,
            index,
            max_len as usize,
        ))
    }
}
