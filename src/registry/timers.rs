//! A binary min-heap of timers over host-provided [`Slots`]: O(1) earliest deadline, O(log n)
//! push and pop.
//!
//! Entries are never updated in place: a changed deadline pushes a new entry and the registry
//! discards entries that no longer match its state when they come out (lazy deletion). When the
//! heap is full the registry rebuilds it from its live deadlines. A heap smaller than the live
//! timers keeps the earliest ones and remembers the earliest it had to leave out, so the registry
//! knows when to rebuild again: no deadline is ever lost, whatever the host's capacity.
//!
//! A timer is 8 bytes: its time and its subject. Timers due at one instant are ordered by a key
//! the registry gives for a subject ([`before`]), asked for only on a tie of times; a key must
//! not change while a timer with that subject is held.

use super::compact::Stamp;
use super::slab::Slots;

/// One timer: when (`u32` seconds, as executions store times), and what (a tagged table index
/// the registry interprets). Timers due at one instant are ordered by a key of `what` that the
/// registry gives the heap, not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Timer {
    pub(crate) at: Stamp,
    pub(crate) what: u32,
}

/// Whether `a` is due before `b`: the earlier time; at one time the smaller `order` of its
/// subject, then the smaller subject. `order` is asked only on a tie of times.
pub(crate) fn before(a: &Timer, b: &Timer, order: &impl Fn(u32) -> u32) -> bool {
    match a.at.cmp(&b.at) {
        core::cmp::Ordering::Less => true,
        core::cmp::Ordering::Greater => false,
        core::cmp::Ordering::Equal => (order(a.what), a.what) < (order(b.what), b.what),
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Heap<S> {
    slots: S,
    /// The earliest timer left out for room since the last `clear`, if any. Every timer held is
    /// earlier than it was when it was left out.
    dropped: Option<Timer>,
}

impl<S: Slots<Timer>> Heap<S> {
    pub(crate) fn new(mut slots: S) -> Self {
        slots.clear();
        Self { slots, dropped: None }
    }

    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.dropped = None;
    }

    /// The earliest timer left out for room since the last [`clear`](Self::clear).
    pub(crate) const fn dropped(&self) -> Option<Timer> {
        self.dropped
    }

    pub(crate) fn is_full(&self) -> bool {
        self.slots.len() >= self.slots.capacity()
    }

    /// The earliest timer (ties: the smaller `what`).
    pub(crate) fn peek(&self) -> Option<Timer> {
        self.slots.get(0).copied()
    }

    /// Adds a timer. When full, the latest of the held timers and `t` is left out instead (and
    /// remembered in [`dropped`](Self::dropped)), so the heap holds the earliest timers it was
    /// given; false when something was left out.
    pub(crate) fn push(&mut self, t: Timer, order: &impl Fn(u32) -> u32) -> bool {
        let i = self.slots.len();
        if let Err(t) = self.slots.push(t) {
            // The latest timer is a leaf (a parent is never later than its children).
            let mut latest: Option<(Timer, usize)> = None;
            for l in i / 2..i {
                if let Some(&m) = self.slots.get(l)
                    && latest.is_none_or(|(x, _)| before(&x, &m, order))
                {
                    latest = Some((m, l));
                }
            }
            let out = match latest {
                Some((m, l)) if before(&t, &m, order) => {
                    if let Some(s) = self.slots.get_mut(l) {
                        *s = t;
                    }
                    self.sift_up(l, order);
                    m
                }
                Some(_) | None => t,
            };
            self.dropped = Some(match self.dropped {
                Some(d) if before(&d, &out, order) => d,
                Some(_) | None => out,
            });
            return false;
        }
        self.sift_up(i, order);
        true
    }

    /// Moves the timer at `i` up to its place (it may be earlier than its parent).
    fn sift_up(&mut self, mut i: usize, order: &impl Fn(u32) -> u32) {
        while let Some(parent) = i.checked_sub(1).map(|p| p / 2) {
            if !self.swap_if_less(i, parent, order) {
                break;
            }
            i = parent;
        }
    }

    /// Moves the timer at `i` down to its place (it may be later than its children).
    fn sift_down(&mut self, mut i: usize, order: &impl Fn(u32) -> u32) {
        loop {
            let l = i.saturating_mul(2).saturating_add(1);
            let r = l.saturating_add(1);
            let mut least = i;
            if self.less(l, least, order) {
                least = l;
            }
            if self.less(r, least, order) {
                least = r;
            }
            if least == i || !self.swap_if_less(least, i, order) {
                break;
            }
            i = least;
        }
    }

    /// Removes and returns the earliest timer.
    pub(crate) fn pop(&mut self, order: &impl Fn(u32) -> u32) -> Option<Timer> {
        let last = self.slots.pop()?;
        let Some(root) = self.slots.get_mut(0) else { return Some(last) };
        let top = core::mem::replace(root, last);
        self.sift_down(0, order);
        Some(top)
    }

    /// Keeps only the timers `keep` accepts, in O(held timers). [`dropped`](Self::dropped)
    /// stays as it was.
    pub(crate) fn retain(&mut self, keep: impl Fn(&Timer) -> bool, order: &impl Fn(u32) -> u32) {
        let mut i = 0usize;
        while let Some(&t) = self.slots.get(i) {
            if keep(&t) {
                i = i.saturating_add(1);
                continue;
            }
            // The last timer takes its place (or it was the last).
            let Some(last) = self.slots.pop() else { break };
            if let Some(s) = self.slots.get_mut(i) {
                *s = last;
            }
        }
        for i in (0..self.slots.len() / 2).rev() {
            self.sift_down(i, order);
        }
    }

    fn less(&self, a: usize, b: usize, order: &impl Fn(u32) -> u32) -> bool {
        match (self.slots.get(a), self.slots.get(b)) {
            (Some(x), Some(y)) => before(x, y, order),
            (Some(_) | None, Some(_) | None) => false,
        }
    }

    /// Swaps `child` and `parent` if the child is earlier; true if it swapped.
    fn swap_if_less(&mut self, child: usize, parent: usize, order: &impl Fn(u32) -> u32) -> bool {
        let (Some(&c), Some(&p)) = (self.slots.get(child), self.slots.get(parent)) else { return false };
        if !before(&c, &p, order) {
            return false;
        }
        if let Some(s) = self.slots.get_mut(child) {
            *s = p;
        }
        if let Some(s) = self.slots.get_mut(parent) {
            *s = c;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use proptest::prelude::*;

    use super::*;
    use crate::id::Timestamp;

    proptest! {
        /// The heap against a sorted vector: every pop is the least timer by (time, the order
        /// of its subject, subject), peek agrees, a full heap keeps the earliest timers and
        /// remembers the earliest it left out, `retain` keeps the others in order, clear empties.
        #[test]
        #[cfg_attr(miri, ignore)]
        fn pops_in_order(ops in proptest::collection::vec((0u8..9, 0u64..40, 0u32..6), 0..300)) {
            // A key per subject that is not the subject's own order (as a job's sequence).
            let order = |what: u32| [3u32, 0, 0, 2, 1, 3][what as usize];
            let key = |t: &Timer| (t.at, order(t.what), t.what);
            let mut heap: Heap<heapless::Vec<Timer, 16>> = Heap::new(heapless::Vec::new());
            let mut model: Vec<Timer> = Vec::new();
            let mut dropped: Option<Timer> = None;
            for (op, at, what) in ops {
                model.sort_by_key(key);
                if op == 0 {
                    heap.retain(|t| t.what != what, &order);
                    model.retain(|t| t.what != what);
                } else if op < 5 {
                    let t = Timer { at: Stamp::new(Timestamp(at)), what };
                    prop_assert_eq!(heap.push(t, &order), model.len() < 16);
                    model.push(t);
                    model.sort_by_key(key);
                    if model.len() > 16 {
                        let out = model.pop();
                        dropped = match (dropped, out) {
                            (Some(d), Some(o)) => Some(if key(&o) < key(&d) { o } else { d }),
                            (d, o) => d.or(o),
                        };
                    }
                } else {
                    let want = if model.is_empty() { None } else { Some(model.remove(0)) };
                    prop_assert_eq!(heap.pop(&order), want);
                }
                prop_assert_eq!(heap.peek(), model.iter().min_by_key(|t| key(t)).copied());
                prop_assert_eq!(heap.is_full(), model.len() == 16);
                prop_assert_eq!(heap.dropped(), dropped);
            }
            heap.clear();
            prop_assert_eq!(heap.peek(), None);
            prop_assert_eq!(heap.dropped(), None);
            prop_assert!(!heap.is_full());
        }
    }

    /// A full heap given a timer later than all it holds leaves that one out and keeps its
    /// own; given an earlier one, it leaves its latest out instead.
    #[test]
    fn a_full_heap_leaves_out_the_latest_timer() {
        let order = |_: u32| 0;
        let at = |s: u64, what: u32| Timer { at: Stamp::new(Timestamp(s)), what };
        let mut heap: Heap<heapless::Vec<Timer, 4>> = Heap::new(heapless::Vec::new());
        for s in [10, 20, 30, 40] {
            assert!(heap.push(at(s, 0), &order));
        }
        assert!(!heap.push(at(50, 1), &order));
        assert_eq!(heap.dropped(), Some(at(50, 1)));
        assert!(!heap.push(at(15, 2), &order));
        assert_eq!(heap.dropped(), Some(at(40, 0)));
        let popped: Vec<Timer> = core::iter::from_fn(|| heap.pop(&order)).collect();
        assert_eq!(popped, [at(10, 0), at(15, 2), at(20, 0), at(30, 0)]);
    }
}
