//! Writing a snapshot: streamed from the tables, nothing collected first.

use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Deserialize, Serialize, Serializer};

use super::{FORMAT, Snapshot};
use crate::details::Pairs;
use crate::id::ThingName;
use crate::registry::entries::{ExecIx, JobIx};
use crate::registry::lists::{ByPending, ByThing, Next, walk};
use crate::registry::slab::List;
use crate::registry::{ExecutionEntry, JobEntry, Registry, Storage, ThingEntry};

impl<S: Storage> Serialize for Snapshot<'_, S> {
    fn serialize<Z: Serializer>(&self, z: Z) -> Result<Z::Ok, Z::Error> {
        let r = self.0;
        let mut st = z.serialize_struct("Registry", 5)?;
        st.serialize_field("format", &FORMAT)?;
        st.serialize_field("deletionDelay", &r.deletion_delay)?;
        st.serialize_field("things", &ThingsSer(r))?;
        st.serialize_field("jobs", &JobsSer(r))?;
        st.serialize_field("order", &OrdersSer(r))?;
        st.end()
    }
}

struct ThingsSer<'r, S: Storage>(&'r Registry<S>);

impl<S: Storage> Serialize for ThingsSer<'_, S> {
    fn serialize<Z: Serializer>(&self, z: Z) -> Result<Z::Ok, Z::Error> {
        let r = self.0;
        let mut seq = z.serialize_seq(Some(r.things.used()))?;
        for i in r.things.positions() {
            if let Some((_, t)) = r.things.at(i) {
                seq.serialize_element(&ThingRec { name: t.name.clone(), registered: t.registered })?;
            }
        }
        seq.end()
    }
}

#[derive(Serialize, Deserialize)]
pub(super) struct ThingRec {
    pub(super) name: ThingName,
    pub(super) registered: bool,
}

struct JobsSer<'r, S: Storage>(&'r Registry<S>);

impl<S: Storage> Serialize for JobsSer<'_, S> {
    fn serialize<Z: Serializer>(&self, z: Z) -> Result<Z::Ok, Z::Error> {
        let r = self.0;
        let mut seq = z.serialize_seq(Some(r.jobs.used()))?;
        for i in r.jobs.positions() {
            if let Some((_, j)) = r.jobs.at(i) {
                seq.serialize_element(&JobSer { r, index: i, job: j })?;
            }
        }
        seq.end()
    }
}

struct JobSer<'r, S: Storage> {
    r: &'r Registry<S>,
    index: JobIx,
    job: &'r JobEntry,
}

impl<S: Storage> Serialize for JobSer<'_, S> {
    fn serialize<Z: Serializer>(&self, z: Z) -> Result<Z::Ok, Z::Error> {
        let j = self.job;
        let due = self.r.deleting.iter().find(|(d, _)| *d == self.index).map(|(_, due)| *due);
        let rollout_next = j.rollout_next.and_then(|t| self.r.things.at(t)).map(|(_, t)| &t.name);
        let mut st = z.serialize_struct("Job", 21)?;
        st.serialize_field("id", &j.id)?;
        st.serialize_field("status", &j.status)?;
        st.serialize_field("selection", &j.selection)?;
        st.serialize_field("namespace", &j.namespace)?;
        st.serialize_field("createdAt", &j.created_at.get())?;
        st.serialize_field("lastUpdatedAt", &j.last_updated_at.get())?;
        st.serialize_field("completedAt", &j.completed_at.get_opt())?;
        st.serialize_field("reasonCode", &j.reason_code)?;
        st.serialize_field("forceCanceled", &j.force_canceled)?;
        st.serialize_field("targets", &j.targets)?;
        st.serialize_field("config", &j.config)?;
        st.serialize_field("deletionDue", &due)?;
        st.serialize_field("seq", &j.seq)?;
        st.serialize_field("started", &j.started)?;
        st.serialize_field("ended", &j.ended)?;
        st.serialize_field("rolloutAt", &j.rollout_at.get())?;
        st.serialize_field("rolloutNext", &rollout_next)?;
        st.serialize_field("windowAt", &j.window_at.get())?;
        st.serialize_field("ramp", &j.ramp)?;
        st.serialize_field("pairs", &PairsSer { r: self.r, index: self.index, job: j })?;
        st.serialize_field("executions", &ExecsSer { r: self.r, job: self.index })?;
        st.end()
    }
}

struct PairsSer<'r, S: Storage> {
    r: &'r Registry<S>,
    index: JobIx,
    job: &'r JobEntry,
}

impl<S: Storage> Serialize for PairsSer<'_, S> {
    fn serialize<Z: Serializer>(&self, z: Z) -> Result<Z::Ok, Z::Error> {
        let mut seq = z.serialize_seq(usize::try_from(self.job.pairs.len).ok())?;
        let mut p = self.job.pairs.head;
        while let Some((t, pair)) = p.and_then(|t| Some((t, self.r.pair_of(self.index, t)?))) {
            let thing = self.r.things.at(t).map(|(_, t)| &t.name);
            let used = pair.retries.used();
            seq.serialize_element(&(thing, pair.highest(), [used.failed, used.timed_out], pair.target))?;
            p = pair.job_next;
        }
        seq.end()
    }
}

struct ExecsSer<'r, S: Storage> {
    r: &'r Registry<S>,
    job: JobIx,
}

impl<S: Storage> Serialize for ExecsSer<'_, S> {
    fn serialize<Z: Serializer>(&self, z: Z) -> Result<Z::Ok, Z::Error> {
        let r = self.r;
        let len = r.job_entry(self.job).and_then(|j| usize::try_from(j.executions.len).ok());
        let mut seq = z.serialize_seq(len)?;
        for x in r.job_executions(self.job) {
            if let Some(e) = r.exec_entry(x) {
                let thing = r.things.at(e.thing).map(|(_, t)| &t.name);
                let details = r.details_of(x);
                seq.serialize_element(&ExecSer { e, thing, details })?;
            }
        }
        seq.end()
    }
}

struct ExecSer<'r> {
    e: &'r ExecutionEntry,
    thing: Option<&'r ThingName>,
    details: &'r [u8],
}

impl Serialize for ExecSer<'_> {
    fn serialize<Z: Serializer>(&self, z: Z) -> Result<Z::Ok, Z::Error> {
        let e = self.e;
        let mut st = z.serialize_struct("Execution", 12)?;
        st.serialize_field("thing", &self.thing)?;
        st.serialize_field("number", &e.number())?;
        st.serialize_field("version", &e.version())?;
        st.serialize_field("status", &e.status)?;
        st.serialize_field("forceCanceled", &e.flags.force_canceled())?;
        st.serialize_field("retryAttempt", &e.flags.retry_attempt())?;
        st.serialize_field("queuedAt", &e.queued_at.get())?;
        st.serialize_field("startedAt", &e.started_at.get_opt())?;
        st.serialize_field("lastUpdatedAt", &e.last_updated_at.get())?;
        st.serialize_field("timeoutAt", &e.timeout_at.get())?;
        st.serialize_field("deadline", &e.deadline.get())?;
        st.serialize_field("statusDetails", &DetailsSer(self.details))?;
        st.end()
    }
}

/// An encoded statusDetails map, as `[key, value]` pairs.
struct DetailsSer<'r>(&'r [u8]);

impl Serialize for DetailsSer<'_> {
    fn serialize<Z: Serializer>(&self, z: Z) -> Result<Z::Ok, Z::Error> {
        let pairs = Pairs::new(self.0);
        let mut seq = z.serialize_seq(Some(pairs.clone().count()))?;
        for pair in pairs {
            seq.serialize_element(&pair)?;
        }
        seq.end()
    }
}

struct OrdersSer<'r, S: Storage>(&'r Registry<S>);

impl<S: Storage> Serialize for OrdersSer<'_, S> {
    fn serialize<Z: Serializer>(&self, z: Z) -> Result<Z::Ok, Z::Error> {
        let r = self.0;
        let mut seq = z.serialize_seq(Some(r.things.used()))?;
        for i in r.things.positions() {
            if let Some((_, t)) = r.things.at(i) {
                seq.serialize_element(&OrderSer { r, t })?;
            }
        }
        seq.end()
    }
}

struct OrderSer<'r, S: Storage> {
    r: &'r Registry<S>,
    t: &'r ThingEntry,
}

impl<S: Storage> Serialize for OrderSer<'_, S> {
    fn serialize<Z: Serializer>(&self, z: Z) -> Result<Z::Ok, Z::Error> {
        let mut st = z.serialize_struct("Order", 4)?;
        st.serialize_field("thing", &self.t.name)?;
        st.serialize_field("all", &RefsSer { r: self.r, list: self.t.all, link: ByThing })?;
        st.serialize_field("inProgress", &RefsSer { r: self.r, list: self.t.in_progress, link: ByPending })?;
        st.serialize_field("queued", &RefsSer { r: self.r, list: self.t.queued, link: ByPending })?;
        st.end()
    }
}

struct RefsSer<'r, S: Storage, L> {
    r: &'r Registry<S>,
    list: List<ExecIx>,
    link: L,
}

impl<S: Storage, L: Next<ExecutionEntry> + Copy> Serialize for RefsSer<'_, S, L> {
    fn serialize<Z: Serializer>(&self, z: Z) -> Result<Z::Ok, Z::Error> {
        let mut seq = z.serialize_seq(usize::try_from(self.list.len).ok())?;
        for x in walk(&self.r.execs, self.list.head, self.link) {
            if let Some(e) = self.r.exec_entry(x)
                && let Some(j) = self.r.job_entry(e.job)
            {
                seq.serialize_element(&(&j.id, e.number()))?;
            }
        }
        seq.end()
    }
}
