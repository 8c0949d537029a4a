//! `MemoryTier`: the in-process L1, sharded LRU lists with TinyLFU admission and per-entry TTLs.
//!
//! Each shard is an [`lru::LruCache`] (the recency order) behind a read-write lock. Hits take the
//! read lock only: they mark the entry as visited and bump its small frequency counter, and the
//! eviction hand gives visited entries a second chance (moves them to the front) instead of
//! reordering on every hit. A new key is admitted into a full shard only when a count-min
//! sketch says it has been asked for more often than the entry it would evict (TinyLFU), so a
//! burst of one-hit wonders never flushes the hot set.

use bytes::Bytes;
use lru::LruCache;
use parking_lot::RwLock;
use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use crate::tier::Tier;
use crate::{Error, Result};

/// Bytes charged per entry on top of the key and value (list node, map slot, metadata).
pub const ENTRY_OVERHEAD: usize = 96;
const NEVER: u64 = u64::MAX;
const FREQ_MAX: u8 = 63;
/// How many visited entries the eviction hand may pass over before it takes the tail anyway.
const MAX_SECOND_CHANCES: usize = 32;

/// Which new keys a full memory tier lets in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Admission {
    /// TinyLFU: admit a new key only when it is asked for more often than the eviction victim.
    #[default]
    TinyLfu,
    /// Admit every new key (plain LRU with second chance).
    Always,
}

/// Configuration of a [`MemoryTier`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryConfig {
    /// Most entries held at once.
    pub max_entries: usize,
    /// Most bytes held at once: key + value + [`ENTRY_OVERHEAD`] per entry.
    pub max_bytes: usize,
    /// Number of shards (rounded up to a power of two); 0 picks one from the capacity.
    pub shards: usize,
    /// Admission policy for new keys when full.
    pub admission: Admission,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            max_entries: 10_000,
            max_bytes: 256 * 1024 * 1024,
            shards: 0,
            admission: Admission::TinyLfu,
        }
    }
}

impl MemoryConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> MemoryConfigBuilder {
        MemoryConfigBuilder(MemoryConfig::default())
    }
}

/// Builder for [`MemoryConfig`].
#[derive(Debug, Clone)]
pub struct MemoryConfigBuilder(MemoryConfig);

impl MemoryConfigBuilder {
    /// Most entries held at once.
    pub fn max_entries(mut self, n: usize) -> Self {
        self.0.max_entries = n;
        self
    }
    /// Most bytes held at once (keys + values + per-entry overhead).
    pub fn max_bytes(mut self, n: usize) -> Self {
        self.0.max_bytes = n;
        self
    }
    /// Number of shards (0: automatic).
    pub fn shards(mut self, n: usize) -> Self {
        self.0.shards = n;
        self
    }
    /// Admission policy.
    pub fn admission(mut self, a: Admission) -> Self {
        self.0.admission = a;
        self
    }
    /// The configuration.
    pub fn build(self) -> MemoryConfig {
        self.0
    }
}

/// Pass-through hasher for keys that are already 64-bit hashes.
#[derive(Clone, Copy, Default)]
struct PreHashed;

struct PreHasher(u64);

impl Hasher for PreHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl BuildHasher for PreHashed {
    type Hasher = PreHasher;
    fn build_hasher(&self) -> PreHasher {
        PreHasher(0)
    }
}

/// A key type the memory tier can hold: hashable, comparable, and able to say how many bytes
/// it occupies (for the byte capacity).
pub trait CacheKey: Hash + Eq + Send + Sync + 'static {
    /// Bytes the key occupies, heap included.
    fn weight(&self) -> usize;
}

impl CacheKey for String {
    fn weight(&self) -> usize {
        self.len()
    }
}

impl CacheKey for Box<str> {
    fn weight(&self) -> usize {
        self.len()
    }
}

impl CacheKey for Vec<u8> {
    fn weight(&self) -> usize {
        self.len()
    }
}

macro_rules! fixed_keys {
    ($($t:ty),*) => {
        $(impl CacheKey for $t {
            fn weight(&self) -> usize {
                std::mem::size_of::<$t>()
            }
        })*
    };
}
fixed_keys!(u32, u64, u128, usize, i32, i64, i128, [u8; 16], [u8; 32]);

/// Hot-path fields first, in this order, so a hit touches as few cache lines as possible.
#[repr(C)]
struct Entry<K> {
    /// Nanoseconds since the tier's epoch, or `NEVER`.
    expires_at: u64,
    freq: AtomicU8,
    visited: AtomicBool,
    weight: u32,
    value: Bytes,
    key: K,
}

/// Count-min sketch of 4-bit-style saturating counters (kept in bytes), updated without locks.
struct Sketch {
    counters: Box<[AtomicU8]>,
    mask: usize,
}

const SKETCH_SEEDS: [u64; 4] = [
    0x9E37_79B9_7F4A_7C15,
    0xC2B2_AE3D_27D4_EB4F,
    0x1656_67B1_9E37_79F9,
    0x85EB_CA77_C2B2_AE63,
];

impl Sketch {
    fn new(width: usize) -> Self {
        let width = width.max(64).next_power_of_two();
        Sketch {
            counters: (0..width * 4).map(|_| AtomicU8::new(0)).collect(),
            // `mask` spans all four rows: blocks of 64 counters, 16 per row.
            mask: width * 4 - 1,
        }
    }

    /// The counters of one key all sit in one 64-byte block (one cache line): the block is
    /// chosen by the hash, the four counters inside it by four other hash mixes.
    #[inline]
    fn index(&self, hash: u64, row: usize) -> usize {
        let block = ((hash >> 20) as usize) & (self.mask >> 6);
        let h = hash.wrapping_mul(SKETCH_SEEDS[row]);
        (block << 6) | (row << 4) | ((h >> 60) as usize)
    }

    fn increment(&self, hash: u64, by: u8) {
        for row in 0..4 {
            let c = &self.counters[self.index(hash, row)];
            let v = c.load(Ordering::Relaxed);
            if v < FREQ_MAX {
                c.store(v.saturating_add(by).min(FREQ_MAX), Ordering::Relaxed);
            }
        }
    }

    fn estimate(&self, hash: u64) -> u8 {
        (0..4)
            .map(|row| self.counters[self.index(hash, row)].load(Ordering::Relaxed))
            .min()
            .unwrap_or(0)
    }

    fn halve(&self) {
        for c in self.counters.iter() {
            c.store(c.load(Ordering::Relaxed) >> 1, Ordering::Relaxed);
        }
    }
}

struct ShardState<K> {
    lru: LruCache<u64, Entry<K>, PreHashed>,
    bytes: usize,
    /// Entries with a TTL were inserted (otherwise nothing can expire: skip the clock).
    has_ttl: bool,
}

/// Keeps a hot field on its own cache line.
struct Padded<T>(T);

struct Shard<K> {
    state: Padded<RwLock<ShardState<K>>>,
    sketch: Sketch,
    misses: Padded<AtomicU32>,
    max_entries: usize,
    max_bytes: usize,
    sample_size: u32,
}

/// The in-process cache tier: sharded LRU lists with TinyLFU admission, a capacity in entries
/// and in bytes, and per-entry TTLs.
///
/// ```
/// use std::time::Duration;
/// use tiered_cache::{MemoryConfig, MemoryTier};
///
/// let tier = MemoryTier::new(MemoryConfig::builder().max_entries(1000).build()).unwrap();
/// tier.insert("k", "v".into(), Some(Duration::from_secs(60)));
/// assert_eq!(tier.lookup("k").as_deref(), Some(&b"v"[..]));
/// tier.remove("k");
/// assert!(tier.lookup("k").is_none());
/// ```
pub struct MemoryTier<K = String> {
    shards: Box<[Shard<K>]>,
    shard_mask: u64,
    hasher: foldhash::fast::RandomState,
    admission: Admission,
    epoch: Instant,
}

impl<K: CacheKey> std::fmt::Debug for MemoryTier<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryTier")
            .field("shards", &self.shards.len())
            .field("len", &self.len())
            .field("admission", &self.admission)
            .finish()
    }
}

/// What a lookup found, with the time left to live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The value.
    pub value: Bytes,
    /// Time left before the entry expires (`None`: no expiry).
    pub ttl_left: Option<Duration>,
    /// How often the entry was hit recently (aged, at most 63).
    pub hits: u8,
}

impl<K: CacheKey> MemoryTier<K> {
    /// A tier with `config`; fails when a capacity is zero.
    pub fn new(config: MemoryConfig) -> Result<Self> {
        if config.max_entries == 0 || config.max_bytes == 0 {
            return Err(Error::Invalid(
                "memory tier capacity (max_entries, max_bytes) must be above zero".into(),
            ));
        }
        let shards = if config.shards == 0 {
            // About 1k entries per shard, at least 16 and at most 256 shards.
            (config.max_entries / 1024).clamp(16, 256)
        } else {
            config.shards.min(1 << 16)
        }
        .next_power_of_two();
        let per_entries = config.max_entries.div_ceil(shards).max(1);
        let per_bytes = config.max_bytes.div_ceil(shards).max(1);
        let shards: Box<[Shard<K>]> = (0..shards)
            .map(|_| Shard {
                state: Padded(RwLock::new(ShardState {
                    lru: LruCache::with_hasher(
                        std::num::NonZeroUsize::new(per_entries)
                            .unwrap_or(std::num::NonZeroUsize::MIN),
                        PreHashed,
                    ),
                    bytes: 0,
                    has_ttl: false,
                })),
                sketch: Sketch::new(per_entries * 8),
                misses: Padded(AtomicU32::new(0)),
                max_entries: per_entries,
                max_bytes: per_bytes,
                sample_size: u32::try_from(per_entries.saturating_mul(20)).unwrap_or(u32::MAX),
            })
            .collect();
        Ok(MemoryTier {
            shard_mask: (shards.len() - 1) as u64,
            shards,
            hasher: foldhash::fast::RandomState::default(),
            admission: config.admission,
            epoch: Instant::now(),
        })
    }

    #[inline]
    fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        self.hasher.hash_one(key)
    }

    #[inline]
    fn shard(&self, hash: u64) -> &Shard<K> {
        // Bits 32.. pick the shard; the map inside uses the low bits and the top 7 bits.
        &self.shards[((hash >> 32) & self.shard_mask) as usize]
    }

    #[inline]
    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(NEVER - 1)
    }

    fn deadline(&self, ttl: Option<Duration>) -> u64 {
        match ttl {
            None => NEVER,
            Some(d) => self
                .now()
                .saturating_add(u64::try_from(d.as_nanos()).unwrap_or(NEVER))
                .min(NEVER - 1),
        }
    }

    /// The value under `key`, if present and not expired.
    #[inline]
    pub fn lookup<Q>(&self, key: &Q) -> Option<Bytes>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.lookup_with(key, |e, _| e.value.clone())
    }

    /// The value under `key` with the time it has left to live.
    pub fn lookup_found<Q>(&self, key: &Q) -> Option<Found>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.lookup_with(key, |e, now| Found {
            value: e.value.clone(),
            ttl_left: (e.expires_at != NEVER)
                .then(|| Duration::from_nanos(e.expires_at.saturating_sub(now))),
            hits: e.freq.load(Ordering::Relaxed),
        })
    }

    #[inline]
    fn lookup_with<Q, T>(&self, key: &Q, f: impl FnOnce(&Entry<K>, u64) -> T) -> Option<T>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        let shard = self.shard(hash);
        let mut expired = false;
        {
            let state = shard.state.0.read();
            if let Some(e) = state.lru.peek(&hash) {
                if e.key.borrow() == key {
                    let now = if e.expires_at == NEVER { 0 } else { self.now() };
                    if e.expires_at == NEVER || now < e.expires_at {
                        if !e.visited.load(Ordering::Relaxed) {
                            e.visited.store(true, Ordering::Relaxed);
                        }
                        let f0 = e.freq.load(Ordering::Relaxed);
                        if f0 < FREQ_MAX {
                            e.freq.store(f0 + 1, Ordering::Relaxed);
                        }
                        return Some(f(e, now));
                    }
                    expired = true;
                }
            }
        }
        self.record_miss(shard, hash);
        if expired {
            let now = self.now();
            let mut state = shard.state.0.write();
            let stale = state
                .lru
                .peek(&hash)
                .is_some_and(|e| e.key.borrow() == key && e.expires_at <= now);
            if stale {
                if let Some(e) = state.lru.pop(&hash) {
                    state.bytes -= e.weight as usize;
                }
            }
        }
        None
    }

    #[inline]
    fn record_miss(&self, shard: &Shard<K>, hash: u64) {
        if self.admission == Admission::TinyLfu {
            shard.sketch.increment(hash, 1);
            let n = shard.misses.0.fetch_add(1, Ordering::Relaxed);
            if n >= shard.sample_size {
                let mut state = shard.state.0.write();
                if shard.misses.0.load(Ordering::Relaxed) >= shard.sample_size {
                    shard.misses.0.store(0, Ordering::Relaxed);
                    shard.sketch.halve();
                    for (_, e) in state.lru.iter_mut() {
                        let f = e.freq.get_mut();
                        *f >>= 1;
                    }
                }
            }
        }
    }

    /// Stores `value` under `key` for `ttl` (`None`: until evicted). Returns whether it was
    /// admitted: a new key may be turned away when the tier is full and the key is colder than
    /// what it would evict, or when it is larger than a shard's byte budget.
    pub fn insert<Q>(&self, key: &Q, value: Bytes, ttl: Option<Duration>) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let hash = self.hash(key);
        let shard = self.shard(hash);
        let owned = key.to_owned();
        let weight = owned.weight() + value.len() + ENTRY_OVERHEAD;
        if weight > shard.max_bytes || weight > u32::MAX as usize {
            self.remove(key);
            return false;
        }
        let expires_at = self.deadline(ttl);
        let mut guard = shard.state.0.write();
        let state = &mut *guard;
        state.has_ttl |= expires_at != NEVER;
        let now = if state.has_ttl { self.now() } else { 0 };
        if let Some(e) = state.lru.peek_mut(&hash) {
            // Same key (or a 64-bit hash collision, which replaces the other key).
            state.bytes = state.bytes - e.weight as usize + weight;
            if e.key.borrow() != key {
                e.key = owned;
                e.freq = AtomicU8::new(0);
            }
            e.value = value;
            e.expires_at = expires_at;
            e.weight = weight as u32;
            e.visited.store(true, Ordering::Relaxed);
            state.lru.promote(&hash);
            Self::evict_to_fit(state, shard, false, 0, now);
            return true;
        }
        let full =
            state.lru.len() + 1 > shard.max_entries || state.bytes + weight > shard.max_bytes;
        if full {
            if self.admission == Admission::TinyLfu {
                if let Some((vhash, vfreq)) = Self::pick_victim(state, shard, now) {
                    let cand = shard.sketch.estimate(hash);
                    if cand <= vfreq {
                        // Colder than the victim: turned away. The victim keeps its place.
                        return false;
                    }
                    let _ = vhash;
                }
            }
            Self::evict_to_fit(state, shard, true, weight, now);
        }
        state.bytes += weight;
        let evicted = state.lru.push(
            hash,
            Entry {
                key: owned,
                value,
                expires_at,
                weight: weight as u32,
                freq: AtomicU8::new(0),
                visited: AtomicBool::new(false),
            },
        );
        if let Some((h, e)) = evicted {
            // The tail entry whose node the new one took over.
            state.bytes -= e.weight as usize;
            Self::remember(shard, h, &e);
        }
        true
    }

    /// Walks the tail: drops expired entries, gives visited ones a second chance, and returns
    /// the first unvisited entry's hash and frequency (the eviction victim).
    fn pick_victim(state: &mut ShardState<K>, shard: &Shard<K>, now: u64) -> Option<(u64, u8)> {
        let mut passes = 0;
        loop {
            let (h, expired, visited, freq) = {
                let (h, e) = state.lru.peek_lru()?;
                (
                    *h,
                    e.expires_at <= now,
                    e.visited.load(Ordering::Relaxed),
                    e.freq.load(Ordering::Relaxed),
                )
            };
            if expired {
                if let Some((_, e)) = state.lru.pop_lru() {
                    state.bytes -= e.weight as usize;
                }
                continue;
            }
            if visited && passes < MAX_SECOND_CHANCES {
                passes += 1;
                if let Some(e) = state.lru.peek(&h) {
                    e.visited.store(false, Ordering::Relaxed);
                }
                state.lru.promote(&h);
                continue;
            }
            let total = shard.sketch.estimate(h).saturating_add(freq);
            return Some((h, total));
        }
    }

    /// Evicts from the tail (second chance for visited entries) until `extra_bytes` more bytes
    /// fit. With `room_for_new`, a full shard is left with an unvisited tail entry that the
    /// coming `push` replaces, reusing its list node instead of freeing and allocating one.
    fn evict_to_fit(
        state: &mut ShardState<K>,
        shard: &Shard<K>,
        room_for_new: bool,
        extra_bytes: usize,
        now: u64,
    ) {
        let mut passes = 0;
        loop {
            let over_bytes = state.bytes + extra_bytes > shard.max_bytes;
            let at_cap = room_for_new && state.lru.len() >= shard.max_entries;
            if !over_bytes && !at_cap {
                return;
            }
            let Some((h, e)) = state.lru.peek_lru() else {
                return;
            };
            let h = *h;
            if e.expires_at > now
                && e.visited.load(Ordering::Relaxed)
                && passes < MAX_SECOND_CHANCES
            {
                passes += 1;
                e.visited.store(false, Ordering::Relaxed);
                state.lru.promote(&h);
                continue;
            }
            if !over_bytes {
                return;
            }
            if let Some((_, e)) = state.lru.pop_lru() {
                state.bytes -= e.weight as usize;
                Self::remember(shard, h, &e);
            }
        }
    }

    /// Folds an evicted entry's hits into the sketch, so its popularity is not forgotten.
    #[inline]
    fn remember(shard: &Shard<K>, hash: u64, e: &Entry<K>) {
        let f = e.freq.load(Ordering::Relaxed);
        if f > 0 {
            shard.sketch.increment(hash, f);
        }
    }

    /// Removes `key`; returns whether it was present.
    pub fn remove<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        let shard = self.shard(hash);
        let mut state = shard.state.0.write();
        if state.lru.peek(&hash).is_some_and(|e| e.key.borrow() == key) {
            if let Some(e) = state.lru.pop(&hash) {
                state.bytes -= e.weight as usize;
                return true;
            }
        }
        false
    }

    /// Removes every entry whose key `matches`.
    pub fn remove_matching(&self, matches: impl Fn(&K) -> bool) -> usize {
        let mut removed = 0;
        for shard in self.shards.iter() {
            let mut state = shard.state.0.write();
            let doomed: Vec<u64> = state
                .lru
                .iter()
                .filter(|(_, e)| matches(&e.key))
                .map(|(h, _)| *h)
                .collect();
            for h in doomed {
                if let Some(e) = state.lru.pop(&h) {
                    state.bytes -= e.weight as usize;
                    removed += 1;
                }
            }
        }
        removed
    }

    /// Removes everything.
    pub fn clear(&self) {
        for shard in self.shards.iter() {
            let mut state = shard.state.0.write();
            state.lru.clear();
            state.bytes = 0;
            state.has_ttl = false;
        }
    }

    /// Number of entries held (expired ones included until they are collected).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.state.0.read().lru.len()).sum()
    }

    /// Whether the tier holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes charged (keys + values + per-entry overhead).
    pub fn weighted_bytes(&self) -> usize {
        self.shards.iter().map(|s| s.state.0.read().bytes).sum()
    }
}

impl MemoryTier<String> {
    /// Removes every entry whose key starts with `prefix` (for example a tenant's namespace).
    pub fn remove_prefix(&self, prefix: &str) -> usize {
        self.remove_matching(|k| k.starts_with(prefix))
    }
}

impl Tier for MemoryTier<String> {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        Ok(self.lookup(key))
    }

    async fn set(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<()> {
        self.insert(key, value, ttl);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.remove(key);
        Ok(())
    }

    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Bytes>>> {
        Ok(keys.iter().map(|k| self.lookup(*k)).collect())
    }

    async fn set_many(&self, entries: &[(&str, Bytes)], ttl: Option<Duration>) -> Result<()> {
        for (k, v) in entries {
            self.insert(*k, v.clone(), ttl);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(n: usize) -> MemoryTier {
        MemoryTier::new(MemoryConfig::builder().max_entries(n).shards(1).build()).unwrap()
    }

    #[test]
    fn insert_lookup_remove() {
        let t = tier(10);
        assert!(t.insert("a", Bytes::from_static(b"1"), None));
        assert_eq!(t.lookup("a").unwrap(), Bytes::from_static(b"1"));
        assert!(t.remove("a"));
        assert!(t.lookup("a").is_none());
        assert!(!t.remove("a"));
    }

    #[test]
    fn ttl_expires() {
        let t = tier(10);
        t.insert(
            "a",
            Bytes::from_static(b"1"),
            Some(Duration::from_millis(20)),
        );
        assert!(t.lookup("a").is_some());
        std::thread::sleep(Duration::from_millis(40));
        assert!(t.lookup("a").is_none());
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn capacity_in_entries_holds() {
        let t = MemoryTier::new(
            MemoryConfig::builder()
                .max_entries(100)
                .shards(1)
                .admission(Admission::Always)
                .build(),
        )
        .unwrap();
        for i in 0..1000 {
            t.insert(&format!("k{i}"), Bytes::from_static(b"v"), None);
        }
        assert_eq!(t.len(), 100);
        assert!(t.lookup("k999").is_some());
    }

    #[test]
    fn capacity_in_bytes_holds() {
        let t = MemoryTier::new(
            MemoryConfig::builder()
                .max_entries(1000)
                .max_bytes(10 * (1000 + ENTRY_OVERHEAD + 4))
                .shards(1)
                .admission(Admission::Always)
                .build(),
        )
        .unwrap();
        for i in 0..100 {
            t.insert(&format!("k{i:03}"), Bytes::from(vec![0u8; 1000]), None);
        }
        assert!(t.weighted_bytes() <= 10 * (1000 + ENTRY_OVERHEAD + 4));
        assert_eq!(t.len(), 10);
        // Larger than the whole budget: refused.
        assert!(!t.insert("huge", Bytes::from(vec![0u8; 20_000]), None));
    }

    #[test]
    fn one_hit_wonders_do_not_flush_hot_set() {
        let t = tier(100);
        for round in 0..5 {
            for i in 0..100 {
                let k = format!("hot{i}");
                if t.lookup(&k).is_none() {
                    t.insert(&k, Bytes::from_static(b"h"), None);
                }
            }
            let _ = round;
        }
        // A stream of keys seen once, while the hot set keeps being asked for.
        for i in 0..10_000 {
            for k in [format!("cold{i}"), format!("hot{}", i % 100)] {
                if t.lookup(&k).is_none() {
                    t.insert(&k, Bytes::from_static(b"c"), None);
                }
            }
        }
        let hot = (0..100)
            .filter(|i| t.lookup(&format!("hot{i}")).is_some())
            .count();
        assert!(hot >= 90, "only {hot} hot keys survived");
    }

    #[test]
    fn update_replaces_value_and_weight() {
        let t = tier(10);
        t.insert("a", Bytes::from(vec![1u8; 100]), None);
        t.insert("a", Bytes::from(vec![2u8; 10]), None);
        assert_eq!(t.len(), 1);
        assert_eq!(t.weighted_bytes(), 1 + 10 + ENTRY_OVERHEAD);
        assert_eq!(t.lookup("a").unwrap()[0], 2);
    }

    #[test]
    fn remove_prefix_only_that_prefix() {
        let t = tier(100);
        t.insert("t1:a", Bytes::from_static(b"1"), None);
        t.insert("t1:b", Bytes::from_static(b"1"), None);
        t.insert("t2:a", Bytes::from_static(b"1"), None);
        assert_eq!(t.remove_prefix("t1:"), 2);
        assert!(t.lookup("t2:a").is_some());
    }
}
