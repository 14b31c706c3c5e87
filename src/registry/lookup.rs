//! Finding entries by id, name, pair and handle; the public read accessors.

use super::Registry;
use super::entries::{ExecutionEntry, JobEntry, PairEntry, ThingEntry};
use super::index::{Tag, hash, pair_hash, untag};
use super::slab::{Entry, NIL, Slab, Slots};
use super::storage::Storage;
use super::types::{ExecutionHandle, JobHandle, ThingHandle};
use super::views::{ExecutionView, JobView};
use crate::error::{Rejection, Resource};
use crate::id::{ExecutionNumber, JobId, ThingName};

pub(super) fn hash_of_parts<A, B, C>(
    jobs: &Slab<JobEntry, A>,
    things: &Slab<ThingEntry, B>,
    pairs: &Slab<PairEntry, C>,
    v: u32,
) -> u64
where
    A: Slots<Entry<JobEntry>>,
    B: Slots<Entry<ThingEntry>>,
    C: Slots<Entry<PairEntry>>,
{
    let (tag, i) = untag(v);
    if tag == Tag::Job as u32 {
        jobs.at(i).map_or(0, |(_, j)| hash(Tag::Job, j.id.as_str().as_bytes()))
    } else if tag == Tag::Thing as u32 {
        things.at(i).map_or(0, |(_, t)| hash(Tag::Thing, t.name.as_str().as_bytes()))
    } else {
        pairs.at(i).map_or(0, |(_, p)| pair_hash(p.job, p.thing))
    }
}

impl<S: Storage> Registry<S> {
    pub(super) fn job_index(&self, id: &JobId) -> Option<u32> {
        let jobs = &self.jobs;
        self.index
            .find(hash(Tag::Job, id.as_str().as_bytes()), |v| {
                let (tag, i) = untag(v);
                tag == Tag::Job as u32 && jobs.at(i).is_some_and(|(_, j)| j.id == *id)
            })
            .map(|v| untag(v).1)
    }

    pub(super) fn thing_index(&self, name: &ThingName) -> Option<u32> {
        let things = &self.things;
        self.index
            .find(hash(Tag::Thing, name.as_str().as_bytes()), |v| {
                let (tag, i) = untag(v);
                tag == Tag::Thing as u32 && things.at(i).is_some_and(|(_, t)| t.name == *name)
            })
            .map(|v| untag(v).1)
    }

    /// The pair record of (job, thing).
    pub(super) fn pair(&self, job: u32, thing: u32) -> Option<u32> {
        let pairs = &self.pairs;
        self.index
            .find(pair_hash(job, thing), |v| {
                let (tag, i) = untag(v);
                tag == Tag::Pair as u32 && pairs.at(i).is_some_and(|(_, p)| p.job == job && p.thing == thing)
            })
            .map(|v| untag(v).1)
    }

    /// The newest execution of (job, thing).
    pub(super) fn newest(&self, job: u32, thing: u32) -> Option<u32> {
        let p = self.pair(job, thing)?;
        self.pairs.at(p).map(|(_, p)| p.newest).filter(|x| *x != NIL)
    }

    pub(super) fn job_entry(&self, i: u32) -> Option<&JobEntry> {
        self.jobs.at(i).map(|(_, j)| j)
    }

    pub(super) fn exec_entry(&self, i: u32) -> Option<&ExecutionEntry> {
        self.execs.at(i).map(|(_, e)| e)
    }

    pub(super) fn find_job(&self, id: &JobId) -> Result<u32, Rejection> {
        self.job_index(id).ok_or(Rejection::NotFound(Resource::Job))
    }

    /// The execution of (job, thing) with `number`, or the newest.
    pub(super) fn find_execution(
        &self,
        job: u32,
        thing: u32,
        number: Option<ExecutionNumber>,
    ) -> Result<u32, Rejection> {
        let mut i = self.newest(job, thing).ok_or(Rejection::NotFound(Resource::Execution))?;
        let Some(number) = number else { return Ok(i) };
        // The chain of one (job, thing) is short: one execution per attempt.
        while let Some(e) = self.exec_entry(i) {
            if e.number == number {
                return Ok(i);
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
    ) -> Result<(u32, u32, u32), Rejection> {
        let j = self.find_job(job)?;
        let t = self.thing_index(thing).ok_or(Rejection::NotFound(Resource::Execution))?;
        let x = self.find_execution(j, t, number)?;
        Ok((j, t, x))
    }

    pub(super) fn view(&self, x: u32) -> Option<ExecutionView<'_>> {
        let (key, entry) = self.execs.at(x)?;
        let job = self.job_entry(entry.job)?;
        let (_, thing) = self.things.at(entry.thing)?;
        let details = self.details.at(entry.details).map(|(_, d)| d);
        Some(ExecutionView { handle: ExecutionHandle(key), entry, job, thing: &thing.name, details })
    }

    pub(super) fn view_or_missing(&self, x: u32) -> Result<ExecutionView<'_>, Rejection> {
        self.view(x).ok_or(Rejection::NotFound(Resource::Execution))
    }

    /// The execution a handle names, if it still exists.
    #[must_use]
    pub fn execution(&self, handle: ExecutionHandle) -> Option<ExecutionView<'_>> {
        self.execs.get(handle.0)?;
        self.view(handle.0.index)
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

    /// Every job, in table order.
    pub fn jobs(&self) -> impl Iterator<Item = JobView<'_>> {
        (0..self.jobs.len())
            .filter_map(|i| u32::try_from(i).ok())
            .filter_map(|i| self.jobs.at(i).map(|(key, entry)| JobView { handle: JobHandle(key), entry }))
    }

    /// The thing named `name`, if registered.
    #[must_use]
    pub fn thing(&self, name: &ThingName) -> Option<ThingHandle> {
        let i = self.thing_index(name)?;
        self.things.at(i).filter(|(_, t)| t.registered).map(|(key, _)| ThingHandle(key))
    }

    /// Every registered thing, in table order.
    pub fn things(&self) -> impl Iterator<Item = &ThingName> {
        (0..self.things.len())
            .filter_map(|i| u32::try_from(i).ok())
            .filter_map(|i| self.things.at(i))
            .filter(|(_, t)| t.registered)
            .map(|(_, t)| &t.name)
    }

    /// A fresh stamp for [`Self::first_visit`]; on wrap-around every mark is cleared first.
    pub(super) fn next_stamp(&mut self) -> u32 {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            for i in 0..self.things.len() {
                if let Some(t) = u32::try_from(i).ok().and_then(|i| self.things.at_mut(i)) {
                    t.mark = 0;
                }
            }
            self.stamp = 1;
        }
        self.stamp
    }

    /// True the first time `stamp` visits thing `t`.
    pub(super) fn first_visit(&mut self, t: u32, stamp: u32) -> bool {
        match self.things.at_mut(t) {
            Some(e) if e.mark != stamp => {
                e.mark = stamp;
                true
            }
            Some(_) | None => false,
        }
    }
}
