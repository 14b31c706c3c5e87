//! Event room and emission: notify / notify-next per thing (R15) and lifecycle events (SPEC 7.4).

use super::Registry;
use super::entries::{ExecIx, ThingIx};
use super::storage::Storage;
use super::types::{Event, EventSink};
use crate::error::Rejection;
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

/// Per-thing bookkeeping of one operation, to derive its notifications (R15).
#[derive(Clone, Copy)]
pub(super) struct Watch {
    pub(super) thing: ThingIx,
    pub(super) head: Option<ExecIx>,
    pub(super) changed: bool,
}

impl<S: Storage> Registry<S> {
    /// The head of a thing's pending list (R15, SPEC T2).
    pub(super) fn head(&self, thing: ThingIx) -> Option<ExecIx> {
        let (_, t) = self.things.at(thing)?;
        t.in_progress.head.or(t.queued.head)
    }

    pub(super) fn watch(&self, thing: ThingIx) -> Watch {
        Watch { thing, head: self.head(thing), changed: false }
    }

    /// Emits `notify` / `notify-next` for a watched thing (R15).
    pub(super) fn settle(&self, w: Watch, sink: &mut Out<'_, impl EventSink>) -> Result<(), Rejection> {
        let (_, t) = self.things.at(w.thing).ok_or(Rejection::LogicBug("a watched thing is missing"))?;
        if w.changed {
            sink.emit(Event::Notify(t.name.clone()))?;
        }
        if self.head(w.thing) != w.head {
            sink.emit(Event::NotifyNext(t.name.clone()))?;
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
