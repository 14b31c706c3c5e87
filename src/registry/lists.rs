//! The intrusive lists threaded through executions and pairs, and the pending lists.

use super::Registry;
use super::slab::{Links, List, NIL};
use super::storage::Storage;
use crate::status::ExecutionStatus;

/// Which list link of an execution.
#[derive(Clone, Copy)]
pub(super) enum Which {
    Job,
    Thing,
    Pending,
}

impl<S: Storage> Registry<S> {
    pub(super) fn links_mut(&mut self, x: u32, which: Which) -> Option<&mut Links> {
        let e = self.execs.at_mut(x)?;
        Some(match which {
            Which::Job => &mut e.job_link,
            Which::Thing => &mut e.thing_link,
            Which::Pending => &mut e.pending_link,
        })
    }

    pub(super) fn push_back(&mut self, mut list: List, x: u32, which: Which) -> List {
        let tail = list.tail;
        if let Some(l) = self.links_mut(x, which) {
            *l = Links { prev: tail, next: NIL };
        }
        match self.links_mut(tail, which) {
            Some(l) => l.next = x,
            None => list.head = x,
        }
        list.tail = x;
        list.len = list.len.saturating_add(1);
        list
    }

    pub(super) fn unlink(&mut self, mut list: List, x: u32, which: Which) -> List {
        let Some(&mut Links { prev, next }) = self.links_mut(x, which) else { return list };
        match self.links_mut(prev, which) {
            Some(l) => l.next = next,
            None => list.head = next,
        }
        match self.links_mut(next, which) {
            Some(l) => l.prev = prev,
            None => list.tail = prev,
        }
        if let Some(l) = self.links_mut(x, which) {
            *l = Links::NONE;
        }
        list.len = list.len.saturating_sub(1);
        list
    }

    /// Puts a pending execution at the end of its thing's IN_PROGRESS or QUEUED list.
    pub(super) fn attach_pending(&mut self, x: u32) {
        let Some(e) = self.exec_entry(x) else { return };
        let (thing, status) = (e.thing, e.status);
        let Some((_, t)) = self.things.at(thing) else { return };
        let in_progress = match status {
            ExecutionStatus::InProgress => true,
            ExecutionStatus::Queued => false,
            ExecutionStatus::Succeeded
            | ExecutionStatus::Failed
            | ExecutionStatus::TimedOut
            | ExecutionStatus::Rejected
            | ExecutionStatus::Removed
            | ExecutionStatus::Canceled => return,
        };
        let list = if in_progress { t.in_progress } else { t.queued };
        // SPEC 7.2, T2: each list in queue (creation) order, which is the order of the thing's
        // list of all executions. The newest execution goes last; an older one (starting, or
        // listed again when a window opens) goes after the nearest older one in the same list.
        let mut before = self.exec_entry(x).map_or(NIL, |e| e.thing_link.prev);
        while let Some(e) = self.exec_entry(before) {
            let linked = e.pending_link != Links::NONE || list.head == before;
            if linked && e.status == status {
                break;
            }
            before = e.thing_link.prev;
        }
        let list = self.insert_after(list, before, x);
        if let Some(t) = self.things.at_mut(thing) {
            if in_progress {
                t.in_progress = list;
            } else {
                t.queued = list;
            }
        }
    }

    /// Links `x` into a pending list after `before` (or first, for `NIL`).
    pub(super) fn insert_after(&mut self, mut list: List, before: u32, x: u32) -> List {
        let next = match self.exec_entry(before) {
            Some(b) => b.pending_link.next,
            None => list.head,
        };
        if let Some(l) = self.links_mut(x, Which::Pending) {
            *l = Links { prev: before, next };
        }
        match self.links_mut(before, Which::Pending) {
            Some(l) => l.next = x,
            None => list.head = x,
        }
        match self.links_mut(next, Which::Pending) {
            Some(l) => l.prev = x,
            None => list.tail = x,
        }
        list.len = list.len.saturating_add(1);
        list
    }

    /// Takes an execution out of its thing's pending list, if it is in one.
    pub(super) fn detach_pending(&mut self, x: u32) {
        let Some(e) = self.exec_entry(x) else { return };
        let (thing, status, linked) = (e.thing, e.status, e.pending_link);
        let Some((_, t)) = self.things.at(thing) else { return };
        let in_list = linked != Links::NONE || t.in_progress.head == x || t.queued.head == x;
        if !in_list {
            return;
        }
        let in_progress = matches!(status, ExecutionStatus::InProgress);
        let list = if in_progress { t.in_progress } else { t.queued };
        let list = self.unlink(list, x, Which::Pending);
        if let Some(t) = self.things.at_mut(thing) {
            if in_progress {
                t.in_progress = list;
            } else {
                t.queued = list;
            }
        }
    }

    pub(super) fn push_back_pair(&mut self, mut list: List, p: u32) -> List {
        let tail = list.tail;
        if let Some(e) = self.pairs.at_mut(p) {
            e.job_link = Links { prev: tail, next: NIL };
        }
        match self.pairs.at_mut(tail) {
            Some(e) => e.job_link.next = p,
            None => list.head = p,
        }
        list.tail = p;
        list.len = list.len.saturating_add(1);
        list
    }

    /// Walks a thing's pending list: IN_PROGRESS first, then QUEUED, each in queue order.
    pub(super) fn pending_iter(&self, thing: u32) -> impl Iterator<Item = u32> + '_ {
        let (ip, q) = self.things.at(thing).map_or((NIL, NIL), |(_, t)| (t.in_progress.head, t.queued.head));
        let next = move |i: &u32| self.exec_entry(*i).map(|e| e.pending_link.next).filter(|n| *n != NIL);
        let first = core::iter::successors(Some(ip).filter(|i| *i != NIL), next);
        let second = core::iter::successors(Some(q).filter(|i| *i != NIL), next);
        first.chain(second)
    }

    pub(super) fn job_executions(&self, j: u32) -> impl Iterator<Item = u32> + '_ {
        let head = self.job_entry(j).map_or(NIL, |e| e.executions.head);
        core::iter::successors(Some(head).filter(|x| *x != NIL), move |x| {
            self.exec_entry(*x).map(|e| e.job_link.next).filter(|n| *n != NIL)
        })
    }
}
