//! Event room and emission: notify / notify-next per thing and their namespace forms (R15,
//! R20) and lifecycle events (SPEC 7.4).

use super::Registry;
use super::entries::{ExecIx, JobIx, ThingIx};
use super::storage::Storage;
use super::types::{Event, EventSink};
use crate::error::{Rejection, Table};
use crate::id::{NamespaceId, ThingName};
use crate::rules;
use crate::topic::ExecutionEvent;

/// A job that an execution, a pair or a pending deletion names is missing.
pub(super) const MISSING_JOB: Rejection = Rejection::LogicBug("an entry names a missing job");
/// An execution that a list or a pair names is missing.
pub(super) const MISSING_EXECUTION: Rejection = Rejection::LogicBug("a list names a missing execution");

/// The sink of one operation with the room reserved in it.
///
/// An operation reserves room with [`Out::reserve`] before it changes anything (refused with
/// `Throttled` when the sink has less), and every event goes out through [`Out::emit`], which
/// spends one unit of the reservation. An event beyond the reservation, or one the sink refuses
/// although it reported room, is a [`Rejection::LogicBug`]: a miscount here, never a lost
/// event. Reservations made further down an operation do not add up: the room left is the
/// largest one still covered by the sink.
pub(super) struct Out<'k, K: EventSink> {
    sink: &'k mut K,
    left: usize,
}

impl<'k, K: EventSink> Out<'k, K> {
    /// The sink of an operation, with nothing reserved yet.
    pub(super) fn new(sink: &'k mut K) -> Self {
        Self { sink, left: 0 }
    }

    /// Reserves room for the next `events` events.
    ///
    /// # Errors
    /// `Throttled` when the sink has less room.
    pub(super) fn reserve(&mut self, events: usize) -> Result<(), Rejection> {
        if self.sink.room() < events {
            return Err(Rejection::Throttled);
        }
        self.left = self.left.max(events);
        Ok(())
    }

    /// Hands one reserved event to the sink.
    ///
    /// # Errors
    /// `LogicBug` when no room is left in the reservation or the sink refuses the event.
    pub(super) fn emit(&mut self, event: Event) -> Result<(), Rejection> {
        self.left = self
            .left
            .checked_sub(1)
            .ok_or(Rejection::LogicBug("an operation emitted more events than it reserved room for"))?;
        self.sink
            .try_push(event)
            .map_err(|_| Rejection::LogicBug("the event sink refused an event it had room for"))
    }
}

/// At most this many namespaces are told of one operation's change of one thing (SPEC R20):
/// an operation changes the executions of one job, except DeleteThing, which is refused first
/// when the executions it would remove span more ([`Rejection::CapacityExhausted`] of
/// [`Table::Events`]).
pub(super) const WATCHED_NAMESPACES: usize = 4;

/// The most notifications one [`Registry::settle`] of an operation on the executions of one job
/// emits: `notify`, `notify-next`, and their namespace forms when the job has a namespace (SPEC
/// R15, R20).
pub(super) const fn settle_events_for(namespaced: bool) -> usize {
    if namespaced { 4 } else { 2 }
}

/// Per-thing bookkeeping of one operation, to derive its notifications (R15, R20).
///
/// The namespaces involved are kept as one job per namespace (a job's namespace never
/// changes, and no operation deletes a job it watches), so that a watch is a few words that
/// cost nothing to move, and its namespaces are read from those jobs when it settles.
pub(super) struct Watch {
    pub(super) thing: ThingIx,
    pub(super) head: Option<ExecIx>,
    pub(super) changed: bool,
    /// A job of each namespace whose executions the operation changes (SPEC R20).
    namespaced: heapless::Vec<JobIx, WATCHED_NAMESPACES>,
}

impl Watch {
    /// How many namespaces are involved.
    pub(super) fn namespaces(&self) -> usize {
        self.namespaced.len()
    }
}

impl<S: Storage> Registry<S> {
    /// The head of a thing's pending list (R15, SPEC T2).
    pub(super) fn head(&self, thing: ThingIx) -> Option<ExecIx> {
        let (_, t) = self.things.at(thing)?;
        t.in_progress.head.or(t.queued.head)
    }

    /// [`settle_events_for`] job `j`.
    pub(super) fn settle_events(&self, j: JobIx) -> usize {
        settle_events_for(self.job_entry(j).is_some_and(|e| e.namespace.is_some()))
    }

    /// Starts watching `thing`, with no namespace involved yet (R15).
    pub(super) fn watch(&self, thing: ThingIx) -> Watch {
        Watch { thing, head: self.head(thing), changed: false, namespaced: heapless::Vec::new() }
    }

    /// Starts watching `thing` for an operation that changes executions of job `job` (R15, R20).
    pub(super) fn watch_job(&self, thing: ThingIx, job: JobIx) -> Result<Watch, Rejection> {
        let mut w = self.watch(thing);
        self.involve(&mut w, job)?;
        Ok(w)
    }

    /// The namespace of watched job `j`.
    fn watched_namespace(&self, j: JobIx) -> Option<&NamespaceId> {
        self.job_entry(j).and_then(|e| e.namespace.as_ref())
    }

    /// Records in `w` that the operation changes an execution of job `job` (R20: its namespace,
    /// if it has one and no job of the same namespace is recorded yet).
    ///
    /// # Errors
    /// `CapacityExhausted(Events)` when [`WATCHED_NAMESPACES`] other namespaces are recorded.
    pub(super) fn involve(&self, w: &mut Watch, job: JobIx) -> Result<(), Rejection> {
        let Some(ns) = self.job_entry(job).ok_or(MISSING_JOB)?.namespace.as_ref() else { return Ok(()) };
        if w.namespaced.iter().any(|k| self.watched_namespace(*k) == Some(ns)) {
            return Ok(());
        }
        w.namespaced.push(job).map_err(|_| Rejection::CapacityExhausted(Table::Events))
    }

    /// Emits `notify` / `notify-next` for a watched thing, and their forms for every namespace
    /// involved (R15, R20, `rules::notify_topics`).
    pub(super) fn settle(&self, w: Watch, sink: &mut Out<'_, impl EventSink>) -> Result<(), Rejection> {
        let (_, t) = self.things.at(w.thing).ok_or(Rejection::LogicBug("a watched thing is missing"))?;
        let head_changed = self.head(w.thing) != w.head;
        self.notify(&t.name, &w, w.changed, head_changed, sink)
    }

    /// The notifications of a change of `thing`'s pending list, for the namespaces `w` involves
    /// (R15, R20).
    pub(super) fn notify(
        &self,
        thing: &ThingName,
        w: &Watch,
        list_changed: bool,
        head_changed: bool,
        sink: &mut Out<'_, impl EventSink>,
    ) -> Result<(), Rejection> {
        let plain = rules::notify_topics(false, list_changed, head_changed);
        if plain.notify {
            sink.emit(Event::Notify(thing.clone()))?;
        }
        if plain.notify_next {
            sink.emit(Event::NotifyNext(thing.clone()))?;
        }
        let namespaced = rules::notify_topics(true, list_changed, head_changed);
        for j in &w.namespaced {
            let ns = self.watched_namespace(*j).ok_or(Rejection::LogicBug("a watched job is missing"))?;
            if namespaced.notify_namespace {
                sink.emit(Event::NotifyNamespace { thing: thing.clone(), namespace: ns.clone() })?;
            }
            if namespaced.notify_next_namespace {
                sink.emit(Event::NotifyNextNamespace { thing: thing.clone(), namespace: ns.clone() })?;
            }
        }
        Ok(())
    }

    pub(super) fn emit_execution(
        &self,
        x: ExecIx,
        event: ExecutionEvent,
        sink: &mut Out<'_, impl EventSink>,
    ) -> Result<(), Rejection> {
        let v = self.view(x).ok_or(Rejection::LogicBug("an execution to report is missing"))?;
        sink.emit(Event::Execution {
            job: v.job_id().clone(),
            thing: v.thing_name().clone(),
            number: v.number(),
            event,
        })
    }
}
