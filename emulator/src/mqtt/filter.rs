//! Topic names and topic filters (MQTT 3.1.1 §4.7, MQTT 5 §4.7).

/// Whether `topic` may be published to: not empty, no wildcard, no NUL.
pub fn valid_topic(topic: &str) -> bool {
    !topic.is_empty() && !topic.contains(['+', '#', '\0'])
}

/// Whether `filter` may be subscribed to: not empty, no NUL, `+` only as a whole level, `#` only
/// as the whole last level.
pub fn valid_filter(filter: &str) -> bool {
    if filter.is_empty() || filter.contains('\0') {
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
/// (MQTT-4.8.2-2).
pub fn valid_subscription(filter: &str) -> bool {
    match shared(filter) {
        Some((group, f)) => !group.is_empty() && !group.contains(['+', '#']) && valid_filter(f),
        None => filter != "$share" && !filter.starts_with("$share/") && valid_filter(filter),
    }
}

/// Whether `topic` matches the topic filter of subscription `filter` (shared or not).
pub fn subscription_matches(topic: &str, filter: &str) -> bool {
    matches(topic, shared(filter).map_or(filter, |(_, f)| f))
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
            ("#", _) => return true,
            ("+", Some(_)) => {}
            (f, Some(level)) if f == level => {}
            _ => return false,
        }
    }
    t.next().is_none()
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
            ("a", "a/#", true),
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
}
