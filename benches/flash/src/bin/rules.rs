//! (a) The decision functions alone.
#![no_std]
#![no_main]
#![allow(clippy::empty_loop)] // `_start` never returns: a bare-metal idle loop

#[path = "../../../../panic-check/src/harness.rs"]
mod common;
#[path = "../rules.rs"]
mod rules;
use common::*;

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    rules::exercise(&input());
    loop {}
}
