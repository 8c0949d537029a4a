//! Lays out each enabled vocabulary as compact lookup tables in `OUT_DIR`.
//!
//! The vocabularies come from `bpe-openai` (which ships OpenAI's `o200k_base` and
//! `cl100k_base`); this only re-lays them out: the token bytes back to back, where each token
//! starts, and an open-addressing hash table from bytes to token id. The library embeds the
//! result and reads it in place, so a process pays neither a deserialization nor the automata
//! `bpe-openai` builds for its own encoder (tens of MB).
//!
//! File layout (little endian): `b"TOKVOC01"`, token count `n`, blob length, table bits, then
//! `n + 1` u32 token starts, the blob, and `1 << bits` u64 slots (layout in
//! `src/vocab_hash.rs`: a probe compares length and tag, then the bytes at the slot's start,
//! without touching the starts).

#![allow(clippy::expect_used)] // A build script reports a failed step by panicking with its message.

use std::io::Write;
use std::path::PathBuf;

// The probing half of the module is the library's.
#[allow(dead_code)]
#[path = "src/vocab_hash.rs"]
mod hash;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/vocab_hash.rs");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into()));
    if std::env::var_os("CARGO_FEATURE_O200K").is_some() {
        write_vocab(&bpe_openai::o200k_base().bpe, &out.join("o200k_base.vocab"));
    }
    if std::env::var_os("CARGO_FEATURE_CL100K").is_some() {
        write_vocab(
            &bpe_openai::cl100k_base().bpe,
            &out.join("cl100k_base.vocab"),
        );
    }
}

fn write_vocab(bpe: &bpe_openai::byte_pair_encoding::BytePairEncoding, path: &std::path::Path) {
    let n = bpe.num_tokens();
    let mut starts: Vec<u32> = Vec::with_capacity(n + 1);
    let mut blob: Vec<u8> = Vec::new();
    for id in 0..n as u32 {
        starts.push(blob.len() as u32);
        blob.extend_from_slice(bpe.token_bytes(id));
    }
    starts.push(blob.len() as u32);
    // At most half full.
    let bits = (2 * n).next_power_of_two().trailing_zeros().max(4);
    let mask = (1usize << bits) - 1;
    let mut slots = vec![0u64; 1 << bits];
    for id in 0..n {
        let bytes = &blob[starts[id] as usize..starts[id + 1] as usize];
        let h = hash::vocab_hash(bytes);
        let slot = hash::pack_slot(h, id, starts[id] as usize, bytes.len()).unwrap_or_else(|| {
            panic!(
                "token {id} ({} bytes at {}) does not fit the table layout",
                bytes.len(),
                starts[id]
            )
        });
        let mut s = hash::vocab_slot(h, bits);
        while slots[s] != 0 {
            s = (s + 1) & mask;
        }
        slots[s] = slot;
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create vocab file"));
    f.write_all(b"TOKVOC01").expect("write");
    for v in [n as u32, blob.len() as u32, bits] {
        f.write_all(&v.to_le_bytes()).expect("write");
    }
    for s in &starts {
        f.write_all(&s.to_le_bytes()).expect("write");
    }
    f.write_all(&blob).expect("write");
    for s in &slots {
        f.write_all(&s.to_le_bytes()).expect("write");
    }
    f.flush().expect("write");
}
