//! Pattern storage and the O(1) exact-lookup hash index kept beside the automaton.

use xxhash_rust::xxh3::xxh3_64;

/// All patterns (already folded) in one string, with offsets.
#[derive(Debug, Clone, Default)]
pub(crate) struct Patterns {
    pub(crate) blob: String,
    /// `offsets[i]..offsets[i + 1]` is pattern `i`; `offsets.len() == len() + 1`.
    pub(crate) offsets: Vec<u32>,
}

impl Patterns {
    pub(crate) fn new() -> Self {
        Patterns {
            blob: String::new(),
            offsets: vec![0],
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Appends pattern `p` (id `len()`); `None` when the keywords would pass 4 GiB.
    pub(crate) fn push(&mut self, p: &str) -> Option<()> {
        self.blob.push_str(p);
        self.offsets.push(u32::try_from(self.blob.len()).ok()?);
        Some(())
    }

    pub(crate) fn get(&self, id: usize) -> Option<&str> {
        let s = *self.offsets.get(id)? as usize;
        let e = *self.offsets.get(id + 1)? as usize;
        self.blob.get(s..e)
    }

    /// Whether pattern `id` is `key` (lengths first, then the bytes; no UTF-8 checks).
    #[inline]
    pub(crate) fn bytes_eq(&self, id: usize, key: &[u8]) -> bool {
        let Some([s, e]) = self.offsets.get(id..id + 2) else {
            return false;
        };
        let (s, e) = (*s as usize, *e as usize);
        if e.wrapping_sub(s) != key.len() {
            return false;
        }
        self.blob.as_bytes().get(s..e) == Some(key)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.blob.capacity() + self.offsets.capacity() * 4
    }
}

/// Open-addressing table keyed by the xxh3 hash of the pattern bytes. Each slot holds the
/// pattern id (low 32 bits) and the hash's high 32 bits as a tag, so most probes that miss
/// never touch the pattern bytes. Beside the slots, one control byte per slot (the tag's top 7
/// bits, or `0x80` when empty; the first [`GROUP`] repeated at the end) lets a lookup test eight
/// slots at once, SwissTable style: a miss usually ends after one group without a branch per
/// slot. The control bytes follow from the slots, so they are never serialized.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExactIndex {
    pub(crate) slots: Vec<u64>,
    ctrl: Vec<u8>,
}

pub(crate) const EMPTY: u64 = u64::MAX;
/// Slots tested per step.
const GROUP: usize = 8;
const CTRL_EMPTY: u8 = 0x80;
const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

#[inline]
fn tag(h: u64) -> u64 {
    h & 0xffff_ffff_0000_0000
}

/// The control byte of a filled slot (or of `EMPTY`).
#[inline]
fn ctrl_of(slot: u64) -> u8 {
    if slot == EMPTY {
        CTRL_EMPTY
    } else {
        (slot >> 57) as u8
    }
}

/// Appends the first [`GROUP`] control bytes again (cyclically, for tables smaller than a
/// group), so a group read starting at any slot stays in bounds and sees the wrapped slots.
fn mirror_group(ctrl: &mut Vec<u8>, cap: usize) {
    for k in 0..GROUP {
        let c = ctrl.get(k % cap.max(1)).copied().unwrap_or(CTRL_EMPTY);
        ctrl.push(c);
    }
}

impl ExactIndex {
    fn with_slots(slots: Vec<u64>) -> Self {
        let mut ctrl: Vec<u8> = slots.iter().map(|&s| ctrl_of(s)).collect();
        mirror_group(&mut ctrl, slots.len());
        ExactIndex { slots, ctrl }
    }

    /// Builds the table for `patterns` (all distinct); load factor at most 2/3.
    pub(crate) fn build(patterns: &Patterns) -> Self {
        let n = patterns.len();
        let cap = (n + n / 2 + 1).max(2).next_power_of_two();
        let mut slots = vec![EMPTY; cap];
        let mask = cap - 1;
        for (id, p) in patterns.iter().enumerate() {
            let h = xxh3_64(p.as_bytes());
            let mut i = h as usize & mask;
            while let Some(slot) = slots.get_mut(i) {
                if *slot == EMPTY {
                    *slot = tag(h) | id as u64;
                    break;
                }
                i = (i + 1) & mask;
            }
        }
        Self::with_slots(slots)
    }

    /// The id of the pattern equal to `key`.
    #[inline]
    pub(crate) fn find(&self, key: &[u8], patterns: &Patterns) -> Option<u32> {
        let cap = self.slots.len();
        if cap == 0 {
            return None;
        }
        let mask = cap - 1;
        let h = xxh3_64(key);
        let t = tag(h);
        let want = LO.wrapping_mul(h >> 57);
        let mut i = h as usize & mask;
        // Bounded so that a table without empty slots (only possible from corrupt bytes) ends.
        for _ in 0..=cap / GROUP {
            let mut g = [0u8; GROUP];
            g.copy_from_slice(self.ctrl.get(i..i + GROUP)?);
            let g = u64::from_le_bytes(g);
            let x = g ^ want;
            // Bytes equal to the wanted control byte (a byte above a true match may be a false
            // positive; every candidate is checked against its slot).
            let mut hits = x.wrapping_sub(LO) & !x & HI;
            let empty = g & HI;
            if empty != 0 {
                // Only slots before the first empty one belong to the probe sequence.
                let stop = empty.trailing_zeros();
                hits &= (1u64 << stop).wrapping_sub(1);
            }
            while hits != 0 {
                let j = (i + (hits.trailing_zeros() / 8) as usize) & mask;
                let slot = *self.slots.get(j)?;
                if slot & 0xffff_ffff_0000_0000 == t {
                    let id = slot as u32;
                    if patterns.bytes_eq(id as usize, key) {
                        return Some(id);
                    }
                }
                hits &= hits - 1;
            }
            if empty != 0 {
                return None;
            }
            i = (i + GROUP) & mask;
        }
        None
    }

    /// Decodes a table written as little-endian u64s and checks it in the same pass: a power-of-two
    /// size, ids in range and exactly `n` filled slots (so probing always meets an empty slot).
    /// Duplicated ids would only make lookups miss, never read out of bounds; the checksum rules
    /// them out for bytes written by `to_bytes`.
    pub(crate) fn from_le_bytes(bytes: &[u8], n: usize) -> Option<Self> {
        if bytes.len() % 8 != 0 {
            return None;
        }
        // Separate, branch-free passes (decode, checks, then the control bytes) vectorize.
        let slots: Vec<u64> = bytes
            .chunks_exact(8)
            .map(|c| {
                let mut a = [0u8; 8];
                a.copy_from_slice(c);
                u64::from_le_bytes(a)
            })
            .collect();
        let cap = slots.len();
        let filled = slots.iter().filter(|&&s| s != EMPTY).count();
        let out_of_range = slots
            .iter()
            .filter(|&&s| s != EMPTY && (s as u32 as usize) >= n)
            .count();
        if !(cap.is_power_of_two() && cap > n && out_of_range == 0 && filled == n) {
            return None;
        }
        Some(Self::with_slots(slots))
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * 8 + self.ctrl.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn patterns(words: &[String]) -> Patterns {
        let mut p = Patterns::new();
        for w in words {
            p.push(w).unwrap();
        }
        p
    }

    proptest! {
        /// Group probing finds exactly the patterns a hash map holds, at every table size
        /// (including tables smaller than a group) and after a serialization round trip.
        #[test]
        fn find_agrees_with_a_hash_map(
            words in prop::collection::hash_set("[a-d]{0,3}|[a-z0-9_]{1,20}", 1..200),
            probes in prop::collection::vec("[a-d]{0,3}|[a-z0-9_]{1,20}", 0..100),
        ) {
            let words: Vec<String> = words.into_iter().collect();
            let p = patterns(&words);
            let idx = ExactIndex::build(&p);
            let bytes: Vec<u8> = idx.slots.iter().flat_map(|s| s.to_le_bytes()).collect();
            let back = ExactIndex::from_le_bytes(&bytes, words.len()).unwrap();
            let want: HashMap<&str, u32> =
                words.iter().enumerate().map(|(i, w)| (w.as_str(), i as u32)).collect();
            for w in words.iter().chain(probes.iter()) {
                prop_assert_eq!(idx.find(w.as_bytes(), &p), want.get(w.as_str()).copied());
                prop_assert_eq!(back.find(w.as_bytes(), &p), want.get(w.as_str()).copied());
            }
        }
    }

    #[test]
    fn a_full_table_from_corrupt_bytes_ends() {
        // Every slot filled with an id whose pattern never matches: lookups must end.
        let p = patterns(&["a".to_string(), "b".to_string()]);
        let idx = ExactIndex::with_slots(vec![0, 1]);
        assert_eq!(idx.find(b"zz", &p), None);
    }
}
