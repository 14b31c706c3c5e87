//! Wall-clock time per decision of `iot_jobs_core::rules` (criterion).
use criterion::{Criterion, criterion_group, criterion_main};
use iot_jobs_core_benches::decisions;

fn rules(c: &mut Criterion) {
    let mut g = c.benchmark_group("rules");
    for (name, decide) in decisions::ALL {
        g.bench_function(name, |b| b.iter(decide));
    }
    g.finish();
}

criterion_group!(benches, rules);
criterion_main!(benches);
