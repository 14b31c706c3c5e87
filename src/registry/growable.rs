//! [`Growable`]: the heap-backed [`Slots`] for hosts with an allocator (feature `alloc`).

use alloc::collections::TryReserveError;
use alloc::vec::Vec;

use super::Slots;

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

#[cfg(test)]
mod tests {
    use super::*;

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
