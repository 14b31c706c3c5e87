//! DeleteJob and DeleteJobExecution (SPEC 4.2, T11, R1, R2, R4, §6, SEED-DJE).

use super::{MAX_JOBS_DELETING, execution_conflict, job_conflict};
use crate::error::{ExecutionState, Limit, Operation, Rejection};
use crate::policy::Policy;
use crate::status::{ExecutionStatus, JobStatus};

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
