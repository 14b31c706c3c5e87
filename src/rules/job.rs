//! Job-level decisions: creation, CancelJob and its effect on executions, completion, targets
//! (SPEC §2, 4.2, T8, T9, T14, R3, R5).

use super::MAX_TARGETS_PER_JOB;
use crate::error::{InvalidRequest, Limit, Rejection, Resource};
use crate::policy::Policy;
use crate::status::{ExecutionStatus, JobStatus, TargetSelection, terminal_execution};

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
        (terminal_execution!(), CancelScope::Queued | CancelScope::QueuedAndInProgress) => None,
    }
}

/// May a job in status `job` hold an execution in status `execution`? `force_canceled`: the
/// job's `forceCanceled`. A COMPLETED job holds only terminal executions (SPEC §2: it completes
/// once every execution is terminal, and takes no new ones); a CANCELED job holds no QUEUED one
/// (SPEC T8: CancelJob, abort and a schedule's end cancel them, and a CANCELED job neither
/// retries nor takes targets), and no IN_PROGRESS one once canceled with force (SPEC T9).
/// Any other job may hold executions in any status (a forced DeleteJob leaves them as they are).
#[must_use]
pub const fn job_holds(job: JobStatus, force_canceled: bool, execution: ExecutionStatus) -> bool {
    match job {
        JobStatus::InProgress | JobStatus::Scheduled | JobStatus::DeletionInProgress => true,
        // SPEC §2 COMPLETED.
        JobStatus::Completed => execution.is_terminal(),
        JobStatus::Canceled => match execution {
            // SPEC T8: QUEUED → CANCELED, with or without force.
            ExecutionStatus::Queued => false,
            // SPEC T9: IN_PROGRESS → CANCELED with force; without, it runs on.
            ExecutionStatus::InProgress => !force_canceled,
            // SPEC T14: terminal executions are never touched.
            terminal_execution!() => true,
        },
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

/// CreateJob's target ARNs (SPEC §5 JobTargets, §6 targets): at least one (a group may still
/// have no things) and at most 100, the limit AssociateTargetsWithJob keeps "in all".
///
/// # Errors
/// `InvalidRequestException` for none; `LimitExceededException` past 100.
pub const fn job_targets(targets: usize) -> Result<(), Rejection> {
    if targets == 0 {
        return Err(Rejection::InvalidRequest(InvalidRequest::NoTargets));
    }
    if targets > MAX_TARGETS_PER_JOB {
        return Err(Rejection::LimitExceeded(Limit::TargetsPerJob));
    }
    Ok(())
}

/// AssociateTargetsWithJob (SPEC §2), and how the job takes the new targets (SPEC R26).
/// `targets_after`: the job's target count if the request is accepted; `rolling_out`: the job's
/// rollout has targets left to reach (a paced rollout between its batches).
///
/// # Errors
/// `InvalidRequestException` for a SNAPSHOT job or a job that is not IN_PROGRESS;
/// `LimitExceededException` past 100 targets.
pub const fn associate_targets(
    job: JobStatus,
    selection: TargetSelection,
    targets_after: usize,
    rolling_out: bool,
) -> Result<TargetJoin, Rejection> {
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
    Ok(behind_rollout(rolling_out))
}

/// SPEC R26: a new target waits behind the targets a paced rollout has yet to reach; with none
/// left, it is queued at once.
const fn behind_rollout(rolling_out: bool) -> TargetJoin {
    if rolling_out { TargetJoin::Rollout } else { TargetJoin::Queue }
}

/// How a job takes a thing that becomes its target: one that joined a thing group the job
/// targets, or one AssociateTargetsWithJob adds (SPEC T1, R21, R26).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TargetJoin {
    /// A QUEUED execution now: the job is IN_PROGRESS, or SCHEDULED between maintenance
    /// windows (its QUEUED executions are listed when the next one opens, AMBIG-13), and its
    /// rollout has no target left to reach.
    Queue,
    /// A place at the end of the rollout: the execution comes when the rollout reaches the
    /// thing, at its pace. The job has not started (its first batch takes the thing with the
    /// others), or its paced rollout has targets left (R26).
    Rollout,
    /// Nothing: the job's end passed before it ever started, so its rollout is over.
    Nothing,
}

/// A thing joined a group that a job targets (`started`: the job went IN_PROGRESS before;
/// `ended`: its `endTime` passed; `rolling_out`: its rollout has targets left to reach).
///
/// # Errors
/// `InvalidRequestException` for a SNAPSHOT job (its targets were fixed at its creation) or a
/// job that no longer rolls out (CANCELED, COMPLETED, DELETION_IN_PROGRESS).
pub const fn group_join(
    job: JobStatus,
    selection: TargetSelection,
    started: bool,
    ended: bool,
    rolling_out: bool,
) -> Result<TargetJoin, Rejection> {
    match selection {
        TargetSelection::Continuous => {}
        // SPEC §2: a SNAPSHOT job's targets are the things at its creation.
        TargetSelection::Snapshot => {
            return Err(Rejection::InvalidRequest(InvalidRequest::TargetsNeedContinuousJob));
        }
    }
    match job {
        // SPEC T1, R26.
        JobStatus::InProgress => Ok(behind_rollout(rolling_out)),
        // SPEC R21: before the start the rollout has every target to reach; between windows
        // it has begun, and the execution waits, unlisted, for the next window (R26: or for
        // the rollout, when it has targets left).
        JobStatus::Scheduled => Ok(match (started, ended) {
            (true, _) => behind_rollout(rolling_out),
            (false, false) => TargetJoin::Rollout,
            (false, true) => TargetJoin::Nothing,
        }),
        JobStatus::Canceled | JobStatus::Completed | JobStatus::DeletionInProgress => {
            Err(Rejection::InvalidRequest(InvalidRequest::TargetsNeedInProgressJob(job)))
        }
    }
}

/// Does a thing that leaves a thing group a job targets leave the job's targets (SPEC T10)?
/// Only a CONTINUOUS job's. A SNAPSHOT job's targets are the things its creation found in the
/// groups (SPEC §2), so a thing that leaves one later keeps its execution, or its place in a
/// rollout that has not reached it yet.
#[must_use]
pub const fn group_leave(selection: TargetSelection) -> bool {
    match selection {
        TargetSelection::Continuous => true,
        TargetSelection::Snapshot => false,
    }
}

/// `isConcurrent` (SPEC §2, job facts): whether a job in `job` still rolls out new executions or
/// takes old ones away. A SCHEDULED or IN_PROGRESS job while its rollout has targets left
/// (`rolling_out`: between the batches of a paced rollout, before its `startTime` or between
/// its maintenance windows, until its end); a DELETION_IN_PROGRESS job while it still has
/// executions (`executions_left`); never a CANCELED or COMPLETED one (cancellation is done at
/// once).
#[must_use]
pub const fn job_is_concurrent(job: JobStatus, rolling_out: bool, executions_left: bool) -> bool {
    match job {
        JobStatus::Scheduled | JobStatus::InProgress => rolling_out,
        JobStatus::DeletionInProgress => executions_left,
        JobStatus::Canceled | JobStatus::Completed => false,
    }
}
