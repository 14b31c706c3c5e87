//! What the benchmarks share: the core's heap storage with every table reserved up front, a registry
//! holding `1000 jobs × N things` executions, and the steady states each operation repeats in.
//!
//! Steady states (so that an operation can run millions of times at a fixed registry size):
//! - `update_execution` IN_PROGRESS → IN_PROGRESS, `describe_execution` and `pending` on
//!   [`KEYS`] (or [`World::with_keys`]) pseudo-random executions spread over the whole registry
//!   (the keys' executions are set IN_PROGRESS when the world is built);
//! - `start_next` on the things of the same keys ([`World::start_next_spread`]): once each thing's
//!   head is IN_PROGRESS ([`World::prime_start_next`]), StartNext returns it unchanged (SPEC T3),
//!   a lookup of the thing and its head;
//! - `start_next` (QUEUED → IN_PROGRESS), `cancel_execution` and `delete_execution` on a fresh
//!   job that targets [`BENCH_THINGS`] extra things, made and deleted outside the timed part;
//! - `create_job` with one target: [`BENCH_THINGS`] jobs made (timed), then deleted (not timed);
//! - `cancel_job` of [`BENCH_THINGS`] such jobs, made outside the timed part.

use iot_jobs_core::registry::{Discard, Heap, NewJob, Registry, Update};
use iot_jobs_core::{
    ExecutionNumber, ExecutionStatus, JobId, Plane, Policy, TargetSelection, ThingName, Timestamp,
};

/// Jobs in every world; the number of things sets the size.
pub const JOBS: usize = 1_000;
/// The registry sizes measured, in executions.
pub const SIZES: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];
/// Extra things (outside the `JOBS × N` population) the create/delete cycles use.
pub const BENCH_THINGS: usize = 64;
/// How many pseudo-random executions the non-destructive operations cycle through.
pub const KEYS: usize = 4_096;

/// A registry of `JOBS × things` executions and everything the operations need.
pub struct World {
    /// The registry.
    pub reg: Registry<Heap>,
    /// `job-0` … `job-999`.
    pub jobs: Vec<JobId>,
    /// `thing-0` … of the population.
    pub things: Vec<ThingName>,
    /// `bench-0` … `bench-63`, targets of the fresh jobs.
    pub bench_things: Vec<ThingName>,
    /// `fresh-0` … `fresh-63`: ids of the jobs made and deleted by the cycles.
    pub fresh: Vec<JobId>,
    /// (job, thing) indexes of IN_PROGRESS executions, pseudo-random over the registry.
    pub keys: Vec<(usize, usize)>,
}

/// The time every operation happens at (the registry never reads a clock).
pub const NOW: Timestamp = Timestamp(1_000);

/// A deterministic pseudo-random sequence (xorshift64).
fn xorshift(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// UpdateJobExecution to IN_PROGRESS, no details, no expected version.
pub const IN_PROGRESS: Update<'static> = Update {
    status: ExecutionStatus::InProgress,
    status_details: None,
    expected_version: None,
    execution_number: None,
    step_timeout: None,
};

fn name(prefix: &str, i: usize) -> String {
    format!("{prefix}-{i}")
}

impl World {
    /// A registry holding `executions` (a multiple of [`JOBS`]) executions and [`KEYS`] keys.
    pub fn new(executions: usize) -> Self {
        Self::with_keys(executions, KEYS)
    }

    /// A registry holding `executions` (a multiple of [`JOBS`]) executions, with `keys`
    /// pseudo-random (job, thing) keys set IN_PROGRESS (the same first keys as [`World::new`]).
    pub fn with_keys(executions: usize, keys: usize) -> Self {
        let n = executions / JOBS;
        let things: Vec<ThingName> = (0..n).map(|i| ThingName::new(&name("thing", i)).unwrap()).collect();
        let bench_things: Vec<ThingName> =
            (0..BENCH_THINGS).map(|i| ThingName::new(&name("bench", i)).unwrap()).collect();
        let jobs: Vec<JobId> = (0..JOBS).map(|i| JobId::new(&name("job", i)).unwrap()).collect();
        let fresh: Vec<JobId> = (0..BENCH_THINGS).map(|i| JobId::new(&name("fresh", i)).unwrap()).collect();
        // Every table reserved up front: no timed operation pays for a reallocation (pages are
        // only touched as the tables fill).
        let storage = Heap {
            jobs: JOBS + 2 * BENCH_THINGS,
            things: n + BENCH_THINGS,
            executions: executions + 2 * BENCH_THINGS,
            status_details: 16,
            reserve: true,
        };
        let mut reg = Registry::new(storage, Policy::DEFAULT);
        for t in things.iter().chain(&bench_things) {
            reg.add_thing(t).unwrap();
        }
        for id in &jobs {
            let job = NewJob::new(id, TargetSelection::Snapshot);
            // Every thing, as the members of one target group (a job has at most 100 targets).
            reg.create_job_with_members(&job, &[], &things, NOW, &mut Discard).unwrap();
        }
        assert_eq!(reg.usage().executions, executions);
        let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
        let keys: Vec<(usize, usize)> = (0..keys.max(1))
            .map(|_| {
                let r = xorshift(&mut seed);
                ((r % JOBS as u64) as usize, ((r >> 32) % n as u64) as usize)
            })
            .collect();
        for &(j, t) in &keys {
            reg.update_execution(&jobs[j], &things[t], &IN_PROGRESS, NOW, &mut Discard).unwrap();
        }
        Self { reg, jobs, things, bench_things, fresh, keys }
    }

    /// The job and thing of key `i` (cycling).
    pub fn key(&self, i: usize) -> (&JobId, &ThingName) {
        let (j, t) = self.keys[i % self.keys.len()];
        (&self.jobs[j], &self.things[t])
    }

    /// One UpdateJobExecution IN_PROGRESS → IN_PROGRESS on key `i`.
    pub fn update(&mut self, i: usize) -> ExecutionStatus {
        let (j, t) = self.keys[i % self.keys.len()];
        let s = self.reg.update_execution(&self.jobs[j], &self.things[t], &IN_PROGRESS, NOW, &mut Discard);
        s.unwrap().status
    }

    /// One DescribeJobExecution (data plane, latest execution) of key `i`.
    pub fn describe(&self, i: usize) -> u64 {
        let (job, thing) = self.key(i);
        self.reg.describe_execution(job, thing, None, Plane::Data).unwrap().version().get()
    }

    /// One GetPendingJobExecutions of key `i`'s thing (at most 10 executions, SPEC R).
    pub fn pending(&self, i: usize) -> usize {
        let (_, thing) = self.key(i);
        let mut n = 0;
        self.reg.pending(thing, |v| n += v.number().get() as usize).unwrap();
        n
    }

    /// One StartNextPendingJobExecution on key `i`'s thing: after [`World::prime_start_next`],
    /// the thing's head is IN_PROGRESS and is returned unchanged (SPEC T3), so this is a lookup
    /// spread over the registry like [`World::describe`].
    pub fn start_next_spread(&mut self, i: usize) -> bool {
        let t = self.keys[i % self.keys.len()].1;
        self.reg.start_next(&self.things[t], None, None, NOW, &mut Discard).unwrap().is_some()
    }

    /// Not timed: one StartNext on every key's thing, so each thing's head is IN_PROGRESS.
    pub fn prime_start_next(&mut self) {
        for i in 0..self.keys.len() {
            self.start_next_spread(i);
        }
    }

    /// One StartNextPendingJobExecution on a [`World::make_fresh`] execution.
    pub fn start_next(&mut self, i: usize) -> bool {
        let thing = &self.bench_things[i];
        self.reg.start_next(thing, None, None, NOW, &mut Discard).unwrap().is_some()
    }

    /// One forced CancelJobExecution of a [`World::make_fresh`] execution.
    pub fn cancel(&mut self, i: usize) -> ExecutionStatus {
        let (job, thing) = (&self.fresh[0], &self.bench_things[i]);
        self.reg.cancel_execution(job, thing, true, None, None, NOW, &mut Discard).unwrap().status
    }

    /// One forced DeleteJobExecution of a [`World::make_fresh`] execution.
    pub fn delete(&mut self, i: usize) {
        let (job, thing) = (&self.fresh[0], &self.bench_things[i]);
        self.reg.delete_execution(job, thing, ExecutionNumber::FIRST, true, NOW, &mut Discard).unwrap();
    }

    /// One CreateJob `fresh-i` with the single target `bench-i`.
    pub fn create(&mut self, i: usize) {
        let job = NewJob::new(&self.fresh[i], TargetSelection::Snapshot);
        let target = core::slice::from_ref(&self.bench_things[i]);
        self.reg.create_job(&job, target, NOW, &mut Discard).unwrap();
    }

    /// One CancelJob (not forced) of job `fresh-i`, made by [`World::make_fresh_jobs`]: its one
    /// QUEUED execution is canceled, with the notifications the pending lists owe.
    pub fn cancel_job(&mut self, i: usize) {
        self.reg.cancel_job(&self.fresh[i], false, None, NOW, &mut Discard).unwrap();
    }

    /// Not timed: jobs `fresh-0` … `fresh-63`, each with one QUEUED execution, on `bench-i`.
    pub fn make_fresh_jobs(&mut self) {
        for i in 0..BENCH_THINGS {
            self.create(i);
        }
    }

    /// Not timed: job `fresh-0` with one QUEUED execution on each bench thing.
    pub fn make_fresh(&mut self) {
        let job = NewJob::new(&self.fresh[0], TargetSelection::Snapshot);
        self.reg.create_job(&job, &self.bench_things, NOW, &mut Discard).unwrap();
    }

    /// Not timed: deletes jobs `fresh-0` … `fresh-(n-1)` completely (≤ 10 at a time, SPEC §6).
    pub fn delete_fresh(&mut self, n: usize) {
        for chunk in self.fresh[..n].chunks(10) {
            for id in chunk {
                self.reg.delete_job(id, true, NOW, &mut Discard).unwrap();
            }
            while self.reg.advance(NOW, usize::MAX, &mut Discard).unwrap().more {}
        }
    }
}

/// A lookup, by name, as a call on key `i` of a [`World`]: the operations whose cost at 1M is
/// the memory hierarchy's (`misses` bench, `lookups` binary).
pub type Lookup = (&'static str, fn(&mut World, usize));

/// describe_execution, update_execution (IN_PROGRESS → IN_PROGRESS), start_next (needs
/// [`World::prime_start_next`]) and pending (GetPending), each on key `i`.
pub const LOOKUPS: [Lookup; 4] = [
    ("describe_execution", |w, i| _ = std::hint::black_box(w.describe(i))),
    ("update_execution", |w, i| _ = std::hint::black_box(w.update(i))),
    ("start_next", |w, i| _ = std::hint::black_box(w.start_next_spread(i))),
    ("pending", |w, i| _ = std::hint::black_box(w.pending(i))),
];

impl World {
    /// Not timed: one pass of `op` over every key, so the next calls see the caches as a cycle
    /// through the keys leaves them (each key last touched a whole cycle ago).
    pub fn warm(&mut self, op: fn(&mut World, usize)) {
        for i in 0..self.keys.len() {
            op(self, i);
        }
    }
}

/// One call of each decision function of [`iot_jobs_core::rules`], on a typical accepted input
/// hidden from the optimiser; shared by the criterion and the instruction-count benchmarks.
pub mod decisions {
    use std::hint::black_box as bb;

    use iot_jobs_core::rules::{self, Actor, CancelScope};
    use iot_jobs_core::{
        ExecutionNumber, ExecutionState, ExecutionStatus, JobStatus, Plane, Policy, TargetSelection,
        VersionNumber,
    };

    const fn state(status: ExecutionStatus, version: u64) -> ExecutionState {
        let version = match VersionNumber::new(version) {
            Ok(v) => v,
            Err(_) => VersionNumber::INITIAL,
        };
        ExecutionState { status, version }
    }

    const RUNNING: ExecutionState = state(ExecutionStatus::InProgress, 3);
    const QUEUED: ExecutionState = state(ExecutionStatus::Queued, 1);
    const DONE: ExecutionState = state(ExecutionStatus::Succeeded, 4);
    const POLICY: Policy = Policy::DEFAULT;

    /// UpdateJobExecution IN_PROGRESS → SUCCEEDED with a matching expectedVersion.
    pub fn update_execution() {
        let v = VersionNumber::new(3).ok();
        _ = bb(rules::update_execution(bb(RUNNING), bb(ExecutionStatus::Succeeded), bb(v), bb(&POLICY)));
    }
    /// DeleteJobExecution of a SUCCEEDED execution, no force.
    pub fn delete_execution() {
        _ = bb(rules::delete_execution(bb(DONE), bb(false), bb(&POLICY)));
    }
    /// CancelJobExecution of a QUEUED execution.
    pub fn cancel_execution() {
        _ = bb(rules::cancel_execution(bb(QUEUED), bb(false), bb(None)));
    }
    /// CancelJob of an IN_PROGRESS job, force.
    pub fn cancel_job() {
        _ = bb(rules::cancel_job(bb(JobStatus::InProgress), bb(true), bb(&POLICY)));
    }
    /// What CancelJob (force) does to one IN_PROGRESS execution.
    pub fn cancel_job_execution_effect() {
        _ = bb(rules::cancel_job_execution_effect(
            bb(ExecutionStatus::InProgress),
            bb(CancelScope::QueuedAndInProgress),
        ));
    }
    /// DeleteJob of a COMPLETED job with 3 jobs already being deleted.
    pub fn delete_job() {
        _ = bb(rules::delete_job(bb(JobStatus::Completed), bb(false), bb(3)));
    }
    /// DescribeJobExecution on the data plane of an IN_PROGRESS execution.
    pub fn describe_execution() {
        _ = bb(rules::describe_execution(bb(RUNNING), bb(Plane::Data), bb(&POLICY)));
    }
    /// StartNext with a QUEUED head.
    pub fn start_next() {
        _ = bb(rules::start_next(bb(Some(QUEUED))));
    }
    /// The number of a re-execution (R7).
    pub fn next_execution_number() {
        let n = ExecutionNumber::new(2).ok();
        _ = bb(rules::next_execution_number(bb(n), bb(n), bb(&POLICY)));
    }
    /// The version after a device update (R6).
    pub fn version_after() {
        _ = bb(rules::version_after(bb(RUNNING.version), bb(Actor::Device), bb(&POLICY)));
    }
    /// Does a SNAPSHOT job complete now?
    pub fn job_completes() {
        _ = bb(rules::job_completes(
            bb(JobStatus::InProgress),
            bb(TargetSelection::Snapshot),
            bb(true),
            bb(false),
        ));
    }
    /// Is an execution listed to its device?
    pub fn listed_to_device() {
        _ = bb(rules::listed_to_device(bb(JobStatus::Scheduled), bb(ExecutionStatus::InProgress)));
    }

    /// Every decision, by name.
    pub const ALL: [(&str, fn()); 12] = [
        ("update_execution", update_execution),
        ("delete_execution", delete_execution),
        ("cancel_execution", cancel_execution),
        ("cancel_job", cancel_job),
        ("cancel_job_execution_effect", cancel_job_execution_effect),
        ("delete_job", delete_job),
        ("describe_execution", describe_execution),
        ("start_next", start_next),
        ("next_execution_number", next_execution_number),
        ("version_after", version_after),
        ("job_completes", job_completes),
        ("listed_to_device", listed_to_device),
    ];
}

/// What the wall-clock binaries report of the host they ran on.
pub mod host {
    /// `AnonHugePages` of this process, in KiB (transparent huge pages in use).
    #[must_use]
    pub fn anon_huge_kib() -> u64 {
        std::fs::read_to_string("/proc/self/smaps_rollup")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("AnonHugePages:"))
                    .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
            })
            .unwrap_or(0)
    }

    /// Reads the command line as `--flag value` pairs and hands each to `set` with the value's
    /// numbers (a comma-separated list: one or more); `set` returns false for a flag it does not
    /// know, and the run then stops, naming the flags of `known`.
    pub fn flags(known: &str, mut set: impl FnMut(&str, Vec<usize>) -> bool) {
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let value = it.next().unwrap_or_else(|| panic!("{flag}: a value is missing"));
            let numbers = value
                .split(',')
                .map(|v| v.trim().parse().unwrap_or_else(|_| panic!("{flag}: {v} is not a number")))
                .collect();
            assert!(set(&flag, numbers), "unknown flag {flag} ({known})");
        }
    }

    /// The load average over 1, 5 and 15 minutes.
    #[must_use]
    pub fn loadavg() -> String {
        std::fs::read_to_string("/proc/loadavg")
            .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    }
}
