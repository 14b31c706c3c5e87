//! Topic names and topic filters (MQTT 3.1.1 §4.7, MQTT 5 §4.7), within AWS IoT Core's limits.

/// Most bytes of a topic name or filter a client may use (AWS IoT Core; SPEC `lim-topic`).
pub const MAX_TOPIC_BYTES: usize = 256;
/// Most slashes in a topic name or filter a client may use (AWS IoT Core; SPEC `lim-topic`).
pub const MAX_TOPIC_SLASHES: usize = 7;

/// Whether `topic` (a name or a filter) is within AWS IoT Core's limits: at most
/// [`MAX_TOPIC_BYTES`] bytes and [`MAX_TOPIC_SLASHES`] slashes, the Basic Ingest prefix
/// `$aws/rules/{rule}/` not counted. The longest Jobs topic,
/// `$aws/things/{128}/jobs/{64}/update/accepted`, is 226 bytes with 6 slashes (its namespace
/// form can pass 256 bytes with the longest names, on AWS too).
pub fn within_limits(topic: &str) -> bool {
    let counted = topic.strip_prefix("$aws/rules/").and_then(|r| r.split_once('/')).map_or(topic, |(_, r)| r);
    counted.len() <= MAX_TOPIC_BYTES && counted.matches('/').count() <= MAX_TOPIC_SLASHES
}

/// Whether `topic` may be published to: not empty, no wildcard, no NUL, within the limits.
pub fn valid_topic(topic: &str) -> bool {
    !topic.is_empty() && !topic.contains(['+', '#', '\0']) && within_limits(topic)
}

/// Whether `filter` may be subscribed to: not empty, no NUL, `+` only as a whole level, `#` only
/// as the whole last level, within the limits.
pub fn valid_filter(filter: &str) -> bool {
    if filter.is_empty() || filter.contains('\0') || !within_limits(filter) {
        return false;
    }
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        let last = levels.peek().is_none();
        let ok = match level {
            "+" => true,
            "#" => last,
            l => !l.contains(['+', '#']),
        };
        if !ok {
            return false;
        }
    }
    true
}

/// The share name and the topic filter of a shared subscription `$share/{ShareName}/{filter}`
/// (MQTT 5 §4.8.2; also taken from MQTT 3.1.1 clients, as AWS IoT Core does), or `None` for a
/// filter that is not shared.
pub fn shared(filter: &str) -> Option<(&str, &str)> {
    filter.strip_prefix("$share/")?.split_once('/')
}

/// Whether `filter` may be subscribed to: a valid filter, or a shared subscription whose share
/// name is not empty and has no wildcard (MQTT-4.8.2-1) and whose filter is valid
/// (MQTT-4.8.2-2; the limits apply to that filter, not to the `$share/{group}/` before it).
pub fn valid_subscription(filter: &str) -> bool {
    match shared(filter) {
        Some((group, f)) => !group.is_empty() && !group.contains(['+', '#']) && valid_filter(f),
        None => filter != "$share" && !filter.starts_with("$share/") && valid_filter(filter),
    }
}

/// The topic filter of subscription `subscription`: itself, or for a shared one the filter
/// after `$share/{group}/`.
pub fn topic_filter(subscription: &str) -> &str {
    shared(subscription).map_or(subscription, |(_, f)| f)
}

/// Whether `topic` matches the topic filter of subscription `filter` (shared or not).
pub fn subscription_matches(topic: &str, filter: &str) -> bool {
    matches(topic, topic_filter(filter))
}

/// Whether `topic` matches `filter` (both valid).
///
/// MQTT-4.7.2-1: a filter whose first level is a wildcard does not match a topic whose first
/// level starts with `$` (`#` and `+/…` do not see `$aws/…`; `$aws/things/+/jobs/#` does).
pub fn matches(topic: &str, filter: &str) -> bool {
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut t = topic.split('/');
    for f in filter.split('/') {
        match (f, t.next()) {
            // AWS IoT Core: `#` matches its level and every one below, not its parent
            // (`sensor/#` matches `sensor/` and `sensor/x`, not `sensor`; MQTT-4.7.1-2 would).
            ("#", level) => return level.is_some(),
            ("+", Some(_)) => {}
            (f, Some(level)) if f == level => {}
            _ => return false,
        }
    }
    t.next().is_none()
}

/// Topics, filters and subscriptions for property tests, from a small alphabet so that they meet
/// often (`a` and `ab` share a prefix; `$x` starts a `$` topic).
#[cfg(test)]
pub(super) mod strategies {
    use proptest::prelude::*;

    fn level() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("a".to_owned()),
            Just("ab".to_owned()),
            Just("b".to_owned()),
            Just(String::new()),
            Just("$x".to_owned())
        ]
    }

    pub fn topic() -> impl Strategy<Value = String> {
        prop::collection::vec(level(), 1..5)
            .prop_map(|l| l.join("/"))
            .prop_filter("a topic", |t| super::valid_topic(t))
    }

    /// A topic filter, not shared.
    pub fn filter() -> impl Strategy<Value = String> {
        let level = prop_oneof![3 => level(), 1 => Just("+".to_owned())];
        (prop::collection::vec(level, 1..5), any::<bool>())
            .prop_map(|(mut levels, hash)| {
                if hash && let Some(last) = levels.last_mut() {
                    "#".clone_into(last);
                }
                levels.join("/")
            })
            .prop_filter("a filter", |f| super::valid_filter(f))
    }

    /// A subscription: a topic filter, shared or not.
    pub fn subscription() -> impl Strategy<Value = String> {
        (filter(), prop::option::of(0..2_u8))
            .prop_map(|(f, share)| share.map_or(f.clone(), |g| format!("$share/g{g}/{f}")))
            .prop_filter("a subscription", |f| super::valid_subscription(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_follow_the_spec_and_the_dollar_rule() {
        let cases = [
            ("a/b/c", "a/b/c", true),
            ("a/b/c", "a/+/c", true),
            ("a/b/c", "a/#", true),
            ("a", "a/#", false),
            ("a/", "a/#", true),
            ("a", "#", true),
            ("a/b", "a/+", true),
            ("a/b/c", "a/+", false),
            ("a", "a/+", false),
            ("a/b", "a/b/c", false),
            ("a//c", "a/+/c", true),
            ("$aws/things/t/jobs/notify", "#", false),
            ("$aws/things/t/jobs/notify", "+/things/t/jobs/notify", false),
            ("$aws/things/t/jobs/notify", "$aws/things/+/jobs/#", true),
            ("$aws/things/t/jobs/notify", "$aws/#", true),
            ("$aws/events/job/j/completed", "$aws/events/job/+/+", true),
            ("x/$aws", "+/+", true),
        ];
        for (topic, filter, want) in cases {
            assert!(valid_filter(filter), "{filter}");
            assert_eq!(matches(topic, filter), want, "{topic} ~ {filter}");
        }
    }

    #[test]
    fn shared_subscriptions_are_parsed_and_checked() {
        assert_eq!(shared("$share/g/a/+"), Some(("g", "a/+")));
        assert_eq!(shared("$share/g/$aws/things/+/jobs/#"), Some(("g", "$aws/things/+/jobs/#")));
        assert_eq!(shared("a/b"), None);
        for ok in ["$share/g/a", "$share/g/#", "$share/g/+/x", "$share/g-1/$aws/#"] {
            assert!(valid_subscription(ok), "{ok}");
        }
        for bad in
            ["$share/g", "$share//a", "$share/g+/a", "$share/#/a", "$share/g/a/#/b", "$share", "$share/"]
        {
            assert!(!valid_subscription(bad), "{bad}");
        }
        // The `$` rule applies to the shared filter as to any other.
        assert!(!subscription_matches("$aws/things/t/jobs/notify", "$share/g/#"));
        assert!(subscription_matches("$aws/things/t/jobs/notify", "$share/g/$aws/things/+/jobs/#"));
        assert!(subscription_matches("a/b", "$share/g/a/+"));
        assert!(subscription_matches("a/b", "a/+"));
    }

    #[test]
    fn bad_filters_and_topics_are_refused() {
        for f in ["", "a/#/b", "a#", "a/b+", "++", "a\0"] {
            assert!(!valid_filter(f), "{f:?}");
        }
        for t in ["", "a/+", "a/#", "a\0b"] {
            assert!(!valid_topic(t), "{t:?}");
        }
        assert!(valid_topic("$aws/things/t/jobs/get"));
    }

    #[test]
    fn topics_and_filters_are_held_to_aws_limits() {
        let longest_jobs = format!("$aws/things/{}/jobs/{}/update/accepted", "t".repeat(128), "j".repeat(64));
        assert_eq!((longest_jobs.len(), longest_jobs.matches('/').count()), (226, 6));
        let bytes = |n: usize| format!("a/{}", "b".repeat(n - 2));
        let slashes = |n: usize| vec!["l"; n + 1].join("/");
        for ok in [longest_jobs.clone(), bytes(256), slashes(7)] {
            assert!(valid_topic(&ok) && valid_filter(&ok) && valid_subscription(&ok), "{ok}");
        }
        for over in [bytes(257), slashes(8), format!("{}/+", "a/".repeat(7))] {
            assert!(!valid_topic(&over) && !valid_filter(&over) && !valid_subscription(&over), "{over}");
        }
        // Multi-byte characters count as their UTF-8 bytes.
        assert!(valid_topic(&"é".repeat(128)) && !valid_topic(&format!("{}x", "é".repeat(128))));
        // The Basic Ingest prefix is not counted; a shared subscription's prefix neither.
        let ingest = format!("$aws/rules/r/{}", slashes(7));
        assert!(valid_topic(&ingest) && !valid_topic(&format!("{ingest}/x")));
        assert!(valid_topic(&format!("$aws/rules/{}/{}", "r".repeat(128), bytes(256))));
        assert!(!valid_topic(&format!("$aws/rules/r/{}", bytes(257))));
        assert!(!valid_topic(&format!("$aws/rulesx/{}", slashes(6))), "not the ingest prefix");
        assert!(valid_subscription(&format!("$share/g/{}", slashes(7))));
        assert!(!valid_subscription(&format!("$share/g/{}", slashes(8))));
        assert!(valid_subscription(&format!("$share/{}/{}", "g".repeat(64), bytes(256))));
    }
}
