//! The registry alone (`panic-check/src/registry.rs`: every operation, `Fixed` storage), with
//! the rules it calls.
#![no_std]
#![no_main]
#![allow(clippy::empty_loop)] // `_start` never returns: a bare-metal idle loop

#[path = "../../../../panic-check/src/harness.rs"]
mod common;
#[path = "../../../../panic-check/src/registry.rs"]
mod registry;
use common::*;

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    registry::exercise(&input());
    loop {}
}
