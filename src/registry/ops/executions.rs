//! Executions on the control plane: describe, cancel, list.

use crate::error::{ExecutionState, Plane, Rejection, Resource};
use crate::id::{ExecutionNumber, JobId, StatusDetails, ThingName, Timestamp, VersionNumber};
use crate::registry::Registry;
use crate::registry::compact::check_time;
use crate::registry::entries::ExecutionEntry;
use crate::registry::entries::{ExecIx, JobIx};
use crate::registry::events::{MISSING_EXECUTION, Out};
use crate::registry::lists::{ByJob, ByThing, Link};
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
    pub(in crate::registry) fn check_device_access(&self, j: JobIx, plane: Plane) -> Result<(), Rejection> {
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
        details: Option<&StatusDetails<'_>>,
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<ExecutionState, Rejection> {
        check_time(now)?;
        let sink = &mut Out::new(sink);
        let (j, t, x) = self.lookup_execution(job, thing, None)?;
        let v = self.view_or_missing(x)?;
        let decision = rules::cancel_execution(v.state(), force, expected)?;
        let after = self.prepare_details(x, details)?;
        // Its event, the job's `completed`, and the notifications.
        sink.reserve(self.settle_events(j).saturating_add(2))?;
        let mut w = self.watch_job(t, j)?;
        w.changed |= self.set_status(x, ExecutionStatus::Canceled, Actor::ControlPlane, now, sink)?;
        self.exec_mut(x)?.flags.set_force_canceled(decision.force_canceled);
        if let Some(after) = after {
            self.store_details(x, after)?;
        }
        self.maybe_complete(j, now, sink)?;
        self.settle(w, sink)?;
        self.state_of(x)
    }

    /// ListJobExecutionsForJob (SPEC 4.1): up to `max` executions of the job in creation order,
    /// filtered by status; returns the cursor to go on from, if more remain. A page holds at
    /// least one execution (`max` 0 is taken as 1), so following the cursors always ends.
    ///
    /// # Errors
    /// `ResourceNotFoundException` for an unknown job; `InvalidRequestException` for a cursor
    /// whose execution no longer exists, or that another listing gave.
    pub fn list_for_job(
        &self,
        job: &JobId,
        status: Option<ExecutionStatus>,
        from: Option<Cursor>,
        max: usize,
        visit: impl FnMut(ExecutionView<'_>),
    ) -> Result<Option<Cursor>, Rejection> {
        let j = self.find_job(job)?;
        let head = self.job_entry(j).and_then(|e| e.executions.head);
        self.page(head, ByJob, |e| e.job == j, status, from, max, visit)
    }

    /// ListJobExecutionsForThing (SPEC 4.1): like [`Registry::list_for_job`], over the thing's
    /// executions of every job.
    ///
    /// # Errors
    /// `ResourceNotFoundException` for an unknown thing; a stale cursor, or one another listing
    /// gave.
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
            self.things.at(t).map_or((None, false), |(_, e)| (e.all.head, e.registered || e.all.len > 0));
        if !known {
            return Err(Rejection::NotFound(Resource::Thing));
        }
        self.page(head, ByThing, |e| e.thing == t, status, from, max, visit)
    }

    /// A page of the list `L` that starts at `head` (or at the cursor's execution, which must
    /// still exist and be one of the list's: `listed`), filtered by `status`.
    #[allow(clippy::too_many_arguments)]
    pub(in crate::registry) fn page<L: Link<ExecutionEntry>>(
        &self,
        head: Option<ExecIx>,
        _: L,
        listed: impl Fn(&ExecutionEntry) -> bool,
        status: Option<ExecutionStatus>,
        from: Option<Cursor>,
        max: usize,
        mut visit: impl FnMut(ExecutionView<'_>),
    ) -> Result<Option<Cursor>, Rejection> {
        use crate::error::InvalidRequest::{ForeignCursor, StaleCursor};
        let mut x = match from {
            None => head,
            Some(Cursor(key)) => {
                let x = self.execs.find(key).ok_or(Rejection::InvalidRequest(StaleCursor))?;
                let (_, e) = self.execs.at(x).ok_or(MISSING_EXECUTION)?;
                if !listed(e) {
                    return Err(Rejection::InvalidRequest(ForeignCursor));
                }
                Some(x)
            }
        };
        // At least one per page: a cursor always moves on.
        let max = max.max(1);
        let mut seen = 0usize;
        while let Some((i, (key, e))) = x.and_then(|i| Some((i, self.execs.at(i)?))) {
            if status.is_none_or(|s| s == e.status) {
                if seen >= max {
                    return Ok(Some(Cursor(key)));
                }
                visit(self.view(i).ok_or(MISSING_EXECUTION)?);
                seen = seen.saturating_add(1);
            }
            x = L::of(e).next;
        }
        Ok(None)
    }
}
