//! Baseline: nothing but `_start` reading one opaque byte, and the panic handler.
#![no_std]
#![no_main]

#[path = "../common.rs"]
mod common;

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    common::keep(common::opaque(&raw const common::OPS)[0]);
    loop {}
}
