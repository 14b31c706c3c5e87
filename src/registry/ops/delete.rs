//! Deletion: DeleteJob in bounded steps, DeleteJobExecution, and freeing entries.

use crate::error::Rejection;
use crate::id::{ExecutionNumber, JobId, ThingName, Timestamp};
use crate::registry::Registry;
use crate::registry::compact::{Stamp, check_time};
use crate::registry::entries::ExecutionEntry;
use crate::registry::entries::{ExecIx, JobIx};
use crate::registry::events::{MISSING_EXECUTION, MISSING_JOB, Out};
use crate::registry::index::{Tag, hash, tagged};
use crate::registry::lists::{ByJob, ByThing};
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
        check_time(now)?;
        let sink = &mut Out::new(sink);
        let (j, entry) = self.find_job_entry(job)?;
        rules::delete_job(entry.status, force, self.deleting.len())?;
        let job_status = entry.status;
        let listed = |e: &ExecutionEntry| rules::listed_to_device(job_status, e.status);
        let visible = self.job_executions(j).filter(|x| self.exec_entry(*x).is_some_and(listed)).count();
        sink.reserve(visible.saturating_mul(self.settle_events(j)).saturating_add(1))?;
        let id = entry.id.clone();
        // Room is certain (the rule refused the 11th); pushed first so nothing is half-applied.
        // A delay that would end past the last time `advance` takes ends at it instead.
        let due = now.saturating_add(self.deletion_delay).min(crate::registry::LATEST_TIME);
        self.deleting
            .push((j, due))
            .map_err(|_| Rejection::LimitExceeded(crate::error::Limit::JobsDeletionInProgress))?;
        self.set_job_status(j, JobStatus::DeletionInProgress, now)?;
        sink.emit(Event::Job { job: id, event: JobEvent::DeletionInProgress })?;
        let mut cur = self.job_entry(j).and_then(|e| e.executions.head);
        while let Some((x, e)) = self.exec_at(cur) {
            let (next, thing, was_listed) = (e.job_link.next, e.thing, listed(e));
            if was_listed {
                // SEED-CLI: devices lose access to the job's executions.
                let mut w = self.watch_job(thing, j)?;
                self.detach_pending(x)?;
                w.changed = true;
                self.settle(w, sink)?;
            }
            cur = next;
        }
        Ok(())
    }

    /// Removes up to `budget` executions of job `j`, then the job itself once none remain.
    /// Returns how many were removed and whether the job is gone.
    pub(in crate::registry) fn delete_some(
        &mut self,
        j: JobIx,
        budget: usize,
        sink: &mut Out<'_, impl EventSink>,
    ) -> Result<(usize, bool), Rejection> {
        let mut removed = 0usize;
        while let Some(x) = self.job_entry(j).and_then(|e| e.executions.head) {
            if removed >= budget {
                return Ok((removed, false));
            }
            sink.reserve(1)?;
            // SPEC 7.4: each execution's `deleted` event.
            self.emit_execution(x, ExecutionEvent::Deleted, sink)?;
            self.remove_execution(x)?;
            removed = removed.saturating_add(1);
        }
        sink.reserve(1)?;
        self.finish_job_deletion(j, sink)?;
        Ok((removed, true))
    }

    pub(in crate::registry) fn finish_job_deletion(
        &mut self,
        j: JobIx,
        sink: &mut Out<'_, impl EventSink>,
    ) -> Result<(), Rejection> {
        while self.job_entry(j).is_some_and(|e| e.pairs.head.is_some()) {
            self.remove_first_pair(j)?;
        }
        let (key, e) = self.jobs.at(j).ok_or(MISSING_JOB)?;
        let id = e.id.clone();
        let h = hash(Tag::Job, id.as_str().as_bytes());
        self.unindex(h, tagged(Tag::Job, j.get()));
        self.disarm_job(j);
        self.jobs.remove(key);
        self.deleting.retain(|(d, _)| *d != j);
        sink.emit(Event::Job { job: id, event: JobEvent::Deleted })
    }

    /// Unlinks and frees an execution: lists, pair chain, index, counters, details.
    pub(in crate::registry) fn remove_execution(&mut self, x: ExecIx) -> Result<(), Rejection> {
        // First, as the one step that may allocate (a record when x is its pair's last
        // execution, in a table that grows): if the allocator refuses, nothing changed.
        self.leave_pair(x)?;
        let (key, e) = self.execs.at(x).ok_or(MISSING_EXECUTION)?;
        let (job, thing, status) = (e.job, e.thing, e.status);
        let (job_status, list) = self.job_entry(job).map(|j| (j.status, j.executions)).ok_or(MISSING_JOB)?;
        if rules::listed_to_device(job_status, status) {
            self.detach_pending(x)?;
        }
        let list = list.unlink(&mut self.execs, x, ByJob);
        let j = self.job_mut(job)?;
        j.executions = list;
        j.process.add(status, -1);
        let list = self.thing_mut(thing)?.all.unlink(&mut self.execs, x, ByThing);
        self.thing_mut(thing)?.all = list;
        self.free_details(x)?;
        self.execs.remove(key);
        self.forget_thing_if_unused(thing);
        Ok(())
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
        check_time(now)?;
        let sink = &mut Out::new(sink);
        let (j, t, x) = self.lookup_execution(job, thing, Some(number))?;
        let v = self.view_or_missing(x)?;
        rules::delete_execution(v.state(), force, &self.policy)?;
        // Its event, the job's `completed`, and the notifications.
        sink.reserve(self.settle_events(j).saturating_add(2))?;
        let mut w = self.watch_job(t, j)?;
        w.changed = rules::listed_to_device(v.job_status(), v.status());
        self.emit_execution(x, ExecutionEvent::Deleted, sink)?;
        self.remove_execution(x)?;
        let e = self.job_mut(j)?;
        e.last_updated_at = Stamp::new(now);
        self.maybe_complete(j, now, sink)?;
        if self.things.at(t).is_some() {
            self.settle(w, sink)?;
        } else if w.changed {
            // The thing record is gone with its last execution; still tell its devices.
            self.notify(thing, &w, true, true, sink)?;
        }
        Ok(())
    }
}
