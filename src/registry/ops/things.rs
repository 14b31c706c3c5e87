//! Things: CreateThing, DeleteThing.

use crate::error::{Rejection, Resource, Table};
use crate::id::{ThingName, Timestamp};
use crate::registry::Registry;
use crate::registry::compact::check_time;
use crate::registry::entries::ThingIx;
use crate::registry::entries::{ExecutionEntry, ThingEntry};
use crate::registry::events::{MISSING_JOB, Out};
use crate::registry::index::{Tag, hash, tagged};
use crate::registry::lists::{ByThing, walk};
use crate::registry::slab::List;
use crate::registry::storage::Storage;
use crate::registry::types::{EventSink, ThingHandle};
use crate::rules::{self, Actor};

impl<S: Storage> Registry<S> {
    /// Registers a thing (CreateThing); registering a known thing again is a no-op.
    ///
    /// # Errors
    /// `CapacityExhausted(Things)` when the things table or the index is full.
    pub fn add_thing(&mut self, name: &ThingName) -> Result<ThingHandle, Rejection> {
        if let Some(i) = self.thing_index(name) {
            self.thing_mut(i)?.registered = true;
            return self
                .things
                .at(i)
                .map(|(k, _)| ThingHandle(k))
                .ok_or(Rejection::NotFound(Resource::Thing));
        }
        if self.things.room() == 0 {
            return Err(Rejection::CapacityExhausted(Table::Things));
        }
        if self.index.room() == 0 {
            return Err(Rejection::CapacityExhausted(Table::Index));
        }
        let entry = ThingEntry {
            name: name.clone(),
            registered: true,
            in_progress: List::EMPTY,
            queued: List::EMPTY,
            all: List::EMPTY,
            pairs: 0,
            mark: 0,
        };
        let (key, t) = self.things.insert(entry).ok_or(Rejection::CapacityExhausted(Table::Things))?;
        self.index.insert(hash(Tag::Thing, name.as_str().as_bytes()), tagged(Tag::Thing, t.get()));
        Ok(ThingHandle(key))
    }

    /// Deletes a thing (DeleteThing): its pending executions become REMOVED (SPEC T10, R10); its
    /// executions stay listable until they are deleted.
    ///
    /// # Errors
    /// `ResourceNotFoundException` for an unknown thing; `Throttled` when the sink has no room;
    /// `CapacityExhausted(Events)` when the pending executions it removes belong to jobs of more than
    /// four namespaces, whose topics one change cannot all be told on (SPEC R20).
    pub fn remove_thing(
        &mut self,
        name: &ThingName,
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<(), Rejection> {
        check_time(now)?;
        let sink = &mut Out::new(sink);
        let t = self.thing_index(name).filter(|t| self.things.at(*t).is_some_and(|(_, e)| e.registered));
        let t = t.ok_or(Rejection::NotFound(Resource::Thing))?;
        let removes = |r: &Self, e: &ExecutionEntry| {
            r.job_entry(e.job).and_then(|j| rules::remove_thing(j.status, e.status, &r.policy))
        };
        let head = self.things.at(t).and_then(|(_, e)| e.all.head);
        let affected = walk(&self.execs, head, ByThing)
            .filter(|x| self.exec_entry(*x).is_some_and(|e| removes(self, e).is_some()))
            .count();
        // SPEC R20: the namespaces of the removed executions on the device's pending list are
        // told of the change; refused before anything changes when a watch cannot hold them.
        let mut w = self.watch(t);
        for x in walk(&self.execs, head, ByThing) {
            let Some(e) = self.exec_entry(x).filter(|e| removes(self, e).is_some()) else { continue };
            let job = e.job;
            if rules::listed_to_device(self.job_entry(job).ok_or(MISSING_JOB)?.status, e.status) {
                self.involve(&mut w, job)?;
            }
        }
        // One event per removed execution and per job that completes, plus the notifications.
        let notifications = w.namespaces().saturating_add(1).saturating_mul(2);
        sink.reserve(affected.saturating_mul(2).saturating_add(notifications))?;
        let mut cur = head;
        while let Some((x, e)) = self.exec_at(cur) {
            let (next, job, to) = (e.thing_link.next, e.job, removes(self, e));
            if let Some(to) = to {
                w.changed |= self.set_status(x, to, Actor::Service, now, sink)?;
                self.maybe_complete(job, now, sink)?;
            }
            cur = next;
        }
        let e = self.thing_mut(t)?;
        e.registered = false;
        self.settle(w, sink)?;
        self.forget_thing_if_unused(t);
        Ok(())
    }

    pub(in crate::registry) fn forget_thing_if_unused(&mut self, t: ThingIx) {
        let Some((key, e)) = self.things.at(t) else { return };
        // Executions imply pairs (a pair lives as long as its job), so pairs cover both.
        if e.registered || e.pairs > 0 {
            return;
        }
        let h = hash(Tag::Thing, e.name.as_str().as_bytes());
        self.unindex(h, tagged(Tag::Thing, t.get()));
        self.things.remove(key);
    }
}
