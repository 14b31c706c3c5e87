//! The harness every no_main thumbv7em binary of the project shares (`panic-check` and the
//! `benches/flash` binaries, which include this file by path): the panic handler that proves
//! panic freedom, and opaque inputs. The exercise modules reach these items as `crate::…`.
#![allow(dead_code)]

use core::hint::black_box;

use iot_jobs_core::{
    ExecutionNumber, ExecutionState, ExecutionStatus, JobStatus, Plane, Policy, TargetSelection,
    VersionNumber,
};

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

/// A `fmt::Write` into a fixed buffer of `N` bytes; what does not fit is an error.
pub struct Fmt<const N: usize> {
    pub buf: [u8; N],
    pub len: usize,
}

impl<const N: usize> Fmt<N> {
    pub const fn new() -> Self {
        Self { buf: [0; N], len: 0 }
    }
}

impl<const N: usize> core::fmt::Write for Fmt<N> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for &b in s.as_bytes() {
            *self.buf.get_mut(self.len).ok_or(core::fmt::Error)? = b;
            self.len = self.len.wrapping_add(1);
        }
        Ok(())
    }
}

/// The inputs of the decision functions of `rules`, chosen by the first 17 opaque bytes.
pub struct RuleInputs {
    pub job: JobStatus,
    pub exec: ExecutionStatus,
    pub requested: ExecutionStatus,
    pub selection: TargetSelection,
    pub force: bool,
    pub version: VersionNumber,
    pub expected: Option<VersionNumber>,
    pub state: ExecutionState,
    pub policy: Policy,
    pub plane: Plane,
    pub number: Option<ExecutionNumber>,
}

impl RuleInputs {
    pub fn new(b: &[u8]) -> Self {
        let b: [u8; 17] = b.first_chunk().copied().unwrap_or([0; 17]);
        let exec = pick(&ExecutionStatus::ALL, b[1], ExecutionStatus::Queued);
        let version =
            VersionNumber::new(u64::from_le_bytes([b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12]]))
                .unwrap_or(VersionNumber::INITIAL);
        Self {
            job: pick(&JobStatus::ALL, b[0], JobStatus::InProgress),
            exec,
            requested: pick(&ExecutionStatus::ALL, b[2], ExecutionStatus::Queued),
            selection: pick(&TargetSelection::ALL, b[3], TargetSelection::Snapshot),
            force: b[4] & 1 == 1,
            version,
            expected: VersionNumber::new(u64::from(b[13])).ok(),
            state: ExecutionState { status: exec, version },
            policy: Policy { force_cancel_escalates: b[14] & 1 == 1, ..Policy::DEFAULT },
            plane: if b[15] & 1 == 1 { Plane::Data } else { Plane::Control },
            number: ExecutionNumber::new(u64::from(b[16])).ok(),
        }
    }
}
