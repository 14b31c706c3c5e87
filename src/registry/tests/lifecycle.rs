//! Creating jobs, starting and updating executions, cancelling, numbering, job configuration updates.

use super::*;

#[test]
fn create_job_queues_one_execution_per_distinct_target() {
    let (mut r, mut log) = with_things(&["a", "b"]);
    create(&mut r, "job1", &["a", "b", "a"], T0, &mut log).unwrap();
    check(&r);
    let job = r.job(&j("job1")).unwrap();
    assert_eq!(job.status(), JobStatus::InProgress);
    assert_eq!(job.process_details().count(ExecutionStatus::Queued), 2);
    assert_eq!(job.targets(), 2);
    let e = r.describe_execution(&j("job1"), &t("a"), None, Plane::Control).unwrap();
    assert_eq!((e.number(), e.version(), e.status()), (n(1), v(1), ExecutionStatus::Queued));
    assert_eq!((e.queued_at(), e.started_at(), e.last_updated_at()), (T0, None, T0));
    assert_eq!(log.take(), ["notify a", "notify-next a", "notify b", "notify-next b"]);
}

#[test]
fn create_job_rejections() {
    let (mut r, mut log) = with_things(&["a"]);
    create(&mut r, "job1", &["a"], T0, &mut log).unwrap();
    assert_eq!(create(&mut r, "job1", &["a"], T0, &mut log), Err(Rejection::AlreadyExists(Resource::Job)));
    assert_eq!(create(&mut r, "job2", &["nobody"], T0, &mut log), Err(Rejection::NotFound(Resource::Thing)));
    // No targets: refused first (SPEC lim-targets), before the used id; more than 100 too.
    assert_eq!(
        create(&mut r, "job1", &[], T0, &mut log),
        Err(Rejection::InvalidRequest(InvalidRequest::NoTargets))
    );
    let many: [ThingName; 101] = core::array::from_fn(|_| t("a"));
    let (many_id, empty_id) = (j("many"), j("empty"));
    let job = NewJob::new(&many_id, TargetSelection::Snapshot);
    assert_eq!(r.create_job(&job, &many, T0, &mut log), Err(Rejection::LimitExceeded(Limit::TargetsPerJob)));
    assert!(r.create_job(&job, &many[..100], T0, &mut log).is_ok(), "100 ARNs of one thing");
    // No things (an empty target group, counted by the host): a SNAPSHOT job completes at once.
    let job = NewJob::new(&empty_id, TargetSelection::Snapshot);
    r.create_job_with_members(&job, &[], &[], T0, &mut log).unwrap();
    assert_eq!(r.job(&j("empty")).unwrap().status(), JobStatus::Completed);
    assert!(r.job(&j("job2")).is_err(), "refused jobs are not created");
    check(&r);
}

#[test]
fn job_id_is_reusable_only_after_deletion_completes() {
    let (mut r, mut log) = with_things(&["a"]);
    create(&mut r, "job1", &["a"], T0, &mut log).unwrap();
    r.delete_job(&j("job1"), true, T0, &mut log).unwrap();
    assert_eq!(r.job(&j("job1")).unwrap().status(), JobStatus::DeletionInProgress);
    assert_eq!(create(&mut r, "job1", &["a"], T0, &mut log), Err(Rejection::AlreadyExists(Resource::Job)));
    assert_eq!(r.advance(T0, usize::MAX, &mut log).unwrap().work, 1);
    assert_eq!(r.job(&j("job1")).unwrap_err(), Rejection::NotFound(Resource::Job));
    create(&mut r, "job1", &["a"], T0, &mut log).unwrap();
    check(&r);
}

#[test]
fn pending_list_is_in_progress_first_then_queue_order_with_ties() {
    let (mut r, mut log) = with_things(&["a"]);
    // Same timestamp for all three: creation order breaks the tie.
    for id in ["j1", "j2", "j3"] {
        create(&mut r, id, &["a"], T0, &mut log).unwrap();
    }
    r.update_execution(&j("j3"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    check(&r);
    assert_eq!(pending_ids(&r, "a"), ["j3#1:IN_PROGRESS", "j1#1:QUEUED", "j2#1:QUEUED"]);
    assert_eq!(r.next_pending(&t("a")).unwrap().unwrap().job_id(), &j("j3"));
    // SPEC 7.2: IN_PROGRESS ones too are in queue order, whatever order they started in.
    r.update_execution(&j("j2"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    assert_eq!(pending_ids(&r, "a"), ["j2#1:IN_PROGRESS", "j3#1:IN_PROGRESS", "j1#1:QUEUED"]);
    // A progress report keeps the order and sends nothing (SPEC 7.2, T3).
    log.take();
    r.update_execution(&j("j2"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    assert_eq!(pending_ids(&r, "a"), ["j2#1:IN_PROGRESS", "j3#1:IN_PROGRESS", "j1#1:QUEUED"]);
    assert_eq!(log.take(), Vec::<String>::new());
    check(&r);
}

#[test]
fn start_next_starts_the_head_then_resumes_it() {
    let (mut r, mut log) = with_things(&["a"]);
    assert_eq!(r.start_next(&t("a"), None, None, T0, &mut log), Ok(None));
    create(&mut r, "j1", &["a"], T0, &mut log).unwrap();
    create(&mut r, "j2", &["a"], T0, &mut log).unwrap();
    log.take();
    let pairs = [("step", "download")];
    let d = StatusDetails::new(&pairs).unwrap();
    let later = T0.saturating_add(5);
    let h = r.start_next(&t("a"), Some(&d), Some(StepTimeout::Minutes(3)), later, &mut log).unwrap().unwrap();
    let e = r.execution(h).unwrap();
    assert_eq!((e.job_id().as_str(), e.status(), e.version()), ("j1", ExecutionStatus::InProgress, v(2)));
    assert_eq!(e.started_at(), Some(later));
    assert_eq!(e.status_details().collect::<Vec<_>>(), [("step", "download")]);
    // A step timer alone (no in-progress timeout) still runs: 3 minutes from the start.
    assert_eq!(e.deadline(), Some(later.saturating_add(180)));
    // SPEC 7.2 worked example: QUEUED → IN_PROGRESS of the head changes neither membership nor head.
    assert_eq!(log.take(), Vec::<String>::new());
    // SPEC T3: again → the same execution, unchanged.
    let again = r.start_next(&t("a"), None, None, later.saturating_add(1), &mut log).unwrap().unwrap();
    assert_eq!(again, h);
    assert_eq!(r.execution(h).unwrap().version(), v(2));
    check(&r);
}

#[test]
fn update_versions_terminal_lock_and_details() {
    let (mut r, mut log) = with_things(&["a"]);
    create(&mut r, "j1", &["a"], T0, &mut log).unwrap();
    let p1 = [("a", "1"), ("b", "2")];
    let mut u = update(ExecutionStatus::InProgress);
    let d1 = StatusDetails::new(&p1).unwrap();
    u.status_details = Some(&d1);
    u.expected_version = Some(v(1));
    assert_eq!(
        r.update_execution(&j("j1"), &t("a"), &u, T0, &mut log),
        Ok(ExecutionState { status: ExecutionStatus::InProgress, version: v(2) })
    );
    // A stale expectedVersion: refused with the current state; nothing changes.
    let stale = Update { expected_version: Some(v(1)), ..update(ExecutionStatus::Succeeded) };
    assert_eq!(
        r.update_execution(&j("j1"), &t("a"), &stale, T0, &mut log),
        Err(Rejection::VersionMismatch(ExecutionState {
            status: ExecutionStatus::InProgress,
            version: v(2)
        }))
    );
    // R14: a write with statusDetails replaces the map.
    let p2 = [("c", "3")];
    let u2 = Update {
        status_details: Some(&StatusDetails::new(&p2).unwrap()),
        ..update(ExecutionStatus::InProgress)
    };
    r.update_execution(&j("j1"), &t("a"), &u2, T0, &mut log).unwrap();
    let d: Vec<_> =
        r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap().status_details().collect();
    assert_eq!(d, [("c", "3")]);
    // A write without statusDetails leaves them.
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::Succeeded), T0, &mut log).unwrap();
    let e = r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap();
    assert_eq!((e.status(), e.version()), (ExecutionStatus::Succeeded, v(4)));
    assert_eq!(e.status_details().collect::<Vec<_>>(), [("c", "3")]);
    // SPEC T6: terminal is final.
    let again = r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log);
    assert!(matches!(again, Err(Rejection::InvalidStateTransition { .. })));
    // SPEC R11: the data plane no longer describes it; the control plane does.
    assert!(matches!(
        r.describe_execution(&j("j1"), &t("a"), None, Plane::Data),
        Err(Rejection::TerminalState(ExecutionState { status: ExecutionStatus::Succeeded, .. }))
    ));
    check(&r);
}

#[test]
fn merge_policy_merges_and_still_bounds_pairs() {
    let mut r = reg_with(Policy { details_write: DetailsWrite::Merge, ..Policy::DEFAULT });
    let mut log = Log::default();
    things(&mut r, &["a"]);
    create(&mut r, "j1", &["a"], T0, &mut log).unwrap();
    let p1 = [("a", "1"), ("b", "2")];
    let p2 = [("b", "3"), ("c", "4")];
    for p in [&p1[..], &p2[..]] {
        let u = Update {
            status_details: Some(&StatusDetails::new(p).unwrap()),
            ..update(ExecutionStatus::InProgress)
        };
        r.update_execution(&j("j1"), &t("a"), &u, T0, &mut log).unwrap();
    }
    let d: Vec<_> =
        r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap().status_details().collect();
    assert_eq!(d, [("a", "1"), ("b", "3"), ("c", "4")]);
    let keys: Vec<String> = (0..9).map(|i| std::format!("k{i}")).collect();
    let nine: Vec<(&str, &str)> = keys.iter().map(|k| (k.as_str(), "v")).collect();
    let u = Update {
        status_details: Some(&StatusDetails::new(&nine).unwrap()),
        ..update(ExecutionStatus::InProgress)
    };
    let before = r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap().version();
    assert!(matches!(
        r.update_execution(&j("j1"), &t("a"), &u, T0, &mut log),
        Err(Rejection::InvalidField(_))
    ));
    assert_eq!(r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap().version(), before);
}

#[test]
fn snapshot_job_completes_when_every_execution_is_terminal() {
    let (mut r, mut log) = with_things(&["a", "b"]);
    create(&mut r, "j1", &["a", "b"], T0, &mut log).unwrap();
    log.take();
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::Succeeded), T0, &mut log).unwrap();
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::InProgress);
    assert_eq!(log.take(), ["execution j1 a #1 succeeded", "notify a", "notify-next a"]);
    let done = T0.saturating_add(60);
    r.update_execution(&j("j1"), &t("b"), &update(ExecutionStatus::Rejected), done, &mut log).unwrap();
    let job = r.job(&j("j1")).unwrap();
    assert_eq!((job.status(), job.completed_at()), (JobStatus::Completed, Some(done)));
    let p = job.process_details();
    assert_eq!(
        (p.count(ExecutionStatus::Succeeded), p.count(ExecutionStatus::Rejected), p.pending()),
        (1, 1, 0)
    );
    assert_eq!(log.take(), ["execution j1 b #1 rejected", "job j1 completed", "notify b", "notify-next b"]);
    check(&r);
}

#[test]
fn cancel_job_without_and_with_force() {
    let (mut r, mut log) = with_things(&["a", "b"]);
    create(&mut r, "j1", &["a", "b"], T0, &mut log).unwrap();
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    log.take();
    r.cancel_job(&j("j1"), false, None, T0, &mut log).unwrap();
    check(&r);
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::Canceled);
    assert_eq!(
        r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap().status(),
        ExecutionStatus::InProgress
    );
    let b = r.describe_execution(&j("j1"), &t("b"), None, Plane::Control).unwrap();
    assert_eq!((b.status(), b.version(), b.force_canceled()), (ExecutionStatus::Canceled, v(2), false));
    assert_eq!(
        log.take(),
        [
            "job j1 cancellation_in_progress",
            "execution j1 b #1 canceled",
            "notify b",
            "notify-next b",
            "job j1 canceled"
        ]
    );
    // R3: a CANCELED job refuses CancelJob, even with force.
    assert_eq!(
        r.cancel_job(&j("j1"), true, None, T0, &mut log),
        Err(Rejection::InvalidRequest(InvalidRequest::CancelJobInStatus(JobStatus::Canceled)))
    );
    // The device may still finish the running execution.
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::Succeeded), T0, &mut log).unwrap();

    create(&mut r, "j2", &["a"], T0, &mut log).unwrap();
    r.update_execution(&j("j2"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    let reason = ReasonCode::new("OPERATOR").unwrap();
    r.cancel_job(&j("j2"), true, Some(&reason), T0, &mut log).unwrap();
    let job = r.job(&j("j2")).unwrap();
    assert!(job.force_canceled());
    assert_eq!(job.reason_code(), Some(&reason));
    let a = r.describe_execution(&j("j2"), &t("a"), None, Plane::Control).unwrap();
    assert_eq!((a.status(), a.force_canceled()), (ExecutionStatus::Canceled, true));
    // SPEC T9: after a forced cancel the device can no longer update it.
    let e = r.update_execution(&j("j2"), &t("a"), &update(ExecutionStatus::Succeeded), T0, &mut log);
    assert!(matches!(e, Err(Rejection::InvalidStateTransition { .. })));
    check(&r);
}

#[test]
fn force_cancel_escalation_knob() {
    let mut r = reg_with(Policy { force_cancel_escalates: true, ..Policy::DEFAULT });
    let mut log = Log::default();
    things(&mut r, &["a"]);
    create(&mut r, "j1", &["a"], T0, &mut log).unwrap();
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    r.cancel_job(&j("j1"), false, None, T0, &mut log).unwrap();
    r.cancel_job(&j("j1"), true, None, T0, &mut log).unwrap();
    assert!(r.job(&j("j1")).unwrap().force_canceled());
    assert_eq!(
        r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap().status(),
        ExecutionStatus::Canceled
    );
    check(&r);
}

#[test]
fn cancel_execution_rules_and_versions() {
    let (mut r, mut log) = with_things(&["a"]);
    create(&mut r, "j1", &["a"], T0, &mut log).unwrap();
    assert_eq!(
        r.cancel_execution(&j("j1"), &t("a"), false, Some(v(9)), None, T0, &mut log),
        Err(Rejection::VersionMismatch(ExecutionState { status: ExecutionStatus::Queued, version: v(1) }))
    );
    let pairs = [("why", "operator")];
    let d = StatusDetails::new(&pairs).unwrap();
    assert_eq!(
        r.cancel_execution(&j("j1"), &t("a"), false, Some(v(1)), Some(&d), T0, &mut log),
        Ok(ExecutionState { status: ExecutionStatus::Canceled, version: v(2) })
    );
    let e = r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap();
    assert_eq!(e.status_details().collect::<Vec<_>>(), [("why", "operator")]);
    // R16: never overwrite a terminal status.
    assert!(matches!(
        r.cancel_execution(&j("j1"), &t("a"), true, None, None, T0, &mut log),
        Err(Rejection::InvalidStateTransition { operation: crate::Operation::CancelJobExecution, .. })
    ));
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::Completed);
    check(&r);
}

#[test]
fn execution_numbers_are_reused_after_deletion_by_default() {
    let mut r = reg_with(Policy { ..Policy::DEFAULT });
    let mut log = Log::default();
    things(&mut r, &["a"]);
    let id = j("c1");
    r.create_job(&NewJob::new(&id, TargetSelection::Continuous), &[t("a")], T0, &mut log).unwrap();
    let first = r.describe_execution(&id, &t("a"), None, Plane::Control).unwrap().handle();
    r.update_execution(&id, &t("a"), &update(ExecutionStatus::Failed), T0, &mut log).unwrap();
    // A re-execution takes the next number.
    assert_eq!(r.add_targets(&id, &[t("a")], T0, &mut log), Ok(1));
    assert_eq!(r.describe_execution(&id, &t("a"), None, Plane::Control).unwrap().number(), n(2));
    assert_eq!(
        r.describe_execution(&id, &t("a"), Some(n(1)), Plane::Control).unwrap().status(),
        ExecutionStatus::Failed
    );
    // Delete the newest (QUEUED needs force, R2) and queue again: number 2 is reused.
    assert!(matches!(
        r.delete_execution(&id, &t("a"), n(2), false, T0, &mut log),
        Err(Rejection::InvalidStateTransition { .. })
    ));
    let second = r.describe_execution(&id, &t("a"), Some(n(2)), Plane::Control).unwrap().handle();
    r.delete_execution(&id, &t("a"), n(2), true, T0, &mut log).unwrap();
    assert_eq!(
        r.describe_execution(&id, &t("a"), Some(n(2)), Plane::Control).unwrap_err(),
        Rejection::NotFound(Resource::Execution)
    );
    assert_eq!(r.add_targets(&id, &[t("a")], T0, &mut log), Ok(1));
    let reused = r.describe_execution(&id, &t("a"), None, Plane::Control).unwrap();
    assert_eq!((reused.number(), reused.version()), (n(2), v(1)));
    // The old handle does not alias the new execution with the same number (and likely slot).
    assert!(r.execution(second).is_none());
    assert!(r.execution(first).is_some());
    // Deleting every execution forgets the pair: numbering starts at 1 again.
    r.delete_execution(&id, &t("a"), n(2), true, T0, &mut log).unwrap();
    r.delete_execution(&id, &t("a"), n(1), false, T0, &mut log).unwrap();
    assert!(r.execution(first).is_none());
    r.add_targets(&id, &[t("a")], T0, &mut log).unwrap();
    assert_eq!(r.describe_execution(&id, &t("a"), None, Plane::Control).unwrap().number(), n(1));
    check(&r);
}

#[test]
fn monotonic_numbering_never_reuses() {
    let mut r = reg_with(Policy { numbering: Numbering::Monotonic, ..Policy::DEFAULT });
    let mut log = Log::default();
    things(&mut r, &["a"]);
    let id = j("c1");
    r.create_job(&NewJob::new(&id, TargetSelection::Continuous), &[t("a")], T0, &mut log).unwrap();
    r.delete_execution(&id, &t("a"), n(1), true, T0, &mut log).unwrap();
    r.add_targets(&id, &[t("a")], T0, &mut log).unwrap();
    assert_eq!(r.describe_execution(&id, &t("a"), None, Plane::Control).unwrap().number(), n(2));
    r.update_execution(&id, &t("a"), &update(ExecutionStatus::Failed), T0, &mut log).unwrap();
    r.add_targets(&id, &[t("a")], T0, &mut log).unwrap();
    r.delete_execution(&id, &t("a"), n(3), true, T0, &mut log).unwrap();
    r.add_targets(&id, &[t("a")], T0, &mut log).unwrap();
    assert_eq!(r.describe_execution(&id, &t("a"), None, Plane::Control).unwrap().number(), n(4));
    check(&r);
    // The remembered pair goes with the job's deletion.
    r.delete_job(&id, true, T0, &mut log).unwrap();
    r.advance(T0, usize::MAX, &mut log).unwrap();
    assert_eq!(r.usage().pairs, 0);
}

#[test]
fn a_continuous_job_on_an_empty_group_waits_for_members() {
    let (mut r, mut log) = with_things(&["a"]);
    let id = j("c1");
    r.create_job_with_members(&NewJob::new(&id, TargetSelection::Continuous), &[], &[], T0, &mut log)
        .unwrap();
    assert_eq!(r.job(&id).unwrap().status(), JobStatus::InProgress);
    assert_eq!(r.add_members(&id, &[t("a")], T0, &mut log), Ok(1));
    assert_eq!(pending_ids(&r, "a"), ["c1#1:QUEUED"]);
    check(&r);
}

#[test]
fn update_job_config_applies_to_executions_not_yet_started() {
    let (mut r, mut log) = with_things(&["a", "b"]);
    let id = j("j1");
    let config = JobConfig { in_progress_timeout_minutes: mins(10), ..JobConfig::default() };
    job_with(&mut r, "j1", &["a", "b"], config, T0, &mut log);
    r.update_execution(&id, &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    let shorter = JobConfig { in_progress_timeout_minutes: mins(1), ..JobConfig::default() };
    r.update_job_config(&id, shorter, T0).unwrap();
    r.update_execution(&id, &t("b"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    // AMBIG-15: a's timer was frozen at 10 minutes; b started under the new 1 minute.
    let deadline =
        |thing: &str| r.describe_execution(&id, &t(thing), None, Plane::Control).unwrap().deadline();
    assert_eq!((deadline("a"), deadline("b")), (Some(T0.saturating_add(600)), Some(T0.saturating_add(60))));
    assert_eq!(r.update_job_config(&j("nope"), shorter, T0), Err(Rejection::NotFound(Resource::Job)));
    // The schedule is not an UpdateJob member: a given one is ignored, the job's stays.
    let schedule = crate::config::Schedule::new(Some(T0.saturating_add(99)), None).unwrap();
    r.update_job_config(&id, JobConfig { schedule: Some(schedule), ..shorter }, T0).unwrap();
    assert_eq!(r.job(&id).unwrap().config().schedule, None);
}
