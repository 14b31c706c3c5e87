//! The timer heap.

use super::*;

/// Three IN_PROGRESS executions whose step timers are reset many times: superseded timers
/// fill a heap of 4 slots, which is then rebuilt from the live deadlines.
#[test]
fn a_full_timer_heap_is_rebuilt_from_the_live_deadlines() {
    let mut r: Registry<Fixed<4, 4, 4, 1, 64>> = Registry::new(Fixed, Policy::DEFAULT);
    let mut log = Log::default();
    for thing in ["a", "b", "c"] {
        r.add_thing(&t(thing)).unwrap();
    }
    let id = j("j1");
    r.create_job(&NewJob::new(&id, TargetSelection::Snapshot), &[t("a"), t("b"), t("c")], T0, &mut log)
        .unwrap();
    for (i, thing) in ["a", "b", "c"].into_iter().enumerate() {
        for m in 1..=5u16 {
            let u = Update {
                step_timeout: Some(StepTimeout::Minutes(m * 10 + i as u16)),
                ..update(ExecutionStatus::InProgress)
            };
            r.update_execution(&id, &t(thing), &u, T0, &mut log).unwrap();
        }
    }
    // Live deadlines: a at 50 min, b at 51, c at 52; a superseded timer may still come first.
    assert!(r.next_deadline().is_some_and(|d| d <= T0.saturating_add(50 * 60)));
    r.advance(T0.saturating_add(51 * 60), usize::MAX, &mut log).unwrap();
    let status = |thing: &str| r.describe_execution(&id, &t(thing), None, Plane::Control).unwrap().status();
    assert_eq!(
        (status("a"), status("b"), status("c")),
        (ExecutionStatus::TimedOut, ExecutionStatus::TimedOut, ExecutionStatus::InProgress)
    );
    assert_eq!(r.next_deadline(), Some(T0.saturating_add(52 * 60)));
}

/// Live deadlines beyond the heap's slots: two scheduled starts and four IN_PROGRESS
/// executions' timeouts in a heap of 4. The earliest are held, the first left out is
/// remembered and the heap is refilled when it comes due: every deadline fires.
#[test]
fn deadlines_beyond_the_heap_are_never_lost() {
    type Small = Registry<Fixed<4, 4, 4, 1, 64>>;
    let mut r: Small = Registry::new(Fixed, Policy::DEFAULT);
    let mut log = Log::default();
    for thing in ["a", "b"] {
        r.add_thing(&t(thing)).unwrap();
    }
    // Two jobs that start at 20 and 25 min, with nothing to do: they complete when they start.
    for (n, start) in [("j3", 20 * 60), ("j4", 25 * 60)] {
        let id = j(n);
        let schedule = crate::config::Schedule::new(Some(T0.saturating_add(start)), None).unwrap();
        let job = NewJob {
            config: JobConfig { schedule: Some(schedule), ..JobConfig::default() },
            ..NewJob::new(&id, TargetSelection::Snapshot)
        };
        r.create_job_with_members(&job, &[], &[], T0, &mut log).unwrap();
    }
    // Four executions that time out at 10, 11, 12 and 13 min.
    let config = JobConfig { in_progress_timeout_minutes: mins(10), ..JobConfig::default() };
    for n in ["j1", "j2"] {
        let id = j(n);
        let job = NewJob { config, ..NewJob::new(&id, TargetSelection::Snapshot) };
        r.create_job(&job, &[t("a"), t("b")], T0, &mut log).unwrap();
    }
    for (minute, n, thing) in [(0, "j1", "a"), (1, "j1", "b"), (2, "j2", "a"), (3, "j2", "b")] {
        let at = T0.saturating_add(minute * 60);
        r.update_execution(&j(n), &t(thing), &update(ExecutionStatus::InProgress), at, &mut log).unwrap();
    }
    assert!(r.next_deadline().is_some_and(|d| d <= T0.saturating_add(10 * 60)));
    let status = |r: &Small, n: &str| r.job(&j(n)).unwrap().status();
    r.advance(T0.saturating_add(13 * 60), usize::MAX, &mut log).unwrap();
    assert_eq!((status(&r, "j1"), status(&r, "j2")), (JobStatus::Completed, JobStatus::Completed));
    assert_eq!((status(&r, "j3"), status(&r, "j4")), (JobStatus::Scheduled, JobStatus::Scheduled));
    // The starts were left out of the heap when the timeouts came; they still come, each at its time.
    assert_eq!(r.next_deadline(), Some(T0.saturating_add(20 * 60)));
    r.advance(T0.saturating_add(20 * 60), usize::MAX, &mut log).unwrap();
    assert_eq!((status(&r, "j3"), status(&r, "j4")), (JobStatus::Completed, JobStatus::Scheduled));
    assert_eq!(r.next_deadline(), Some(T0.saturating_add(25 * 60)));
    r.advance(T0.saturating_add(25 * 60), usize::MAX, &mut log).unwrap();
    assert_eq!(status(&r, "j4"), JobStatus::Completed);
    assert_eq!(r.next_deadline(), None);
}

#[cfg(feature = "serde")]
#[test]
fn a_restore_rearms_every_live_timer() {
    let (mut r, mut log) = with_things(&["a", "b"]);
    let id = j("j1");
    let config = JobConfig {
        in_progress_timeout_minutes: mins(10),
        maximum_per_minute: per_minute(1),
        ..JobConfig::default()
    };
    job_with(&mut r, "j1", &["a", "b"], config, T0, &mut log);
    r.update_execution(&id, &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    let text = serde_json::to_string(&r.snapshot()).unwrap();
    let mut back: Reg =
        Registry::restore(Fixed, Policy::DEFAULT, &mut serde_json::Deserializer::from_str(&text)).unwrap();
    // The next rollout batch (60 s) and a's timeout (600 s) are both armed again.
    assert_eq!(back.next_deadline(), Some(T0.saturating_add(60)));
    back.advance(T0.saturating_add(600), usize::MAX, &mut log).unwrap();
    assert_eq!(
        back.describe_execution(&id, &t("a"), None, Plane::Control).unwrap().status(),
        ExecutionStatus::TimedOut
    );
    assert_eq!(back.usage().executions, 2);
}

/// The jobs "gone" (slot 0, deleted) and "older" (slot 1), then "newer" in the freed slot 0,
/// each starting at the instant returned.
fn newer_in_a_deleted_jobs_slot(r: &mut Reg, log: &mut Log) -> Timestamp {
    let at = T0.saturating_add(10 * 60);
    let schedule = crate::config::Schedule::new(Some(at), None).unwrap();
    let scheduled = JobConfig { schedule: Some(schedule), ..JobConfig::default() };
    for n in ["gone", "older"] {
        job_with(r, n, &[], scheduled, T0, log);
    }
    r.delete_job(&j("gone"), true, T0, log).unwrap();
    r.advance(T0, usize::MAX, log).unwrap();
    assert!(r.job(&j("gone")).is_err(), "its slot is free");
    job_with(r, "newer", &[], scheduled, T0, log);
    assert!(r.job_index(&j("newer")).unwrap().get() < r.job_index(&j("older")).unwrap().get());
    at
}

/// Timers keep no order of their own: at one instant execution deadlines come first, then job
/// events in the jobs' creation order, asked of the job when times tie. A deleted job's timers
/// leave the heap with it, so a job that reuses its slot (a lower position than an older job's)
/// still comes after the older one, and the deleted job's event does not fire.
#[test]
fn job_events_at_one_instant_keep_creation_order_across_a_reused_slot() {
    let (mut r, mut log) = with_things(&["a"]);
    // "run" is created last, its execution's deadline at the jobs' start.
    let at = newer_in_a_deleted_jobs_slot(&mut r, &mut log);
    let config = JobConfig { in_progress_timeout_minutes: mins(10), ..JobConfig::default() };
    job_with(&mut r, "run", &["a"], config, T0, &mut log);
    r.update_execution(&j("run"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    log.take();
    r.advance(at, usize::MAX, &mut log).unwrap();
    let got: Vec<String> =
        log.take().into_iter().filter(|e| e.ends_with("timed_out") || e.ends_with("completed")).collect();
    assert_eq!(
        got,
        ["execution run a #1 timed_out", "job run completed", "job older completed", "job newer completed"]
    );
    check(&r);
}

/// A registry with no room for executions has no timer slot either: a scheduled job's start
/// is left out of the heap at once. An `advance` before the start does nothing and is not an
/// error; at the start, the deadline that cannot be held is refused with the capacity error
/// instead of being lost (and stays due).
#[test]
fn a_heap_without_slots_refuses_only_what_is_due() {
    let mut r: Registry<Fixed<2, 2, 0, 1, 16>> = Registry::new(Fixed, Policy::DEFAULT);
    let mut log = Log::default();
    let at = T0.saturating_add(20 * 60);
    let schedule = crate::config::Schedule::new(Some(at), None).unwrap();
    let id = j("j1");
    let job = NewJob {
        config: JobConfig { schedule: Some(schedule), ..JobConfig::default() },
        ..NewJob::new(&id, TargetSelection::Snapshot)
    };
    r.create_job_with_members(&job, &[], &[], T0, &mut log).unwrap();
    assert_eq!(r.next_deadline(), Some(at), "the start is due, held or not");
    let before = r.advance(T0.saturating_add(10 * 60), usize::MAX, &mut log).unwrap();
    assert!(!before.more);
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::Scheduled);
    let due = r.advance(at, usize::MAX, &mut log);
    assert_eq!(due.map(|_| ()), Err(Rejection::CapacityExhausted(Table::Executions)));
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::Scheduled);
    assert_eq!(r.next_deadline(), Some(at));
}

/// A deleted job's timers leave the heap with it: a held timer ordered as the deleted job
/// (created first) would otherwise stand for the job that reuses its slot (created last) and
/// fire that job's start before an older job's at the same instant.
#[test]
fn a_deleted_jobs_timer_does_not_stand_for_the_job_in_its_slot() {
    let (mut r, mut log) = with_things(&["a"]);
    let at = newer_in_a_deleted_jobs_slot(&mut r, &mut log);
    log.take();
    r.advance(at, usize::MAX, &mut log).unwrap();
    let got: Vec<String> = log.take().into_iter().filter(|e| e.ends_with("completed")).collect();
    assert_eq!(got, ["job older completed", "job newer completed"]);
    check(&r);
}

/// `advance_through` stamps each transition with the instant it fell due, however late it is
/// called: an in-progress timeout due at +60 s and its retry at +60 s, a paced rollout's batches
/// a minute apart; `advance` at the same late instant stamps them all then.
#[test]
fn advance_through_steps_through_each_deadline_at_its_own_instant() {
    use crate::config::{RetryConfig, RetryCriterion};
    use crate::status::RetryableFailureType;
    let late = T0.saturating_add(3600);
    let retried = RetryCriterion { failure: RetryableFailureType::TimedOut, retries: 1 };
    let config = JobConfig {
        retry: Some(RetryConfig::new(&[retried]).unwrap()),
        in_progress_timeout_minutes: mins(1),
        ..JobConfig::default()
    };
    let paced = JobConfig { maximum_per_minute: per_minute(1), ..JobConfig::default() };
    let world = |r: &mut Reg, log: &mut Log| {
        job_with(r, "timed", &["a"], config, T0, log);
        r.start_next(&t("a"), None, None, T0, log).unwrap();
        job_with(r, "paced", &["b", "c", "d"], paced, T0, log);
    };
    let stamps = |r: &Reg| {
        let first = r.describe_execution(&j("timed"), &t("a"), Some(n(1)), Plane::Control).unwrap();
        let retry = r.describe_execution(&j("timed"), &t("a"), None, Plane::Control).unwrap();
        let batches: Vec<u64> = ["b", "c", "d"]
            .iter()
            .map(|x| {
                r.describe_execution(&j("paced"), &t(x), None, Plane::Control).unwrap().queued_at().secs()
            })
            .collect();
        (
            first.status(),
            first.last_updated_at().secs(),
            retry.number().get(),
            retry.queued_at().secs(),
            batches,
        )
    };
    let t0 = T0.secs();
    let (mut r, mut log) = with_things(&["a", "b", "c", "d"]);
    world(&mut r, &mut log);
    let done = r.advance_through(late, usize::MAX, &mut log).unwrap();
    assert!(!done.more && done.work > 0);
    assert_eq!(
        stamps(&r),
        (ExecutionStatus::TimedOut, t0 + 60, 2, t0 + 60, Vec::from([t0, t0 + 60, t0 + 120]))
    );
    check(&r);
    // `advance` alone: everything at the late instant (one batch, the next a minute after it).
    let (mut r, mut log) = with_things(&["a", "b", "c", "d"]);
    world(&mut r, &mut log);
    while r.advance(late, usize::MAX, &mut log).unwrap().more {}
    let first = r.describe_execution(&j("timed"), &t("a"), Some(n(1)), Plane::Control).unwrap();
    let retry = r.describe_execution(&j("timed"), &t("a"), None, Plane::Control).unwrap();
    let c = r.describe_execution(&j("paced"), &t("c"), None, Plane::Control).unwrap();
    assert_eq!(
        (first.last_updated_at(), retry.queued_at(), c.queued_at()),
        (late, late, late),
        "all stamped at the late call"
    );
    assert!(r.describe_execution(&j("paced"), &t("d"), None, Plane::Control).is_err(), "one batch then");
}

/// With a budget, `advance_through` does no more than it, says that more is due, and goes on
/// from there at the next call; the stamps are those of one unbounded call.
#[test]
fn advance_through_shares_its_budget_between_the_steps() {
    let paced = JobConfig { maximum_per_minute: per_minute(1), ..JobConfig::default() };
    let (mut r, mut log) = with_things(&["b", "c", "d"]);
    job_with(&mut r, "paced", &["b", "c", "d"], paced, T0, &mut log);
    let late = T0.saturating_add(600);
    let first = r.advance_through(late, 1, &mut log).unwrap();
    assert_eq!((first.work, first.more), (1, true));
    assert_eq!(r.usage().executions, 2, "the batch due at +60 s, not the one at +120 s");
    let rest = r.advance_through(late, usize::MAX, &mut log).unwrap();
    assert!(!rest.more);
    let queued: Vec<u64> = ["b", "c", "d"]
        .iter()
        .map(|x| r.describe_execution(&j("paced"), &t(x), None, Plane::Control).unwrap().queued_at().secs())
        .collect();
    assert_eq!(queued, [T0.secs(), T0.secs() + 60, T0.secs() + 120]);
    assert_eq!(r.advance_through(late, usize::MAX, &mut log).unwrap(), Advanced { work: 0, more: false });
    check(&r);
}
