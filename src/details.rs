//! Stored statusDetails maps (SPEC R14): one encoding for every place that keeps a map after the
//! request that carried it is gone (the registry's executions, the device agent's next report).
//!
//! A request carries a map as the borrowed, validated [`StatusDetails`] view; keeping it means
//! encoding it into a [`DetailsStore`]. Two stores exist:
//!
//! - [`DetailsBuf<B>`]: `B` bytes inline, for devices and fixed storage. The default `B`,
//!   [`MAX_ENCODED_LEN`], holds every map AWS accepts, the worst case included (10 pairs of a
//!   128-byte key and a value of 1,024 UTF-16 units, each unit 3 bytes of UTF-8). A device that
//!   chooses a smaller `B` gets [`DetailsError::TooLarge`] for a map that does not fit, never a
//!   truncated map.
//! - `Vec<u8>` (feature `alloc`): exactly as many bytes as the map needs, for hosts that keep
//!   many executions.
//!
//! The encoding is `[key length: u8][value length: u16 LE][key][value]` per pair, in the map's
//! order.

use crate::id::StatusDetails;

/// Bytes a stored pair needs beyond its key and value: the key's length (1) and the value's (2).
pub const PAIR_OVERHEAD: usize = 3;

/// The longest value in UTF-8 bytes: 1,024 UTF-16 units, each at most 3 bytes (a character
/// outside the BMP is 2 units and 4 bytes) (SPEC R14).
pub const MAX_VALUE_BYTES: usize = StatusDetails::MAX_VALUE_LEN * 3;

/// The largest map AWS accepts, encoded: 10 × (3 + 128 + 3,072) = 32,030 bytes (SPEC R14).
pub const MAX_ENCODED_LEN: usize =
    StatusDetails::MAX_PAIRS * (PAIR_OVERHEAD + StatusDetails::MAX_KEY_LEN + MAX_VALUE_BYTES);

/// The encoded size of `details`, in bytes.
#[must_use]
pub fn encoded_len(details: &StatusDetails<'_>) -> usize {
    details.pairs().iter().fold(0_usize, |n, (k, v)| {
        n.saturating_add(PAIR_OVERHEAD).saturating_add(k.len()).saturating_add(v.len())
    })
}

/// Why a map could not be stored. The store is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DetailsError {
    /// The map needs `len` bytes and the store holds at most `capacity`: choose a larger store,
    /// or send fewer or shorter pairs.
    TooLarge {
        /// Bytes the encoded map needs.
        len: usize,
        /// Bytes the store holds.
        capacity: usize,
    },
    /// The host's allocator refused the bytes (heap stores only).
    OutOfMemory {
        /// Bytes the encoded map needs.
        len: usize,
    },
}

impl core::fmt::Display for DetailsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::TooLarge { len, capacity } => {
                write!(f, "statusDetails needs {len} bytes of storage; this store holds {capacity}")
            }
            Self::OutOfMemory { len } => write!(f, "no memory for {len} bytes of statusDetails"),
        }
    }
}

impl core::error::Error for DetailsError {}

/// Somewhere an encoded statusDetails map is kept.
pub trait DetailsStore {
    /// Replaces the stored map with `details`. On an error the store is unchanged.
    fn store(&mut self, details: &StatusDetails<'_>) -> Result<(), DetailsError>;

    /// Appends one pair to the stored map, for readers that receive a map pair by pair (a
    /// snapshot). The caller checks the whole map afterwards (see [`StatusDetails::new`]). On
    /// an error the store is unchanged.
    fn push_pair(&mut self, key: &str, value: &str) -> Result<(), DetailsError>;

    /// The encoded map.
    fn encoded(&self) -> &[u8];

    /// The stored pairs, in order.
    fn pairs(&self) -> Pairs<'_> {
        Pairs(self.encoded())
    }

    /// True when the stored map has no pairs.
    fn is_empty(&self) -> bool {
        self.encoded().is_empty()
    }
}

/// Writes the encoding of `details` through `put`, which appends bytes. `len` is
/// [`encoded_len`], checked by the caller against its room first.
fn encode(details: &StatusDetails<'_>, mut put: impl FnMut(&[u8])) {
    for (k, v) in details.pairs() {
        // SPEC R14: keys are at most 128 bytes, values at most 3,072 (validated by StatusDetails),
        // so both lengths fit their fields.
        if let Some(head) = pair_head(k, v) {
            put(&head);
            put(k.as_bytes());
            put(v.as_bytes());
        }
    }
}

/// The length bytes of one pair, or `None` when a length does not fit its field.
fn pair_head(key: &str, value: &str) -> Option<[u8; PAIR_OVERHEAD]> {
    let kl = u8::try_from(key.len()).ok()?;
    let [v0, v1] = u16::try_from(value.len()).ok()?.to_le_bytes();
    Some([kl, v0, v1])
}

/// The encoded size after one more pair to `stored` bytes, and the pair's length bytes; a
/// pair whose lengths do not fit the encoding (never a valid one) needs more than any store.
fn pushed(stored: usize, key: &str, value: &str) -> (usize, Option<[u8; PAIR_OVERHEAD]>) {
    let len = stored.saturating_add(PAIR_OVERHEAD).saturating_add(key.len()).saturating_add(value.len());
    pair_head(key, value).map_or((usize::MAX, None), |head| (len, Some(head)))
}

/// A statusDetails map stored inline in at most `B` bytes (see the [module](self) docs).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DetailsBuf<const B: usize = MAX_ENCODED_LEN>(heapless::Vec<u8, B>);

impl<const B: usize> DetailsBuf<B> {
    /// An empty map.
    #[must_use]
    pub const fn new() -> Self {
        Self(heapless::Vec::new())
    }

    /// `details`, stored.
    pub fn from_details(details: &StatusDetails<'_>) -> Result<Self, DetailsError> {
        let mut buf = Self::new();
        buf.store(details)?;
        Ok(buf)
    }
}

impl<const B: usize> DetailsStore for DetailsBuf<B> {
    fn store(&mut self, details: &StatusDetails<'_>) -> Result<(), DetailsError> {
        let len = encoded_len(details);
        if len > B {
            return Err(DetailsError::TooLarge { len, capacity: B });
        }
        self.0.clear();
        // Cannot fail: `len` bytes fit.
        encode(details, |bytes| {
            let _ = self.0.extend_from_slice(bytes);
        });
        Ok(())
    }

    fn push_pair(&mut self, key: &str, value: &str) -> Result<(), DetailsError> {
        let (len, head) = pushed(self.0.len(), key, value);
        let Some(head) = head.filter(|_| len <= B) else {
            return Err(DetailsError::TooLarge { len, capacity: B });
        };
        // Cannot fail: `len` bytes fit.
        let _ = self.0.extend_from_slice(&head);
        let _ = self.0.extend_from_slice(key.as_bytes());
        let _ = self.0.extend_from_slice(value.as_bytes());
        Ok(())
    }

    fn encoded(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(feature = "alloc")]
impl DetailsStore for alloc::vec::Vec<u8> {
    fn store(&mut self, details: &StatusDetails<'_>) -> Result<(), DetailsError> {
        let len = encoded_len(details);
        let mut out = alloc::vec::Vec::new();
        out.try_reserve_exact(len).map_err(|_| DetailsError::OutOfMemory { len })?;
        encode(details, |bytes| out.extend_from_slice(bytes));
        *self = out;
        Ok(())
    }

    fn push_pair(&mut self, key: &str, value: &str) -> Result<(), DetailsError> {
        let (len, head) = pushed(self.len(), key, value);
        let Some(head) = head else { return Err(DetailsError::TooLarge { len, capacity: MAX_ENCODED_LEN }) };
        let more = len.saturating_sub(self.len());
        self.try_reserve_exact(more).map_err(|_| DetailsError::OutOfMemory { len })?;
        self.extend_from_slice(&head);
        self.extend_from_slice(key.as_bytes());
        self.extend_from_slice(value.as_bytes());
        Ok(())
    }

    fn encoded(&self) -> &[u8] {
        self
    }
}

/// The pairs of a stored map, in order.
#[derive(Debug, Clone)]
pub struct Pairs<'a>(&'a [u8]);

impl<'a> Pairs<'a> {
    /// The pairs of `encoded`, an encoding a [`DetailsStore`] produced.
    #[must_use]
    pub const fn new(encoded: &'a [u8]) -> Self {
        Self(encoded)
    }
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let (&[kl, v0, v1], rest) = self.0.split_first_chunk::<3>()?;
        let (k, rest) = rest.split_at_checked(usize::from(kl))?;
        let (v, rest) = rest.split_at_checked(usize::from(u16::from_le_bytes([v0, v1])))?;
        self.0 = rest;
        Some((core::str::from_utf8(k).ok()?, core::str::from_utf8(v).ok()?))
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::String;
    use std::vec::Vec;

    use super::*;

    /// The worst case AWS accepts: 10 distinct 128-byte keys, each value 1,024 UTF-16 units of
    /// 3-byte characters.
    fn worst() -> (Vec<String>, String) {
        let keys = (0..10).map(|i| std::format!("{i:0>128}")).collect();
        (keys, "€".repeat(StatusDetails::MAX_VALUE_LEN))
    }

    #[test]
    fn the_worst_case_aws_accepts_is_stored_whole() {
        let (keys, value) = worst();
        let pairs: Vec<(&str, &str)> = keys.iter().map(|k| (k.as_str(), value.as_str())).collect();
        let details = StatusDetails::new(&pairs).unwrap();
        assert_eq!(encoded_len(&details), MAX_ENCODED_LEN);
        assert_eq!(MAX_ENCODED_LEN, 32_030);
        let buf = std::boxed::Box::new(DetailsBuf::<MAX_ENCODED_LEN>::from_details(&details).unwrap());
        assert_eq!(buf.pairs().collect::<Vec<_>>(), pairs);
        assert_eq!(buf.encoded().len(), MAX_ENCODED_LEN);
    }

    #[test]
    fn astral_characters_take_fewer_bytes_than_the_bound() {
        // 512 characters outside the BMP are 1,024 UTF-16 units and 2,048 bytes.
        let value = "𝄞".repeat(512);
        let pairs = [("k", value.as_str())];
        let details = StatusDetails::new(&pairs).unwrap();
        assert_eq!(encoded_len(&details), 3 + 1 + 2048);
        assert!(encoded_len(&details) < PAIR_OVERHEAD + 1 + MAX_VALUE_BYTES);
    }

    #[test]
    fn a_small_store_refuses_what_does_not_fit_and_keeps_its_map() {
        let mut buf = DetailsBuf::<16>::from_details(&StatusDetails::new(&[("a", "b")]).unwrap()).unwrap();
        let big = [("key", "01234567890")];
        let e = buf.store(&StatusDetails::new(&big).unwrap()).unwrap_err();
        assert_eq!(e, DetailsError::TooLarge { len: 16 + 1, capacity: 16 });
        assert_eq!(buf.pairs().collect::<Vec<_>>(), [("a", "b")]);
        // Exactly full fits.
        let exact = [("key", "0123456789")];
        buf.store(&StatusDetails::new(&exact).unwrap()).unwrap();
        assert_eq!(buf.encoded().len(), 16);
        assert_eq!(buf.pairs().collect::<Vec<_>>(), exact);
    }

    #[test]
    fn storing_replaces_and_the_empty_map_is_empty() {
        let mut buf = DetailsBuf::<64>::new();
        assert!(buf.is_empty());
        buf.store(&StatusDetails::new(&[("a", "1"), ("b", "2")]).unwrap()).unwrap();
        assert_eq!(buf.pairs().collect::<Vec<_>>(), [("a", "1"), ("b", "2")]);
        buf.store(&StatusDetails::EMPTY).unwrap();
        assert!(buf.is_empty());
        assert_eq!(buf.pairs().next(), None);
    }

    #[test]
    fn pushing_appends_pairs_until_the_store_is_full() {
        let mut buf = DetailsBuf::<16>::new();
        buf.push_pair("a", "1").unwrap();
        buf.push_pair("b", "22").unwrap();
        assert_eq!(buf.pairs().collect::<Vec<_>>(), [("a", "1"), ("b", "22")]);
        assert_eq!(buf.push_pair("c", "333"), Err(DetailsError::TooLarge { len: 18, capacity: 16 }));
        buf.push_pair("c", "").unwrap();
        assert_eq!(buf.encoded().len(), 15);
        assert_eq!(buf.push_pair("d", ""), Err(DetailsError::TooLarge { len: 19, capacity: 16 }));
        assert_eq!(buf.pairs().collect::<Vec<_>>(), [("a", "1"), ("b", "22"), ("c", "")]);
        let long = "k".repeat(256);
        assert_eq!(
            DetailsBuf::<16>::new().push_pair(&long, ""),
            Err(DetailsError::TooLarge { len: usize::MAX, capacity: 16 })
        );
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn a_heap_store_grows_by_push() {
        let mut heap: Vec<u8> = Vec::new();
        heap.push_pair("a", "1").unwrap();
        heap.push_pair("b", "€").unwrap();
        assert_eq!(DetailsStore::pairs(&heap).collect::<Vec<_>>(), [("a", "1"), ("b", "€")]);
        assert_eq!(heap.len(), 5 + 7);
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn a_heap_store_holds_the_worst_case_in_exactly_its_size() {
        let (keys, value) = worst();
        let pairs: Vec<(&str, &str)> = keys.iter().map(|k| (k.as_str(), value.as_str())).collect();
        let mut heap: Vec<u8> = Vec::new();
        heap.store(&StatusDetails::new(&pairs).unwrap()).unwrap();
        assert_eq!(heap.capacity(), MAX_ENCODED_LEN);
        assert_eq!(DetailsStore::pairs(&heap).collect::<Vec<_>>(), pairs);
    }

    #[test]
    fn errors_say_what_to_do() {
        let e = DetailsError::TooLarge { len: 2000, capacity: 1024 };
        assert_eq!(std::format!("{e}"), "statusDetails needs 2000 bytes of storage; this store holds 1024");
        let e = DetailsError::OutOfMemory { len: 9 };
        assert_eq!(std::format!("{e}"), "no memory for 9 bytes of statusDetails");
    }
}
