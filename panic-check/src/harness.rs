//! The harness every no_main thumbv7em binary of the project shares (`panic-check` and the
//! `benches/flash` binaries, which include this file by path): the panic handler that proves
//! panic freedom, and opaque inputs. The exercise modules reach these items as `crate::…`.
#![allow(dead_code)]

use core::hint::black_box;

/// The proof: the handler calls a symbol that does not exist, so a binary links only if the
/// optimiser removed every panic path.
#[cfg(not(feature = "diagnose"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    unsafe extern "Rust" {
        #[link_name = "\n\nERROR: a panic path of iot-jobs-core is reachable (see README: panic freedom)\n"]
        fn panic_is_reachable() -> !;
    }
    // SAFETY: never called when the link succeeds: the symbol does not exist.
    unsafe { panic_is_reachable() }
}

/// `--features diagnose`: a looping handler, so the binary links and its panic call sites can
/// be listed.
#[cfg(feature = "diagnose")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}

pub static mut INPUT: [u8; 1024] = [0; 1024];
pub static mut OPS: [u8; 64] = [0; 64];
pub static mut TEXT: [u8; 64] = [0; 64];
pub static mut JSON_BUF: [u8; 256] = [0; 256];
pub static mut TOPIC_INPUT: [u8; 512] = [0; 512];
pub static mut WIRE_SCRATCH: [u8; 512] = [0; 512];
pub static mut WIRE_OUT: [u8; 1024] = [0; 1024];
pub static mut AGENT_OPS: [u8; 64] = [0; 64];

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
