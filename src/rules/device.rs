//! What a device reaches: executions of a job being deleted, unknown things, and when a target
//! gets a new execution (SPEC R19, T13, SEED-CLI).

use crate::error::{Plane, Rejection, Resource};
use crate::policy::{NotifyOn, Policy, UnknownThing};
use crate::rules::RetriesUsed;
use crate::status::{ExecutionStatus, JobStatus, terminal_execution};

/// May a request on `plane` reach an execution of a job in `job`? (SEED-CLI: devices lose
/// access to a job being deleted; the control plane keeps it.)
///
/// # Errors
/// `ResourceNotFoundException` (execution) on the data plane for a job in
/// DELETION_IN_PROGRESS.
pub const fn device_access(job: JobStatus, plane: Plane) -> Result<(), Rejection> {
    match plane {
        Plane::Control => Ok(()),
        Plane::Data => match job {
            // SEED-CLI: a job being deleted is gone for devices.
            JobStatus::DeletionInProgress => Err(Rejection::NotFound(Resource::Execution)),
            JobStatus::InProgress | JobStatus::Scheduled | JobStatus::Canceled | JobStatus::Completed => {
                Ok(())
            }
        },
    }
}

/// A data-plane request names a thing the registry does not know (SPEC R19): `Ok` answers as for
/// a thing with no executions (default: the data plane looks up executions, not the thing
/// registry).
///
/// # Errors
/// `ResourceNotFoundException` (thing) under [`UnknownThing::NotFound`] (SPEC R19 alternative).
pub const fn unknown_thing(policy: &Policy) -> Result<(), Rejection> {
    match policy.unknown_thing {
        // SPEC R19: the data plane looks up executions, not the thing registry.
        UnknownThing::Empty => Ok(()),
        // SPEC R19 alternative.
        UnknownThing::NotFound => Err(Rejection::NotFound(Resource::Thing)),
    }
}

/// Does a thing that becomes a target (again) get a new QUEUED execution, and with what retries
/// used? `newest`: the status of its newest execution of the job, if any.
///
/// Only when nothing is pending: no execution, or a terminal one (SPEC T1, T13; a repeated
/// target is skipped). The new execution is not a retry, so the (job, thing) counts its retries
/// from [`RetriesUsed::NONE`] again (SPEC T12), whatever an earlier execution used.
#[must_use]
pub const fn queue_on_rejoin(newest: Option<ExecutionStatus>) -> Option<RetriesUsed> {
    match newest {
        // SPEC T1: a new target gets its first execution.
        None => Some(RetriesUsed::NONE),
        // SPEC T13: a pending execution is left as it is.
        Some(ExecutionStatus::Queued | ExecutionStatus::InProgress) => None,
        // SPEC T13, T12: after a terminal one, a new execution is queued, not as a retry.
        Some(terminal_execution!()) => Some(RetriesUsed::NONE),
    }
}

/// Is the thing's `notify` topic published after one execution's status change? (SPEC R15,
/// AMBIG-24.) `was_listed`/`now_listed`: the execution is in the thing's pending list before and
/// after; `status_changed`: its status differs (a progress report does not).
#[must_use]
pub const fn notifies(was_listed: bool, now_listed: bool, status_changed: bool, policy: &Policy) -> bool {
    // SPEC R15: when the pending list's membership changes.
    let membership = was_listed != now_listed;
    let every = match policy.notify_on {
        NotifyOn::MembershipChange => false,
        // SPEC R15 alternative: also on every change to a non-terminal status.
        NotifyOn::EveryNonTerminalChange => now_listed && status_changed,
    };
    membership || every
}
