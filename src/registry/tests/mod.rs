//! Registry scenarios: every operation and rejection, numbering and reuse, stale handles, the
//! limit of 10 deletions, pending order, full tables, counters and notification sequences.

extern crate std;

use std::string::{String, ToString};
use std::vec::Vec;

use super::*;
use crate::config::{AbortConfig, AbortCriterion, JobConfig};
use crate::error::{ExecutionState, Plane, Rejection, Resource, Table};
use crate::error::{InvalidRequest, Limit};
use crate::id::{
    ExecutionNumber, JobId, ReasonCode, StatusDetails, StepTimeout, ThingName, Timestamp, VersionNumber,
};
use crate::policy::{DetailsWrite, NotifyOn, UnknownThing};
use crate::policy::{Numbering, PendingCap};
use crate::rules::{self};
use crate::status::{ExecutionStatus, FailureType, JobStatus, TargetSelection};

mod lifecycle;
mod model_findings;
mod namespaces;
#[cfg(feature = "serde")]
mod snapshot;
mod tables;
mod time;
mod timers;

/// Registries live on the test's stack: maps of at most 1 KiB keep them small (the default store
/// holds the largest map, see `tables::the_largest_status_details_aws_accepts_is_stored_whole`).
type Reg = Registry<Fixed<8, 8, 64, 8, 256, 1024>>;

fn reg() -> Reg {
    Registry::new(Fixed, Policy::DEFAULT)
}

fn reg_with(policy: Policy) -> Reg {
    Registry::new(Fixed, policy)
}

fn t(s: &str) -> ThingName {
    ThingName::new(s).unwrap()
}

fn mins(m: u16) -> Option<crate::time::TimeoutMinutes> {
    Some(crate::time::TimeoutMinutes::new(m).unwrap())
}

fn per_minute(n: u32) -> Option<crate::config::RolloutRate> {
    Some(crate::config::RolloutRate::new(n).unwrap())
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
            Event::NotifyNamespace { thing, namespace } => std::format!("notify {thing} ns {namespace}"),
            Event::NotifyNextNamespace { thing, namespace } => {
                std::format!("notify-next {thing} ns {namespace}")
            }
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

/// Abort criteria of one criterion, FAILED executions: `threshold_centipercent` once
/// `min_executed` executions have ended (SPEC §6 Abort).
fn abort_on_failed(threshold_centipercent: u16, min_executed: u32) -> AbortConfig {
    let failure = FailureType::Failed;
    AbortConfig::new(&[AbortCriterion { failure, threshold_centipercent, min_executed }]).unwrap()
}

/// A registry with the things `names`, and an empty event log.
fn with_things(names: &[&str]) -> (Reg, Log) {
    let mut r = reg();
    things(&mut r, names);
    (r, Log::default())
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

/// Creates the SNAPSHOT job `id` with `config` on `targets`.
fn job_with(r: &mut Reg, id: &str, targets: &[&str], config: JobConfig, now: Timestamp, log: &mut Log) {
    selected_job_with(r, id, TargetSelection::Snapshot, targets, config, now, log);
}

/// Creates the job `id` of `selection` with `config` on `targets`.
fn selected_job_with(
    r: &mut Reg,
    id: &str,
    selection: TargetSelection,
    targets: &[&str],
    config: JobConfig,
    now: Timestamp,
    log: &mut Log,
) {
    let id = j(id);
    let targets: Vec<ThingName> = targets.iter().map(|s| t(s)).collect();
    let job = NewJob { config, ..NewJob::new(&id, selection) };
    r.create_job_with_members(&job, &targets, &[], now, log).unwrap();
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

/// The status of `job`'s newest execution on `thing`.
fn status(r: &Reg, job: &str, thing: &str) -> ExecutionStatus {
    r.describe_execution(&j(job), &t(thing), None, Plane::Control).unwrap().status()
}

fn pending_ids<S: Storage>(r: &Registry<S>, thing: &str) -> Vec<String> {
    let mut out = Vec::new();
    r.pending(&t(thing), |v| out.push(std::format!("{}#{}:{}", v.job_id(), v.number(), v.status()))).unwrap();
    out
}

/// Invariants that hold after every operation.
fn check<S: Storage>(r: &Registry<S>) {
    let mut seen = std::collections::HashSet::new();
    let (mut pairs, mut records) = (0usize, 0usize);
    for i in r.jobs.positions() {
        let Some((_, job)) = r.jobs.at(i) else { continue };
        let mut recount = ProcessDetails::default();
        for x in r.job_executions(i) {
            let e = r.exec_entry(x).unwrap();
            recount.add(e.status, 1);
            assert!(
                seen.insert((e.job.get(), e.thing.get(), e.number)),
                "two executions share (job, thing, number)"
            );
            assert_eq!(e.job, i);
        }
        assert_eq!(job.process, recount, "counters of {} differ from a recount", job.id);
        // The singly linked list of its pairs (by thing): each found through the index, once,
        // ending at `tail`. A pair with executions lives in its newest (the highest number of the
        // pair, with the older ones chained below it by number), one without in a record.
        let (mut p, mut last, mut n) = (job.pairs.head, None, 0u32);
        let mut listed = std::collections::HashSet::new();
        while let Some(thing) = p {
            assert!(listed.insert(thing.get()), "a pair is listed twice in {}", job.id);
            let head = r.pair_head(i, thing).expect("the index finds the pair listed");
            let pair = *r.pair_state(head).unwrap();
            match head {
                super::entries::Head::Exec(x) => {
                    let newest = r.job_executions(i).filter(|y| r.exec_entry(*y).unwrap().thing == thing);
                    let newest = newest.max_by_key(|y| r.exec_entry(*y).unwrap().number).unwrap();
                    assert_eq!(x, newest, "the pair's head is its newest execution");
                    let mut chain = Some(x);
                    let mut above = u32::MAX;
                    while let Some((_, e)) = r.exec_at(chain) {
                        assert!(e.number < above && e.number <= pair.highest && e.thing == thing);
                        (above, chain) = (e.number, e.pair_prev);
                    }
                }
                super::entries::Head::Record(q) => {
                    let e = r.pairs.at(q).unwrap().1;
                    assert_eq!((e.job, e.thing), (i, thing));
                    assert!(r.job_executions(i).all(|y| r.exec_entry(y).unwrap().thing != thing));
                }
            }
            pairs += 1;
            (last, p, n) = (p, pair.job_next, n + 1);
        }
        assert_eq!((last, n), (job.pairs.tail, job.pairs.len), "the pairs of {} end at the tail", job.id);
        for x in r.job_executions(i) {
            let thing = r.exec_entry(x).unwrap().thing;
            assert!(listed.contains(&thing.get()), "an execution's pair is not in its job's list");
        }
        records += r.pairs.positions().filter(|q| r.pairs.at(*q).is_some_and(|(_, e)| e.job == i)).count();
    }
    assert_eq!(r.usage().pairs, pairs, "every pair is listed by its job");
    // One index value per job, thing and pair: a removed one leaves none behind.
    assert_eq!(r.index.values(), r.jobs.used() + r.things.used() + pairs, "the index holds a stale value");
    assert_eq!(r.pairs.used(), records, "every record is its job's");
    for i in r.things.positions() {
        let Some((_, thing)) = r.things.at(i) else { continue };
        let listed: Vec<u32> = r.pending_iter(i).map(|x| x.get()).collect();
        // Each pending list is singly linked: its walk ends at its tail after `len` steps, and an
        // execution in neither list has no next (a member is one with a next, or the tail).
        for list in [thing.in_progress, thing.queued] {
            let walked: Vec<_> = super::lists::walk(&r.execs, list.head, super::lists::ByPending).collect();
            assert_eq!((walked.last().copied(), walked.len()), (list.tail, list.len as usize));
        }
        let mut x = thing.all.head;
        while let Some((xi, e)) = r.exec_at(x) {
            assert!(listed.contains(&xi.get()) || e.pending_next.is_none(), "a stale pending link");
            x = e.thing_link.next;
        }
        let mut expected: Vec<u32> = Vec::new();
        let at = |x: u32| r.exec_entry(super::slab::Ix::new(x).unwrap()).unwrap();
        for status in [ExecutionStatus::InProgress, ExecutionStatus::Queued] {
            let mut x = thing.all.head;
            while let Some((xi, e)) = r.exec_at(x) {
                let visible = r.job_entry(e.job).is_some_and(|j| rules::listed_to_device(j.status, e.status));
                if e.status == status && visible {
                    expected.push(xi.get());
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
        let ranks: Vec<_> = listed.iter().map(|x| rules::pending_rank(at(*x).status)).collect();
        assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "IN_PROGRESS must come first");
        // Each list in queue (creation) order: the order of the thing's list of all executions.
        let mut created = Vec::new();
        let mut x = thing.all.head;
        while let Some((xi, e)) = r.exec_at(x) {
            created.push(xi.get());
            x = e.thing_link.next;
        }
        let rank = |x: &u32| created.iter().position(|c| c == x).unwrap();
        for status in [ExecutionStatus::InProgress, ExecutionStatus::Queued] {
            let order: Vec<usize> = listed.iter().filter(|x| at(**x).status == status).map(rank).collect();
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

/// "No entry" costs nothing: an optional position is as small as a `u32`, so links and list
/// ends are as small as with a sentinel.
#[test]
fn optional_positions_take_no_more_room_than_a_u32() {
    use super::entries::{ExecIx, ThingIx};
    use core::mem::size_of;
    assert_eq!(size_of::<Option<ExecIx>>(), size_of::<u32>());
    assert_eq!(size_of::<super::slab::Links<ExecIx>>(), 2 * size_of::<u32>());
    assert_eq!(size_of::<super::slab::List<ThingIx>>(), 3 * size_of::<u32>());
    std::println!(
        "SIZES job={} thing={} exec={} pair={} | slots: job={} thing={} exec={} pair={}",
        size_of::<JobEntry>(),
        size_of::<ThingEntry>(),
        size_of::<ExecutionEntry>(),
        size_of::<PairEntry>(),
        size_of::<Entry<JobEntry>>(),
        size_of::<Entry<ThingEntry>>(),
        size_of::<Entry<ExecutionEntry>>(),
        size_of::<Entry<PairEntry>>(),
    );
}

/// The stored layout (BENCHMARKS §3): no `u64` left in an execution, a pair or a timer, so they are
/// 4-aligned with the same size on 32- and 64-bit targets, and a slot costs its value plus the
/// 4-byte generation (the compiler keeps the free/used tag in the value's niche: a status enum, a
/// `bool`). The pair's state is folded into its newest execution: 16 four-byte fields (the
/// pending list is singly linked: one link, not two), the packed pair state (`highest`,
/// `job_next`, the two retry counters in one byte, `target`: 10), the status and the flags byte
/// (`forceCanceled`, `retryAttempt`): 64 + 10 + 1 + 1 = 76. A record, for a pair without an
/// execution, is that state and the pair's job and thing.
#[test]
fn executions_and_pairs_have_the_compact_layout() {
    use core::mem::{align_of, size_of};
    assert_eq!(align_of::<ExecutionEntry>(), 4);
    assert_eq!(align_of::<PairEntry>(), 4);
    assert_eq!(size_of::<super::entries::PairState>(), 10);
    assert_eq!(align_of::<super::entries::PairState>(), 1);
    assert_eq!(size_of::<super::entries::Retries>(), 1);
    assert_eq!(size_of::<super::entries::ExecFlags>(), 1);
    assert_eq!(size_of::<ExecutionEntry>(), 76);
    assert_eq!(size_of::<PairEntry>(), 20);
    assert_eq!(size_of::<Entry<ExecutionEntry>>(), size_of::<ExecutionEntry>() + 4);
    assert_eq!(size_of::<Entry<PairEntry>>(), size_of::<PairEntry>() + 4);
    assert_eq!(size_of::<Entry<ThingEntry>>(), size_of::<ThingEntry>() + 4);
    assert_eq!(size_of::<Timer>(), 8);
}

/// The retry counters and `retryAttempt` are kept in 4 bits each, beside `forceCanceled`: every
/// value up to `RetryConfig::MAX_TOTAL` (10, SPEC §6 Retries) reads back as written, whatever
/// the other fields hold, and a value past it is refused, never wrapped.
#[test]
fn retry_counts_are_packed_in_4_bits_and_refused_past_the_retry_bound() {
    use super::entries::{ExecFlags, MAX_RETRIES, Retries};
    use crate::rules::RetriesUsed;
    assert_eq!(MAX_RETRIES, crate::config::RetryConfig::MAX_TOTAL);
    for failed in 0..=MAX_RETRIES {
        for timed_out in 0..=MAX_RETRIES {
            let used = RetriesUsed { failed, timed_out };
            assert_eq!(Retries::new(used).map(Retries::used), Ok(used));
        }
        let mut f = ExecFlags::new(failed).unwrap();
        assert_eq!((f.retry_attempt(), f.force_canceled()), (failed, false));
        f.set_force_canceled(true);
        assert_eq!((f.retry_attempt(), f.force_canceled()), (failed, true));
        f.set_force_canceled(false);
        assert_eq!((f.retry_attempt(), f.force_canceled()), (failed, false));
    }
    assert_eq!(Retries::default().used(), RetriesUsed::default());
    for past in [MAX_RETRIES + 1, 15, 16, u8::MAX] {
        assert!(matches!(ExecFlags::new(past), Err(Rejection::LogicBug(_))), "{past}");
        for used in [RetriesUsed { failed: past, timed_out: 0 }, RetriesUsed { failed: 0, timed_out: past }] {
            assert!(matches!(Retries::new(used), Err(Rejection::LogicBug(_))), "{used:?}");
        }
    }
}

/// A sink that reports room but refuses every event.
struct Liar;

impl EventSink for Liar {
    fn room(&self) -> usize {
        usize::MAX
    }
    fn push(&mut self, _: Event) {}
    fn try_push(&mut self, _: Event) -> Result<(), SinkFull> {
        Err(SinkFull)
    }
}

#[test]
fn a_sink_that_refuses_within_its_room_is_a_logic_bug_not_a_lost_event() {
    let mut r = reg();
    things(&mut r, &["a"]);
    let got = r.create_job(&NewJob::new(&j("j"), TargetSelection::Snapshot), &[t("a")], T0, &mut Liar);
    assert!(matches!(got, Err(Rejection::LogicBug(_))), "{got:?}");
    let mut full: heapless::Deque<Event, 1> = heapless::Deque::new();
    assert_eq!(full.try_push(Event::Notify(t("a"))), Ok(()));
    assert_eq!(full.try_push(Event::NotifyNext(t("a"))), Err(SinkFull));
    assert_eq!(full.len(), 1);
}

#[test]
fn events_beyond_the_reservation_are_a_logic_bug() {
    let mut log = Log::default();
    let mut out = super::events::Out::new(&mut log);
    let bug = Err(Rejection::LogicBug("an operation emitted more events than it reserved room for"));
    assert_eq!(out.emit(Event::Notify(t("a"))), bug);
    out.reserve(2).unwrap();
    // A reservation further down does not add to the one before.
    out.reserve(1).unwrap();
    assert_eq!(out.emit(Event::Notify(t("a"))), Ok(()));
    assert_eq!(out.emit(Event::Notify(t("a"))), Ok(()));
    assert_eq!(out.emit(Event::Notify(t("a"))), bug);
    assert_eq!(Tight(1).room(), 1);
    assert_eq!(super::events::Out::new(&mut Tight(1)).reserve(2), Err(Rejection::Throttled));
}
