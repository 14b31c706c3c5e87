//! The registry's public surface beyond the lifecycle rules: sinks, views, handles, cursors,
//! `Debug` output, and lookups in a crowded index (probe chains shared by different keys).

// `#[test]`s may unwrap, expect, panic and index (clippy.toml); the helpers here need it too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation
)]

// The crate's re-export, so that an application needs no `heapless` of its own.
use iot_jobs_core::heapless;
use iot_jobs_core::registry::{Discard, Event, EventSink, Fixed, NewJob, Registry, Storage};
use iot_jobs_core::{
    ExecutionStatus, JobId, JobStatus, NamespaceId, Plane, Policy, Rejection, TargetSelection, ThingName,
    Timestamp,
};

const T0: Timestamp = Timestamp(1_700_000_000);

fn j(s: &str) -> JobId {
    JobId::new(s).unwrap()
}

fn t(s: &str) -> ThingName {
    ThingName::new(s).unwrap()
}

#[test]
fn a_heapless_deque_is_a_sink_that_reports_its_room() {
    let mut r: Registry<Fixed<4, 4, 8, 2, 64>> = Registry::new(Fixed, Policy::DEFAULT);
    r.add_thing(&t("a")).unwrap();
    let mut q: heapless::Deque<Event, 3> = heapless::Deque::new();
    assert_eq!(q.room(), 3);
    r.create_job(&NewJob::new(&j("j1"), TargetSelection::Snapshot), &[t("a")], T0, &mut q).unwrap();
    assert_eq!(q.iter().cloned().collect::<Vec<_>>(), [Event::Notify(t("a")), Event::NotifyNext(t("a"))]);
    assert_eq!(q.room(), 1);
    // Two events do not fit in the one place left: refused, nothing queued.
    let e = r.create_job(&NewJob::new(&j("j2"), TargetSelection::Snapshot), &[t("a")], T0, &mut q);
    assert_eq!(e, Err(Rejection::Throttled));
    assert!(r.job(&j("j2")).is_err());
    q.clear();
    r.create_job(&NewJob::new(&j("j2"), TargetSelection::Snapshot), &[t("a")], T0, &mut q).unwrap();
    assert_eq!(q.len(), 1, "j2 joins the list; the head stays j1");
}

#[test]
fn discard_has_room_for_everything() {
    let mut r: Registry<Fixed<4, 4, 8, 2, 64>> = Registry::new(Fixed, Policy::DEFAULT);
    assert_eq!(Discard.room(), usize::MAX);
    let mut sink = Discard;
    r.add_thing(&t("a")).unwrap();
    r.add_thing(&t("b")).unwrap();
    r.create_job(&NewJob::new(&j("j1"), TargetSelection::Snapshot), &[t("a"), t("b")], T0, &mut sink)
        .unwrap();
    r.cancel_job(&j("j1"), true, None, T0, &mut sink).unwrap();
    assert_eq!(r.job(&j("j1")).unwrap().status(), JobStatus::Canceled);
}

#[test]
fn views_report_what_was_stored() {
    let mut r: Registry<Fixed<4, 4, 8, 2, 64>> = Registry::new(Fixed, Policy::DEFAULT);
    let mut sink = Discard;
    r.add_thing(&t("a")).unwrap();
    let ns = NamespaceId::new("ns-1").unwrap();
    let id = j("j1");
    let job = NewJob { namespace: Some(&ns), ..NewJob::new(&id, TargetSelection::Continuous) };
    let h = r.create_job(&job, &[t("a")], T0, &mut sink).unwrap();
    let later = Timestamp(T0.0 + 7);
    r.remove_target(&id, &t("a"), later, &mut sink).unwrap();
    let v = r.job_by_handle(h).expect("the handle names the job");
    assert_eq!(v.id(), &id);
    assert_eq!(v.handle(), h);
    assert_eq!(v.namespace(), Some(&ns));
    assert_eq!((v.created_at(), v.last_updated_at()), (T0, later));
    assert_eq!(v.target_selection(), TargetSelection::Continuous);
    let dbg = format!("{v:?}");
    assert!(dbg.contains("JobView") && dbg.contains("j1") && dbg.contains("InProgress"), "{dbg}");
    let e = r.describe_execution(&id, &t("a"), None, Plane::Control).unwrap();
    assert_eq!(e.retry_attempt(), 0, "a first attempt");
    assert_eq!(e.status(), ExecutionStatus::Removed);
    assert_eq!((e.job_namespace(), e.job_status()), (Some(&ns), JobStatus::InProgress));
    let dbg = format!("{e:?}");
    assert!(dbg.contains("ExecutionView") && dbg.contains("j1") && dbg.contains("Removed"), "{dbg}");
    let dbg = format!("{r:?}");
    assert!(dbg.contains("Registry") && dbg.contains("policy") && dbg.contains("jobs: 1"), "{dbg}");
    // After the deletion the handle finds nothing.
    r.delete_job(&id, true, later, &mut sink).unwrap();
    r.advance(later, usize::MAX, &mut sink).unwrap();
    assert!(r.job_by_handle(h).is_none());
}

#[test]
fn a_cursor_survives_its_round_trip_through_a_next_token() {
    let mut r: Registry<Fixed<4, 8, 16, 2, 64>> = Registry::new(Fixed, Policy::DEFAULT);
    let mut sink = Discard;
    let names = ["a", "b", "c", "d", "e"].map(t);
    for n in &names {
        r.add_thing(n).unwrap();
    }
    r.create_job(&NewJob::new(&j("j1"), TargetSelection::Snapshot), &names, T0, &mut sink).unwrap();
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let cursor = token.map(|(i, g)| iot_jobs_core::registry::Cursor::from_parts(i, g));
        let next =
            r.list_for_job(&j("j1"), None, cursor, 2, |v| seen.push(v.thing_name().to_string())).unwrap();
        let Some(c) = next else { break };
        token = Some(c.to_parts()); // what a host puts in nextToken
    }
    assert_eq!(seen, ["a", "b", "c", "d", "e"]);
}

/// Every job, thing and (job, thing) pair found by its own key, in an index so full that probe
/// chains of different keys run into each other.
fn crowded<S: Storage>(storage: S) {
    let mut r = Registry::new(storage, Policy::DEFAULT);
    let mut sink = Discard;
    let things = ["t0", "t1", "t2"].map(t);
    for n in &things {
        r.add_thing(n).unwrap();
    }
    let jobs = ["j0", "j1", "j2"].map(j);
    for id in &jobs {
        r.create_job(&NewJob::new(id, TargetSelection::Snapshot), &things, T0, &mut sink).unwrap();
    }
    for (ji, id) in jobs.iter().enumerate() {
        assert_eq!(r.job(id).unwrap().id(), id);
        for (ti, n) in things.iter().enumerate() {
            assert!(r.thing(n).is_some());
            // Make each execution distinguishable by its version.
            for _ in 0..(ji * 3 + ti) % 2 {
                let u = iot_jobs_core::registry::Update {
                    status: ExecutionStatus::InProgress,
                    status_details: None,
                    expected_version: None,
                    execution_number: None,
                    step_timeout: None,
                };
                r.update_execution(id, n, &u, T0, &mut sink).unwrap();
            }
        }
    }
    for (ji, id) in jobs.iter().enumerate() {
        for (ti, n) in things.iter().enumerate() {
            let e = r.describe_execution(id, n, None, Plane::Control).unwrap();
            assert_eq!((e.job_id(), e.thing_name()), (id, n));
            assert_eq!(e.version().get(), 1 + ((ji * 3 + ti) % 2) as u64);
        }
        let mut listed = Vec::new();
        r.list_for_job(id, None, None, 10, |v| listed.push(v.thing_name().clone())).unwrap();
        assert_eq!(listed, things);
    }
    for n in &things {
        let mut listed = Vec::new();
        r.list_for_thing(n, None, None, 10, |v| listed.push(v.job_id().clone())).unwrap();
        assert_eq!(listed, jobs);
    }
    assert!(r.job(&j("j9")).is_err());
    assert!(r.thing(&t("t9")).is_none());
}

#[test]
fn lookups_in_a_crowded_index() {
    // 3 jobs + 3 things + 9 pairs = 15 values; every size from just enough to roomy.
    crowded(Fixed::<3, 3, 9, 1, 16> {});
    crowded(Fixed::<3, 3, 9, 1, 17> {});
    crowded(Fixed::<3, 3, 9, 1, 18> {});
    crowded(Fixed::<3, 3, 9, 1, 19> {});
    crowded(Fixed::<3, 3, 9, 1, 20> {});
    crowded(Fixed::<3, 3, 9, 1, 23> {});
    crowded(Fixed::<3, 3, 9, 1, 29> {});
}

fn update<'a>(
    status: ExecutionStatus,
    details: Option<&'a iot_jobs_core::StatusDetails<'a>>,
) -> iot_jobs_core::registry::Update<'a> {
    iot_jobs_core::registry::Update {
        status,
        status_details: details,
        expected_version: None,
        execution_number: None,
        step_timeout: None,
    }
}

#[test]
fn a_full_index_refuses_things_and_jobs_without_leaving_half_of_them() {
    // 5 buckets: room for 4 values.
    let mut r: Registry<Fixed<4, 4, 4, 1, 5>> = Registry::new(Fixed, Policy::DEFAULT);
    let mut sink = Discard;
    r.add_thing(&t("a")).unwrap();
    r.create_job(&NewJob::new(&j("j1"), TargetSelection::Snapshot), &[t("a")], T0, &mut sink).unwrap();
    // j2 needs its id and a pair in the index, which has room for one.
    assert_eq!(
        r.create_job(&NewJob::new(&j("j2"), TargetSelection::Snapshot), &[t("a")], T0, &mut sink),
        Err(Rejection::CapacityExhausted(iot_jobs_core::Table::Index))
    );
    assert!(r.job(&j("j2")).is_err(), "nothing of the refused job remains");
    assert_eq!(r.usage().jobs, 1);
    r.add_thing(&t("b")).unwrap();
    // The things table has room, the index has none.
    assert_eq!(r.add_thing(&t("c")), Err(Rejection::CapacityExhausted(iot_jobs_core::Table::Index)));
    assert!(r.thing(&t("c")).is_none());
    assert_eq!(r.usage().things, 2);

    // Exactly enough room is enough: 6 buckets, room for 5 values.
    let mut r: Registry<Fixed<4, 4, 4, 1, 6>> = Registry::new(Fixed, Policy::DEFAULT);
    r.add_thing(&t("a")).unwrap();
    for id in ["j1", "j2"] {
        r.create_job(&NewJob::new(&j(id), TargetSelection::Snapshot), &[t("a")], T0, &mut sink).unwrap();
    }
    assert_eq!(r.usage().index_room, 0);
}

#[test]
fn full_executions_table_refuses_a_job_even_when_pairs_have_room() {
    let mut r: Registry<Fixed<2, 1, 2, 1, 32>> = Registry::new(Fixed, Policy::DEFAULT);
    let mut sink = Discard;
    let c1 = j("c1");
    r.add_thing(&t("a")).unwrap();
    r.create_job(&NewJob::new(&c1, TargetSelection::Continuous), &[t("a")], T0, &mut sink).unwrap();
    r.update_execution(&c1, &t("a"), &update(ExecutionStatus::Failed, None), T0, &mut sink).unwrap();
    r.add_targets(&c1, &[t("a")], T0, &mut sink).unwrap(); // a second execution, the same pair
    assert_eq!(r.usage().executions, 2);
    assert_eq!(
        r.create_job(&NewJob::new(&j("j2"), TargetSelection::Snapshot), &[t("a")], T0, &mut sink),
        Err(Rejection::CapacityExhausted(iot_jobs_core::Table::Executions))
    );
    assert!(r.job(&j("j2")).is_err());
}

#[test]
fn a_continuous_job_completes_only_once_its_end_time_has_passed() {
    use iot_jobs_core::config::{JobConfig, Schedule};
    let mut r: Registry<Fixed<4, 4, 8, 2, 64>> = Registry::new(Fixed, Policy::DEFAULT);
    let mut sink = Discard;
    r.add_thing(&t("a")).unwrap();
    r.add_thing(&t("b")).unwrap();
    let end = Timestamp(T0.0 + 100);
    let schedule = Schedule::new(None, Some((end, iot_jobs_core::JobEndBehavior::StopRollout))).unwrap();
    let config = JobConfig { schedule: Some(schedule), ..JobConfig::default() };
    let id = j("c1");
    let job = NewJob { config, ..NewJob::new(&id, TargetSelection::Continuous) };
    r.create_job(&job, &[t("a"), t("b")], T0, &mut sink).unwrap();
    r.update_execution(&id, &t("a"), &update(ExecutionStatus::Succeeded, None), T0, &mut sink).unwrap();
    // Before the end: all terminal is not enough.
    let before = Timestamp(end.0 - 1);
    r.update_execution(&id, &t("b"), &update(ExecutionStatus::InProgress, None), before, &mut sink).unwrap();
    r.update_execution(&id, &t("b"), &update(ExecutionStatus::Succeeded, None), before, &mut sink).unwrap();
    assert_eq!(r.job(&id).unwrap().status(), JobStatus::InProgress);
    // At the end (inclusive) with every execution terminal: COMPLETED.
    r.add_targets(&id, &[t("a")], end, &mut sink).unwrap();
    r.update_execution(&id, &t("a"), &update(ExecutionStatus::Rejected, None), end, &mut sink).unwrap();
    assert_eq!(r.job(&id).unwrap().status(), JobStatus::Completed);
    assert_eq!(r.job(&id).unwrap().completed_at(), Some(end));
}

#[test]
fn status_details_slots_are_given_back() {
    // One statusDetails slot for two executions.
    let mut r: Registry<Fixed<2, 2, 4, 1, 32>> = Registry::new(Fixed, Policy::DEFAULT);
    let mut sink = Discard;
    r.add_thing(&t("a")).unwrap();
    r.add_thing(&t("b")).unwrap();
    let id = j("j1");
    r.create_job(&NewJob::new(&id, TargetSelection::Snapshot), &[t("a"), t("b")], T0, &mut sink).unwrap();
    let pairs = [("k", "v")];
    let d = || Some(iot_jobs_core::StatusDetails::new(&pairs).unwrap());
    r.update_execution(&id, &t("a"), &update(ExecutionStatus::InProgress, d().as_ref()), T0, &mut sink)
        .unwrap();
    assert_eq!(r.usage().details, 1);
    // An empty map replaces (R14) and frees the slot for b.
    let empty = Some(iot_jobs_core::StatusDetails::EMPTY);
    r.update_execution(&id, &t("a"), &update(ExecutionStatus::InProgress, empty.as_ref()), T0, &mut sink)
        .unwrap();
    assert_eq!(r.usage().details, 0);
    r.update_execution(&id, &t("b"), &update(ExecutionStatus::InProgress, d().as_ref()), T0, &mut sink)
        .unwrap();
    // Deleting b's execution frees its slot too.
    r.delete_execution(&id, &t("b"), iot_jobs_core::ExecutionNumber::FIRST, true, T0, &mut sink).unwrap();
    assert_eq!(r.usage().details, 0);
    r.update_execution(&id, &t("a"), &update(ExecutionStatus::InProgress, d().as_ref()), T0, &mut sink)
        .unwrap();
}

#[test]
fn an_unregistered_thing_is_kept_while_a_pair_remembers_its_numbers() {
    let policy = Policy { numbering: iot_jobs_core::Numbering::Monotonic, ..Policy::DEFAULT };
    let mut r: Registry<Fixed<2, 2, 4, 1, 32>> = Registry::new(Fixed, policy);
    let mut sink = Discard;
    let id = j("c1");
    r.add_thing(&t("a")).unwrap();
    r.create_job(&NewJob::new(&id, TargetSelection::Continuous), &[t("a")], T0, &mut sink).unwrap();
    r.remove_thing(&t("a"), T0, &mut sink).unwrap();
    r.delete_execution(&id, &t("a"), iot_jobs_core::ExecutionNumber::FIRST, false, T0, &mut sink).unwrap();
    // No execution and not registered, but the pair keeps numbering monotonic (R7): kept.
    assert_eq!((r.usage().executions, r.usage().pairs, r.usage().things), (0, 1, 1));
    r.delete_job(&id, true, T0, &mut sink).unwrap();
    r.advance(T0, usize::MAX, &mut sink).unwrap();
    assert_eq!((r.usage().pairs, r.usage().things), (0, 0), "forgotten with the last pair");
}

#[test]
fn associate_targets_checks_every_table_before_queueing_anything() {
    let mut sink = Discard;
    let abc = ["a", "b", "c"].map(t);
    let c1 = j("c1");
    let continuous = |id| NewJob::new(id, TargetSelection::Continuous);

    // Executions: 3 slots, 2 used by one pair.
    let mut r: Registry<Fixed<2, 3, 3, 1, 64>> = Registry::new(Fixed, Policy::DEFAULT);
    for n in &abc {
        r.add_thing(n).unwrap();
    }
    r.create_job(&continuous(&c1), &abc[..1], T0, &mut sink).unwrap();
    r.update_execution(&c1, &abc[0], &update(ExecutionStatus::Failed, None), T0, &mut sink).unwrap();
    assert_eq!(r.add_targets(&c1, &abc[..1], T0, &mut sink), Ok(1));
    let before = r.usage();
    assert_eq!(
        r.add_targets(&c1, &abc[1..], T0, &mut sink),
        Err(Rejection::CapacityExhausted(iot_jobs_core::Table::Executions))
    );
    assert_eq!((r.usage(), r.job(&c1).unwrap().targets()), (before, 1), "nothing queued, nothing counted");
    assert_eq!(r.add_targets(&c1, &abc[1..2], T0, &mut sink), Ok(1), "exactly enough room");
    assert_eq!(r.job(&c1).unwrap().targets(), 2);

    // Pairs (kept after their executions under Monotonic numbering): 2 slots, both used.
    let mono = Policy { numbering: iot_jobs_core::Numbering::Monotonic, ..Policy::DEFAULT };
    let one = iot_jobs_core::ExecutionNumber::FIRST;
    let mut r: Registry<Fixed<2, 3, 2, 1, 64>> = Registry::new(Fixed, mono);
    for n in &abc {
        r.add_thing(n).unwrap();
    }
    r.create_job(&continuous(&c1), &abc[..2], T0, &mut sink).unwrap();
    for n in &abc[..2] {
        r.delete_execution(&c1, n, one, true, T0, &mut sink).unwrap();
    }
    let before = r.usage();
    assert_eq!((before.executions, before.pairs), (0, 2));
    let a_and_c = [t("a"), t("c")];
    assert_eq!(
        r.add_targets(&c1, &a_and_c, T0, &mut sink),
        Err(Rejection::CapacityExhausted(iot_jobs_core::Table::Executions))
    );
    assert_eq!(r.usage(), before, "a was not queued either");
    // One pair slot left and one new thing: exactly enough.
    let mut r: Registry<Fixed<2, 3, 3, 1, 64>> = Registry::new(Fixed, mono);
    for n in &abc {
        r.add_thing(n).unwrap();
    }
    r.create_job(&continuous(&c1), &abc[..2], T0, &mut sink).unwrap();
    for n in &abc[..2] {
        r.delete_execution(&c1, n, one, true, T0, &mut sink).unwrap();
    }
    assert_eq!(r.add_targets(&c1, &abc[2..], T0, &mut sink), Ok(1));

    // Index: 3 things + 1 job + 1 pair stored; b and c need 2 more values.
    let mut r: Registry<Fixed<2, 3, 4, 1, 7>> = Registry::new(Fixed, Policy::DEFAULT);
    for n in &abc {
        r.add_thing(n).unwrap();
    }
    r.create_job(&continuous(&c1), &abc[..1], T0, &mut sink).unwrap();
    let before = r.usage();
    assert_eq!(before.index_room, 1);
    assert_eq!(
        r.add_targets(&c1, &abc[1..], T0, &mut sink),
        Err(Rejection::CapacityExhausted(iot_jobs_core::Table::Index))
    );
    assert_eq!(r.usage(), before);
    let mut r: Registry<Fixed<2, 3, 4, 1, 8>> = Registry::new(Fixed, Policy::DEFAULT);
    for n in &abc {
        r.add_thing(n).unwrap();
    }
    r.create_job(&continuous(&c1), &abc[..1], T0, &mut sink).unwrap();
    assert_eq!(r.add_targets(&c1, &abc[1..], T0, &mut sink), Ok(2), "exactly enough index room");
    assert_eq!(r.job(&c1).unwrap().targets(), 3);
}

/// A sink with a fixed room that fails the test if pushed past it.
struct Tight(usize);

impl EventSink for Tight {
    fn room(&self) -> usize {
        self.0
    }
    fn push(&mut self, _: Event) {
        self.0 = self.0.checked_sub(1).expect("pushed past the room it announced");
    }
}

#[test]
fn delete_job_asks_room_for_its_pending_executions_only() {
    let mut r: Registry<Fixed<2, 3, 4, 1, 64>> = Registry::new(Fixed, Policy::DEFAULT);
    let mut sink = Discard;
    let ab = [t("a"), t("b")];
    for n in &ab {
        r.add_thing(n).unwrap();
    }
    let id = j("j1");
    r.create_job(&NewJob::new(&id, TargetSelection::Snapshot), &ab, T0, &mut sink).unwrap();
    r.update_execution(&id, &ab[0], &update(ExecutionStatus::Succeeded, None), T0, &mut sink).unwrap();
    // One pending execution: its notify and notify-next, and the job's event.
    assert_eq!(r.delete_job(&id, true, T0, &mut Tight(2)), Err(Rejection::Throttled));
    r.delete_job(&id, true, T0, &mut Tight(3)).unwrap();
}

#[test]
fn deleting_a_terminal_execution_notifies_nobody() {
    let mut r: Registry<Fixed<2, 3, 4, 1, 64>> = Registry::new(Fixed, Policy::DEFAULT);
    let mut log: heapless::Deque<Event, 8> = heapless::Deque::new();
    r.add_thing(&t("a")).unwrap();
    r.add_thing(&t("b")).unwrap();
    let id = j("j1");
    r.create_job(&NewJob::new(&id, TargetSelection::Snapshot), &[t("a"), t("b")], T0, &mut Discard).unwrap();
    r.update_execution(&id, &t("a"), &update(ExecutionStatus::Failed, None), T0, &mut Discard).unwrap();
    r.delete_execution(&id, &t("a"), iot_jobs_core::ExecutionNumber::FIRST, false, T0, &mut log).unwrap();
    let events: Vec<Event> = log.iter().cloned().collect();
    assert!(
        !events.iter().any(|e| matches!(e, Event::Notify(_) | Event::NotifyNext(_))),
        "the pending list did not change: {events:?}"
    );
}

#[test]
fn start_next_notifies_under_the_every_change_policy() {
    let policy = Policy { notify_on: iot_jobs_core::NotifyOn::EveryNonTerminalChange, ..Policy::DEFAULT };
    let mut r: Registry<Fixed<2, 3, 4, 1, 64>> = Registry::new(Fixed, policy);
    r.add_thing(&t("a")).unwrap();
    r.create_job(&NewJob::new(&j("j1"), TargetSelection::Snapshot), &[t("a")], T0, &mut Discard).unwrap();
    let mut log: heapless::Deque<Event, 8> = heapless::Deque::new();
    r.start_next(&t("a"), None, None, T0, &mut log).unwrap();
    assert_eq!(log.iter().cloned().collect::<Vec<_>>(), [Event::Notify(t("a"))]);
}

#[test]
fn deleting_an_older_execution_keeps_the_newer_ones() {
    let mut r: Registry<Fixed<2, 3, 4, 1, 64>> = Registry::new(Fixed, Policy::DEFAULT);
    let mut sink = Discard;
    let (id, a) = (j("c1"), t("a"));
    let n = |x| iot_jobs_core::ExecutionNumber::new(x).unwrap();
    r.add_thing(&a).unwrap();
    r.create_job(&NewJob::new(&id, TargetSelection::Continuous), std::slice::from_ref(&a), T0, &mut sink)
        .unwrap();
    for _ in 0..2 {
        r.update_execution(&id, &a, &update(ExecutionStatus::Failed, None), T0, &mut sink).unwrap();
        r.add_targets(&id, std::slice::from_ref(&a), T0, &mut sink).unwrap();
    }
    // #1, #2 FAILED; #3 QUEUED. Delete the middle, then the oldest.
    r.delete_execution(&id, &a, n(2), false, T0, &mut sink).unwrap();
    assert_eq!(r.describe_execution(&id, &a, None, Plane::Control).unwrap().number(), n(3));
    assert_eq!(r.describe_execution(&id, &a, Some(n(1)), Plane::Control).unwrap().number(), n(1));
    r.delete_execution(&id, &a, n(1), false, T0, &mut sink).unwrap();
    assert_eq!(r.describe_execution(&id, &a, None, Plane::Control).unwrap().number(), n(3));
    assert_eq!(r.usage().pairs, 1);
    // Delete the newest (and last): the pair goes; numbering starts again at 1 (R7).
    r.delete_execution(&id, &a, n(3), true, T0, &mut sink).unwrap();
    assert!(r.describe_execution(&id, &a, None, Plane::Control).is_err());
    r.add_targets(&id, std::slice::from_ref(&a), T0, &mut sink).unwrap();
    assert_eq!(r.describe_execution(&id, &a, None, Plane::Control).unwrap().number(), n(1));
}

#[test]
fn slots_know_when_they_are_empty() {
    use iot_jobs_core::registry::Slots;
    let mut v: heapless::Vec<u32, 2> = heapless::Vec::new();
    assert!(Slots::is_empty(&v));
    Slots::push(&mut v, 7).unwrap();
    assert!(!Slots::is_empty(&v));
    assert_eq!((Slots::len(&v), Slots::capacity(&v)), (1, 2));
}

mod left_out {
    use super::{Discard, Fixed, NewJob, Registry, T0, j, t};
    use iot_jobs_core::config::{JobConfig, Schedule};
    use iot_jobs_core::registry::Update;
    use iot_jobs_core::time::{StepTimeout, TimeoutMinutes};
    use iot_jobs_core::{ExecutionStatus, JobStatus, Timestamp};
    use iot_jobs_core::{Policy, TargetSelection};

    /// `J` jobs, four things, `X` executions and as many timer slots.
    pub type Small<const J: usize, const X: usize> = Registry<Fixed<J, 4, X, 1, 64>>;

    pub fn minutes(m: u64) -> Timestamp {
        T0.saturating_add(m * 60)
    }

    /// Jobs with no targets whose scheduled starts are `starts` (id, minutes), created first,
    /// then [`running`].
    pub fn with_starts<const J: usize, const X: usize>(starts: &[(&str, u64)]) -> Small<J, X> {
        let mut r = Registry::new(Fixed, Policy::DEFAULT);
        for &(id, start) in starts {
            let schedule = Schedule::new(Some(minutes(start)), None).unwrap();
            let id = j(id);
            let job = NewJob {
                config: JobConfig { schedule: Some(schedule), ..JobConfig::default() },
                ..NewJob::new(&id, TargetSelection::Snapshot)
            };
            r.create_job_with_members(&job, &[], &[], T0, &mut Discard).unwrap();
        }
        running(&mut r);
        r
    }

    pub fn in_progress(step_timeout: Option<u16>) -> Update<'static> {
        let step_timeout = step_timeout.map(|m| StepTimeout::from_wire(m.into(), false).unwrap());
        Update { step_timeout, ..Update::new(ExecutionStatus::InProgress) }
    }

    /// Jobs j1 and j2 on things a and b, with in-progress timeouts at 10, 13 (j1) and 12, 15 (j2)
    /// minutes.
    pub fn running<const J: usize, const X: usize>(r: &mut Small<J, X>) {
        for thing in ["a", "b"] {
            r.add_thing(&t(thing)).unwrap();
        }
        for (id, timeout) in [("j1", 10), ("j2", 12)] {
            let config = JobConfig {
                in_progress_timeout_minutes: Some(TimeoutMinutes::new(timeout).unwrap()),
                ..JobConfig::default()
            };
            let id = j(id);
            let job = NewJob { config, ..NewJob::new(&id, TargetSelection::Snapshot) };
            r.create_job(&job, &[t("a"), t("b")], T0, &mut Discard).unwrap();
        }
        for (id, thing, at) in [("j1", "a", 0), ("j1", "b", 3), ("j2", "a", 0), ("j2", "b", 3)] {
            r.update_execution(&j(id), &t(thing), &in_progress(None), minutes(at), &mut Discard).unwrap();
        }
    }

    pub fn status<const J: usize, const X: usize>(r: &Small<J, X>, id: &str) -> JobStatus {
        r.job(&j(id)).unwrap().status()
    }
}

/// Timers beyond the heap's slots (four here, for six live deadlines): the first one left out is
/// taken again when it comes due even while the heap still holds a later timer (a timeout at
/// 15 min fires first, then the start at 20 min, left out, is due), and a left-out timer that went
/// stale is no error.
#[test]
fn timers_left_out_of_a_full_heap_come_back_when_due() {
    use left_out::{minutes, status, with_starts};
    let mut r = with_starts::<4, 4>(&[("j3", 20), ("j4", 25)]);
    r.advance(minutes(14), usize::MAX, &mut Discard).unwrap();
    assert_eq!(status(&r, "j3"), JobStatus::Scheduled);
    // The timeout at 15 min is held, the start at 20 min was left out: both fire, in order.
    r.advance(minutes(20), usize::MAX, &mut Discard).unwrap();
    assert_eq!(
        (status(&r, "j2"), status(&r, "j3"), status(&r, "j4")),
        (JobStatus::Completed, JobStatus::Completed, JobStatus::Scheduled)
    );
    r.advance(minutes(25), usize::MAX, &mut Discard).unwrap();
    assert_eq!(status(&r, "j4"), JobStatus::Completed);
    assert_eq!(r.next_deadline(), None);

    // The left-out start goes stale (its job is canceled): refilling the heap finds nothing due.
    let mut r = with_starts::<4, 4>(&[("j3", 20), ("j4", 25)]);
    r.cancel_job(&j("j3"), false, None, minutes(5), &mut Discard).unwrap();
    r.cancel_job(&j("j4"), false, None, minutes(5), &mut Discard).unwrap();
    r.advance(minutes(30), usize::MAX, &mut Discard).unwrap();
    assert_eq!((status(&r, "j1"), status(&r, "j2")), (JobStatus::Completed, JobStatus::Completed));
    assert_eq!(r.next_deadline(), None);
}

/// A timer armed after the heap freed slots can be later than the one left out, and they fire
/// in deadline order. Five slots for six deadlines: j5's start at 22 min is left out; at 14 min,
/// with three slots free again, a new job j4 runs on c with a step timeout due at 23 min. Once
/// the held timers before 22 min have fired, an advance to 23 min fires j5's start before j4's
/// timeout.
#[test]
fn a_left_out_timer_fires_before_a_later_one_armed_into_freed_slots() {
    use left_out::{in_progress, minutes, status, with_starts};
    let mut r = with_starts::<5, 5>(&[("j3", 20), ("j5", 22)]);
    r.advance(minutes(14), usize::MAX, &mut Discard).unwrap();
    let (j4, c) = (j("j4"), t("c"));
    r.add_thing(&c).unwrap();
    r.create_job(
        &NewJob::new(&j4, TargetSelection::Snapshot),
        std::slice::from_ref(&c),
        minutes(14),
        &mut Discard,
    )
    .unwrap();
    r.update_execution(&j4, &c, &in_progress(Some(9)), minutes(14), &mut Discard).unwrap();
    // Up to 21 min the held timers at 15 and 20 min fire; j5's start is not due yet.
    r.advance(minutes(21), usize::MAX, &mut Discard).unwrap();
    assert_eq!(status(&r, "j3"), JobStatus::Completed);
    // Only the later timer is held now; the left-out one, due first, still fires first.
    let mut events: heapless::Deque<Event, 16> = heapless::Deque::new();
    r.advance(minutes(23), usize::MAX, &mut events).unwrap();
    let order: Vec<String> = events
        .iter()
        .filter_map(|e| {
            if let Event::Job { job, event } = e {
                return Some(format!("{} {event:?}", job.as_str()));
            }
            let Event::Execution { job, thing, event, .. } = e else { return None };
            Some(format!("{}/{} {event:?}", job.as_str(), thing.as_str()))
        })
        .collect();
    assert_eq!(order, ["j5 Completed", "j4/c TimedOut", "j4 Completed"]);
}

/// A clone is a separate registry in the same state: it answers as the original does, a change
/// to one leaves the other as it was, and its timers are its own.
#[test]
fn a_clone_is_an_independent_copy() {
    use iot_jobs_core::config::JobConfig;
    use iot_jobs_core::registry::Update;
    use iot_jobs_core::time::TimeoutMinutes;
    let mut r: Registry<Fixed<4, 4, 8, 2, 64>> = Registry::new(Fixed, Policy::DEFAULT);
    let (id, a) = (j("c"), t("a"));
    r.add_thing(&a).unwrap();
    let config = JobConfig {
        in_progress_timeout_minutes: Some(TimeoutMinutes::new(1).unwrap()),
        ..JobConfig::default()
    };
    let job = NewJob { config, ..NewJob::new(&id, TargetSelection::Snapshot) };
    r.create_job(&job, std::slice::from_ref(&a), T0, &mut Discard).unwrap();
    let pairs = [("step", "1")];
    let details = iot_jobs_core::StatusDetails::new(&pairs).unwrap();
    let progress = Update { status_details: Some(&details), ..Update::new(ExecutionStatus::InProgress) };
    r.update_execution(&id, &a, &progress, T0, &mut Discard).unwrap();

    let mut copy = r.clone();
    let view = |r: &Registry<Fixed<4, 4, 8, 2, 64>>| {
        let v = r.describe_execution(&id, &a, None, Plane::Control).unwrap();
        let details: Vec<(String, String)> =
            v.status_details().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        (v.status(), v.version(), details)
    };
    assert_eq!(view(&copy), view(&r));
    assert_eq!((copy.usage(), copy.next_deadline()), (r.usage(), r.next_deadline()));
    // A change to the copy only.
    copy.update_execution(&id, &a, &update(ExecutionStatus::Succeeded, None), T0, &mut Discard).unwrap();
    assert_eq!(view(&r).0, ExecutionStatus::InProgress);
    assert_eq!(view(&copy).0, ExecutionStatus::Succeeded);
    // The original's timer still fires; the copy's execution is done and cannot time out.
    r.advance(T0.saturating_add(60), usize::MAX, &mut Discard).unwrap();
    copy.advance(T0.saturating_add(60), usize::MAX, &mut Discard).unwrap();
    assert_eq!(view(&r).0, ExecutionStatus::TimedOut);
    assert_eq!(view(&copy).0, ExecutionStatus::Succeeded);
}

/// A target group's things are not targets (SPEC lim-targets): a CONTINUOUS job created for 2
/// things and the 150 things of groups counts 2, rolls out to all of them, takes a thing that
/// joins a group later and more targets up to 100 named things; a thing both named and a member
/// is a target. (Every member counted as a target, so the job refused the next member.)
#[test]
fn the_things_of_target_groups_do_not_count_toward_the_100_targets() {
    let mut sink = Discard;
    let named: Vec<ThingName> = (0..100).map(|i| t(&format!("n{i}"))).collect();
    let members: Vec<ThingName> = (0..150).map(|i| t(&format!("m{i}"))).collect();
    let late = t("late");
    let mut r: Box<Registry<Fixed<1, 260, 260, 1, 2048, 64>>> =
        Box::new(Registry::new(Fixed, Policy::DEFAULT));
    for n in named.iter().chain(&members).chain([&late]) {
        r.add_thing(n).unwrap();
    }
    let id = j("c");
    let both = [named[0].clone(), members[0].clone()];
    r.create_job_with_members(&NewJob::new(&id, TargetSelection::Continuous), &both, &members, T0, &mut sink)
        .unwrap();
    assert_eq!(r.job(&id).unwrap().targets(), 2);
    assert_eq!(r.usage().executions, 151);
    assert_eq!(r.add_members(&id, std::slice::from_ref(&late), T0, &mut sink), Ok(1));
    assert_eq!(r.job(&id).unwrap().targets(), 2, "a member joining is not a target");
    assert_eq!(r.add_targets_and_members(&id, &named[1..99], &[], T0, &mut sink), Ok(98));
    assert_eq!(r.job(&id).unwrap().targets(), 100);
    let refused = r.add_targets_and_members(&id, &named[99..], &members[..1], T0, &mut sink);
    assert_eq!(refused, Err(Rejection::LimitExceeded(iot_jobs_core::Limit::TargetsPerJob)));
    assert_eq!(r.job(&id).unwrap().targets(), 100, "nothing changed");
    // Naming a member makes it a target.
    assert_eq!(
        r.add_targets(&id, &members[1..2], T0, &mut sink),
        Err(Rejection::LimitExceeded(iot_jobs_core::Limit::TargetsPerJob))
    );
    assert_eq!(r.add_targets_and_members(&id, &[], &members[1..2], T0, &mut sink), Ok(0), "already pending");
}

/// A thing that joins a target group of a CONTINUOUS job before its start takes a place in the
/// rollout (SPEC T1, `rules::group_join`): no execution until the start, one with the first
/// batch; the room for its pair, in the pairs table and in the index, is checked first, and a
/// refusal changes nothing. One that leaves before the start gets none.
#[test]
fn group_joiners_before_the_start_are_rolled_out_with_the_job() {
    let mut sink = Discard;
    let names = ["a", "b", "c", "d"].map(t);
    let id = j("s");
    let start = T0.saturating_add(60);
    let schedule = iot_jobs_core::config::Schedule::new(Some(start), None).unwrap();
    let config = iot_jobs_core::config::JobConfig {
        schedule: Some(schedule),
        ..iot_jobs_core::config::JobConfig::default()
    };
    let new = NewJob { config, ..NewJob::new(&id, TargetSelection::Continuous) };
    // Pairs: 3 slots.
    let mut r: Registry<Fixed<1, 4, 3, 1, 64>> = Registry::new(Fixed, Policy::DEFAULT);
    for n in &names {
        r.add_thing(n).unwrap();
    }
    r.create_job(&new, &names[..1], T0, &mut sink).unwrap();
    assert_eq!(r.add_members(&id, &names[1..3], T0, &mut sink), Ok(0), "exactly enough room");
    let before = r.usage();
    assert_eq!(
        r.add_members(&id, &names[3..], T0, &mut sink),
        Err(Rejection::CapacityExhausted(iot_jobs_core::Table::Executions))
    );
    assert_eq!(r.usage(), before, "nothing changed");
    assert!(r.describe_execution(&id, &names[1], None, Plane::Control).is_err(), "none before the start");
    r.remove_target(&id, &names[2], T0, &mut sink).unwrap();
    r.advance(start, usize::MAX, &mut sink).unwrap();
    assert_eq!(r.job(&id).unwrap().status(), JobStatus::InProgress);
    for (n, has) in [(&names[0], true), (&names[1], true), (&names[2], false), (&names[3], false)] {
        assert_eq!(r.describe_execution(&id, n, None, Plane::Control).is_ok(), has, "{n:?}");
    }

    // The index: room for one more pair, then none.
    let mut r: Registry<Fixed<1, 4, 4, 1, 8>> = Registry::new(Fixed, Policy::DEFAULT);
    for n in &names {
        r.add_thing(n).unwrap();
    }
    r.create_job(&new, &names[..1], T0, &mut sink).unwrap();
    assert_eq!(r.usage().index_room, 1);
    let before = r.usage();
    assert_eq!(
        r.add_members(&id, &names[1..3], T0, &mut sink),
        Err(Rejection::CapacityExhausted(iot_jobs_core::Table::Index))
    );
    assert_eq!(r.usage(), before, "nothing changed");
    assert_eq!(r.add_members(&id, &names[1..2], T0, &mut sink), Ok(0), "exactly enough room");
    assert_eq!(r.usage().index_room, 0);
}

/// SPEC R26: while a paced rollout has targets left, a thing that joins a target group or that
/// AssociateTargetsWithJob adds waits behind them and gets its execution when a batch reaches
/// it; a target already waiting keeps its place; once the rollout has reached every target, a
/// new one is queued at once, and so is a thing it reached before when it rejoins.
#[test]
fn new_targets_of_a_paced_rollout_wait_for_it() {
    use iot_jobs_core::config::{JobConfig, RolloutRate};
    let mut sink = Discard;
    let names = ["a", "b", "c", "d", "e", "f"].map(t);
    let id = j("paced");
    let config = JobConfig { maximum_per_minute: Some(RolloutRate::new(1).unwrap()), ..JobConfig::default() };
    let new = NewJob { config, ..NewJob::new(&id, TargetSelection::Continuous) };
    let mut r: Registry<Fixed<1, 8, 16, 1, 64>> = Registry::new(Fixed, Policy::DEFAULT);
    for n in &names {
        r.add_thing(n).unwrap();
    }
    let has = |r: &Registry<Fixed<1, 8, 16, 1, 64>>, n: &ThingName| {
        r.describe_execution(&id, n, None, Plane::Control).is_ok()
    };
    r.create_job(&new, &names[..2], T0, &mut sink).unwrap();
    assert!(has(&r, &names[0]) && !has(&r, &names[1]), "one a minute");
    // A joiner and an associated target wait behind b; b, associated again, keeps its place.
    let at = |s: u64| T0.saturating_add(s);
    let updated = |r: &Registry<Fixed<1, 8, 16, 1, 64>>| r.job(&id).unwrap().last_updated_at();
    assert_eq!(r.add_members(&id, &names[2..3], at(5), &mut sink), Ok(0));
    assert_eq!(updated(&r), at(5), "a new target of the rollout changes the job");
    assert_eq!(r.add_targets(&id, &names[1..4], at(6), &mut sink), Ok(0));
    assert_eq!(updated(&r), at(6), "d is a new target");
    assert_eq!(r.add_members(&id, &names[1..3], at(7), &mut sink), Ok(0));
    assert_eq!(updated(&r), at(6), "nothing new: the job is as it was");
    assert_eq!(r.job(&id).unwrap().targets(), 4, "d counts among the targets at once");
    assert!(names[1..4].iter().all(|n| !has(&r, n)), "nothing queued outside the pace");
    for (minute, reached) in [(1, &names[1]), (2, &names[2]), (3, &names[3])] {
        let now = T0.saturating_add(60 * minute);
        r.advance(now, usize::MAX, &mut sink).unwrap();
        assert!(has(&r, reached), "minute {minute}");
        let later = names.iter().position(|n| n == reached).unwrap() + 1;
        assert!(names[later..].iter().all(|n| !has(&r, n)), "minute {minute}");
        if minute == 1 {
            // b, reached, leaves (REMOVED) and rejoins while c and d wait: queued at once.
            r.remove_target(&id, &names[1], now, &mut sink).unwrap();
            let removed = r.describe_execution(&id, &names[1], None, Plane::Control).unwrap();
            assert_eq!(removed.status(), ExecutionStatus::Removed);
            assert_eq!(r.add_members(&id, &names[1..2], now.saturating_add(1), &mut sink), Ok(1));
            assert_eq!(updated(&r), now.saturating_add(1), "an execution queued changes the job");
            let again = r.describe_execution(&id, &names[1], None, Plane::Control).unwrap();
            assert_eq!((again.status(), again.number().get()), (ExecutionStatus::Queued, 2));
        }
    }
    // The rollout has reached every target: a new one is queued at once.
    assert_eq!(r.add_members(&id, &names[4..5], T0.saturating_add(181), &mut sink), Ok(1));
    assert!(has(&r, &names[4]) && !has(&r, &names[5]));
    // e, a member with its execution pending, named as a target: a new target, nothing queued.
    assert_eq!(r.add_targets(&id, &names[4..5], at(182), &mut sink), Ok(0));
    assert_eq!((r.job(&id).unwrap().targets(), updated(&r)), (5, at(182)));
    assert_eq!(r.job(&id).unwrap().status(), JobStatus::InProgress);
}
