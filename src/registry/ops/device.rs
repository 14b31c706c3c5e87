//! The data plane: what a device reads and writes.

use crate::error::{ExecutionState, Plane, Rejection};
use crate::id::{JobId, NamespaceId, StatusDetails, StepTimeout, ThingName, Timestamp};
use crate::registry::Registry;
use crate::registry::compact::check_time;
use crate::registry::entries::{ExecIx, ThingIx};
use crate::registry::events::{MISSING_EXECUTION, Out};
use crate::registry::storage::Storage;
use crate::registry::types::{EventSink, ExecutionHandle, Update};
use crate::registry::views::ExecutionView;
use crate::rules::{self, Actor, StartNext};
use crate::status::ExecutionStatus;

impl<S: Storage> Registry<S> {
    pub(in crate::registry) fn thing_for_device(
        &self,
        thing: &ThingName,
    ) -> Result<Option<ThingIx>, Rejection> {
        match self.thing_index(thing) {
            Some(t) => Ok(Some(t)),
            None => rules::unknown_thing(&self.policy).map(|()| None),
        }
    }

    /// GetPendingJobExecutions (SPEC 4.3, R12, R19): calls `visit` for at most the policy's cap of
    /// pending executions, IN_PROGRESS first, then QUEUED, each in queue order.
    ///
    /// # Errors
    /// `ResourceNotFoundException` for an unknown thing only under [`UnknownThing::NotFound`](crate::policy::UnknownThing::NotFound).
    pub fn pending(
        &self,
        thing: &ThingName,
        mut visit: impl FnMut(ExecutionView<'_>),
    ) -> Result<(), Rejection> {
        let Some(t) = self.thing_for_device(thing)? else { return Ok(()) };
        // SPEC R12: at most the cap.
        for x in self.pending_iter(t).take(self.policy.pending_cap.get()) {
            visit(self.view(x).ok_or(MISSING_EXECUTION)?);
        }
        Ok(())
    }

    /// DescribeJobExecution with `$next` (SPEC 4.3): the head of the pending list, if any.
    ///
    /// # Errors
    /// As [`Registry::pending`].
    pub fn next_pending(&self, thing: &ThingName) -> Result<Option<ExecutionView<'_>>, Rejection> {
        let Some(t) = self.thing_for_device(thing)? else { return Ok(None) };
        Ok(self.head(t).and_then(|x| self.view(x)))
    }

    /// The payload of `notify-namespace-NS` (SPEC R20, AMBIG-27): as [`Registry::pending`], for
    /// the executions of jobs created in `namespace` only, in the same order and under the same
    /// cap.
    ///
    /// # Errors
    /// As [`Registry::pending`].
    pub fn pending_in_namespace(
        &self,
        thing: &ThingName,
        namespace: &NamespaceId,
        mut visit: impl FnMut(ExecutionView<'_>),
    ) -> Result<(), Rejection> {
        let Some(t) = self.thing_for_device(thing)? else { return Ok(()) };
        let listed = self.pending_iter(t).filter(|x| self.in_namespace(*x, namespace));
        // SPEC R12: at most the cap.
        for x in listed.take(self.policy.pending_cap.get()) {
            visit(self.view(x).ok_or(MISSING_EXECUTION)?);
        }
        Ok(())
    }

    /// The payload of `notify-next-namespace-NS` (SPEC R20, AMBIG-27): the first pending
    /// execution of a job created in `namespace`, in the order of [`Registry::pending`].
    ///
    /// # Errors
    /// As [`Registry::pending`].
    pub fn next_pending_in_namespace(
        &self,
        thing: &ThingName,
        namespace: &NamespaceId,
    ) -> Result<Option<ExecutionView<'_>>, Rejection> {
        let Some(t) = self.thing_for_device(thing)? else { return Ok(None) };
        Ok(self.pending_iter(t).find(|x| self.in_namespace(*x, namespace)).and_then(|x| self.view(x)))
    }

    fn in_namespace(&self, x: ExecIx, namespace: &NamespaceId) -> bool {
        let job = self.exec_entry(x).and_then(|e| self.job_entry(e.job));
        job.is_some_and(|j| rules::listed_in_namespace(j.namespace.as_ref(), namespace))
    }

    /// StartNextPendingJobExecution (SPEC 4.3, T2, T3, R19): the head of the pending list; a
    /// QUEUED head becomes IN_PROGRESS with `details` and the step timeout applied.
    ///
    /// # Errors
    /// Capacity and sink limits; [`UnknownThing::NotFound`](crate::policy::UnknownThing::NotFound) as in [`Registry::pending`].
    pub fn start_next(
        &mut self,
        thing: &ThingName,
        details: Option<&StatusDetails<'_>>,
        step_timeout: Option<StepTimeout>,
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<Option<ExecutionHandle>, Rejection> {
        check_time(now)?;
        // SPEC §6 Timeouts: 1–10080 minutes; no -1 on StartNext.
        let step_timeout = step_timeout.map(|s| s.check(false)).transpose()?;
        let sink = &mut Out::new(sink);
        let Some(t) = self.thing_for_device(thing)? else { return Ok(None) };
        let x = self.head(t);
        let head = x
            .and_then(|x| self.exec_entry(x))
            .map(|e| ExecutionState { status: e.status, version: e.version() });
        let decision = rules::start_next(head)?;
        // With no head, the rule decided `Nothing`.
        let Some(x) = x else { return Ok(None) };
        match decision {
            StartNext::Nothing => Ok(None),
            // SPEC T3: an IN_PROGRESS head is returned unchanged.
            StartNext::Resume => Ok(self.execs.at(x).map(|(k, _)| ExecutionHandle(k))),
            StartNext::Start => {
                let after = self.prepare_details(x, details)?;
                let job = self.exec_entry(x).ok_or(MISSING_EXECUTION)?.job;
                sink.reserve(self.settle_events(job))?;
                let mut w = self.watch_job(t, job)?;
                w.changed |= self.set_status(x, ExecutionStatus::InProgress, Actor::Device, now, sink)?;
                if let Some(after) = after {
                    self.store_details(x, after)?;
                }
                if let Some(step) = step_timeout {
                    self.set_step(x, step, now)?;
                }
                self.settle(w, sink)?;
                Ok(self.execs.at(x).map(|(k, _)| ExecutionHandle(k)))
            }
        }
    }

    /// UpdateJobExecution (SPEC 4.3, T2–T6, R6, R9, R13, R14).
    ///
    /// # Errors
    /// As [`rules::update_execution`]; `ResourceNotFoundException` for an unknown execution or one
    /// of a job being deleted; capacity and sink limits.
    pub fn update_execution(
        &mut self,
        job: &JobId,
        thing: &ThingName,
        update: &Update<'_>,
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<ExecutionState, Rejection> {
        check_time(now)?;
        // SPEC §6 Timeouts: 1–10080 minutes, or -1.
        let step_timeout = update.step_timeout.map(|s| s.check(true)).transpose()?;
        let sink = &mut Out::new(sink);
        let (j, t, x) = self.lookup_execution(job, thing, update.execution_number)?;
        self.check_device_access(j, Plane::Data)?;
        let v = self.view_or_missing(x)?;
        let to = rules::update_execution(v.state(), update.status, update.expected_version, &self.policy)?;
        let after = self.prepare_details(x, update.status_details)?;
        // Its event, the job's `completed`, and the notifications.
        sink.reserve(self.settle_events(j).saturating_add(2))?;
        self.check_failure_room(x, to, sink)?;
        let mut w = self.watch_job(t, j)?;
        w.changed |= self.set_status(x, to, Actor::Device, now, sink)?;
        if let Some(after) = after {
            self.store_details(x, after)?;
        }
        match step_timeout {
            Some(step) if to == ExecutionStatus::InProgress => self.set_step(x, step, now)?,
            Some(_) | None => {}
        }
        if to.is_terminal() {
            self.after_terminal(x, j, to, now, &mut w, sink)?;
        }
        self.settle(w, sink)?;
        self.state_of(x)
    }
}
