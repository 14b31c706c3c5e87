//! Read-only views of stored jobs and executions.

use super::entries::{ExecutionEntry, JobEntry};
use super::types::{ExecutionHandle, JobHandle, ProcessDetails};
use crate::config::JobConfig;
use crate::details::Pairs;
use crate::error::ExecutionState;
use crate::id::{ExecutionNumber, JobId, NamespaceId, ReasonCode, ThingName, Timestamp, VersionNumber};
use crate::status::{ExecutionStatus, JobStatus, TargetSelection};
use core::fmt;

/// A read-only view of one execution.
#[derive(Clone, Copy)]
pub struct ExecutionView<'r> {
    pub(super) handle: ExecutionHandle,
    pub(super) entry: &'r ExecutionEntry,
    pub(super) job: &'r JobEntry,
    pub(super) thing: &'r ThingName,
    /// The encoded statusDetails map (empty: none).
    pub(super) details: &'r [u8],
}

impl<'r> ExecutionView<'r> {
    /// Its handle.
    #[must_use]
    pub fn handle(&self) -> ExecutionHandle {
        self.handle
    }
    /// `jobId`.
    #[must_use]
    pub fn job_id(&self) -> &'r JobId {
        &self.job.id
    }
    /// `thingName`.
    #[must_use]
    pub fn thing_name(&self) -> &'r ThingName {
        self.thing
    }
    /// `executionNumber`.
    #[must_use]
    pub fn number(&self) -> ExecutionNumber {
        self.entry.number()
    }
    /// `status`.
    #[must_use]
    pub fn status(&self) -> ExecutionStatus {
        self.entry.status
    }
    /// `versionNumber`.
    #[must_use]
    pub fn version(&self) -> VersionNumber {
        self.entry.version()
    }
    /// Status and version, as an ErrorResponse's `executionState` carries them.
    #[must_use]
    pub fn state(&self) -> ExecutionState {
        ExecutionState { status: self.entry.status, version: self.entry.version() }
    }
    /// `queuedAt`.
    #[must_use]
    pub fn queued_at(&self) -> Timestamp {
        self.entry.queued_at.get()
    }
    /// `startedAt`, once it went IN_PROGRESS.
    #[must_use]
    pub fn started_at(&self) -> Option<Timestamp> {
        self.entry.started_at.get_opt()
    }
    /// `lastUpdatedAt`.
    #[must_use]
    pub fn last_updated_at(&self) -> Timestamp {
        self.entry.last_updated_at.get()
    }
    /// `forceCanceled`.
    #[must_use]
    pub fn force_canceled(&self) -> bool {
        self.entry.flags.force_canceled()
    }
    /// `retryAttempt`.
    #[must_use]
    pub fn retry_attempt(&self) -> u8 {
        self.entry.flags.retry_attempt()
    }
    /// When it times out, if it can (SPEC T7).
    #[must_use]
    pub fn deadline(&self) -> Option<Timestamp> {
        self.entry.deadline.get_opt().filter(|_| self.entry.status == ExecutionStatus::InProgress)
    }

    /// `approximateSecondsBeforeTimedOut` at `now` (SPEC §3 timer facts): absent unless it is
    /// IN_PROGRESS with a timer.
    #[must_use]
    pub fn approximate_seconds_before_timed_out(&self, now: Timestamp) -> Option<u64> {
        self.deadline().map(|d| d.saturating_since(now))
    }
    /// `statusDetails` pairs.
    pub fn status_details(&self) -> Pairs<'r> {
        Pairs::new(self.details)
    }
    /// The job's status.
    #[must_use]
    pub fn job_status(&self) -> JobStatus {
        self.job.status
    }
    /// The namespace the job was created in, if any.
    #[must_use]
    pub fn job_namespace(&self) -> Option<&'r NamespaceId> {
        self.job.namespace.as_ref()
    }
}

impl fmt::Debug for ExecutionView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecutionView")
            .field("job", &self.job.id)
            .field("thing", &self.thing)
            .field("number", &self.entry.number())
            .field("status", &self.entry.status)
            .field("version", &self.entry.version())
            .finish_non_exhaustive()
    }
}

/// A read-only view of one job.
#[derive(Clone, Copy)]
pub struct JobView<'r> {
    pub(super) handle: JobHandle,
    pub(super) entry: &'r JobEntry,
}

impl<'r> JobView<'r> {
    /// Its handle.
    #[must_use]
    pub fn handle(&self) -> JobHandle {
        self.handle
    }
    /// `jobId`.
    #[must_use]
    pub fn id(&self) -> &'r JobId {
        &self.entry.id
    }
    /// `status`.
    #[must_use]
    pub fn status(&self) -> JobStatus {
        self.entry.status
    }
    /// `targetSelection`.
    #[must_use]
    pub fn target_selection(&self) -> TargetSelection {
        self.entry.selection
    }
    /// `namespaceId`.
    #[must_use]
    pub fn namespace(&self) -> Option<&'r NamespaceId> {
        self.entry.namespace.as_ref()
    }
    /// `createdAt`.
    #[must_use]
    pub fn created_at(&self) -> Timestamp {
        self.entry.created_at.get()
    }
    /// `lastUpdatedAt`.
    #[must_use]
    pub fn last_updated_at(&self) -> Timestamp {
        self.entry.last_updated_at.get()
    }
    /// `completedAt`.
    #[must_use]
    pub fn completed_at(&self) -> Option<Timestamp> {
        self.entry.completed_at.get_opt()
    }
    /// `reasonCode`.
    #[must_use]
    pub fn reason_code(&self) -> Option<&'r ReasonCode> {
        self.entry.reason_code.as_ref()
    }
    /// `forceCanceled`.
    #[must_use]
    pub fn force_canceled(&self) -> bool {
        self.entry.force_canceled
    }
    /// `jobProcessDetails`.
    #[must_use]
    pub fn process_details(&self) -> ProcessDetails {
        self.entry.process
    }
    /// Distinct things targeted.
    #[must_use]
    pub fn targets(&self) -> u32 {
        self.entry.targets
    }
    /// Its configuration.
    #[must_use]
    pub fn config(&self) -> &'r JobConfig {
        &self.entry.config
    }
    /// `isConcurrent`: whether it still rolls out new executions or takes old ones away (SPEC
    /// job facts): a SCHEDULED or IN_PROGRESS job whose rollout has targets left (a paced
    /// rollout between batches, a schedule or maintenance window it waits for), or a job
    /// DELETION_IN_PROGRESS that still has executions.
    /// Decided by [`rules::job_is_concurrent`](crate::rules::job_is_concurrent).
    #[must_use]
    pub fn is_concurrent(&self) -> bool {
        let e = self.entry;
        let rolling_out = e.rollout_next.is_some() && !e.ended;
        crate::rules::job_is_concurrent(e.status, rolling_out, e.executions.head.is_some())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for ExecutionView<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "ExecutionView {{ job: {}, thing: {}, number: {}, status: {}, version: {}, .. }}",
            self.job.id,
            self.thing,
            self.entry.number(),
            self.entry.status,
            self.entry.version()
        );
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for JobView<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "JobView {{ id: {}, status: {}, .. }}", self.entry.id, self.entry.status);
    }
}

impl fmt::Debug for JobView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobView")
            .field("id", &self.entry.id)
            .field("status", &self.entry.status)
            .finish_non_exhaustive()
    }
}
