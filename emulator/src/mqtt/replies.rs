//! The answers to jobs requests: what the request hook ([`Requests`](super::Requests)) hands
//! the broker or the bridge, and those an injected delay (`"delayMs"`) holds back.
//!
//! Held answers go out in the order of their requests: each at its own time, or with the answer
//! before it if that one is later. An answer with no delay waits behind one held back, so a
//! connection (a bridge worker: the things it serves) gets its answers in the order it sent its
//! requests, as without a delay. Nothing else waits: the connection goes on reading, routing and
//! acknowledging meanwhile.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use super::codec::Message;

/// Most answers held back at once for one connection (or one bridge worker): with that many,
/// the next request is not read until the first goes out.
pub const MAX_LATE: usize = 1_000;

/// The answers to one jobs request, and how long they wait before they go out.
#[derive(Debug, Default)]
pub struct Replies {
    /// The messages for the client that asked (none: no answer).
    pub messages: Vec<Message>,
    /// An injected delay (zero without one).
    pub delay: Duration,
}

impl From<Vec<Message>> for Replies {
    fn from(messages: Vec<Message>) -> Self {
        Replies { messages, delay: Duration::ZERO }
    }
}

/// Answers held back, in the order of their requests, each with the time it goes out (never
/// earlier than the one before it).
#[derive(Debug, Default)]
pub struct Late(VecDeque<(Instant, Vec<Message>)>);

impl Late {
    /// The messages of `replies` to send now: all of them when they have no delay and nothing
    /// is held back; none otherwise, and they are held until their delay has passed and the
    /// answers before them have gone out.
    pub fn hold(&mut self, replies: Replies) -> Vec<Message> {
        if replies.messages.is_empty() || (replies.delay.is_zero() && self.0.is_empty()) {
            return replies.messages;
        }
        let now = Instant::now();
        let due = now.checked_add(replies.delay).unwrap_or(now);
        let due = self.0.back().map_or(due, |(before, _)| due.max(*before));
        self.0.push_back((due, replies.messages));
        Vec::new()
    }

    /// When the first answer held goes out.
    pub fn due(&self) -> Option<Instant> {
        self.0.front().map(|(due, _)| *due)
    }

    /// Whether [`MAX_LATE`] answers are held: no more requests are taken.
    pub fn full(&self) -> bool {
        self.0.len() >= MAX_LATE
    }

    /// The messages whose time has come by `now`, in order.
    pub fn take_due(&mut self, now: Instant) -> Vec<Message> {
        let mut out = Vec::new();
        while self.due().is_some_and(|due| due <= now) {
            if let Some((_, mut messages)) = self.0.pop_front() {
                out.append(&mut messages);
            }
        }
        out
    }
}

/// Resolves at `due`; never without one.
pub async fn until(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replies(topic: &str, delay_ms: u64) -> Replies {
        Replies {
            messages: vec![Message::new(topic, b"{}".to_vec(), 0)],
            delay: Duration::from_millis(delay_ms),
        }
    }

    fn topics(messages: &[Message]) -> Vec<&str> {
        messages.iter().map(|m| m.topic.as_str()).collect()
    }

    /// An answer with no delay goes at once while nothing is held; a held answer goes at its
    /// time, and those after it (held or not) never before it.
    #[tokio::test(start_paused = true)]
    async fn held_answers_go_out_at_their_time_in_the_order_of_their_requests() {
        let mut late = Late::default();
        assert_eq!(topics(&late.hold(replies("now", 0))), ["now"]);
        assert_eq!(late.due(), None);
        let t0 = Instant::now();
        assert!(late.hold(replies("slow", 500)).is_empty());
        assert!(late.hold(replies("quick", 100)).is_empty(), "it waits behind the slow one");
        assert!(late.hold(replies("next", 0)).is_empty());
        assert!(late.hold(Replies::default()).is_empty(), "no answer holds nothing");
        assert_eq!(late.due(), Some(t0 + Duration::from_millis(500)));
        assert!(late.take_due(t0 + Duration::from_millis(499)).is_empty());
        let all = late.take_due(t0 + Duration::from_millis(500));
        assert_eq!(topics(&all), ["slow", "quick", "next"]);
        assert_eq!(late.due(), None);
        // One held later than the one before it goes at its own time.
        assert!(late.hold(replies("a", 100)).is_empty());
        assert!(late.hold(replies("b", 300)).is_empty());
        assert_eq!(topics(&late.take_due(t0 + Duration::from_millis(100))), ["a"]);
        assert_eq!(late.due(), Some(t0 + Duration::from_millis(300)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_queue_says_so() {
        let mut late = Late::default();
        for _ in 0..MAX_LATE {
            assert!(!late.full());
            late.hold(replies("t", 1));
        }
        assert!(late.full());
        assert_eq!(late.take_due(Instant::now() + Duration::from_millis(1)).len(), MAX_LATE);
        assert!(!late.full());
    }
}
