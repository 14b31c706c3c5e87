//! Wall-clock time per registry operation at 1k, 10k, 100k and 1M executions (criterion).
//!
//! Each world is built once per size (outside the timing); see `src/lib.rs` for the steady
//! state every operation repeats in. `describe`, `pending` and `update` cycle through 4096
//! pseudo-random executions spread over the registry (cache- and TLB-missing at 1M), and, as
//! `*_hot`, through 16 of them. Operations that consume fresh executions run in batches of
//! 64 whose preparation and clean-up are not timed (`iter_custom`).
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use iot_jobs_core_benches::{BENCH_THINGS, SIZES, World};

/// Times `op` over `iters` calls, in batches of [`BENCH_THINGS`] between untimed `prepare` and
/// `clean` steps.
fn batched(
    w: &mut World,
    iters: u64,
    prepare: fn(&mut World),
    op: fn(&mut World, usize),
    clean: fn(&mut World, usize),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters as usize;
    while left > 0 {
        let n = left.min(BENCH_THINGS);
        prepare(w);
        let t0 = Instant::now();
        for i in 0..n {
            op(w, i);
        }
        total += t0.elapsed();
        clean(w, n);
        left -= n;
    }
    total
}

fn registry(c: &mut Criterion) {
    let sizes: Vec<usize> = match std::env::var("BENCH_SIZES") {
        Ok(s) => s.split(',').map(|n| n.trim().parse().expect("BENCH_SIZES: numbers")).collect(),
        Err(_) => SIZES.to_vec(),
    };
    let mut g = c.benchmark_group("registry");
    for size in sizes {
        let mut w = World::new(size);
        let mut i = 0usize;
        let mut next = move || {
            i = i.wrapping_add(1);
            i
        };
        g.bench_function(BenchmarkId::new("describe_execution", size), |b| b.iter(|| w.describe(next())));
        g.bench_function(BenchmarkId::new("pending", size), |b| b.iter(|| w.pending(next())));
        g.bench_function(BenchmarkId::new("update_execution", size), |b| b.iter(|| w.update(next())));
        // The same three on 16 keys only: cache-resident, so the difference to the above is the
        // memory hierarchy (cache and TLB misses), not the algorithm.
        g.bench_function(BenchmarkId::new("describe_execution_hot", size), |b| {
            b.iter(|| w.describe(next() % 16))
        });
        g.bench_function(BenchmarkId::new("pending_hot", size), |b| b.iter(|| w.pending(next() % 16)));
        g.bench_function(BenchmarkId::new("update_execution_hot", size), |b| {
            b.iter(|| w.update(next() % 16))
        });
        g.bench_function(BenchmarkId::new("start_next", size), |b| {
            b.iter_custom(|n| {
                batched(
                    &mut w,
                    n,
                    World::make_fresh,
                    |w, i| _ = black_box(w.start_next(i)),
                    |w, _| w.delete_fresh(1),
                )
            })
        });
        g.bench_function(BenchmarkId::new("cancel_execution", size), |b| {
            b.iter_custom(|n| {
                batched(
                    &mut w,
                    n,
                    World::make_fresh,
                    |w, i| _ = black_box(w.cancel(i)),
                    |w, _| w.delete_fresh(1),
                )
            })
        });
        g.bench_function(BenchmarkId::new("delete_execution", size), |b| {
            b.iter_custom(|n| batched(&mut w, n, World::make_fresh, World::delete, |w, _| w.delete_fresh(1)))
        });
        g.bench_function(BenchmarkId::new("create_job", size), |b| {
            b.iter_custom(|n| batched(&mut w, n, |_| {}, World::create, World::delete_fresh))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = registry
}
criterion_main!(benches);
