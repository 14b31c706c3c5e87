//! Event room and emission: notify / notify-next per thing (R15) and lifecycle events (SPEC 7.4).

use super::Registry;
use super::slab::NIL;
use super::storage::Storage;
use super::types::{Event, EventSink};
use crate::error::Rejection;
use crate::topic::ExecutionEvent;

/// Per-thing bookkeeping of one operation, to derive its notifications (R15).
#[derive(Clone, Copy)]
pub(super) struct Watch {
    pub(super) thing: u32,
    pub(super) head: u32,
    pub(super) changed: bool,
}

impl<S: Storage> Registry<S> {
    /// The head of a thing's pending list (R15, SPEC T2).
    pub(super) fn head(&self, thing: u32) -> u32 {
        match self.things.at(thing) {
            Some((_, t)) if t.in_progress.head != NIL => t.in_progress.head,
            Some((_, t)) => t.queued.head,
            None => NIL,
        }
    }

    pub(super) fn watch(&self, thing: u32) -> Watch {
        Watch { thing, head: self.head(thing), changed: false }
    }

    /// Emits `notify` / `notify-next` for a watched thing (R15).
    pub(super) fn settle(&self, w: Watch, sink: &mut impl EventSink) {
        let Some((_, t)) = self.things.at(w.thing) else { return };
        if w.changed {
            sink.push(Event::Notify(t.name.clone()));
        }
        if self.head(w.thing) != w.head {
            sink.push(Event::NotifyNext(t.name.clone()));
        }
    }

    pub(super) fn emit_execution(&self, x: u32, event: ExecutionEvent, sink: &mut impl EventSink) {
        if let Some(v) = self.view(x) {
            sink.push(Event::Execution {
                job: v.job_id().clone(),
                thing: v.thing_name().clone(),
                number: v.number(),
                event,
            });
        }
    }

    pub(super) fn ensure_room(sink: &impl EventSink, events: usize) -> Result<(), Rejection> {
        if sink.room() < events { Err(Rejection::Throttled) } else { Ok(()) }
    }
}
