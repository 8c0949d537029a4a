//! context-chop beside repomix and code2prompt (placeholder while the harness is written).

fn main() {
    let bench = bench_support::Bench::from_args("context-chop");
    bench.finish();
}
