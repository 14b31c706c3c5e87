//! The compact encodings of stored values: execution numbers and versions as `u32`, execution
//! times as `u32` seconds ([`Stamp`]); the public types stay `u64`. A value that does not fit is
//! refused with a capacity error (`LimitExceeded(Counter)`, `LimitExceeded(Time)`) before
//! anything changes, never wrapped.

use crate::error::{Limit, Rejection};
use crate::id::{ExecutionNumber, Timestamp, VersionNumber};
use crate::rules::NEVER;

/// The last `now` the registry accepts: 2106-01-01T00:00:00Z (4,291,747,200 s). Later, every
/// operation that takes a time is refused with `LimitExceeded(Time)` and changes nothing.
///
/// Execution times are stored as `u32` seconds since the Unix epoch (the registry's epoch), and
/// the latest one an execution stores is `now` plus a timeout of at most 7 days (SPEC §6,
/// [`StepTimeout::MAX_MINUTES`](crate::id::StepTimeout::MAX_MINUTES)): the 37 days between this
/// and `u32::MAX` (2106-02-07T06:28:15Z) leave room for it, so a stored time is always exact.
pub const LATEST_TIME: Timestamp = Timestamp(4_291_747_200);

/// Refuses a `now` past [`LATEST_TIME`] with `LimitExceeded(Time)`; the first step of every
/// operation that takes one.
pub(super) const fn check_time(now: Timestamp) -> Result<(), Rejection> {
    if now.0 > LATEST_TIME.0 { Err(Rejection::LimitExceeded(Limit::Time)) } else { Ok(()) }
}

/// Refuses a schedule whose `startTime` or `endTime` is past [`LATEST_TIME`] with
/// `LimitExceeded(Time)` (AMBIG-34): no `now` the registry accepts would reach it, so it would
/// never apply.
pub(super) fn check_schedule(schedule: Option<crate::config::Schedule>) -> Result<(), Rejection> {
    let Some(s) = schedule else { return Ok(()) };
    if let Some(start) = s.start() {
        check_time(start)?;
    }
    if let Some((end, _)) = s.end() {
        check_time(end)?;
    }
    Ok(())
}

/// A time as an execution stores it: seconds since the Unix epoch as a `u32`, `u32::MAX` for
/// [`NEVER`] (and, for `started_at`, "not started").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(crate) struct Stamp(u32);

impl Stamp {
    /// [`NEVER`] (no deadline; not started).
    pub(super) const NEVER: Self = Self(u32::MAX);

    /// `t` as stored. A time at or past `u32::MAX` is [`NEVER`]: only a saturated deadline is
    /// one, since [`check_time`] refuses a `now` from which anything later than [`LATEST_TIME`]
    /// plus 7 days could follow.
    pub(super) fn new(t: Timestamp) -> Self {
        Self(u32::try_from(t.0).unwrap_or(u32::MAX))
    }

    /// `t` as stored if it is exact: [`NEVER`] or a time before `u32::MAX` (for snapshots).
    #[cfg(feature = "serde")]
    pub(super) fn exact(t: Timestamp) -> Option<Self> {
        if t == NEVER {
            Some(Self::NEVER)
        } else {
            u32::try_from(t.0).ok().filter(|s| *s != u32::MAX).map(Self)
        }
    }

    /// The time.
    pub(super) fn get(self) -> Timestamp {
        if self == Self::NEVER { NEVER } else { Timestamp(u64::from(self.0)) }
    }

    /// The time, or `None` for [`NEVER`] (`started_at`).
    pub(super) fn get_opt(self) -> Option<Timestamp> {
        (self != Self::NEVER).then(|| Timestamp(u64::from(self.0)))
    }
}

/// `n` as stored, or `LimitExceeded(Counter)` above `u32::MAX` (the model's `long` allows up to
/// `i64::MAX`; the registry refuses past 4,294,967,295 as it would past `i64::MAX`).
pub(super) fn counter(n: u64) -> Result<u32, Rejection> {
    u32::try_from(n).map_err(|_| Rejection::LimitExceeded(Limit::Counter))
}

/// An execution number as stored.
pub(super) fn number(n: ExecutionNumber) -> Result<u32, Rejection> {
    counter(n.get())
}

/// A version as stored.
pub(super) fn version(v: VersionNumber) -> Result<u32, Rejection> {
    counter(v.get())
}
