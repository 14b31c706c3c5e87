//! [`Growable`]: the heap-backed [`Slots`] for hosts with an allocator (feature `alloc`), and
//! [`Heap`], the [`Storage`] made of them.

use alloc::collections::TryReserveError;
use alloc::vec::Vec;

use super::entries::{ExecutionEntry, JobEntry, PairEntry, ThingEntry};
use super::slab::Entry;
use super::timers::Timer;
use super::{Slots, Storage, Tables};

/// A heap table that grows as it fills, up to a cap.
///
/// Capacity semantics:
/// - [`Slots::capacity`] is the cap given to [`new`](Self::new): a push beyond it is refused
///   (the value is handed back and the registry answers with its "table full" error), as a
///   fixed-size table would.
/// - [`new`](Self::new) allocates nothing, so a huge cap (even `usize::MAX`) costs nothing until
///   the table fills; memory grows geometrically, never past the cap.
/// - Growth uses `try_reserve`: when the allocator refuses, the push is refused like a full
///   table instead of aborting the process.
/// - [`reserved`](Self::reserved) allocates the whole cap at once (for a host that wants no
///   reallocation later), and reports an allocation failure as an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Growable<T> {
    items: Vec<T>,
    cap: usize,
}

#[cfg(feature = "defmt")]
impl<T> defmt::Format for Growable<T> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "Growable {{ len: {}, cap: {} }}", self.items.len(), self.cap);
    }
}

impl<T> Growable<T> {
    /// The smallest allocation a growing table makes.
    const MIN_GROWTH: usize = 4;

    /// An empty table that holds at most `cap` elements; allocates nothing.
    #[must_use]
    pub const fn new(cap: usize) -> Self {
        Self { items: Vec::new(), cap }
    }

    /// An empty table with memory for all `cap` elements allocated now.
    ///
    /// # Errors
    ///
    /// The allocator's refusal (the cap is too large for the memory available).
    pub fn reserved(cap: usize) -> Result<Self, TryReserveError> {
        let mut items = Vec::new();
        items.try_reserve_exact(cap)?;
        Ok(Self { items, cap })
    }

    /// The elements, in order.
    #[must_use]
    pub fn as_slice(&self) -> &[T] {
        &self.items
    }
}

impl<T> Slots<T> for Growable<T> {
    fn len(&self) -> usize {
        self.items.len()
    }
    fn capacity(&self) -> usize {
        self.cap
    }
    fn get(&self, i: usize) -> Option<&T> {
        self.items.get(i)
    }
    fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.items.get_mut(i)
    }
    fn push(&mut self, value: T) -> Result<(), T> {
        let len = self.items.len();
        if len >= self.cap {
            return Err(value);
        }
        if len == self.items.capacity() {
            // Double (at least MIN_GROWTH), but never past the cap.
            let extra = len.max(Self::MIN_GROWTH).min(self.cap.saturating_sub(len));
            if self.items.try_reserve_exact(extra).is_err() {
                return Err(value);
            }
        }
        self.items.push(value);
        Ok(())
    }
    fn pop(&mut self) -> Option<T> {
        self.items.pop()
    }
    fn clear(&mut self) {
        self.items.clear();
    }
}

/// [`Storage`] on the heap for hosts with an allocator: every table a [`Growable`] that grows as
/// it fills, up to these caps, and statusDetails as `Vec<u8>`.
///
/// Derived sizes: one (job, thing) pair per execution (records are allocated only for pairs
/// without an execution), at most one timer per execution and per
/// job, and twice as many index buckets as jobs, things and pairs together (plus the one that
/// stays empty). The index is the one table allocated in full when the registry is made (a hash
/// table does not grow); the others allocate as they fill. With `reserve`, every table but the
/// timers is allocated in full up front (no reallocation later, for measurements); a table the
/// allocator refuses then grows as it fills instead.
///
/// The timers always grow as they fill: they hold the deadlines of IN_PROGRESS executions that
/// have a timeout and the next event of each job, and (until they come due or the heap is
/// rebuilt) the deadlines these replaced; an execution that is QUEUED, finished, or IN_PROGRESS
/// without a timeout costs no timer. The cap stays one per execution and job, so the heap never
/// has to leave a live deadline out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Heap {
    /// Jobs, including those being deleted.
    pub jobs: usize,
    /// Things.
    pub things: usize,
    /// Executions, over all jobs.
    pub executions: usize,
    /// Stored statusDetails maps (one per execution that has one).
    pub status_details: usize,
    /// Allocate every table in full now.
    pub reserve: bool,
}

impl Heap {
    /// The index buckets for these caps: twice jobs + things + pairs, plus one.
    #[must_use]
    pub const fn index_buckets(&self) -> usize {
        self.jobs
            .saturating_add(self.things)
            .saturating_add(self.executions)
            .saturating_mul(2)
            .saturating_add(1)
    }

    fn table<T>(&self, cap: usize) -> Growable<T> {
        if self.reserve {
            Growable::reserved(cap).unwrap_or_else(|_| Growable::new(cap))
        } else {
            Growable::new(cap)
        }
    }
}

impl Storage for Heap {
    type Jobs = Growable<Entry<JobEntry>>;
    type Things = Growable<Entry<ThingEntry>>;
    type Executions = Growable<Entry<ExecutionEntry>>;
    type DetailsMap = Vec<u8>;
    type Details = Growable<Entry<Vec<u8>>>;
    type Pairs = Growable<Entry<PairEntry>>;
    type Timers = Growable<Timer>;
    type Index = Growable<u32>;

    fn into_tables(self) -> Tables<Self> {
        Tables {
            jobs: self.table(self.jobs),
            things: self.table(self.things),
            executions: self.table(self.executions),
            details: self.table(self.status_details),
            pairs: self.table(self.executions),
            // Grows with the deadlines armed, never reserved (see the type's docs).
            timers: Growable::new(self.executions.saturating_add(self.jobs)),
            index: self.table(self.index_buckets()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_sizes_every_table_from_the_caps() {
        let caps = Heap { jobs: 3, things: 5, executions: 7, status_details: 2, reserve: false };
        let t = caps.into_tables();
        let got = |t: &Tables<Heap>| {
            [
                t.jobs.capacity(),
                t.things.capacity(),
                t.executions.capacity(),
                t.details.capacity(),
                t.pairs.capacity(),
                t.timers.capacity(),
                t.index.capacity(),
            ]
        };
        assert_eq!(got(&t), [3, 5, 7, 2, 7, 10, 31]);
        assert_eq!(t.executions.items.capacity(), 0, "grows as it fills");
        let t = Heap { reserve: true, ..caps }.into_tables();
        assert_eq!(got(&t), [3, 5, 7, 2, 7, 10, 31]);
        assert!(t.executions.items.capacity() >= 7 && t.index.items.capacity() >= 31, "allocated up front");
        assert_eq!(t.timers.items.capacity(), 0, "timers grow with the deadlines armed, even reserved");
        let huge = Heap { jobs: usize::MAX, things: 1, executions: 1, status_details: 0, reserve: true };
        assert_eq!(huge.index_buckets(), usize::MAX);
        assert_eq!(huge.into_tables().jobs.items.capacity(), 0, "refused: grows as it fills instead");
    }

    #[test]
    fn refuses_beyond_the_cap() {
        let mut t = Growable::new(3);
        for v in 0..3 {
            assert_eq!(t.push(v), Ok(()));
        }
        assert_eq!(t.push(3), Err(3));
        assert_eq!((t.len(), t.capacity()), (3, 3));
        assert_eq!(t.as_slice(), &[0, 1, 2]);
        assert_eq!(t.get(2), Some(&2));
        assert_eq!(t.get(3), None);
        *t.get_mut(0).unwrap() = 7;
        assert_eq!(t.pop(), Some(2));
        assert_eq!(t.push(9), Ok(()));
        assert_eq!(t.as_slice(), &[7, 1, 9]);
        t.clear();
        assert!(t.is_empty());
    }

    #[test]
    fn huge_caps_allocate_only_what_is_used() {
        let mut t: Growable<u64> = Growable::new(usize::MAX);
        assert_eq!(t.items.capacity(), 0);
        for v in 0..5 {
            t.push(v).unwrap();
        }
        // Grown geometrically from the minimum, not towards the cap.
        assert_eq!(t.items.capacity(), 8);
        let mut small: Growable<u8> = Growable::new(5);
        for v in 0..5 {
            small.push(v).unwrap();
        }
        assert_eq!(small.items.capacity(), 5, "growth stops at the cap");
    }

    #[test]
    fn reserving_the_whole_cap_is_fallible() {
        let t: Growable<u32> = Growable::reserved(100).unwrap();
        assert!(t.items.capacity() >= 100);
        assert!(Growable::<u64>::reserved(usize::MAX).is_err());
    }
}
