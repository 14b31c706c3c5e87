//! Retries and abort criteria: what a failed, timed-out or rejected execution sets off (SPEC T12,
//! §6 Retries, §6 Abort).

use crate::config::{AbortConfig, AbortCriterion, RetryConfig};
use crate::status::{ExecutionStatus, FailureType, JobStatus, RetryableFailureType};

/// The retries one (job, thing) has used, per failure type (SPEC §6 Retries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RetriesUsed {
    /// Retries after FAILED.
    pub failed: u8,
    /// Retries after TIMED_OUT.
    pub timed_out: u8,
}

impl RetriesUsed {
    /// No retries used: where a (job, thing) starts, and starts again when it is targeted anew
    /// (SPEC T12).
    pub const NONE: Self = Self { failed: 0, timed_out: 0 };

    /// Retries used over both failure types.
    #[must_use]
    pub fn total(self) -> u16 {
        u16::from(self.failed).saturating_add(u16::from(self.timed_out))
    }
}

/// A retry the rules grant: a new QUEUED execution of the same (job, thing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Retry {
    /// The ended execution's failure: [`RetryableFailureType::Failed`] or
    /// [`RetryableFailureType::TimedOut`].
    pub failure: RetryableFailureType,
    /// The criterion that grants it: the one for `failure`, else the one for `ALL`.
    pub criterion: RetryableFailureType,
    /// The retries used once this one is counted (store them).
    pub used: RetriesUsed,
}

/// The failure type an execution status counts as for retries: FAILED and TIMED_OUT only
/// (SPEC T12: REJECTED is never retried; the other statuses are not failures).
#[must_use]
pub const fn retry_failure(status: ExecutionStatus) -> Option<RetryableFailureType> {
    match charge(status, RetriesUsed { failed: 0, timed_out: 0 }) {
        Some((failure, _, _)) => Some(failure),
        None => None,
    }
}

/// The failure type of `status`, the retries its counter has used, and the counters once one
/// more is used.
const fn charge(
    status: ExecutionStatus,
    used: RetriesUsed,
) -> Option<(RetryableFailureType, u8, RetriesUsed)> {
    match status {
        // SPEC T12, §6 Retries: FAILED and TIMED_OUT are retried, each with its own counter.
        ExecutionStatus::Failed => Some((
            RetryableFailureType::Failed,
            used.failed,
            RetriesUsed { failed: used.failed.saturating_add(1), timed_out: used.timed_out },
        )),
        ExecutionStatus::TimedOut => Some((
            RetryableFailureType::TimedOut,
            used.timed_out,
            RetriesUsed { failed: used.failed, timed_out: used.timed_out.saturating_add(1) },
        )),
        // SPEC T12: REJECTED never; the others are not failures.
        ExecutionStatus::Queued
        | ExecutionStatus::InProgress
        | ExecutionStatus::Succeeded
        | ExecutionStatus::Rejected
        | ExecutionStatus::Removed
        | ExecutionStatus::Canceled => None,
    }
}

/// Whether a job in `job` still gets new executions from retries: only a live job, one that is
/// IN_PROGRESS or SCHEDULED (SPEC T12; a canceled, completed or deleting job gets none).
#[must_use]
pub const fn job_retries(job: JobStatus) -> bool {
    match job {
        JobStatus::InProgress | JobStatus::Scheduled => true,
        JobStatus::Canceled | JobStatus::Completed | JobStatus::DeletionInProgress => false,
    }
}

/// Is an execution that just reached `status` retried? (SPEC T12, §6 Retries.) `used`: the
/// retries the (job, thing) used so far.
///
/// A retry needs a live job ([`job_retries`]), a retriable status ([`retry_failure`]), fewer
/// than [`RetryConfig::MAX_TOTAL`] retries used in total, and a criterion for the failure type
/// (else one for `ALL`) whose `numberOfRetries` exceeds the retries it has counted (an `ALL`
/// criterion counts both types).
#[must_use]
pub fn retry(
    job: JobStatus,
    status: ExecutionStatus,
    config: Option<&RetryConfig>,
    used: RetriesUsed,
) -> Option<Retry> {
    if !job_retries(job) {
        return None;
    }
    let (failure, spent, after) = charge(status, used)?;
    // SPEC §6 Retries: at most 10 retries per device over all criteria.
    if used.total() >= u16::from(RetryConfig::MAX_TOTAL) {
        return None;
    }
    let config = config?;
    // SPEC §6 Retries: the criterion for this failure type, else the one for ALL.
    let criterion = config
        .criteria()
        .find(|c| c.failure == failure)
        .or_else(|| config.criteria().find(|c| c.failure == RetryableFailureType::All))?;
    let spent = match criterion.failure {
        // SPEC §6 Retries: an ALL criterion counts the retries of both types.
        RetryableFailureType::All => used.failed.saturating_add(used.timed_out),
        RetryableFailureType::Failed | RetryableFailureType::TimedOut => spent,
    };
    (spent < criterion.retries).then_some(Retry { failure, criterion: criterion.failure, used: after })
}

/// A job's ended executions per status, the inputs of its abort criteria (SPEC §6 Abort).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Executed {
    /// SUCCEEDED executions.
    pub succeeded: u32,
    /// FAILED executions.
    pub failed: u32,
    /// REJECTED executions.
    pub rejected: u32,
    /// TIMED_OUT executions.
    pub timed_out: u32,
}

impl Executed {
    /// Executions that ran to an end: SUCCEEDED, FAILED, REJECTED or TIMED_OUT (SPEC §6 Abort:
    /// `minNumberOfExecutedThings` counts these).
    #[must_use]
    pub fn total(self) -> u64 {
        u64::from(self.succeeded)
            .saturating_add(u64::from(self.failed))
            .saturating_add(u64::from(self.rejected))
            .saturating_add(u64::from(self.timed_out))
    }

    /// The executions an abort criterion for `failure` counts as failures (SPEC §6 Abort:
    /// `ALL` counts FAILED, REJECTED and TIMED_OUT).
    #[must_use]
    pub fn failures(self, failure: FailureType) -> u64 {
        let (f, r, t) = (u64::from(self.failed), u64::from(self.rejected), u64::from(self.timed_out));
        match failure {
            FailureType::Failed => f,
            FailureType::Rejected => r,
            FailureType::TimedOut => t,
            FailureType::All => f.saturating_add(r).saturating_add(t),
        }
    }
}

/// Whether a job in `job` is checked against its abort criteria: only an IN_PROGRESS one
/// (SPEC §6 Abort; a SCHEDULED job has not started, the others have ended).
#[must_use]
pub const fn job_aborts(job: JobStatus) -> bool {
    match job {
        JobStatus::InProgress => true,
        JobStatus::Scheduled | JobStatus::Canceled | JobStatus::Completed | JobStatus::DeletionInProgress => {
            false
        }
    }
}

/// The abort criterion met now, if any (SPEC §6 Abort, R24): at least `minNumberOfExecutedThings`
/// executions ended, at least one of them is a failure of the criterion's type, and the share
/// of those failures reached `thresholdPercentage` (so a threshold of 0 aborts on the first
/// failure, not on the first execution that ends).
/// The first criterion met, in configuration order, is the answer. The job is then canceled as
/// by CancelJob without force (SPEC T8: QUEUED executions only).
#[must_use]
pub fn abort_due(job: JobStatus, config: Option<&AbortConfig>, executed: Executed) -> Option<AbortCriterion> {
    if !job_aborts(job) {
        return None;
    }
    let total = executed.total();
    config?.criteria().find(|a| {
        // SPEC §6 Abort: failures / executed ≥ threshold, in hundredths of a percent, and
        // failures "must occur" (BC-IOT:AbortCriteria.thresholdPercentage).
        let failures = executed.failures(a.failure);
        total >= u64::from(a.min_executed)
            && failures > 0
            && failures.saturating_mul(10_000) >= u64::from(a.threshold_centipercent).saturating_mul(total)
    })
}
