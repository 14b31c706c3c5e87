//! A binary min-heap of timers over host-provided [`Slots`]: O(1) earliest deadline, O(log n)
//! push and pop.
//!
//! Entries are never updated in place: a changed deadline pushes a new entry and the registry
//! discards entries that no longer match its state when they come out (lazy deletion). When the
//! heap is full the registry rebuilds it from its live deadlines. A heap smaller than the live
//! timers keeps the earliest ones and remembers the earliest it had to leave out, so the registry
//! knows when to rebuild again: no deadline is ever lost, whatever the host's capacity.

use super::compact::Stamp;
use super::slab::Slots;

/// One timer: when (`u32` seconds, as executions store times), and what (a tagged table index
/// the registry interprets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Timer {
    pub(crate) at: Stamp,
    /// Tie-break at equal `at`: 0 for executions, the job's creation sequence for job events.
    pub(crate) order: u32,
    pub(crate) what: u32,
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
    pub(crate) fn push(&mut self, t: Timer) -> bool {
        let i = self.slots.len();
        if let Err(t) = self.slots.push(t) {
            // The latest timer is a leaf (a parent is never later than its children).
            let leaves = i / 2..i;
            let latest = leaves.filter_map(|l| Some((*self.slots.get(l)?, l))).max();
            let out = match latest {
                Some((m, l)) if t < m => {
                    if let Some(s) = self.slots.get_mut(l) {
                        *s = t;
                    }
                    self.sift_up(l);
                    m
                }
                Some(_) | None => t,
            };
            self.dropped = Some(self.dropped.map_or(out, |d| d.min(out)));
            return false;
        }
        self.sift_up(i);
        true
    }

    /// Moves the timer at `i` up to its place (it may be earlier than its parent).
    fn sift_up(&mut self, mut i: usize) {
        while let Some(parent) = i.checked_sub(1).map(|p| p / 2) {
            if !self.swap_if_less(i, parent) {
                break;
            }
            i = parent;
        }
    }

    /// Removes and returns the earliest timer.
    pub(crate) fn pop(&mut self) -> Option<Timer> {
        let last = self.slots.pop()?;
        let Some(root) = self.slots.get_mut(0) else { return Some(last) };
        let top = core::mem::replace(root, last);
        let mut i = 0usize;
        loop {
            let l = i.saturating_mul(2).saturating_add(1);
            let r = l.saturating_add(1);
            let mut least = i;
            if self.less(l, least) {
                least = l;
            }
            if self.less(r, least) {
                least = r;
            }
            if least == i || !self.swap_if_less(least, i) {
                break;
            }
            i = least;
        }
        Some(top)
    }

    fn less(&self, a: usize, b: usize) -> bool {
        match (self.slots.get(a), self.slots.get(b)) {
            (Some(x), Some(y)) => x < y,
            (Some(_) | None, Some(_) | None) => false,
        }
    }

    /// Swaps `child` and `parent` if the child is earlier; true if it swapped.
    fn swap_if_less(&mut self, child: usize, parent: usize) -> bool {
        let (Some(&c), Some(&p)) = (self.slots.get(child), self.slots.get(parent)) else { return false };
        if c >= p {
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
        /// The heap against a sorted vector: every pop is the least timer, peek agrees, a full
        /// heap keeps the earliest timers and remembers the earliest it left out, clear empties.
        #[test]
        #[cfg_attr(miri, ignore)]
        fn pops_in_order(ops in proptest::collection::vec((any::<bool>(), 0u64..40, 0u32..3, 0u32..3), 0..300)) {
            let mut heap: Heap<heapless::Vec<Timer, 16>> = Heap::new(heapless::Vec::new());
            let mut model: Vec<Timer> = Vec::new();
            let mut dropped: Option<Timer> = None;
            for (push, at, order, what) in ops {
                if push {
                    let t = Timer { at: Stamp::new(Timestamp(at)), order, what };
                    prop_assert_eq!(heap.push(t), model.len() < 16);
                    model.push(t);
                    model.sort();
                    if model.len() > 16 {
                        let out = model.pop();
                        dropped = match (dropped, out) {
                            (Some(d), Some(o)) => Some(d.min(o)),
                            (d, o) => d.or(o),
                        };
                    }
                } else {
                    model.sort();
                    let want = if model.is_empty() { None } else { Some(model.remove(0)) };
                    prop_assert_eq!(heap.pop(), want);
                }
                prop_assert_eq!(heap.peek(), model.iter().min().copied());
                prop_assert_eq!(heap.is_full(), model.len() == 16);
                prop_assert_eq!(heap.dropped(), dropped);
            }
            heap.clear();
            prop_assert_eq!(heap.peek(), None);
            prop_assert_eq!(heap.dropped(), None);
            prop_assert!(!heap.is_full());
        }
    }
}
