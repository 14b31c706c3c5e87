//! Registry scenarios: every operation and rejection, numbering and reuse, stale handles, the
//! limit of 10 deletions, pending order, full tables, counters and notification sequences.

extern crate std;

use std::string::{String, ToString};
use std::vec::Vec;

use super::*;
use crate::config::JobConfig;
use crate::error::{ExecutionState, Plane, Rejection, Resource, Table};
use crate::error::{InvalidRequest, Limit};
use crate::id::{
    ExecutionNumber, JobId, ReasonCode, StatusDetails, StepTimeout, ThingName, Timestamp, VersionNumber,
};
use crate::policy::{DetailsWrite, NotifyOn, UnknownThing};
use crate::policy::{Numbering, PendingCap};
use crate::rules::{self};
use crate::status::{ExecutionStatus, JobStatus, TargetSelection};

mod lifecycle;
mod model_findings;
#[cfg(feature = "serde")]
mod snapshot;
mod tables;
mod time;
mod timers;

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
