//! The lookup index: one open-addressing hash table (linear probing, backward-shift deletion)
//! over host-provided [`Slots`], mapping job ids, thing names and (job, thing) pairs to table
//! indexes in O(1) (a pair to its newest execution, or to its record when it has none).
//!
//! Its bucket count is fixed when the registry is made (every slot the host provides), so it never
//! rehashes; one bucket stays empty so that every probe ends.

use super::slab::{MAX_ENTRIES, NIL, Slots};

/// What an index value points at: the two top bits of a stored `u32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tag {
    Job = 0,
    Thing = 1,
    /// A (job, thing) pair's record: the pair has no execution.
    Pair = 2,
    /// In the index, a (job, thing) pair's newest execution (which holds the pair's state); in
    /// timers, an execution's deadline.
    Execution = 3,
}

pub(crate) const fn tagged(tag: Tag, index: u32) -> u32 {
    ((tag as u32) << 30) | (index & (MAX_ENTRIES as u32))
}

pub(crate) const fn untag(value: u32) -> (u32, u32) {
    (value >> 30, value & (MAX_ENTRIES as u32))
}

/// FNV-1a, 64-bit.
pub(crate) fn hash(tag: Tag, bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ (tag as u64);
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

pub(crate) fn pair_hash(job: u32, thing: u32) -> u64 {
    let j = job.to_le_bytes();
    let t = thing.to_le_bytes();
    hash(Tag::Pair, &[j[0], j[1], j[2], j[3], t[0], t[1], t[2], t[3]])
}

#[derive(Debug, Clone)]
pub(crate) struct Index<S> {
    buckets: S,
    used: usize,
}

impl<S: Slots<u32>> Index<S> {
    /// Takes every slot the host provides as a bucket.
    pub(crate) fn new(mut buckets: S) -> Self {
        buckets.clear();
        while buckets.len() < buckets.capacity() && buckets.push(NIL).is_ok() {}
        Self { buckets, used: 0 }
    }

    pub(crate) fn clear(&mut self) {
        let len = self.buckets.len();
        for i in 0..len {
            if let Some(b) = self.buckets.get_mut(i) {
                *b = NIL;
            }
        }
        self.used = 0;
    }

    /// How many values it holds.
    #[cfg(test)]
    pub(crate) fn values(&self) -> usize {
        self.used
    }

    /// How many more values fit (one bucket always stays empty).
    pub(crate) fn room(&self) -> usize {
        self.buckets.len().saturating_sub(1).saturating_sub(self.used)
    }

    fn home(&self, h: u64) -> usize {
        let len = u64::try_from(self.buckets.len()).unwrap_or(u64::MAX).max(1);
        usize::try_from(h.checked_rem(len).unwrap_or(0)).unwrap_or(0)
    }

    fn next(&self, i: usize) -> usize {
        match i.checked_add(1) {
            Some(n) if n < self.buckets.len() => n,
            Some(_) | None => 0,
        }
    }

    /// The first value under hash `h` that `is` accepts.
    pub(crate) fn find(&self, h: u64, mut is: impl FnMut(u32) -> bool) -> Option<u32> {
        let mut i = self.home(h);
        for _ in 0..self.buckets.len() {
            match self.buckets.get(i) {
                Some(&NIL) | None => return None,
                Some(&v) if is(v) => return Some(v),
                Some(_) => i = self.next(i),
            }
        }
        None
    }

    /// Adds `value` under hash `h`; false when full.
    pub(crate) fn insert(&mut self, h: u64, value: u32) -> bool {
        if self.room() == 0 {
            return false;
        }
        let mut i = self.home(h);
        for _ in 0..self.buckets.len() {
            match self.buckets.get_mut(i) {
                Some(b) if *b == NIL => {
                    *b = value;
                    self.used = self.used.saturating_add(1);
                    return true;
                }
                Some(_) => i = self.next(i),
                None => return false,
            }
        }
        false
    }

    fn position(&self, h: u64, value: u32) -> Option<usize> {
        let mut i = self.home(h);
        for _ in 0..self.buckets.len() {
            match self.buckets.get(i) {
                Some(&NIL) | None => return None,
                Some(&v) if v == value => return Some(i),
                Some(_) => i = self.next(i),
            }
        }
        None
    }

    /// Puts `new` in the place of `old` (stored under hash `h`; `new` has the same hash); false
    /// if `old` is not there.
    pub(crate) fn replace(&mut self, h: u64, old: u32, new: u32) -> bool {
        match self.position(h, old).and_then(|i| self.buckets.get_mut(i)) {
            Some(b) => {
                *b = new;
                true
            }
            None => false,
        }
    }

    /// Removes `value` (stored under hash `h`); `hash_of` gives the hash of any stored value, to
    /// shift the values after it back into place.
    pub(crate) fn remove(&mut self, h: u64, value: u32, hash_of: impl Fn(u32) -> u64) -> bool {
        let Some(mut hole) = self.position(h, value) else { return false };
        let mut j = hole;
        for _ in 0..self.buckets.len() {
            j = self.next(j);
            let v = match self.buckets.get(j) {
                Some(&NIL) | None => break,
                Some(&v) => v,
            };
            let home = self.home(hash_of(v));
            // Move v into the hole unless its home lies cyclically in (hole, j].
            let stays = if hole <= j { hole < home && home <= j } else { hole < home || home <= j };
            if !stays {
                if let Some(b) = self.buckets.get_mut(hole) {
                    *b = v;
                }
                hole = j;
            }
        }
        if let Some(b) = self.buckets.get_mut(hole) {
            *b = NIL;
        }
        self.used = self.used.saturating_sub(1);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::collections::HashSet;

    /// Degenerate hashes force long probe chains that wrap around the end of the table.
    fn weak(v: u32) -> u64 {
        u64::from(v % 3) + 6
    }

    #[test]
    fn insert_find_remove_with_collisions_and_wraparound() {
        let mut ix: Index<heapless::Vec<u32, 8>> = Index::new(heapless::Vec::new());
        assert_eq!(ix.room(), 7);
        let values = [1u32, 4, 7, 2, 5, 3, 10];
        for v in values {
            assert!(ix.insert(weak(v), v));
        }
        assert_eq!(ix.room(), 0);
        assert!(!ix.insert(weak(99), 99), "one bucket stays empty");
        let mut live: HashSet<u32> = values.into_iter().collect();
        for v in [4u32, 1, 10, 3] {
            assert!(ix.remove(weak(v), v, weak));
            live.remove(&v);
            for w in values {
                assert_eq!(
                    ix.find(weak(w), |x| x == w).is_some(),
                    live.contains(&w),
                    "after removing {v}: {w}"
                );
            }
        }
        assert!(!ix.remove(weak(4), 4, weak));
    }

    /// Every interleaving a small deterministic generator reaches, against a set: homes anywhere in
    /// the table (so that chains wrap around its end from every position), removals from the
    /// middle of chains, and every value found exactly while it is stored.
    #[test]
    fn insert_and_remove_agree_with_a_set_from_every_home() {
        let mut seed = 0x2545_f491_u64;
        let mut rand = |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        for modulus in 1..=9u64 {
            let h = move |v: u32| u64::from(v).wrapping_mul(7) % modulus + 3;
            for _ in 0..(if cfg!(miri) { 4 } else { 40 }) {
                let mut ix: Index<heapless::Vec<u32, 6>> = Index::new(heapless::Vec::new());
                let mut live: HashSet<u32> = HashSet::new();
                for _ in 0..30 {
                    let v = u32::try_from(rand(12)).unwrap();
                    if live.contains(&v) {
                        assert!(ix.remove(h(v), v, h));
                        live.remove(&v);
                    } else if ix.insert(h(v), v) {
                        live.insert(v);
                    } else {
                        assert_eq!(live.len(), 5, "refused only when full");
                    }
                    for w in 0..12 {
                        assert_eq!(ix.find(h(w), |x| x == w).is_some(), live.contains(&w), "value {w}");
                    }
                    assert_eq!(ix.room(), 5 - live.len());
                }
            }
        }
    }

    #[test]
    fn tags_round_trip() {
        assert_eq!(untag(tagged(Tag::Pair, 12345)), (2, 12345));
        assert_eq!(untag(tagged(Tag::Job, MAX_ENTRIES as u32)), (0, MAX_ENTRIES as u32));
        assert_ne!(hash(Tag::Job, b"a"), hash(Tag::Thing, b"a"));
    }
}
