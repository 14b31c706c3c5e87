//! UUID-shaped ids that differ across processes: the `x-amzn-RequestId` of each answer and the
//! `eventId` of each event. AWS's are random version 4 UUIDs; these are version 4 in form and
//! hold a number drawn once per sequence and process beside a count, so ids of a restart, of
//! another emulator beside this one, or of a pytest-xdist worker never repeat another's.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Ids that share a number drawn at first use and count up from 1 (or take the count given).
pub struct Sequence {
    process: OnceLock<u64>,
    next: AtomicU64,
}

impl Sequence {
    pub const fn new() -> Self {
        Self { process: OnceLock::new(), next: AtomicU64::new(1) }
    }

    /// The next id of the sequence.
    pub fn next(&self) -> String {
        self.nth(self.next.fetch_add(1, Ordering::Relaxed))
    }

    /// The id of count `n` (a count kept elsewhere, as a request's).
    pub fn nth(&self, n: u64) -> String {
        uuid(*self.process.get_or_init(random), n)
    }
}

/// A number from the operating system's randomness, new at each call.
fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // std seeds each RandomState from the operating system's randomness.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.finish()
}

/// A UUID, version 4 and variant 1 in form, holding the 64 bits of `process` and the 56 low bits
/// of `n`.
fn uuid(process: u64, n: u64) -> String {
    let p = process;
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        p >> 32,
        (p >> 16) & 0xffff,
        p & 0xfff,
        0x8000 | ((p >> 4) & 0x0f00) | ((n >> 48) & 0xff),
        n & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Every bit of the process number and the low 56 of the count are in the id, in a UUID's
    /// form (version 4, variant 1).
    #[test]
    fn an_id_holds_the_process_number_and_the_count() {
        assert_eq!(uuid(0, 0), "00000000-0000-4000-8000-000000000000");
        assert_eq!(uuid(u64::MAX, 0), "ffffffff-ffff-4fff-8f00-000000000000");
        assert_eq!(uuid(0x0123_4567_89ab_cdef, 1), "01234567-89ab-4def-8c00-000000000001");
        assert_eq!(uuid(0, (0xab << 48) | 0x1234_5678_9abc), "00000000-0000-4000-80ab-123456789abc");
        // Bits 12–15 of the process number go beside the variant.
        assert_eq!(uuid(0xf000, 0), "00000000-0000-4000-8f00-000000000000");
    }

    /// Two sequences draw their own numbers (as two processes do): their ids differ from the
    /// first; one sequence counts up from 1.
    #[test]
    fn sequences_draw_their_own_numbers() {
        let (a, b) = (Sequence::new(), Sequence::new());
        let (a1, b1) = (a.next(), b.next());
        assert_ne!(a1, b1);
        assert!(a1.ends_with("-000000000001") && b1.ends_with("-000000000001"), "{a1} {b1}");
        assert_eq!(a.next(), a.nth(2));
        assert_eq!(a.nth(2)[..23], a1[..23]);
    }
}
