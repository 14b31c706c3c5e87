//! Timeouts, retries, abort, schedules, rollouts and windows driven by `advance`.

use super::*;
use crate::config::{RetryConfig, RetryCriterion, Schedule};
use crate::status::{JobEndBehavior, RetryableFailureType};

fn timeout(minutes: u16) -> JobConfig {
    JobConfig { in_progress_timeout_minutes: mins(minutes), ..JobConfig::default() }
}

fn run_until(r: &mut Reg, now: Timestamp, log: &mut Log) -> usize {
    let mut work = 0;
    loop {
        let a = r.advance(now, 3, log).unwrap();
        work += a.work;
        check(r);
        if !a.more {
            return work;
        }
    }
}

#[test]
fn in_progress_timeout_fires_exactly_at_the_deadline() {
    let (mut r, mut log) = with_things(&["a", "b"]);
    job_with(&mut r, "j1", &["a", "b"], timeout(10), T0, &mut log);
    // QUEUED executions never time out.
    assert_eq!(r.next_deadline(), None);
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    let deadline = T0.saturating_add(600);
    assert_eq!(r.next_deadline(), Some(deadline));
    let e = r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap();
    assert_eq!(e.approximate_seconds_before_timed_out(T0.saturating_add(100)), Some(500));
    log.take();
    assert_eq!(run_until(&mut r, deadline.saturating_add(0).min(Timestamp(deadline.0 - 1)), &mut log), 0);
    assert_eq!(status(&r, "j1", "a"), ExecutionStatus::InProgress);
    assert_eq!(run_until(&mut r, deadline, &mut log), 1);
    let e = r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap();
    assert_eq!((e.status(), e.version(), e.last_updated_at()), (ExecutionStatus::TimedOut, v(3), deadline));
    assert_eq!(e.approximate_seconds_before_timed_out(deadline), None);
    assert_eq!(log.take(), ["execution j1 a #1 timed_out", "notify a", "notify-next a"]);
    assert_eq!(status(&r, "j1", "b"), ExecutionStatus::Queued);
    assert_eq!(r.next_deadline(), None);
}

#[test]
fn step_timers_replace_cancel_and_never_pass_the_in_progress_deadline() {
    let (mut r, mut log) = with_things(&["a"]);
    job_with(&mut r, "j1", &["a"], timeout(10), T0, &mut log);
    let with_step = |s| Update { step_timeout: Some(s), ..update(ExecutionStatus::InProgress) };
    r.update_execution(&j("j1"), &t("a"), &with_step(StepTimeout::Minutes(3)), T0, &mut log).unwrap();
    assert_eq!(r.next_deadline(), Some(T0.saturating_add(180)));
    // A longer step timer is capped by the in-progress deadline (SPEC T7).
    let later = T0.saturating_add(120);
    r.update_execution(&j("j1"), &t("a"), &with_step(StepTimeout::Minutes(60)), later, &mut log).unwrap();
    let e = r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap();
    assert_eq!(e.deadline(), Some(T0.saturating_add(600)));
    // -1 cancels the step timer; the in-progress deadline stays.
    r.update_execution(&j("j1"), &t("a"), &with_step(StepTimeout::Minutes(1)), later, &mut log).unwrap();
    assert_eq!(
        r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap().deadline(),
        Some(later.saturating_add(60))
    );
    r.update_execution(&j("j1"), &t("a"), &with_step(StepTimeout::Cancel), later, &mut log).unwrap();
    assert_eq!(
        r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap().deadline(),
        Some(T0.saturating_add(600))
    );
    // The superseded timers (180 s, 60 s) fire as no-ops.
    run_until(&mut r, T0.saturating_add(599), &mut log);
    assert_eq!(status(&r, "j1", "a"), ExecutionStatus::InProgress);
    run_until(&mut r, T0.saturating_add(600), &mut log);
    assert_eq!(status(&r, "j1", "a"), ExecutionStatus::TimedOut);
}

#[test]
fn a_step_timer_alone_times_out_and_start_next_sets_it() {
    let (mut r, mut log) = with_things(&["a"]);
    create(&mut r, "j1", &["a"], T0, &mut log).unwrap();
    r.start_next(&t("a"), None, Some(StepTimeout::Minutes(2)), T0, &mut log).unwrap();
    run_until(&mut r, T0.saturating_add(120), &mut log);
    assert_eq!(status(&r, "j1", "a"), ExecutionStatus::TimedOut);
}

#[test]
fn simultaneous_deadlines_fire_in_a_deterministic_order() {
    let (mut r, mut log) = with_things(&["a", "b", "c"]);
    job_with(&mut r, "j1", &["c", "a", "b"], timeout(1), T0, &mut log);
    for thing in ["b", "c", "a"] {
        r.update_execution(&j("j1"), &t(thing), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    }
    log.take();
    run_until(&mut r, T0.saturating_add(60), &mut log);
    let order: Vec<String> = log.take().into_iter().filter(|e| e.ends_with("timed_out")).collect();
    // Table order: executions were created for targets c, a, b.
    assert_eq!(
        order,
        ["execution j1 c #1 timed_out", "execution j1 a #1 timed_out", "execution j1 b #1 timed_out"]
    );
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::Completed);
}

#[test]
fn a_clock_that_goes_back_and_times_near_the_end_of_time() {
    let (mut r, mut log) = with_things(&["a", "b"]);
    job_with(&mut r, "j1", &["a", "b"], timeout(10080), T0, &mut log);
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    assert_eq!(run_until(&mut r, Timestamp(0), &mut log), 0);
    assert_eq!(status(&r, "j1", "a"), ExecutionStatus::InProgress);
    // Past the last time the registry stores (u32 seconds): refused, nothing changed.
    let events = log.0.len();
    let in_progress = update(ExecutionStatus::InProgress);
    for past in [LATEST_TIME.saturating_add(1), Timestamp(u64::MAX - 10), Timestamp(u64::MAX)] {
        let got = r.update_execution(&j("j1"), &t("b"), &in_progress, past, &mut log).map(|_| ());
        assert_eq!(got, Err(Rejection::LimitExceeded(Limit::Time)));
        assert_eq!(r.advance(past, usize::MAX, &mut log), Err(Rejection::LimitExceeded(Limit::Time)));
        let got = r.cancel_job(&j("j1"), true, None, past, &mut log).map(|_| ());
        assert_eq!(got, Err(Rejection::LimitExceeded(Limit::Time)));
    }
    assert_eq!((status(&r, "j1", "b"), log.0.len()), (ExecutionStatus::Queued, events));
    // Started at the last time: the 7-day deadline after it is stored exactly.
    let late = LATEST_TIME;
    r.update_execution(&j("j1"), &t("b"), &in_progress, late, &mut log).unwrap();
    let b = r.describe_execution(&j("j1"), &t("b"), None, Plane::Control).unwrap();
    assert_eq!((b.started_at(), b.deadline()), (Some(late), Some(late.saturating_add(10080 * 60))));
    run_until(&mut r, late, &mut log);
    assert_eq!(status(&r, "j1", "a"), ExecutionStatus::TimedOut);
    assert_eq!(status(&r, "j1", "b"), ExecutionStatus::InProgress);
}

fn retry(criteria: &[RetryCriterion]) -> JobConfig {
    JobConfig {
        retry: Some(RetryConfig::new(criteria).unwrap()),
        in_progress_timeout_minutes: mins(1),
        ..JobConfig::default()
    }
}

#[test]
fn failures_are_retried_with_new_numbers_until_the_budget_is_spent() {
    let (mut r, mut log) = with_things(&["a"]);
    let c = RetryCriterion { failure: RetryableFailureType::Failed, retries: 2 };
    job_with(&mut r, "j1", &["a"], retry(&[c]), T0, &mut log);
    for attempt in 0..3u8 {
        let e = r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap();
        assert_eq!(
            (e.number(), e.retry_attempt(), e.status()),
            (n(u64::from(attempt) + 1), attempt, ExecutionStatus::Queued)
        );
        r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::Failed), T0, &mut log).unwrap();
        check(&r);
    }
    // Budget spent: no fourth execution; the job completes.
    assert_eq!(status(&r, "j1", "a"), ExecutionStatus::Failed);
    assert_eq!(r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap().number(), n(3));
    let job = r.job(&j("j1")).unwrap();
    assert_eq!(
        (job.status(), job.process_details().count(ExecutionStatus::Failed)),
        (JobStatus::Completed, 3)
    );
}

#[test]
fn timeouts_retry_rejections_never_and_all_shares_one_budget() {
    let (mut r, mut log) = with_things(&["a", "b"]);
    let all = RetryCriterion { failure: RetryableFailureType::All, retries: 1 };
    job_with(&mut r, "j1", &["a", "b"], retry(&[all]), T0, &mut log);
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    run_until(&mut r, T0.saturating_add(60), &mut log);
    let e = r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap();
    assert_eq!((e.number(), e.retry_attempt(), e.status()), (n(2), 1, ExecutionStatus::Queued));
    // The one retry of ALL is spent: a FAILED now is final.
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::Failed), T0, &mut log).unwrap();
    assert_eq!(r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap().number(), n(2));
    // REJECTED is never retried.
    r.update_execution(&j("j1"), &t("b"), &update(ExecutionStatus::Rejected), T0, &mut log).unwrap();
    assert_eq!(r.describe_execution(&j("j1"), &t("b"), None, Plane::Control).unwrap().number(), n(1));
    check(&r);
}

#[test]
fn a_retry_after_the_previous_execution_was_deleted_is_numbered_by_r7() {
    let (mut r, mut log) = with_things(&["a"]);
    let c = RetryCriterion { failure: RetryableFailureType::All, retries: 3 };
    job_with(&mut r, "j1", &["a"], retry(&[c]), T0, &mut log);
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::Failed), T0, &mut log).unwrap();
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    r.delete_execution(&j("j1"), &t("a"), n(1), false, T0, &mut log).unwrap();
    run_until(&mut r, T0.saturating_add(60), &mut log);
    let e = r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap();
    assert_eq!((e.number(), e.retry_attempt()), (n(3), 2));
    check(&r);
}

#[test]
fn a_thing_that_joins_a_continuous_jobs_group_again_counts_its_retries_from_0() {
    let (mut r, mut log) = with_things(&["a"]);
    let c = RetryCriterion { failure: RetryableFailureType::Failed, retries: 1 };
    let id = j("j1");
    let job = NewJob { config: retry(&[c]), ..NewJob::new(&id, TargetSelection::Continuous) };
    r.create_job_with_members(&job, &[], &[], T0, &mut log).unwrap();
    let fail = |r: &mut Reg, log: &mut Log| {
        r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::Failed), T0, log).unwrap();
        let e = r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap();
        (e.number().get(), e.retry_attempt(), e.status())
    };
    r.add_members(&j("j1"), &[t("a")], T0, &mut log).unwrap();
    assert_eq!(fail(&mut r, &mut log), (2, 1, ExecutionStatus::Queued));
    assert_eq!(fail(&mut r, &mut log), (2, 1, ExecutionStatus::Failed), "the one retry is spent");
    // SPEC T12 (DG-CONF): the thing leaves the group and joins it again: its retries start over.
    r.remove_target(&j("j1"), &t("a"), T0, &mut log).unwrap();
    r.add_members(&j("j1"), &[t("a")], T0, &mut log).unwrap();
    assert_eq!(fail(&mut r, &mut log), (4, 1, ExecutionStatus::Queued));
    assert_eq!(fail(&mut r, &mut log), (4, 1, ExecutionStatus::Failed));
    // Targeted again by AssociateTargetsWithJob: the same.
    r.add_targets(&j("j1"), &[t("a")], T0, &mut log).unwrap();
    assert_eq!(fail(&mut r, &mut log), (6, 1, ExecutionStatus::Queued));
    check(&r);
}

/// A `StepTimeout` built in code is checked as one read from a request: 1–10080 minutes, and
/// -1 on UpdateJobExecution only; a refused one changes nothing.
#[test]
fn step_timeouts_out_of_range_are_refused_whoever_built_them() {
    use crate::field::{Field, FieldError, Violation};
    let (mut r, mut log) = with_things(&["a"]);
    job_with(&mut r, "j1", &["a"], JobConfig::default(), T0, &mut log);
    let with_step = |s| Update { step_timeout: Some(s), ..update(ExecutionStatus::InProgress) };
    let range = |min| {
        let violation = Violation::OutOfRange { min, max: 10080 };
        Err(Rejection::InvalidField(FieldError::new(Field::StepTimeout, violation)))
    };
    let before = log.0.len();
    for bad in [StepTimeout::Minutes(0), StepTimeout::Minutes(10081), StepTimeout::Cancel] {
        assert_eq!(r.start_next(&t("a"), None, Some(bad), T0, &mut log).map(|_| ()), range(1), "{bad:?}");
    }
    for bad in [StepTimeout::Minutes(0), StepTimeout::Minutes(u16::MAX)] {
        let got = r.update_execution(&j("j1"), &t("a"), &with_step(bad), T0, &mut log).map(|_| ());
        assert_eq!(got, range(-1), "{bad:?}");
    }
    assert_eq!((status(&r, "j1", "a"), log.0.len()), (ExecutionStatus::Queued, before));
    r.start_next(&t("a"), None, Some(StepTimeout::Minutes(10080)), T0, &mut log).unwrap();
    r.update_execution(&j("j1"), &t("a"), &with_step(StepTimeout::Cancel), T0, &mut log).unwrap();
}

/// Deadline order across timers and deletions: a deletion due before a timeout frees the room
/// that timeout's retry needs, so a small registry does not stall on it.
#[test]
fn advance_takes_deletions_and_timers_in_deadline_order() {
    let mut r: Registry<Fixed<4, 4, 3, 4, 64, 64>> = Registry::new(Fixed, Policy::DEFAULT);
    let mut log = Log::default();
    for name in ["a", "b", "c"] {
        r.add_thing(&t(name)).unwrap();
    }
    let c = RetryCriterion { failure: RetryableFailureType::TimedOut, retries: 1 };
    let two_minutes = JobConfig { in_progress_timeout_minutes: mins(2), ..JobConfig::default() };
    for (id, thing, config) in
        [("ja", "a", retry(&[c])), ("jb", "b", two_minutes), ("jc", "c", JobConfig::default())]
    {
        let id = j(id);
        let job = NewJob { config, ..NewJob::new(&id, TargetSelection::Snapshot) };
        r.create_job(&job, &[t(thing)], T0, &mut log).unwrap();
    }
    for (job, thing) in [("ja", "a"), ("jb", "b")] {
        r.update_execution(&j(job), &t(thing), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    }
    r.set_deletion_delay(30);
    r.delete_job(&j("jc"), true, T0, &mut log).unwrap();
    log.0.clear();
    r.advance(T0.saturating_add(130), usize::MAX, &mut log).unwrap();
    let deleted = log.0.iter().position(|e| e == "job jc deleted");
    let timed_out = log.0.iter().position(|e| e == "execution ja a #1 timed_out");
    assert!(deleted.is_some() && timed_out.is_some() && deleted < timed_out, "{:?}", log.0);
    let b = r.describe_execution(&j("jb"), &t("b"), None, Plane::Control).unwrap();
    assert_eq!(b.status(), ExecutionStatus::TimedOut);
    let e = r.describe_execution(&j("ja"), &t("a"), None, Plane::Control).unwrap();
    assert_eq!((e.number(), e.retry_attempt(), e.status()), (n(2), 1, ExecutionStatus::Queued));
}

#[test]
fn abort_cancels_queued_executions_and_wins_over_retry() {
    let (mut r, mut log) = with_things(&["a", "b", "c", "d"]);
    let abort = abort_on_failed(5000, 2);
    let retry =
        RetryConfig::new(&[RetryCriterion { failure: RetryableFailureType::Failed, retries: 5 }]).unwrap();
    let config = JobConfig { abort: Some(abort), retry: Some(retry), ..JobConfig::default() };
    job_with(&mut r, "j1", &["a", "b", "c", "d"], config, T0, &mut log);
    r.update_execution(&j("j1"), &t("c"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    // One failure in one executed: below minNumberOfExecutedThings, so it is retried.
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::Failed), T0, &mut log).unwrap();
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::InProgress);
    assert_eq!(r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap().number(), n(2));
    // A second failure: 2 of 2 executed failed ≥ 50%: abort; no retry for b.
    log.take();
    r.update_execution(&j("j1"), &t("b"), &update(ExecutionStatus::Failed), T0, &mut log).unwrap();
    let job = r.job(&j("j1")).unwrap();
    assert_eq!(job.status(), JobStatus::Canceled);
    assert_eq!(job.reason_code().map(ReasonCode::as_str), Some(ABORT_REASON));
    assert_eq!(r.describe_execution(&j("j1"), &t("b"), None, Plane::Control).unwrap().number(), n(1));
    // SPEC T8: abort cancels only QUEUED executions.
    assert_eq!(status(&r, "j1", "a"), ExecutionStatus::Canceled);
    assert_eq!(status(&r, "j1", "d"), ExecutionStatus::Canceled);
    assert_eq!(status(&r, "j1", "c"), ExecutionStatus::InProgress);
    assert!(log.0.iter().any(|e| e == "job j1 canceled"));
    check(&r);
}

#[test]
fn a_retry_that_does_not_fit_refuses_the_update() {
    let mut r: Registry<Fixed<2, 2, 1, 1, 32>> = Registry::new(Fixed, Policy::DEFAULT);
    let mut log = Log::default();
    r.add_thing(&t("a")).unwrap();
    let c = RetryCriterion { failure: RetryableFailureType::Failed, retries: 1 };
    let id = j("j1");
    let job = NewJob { config: retry(&[c]), ..NewJob::new(&id, TargetSelection::Snapshot) };
    r.create_job(&job, &[t("a")], T0, &mut log).unwrap();
    let e = r.update_execution(&id, &t("a"), &update(ExecutionStatus::Failed), T0, &mut log);
    assert_eq!(e, Err(Rejection::CapacityExhausted(Table::Executions)));
    let v = r.describe_execution(&id, &t("a"), None, Plane::Control).unwrap();
    assert_eq!((v.status(), v.version()), (ExecutionStatus::Queued, VersionNumber::INITIAL));
}

/// `isConcurrent` (SPEC §2 job facts): while a paced rollout has targets left and the job has
/// not ended, and while a deleting job has executions; not once everything rolled out, not
/// after the job's end, not for a canceled job.
#[test]
fn a_job_is_concurrent_while_it_rolls_out_or_deletes() {
    let (mut r, mut log) = with_things(&["a", "b"]);
    let concurrent = |r: &Reg, id: &str| r.job(&j(id)).unwrap().is_concurrent();
    let paced = JobConfig { maximum_per_minute: per_minute(1), ..JobConfig::default() };
    job_with(&mut r, "paced", &["a", "b"], paced, T0, &mut log);
    assert!(concurrent(&r, "paced"), "b is still to roll out");
    // The same, with an end before b's turn: not once the job has ended.
    let end = Schedule::new(None, Some((T0.saturating_add(30), JobEndBehavior::StopRollout))).unwrap();
    let ends = JobConfig { maximum_per_minute: per_minute(1), schedule: Some(end), ..JobConfig::default() };
    job_with(&mut r, "ends", &["a", "b"], ends, T0, &mut log);
    assert!(concurrent(&r, "ends"));
    run_until(&mut r, T0.saturating_add(30), &mut log);
    assert_eq!(r.job(&j("ends")).unwrap().status(), JobStatus::InProgress);
    assert!(!concurrent(&r, "ends"), "ended with b never rolled out");
    run_until(&mut r, T0.saturating_add(60), &mut log);
    assert!(!concurrent(&r, "paced"), "everything rolled out");
    // Deleting with executions left: yes; canceled: no.
    r.set_deletion_delay(30);
    r.delete_job(&j("paced"), true, T0.saturating_add(60), &mut log).unwrap();
    assert!(concurrent(&r, "paced"));
    r.cancel_job(&j("ends"), false, None, T0.saturating_add(60), &mut log).unwrap();
    assert!(!concurrent(&r, "ends"));
}

/// A target a paced rollout has not reached leaves it (SPEC T10) and gets no execution; once an
/// end stopped the rollout, such a target has nothing to leave: not found. A SNAPSHOT job keeps
/// the things it was created with (`rules::group_leave`): nothing changes.
#[test]
fn an_unreached_target_leaves_the_rollout_until_the_end_stops_it() {
    let (mut r, mut log) = with_things(&["a", "b", "c"]);
    let paced = JobConfig { maximum_per_minute: per_minute(1), ..JobConfig::default() };
    let continuous = TargetSelection::Continuous;
    selected_job_with(&mut r, "paced", continuous, &["a", "b", "c"], paced, T0, &mut log);
    job_with(&mut r, "snapshot", &["a", "b", "c"], paced, T0, &mut log);
    r.remove_target(&j("paced"), &t("b"), T0, &mut log).unwrap();
    assert_eq!(r.job(&j("paced")).unwrap().targets(), 2);
    let before = r.usage();
    r.remove_target(&j("snapshot"), &t("a"), T0, &mut log).unwrap();
    r.remove_target(&j("snapshot"), &t("b"), T0, &mut log).unwrap();
    assert_eq!((r.usage(), r.job(&j("snapshot")).unwrap().targets()), (before, 3), "nothing changed");
    run_until(&mut r, T0.saturating_add(120), &mut log);
    let has = |r: &Reg, job: &str, thing: &str| {
        r.describe_execution(&j(job), &t(thing), None, Plane::Control).is_ok()
    };
    assert!(has(&r, "paced", "a") && !has(&r, "paced", "b") && has(&r, "paced", "c"));
    let snapshot = r.describe_execution(&j("snapshot"), &t("a"), None, Plane::Control).unwrap();
    assert_eq!(snapshot.status(), ExecutionStatus::Queued);
    run_until(&mut r, T0.saturating_add(180), &mut log);
    assert!(has(&r, "snapshot", "b") && has(&r, "snapshot", "c"), "the rollout reached both");
    let end = Schedule::new(None, Some((T0.saturating_add(150), JobEndBehavior::StopRollout))).unwrap();
    let ends = JobConfig { maximum_per_minute: per_minute(1), schedule: Some(end), ..JobConfig::default() };
    selected_job_with(&mut r, "ends", continuous, &["a", "b"], ends, T0.saturating_add(120), &mut log);
    run_until(&mut r, T0.saturating_add(150), &mut log);
    assert_eq!(
        r.remove_target(&j("ends"), &t("b"), T0.saturating_add(150), &mut log),
        Err(Rejection::NotFound(Resource::Execution))
    );
    assert_eq!(r.job(&j("ends")).unwrap().targets(), 2, "nothing changed");
}

/// A deletion delay that would end past the last time ends at it: the job does not hold one of
/// the 10 places for ever.
#[test]
fn a_deletion_delay_past_the_last_time_ends_at_it() {
    let (mut r, mut log) = with_things(&["a"]);
    job_with(&mut r, "j1", &["a"], JobConfig::default(), T0, &mut log);
    r.set_deletion_delay(u64::MAX);
    r.delete_job(&j("j1"), true, T0, &mut log).unwrap();
    assert_eq!(r.next_deadline(), Some(LATEST_TIME));
    run_until(&mut r, Timestamp(LATEST_TIME.secs() - 1), &mut log);
    assert_eq!(r.jobs_deleting(), 1);
    run_until(&mut r, LATEST_TIME, &mut log);
    assert_eq!(
        (r.jobs_deleting(), r.job(&j("j1")).map(|_| ())),
        (0, Err(Rejection::NotFound(Resource::Job)))
    );
}

/// AMBIG-34: a schedule time no accepted `now` reaches is refused, not kept as "never".
#[test]
fn a_schedule_past_the_last_time_is_refused() {
    let (mut r, mut log) = with_things(&["a"]);
    let past = LATEST_TIME.saturating_add(1);
    let stop = JobEndBehavior::StopRollout;
    for (start, end) in [
        (Some(past), None),
        (Some(Timestamp(u64::from(u32::MAX))), None),
        (None, Some((past, stop))),
        (Some(T0.saturating_add(3600)), Some((Timestamp(u64::MAX), stop))),
    ] {
        let schedule = Some(Schedule::new(start, end).unwrap());
        let id = j("j1");
        let job = NewJob {
            config: JobConfig { schedule, ..JobConfig::default() },
            ..NewJob::new(&id, TargetSelection::Snapshot)
        };
        let got = r.create_job(&job, &[t("a")], T0, &mut log).map(|_| ());
        assert_eq!(got, Err(Rejection::LimitExceeded(Limit::Time)), "{start:?} {end:?}");
        assert_eq!((r.job(&id).map(|_| ()), log.0.len()), (Err(Rejection::NotFound(Resource::Job)), 0));
    }
    // The last time itself is fine.
    let id = j("j1");
    let last = Schedule::new(Some(Timestamp(LATEST_TIME.secs() - 3600)), Some((LATEST_TIME, stop))).unwrap();
    let config = JobConfig { schedule: Some(last), ..JobConfig::default() };
    let job = NewJob { config, ..NewJob::new(&id, TargetSelection::Snapshot) };
    assert_eq!(
        r.create_job(&job, &[t("a")], T0, &mut log).map(|_| r.job(&id).unwrap().status()),
        Ok(JobStatus::Scheduled)
    );
}

#[test]
fn scheduled_jobs_start_and_end() {
    for (behavior, a_after, b_after, job_after) in [
        (
            JobEndBehavior::StopRollout,
            ExecutionStatus::InProgress,
            ExecutionStatus::Queued,
            JobStatus::InProgress,
        ),
        (JobEndBehavior::Cancel, ExecutionStatus::InProgress, ExecutionStatus::Canceled, JobStatus::Canceled),
        (
            JobEndBehavior::ForceCancel,
            ExecutionStatus::Canceled,
            ExecutionStatus::Canceled,
            JobStatus::Canceled,
        ),
    ] {
        let (mut r, mut log) = with_things(&["a", "b"]);
        let (start, end) = (T0.saturating_add(3600), T0.saturating_add(7200));
        let schedule = Schedule::new(Some(start), Some((end, behavior))).unwrap();
        job_with(
            &mut r,
            "j1",
            &["a", "b"],
            JobConfig { schedule: Some(schedule), ..JobConfig::default() },
            T0,
            &mut log,
        );
        assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::Scheduled);
        assert_eq!(r.usage().executions, 0);
        assert!(pending_ids(&r, "a").is_empty());
        assert_eq!(r.next_deadline(), Some(start));
        run_until(&mut r, start, &mut log);
        assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::InProgress);
        assert_eq!(pending_ids(&r, "a"), ["j1#1:QUEUED"]);
        r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::InProgress), start, &mut log).unwrap();
        assert_eq!(r.next_deadline(), Some(end));
        run_until(&mut r, end, &mut log);
        assert_eq!((status(&r, "j1", "a"), status(&r, "j1", "b")), (a_after, b_after), "{behavior}");
        assert_eq!(r.job(&j("j1")).unwrap().status(), job_after, "{behavior}");
    }
}

#[test]
fn maintenance_windows_hide_queued_executions_between_windows() {
    let (mut r, mut log) = with_things(&["a", "b"]);
    create(&mut r, "j1", &["a", "b"], T0, &mut log).unwrap();
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    log.take();
    r.close_window(&j("j1"), T0, &mut log).unwrap();
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::Scheduled);
    // AMBIG-13: QUEUED ones leave the list; the running one stays.
    assert!(pending_ids(&r, "b").is_empty());
    assert_eq!(pending_ids(&r, "a"), ["j1#1:IN_PROGRESS"]);
    assert_eq!(log.take(), ["notify b", "notify-next b"]);
    check(&r);
    assert_eq!(
        r.close_window(&j("j1"), T0, &mut log),
        Err(Rejection::InvalidRequest(InvalidRequest::WindowNeedsStatus(JobStatus::Scheduled)))
    );
    // The device still finishes its running execution; a window later b is listed again.
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::Succeeded), T0, &mut log).unwrap();
    r.open_window(&j("j1"), T0.saturating_add(86_400), &mut log).unwrap();
    assert_eq!(pending_ids(&r, "b"), ["j1#1:QUEUED"]);
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::InProgress);
    check(&r);
}

#[test]
fn paced_rollout_creates_at_most_maximum_per_minute() {
    let (mut r, mut log) = with_things(&["a", "b", "c", "d", "e"]);
    let config = JobConfig { maximum_per_minute: per_minute(2), ..JobConfig::default() };
    job_with(&mut r, "j1", &["a", "b", "c", "d", "e"], config, T0, &mut log);
    assert_eq!(r.usage().executions, 2);
    assert_eq!(r.next_deadline(), Some(T0.saturating_add(60)));
    run_until(&mut r, T0.saturating_add(59), &mut log);
    assert_eq!(r.usage().executions, 2);
    run_until(&mut r, T0.saturating_add(60), &mut log);
    assert_eq!(r.usage().executions, 4);
    // All terminal so far, but the job is not complete while targets wait.
    for thing in ["a", "b", "c", "d"] {
        r.update_execution(&j("j1"), &t(thing), &update(ExecutionStatus::Succeeded), T0, &mut log).unwrap();
    }
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::InProgress);
    run_until(&mut r, T0.saturating_add(120), &mut log);
    assert_eq!(r.usage().executions, 5);
    assert_eq!(r.next_deadline(), None);
    r.update_execution(&j("j1"), &t("e"), &update(ExecutionStatus::Succeeded), T0, &mut log).unwrap();
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::Completed);
    check(&r);
}

#[test]
fn a_canceled_paced_job_rolls_out_nothing_more() {
    let (mut r, mut log) = with_things(&["a", "b", "c"]);
    let config = JobConfig { maximum_per_minute: per_minute(1), ..JobConfig::default() };
    job_with(&mut r, "j1", &["a", "b", "c"], config, T0, &mut log);
    assert_eq!(r.next_deadline(), Some(T0.saturating_add(60)));
    r.cancel_job(&j("j1"), false, None, T0, &mut log).unwrap();
    run_until(&mut r, T0.saturating_add(600), &mut log);
    assert_eq!(r.usage().executions, 1);
    assert_eq!(r.next_deadline(), None);
    check(&r);
}

fn scheduled(
    r: &mut Reg,
    id: &str,
    targets: &[&str],
    start: Option<u64>,
    end: (u64, JobEndBehavior),
    rate: Option<u32>,
    log: &mut Log,
) {
    let schedule =
        Schedule::new(start.map(|s| T0.saturating_add(s)), Some((T0.saturating_add(end.0), end.1))).unwrap();
    let config = JobConfig {
        schedule: Some(schedule),
        maximum_per_minute: rate.and_then(per_minute),
        ..JobConfig::default()
    };
    job_with(r, id, targets, config, T0, log);
}

#[test]
fn a_start_and_an_end_passed_in_one_advance_roll_out_nothing() {
    let (mut r, mut log) = with_things(&["a"]);
    scheduled(&mut r, "j1", &["a"], Some(100), (200, JobEndBehavior::StopRollout), None, &mut log);
    run_until(&mut r, T0.saturating_add(200), &mut log);
    assert_eq!(r.usage().executions, 0);
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::Scheduled);
    assert_eq!(r.next_deadline(), None);
}

#[test]
fn a_stale_start_timer_after_the_end_starts_nothing() {
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["a"]);
    scheduled(&mut r, "j1", &["a"], Some(100), (200, JobEndBehavior::StopRollout), None, &mut log);
    // UpdateJob re-arms the start: a second timer for it, a copy of the first.
    let config = *r.job(&j("j1")).unwrap().config();
    r.update_job_config(&j("j1"), config, T0).unwrap();
    // One unit of work at the end: the end applies, and the copy of the start timer goes out
    // with it (it would only come out stale).
    let done = r.advance(T0.saturating_add(200), 1, &mut log).unwrap();
    assert!(!done.more);
    // An earlier `now` is allowed (the core reads no clock): nothing fires before the end
    // time, the end was applied, so there is no start (SPEC §2: no start after the end).
    r.advance(T0.saturating_add(150), usize::MAX, &mut log).unwrap();
    assert_eq!(r.usage().executions, 0);
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::Scheduled);
    check(&r);
}

#[test]
fn an_end_does_not_cancel_a_job_that_completed() {
    for behavior in [JobEndBehavior::Cancel, JobEndBehavior::ForceCancel] {
        let (mut r, mut log) = with_things(&["a"]);
        scheduled(&mut r, "j1", &["a"], None, (100, behavior), None, &mut log);
        r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::Succeeded), T0, &mut log).unwrap();
        run_until(&mut r, T0.saturating_add(100), &mut log);
        assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::Completed, "{behavior}");
    }
}

#[test]
fn an_end_before_the_next_batch_stops_the_rollout() {
    let (mut r, mut log) = with_things(&["a", "b", "c"]);
    scheduled(&mut r, "j1", &["a", "b", "c"], None, (30, JobEndBehavior::StopRollout), Some(1), &mut log);
    run_until(&mut r, T0.saturating_add(30), &mut log);
    run_until(&mut r, T0.saturating_add(600), &mut log);
    assert_eq!(r.usage().executions, 1);
}

#[test]
fn an_end_while_a_window_is_closed_rolls_out_nothing_more() {
    let (mut r, mut log) = with_things(&["a", "b"]);
    scheduled(&mut r, "j1", &["a", "b"], None, (120, JobEndBehavior::Cancel), Some(1), &mut log);
    r.close_window(&j("j1"), T0.saturating_add(10), &mut log).unwrap();
    run_until(&mut r, T0.saturating_add(120), &mut log);
    assert_eq!(r.usage().executions, 1);
    assert_eq!(status(&r, "j1", "a"), ExecutionStatus::Canceled);
}

#[test]
fn windows_need_room_for_each_listed_or_unlisted_execution() {
    let (mut r, mut log) = with_things(&["a", "b", "c"]);
    create(&mut r, "j1", &["a", "b", "c"], T0, &mut log).unwrap();
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    // Two QUEUED executions leave the lists: notify and notify-next each.
    assert_eq!(r.close_window(&j("j1"), T0, &mut Tight(3)), Err(Rejection::Throttled));
    r.close_window(&j("j1"), T0, &mut Tight(4)).unwrap();
    assert_eq!(r.open_window(&j("j1"), T0, &mut Tight(3)), Err(Rejection::Throttled));
    r.open_window(&j("j1"), T0, &mut Tight(4)).unwrap();
    check(&r);
}

#[test]
fn a_closed_window_pauses_a_paced_rollout() {
    let (mut r, mut log) = with_things(&["a", "b"]);
    job_with(
        &mut r,
        "j1",
        &["a", "b"],
        JobConfig { maximum_per_minute: per_minute(1), ..JobConfig::default() },
        T0,
        &mut log,
    );
    r.close_window(&j("j1"), T0.saturating_add(10), &mut log).unwrap();
    run_until(&mut r, T0.saturating_add(600), &mut log);
    assert_eq!(r.usage().executions, 1);
    assert_eq!(r.next_deadline(), None);
    // The next window goes on with the rollout.
    r.open_window(&j("j1"), T0.saturating_add(700), &mut log).unwrap();
    assert_eq!(r.usage().executions, 2);
}

#[test]
fn a_stale_timer_of_a_job_with_a_later_event_re_arms_without_events() {
    let (mut r, mut log) = with_things(&["a", "b"]);
    scheduled(&mut r, "j1", &["a", "b"], None, (120, JobEndBehavior::StopRollout), Some(1), &mut log);
    r.close_window(&j("j1"), T0.saturating_add(10), &mut log).unwrap();
    // The rollout timer at 60 s is stale (the window closed); the end at 120 s is next.
    assert!(r.advance(T0.saturating_add(60), usize::MAX, &mut Tight(0)).is_ok());
    assert_eq!(r.next_deadline(), Some(T0.saturating_add(120)));
}

#[test]
fn a_stale_job_timer_does_nothing_and_needs_no_room() {
    let (mut r, mut log) = with_things(&["a", "b"]);
    let config = JobConfig { maximum_per_minute: per_minute(1), ..JobConfig::default() };
    job_with(&mut r, "j1", &["a", "b"], config, T0, &mut log);
    r.cancel_job(&j("j1"), false, None, T0, &mut log).unwrap();
    // The rollout timer at 60 s is stale: it comes out without an event, even into a sink
    // with no room.
    assert!(r.advance(T0.saturating_add(60), usize::MAX, &mut Tight(0)).is_ok());
    assert_eq!(r.usage().executions, 1);
}

/// Daily windows 02:00-03:00 UTC (T0 is 2023-11-14 22:13:20 UTC).
fn nightly(minutes: u16) -> crate::config::MaintenanceWindows {
    use crate::config::{MaintenanceWindow, MaintenanceWindows};
    let w = MaintenanceWindow::new(crate::cron::Cron::parse("cron(0 2 * * ? *)").unwrap(), minutes).unwrap();
    MaintenanceWindows::new(&[w]).unwrap()
}

/// 2023-11-15 02:00:00 UTC, the first window after T0.
const OPENS: Timestamp = Timestamp(1_700_013_600);
const DAY: u64 = 86_400;

#[test]
fn maintenance_windows_open_and_close_as_time_passes() {
    let (mut r, mut log) = with_things(&["a", "b"]);
    let config = JobConfig { windows: Some(nightly(60)), ..JobConfig::default() };
    // AMBIG-28: created outside its windows, the job waits for one, without executions.
    job_with(&mut r, "j1", &["a", "b"], config, T0, &mut log);
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::Scheduled);
    assert!(pending_ids(&r, "a").is_empty());
    assert_eq!(r.next_deadline(), Some(OPENS));
    log.take();
    assert_eq!(run_until(&mut r, Timestamp(OPENS.0 - 1), &mut log), 0);
    run_until(&mut r, OPENS, &mut log);
    // SPEC §2: IN_PROGRESS inside the window, executions roll out.
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::InProgress);
    assert_eq!(pending_ids(&r, "a"), ["j1#1:QUEUED"]);
    assert_eq!(pending_ids(&r, "b"), ["j1#1:QUEUED"]);
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::InProgress), OPENS, &mut log).unwrap();
    let closes = OPENS.saturating_add(3_600);
    assert_eq!(r.next_deadline(), Some(closes));
    log.take();
    run_until(&mut r, closes, &mut log);
    // SPEC §2, AMBIG-13: SCHEDULED between windows; QUEUED executions leave the pending list,
    // the running one goes on.
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::Scheduled);
    assert!(pending_ids(&r, "b").is_empty());
    assert_eq!(pending_ids(&r, "a"), ["j1#1:IN_PROGRESS"]);
    assert_eq!(log.take(), ["notify b", "notify-next b"]);
    assert_eq!(r.next_deadline(), Some(OPENS.saturating_add(DAY)));
    // The next window lists b again.
    run_until(&mut r, OPENS.saturating_add(DAY), &mut log);
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::InProgress);
    assert_eq!(pending_ids(&r, "b"), ["j1#1:QUEUED"]);
    // A SNAPSHOT job completes once every execution is done, inside a window or not.
    for thing in ["a", "b"] {
        let now = OPENS.saturating_add(DAY);
        r.update_execution(&j("j1"), &t(thing), &update(ExecutionStatus::Succeeded), now, &mut log).unwrap();
    }
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::Completed);
    run_until(&mut r, OPENS.saturating_add(3 * DAY), &mut log);
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::Completed);
}

#[test]
fn one_advance_over_several_windows_opens_and_closes_each_in_order() {
    let (mut r, mut log) = with_things(&["a", "b", "c"]);
    let config =
        JobConfig { windows: Some(nightly(30)), maximum_per_minute: per_minute(1), ..JobConfig::default() };
    job_with(&mut r, "j1", &["a", "b", "c"], config, T0, &mut log);
    log.take();
    // Three days in one call: each window opens and closes in turn, so the job ends between
    // windows with its executions hidden. Everything `advance` applies is stamped with its
    // `now`, so the pace (one a minute, counted from that instant) lets one batch out.
    let later = OPENS.saturating_add(2 * DAY + 7_200);
    run_until(&mut r, later, &mut log);
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::Scheduled);
    let exists =
        |r: &Reg, thing: &str| r.describe_execution(&j("j1"), &t(thing), None, Plane::Control).is_ok();
    assert_eq!([exists(&r, "a"), exists(&r, "b"), exists(&r, "c")], [true, false, false]);
    assert!(pending_ids(&r, "a").is_empty());
    assert_eq!(r.next_deadline(), Some(OPENS.saturating_add(3 * DAY)));
    // Stepping a window at a time, each opening lets the next batch out.
    run_until(&mut r, OPENS.saturating_add(3 * DAY), &mut log);
    assert_eq!(pending_ids(&r, "a"), ["j1#1:QUEUED"]);
    assert_eq!(pending_ids(&r, "b"), ["j1#1:QUEUED"]);
}

/// A job's events arm its next one more than once (the rollout, then the event itself): the
/// copies go out with the timer they copy, so the work of each window stays the same however
/// many windows passed (stale copies piled up one more per event, and each day cost more).
#[test]
fn the_work_of_each_window_stays_the_same_as_windows_pass() {
    let (mut r, mut log) = with_things(&["a", "b"]);
    job_with(
        &mut r,
        "j1",
        &["a", "b"],
        JobConfig { windows: Some(nightly(60)), ..JobConfig::default() },
        T0,
        &mut log,
    );
    let work: Vec<usize> =
        (0..30).map(|d| run_until(&mut r, OPENS.saturating_add(d * DAY + 3_600), &mut log)).collect();
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::Scheduled);
    assert!(work.iter().skip(1).all(|w| *w == work[1]), "{work:?}");
}

#[test]
fn a_start_time_outside_the_windows_waits_for_the_next_one() {
    let (mut r, mut log) = with_things(&["a"]);
    // startTime 2023-11-15 01:00, an hour before the window.
    let start = Timestamp(OPENS.0 - 3_600);
    let schedule = Schedule::new(Some(start), None).unwrap();
    let config = JobConfig { schedule: Some(schedule), windows: Some(nightly(60)), ..JobConfig::default() };
    job_with(&mut r, "j1", &["a"], config, T0, &mut log);
    assert_eq!(r.next_deadline(), Some(start));
    run_until(&mut r, start, &mut log);
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::Scheduled);
    assert!(pending_ids(&r, "a").is_empty());
    assert_eq!(r.next_deadline(), Some(OPENS));
    run_until(&mut r, OPENS, &mut log);
    assert_eq!(pending_ids(&r, "a"), ["j1#1:QUEUED"]);
    // Created inside a window, a job without startTime starts at once.
    job_with(
        &mut r,
        "j2",
        &["a"],
        JobConfig { windows: Some(nightly(60)), ..JobConfig::default() },
        OPENS,
        &mut log,
    );
    assert_eq!(r.job(&j("j2")).unwrap().status(), JobStatus::InProgress);
    assert_eq!(pending_ids(&r, "a"), ["j1#1:QUEUED", "j2#1:QUEUED"]);
}

#[cfg(feature = "serde")]
#[test]
fn maintenance_windows_survive_a_snapshot() {
    let (mut r, mut log) = with_things(&["a"]);
    job_with(
        &mut r,
        "j1",
        &["a"],
        JobConfig { windows: Some(nightly(60)), ..JobConfig::default() },
        T0,
        &mut log,
    );
    let text = serde_json::to_string(&r.snapshot()).unwrap();
    let mut back: Reg =
        Registry::restore(Fixed, Policy::DEFAULT, &mut serde_json::Deserializer::from_str(&text)).unwrap();
    assert_eq!(back.next_deadline(), Some(OPENS));
    run_until(&mut back, OPENS, &mut log);
    assert_eq!(pending_ids(&back, "a"), ["j1#1:QUEUED"]);
    // Windows outside their bounds are refused, as every configuration value.
    let start = text.find("{\"start\"").unwrap();
    let end =
        text[start..].find("\"duration_minutes\":60}").unwrap() + start + "\"duration_minutes\":60}".len();
    let none = std::format!("{}null{}", &text[..start], &text[end..]);
    for bad in [text.replacen("\"duration_minutes\":60", "\"duration_minutes\":0", 1), none] {
        assert_ne!(bad, text);
        let got: Result<Reg, _> =
            Registry::restore(Fixed, Policy::DEFAULT, &mut serde_json::Deserializer::from_str(&bad));
        let err = got.unwrap_err().to_string();
        assert!(err.contains("maintenanceWindows"), "{err}");
    }
    // Only a job without windows or an exponential rate may lack `windowAt` and `ramp` (the
    // shape of format 4).
    let at = text.find(",\"windowAt\"").unwrap();
    let pairs = text.find(",\"pairs\"").unwrap();
    let format_4_shape = std::format!("{}{}", &text[..at], &text[pairs..]);
    let got: Result<Reg, _> =
        Registry::restore(Fixed, Policy::DEFAULT, &mut serde_json::Deserializer::from_str(&format_4_shape));
    let err = got.unwrap_err().to_string();
    assert!(err.contains("windowAt"), "{err}");
}

fn exponential(base: u16, factor_tenths: u8, notified: Option<u32>, succeeded: Option<u32>) -> JobConfig {
    use crate::config::{ExponentialRate, RateIncrease};
    let rate = ExponentialRate::new(base, factor_tenths, RateIncrease { notified, succeeded }).unwrap();
    JobConfig { exponential: Some(rate), ..JobConfig::default() }
}

/// The job's executions, whatever their status.
fn executions(r: &Reg, job: &str) -> usize {
    let p = r.job(&j(job)).unwrap().process_details();
    ExecutionStatus::ALL.iter().map(|s| p.count(*s) as usize).sum()
}

const EIGHT: [&str; 8] = ["a", "b", "c", "d", "e", "f", "g", "h"];

/// The job's executions after each of its first minutes.
fn per_minute_counts(config: JobConfig) -> Vec<usize> {
    let (mut r, mut log) = with_things(&EIGHT);
    job_with(&mut r, "j1", &EIGHT, config, T0, &mut log);
    let mut seen = std::vec![executions(&r, "j1")];
    for minute in 1..=4u64 {
        run_until(&mut r, T0.saturating_add(60 * minute), &mut log);
        seen.push(executions(&r, "j1"));
    }
    seen
}

/// AMBIG-29: base 1, factor 2, up each time another 2 things were notified: batches of 1, 1,
/// 2, 4 (the rate doubled at 2 and 4 notified); under `maximumPerMinute` 3 the same ramp
/// is capped.
#[test]
fn an_exponential_rollout_multiplies_its_rate_each_time_the_criterion_is_met() {
    assert_eq!(per_minute_counts(exponential(1, 20, Some(2), None)), [1, 2, 4, 8, 8]);
    let capped = JobConfig { maximum_per_minute: per_minute(3), ..exponential(1, 20, Some(2), None) };
    assert_eq!(per_minute_counts(capped), [1, 2, 4, 7, 8]);
    // A larger base starts larger; a factor of 1.1 on 1 needs several increases for a second thing.
    assert_eq!(per_minute_counts(exponential(3, 50, Some(100), None)), [3, 6, 8, 8, 8]);
    assert_eq!(per_minute_counts(exponential(1, 11, Some(1), None)), [1, 2, 3, 4, 5]);
}

/// AMBIG-29: by succeeded things, the rate goes up only as executions succeed; factor 1.5 is
/// kept to a thousandth (1, 1.5, 2.25: batches of 1, 1, 2).
#[test]
fn an_exponential_rollout_by_succeeded_things_waits_for_successes() {
    let (mut r, mut log) = with_things(&EIGHT);
    job_with(&mut r, "j1", &EIGHT, exponential(1, 15, None, Some(1)), T0, &mut log);
    assert_eq!(executions(&r, "j1"), 1);
    run_until(&mut r, T0.saturating_add(60), &mut log);
    // Nothing succeeded: still one a minute.
    assert_eq!(executions(&r, "j1"), 2);
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::Succeeded), T0, &mut log).unwrap();
    run_until(&mut r, T0.saturating_add(120), &mut log);
    assert_eq!(executions(&r, "j1"), 3);
    r.update_execution(&j("j1"), &t("b"), &update(ExecutionStatus::Succeeded), T0, &mut log).unwrap();
    run_until(&mut r, T0.saturating_add(180), &mut log);
    assert_eq!(executions(&r, "j1"), 5);
    // The ramp survives a snapshot.
    #[cfg(feature = "serde")]
    {
        let text = serde_json::to_string(&r.snapshot()).unwrap();
        let mut back: Reg =
            Registry::restore(Fixed, Policy::DEFAULT, &mut serde_json::Deserializer::from_str(&text))
                .unwrap();
        run_until(&mut back, T0.saturating_add(240), &mut log);
        run_until(&mut r, T0.saturating_add(240), &mut log);
        assert_eq!(executions(&back, "j1"), executions(&r, "j1"));
        assert_eq!(executions(&r, "j1"), 7);
    }
}

/// Timers hold `u32` seconds: a schedule end at the last time the registry accepts is armed,
/// reported and applied at that time (a later one is refused: `a_schedule_past_the_last_time_is_refused`).
#[test]
fn a_schedule_end_at_the_last_time_is_applied() {
    let (mut r, mut log) = with_things(&["a"]);
    let schedule = Schedule::new(None, Some((LATEST_TIME, JobEndBehavior::Cancel))).unwrap();
    let config = JobConfig { schedule: Some(schedule), ..JobConfig::default() };
    let id = j("j1");
    let job = NewJob { config, ..NewJob::new(&id, TargetSelection::Continuous) };
    r.create_job(&job, &[t("a")], T0, &mut log).unwrap();
    assert_eq!(r.next_deadline(), Some(LATEST_TIME));
    assert_eq!(run_until(&mut r, Timestamp(LATEST_TIME.secs() - 1), &mut log), 0);
    assert_eq!(r.job(&id).unwrap().status(), JobStatus::InProgress);
    run_until(&mut r, LATEST_TIME, &mut log);
    assert_eq!(r.job(&id).unwrap().status(), JobStatus::Canceled);
    assert_eq!(status(&r, "j1", "a"), ExecutionStatus::Canceled);
}
