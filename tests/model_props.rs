//! Model-based property tests: generated operation sequences run on the registry and on the
//! reference model of `tests/model/`, and every observable result must agree after every step.
//!
//! `PROPTEST_CASES` sets the number of cases (default 256). A failure shrinks to a short
//! sequence of [`Op`]s, printed with `Debug`.

#![allow(clippy::arithmetic_side_effects)]

mod model;

use iot_jobs_core::{
    ExecutionStatus as XS, FailureType, JobEndBehavior, JobId, JobStatus, RetryableFailureType,
};
use model::Readings;
use model::harness::{Details, Driver, Op, Roomy, Tiny};
use proptest::prelude::*;

/// Valid job ids, and a few invalid ones (R17).
fn job(n_valid: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        9 => (0..n_valid.min(3)).prop_map(|i| format!("j{i}")),
        3 => (0..n_valid).prop_map(|i| format!("j{i}")),
        1 => prop::sample::select(vec!["bad!id".to_owned(), String::new(), "$next".to_owned(), "j".repeat(65)]),
    ]
}

/// Four valid thing names (one with a colon) and a few invalid ones.
const THINGS: [&str; 4] = ["t1", "t2", "t3", "arn:t4"];

fn thing() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just("t1".to_owned()),
        6 => prop::sample::select(THINGS.to_vec()).prop_map(str::to_owned),
        1 => prop::sample::select(vec!["a/b", "", "é"]).prop_map(str::to_owned),
    ]
}

fn details() -> impl Strategy<Value = Option<Details>> {
    let key = prop_oneof![8 => prop::sample::select(vec!["k1", "k2", "step:x"]), 1 => Just("bad key")];
    let value =
        prop_oneof![8 => prop::sample::select(vec!["v", "50 %", "é"]), 1 => Just(""), 1 => Just("x\u{7}")];
    prop::option::weighted(
        0.4,
        prop::collection::vec((key, value).prop_map(|(k, v)| (k.to_owned(), v.to_owned())), 0..4),
    )
}

fn status() -> impl Strategy<Value = XS> {
    prop_oneof![
        6 => prop::sample::select(vec![XS::InProgress, XS::Succeeded, XS::Failed, XS::Rejected]),
        1 => prop::sample::select(XS::ALL.to_vec()),
    ]
}

/// Valid retry criteria (SPEC §6 Retries), or none.
fn retry() -> impl Strategy<Value = Vec<(RetryableFailureType, u8)>> {
    use RetryableFailureType::{All, Failed, TimedOut};
    let kinds = prop::sample::select(vec![
        vec![Failed],
        vec![TimedOut],
        vec![All],
        vec![Failed, TimedOut],
        vec![Failed, All],
        vec![TimedOut, All],
    ]);
    prop_oneof![
        1 => Just(Vec::new()),
        1 => (kinds, 0u8..4, 0u8..4).prop_map(|(k, a, b)| k.into_iter().zip([a, b]).collect()),
    ]
}

/// Valid abort criteria (SPEC §6 Abort), or none.
fn abort() -> impl Strategy<Value = Vec<(FailureType, u16, u32)>> {
    let criterion = (
        prop::sample::select(FailureType::ALL.to_vec()),
        prop::sample::select(vec![0u16, 3_333, 5_000, 10_000]),
        1u32..4,
    );
    prop_oneof![
        2 => Just(Vec::new()),
        1 => criterion.prop_map(|c| vec![c]),
    ]
}

/// `inProgressTimeoutInMinutes`: none, short valid ones, or out of range (SPEC §6 Timeouts).
fn in_progress_timeout() -> impl Strategy<Value = Option<u64>> {
    prop_oneof![
        4 => Just(None),
        3 => (1u64..4).prop_map(Some),
        1 => prop::sample::select(vec![0u64, 10080, 10081]).prop_map(Some),
    ]
}

/// `maximumPerMinute`: none, small enough that pacing matters with a few targets, or 0 (invalid).
fn rate() -> impl Strategy<Value = Option<u32>> {
    prop_oneof![3 => Just(None), 3 => (1u32..4).prop_map(Some), 1 => Just(Some(0))]
}

/// A valid `exponentialRate`: a small base, factor 1.1 to 3, one or both criteria.
fn exponential() -> impl Strategy<Value = Option<model::Exponential>> {
    let criterion = || prop::option::of(1u32..4);
    prop::option::weighted(
        0.25,
        (1u16..4, 11u8..31, criterion(), criterion())
            .prop_map(|(b, f, n, s)| (b, f, n, if n.is_none() && s.is_none() { Some(1) } else { s })),
    )
}

fn end_behavior() -> impl Strategy<Value = JobEndBehavior> {
    prop::sample::select(vec![
        JobEndBehavior::Cancel,
        JobEndBehavior::StopRollout,
        JobEndBehavior::ForceCancel,
    ])
}

/// No namespace, or one of two (SPEC R20).
fn namespace() -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(0.4, prop::sample::select(vec!["n1".to_owned(), "n2".to_owned()]))
}

fn small() -> impl Strategy<Value = u64> {
    prop_oneof![10 => 0u64..5, 1 => Just(u64::MAX)]
}

fn op(jobs: usize, room: bool) -> impl Strategy<Value = Op> {
    let j = move || job(jobs);
    let schedule = prop_oneof![
        6 => Just((None, None)),
        1 => (0u64..50).prop_map(|s| (Some(s), None)),
        1 => (0u64..30, 0u64..50).prop_map(|(s, e)| (Some(s), Some(e))),
        1 => (0u64..50).prop_map(|e| (None, Some(e))),
    ];
    let sink = if room { prop::option::of(0usize..8).boxed() } else { Just(None).boxed() };
    prop_oneof![
        1 => thing().prop_map(Op::AddThing),
        1 => thing().prop_map(Op::RemoveThing),
        4 => (
            (j(), any::<bool>(), schedule, prop::collection::vec(thing(), 0..4), retry(), abort()),
            (end_behavior(), in_progress_timeout(), rate(), prop::option::weighted(0.25, 0u8..4), exponential(), namespace()),
        )
            .prop_map(
                |(
                    (job, continuous, (start, end), targets, retry, abort),
                    (end_behavior, timeout, rate, windows, exponential, namespace),
                )| {
                    Op::CreateJob {
                        job,
                        continuous,
                        start,
                        end,
                        targets,
                        retry,
                        abort,
                        end_behavior,
                        timeout,
                        rate,
                        windows,
                        exponential,
                        namespace,
                    }
                }
            ),
        2 => (j(), prop::collection::vec(thing(), 0..3), any::<bool>())
            .prop_map(|(job, things, counted)| Op::AddTargets { job, things, counted }),
        1 => (j(), thing()).prop_map(|(job, thing)| Op::RemoveTarget { job, thing }),
        2 => (j(), any::<bool>(), prop::option::weighted(0.2, prop::sample::select(vec!["OPS", "bad"])))
            .prop_map(|(job, force, r)| Op::CancelJob { job, force, reason: r.map(str::to_owned) }),
        3 => (j(), any::<bool>()).prop_map(|(job, force)| Op::DeleteJob { job, force }),
        2 => (j(), thing(), any::<bool>(), prop::option::weighted(0.3, small()), details()).prop_map(
            |(job, thing, force, expected, details)| Op::CancelExecution { job, thing, force, expected, details }
        ),
        2 => (j(), thing(), small(), any::<bool>())
            .prop_map(|(job, thing, number, force)| Op::DeleteExecution { job, thing, number, force }),
        6 => (
            j(),
            thing(),
            status(),
            prop::option::weighted(0.3, small()),
            prop::option::weighted(0.2, small()),
            details(),
            prop::option::weighted(0.2, prop::sample::select(vec![-1i64, 0, 1, 5, 10080, 10081])),
        )
            .prop_map(|(job, thing, status, expected, number, details, step)| Op::Update {
                job,
                thing,
                status,
                expected,
                number,
                details,
                step
            }),
        3 => (thing(), details(), prop::option::weighted(0.2, prop::sample::select(vec![-1i64, 1, 3])))
            .prop_map(|(thing, details, step)| Op::StartNext { thing, details, step }),
        2 => (j(), thing(), prop::option::weighted(0.3, small()), any::<bool>())
            .prop_map(|(job, thing, number, data_plane)| Op::Describe { job, thing, number, data_plane }),
        3 => (prop_oneof![4 => -20i64..60, 1 => 60i64..200], prop_oneof![3 => Just(usize::MAX), 1 => 0usize..3])
            .prop_map(|(dt, budget)| Op::Advance { dt, budget }),
        1 => (prop_oneof![1 => 0i64..60, 1 => 60i64..400], prop_oneof![3 => Just(usize::MAX), 1 => 0usize..3])
            .prop_map(|(dt, budget)| Op::AdvanceThrough { dt, budget }),
        1 => j().prop_map(Op::OpenWindow),
        1 => j().prop_map(Op::CloseWindow),
        1 => (-30i64..30).prop_map(Op::Clock),
        1 => prop::sample::select(vec![0u64, 5, 40]).prop_map(Op::SetDeletionDelay),
        1 => sink.prop_map(Op::SinkRoom),
    ]
}

fn run<S: iot_jobs_core::registry::Storage>(d: &mut Driver<S>, ops: &[Op]) -> Result<(), TestCaseError> {
    run_checking(d, ops, |_| Ok(()))
}

/// [`run`], with `after` checking the state after every step.
fn run_checking<S: iot_jobs_core::registry::Storage>(
    d: &mut Driver<S>,
    ops: &[Op],
    mut after: impl FnMut(&Driver<S>) -> Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    for t in &THINGS[..3] {
        d.step(&Op::AddThing((*t).to_owned())).map_err(TestCaseError::fail)?;
    }
    for (i, op) in ops.iter().enumerate() {
        d.step(op).map_err(|e| TestCaseError::fail(format!("step {i}: {e}")))?;
        after(d).map_err(|e| TestCaseError::fail(format!("after step {i}: {e}")))?;
    }
    Ok(())
}

/// Every state the operations reach is one a snapshot holds and a restore takes back whole: a
/// restore's checks (`rules::job_holds`, the numbering, the targets) refuse only states the
/// registry never makes, so no state a host saved is refused when it loads it again.
#[cfg(feature = "serde")]
fn restores<S: iot_jobs_core::registry::Storage>(d: &Driver<S>, fresh: S) -> Result<(), TestCaseError> {
    let saved = serde_json::to_string(&d.reg.snapshot()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let mut de = serde_json::Deserializer::from_str(&saved);
    let back = iot_jobs_core::registry::Registry::restore(fresh, *d.reg.policy(), &mut de).map_err(|e| {
        TestCaseError::fail(format!("a state the operations reached does not restore: {e}\n{saved}"))
    })?;
    let again = serde_json::to_string(&back.snapshot()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(again, saved, "the restored state differs");
    Ok(())
}

#[cfg(not(feature = "serde"))]
fn restores<S: iot_jobs_core::registry::Storage>(_: &Driver<S>, _: S) -> Result<(), TestCaseError> {
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    /// With tables that never fill, the registry answers every operation as the model does.
    #[test]
    #[cfg_attr(miri, ignore)]
    fn registry_agrees_with_the_model(ops in prop::collection::vec(op(12, false), 1..60)) {
        let mut d = Driver::new(Roomy {}, Readings::SPEC, &THINGS);
        run_checking(&mut d, &ops, |d| restores(d, Roomy {}))?;
    }

    /// The room an operation asks of the event sink exceeds the events it emits by at most
    /// [`SLACK`](model::harness::SLACK) (a constant: a reservation is made before the operation knows which of its
    /// branches it takes), never by a number that grows with the job's executions (D15, D16).
    /// With room for the events the model says it emits and `SLACK` more, no operation is
    /// `Throttled` (`advance`: for the events of all the transitions of one call), and every
    /// answer agrees with the model.
    #[test]
    #[cfg_attr(miri, ignore)]
    fn a_sink_with_room_for_the_events_does_not_throttle(ops in prop::collection::vec(op(6, false), 1..60)) {
        let mut d = Driver::new(Roomy {}, Readings::SPEC, &THINGS);
        d.slack = true;
        run(&mut d, &ops)?;
    }

    /// With tiny tables and sinks: a refusal for room changes nothing and emits nothing; every
    /// other answer still agrees with the model.
    #[test]
    #[cfg_attr(miri, ignore)]
    fn full_tables_refuse_atomically(ops in prop::collection::vec(op(4, true), 1..40)) {
        let mut d = Driver::new(Tiny {}, Readings::SPEC, &THINGS);
        d.capacity_mode = true;
        run_checking(&mut d, &ops, |d| restores(d, Tiny {}))?;
        prop_assert!(d.log.is_empty(), "a full table hid the request's own refusal:\n{}", d.log);
    }
}

/// Runs `ops` on the registry (tables that never fill) and the model; the first disagreement is
/// the error.
fn agreed(ops: &[Op]) -> Result<Driver<Roomy>, TestCaseError> {
    let mut d = Driver::new(Roomy {}, Readings::SPEC, &THINGS);
    run(&mut d, ops)?;
    Ok(d)
}

fn create(job: &str, targets: &[&str]) -> Op {
    create_with(job, targets, Vec::new(), Vec::new())
}

/// CreateJob with a schedule (start and end in seconds from now) and no retry or abort.
fn cj(job: &str, continuous: bool, start: Option<u64>, end: Option<u64>, targets: &[&str]) -> Op {
    configured(job, targets, Config { continuous, start, end, ..Config::default() })
}

/// The CreateJob members of the timeout, rollout and scheduling regressions.
#[derive(Default)]
struct Config {
    continuous: bool,
    start: Option<u64>,
    end: Option<u64>,
    end_behavior: Option<JobEndBehavior>,
    timeout: Option<u64>,
    rate: Option<u32>,
    windows: Option<u8>,
    exponential: Option<model::Exponential>,
}

fn configured(job: &str, targets: &[&str], c: Config) -> Op {
    Op::CreateJob {
        job: job.to_owned(),
        continuous: c.continuous,
        start: c.start,
        end: c.end,
        targets: targets.iter().map(|t| (*t).to_owned()).collect(),
        retry: Vec::new(),
        abort: Vec::new(),
        end_behavior: c.end_behavior.unwrap_or(JobEndBehavior::Cancel),
        timeout: c.timeout,
        rate: c.rate,
        windows: c.windows,
        exponential: c.exponential,
        namespace: None,
    }
}

fn advance(dt: i64) -> Op {
    Op::Advance { dt, budget: usize::MAX }
}

fn update(job: &str, thing: &str, status: XS) -> Op {
    Op::Update {
        job: job.to_owned(),
        thing: thing.to_owned(),
        status,
        expected: None,
        number: None,
        details: None,
        step: None,
    }
}

/// D3: a progress report of the head must not reorder the pending list (SPEC 7.2: notify-next
/// is "not sent when only the head's details change"). The registry used to move a re-updated
/// IN_PROGRESS execution behind the others and send notify-next.
#[test]
fn repeated_in_progress_update_keeps_the_head() {
    let ops = [
        create("j0", &["t1"]),
        create("j1", &["t1"]),
        update("j0", "t1", XS::InProgress),
        update("j1", "t1", XS::InProgress),
        // A progress report of the head: SPEC 7.2 "not sent when only the head's details change".
        update("j0", "t1", XS::InProgress),
    ];
    agreed(&ops).unwrap();
}

/// D5: remove_thing must not push more events than it asked the sink room for (the
/// `EventSink` contract). It used to reserve room for the thing's visible pending list, then
/// also REMOVE the pending executions of its jobs being deleted, each with an event; a
/// `heapless::Deque` sink silently dropped the surplus. Every step of every property checks
/// this contract too.
#[test]
fn remove_thing_stays_within_the_room_it_reserved() {
    let ops = [
        create("j1", &["t1"]),
        create("j2", &["t1"]),
        Op::DeleteJob { job: "j1".to_owned(), force: true },
        Op::SinkRoom(Some(4)),
        Op::RemoveThing("t1".to_owned()),
    ];
    let mut d = Driver::new(Tiny {}, Readings::SPEC, &THINGS);
    d.capacity_mode = true;
    run(&mut d, &ops).unwrap();
}

/// `advance` is resumable rather than atomic when the sink fills (its documented contract): with
/// a sink of any small room and any budget, calling it again until nothing is due ends in the
/// same state, with the same events in the same order, as one call with room to spare.
#[test]
fn advance_resumes_after_throttling() {
    use iot_jobs_core::registry::{Event, EventSink, NewJob, Registry};
    use iot_jobs_core::{JobId, Policy, TargetSelection, ThingName, Timestamp};

    struct Room(usize, Vec<String>);
    impl EventSink for Room {
        fn room(&self) -> usize {
            self.0
        }
        fn push(&mut self, e: Event) {
            self.0 = self.0.checked_sub(1).expect("pushed past the room it announced");
            self.1.push(format!("{e:?}"));
        }
    }
    let now = Timestamp(100);
    let build = || {
        let mut r: Registry<Roomy> = Registry::new(Roomy {}, Policy::DEFAULT);
        let mut sink = Room(usize::MAX, Vec::new());
        let things: Vec<ThingName> = ["a", "b", "c"].iter().map(|t| ThingName::new(t).unwrap()).collect();
        for t in &things {
            r.add_thing(t).unwrap();
        }
        for j in ["j1", "j2", "j3"] {
            let id = JobId::new(j).unwrap();
            r.create_job(&NewJob::new(&id, TargetSelection::Snapshot), &things, now, &mut sink).unwrap();
            r.delete_job(&id, true, now, &mut sink).unwrap();
        }
        r
    };
    let mut reference = build();
    let mut all = Room(usize::MAX, Vec::new());
    reference.advance(now, usize::MAX, &mut all).unwrap();
    for room in 0..4 {
        for budget in [1, 2, usize::MAX] {
            let mut r = build();
            let mut log = Vec::new();
            for _ in 0..100 {
                let mut sink = Room(room, Vec::new());
                let step = r.advance(now, budget, &mut sink);
                log.append(&mut sink.1);
                match step {
                    Ok(a) if !a.more => break,
                    Ok(_) | Err(iot_jobs_core::Rejection::Throttled) => {}
                    Err(e) => panic!("{e:?}"),
                }
            }
            if room == 0 {
                assert_eq!(r.jobs_deleting(), 3, "no room: nothing may happen");
                continue;
            }
            assert_eq!(r.jobs_deleting(), 0, "room {room}, budget {budget}");
            assert_eq!(r.usage(), reference.usage());
            assert_eq!(log, all.1, "room {room}, budget {budget}");
        }
    }
}

fn create_with(
    job: &str,
    targets: &[&str],
    retry: Vec<(RetryableFailureType, u8)>,
    abort: Vec<(FailureType, u16, u32)>,
) -> Op {
    let targets = targets.iter().map(|t| (*t).to_owned()).collect();
    Op::CreateJob {
        job: job.to_owned(),
        continuous: false,
        start: None,
        end: None,
        targets,
        retry,
        abort,
        end_behavior: JobEndBehavior::Cancel,
        timeout: None,
        rate: None,
        windows: None,
        exponential: None,
        namespace: None,
    }
}

/// The model and the registry agree on every retry of a FAILED execution up to the
/// criterion's count, and on none after it (SPEC T12, §6 Retries); the model must also say
/// that a retry happened (the 3rd execution exists, the 4th does not).
#[test]
fn retries_agree_with_the_model() {
    use RetryableFailureType::{All, Failed};
    for retry in [vec![(Failed, 2)], vec![(All, 2)], vec![(Failed, 2), (All, 0)]] {
        let mut ops = vec![create_with("j0", &["t1"], retry, Vec::new())];
        for _ in 0..4 {
            ops.push(update("j0", "t1", XS::Failed));
        }
        let d = agreed(&ops).unwrap();
        let numbers: Vec<u64> = d.model.job_execs("j0").iter().map(|e| e.number).collect();
        assert_eq!(numbers, [1, 2, 3]);
    }
}

/// Abort: the model and the registry agree on when a job is canceled by its criteria (SPEC
/// §6 Abort): with threshold 50 % after 2 executions, one failure of two aborts.
#[test]
fn abort_agrees_with_the_model() {
    for (threshold, aborted) in [(5_000u16, true), (5_001, false)] {
        let ops = [
            create_with("j0", &["t1", "t2", "t3"], Vec::new(), vec![(FailureType::Failed, threshold, 2)]),
            update("j0", "t1", XS::Succeeded),
            update("j0", "t2", XS::Failed),
        ];
        let d = agreed(&ops).unwrap();
        let job = &d.model.jobs["j0"];
        assert_eq!(job.status == iot_jobs_core::JobStatus::Canceled, aborted, "{threshold}");
        assert_eq!(job.reason.is_some(), aborted);
    }
}

/// A schedule's end cancels a job, then the rollout of a job that starts at the same `advance`
/// finds the executions table full: what was applied stays applied, the start that did not fit
/// (with its first batch) stays due (`advance` is resumable, not atomic), and the registry's
/// invariants hold.
#[test]
fn an_advance_stopped_by_a_full_table_keeps_what_it_applied() {
    let ops = [
        cj("j2", true, None, None, &[]),
        cj("j3", false, Some(1), None, &["t1"]),
        cj("j1", true, None, Some(0), &["t1", "t3"]),
        update("j1", "t1", XS::Succeeded),
        cj("j0", false, None, None, &[]),
        Op::AddTargets {
            job: "j2".to_owned(),
            things: vec!["t1".to_owned(), "t2".to_owned()],
            counted: false,
        },
        Op::AddTargets {
            job: "j1".to_owned(),
            things: vec!["t1".to_owned(), "t2".to_owned()],
            counted: false,
        },
        Op::AddThing("t1".to_owned()),
        Op::Advance { dt: 1, budget: usize::MAX },
    ];
    let mut d = Driver::new(Tiny {}, Readings::SPEC, &THINGS);
    d.capacity_mode = true;
    run(&mut d, &ops).unwrap();
    assert_eq!(d.reg.job(&JobId::new("j1").unwrap()).unwrap().status(), JobStatus::Canceled);
    // The start checks the room for its first batch before it changes anything.
    assert_eq!(d.reg.job(&JobId::new("j3").unwrap()).unwrap().status(), JobStatus::Scheduled);
    assert!(d.reg.next_deadline().is_some_and(|t| t.secs() <= d.now), "the start stays due");
}

/// Found by CI's random 256-case run of `full_tables_refuse_atomically`.
#[test]
fn scheduled_ends_at_the_same_second_both_apply() {
    let ops = [
        cj("j2", false, Some(1), Some(25), &["t1"]),
        cj("j0", true, Some(1), Some(25), &[]),
        Op::Advance { dt: 14, budget: usize::MAX },
        Op::Clock(0),
        cj("j1", false, Some(1), Some(24), &["t1"]),
        Op::Advance { dt: 11, budget: usize::MAX },
    ];
    let mut d = Driver::new(Tiny {}, Readings::SPEC, &THINGS);
    d.capacity_mode = true;
    run(&mut d, &ops).unwrap();
}

/// The in-progress timer (SPEC T7, §3 timer facts, AMBIG-15): it starts when the execution
/// enters IN_PROGRESS, a step timer never runs past it (5 minutes asked, 2 left), -1 leaves only
/// it, and the execution times out when it runs out, not a second earlier.
#[test]
fn in_progress_timeouts_agree_with_the_model() {
    let step = |s: i64| Op::Update {
        job: "j0".to_owned(),
        thing: "t1".to_owned(),
        status: XS::InProgress,
        expected: None,
        number: None,
        details: None,
        step: Some(s),
    };
    let ops = [
        configured("j0", &["t1", "t2"], Config { timeout: Some(2), ..Config::default() }),
        Op::Clock(30),
        update("j0", "t1", XS::InProgress),
        step(5),
        step(-1),
        step(1),
        advance(59),
        step(5),
        advance(60),
    ];
    let mut d = agreed(&ops).unwrap();
    let started = model::harness::T0 + 30;
    assert_eq!(d.model.job_execs("j0")[0].deadline, Some(started + 120), "capped by the in-progress timer");
    d.step(&advance(0)).unwrap();
    assert_eq!(d.model.job_execs("j0")[0].status, XS::InProgress);
    d.step(&advance(1)).unwrap();
    assert_eq!(d.model.job_execs("j0")[0].status, XS::TimedOut);
    // QUEUED executions never time out.
    d.step(&advance(10_000)).unwrap();
    assert_eq!(d.model.job_execs("j0")[1].status, XS::Queued);
}

/// Maintenance windows (SPEC §2 SCHEDULED ⇄ IN_PROGRESS, AMBIG-13): a window closing takes the
/// job back to SCHEDULED and its QUEUED executions off the devices' lists (the running one
/// stays); opening lists them again; each is refused in the other status.
#[test]
fn maintenance_windows_agree_with_the_model() {
    let open = || Op::OpenWindow("j0".to_owned());
    let close = || Op::CloseWindow("j0".to_owned());
    let ops = [
        create("j0", &["t1", "t2"]),
        create("j1", &["t1"]),
        update("j0", "t1", XS::InProgress),
        open(),
        close(),
        close(),
        update("j1", "t1", XS::Succeeded),
    ];
    let mut d = agreed(&ops).unwrap();
    assert_eq!(d.model.jobs["j0"].status, JobStatus::Scheduled);
    assert_eq!(d.model.pending("t1").len(), 1, "the running execution stays listed");
    assert!(d.model.pending("t2").is_empty(), "the QUEUED one is not listed between windows");
    d.step(&open()).unwrap();
    assert_eq!(d.model.jobs["j0"].status, JobStatus::InProgress);
    assert_eq!(d.model.pending("t2").len(), 1);
    let refused = d.model.clone().apply(&model::Req::OpenWindow("j0"), d.now).0;
    assert_eq!(refused.unwrap_err().name, model::INVALID_REQUEST);
}

/// Rollout pacing (SPEC §6 Rollout): `maximumPerMinute` 2 over three targets queues two now and
/// the third a minute later, not a second earlier; a SNAPSHOT job whose rolled-out executions
/// are all done still waits for its last batch.
#[test]
fn rollout_pacing_agrees_with_the_model() {
    let ops = [
        configured("j0", &["t1", "t2", "t3"], Config { rate: Some(2), ..Config::default() }),
        update("j0", "t1", XS::Succeeded),
        update("j0", "t2", XS::Succeeded),
        advance(59),
    ];
    let mut d = agreed(&ops).unwrap();
    assert_eq!(d.model.job_execs("j0").len(), 2);
    assert_eq!(d.model.jobs["j0"].status, JobStatus::InProgress, "t3 still waits");
    d.step(&advance(1)).unwrap();
    assert_eq!(d.model.job_execs("j0").len(), 3);
    d.step(&update("j0", "t3", XS::Succeeded)).unwrap();
    assert_eq!(d.model.jobs["j0"].status, JobStatus::Completed);
}

/// The schedule's end (AMBIG-12), one running and one QUEUED execution: STOP_ROLLOUT leaves both
/// and stops the rollout (t3 never gets one); CANCEL cancels the QUEUED one; FORCE_CANCEL both,
/// and the job is `forceCanceled`.
#[test]
fn end_behaviours_agree_with_the_model() {
    use JobEndBehavior::{Cancel, ForceCancel, StopRollout};
    for (behavior, status, t1, t2) in [
        (StopRollout, JobStatus::InProgress, XS::InProgress, XS::Queued),
        (Cancel, JobStatus::Canceled, XS::InProgress, XS::Canceled),
        (ForceCancel, JobStatus::Canceled, XS::Canceled, XS::Canceled),
    ] {
        let config =
            Config { end: Some(90), end_behavior: Some(behavior), rate: Some(2), ..Config::default() };
        let ops =
            [configured("j0", &["t1", "t2", "t3"], config), update("j0", "t1", XS::InProgress), advance(90)];
        let mut d = agreed(&ops).unwrap();
        // The batch due at 60 goes out before the end at 90 (in due order), so t3 has one.
        let execs = d.model.job_execs("j0");
        assert_eq!(execs.iter().map(|e| e.status).collect::<Vec<_>>()[..2], [t1, t2], "{behavior:?}");
        assert_eq!(d.model.jobs["j0"].status, status, "{behavior:?}");
        assert_eq!(d.model.jobs["j0"].force_canceled, behavior == ForceCancel);
        d.step(&advance(600)).unwrap();
    }
    // STOP_ROLLOUT before the last batch: the remaining target never gets an execution.
    let config =
        Config { end: Some(30), end_behavior: Some(StopRollout), rate: Some(1), ..Config::default() };
    let ops = [configured("j0", &["t1", "t2"], config), advance(30), advance(600)];
    let d = agreed(&ops).unwrap();
    assert_eq!(d.model.job_execs("j0").len(), 1);
}

/// D11: a thing deleted before the rollout reached it gets no execution (SPEC T10: no longer a
/// valid target), at a scheduled start or in a later batch; the batch's room goes to the next.
#[test]
fn a_rollout_passes_over_deleted_things() {
    let ops = [
        cj("j0", false, Some(1), None, &["t3"]),
        configured("j1", &["t1", "t3", "t2"], Config { rate: Some(1), ..Config::default() }),
        Op::RemoveThing("t3".to_owned()),
        advance(1),
        advance(59),
    ];
    let d = agreed(&ops).unwrap();
    assert!(d.model.job_execs("j0").is_empty());
    assert_eq!(d.model.jobs["j0"].status, JobStatus::Completed);
    let things: Vec<String> = d.model.job_execs("j1").into_iter().map(|e| e.thing).collect();
    assert_eq!(things, ["t1", "t2"]);
}

/// D12: a target the paced rollout has yet to reach, associated again, keeps its place and gets
/// one execution, from the rollout (SPEC T1, T13: one pending execution per job and thing; R26).
#[test]
fn a_rollout_reaches_each_target_once() {
    let ops = [
        configured("j0", &["t1", "t2"], Config { continuous: true, rate: Some(1), ..Config::default() }),
        Op::AddTargets { job: "j0".to_owned(), things: vec!["t2".to_owned()], counted: true },
        advance(60),
        advance(60),
    ];
    let d = agreed(&ops).unwrap();
    assert_eq!(d.model.job_execs("j0").len(), 2);
}

/// SPEC R26: new targets of a paced rollout with targets left (a group's joiner, an associated
/// thing) wait behind them, a batch a minute; once it has reached every target, a joiner is
/// queued at once. The model and the registry agree at every step.
#[test]
fn new_targets_wait_for_a_paced_rollout() {
    let add = |things: &[&str], counted| Op::AddTargets {
        job: "j0".to_owned(),
        things: things.iter().map(|t| (*t).to_owned()).collect(),
        counted,
    };
    let ops = [configured("j0", &["t1"], Config { continuous: true, rate: Some(1), ..Config::default() })];
    let mut d = agreed(&ops).unwrap();
    let reached =
        |d: &Driver<Roomy>| d.model.job_execs("j0").into_iter().map(|e| e.thing).collect::<Vec<_>>();
    // The first batch took t1, so the rollout's minute has not come: nothing is left to reach.
    d.step(&add(&["t2"], false)).unwrap();
    assert_eq!(reached(&d), ["t1", "t2"], "queued at once");
    let ops =
        [configured("j0", &["t1", "t2"], Config { continuous: true, rate: Some(1), ..Config::default() })];
    let mut d = agreed(&ops).unwrap();
    d.step(&add(&["t3"], false)).unwrap();
    d.step(&Op::AddThing("t4".to_owned())).unwrap();
    d.step(&add(&["t4", "t2"], true)).unwrap();
    assert_eq!(d.model.jobs["j0"].targets.len(), 3);
    assert_eq!(reached(&d), ["t1"]);
    for (minute, want) in
        [(1, vec!["t1", "t2"]), (2, vec!["t1", "t2", "t3"]), (3, vec!["t1", "t2", "t3", "t4"])]
    {
        d.step(&advance(60)).unwrap();
        assert_eq!(reached(&d), want, "minute {minute}");
    }
}

/// The last target a paced CONTINUOUS rollout had to reach leaves it after the job's end came
/// (and before `advance` applied it): every execution is terminal and the end has passed, so
/// the job completes then (SPEC §2), in the registry and the model alike (found by the CI's
/// property run).
#[test]
fn the_last_unreached_target_leaving_after_the_end_completes_the_job() {
    let config = Config { continuous: true, rate: Some(1), end: Some(16), ..Config::default() };
    let remove = |thing: &str| Op::RemoveTarget { job: "j0".to_owned(), thing: thing.to_owned() };
    let ops = [configured("j0", &["t1", "t3"], config), remove("t1"), Op::Clock(16), remove("t3")];
    let d = agreed(&ops).unwrap();
    assert_eq!(d.model.jobs["j0"].status, JobStatus::Completed);
}

/// A window that opens again within a minute of the last batch does not send the next one early
/// (SPEC §6 Rollout: at most `maximumPerMinute` a minute); it goes out when its minute comes.
#[test]
fn a_window_opening_keeps_the_rollout_pace() {
    let ops = [
        configured("j0", &["t1", "t2", "t3"], Config { rate: Some(1), ..Config::default() }),
        Op::Clock(10),
        Op::CloseWindow("j0".to_owned()),
        Op::Clock(10),
        Op::OpenWindow("j0".to_owned()),
        advance(39),
    ];
    let mut d = agreed(&ops).unwrap();
    assert_eq!(d.model.job_execs("j0").len(), 1);
    d.step(&advance(1)).unwrap();
    assert_eq!(d.model.job_execs("j0").len(), 2);
}

/// D13: a SNAPSHOT job with nothing to do that starts because a maintenance window opens is
/// complete at once (SPEC §2), as it is when it starts at its `startTime`.
#[test]
fn a_window_opening_completes_a_job_with_nothing_to_do() {
    let ops = [cj("j0", false, Some(1), None, &[]), Op::OpenWindow("j0".to_owned())];
    let d = agreed(&ops).unwrap();
    assert_eq!(d.model.jobs["j0"].status, JobStatus::Completed);
}

/// A timeout and the schedule's end due at the same instant: the timeout comes first, the
/// SNAPSHOT job is then complete (SPEC §2), and its end (FORCE_CANCEL) finds it no longer live.
#[test]
fn a_job_completed_by_a_timeout_ignores_its_end() {
    let config = Config {
        end: Some(60),
        end_behavior: Some(JobEndBehavior::ForceCancel),
        timeout: Some(1),
        ..Config::default()
    };
    let next = Op::StartNext { thing: "t1".to_owned(), details: None, step: None };
    let ops = [configured("j0", &["t1"], config), next, advance(60)];
    let d = agreed(&ops).unwrap();
    assert_eq!(d.model.jobs["j0"].status, JobStatus::Completed);
    assert_eq!(d.model.job_execs("j0")[0].status, XS::TimedOut);
}

/// Maintenance windows (SPEC §2, AMBIG-28): a paced job with a window of 2 minutes every 5 opens,
/// rolls out, closes and opens again in step with the model, through short and long advances,
/// a manual window change, a start inside and outside a window, and its end.
#[test]
fn maintenance_windows_step_with_the_model() {
    let windowed = |job: &str, start, end, windows| {
        configured(
            job,
            &["t1", "t2"],
            Config { start, end, rate: Some(1), windows: Some(windows), ..Config::default() },
        )
    };
    let ops = [
        windowed("j0", None, None, 1),
        windowed("j1", Some(200), Some(900), 0),
        Op::Advance { dt: 100, budget: usize::MAX },
        Op::Advance { dt: 60, budget: usize::MAX },
        update("j0", "t1", XS::InProgress),
        Op::Advance { dt: 150, budget: 1 },
        Op::CloseWindow("j1".to_owned()),
        Op::Advance { dt: 700, budget: usize::MAX },
        Op::OpenWindow("j0".to_owned()),
        Op::Advance { dt: 45, budget: usize::MAX },
    ];
    let d = agreed(&ops).unwrap();
    // Both jobs reached both targets over their windows; j1's end stopped its windows.
    assert_eq!(d.model.jobs["j0"].reached.len(), 2);
    assert!(d.model.jobs["j1"].ended);
}

/// An exponential rollout (SPEC §6 Rollout, AMBIG-29) by notified and by succeeded things, capped
/// and not, in step with the model.
#[test]
fn exponential_rollouts_step_with_the_model() {
    let ramped = |job: &str, exponential, rate| {
        let things = ["t1", "t2", "t3", "t4"];
        configured(job, &things, Config { rate, exponential: Some(exponential), ..Config::default() })
    };
    let ops = [
        Op::AddThing("t4".to_owned()),
        ramped("j0", (1, 20, Some(1), None), None),
        ramped("j1", (1, 15, None, Some(1)), Some(2)),
        Op::Advance { dt: 60, budget: usize::MAX },
        update("j1", "t1", XS::Succeeded),
        update("j1", "t2", XS::Succeeded),
        // Two successes: 1.5 then 2.25 things a minute, a batch of two.
        Op::Advance { dt: 60, budget: usize::MAX },
    ];
    let d = agreed(&ops).unwrap();
    assert_eq!(d.model.jobs["j0"].reached.len(), 4);
    assert_eq!(d.model.jobs["j1"].reached.len(), 4);
}

/// D16: CancelJob asked the sink for room for each execution it cancels, its event and its
/// notifications, also for those no pending list shows (a SCHEDULED job's QUEUED executions,
/// canceled without a notification): 4 events each more than it emits for a job with a
/// namespace. Found by `a_sink_with_room_for_the_events_does_not_throttle` with its slack on
/// every operation; now a cancel needs room for what it emits and `SLACK` more. (An abort
/// cannot meet this case: only an IN_PROGRESS job aborts, and its QUEUED executions are listed.)
#[test]
fn a_cancel_asks_room_only_for_what_the_pending_lists_show() {
    let mut create = create("j0", &["t1", "t2", "t3"]);
    if let Op::CreateJob { namespace, .. } = &mut create {
        *namespace = Some("n1".to_owned());
    }
    let ops = [
        create,
        // The job becomes SCHEDULED: its QUEUED executions leave the pending lists (AMBIG-13).
        Op::CloseWindow("j0".to_owned()),
        Op::CancelJob { job: "j0".to_owned(), force: false, reason: None },
    ];
    let mut d = Driver::new(Roomy {}, Readings::SPEC, &THINGS);
    d.slack = true;
    run(&mut d, &ops).unwrap();
    assert_eq!(d.model.jobs["j0"].status, JobStatus::Canceled);
}
