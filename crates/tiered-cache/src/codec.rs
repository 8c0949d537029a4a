//! The envelope every L2/L3 value travels in: a header, a blake3 checksum and the payload,
//! compressed with zstd above a size threshold.
//!
//! Layout: `magic (1) | flags (1) | fresh_until_ms (8, LE) | checksum (16) | payload`. The
//! checksum is the first 16 bytes of blake3 over flags, fresh_until and the stored payload, so a
//! truncated or altered value never decodes.

use bytes::Bytes;

const MAGIC: u8 = 0xC7;
const FLAG_ZSTD: u8 = 1;
const HEADER: usize = 1 + 1 + 8 + 16;

/// Why a stored value could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Corrupt {
    /// Shorter than the header, wrong magic byte or unknown flags.
    Malformed,
    /// The checksum does not match the content.
    Checksum,
    /// The zstd stream did not decompress.
    Decompress,
}

/// A decoded value and when it stops being fresh (unix ms; 0 = no limit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decoded {
    pub value: Bytes,
    pub fresh_until_ms: u64,
}

fn checksum(flags: u8, fresh_until_ms: u64, payload: &[u8]) -> [u8; 16] {
    let mut h = blake3::Hasher::new();
    h.update(&[flags]);
    h.update(&fresh_until_ms.to_le_bytes());
    h.update(payload);
    let full = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&full.as_bytes()[..16]);
    out
}

/// A TTL in whole milliseconds, at least 1 and at most 100 years (what both servers accept).
pub(crate) fn ttl_ms(ttl: std::time::Duration) -> u64 {
    const MAX_MS: u128 = 100 * 365 * 24 * 3600 * 1000;
    ttl.as_millis().clamp(1, MAX_MS) as u64
}

/// Wraps `value`; compresses it when `compress_above` is set and the value is larger.
pub(crate) fn encode(value: &[u8], fresh_until_ms: u64, compress_above: Option<usize>) -> Vec<u8> {
    let compressed = match compress_above {
        Some(limit) if value.len() > limit => zstd::bulk::compress(value, 3)
            .ok()
            .filter(|c| c.len() < value.len()),
        _ => None,
    };
    let (flags, payload): (u8, &[u8]) = match &compressed {
        Some(c) => (FLAG_ZSTD, c),
        None => (0, value),
    };
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.push(MAGIC);
    out.push(flags);
    out.extend_from_slice(&fresh_until_ms.to_le_bytes());
    out.extend_from_slice(&checksum(flags, fresh_until_ms, payload));
    out.extend_from_slice(payload);
    out
}

/// Unwraps a stored value, verifying its checksum.
pub(crate) fn decode(stored: &[u8], max_len: usize) -> Result<Decoded, Corrupt> {
    if stored.len() < HEADER || stored[0] != MAGIC {
        return Err(Corrupt::Malformed);
    }
    let flags = stored[1];
    if flags & !FLAG_ZSTD != 0 {
        return Err(Corrupt::Malformed);
    }
    let mut fresh = [0u8; 8];
    fresh.copy_from_slice(&stored[2..10]);
    let fresh_until_ms = u64::from_le_bytes(fresh);
    let payload = &stored[HEADER..];
    if stored[10..HEADER] != checksum(flags, fresh_until_ms, payload) {
        return Err(Corrupt::Checksum);
    }
    let value = if flags & FLAG_ZSTD != 0 {
        Bytes::from(zstd::bulk::decompress(payload, max_len).map_err(|_| Corrupt::Decompress)?)
    } else {
        Bytes::copy_from_slice(payload)
    };
    Ok(Decoded {
        value,
        fresh_until_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn roundtrip(value in proptest::collection::vec(any::<u8>(), 0..4096), fresh in any::<u64>(), limit in proptest::option::of(0usize..2048)) {
            let stored = encode(&value, fresh, limit);
            let d = decode(&stored, 1 << 20).unwrap();
            prop_assert_eq!(&d.value[..], &value[..]);
            prop_assert_eq!(d.fresh_until_ms, fresh);
        }

        #[test]
        fn any_truncation_or_flip_is_detected(value in proptest::collection::vec(any::<u8>(), 1..512), cut in 0usize..600, flip in 0usize..600) {
            let stored = encode(&value, 7, Some(64));
            let cut = cut % stored.len();
            prop_assert!(decode(&stored[..cut], 1 << 20).is_err());
            let mut bad = stored.clone();
            let i = flip % bad.len();
            bad[i] ^= 0x40;
            prop_assert!(decode(&bad, 1 << 20).is_err());
        }
    }

    #[test]
    fn compresses_large_values() {
        let value = vec![b'a'; 10_000];
        let stored = encode(&value, 0, Some(1024));
        assert!(stored.len() < 1000);
        assert_eq!(&decode(&stored, 1 << 20).unwrap().value[..], &value[..]);
    }
}
