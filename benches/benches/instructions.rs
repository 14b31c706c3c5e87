//! Instruction counts (valgrind/callgrind through gungraun): the repeatable figures.
//! A decision is one call; a registry benchmark is 64 calls of the operation on 64 different
//! executions (divide by 64: `scripts/bench_report.py` does). The world (up to 1M executions) is
//! built in `setup`, not counted.
//! Needs `gungraun-runner` 0.20.0 on PATH (see scripts/bench.sh).
use std::hint::black_box;

use gungraun::prelude::*;
use iot_jobs_core_benches::{BENCH_THINGS as OPS, World, decisions};

// ---- decisions -------------------------------------------------------------------------------

macro_rules! decision_benches {
    ($($name:ident),* $(,)?) => {
        $(
            #[library_benchmark]
            fn $name() {
                decisions::$name();
            }
        )*
        library_benchmark_group!(name = rules, benchmarks = [$($name),*]);
    };
}

decision_benches!(
    update_execution,
    delete_execution,
    cancel_execution,
    cancel_job,
    cancel_job_execution_effect,
    delete_job,
    describe_execution,
    start_next,
    next_execution_number,
    version_after,
    job_completes,
    listed_to_device,
);

// ---- registry operations at 1k, 10k, 100k, 1M executions -----------------------------------

fn fresh(size: usize) -> World {
    let mut w = World::new(size);
    w.make_fresh();
    w
}

#[library_benchmark]
#[benches::size(args = [1_000, 10_000, 100_000, 1_000_000], setup = World::new)]
fn op_describe_execution(w: World) -> World {
    for i in 0..OPS {
        black_box(w.describe(i));
    }
    w
}

#[library_benchmark]
#[benches::size(args = [1_000, 10_000, 100_000, 1_000_000], setup = World::new)]
fn op_pending(w: World) -> World {
    for i in 0..OPS {
        black_box(w.pending(i));
    }
    w
}

#[library_benchmark]
#[benches::size(args = [1_000, 10_000, 100_000, 1_000_000], setup = World::new)]
fn op_update_execution(mut w: World) -> World {
    for i in 0..OPS {
        black_box(w.update(i));
    }
    w
}

#[library_benchmark]
#[benches::size(args = [1_000, 10_000, 100_000, 1_000_000], setup = fresh)]
fn op_start_next(mut w: World) -> World {
    for i in 0..OPS {
        black_box(w.start_next(i));
    }
    w
}

#[library_benchmark]
#[benches::size(args = [1_000, 10_000, 100_000, 1_000_000], setup = fresh)]
fn op_cancel_execution(mut w: World) -> World {
    for i in 0..OPS {
        black_box(w.cancel(i));
    }
    w
}

#[library_benchmark]
#[benches::size(args = [1_000, 10_000, 100_000, 1_000_000], setup = fresh)]
fn op_delete_execution(mut w: World) -> World {
    for i in 0..OPS {
        w.delete(i);
    }
    w
}

#[library_benchmark]
#[benches::size(args = [1_000, 10_000, 100_000, 1_000_000], setup = World::new)]
fn op_create_job(mut w: World) -> World {
    for i in 0..OPS {
        w.create(i);
    }
    w
}

fn fresh_jobs(size: usize) -> World {
    let mut w = World::new(size);
    w.make_fresh_jobs();
    w
}

#[library_benchmark]
#[benches::size(args = [1_000, 10_000, 100_000, 1_000_000], setup = fresh_jobs)]
fn op_cancel_job(mut w: World) -> World {
    for i in 0..OPS {
        w.cancel_job(i);
    }
    w
}

library_benchmark_group!(
    name = registry,
    benchmarks = [
        op_create_job,
        op_cancel_job,
        op_start_next,
        op_update_execution,
        op_cancel_execution,
        op_delete_execution,
        op_pending,
        op_describe_execution,
    ]
);

main!(library_benchmark_groups = rules, registry);
