//! RAM of the device configuration on the target: a `Registry<Fixed<4, 1, 8, 2, 64, 1024>>` (4
//! jobs, 1 thing, 8 executions, 2 statusDetails maps of at most 1 KiB each, the device's choice,
//! 64 index buckets) in a `static`; its `.bss` is the registry's size on thumbv7em.
#![no_std]
#![no_main]
#![allow(clippy::empty_loop)] // `_start` never returns: a bare-metal idle loop

#[path = "../../../../panic-check/src/harness.rs"]
mod common;

use core::mem::MaybeUninit;

use iot_jobs_core::Policy;
use iot_jobs_core::registry::{Fixed, Registry};

static mut DEVICE: MaybeUninit<Registry<Fixed<4, 1, 8, 2, 64, 1024>>> = MaybeUninit::uninit();

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    // SAFETY: the only access, single-threaded. (A raw pointer, not `&mut DEVICE`: static_mut_refs.)
    #[allow(clippy::deref_addrof)]
    let device = unsafe { &mut *(&raw mut DEVICE) };
    let r = device.write(Registry::new(Fixed, Policy::DEFAULT));
    common::keep(r.usage());
    loop {}
}
