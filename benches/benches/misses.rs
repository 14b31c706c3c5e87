//! Instructions and simulated cache misses per lookup (callgrind with `--cache-sim=yes`, through
//! gungraun): `Ir`, `D1mr` (first-level data read misses) and `DLmr` (last-level data read
//! misses) of describe_execution, update_execution, start_next and pending (GetPending), at 1k,
//! 10k, 100k and 1M executions.
//!
//! Each benchmark is 64 calls on the first 64 of a set of pseudo-random keys spread over the whole
//! registry; the world is built in `setup` (not counted), and setup ends with one pass of the
//! same lookup over all the keys ([`World::warm`]), so the measured calls see the caches as a
//! cycle through the keys leaves them (each key last touched a whole set ago), the steady state
//! the wall-clock benchmarks time. Two key sets:
//! - `keys_4096`: [`KEYS`] keys, the steady state `benches/registry.rs` times; at 1M their lines
//!   (~2–3 MB) fit the simulated last-level cache, so the misses are first-level ones;
//! - `keys_wide`: [`WIDE`] keys (or as many as there are executions), far more lines than the
//!   last-level cache holds: `DLmr` is then the lines a lookup fetches from memory.
//!
//! The simulated caches are fixed (not detected, so the counts are the same on every host):
//! D1 32 KiB 8-way and LL 32 MiB 16-way, 64-byte lines (the AMD EPYC VM of BENCHMARKS.md: L1d
//! 32 KiB per core, L3 32 MiB). Valgrind models no TLB and no prefetcher.
//!
//! Run: `cd benches && cargo bench --bench misses -- --output-format=json` (≈ 5 min on a
//! quiet core; `scripts/lookups.sh` runs it on two builds and makes the tables).
//! Needs `gungraun-runner` 0.20.0 on PATH (see scripts/bench.sh).

use gungraun::prelude::*;
use gungraun::{Callgrind, CallgrindMetrics};
use iot_jobs_core_benches::{BENCH_THINGS as OPS, KEYS, LOOKUPS, World};

/// The wide key set: its lines (~8 per key) are ~4× the simulated last-level cache at 1M.
const WIDE: usize = 262_144;

/// A world of `size` executions and `keys` keys (at most one per execution), every key's thing's
/// head started, and one untimed pass of lookup `op` over all the keys.
fn world(size: usize, keys: usize, op: usize) -> World {
    let mut w = World::with_keys(size, keys.min(size));
    w.prime_start_next();
    w.warm(LOOKUPS[op].1);
    w
}

/// Runs lookup `op` on the first [`OPS`] keys.
fn run(mut w: World, op: usize) -> World {
    for i in 0..OPS {
        LOOKUPS[op].1(&mut w, i);
    }
    w
}

// The setups' last argument is the index into LOOKUPS.

fn describe_4096(size: usize) -> World {
    world(size, KEYS, 0)
}

fn describe_wide(size: usize) -> World {
    world(size, WIDE, 0)
}

#[library_benchmark]
#[benches::keys_4096(args = [1_000, 10_000, 100_000, 1_000_000], setup = describe_4096)]
#[benches::keys_wide(args = [1_000, 10_000, 100_000, 1_000_000], setup = describe_wide)]
fn describe_execution(w: World) -> World {
    run(w, 0)
}

fn update_4096(size: usize) -> World {
    world(size, KEYS, 1)
}

fn update_wide(size: usize) -> World {
    world(size, WIDE, 1)
}

#[library_benchmark]
#[benches::keys_4096(args = [1_000, 10_000, 100_000, 1_000_000], setup = update_4096)]
#[benches::keys_wide(args = [1_000, 10_000, 100_000, 1_000_000], setup = update_wide)]
fn update_execution(w: World) -> World {
    run(w, 1)
}

fn start_next_4096(size: usize) -> World {
    world(size, KEYS, 2)
}

fn start_next_wide(size: usize) -> World {
    world(size, WIDE, 2)
}

#[library_benchmark]
#[benches::keys_4096(args = [1_000, 10_000, 100_000, 1_000_000], setup = start_next_4096)]
#[benches::keys_wide(args = [1_000, 10_000, 100_000, 1_000_000], setup = start_next_wide)]
fn start_next(w: World) -> World {
    run(w, 2)
}

fn pending_4096(size: usize) -> World {
    world(size, KEYS, 3)
}

fn pending_wide(size: usize) -> World {
    world(size, WIDE, 3)
}

#[library_benchmark]
#[benches::keys_4096(args = [1_000, 10_000, 100_000, 1_000_000], setup = pending_4096)]
#[benches::keys_wide(args = [1_000, 10_000, 100_000, 1_000_000], setup = pending_wide)]
fn pending(w: World) -> World {
    run(w, 3)
}

library_benchmark_group!(
    name = lookups,
    benchmarks = [describe_execution, update_execution, start_next, pending]
);

const _: () = assert!(OPS < KEYS);

main!(
    config = LibraryBenchmarkConfig::default().tool(
        Callgrind::with_args([
            "--cache-sim=yes",
            "--I1=32768,8,64",
            "--D1=32768,8,64",
            "--LL=33554432,16,64",
        ])
        .format([CallgrindMetrics::All])
    ),
    library_benchmark_groups = lookups
);
