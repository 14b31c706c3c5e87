//! The broker's budget for the messages it holds. Every copy of a message kept for a session (in
//! an offline session's queue, on its way to a connection, waiting for a client's
//! acknowledgement, in the retained store) is charged its own size: the message itself, its
//! topic and its properties, which each copy has. Its payload, which the copies of one publish
//! share, is charged once, and given back when the last copy lets go of it. So the sum is the
//! memory the messages take (a shared MQTT 5 correlation data is still counted per copy: it is
//! small), and a large message routed to many sessions counts once, not once per session.
//!
//! The broker takes no publish from a client that one more copy would carry past the budget
//! (MQTT 5: PUBACK 0x97, quota exceeded; otherwise the connection is closed), and keeps no copy
//! for an offline session past it; what it already holds stays until it is delivered or its
//! session ends.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// The bytes held and the most that may be.
#[derive(Debug)]
pub struct Budget {
    held: AtomicUsize,
    limit: usize,
    /// Copies not kept for offline sessions because the budget was spent.
    dropped: AtomicU64,
    /// Copies dropped from offline sessions' queues past their
    /// [`MAX_QUEUED`](super::broker::MAX_QUEUED) messages (counted here beside `dropped`, so
    /// that the stats show every copy the broker let go of).
    overflowed: AtomicU64,
}

impl Budget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Budget {
            held: AtomicUsize::new(0),
            limit,
            dropped: AtomicU64::new(0),
            overflowed: AtomicU64::new(0),
        })
    }

    /// Charges `bytes` to the budget, over it or not: the charge is given back when it drops.
    pub fn charge(self: &Arc<Self>, bytes: usize) -> Charge {
        self.held.fetch_add(bytes, Ordering::Relaxed);
        Charge(Some((Arc::clone(self), bytes)))
    }

    /// `payload`, charged once to the budget however many messages share it: the charge is
    /// given back when the last of them lets go of it.
    pub fn charged_payload(self: &Arc<Self>, payload: &Bytes) -> Bytes {
        struct Held {
            payload: Bytes,
            _charge: Charge,
        }
        impl AsRef<[u8]> for Held {
            fn as_ref(&self) -> &[u8] {
                &self.payload
            }
        }
        if payload.is_empty() {
            return Bytes::new();
        }
        Bytes::from_owner(Held { payload: payload.clone(), _charge: self.charge(payload.len()) })
    }

    /// The bytes charged now.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }

    /// The most bytes the broker keeps.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Whether the charges have passed the limit.
    pub fn over(&self) -> bool {
        self.held() > self.limit
    }

    /// Counts a copy not kept because the budget was spent.
    pub fn drop_one(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// How many copies were not kept because the budget was spent.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Counts `n` copies dropped from a full offline queue.
    pub fn overflow(&self, n: usize) {
        self.overflowed.fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// How many copies were dropped from full offline queues.
    pub fn overflowed(&self) -> u64 {
        self.overflowed.load(Ordering::Relaxed)
    }

    /// Whether `bytes` more would stay within the limit.
    pub fn room(&self, bytes: usize) -> bool {
        self.held().saturating_add(bytes) <= self.limit
    }
}

/// One message copy's share of a [`Budget`] (none for a message not held by a broker): charged
/// again by `clone`, since a clone is another copy, and given back on drop.
#[derive(Default)]
pub struct Charge(Option<(Arc<Budget>, usize)>);

impl Clone for Charge {
    fn clone(&self) -> Self {
        match &self.0 {
            Some((budget, bytes)) => budget.charge(*bytes),
            None => Charge(None),
        }
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        if let Some((budget, bytes)) = &self.0 {
            budget.held.fetch_sub(*bytes, Ordering::Relaxed);
        }
    }
}

/// A message is its content: two copies are equal whatever they are charged.
impl PartialEq for Charge {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Charge {}

impl fmt::Debug for Charge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some((_, bytes)) => write!(f, "Charge({bytes})"),
            None => f.write_str("Charge(none)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clone_is_charged_again_and_every_copy_gives_its_share_back() {
        let budget = Budget::new(100);
        let a = budget.charge(60);
        assert_eq!(budget.held(), 60);
        assert!(!budget.over());
        assert!(budget.room(40));
        assert!(!budget.room(41));
        let b = a.clone();
        assert_eq!(budget.held(), 120);
        assert!(budget.over());
        assert_eq!(budget.limit(), 100);
        // Copies are equal whatever they are charged.
        assert_eq!(a, Charge::default());
        assert_eq!(format!("{a:?} {:?}", Charge::default()), "Charge(60) Charge(none)");
        drop(a);
        assert_eq!(budget.held(), 60);
        drop(b);
        assert_eq!(budget.held(), 0);
        let none = Charge::default();
        let _also_none = none.clone();
        assert_eq!(budget.held(), 0);
    }

    #[test]
    fn a_payload_is_charged_once_until_its_last_copy_goes() {
        let budget = Budget::new(100);
        let original = Bytes::from_static(b"0123456789");
        let a = budget.charged_payload(&original);
        assert_eq!((&a[..], budget.held()), (&b"0123456789"[..], 10));
        let b = a.clone();
        let c = b.slice(2..4);
        drop(original);
        assert_eq!((&c[..], budget.held()), (&b"23"[..], 10));
        drop(a);
        drop(b);
        assert_eq!(budget.held(), 10);
        drop(c);
        assert_eq!(budget.held(), 0);
        assert!(budget.charged_payload(&Bytes::new()).is_empty());
        assert_eq!(budget.held(), 0);
    }
}
