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

/// The bits of a stored value between its tag and its position: 4 bits of its hash, so that a
/// probe passes over most other values without reading the entries they name (each such read
/// is a cache miss in a large registry).
const FINGERPRINT: u32 = 0xf << 26;

/// The fingerprint of hash `h`, in place ([`FINGERPRINT`]): the top bits of `h` times a second
/// odd constant, which every bit of `h` reaches, and not the bits that chose its home.
const fn fingerprint(h: u64) -> u32 {
    // The top 4 bits of a `u64` fit in a `u32`.
    ((h.wrapping_mul(0xff51_afd7_ed55_8ccd) >> 60) as u32) << 26
}

/// A name's hash, eight bytes at a time: each word, then the 0–7 bytes left ([`tail`]), then
/// the length, is xored in and folded ([`fold`]). Byte at a time (FNV-1a), a 36-character name
/// took ~150 instructions.
pub(crate) fn hash(tag: Tag, bytes: &[u8]) -> u64 {
    let mut h = fold(seed(tag));
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        h = fold(h ^ u64::from_le_bytes(<[u8; 8]>::try_from(w).unwrap_or_default()));
    }
    h = fold(h ^ tail(words.remainder()));
    fold(h ^ u64::try_from(bytes.len()).unwrap_or(u64::MAX))
}

/// Where a name's hash starts: a constant with the tag in its low bits, so that a job and a
/// thing of the same name start apart.
const fn seed(tag: Tag) -> u64 {
    0x243f_6a88_85a3_08d0 ^ (tag as u64)
}

/// The last 0–7 bytes as one word, read as wyhash does: 4–7 bytes as two 4-byte reads that may
/// overlap, 1–3 as the first, middle and last byte. Ambiguous only between lengths, and the
/// length is hashed after.
fn tail(rest: &[u8]) -> u64 {
    let word = |b: &[u8; 4]| u64::from(u32::from_le_bytes(*b));
    match (rest.first_chunk::<4>(), rest.last_chunk::<4>()) {
        (Some(first), Some(last)) => (word(first) << 32) | word(last),
        (None, _) | (_, None) => {
            let byte = |b: Option<&u8>| u64::from(b.copied().unwrap_or(0));
            (byte(rest.first()) << 16) | (byte(rest.get(rest.len() / 2)) << 8) | byte(rest.last())
        }
    }
}

/// `x` times an odd constant as a 128-bit product, its halves xored: every bit of `x` reaches
/// both halves (the folded multiply of foldhash and wyhash).
fn fold(x: u64) -> u64 {
    let p = u128::from(x).wrapping_mul(0x5851_f42d_4c95_7f2d);
    // The low and high halves, each fits.
    u64::try_from(p & u128::from(u64::MAX)).unwrap_or(0) ^ u64::try_from(p >> 64).unwrap_or(0)
}

/// A (job, thing) pair's hash: the two indexes as one word, which [`Index`] mixes as it places
/// every hash. Hashing the eight bytes took ~70 instructions on every pair lookup.
pub(crate) const fn pair_hash(job: u32, thing: u32) -> u64 {
    ((job as u64) << 32) | thing as u64
}

/// The bucket of `h` in a table of `len` buckets, below `len` for any `h`: `h` times 2^64 / φ
/// (Fibonacci hashing: the product's high bits depend on every bit of `h`, so a pair's plain
/// indexes spread like the names' mixed hashes), then the product's place in
/// [0, 2^64) scaled to the table, `⌊m × len / 2^64⌋`.
fn home_of(h: u64, len: usize) -> usize {
    scale(h.wrapping_mul(FIBONACCI), len)
}

/// 2^64 / φ, odd.
const FIBONACCI: u64 = 0x9e37_79b9_7f4a_7c15;

/// `⌊m × len / 2^64⌋`: below `len` for any `m`.
fn scale(m: u64, len: usize) -> usize {
    let len = u128::try_from(len).unwrap_or(u128::MAX);
    // A product of two values below 2^64 does not wrap; the result is below `len`, so it fits.
    usize::try_from(u128::from(m).wrapping_mul(len) >> 64).unwrap_or(0)
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

    /// The bucket where a probe for `h` starts: `h`, mixed, scaled to the table ([`home_of`]:
    /// two multiplies where a remainder would be a division on every probe, in the dependency
    /// chain before the bucket's load).
    fn home(&self, h: u64) -> usize {
        home_of(h, self.buckets.len())
    }

    fn next(&self, i: usize) -> usize {
        match i.checked_add(1) {
            Some(n) if n < self.buckets.len() => n,
            Some(_) | None => 0,
        }
    }

    /// The first value under hash `h` that `is` accepts. `is` is asked only of the values whose
    /// fingerprint is `h`'s: one in 16 of the others.
    pub(crate) fn find(&self, h: u64, mut is: impl FnMut(u32) -> bool) -> Option<u32> {
        let fp = fingerprint(h);
        let mut i = self.home(h);
        for _ in 0..self.buckets.len() {
            match self.buckets.get(i) {
                Some(&NIL) | None => return None,
                Some(&v) if v & FINGERPRINT == fp && is(v & !FINGERPRINT) => return Some(v & !FINGERPRINT),
                Some(_) => i = self.next(i),
            }
        }
        None
    }

    /// Adds `value` under hash `h`; false when full, or for a value with bits where the
    /// fingerprint goes (a position past [`MAX_ENTRIES`]).
    pub(crate) fn insert(&mut self, h: u64, value: u32) -> bool {
        if self.room() == 0 || value & FINGERPRINT != 0 {
            return false;
        }
        let stored = value | fingerprint(h);
        let mut i = self.home(h);
        for _ in 0..self.buckets.len() {
            match self.buckets.get_mut(i) {
                Some(b) if *b == NIL => {
                    *b = stored;
                    self.used = self.used.saturating_add(1);
                    return true;
                }
                Some(_) => i = self.next(i),
                None => return false,
            }
        }
        false
    }

    /// The bucket holding `value` (with its fingerprint) under hash `h`.
    fn position(&self, h: u64, value: u32) -> Option<usize> {
        let stored = value | fingerprint(h);
        let mut i = self.home(h);
        for _ in 0..self.buckets.len() {
            match self.buckets.get(i) {
                Some(&NIL) | None => return None,
                Some(&v) if v == stored => return Some(i),
                Some(_) => i = self.next(i),
            }
        }
        None
    }

    /// Puts `new` in the place of `old` (stored under hash `h`; `new` has the same hash); false
    /// if `old` is not there.
    pub(crate) fn replace(&mut self, h: u64, old: u32, new: u32) -> bool {
        if new & FINGERPRINT != 0 {
            return false;
        }
        match self.position(h, old).and_then(|i| self.buckets.get_mut(i)) {
            Some(b) => {
                *b = new | fingerprint(h);
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
            let home = self.home(hash_of(v & !FINGERPRINT));
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

    /// The least `m` that [`scale`] puts in `bucket` of `len`.
    fn first_of(bucket: u64, len: u64) -> u64 {
        u64::try_from((u128::from(bucket) << 64).div_ceil(u128::from(len))).unwrap()
    }

    /// A hash whose home is `bucket` in a table of `len` buckets: the one that mixes to
    /// [`first_of`] it (the mix is a multiply by an odd number, so it has an inverse).
    fn placed(bucket: u64, len: u64) -> u64 {
        first_of(bucket, len).wrapping_mul(inverse())
    }

    /// The inverse of the mix's multiplier: Newton's iteration doubles the correct low bits
    /// each step, 3, 6, ..., 96 ≥ 64.
    fn inverse() -> u64 {
        let mut inverse = FIBONACCI;
        for _ in 0..5 {
            inverse = inverse.wrapping_mul(2u64.wrapping_sub(FIBONACCI.wrapping_mul(inverse)));
        }
        assert_eq!(FIBONACCI.wrapping_mul(inverse), 1);
        inverse
    }

    /// Degenerate hashes force long probe chains that wrap around the end of the table: homes
    /// 6, 7 and 0 of 8.
    fn weak(v: u32) -> u64 {
        placed((u64::from(v % 3) + 6) % 8, 8)
    }

    #[test]
    fn a_mixed_hash_is_placed_by_its_share_of_the_range() {
        for len in 1..=9u64 {
            let n = usize::try_from(len).unwrap();
            for bucket in 0..len {
                let m = first_of(bucket, len);
                assert_eq!(scale(m, n), usize::try_from(bucket).unwrap(), "{m:#x} in {len}");
                // The value just below belongs to the bucket before.
                if let Some(below) = m.checked_sub(1) {
                    assert_eq!(scale(below, n), usize::try_from(bucket - 1).unwrap());
                }
                assert_eq!(home_of(placed(bucket, len), n), usize::try_from(bucket).unwrap());
            }
            assert_eq!(scale(u64::MAX, n), n - 1);
        }
        assert_eq!(scale(u64::MAX, 0), 0);
    }

    /// Neighbouring pairs, as a registry makes them (jobs and things numbered from 0), spread
    /// like random values: 4,096 pairs in 8,192 buckets take ~3,220 distinct homes at random
    /// (8,192 × (1 − e^−½)); a hash of the job or the thing alone would take 64.
    #[test]
    #[cfg_attr(miri, ignore = "4,096 hashes, arithmetic only: a minute under Miri")]
    fn neighbouring_pairs_spread_over_the_table() {
        let mut homes = HashSet::new();
        for job in 0..64 {
            for thing in 0..64 {
                homes.insert(home_of(pair_hash(job, thing), 8192));
            }
        }
        assert!(homes.len() > 3_100, "{} distinct homes", homes.len());
    }

    /// Every byte of a name counts, at every length and position (the whole words and each
    /// shape of the tail), and names that are prefixes of one another differ.
    #[test]
    fn every_byte_of_a_name_changes_its_hash() {
        let name = *b"abcdefghijklmnopqrstuvwx";
        let mut seen = HashSet::new();
        for len in 0..=name.len() {
            let base = &name[..len];
            assert!(seen.insert(hash(Tag::Job, base)), "prefix of {len}");
            for at in 0..len {
                let mut other = name;
                other[at] = b'_';
                assert_ne!(hash(Tag::Job, &other[..len]), hash(Tag::Job, base), "byte {at} of {len}");
            }
        }
    }

    /// A tail of one to three bytes is read as its first, middle and last byte, so `a` and
    /// `aaa`, or `ab` and `abb`, read alike: their lengths tell them apart.
    #[test]
    fn names_that_read_alike_differ_by_length() {
        for (short, long) in [(&b"a"[..], &b"aaa"[..]), (b"ab", b"abb"), (b"x", b"xxx"), (b"xy", b"xyy")] {
            assert_eq!(tail(short), tail(long));
            assert_ne!(hash(Tag::Thing, short), hash(Tag::Thing, long));
        }
    }

    /// Names that differ in their last characters only spread the same way (their last bytes
    /// reach the hash through the tail word and the final folds).
    #[test]
    #[cfg_attr(miri, ignore = "4,096 hashes, arithmetic only: a minute under Miri")]
    fn similar_names_spread_over_the_table() {
        let homes: HashSet<usize> = (0..4096)
            .map(|i| home_of(hash(Tag::Thing, std::format!("device-{i:05}").as_bytes()), 8192))
            .collect();
        assert!(homes.len() > 3_100, "{} distinct homes", homes.len());
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
            let h = move |v: u32| placed((u64::from(v).wrapping_mul(7) % modulus + 3) % 6, 6);
            for _ in 0..(if cfg!(miri) { 1 } else { 40 }) {
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

    /// 40 values in one probe run (every hash's home is bucket 0): a find asks `is` about the
    /// values of its own fingerprint only, about 1 in 16 of those it passes, where it would
    /// otherwise ask about every one (820 times in all).
    #[test]
    fn a_probe_asks_only_about_values_of_its_fingerprint() {
        let mut ix: Index<heapless::Vec<u32, 64>> = Index::new(heapless::Vec::new());
        // Hashes that mix to `v << 8`, below the first bucket's end: home 0.
        let h = |v: u32| (u64::from(v) << 8).wrapping_mul(inverse());
        for v in 0..40 {
            assert_eq!(home_of(h(v), 64), 0);
            assert!(ix.insert(h(v), v));
        }
        let fingerprints: HashSet<u32> = (0..40).map(|v| fingerprint(h(v))).collect();
        assert!(fingerprints.len() >= 12, "{} distinct fingerprints", fingerprints.len());
        let mut asked = 0;
        for v in 0..40 {
            let found = ix.find(h(v), |x| {
                asked += 1;
                x == v
            });
            assert_eq!(found, Some(v));
        }
        assert!(asked < 200, "asked {asked} times");
    }

    /// A value with bits where the fingerprint goes (a position past `MAX_ENTRIES`) is refused,
    /// and nothing changes.
    #[test]
    fn a_value_that_overlaps_the_fingerprint_is_refused() {
        let mut ix: Index<heapless::Vec<u32, 8>> = Index::new(heapless::Vec::new());
        let past = MAX_ENTRIES as u32 + 1;
        assert!(!ix.insert(weak(1), past));
        assert_eq!(ix.values(), 0);
        assert!(ix.insert(weak(1), 1));
        assert!(!ix.replace(weak(1), 1, past));
        assert_eq!(ix.find(weak(1), |x| x == 1), Some(1));
    }

    #[test]
    fn tags_round_trip() {
        assert_eq!(untag(tagged(Tag::Pair, 12345)), (2, 12345));
        assert_eq!(untag(tagged(Tag::Job, MAX_ENTRIES as u32)), (0, MAX_ENTRIES as u32));
        assert_ne!(hash(Tag::Job, b"a"), hash(Tag::Thing, b"a"));
    }
}
