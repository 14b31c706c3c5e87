//! The pure decision functions: one per operation, no storage (SPEC §2–4, §8, §R).
//!
//! Each function takes the state an operation finds, the request and the [`Policy`], and answers
//! with what changes or the [`Rejection`]. The registry applies these answers and never decides
//! them again; the [`conformance`](crate::conformance) tables restate them as data and a test
//! compares the two over every input.
//!
//! Where a request could fail for several reasons, the rules check in this order (documented,
//! because AWS does not say): the request's own values, then the status, then `expectedVersion`,
//! then limits.

use crate::error::{Current, ExecutionState, InvalidRequest, Limit, Operation, Plane, Rejection, Resource};
use crate::id::{ExecutionNumber, VersionNumber};
use crate::policy::{Numbering, Policy, VersionBump};
use crate::status::{ExecutionStatus, JobStatus, TargetSelection};

/// At most this many jobs may be in DELETION_IN_PROGRESS at once (SPEC §6, SEED-CLI).
pub const MAX_JOBS_DELETING: usize = 10;

/// At most this many targets per job for AssociateTargetsWithJob (SPEC §2, §6).
pub const MAX_TARGETS_PER_JOB: usize = 100;

/// Who causes a change; decides whether the version grows under [`VersionBump`] (SPEC R6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Actor {
    /// The device, through UpdateJobExecution or StartNext.
    Device,
    /// The control plane: CancelJob, CancelJobExecution.
    ControlPlane,
    /// The service itself: timeouts, removals, abort, schedules.
    Service,
}

const fn job_conflict(operation: Operation, job: JobStatus) -> Rejection {
    Rejection::InvalidStateTransition { operation, current: Current::Job(job) }
}

const fn execution_conflict(operation: Operation, state: ExecutionState) -> Rejection {
    Rejection::InvalidStateTransition { operation, current: Current::Execution(state) }
}

const fn check_version(state: ExecutionState, expected: Option<VersionNumber>) -> Result<(), Rejection> {
    match expected {
        // SPEC §8 expectedVersion: present and different → rejected, with the current state.
        Some(v) if v.get() != state.version.get() => Err(Rejection::VersionMismatch(state)),
        Some(_) | None => Ok(()),
    }
}

/// CreateJob: the status a new job starts in (SPEC 4.2 CreateJob).
#[must_use]
pub const fn create_job(scheduled: bool) -> JobStatus {
    if scheduled {
        // SPEC 4.2 CreateJob: SCHEDULED if schedulingConfig is given.
        JobStatus::Scheduled
    } else {
        // SPEC 4.2 CreateJob: IN_PROGRESS; executions roll out at once.
        JobStatus::InProgress
    }
}

/// CreateJob: is `jobId` free? `existing` is the status of a job that still has the id.
///
/// # Errors
/// `ResourceAlreadyExists` while any job has the id, including one whose deletion has not
/// completed (SPEC §2: a jobId is reusable only after the deletion completes).
pub const fn job_id_available(existing: Option<JobStatus>) -> Result<(), Rejection> {
    match existing {
        None => Ok(()),
        Some(
            JobStatus::InProgress
            | JobStatus::Canceled
            | JobStatus::Completed
            | JobStatus::DeletionInProgress
            | JobStatus::Scheduled,
        ) => Err(Rejection::AlreadyExists(Resource::Job)),
    }
}

/// Which executions a CancelJob cancels (SPEC 4.2 CancelJob `force`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CancelScope {
    /// QUEUED executions only (force=false).
    Queued,
    /// QUEUED and IN_PROGRESS executions (force=true).
    QueuedAndInProgress,
}

/// What an accepted CancelJob does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CancelJob {
    /// The executions to cancel; apply [`cancel_job_execution_effect`] to each.
    pub scope: CancelScope,
    /// The job's `forceCanceled` after the call.
    pub force_canceled: bool,
}

/// CancelJob (SPEC 4.2 CancelJob, R3, R4, R5). The job becomes CANCELED.
///
/// # Errors
/// `InvalidRequestException` on a COMPLETED, CANCELED or DELETION_IN_PROGRESS job, because
/// CancelJob's model has no 409 shape (R3, R4); with [`Policy::force_cancel_escalates`], a
/// forced CancelJob of a CANCELED job is accepted instead.
pub const fn cancel_job(job: JobStatus, force: bool, policy: &Policy) -> Result<CancelJob, Rejection> {
    let scope = if force { CancelScope::QueuedAndInProgress } else { CancelScope::Queued };
    let refused = Err(Rejection::InvalidRequest(InvalidRequest::CancelJobInStatus(job)));
    match job {
        // SPEC 4.2 CancelJob; R5: a SCHEDULED job cancels like an IN_PROGRESS one.
        JobStatus::InProgress | JobStatus::Scheduled => Ok(CancelJob { scope, force_canceled: force }),
        // SPEC R3 alternative: force escalates the cancel of a CANCELED job.
        JobStatus::Canceled if force && policy.force_cancel_escalates => {
            Ok(CancelJob { scope, force_canceled: true })
        }
        // SPEC R3: CANCELED (default) and COMPLETED → InvalidRequestException, whatever force is.
        JobStatus::Canceled | JobStatus::Completed => refused,
        // SPEC R4: CancelJob on DELETION_IN_PROGRESS → InvalidRequestException.
        JobStatus::DeletionInProgress => refused,
    }
}

/// What an accepted CancelJob does to one of the job's executions: its new status, or `None`
/// when it is left alone (SPEC T8, T9, T14).
#[must_use]
pub const fn cancel_job_execution_effect(
    status: ExecutionStatus,
    scope: CancelScope,
) -> Option<ExecutionStatus> {
    match (status, scope) {
        // SPEC T8: QUEUED → CANCELED, with or without force.
        (ExecutionStatus::Queued, CancelScope::Queued | CancelScope::QueuedAndInProgress) => {
            Some(ExecutionStatus::Canceled)
        }
        // SPEC T9: IN_PROGRESS → CANCELED only with force.
        (ExecutionStatus::InProgress, CancelScope::QueuedAndInProgress) => Some(ExecutionStatus::Canceled),
        // SPEC 4.2 CancelJob: without force IN_PROGRESS executions are untouched.
        (ExecutionStatus::InProgress, CancelScope::Queued) => None,
        // SPEC T14: terminal executions are never touched.
        (
            ExecutionStatus::Succeeded
            | ExecutionStatus::Failed
            | ExecutionStatus::TimedOut
            | ExecutionStatus::Rejected
            | ExecutionStatus::Removed
            | ExecutionStatus::Canceled,
            CancelScope::Queued | CancelScope::QueuedAndInProgress,
        ) => None,
    }
}

/// DeleteJob (SPEC 4.2 DeleteJob, R4, R5, §6). `deleting` is how many jobs are in
/// DELETION_IN_PROGRESS now. On success the job becomes DELETION_IN_PROGRESS.
///
/// # Errors
/// `InvalidStateTransitionException` for a job already being deleted (R4) or a job that is not
/// terminal without force; `LimitExceededException` (410) when 10 jobs are being deleted.
pub const fn delete_job(job: JobStatus, force: bool, deleting: usize) -> Result<(), Rejection> {
    match job {
        // SPEC 4.2 DeleteJob: COMPLETED or CANCELED need no force.
        JobStatus::Completed | JobStatus::Canceled => {}
        // SPEC 4.2 DeleteJob (force deletes IN_PROGRESS); R5: SCHEDULED like IN_PROGRESS.
        JobStatus::InProgress | JobStatus::Scheduled => {
            if !force {
                return Err(job_conflict(Operation::DeleteJob, job));
            }
        }
        // SPEC R4: deleting again is an error, whatever force is.
        JobStatus::DeletionInProgress => return Err(job_conflict(Operation::DeleteJob, job)),
    }
    // SPEC §6: the 11th concurrent deletion → LimitExceededException (410).
    if deleting >= MAX_JOBS_DELETING {
        return Err(Rejection::LimitExceeded(Limit::JobsDeletionInProgress));
    }
    Ok(())
}

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
        ExecutionStatus::Succeeded
        | ExecutionStatus::Failed
        | ExecutionStatus::TimedOut
        | ExecutionStatus::Rejected
        | ExecutionStatus::Removed
        | ExecutionStatus::Canceled => {
            return Err(execution_conflict(Operation::CancelJobExecution, state));
        }
    }
    match check_version(state, expected) {
        Ok(()) => Ok(CancelExecution { force_canceled: force }),
        Err(e) => Err(e),
    }
}

/// DeleteJobExecution (SPEC 4.2 DeleteJobExecution, T11, R1, R2, SEED-DJE).
///
/// # Errors
/// `InvalidStateTransitionException` (409) when the status needs force and none was given.
pub const fn delete_execution(state: ExecutionState, force: bool, policy: &Policy) -> Result<(), Rejection> {
    let allowed = match state.status {
        // SEED-DJE: the terminal list deletes without force.
        ExecutionStatus::Succeeded
        | ExecutionStatus::Failed
        | ExecutionStatus::Rejected
        | ExecutionStatus::Removed
        | ExecutionStatus::Canceled => true,
        // SPEC R1: TIMED_OUT is terminal (default); the literal seed list needs force.
        ExecutionStatus::TimedOut => force || policy.delete_without_force.timed_out,
        // SPEC R2: QUEUED needs force (default); the developer guide allows it without.
        ExecutionStatus::Queued => force || policy.delete_without_force.queued,
        // SEED-DJE: force deletes an IN_PROGRESS execution.
        ExecutionStatus::InProgress => force,
    };
    if allowed { Ok(()) } else { Err(execution_conflict(Operation::DeleteJobExecution, state)) }
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
    let refused = Err(execution_conflict(Operation::UpdateJobExecution, state));
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
            ExecutionStatus::Queued
            | ExecutionStatus::InProgress
            | ExecutionStatus::Succeeded
            | ExecutionStatus::Failed
            | ExecutionStatus::TimedOut
            | ExecutionStatus::Rejected
            | ExecutionStatus::Removed
            | ExecutionStatus::Canceled => {}
        },
        // SPEC T3, T4.
        ExecutionStatus::InProgress => {}
        // SPEC T6: a terminal execution never changes.
        ExecutionStatus::Succeeded
        | ExecutionStatus::Failed
        | ExecutionStatus::TimedOut
        | ExecutionStatus::Rejected
        | ExecutionStatus::Removed
        | ExecutionStatus::Canceled => return refused,
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
        ExecutionStatus::Succeeded
        | ExecutionStatus::Failed
        | ExecutionStatus::TimedOut
        | ExecutionStatus::Rejected
        | ExecutionStatus::Removed
        | ExecutionStatus::Canceled => None,
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
            ExecutionStatus::Succeeded
            | ExecutionStatus::Failed
            | ExecutionStatus::TimedOut
            | ExecutionStatus::Rejected
            | ExecutionStatus::Removed
            | ExecutionStatus::Canceled => {
                Err(execution_conflict(Operation::StartNextPendingJobExecution, state))
            }
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

/// Does the job complete now? (SPEC §2 COMPLETED.) `all_terminal`: every execution of the job
/// is terminal. `end_passed`: a scheduling `endTime` exists and has passed.
#[must_use]
pub const fn job_completes(
    job: JobStatus,
    selection: TargetSelection,
    all_terminal: bool,
    end_passed: bool,
) -> bool {
    match job {
        JobStatus::InProgress => match selection {
            // SPEC §2: a SNAPSHOT job completes when every execution is terminal.
            TargetSelection::Snapshot => all_terminal,
            // SPEC §2: a CONTINUOUS job completes only after a passed endTime.
            TargetSelection::Continuous => all_terminal && end_passed,
        },
        // SPEC §2: only an IN_PROGRESS job completes.
        JobStatus::Scheduled | JobStatus::Canceled | JobStatus::Completed | JobStatus::DeletionInProgress => {
            false
        }
    }
}

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
        ExecutionStatus::Succeeded
        | ExecutionStatus::Failed
        | ExecutionStatus::TimedOut
        | ExecutionStatus::Rejected
        | ExecutionStatus::Removed
        | ExecutionStatus::Canceled => None,
    }
}

/// AssociateTargetsWithJob, or a new member of a CONTINUOUS job's group (SPEC §2).
/// `targets_after`: the job's target count if the request is accepted.
///
/// # Errors
/// `InvalidRequestException` for a SNAPSHOT job or a job that is not IN_PROGRESS;
/// `LimitExceededException` past 100 targets.
pub const fn associate_targets(
    job: JobStatus,
    selection: TargetSelection,
    targets_after: usize,
) -> Result<(), Rejection> {
    match selection {
        TargetSelection::Continuous => {}
        // SPEC §2: AssociateTargetsWithJob needs targetSelection=CONTINUOUS.
        TargetSelection::Snapshot => {
            return Err(Rejection::InvalidRequest(InvalidRequest::TargetsNeedContinuousJob));
        }
    }
    match job {
        JobStatus::InProgress => {}
        // SPEC §2: and job status IN_PROGRESS.
        JobStatus::Scheduled | JobStatus::Canceled | JobStatus::Completed | JobStatus::DeletionInProgress => {
            return Err(Rejection::InvalidRequest(InvalidRequest::TargetsNeedInProgressJob(job)));
        }
    }
    // SPEC §6: at most 100 targets in total.
    if targets_after > MAX_TARGETS_PER_JOB {
        return Err(Rejection::LimitExceeded(Limit::TargetsPerJob));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn state(status: ExecutionStatus, version: u64) -> ExecutionState {
        ExecutionState {
            status,
            version: match VersionNumber::new(version) {
                Ok(v) => v,
                Err(_) => VersionNumber::INITIAL,
            },
        }
    }

    fn v(n: u64) -> VersionNumber {
        VersionNumber::new(n).unwrap()
    }

    #[test]
    fn update_checks_status_before_version() {
        let p = Policy::DEFAULT;
        let done = state(ExecutionStatus::Succeeded, 4);
        // Terminal and stale: the status answer comes first.
        assert!(matches!(
            update_execution(done, ExecutionStatus::InProgress, Some(v(1)), &p),
            Err(Rejection::InvalidStateTransition { .. })
        ));
        let running = state(ExecutionStatus::InProgress, 4);
        assert_eq!(
            update_execution(running, ExecutionStatus::Succeeded, Some(v(3)), &p),
            Err(Rejection::VersionMismatch(running))
        );
        assert_eq!(
            update_execution(running, ExecutionStatus::Succeeded, Some(v(4)), &p),
            Ok(ExecutionStatus::Succeeded)
        );
    }

    #[test]
    fn delete_job_limit_is_the_eleventh() {
        assert_eq!(delete_job(JobStatus::Completed, false, 9), Ok(()));
        assert_eq!(
            delete_job(JobStatus::Completed, false, 10),
            Err(Rejection::LimitExceeded(Limit::JobsDeletionInProgress))
        );
        // The state answer wins over the limit.
        assert!(matches!(
            delete_job(JobStatus::InProgress, false, 10),
            Err(Rejection::InvalidStateTransition { .. })
        ));
    }

    #[test]
    fn numbering_reuses_or_not() {
        let p = Policy::DEFAULT;
        let n = |x| ExecutionNumber::new(x).unwrap();
        assert_eq!(next_execution_number(None, None, &p), Ok(ExecutionNumber::FIRST));
        // The newest (3) was deleted: 2 is the highest existing, so 3 is reused.
        assert_eq!(next_execution_number(Some(n(2)), Some(n(3)), &p), Ok(n(3)));
        let mono = Policy { numbering: Numbering::Monotonic, ..p };
        assert_eq!(next_execution_number(Some(n(2)), Some(n(3)), &mono), Ok(n(4)));
        assert_eq!(next_execution_number(None, Some(n(3)), &mono), Ok(n(4)));
        assert_eq!(
            next_execution_number(Some(ExecutionNumber::MAX), None, &p),
            Err(Rejection::LimitExceeded(Limit::Counter))
        );
    }

    #[test]
    fn versions_bump_per_policy() {
        let p = Policy::DEFAULT;
        assert_eq!(version_after(v(1), Actor::ControlPlane, &p), Ok(v(2)));
        let dev_only = Policy { version_bump: VersionBump::DeviceUpdatesOnly, ..p };
        assert_eq!(version_after(v(1), Actor::Service, &dev_only), Ok(v(1)));
        assert_eq!(version_after(v(1), Actor::Device, &dev_only), Ok(v(2)));
        assert_eq!(
            version_after(VersionNumber::MAX, Actor::Device, &p),
            Err(Rejection::LimitExceeded(Limit::Counter))
        );
    }

    #[test]
    fn associate_targets_rules() {
        use TargetSelection::*;
        assert_eq!(associate_targets(JobStatus::InProgress, Continuous, 100), Ok(()));
        assert_eq!(
            associate_targets(JobStatus::InProgress, Continuous, 101),
            Err(Rejection::LimitExceeded(Limit::TargetsPerJob))
        );
        assert_eq!(
            associate_targets(JobStatus::InProgress, Snapshot, 1),
            Err(Rejection::InvalidRequest(InvalidRequest::TargetsNeedContinuousJob))
        );
        assert_eq!(
            associate_targets(JobStatus::Scheduled, Continuous, 1),
            Err(Rejection::InvalidRequest(InvalidRequest::TargetsNeedInProgressJob(JobStatus::Scheduled)))
        );
    }

    #[test]
    fn job_id_reuse_only_after_deletion_completes() {
        assert_eq!(job_id_available(None), Ok(()));
        for s in JobStatus::ALL {
            assert_eq!(job_id_available(Some(s)), Err(Rejection::AlreadyExists(Resource::Job)));
        }
    }
}
