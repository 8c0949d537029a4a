//! The hash and the slot layout of the vocabulary tables. One module shared by `build.rs`
//! (which lays the tables out, through `#[path]`) and `src/bpe.rs` (which probes them).
//!
//! A slot is a u64: `tag << 52 | id << 32 | start << 8 | len` (12-bit hash tag, 20-bit id,
//! 24-bit start in the token blob, 8-bit length); `0` is an empty slot (no token is empty).

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
fn vocab_tag(hash: u64) -> u64 {
    hash & 0xFFF
}

/// The slot of token `id`, `len` bytes at `start` in the blob, whose bytes hash to `hash`;
/// `None` when it does not fit the layout.
#[inline]
pub(crate) fn pack_slot(hash: u64, id: usize, start: usize, len: usize) -> Option<u64> {
    let fits = len > 0 && len < 1 << 8 && start < 1 << 24 && id < 1 << 20;
    fits.then(|| (vocab_tag(hash) << 52) | ((id as u64) << 32) | ((start as u64) << 8) | len as u64)
}

/// What a slot holding a `len`-byte token that hashes to `hash` shows under [`SLOT_KEY`] (a
/// length of 256 or more matches no slot).
#[inline]
pub(crate) fn slot_key(hash: u64, len: usize) -> u64 {
    (vocab_tag(hash) << 52) | len as u64
}

/// The tag and length bits of a slot.
pub(crate) const SLOT_KEY: u64 = 0xFFF0_0000_0000_00FF;

/// The token id and blob start of a slot.
#[inline]
pub(crate) fn slot_token(slot: u64) -> (u32, usize) {
    (
        ((slot >> 32) & 0xF_FFFF) as u32,
        ((slot >> 8) & 0xFF_FFFF) as usize,
    )
}
