//! Shared by every flash binary: the panic handler that proves panic freedom (an undefined
//! symbol, as in `panic-check/`), and opaque inputs. `panic-check/src/*.rs` modules are reused
//! as they are: they reach these items as `crate::…`.
#![allow(dead_code)]

use core::hint::black_box;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    unsafe extern "Rust" {
        #[link_name = "\n\nERROR: a panic path of iot-jobs-core is reachable (flash binary)\n"]
        fn panic_is_reachable() -> !;
    }
    // SAFETY: never called when the link succeeds: the symbol does not exist.
    unsafe { panic_is_reachable() }
}

pub static mut INPUT: [u8; 1024] = [0; 1024];
pub static mut OPS: [u8; 64] = [0; 64];
pub static mut TEXT: [u8; 64] = [0; 64];
pub static mut JSON_BUF: [u8; 256] = [0; 256];
pub static mut TOPIC_INPUT: [u8; 512] = [0; 512];
pub static mut WIRE_SCRATCH: [u8; 512] = [0; 512];
pub static mut WIRE_OUT: [u8; 1024] = [0; 1024];

/// An opaque copy of a static: the optimiser can assume nothing about its bytes.
pub fn opaque<const N: usize>(p: *const [u8; N]) -> [u8; N] {
    // SAFETY: a plain read of a static byte array that nothing writes; single-threaded.
    black_box(unsafe { p.read() })
}

pub fn input() -> [u8; 1024] {
    opaque(&raw const INPUT)
}

pub fn text(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or_default()
}

/// A value chosen by an opaque byte, built through the public API (never a black-boxed enum).
pub fn pick<T: Copy>(all: &[T], b: u8, fallback: T) -> T {
    match all.get(usize::from(b) % all.len().max(1)) {
        Some(v) => *v,
        None => fallback,
    }
}

/// Keeps a value alive for the optimiser without using it.
pub fn keep<T>(v: T) {
    let _ = black_box(v);
}
