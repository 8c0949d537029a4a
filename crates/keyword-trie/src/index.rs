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

    pub(crate) fn get(&self, id: usize) -> Option<&str> {
        let s = *self.offsets.get(id)? as usize;
        let e = *self.offsets.get(id + 1)? as usize;
        self.blob.get(s..e)
    }

    /// Whether pattern `id` is `key` (lengths first, then the bytes; no UTF-8 checks).
    #[inline]
    pub(crate) fn bytes_eq(&self, id: usize, key: &[u8]) -> bool {
        let (Some(&s), Some(&e)) = (self.offsets.get(id), self.offsets.get(id + 1)) else {
            return false;
        };
        let (s, e) = (s as usize, e as usize);
        e.wrapping_sub(s) == key.len() && self.blob.as_bytes().get(s..e) == Some(key)
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
/// never touch the pattern bytes.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExactIndex {
    pub(crate) slots: Vec<u64>,
}

pub(crate) const EMPTY: u64 = u64::MAX;

#[inline]
fn tag(h: u64) -> u64 {
    h & 0xffff_ffff_0000_0000
}

impl ExactIndex {
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
        ExactIndex { slots }
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
        let mut i = h as usize & mask;
        // Bounded so that a table without empty slots (only possible from corrupt bytes) ends.
        for _ in 0..cap {
            let slot = *self.slots.get(i)?;
            if slot == EMPTY {
                return None;
            }
            if slot & 0xffff_ffff_0000_0000 == t {
                let id = slot as u32;
                if patterns.bytes_eq(id as usize, key) {
                    return Some(id);
                }
            }
            i = (i + 1) & mask;
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
        let mut filled = 0usize;
        let mut in_range = true;
        let slots: Vec<u64> = bytes
            .chunks_exact(8)
            .map(|c| {
                let mut a = [0u8; 8];
                a.copy_from_slice(c);
                let slot = u64::from_le_bytes(a);
                let used = slot != EMPTY;
                filled += usize::from(used);
                in_range &= !used || (slot as u32 as usize) < n;
                slot
            })
            .collect();
        let cap = slots.len();
        (cap.is_power_of_two() && cap > n && in_range && filled == n)
            .then_some(ExactIndex { slots })
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * 8
    }
}
