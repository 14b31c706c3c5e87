//! What waits in a connection's queue: the messages the broker routed to it that its task has
//! not taken yet. A change of the lifecycle can route many at once (a job for 1,000 things
//! notifies a gateway subscribed to `$aws/things/+/jobs/notify-next` 1,000 times under one
//! lock), so the queue is bounded by what a client that reads could still take, in messages and
//! in bytes, not by a burst's length: only a client that falls further behind is cut.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Most messages waiting for one connection before it is closed as too slow: ten CreateJobs for
/// 1,000 things each, to a gateway subscribed to `notify` and `notify-next` of every thing.
pub const MAX_WAITING_MESSAGES: usize = 20_000;
/// Most bytes of messages (each counted as [`Message::size`](super::Message::size)) waiting for
/// one connection before it is closed as too slow. What they take in memory is several times
/// this for small messages (each has its own allocations): BENCHMARKS §7 measures it.
pub const MAX_WAITING_BYTES: usize = 32 * 1024 * 1024;

/// A connection's queue's count, shared by the broker (which adds) and the connection (which
/// takes away as it takes messages).
#[derive(Debug)]
pub struct Waiting {
    messages: AtomicUsize,
    bytes: AtomicUsize,
    max_messages: usize,
    max_bytes: usize,
}

impl Waiting {
    /// A queue that takes at most `max_messages` messages and `max_bytes` bytes.
    pub const fn new(max_messages: usize, max_bytes: usize) -> Self {
        Waiting { messages: AtomicUsize::new(0), bytes: AtomicUsize::new(0), max_messages, max_bytes }
    }

    /// Counts a message of `size` bytes in, if the queue has room for it (the broker routes
    /// under its lock, so two admissions never race past the limits).
    pub fn admit(&self, size: usize) -> bool {
        let messages = self.messages.load(Ordering::Relaxed);
        let bytes = self.bytes.load(Ordering::Relaxed);
        if messages >= self.max_messages || bytes.saturating_add(size) > self.max_bytes {
            return false;
        }
        self.messages.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(size, Ordering::Relaxed);
        true
    }

    /// Counts a message of `size` bytes out.
    pub fn release(&self, size: usize) {
        let _ =
            self.messages.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| Some(n.saturating_sub(1)));
        let _ =
            self.bytes.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| Some(n.saturating_sub(size)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_takes_messages_up_to_either_limit_and_room_comes_back_as_they_are_taken() {
        let w = Waiting::new(3, 100);
        assert!(w.admit(40) && w.admit(40));
        assert!(!w.admit(21), "past the bytes");
        assert!(w.admit(20));
        assert!(!w.admit(0), "past the messages");
        w.release(40);
        assert!(w.admit(40));
        for size in [40, 20, 40] {
            w.release(size);
        }
        assert!(w.admit(100));
        w.release(100);
        w.release(100);
        assert!(w.admit(100), "counts never go below zero");
    }
}
