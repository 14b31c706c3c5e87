//! Execution-level decisions: CancelJobExecution, UpdateJobExecution, the pending list,
//! StartNext, DescribeJobExecution, target removal (SPEC 3.1, 4.2, 4.3, T2–T10, R9–R11, R16).

use super::{check_version, execution_conflict};
use crate::error::{Current, ExecutionState, Operation, Plane, Rejection};
use crate::id::VersionNumber;
use crate::policy::Policy;
use crate::status::{ExecutionStatus, JobStatus, terminal_execution};

/// What an accepted CancelJobExecution does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CancelExecution {
    /// The execution's `forceCanceled` after the call (BC-IOT:JobExecution.forceCanceled).
    pub force_canceled: bool,
}

/// CancelJobExecution (SPEC 4.2 CancelJobExecution, T8, T9, R16). The execution becomes
/// CANCELED.
///
/// # Errors
/// `InvalidStateTransitionException` for a terminal execution (R16) or an IN_PROGRESS one
/// without force; `VersionConflictException` when `expected` differs.
pub const fn cancel_execution(
    state: ExecutionState,
    force: bool,
    expected: Option<VersionNumber>,
) -> Result<CancelExecution, Rejection> {
    match state.status {
        // SPEC T8.
        ExecutionStatus::Queued => {}
        // SPEC T9: IN_PROGRESS needs force.
        ExecutionStatus::InProgress => {
            if !force {
                return Err(execution_conflict(Operation::CancelJobExecution, state));
            }
        }
        // SPEC R16, T14: never overwrite a terminal status.
        terminal_execution!() => {
            return Err(execution_conflict(Operation::CancelJobExecution, state));
        }
    }
    match check_version(state, expected) {
        Ok(()) => Ok(CancelExecution { force_canceled: force }),
        Err(e) => Err(e),
    }
}

/// UpdateJobExecution: the status the execution takes (SPEC 4.3, T2–T6, R9).
///
/// # Errors
/// `InvalidStateTransitionException` for a status a device may not set (R9), from a terminal
/// status (T6), or QUEUED → SUCCEEDED/FAILED when the policy requires IN_PROGRESS first;
/// `VersionMismatch` when `expected` differs.
pub const fn update_execution(
    state: ExecutionState,
    requested: ExecutionStatus,
    expected: Option<VersionNumber>,
    policy: &Policy,
) -> Result<ExecutionStatus, Rejection> {
    let refused = Err(Rejection::InvalidStateTransition {
        operation: Operation::UpdateJobExecution,
        current: Current::Execution(state),
        requested: Some(requested),
    });
    // SPEC R9, T4: a device may set only IN_PROGRESS, SUCCEEDED, FAILED, REJECTED.
    if !requested.is_device_settable() {
        return refused;
    }
    match state.status {
        // SPEC T2, T5; R9: QUEUED → SUCCEEDED/FAILED directly unless the policy says otherwise.
        ExecutionStatus::Queued => match requested {
            ExecutionStatus::Succeeded | ExecutionStatus::Failed if !policy.device_may_skip_in_progress => {
                return refused;
            }
            ExecutionStatus::Queued | ExecutionStatus::InProgress | terminal_execution!() => {}
        },
        // SPEC T3, T4.
        ExecutionStatus::InProgress => {}
        // SPEC T6: a terminal execution never changes.
        terminal_execution!() => return refused,
    }
    match check_version(state, expected) {
        Ok(()) => Ok(requested),
        Err(e) => Err(e),
    }
}

/// The pending-list rank of a status: IN_PROGRESS (0) before QUEUED (1); terminal executions
/// are not pending (SPEC T2, §7.2). Within a rank, executions keep queue (creation) order.
#[must_use]
pub const fn pending_rank(status: ExecutionStatus) -> Option<u8> {
    match status {
        // SPEC T2: StartNext picks IN_PROGRESS executions first,
        ExecutionStatus::InProgress => Some(0),
        // then QUEUED ones in creation order.
        ExecutionStatus::Queued => Some(1),
        // SPEC 3.1: terminal executions are not pending.
        terminal_execution!() => None,
    }
}

/// Does a device see this execution in its pending list (GetPending, StartNext, `$next`,
/// `notify`)? (SPEC 3.1, AMBIG-13, SEED-CLI.)
#[must_use]
pub const fn listed_to_device(job: JobStatus, execution: ExecutionStatus) -> bool {
    match job {
        // SPEC 3.1: pending means QUEUED or IN_PROGRESS.
        JobStatus::InProgress | JobStatus::Canceled | JobStatus::Completed => execution.is_pending(),
        // SPEC AMBIG-13: executions of a SCHEDULED job (between maintenance windows) are left
        // out, except those already running.
        JobStatus::Scheduled => matches!(execution, ExecutionStatus::InProgress),
        // SEED-CLI: devices lose access to a job being deleted.
        JobStatus::DeletionInProgress => false,
    }
}

/// What StartNext (or Describe `$next`) does with the head of the pending list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StartNext {
    /// Nothing is pending: 200 without an `execution` member (SPEC 4.3, R19).
    Nothing,
    /// The head is QUEUED: it becomes IN_PROGRESS, statusDetails and the step timer apply
    /// (SPEC T2).
    Start,
    /// The head is already IN_PROGRESS: returned unchanged (SPEC T3).
    Resume,
}

/// StartNextPendingJobExecution on the head of the pending list (SPEC 4.3 StartNext, T2, T3).
///
/// # Errors
/// `InvalidStateTransitionException` if `head` is terminal: a terminal execution is never the
/// head of a pending list, so this signals a caller bug, refused rather than applied.
pub const fn start_next(head: Option<ExecutionState>) -> Result<StartNext, Rejection> {
    match head {
        None => Ok(StartNext::Nothing),
        Some(state) => match state.status {
            // SPEC T2.
            ExecutionStatus::Queued => Ok(StartNext::Start),
            // SPEC T3: StartNext on an IN_PROGRESS execution leaves it unchanged.
            ExecutionStatus::InProgress => Ok(StartNext::Resume),
            // SPEC 3.1: not pending.
            terminal_execution!() => Err(execution_conflict(Operation::StartNextPendingJobExecution, state)),
        },
    }
}

/// DescribeJobExecution on `plane` (SPEC 4.2, 4.3, R11).
///
/// # Errors
/// `TerminalStateException` (410) on the data plane for a terminal execution, unless
/// [`Policy::data_plane_describes_terminal`].
pub const fn describe_execution(
    state: ExecutionState,
    plane: Plane,
    policy: &Policy,
) -> Result<(), Rejection> {
    match plane {
        // SPEC R11: the control plane describes every execution.
        Plane::Control => Ok(()),
        // SPEC R11: the device plane describes only pending ones by default.
        Plane::Data => {
            if state.status.is_pending() || policy.data_plane_describes_terminal {
                Ok(())
            } else {
                Err(Rejection::TerminalState(state))
            }
        }
    }
}

/// What happens to an execution whose thing stops being a target (SPEC T10, R10).
#[must_use]
pub const fn remove_target(status: ExecutionStatus, policy: &Policy) -> Option<ExecutionStatus> {
    match status {
        // SPEC T10.
        ExecutionStatus::Queued => Some(ExecutionStatus::Removed),
        // SPEC R10: IN_PROGRESS → REMOVED by default.
        ExecutionStatus::InProgress => {
            if policy.remove_in_progress {
                Some(ExecutionStatus::Removed)
            } else {
                None
            }
        }
        // SPEC T14 (by analogy): terminal executions are untouched.
        terminal_execution!() => None,
    }
}

/// What happens to an execution when its thing is deleted (DeleteThing): as
/// [`remove_target`] (SPEC T10, R10), except for a job being deleted, whose executions go with
/// the deletion (SPEC R4).
#[must_use]
pub const fn remove_thing(
    job: JobStatus,
    status: ExecutionStatus,
    policy: &Policy,
) -> Option<ExecutionStatus> {
    match job {
        // SPEC R4: executions of a job being deleted are going anyway.
        JobStatus::DeletionInProgress => None,
        JobStatus::InProgress | JobStatus::Scheduled | JobStatus::Canceled | JobStatus::Completed => {
            remove_target(status, policy)
        }
    }
}
