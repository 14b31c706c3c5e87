//! The intrusive lists threaded through executions, and the pending lists.
//!
//! One doubly linked list implementation serves every list: [`List`] holds the ends, each entry
//! holds its [`Links`] in one field per list it can be in, and a [`Link`] names that field.

use super::Registry;
use super::entries::{ExecIx, ExecutionEntry, ThingIx};
use super::events::MISSING_EXECUTION;
use super::slab::{Entry, Ix, Links, List, Slab, Slots};
use super::storage::Storage;
use crate::error::Rejection;
use crate::status::{ExecutionStatus, terminal_execution};

/// The field of a `T` that holds its links in one kind of list.
pub(super) trait Link<T> {
    /// The links of `e`.
    fn of(e: &T) -> &Links<Ix<T>>;
    /// The links of `e`, mutably.
    fn of_mut(e: &mut T) -> &mut Links<Ix<T>>;
}

/// The executions of one job, in creation order (`ExecutionEntry::job_link`).
#[derive(Clone, Copy)]
pub(super) struct ByJob;

/// The executions of one thing, in creation order (`ExecutionEntry::thing_link`).
#[derive(Clone, Copy)]
pub(super) struct ByThing;

/// A thing's IN_PROGRESS or QUEUED list (`ExecutionEntry::pending_link`).
#[derive(Clone, Copy)]
pub(super) struct ByPending;

impl Link<ExecutionEntry> for ByJob {
    fn of(e: &ExecutionEntry) -> &Links<ExecIx> {
        &e.job_link
    }
    fn of_mut(e: &mut ExecutionEntry) -> &mut Links<ExecIx> {
        &mut e.job_link
    }
}

impl Link<ExecutionEntry> for ByThing {
    fn of(e: &ExecutionEntry) -> &Links<ExecIx> {
        &e.thing_link
    }
    fn of_mut(e: &mut ExecutionEntry) -> &mut Links<ExecIx> {
        &mut e.thing_link
    }
}

impl Link<ExecutionEntry> for ByPending {
    fn of(e: &ExecutionEntry) -> &Links<ExecIx> {
        &e.pending_link
    }
    fn of_mut(e: &mut ExecutionEntry) -> &mut Links<ExecIx> {
        &mut e.pending_link
    }
}

fn links_mut<T, S: Slots<Entry<T>>, L: Link<T>>(
    slab: &mut Slab<T, S>,
    i: Option<Ix<T>>,
) -> Option<&mut Links<Ix<T>>> {
    slab.at_mut(i?).map(L::of_mut)
}

impl<T> List<Ix<T>> {
    /// Links `x` in last.
    pub(super) fn push_back<S: Slots<Entry<T>>, L: Link<T>>(
        mut self,
        slab: &mut Slab<T, S>,
        x: Ix<T>,
        _: L,
    ) -> Self {
        let tail = self.tail;
        if let Some(l) = links_mut::<T, S, L>(slab, Some(x)) {
            *l = Links { prev: tail, next: None };
        }
        match links_mut::<T, S, L>(slab, tail) {
            Some(l) => l.next = Some(x),
            None => self.head = Some(x),
        }
        self.tail = Some(x);
        self.len = self.len.saturating_add(1);
        self
    }

    /// Links `x` in after `before` (first, for `None`).
    pub(super) fn insert_after<S: Slots<Entry<T>>, L: Link<T>>(
        mut self,
        slab: &mut Slab<T, S>,
        before: Option<Ix<T>>,
        x: Ix<T>,
        _: L,
    ) -> Self {
        let next = match before.and_then(|b| slab.at(b)) {
            Some((_, b)) => L::of(b).next,
            None => self.head,
        };
        if let Some(l) = links_mut::<T, S, L>(slab, Some(x)) {
            *l = Links { prev: before, next };
        }
        match links_mut::<T, S, L>(slab, before) {
            Some(l) => l.next = Some(x),
            None => self.head = Some(x),
        }
        match links_mut::<T, S, L>(slab, next) {
            Some(l) => l.prev = Some(x),
            None => self.tail = Some(x),
        }
        self.len = self.len.saturating_add(1);
        self
    }

    /// Unlinks `x`.
    pub(super) fn unlink<S: Slots<Entry<T>>, L: Link<T>>(
        mut self,
        slab: &mut Slab<T, S>,
        x: Ix<T>,
        _: L,
    ) -> Self {
        let Some(&mut Links { prev, next }) = links_mut::<T, S, L>(slab, Some(x)) else { return self };
        match links_mut::<T, S, L>(slab, prev) {
            Some(l) => l.next = next,
            None => self.head = next,
        }
        match links_mut::<T, S, L>(slab, next) {
            Some(l) => l.prev = prev,
            None => self.tail = prev,
        }
        if let Some(l) = links_mut::<T, S, L>(slab, Some(x)) {
            *l = Links::NONE;
        }
        self.len = self.len.saturating_sub(1);
        self
    }
}

/// Walks a list from `head`, in order.
pub(super) fn walk<T, S: Slots<Entry<T>>, L: Link<T>>(
    slab: &Slab<T, S>,
    head: Option<Ix<T>>,
    _: L,
) -> impl Iterator<Item = Ix<T>> + '_ {
    core::iter::successors(head, move |x| slab.at(*x).and_then(|(_, e)| L::of(e).next))
}

impl<S: Storage> Registry<S> {
    /// Puts a pending execution at the end of its thing's IN_PROGRESS or QUEUED list.
    pub(super) fn attach_pending(&mut self, x: ExecIx) -> Result<(), Rejection> {
        let e = self.exec_entry(x).ok_or(MISSING_EXECUTION)?;
        let (thing, status) = (e.thing, e.status);
        let t = self.thing_mut(thing)?;
        let in_progress = match status {
            ExecutionStatus::InProgress => true,
            ExecutionStatus::Queued => false,
            terminal_execution!() => return Ok(()),
        };
        let list = if in_progress { t.in_progress } else { t.queued };
        // SPEC 7.2, T2: each list in queue (creation) order, which is the order of the thing's
        // list of all executions. The newest execution goes last; an older one (starting, or
        // listed again when a window opens) goes after the nearest older one in the same list.
        let mut before = self.exec_entry(x).and_then(|e| e.thing_link.prev);
        while let Some(e) = before.and_then(|b| self.exec_entry(b)) {
            let linked = e.pending_link != Links::NONE || list.head == before;
            if linked && e.status == status {
                break;
            }
            before = e.thing_link.prev;
        }
        let list = list.insert_after(&mut self.execs, before, x, ByPending);
        self.set_pending_list(thing, in_progress, list)
    }

    /// Takes an execution out of its thing's pending list, if it is in one.
    pub(super) fn detach_pending(&mut self, x: ExecIx) -> Result<(), Rejection> {
        let e = self.exec_entry(x).ok_or(MISSING_EXECUTION)?;
        let (thing, status, linked) = (e.thing, e.status, e.pending_link);
        let t = self.thing_mut(thing)?;
        let in_list = linked != Links::NONE || t.in_progress.head == Some(x) || t.queued.head == Some(x);
        if !in_list {
            return Ok(());
        }
        let in_progress = matches!(status, ExecutionStatus::InProgress);
        let list = if in_progress { t.in_progress } else { t.queued };
        let list = list.unlink(&mut self.execs, x, ByPending);
        self.set_pending_list(thing, in_progress, list)
    }

    /// Stores a thing's IN_PROGRESS (`in_progress`) or QUEUED list.
    fn set_pending_list(
        &mut self,
        thing: ThingIx,
        in_progress: bool,
        list: List<ExecIx>,
    ) -> Result<(), Rejection> {
        let t = self.thing_mut(thing)?;
        if in_progress {
            t.in_progress = list;
        } else {
            t.queued = list;
        }
        Ok(())
    }

    /// Walks a thing's pending list: IN_PROGRESS first, then QUEUED, each in queue order.
    pub(super) fn pending_iter(&self, thing: ThingIx) -> impl Iterator<Item = ExecIx> + '_ {
        let (ip, q) =
            self.things.at(thing).map_or((None, None), |(_, t)| (t.in_progress.head, t.queued.head));
        walk(&self.execs, ip, ByPending).chain(walk(&self.execs, q, ByPending))
    }

    /// The executions of job `j`, in creation order.
    pub(super) fn job_executions(&self, j: super::entries::JobIx) -> impl Iterator<Item = ExecIx> + '_ {
        let head = self.job_entry(j).and_then(|e| e.executions.head);
        walk(&self.execs, head, ByJob)
    }
}
