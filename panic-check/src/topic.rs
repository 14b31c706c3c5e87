//! MQTT topics: parse opaque text, and build every kind from names cut out of it.

use core::fmt::{self, Write};
use core::hint::black_box;

use iot_jobs_core::ExecutionStatus;
use iot_jobs_core::topic::{
    ExecutionEvent, JobEvent, JobIdRef, JobSelector, MAX_TOPIC_LEN, NamespaceIdRef, Reply, ThingNameRef,
    Topic,
};

use crate::{TOPIC_INPUT, opaque};

/// A `fmt::Write` whose output the optimiser cannot see through.
struct Sink;

impl Write for Sink {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        black_box(s);
        Ok(())
    }
}

/// Writes `topic` every way there is, into a buffer of `room` bytes among others.
fn emit(topic: &Topic<'_>, room: usize) {
    let mut buf = [0u8; MAX_TOPIC_LEN];
    if let Some(out) = buf.get_mut(..room) {
        let _ = black_box(topic.write_to(black_box(out)));
    }
    let _ = black_box(topic.to_heapless::<MAX_TOPIC_LEN>());
    let _ = black_box(topic.to_heapless::<64>());
    black_box(topic.encoded_len());
    black_box(topic.is_within_broker_limits());
    black_box(topic.thing());
    let _ = write!(Sink, "{topic}");
}

/// `[len_hi, len_lo, room, flags, text…]`.
pub fn exercise() {
    let input: [u8; 512] = opaque(&raw const TOPIC_INPUT);
    let [len_hi, len_lo, room, flags, text @ ..] = input;
    let len = usize::from(u16::from_be_bytes([len_hi, len_lo]));
    let bytes = match text.get(..len) {
        Some(bytes) => bytes,
        None => &text,
    };
    let s = match core::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(_) => "",
    };
    let room = usize::from(room);

    match Topic::parse(s) {
        Ok(topic) => emit(&topic, room),
        Err(error) => {
            let _ = write!(Sink, "{error}");
            black_box(error);
        }
    }

    // Every builder, from names read out of the same bytes: the text cut at `room` and `flags`.
    let (thing, rest) = s.split_at_checked(room).unwrap_or((s, ""));
    let (job, namespace) = rest.split_at_checked(usize::from(flags & 0x7f)).unwrap_or((rest, ""));
    let reply = match flags & 3 {
        0 => None,
        1 => Some(Reply::Accepted),
        _ => Some(Reply::Rejected),
    };
    if let (Ok(thing), Ok(job), Ok(selector)) =
        (ThingNameRef::new(thing), JobIdRef::new(job), JobSelector::new(job))
    {
        let namespace = NamespaceIdRef::new(namespace).ok();
        emit(&Topic::GetPending { thing, reply }, room);
        emit(&Topic::StartNext { thing, reply }, room);
        emit(&Topic::Describe { thing, job: selector, namespace, reply }, room);
        emit(&Topic::Update { thing, job, namespace, reply }, room);
        emit(&Topic::Notify { thing, namespace }, room);
        emit(&Topic::NotifyNext { thing, namespace }, room);
        if let Some(namespace) = namespace {
            emit(&Topic::DocumentedNotify { thing, job, namespace }, room);
        }
        if let Some(&event) = JobEvent::ALL.get(usize::from(flags >> 4)) {
            emit(&Topic::JobEvent { job, event }, room);
        }
        let status = ExecutionStatus::ALL.get(usize::from(flags >> 4));
        if let Some(event) = status.and_then(|&status| ExecutionEvent::for_status(status)) {
            emit(&Topic::ExecutionEvent { job, event }, room);
        }
        for topic in Topic::subscriptions(thing, namespace) {
            emit(&topic, room);
        }
    }
}
