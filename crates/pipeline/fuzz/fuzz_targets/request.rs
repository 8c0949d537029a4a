//! Fuzz target: a `pipeline::Request` parsed from arbitrary bytes the way the HTTP service
//! parses `POST /v1/pack` bodies, then validated by running it through a pipeline whose only
//! allowed root is an empty directory (so no input can make it read the machine's files) and
//! whose cache is off. Parsing and validation must answer `Ok` or a typed error, never panic;
//! a parsed request must survive a JSON round trip. Run with `cargo xtask fuzz --only request`
//! or `cargo +nightly fuzz run request` in crates/pipeline.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pipeline::{Pipeline, Request};
use std::sync::OnceLock;
use std::time::Duration;

struct Harness {
    rt: tokio::runtime::Runtime,
    pipeline: Pipeline,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let root = tempfile::tempdir().expect("temp dir");
        let index = tempfile::tempdir().expect("temp dir");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mut config = pipeline::PipelineConfig::default();
        config.cache.disabled = true;
        config.engine.default_deadline_ms = 2_000;
        let pipeline = rt
            .block_on(
                Pipeline::builder()
                    .config(config)
                    .workers(1)
                    .index_dir(index.path())
                    .allowed_roots([root.path()])
                    .build(),
            )
            .expect("pipeline");
        Harness {
            rt,
            pipeline,
            _dirs: (root, index),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(mut request) = serde_json::from_slice::<Request>(data) else {
        return;
    };
    // A JSON round trip keeps every field.
    let text = serde_json::to_string(&request).expect("a parsed request serializes");
    let again: Request = serde_json::from_str(&text).expect("and parses back");
    assert_eq!(
        serde_json::to_value(&again).ok(),
        serde_json::to_value(&request).ok()
    );
    // Validation (and, for a request inside the empty allowed root, an empty pack).
    request.deadline_ms = Some(request.deadline_ms.unwrap_or(2_000).clamp(1, 2_000));
    let h = harness();
    let result = h.rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(10), h.pipeline.process(request)).await
    });
    let answered = result.expect("validation never hangs");
    if let Err(e) = answered {
        assert!(!e.to_string().is_empty());
    }
});
