//! (b0) The topic code a device needs, the scope of the AWS C Jobs library's `jobs.c` topic
//! functions: build the request topics of GetPending, StartNext, Describe and Update (no
//! namespace) and the notify-next subscription into a caller buffer, and parse an incoming
//! topic with `Topic::parse_device` (`Jobs_MatchTopic`: the plain device topics, no namespace or
//! event forms).
#![no_std]
#![no_main]
#![allow(clippy::empty_loop)] // `_start` never returns: a bare-metal idle loop

#[path = "../../../../panic-check/src/harness.rs"]
mod common;
use common::*;
use iot_jobs_core::topic::{JobIdRef, JobSelector, MAX_TOPIC_LEN, Reply, ThingNameRef, Topic};

fn build(topic: &Topic<'_>) {
    let mut buf = [0u8; MAX_TOPIC_LEN];
    keep(topic.write_to(&mut buf).map(str::len));
}

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let input = opaque(&raw const TOPIC_INPUT);
    let [len, cut, flags, rest @ ..] = input;
    let s = text(rest.get(..usize::from(len)).unwrap_or(&rest));
    // Parse an incoming topic and keep what a device dispatches on.
    match Topic::parse_device(s) {
        Ok(Topic::NotifyNext { thing, .. }) => keep(thing.as_str().len()),
        Ok(Topic::Update { job, reply, .. }) => keep((job.as_str().len(), reply == Some(Reply::Accepted))),
        Ok(_) => keep(1),
        Err(e) => keep(e),
    }
    let (thing, job) = s.split_at_checked(usize::from(cut)).unwrap_or((s, ""));
    let reply = match flags & 3 {
        0 => None,
        1 => Some(Reply::Accepted),
        _ => Some(Reply::Rejected),
    };
    if let (Ok(thing), Ok(id), Ok(selector)) =
        (ThingNameRef::new(thing), JobIdRef::new(job), JobSelector::new(job))
    {
        build(&Topic::GetPending { thing, reply });
        build(&Topic::StartNext { thing, reply });
        build(&Topic::Describe { thing, job: selector, namespace: None, reply });
        build(&Topic::Update { thing, job: id, namespace: None, reply });
        build(&Topic::NotifyNext { thing, namespace: None });
    }
    loop {}
}
