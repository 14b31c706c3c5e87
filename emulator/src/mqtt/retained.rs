//! The broker's retained messages, by topic, and the look-up a SUBSCRIBE makes in them: the
//! topics under the filter's literal levels (a range of the ordered map), not every topic. With
//! 10,000 retained topics a look at every one took ≈ 0.3 ms per filter under the broker's lock,
//! and a client subscribing back to back slowed every other client's publishes 24-fold
//! (BENCHMARKS §7).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::time::Instant;

use super::codec::Message;
use super::filter;

/// Most retained messages; beyond it a new retained topic is routed but not retained.
pub const MAX_RETAINED: usize = 10_000;

/// The retained message of each topic that has one.
#[derive(Default)]
pub(super) struct Retained {
    by_topic: BTreeMap<String, Message>,
    /// The topics whose retained message has an MQTT 5 Message Expiry Interval, by when it runs
    /// out: exactly those of `by_topic`, so that an expired message is removed (its place in
    /// [`MAX_RETAINED`] and its bytes in the budget given back) without a look at every topic.
    expiring: BTreeSet<(Instant, String)>,
}

impl Retained {
    /// Keeps `message` (`copy` makes the copy kept) as its topic's retained message, or clears
    /// the topic's when the payload is empty (MQTT-3.3.1-10, -11). A new topic past
    /// [`MAX_RETAINED`] is not kept.
    ///
    /// The messages that have expired are removed first (MQTT-3.3.2-5).
    pub fn set(&mut self, message: &Message, copy: impl FnOnce() -> Message) {
        self.remove_expired(Instant::now());
        if message.payload.is_empty() {
            self.remove(&message.topic);
        } else if self.by_topic.len() < MAX_RETAINED || self.by_topic.contains_key(&message.topic) {
            let copy = copy();
            let expires = copy.expires;
            if let Some(old) = self.by_topic.insert(message.topic.clone(), copy) {
                self.forget_expiry(&old);
            }
            if let Some(at) = expires {
                self.expiring.insert((at, message.topic.clone()));
            }
        } else {
            tracing::warn!(topic = message.topic, "too many retained messages: not retained");
        }
    }

    /// Removes the retained messages whose expiry interval ran out by `now`.
    pub fn remove_expired(&mut self, now: Instant) {
        while let Some((at, _)) = self.expiring.first()
            && *at <= now
        {
            if let Some((_, topic)) = self.expiring.pop_first() {
                self.by_topic.remove(&topic);
            }
        }
    }

    fn remove(&mut self, topic: &str) {
        if let Some(old) = self.by_topic.remove(topic) {
            self.forget_expiry(&old);
        }
    }

    /// Takes the expiry of `old`, a message no longer kept, out of `expiring`.
    fn forget_expiry(&mut self, old: &Message) {
        if let Some(at) = old.expires {
            self.expiring.remove(&(at, old.topic.clone()));
        }
    }

    pub fn len(&self) -> usize {
        self.by_topic.len()
    }

    #[cfg(test)]
    pub(super) fn get(&self, topic: &str) -> Option<&Message> {
        self.by_topic.get(topic)
    }

    /// The retained messages whose topics match `filter` (a valid topic filter, not shared), in
    /// topic order. Every topic that matches starts with the filter's levels before its first
    /// wildcard, so only that range of the map is looked at: one entry for a filter without a
    /// wildcard, the whole map only for a filter that starts with one.
    pub fn matching<'a>(&'a self, filter: &'a str) -> impl Iterator<Item = &'a Message> + 'a {
        let (stem, exact) = match filter.find(['+', '#']) {
            None => (filter, true),
            // `a/b/+` → `a/b`.
            Some(at) => {
                let (before, _) = filter.split_at(at);
                (before.strip_suffix('/').unwrap_or(before), false)
            }
        };
        self.by_topic
            .range::<str, _>((Bound::Included(stem), Bound::Unbounded))
            .take_while(move |(topic, _)| if exact { *topic == stem } else { topic.starts_with(stem) })
            .map(|(_, m)| m)
            .filter(move |m| filter::matches(&m.topic, filter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mqtt::filter::strategies::{filter, topic};
    use proptest::prelude::*;

    fn kept(topics: &[&str]) -> Retained {
        let mut retained = Retained::default();
        for t in topics {
            let m = Message { retain: true, ..Message::new(*t, "m", 0) };
            retained.set(&m, || m.clone());
        }
        retained
    }

    fn topics<'a>(retained: &'a Retained, filter: &'a str) -> Vec<&'a str> {
        retained.matching(filter).map(|m| &*m.topic).collect()
    }

    #[test]
    fn the_range_of_a_filters_literal_levels() {
        let retained = kept(&["a", "a/b", "a/b/c", "a/bc", "ab", "ab/b", "a!", "$aws/a", "/a", "b/a"]);
        assert_eq!(topics(&retained, "a"), ["a"]);
        assert_eq!(topics(&retained, "a/b"), ["a/b"]);
        // `#` does not match its parent level (AWS IoT Core).
        assert_eq!(topics(&retained, "a/#"), ["a/b", "a/b/c", "a/bc"]);
        assert_eq!(topics(&retained, "a/+"), ["a/b", "a/bc"]);
        assert_eq!(topics(&retained, "a/b/#"), ["a/b/c"]);
        assert_eq!(topics(&retained, "+/b"), ["a/b", "ab/b"]);
        // Not `$aws/a` (MQTT-4.7.2-1).
        assert_eq!(topics(&retained, "+/a"), ["/a", "b/a"]);
        assert_eq!(topics(&retained, "$aws/+"), ["$aws/a"]);
        assert_eq!(topics(&retained, "#").len(), 9);
        assert_eq!(topics(&retained, "/+"), ["/a"]);
        assert!(topics(&retained, "c/#").is_empty());
    }

    /// An expired message is removed from the store, and only it: its topic's place is free for
    /// another, and the index of expiries holds exactly the kept messages that expire.
    #[test]
    fn expired_messages_are_removed() {
        let now = Instant::now();
        let at = |secs: u64| Some(now + std::time::Duration::from_secs(secs));
        let mut retained = Retained::default();
        fn set(retained: &mut Retained, topic: &str, payload: &'static str, expires: Option<Instant>) {
            let m = Message { retain: true, expires, ..Message::new(topic, payload, 0) };
            retained.set(&m, || m.clone());
        }
        set(&mut retained, "a", "m", at(10));
        set(&mut retained, "b", "m", at(20));
        set(&mut retained, "c", "m", None);
        set(&mut retained, "d", "m", at(10));
        // Replaced by one that does not expire, by one that expires later, and cleared.
        set(&mut retained, "a", "again", None);
        set(&mut retained, "b", "again", at(30));
        set(&mut retained, "d", "", None);
        // The same message again keeps its expiry.
        set(&mut retained, "e", "m", at(10));
        set(&mut retained, "e", "m", at(10));
        assert_eq!(retained.expiring.iter().map(|(_, t)| &t[..]).collect::<Vec<_>>(), ["e", "b"]);
        retained.remove_expired(now + std::time::Duration::from_secs(10));
        assert_eq!(topics(&retained, "#"), ["a", "b", "c"]);
        retained.remove_expired(now + std::time::Duration::from_secs(29));
        assert_eq!(topics(&retained, "#"), ["a", "b", "c"]);
        retained.remove_expired(now + std::time::Duration::from_secs(30));
        assert_eq!(topics(&retained, "#"), ["a", "c"]);
        assert!(retained.expiring.is_empty());
        // A full store takes a new topic once one of its messages has expired.
        let mut full = kept(&[]);
        for i in 0..MAX_RETAINED {
            set(&mut full, &format!("f/{i}"), "m", if i == 7 { Some(now) } else { None });
        }
        set(&mut full, "f/new", "m", None);
        assert!(full.get("f/new").is_some() && full.get("f/7").is_none());
        assert_eq!(full.len(), MAX_RETAINED);
    }

    proptest! {
        /// The range finds exactly what a look at every retained topic finds, in topic order.
        #[test]
        fn the_range_finds_what_a_scan_finds(
            stored in prop::collection::btree_set(topic(), 0..40),
            filters in prop::collection::vec(filter(), 1..20),
        ) {
            let stored: Vec<&str> = stored.iter().map(String::as_str).collect();
            let retained = kept(&stored);
            for f in filters {
                let want: Vec<&str> = stored.iter().copied().filter(|t| filter::matches(t, &f)).collect();
                prop_assert_eq!(topics(&retained, &f), want, "{}", f);
            }
        }
    }
}
