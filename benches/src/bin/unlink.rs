//! Wall-clock of the operations that take an execution out of, or place it in, a thing's lists
//! (its pending lists are singly linked and walked from their head, BENCHMARKS §3; it was run to
//! weigh linking a thing's list of all executions the same way):
//! `cargo run --release --bin unlink -- [--sizes 100000,1000000] [--ops 256]`.
//!
//! For each size a world of `1000 jobs × N things` is built (`World::with_keys`, one key), so
//! each thing has 1,000 executions, QUEUED, in job order. Timed, each over `ops` things (the mean
//! per operation is printed; one run, no warm-up: a deletion cannot be repeated):
//! - `delete newest`: a forced DeleteJobExecution of the newest job's execution, the last of its
//!   thing's lists (its QUEUED list and its list of all executions);
//! - `delete oldest`: the same of the oldest job's, the first of both;
//! - `start middle`: UpdateJobExecution QUEUED → IN_PROGRESS of job 500's execution on things
//!   with an older (job 100) and a newer (job 900) IN_PROGRESS execution;
//! - `delete job`: a forced DeleteJob of the job below the newest, until its deletion finishes
//!   (one execution per thing: the whole operation, not per execution);
//! - `delete newest, history finished`: in a new world where every older execution of the
//!   things has SUCCEEDED (the pending lists hold only the newest), a forced DeleteJobExecution
//!   of the newest.
use std::time::Instant;

use iot_jobs_core::registry::{Discard, Update};
use iot_jobs_core::{ExecutionNumber, ExecutionStatus};
use iot_jobs_core_benches::{IN_PROGRESS, NOW, World};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

/// The mean ns per call of `f` over `0..ops`.
fn mean(ops: usize, mut f: impl FnMut(usize)) -> f64 {
    let t = Instant::now();
    for i in 0..ops {
        f(i);
    }
    t.elapsed().as_nanos() as f64 / ops as f64
}

fn delete(w: &mut World, job: usize, thing: usize) {
    let (job, thing) = (&w.jobs[job], &w.things[thing]);
    w.reg.delete_execution(job, thing, ExecutionNumber::FIRST, true, NOW, &mut Discard).unwrap();
}

fn main() {
    let sizes: Vec<usize> = arg("--sizes")
        .unwrap_or_else(|| "100000,1000000".into())
        .split(',')
        .map(|s| s.parse().expect("--sizes: numbers, comma separated"))
        .collect();
    let ops_arg: usize = arg("--ops").map_or(256, |s| s.parse().expect("--ops: a number"));
    println!(
        "| executions | things | delete newest (ns) | delete oldest (ns) | start middle (ns) | delete job (ms) | delete newest, history finished (ns) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for size in sizes {
        let mut w = World::with_keys(size, 1);
        let (n, last) = (w.things.len(), w.jobs.len() - 1);
        let ops = ops_arg.min(n);
        let newest = mean(ops, |i| delete(&mut w, last, i));
        let oldest = mean(ops, |i| delete(&mut w, 0, i));
        for i in 0..ops {
            for j in [100, 900] {
                w.reg.update_execution(&w.jobs[j], &w.things[i], &IN_PROGRESS, NOW, &mut Discard).unwrap();
            }
        }
        let start = mean(ops, |i| {
            w.reg.update_execution(&w.jobs[500], &w.things[i], &IN_PROGRESS, NOW, &mut Discard).unwrap();
        });
        let t = Instant::now();
        w.reg.delete_job(&w.jobs[last - 1], true, NOW, &mut Discard).unwrap();
        while w.reg.advance(NOW, usize::MAX, &mut Discard).unwrap().more {}
        let job = t.elapsed().as_secs_f64() * 1e3;
        let mut w = World::with_keys(size, 1);
        let done = Update { status: ExecutionStatus::Succeeded, ..IN_PROGRESS };
        for i in 0..ops {
            for j in 0..last {
                w.reg.update_execution(&w.jobs[j], &w.things[i], &done, NOW, &mut Discard).unwrap();
            }
        }
        let finished = mean(ops, |i| delete(&mut w, last, i));
        println!("| {size} | {n} | {newest:.0} | {oldest:.0} | {start:.0} | {job:.1} | {finished:.0} |");
    }
}
