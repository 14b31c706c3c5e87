//! Deletion, removed things, targets, listings, full tables and sinks, notification sequences, time going back.

use super::*;
use crate::config::{RetryConfig, RetryCriterion};
use crate::status::RetryableFailureType;
use crate::{ErrorCode, Field, FieldError, Violation};

#[test]
fn delete_job_limit_of_ten_and_bounded_steps() {
    let mut r: Registry<Fixed<16, 4, 64, 4, 256>> = Registry::new(Fixed, Policy::DEFAULT);
    let mut log = Log::default();
    r.add_thing(&t("a")).unwrap();
    r.add_thing(&t("b")).unwrap();
    for i in 0..11 {
        let id = j(&std::format!("j{i}"));
        r.create_job(&NewJob::new(&id, TargetSelection::Snapshot), &[t("a"), t("b")], T0, &mut log).unwrap();
    }
    // Without force an IN_PROGRESS job is refused (409), with force accepted.
    assert!(matches!(
        r.delete_job(&j("j0"), false, T0, &mut log),
        Err(Rejection::InvalidStateTransition { .. })
    ));
    for i in 0..10 {
        r.delete_job(&j(&std::format!("j{i}")), true, T0, &mut log).unwrap();
    }
    assert_eq!(r.jobs_deleting(), 10);
    assert_eq!(
        r.delete_job(&j("j10"), true, T0, &mut log),
        Err(Rejection::LimitExceeded(Limit::JobsDeletionInProgress))
    );
    assert_eq!(
        r.job(&j("j10")).unwrap().status(),
        JobStatus::InProgress,
        "the refused delete changed nothing"
    );
    // R4: deleting again → 409.
    assert!(matches!(
        r.delete_job(&j("j0"), true, T0, &mut log),
        Err(Rejection::InvalidStateTransition { .. })
    ));
    // Devices lose access at once; the control plane still describes.
    assert_eq!(pending_ids(&r, "a"), ["j10#1:QUEUED"]);
    assert_eq!(
        r.describe_execution(&j("j0"), &t("a"), None, Plane::Data).unwrap_err(),
        Rejection::NotFound(Resource::Execution)
    );
    assert!(r.describe_execution(&j("j0"), &t("a"), None, Plane::Control).is_ok());
    let e = r.update_execution(&j("j0"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log);
    assert_eq!(e, Err(Rejection::NotFound(Resource::Execution)));
    check(&r);
    // Bounded steps: 3 executions per call.
    let mut calls = 0;
    while r.jobs_deleting() > 0 {
        let removed = r.advance(T0, 3, &mut log).unwrap().work;
        assert!(removed <= 3);
        calls += 1;
        check(&r);
        assert!(calls < 100);
    }
    assert_eq!(r.usage().executions, 2);
    r.delete_job(&j("j10"), true, T0, &mut log).unwrap();
    assert_eq!(r.advance(T0, usize::MAX, &mut log).unwrap().work, 2);
    assert_eq!((r.usage().jobs, r.usage().executions, r.usage().pairs), (0, 0, 0));
    assert!(log.0.iter().any(|e| e == "job j10 deleted"));
}

#[test]
fn remove_thing_removes_its_pending_executions() {
    let (mut r, mut log) = with_things(&["a", "b"]);
    create(&mut r, "j1", &["a", "b"], T0, &mut log).unwrap();
    create(&mut r, "j2", &["a"], T0, &mut log).unwrap();
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    log.take();
    r.remove_thing(&t("a"), T0, &mut log).unwrap();
    check(&r);
    assert!(r.thing(&t("a")).is_none());
    // R10: IN_PROGRESS → REMOVED too; j2 had only a, so it completes.
    assert_eq!(
        r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap().status(),
        ExecutionStatus::Removed
    );
    assert_eq!(r.job(&j("j2")).unwrap().status(), JobStatus::Completed);
    assert_eq!(
        log.take(),
        [
            "execution j1 a #1 removed",
            "execution j2 a #1 removed",
            "job j2 completed",
            "notify a",
            "notify-next a"
        ]
    );
    // Executions of a removed thing stay listable; a new job cannot target it.
    let mut listed = 0;
    r.list_for_thing(&t("a"), None, None, 10, |_| listed += 1).unwrap();
    assert_eq!(listed, 2);
    assert_eq!(create(&mut r, "j3", &["a"], T0, &mut log), Err(Rejection::NotFound(Resource::Thing)));
    assert_eq!(r.remove_thing(&t("a"), T0, &mut log), Err(Rejection::NotFound(Resource::Thing)));
    r.add_thing(&t("a")).unwrap();
    create(&mut r, "j3", &["a"], T0, &mut log).unwrap();
    check(&r);
}

#[test]
fn remove_in_progress_knob_keeps_running_executions() {
    let mut r = reg_with(Policy { remove_in_progress: false, ..Policy::DEFAULT });
    let mut log = Log::default();
    things(&mut r, &["a"]);
    let id = j("c1");
    r.create_job(&NewJob::new(&id, TargetSelection::Continuous), &[t("a")], T0, &mut log).unwrap();
    r.update_execution(&id, &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    r.remove_target(&id, &t("a"), T0, &mut log).unwrap();
    assert_eq!(
        r.describe_execution(&id, &t("a"), None, Plane::Control).unwrap().status(),
        ExecutionStatus::InProgress
    );
    check(&r);
}

#[test]
fn associate_targets_needs_a_continuous_in_progress_job() {
    let (mut r, mut log) = with_things(&["a", "b"]);
    create(&mut r, "s1", &["a"], T0, &mut log).unwrap();
    assert_eq!(
        r.add_targets(&j("s1"), &[t("b")], T0, &mut log),
        Err(Rejection::InvalidRequest(InvalidRequest::TargetsNeedContinuousJob))
    );
    let id = j("c1");
    r.create_job(&NewJob::new(&id, TargetSelection::Continuous), &[t("a")], T0, &mut log).unwrap();
    // A thing with a pending execution gets no second one.
    assert_eq!(r.add_targets(&id, &[t("a"), t("b"), t("b")], T0, &mut log), Ok(1));
    assert_eq!(r.job(&id).unwrap().targets(), 2);
    // Group members joining do not count toward the job's targets.
    things(&mut r, &["c"]);
    assert_eq!(r.add_members(&id, &[t("c")], T0, &mut log), Ok(1));
    assert_eq!(r.job(&id).unwrap().targets(), 2);
    // The things it counts are its targets; a member, another job's thing, an unknown job or
    // thing is none.
    assert!(r.is_target(&id, &t("a")) && r.is_target(&id, &t("b")));
    assert!(!r.is_target(&id, &t("c")));
    assert!(r.is_target(&j("s1"), &t("a")) && !r.is_target(&j("s1"), &t("b")));
    assert!(!r.is_target(&j("nope"), &t("a")) && !r.is_target(&id, &t("nope")));
    r.update_execution(&id, &t("c"), &update(ExecutionStatus::Succeeded), T0, &mut log).unwrap();
    // A CONTINUOUS job without an end time never completes.
    r.update_execution(&id, &t("a"), &update(ExecutionStatus::Succeeded), T0, &mut log).unwrap();
    r.update_execution(&id, &t("b"), &update(ExecutionStatus::Succeeded), T0, &mut log).unwrap();
    assert_eq!(r.job(&id).unwrap().status(), JobStatus::InProgress);
    check(&r);
}

#[test]
fn pending_cap_and_unknown_things() {
    let mut r: Registry<Fixed<20, 2, 40, 2, 256>> = Registry::new(Fixed, Policy::DEFAULT);
    let mut log = Log::default();
    r.add_thing(&t("a")).unwrap();
    for i in 0..16 {
        let id = j(&std::format!("j{i:02}"));
        r.create_job(&NewJob::new(&id, TargetSelection::Snapshot), &[t("a")], T0, &mut log).unwrap();
    }
    let mut count = 0;
    r.pending(&t("a"), |_| count += 1).unwrap();
    assert_eq!(count, 10);
    let mut r15: Registry<Fixed<20, 2, 40, 2, 256>> =
        Registry::new(Fixed, Policy { pending_cap: PendingCap::Fifteen, ..Policy::DEFAULT });
    r15.add_thing(&t("a")).unwrap();
    for i in 0..16 {
        let id = j(&std::format!("j{i:02}"));
        r15.create_job(&NewJob::new(&id, TargetSelection::Snapshot), &[t("a")], T0, &mut log).unwrap();
    }
    let mut count = 0;
    r15.pending(&t("a"), |_| count += 1).unwrap();
    assert_eq!(count, 15);
    // R19: unknown things get empty answers by default, 404 under the knob.
    assert_eq!(r.start_next(&t("ghost"), None, None, T0, &mut log), Ok(None));
    assert!(r.next_pending(&t("ghost")).unwrap().is_none());
    let strict: Reg = reg_with(Policy { unknown_thing: UnknownThing::NotFound, ..Policy::DEFAULT });
    assert_eq!(strict.pending(&t("ghost"), |_| ()), Err(Rejection::NotFound(Resource::Thing)));
}

#[test]
fn listings_page_with_a_resumable_cursor() {
    let (mut r, mut log) = with_things(&["a", "b", "c", "d", "e"]);
    create(&mut r, "j1", &["a", "b", "c", "d", "e"], T0, &mut log).unwrap();
    r.update_execution(&j("j1"), &t("c"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    // A page of 0 is one of 1: following the cursors ends.
    for (max, pages) in [(2, 3), (1, 5), (0, 5)] {
        let (mut names, mut cursor, mut n) = (Vec::new(), None, 0);
        loop {
            n += 1;
            cursor = r
                .list_for_job(&j("j1"), None, cursor, max, |v| names.push(v.thing_name().to_string()))
                .unwrap();
            if cursor.is_none() || n > 5 {
                break;
            }
        }
        assert_eq!(names, ["a", "b", "c", "d", "e"], "max {max}");
        assert_eq!(n, pages, "max {max}");
    }
    let mut queued = Vec::new();
    r.list_for_job(&j("j1"), Some(ExecutionStatus::Queued), None, 10, |v| {
        queued.push(v.thing_name().to_string())
    })
    .unwrap();
    assert_eq!(queued, ["a", "b", "d", "e"]);
    // A cursor whose execution was deleted is refused, not silently restarted.
    let c = r.list_for_job(&j("j1"), None, None, 1, |_| ()).unwrap().unwrap();
    let (index, generation) = c.to_parts();
    r.delete_execution(&j("j1"), &t("b"), n(1), true, T0, &mut log).unwrap();
    assert_eq!(
        r.list_for_job(&j("j1"), None, Some(Cursor::from_parts(index, generation)), 1, |_| ()),
        Err(Rejection::InvalidRequest(InvalidRequest::StaleCursor))
    );
    assert_eq!(r.list_for_job(&j("nope"), None, None, 1, |_| ()), Err(Rejection::NotFound(Resource::Job)));
    // A cursor that another listing gave is refused, not followed into that listing's rows:
    // job j1's for job j2, thing a's for thing c (j1 lists a, c, d, e now; j2 is new, on a).
    r.create_job(&NewJob::new(&j("j2"), TargetSelection::Snapshot), &[t("a")], T0, &mut log).unwrap();
    let of_j1 = r.list_for_job(&j("j1"), None, None, 1, |_| ()).unwrap().unwrap();
    let foreign = Err(Rejection::InvalidRequest(InvalidRequest::ForeignCursor));
    assert_eq!(r.list_for_job(&j("j2"), None, Some(of_j1), 10, |_| ()), foreign);
    let of_a = r.list_for_thing(&t("a"), None, None, 1, |_| ()).unwrap().unwrap();
    assert_eq!(r.list_for_thing(&t("c"), None, Some(of_a), 10, |_| ()), foreign);
    // Its own listing goes on from it, whatever its status filter.
    let mut rest = Vec::new();
    r.list_for_thing(&t("a"), Some(ExecutionStatus::Queued), Some(of_a), 10, |v| {
        rest.push(v.job_id().to_string())
    })
    .unwrap();
    assert_eq!(rest, ["j2"]);
    // A listing from an execution a host saw (it filters further): that execution first.
    let mut seen = Vec::new();
    r.list_for_job(&j("j1"), None, None, 10, |v| seen.push((v.thing_name().to_string(), v.handle())))
        .unwrap();
    let d = seen.iter().find(|(name, _)| name == "d").map(|(_, h)| *h).unwrap();
    let mut from_d = Vec::new();
    r.list_for_job(&j("j1"), None, Some(Cursor::at(d)), 10, |v| from_d.push(v.thing_name().to_string()))
        .unwrap();
    assert_eq!(from_d, ["d", "e"]);
    check(&r);
}

#[test]
fn full_tables_and_sinks_refuse_and_change_nothing() {
    // A device's configuration: maps of at most 1 KiB.
    let mut r: Registry<Fixed<2, 2, 3, 1, 32, 1024>> = Registry::new(Fixed, Policy::DEFAULT);
    let mut log = Log::default();
    r.add_thing(&t("a")).unwrap();
    r.add_thing(&t("b")).unwrap();
    assert_eq!(r.add_thing(&t("c")), Err(Rejection::CapacityExhausted(Table::Things)));
    let mk =
        |r: &mut Registry<Fixed<2, 2, 3, 1, 32, 1024>>, id: &str, targets: &[ThingName], log: &mut Log| {
            let id = j(id);
            r.create_job(&NewJob::new(&id, TargetSelection::Snapshot), targets, T0, log)
        };
    mk(&mut r, "j1", &[t("a"), t("b")], &mut log).unwrap();
    // Two more executions do not fit in 3.
    assert_eq!(
        mk(&mut r, "j2", &[t("a"), t("b")], &mut log),
        Err(Rejection::CapacityExhausted(Table::Executions))
    );
    assert!(r.job(&j("j2")).is_err());
    mk(&mut r, "j2", &[t("a")], &mut log).unwrap();
    assert_eq!(mk(&mut r, "j3", &[t("a")], &mut log), Err(Rejection::CapacityExhausted(Table::Jobs)));
    // One statusDetails slot.
    let p = [("k", "v")];
    let d = StatusDetails::new(&p).unwrap();
    let with = |s| Update { status_details: Some(&d), ..update(s) };
    r.update_execution(&j("j1"), &t("a"), &with(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    let before = std::format!(
        "{:?} {:?}",
        r.usage(),
        r.describe_execution(&j("j1"), &t("b"), None, Plane::Control).unwrap()
    );
    assert_eq!(
        r.update_execution(&j("j1"), &t("b"), &with(ExecutionStatus::InProgress), T0, &mut log),
        Err(Rejection::CapacityExhausted(Table::StatusDetails))
    );
    assert_eq!(
        before,
        std::format!(
            "{:?} {:?}",
            r.usage(),
            r.describe_execution(&j("j1"), &t("b"), None, Plane::Control).unwrap()
        )
    );
    // A map larger than the device's store is a request error that says so, not truncated, and
    // changes nothing.
    let big = "x".repeat(600);
    let two = [("a", big.as_str()), ("b", big.as_str())];
    let u = Update {
        status_details: Some(&StatusDetails::new(&two).unwrap()),
        ..update(ExecutionStatus::Succeeded)
    };
    let before = std::format!(
        "{:?} {:?}",
        r.usage(),
        r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap()
    );
    let events = log.0.len();
    let e = r.update_execution(&j("j1"), &t("a"), &u, T0, &mut log).unwrap_err();
    let too_large = Violation::TooLarge { len: 2 * (3 + 1 + 600), capacity: 1024 };
    assert_eq!(e, Rejection::InvalidField(FieldError::new(Field::StatusDetails, too_large)));
    assert_eq!(e.error_code(), ErrorCode::InvalidRequest);
    assert_eq!((e.http_status(Plane::Data), e.http_status(Plane::Control)), (400, 400));
    let after = r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap();
    assert_eq!(before, std::format!("{:?} {:?}", r.usage(), after));
    assert_eq!(after.status_details().collect::<Vec<_>>(), p);
    assert_eq!(log.0.len(), events);
    // The same map through the control plane: the same answer.
    let e = r.cancel_execution(
        &j("j1"),
        &t("a"),
        true,
        None,
        Some(&StatusDetails::new(&two).unwrap()),
        T0,
        &mut log,
    );
    assert_eq!(e, Err(Rejection::InvalidField(FieldError::new(Field::StatusDetails, too_large))));
    assert_eq!(
        before,
        std::format!(
            "{:?} {:?}",
            r.usage(),
            r.describe_execution(&j("j1"), &t("a"), None, Plane::Control).unwrap()
        )
    );
    // A sink without room: Throttled, nothing changes.
    let e = r.update_execution(&j("j1"), &t("b"), &update(ExecutionStatus::Succeeded), T0, &mut Tight(1));
    assert_eq!(e, Err(Rejection::Throttled));
    assert_eq!(
        r.describe_execution(&j("j1"), &t("b"), None, Plane::Control).unwrap().status(),
        ExecutionStatus::Queued
    );
    assert_eq!(r.cancel_job(&j("j1"), false, None, T0, &mut Tight(2)), Err(Rejection::Throttled));
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::InProgress);
    // With exactly enough room it goes through.
    r.cancel_job(&j("j1"), false, None, T0, &mut Tight(5)).unwrap();
}

#[test]
fn refused_operations_leave_the_digest_unchanged() {
    let (mut r, mut log) = with_things(&["a", "b"]);
    create(&mut r, "j1", &["a", "b"], T0, &mut log).unwrap();
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    let before = digest(&r);
    let refusals: [Result<(), Rejection>; 6] = [
        r.delete_job(&j("j1"), false, T0, &mut log),
        r.delete_execution(&j("j1"), &t("a"), n(1), false, T0, &mut log),
        r.cancel_execution(&j("j1"), &t("a"), false, None, None, T0, &mut log).map(|_| ()),
        r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::Queued), T0, &mut log).map(|_| ()),
        r.update_execution(
            &j("j1"),
            &t("b"),
            &Update { expected_version: Some(v(5)), ..update(ExecutionStatus::InProgress) },
            T0,
            &mut log,
        )
        .map(|_| ()),
        r.add_targets(&j("j1"), &[t("a")], T0, &mut log).map(|_| ()),
    ];
    for e in refusals {
        assert!(e.is_err());
    }
    assert_eq!(digest(&r), before);
}

#[test]
fn notification_sequence_of_the_developer_guide_example() {
    // SPEC 7.2 / DG-NOTIF: job1 and job2 queued for one thing; the device runs job1, then job2.
    let (mut r, mut log) = with_things(&["thing"]);
    create(&mut r, "job1", &["thing"], T0, &mut log).unwrap();
    assert_eq!(log.take(), ["notify thing", "notify-next thing"]);
    create(&mut r, "job2", &["thing"], T0, &mut log).unwrap();
    assert_eq!(log.take(), ["notify thing"], "job2 joins the list; the head is still job1");
    r.update_execution(&j("job1"), &t("thing"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    assert_eq!(log.take(), Vec::<String>::new(), "job1 goes IN_PROGRESS: no notifications");
    r.update_execution(&j("job1"), &t("thing"), &update(ExecutionStatus::Succeeded), T0, &mut log).unwrap();
    assert_eq!(
        log.take(),
        ["execution job1 thing #1 succeeded", "job job1 completed", "notify thing", "notify-next thing"]
    );
    assert_eq!(r.next_pending(&t("thing")).unwrap().unwrap().job_id(), &j("job2"));
    // A non-head QUEUED → IN_PROGRESS that becomes the head sends only notify-next.
    create(&mut r, "job3", &["thing"], T0, &mut log).unwrap();
    log.take();
    r.update_execution(&j("job3"), &t("thing"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    assert_eq!(log.take(), ["notify-next thing"]);
    r.update_execution(&j("job3"), &t("thing"), &update(ExecutionStatus::Failed), T0, &mut log).unwrap();
    r.update_execution(&j("job2"), &t("thing"), &update(ExecutionStatus::Succeeded), T0, &mut log).unwrap();
    assert!(r.next_pending(&t("thing")).unwrap().is_none());
    // Under R15's alternative, QUEUED → IN_PROGRESS also sends notify.
    let mut r = reg_with(Policy { notify_on: NotifyOn::EveryNonTerminalChange, ..Policy::DEFAULT });
    things(&mut r, &["thing"]);
    create(&mut r, "job1", &["thing"], T0, &mut log).unwrap();
    log.take();
    r.update_execution(&j("job1"), &t("thing"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    assert_eq!(log.take(), ["notify thing"]);
}

#[test]
fn version_bump_knob() {
    let mut r =
        reg_with(Policy { version_bump: crate::policy::VersionBump::DeviceUpdatesOnly, ..Policy::DEFAULT });
    let mut log = Log::default();
    things(&mut r, &["a"]);
    create(&mut r, "j1", &["a"], T0, &mut log).unwrap();
    let s = r.cancel_execution(&j("j1"), &t("a"), false, None, None, T0, &mut log).unwrap();
    assert_eq!(s.version, v(1), "a control-plane cancel does not bump under DeviceUpdatesOnly");
}

#[test]
fn clear_forgets_everything() {
    let (mut r, mut log) = with_things(&["a"]);
    create(&mut r, "j1", &["a"], T0, &mut log).unwrap();
    r.start_next(&t("a"), None, Some(StepTimeout::Minutes(1)), T0, &mut log).unwrap();
    assert!(r.next_deadline().is_some());
    r.clear();
    assert_eq!(r.next_deadline(), None);
    assert_eq!(r.usage(), Usage { jobs: 0, things: 0, executions: 0, details: 0, pairs: 0, index_room: 255 });
    assert!(r.thing(&t("a")).is_none());
    things(&mut r, &["a"]);
    create(&mut r, "j1", &["a"], T0, &mut log).unwrap();
    check(&r);
}

#[test]
fn a_cursor_or_handle_from_before_clear_names_nothing_after_it() {
    // The same operations after `clear` put new executions in the same slots; the generations
    // go on counting, so what was issued before is stale, not a way into the new state.
    let (mut r, mut log) = with_things(&["a"]);
    create(&mut r, "j1", &["a"], T0, &mut log).unwrap();
    create(&mut r, "j2", &["a"], T0, &mut log).unwrap();
    create(&mut r, "j3", &["a"], T0, &mut log).unwrap();
    // One slot past generation 0 before the clear: j3's execution's, deleted.
    r.delete_execution(&j("j3"), &t("a"), n(1), true, T0, &mut log).unwrap();
    let cursor = r.list_for_thing(&t("a"), None, None, 1, |_| ()).unwrap().unwrap();
    let job = r.job(&j("j1")).unwrap().handle();
    let started = r.start_next(&t("a"), None, None, T0, &mut log).unwrap().unwrap();
    // Twice: a clear of empty tables keeps counting too.
    r.clear();
    r.clear();
    things(&mut r, &["a"]);
    create(&mut r, "j1", &["a"], T0, &mut log).unwrap();
    create(&mut r, "j2", &["a"], T0, &mut log).unwrap();
    let fresh = r.list_for_thing(&t("a"), None, None, 1, |_| ()).unwrap().unwrap();
    assert_eq!(fresh.to_parts().0, cursor.to_parts().0, "the same slot");
    assert_ne!(fresh, cursor);
    let stale = Err(Rejection::InvalidRequest(InvalidRequest::StaleCursor));
    assert_eq!(r.list_for_thing(&t("a"), None, Some(cursor), 1, |_| ()), stale);
    assert_eq!(r.list_for_job(&j("j2"), None, Some(cursor), 1, |_| ()), stale);
    let (index, generation) = cursor.to_parts();
    assert_eq!(
        r.list_for_thing(&t("a"), None, Some(Cursor::from_parts(index, generation)), 1, |_| ()),
        stale
    );
    assert!(r.job_by_handle(job).is_none());
    assert!(r.execution(started).is_none());
    // The new state's own cursor and handles work.
    let mut rest = Vec::new();
    r.list_for_thing(&t("a"), None, Some(fresh), 10, |v| rest.push(v.job_id().to_string())).unwrap();
    assert_eq!(rest.len(), 1);
    let job = r.job(&j("j1")).unwrap().handle();
    assert_eq!(r.job_by_handle(job).map(|v| v.id().to_string()).as_deref(), Some("j1"));
    let started = r.start_next(&t("a"), None, None, T0, &mut log).unwrap().unwrap();
    assert!(r.execution(started).is_some());
    check(&r);
}

#[test]
fn deletion_delay_deadlines_and_a_clock_that_goes_back() {
    let (mut r, mut log) = with_things(&["a"]);
    create(&mut r, "j1", &["a"], T0, &mut log).unwrap();
    create(&mut r, "j2", &["a"], T0, &mut log).unwrap();
    assert_eq!(r.next_deadline(), None);
    r.set_deletion_delay(60);
    r.delete_job(&j("j1"), true, T0, &mut log).unwrap();
    r.delete_job(&j("j2"), true, T0.saturating_add(30), &mut log).unwrap();
    assert_eq!(r.next_deadline(), Some(T0.saturating_add(60)));
    // The jobs the next advance removes, as a host keeps them for their events.
    let due = |r: &Registry<_>, at: u64| -> Vec<String> {
        r.deletions_due(T0.saturating_add(at)).map(|v| v.id().as_str().into()).collect()
    };
    assert!(due(&r, 59).is_empty());
    assert_eq!(due(&r, 60), ["j1"]);
    assert_eq!(due(&r, 90), ["j1", "j2"]);
    // One second early: nothing happens.
    assert_eq!(r.advance(T0.saturating_add(59), usize::MAX, &mut log), Ok(Advanced { work: 0, more: false }));
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::DeletionInProgress);
    // Exactly at the deadline: j1 goes, j2 stays.
    assert_eq!(r.advance(T0.saturating_add(60), usize::MAX, &mut log), Ok(Advanced { work: 1, more: false }));
    assert!(r.job(&j("j1")).is_err());
    assert_eq!(r.next_deadline(), Some(T0.saturating_add(90)));
    // A clock that goes backwards: no panic, no transition.
    assert_eq!(r.advance(Timestamp(0), usize::MAX, &mut log), Ok(Advanced { work: 0, more: false }));
    assert!(r.job(&j("j2")).is_ok());
    // A time past the last one the registry stores is refused and does nothing.
    let past = LATEST_TIME.saturating_add(1);
    assert_eq!(r.advance(past, 1, &mut log), Err(Rejection::LimitExceeded(Limit::Time)));
    assert_eq!(r.advance(Timestamp(u64::MAX), 1, &mut log), Err(Rejection::LimitExceeded(Limit::Time)));
    assert!(r.job(&j("j2")).is_ok());
    // A budget of zero does no work but says more is due.
    assert_eq!(r.advance(LATEST_TIME, 0, &mut log), Ok(Advanced { work: 0, more: true }));
    assert_eq!(r.advance(LATEST_TIME, 1, &mut log), Ok(Advanced { work: 1, more: false }));
    assert_eq!(r.next_deadline(), None);
    // A delay near u64::MAX neither overflows nor passes the last time.
    r.set_deletion_delay(u64::MAX);
    create(&mut r, "j3", &["a"], T0, &mut log).unwrap();
    r.delete_job(&j("j3"), true, T0, &mut log).unwrap();
    assert_eq!(r.next_deadline(), Some(LATEST_TIME));
    check(&r);
}

#[test]
fn the_largest_status_details_aws_accepts_is_stored_whole() {
    // SPEC R14: 10 pairs, keys of 128 characters, values of 1,024 UTF-16 units; '€' is one unit
    // and 3 bytes of UTF-8, so this is the largest map there is: 32,030 bytes stored.
    let mut r: std::boxed::Box<Registry<Fixed<1, 1, 1, 1, 8>>> =
        std::boxed::Box::new(Registry::new(Fixed, Policy::DEFAULT));
    let mut log = Log::default();
    r.add_thing(&t("a")).unwrap();
    r.create_job(&NewJob::new(&j("j"), TargetSelection::Snapshot), &[t("a")], T0, &mut log).unwrap();
    let keys: Vec<String> = (0..10).map(|i| std::format!("{i:k>128}")).collect();
    let value = "€".repeat(1024);
    let pairs: Vec<(&str, &str)> = keys.iter().map(|k| (k.as_str(), value.as_str())).collect();
    let details = StatusDetails::new(&pairs).unwrap();
    assert_eq!(crate::details::encoded_len(&details), crate::details::MAX_ENCODED_LEN);
    let u = Update { status_details: Some(&details), ..update(ExecutionStatus::InProgress) };
    r.update_execution(&j("j"), &t("a"), &u, T0, &mut log).unwrap();
    let v = r.describe_execution(&j("j"), &t("a"), None, Plane::Data).unwrap();
    assert_eq!(v.status_details().collect::<Vec<_>>(), pairs);
    // The control plane stores it too.
    let rev: Vec<(&str, &str)> = pairs.iter().rev().copied().collect();
    r.cancel_execution(&j("j"), &t("a"), true, None, Some(&StatusDetails::new(&rev).unwrap()), T0, &mut log)
        .unwrap();
    let v = r.describe_execution(&j("j"), &t("a"), None, Plane::Control).unwrap();
    assert_eq!(v.status_details().collect::<Vec<_>>(), rev);
    // A snapshot keeps it whole (format unchanged: values up to 3,072 bytes).
    #[cfg(feature = "serde")]
    {
        let json = serde_json::to_string(&r.snapshot()).unwrap();
        let back: Registry<Fixed<1, 1, 1, 1, 8>> =
            Registry::restore(Fixed, Policy::DEFAULT, &mut serde_json::Deserializer::from_str(&json))
                .unwrap();
        let v = back.describe_execution(&j("j"), &t("a"), None, Plane::Control).unwrap();
        assert_eq!(v.status_details().collect::<Vec<_>>(), rev);
        // A device whose store is smaller refuses that snapshot rather than truncating it.
        let small: Result<Registry<Fixed<1, 1, 1, 1, 8, 1024>>, _> =
            Registry::restore(Fixed, Policy::DEFAULT, &mut serde_json::Deserializer::from_str(&json));
        assert!(small.unwrap_err().to_string().contains("bytes of storage"));
    }
}

/// A pair keeps its state in its newest execution; when its last execution is deleted the state
/// falls back to a record. `Monotonic` numbering and the retries used survive the fall-back.
#[test]
fn a_pair_falls_back_to_a_record_when_its_last_execution_goes() {
    let policy = Policy { numbering: crate::policy::Numbering::Monotonic, ..Policy::DEFAULT };
    let mut r = reg_with(policy);
    let mut log = Log::default();
    things(&mut r, &["a", "b"]);
    let id = j("c1");
    let failed = crate::status::RetryableFailureType::Failed;
    let retry =
        crate::config::RetryConfig::new(&[crate::config::RetryCriterion { failure: failed, retries: 2 }])
            .unwrap();
    let config = JobConfig { retry: Some(retry), ..JobConfig::default() };
    let job = NewJob { config, ..NewJob::new(&id, TargetSelection::Continuous) };
    r.create_job(&job, &[t("a"), t("b")], T0, &mut log).unwrap();
    // a fails once and is retried: execution 2 holds the pair, with one retry used.
    r.update_execution(&id, &t("a"), &update(ExecutionStatus::Failed), T0, &mut log).unwrap();
    assert_eq!(r.describe_execution(&id, &t("a"), None, Plane::Control).unwrap().number(), n(2));
    assert_eq!((r.usage().executions, r.usage().pairs, r.pairs.used()), (3, 2, 0));
    check(&r);
    // Delete all of a's executions (2 is QUEUED: force, R2) and b's: both pairs become records.
    r.delete_execution(&id, &t("a"), n(2), true, T0, &mut log).unwrap();
    r.delete_execution(&id, &t("a"), n(1), false, T0, &mut log).unwrap();
    r.delete_execution(&id, &t("b"), n(1), true, T0, &mut log).unwrap();
    assert_eq!((r.usage().executions, r.usage().pairs, r.pairs.used()), (0, 2, 2));
    check(&r);
    // Monotonic (R7): a goes on from its highest, 2.
    assert_eq!(r.add_targets(&id, &[t("a")], T0, &mut log), Ok(1));
    let again = r.describe_execution(&id, &t("a"), None, Plane::Control).unwrap();
    assert_eq!((again.number(), again.version()), (n(3), v(1)));
    assert_eq!((r.usage().pairs, r.pairs.used()), (2, 1));
    check(&r);
    // Targeted again, a counts its retries from 0 (SPEC T12): two more failures are retried
    // (2 allowed), the one after them is not.
    for number in [4, 5] {
        r.update_execution(&id, &t("a"), &update(ExecutionStatus::Failed), T0, &mut log).unwrap();
        assert_eq!(r.describe_execution(&id, &t("a"), None, Plane::Control).unwrap().number(), n(number));
    }
    r.update_execution(&id, &t("a"), &update(ExecutionStatus::Failed), T0, &mut log).unwrap();
    let last = r.describe_execution(&id, &t("a"), None, Plane::Control).unwrap();
    assert_eq!((last.number(), last.status()), (n(5), ExecutionStatus::Failed));
    check(&r);
}

/// An index sized smaller than the tables it indexes is named when it is what is full.
#[test]
fn a_full_index_is_named_as_the_full_table() {
    let mut r: Registry<Fixed<8, 8, 8, 1, 4, 64>> = Registry::new(Fixed, Policy::DEFAULT);
    let mut log = Log::default();
    for name in ["a", "b", "c"] {
        r.add_thing(&t(name)).unwrap();
    }
    assert_eq!(r.add_thing(&t("d")).map(|_| ()), Err(Rejection::CapacityExhausted(Table::Index)));
    assert_eq!(r.usage().things, 3);
    let id = j("j1");
    let job = NewJob::new(&id, TargetSelection::Snapshot);
    assert_eq!(
        r.create_job(&job, &[t("a")], T0, &mut log).map(|_| ()),
        Err(Rejection::CapacityExhausted(Table::Index))
    );
    assert_eq!((r.usage().jobs, log.0.len()), (0, 0));
}

/// Every pair, with executions or not, counts against the pairs table, so that deleting a pair's
/// last execution always finds room for its record: a new pair is refused when the table's
/// capacity is taken by pairs, even while the table itself has a free slot.
#[test]
fn every_pair_counts_against_the_pairs_table() {
    let mut r: Registry<Fixed<2, 3, 3, 1, 32>> = Registry::new(Fixed, Policy::DEFAULT);
    let mut log = Log::default();
    for name in ["a", "b", "c"] {
        r.add_thing(&t(name)).unwrap();
    }
    let id = j("c1");
    r.create_job(&NewJob::new(&id, TargetSelection::Snapshot), &[t("a"), t("b"), t("c")], T0, &mut log)
        .unwrap();
    r.delete_execution(&id, &t("a"), n(1), true, T0, &mut log).unwrap();
    r.delete_execution(&id, &t("b"), n(1), true, T0, &mut log).unwrap();
    assert_eq!((r.usage().executions, r.usage().pairs, r.pairs.used()), (1, 3, 2));
    let before = std::format!("{:?}", r.usage());
    let other = j("c2");
    assert_eq!(
        r.create_job(&NewJob::new(&other, TargetSelection::Snapshot), &[t("a")], T0, &mut log),
        Err(Rejection::CapacityExhausted(Table::Executions))
    );
    assert_eq!(std::format!("{:?}", r.usage()), before);
    // The last execution goes too: its record fits.
    r.delete_execution(&id, &t("c"), n(1), true, T0, &mut log).unwrap();
    assert_eq!((r.usage().executions, r.usage().pairs, r.pairs.used()), (0, 3, 3));
    check(&r);
}

/// A progress report (IN_PROGRESS → IN_PROGRESS) sets off no retry and no abort, so it needs
/// room in the sink only for what it may emit itself, however many executions of its job are
/// QUEUED. So does a failure that meets no abort criterion; the failure that meets one needs
/// room for the abort's cancellations of those, and without it nothing changes.
#[test]
fn a_failure_needs_room_for_cancellations_only_when_it_aborts() {
    let names = ["a", "b", "c", "d", "e", "f", "g", "h"];
    let (mut r, mut log) = with_things(&names);
    create(&mut r, "j1", &names, T0, &mut log).unwrap();
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    // Its own event room: the job's `completed` and the notifications (4 here); the seven
    // QUEUED executions an abort would cancel would need 3 each on top.
    let progress =
        r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut Tight(4));
    assert_eq!(progress.unwrap().version, v(3));
    // j1 has no abort criteria: a failure needs 8, not 8 + 7 × 3.
    let failed = r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::Failed), T0, &mut Tight(8));
    assert_eq!(failed.map(|s| s.status), Ok(ExecutionStatus::Failed));

    // j2 aborts once 3 have ended and half of them failed.
    let abort = abort_on_failed(5000, 3);
    job_with(&mut r, "j2", &names, JobConfig { abort: Some(abort), ..JobConfig::default() }, T0, &mut log);
    for thing in ["a", "b"] {
        let failed =
            r.update_execution(&j("j2"), &t(thing), &update(ExecutionStatus::Failed), T0, &mut Tight(8));
        assert_eq!(
            failed.map(|s| s.status),
            Ok(ExecutionStatus::Failed),
            "{thing}: below minNumberOfExecutedThings"
        );
    }
    // The third failure aborts j2, which cancels its five QUEUED executions.
    let before = digest(&r);
    let third = r.update_execution(&j("j2"), &t("c"), &update(ExecutionStatus::Failed), T0, &mut Tight(22));
    assert_eq!(third, Err(Rejection::Throttled));
    assert_eq!(digest(&r), before);
    let third = r.update_execution(&j("j2"), &t("c"), &update(ExecutionStatus::Failed), T0, &mut Tight(23));
    assert_eq!(third.map(|s| s.status), Ok(ExecutionStatus::Failed));
    assert_eq!(r.job(&j("j2")).unwrap().status(), JobStatus::Canceled);
    assert_eq!(status(&r, "j2", "h"), ExecutionStatus::Canceled);
    check(&r);
}

/// A cancel needs room for the notifications of the executions a pending list shows, not for a
/// SCHEDULED job's QUEUED ones: a closed window took them off the lists (AMBIG-13), and they
/// are canceled without a notification (D16 in tests/model/README.md).
#[test]
fn a_cancel_needs_room_only_for_what_the_pending_lists_show() {
    let names = ["a", "b", "c", "d", "e", "f", "g", "h"];
    let (mut r, mut log) = with_things(&names);
    create(&mut r, "j1", &names, T0, &mut log).unwrap();
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    r.close_window(&j("j1"), T0, &mut log).unwrap();
    // The running one stays listed: its event and 2 notifications; the seven QUEUED ones an
    // event each; the job's 2 events. 12, not 8 × 3 + 2.
    let before = digest(&r);
    assert_eq!(r.cancel_job(&j("j1"), true, None, T0, &mut Tight(11)), Err(Rejection::Throttled));
    assert_eq!(digest(&r), before);
    let mut sink = Tight(12);
    r.cancel_job(&j("j1"), true, None, T0, &mut sink).unwrap();
    assert_eq!(sink.0, 0, "it emits what it reserved");
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::Canceled);
    assert_eq!(
        (status(&r, "j1", "a"), status(&r, "j1", "h")),
        (ExecutionStatus::Canceled, ExecutionStatus::Canceled)
    );
    check(&r);
}

/// A failure that aborts its job retries nothing (SPEC §6: abort comes first), so a full
/// executions table does not refuse it.
#[test]
fn an_abort_needs_no_room_for_a_retry() {
    let mut r: Registry<Fixed<2, 2, 1, 1, 32>> = Registry::new(Fixed, Policy::DEFAULT);
    let mut log = Log::default();
    r.add_thing(&t("a")).unwrap();
    let abort = abort_on_failed(5000, 1);
    let retry =
        RetryConfig::new(&[RetryCriterion { failure: RetryableFailureType::Failed, retries: 1 }]).unwrap();
    let id = j("j1");
    let config = JobConfig { abort: Some(abort), retry: Some(retry), ..JobConfig::default() };
    r.create_job(&NewJob { config, ..NewJob::new(&id, TargetSelection::Snapshot) }, &[t("a")], T0, &mut log)
        .unwrap();
    let failed = r.update_execution(&id, &t("a"), &update(ExecutionStatus::Failed), T0, &mut log);
    assert_eq!(failed.map(|s| s.status), Ok(ExecutionStatus::Failed));
    assert_eq!(r.job(&id).unwrap().status(), JobStatus::Canceled);
    let v = r.describe_execution(&id, &t("a"), None, Plane::Control).unwrap();
    assert_eq!((v.number(), v.status()), (n(1), ExecutionStatus::Failed));
    check(&r);
}
