//! The library API: freshness, single-flight, backend caching, overload, deadlines, batches.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::future::BoxFuture;
use pipeline::{Backend, CacheLevel, Error, Pipeline, Request};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

struct CountingModel {
    calls: Arc<AtomicUsize>,
    delay: Duration,
}

impl Backend for CountingModel {
    fn name(&self) -> &str {
        "counting-model"
    }
    fn answer<'a>(
        &'a self,
        _request: &'a Request,
        pack: &'a str,
    ) -> BoxFuture<'a, Result<String, pipeline::pipeline_core::BoxError>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            Ok(format!("answer from {} bytes of context", pack.len()))
        })
    }
}

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lib.rs"),
        "/// Parses the config file.\npub fn parse_config(s: &str) -> usize {\n    s.len()\n}\n",
    )
    .unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_file_changes_the_pack() {
    let root = tree();
    let cache = tempfile::tempdir().unwrap();
    let p = Pipeline::builder()
        .index_dir(cache.path())
        .refresh_interval(Duration::ZERO)
        .build()
        .await
        .unwrap();
    let req = Request::new("parse the config", root.path());
    let a = p.process(req.clone()).await.unwrap();
    assert_eq!(a.cache_level, CacheLevel::Miss);
    assert_eq!(
        p.process(req.clone()).await.unwrap().cache_level,
        CacheLevel::L1
    );
    std::fs::write(root.path().join("lib.rs"), "/// Parses the config file, strictly.\npub fn parse_config(s: &str) -> usize {\n    s.trim().len()\n}\n").unwrap();
    let b = p.process(req.clone()).await.unwrap();
    assert_eq!(b.cache_level, CacheLevel::Miss, "a stale pack was served");
    assert_ne!(a.index_version, b.index_version);
    assert!(b.pack.contains("strictly"));
    p.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_identical_misses_compute_once_and_the_answer_is_cached() {
    let root = tree();
    let cache = tempfile::tempdir().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let p = Pipeline::builder()
        .index_dir(cache.path())
        .backend(CountingModel {
            calls: calls.clone(),
            delay: Duration::from_millis(200),
        })
        .build()
        .await
        .unwrap();
    // Warm the index so every request takes the same path.
    let mut warm = Request::new("unrelated warm-up", root.path());
    warm.max_tokens = 100;
    p.process(warm).await.unwrap();
    calls.store(0, Ordering::SeqCst);

    let req = Request::new("how is the config parsed", root.path());
    let results = p
        .process_batch(std::iter::repeat_n(req.clone(), 50), 50)
        .await;
    let answers: Vec<String> = results
        .into_iter()
        .map(|r| r.unwrap().answer.unwrap())
        .collect();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the backend ran more than once"
    );
    assert!(answers.iter().all(|a| a == &answers[0]));

    let again = p.process(req).await.unwrap();
    assert_eq!(again.cache_level, CacheLevel::L1);
    assert_eq!(again.answer.as_deref(), Some(answers[0].as_str()));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    p.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_sheds_and_deadlines_cancel() {
    let root = tree();
    let cache = tempfile::tempdir().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let p = Pipeline::builder()
        .index_dir(cache.path())
        .workers(1)
        .queue_capacity(1)
        .backend(CountingModel {
            calls,
            delay: Duration::from_millis(300),
        })
        .build()
        .await
        .unwrap();
    let reqs: Vec<Request> = (0..20)
        .map(|i| {
            Request::new(
                format!("question number {i} about parse config"),
                root.path(),
            )
        })
        .collect();
    let results = p.process_batch(reqs, 20).await;
    let overloaded = results
        .iter()
        .filter(|r| matches!(r, Err(Error::Overloaded(_))))
        .count();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert!(overloaded > 0, "nothing was shed");
    assert!(ok > 0, "nothing was served");
    assert_eq!(
        overloaded + ok,
        20,
        "{:?}",
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .collect::<Vec<_>>()
    );

    let mut late = Request::new("a question with a short deadline", root.path());
    late.deadline_ms = Some(50);
    match p.process(late).await {
        Err(Error::DeadlineExceeded(_)) => {}
        other => panic!("expected DeadlineExceeded, got {other:?}"),
    }
    p.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_do_not_share_entries_and_budgets_hold() {
    let root = tree();
    let cache = tempfile::tempdir().unwrap();
    let p = Pipeline::builder()
        .index_dir(cache.path())
        .build()
        .await
        .unwrap();
    let mut a = Request::new("parse config", root.path());
    a.tenant = "alpha".into();
    let mut b = a.clone();
    b.tenant = "beta".into();
    assert_eq!(
        p.process(a.clone()).await.unwrap().cache_level,
        CacheLevel::Miss
    );
    assert_eq!(p.process(b).await.unwrap().cache_level, CacheLevel::Miss);
    assert_eq!(p.process(a).await.unwrap().cache_level, CacheLevel::L1);
    for budget in [20, 50, 200, 5000] {
        let mut r = Request::new("parse config", root.path());
        r.max_tokens = budget;
        let resp = p.process(r).await.unwrap();
        assert!(
            resp.tokens_used <= budget,
            "{} > {budget}",
            resp.tokens_used
        );
    }
    p.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fingerprint_key_of_your_own_changes_every_fingerprint() {
    let secret = "ghp_i6ueojowig3fjl1dzvq3uhfm0ig05bkhoiz6";
    let text = format!("let token = \"{secret}\";\n");
    let fingerprint = |v: serde_json::Value| {
        let f = v["findings"][0]["fingerprint"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(!f.contains(secret));
        f
    };
    let with_key = |key: Option<&str>| {
        let mut cfg = pipeline::config::PipelineConfig::default();
        cfg.cache.disabled = true;
        cfg.security.fingerprint_key = key.map(str::to_string);
        cfg
    };
    let default = Pipeline::builder()
        .config(with_key(None))
        .build()
        .await
        .unwrap();
    let ours = Pipeline::builder()
        .config(with_key(Some("correct horse battery staple")))
        .build()
        .await
        .unwrap();
    let again = Pipeline::builder()
        .config(with_key(Some("correct horse battery staple")))
        .build()
        .await
        .unwrap();
    let a = fingerprint(default.scan_text(&text, "a.rs").await.unwrap());
    let b = fingerprint(ours.scan_text(&text, "a.rs").await.unwrap());
    let c = fingerprint(again.scan_text(&text, "a.rs").await.unwrap());
    assert_ne!(a, b, "a key of your own gives other fingerprints");
    assert_eq!(b, c, "the same key gives the same fingerprints");
    // An empty key is refused rather than silently replaced by the public default.
    let Err(err) = Pipeline::builder()
        .config(with_key(Some("  ")))
        .build()
        .await
    else {
        panic!("an empty key is an error");
    };
    assert!(
        err.to_string().contains("fingerprint key is empty"),
        "{err}"
    );
}
