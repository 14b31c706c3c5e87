//! Finding entries by id, name, pair and handle; the public read accessors.

use super::Registry;
use super::entries::{
    ExecIx, ExecutionEntry, Head, JobEntry, JobIx, PairEntry, PairState, ThingEntry, ThingIx,
};
use super::events::{MISSING_EXECUTION, MISSING_JOB};
use super::index::{Tag, hash, pair_hash, tagged, untag};
use super::slab::{Entry, Ix, Slab, Slots};
use super::storage::Storage;
use super::types::{ExecutionHandle, JobHandle, ThingHandle};
use super::views::{ExecutionView, JobView};
use crate::error::{Rejection, Resource};
use crate::id::{ExecutionNumber, JobId, ThingName, Timestamp};

/// The position a tagged index value names, if it carries `tag`.
pub(super) fn tagged_ix<T>(v: u32, tag: Tag) -> Option<Ix<T>> {
    let (t, i) = untag(v);
    if t == tag as u32 { Ix::new(i) } else { None }
}

/// The hash of any value the index holds, from the entry it names (to shift values back into
/// place when one is removed).
fn hash_of_parts<A, B, C, D>(
    jobs: &Slab<JobEntry, A>,
    things: &Slab<ThingEntry, B>,
    pairs: &Slab<PairEntry, C>,
    execs: &Slab<ExecutionEntry, D>,
    v: u32,
) -> u64
where
    A: Slots<Entry<JobEntry>>,
    B: Slots<Entry<ThingEntry>>,
    C: Slots<Entry<PairEntry>>,
    D: Slots<Entry<ExecutionEntry>>,
{
    if let Some(i) = tagged_ix(v, Tag::Job) {
        jobs.at(i).map_or(0, |(_, j)| hash(Tag::Job, j.id.as_str().as_bytes()))
    } else if let Some(i) = tagged_ix(v, Tag::Thing) {
        things.at(i).map_or(0, |(_, t)| hash(Tag::Thing, t.name.as_str().as_bytes()))
    } else if let Some(i) = tagged_ix(v, Tag::Pair) {
        pairs.at(i).map_or(0, |(_, p)| pair_hash(p.job.get(), p.thing.get()))
    } else {
        tagged_ix(v, Tag::Execution)
            .and_then(|i| execs.at(i))
            .map_or(0, |(_, e)| pair_hash(e.job.get(), e.thing.get()))
    }
}

/// The index value of a pair's head.
pub(super) fn head_value(h: Head) -> u32 {
    match h {
        Head::Exec(x) => tagged(Tag::Execution, x.get()),
        Head::Record(p) => tagged(Tag::Pair, p.get()),
    }
}

impl<S: Storage> Registry<S> {
    /// Removes `value` (stored under hash `h`) from the index, if it is there.
    pub(super) fn unindex(&mut self, h: u64, value: u32) {
        let Self { index, jobs, things, pairs, execs, .. } = self;
        index.remove(h, value, |v| hash_of_parts(jobs, things, pairs, execs, v));
    }

    pub(super) fn job_index(&self, id: &JobId) -> Option<JobIx> {
        let jobs = &self.jobs;
        let found = |v| tagged_ix(v, Tag::Job).and_then(|i| jobs.at(i)).is_some_and(|(_, j)| j.id == *id);
        self.index.find(hash(Tag::Job, id.as_str().as_bytes()), found).and_then(|v| tagged_ix(v, Tag::Job))
    }

    pub(super) fn thing_index(&self, name: &ThingName) -> Option<ThingIx> {
        let things = &self.things;
        let found =
            |v| tagged_ix(v, Tag::Thing).and_then(|i| things.at(i)).is_some_and(|(_, t)| t.name == *name);
        self.index
            .find(hash(Tag::Thing, name.as_str().as_bytes()), found)
            .and_then(|v| tagged_ix(v, Tag::Thing))
    }

    /// Where the state of (job, thing) lives: its newest execution or its record (one index
    /// probe; the execution found is the one describe and update want).
    pub(super) fn pair_head(&self, job: JobIx, thing: ThingIx) -> Option<Head> {
        let (pairs, execs) = (&self.pairs, &self.execs);
        let head = |v| match tagged_ix(v, Tag::Execution) {
            Some(x) => Some(Head::Exec(x)),
            None => tagged_ix(v, Tag::Pair).map(Head::Record),
        };
        let is = |v| match head(v) {
            Some(Head::Exec(x)) => execs.at(x).is_some_and(|(_, e)| e.job == job && e.thing == thing),
            Some(Head::Record(p)) => pairs.at(p).is_some_and(|(_, e)| e.job == job && e.thing == thing),
            None => false,
        };
        self.index.find(pair_hash(job.get(), thing.get()), is).and_then(head)
    }

    /// The newest execution of (job, thing).
    pub(super) fn newest(&self, job: JobIx, thing: ThingIx) -> Option<ExecIx> {
        match self.pair_head(job, thing)? {
            Head::Exec(x) => Some(x),
            Head::Record(_) => None,
        }
    }

    /// The state of the pair whose head is `h`.
    pub(super) fn pair_state(&self, h: Head) -> Option<&PairState> {
        match h {
            Head::Exec(x) => self.execs.at(x).map(|(_, e)| &e.pair),
            Head::Record(p) => self.pairs.at(p).map(|(_, e)| &e.pair),
        }
    }

    /// The state of (job, thing), if it is a pair.
    pub(super) fn pair_of(&self, job: JobIx, thing: ThingIx) -> Option<&PairState> {
        self.pair_state(self.pair_head(job, thing)?)
    }

    /// The state of the pair whose head is `h`, which a lookup or a list names: missing, it is
    /// a defect.
    pub(super) fn pair_state_mut(&mut self, h: Head) -> Result<&mut PairState, Rejection> {
        let missing = Rejection::LogicBug("an entry names a missing (job, thing) pair");
        match h {
            Head::Exec(x) => self.execs.at_mut(x).map(|e| &mut e.pair).ok_or(missing),
            Head::Record(p) => self.pairs.at_mut(p).map(|e| &mut e.pair).ok_or(missing),
        }
    }

    /// The state of (job, thing), which a list names: missing, it is a defect.
    pub(super) fn pair_mut(&mut self, job: JobIx, thing: ThingIx) -> Result<&mut PairState, Rejection> {
        let h = self
            .pair_head(job, thing)
            .ok_or(Rejection::LogicBug("a list names a missing (job, thing) pair"))?;
        self.pair_state_mut(h)
    }

    /// How many more pairs fit: pairs with executions count too, so that each can fall back to a
    /// record when its executions are deleted.
    pub(super) fn pair_room(&self) -> usize {
        let capacity = self.pairs.room().saturating_add(self.pairs.used());
        capacity.saturating_sub(self.pair_count)
    }

    pub(super) fn job_entry(&self, i: JobIx) -> Option<&JobEntry> {
        self.jobs.at(i).map(|(_, j)| j)
    }

    pub(super) fn exec_entry(&self, i: ExecIx) -> Option<&ExecutionEntry> {
        self.execs.at(i).map(|(_, e)| e)
    }

    /// The job at `j`, which an entry names: missing, it is a defect.
    pub(super) fn job_mut(&mut self, j: JobIx) -> Result<&mut JobEntry, Rejection> {
        self.jobs.at_mut(j).ok_or(MISSING_JOB)
    }

    /// The execution at `x`, which a list or a lookup names: missing, it is a defect.
    pub(super) fn exec_mut(&mut self, x: ExecIx) -> Result<&mut ExecutionEntry, Rejection> {
        self.execs.at_mut(x).ok_or(MISSING_EXECUTION)
    }

    /// The thing at `t`, which an execution or a lookup names: missing, it is a defect.
    pub(super) fn thing_mut(&mut self, t: ThingIx) -> Result<&mut ThingEntry, Rejection> {
        self.things.at_mut(t).ok_or(Rejection::LogicBug("an entry names a missing thing"))
    }

    /// The execution at `i`, if any, with its position (for walking a list).
    pub(super) fn exec_at(&self, i: Option<ExecIx>) -> Option<(ExecIx, &ExecutionEntry)> {
        let i = i?;
        self.execs.at(i).map(|(_, e)| (i, e))
    }

    pub(super) fn find_job(&self, id: &JobId) -> Result<JobIx, Rejection> {
        self.job_index(id).ok_or(Rejection::NotFound(Resource::Job))
    }

    /// The job named `id`: its position and its entry.
    pub(super) fn find_job_entry(&self, id: &JobId) -> Result<(JobIx, &JobEntry), Rejection> {
        let j = self.find_job(id)?;
        Ok((j, self.job_entry(j).ok_or(Rejection::NotFound(Resource::Job))?))
    }

    /// The execution of (job, thing) with `number`, or the newest.
    pub(super) fn find_execution(
        &self,
        job: JobIx,
        thing: ThingIx,
        number: Option<ExecutionNumber>,
    ) -> Result<ExecIx, Rejection> {
        let newest = self.newest(job, thing).ok_or(Rejection::NotFound(Resource::Execution))?;
        let Some(number) = number else { return Ok(newest) };
        // The chain of one (job, thing) is short: one execution per attempt.
        let mut i = Some(newest);
        while let Some((x, e)) = i.and_then(|x| Some((x, self.exec_entry(x)?))) {
            if e.number() == number {
                return Ok(x);
            }
            i = e.pair_prev;
        }
        Err(Rejection::NotFound(Resource::Execution))
    }

    pub(super) fn lookup_execution(
        &self,
        job: &JobId,
        thing: &ThingName,
        number: Option<ExecutionNumber>,
    ) -> Result<(JobIx, ThingIx, ExecIx), Rejection> {
        let j = self.find_job(job)?;
        let t = self.thing_index(thing).ok_or(Rejection::NotFound(Resource::Execution))?;
        let x = self.find_execution(j, t, number)?;
        Ok((j, t, x))
    }

    pub(super) fn view(&self, x: ExecIx) -> Option<ExecutionView<'_>> {
        let (key, entry) = self.execs.at(x)?;
        let job = self.job_entry(entry.job)?;
        let (_, thing) = self.things.at(entry.thing)?;
        let details = self.details_of(x);
        Some(ExecutionView { handle: ExecutionHandle(key), entry, job, thing: &thing.name, details })
    }

    pub(super) fn view_or_missing(&self, x: ExecIx) -> Result<ExecutionView<'_>, Rejection> {
        self.view(x).ok_or(Rejection::NotFound(Resource::Execution))
    }

    /// The execution a handle names, if it still exists.
    #[must_use]
    pub fn execution(&self, handle: ExecutionHandle) -> Option<ExecutionView<'_>> {
        self.view(self.execs.find(handle.0)?)
    }

    /// The job a handle names, if it still exists.
    #[must_use]
    pub fn job_by_handle(&self, handle: JobHandle) -> Option<JobView<'_>> {
        self.jobs.get(handle.0).map(|entry| JobView { handle, entry })
    }

    /// DescribeJob (SPEC 4.1): DELETION_IN_PROGRESS is reported until the deletion completes.
    ///
    /// # Errors
    /// `ResourceNotFoundException` for an unknown job.
    pub fn job(&self, id: &JobId) -> Result<JobView<'_>, Rejection> {
        let i = self.find_job(id)?;
        let (key, entry) = self.jobs.at(i).ok_or(Rejection::NotFound(Resource::Job))?;
        Ok(JobView { handle: JobHandle(key), entry })
    }

    /// The jobs in DELETION_IN_PROGRESS whose removal is due by `now`: those the next
    /// [`Registry::advance`] at `now` removes (at most [`rules::MAX_JOBS_DELETING`](crate::rules::MAX_JOBS_DELETING)), so that
    /// a host can keep what its `deleted` events report about them (SPEC 7.4).
    pub fn deletions_due(&self, now: Timestamp) -> impl Iterator<Item = JobView<'_>> {
        self.deleting.iter().filter(move |(_, due)| *due <= now).filter_map(|(j, _)| {
            self.jobs.at(*j).map(|(key, entry)| JobView { handle: JobHandle(key), entry })
        })
    }

    /// Every job, in table order.
    pub fn jobs(&self) -> impl Iterator<Item = JobView<'_>> {
        self.jobs
            .positions()
            .filter_map(|i| self.jobs.at(i).map(|(key, entry)| JobView { handle: JobHandle(key), entry }))
    }

    /// Whether job `id` counts `thing` among its targets (CreateJob and AssociateTargetsWithJob
    /// count each thing they name or reach through a group; a thing deleted since stays one).
    #[must_use]
    pub fn is_target(&self, id: &JobId, thing: &ThingName) -> bool {
        let (Ok(j), Some(t)) = (self.find_job(id), self.thing_index(thing)) else { return false };
        self.pair_of(j, t).is_some_and(|p| p.target)
    }

    /// The thing named `name`, if registered.
    #[must_use]
    pub fn thing(&self, name: &ThingName) -> Option<ThingHandle> {
        let i = self.registered_thing(name)?;
        self.things.at(i).map(|(key, _)| ThingHandle(key))
    }

    /// The position of the thing named `name`, if registered.
    pub(super) fn registered_thing(&self, name: &ThingName) -> Option<ThingIx> {
        self.thing_index(name).filter(|i| self.things.at(*i).is_some_and(|(_, t)| t.registered))
    }

    /// Every registered thing, in table order.
    pub fn things(&self) -> impl Iterator<Item = &ThingName> {
        self.things
            .positions()
            .filter_map(|i| self.things.at(i))
            .filter(|(_, t)| t.registered)
            .map(|(_, t)| &t.name)
    }

    /// A fresh stamp for [`Self::first_visit`]; on wrap-around every mark is cleared first.
    pub(super) fn next_stamp(&mut self) -> u32 {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            for i in self.things.positions() {
                if let Some(t) = self.things.at_mut(i) {
                    t.mark = 0;
                }
            }
            self.stamp = 1;
        }
        self.stamp
    }

    /// True the first time `stamp` visits thing `t`.
    pub(super) fn first_visit(&mut self, t: ThingIx, stamp: u32) -> bool {
        match self.things.at_mut(t) {
            Some(e) if e.mark != stamp => {
                e.mark = stamp;
                true
            }
            Some(_) | None => false,
        }
    }
}
