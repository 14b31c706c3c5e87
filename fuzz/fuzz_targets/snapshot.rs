//! `Registry::restore`: never panics on any text, and a snapshot it takes is one it gives back: the
//! restored registry snapshots to a text that restores, and snapshots to the same text again.
//! (The link-time panic check builds the core without `serde`, so the restore is checked here.)
#![no_main]

use iot_jobs_core::Policy;
use iot_jobs_core::registry::{Fixed, Registry};
use libfuzzer_sys::fuzz_target;

/// Room for the seeds: 8 jobs, 8 things, 32 executions, 8 statusDetails maps of up to 1 KiB.
type Reg = Registry<Fixed<8, 8, 32, 8, 128, 1024>>;

fn restore(text: &str) -> Result<Box<Reg>, serde_json::Error> {
    Reg::restore(Fixed, Policy::DEFAULT, &mut serde_json::Deserializer::from_str(text)).map(Box::new)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else { return };
    let Ok(first) = restore(text) else { return };
    let saved = serde_json::to_string(&first.snapshot()).expect("a restored registry snapshots");
    let second =
        restore(&saved).unwrap_or_else(|e| panic!("its own snapshot does not restore: {e}\n{saved}"));
    let again = serde_json::to_string(&second.snapshot()).expect("a restored registry snapshots");
    assert_eq!(again, saved, "a snapshot restored and taken again differs");
});
