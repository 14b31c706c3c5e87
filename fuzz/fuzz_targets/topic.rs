//! MQTT topics: `parse` never panics, and parse and build are exact inverses in both directions:
//! build(parse(s)) == s for every topic that parses, and parse(build(t)) == t for every topic built
//! from valid parts.
#![no_main]

use arbitrary::{Result, Unstructured};
use iot_jobs_core::topic::{
    ExecutionEvent, JobEvent, JobIdRef, JobSelector, MAX_TOPIC_LEN, NamespaceIdRef, Reply, ThingNameRef,
    Topic,
};
use libfuzzer_sys::fuzz_target;

fn check_built(t: &Topic<'_>) {
    let mut buf = [0u8; MAX_TOPIC_LEN];
    let s = t.write_to(&mut buf).expect("MAX_TOPIC_LEN always suffices");
    assert_eq!(s.len(), t.encoded_len());
    assert_eq!(t.to_string(), s);
    assert_eq!(t.to_heapless::<MAX_TOPIC_LEN>().expect("fits").as_str(), s);
    assert_eq!(Topic::parse(s).as_ref(), Ok(t), "parse(build(t)) for {s:?}");
    // The device parser reads exactly the plain device topics (SPEC 7.1, 7.2).
    let plain = matches!(
        t,
        Topic::GetPending { .. }
            | Topic::StartNext { .. }
            | Topic::Describe { namespace: None, .. }
            | Topic::Update { namespace: None, .. }
            | Topic::Notify { namespace: None, .. }
            | Topic::NotifyNext { namespace: None, .. }
    );
    assert_eq!(Topic::parse_device(s).ok().as_ref(), plain.then_some(t), "parse_device({s:?})");
    // A buffer one byte short is refused, never truncated.
    let mut short = vec![0u8; s.len() - 1];
    assert!(t.write_to(&mut short).is_err());
    let _ = t.is_within_broker_limits();
}

fn ident<'a>(u: &mut Unstructured<'a>, max: usize, colon: bool) -> Result<&'a str> {
    let len = u.int_in_range(1..=max)?;
    let bytes = u.bytes(len.min(u.len()).max(1))?;
    let s = std::str::from_utf8(bytes).map_err(|_| arbitrary::Error::IncorrectFormat)?;
    let ok = s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || (colon && b == b':'));
    if ok { Ok(s) } else { Err(arbitrary::Error::IncorrectFormat) }
}

fn built<'a>(u: &mut Unstructured<'a>) -> Result<Topic<'a>> {
    let thing = ThingNameRef::new(ident(u, 128, true)?).map_err(|_| arbitrary::Error::IncorrectFormat)?;
    let job = JobIdRef::new(ident(u, 64, false)?).map_err(|_| arbitrary::Error::IncorrectFormat)?;
    let namespace = if u.arbitrary()? {
        Some(NamespaceIdRef::new(ident(u, 64, false)?).map_err(|_| arbitrary::Error::IncorrectFormat)?)
    } else {
        None
    };
    let reply = *u.choose(&[None, Some(Reply::Accepted), Some(Reply::Rejected)])?;
    let selector = if u.arbitrary()? { JobSelector::Next } else { JobSelector::Id(job) };
    Ok(match u.int_in_range(0..=8u8)? {
        0 => Topic::GetPending { thing, reply },
        1 => Topic::StartNext { thing, reply },
        2 => Topic::Describe { thing, job: selector, namespace, reply },
        3 => Topic::Update { thing, job, namespace, reply },
        4 => Topic::Notify { thing, namespace },
        5 => Topic::NotifyNext { thing, namespace },
        6 => match namespace {
            Some(namespace) => Topic::DocumentedNotify { thing, job, namespace },
            None => Topic::Notify { thing, namespace },
        },
        7 => Topic::JobEvent { job, event: *u.choose(&JobEvent::ALL)? },
        _ => Topic::ExecutionEvent { job, event: *u.choose(&ExecutionEvent::ALL)? },
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode & 1 == 0 {
        let Ok(s) = std::str::from_utf8(rest) else { return };
        if Topic::parse(s).is_err() {
            assert!(Topic::parse_device(s).is_err(), "parse_device accepts {s:?}, which parse refuses");
        }
        if let Ok(t) = Topic::parse(s) {
            let mut buf = [0u8; MAX_TOPIC_LEN];
            assert_eq!(t.write_to(&mut buf), Ok(s), "build(parse(s))");
            check_built(&t);
            if let Some(thing) = t.thing() {
                for sub in Topic::subscriptions(thing, None) {
                    check_built(&sub);
                }
            }
        }
    } else if let Ok(t) = built(&mut Unstructured::new(rest)) {
        check_built(&t);
        if let Some(thing) = t.thing() {
            let ns = match t {
                Topic::Describe { namespace, .. } | Topic::Update { namespace, .. } => namespace,
                _ => None,
            };
            for sub in Topic::subscriptions(thing, ns) {
                check_built(&sub);
            }
        }
    }
});
