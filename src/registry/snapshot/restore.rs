//! Reading a snapshot: each item inserted as it arrives, and checked.

use core::fmt;
use core::marker::PhantomData;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::FORMAT;
use super::save::ThingRec;
use crate::config::JobConfig;
use crate::details::{DetailsStore, MAX_VALUE_BYTES};
use crate::id::{
    ExecutionNumber, JobId, NamespaceId, ReasonCode, StatusDetails, ThingName, Timestamp, VersionNumber,
    check_details_key, check_details_value,
};
use crate::registry::compact::{self, Stamp};
use crate::registry::details::DetailsIx;
use crate::registry::entries::{ExecFlags, JobIx, PairState, Retries, ThingIx};
use crate::registry::index::{Tag, hash, tagged};
use crate::registry::lists::{ByJob, ByThing};
use crate::registry::slab::{Links, List};
use crate::registry::{ExecutionEntry, JobEntry, ProcessDetails, Registry, Storage};
use crate::rules::NEVER;
use crate::status::{ExecutionStatus, JobStatus, TargetSelection};

/// A short owned string (field names), copied from whatever the deserializer hands over.
struct Bounded<const N: usize>(heapless::String<N>);

impl<'de, const N: usize> Deserialize<'de> for Bounded<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const N: usize>;
        impl<const N: usize> Visitor<'_> for V<N> {
            type Value = Bounded<N>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a string of at most {N} bytes")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Bounded<N>, E> {
                let mut s = heapless::String::new();
                s.push_str(v).map_err(|_| E::invalid_length(v.len(), &self))?;
                Ok(Bounded(s))
            }
        }
        d.deserialize_str(V::<N>)
    }
}

/// Reads the next key of a map and checks it is `expected` (the snapshot's field order).
fn expect_key<'de, A: MapAccess<'de>>(map: &mut A, expected: &'static str) -> Result<(), A::Error> {
    match map.next_key::<Bounded<24>>()? {
        Some(k) if k.0.as_str() == expected => Ok(()),
        Some(_) | None => Err(de::Error::custom(Expected(expected))),
    }
}

/// "expected field `x` here".
struct Expected(&'static str);

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "snapshot: expected the field `{}` here (fields are in a fixed order)", self.0)
    }
}

fn bad<E: de::Error>(msg: &'static str) -> E {
    E::custom(msg)
}

/// Drives a sequence through a seed that needs the registry.
fn each<'de, A: SeqAccess<'de>>(
    mut seq: A,
    mut one: impl FnMut(&mut A) -> Result<Option<()>, A::Error>,
) -> Result<(), A::Error> {
    while one(&mut seq)?.is_some() {}
    Ok(())
}

pub(super) struct Top<'r, S: Storage>(pub(super) &'r mut Registry<S>);

impl<'de, S: Storage> Visitor<'de> for Top<'_, S> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a registry snapshot")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let r = self.0;
        expect_key(&mut map, "format")?;
        // Format 4 is format 5 without `windowAt` (and without maintenance windows).
        if !matches!(map.next_value::<u32>()?, 4 | FORMAT) {
            return Err(bad("snapshot: unknown format version"));
        }
        expect_key(&mut map, "deletionDelay")?;
        r.deletion_delay = map.next_value()?;
        expect_key(&mut map, "things")?;
        map.next_value_seed(SeqOf(&mut *r, Part::Things))?;
        expect_key(&mut map, "jobs")?;
        map.next_value_seed(SeqOf(&mut *r, Part::Jobs))?;
        expect_key(&mut map, "order")?;
        map.next_value_seed(SeqOf(&mut *r, Part::Orders))?;
        if map.next_key::<Bounded<24>>()?.is_some() {
            return Err(bad("snapshot: unexpected field after `order`"));
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Part {
    Things,
    Jobs,
    Orders,
    Pairs(JobIx),
    Executions(JobIx),
}

/// A sequence of snapshot items, each inserted as it arrives.
struct SeqOf<'r, S: Storage>(&'r mut Registry<S>, Part);

impl<'de, S: Storage> DeserializeSeed<'de> for SeqOf<'_, S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, S: Storage> Visitor<'de> for SeqOf<'_, S> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence of snapshot items")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let (r, part) = (self.0, self.1);
        each(seq, |seq| match part {
            Part::Things => match seq.next_element::<ThingRec>()? {
                Some(t) => restore_thing(r, t).map(Some).map_err(bad),
                None => Ok(None),
            },
            Part::Jobs => seq.next_element_seed(JobSeed(&mut *r)),
            Part::Orders => seq.next_element_seed(OrderSeed(&mut *r)),
            Part::Pairs(job) => {
                match seq.next_element::<(ThingName, Option<ExecutionNumber>, [u8; 2], bool)>()? {
                    Some((thing, highest, retries, target)) => {
                        restore_pair(r, job, &thing, (highest, retries, target)).map(Some).map_err(bad)
                    }
                    None => Ok(None),
                }
            }
            Part::Executions(job) => seq.next_element_seed(ExecSeed(&mut *r, job)),
        })
    }
}

fn restore_thing<S: Storage>(r: &mut Registry<S>, t: ThingRec) -> Result<(), &'static str> {
    if r.thing_index(&t.name).is_some() {
        return Err("snapshot: a thing is listed twice");
    }
    let handle = r.add_thing(&t.name).map_err(|_| "snapshot: the things table is full")?;
    if let Some(e) = r.things.find(handle.0).and_then(|t| r.things.at_mut(t)) {
        e.registered = t.registered;
    }
    Ok(())
}

/// An execution time the registry cannot store ([`Stamp`]).
const TIME: &str = "snapshot: an execution time at or past 4294967295 (other than the never of a deadline)";

/// A job time the registry cannot store ([`Stamp`]).
const JOB_TIME: &str = "snapshot: a job's creation, update or completion time at or past 4294967295";

/// A number or version the registry cannot store ([`compact`]).
const COUNTER: &str = "snapshot: an execution number or version above 4294967295, or a `highest` of 0";

/// A retry count the rules never reach ([`RetryConfig::MAX_TOTAL`](crate::config::RetryConfig::MAX_TOTAL)):
/// stored in 4 bits, refused rather than wrapped.
const RETRIES: &str = "snapshot: a pair's retries or an execution's retryAttempt above 10";
const _: () = assert!(crate::config::RetryConfig::MAX_TOTAL == 10, "RETRIES names the limit");

fn restore_pair<S: Storage>(
    r: &mut Registry<S>,
    job: JobIx,
    thing: &ThingName,
    (highest, [failed, timed_out], target): (Option<ExecutionNumber>, [u8; 2], bool),
) -> Result<(), &'static str> {
    let retries = Retries::new(crate::rules::RetriesUsed { failed, timed_out }).map_err(|_| RETRIES)?;
    // Stored as u32 with 0 for none: execution numbers start at 1 (R7).
    let highest = match highest {
        None => 0,
        Some(h) => compact::number(h).ok().filter(|h| *h != 0).ok_or(COUNTER)?,
    };
    let t = r.thing_index(thing).ok_or("snapshot: a pair names an unknown thing")?;
    if r.pair_head(job, t).is_some() {
        return Err("snapshot: a pair is listed twice");
    }
    if r.pair_room() == 0 {
        return Err("snapshot: the pairs table is full");
    }
    r.new_pair(job, t).map_err(|_| "snapshot: the pairs table or the index is full")?;
    let e = r.pair_mut(job, t).map_err(|_| "snapshot: the pairs table or the index is full")?;
    *e = PairState { highest, retries, target, ..*e };
    Ok(())
}

struct JobSeed<'r, S: Storage>(&'r mut Registry<S>);

impl<'de, S: Storage> DeserializeSeed<'de> for JobSeed<'_, S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, S: Storage> Visitor<'de> for JobSeed<'_, S> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a job")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let r = self.0;
        expect_key(&mut map, "id")?;
        let id: JobId = map.next_value()?;
        expect_key(&mut map, "status")?;
        let status: JobStatus = map.next_value()?;
        expect_key(&mut map, "selection")?;
        let selection: TargetSelection = map.next_value()?;
        expect_key(&mut map, "namespace")?;
        let namespace: Option<NamespaceId> = map.next_value()?;
        expect_key(&mut map, "createdAt")?;
        let created_at: Timestamp = map.next_value()?;
        expect_key(&mut map, "lastUpdatedAt")?;
        let last_updated_at: Timestamp = map.next_value()?;
        expect_key(&mut map, "completedAt")?;
        let completed_at: Option<Timestamp> = map.next_value()?;
        expect_key(&mut map, "reasonCode")?;
        let reason_code: Option<ReasonCode> = map.next_value()?;
        expect_key(&mut map, "forceCanceled")?;
        let force_canceled: bool = map.next_value()?;
        expect_key(&mut map, "targets")?;
        let targets: u32 = map.next_value()?;
        expect_key(&mut map, "config")?;
        let config: JobConfig = map.next_value()?;
        expect_key(&mut map, "deletionDue")?;
        let due: Option<Timestamp> = map.next_value()?;
        expect_key(&mut map, "seq")?;
        let seq: u32 = map.next_value()?;
        expect_key(&mut map, "started")?;
        let started: bool = map.next_value()?;
        expect_key(&mut map, "ended")?;
        let ended: bool = map.next_value()?;
        expect_key(&mut map, "rolloutAt")?;
        let rollout_at: Timestamp = map.next_value()?;
        expect_key(&mut map, "rolloutNext")?;
        let rollout_next: Option<ThingName> = map.next_value()?;
        // `windowAt` and `ramp` (format 5), or `pairs` at once (format 4: neither windows nor
        // an exponential rate).
        let (window_at, ramp, pairs_next) = match map.next_key::<Bounded<24>>()? {
            Some(k) if k.0.as_str() == "windowAt" => {
                let at = map.next_value::<Timestamp>()?;
                expect_key(&mut map, "ramp")?;
                (at, map.next_value::<crate::rules::Ramp>()?, false)
            }
            Some(k)
                if k.0.as_str() == "pairs" && config.windows.is_none() && config.exponential.is_none() =>
            {
                (NEVER, crate::rules::Ramp::default(), true)
            }
            Some(_) | None => return Err(de::Error::custom(Expected("windowAt"))),
        };
        if r.job_index(&id).is_some() {
            return Err(bad("snapshot: a job id is listed twice"));
        }
        if compact::check_schedule(config.schedule).is_err() {
            return Err(bad("snapshot: a job's startTime or endTime is past 2106-01-01T00:00:00Z"));
        }
        if r.jobs.room() == 0 || r.index.room() == 0 {
            return Err(bad("snapshot: the jobs table or the index is full"));
        }
        match (status, due) {
            (JobStatus::DeletionInProgress, Some(_))
            | (
                JobStatus::InProgress | JobStatus::Canceled | JobStatus::Completed | JobStatus::Scheduled,
                None,
            ) => {}
            (JobStatus::DeletionInProgress, None)
            | (
                JobStatus::InProgress | JobStatus::Canceled | JobStatus::Completed | JobStatus::Scheduled,
                Some(_),
            ) => {
                return Err(bad("snapshot: deletionDue must be given exactly for DELETION_IN_PROGRESS"));
            }
        }
        // Stored as u32 seconds, as an execution's times ([`Stamp`]).
        let completed = match completed_at {
            None => Some(Stamp::NEVER),
            Some(t) => Stamp::exact(t).filter(|s| *s != Stamp::NEVER),
        };
        let stamps = (Stamp::exact(created_at), Stamp::exact(last_updated_at), completed);
        let (Some(created_at), Some(last_updated_at), Some(completed_at)) = stamps else {
            return Err(bad(JOB_TIME));
        };
        // When to look again: a time past `u32::MAX` seconds is never (no accepted `now` reaches
        // it), as when the registry computes one.
        let (rollout_at, window_at) = (Stamp::new(rollout_at), Stamp::new(window_at));
        let entry = JobEntry {
            id,
            status,
            selection,
            namespace,
            created_at,
            last_updated_at,
            completed_at,
            reason_code,
            force_canceled,
            process: ProcessDetails::default(),
            targets,
            config,
            executions: List::EMPTY,
            pairs: List::EMPTY,
            rollout_next: None,
            rollout_at,
            ended,
            started,
            window_at,
            ramp,
            seq,
        };
        r.job_seq = r.job_seq.max(seq.saturating_add(1));
        let h = hash(Tag::Job, entry.id.as_str().as_bytes());
        let (_, j) =
            r.jobs.insert(entry).ok_or_else(|| bad::<A::Error>("snapshot: the jobs table is full"))?;
        r.index.insert(h, tagged(Tag::Job, j.get()));
        if let Some(due) = due {
            // SPEC §6: at most 10.
            r.deleting
                .push((j, due))
                .map_err(|_| bad::<A::Error>("snapshot: more than 10 jobs are being deleted"))?;
        }
        if !pairs_next {
            expect_key(&mut map, "pairs")?;
        }
        map.next_value_seed(SeqOf(&mut *r, Part::Pairs(j)))?;
        // The job counts its targets: exactly its pairs marked as one (CreateJob and
        // AssociateTargetsWithJob mark each thing they count).
        let marked = target_pairs(r, j);
        if marked != targets {
            let id = r.job_entry(j).map(|e| &e.id);
            return Err(de::Error::custom(Targets { job: id, targets, marked }));
        }
        if let Some(name) = rollout_next {
            let t = r
                .thing_index(&name)
                .ok_or_else(|| bad::<A::Error>("snapshot: rolloutNext names an unknown thing"))?;
            r.pair_head(j, t).ok_or_else(|| bad::<A::Error>("snapshot: rolloutNext names no target"))?;
            if let Some(e) = r.jobs.at_mut(j) {
                e.rollout_next = Some(t);
            }
        }
        expect_key(&mut map, "executions")?;
        map.next_value_seed(SeqOf(&mut *r, Part::Executions(j)))?;
        if map.next_key::<Bounded<24>>()?.is_some() {
            return Err(bad("snapshot: unexpected field after a job's `executions`"));
        }
        Ok(())
    }
}

/// How many pairs of job `j` are marked as its targets.
fn target_pairs<S: Storage>(r: &Registry<S>, j: JobIx) -> u32 {
    let mut marked = 0u32;
    let mut p = r.job_entry(j).and_then(|e| e.pairs.head);
    while let Some(pair) = p.and_then(|t| r.pair_of(j, t)) {
        marked = marked.saturating_add(u32::from(pair.target));
        p = pair.job_next;
    }
    marked
}

/// A job's id in a message (`?` if its entry cannot be read, which a restore never meets).
struct JobName<'a>(Option<&'a JobId>);

impl fmt::Display for JobName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, "{id}"),
            None => f.write_str("?"),
        }
    }
}

/// A job whose target count is not the number of its pairs marked as targets.
struct Targets<'a> {
    job: Option<&'a JobId>,
    targets: u32,
    marked: u32,
}

impl fmt::Display for Targets<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { job, targets, marked } = self;
        let job = JobName(*job);
        write!(
            f,
            "snapshot: job {job} counts {targets} targets, but {marked} of its pairs are marked as targets"
        )
    }
}

/// What is wrong with an execution of a snapshot.
#[derive(Clone, Copy)]
enum ExecFault {
    /// Its number or version is 0 (both start at 1: SPEC R6, R7).
    Zero(VersionNumber),
    /// Its number is not above the pair's previous one, or past the pair's `highest` (R7).
    Numbering(u32),
    /// Its job cannot hold an execution in its status ([`crate::rules::job_holds`]).
    Held(JobStatus, bool, ExecutionStatus),
}

/// An execution a snapshot cannot hold, named by its job, thing and number.
struct BadExecution<'a> {
    job: Option<&'a JobId>,
    thing: &'a ThingName,
    number: ExecutionNumber,
    fault: ExecFault,
}

impl fmt::Display for BadExecution<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { job, thing, number, fault } = self;
        write!(f, "snapshot: execution {number} of job {} on thing {thing} ", JobName(*job))?;
        match fault {
            ExecFault::Zero(version) => {
                write!(f, "has version {version}: execution numbers and versions start at 1")
            }
            ExecFault::Numbering(highest) => write!(
                f,
                "breaks the numbering (the pair's highest is {highest}): execution numbers of a (job, \
                 thing) must grow and stay within `highest`"
            ),
            ExecFault::Held(job, forced, status) => {
                let forced = if *forced { " with forceCanceled" } else { "" };
                write!(f, "is {status}, which a {job} job{forced} cannot hold")?;
                match job {
                    JobStatus::Completed => write!(f, " (a COMPLETED job's executions are all terminal)"),
                    JobStatus::Canceled => write!(
                        f,
                        " (CancelJob cancels the QUEUED executions, with force the IN_PROGRESS ones too, and \
                         nothing is queued after it)"
                    ),
                    JobStatus::InProgress | JobStatus::Scheduled | JobStatus::DeletionInProgress => Ok(()),
                }
            }
        }
    }
}

struct ExecSeed<'r, S: Storage>(&'r mut Registry<S>, JobIx);

impl<'de, S: Storage> DeserializeSeed<'de> for ExecSeed<'_, S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, S: Storage> Visitor<'de> for ExecSeed<'_, S> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a job execution")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (r, job) = (self.0, self.1);
        expect_key(&mut map, "thing")?;
        let thing: ThingName = map.next_value()?;
        expect_key(&mut map, "number")?;
        let number: ExecutionNumber = map.next_value()?;
        expect_key(&mut map, "version")?;
        let version: VersionNumber = map.next_value()?;
        expect_key(&mut map, "status")?;
        let status: ExecutionStatus = map.next_value()?;
        expect_key(&mut map, "forceCanceled")?;
        let force_canceled: bool = map.next_value()?;
        expect_key(&mut map, "retryAttempt")?;
        let retry_attempt: u8 = map.next_value()?;
        expect_key(&mut map, "queuedAt")?;
        let queued_at: Timestamp = map.next_value()?;
        expect_key(&mut map, "startedAt")?;
        let started_at: Option<Timestamp> = map.next_value()?;
        expect_key(&mut map, "lastUpdatedAt")?;
        let last_updated_at: Timestamp = map.next_value()?;
        expect_key(&mut map, "timeoutAt")?;
        let timeout_at: Timestamp = map.next_value()?;
        expect_key(&mut map, "deadline")?;
        let deadline: Timestamp = map.next_value()?;
        expect_key(&mut map, "statusDetails")?;
        let details: DetailsIn<S::DetailsMap> = map.next_value()?;
        if map.next_key::<Bounded<24>>()?.is_some() {
            return Err(bad("snapshot: unexpected field after an execution's `statusDetails`"));
        }
        let t = r
            .thing_index(&thing)
            .ok_or_else(|| bad::<A::Error>("snapshot: an execution names an unknown thing"))?;
        let head = r
            .pair_head(job, t)
            .ok_or_else(|| bad::<A::Error>("snapshot: an execution's pair is not listed"))?;
        let fault = |fault| {
            let job = r.job_entry(job).map(|e| &e.id);
            de::Error::custom(BadExecution { job, thing: &thing, number, fault })
        };
        if number.get() == 0 || version.get() == 0 {
            return Err(fault(ExecFault::Zero(version)));
        }
        if let Some(j) = r.job_entry(job)
            && !crate::rules::job_holds(j.status, j.force_canceled, status)
        {
            return Err(fault(ExecFault::Held(j.status, j.force_canceled, status)));
        }
        let (Ok(compact_number), Ok(version)) = (compact::number(number), compact::version(version)) else {
            return Err(bad(COUNTER));
        };
        let mut flags = ExecFlags::new(retry_attempt).map_err(|_| bad::<A::Error>(RETRIES))?;
        flags.set_force_canceled(force_canceled);
        // Stored as u32 seconds: each time exact, and "not started" only as `null`.
        let started = match started_at {
            None => Some(Stamp::NEVER),
            Some(t) => Stamp::exact(t).filter(|s| *s != Stamp::NEVER),
        };
        let stamps = (Stamp::exact(queued_at), started, Stamp::exact(last_updated_at));
        let (Some(queued_at), Some(started_at), Some(last_updated_at)) = stamps else {
            return Err(bad(TIME));
        };
        let (Some(timeout_at), Some(deadline)) = (Stamp::exact(timeout_at), Stamp::exact(deadline)) else {
            return Err(bad(TIME));
        };
        let newest = r.newest(job, t);
        let highest = r.pair_state(head).map_or(0, |e| e.highest);
        // Within a pair, numbers grow with creation (R7), and never pass the remembered highest.
        if newest.and_then(|x| r.exec_entry(x)).is_some_and(|e| e.number >= compact_number)
            || compact_number > highest
        {
            return Err(fault(ExecFault::Numbering(highest)));
        }
        let has_details = !details.0.is_empty();
        if r.execs.room() == 0 || (has_details && r.details.room() == 0) {
            return Err(bad("snapshot: the executions or details table is full"));
        }
        let d = if has_details {
            r.details.insert(details.0).and_then(|(_, d)| DetailsIx::new(d.get()))
        } else {
            None
        };
        let entry = ExecutionEntry {
            job,
            thing: t,
            number: compact_number,
            version,
            status,
            flags,
            queued_at,
            started_at,
            last_updated_at,
            timeout_at,
            deadline,
            details: d,
            pair_prev: newest,
            pair: PairState::default(),
            job_link: Links::NONE,
            thing_link: Links::NONE,
            pending_next: None,
        };
        let (_, x) =
            r.execs.insert(entry).ok_or_else(|| bad::<A::Error>("snapshot: the executions table is full"))?;
        r.take_head(job, t, head, x)
            .map_err(|_| bad::<A::Error>("snapshot: an execution's pair is not listed"))?;
        if let Some(list) = r.job_entry(job).map(|j| j.executions) {
            let list = list.push_back(&mut r.execs, x, ByJob);
            if let Some(j) = r.jobs.at_mut(job) {
                j.executions = list;
                j.process.add(status, 1);
            }
        }
        Ok(())
    }
}

/// A statusDetails map read from a snapshot into the host's store, checked by the rules of R14.
struct DetailsIn<M>(M);

impl<'de, M: DetailsStore + Default> Deserialize<'de> for DetailsIn<M> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<M>(PhantomData<M>);
        impl<'de, M: DetailsStore + Default> Visitor<'de> for V<M> {
            type Value = DetailsIn<M>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("statusDetails as [key, value] pairs")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DetailsIn<M>, A::Error> {
                let mut buf = M::default();
                while let Some((k, v)) = seq
                    .next_element::<(Bounded<{ StatusDetails::MAX_KEY_LEN }>, Bounded<{ MAX_VALUE_BYTES }>)>(
                    )?
                {
                    check_details_key(&k.0).map_err(de::Error::custom)?;
                    check_details_value(&v.0).map_err(de::Error::custom)?;
                    buf.push_pair(&k.0, &v.0).map_err(de::Error::custom)?;
                }
                {
                    let mut pairs: heapless::Vec<(&str, &str), { StatusDetails::MAX_PAIRS }> =
                        heapless::Vec::new();
                    for p in buf.pairs() {
                        pairs
                            .push(p)
                            .map_err(|_| bad::<A::Error>("snapshot: more than 10 statusDetails pairs"))?;
                    }
                    StatusDetails::new(&pairs).map_err(de::Error::custom)?;
                }
                Ok(DetailsIn(buf))
            }
        }
        d.deserialize_seq(V(PhantomData))
    }
}

struct OrderSeed<'r, S: Storage>(&'r mut Registry<S>);

impl<'de, S: Storage> DeserializeSeed<'de> for OrderSeed<'_, S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, S: Storage> Visitor<'de> for OrderSeed<'_, S> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a thing's list order")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let r = self.0;
        expect_key(&mut map, "thing")?;
        let thing: ThingName = map.next_value()?;
        let t = r
            .thing_index(&thing)
            .ok_or_else(|| bad::<A::Error>("snapshot: an order names an unknown thing"))?;
        for (field, list) in
            [("all", ListOf::All), ("inProgress", ListOf::InProgress), ("queued", ListOf::Queued)]
        {
            expect_key(&mut map, field)?;
            map.next_value_seed(RefsSeed(&mut *r, t, list))?;
        }
        if map.next_key::<Bounded<24>>()?.is_some() {
            return Err(bad("snapshot: unexpected field after an order's `queued`"));
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum ListOf {
    All,
    InProgress,
    Queued,
}

struct RefsSeed<'r, S: Storage>(&'r mut Registry<S>, ThingIx, ListOf);

impl<'de, S: Storage> DeserializeSeed<'de> for RefsSeed<'_, S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, S: Storage> Visitor<'de> for RefsSeed<'_, S> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[jobId, executionNumber] pairs")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let (r, t, which) = (self.0, self.1, self.2);
        while let Some((job, number)) = seq.next_element::<(JobId, ExecutionNumber)>()? {
            link(r, t, which, &job, number).map_err(bad)?;
        }
        Ok(())
    }
}

fn link<S: Storage>(
    r: &mut Registry<S>,
    t: ThingIx,
    which: ListOf,
    job: &JobId,
    number: ExecutionNumber,
) -> Result<(), &'static str> {
    let j = r.job_index(job).ok_or("snapshot: an order names an unknown job")?;
    let x =
        r.find_execution(j, t, Some(number)).map_err(|_| "snapshot: an order names an unknown execution")?;
    let e = r.exec_entry(x).ok_or("snapshot: an order names an unknown execution")?;
    let status = e.status;
    let job_status = r.job_entry(j).map_or(JobStatus::DeletionInProgress, |j| j.status);
    let (all, in_progress, queued) =
        r.things.at(t).map(|(_, th)| (th.all, th.in_progress, th.queued)).ok_or("snapshot: unknown thing")?;
    if e.thing != t {
        return Err("snapshot: an order lists another thing's execution");
    }
    let (list, listed, wanted) = match which {
        ListOf::All => (all, e.thing_link != Links::NONE || all.head == Some(x), true),
        ListOf::InProgress => (
            in_progress,
            in_progress.holds_pending(&r.execs, x),
            status == ExecutionStatus::InProgress && crate::rules::listed_to_device(job_status, status),
        ),
        ListOf::Queued => (
            queued,
            queued.holds_pending(&r.execs, x),
            status == ExecutionStatus::Queued && crate::rules::listed_to_device(job_status, status),
        ),
    };
    if !wanted {
        return Err("snapshot: a pending list holds an execution that is not pending there");
    }
    if listed {
        return Err("snapshot: an execution is listed twice");
    }
    let list = match which {
        ListOf::All => list.push_back(&mut r.execs, x, ByThing),
        ListOf::InProgress | ListOf::Queued => list.insert_pending(&mut r.execs, list.tail, x),
    };
    if let Some(th) = r.things.at_mut(t) {
        match which {
            ListOf::All => th.all = list,
            ListOf::InProgress => th.in_progress = list,
            ListOf::Queued => th.queued = list,
        }
    }
    Ok(())
}
