//! The pure decision functions: one per operation, no storage (SPEC §2–4, §8, §R).
//!
//! Each function takes the state an operation finds, the request and the
//! [`Policy`](crate::Policy), and answers with what changes or the [`Rejection`]. The registry
//! applies these answers and never decides them again; the [`conformance`](crate::conformance) tables restate them as data and a test
//! compares the two over every input.
//!
//! The service's own decisions are here too: retries and abort criteria ([`retry()`],
//! [`abort_due`]), schedule events, rollout pacing, maintenance windows and timers
//! ([`schedule_event`], [`next_job_event`], [`maintenance_window`], [`window`], [`ramp_up`],
//! [`ramp_batch`], [`timer_on_status`], [`step_deadline`]),
//! device access and unknown things ([`device_access`], [`unknown_thing`]), when a target gets a
//! new execution ([`queue_on_rejoin`]), the notification topics of a change ([`notify_topics`]), statusDetails writes ([`merge_details`]), UpdateJob's
//! merge ([`update_job_config`]) and the schedule's bounds ([`schedule_bounds`]).
//!
//! Where a request could fail for several reasons, the rules check in this order (documented,
//! because AWS does not say): the request's own values, then the status, then `expectedVersion`,
//! then limits.

mod delete;
mod details;
mod device;
mod execution;
mod job;
mod job_config;
mod notify;
mod numbering;
mod retry;
mod time;

pub use delete::*;
pub use details::*;
pub use device::*;
pub use execution::*;
pub use job::*;
pub use job_config::*;
pub use notify::*;
pub use numbering::*;
pub use retry::*;
pub use time::*;

use crate::error::{Current, ExecutionState, Operation, Rejection};
use crate::id::VersionNumber;
use crate::status::JobStatus;

/// At most this many jobs may be in DELETION_IN_PROGRESS at once (SPEC §6, SEED-CLI).
pub const MAX_JOBS_DELETING: usize = 10;

/// At most this many targets per job for AssociateTargetsWithJob (SPEC §2, §6).
pub const MAX_TARGETS_PER_JOB: usize = 100;

/// Who causes a change; decides whether the version grows under [`VersionBump`](crate::policy::VersionBump) (SPEC R6).
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
    Rejection::InvalidStateTransition { operation, current: Current::Job(job), requested: None }
}

const fn execution_conflict(operation: Operation, state: ExecutionState) -> Rejection {
    Rejection::InvalidStateTransition { operation, current: Current::Execution(state), requested: None }
}

const fn check_version(state: ExecutionState, expected: Option<VersionNumber>) -> Result<(), Rejection> {
    match expected {
        // SPEC §8 expectedVersion: present and different → rejected, with the current state.
        Some(v) if v.get() != state.version.get() => Err(Rejection::VersionMismatch(state)),
        Some(_) | None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
