//! The intrusive lists threaded through executions, and the pending lists.
//!
//! [`List`] holds the ends of every list. A job's and a thing's lists of executions are doubly
//! linked: each entry holds its [`Links`] in one field per list, and a [`Link`] names that field.
//! A thing's pending lists are singly linked (`ExecutionEntry::pending_next`, 4 bytes less per
//! execution): appending (the tail is kept) and taking the head are O(1), taking out another
//! execution walks the list from its head (a thing's pending executions are few: one per
//! unfinished job that targets it).

use super::Registry;
use super::entries::{ExecIx, ExecutionEntry, ThingIx};
use super::events::MISSING_EXECUTION;
use super::slab::{Entry, Ix, Links, List, Slab, Slots};
use super::storage::Storage;
use crate::error::Rejection;
use crate::status::{ExecutionStatus, terminal_execution};

/// The next entry of a `T` in one kind of list ([`walk`]).
pub(super) trait Next<T> {
    /// The entry after `e`.
    fn next(e: &T) -> Option<Ix<T>>;
}

/// The field of a `T` that holds its links in one kind of doubly linked list.
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

/// A thing's IN_PROGRESS or QUEUED list (`ExecutionEntry::pending_next`), singly linked.
#[derive(Clone, Copy)]
pub(super) struct ByPending;

impl Next<ExecutionEntry> for ByJob {
    fn next(e: &ExecutionEntry) -> Option<ExecIx> {
        e.job_link.next
    }
}

impl Next<ExecutionEntry> for ByThing {
    fn next(e: &ExecutionEntry) -> Option<ExecIx> {
        e.thing_link.next
    }
}

impl Next<ExecutionEntry> for ByPending {
    fn next(e: &ExecutionEntry) -> Option<ExecIx> {
        e.pending_next
    }
}

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
pub(super) fn walk<T, S: Slots<Entry<T>>, L: Next<T>>(
    slab: &Slab<T, S>,
    head: Option<Ix<T>>,
    _: L,
) -> impl Iterator<Item = Ix<T>> + '_ {
    core::iter::successors(head, move |x| slab.at(*x).and_then(|(_, e)| L::next(e)))
}

/// A thing's pending list ([`ByPending`]): singly linked through `pending_next`, tail kept.
impl List<ExecIx> {
    /// Links `x` in after `before` (first, for `None`; last, for the tail): O(1).
    pub(super) fn insert_pending<S: Slots<Entry<ExecutionEntry>>>(
        mut self,
        execs: &mut Slab<ExecutionEntry, S>,
        before: Option<ExecIx>,
        x: ExecIx,
    ) -> Self {
        let next = match before.and_then(|b| execs.at(b)) {
            Some((_, b)) => b.pending_next,
            None => self.head,
        };
        if let Some(e) = execs.at_mut(x) {
            e.pending_next = next;
        }
        match before.and_then(|b| execs.at_mut(b)) {
            Some(b) => b.pending_next = Some(x),
            None => self.head = Some(x),
        }
        if next.is_none() {
            self.tail = Some(x);
        }
        self.len = self.len.saturating_add(1);
        self
    }

    /// Whether `x`, an execution of this list's kind (IN_PROGRESS or QUEUED), is linked in it:
    /// O(1) (every member but the tail has a next).
    pub(super) fn holds_pending<S: Slots<Entry<ExecutionEntry>>>(
        &self,
        execs: &Slab<ExecutionEntry, S>,
        x: ExecIx,
    ) -> bool {
        self.tail == Some(x) || execs.at(x).is_some_and(|(_, e)| e.pending_next.is_some())
    }

    /// Unlinks `x`, if it is in the list: O(1) for the head, else a walk from the head to the
    /// one before it.
    pub(super) fn unlink_pending<S: Slots<Entry<ExecutionEntry>>>(
        mut self,
        execs: &mut Slab<ExecutionEntry, S>,
        x: ExecIx,
    ) -> Self {
        let mut before = None;
        let mut at = self.head;
        while let Some(c) = at.filter(|c| *c != x) {
            before = Some(c);
            at = execs.at(c).and_then(|(_, e)| e.pending_next);
        }
        let Some(next) = at.and_then(|c| execs.at(c)).map(|(_, e)| e.pending_next) else { return self };
        match before.and_then(|b| execs.at_mut(b)) {
            Some(b) => b.pending_next = next,
            None => self.head = next,
        }
        if self.tail == Some(x) {
            self.tail = before;
        }
        if let Some(e) = execs.at_mut(x) {
            e.pending_next = None;
        }
        self.len = self.len.saturating_sub(1);
        self
    }
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
        while let Some((b, e)) = before.and_then(|b| Some((b, self.exec_entry(b)?))) {
            if e.status == status && list.holds_pending(&self.execs, b) {
                break;
            }
            before = e.thing_link.prev;
        }
        let list = list.insert_pending(&mut self.execs, before, x);
        self.set_pending_list(thing, in_progress, list)
    }

    /// Takes an execution out of its thing's pending list, if it is in one.
    pub(super) fn detach_pending(&mut self, x: ExecIx) -> Result<(), Rejection> {
        let e = self.exec_entry(x).ok_or(MISSING_EXECUTION)?;
        let (thing, status) = (e.thing, e.status);
        let t = self.thing_mut(thing)?;
        let in_progress = matches!(status, ExecutionStatus::InProgress);
        let list = if in_progress { t.in_progress } else { t.queued };
        if !list.holds_pending(&self.execs, x) {
            return Ok(());
        }
        let list = list.unlink_pending(&mut self.execs, x);
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
