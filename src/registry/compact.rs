//! The compact encodings of stored values: execution numbers and versions as `u32` (the public
//! types stay `u64`). A value that does not fit is refused with the capacity error
//! `LimitExceeded(Counter)` before anything changes, never wrapped.

use crate::error::{Limit, Rejection};
use crate::id::{ExecutionNumber, VersionNumber};

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
