//! The emulator's clock: the system clock, or a manual one that moves only when told to
//! (`POST /_emulator/clock`). Whole seconds since the Unix epoch, as the core counts time.

use std::time::{SystemTime, UNIX_EPOCH};

use iot_jobs_core::Timestamp;

/// Which clock, from `--clock`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClockMode {
    /// Wall-clock time; due transitions are applied by a background task.
    System,
    /// Starts at the system time (or the saved time) and moves only by `POST /_emulator/clock`.
    Manual,
}

/// The clock.
#[derive(Debug, Clone)]
pub enum Clock {
    /// Wall-clock time.
    System,
    /// A manual clock at this second.
    Manual(u64),
}

/// The last second the core's registry stores (2106-01-01T00:00:00Z,
/// [`LATEST_TIME`](iot_jobs_core::registry::LATEST_TIME): it keeps execution times as `u32`
/// seconds); the manual clock goes no further.
pub const MAX_TIME: u64 = iot_jobs_core::registry::LATEST_TIME.0;

/// Why the system clock does not move.
const SYSTEM: &str = "the clock is the system clock; start the emulator with --clock manual to move it";

/// Seconds since the epoch, now.
pub fn system_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Clock {
    /// A clock of `mode`; a manual clock starts at `start` (a saved time) or at the system time,
    /// and no later than [`MAX_TIME`] (a time saved by an older build could be later: the clock
    /// stops there, as [`advance`](Self::advance) stops it).
    pub fn new(mode: ClockMode, start: Option<u64>) -> Self {
        match mode {
            ClockMode::System => Clock::System,
            ClockMode::Manual => Clock::Manual(start.unwrap_or_else(system_now).min(MAX_TIME)),
        }
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => Timestamp(system_now()),
            Clock::Manual(t) => Timestamp(*t),
        }
    }

    /// The time to save with the state (only a manual clock's time matters after a restart).
    pub fn saved(&self) -> Option<u64> {
        match self {
            Clock::System => None,
            Clock::Manual(t) => Some(*t),
        }
    }

    /// A manual clock at `secs`, earlier or later than this one (for an emptied state: see
    /// `POST /_emulator/reset`).
    ///
    /// # Errors
    /// The system clock; a time past [`MAX_TIME`].
    pub fn set(&self, secs: u64) -> Result<Clock, String> {
        match self {
            Clock::System => Err(SYSTEM.into()),
            Clock::Manual(_) if secs > MAX_TIME => Err(format!(
                "now {secs} is past 2106-01-01T00:00:00Z ({MAX_TIME}, the last time the registry stores)"
            )),
            Clock::Manual(_) => Ok(Clock::Manual(secs)),
        }
    }

    /// Moves a manual clock forward; a system clock cannot be moved.
    ///
    /// # Errors
    /// The system clock; a move past [`MAX_TIME`] (the clock stays where it is).
    pub fn advance(&mut self, secs: u64) -> Result<Timestamp, String> {
        match self {
            Clock::System => Err(SYSTEM.into()),
            Clock::Manual(t) => {
                let room = MAX_TIME.saturating_sub(*t);
                if secs > room {
                    return Err(format!(
                        "advanceSeconds {secs} would move the clock past 2106-01-01T00:00:00Z \
                         ({MAX_TIME}, the last time the registry stores); at most {room} is allowed now"
                    ));
                }
                *t = t.saturating_add(secs);
                Ok(Timestamp(*t))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A saved manual time past the last one the registry stores (written before the registry
    /// kept `u32` seconds) starts the clock at that last time, where every operation still works.
    #[test]
    fn a_saved_time_past_the_stored_range_starts_at_its_end() {
        assert_eq!(Clock::new(ClockMode::Manual, Some(253_402_300_799)).now(), Timestamp(MAX_TIME));
        assert_eq!(Clock::new(ClockMode::Manual, Some(1_700_000_000)).now(), Timestamp(1_700_000_000));
    }
}
