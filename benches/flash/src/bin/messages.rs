//! (b) Topics and messages: `topic`, `wire`, `json` (the `panic-check` modules).
#![no_std]
#![no_main]
#![allow(clippy::empty_loop)] // `_start` never returns: a bare-metal idle loop

#[path = "../../../../panic-check/src/harness.rs"]
mod common;
#[path = "../../../../panic-check/src/json.rs"]
mod json;
#[path = "../../../../panic-check/src/messages.rs"]
mod messages;
#[path = "../../../../panic-check/src/topic.rs"]
mod topic;
#[path = "../../../../panic-check/src/wire.rs"]
mod wire;
use common::*;

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    topic::exercise();
    messages::exercise(&input());
    loop {}
}
