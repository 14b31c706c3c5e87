//! Regressions found by the reference model (tests/model).

use super::*;
use crate::config::{RetryConfig, RetryCriterion, Schedule};
use crate::status::JobEndBehavior;
use crate::status::RetryableFailureType;

#[test]
fn d1_the_requests_own_values_come_before_the_id_check() {
    // A `JobConfig` is valid by construction: a bad value is refused where the request is read,
    // before the registry (and its id check) sees the request at all.
    let bad = crate::config::RolloutRate::new(0);
    assert_eq!(bad, Err(crate::field::ConfigError::Rollout));
    assert!(matches!(bad.map_err(Rejection::from), Err(Rejection::InvalidField(_))));
}

#[test]
fn d2_a_continuous_job_completes_when_its_end_passes_with_everything_terminal() {
    let (mut r, mut log) = with_things(&["a"]);
    let id = j("c1");
    let end = T0.saturating_add(3600);
    let schedule = Schedule::new(None, Some((end, JobEndBehavior::StopRollout))).unwrap();
    let job = NewJob {
        config: JobConfig { schedule: Some(schedule), ..JobConfig::default() },
        ..NewJob::new(&id, TargetSelection::Continuous)
    };
    r.create_job(&job, &[t("a")], T0, &mut log).unwrap();
    r.update_execution(&id, &t("a"), &update(ExecutionStatus::Succeeded), T0, &mut log).unwrap();
    assert_eq!(r.job(&id).unwrap().status(), JobStatus::InProgress);
    r.advance(end, usize::MAX, &mut log).unwrap();
    let job = r.job(&id).unwrap();
    assert_eq!((job.status(), job.completed_at()), (JobStatus::Completed, Some(end)));
}

#[test]
fn d3_a_progress_report_keeps_the_head() {
    let (mut r, mut log) = with_things(&["a"]);
    create(&mut r, "j0", &["a"], T0, &mut log).unwrap();
    create(&mut r, "j1", &["a"], T0, &mut log).unwrap();
    r.update_execution(&j("j0"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    log.take();
    r.update_execution(&j("j0"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    assert_eq!(log.take(), Vec::<String>::new());
    assert_eq!(r.next_pending(&t("a")).unwrap().unwrap().job_id(), &j("j0"));
    check(&r);
}

#[test]
fn d4_targets_count_distinct_things_once() {
    let (mut r, mut log) = with_things(&["a", "b"]);
    let id = j("c1");
    r.create_job(&NewJob::new(&id, TargetSelection::Continuous), &[t("a")], T0, &mut log).unwrap();
    r.update_execution(&id, &t("a"), &update(ExecutionStatus::Succeeded), T0, &mut log).unwrap();
    r.delete_execution(&id, &t("a"), n(1), false, T0, &mut log).unwrap();
    r.add_targets(&id, &[t("a")], T0, &mut log).unwrap();
    assert_eq!(r.job(&id).unwrap().targets(), 1, "a re-associated thing counts once");
    r.add_members(&id, &[t("b")], T0, &mut log).unwrap();
    assert_eq!(r.job(&id).unwrap().targets(), 1, "a group member is not a target");
    r.update_execution(&id, &t("b"), &update(ExecutionStatus::Succeeded), T0, &mut log).unwrap();
    r.add_targets(&id, &[t("b")], T0, &mut log).unwrap();
    assert_eq!(r.job(&id).unwrap().targets(), 2, "associating it later makes it one");
    check(&r);
}

#[test]
fn d5_remove_thing_stays_within_the_room_it_reserved() {
    let (mut r, mut log) = with_things(&["t1"]);
    create(&mut r, "j1", &["t1"], T0, &mut log).unwrap();
    create(&mut r, "j2", &["t1"], T0, &mut log).unwrap();
    r.delete_job(&j("j1"), true, T0, &mut log).unwrap();
    // Tight panics if more than the announced room is pushed.
    r.remove_thing(&t("t1"), T0, &mut Tight(4)).unwrap();
    // The execution of the job being deleted is left to the deletion.
    assert_eq!(
        r.describe_execution(&j("j1"), &t("t1"), None, Plane::Control).unwrap().status(),
        ExecutionStatus::Queued
    );
    check(&r);
}

#[test]
fn d10_a_retried_failure_notifies_its_thing_once() {
    // SPEC 7.2, R15: the pending list of "a" changes once in the operation (attempt 1 leaves,
    // attempt 2 joins), so one `notify` and one `notify-next`, whose payloads render the list
    // as the operation left it.
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["a"]);
    let c = |failure| RetryCriterion { failure, retries: 1 };
    let config = JobConfig {
        retry: Some(
            RetryConfig::new(&[c(RetryableFailureType::Failed), c(RetryableFailureType::TimedOut)]).unwrap(),
        ),
        in_progress_timeout_minutes: mins(1),
        ..JobConfig::default()
    };
    let id = j("j1");
    r.create_job(&NewJob { config, ..NewJob::new(&id, TargetSelection::Snapshot) }, &[t("a")], T0, &mut log)
        .unwrap();
    let notices = |log: &Log| log.0.iter().filter(|e| e.starts_with("notify")).cloned().collect::<Vec<_>>();
    let once = std::vec!["notify a".to_string(), "notify-next a".to_string()];
    log.0.clear();
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::Failed), T0, &mut log).unwrap();
    assert_eq!(r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap().number(), n(2));
    assert_eq!(notices(&log), once, "{:?}", log.0);
    // The same for a timeout that is retried (inside `advance`).
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    log.0.clear();
    r.advance(T0.saturating_add(60), usize::MAX, &mut log).unwrap();
    assert_eq!(r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap().number(), n(3));
    assert_eq!(notices(&log), once, "{:?}", log.0);
    check(&r);
}
