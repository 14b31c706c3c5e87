//! Versions and execution numbers (SPEC R6, R7, §8).

use super::Actor;
use crate::error::{Limit, Rejection};
use crate::id::{ExecutionNumber, VersionNumber};
use crate::policy::{Numbering, Policy, VersionBump};

/// The version after an accepted change by `actor` (SPEC R6).
///
/// # Errors
/// `LimitExceeded(Counter)` if the version would pass `i64::MAX`.
pub const fn version_after(
    current: VersionNumber,
    actor: Actor,
    policy: &Policy,
) -> Result<VersionNumber, Rejection> {
    let bump = match policy.version_bump {
        // SPEC R6: +1 on every accepted change.
        VersionBump::EveryChange => true,
        // SPEC R6 alternative: only device updates bump.
        VersionBump::DeviceUpdatesOnly => match actor {
            Actor::Device => true,
            Actor::ControlPlane | Actor::Service => false,
        },
    };
    if !bump {
        return Ok(current);
    }
    match current.next() {
        Some(v) => Ok(v),
        None => Err(Rejection::LimitExceeded(Limit::Counter)),
    }
}

/// The number of a new execution of a (job, thing) (SPEC R7, §8). `highest_existing`: the
/// highest number among the pair's executions that still exist; `highest_ever`: the highest
/// ever assigned to the pair.
///
/// # Errors
/// `LimitExceeded(Counter)` past `i64::MAX`.
pub const fn next_execution_number(
    highest_existing: Option<ExecutionNumber>,
    highest_ever: Option<ExecutionNumber>,
    policy: &Policy,
) -> Result<ExecutionNumber, Rejection> {
    let base = match policy.numbering {
        // SPEC R7: 1 + the highest number that still exists.
        Numbering::ReuseAfterDelete => highest_existing,
        // SPEC R7 alternative: never reuse.
        Numbering::Monotonic => highest_ever,
    };
    match base {
        None => Ok(ExecutionNumber::FIRST),
        Some(n) => match n.next() {
            Some(n) => Ok(n),
            None => Err(Rejection::LimitExceeded(Limit::Counter)),
        },
    }
}
