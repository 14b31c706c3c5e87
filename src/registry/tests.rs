//! Registry scenarios: every operation and rejection, numbering and reuse, stale handles, the
//! limit of 10 deletions, pending order, full tables, counters and notification sequences.

extern crate std;

use std::string::{String, ToString};
use std::vec::Vec;

use super::*;
use crate::error::{InvalidRequest, Limit};
use crate::policy::{Numbering, PendingCap};

type Reg = Registry<Fixed<8, 8, 64, 8, 256>>;

fn reg() -> Reg {
    Registry::new(Fixed, Policy::DEFAULT)
}

fn reg_with(policy: Policy) -> Reg {
    Registry::new(Fixed, policy)
}

fn t(s: &str) -> ThingName {
    ThingName::new(s).unwrap()
}

fn j(s: &str) -> JobId {
    JobId::new(s).unwrap()
}

fn n(x: u64) -> ExecutionNumber {
    ExecutionNumber::new(x).unwrap()
}

fn v(x: u64) -> VersionNumber {
    VersionNumber::new(x).unwrap()
}

const T0: Timestamp = Timestamp(1_700_000_000);

/// A sink that records events as short strings.
#[derive(Default)]
struct Log(Vec<String>);

impl EventSink for Log {
    fn room(&self) -> usize {
        usize::MAX
    }
    fn push(&mut self, e: Event) {
        self.0.push(match e {
            Event::Notify(t) => std::format!("notify {t}"),
            Event::NotifyNext(t) => std::format!("notify-next {t}"),
            Event::Job { job, event } => std::format!("job {job} {}", event.as_str()),
            Event::Execution { job, thing, number, event } => {
                std::format!("execution {job} {thing} #{number} {}", event.as_str())
            }
        });
    }
}

impl Log {
    fn take(&mut self) -> Vec<String> {
        core::mem::take(&mut self.0)
    }
}

/// A sink with a fixed room.
struct Tight(usize);

impl EventSink for Tight {
    fn room(&self) -> usize {
        self.0
    }
    fn push(&mut self, _: Event) {
        self.0 = self.0.checked_sub(1).expect("pushed past the room it announced");
    }
}

fn things(r: &mut Reg, names: &[&str]) {
    for name in names {
        r.add_thing(&t(name)).unwrap();
    }
}

fn create(
    r: &mut Reg,
    id: &str,
    targets: &[&str],
    now: Timestamp,
    log: &mut Log,
) -> Result<JobHandle, Rejection> {
    let targets: Vec<ThingName> = targets.iter().map(|s| t(s)).collect();
    let id = j(id);
    r.create_job(&NewJob::new(&id, TargetSelection::Snapshot), &targets, now, log)
}

fn update(status: ExecutionStatus) -> Update<'static> {
    Update {
        status,
        status_details: None,
        expected_version: None,
        execution_number: None,
        step_timeout: None,
    }
}

fn pending_ids<S: Storage>(r: &Registry<S>, thing: &str) -> Vec<String> {
    let mut out = Vec::new();
    r.pending(&t(thing), |v| out.push(std::format!("{}#{}:{}", v.job_id(), v.number(), v.status()))).unwrap();
    out
}

/// Invariants that hold after every operation.
fn check<S: Storage>(r: &Registry<S>) {
    let mut seen = std::collections::HashSet::new();
    for i in 0..r.jobs.len() {
        let Some((_, job)) = r.jobs.at(i as u32) else { continue };
        let mut recount = ProcessDetails::default();
        for x in r.job_executions(i as u32) {
            let e = r.exec_entry(x).unwrap();
            recount.add(e.status, 1);
            assert!(seen.insert((e.job, e.thing, e.number)), "two executions share (job, thing, number)");
            assert_eq!(e.job, i as u32);
        }
        assert_eq!(job.process, recount, "counters of {} differ from a recount", job.id);
    }
    for i in 0..r.things.len() {
        let Some((_, thing)) = r.things.at(i as u32) else { continue };
        let listed: Vec<u32> = r.pending_iter(i as u32).collect();
        let mut expected: Vec<u32> = Vec::new();
        for status in [ExecutionStatus::InProgress, ExecutionStatus::Queued] {
            let mut x = thing.all.head;
            while let Some(e) = r.exec_entry(x) {
                let visible = r.job_entry(e.job).is_some_and(|j| rules::listed_to_device(j.status, e.status));
                if e.status == status && visible {
                    expected.push(x);
                }
                x = e.thing_link.next;
            }
        }
        // Same members; IN_PROGRESS before QUEUED.
        let mut a = listed.clone();
        let mut b = expected.clone();
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b, "pending list of {} is not its pending executions", thing.name);
        let ranks: Vec<_> =
            listed.iter().map(|x| rules::pending_rank(r.exec_entry(*x).unwrap().status)).collect();
        assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "IN_PROGRESS must come first");
        // Each list in queue (creation) order: the order of the thing's list of all executions.
        let mut created = Vec::new();
        let mut x = thing.all.head;
        while let Some(e) = r.exec_entry(x) {
            created.push(x);
            x = e.thing_link.next;
        }
        let rank = |x: &u32| created.iter().position(|c| c == x).unwrap();
        for status in [ExecutionStatus::InProgress, ExecutionStatus::Queued] {
            let order: Vec<usize> =
                listed.iter().filter(|x| r.exec_entry(**x).unwrap().status == status).map(rank).collect();
            assert!(
                order.windows(2).all(|w| w[0] < w[1]),
                "{} list of {} out of queue order",
                status,
                thing.name
            );
        }
    }
    let deleting = r.jobs().filter(|j| j.status() == JobStatus::DeletionInProgress).count();
    assert_eq!(deleting, r.jobs_deleting());
    assert!(deleting <= rules::MAX_JOBS_DELETING);
}

#[test]
fn create_job_queues_one_execution_per_distinct_target() {
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["a", "b"]);
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
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["a"]);
    create(&mut r, "job1", &["a"], T0, &mut log).unwrap();
    assert_eq!(create(&mut r, "job1", &["a"], T0, &mut log), Err(Rejection::AlreadyExists(Resource::Job)));
    assert_eq!(create(&mut r, "job2", &["nobody"], T0, &mut log), Err(Rejection::NotFound(Resource::Thing)));
    // No things (an empty target group): a SNAPSHOT job completes at once.
    create(&mut r, "empty", &[], T0, &mut log).unwrap();
    assert_eq!(r.job(&j("empty")).unwrap().status(), JobStatus::Completed);
    let bad = JobConfig { in_progress_timeout_minutes: Some(0), ..JobConfig::default() };
    let id = j("job3");
    let e = r.create_job(
        &NewJob { id: &id, selection: TargetSelection::Snapshot, namespace: None, config: bad },
        &[t("a")],
        T0,
        &mut log,
    );
    assert!(matches!(e, Err(Rejection::InvalidField(_))));
    assert!(r.job(&j("job2")).is_err() && r.job(&j("job3")).is_err(), "refused jobs are not created");
    check(&r);
}

#[test]
fn job_id_is_reusable_only_after_deletion_completes() {
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["a"]);
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
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["a"]);
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
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["a"]);
    assert_eq!(r.start_next(&t("a"), None, None, T0, &mut log), Ok(None));
    create(&mut r, "j1", &["a"], T0, &mut log).unwrap();
    create(&mut r, "j2", &["a"], T0, &mut log).unwrap();
    log.take();
    let pairs = [("step", "download")];
    let d = StatusDetails::new(&pairs).unwrap();
    let later = T0.saturating_add(5);
    let h = r.start_next(&t("a"), Some(d), Some(StepTimeout::Minutes(3)), later, &mut log).unwrap().unwrap();
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
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["a"]);
    create(&mut r, "j1", &["a"], T0, &mut log).unwrap();
    let p1 = [("a", "1"), ("b", "2")];
    let mut u = update(ExecutionStatus::InProgress);
    u.status_details = Some(StatusDetails::new(&p1).unwrap());
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
        status_details: Some(StatusDetails::new(&p2).unwrap()),
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
            status_details: Some(StatusDetails::new(p).unwrap()),
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
        status_details: Some(StatusDetails::new(&nine).unwrap()),
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
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["a", "b"]);
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
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["a", "b"]);
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
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["a"]);
    create(&mut r, "j1", &["a"], T0, &mut log).unwrap();
    assert_eq!(
        r.cancel_execution(&j("j1"), &t("a"), false, Some(v(9)), None, T0, &mut log),
        Err(Rejection::VersionMismatch(ExecutionState { status: ExecutionStatus::Queued, version: v(1) }))
    );
    let pairs = [("why", "operator")];
    let d = StatusDetails::new(&pairs).unwrap();
    assert_eq!(
        r.cancel_execution(&j("j1"), &t("a"), false, Some(v(1)), Some(d), T0, &mut log),
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
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["a", "b"]);
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
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["a", "b"]);
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
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["a", "b", "c", "d", "e"]);
    create(&mut r, "j1", &["a", "b", "c", "d", "e"], T0, &mut log).unwrap();
    r.update_execution(&j("j1"), &t("c"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    let mut names = Vec::new();
    let mut cursor = None;
    loop {
        cursor =
            r.list_for_job(&j("j1"), None, cursor, 2, |v| names.push(v.thing_name().to_string())).unwrap();
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(names, ["a", "b", "c", "d", "e"]);
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
    check(&r);
}

/// A digest of all observable state, to prove a refused operation changed nothing.
fn digest(r: &Reg) -> String {
    let mut out = String::new();
    for job in r.jobs() {
        out += &std::format!("{}:{}:{:?};", job.id(), job.status(), job.process_details());
        r.list_for_job(job.id(), None, None, usize::MAX, |v| {
            out += &std::format!(
                "{}#{}:{}:{}:{:?};",
                v.thing_name(),
                v.number(),
                v.status(),
                v.version(),
                v.status_details().collect::<Vec<_>>()
            );
        })
        .unwrap();
    }
    out += &std::format!("{:?}", r.usage());
    out
}

#[test]
fn full_tables_and_sinks_refuse_and_change_nothing() {
    let mut r: Registry<Fixed<2, 2, 3, 1, 32>> = Registry::new(Fixed, Policy::DEFAULT);
    let mut log = Log::default();
    r.add_thing(&t("a")).unwrap();
    r.add_thing(&t("b")).unwrap();
    assert_eq!(r.add_thing(&t("c")), Err(Rejection::CapacityExhausted(Table::Things)));
    let mk = |r: &mut Registry<Fixed<2, 2, 3, 1, 32>>, id: &str, targets: &[ThingName], log: &mut Log| {
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
    let with = |s| Update { status_details: Some(StatusDetails::new(&p).unwrap()), ..update(s) };
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
    // An oversized map is refused, not truncated.
    let big = "x".repeat(600);
    let two = [("a", big.as_str()), ("b", big.as_str())];
    let u = Update {
        status_details: Some(StatusDetails::new(&two).unwrap()),
        ..update(ExecutionStatus::InProgress)
    };
    assert_eq!(
        r.update_execution(&j("j1"), &t("a"), &u, T0, &mut log),
        Err(Rejection::CapacityExhausted(Table::StatusDetails))
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
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["a", "b"]);
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
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["thing"]);
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
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["a"]);
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
fn deletion_delay_deadlines_and_a_clock_that_goes_back() {
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["a"]);
    create(&mut r, "j1", &["a"], T0, &mut log).unwrap();
    create(&mut r, "j2", &["a"], T0, &mut log).unwrap();
    assert_eq!(r.next_deadline(), None);
    r.set_deletion_delay(60);
    r.delete_job(&j("j1"), true, T0, &mut log).unwrap();
    r.delete_job(&j("j2"), true, T0.saturating_add(30), &mut log).unwrap();
    assert_eq!(r.next_deadline(), Some(T0.saturating_add(60)));
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
    // A budget of zero does no work but says more is due.
    assert_eq!(r.advance(Timestamp(u64::MAX), 0, &mut log), Ok(Advanced { work: 0, more: true }));
    assert_eq!(r.advance(Timestamp(u64::MAX), 1, &mut log), Ok(Advanced { work: 1, more: false }));
    assert_eq!(r.next_deadline(), None);
    // A delay near u64::MAX saturates instead of overflowing.
    r.set_deletion_delay(u64::MAX);
    create(&mut r, "j3", &["a"], T0, &mut log).unwrap();
    r.delete_job(&j("j3"), true, T0, &mut log).unwrap();
    assert_eq!(r.next_deadline(), Some(Timestamp(u64::MAX)));
    check(&r);
}

#[cfg(feature = "serde")]
mod snapshot {
    use super::*;

    /// A registry with every kind of state: removed things, re-executions, a remembered pair,
    /// details, forced cancels, a job being deleted, a completed job.
    fn rich(policy: Policy) -> Reg {
        let mut r = reg_with(policy);
        let mut log = Log::default();
        things(&mut r, &["a", "b", "c"]);
        create(&mut r, "done", &["a"], T0, &mut log).unwrap();
        r.update_execution(&j("done"), &t("a"), &update(ExecutionStatus::Succeeded), T0, &mut log).unwrap();
        let id = j("cont");
        r.create_job(&NewJob::new(&id, TargetSelection::Continuous), &[t("a"), t("b")], T0, &mut log)
            .unwrap();
        let p = [("step", "2 of 3"), ("note", "quote \" and \\ slash")];
        let u = Update {
            status_details: Some(StatusDetails::new(&p).unwrap()),
            ..update(ExecutionStatus::InProgress)
        };
        r.update_execution(&id, &t("a"), &u, T0.saturating_add(1), &mut log).unwrap();
        r.update_execution(&id, &t("b"), &update(ExecutionStatus::Failed), T0, &mut log).unwrap();
        r.add_targets(&id, &[t("b")], T0.saturating_add(2), &mut log).unwrap();
        r.delete_execution(&id, &t("b"), n(2), true, T0, &mut log).unwrap();
        create(&mut r, "gone", &["c", "a"], T0, &mut log).unwrap();
        r.set_deletion_delay(300);
        r.delete_job(&j("gone"), true, T0, &mut log).unwrap();
        create(&mut r, "forced", &["c"], T0, &mut log).unwrap();
        r.update_execution(&j("forced"), &t("c"), &update(ExecutionStatus::InProgress), T0, &mut log)
            .unwrap();
        r.cancel_job(&j("forced"), true, Some(&ReasonCode::new("OPS_1").unwrap()), T0, &mut log).unwrap();
        create(&mut r, "last", &["c", "a"], T0.saturating_add(9), &mut log).unwrap();
        r.remove_thing(&t("b"), T0, &mut log).unwrap();
        check(&r);
        r
    }

    fn json(r: &Reg) -> String {
        serde_json::to_string(&r.snapshot()).unwrap()
    }

    fn restore(text: &str, policy: Policy) -> Result<Reg, serde_json::Error> {
        Registry::restore(Fixed, policy, &mut serde_json::Deserializer::from_str(text))
    }

    #[test]
    fn round_trip_is_lossless() {
        for policy in [Policy::DEFAULT, Policy { numbering: Numbering::Monotonic, ..Policy::DEFAULT }] {
            let r = rich(policy);
            let first = json(&r);
            let back = restore(&first, policy).unwrap();
            check(&back);
            assert_eq!(json(&back), first);
            assert_eq!(digest(&back), digest(&r));
            for thing in ["a", "b", "c"] {
                assert_eq!(pending_ids(&back, thing), pending_ids(&r, thing), "{thing}");
            }
            assert_eq!(back.next_deadline(), r.next_deadline());
            assert_eq!(back.jobs_deleting(), 1);
            // Behaviour continues identically: numbering, deletion, notifications.
            let (mut a, mut b) = (r, back);
            let (mut la, mut lb) = (Log::default(), Log::default());
            for (reg, log) in [(&mut a, &mut la), (&mut b, &mut lb)] {
                reg.add_thing(&t("b")).unwrap();
                reg.add_targets(&j("cont"), &[t("b")], T0, log).unwrap();
                reg.advance(T0.saturating_add(300), usize::MAX, log).unwrap();
            }
            assert_eq!(la.0, lb.0);
            assert_eq!(digest(&a), digest(&b));
        }
    }

    #[test]
    fn snapshots_that_do_not_add_up_are_refused() {
        let r = rich(Policy::DEFAULT);
        let good = json(&r);
        let cases = [
            (good.replacen("\"format\":4", "\"format\":5", 1), "unknown format"),
            (good.replacen("\"name\":\"c\"", "\"name\":\"a\"", 1), "listed twice"),
            (good.replacen("\"thing\":\"c\"", "\"thing\":\"zz\"", 1), "unknown thing"),
            (good.replacen("\"deletionDue\":null", "\"deletionDue\":5", 1), "deletionDue"),
            (good.replacen("\"format\":4,\"deletionDelay\"", "\"deletionDelay\"", 1), "expected the field"),
            (good.replacen("\"inProgress\":[[\"cont\",1]]", "\"inProgress\":[]", 1), "pending lists"),
            (good.replacen("[\"step\",\"2 of 3\"]", "[\"st ep\",\"2 of 3\"]", 1), "not allowed"),
        ];
        for (text, why) in cases {
            assert_ne!(text, good, "the tampering for '{why}' must change the text");
            let err = restore(&text, Policy::DEFAULT).unwrap_err().to_string();
            assert!(err.contains(why), "{why}: got {err}");
        }
        // A table too small for the snapshot is refused, not truncated.
        let small: Result<Registry<Fixed<8, 8, 4, 8, 256>>, _> =
            Registry::restore(Fixed, Policy::DEFAULT, &mut serde_json::Deserializer::from_str(&good));
        assert!(small.unwrap_err().to_string().contains("full"));
    }
}

mod time {
    use super::*;
    use crate::config::{AbortConfig, AbortCriterion, RetryConfig, RetryCriterion, Schedule};
    use crate::status::{FailureType, JobEndBehavior, RetryableFailureType};

    fn job_with(r: &mut Reg, id: &str, targets: &[&str], config: JobConfig, now: Timestamp, log: &mut Log) {
        let id = j(id);
        let targets: Vec<ThingName> = targets.iter().map(|s| t(s)).collect();
        let job = NewJob { config, ..NewJob::new(&id, TargetSelection::Snapshot) };
        r.create_job(&job, &targets, now, log).unwrap();
    }

    fn timeout(minutes: u16) -> JobConfig {
        JobConfig { in_progress_timeout_minutes: Some(minutes), ..JobConfig::default() }
    }

    fn status(r: &Reg, job: &str, thing: &str) -> ExecutionStatus {
        r.describe_execution(&j(job), &t(thing), None, Plane::Control).unwrap().status()
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
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a", "b"]);
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
        assert_eq!(
            (e.status(), e.version(), e.last_updated_at()),
            (ExecutionStatus::TimedOut, v(3), deadline)
        );
        assert_eq!(e.approximate_seconds_before_timed_out(deadline), None);
        assert_eq!(log.take(), ["execution j1 a #1 timed_out", "notify a", "notify-next a"]);
        assert_eq!(status(&r, "j1", "b"), ExecutionStatus::Queued);
        assert_eq!(r.next_deadline(), None);
    }

    #[test]
    fn step_timers_replace_cancel_and_never_pass_the_in_progress_deadline() {
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a"]);
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
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a"]);
        create(&mut r, "j1", &["a"], T0, &mut log).unwrap();
        r.start_next(&t("a"), None, Some(StepTimeout::Minutes(2)), T0, &mut log).unwrap();
        run_until(&mut r, T0.saturating_add(120), &mut log);
        assert_eq!(status(&r, "j1", "a"), ExecutionStatus::TimedOut);
    }

    #[test]
    fn simultaneous_deadlines_fire_in_a_deterministic_order() {
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a", "b", "c"]);
        job_with(&mut r, "j1", &["c", "a", "b"], timeout(1), T0, &mut log);
        for thing in ["b", "c", "a"] {
            r.update_execution(&j("j1"), &t(thing), &update(ExecutionStatus::InProgress), T0, &mut log)
                .unwrap();
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
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a", "b"]);
        job_with(&mut r, "j1", &["a", "b"], timeout(10080), T0, &mut log);
        r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
        assert_eq!(run_until(&mut r, Timestamp(0), &mut log), 0);
        assert_eq!(status(&r, "j1", "a"), ExecutionStatus::InProgress);
        // Started 10 s before the end of u64 time: the deadline saturates and never fires.
        let late = Timestamp(u64::MAX - 10);
        r.update_execution(&j("j1"), &t("b"), &update(ExecutionStatus::InProgress), late, &mut log).unwrap();
        assert_eq!(r.describe_execution(&j("j1"), &t("b"), None, Plane::Control).unwrap().deadline(), None);
        run_until(&mut r, Timestamp(u64::MAX), &mut log);
        assert_eq!(status(&r, "j1", "a"), ExecutionStatus::TimedOut);
        assert_eq!(status(&r, "j1", "b"), ExecutionStatus::InProgress);
    }

    fn retry(criteria: &[RetryCriterion]) -> JobConfig {
        JobConfig {
            retry: Some(RetryConfig::new(criteria).unwrap()),
            in_progress_timeout_minutes: Some(1),
            ..JobConfig::default()
        }
    }

    #[test]
    fn failures_are_retried_with_new_numbers_until_the_budget_is_spent() {
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a"]);
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
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a", "b"]);
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
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a"]);
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
    fn abort_cancels_queued_executions_and_wins_over_retry() {
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a", "b", "c", "d"]);
        let abort = AbortConfig::new(&[AbortCriterion {
            failure: FailureType::Failed,
            threshold_centipercent: 5000,
            min_executed: 2,
        }])
        .unwrap();
        let retry = RetryConfig::new(&[RetryCriterion { failure: RetryableFailureType::Failed, retries: 5 }])
            .unwrap();
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

    #[test]
    fn scheduled_jobs_start_and_end() {
        for (behavior, a_after, b_after, job_after) in [
            (
                JobEndBehavior::StopRollout,
                ExecutionStatus::InProgress,
                ExecutionStatus::Queued,
                JobStatus::InProgress,
            ),
            (
                JobEndBehavior::Cancel,
                ExecutionStatus::InProgress,
                ExecutionStatus::Canceled,
                JobStatus::Canceled,
            ),
            (
                JobEndBehavior::ForceCancel,
                ExecutionStatus::Canceled,
                ExecutionStatus::Canceled,
                JobStatus::Canceled,
            ),
        ] {
            let mut r = reg();
            let mut log = Log::default();
            things(&mut r, &["a", "b"]);
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
            r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::InProgress), start, &mut log)
                .unwrap();
            assert_eq!(r.next_deadline(), Some(end));
            run_until(&mut r, end, &mut log);
            assert_eq!((status(&r, "j1", "a"), status(&r, "j1", "b")), (a_after, b_after), "{behavior}");
            assert_eq!(r.job(&j("j1")).unwrap().status(), job_after, "{behavior}");
        }
    }

    #[test]
    fn maintenance_windows_hide_queued_executions_between_windows() {
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a", "b"]);
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
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a", "b", "c", "d", "e"]);
        let config = JobConfig { maximum_per_minute: Some(2), ..JobConfig::default() };
        job_with(&mut r, "j1", &["a", "b", "c", "d", "e"], config, T0, &mut log);
        assert_eq!(r.usage().executions, 2);
        assert_eq!(r.next_deadline(), Some(T0.saturating_add(60)));
        run_until(&mut r, T0.saturating_add(59), &mut log);
        assert_eq!(r.usage().executions, 2);
        run_until(&mut r, T0.saturating_add(60), &mut log);
        assert_eq!(r.usage().executions, 4);
        // All terminal so far, but the job is not complete while targets wait.
        for thing in ["a", "b", "c", "d"] {
            r.update_execution(&j("j1"), &t(thing), &update(ExecutionStatus::Succeeded), T0, &mut log)
                .unwrap();
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
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a", "b", "c"]);
        let config = JobConfig { maximum_per_minute: Some(1), ..JobConfig::default() };
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
            Schedule::new(start.map(|s| T0.saturating_add(s)), Some((T0.saturating_add(end.0), end.1)))
                .unwrap();
        let config = JobConfig { schedule: Some(schedule), maximum_per_minute: rate, ..JobConfig::default() };
        job_with(r, id, targets, config, T0, log);
    }

    #[test]
    fn a_start_and_an_end_passed_in_one_advance_roll_out_nothing() {
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a"]);
        scheduled(&mut r, "j1", &["a"], Some(100), (200, JobEndBehavior::StopRollout), None, &mut log);
        run_until(&mut r, T0.saturating_add(200), &mut log);
        assert_eq!(r.usage().executions, 0);
        assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::Scheduled);
        assert_eq!(r.next_deadline(), None);
    }

    #[test]
    fn an_end_does_not_cancel_a_job_that_completed() {
        for behavior in [JobEndBehavior::Cancel, JobEndBehavior::ForceCancel] {
            let mut r = reg();
            let mut log = Log::default();
            things(&mut r, &["a"]);
            scheduled(&mut r, "j1", &["a"], None, (100, behavior), None, &mut log);
            r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::Succeeded), T0, &mut log).unwrap();
            run_until(&mut r, T0.saturating_add(100), &mut log);
            assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::Completed, "{behavior}");
        }
    }

    #[test]
    fn an_end_before_the_next_batch_stops_the_rollout() {
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a", "b", "c"]);
        scheduled(&mut r, "j1", &["a", "b", "c"], None, (30, JobEndBehavior::StopRollout), Some(1), &mut log);
        run_until(&mut r, T0.saturating_add(30), &mut log);
        run_until(&mut r, T0.saturating_add(600), &mut log);
        assert_eq!(r.usage().executions, 1);
    }

    #[test]
    fn an_end_while_a_window_is_closed_rolls_out_nothing_more() {
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a", "b"]);
        scheduled(&mut r, "j1", &["a", "b"], None, (120, JobEndBehavior::Cancel), Some(1), &mut log);
        r.close_window(&j("j1"), T0.saturating_add(10), &mut log).unwrap();
        run_until(&mut r, T0.saturating_add(120), &mut log);
        assert_eq!(r.usage().executions, 1);
        assert_eq!(status(&r, "j1", "a"), ExecutionStatus::Canceled);
    }

    #[test]
    fn windows_need_room_for_each_listed_or_unlisted_execution() {
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a", "b", "c"]);
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
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a", "b"]);
        job_with(
            &mut r,
            "j1",
            &["a", "b"],
            JobConfig { maximum_per_minute: Some(1), ..JobConfig::default() },
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
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a", "b"]);
        scheduled(&mut r, "j1", &["a", "b"], None, (120, JobEndBehavior::StopRollout), Some(1), &mut log);
        r.close_window(&j("j1"), T0.saturating_add(10), &mut log).unwrap();
        // The rollout timer at 60 s is stale (the window closed); the end at 120 s is next.
        assert!(r.advance(T0.saturating_add(60), usize::MAX, &mut Tight(0)).is_ok());
        assert_eq!(r.next_deadline(), Some(T0.saturating_add(120)));
    }

    #[test]
    fn a_stale_job_timer_does_nothing_and_needs_no_room() {
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a", "b"]);
        let config = JobConfig { maximum_per_minute: Some(1), ..JobConfig::default() };
        job_with(&mut r, "j1", &["a", "b"], config, T0, &mut log);
        r.cancel_job(&j("j1"), false, None, T0, &mut log).unwrap();
        // The rollout timer at 60 s is stale: it comes out without an event, even into a sink
        // with no room.
        assert!(r.advance(T0.saturating_add(60), usize::MAX, &mut Tight(0)).is_ok());
        assert_eq!(r.usage().executions, 1);
    }
}

/// Regressions found by the reference model (tests/model).
mod model_findings {
    use super::*;
    use crate::config::Schedule;
    use crate::status::JobEndBehavior;

    #[test]
    fn d1_the_requests_own_values_come_before_the_id_check() {
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a"]);
        create(&mut r, "j1", &["a"], T0, &mut log).unwrap();
        let id = j("j1");
        let config = JobConfig { maximum_per_minute: Some(0), ..JobConfig::default() };
        let bad = NewJob { config, ..NewJob::new(&id, TargetSelection::Snapshot) };
        assert!(matches!(r.create_job(&bad, &[t("a")], T0, &mut log), Err(Rejection::InvalidField(_))));
    }

    #[test]
    fn d2_a_continuous_job_completes_when_its_end_passes_with_everything_terminal() {
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a"]);
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
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a"]);
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
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a", "b"]);
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
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["t1"]);
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
}

#[test]
fn a_continuous_job_on_an_empty_group_waits_for_members() {
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["a"]);
    let id = j("c1");
    r.create_job(&NewJob::new(&id, TargetSelection::Continuous), &[], T0, &mut log).unwrap();
    assert_eq!(r.job(&id).unwrap().status(), JobStatus::InProgress);
    assert_eq!(r.add_members(&id, &[t("a")], T0, &mut log), Ok(1));
    assert_eq!(pending_ids(&r, "a"), ["c1#1:QUEUED"]);
    check(&r);
}

#[test]
fn update_job_config_applies_to_executions_not_yet_started() {
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["a", "b"]);
    let id = j("j1");
    let config = JobConfig { in_progress_timeout_minutes: Some(10), ..JobConfig::default() };
    r.create_job(
        &NewJob { config, ..NewJob::new(&id, TargetSelection::Snapshot) },
        &[t("a"), t("b")],
        T0,
        &mut log,
    )
    .unwrap();
    r.update_execution(&id, &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    let shorter = JobConfig { in_progress_timeout_minutes: Some(1), ..JobConfig::default() };
    r.update_job_config(&id, shorter, T0).unwrap();
    r.update_execution(&id, &t("b"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    // AMBIG-15: a's timer was frozen at 10 minutes; b started under the new 1 minute.
    let deadline =
        |thing: &str| r.describe_execution(&id, &t(thing), None, Plane::Control).unwrap().deadline();
    assert_eq!((deadline("a"), deadline("b")), (Some(T0.saturating_add(600)), Some(T0.saturating_add(60))));
    let bad = JobConfig { in_progress_timeout_minutes: Some(0), ..JobConfig::default() };
    assert!(matches!(r.update_job_config(&id, bad, T0), Err(Rejection::InvalidField(_))));
    assert_eq!(r.update_job_config(&j("nope"), shorter, T0), Err(Rejection::NotFound(Resource::Job)));
    // The schedule is not an UpdateJob member: a given one is ignored, the job's stays.
    let schedule = crate::config::Schedule::new(Some(T0.saturating_add(99)), None).unwrap();
    r.update_job_config(&id, JobConfig { schedule: Some(schedule), ..shorter }, T0).unwrap();
    assert_eq!(r.job(&id).unwrap().config().schedule, None);
}

mod timers {
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
        // Live deadlines: a at 50 min, b at 51, c at 52.
        assert_eq!(r.next_deadline(), Some(T0.saturating_add(50 * 60)));
        r.advance(T0.saturating_add(51 * 60), usize::MAX, &mut log).unwrap();
        let status =
            |thing: &str| r.describe_execution(&id, &t(thing), None, Plane::Control).unwrap().status();
        assert_eq!(
            (status("a"), status("b"), status("c")),
            (ExecutionStatus::TimedOut, ExecutionStatus::TimedOut, ExecutionStatus::InProgress)
        );
        assert_eq!(r.next_deadline(), Some(T0.saturating_add(52 * 60)));
    }

    #[cfg(feature = "serde")]
    #[test]
    fn a_restore_rearms_every_live_timer() {
        let mut r = reg();
        let mut log = Log::default();
        things(&mut r, &["a", "b"]);
        let id = j("j1");
        let config = JobConfig {
            in_progress_timeout_minutes: Some(10),
            maximum_per_minute: Some(1),
            ..JobConfig::default()
        };
        r.create_job(
            &NewJob { config, ..NewJob::new(&id, TargetSelection::Snapshot) },
            &[t("a"), t("b")],
            T0,
            &mut log,
        )
        .unwrap();
        r.update_execution(&id, &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
        let text = serde_json::to_string(&r.snapshot()).unwrap();
        let mut back: Reg =
            Registry::restore(Fixed, Policy::DEFAULT, &mut serde_json::Deserializer::from_str(&text))
                .unwrap();
        // The next rollout batch (60 s) and a's timeout (600 s) are both armed again.
        assert_eq!(back.next_deadline(), Some(T0.saturating_add(60)));
        back.advance(T0.saturating_add(600), usize::MAX, &mut log).unwrap();
        assert_eq!(
            back.describe_execution(&id, &t("a"), None, Plane::Control).unwrap().status(),
            ExecutionStatus::TimedOut
        );
        assert_eq!(back.usage().executions, 2);
    }
}
