//! Integration tests of the tiered cache against real Redis and PostgreSQL servers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tiered_cache::{
    BatchConfig, Bytes, CacheControl, CacheLevel, PostgresConfig, Promotion, RedisConfig, Tier,
    TieredCache, TieredCacheBuilder,
};

fn unique(name: &str) -> String {
    use std::sync::atomic::AtomicU64;
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{name}_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_007,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A builder wired to the shared test servers, with its own Redis namespace and L3 table.
fn builder(ns: &str) -> TieredCacheBuilder {
    TieredCache::builder()
        .redis(
            test_services::redis_url(),
            RedisConfig::builder().namespace(ns).build(),
        )
        .postgres(
            test_services::database_url(),
            PostgresConfig::builder().table(ns).unlogged(true).build(),
        )
        .ttl_jitter(0.0)
}

async fn eventually(mut check: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..100 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l3_hit_is_promoted_to_l2_and_l1() {
    let ns = unique("promo");
    let cache = builder(&ns).build().await.unwrap();
    let key = cache.tier_key("k");
    // Only L3 has the value.
    cache
        .postgres()
        .unwrap()
        .set(&key, Bytes::from_static(b"from-l3"), None)
        .await
        .unwrap();
    let first = cache.get("k").await.unwrap();
    assert_eq!(first.level, CacheLevel::L3);
    assert_eq!(&first.value[..], b"from-l3");
    let second = cache.get("k").await.unwrap();
    assert_eq!(second.level, CacheLevel::L1);
    // Promoted into Redis as well (in the background).
    let redis = cache.redis().unwrap();
    assert!(eventually(async || redis.get(&key).await.unwrap().is_some()).await);
    // A second instance (empty L1) finds it in L2 and then holds it in its own L1.
    let other = builder(&ns).build().await.unwrap();
    assert_eq!(other.get("k").await.unwrap().level, CacheLevel::L2);
    assert_eq!(other.get("k").await.unwrap().level, CacheLevel::L1);
    let stats = other.stats();
    assert_eq!(stats.lookups, 2);
    assert_eq!(stats.hits, 2);
    assert_eq!(stats.tiers[1].hits, 1);
    assert_eq!(stats.promotions, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promotion_after_n_hits() {
    let ns = unique("promo_n");
    let cache = builder(&ns)
        .promotion(Promotion::AfterHits(3))
        .coherence(false)
        .build()
        .await
        .unwrap();
    let key = cache.tier_key("k");
    cache
        .redis()
        .unwrap()
        .set(&key, Bytes::from_static(b"v"), None)
        .await
        .unwrap();
    assert_eq!(cache.get("k").await.unwrap().level, CacheLevel::L2);
    assert_eq!(cache.get("k").await.unwrap().level, CacheLevel::L2);
    assert_eq!(cache.get("k").await.unwrap().level, CacheLevel::L2);
    assert_eq!(cache.get("k").await.unwrap().level, CacheLevel::L1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_expires_in_every_tier() {
    let ns = unique("ttl");
    let cache = builder(&ns).build().await.unwrap();
    cache
        .set(
            "k",
            Bytes::from_static(b"v"),
            Some(Duration::from_millis(400)),
        )
        .await
        .unwrap();
    let key = cache.tier_key("k");
    assert!(cache.memory().lookup(&key).is_some());
    assert!(cache.redis().unwrap().get(&key).await.unwrap().is_some());
    assert!(cache.postgres().unwrap().get(&key).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(cache.memory().lookup(&key).is_none(), "L1 expired");
    assert!(
        cache.redis().unwrap().get(&key).await.unwrap().is_none(),
        "L2 expired"
    );
    assert!(
        cache.postgres().unwrap().get(&key).await.unwrap().is_none(),
        "L3 expired"
    );
    assert!(cache.get("k").await.is_none());
    // The sweep removes the expired row.
    let pg = cache.postgres().unwrap();
    assert_eq!(pg.sweep_expired(100).await.unwrap(), 1);
    assert_eq!(pg.row_count().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_tier_ttl_caps() {
    let ns = unique("ttlcap");
    let cache = builder(&ns)
        .l1_ttl(Duration::from_millis(300))
        .build()
        .await
        .unwrap();
    cache
        .set("k", Bytes::from_static(b"v"), Some(Duration::from_secs(60)))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // L1's copy is gone, the lower tiers still answer.
    assert_eq!(cache.get("k").await.unwrap().level, CacheLevel::L2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_flight_runs_the_loader_once_for_1000_callers() {
    let ns = unique("sf");
    let cache = builder(&ns).build().await.unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let cache = cache.clone();
        let runs = runs.clone();
        tasks.push(tokio::spawn(async move {
            cache
                .get_or_load("hot", move || async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    Ok::<_, std::io::Error>(Bytes::from_static(b"loaded"))
                })
                .await
                .unwrap()
        }));
    }
    for t in tasks {
        assert_eq!(&t.await.unwrap().value[..], b"loaded");
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(cache.stats().loads, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loader_errors_reach_every_waiter_and_are_not_cached() {
    let ns = unique("sferr");
    let cache = builder(&ns).build().await.unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let cache = cache.clone();
        let runs = runs.clone();
        tasks.push(tokio::spawn(async move {
            cache
                .get_or_load("bad", move || async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Err::<Bytes, _>(std::io::Error::other("backend down"))
                })
                .await
        }));
    }
    for t in tasks {
        let err = t.await.unwrap().unwrap_err();
        assert!(err.to_string().contains("backend down"));
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // Not cached: the next call loads again and succeeds.
    let ok = cache
        .get_or_load("bad", || async {
            Ok::<_, std::io::Error>(Bytes::from_static(b"fine"))
        })
        .await
        .unwrap();
    assert_eq!(ok.level, CacheLevel::Miss);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_caching_when_enabled() {
    let ns = unique("neg");
    let cache = builder(&ns)
        .negative_ttl(Some(Duration::from_secs(30)))
        .build()
        .await
        .unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    for _ in 0..3 {
        let runs = runs.clone();
        let r = cache
            .get_or_load("k", move || async move {
                runs.fetch_add(1, Ordering::SeqCst);
                Err::<Bytes, _>(std::io::Error::other("nope"))
            })
            .await;
        assert!(r.is_err());
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_control_no_store_no_cache_max_age() {
    let ns = unique("cc");
    let cache = builder(&ns).build().await.unwrap();
    let v = cache
        .get_or_load_with("a", CacheControl::no_store(), || async {
            Ok::<_, std::io::Error>(Bytes::from_static(b"1"))
        })
        .await
        .unwrap();
    assert_eq!(v.level, CacheLevel::Miss);
    assert!(cache.get("a").await.is_none(), "no-store stored nothing");

    cache
        .set("b", Bytes::from_static(b"old"), None)
        .await
        .unwrap();
    let v = cache
        .get_or_load_with("b", CacheControl::no_cache(), || async {
            Ok::<_, std::io::Error>(Bytes::from_static(b"new"))
        })
        .await
        .unwrap();
    assert_eq!((&v.value[..], v.level), (&b"new"[..], CacheLevel::Miss));
    assert_eq!(&cache.get("b").await.unwrap().value[..], b"new");

    cache
        .get_or_load_with(
            "c",
            CacheControl::max_age(Duration::from_millis(300)),
            || async { Ok::<_, std::io::Error>(Bytes::from_static(b"short")) },
        )
        .await
        .unwrap();
    assert!(cache.get("c").await.is_some());
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(cache.get("c").await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_never_see_each_other() {
    let ns = unique("tenant");
    let cache = builder(&ns).build().await.unwrap();
    let a = cache.tenant("acme").unwrap();
    let b = cache.tenant("globex").unwrap();
    a.set("doc", Bytes::from_static(b"A"), None).await.unwrap();
    assert!(b.get("doc").await.is_none());
    b.set("doc", Bytes::from_static(b"B"), None).await.unwrap();
    assert_eq!(&a.get("doc").await.unwrap().value[..], b"A");
    assert_eq!(&b.get("doc").await.unwrap().value[..], b"B");
    // Also through the remote tiers (a fresh instance has an empty L1).
    let fresh = builder(&ns).build().await.unwrap();
    let fa = fresh.tenant("acme").unwrap();
    let fb = fresh.tenant("globex").unwrap();
    assert_eq!(&fa.get("doc").await.unwrap().value[..], b"A");
    assert_eq!(&fb.get("doc").await.unwrap().value[..], b"B");
    // Invalidating one tenant leaves the other alone.
    a.invalidate_tenant().await.unwrap();
    assert!(a.get("doc").await.is_none());
    assert_eq!(&b.get("doc").await.unwrap().value[..], b"B");
    assert!(cache.tenant("bad:name").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_values_in_l2_and_l3_are_misses_and_deleted() {
    let ns = unique("corrupt");
    let cache = builder(&ns)
        .promotion(Promotion::Never)
        .build()
        .await
        .unwrap();
    let redis = cache.redis().unwrap();
    let pg = cache.postgres().unwrap();

    // L2: a valid value, then truncated.
    cache
        .set("x", Bytes::from(vec![5u8; 100]), None)
        .await
        .unwrap();
    let key = cache.tier_key("x");
    let raw = redis.read_raw_for_tests(&key).await.unwrap().unwrap();
    redis
        .write_raw_for_tests(&key, &raw[..raw.len() - 3])
        .await
        .unwrap();
    pg.delete(&key).await.unwrap();
    cache.memory().remove(&key);
    assert!(
        cache.get("x").await.is_none(),
        "truncated L2 value is a miss"
    );
    assert!(
        redis.read_raw_for_tests(&key).await.unwrap().is_none(),
        "and deleted"
    );
    assert_eq!(cache.stats().tiers[1].corrupt, 1);

    // L3: a flipped byte.
    cache
        .set("y", Bytes::from(vec![6u8; 100]), None)
        .await
        .unwrap();
    let key = cache.tier_key("y");
    let mut raw = redis.read_raw_for_tests(&key).await.unwrap().unwrap();
    let last = raw.len() - 1;
    raw[last] ^= 1;
    pg.write_raw_for_tests(&key, &raw).await.unwrap();
    redis.delete(&key).await.unwrap();
    cache.memory().remove(&key);
    assert!(cache.get("y").await.is_none(), "altered L3 value is a miss");
    assert_eq!(
        pg.row_count().await.unwrap(),
        0,
        "the corrupt row was deleted"
    );
    assert_eq!(cache.stats().tiers[2].corrupt, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidation_reaches_the_other_instance() {
    let ns = unique("coh");
    let one = builder(&ns).build().await.unwrap();
    let two = builder(&ns).build().await.unwrap();
    // Let both subscribers come up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    one.set("k", Bytes::from_static(b"v1"), None).await.unwrap();
    assert_eq!(two.get("k").await.unwrap().level, CacheLevel::L2);
    assert_eq!(two.get("k").await.unwrap().level, CacheLevel::L1);
    one.set("k", Bytes::from_static(b"v2"), None).await.unwrap();
    let key = two.tier_key("k");
    assert!(
        eventually(async || two.memory().lookup(&key).is_none()).await,
        "instance two dropped its L1 copy"
    );
    assert_eq!(&two.get("k").await.unwrap().value[..], b"v2");
    one.delete("k").await.unwrap();
    assert!(eventually(async || two.get("k").await.is_none()).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_lookups_and_get_many() {
    let ns = unique("batch");
    let batch = Some(BatchConfig {
        window: Duration::from_millis(2),
        ..BatchConfig::default()
    });
    let cache = TieredCache::builder()
        .redis(
            test_services::redis_url(),
            RedisConfig::builder().namespace(&ns).batch(batch).build(),
        )
        .postgres(
            test_services::database_url(),
            PostgresConfig::builder().table(&ns).batch(batch).build(),
        )
        .build()
        .await
        .unwrap();
    for i in 0..20 {
        cache
            .set(&format!("k{i}"), Bytes::from(format!("v{i}")), None)
            .await
            .unwrap();
    }
    cache.memory().clear();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let cache = cache.clone();
        tasks.push(tokio::spawn(async move {
            cache.get(&format!("k{i}")).await.unwrap()
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        let l = t.await.unwrap();
        assert_eq!(l.level, CacheLevel::L2);
        assert_eq!(l.value, Bytes::from(format!("v{i}")));
    }
    cache.memory().clear();
    let got = cache.get_many(&["k1", "missing", "k2"]).await;
    assert_eq!(got[0].as_ref().unwrap().value, Bytes::from("v1"));
    assert!(got[1].is_none());
    assert_eq!(got[2].as_ref().unwrap().level, CacheLevel::L2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_values_are_compressed_and_size_policy_applies() {
    let ns = unique("big");
    let cache = builder(&ns)
        .l2_max_value_bytes(50_000)
        .build()
        .await
        .unwrap();
    let big = Bytes::from(vec![b'x'; 100_000]);
    cache.set("big", big.clone(), None).await.unwrap();
    let key = cache.tier_key("big");
    assert!(
        cache.redis().unwrap().get(&key).await.unwrap().is_none(),
        "too large for L2"
    );
    let stored = cache.postgres().unwrap().get(&key).await.unwrap().unwrap();
    assert_eq!(stored, big);
    cache.memory().clear();
    let l = cache.get("big").await.unwrap();
    assert_eq!((l.level, l.value.len()), (CacheLevel::L3, 100_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_helpers() {
    let ns = unique("json");
    let cache = builder(&ns).build().await.unwrap();
    cache
        .set_json("cfg", &vec![1u32, 2, 3], None)
        .await
        .unwrap();
    assert_eq!(
        cache.get_json::<Vec<u32>>("cfg").await.unwrap(),
        Some(vec![1, 2, 3])
    );
    let (v, level) = cache
        .get_or_load_json("other", || async { Ok::<_, std::io::Error>(7u64) })
        .await
        .unwrap();
    assert_eq!((v, level), (7, CacheLevel::Miss));
    let (v, level) = cache
        .get_or_load_json("other", || async { Ok::<_, std::io::Error>(8u64) })
        .await
        .unwrap();
    assert_eq!((v, level), (7, CacheLevel::L1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_while_revalidate_serves_then_refreshes() {
    let ns = unique("swr");
    let cache = builder(&ns)
        .stale_while_revalidate(Some(Duration::from_secs(5)))
        .build()
        .await
        .unwrap();
    let v = cache
        .get_or_load_with(
            "k",
            CacheControl::max_age(Duration::from_millis(200)),
            || async { Ok::<_, std::io::Error>(Bytes::from_static(b"old")) },
        )
        .await
        .unwrap();
    assert_eq!(&v.value[..], b"old");
    tokio::time::sleep(Duration::from_millis(400)).await;
    // Stale: served at once, refreshed in the background.
    let v = cache
        .get_or_load_with(
            "k",
            CacheControl::max_age(Duration::from_millis(200)),
            || async { Ok::<_, std::io::Error>(Bytes::from_static(b"new")) },
        )
        .await
        .unwrap();
    assert_eq!(&v.value[..], b"old");
    assert!(
        eventually(async || cache.get("k").await.is_some_and(|l| &l.value[..] == b"new")).await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiers_alone_get_many_with_repeated_keys() {
    let ns = unique("many");
    let cache = builder(&ns).build().await.unwrap();
    let pg = cache.postgres().unwrap();
    let redis = cache.redis().unwrap();
    pg.set_many(
        &[
            ("a", Bytes::from_static(b"1")),
            ("a", Bytes::from_static(b"2")),
        ],
        None,
    )
    .await
    .unwrap();
    redis
        .set_many(&[("a", Bytes::from_static(b"2"))], None)
        .await
        .unwrap();
    for got in [
        pg.get_many(&["a", "b", "a"]).await.unwrap(),
        redis.get_many(&["a", "b", "a"]).await.unwrap(),
    ] {
        assert_eq!(got[0].as_deref(), Some(&b"2"[..]));
        assert!(got[1].is_none());
        assert_eq!(got[2].as_deref(), Some(&b"2"[..]));
    }
    assert_eq!(
        pg.schema_version().await.unwrap(),
        tiered_cache::SCHEMA_VERSION
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_ttls_are_clamped_not_fatal() {
    let ns = unique("hugettl");
    let cache = builder(&ns)
        .l1_ttl(Duration::MAX)
        .l2_ttl(Duration::MAX)
        .l3_ttl(Duration::MAX)
        .ttl_jitter(0.2)
        .build()
        .await
        .unwrap();
    cache
        .set("k", Bytes::from_static(b"v"), Some(Duration::MAX))
        .await
        .unwrap();
    let key = cache.tier_key("k");
    assert!(cache.redis().unwrap().get(&key).await.unwrap().is_some());
    assert!(cache.postgres().unwrap().get(&key).await.unwrap().is_some());
    assert_eq!(cache.get("k").await.unwrap().level, CacheLevel::L1);
    assert_eq!(cache.stats().tiers[1].errors, 0);
}
