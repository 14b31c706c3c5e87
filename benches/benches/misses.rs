//! Instructions and simulated cache misses per lookup (callgrind with `--cache-sim=yes`, through
//! gungraun): `Ir`, `D1mr` (first-level data read misses) and `DLmr` (last-level data read
//! misses) of describe_execution, update_execution, start_next and pending (GetPending), at 1k,
//! 10k, 100k and 1M executions.
//!
//! Each benchmark is 64 calls on the first 64 of [`KEYS`] pseudo-random executions spread over the
//! whole registry; the world is built in `setup` (not counted), and building it ends with one
//! pass over all the keys (setting them IN_PROGRESS, and for `start_next` starting each key's
//! thing's head), so the measured calls see the caches as a cycle through the keys leaves them:
//! each key was last touched [`KEYS`] − 64 keys ago, the steady state `benches/registry.rs` times.
//! Valgrind simulates the host's D1 and last-level caches (sizes in `--cache-sim` output:
//! `cargo bench --bench misses -- --nocapture` shows them); it models no TLB and no prefetcher.
//!
//! Run: `cd benches && cargo bench --bench misses -- --output-format=json` (≈ 4 min on a
//! quiet core; `scripts/lookups.sh` runs it on two builds and makes the tables).
//! Needs `gungraun-runner` 0.20.0 on PATH (see scripts/bench.sh).
use std::hint::black_box;

use gungraun::prelude::*;
use gungraun::{Callgrind, CallgrindMetrics};
use iot_jobs_core_benches::{BENCH_THINGS as OPS, KEYS, World};

/// The world of [`World::new`] with every key's thing's head already started.
fn primed(size: usize) -> World {
    let mut w = World::new(size);
    w.prime_start_next();
    w
}

#[library_benchmark]
#[benches::size(args = [1_000, 10_000, 100_000, 1_000_000], setup = World::new)]
fn describe_execution(w: World) -> World {
    for i in 0..OPS {
        black_box(w.describe(i));
    }
    w
}

#[library_benchmark]
#[benches::size(args = [1_000, 10_000, 100_000, 1_000_000], setup = World::new)]
fn update_execution(mut w: World) -> World {
    for i in 0..OPS {
        black_box(w.update(i));
    }
    w
}

#[library_benchmark]
#[benches::size(args = [1_000, 10_000, 100_000, 1_000_000], setup = primed)]
fn start_next(mut w: World) -> World {
    for i in 0..OPS {
        black_box(w.start_next_spread(i));
    }
    w
}

#[library_benchmark]
#[benches::size(args = [1_000, 10_000, 100_000, 1_000_000], setup = World::new)]
fn pending(w: World) -> World {
    for i in 0..OPS {
        black_box(w.pending(i));
    }
    w
}

library_benchmark_group!(
    name = lookups,
    benchmarks = [describe_execution, update_execution, start_next, pending]
);

const _: () = assert!(OPS < KEYS);

main!(
    config = LibraryBenchmarkConfig::default()
        .tool(Callgrind::with_args(["--cache-sim=yes"]).format([CallgrindMetrics::All])),
    library_benchmark_groups = lookups
);
