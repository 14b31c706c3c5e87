//! Deletion: DeleteJob in bounded steps, DeleteJobExecution, and freeing entries.

use crate::error::{Rejection, Resource};
use crate::id::{ExecutionNumber, JobId, ThingName, Timestamp};
use crate::registry::Registry;
use crate::registry::entries::ExecutionEntry;
use crate::registry::index::{Tag, hash, pair_hash, tagged};
use crate::registry::lists::Which;
use crate::registry::lookup::hash_of_parts;
use crate::registry::slab::{Links, NIL};
use crate::registry::storage::Storage;
use crate::registry::types::{Event, EventSink};
use crate::rules::{self};
use crate::status::JobStatus;
use crate::topic::{ExecutionEvent, JobEvent};

impl<S: Storage> Registry<S> {
    /// DeleteJob (SPEC 4.2, R4, R5, §6): the job becomes DELETION_IN_PROGRESS and its executions
    /// vanish from devices' pending lists at once; [`Registry::advance`] removes them once the
    /// deletion delay has passed.
    ///
    /// # Errors
    /// As [`rules::delete_job`] (including the limit of 10); unknown job; sink limits.
    pub fn delete_job(
        &mut self,
        job: &JobId,
        force: bool,
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<(), Rejection> {
        let j = self.find_job(job)?;
        let entry = self.job_entry(j).ok_or(Rejection::NotFound(Resource::Job))?;
        rules::delete_job(entry.status, force, self.deleting.len())?;
        let job_status = entry.status;
        let listed = |e: &ExecutionEntry| rules::listed_to_device(job_status, e.status);
        let visible = self.job_executions(j).filter(|x| self.exec_entry(*x).is_some_and(listed)).count();
        Self::ensure_room(sink, visible.saturating_mul(2).saturating_add(1))?;
        let id = entry.id.clone();
        // Room is certain (the rule refused the 11th); pushed first so nothing is half-applied.
        let due = now.saturating_add(self.deletion_delay);
        self.deleting
            .push((j, due))
            .map_err(|_| Rejection::LimitExceeded(crate::error::Limit::JobsDeletionInProgress))?;
        self.set_job_status(j, JobStatus::DeletionInProgress, now);
        sink.push(Event::Job { job: id, event: JobEvent::DeletionInProgress });
        let mut x = self.job_entry(j).map_or(NIL, |e| e.executions.head);
        while let Some(e) = self.exec_entry(x) {
            let (next, thing, was_listed) = (e.job_link.next, e.thing, listed(e));
            if was_listed {
                // SEED-CLI: devices lose access to the job's executions.
                let mut w = self.watch(thing);
                self.detach_pending(x);
                w.changed = true;
                self.settle(w, sink);
            }
            x = next;
        }
        Ok(())
    }

    /// Removes up to `budget` executions of job `j`, then the job itself once none remain.
    /// Returns how many were removed and whether the job is gone.
    pub(in crate::registry) fn delete_some(
        &mut self,
        j: u32,
        budget: usize,
        sink: &mut impl EventSink,
    ) -> Result<(usize, bool), Rejection> {
        let mut removed = 0usize;
        while let Some(x) = self.job_entry(j).map(|e| e.executions.head).filter(|x| *x != NIL) {
            if removed >= budget {
                return Ok((removed, false));
            }
            Self::ensure_room(sink, 1)?;
            // SPEC 7.4: each execution's `deleted` event.
            self.emit_execution(x, ExecutionEvent::Deleted, sink);
            self.remove_execution(x);
            removed = removed.saturating_add(1);
        }
        Self::ensure_room(sink, 1)?;
        self.finish_job_deletion(j, sink);
        Ok((removed, true))
    }

    pub(in crate::registry) fn finish_job_deletion(&mut self, j: u32, sink: &mut impl EventSink) {
        while let Some(p) = self.job_entry(j).map(|e| e.pairs.head).filter(|p| *p != NIL) {
            self.remove_pair(p);
        }
        let Some((key, e)) = self.jobs.at(j) else { return };
        let id = e.id.clone();
        let h = hash(Tag::Job, id.as_str().as_bytes());
        let Self { index, jobs, things, pairs, .. } = self;
        index.remove(h, tagged(Tag::Job, j), |v| hash_of_parts(jobs, things, pairs, v));
        jobs.remove(key);
        self.deleting.retain(|(d, _)| *d != j);
        sink.push(Event::Job { job: id, event: JobEvent::Deleted });
    }

    /// Unlinks and frees an execution: lists, pair chain, index, counters, details.
    pub(in crate::registry) fn remove_execution(&mut self, x: u32) {
        let Some((key, e)) = self.execs.at(x) else { return };
        let (job, thing, status, pair_prev) = (e.job, e.thing, e.status, e.pair_prev);
        if self.job_entry(job).is_some_and(|j| rules::listed_to_device(j.status, status)) {
            self.detach_pending(x);
        }
        if let Some(list) = self.job_entry(job).map(|j| j.executions) {
            let list = self.unlink(list, x, Which::Job);
            if let Some(j) = self.jobs.at_mut(job) {
                j.executions = list;
                j.process.add(status, -1);
            }
        }
        if let Some(list) = self.things.at(thing).map(|(_, t)| t.all) {
            let list = self.unlink(list, x, Which::Thing);
            if let Some(t) = self.things.at_mut(thing) {
                t.all = list;
            }
        }
        // The pair chain: the pair points at the newest; older ones are linked by pair_prev.
        if let Some(p) = self.pair(job, thing) {
            let newest = self.pairs.at(p).map_or(NIL, |(_, e)| e.newest);
            if newest == x {
                if let Some(e) = self.pairs.at_mut(p) {
                    e.newest = pair_prev;
                }
                // The pair stays (it is one of the job's targets): with no execution left,
                // R7's default numbers from 1 again, `Monotonic` goes on from `highest`.
            } else {
                let mut newer = newest;
                while let Some(n) = self.exec_entry(newer) {
                    if n.pair_prev == x {
                        if let Some(n) = self.execs.at_mut(newer) {
                            n.pair_prev = pair_prev;
                        }
                        break;
                    }
                    newer = n.pair_prev;
                }
            }
        }
        self.free_details(x);
        self.execs.remove(key);
        self.forget_thing_if_unused(thing);
    }

    /// Frees a pair record: index, job list, thing count.
    pub(in crate::registry) fn remove_pair(&mut self, p: u32) {
        let Some((key, e)) = self.pairs.at(p) else { return };
        let (job, thing, Links { prev, next }) = (e.job, e.thing, e.job_link);
        let Self { index, jobs, things, pairs, .. } = self;
        index.remove(pair_hash(job, thing), tagged(Tag::Pair, p), |v| hash_of_parts(jobs, things, pairs, v));
        match self.pairs.at_mut(prev) {
            Some(e) => e.job_link.next = next,
            None => {
                if let Some(j) = self.jobs.at_mut(job) {
                    j.pairs.head = next;
                }
            }
        }
        match self.pairs.at_mut(next) {
            Some(e) => e.job_link.prev = prev,
            None => {
                if let Some(j) = self.jobs.at_mut(job) {
                    j.pairs.tail = prev;
                }
            }
        }
        if let Some(j) = self.jobs.at_mut(job) {
            j.pairs.len = j.pairs.len.saturating_sub(1);
        }
        self.pairs.remove(key);
        if let Some(t) = self.things.at_mut(thing) {
            t.pairs = t.pairs.saturating_sub(1);
        }
        self.forget_thing_if_unused(thing);
    }

    /// DeleteJobExecution (SPEC 4.2, T11, R1, R2): removes the execution; its number may be
    /// reused (R7).
    ///
    /// # Errors
    /// As [`rules::delete_execution`]; unknown execution; sink limits.
    pub fn delete_execution(
        &mut self,
        job: &JobId,
        thing: &ThingName,
        number: ExecutionNumber,
        force: bool,
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<(), Rejection> {
        let (j, t, x) = self.lookup_execution(job, thing, Some(number))?;
        let v = self.view_or_missing(x)?;
        rules::delete_execution(v.state(), force, &self.policy)?;
        Self::ensure_room(sink, 4)?;
        let mut w = self.watch(t);
        w.changed = rules::listed_to_device(v.job_status(), v.status());
        self.emit_execution(x, ExecutionEvent::Deleted, sink);
        self.remove_execution(x);
        if let Some(e) = self.jobs.at_mut(j) {
            e.last_updated_at = now;
        }
        self.maybe_complete(j, now, sink);
        if self.things.at(t).is_some() {
            self.settle(w, sink);
        } else if w.changed {
            // The thing record is gone with its last execution; still tell its devices.
            sink.push(Event::Notify(thing.clone()));
            sink.push(Event::NotifyNext(thing.clone()));
        }
        Ok(())
    }
}
