//! The hash the vocabulary tables are laid out with. One module shared by `build.rs` (which
//! lays the tables out, through `#[path]`) and `src/bpe.rs` (which probes them).

/// A 64-bit hash of a token's bytes: eight bytes at a time, multiply-rotate, then a final mix.
#[inline]
pub(crate) fn vocab_hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h.rotate_left(23) ^ w).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut buf = [0u8; 8];
        buf[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(23) ^ u64::from_le_bytes(buf)).wrapping_mul(K);
    }
    h ^ (h >> 31)
}

/// The table slot `hash` starts probing at, for a table of `1 << bits` slots.
#[inline]
pub(crate) fn vocab_slot(hash: u64, bits: u32) -> usize {
    (hash.wrapping_mul(0xD6E8_FEB8_6659_FD93) >> (64 - bits)) as usize
}

/// The 12-bit tag a slot keeps of its token's hash (rejects most wrong slots without touching
/// the token bytes).
#[inline]
pub(crate) fn vocab_tag(hash: u64) -> u64 {
    hash & 0xFFF
}
