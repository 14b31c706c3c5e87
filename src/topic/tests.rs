extern crate std;

use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, vec};

use proptest::prelude::*;

use super::*;
use crate::id::{Field, Violation};

fn thing(s: &str) -> ThingNameRef<'_> {
    ThingNameRef::new(s).unwrap()
}
fn job(s: &str) -> JobIdRef<'_> {
    JobIdRef::new(s).unwrap()
}
fn ns(s: &str) -> NamespaceIdRef<'_> {
    NamespaceIdRef::new(s).unwrap()
}

/// Every way to write `topic` agrees with `expected`, and `expected` parses back to `topic`.
fn check_both_ways(topic: Topic<'_>, expected: &str) {
    assert_eq!(topic.to_string(), expected);
    assert_eq!(topic.encoded_len(), expected.len());
    let mut buf = [0; MAX_TOPIC_LEN];
    assert_eq!(topic.write_to(&mut buf), Ok(expected));
    assert_eq!(topic.to_heapless::<MAX_TOPIC_LEN>().unwrap().as_str(), expected);
    assert_eq!(Topic::parse(expected), Ok(topic), "{expected}");
}

#[test]
fn golden_strings_for_every_kind() {
    let (t, j, n) = (thing("dev:1"), job("job_1"), ns("ns-1"));
    let (acc, rej) = (Some(Reply::Accepted), Some(Reply::Rejected));
    let next = JobSelector::Next;
    let cases = [
        (Topic::GetPending { thing: t, reply: None }, "$aws/things/dev:1/jobs/get"),
        (Topic::GetPending { thing: t, reply: acc }, "$aws/things/dev:1/jobs/get/accepted"),
        (Topic::GetPending { thing: t, reply: rej }, "$aws/things/dev:1/jobs/get/rejected"),
        (Topic::StartNext { thing: t, reply: None }, "$aws/things/dev:1/jobs/start-next"),
        (Topic::StartNext { thing: t, reply: acc }, "$aws/things/dev:1/jobs/start-next/accepted"),
        (Topic::StartNext { thing: t, reply: rej }, "$aws/things/dev:1/jobs/start-next/rejected"),
        (
            Topic::Describe { thing: t, job: j.into(), namespace: None, reply: None },
            "$aws/things/dev:1/jobs/job_1/get",
        ),
        (
            Topic::Describe { thing: t, job: j.into(), namespace: None, reply: acc },
            "$aws/things/dev:1/jobs/job_1/get/accepted",
        ),
        (
            Topic::Describe { thing: t, job: next, namespace: None, reply: rej },
            "$aws/things/dev:1/jobs/$next/get/rejected",
        ),
        (
            Topic::Update { thing: t, job: j, namespace: None, reply: None },
            "$aws/things/dev:1/jobs/job_1/update",
        ),
        (
            Topic::Update { thing: t, job: j, namespace: None, reply: acc },
            "$aws/things/dev:1/jobs/job_1/update/accepted",
        ),
        (
            Topic::Update { thing: t, job: j, namespace: None, reply: rej },
            "$aws/things/dev:1/jobs/job_1/update/rejected",
        ),
        (Topic::Notify { thing: t, namespace: None }, "$aws/things/dev:1/jobs/notify"),
        (Topic::NotifyNext { thing: t, namespace: None }, "$aws/things/dev:1/jobs/notify-next"),
        // SPEC 7.3, R8.
        (Topic::Notify { thing: t, namespace: Some(n) }, "$aws/things/dev:1/jobs/notify-namespace-ns-1"),
        (
            Topic::NotifyNext { thing: t, namespace: Some(n) },
            "$aws/things/dev:1/jobs/notify-next-namespace-ns-1",
        ),
        (
            Topic::Describe { thing: t, job: next, namespace: Some(n), reply: None },
            "$aws/things/dev:1/jobs/$next/namespace-ns-1/get",
        ),
        (
            Topic::Describe { thing: t, job: j.into(), namespace: Some(n), reply: acc },
            "$aws/things/dev:1/jobs/job_1/namespace-ns-1/get/accepted",
        ),
        (
            Topic::Update { thing: t, job: j, namespace: Some(n), reply: None },
            "$aws/things/dev:1/jobs/job_1/namespace-ns-1/update",
        ),
        (
            Topic::Update { thing: t, job: j, namespace: Some(n), reply: rej },
            "$aws/things/dev:1/jobs/job_1/namespace-ns-1/update/rejected",
        ),
        (
            Topic::DocumentedNotify { thing: t, job: j, namespace: n },
            "$aws/things/dev:1/jobs/job_1/notify-namespace-ns-1/",
        ),
        // Job ids that spell operation names stay job ids.
        (
            Topic::Describe { thing: t, job: job("get").into(), namespace: None, reply: acc },
            "$aws/things/dev:1/jobs/get/get/accepted",
        ),
        (
            Topic::Update { thing: t, job: job("start-next"), namespace: None, reply: None },
            "$aws/things/dev:1/jobs/start-next/update",
        ),
        (
            Topic::Describe { thing: t, job: job("get").into(), namespace: Some(ns("x")), reply: None },
            "$aws/things/dev:1/jobs/get/namespace-x/get",
        ),
        (
            Topic::Notify { thing: t, namespace: Some(ns("next-namespace-x")) },
            "$aws/things/dev:1/jobs/notify-namespace-next-namespace-x",
        ),
    ];
    for (topic, expected) in cases {
        check_both_ways(topic, expected);
    }
    for event in JobEvent::ALL {
        check_both_ways(
            Topic::JobEvent { job: j, event },
            &format!("$aws/events/job/job_1/{}", event.as_str()),
        );
    }
    for event in ExecutionEvent::ALL {
        let expected = format!("$aws/events/jobExecution/job_1/{}", event.as_str());
        check_both_ways(Topic::ExecutionEvent { job: j, event }, &expected);
    }
    let events: Vec<_> = JobEvent::ALL.iter().map(|e| e.as_str()).collect();
    assert_eq!(
        events,
        ["completed", "canceled", "deleted", "cancellation_in_progress", "deletion_in_progress"]
    );
    let events: Vec<_> = ExecutionEvent::ALL.iter().map(|e| e.as_str()).collect();
    assert_eq!(events, ["succeeded", "failed", "rejected", "canceled", "timed_out", "removed", "deleted"]);
}

/// One valid topic of every kind, built from the given names.
fn every_kind<'a>(t: &'a str, j: &'a str, n: &'a str) -> Vec<Topic<'a>> {
    let (t, j, n) = (thing(t), job(j), ns(n));
    let mut all = vec![];
    for reply in [None, Some(Reply::Accepted), Some(Reply::Rejected)] {
        all.push(Topic::GetPending { thing: t, reply });
        all.push(Topic::StartNext { thing: t, reply });
        for namespace in [None, Some(n)] {
            all.push(Topic::Update { thing: t, job: j, namespace, reply });
            for job in [JobSelector::Next, j.into()] {
                all.push(Topic::Describe { thing: t, job, namespace, reply });
            }
        }
    }
    for namespace in [None, Some(n)] {
        all.push(Topic::Notify { thing: t, namespace });
        all.push(Topic::NotifyNext { thing: t, namespace });
    }
    all.push(Topic::DocumentedNotify { thing: t, job: j, namespace: n });
    all.extend(JobEvent::ALL.map(|event| Topic::JobEvent { job: j, event }));
    all.extend(ExecutionEvent::ALL.map(|event| Topic::ExecutionEvent { job: j, event }));
    all
}

#[test]
fn the_device_parser_reads_the_plain_topics_and_refuses_the_rest() {
    let all = every_kind("pump-7", "firmware-2", "greengrass");
    let plain_count = all.iter().filter(|t| plain(t)).count();
    assert_eq!((all.len(), plain_count), (41, 17));
    for topic in all {
        let s = topic.to_string();
        let event = matches!(topic, Topic::JobEvent { .. } | Topic::ExecutionEvent { .. });
        let expected = if event {
            Err(TopicError::NotJobsTopic)
        } else if plain(&topic) {
            Ok(topic)
        } else {
            // The part after `…/jobs/` starts at byte 24.
            Err(TopicError::UnknownSuffix { at: 24 })
        };
        assert_eq!(Topic::parse_device(&s), expected, "{s}");
    }
    // `parse` names the unsupported namespace form; to the device parser it is a suffix it does
    // not read.
    let get_in_ns = "$aws/things/pump-7/jobs/get/namespace-greengrass";
    assert_eq!(Topic::parse(get_in_ns), Err(TopicError::UnsupportedNamespaceForm { at: 28 }));
    assert_eq!(Topic::parse_device(get_in_ns), Err(TopicError::UnknownSuffix { at: 24 }));
    // Outside the namespace and event forms, the errors are `parse`'s.
    for bad in
        ["$aws/things/pump-7/jobs/$next/update", "$aws/things/pump 7/jobs/get", "$aws/things/pump-7/shadow"]
    {
        assert_eq!(Topic::parse_device(bad), Topic::parse(bad), "{bad}");
        assert!(Topic::parse(bad).is_err());
    }
}

#[test]
fn names_at_their_maximum_length() {
    let (t, j, n) = ("T".repeat(128), "J".repeat(64), "N".repeat(64));
    check_both_ways(
        Topic::Update { thing: thing(&t), job: job(&j), namespace: None, reply: Some(Reply::Accepted) },
        &format!("$aws/things/{t}/jobs/{j}/update/accepted"),
    );
    check_both_ways(
        Topic::Describe {
            thing: thing(&t),
            job: job(&j).into(),
            namespace: Some(ns(&n)),
            reply: Some(Reply::Rejected),
        },
        &format!("$aws/things/{t}/jobs/{j}/namespace-{n}/get/rejected"),
    );
    check_both_ways(
        Topic::NotifyNext { thing: thing(&t), namespace: Some(ns(&n)) },
        &format!("$aws/things/{t}/jobs/notify-next-namespace-{n}"),
    );
    check_both_ways(
        Topic::DocumentedNotify { thing: thing(&t), job: job(&j), namespace: ns(&n) },
        &format!("$aws/things/{t}/jobs/{j}/notify-namespace-{n}/"),
    );
    check_both_ways(
        Topic::JobEvent { job: job(&j), event: JobEvent::CancellationInProgress },
        &format!("$aws/events/job/{j}/cancellation_in_progress"),
    );
    for topic in every_kind(&t, &j, &n) {
        check_both_ways(topic, &topic.to_string());
    }
}

#[test]
fn max_topic_len_is_the_longest_topic() {
    let (t, j, n) = ("T".repeat(128), "J".repeat(64), "N".repeat(64));
    let longest = every_kind(&t, &j, &n).into_iter().map(|topic| topic.encoded_len()).max();
    assert_eq!(longest, Some(MAX_TOPIC_LEN));
    // SPEC §6: 237 + len(ns).
    assert_eq!(MAX_TOPIC_LEN, 237 + 64);
    let topic = Topic::Update {
        thing: thing(&t),
        job: job(&j),
        namespace: Some(ns(&n)),
        reply: Some(Reply::Accepted),
    };
    assert_eq!(topic.to_string(), format!("$aws/things/{t}/jobs/{j}/namespace-{n}/update/accepted"));
    assert_eq!(topic.encoded_len(), MAX_TOPIC_LEN);
}

#[test]
fn one_byte_short_is_an_error_not_a_truncation() {
    let (t, j, n) = ("T".repeat(128), "J".repeat(64), "N".repeat(64));
    for topic in every_kind(&t, &j, &n) {
        let len = topic.encoded_len();
        assert!(len <= MAX_TOPIC_LEN);
        let mut buf = [b'#'; MAX_TOPIC_LEN + 1];
        let short = topic.write_to(&mut buf[..len - 1]);
        assert_eq!(short, Err(TopicError::BufferTooSmall { needed: len, available: len - 1 }));
        assert!(buf.iter().all(|&b| b == b'#'), "nothing is written");
        assert_eq!(topic.write_to(&mut buf[..len]).map(str::len), Ok(len));
        assert_eq!(topic.write_to(&mut []), Err(TopicError::BufferTooSmall { needed: len, available: 0 }));
        // A larger buffer is written only at its start.
        assert_eq!(topic.write_to(&mut buf).map(str::len), Ok(len));
        assert_eq!(buf[len], b'#');
    }
    let longest = Topic::Update {
        thing: thing(&t),
        job: job(&j),
        namespace: Some(ns(&n)),
        reply: Some(Reply::Rejected),
    };
    assert!(longest.to_heapless::<MAX_TOPIC_LEN>().is_ok());
    assert_eq!(
        longest.to_heapless::<{ MAX_TOPIC_LEN - 1 }>(),
        Err(TopicError::BufferTooSmall { needed: MAX_TOPIC_LEN, available: MAX_TOPIC_LEN - 1 })
    );
}

#[test]
fn broker_limits() {
    assert_eq!((BROKER_MAX_TOPIC_LEN, BROKER_MAX_SLASHES), (256, 7));
    let (t, j) = ("T".repeat(128), "J".repeat(64));
    // SPEC §6: without a namespace the worst case is 226 bytes and 6 slashes.
    let plain = every_kind(&t, &j, "n");
    let plain = plain.iter().filter(|topic| !topic.to_string().contains("namespace"));
    assert_eq!(plain.clone().map(Topic::encoded_len).max(), Some(226));
    assert!(plain.clone().all(Topic::is_within_broker_limits));
    // 237 + len(ns): fits up to a 19-byte namespace.
    let fits = "N".repeat(19);
    assert!(every_kind(&t, &j, &fits).iter().all(Topic::is_within_broker_limits));
    let over = "N".repeat(20);
    let update = Topic::Update {
        thing: thing(&t),
        job: job(&j),
        namespace: Some(ns(&over)),
        reply: Some(Reply::Accepted),
    };
    assert_eq!(update.encoded_len(), 257);
    assert!(!update.is_within_broker_limits());
    assert_eq!(update.to_string().matches('/').count(), 7);
}

#[test]
fn malformed_topics_are_rejected_with_the_reason() {
    use TopicError::{InvalidField, NextNotAllowed, NotJobsTopic, UnknownSuffix, UnsupportedNamespaceForm};
    let field = |at, field, violation| InvalidField { at, error: FieldError { field, violation } };
    let bad_char = |at, f, position| field(at, f, Violation::InvalidCharacter { position });
    let long_thing = format!("$aws/things/{}/jobs/get", "T".repeat(129));
    let long_job = format!("$aws/things/T/jobs/{}/update", "J".repeat(65));
    let long_ns = format!("$aws/things/T/jobs/notify-namespace-{}", "N".repeat(65));
    let long_event = format!("$aws/events/job/{}/deleted", "J".repeat(65));
    let cases: &[(&str, TopicError)] = &[
        // Wrong prefix.
        ("", NotJobsTopic),
        ("$aws/things/T/shadow/update", NotJobsTopic),
        ("$aws/things/T/jobs", NotJobsTopic),
        ("$aws/things/T", NotJobsTopic),
        ("$aws/thing/T/jobs/get", NotJobsTopic),
        ("aws/things/T/jobs/get", NotJobsTopic),
        ("/$aws/things/T/jobs/get", NotJobsTopic),
        ("$AWS/things/T/jobs/get", NotJobsTopic),
        ("$aws/things/T/Jobs/get", NotJobsTopic),
        ("$aws/events/jobs/J/completed", NotJobsTopic),
        ("$aws/events/thing/T/created", NotJobsTopic),
        // Empty segments.
        ("$aws/things//jobs/get", field(12, Field::ThingName, Violation::Empty)),
        ("$aws/things/T/jobs/", UnknownSuffix { at: 19 }),
        ("$aws/things/T/jobs//get", field(19, Field::JobId, Violation::Empty)),
        ("$aws/things/T/jobs//update/accepted", field(19, Field::JobId, Violation::Empty)),
        ("$aws/things/T/jobs/J//get", UnknownSuffix { at: 19 }),
        ("$aws/things/T/jobs/get//accepted", UnknownSuffix { at: 19 }),
        ("$aws/things/T/jobs/notify-namespace-", field(36, Field::NamespaceId, Violation::Empty)),
        ("$aws/things/T/jobs/J/namespace-/get", field(31, Field::NamespaceId, Violation::Empty)),
        ("$aws/events/job//completed", field(16, Field::JobId, Violation::Empty)),
        ("$aws/events/jobExecution/J/", UnknownSuffix { at: 27 }),
        // Missing or extra segments.
        ("$aws/events/job/J", UnknownSuffix { at: 17 }),
        ("$aws/things/T/jobs/J", UnknownSuffix { at: 19 }),
        ("$aws/things/T/jobs/get/accepted/x", UnknownSuffix { at: 19 }),
        ("$aws/things/T/jobs/get/accepted/accepted", UnknownSuffix { at: 19 }),
        ("$aws/things/T/jobs/notify/x", UnknownSuffix { at: 19 }),
        ("$aws/things/T/jobs/J/update/accepted/rejected", UnknownSuffix { at: 19 }),
        ("$aws/things/T/jobs/J/namespace-N/get/accepted/x", UnknownSuffix { at: 19 }),
        ("$aws/events/job/J/completed/x", UnknownSuffix { at: 18 }),
        // Trailing slashes.
        ("$aws/things/T/jobs/get/", UnknownSuffix { at: 19 }),
        ("$aws/things/T/jobs/notify/", UnknownSuffix { at: 19 }),
        ("$aws/things/T/jobs/notify-next-namespace-N/", UnknownSuffix { at: 19 }),
        ("$aws/things/T/jobs/J/update/accepted/", UnknownSuffix { at: 19 }),
        ("$aws/things/T/jobs/J/notify-namespace-N//", UnknownSuffix { at: 19 }),
        ("$aws/events/jobExecution/J/failed/", UnknownSuffix { at: 27 }),
        // The documented form needs its trailing slash, and has no replies.
        ("$aws/things/T/jobs/J/notify-namespace-N", UnknownSuffix { at: 19 }),
        ("$aws/things/T/jobs/J/notify-namespace-N/accepted", UnknownSuffix { at: 19 }),
        // Unknown operations and events.
        ("$aws/things/T/jobs/J/delete", UnknownSuffix { at: 19 }),
        ("$aws/things/T/jobs/notify/accepted", UnknownSuffix { at: 19 }),
        ("$aws/things/T/jobs/notify-next/rejected", UnknownSuffix { at: 19 }),
        ("$aws/things/T/jobs/J/get/Accepted", UnknownSuffix { at: 19 }),
        ("$aws/things/T/jobs/J/ns-N/get", UnknownSuffix { at: 19 }),
        ("$aws/things/T/jobs/J/namespace-N/start-next", UnknownSuffix { at: 19 }),
        ("$aws/things/T/jobs/#", UnknownSuffix { at: 19 }),
        ("$aws/events/job/J/succeeded", UnknownSuffix { at: 18 }),
        ("$aws/events/jobExecution/J/completed", UnknownSuffix { at: 27 }),
        ("$aws/events/jobExecution/J/TIMED_OUT", UnknownSuffix { at: 27 }),
        // Characters outside the patterns (SPEC §5, R17).
        ("$aws/things/a b/jobs/get", bad_char(12, Field::ThingName, 1)),
        ("$aws/things/+/jobs/get", bad_char(12, Field::ThingName, 0)),
        ("$aws/things/t\u{e9}/jobs/notify", bad_char(12, Field::ThingName, 1)),
        ("$aws/things/$next/jobs/get", bad_char(12, Field::ThingName, 0)),
        ("$aws/things/T/jobs/j:1/update", bad_char(19, Field::JobId, 1)),
        ("$aws/things/T/jobs/j.1/get", bad_char(19, Field::JobId, 1)),
        ("$aws/things/T/jobs/notify-namespace-a:b", bad_char(36, Field::NamespaceId, 1)),
        ("$aws/things/T/jobs/notify-next-namespace-$next", bad_char(41, Field::NamespaceId, 0)),
        ("$aws/things/T/jobs/J/namespace-n.s/update", bad_char(31, Field::NamespaceId, 1)),
        ("$aws/things/T/jobs/J/notify-namespace-n s/", bad_char(38, Field::NamespaceId, 1)),
        ("$aws/events/jobExecution/+/removed", bad_char(25, Field::JobId, 0)),
        // Too long (SPEC §5).
        (&long_thing, field(12, Field::ThingName, Violation::TooLong { max: 128, len: 129 })),
        (&long_job, field(19, Field::JobId, Violation::TooLong { max: 64, len: 65 })),
        (&long_ns, field(36, Field::NamespaceId, Violation::TooLong { max: 64, len: 65 })),
        (&long_event, field(16, Field::JobId, Violation::TooLong { max: 64, len: 65 })),
        // `$next` names a job only in a describe (SPEC §5, 7.1).
        ("$aws/things/T/jobs/$next/update", NextNotAllowed { at: 19 }),
        ("$aws/things/T/jobs/$next/update/accepted", NextNotAllowed { at: 19 }),
        ("$aws/things/T/jobs/$next/namespace-N/update", NextNotAllowed { at: 19 }),
        ("$aws/things/T/jobs/$next/notify-namespace-N/", NextNotAllowed { at: 19 }),
        ("$aws/events/job/$next/completed", NextNotAllowed { at: 16 }),
        ("$aws/events/jobExecution/$next/succeeded", NextNotAllowed { at: 25 }),
        ("$aws/things/T/jobs/$NEXT/get", bad_char(19, Field::JobId, 0)),
        // No source shows these (SPEC 7.3, AMBIG-8).
        ("$aws/things/T/jobs/get/namespace-N", UnsupportedNamespaceForm { at: 23 }),
        ("$aws/things/T/jobs/get/namespace-N/accepted", UnsupportedNamespaceForm { at: 23 }),
        ("$aws/things/T/jobs/start-next/namespace-N", UnsupportedNamespaceForm { at: 30 }),
        ("$aws/things/T/jobs/start-next/namespace-N/rejected", UnsupportedNamespaceForm { at: 30 }),
    ];
    for (topic, error) in cases {
        assert_eq!(Topic::parse(topic), Err(*error), "{topic}");
    }
}

#[test]
fn errors_say_what_was_wrong() {
    let message = |topic| Topic::parse(topic).unwrap_err().to_string();
    assert_eq!(
        message("$aws/things/T/jobs/j:1/update"),
        "invalid topic segment at byte 19: jobId has a character that is not allowed at position 1 \
         (allowed: a-z A-Z 0-9 _ -)"
    );
    assert_eq!(
        message("$aws/things/T/jobs/$next/update"),
        "$next at byte 19 is allowed only as the job of a describe topic (…/jobs/$next/get)"
    );
    assert_eq!(
        message("$aws/things/T/jobs/J/delete"),
        "the topic names no Jobs operation or event from byte 19"
    );
    assert!(message("$aws/things/T/shadow/get").starts_with("not a Jobs topic"));
    assert!(message("$aws/things/T/jobs/get/namespace-N").contains("no documented namespace topic"));
    let too_small = Topic::Notify { thing: thing("T"), namespace: None }.write_to(&mut [0; 4]).unwrap_err();
    assert_eq!(too_small.to_string(), "the topic needs 25 bytes; the buffer has 4");
    let invalid = Topic::parse("$aws/things/T/jobs/j:1/update").unwrap_err();
    assert!(core::error::Error::source(&invalid).is_some());
    assert!(core::error::Error::source(&too_small).is_none());
}

#[test]
fn subscriptions_of_a_device() {
    let topics = |namespace| {
        Topic::subscriptions(thing("T"), namespace).map(|topic| topic.to_string()).collect::<Vec<_>>()
    };
    assert_eq!(
        topics(None),
        [
            "$aws/things/T/jobs/notify-next",
            "$aws/things/T/jobs/get/accepted",
            "$aws/things/T/jobs/get/rejected",
            "$aws/things/T/jobs/start-next/accepted",
            "$aws/things/T/jobs/start-next/rejected",
            "$aws/things/T/jobs/$next/get/accepted",
            "$aws/things/T/jobs/$next/get/rejected",
        ]
    );
    assert_eq!(
        topics(Some(ns("gg"))),
        [
            "$aws/things/T/jobs/notify-next-namespace-gg",
            "$aws/things/T/jobs/$next/namespace-gg/get/accepted",
            "$aws/things/T/jobs/$next/namespace-gg/get/rejected",
        ]
    );
}

#[test]
fn accessors_and_conversions() {
    let owned = crate::id::ThingName::new("T:1").unwrap();
    let t = ThingNameRef::from(&owned);
    assert_eq!(Topic::parse("$aws/things/T:1/jobs/notify").unwrap().thing(), Some(t));
    assert_eq!(Topic::parse("$aws/events/job/J/deleted").unwrap().thing(), None);
    assert_eq!(JobSelector::new("$next"), Ok(JobSelector::Next));
    assert_eq!(JobSelector::new("J").map(JobSelector::as_str), Ok("J"));
    assert!(JobIdRef::new("$next").is_err());
    assert_eq!(ExecutionEvent::for_status(ExecutionStatus::TimedOut), Some(ExecutionEvent::TimedOut));
    for status in ExecutionStatus::ALL {
        let event = ExecutionEvent::for_status(status);
        assert_eq!(event.is_some(), status.is_terminal());
        if let Some(event) = event {
            assert_eq!(event.as_str(), status.as_str().to_lowercase());
        }
    }
}

/// A valid topic of any kind, as owned parts: (kind, reply, `$next`, thing, job, namespace, event).
type Parts = (u8, Option<Reply>, bool, String, String, Option<String>, usize);

fn parts() -> impl Strategy<Value = Parts> {
    let reply = prop_oneof![Just(None), Just(Some(Reply::Accepted)), Just(Some(Reply::Rejected))];
    let id = "[a-zA-Z0-9_-]{1,64}";
    (0u8..9, reply, any::<bool>(), "[a-zA-Z0-9:_-]{1,128}", id, proptest::option::of(id), 0usize..7)
}

fn build(p: &Parts) -> Topic<'_> {
    let (kind, reply, next, t, j, n, event) = p;
    let (thing, job, namespace) = (thing(t), job(j), n.as_deref().map(ns));
    let selector = if *next { JobSelector::Next } else { job.into() };
    let reply = *reply;
    match kind {
        0 => Topic::GetPending { thing, reply },
        1 => Topic::StartNext { thing, reply },
        2 => Topic::Describe { thing, job: selector, namespace, reply },
        3 => Topic::Update { thing, job, namespace, reply },
        4 => Topic::Notify { thing, namespace },
        5 => Topic::NotifyNext { thing, namespace },
        6 => Topic::DocumentedNotify { thing, job, namespace: namespace.unwrap_or(self::ns(j)) },
        7 => Topic::JobEvent { job, event: JobEvent::ALL[event % JobEvent::ALL.len()] },
        _ => Topic::ExecutionEvent { job, event: ExecutionEvent::ALL[*event] },
    }
}

/// Segments and pieces of Jobs topics, so that generated strings reach deep into the parser.
const TOKENS: &[&str] = &[
    "get",
    "start-next",
    "update",
    "accepted",
    "rejected",
    "notify",
    "notify-next",
    "notify-namespace-N",
    "notify-next-namespace-N",
    "namespace-N",
    "namespace-",
    "notify-namespace-",
    "$next",
    "J",
    "a:b",
    "",
    "jobs",
    "T",
    "!",
    "+",
    "\u{e9}",
    "/",
    "completed",
    "cancellation_in_progress",
    "timed_out",
    "succeeded",
];

/// Prefixes of Jobs topics, right and nearly right.
const PREFIXES: &[&str] = &[
    "$aws/things/T/jobs/",
    "$aws/things/T/jobs/",
    "$aws/things/T/jobs/J/",
    "$aws/things/T/jobs/J/",
    "$aws/things/T/jobs/$next/",
    "$aws/events/job/J/",
    "$aws/events/jobExecution/J/",
    "$aws/things/",
    "",
];

fn jobs_like() -> impl Strategy<Value = String> {
    let tokens = proptest::collection::vec(proptest::sample::select(TOKENS), 1..4);
    let prefix = proptest::sample::select(PREFIXES);
    // Mostly whole segments joined by `/`; sometimes pieces run together.
    (prefix, tokens, proptest::bool::weighted(0.8)).prop_map(|(prefix, tokens, segments)| {
        format!("{prefix}{}", tokens.join(if segments { "/" } else { "" }))
    })
}

/// The plain device topics (SPEC 7.1, 7.2), the set `parse_device` reads: written from the
/// variants, not from the parser.
fn plain(topic: &Topic<'_>) -> bool {
    match topic {
        Topic::GetPending { .. } | Topic::StartNext { .. } => true,
        Topic::Describe { namespace, .. }
        | Topic::Update { namespace, .. }
        | Topic::Notify { namespace, .. }
        | Topic::NotifyNext { namespace, .. } => namespace.is_none(),
        Topic::DocumentedNotify { .. } | Topic::JobEvent { .. } | Topic::ExecutionEvent { .. } => false,
    }
}

/// `parse_device` answers as `parse` on the plain device topics, and refuses the rest: the event
/// topics as not Jobs topics, the namespace forms (valid or not) as an unknown suffix.
fn device_agrees(s: &str) -> Result<(), TestCaseError> {
    let device = Topic::parse_device(s);
    let event = s.starts_with(JOB_EVENTS) || s.starts_with(EXECUTION_EVENTS);
    match Topic::parse(s) {
        Ok(topic) if plain(&topic) => prop_assert_eq!(device, Ok(topic)),
        _ if event => prop_assert_eq!(device, Err(TopicError::NotJobsTopic)),
        Ok(_) | Err(TopicError::UnsupportedNamespaceForm { .. }) => {
            prop_assert!(matches!(device, Err(TopicError::UnknownSuffix { .. })), "{s:?}: {device:?}");
        }
        Err(e) => prop_assert!(
            device == Err(e) || matches!(device, Err(TopicError::UnknownSuffix { .. })),
            "{s:?}: {device:?}, parse: {e:?}"
        ),
    }
    Ok(())
}

/// Parsing never panics; whatever parses is rebuilt byte for byte, by every writer; the device
/// parser agrees.
fn parse_is_exact(s: &str) -> Result<(), TestCaseError> {
    device_agrees(s)?;
    if let Ok(topic) = Topic::parse(s) {
        prop_assert_eq!(topic.to_string(), s);
        let mut buf = [0; MAX_TOPIC_LEN];
        prop_assert_eq!(topic.write_to(&mut buf), Ok(s));
        let heapless: heapless::String<MAX_TOPIC_LEN> = topic.to_heapless().unwrap();
        prop_assert_eq!(heapless.as_str(), s);
    }
    Ok(())
}

proptest! {
    #[test]
    #[cfg_attr(miri, ignore = "proptest needs the file system; hours under Miri")]
    fn parse_inverts_build(p in parts()) {
        let topic = build(&p);
        let mut buf = [0; MAX_TOPIC_LEN];
        let s = topic.write_to(&mut buf).unwrap();
        prop_assert!(s.len() <= MAX_TOPIC_LEN);
        prop_assert_eq!(Topic::parse(s), Ok(topic));
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest needs the file system; hours under Miri")]
    fn build_inverts_parse_on_jobs_like_strings(s in jobs_like()) {
        parse_is_exact(&s)?;
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest needs the file system; hours under Miri")]
    fn build_inverts_parse_on_any_string(s in any::<String>()) {
        parse_is_exact(&s)?;
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest needs the file system; hours under Miri")]
    fn build_inverts_parse_on_mutated_topics(p in parts(), at in any::<usize>(), byte in 0u8..128) {
        // One byte of a valid topic replaced, inserted or removed.
        let mut s = build(&p).to_string().into_bytes();
        let at = at % (s.len() + 1);
        match byte % 3 {
            0 if at < s.len() => s[at] = byte,
            1 => s.insert(at, byte),
            _ if at < s.len() => { s.remove(at); }
            _ => s.push(byte),
        }
        parse_is_exact(&String::from_utf8(s).unwrap())?;
    }
}
