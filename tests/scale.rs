//! A host that provides heap memory: one million executions, and sizes of the stored state.

#![allow(clippy::arithmetic_side_effects)]

use iot_jobs_core::registry::{
    Discard, Entry, ExecutionEntry, Heap, JobEntry, NewJob, PairEntry, Registry, ThingEntry,
};
use iot_jobs_core::{ExecutionStatus, JobId, Plane, Policy, TargetSelection, ThingName, Timestamp};

#[test]
fn a_million_executions_in_host_memory() {
    const JOBS: usize = 1_000;
    const THINGS: usize = 1_000;
    let caps = Heap {
        jobs: 10_000,
        things: 100_000,
        executions: JOBS * THINGS,
        status_details: 1_000,
        reserve: false,
    };
    let mut r = Registry::new(caps, Policy::DEFAULT);
    let things: Vec<ThingName> =
        (0..THINGS).map(|i| ThingName::new(&format!("thing-{i}")).unwrap()).collect();
    for t in &things {
        r.add_thing(t).unwrap();
    }
    for j in 0..JOBS {
        let id = JobId::new(&format!("job-{j}")).unwrap();
        let job = NewJob::new(&id, TargetSelection::Snapshot);
        // A group of 1,000 things: one target (SPEC lim-targets), 1,000 executions.
        r.create_job_with_members(&job, &[], &things, Timestamp(j as u64), &mut Discard).unwrap();
    }
    assert_eq!(r.usage().executions, 1_000_000);
    // Lookups still answer, and the newest job is last in every pending list.
    let last = JobId::new("job-999").unwrap();
    let e = r.describe_execution(&last, &things[500], None, Plane::Data).unwrap();
    assert_eq!((e.status(), e.number().get()), (ExecutionStatus::Queued, 1));
    let head = r.next_pending(&things[7]).unwrap().unwrap();
    assert_eq!(head.job_id().as_str(), "job-0");
    // The table is full: one more execution is refused, and nothing changes.
    let id = JobId::new("one-too-many").unwrap();
    let job = NewJob::new(&id, TargetSelection::Snapshot);
    assert!(r.create_job(&job, &things[..1], Timestamp(0), &mut Discard).is_err());
    assert_eq!(r.usage().executions, 1_000_000);
}

#[test]
fn stored_state_sizes() {
    // Printed for BENCHMARKS/notes; asserted loosely so a regression is noticed.
    let sizes = [
        ("execution", size_of::<Entry<ExecutionEntry>>()),
        ("pair", size_of::<Entry<PairEntry>>()),
        ("job", size_of::<Entry<JobEntry>>()),
        ("thing", size_of::<Entry<ThingEntry>>()),
        // On the heap: the slot holds a `Vec<u8>`; the map itself is exactly its encoded size.
        ("statusDetails slot", size_of::<Entry<Vec<u8>>>()),
    ];
    for (what, bytes) in sizes {
        println!("{what}: {bytes} bytes");
    }
    assert!(size_of::<Entry<ExecutionEntry>>() <= 128);
}
