//! The cron parser and search: never panic; an accepted expression's next occurrence is a whole
//! minute at or after the start that matches, and nothing between the start and it (up to a
//! day of minutes) matches; an accepted expression re-parses equal when its separators are
//! doubled; a refusal points inside the expression.
#![no_main]

use iot_jobs_core::Timestamp;
use iot_jobs_core::cron::Cron;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (clock, text) = data.split_at(data.len().min(8));
    let mut t = [0u8; 8];
    t[..clock.len()].copy_from_slice(clock);
    // Up to the year 2200 and a bit past it.
    let start = u64::from_le_bytes(t) % 7_300_000_000;
    let Ok(expr) = std::str::from_utf8(text) else { return };
    let cron = match Cron::parse(expr) {
        Ok(c) => c,
        Err(e) => {
            assert!(e.position <= expr.len(), "{expr:?}: {e}");
            let _ = e.to_string();
            return;
        }
    };
    assert_eq!(Cron::parse(&expr.replace(' ', "  ")), Ok(cron), "{expr:?} with doubled spaces");
    let Some(next) = cron.next_at_or_after(Timestamp(start)) else { return };
    assert!(next.secs() >= start && next.secs() % 60 == 0, "{expr:?} from {start}: {next:?}");
    assert!(cron.matches(next), "{expr:?}: {next:?} does not match");
    let mut m = start.div_ceil(60) * 60;
    while m < next.secs() && m < start + 86_400 {
        assert!(!cron.matches(Timestamp(m)), "{expr:?}: {m} matches before {next:?}");
        m += 60;
    }
});
