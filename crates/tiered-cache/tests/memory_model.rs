//! Property tests: the memory tier against a plain `HashMap` model, and adaptive features of
//! the L1-only cache.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use std::collections::HashMap;
use std::time::Duration;
use tiered_cache::{
    AdaptiveTtl, Admission, Bytes, CacheControl, CacheLevel, MemoryConfig, MemoryTier, TieredCache,
};

#[derive(Debug, Clone)]
enum Op {
    Insert(u8, u8),
    Remove(u8),
    Lookup(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..32, any::<u8>()).prop_map(|(k, v)| Op::Insert(k, v)),
        (0u8..32).prop_map(Op::Remove),
        (0u8..32).prop_map(Op::Lookup),
    ]
}

proptest! {
    /// With room for every key, the tier behaves exactly like a map.
    #[test]
    fn behaves_like_a_map_when_everything_fits(ops in proptest::collection::vec(op(), 0..300), shards in 1usize..8) {
        let tier = MemoryTier::new(
            MemoryConfig::builder().max_entries(1000).shards(shards).admission(Admission::Always).build(),
        ).unwrap();
        let mut model: HashMap<String, u8> = HashMap::new();
        for op in ops {
            match op {
                Op::Insert(k, v) => {
                    let k = format!("k{k}");
                    prop_assert!(tier.insert(k.as_str(), Bytes::from(vec![v]), None));
                    model.insert(k, v);
                }
                Op::Remove(k) => {
                    let k = format!("k{k}");
                    prop_assert_eq!(tier.remove(k.as_str()), model.remove(&k).is_some());
                }
                Op::Lookup(k) => {
                    let k = format!("k{k}");
                    prop_assert_eq!(tier.lookup(k.as_str()).map(|b| b[0]), model.get(&k).copied());
                }
            }
            prop_assert_eq!(tier.len(), model.len());
        }
    }

    /// Whatever happens, the capacity in entries and bytes holds and what is found is what
    /// was last stored under that key.
    #[test]
    fn capacity_holds_and_values_are_never_mixed_up(ops in proptest::collection::vec(op(), 0..400)) {
        let tier = MemoryTier::new(
            MemoryConfig::builder().max_entries(8).max_bytes(8 * 200).shards(1).build(),
        ).unwrap();
        let mut last: HashMap<String, u8> = HashMap::new();
        for op in ops {
            match op {
                Op::Insert(k, v) => {
                    let k = format!("k{k}");
                    if !tier.insert(k.as_str(), Bytes::from(vec![v; 1 + v as usize % 64]), None) {
                        // Not admitted: an older value must not linger either way.
                        last.remove(&k);
                        tier.remove(k.as_str());
                    } else {
                        last.insert(k, v);
                    }
                }
                Op::Remove(k) => {
                    let k = format!("k{k}");
                    tier.remove(k.as_str());
                    last.remove(&k);
                }
                Op::Lookup(k) => {
                    let k = format!("k{k}");
                    if let Some(b) = tier.lookup(k.as_str()) {
                        prop_assert_eq!(Some(b[0]), last.get(&k).copied());
                    }
                }
            }
            prop_assert!(tier.len() <= 8);
            prop_assert!(tier.weighted_bytes() <= 8 * 200);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_ahead_and_adaptive_ttl_for_hot_keys() {
    let cache = TieredCache::builder()
        .ttl_jitter(0.0)
        .refresh_ahead(Some(Duration::from_millis(800)))
        .refresh_ahead_min_hits(2)
        .adaptive_ttl(Some(AdaptiveTtl {
            hits_per_step: 1,
            max_factor: 4,
        }))
        .build()
        .await
        .unwrap();
    let control = CacheControl::max_age(Duration::from_millis(1000));
    let first = cache
        .get_or_load_with("hot", control, || async {
            Ok::<_, std::io::Error>(Bytes::from_static(b"v1"))
        })
        .await
        .unwrap();
    assert_eq!(first.level, CacheLevel::Miss);
    for _ in 0..3 {
        assert_eq!(cache.get("hot").await.unwrap().level, CacheLevel::L1);
    }
    // Inside the refresh-ahead window: served from L1 at once, reloaded in the background.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let served = cache
        .get_or_load_with("hot", control, || async {
            Ok::<_, std::io::Error>(Bytes::from_static(b"v2"))
        })
        .await
        .unwrap();
    assert_eq!(
        (&served.value[..], served.level),
        (&b"v1"[..], CacheLevel::L1)
    );
    let key = cache.tier_key("hot");
    let mut refreshed = None;
    for _ in 0..100 {
        if let Some(f) = cache.memory().lookup_found(key.as_str()) {
            if &f.value[..] == b"v2" {
                refreshed = Some(f);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let refreshed = refreshed.expect("refreshed in the background");
    // Hot: the refreshed entry lives longer than max-age (up to 4x).
    assert!(
        refreshed.ttl_left.unwrap() > Duration::from_millis(1500),
        "adaptive TTL: {:?}",
        refreshed.ttl_left
    );
    let stats = cache.stats();
    assert_eq!((stats.loads, stats.refreshes), (2, 1));
}

#[tokio::test]
async fn l1_only_cache_works_without_servers() {
    let cache = TieredCache::builder().build().await.unwrap();
    assert!(cache.get("nothing").await.is_none());
    cache
        .set("a", Bytes::from_static(b"1"), None)
        .await
        .unwrap();
    cache.delete("a").await.unwrap();
    assert!(cache.get("a").await.is_none());
    let stats = cache.stats();
    assert_eq!(stats.tiers.len(), 1);
    assert_eq!(stats.lookups, 2);
}

#[tokio::test]
async fn the_cache_is_a_tier_too() {
    use tiered_cache::Tier;
    async fn roundtrip(t: &impl Tier) -> Vec<Option<Bytes>> {
        t.set_many(
            &[
                ("a", Bytes::from_static(b"1")),
                ("b", Bytes::from_static(b"2")),
            ],
            None,
        )
        .await
        .unwrap();
        t.delete("b").await.unwrap();
        t.get_many(&["a", "b"]).await.unwrap()
    }
    let cache = TieredCache::builder().build().await.unwrap();
    let l1 = MemoryTier::new(MemoryConfig::default()).unwrap();
    let expected = vec![Some(Bytes::from_static(b"1")), None];
    assert_eq!(roundtrip(&cache).await, expected);
    assert_eq!(roundtrip(&l1).await, expected);
    assert_eq!(Tier::name(&cache), "tiered");
}
