//! Baseline: nothing but `_start` reading one opaque byte, and the panic handler.
#![no_std]
#![no_main]
#![allow(clippy::empty_loop)] // `_start` never returns: a bare-metal idle loop

#[path = "../../../../panic-check/src/harness.rs"]
mod common;

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    common::keep(common::opaque(&raw const common::OPS)[0]);
    loop {}
}
