//! The event queue of a `Registry`, and what its records of job and execution events carry: the
//! subject (a job or an execution) as of the event, so that a host can render AWS's event
//! payloads when it drains them, after the subject has changed again or gone.
//!
//! The core hands an operation's events to a sink while it runs, with names only, and the sink
//! cannot read the registry then. So the queue resolves each record's subject from the registry
//! right after the core call that recorded it: a subject that still exists is read as that call
//! left it; one the call removed (DeleteJobExecution's execution; the jobs and executions of a
//! deletion `advance` completes) was copied before the call ([`Kept`], as the emulator keeps
//! them), and a removed job is shown without executions (they go before it). `advance` is run
//! one unit of work at a time for that ([`Queue::advance`]): a timer with what it sets off, or
//! the removal of one execution of a job being deleted (the last one with the job). An
//! execution has at most one lifecycle event per core call; what one core call records two
//! events of (CancelJob's job: `cancellation_in_progress`, then `canceled`) shows as that call
//! left it in both records.

use std::collections::HashMap;

use iot_jobs_core::registry::{Advanced, Event, EventSink, ExecutionView, Heap, Registry};
use iot_jobs_core::topic::{ExecutionEvent, JobEvent};
use iot_jobs_core::{ExecutionNumber, JobId, Plane, Rejection, ThingName, Timestamp};

use super::records::{ExecutionFields, JobFields};

/// One event to deliver, with what it reports of its subject.
pub(super) struct Record {
    pub(super) event: Event,
    /// The job or execution of a lifecycle event, as of the event (see the module's docs);
    /// `None` for the notifications, which the host renders from the state when it drains them.
    pub(super) subject: Option<Box<Subject>>,
}

/// The subject of a lifecycle event.
pub(super) enum Subject {
    Job(JobFields),
    Execution(ExecutionFields),
}

type ExecutionKey = (JobId, ThingName, ExecutionNumber);

fn key_of(v: &ExecutionView<'_>) -> ExecutionKey {
    (v.job_id().clone(), v.thing_name().clone(), v.number())
}

/// What the `deleted` records of jobs and executions that an operation removes report of them,
/// copied before they go and taken by their records. A job here has all its executions here.
#[derive(Default)]
pub(super) struct Kept {
    jobs: HashMap<JobId, JobFields>,
    executions: HashMap<ExecutionKey, ExecutionFields>,
}

/// The event queue, as the core's `EventSink`: it reports its room honestly, so an operation
/// that would overflow it is refused before it changes anything (`ThrottlingException`).
/// Without a maximum (`max_events=None`) it keeps no events: like the core's `Discard`, it has
/// room for any number and drops each one (and resolves nothing).
pub(super) struct Queue<'a> {
    records: &'a mut Vec<Record>,
    max: Option<usize>,
    kept: &'a mut Kept,
    /// The records before this one have their subjects resolved.
    resolved: usize,
}

impl EventSink for Queue<'_> {
    fn room(&self) -> usize {
        self.max.map_or(usize::MAX, |max| max.saturating_sub(self.records.len()))
    }
    fn push(&mut self, event: Event) {
        if self.max.is_some() {
            self.records.push(Record { event, subject: None });
        }
    }
}

impl<'a> Queue<'a> {
    /// The queue of `records` (all resolved), holding at most `max`.
    pub(super) fn new(records: &'a mut Vec<Record>, max: Option<usize>, kept: &'a mut Kept) -> Self {
        let resolved = records.len();
        Self { records, max, kept, resolved }
    }

    /// Copies what the `deleted` record of execution `number` of `job` on `thing` reports, before
    /// an operation that may remove it.
    pub(super) fn keep_execution(
        &mut self,
        reg: &Registry<Heap>,
        job: &JobId,
        thing: &ThingName,
        number: ExecutionNumber,
    ) {
        if self.max.is_none() {
            return;
        }
        if let Ok(v) = reg.describe_execution(job, thing, Some(number), Plane::Control) {
            self.kept.executions.insert(key_of(&v), ExecutionFields::of(&v));
        }
    }

    /// Copies each job whose deletion is due at `at`, and its executions, unless they are kept
    /// already (and kept up to date by [`Queue::resolve`]): the next unit of `advance` may
    /// remove them. Once per job for as long as only `advance` runs.
    fn keep_deletions_due(&mut self, reg: &Registry<Heap>, at: Timestamp) {
        for job in reg.deletions_due(at) {
            if self.kept.jobs.contains_key(job.id()) {
                continue;
            }
            self.kept.jobs.insert(job.id().clone(), JobFields::of(&job));
            let executions = &mut self.kept.executions;
            // The job exists (it was just listed): the listing cannot fail.
            let _ = reg.list_for_job(job.id(), None, None, usize::MAX, |v| {
                executions.insert(key_of(&v), ExecutionFields::of(&v));
            });
        }
    }

    /// Resolves the subjects of the records queued since the last call, from the state the core
    /// call that queued them left: a `deleted` record takes its kept copy, any other reads its
    /// subject (and brings a kept copy of it, and of its job, up to date).
    pub(super) fn resolve(&mut self, reg: &Registry<Heap>) {
        let kept = &mut *self.kept;
        for r in self.records.iter_mut().skip(self.resolved) {
            r.subject = match &r.event {
                Event::Job { job, event: JobEvent::Deleted } => {
                    kept.jobs.remove(job).map(|f| Subject::Job(f.removed()))
                }
                Event::Job { job, .. } => reg.job(job).ok().map(|v| {
                    let f = JobFields::of(&v);
                    if let Some(k) = kept.jobs.get_mut(job) {
                        k.clone_from(&f);
                    }
                    Subject::Job(f)
                }),
                Event::Execution { job, thing, number, event: ExecutionEvent::Deleted } => {
                    kept.executions.remove(&(job.clone(), thing.clone(), *number)).map(Subject::Execution)
                }
                Event::Execution { job, thing, number, .. } => {
                    reg.describe_execution(job, thing, Some(*number), Plane::Control).ok().map(|v| {
                        let f = ExecutionFields::of(&v);
                        if let Some(k) = kept.executions.get_mut(&key_of(&v)) {
                            k.clone_from(&f);
                        }
                        if let (Some(k), Ok(j)) = (kept.jobs.get_mut(job), reg.job(job)) {
                            *k = JobFields::of(&j);
                        }
                        Subject::Execution(f)
                    })
                }
                _ => None,
            }
            .map(Box::new);
        }
        self.resolved = self.records.len();
    }

    /// `Registry::advance_through(now, budget)`, with each record resolved from the state the
    /// unit of work that queued it left: the same steps (one at each instant something falls
    /// due, then one at `now`), each run as `Registry::advance(at, 1)` calls, which do the same
    /// work in the same order as one call with the step's budget.
    pub(super) fn advance(
        &mut self,
        reg: &mut Registry<Heap>,
        now: Timestamp,
        budget: usize,
    ) -> Result<Advanced, Rejection> {
        if self.max.is_none() {
            return reg.advance_through(now, budget, self);
        }
        let mut work = 0usize;
        loop {
            let at = reg.next_deadline().map_or(now, |d| d.min(now));
            let more = self.advance_at(reg, at, budget, &mut work)?;
            if more || at == now {
                return Ok(Advanced { work, more });
            }
        }
    }

    /// One step of [`Queue::advance`]: `Registry::advance(at, budget - work)`, a unit at a time;
    /// adds the work done to `work`. Returns whether more is due at `at`.
    fn advance_at(
        &mut self,
        reg: &mut Registry<Heap>,
        at: Timestamp,
        budget: usize,
        work: &mut usize,
    ) -> Result<bool, Rejection> {
        loop {
            if *work >= budget {
                return Ok(reg.next_deadline().is_some_and(|d| d <= at));
            }
            self.keep_deletions_due(reg, at);
            let unit = reg.advance(at, 1, self);
            self.resolve(reg);
            let unit = unit?;
            *work = work.saturating_add(unit.work);
            if !unit.more || unit.work == 0 {
                return Ok(unit.more);
            }
        }
    }
}
