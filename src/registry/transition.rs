//! The one place an execution's status changes and the one place a job's does, and what a
//! terminal status sets off (abort, retry, completion).

use super::Registry;
use super::compact::{self, Stamp};
use super::entries::ABORT_REASON;
use super::entries::{ExecIx, Head, JobIx, Retries};
use super::events::Watch;
use super::events::{MISSING_EXECUTION, MISSING_JOB, Out};
use super::index::{Tag, tagged};
use super::storage::Storage;
use super::types::{Event, EventSink};
use crate::error::{ExecutionState, Rejection, Resource, Table};
use crate::id::{ReasonCode, StepTimeout, Timestamp};
use crate::rules::{self, Actor, CancelScope, TimerChange};
use crate::status::{ExecutionStatus, JobStatus};
use crate::topic::{ExecutionEvent, JobEvent};

impl<S: Storage> Registry<S> {
    /// Applies a status change decided by the rules: counters, pending lists, version (R6),
    /// timestamps, the lifecycle event. Returns whether pending-list membership changed.
    pub(super) fn set_status(
        &mut self,
        x: ExecIx,
        to: ExecutionStatus,
        actor: Actor,
        now: Timestamp,
        sink: &mut Out<'_, impl EventSink>,
    ) -> Result<bool, Rejection> {
        let e = self.exec_entry(x).ok_or(Rejection::NotFound(Resource::Execution))?;
        let (from, job) = (e.status, e.job);
        let version = compact::version(rules::version_after(e.version(), actor, &self.policy)?)?;
        let (job_status, timeout) = self
            .job_entry(job)
            .map(|j| (j.status, j.config.in_progress_timeout_minutes))
            .ok_or(MISSING_JOB)?;
        let (was_listed, now_listed) =
            (rules::listed_to_device(job_status, from), rules::listed_to_device(job_status, to));
        // A progress report (IN_PROGRESS → IN_PROGRESS) keeps its place (SPEC 7.2, T3).
        let moves = from != to;
        if was_listed && moves {
            self.detach_pending(x)?;
        }
        let mut deadline = None;
        {
            let e = self.exec_mut(x)?;
            e.status = to;
            e.version = version;
            e.last_updated_at = Stamp::new(now);
            match rules::timer_on_status(from, to) {
                TimerChange::Start => {
                    e.started_at = Stamp::new(now);
                    e.timeout_at = Stamp::new(rules::in_progress_deadline(now, timeout));
                    e.deadline = e.timeout_at;
                    deadline = Some(e.deadline.get());
                }
                TimerChange::Keep => {}
                TimerChange::Stop => e.deadline = Stamp::NEVER,
            }
        }
        if let Some(at) = deadline {
            self.arm(at, tagged(Tag::Execution, x.get()));
        }
        if now_listed && moves {
            self.attach_pending(x)?;
        }
        let j = self.job_mut(job)?;
        j.process.add(from, -1);
        j.process.add(to, 1);
        j.last_updated_at = Stamp::new(now);
        // SPEC 7.4: an execution event when it reaches a terminal status.
        if !from.is_terminal()
            && let Some(event) = ExecutionEvent::for_status(to)
        {
            self.emit_execution(x, event, sink)?;
        }
        Ok(rules::notifies(was_listed, now_listed, from != to, &self.policy))
    }

    /// Sets or cancels the step timer of an IN_PROGRESS execution (SPEC T7, §3 timer facts): a
    /// step timer never runs past the in-progress deadline; -1 leaves only that deadline.
    pub(super) fn set_step(&mut self, x: ExecIx, step: StepTimeout, now: Timestamp) -> Result<(), Rejection> {
        let e = self.exec_mut(x)?;
        e.deadline = Stamp::new(rules::step_deadline(now, step, e.timeout_at.get()));
        let at = e.deadline.get();
        self.arm(at, tagged(Tag::Execution, x.get()));
        Ok(())
    }

    /// The one place a job's status changes (SPEC §2, decided by the caller's rule): the status,
    /// `lastUpdatedAt`, and what goes with the new status (`completedAt` on COMPLETED; the job
    /// has started once it is IN_PROGRESS).
    pub(super) fn set_job_status(
        &mut self,
        j: JobIx,
        to: JobStatus,
        now: Timestamp,
    ) -> Result<(), Rejection> {
        let e = self.jobs.at_mut(j).ok_or(MISSING_JOB)?;
        e.status = to;
        e.last_updated_at = Stamp::new(now);
        match to {
            JobStatus::InProgress => e.started = true,
            JobStatus::Completed => e.completed_at = Stamp::new(now),
            JobStatus::Scheduled | JobStatus::Canceled | JobStatus::DeletionInProgress => {}
        }
        Ok(())
    }

    /// Completes the job if SPEC §2 says so now.
    pub(super) fn maybe_complete(
        &mut self,
        job: JobIx,
        now: Timestamp,
        sink: &mut Out<'_, impl EventSink>,
    ) -> Result<(), Rejection> {
        let j = self.job_entry(job).ok_or(MISSING_JOB)?;
        let end_passed = rules::end_passed(j.config.schedule, now);
        // Targets still waiting for a paced rollout count as not terminal.
        let all_terminal = j.process.pending() == 0 && j.rollout_next.is_none();
        if rules::job_completes(j.status, j.selection, all_terminal, end_passed) {
            let id = j.id.clone();
            self.set_job_status(job, JobStatus::Completed, now)?;
            sink.emit(Event::Job { job: id, event: JobEvent::Completed })?;
        }
        Ok(())
    }

    /// Room for what a failure may set off: the abort's cancellations, else a retry's execution.
    /// Only a terminal status sets anything off ([`Registry::after_terminal`] runs for those
    /// alone), so for any other there is nothing to check. Which of the two follows is known
    /// before anything changes: the abort criteria are asked with `status` counted
    /// ([`Registry::abort_due_after`]), so a job without abort criteria, or one whose criteria
    /// this failure does not meet, needs no room for cancellations; and an abort retries nothing.
    pub(super) fn check_failure_room(
        &self,
        x: ExecIx,
        status: ExecutionStatus,
        sink: &mut Out<'_, impl EventSink>,
    ) -> Result<(), Rejection> {
        if !status.is_terminal() {
            return Ok(());
        }
        let (job, was) = self.exec_entry(x).map(|e| (e.job, e.status)).ok_or(MISSING_EXECUTION)?;
        let settle = self.settle_events(job);
        let own = settle.saturating_add(6);
        if self.abort_due_after(job, status) {
            // The others that stay QUEUED: `x` itself ends now.
            let queued = self.job_entry(job).ok_or(MISSING_JOB)?.process.count(ExecutionStatus::Queued);
            let queued = queued.saturating_sub(u32::from(was == ExecutionStatus::Queued));
            let cancels =
                usize::try_from(queued).unwrap_or(usize::MAX).saturating_mul(settle.saturating_add(1));
            return sink.reserve(cancels.saturating_add(own));
        }
        sink.reserve(own)?;
        if self.retry_for(x, status).is_some() && self.execs.room() == 0 {
            return Err(Rejection::CapacityExhausted(Table::Executions));
        }
        Ok(())
    }

    /// After an execution became terminal: abort (SPEC T8, §6 Abort), else retry (T12); then
    /// job completion. Abort comes first: a canceled job rolls out nothing new. The retry is
    /// part of the operation that watches the thing `w`: the thing's pending list changes once
    /// in it, so it is notified once when `w` settles (R15, SPEC 7.2).
    pub(super) fn after_terminal(
        &mut self,
        x: ExecIx,
        job: JobIx,
        status: ExecutionStatus,
        now: Timestamp,
        w: &mut Watch,
        sink: &mut Out<'_, impl EventSink>,
    ) -> Result<(), Rejection> {
        if self.abort_due(job) {
            self.abort(job, now, sink)?;
        } else if let Some(retry) = self.retry_for(x, status) {
            let (thing, attempt) = self
                .exec_entry(x)
                .map(|e| (e.thing, e.flags.retry_attempt()))
                .ok_or(Rejection::NotFound(Resource::Execution))?;
            let retries = Retries::new(retry.used)?;
            let retried = self.queue_watched(job, thing, None, attempt.saturating_add(1), now, w)?;
            // The new execution is the pair's head: it holds the pair's state.
            self.pair_state_mut(Head::Exec(retried))?.retries = retries;
        }
        self.maybe_complete(job, now, sink)?;
        Ok(())
    }

    /// The retry if `status` of execution `x` is retried now ([`rules::retry`]).
    pub(super) fn retry_for(&self, x: ExecIx, status: ExecutionStatus) -> Option<rules::Retry> {
        let e = self.exec_entry(x)?;
        let j = self.job_entry(e.job)?;
        let used = self.pair_of(e.job, e.thing)?.retries.used();
        rules::retry(j.status, status, j.config.retry.as_ref(), used)
    }

    /// Whether the job's abort criteria are met now ([`rules::abort_due`]).
    pub(super) fn abort_due(&self, job: JobIx) -> bool {
        self.abort_met(job, None)
    }

    /// Whether the job's abort criteria will be met once one of its pending executions has
    /// ended in `status`: [`Registry::abort_due`] asked before the change.
    pub(super) fn abort_due_after(&self, job: JobIx, status: ExecutionStatus) -> bool {
        self.abort_met(job, Some(status))
    }

    fn abort_met(&self, job: JobIx, ending: Option<ExecutionStatus>) -> bool {
        let Some(j) = self.job_entry(job) else { return false };
        let mut counts = j.process;
        if let Some(status) = ending {
            counts.add(status, 1);
        }
        let c = |s| counts.count(s);
        let executed = rules::Executed {
            succeeded: c(ExecutionStatus::Succeeded),
            failed: c(ExecutionStatus::Failed),
            rejected: c(ExecutionStatus::Rejected),
            timed_out: c(ExecutionStatus::TimedOut),
        };
        rules::abort_due(j.status, j.config.abort.as_ref(), executed).is_some()
    }

    /// Cancels the job for its abort criteria: only QUEUED executions (SPEC T8).
    pub(super) fn abort(
        &mut self,
        job: JobIx,
        now: Timestamp,
        sink: &mut Out<'_, impl EventSink>,
    ) -> Result<(), Rejection> {
        let reason = ReasonCode::new(ABORT_REASON).ok();
        self.cancel_job_at(job, CancelScope::Queued, false, reason.as_ref(), now, sink)
    }

    pub(super) fn state_of(&self, x: ExecIx) -> Result<ExecutionState, Rejection> {
        self.exec_entry(x)
            .map(|e| ExecutionState { status: e.status, version: e.version() })
            .ok_or(Rejection::NotFound(Resource::Execution))
    }
}
