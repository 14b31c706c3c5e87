//! Storage primitives: the [`Slots`] a host provides, a generational slab over them, and the
//! intrusive list links the registry threads through its entries, and typed positions.

use core::fmt;
use core::marker::PhantomData;
use core::num::NonZeroU32;

/// A vector the registry keeps one of its tables in, provided by the host.
///
/// A device uses `heapless::Vec<T, N>` (fixed, can live in a `static`); a host that wants a
/// million executions implements this for a growable heap vector with a cap, so memory is used as
/// the table fills and nothing large is ever built on the stack. `push` must refuse, returning the
/// value, once `len() == capacity()`.
pub trait Slots<T> {
    /// Number of elements.
    fn len(&self) -> usize;
    /// The most elements it will ever hold.
    fn capacity(&self) -> usize;
    /// The element at `i`.
    fn get(&self, i: usize) -> Option<&T>;
    /// The element at `i`, mutably.
    fn get_mut(&mut self, i: usize) -> Option<&mut T>;
    /// Appends `value`, or gives it back when full.
    fn push(&mut self, value: T) -> Result<(), T>;
    /// Removes the last element.
    fn pop(&mut self) -> Option<T>;
    /// Removes every element.
    fn clear(&mut self);
    /// True when empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T, const N: usize> Slots<T> for heapless::Vec<T, N> {
    fn len(&self) -> usize {
        self.as_slice().len()
    }
    fn capacity(&self) -> usize {
        N
    }
    fn get(&self, i: usize) -> Option<&T> {
        self.as_slice().get(i)
    }
    fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.as_mut_slice().get_mut(i)
    }
    fn push(&mut self, value: T) -> Result<(), T> {
        heapless::Vec::push(self, value)
    }
    fn pop(&mut self) -> Option<T> {
        heapless::Vec::pop(self)
    }
    fn clear(&mut self) {
        heapless::Vec::clear(self);
    }
}

/// "No entry" in the free list of a table.
pub(crate) const NIL: u32 = u32::MAX;

/// The largest number of entries in one table (67,108,863): a position is 26 bits in the
/// lookup index, beside its 2-bit tag and a 4-bit fingerprint of its hash.
pub const MAX_ENTRIES: usize = (1 << 26) - 1;

/// One slot of a registry table: free (linked into the free list) or holding a value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Entry<T> {
    /// Free; `next` is the next free slot.
    Free {
        /// Next free slot, or none.
        next: u32,
        /// Generation the next value stored here will have.
        generation: u32,
    },
    /// In use.
    Used {
        /// Distinguishes this value from earlier ones in the same slot.
        generation: u32,
        /// The value.
        value: T,
    },
}

/// A slot index and the generation of the value it was issued for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Key {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

/// A generational slab: O(1) insert, remove and lookup; a removed value's key never finds the
/// value that reuses its slot, nor one stored after a [`Slab::clear`].
#[derive(Debug, Clone)]
pub(crate) struct Slab<T, S> {
    slots: S,
    free_head: u32,
    free_count: usize,
    /// The generation of a value stored in a slot that is new (none before the first `clear`,
    /// then one past every generation issued before the last `clear`): so a key from before a
    /// `clear` finds nothing after it, as a removed value's does not.
    first_generation: u32,
    _entries: PhantomData<T>,
}

impl<T, S: Slots<Entry<T>>> Slab<T, S> {
    pub(crate) const fn new(slots: S) -> Self {
        Self { slots, free_head: NIL, free_count: 0, first_generation: 0, _entries: PhantomData }
    }

    /// Entries in use.
    pub(crate) fn used(&self) -> usize {
        self.slots.len().saturating_sub(self.free_count)
    }

    /// How many more values fit.
    pub(crate) fn room(&self) -> usize {
        let cap = self.slots.capacity().min(MAX_ENTRIES);
        cap.saturating_sub(self.slots.len()).saturating_add(self.free_count)
    }

    /// Stores `value`; `None` (and the value dropped) when the table is full. Callers check
    /// [`Self::room`] first, so that a refused operation changes nothing.
    pub(crate) fn insert(&mut self, value: T) -> Option<(Key, Ix<T>)> {
        let key = self.insert_key(value)?;
        Some((key, Ix::new(key.index)?))
    }

    fn insert_key(&mut self, value: T) -> Option<Key> {
        if let Some(&Entry::Free { next, generation }) = self.slots.get(idx(self.free_head)) {
            let index = self.free_head;
            let slot = self.slots.get_mut(idx(index))?;
            *slot = Entry::Used { generation, value };
            self.free_head = next;
            self.free_count = self.free_count.saturating_sub(1);
            return Some(Key { index, generation });
        }
        let len = self.slots.len();
        let index = u32::try_from(len).ok().filter(|_| len < MAX_ENTRIES)?;
        let generation = self.first_generation;
        self.slots.push(Entry::Used { generation, value }).ok()?;
        Some(Key { index, generation })
    }

    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        let slot = self.slots.get_mut(idx(key.index))?;
        match slot {
            Entry::Used { generation, .. } if *generation == key.generation => {
                let next_gen = generation.wrapping_add(1);
                let old =
                    core::mem::replace(slot, Entry::Free { next: self.free_head, generation: next_gen });
                self.free_head = key.index;
                self.free_count = self.free_count.saturating_add(1);
                match old {
                    Entry::Used { value, .. } => Some(value),
                    Entry::Free { .. } => None,
                }
            }
            Entry::Used { .. } | Entry::Free { .. } => None,
        }
    }

    /// The position of the value `key` was issued for, if it is still there.
    pub(crate) fn find(&self, key: Key) -> Option<Ix<T>> {
        self.get(key)?;
        Ix::new(key.index)
    }

    /// The position of every slot (used or free), in table order.
    pub(crate) fn positions(&self) -> impl Iterator<Item = Ix<T>> + use<T, S> {
        (0..self.slots.len()).filter_map(|i| u32::try_from(i).ok()).filter_map(Ix::new)
    }

    pub(crate) fn get(&self, key: Key) -> Option<&T> {
        match self.slots.get(idx(key.index))? {
            Entry::Used { generation, value } if *generation == key.generation => Some(value),
            Entry::Used { .. } | Entry::Free { .. } => None,
        }
    }

    /// The value at `index` with its key, whatever its generation.
    pub(crate) fn at(&self, i: Ix<T>) -> Option<(Key, &T)> {
        let index = i.get();
        match self.slots.get(idx(index))? {
            Entry::Used { generation, value } => Some((Key { index, generation: *generation }, value)),
            Entry::Free { .. } => None,
        }
    }

    pub(crate) fn at_mut(&mut self, i: Ix<T>) -> Option<&mut T> {
        match self.slots.get_mut(idx(i.get()))? {
            Entry::Used { value, .. } => Some(value),
            Entry::Free { .. } => None,
        }
    }

    /// Removes every value. The generations go on counting (the slots' own are forgotten with
    /// them): a slot stored in afterwards starts one past the latest generation any slot had, so
    /// no key issued before finds anything (until generations wrap around, as a slot's own do
    /// after 2^32 removals).
    pub(crate) fn clear(&mut self) {
        let mut first = self.first_generation;
        for i in 0..self.slots.len() {
            let next = match self.slots.get(i) {
                Some(Entry::Used { generation, .. }) => generation.wrapping_add(1),
                Some(Entry::Free { generation, .. }) => *generation,
                None => continue,
            };
            first = first.max(next);
        }
        self.first_generation = first;
        self.slots.clear();
        self.free_head = NIL;
        self.free_count = 0;
    }
}

/// A `u32` index as `usize` (lossless on the 32- and 64-bit targets this crate supports;
/// `NIL` maps to an index no table reaches).
pub(crate) fn idx(i: u32) -> usize {
    usize::try_from(i).unwrap_or(usize::MAX)
}

/// The position of an entry in the table of `T`s: a job's position is not a thing's.
///
/// Kept as the complement of the position in a `NonZeroU32`, so `Option<Ix<T>>` ("no entry")
/// is as small as a `u32`; the one position it cannot name, `u32::MAX`, is beyond
/// [`MAX_ENTRIES`].
pub(crate) struct Ix<T>(NonZeroU32, PhantomData<fn() -> T>);

impl<T> Ix<T> {
    /// The entry at position `i`; `None` for `u32::MAX`.
    pub(crate) const fn new(i: u32) -> Option<Self> {
        match NonZeroU32::new(!i) {
            Some(n) => Some(Self(n, PhantomData)),
            None => None,
        }
    }

    /// The position.
    pub(crate) const fn get(self) -> u32 {
        !self.0.get()
    }
}

impl<T> Clone for Ix<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Ix<T> {}

impl<T> PartialEq for Ix<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<T> Eq for Ix<T> {}

impl<T> fmt::Debug for Ix<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.get())
    }
}

#[cfg(feature = "defmt")]
impl<T> defmt::Format for Ix<T> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "#{=u32}", self.get());
    }
}

/// Links of one intrusive doubly linked list through an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(crate) struct Links<I> {
    pub(crate) prev: Option<I>,
    pub(crate) next: Option<I>,
}

impl<I> Links<I> {
    pub(crate) const NONE: Self = Self { prev: None, next: None };
}

/// The ends of an intrusive list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(crate) struct List<I> {
    pub(crate) head: Option<I>,
    pub(crate) tail: Option<I>,
    pub(crate) len: u32,
}

impl<I> List<I> {
    pub(crate) const EMPTY: Self = Self { head: None, tail: None, len: 0 };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key is valid for its value only: after the slot is reused, the old key neither finds nor
    /// removes the new value.
    #[test]
    fn stale_keys_find_and_remove_nothing() {
        let mut s: Slab<u8, heapless::Vec<Entry<u8>, 2>> = Slab::new(heapless::Vec::new());
        let (old, _) = s.insert(1).unwrap();
        assert_eq!(s.remove(old), Some(1));
        let (new, _) = s.insert(2).unwrap();
        assert_eq!(new.index, old.index, "the slot is reused");
        assert_eq!(s.get(old), None);
        assert_eq!(s.remove(old), None);
        assert_eq!(s.get(new), Some(&2));
        assert_eq!(s.used(), 1);
    }
}
