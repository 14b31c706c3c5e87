//! Stack of the device agent's calls on the target, at two document buffers (512 B and 8 KiB):
//! each `Agent<DOC>` sits in a `static`, as on a device, and `on_message_DOC` (never inlined)
//! runs `handle` then drains `poll_transmit` and `poll_event`; `report_512` (never inlined)
//! runs `report` with statusDetails, then drains them. `stack.sh` prints the frames; a
//! handler's frame that grows with `DOC` would show here.
#![no_std]
#![no_main]
#![allow(clippy::empty_loop)] // `_start` never returns: a bare-metal idle loop

#[path = "../../../../panic-check/src/harness.rs"]
mod common;

use core::mem::MaybeUninit;

use common::*;
use iot_jobs_core::agent::{Agent, AgentEvent, Config, MAX_TRANSMIT_LEN};
use iot_jobs_core::{ExecutionStatus, StatusDetails, ThingName, Timestamp};

static mut SMALL: MaybeUninit<Agent<512>> = MaybeUninit::uninit();
static mut LARGE: MaybeUninit<Agent<8192>> = MaybeUninit::uninit();
static mut TX: [u8; MAX_TRANSMIT_LEN] = [0; MAX_TRANSMIT_LEN];

/// `handle` of one message, then everything it caused.
fn step<const DOC: usize>(agent: &mut Agent<DOC>, topic: &str, payload: &[u8]) {
    // SAFETY: the only access, single-threaded. (A raw pointer, not `&mut TX`: static_mut_refs.)
    #[allow(clippy::deref_addrof)]
    let tx = unsafe { &mut *(&raw mut TX) };
    keep(agent.handle(Timestamp(1), topic, payload));
    while let Some(t) = agent.poll_transmit(Timestamp(1), tx) {
        keep(t.payload.len());
    }
    while let Some(e) = agent.poll_event() {
        if let AgentEvent::Run { document, .. } = e {
            keep(document.len());
        }
    }
}

#[inline(never)]
#[unsafe(no_mangle)]
#[allow(clippy::deref_addrof)] // a raw pointer, not `&mut SMALL`: static_mut_refs
pub fn on_message_512(topic: &str, payload: &[u8]) {
    // SAFETY: initialised in `_start` before any call; single-threaded.
    step(unsafe { (*(&raw mut SMALL)).assume_init_mut() }, topic, payload);
}

#[inline(never)]
#[unsafe(no_mangle)]
#[allow(clippy::deref_addrof)] // a raw pointer, not `&mut LARGE`: static_mut_refs
pub fn on_message_8192(topic: &str, payload: &[u8]) {
    // SAFETY: initialised in `_start` before any call; single-threaded.
    step(unsafe { (*(&raw mut LARGE)).assume_init_mut() }, topic, payload);
}

#[inline(never)]
#[unsafe(no_mangle)]
#[allow(clippy::deref_addrof)] // a raw pointer, not `&mut SMALL`: static_mut_refs
pub fn report_512(key: &str, value: &str) {
    // SAFETY: initialised in `_start` before any call; single-threaded.
    let agent = unsafe { (*(&raw mut SMALL)).assume_init_mut() };
    let pairs = [(key, value)];
    if let Ok(details) = StatusDetails::new(&pairs) {
        keep(agent.report(ExecutionStatus::InProgress, Some(&details)));
    }
    // SAFETY: the only access, single-threaded. (A raw pointer, not `&mut TX`: static_mut_refs.)
    let tx = unsafe { &mut *(&raw mut TX) };
    while let Some(t) = agent.poll_transmit(Timestamp(1), tx) {
        keep(t.payload.len());
    }
}

#[unsafe(no_mangle)]
#[allow(clippy::deref_addrof)] // raw pointers, not `&mut SMALL`: static_mut_refs
pub extern "C" fn _start() -> ! {
    let input = input();
    let topic = text(input.get(..64).unwrap_or_default());
    let payload = input.get(64..).unwrap_or_default();
    if let Ok(thing) = ThingName::new(text(input.get(..8).unwrap_or_default())) {
        // SAFETY: the only accesses, single-threaded, before any `on_message_*`.
        unsafe {
            (*(&raw mut SMALL)).write(Agent::new(&thing, None, Config::DEFAULT));
            (*(&raw mut LARGE)).write(Agent::new(&thing, None, Config::DEFAULT));
        }
        on_message_512(topic, payload);
        on_message_8192(topic, payload);
        report_512(text(input.get(8..16).unwrap_or_default()), text(input.get(16..64).unwrap_or_default()));
    }
    loop {}
}
