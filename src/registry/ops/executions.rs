//! Executions on the control plane: describe, cancel, list.

use crate::error::{ExecutionState, Plane, Rejection, Resource};
use crate::id::{ExecutionNumber, JobId, StatusDetails, ThingName, Timestamp, VersionNumber};
use crate::registry::Registry;
use crate::registry::lists::Which;
use crate::registry::slab::NIL;
use crate::registry::storage::Storage;
use crate::registry::types::{Cursor, EventSink};
use crate::registry::views::ExecutionView;
use crate::rules::{self, Actor};
use crate::status::ExecutionStatus;

impl<S: Storage> Registry<S> {
    /// DescribeJobExecution (SPEC 4.2, 4.3, R11): by number, or the latest.
    ///
    /// # Errors
    /// `ResourceNotFoundException`; on the data plane also for a job being deleted (SEED-CLI),
    /// and `TerminalStateException` per R11.
    pub fn describe_execution(
        &self,
        job: &JobId,
        thing: &ThingName,
        number: Option<ExecutionNumber>,
        plane: Plane,
    ) -> Result<ExecutionView<'_>, Rejection> {
        let (j, _, x) = self.lookup_execution(job, thing, number)?;
        self.check_device_access(j, plane)?;
        let v = self.view_or_missing(x)?;
        rules::describe_execution(v.state(), plane, &self.policy)?;
        Ok(v)
    }

    /// Devices cannot reach executions of a job being deleted (SEED-CLI).
    pub(in crate::registry) fn check_device_access(&self, j: u32, plane: Plane) -> Result<(), Rejection> {
        match self.job_entry(j) {
            Some(e) => rules::device_access(e.status, plane),
            None => Ok(()),
        }
    }

    /// CancelJobExecution (SPEC 4.2, T8, T9, R16): the execution becomes CANCELED.
    ///
    /// # Errors
    /// As [`rules::cancel_execution`]; unknown execution; capacity and sink limits.
    #[allow(clippy::too_many_arguments)]
    pub fn cancel_execution(
        &mut self,
        job: &JobId,
        thing: &ThingName,
        force: bool,
        expected: Option<VersionNumber>,
        details: Option<StatusDetails<'_>>,
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<ExecutionState, Rejection> {
        let (j, t, x) = self.lookup_execution(job, thing, None)?;
        let v = self.view_or_missing(x)?;
        let decision = rules::cancel_execution(v.state(), force, expected)?;
        let after = self.prepare_details(x, details)?;
        Self::ensure_room(sink, 4)?;
        let mut w = self.watch(t);
        w.changed |= self.set_status(x, ExecutionStatus::Canceled, Actor::ControlPlane, now, sink)?;
        if let Some(e) = self.execs.at_mut(x) {
            e.force_canceled = decision.force_canceled;
        }
        if let Some(after) = after {
            self.store_details(x, after);
        }
        self.maybe_complete(j, now, sink);
        self.settle(w, sink);
        self.state_of(x)
    }

    /// ListJobExecutionsForJob (SPEC 4.1): up to `max` executions of the job in creation order,
    /// filtered by status; returns the cursor to go on from, if more remain.
    ///
    /// # Errors
    /// `ResourceNotFoundException` for an unknown job; `InvalidRequestException` for a cursor
    /// whose execution no longer exists.
    pub fn list_for_job(
        &self,
        job: &JobId,
        status: Option<ExecutionStatus>,
        from: Option<Cursor>,
        max: usize,
        visit: impl FnMut(ExecutionView<'_>),
    ) -> Result<Option<Cursor>, Rejection> {
        let j = self.find_job(job)?;
        let head = self.job_entry(j).map_or(NIL, |e| e.executions.head);
        self.page(head, Which::Job, status, from, max, visit)
    }

    /// ListJobExecutionsForThing (SPEC 4.1): like [`Registry::list_for_job`], over the thing's
    /// executions of every job.
    ///
    /// # Errors
    /// `ResourceNotFoundException` for an unknown thing; a stale cursor.
    pub fn list_for_thing(
        &self,
        thing: &ThingName,
        status: Option<ExecutionStatus>,
        from: Option<Cursor>,
        max: usize,
        visit: impl FnMut(ExecutionView<'_>),
    ) -> Result<Option<Cursor>, Rejection> {
        let t = self.thing_index(thing).ok_or(Rejection::NotFound(Resource::Thing))?;
        // A deleted thing is still listed while executions of it exist.
        let (head, known) =
            self.things.at(t).map_or((NIL, false), |(_, e)| (e.all.head, e.registered || e.all.len > 0));
        if !known {
            return Err(Rejection::NotFound(Resource::Thing));
        }
        self.page(head, Which::Thing, status, from, max, visit)
    }

    pub(in crate::registry) fn page(
        &self,
        head: u32,
        which: Which,
        status: Option<ExecutionStatus>,
        from: Option<Cursor>,
        max: usize,
        mut visit: impl FnMut(ExecutionView<'_>),
    ) -> Result<Option<Cursor>, Rejection> {
        let mut x = match from {
            None => head,
            Some(Cursor(key)) => {
                self.execs
                    .get(key)
                    .ok_or(Rejection::InvalidRequest(crate::error::InvalidRequest::StaleCursor))?;
                key.index
            }
        };
        let mut seen = 0usize;
        while let Some((key, e)) = self.execs.at(x) {
            if status.is_none_or(|s| s == e.status) {
                if seen >= max {
                    return Ok(Some(Cursor(key)));
                }
                if let Some(v) = self.view(x) {
                    visit(v);
                }
                seen = seen.saturating_add(1);
            }
            x = match which {
                Which::Job => e.job_link.next,
                Which::Thing | Which::Pending => e.thing_link.next,
            };
        }
        Ok(None)
    }
}
