//! Baseline of `topics-device`: the same opaque input, the same `&str` conversion and split,
//! and no topic code. `topics-device` minus this is the topic code proper.
#![no_std]
#![no_main]
#![allow(clippy::empty_loop)] // `_start` never returns: a bare-metal idle loop

#[path = "../../../../panic-check/src/harness.rs"]
mod common;
use common::*;

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let input = opaque(&raw const TOPIC_INPUT);
    let [len, cut, flags, rest @ ..] = input;
    let s = text(rest.get(..usize::from(len)).unwrap_or(&rest));
    keep(s);
    let (thing, job) = s.split_at_checked(usize::from(cut)).unwrap_or((s, ""));
    keep((thing, job, flags & 3));
    loop {}
}
