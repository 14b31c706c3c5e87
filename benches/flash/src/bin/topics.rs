//! (b1) MQTT topics, every kind, every output (`panic-check/src/topic.rs`).
#![no_std]
#![no_main]
#![allow(clippy::empty_loop)] // `_start` never returns: a bare-metal idle loop

#[path = "../../../../panic-check/src/harness.rs"]
mod common;
#[path = "../../../../panic-check/src/topic.rs"]
mod topic;
use common::*;

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    topic::exercise();
    loop {}
}
