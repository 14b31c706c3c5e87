//! The control-plane and device operations, row by row (SPEC §4).

use super::*;
use crate::status::{ExecutionStatus, JobStatus, TargetSelection};

use ExecutionStatus as E;
use JobStatus as J;

/// One CancelJob input (SPEC 4.2 CancelJob, R3, R4, R5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CancelJobRow {
    /// The job's status.
    pub job: JobStatus,
    /// `force`.
    pub force: bool,
    /// The answer; an accepted CancelJob makes the job CANCELED.
    pub outcome: Outcome,
    /// The executions it cancels, if accepted.
    pub cancels: &'static [ExecutionStatus],
    /// `forceCanceled` after an accepted call.
    pub force_canceled: bool,
    /// Source.
    pub spec: &'static str,
}

const QUEUED_ONLY: &[ExecutionStatus] = &[E::Queued];
const QUEUED_AND_RUNNING: &[ExecutionStatus] = &[E::Queued, E::InProgress];
const NONE: &[ExecutionStatus] = &[];

/// SPEC 4.2 CancelJob, every (job status × force).
pub const CANCEL_JOB: [CancelJobRow; 10] = [
    CancelJobRow {
        job: J::InProgress,
        force: false,
        outcome: OK,
        cancels: QUEUED_ONLY,
        force_canceled: false,
        spec: "SPEC 4.2 CancelJob",
    },
    CancelJobRow {
        job: J::InProgress,
        force: true,
        outcome: OK,
        cancels: QUEUED_AND_RUNNING,
        force_canceled: true,
        spec: "SPEC 4.2 CancelJob",
    },
    CancelJobRow {
        job: J::Canceled,
        force: false,
        outcome: BAD,
        cancels: NONE,
        force_canceled: false,
        spec: "SPEC R3",
    },
    CancelJobRow {
        job: J::Canceled,
        force: true,
        outcome: BAD,
        cancels: NONE,
        force_canceled: false,
        spec: "SPEC R3",
    },
    CancelJobRow {
        job: J::Completed,
        force: false,
        outcome: BAD,
        cancels: NONE,
        force_canceled: false,
        spec: "SPEC R3",
    },
    CancelJobRow {
        job: J::Completed,
        force: true,
        outcome: BAD,
        cancels: NONE,
        force_canceled: false,
        spec: "SPEC R3",
    },
    CancelJobRow {
        job: J::DeletionInProgress,
        force: false,
        outcome: BAD,
        cancels: NONE,
        force_canceled: false,
        spec: "SPEC R3",
    },
    CancelJobRow {
        job: J::DeletionInProgress,
        force: true,
        outcome: BAD,
        cancels: NONE,
        force_canceled: false,
        spec: "SPEC R3",
    },
    CancelJobRow {
        job: J::Scheduled,
        force: false,
        outcome: OK,
        cancels: QUEUED_ONLY,
        force_canceled: false,
        spec: "SPEC R5",
    },
    CancelJobRow {
        job: J::Scheduled,
        force: true,
        outcome: OK,
        cancels: QUEUED_AND_RUNNING,
        force_canceled: true,
        spec: "SPEC R5",
    },
];

/// One DeleteJob input (SPEC 4.2 DeleteJob, R4, R5, §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DeleteJobRow {
    /// The job's status.
    pub job: JobStatus,
    /// `force`.
    pub force: bool,
    /// Jobs already in DELETION_IN_PROGRESS.
    pub deleting: usize,
    /// The answer; an accepted DeleteJob makes the job DELETION_IN_PROGRESS.
    pub outcome: Outcome,
    /// Source.
    pub spec: &'static str,
}

/// SPEC 4.2 DeleteJob, every (job status × force × below/at the limit of 10).
pub const DELETE_JOB: [DeleteJobRow; 20] = [
    DeleteJobRow {
        job: J::InProgress,
        force: false,
        deleting: 0,
        outcome: ISTE,
        spec: "SPEC 4.2 DeleteJob, SEED-CLI",
    },
    DeleteJobRow {
        job: J::InProgress,
        force: false,
        deleting: 10,
        outcome: ISTE,
        spec: "SPEC 4.2 DeleteJob",
    },
    DeleteJobRow {
        job: J::InProgress,
        force: true,
        deleting: 0,
        outcome: OK,
        spec: "SPEC 4.2 DeleteJob, SEED-CLI",
    },
    DeleteJobRow {
        job: J::InProgress, force: true, deleting: 10, outcome: LIMIT, spec: "SPEC §6, SEED-CLI"
    },
    DeleteJobRow {
        job: J::Canceled,
        force: false,
        deleting: 0,
        outcome: OK,
        spec: "SPEC 4.2 DeleteJob, SEED-CLI",
    },
    DeleteJobRow { job: J::Canceled, force: false, deleting: 10, outcome: LIMIT, spec: "SPEC §6, SEED-CLI" },
    DeleteJobRow { job: J::Canceled, force: true, deleting: 0, outcome: OK, spec: "SPEC 4.2 DeleteJob" },
    DeleteJobRow { job: J::Canceled, force: true, deleting: 10, outcome: LIMIT, spec: "SPEC §6" },
    DeleteJobRow {
        job: J::Completed,
        force: false,
        deleting: 0,
        outcome: OK,
        spec: "SPEC 4.2 DeleteJob, SEED-CLI",
    },
    DeleteJobRow {
        job: J::Completed, force: false, deleting: 10, outcome: LIMIT, spec: "SPEC §6, SEED-CLI"
    },
    DeleteJobRow { job: J::Completed, force: true, deleting: 0, outcome: OK, spec: "SPEC 4.2 DeleteJob" },
    DeleteJobRow { job: J::Completed, force: true, deleting: 10, outcome: LIMIT, spec: "SPEC §6" },
    DeleteJobRow {
        job: J::DeletionInProgress,
        force: false,
        deleting: 0,
        outcome: ISTE,
        spec: "SPEC R4, SEED-CLI",
    },
    DeleteJobRow { job: J::DeletionInProgress, force: false, deleting: 10, outcome: ISTE, spec: "SPEC R4" },
    DeleteJobRow {
        job: J::DeletionInProgress,
        force: true,
        deleting: 0,
        outcome: ISTE,
        spec: "SPEC R4, SEED-CLI",
    },
    DeleteJobRow { job: J::DeletionInProgress, force: true, deleting: 10, outcome: ISTE, spec: "SPEC R4" },
    DeleteJobRow { job: J::Scheduled, force: false, deleting: 0, outcome: ISTE, spec: "SPEC R5" },
    DeleteJobRow { job: J::Scheduled, force: false, deleting: 10, outcome: ISTE, spec: "SPEC R5" },
    DeleteJobRow { job: J::Scheduled, force: true, deleting: 0, outcome: OK, spec: "SPEC R5" },
    DeleteJobRow { job: J::Scheduled, force: true, deleting: 10, outcome: LIMIT, spec: "SPEC R5, §6" },
];

/// What an operation does to one execution: its new status, or `None` for "left alone".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EffectRow {
    /// The execution's status.
    pub status: ExecutionStatus,
    /// The operation's `force` (or the knob the row depends on).
    pub force: bool,
    /// The new status, or `None` when untouched.
    pub becomes: Option<ExecutionStatus>,
    /// Source.
    pub spec: &'static str,
}

/// What an accepted CancelJob does to each execution of the job (SPEC T8, T9, T14).
pub const CANCEL_JOB_EFFECT: [EffectRow; 16] = [
    EffectRow { status: E::Queued, force: false, becomes: Some(E::Canceled), spec: "SPEC T8" },
    EffectRow { status: E::Queued, force: true, becomes: Some(E::Canceled), spec: "SPEC T8" },
    EffectRow { status: E::InProgress, force: false, becomes: None, spec: "SPEC 4.2 CancelJob" },
    EffectRow { status: E::InProgress, force: true, becomes: Some(E::Canceled), spec: "SPEC T9" },
    EffectRow { status: E::Succeeded, force: false, becomes: None, spec: "SPEC T14" },
    EffectRow { status: E::Succeeded, force: true, becomes: None, spec: "SPEC T14" },
    EffectRow { status: E::Failed, force: false, becomes: None, spec: "SPEC T14" },
    EffectRow { status: E::Failed, force: true, becomes: None, spec: "SPEC T14" },
    EffectRow { status: E::TimedOut, force: false, becomes: None, spec: "SPEC T14" },
    EffectRow { status: E::TimedOut, force: true, becomes: None, spec: "SPEC T14" },
    EffectRow { status: E::Rejected, force: false, becomes: None, spec: "SPEC T14" },
    EffectRow { status: E::Rejected, force: true, becomes: None, spec: "SPEC T14" },
    EffectRow { status: E::Removed, force: false, becomes: None, spec: "SPEC T14" },
    EffectRow { status: E::Removed, force: true, becomes: None, spec: "SPEC T14" },
    EffectRow { status: E::Canceled, force: false, becomes: None, spec: "SPEC T14" },
    EffectRow { status: E::Canceled, force: true, becomes: None, spec: "SPEC T14" },
];

/// One (execution status × force) input of a control-plane execution operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ExecutionRow {
    /// The execution's status.
    pub status: ExecutionStatus,
    /// `force`.
    pub force: bool,
    /// The answer.
    pub outcome: Outcome,
    /// Source.
    pub spec: &'static str,
}

/// DeleteJobExecution, every (execution status × force) (SPEC 4.2, T11, R1, R2, SEED-DJE).
/// An accepted call removes the execution.
pub const DELETE_JOB_EXECUTION: [ExecutionRow; 16] = [
    ExecutionRow { status: E::Queued, force: false, outcome: ISTE, spec: "SPEC R2, SEED-DJE" },
    ExecutionRow { status: E::Queued, force: true, outcome: OK, spec: "SPEC R2" },
    ExecutionRow { status: E::InProgress, force: false, outcome: ISTE, spec: "SEED-DJE" },
    ExecutionRow { status: E::InProgress, force: true, outcome: OK, spec: "SEED-DJE" },
    ExecutionRow { status: E::Succeeded, force: false, outcome: OK, spec: "SEED-DJE" },
    ExecutionRow { status: E::Succeeded, force: true, outcome: OK, spec: "SEED-DJE" },
    ExecutionRow { status: E::Failed, force: false, outcome: OK, spec: "SEED-DJE" },
    ExecutionRow { status: E::Failed, force: true, outcome: OK, spec: "SEED-DJE" },
    ExecutionRow { status: E::TimedOut, force: false, outcome: OK, spec: "SPEC R1" },
    ExecutionRow { status: E::TimedOut, force: true, outcome: OK, spec: "SPEC R1" },
    ExecutionRow { status: E::Rejected, force: false, outcome: OK, spec: "SEED-DJE" },
    ExecutionRow { status: E::Rejected, force: true, outcome: OK, spec: "SEED-DJE" },
    ExecutionRow { status: E::Removed, force: false, outcome: OK, spec: "SEED-DJE" },
    ExecutionRow { status: E::Removed, force: true, outcome: OK, spec: "SEED-DJE" },
    ExecutionRow { status: E::Canceled, force: false, outcome: OK, spec: "SEED-DJE" },
    ExecutionRow { status: E::Canceled, force: true, outcome: OK, spec: "SEED-DJE" },
];

/// CancelJobExecution, every (execution status × force), with `expectedVersion` absent or
/// equal (SPEC 4.2, T8, T9, R16). An accepted call makes the execution CANCELED. A stale
/// `expectedVersion` on an otherwise accepted call is [`VERSION_CHECKS`]' business.
pub const CANCEL_JOB_EXECUTION: [ExecutionRow; 16] = [
    ExecutionRow { status: E::Queued, force: false, outcome: OK, spec: "SPEC T8" },
    ExecutionRow { status: E::Queued, force: true, outcome: OK, spec: "SPEC T8" },
    ExecutionRow { status: E::InProgress, force: false, outcome: ISTE, spec: "SPEC T9, API-CJE" },
    ExecutionRow { status: E::InProgress, force: true, outcome: OK, spec: "SPEC T9" },
    ExecutionRow { status: E::Succeeded, force: false, outcome: ISTE, spec: "SPEC R16, T14" },
    ExecutionRow { status: E::Succeeded, force: true, outcome: ISTE, spec: "SPEC R16, T14" },
    ExecutionRow { status: E::Failed, force: false, outcome: ISTE, spec: "SPEC R16, T14" },
    ExecutionRow { status: E::Failed, force: true, outcome: ISTE, spec: "SPEC R16, T14" },
    ExecutionRow { status: E::TimedOut, force: false, outcome: ISTE, spec: "SPEC R16, T14" },
    ExecutionRow { status: E::TimedOut, force: true, outcome: ISTE, spec: "SPEC R16, T14" },
    ExecutionRow { status: E::Rejected, force: false, outcome: ISTE, spec: "SPEC R16, T14" },
    ExecutionRow { status: E::Rejected, force: true, outcome: ISTE, spec: "SPEC R16, T14" },
    ExecutionRow { status: E::Removed, force: false, outcome: ISTE, spec: "SPEC R16, T14" },
    ExecutionRow { status: E::Removed, force: true, outcome: ISTE, spec: "SPEC R16, T14" },
    ExecutionRow { status: E::Canceled, force: false, outcome: ISTE, spec: "SPEC R16, T14" },
    ExecutionRow { status: E::Canceled, force: true, outcome: ISTE, spec: "SPEC R16, T14" },
];

/// A cell of [`UPDATE_JOB_EXECUTION`]: the status after the update, or the refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Cell {
    /// Accepted; the execution takes the requested status.
    To(ExecutionStatus),
    /// Refused with `InvalidStateTransitionException` (409; MQTT `InvalidStateTransition`).
    Refused,
}

const X: Cell = Cell::Refused;

/// One row of the UpdateJobExecution matrix: a current status and the answer for each requested
/// status, in [`ExecutionStatus::ALL`] order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UpdateRow {
    /// The execution's status.
    pub current: ExecutionStatus,
    /// The answer per requested status, in `ExecutionStatus::ALL` order.
    pub requested: [Cell; 8],
    /// Source.
    pub spec: &'static str,
}

/// UpdateJobExecution, every (current × requested) status, with `expectedVersion` absent or
/// equal (SPEC 4.3, T2–T6, R9).
pub const UPDATE_JOB_EXECUTION: [UpdateRow; 8] = [
    UpdateRow {
        current: E::Queued,
        //          QUEUED IN_PROGRESS          SUCCEEDED           FAILED           TIMED_OUT REJECTED         REMOVED CANCELED
        requested: [
            X,
            Cell::To(E::InProgress),
            Cell::To(E::Succeeded),
            Cell::To(E::Failed),
            X,
            Cell::To(E::Rejected),
            X,
            X,
        ],
        spec: "SPEC T2, T5, T5b, R9",
    },
    UpdateRow {
        current: E::InProgress,
        requested: [
            X,
            Cell::To(E::InProgress),
            Cell::To(E::Succeeded),
            Cell::To(E::Failed),
            X,
            Cell::To(E::Rejected),
            X,
            X,
        ],
        spec: "SPEC T3, T4, R9",
    },
    UpdateRow { current: E::Succeeded, requested: [X; 8], spec: "SPEC T6" },
    UpdateRow { current: E::Failed, requested: [X; 8], spec: "SPEC T6" },
    UpdateRow { current: E::TimedOut, requested: [X; 8], spec: "SPEC T6" },
    UpdateRow { current: E::Rejected, requested: [X; 8], spec: "SPEC T6" },
    UpdateRow { current: E::Removed, requested: [X; 8], spec: "SPEC T6" },
    UpdateRow {
        current: E::Canceled,
        requested: [X; 8],
        spec: "SPEC T6, T9 (a forced cancel locks the device out)",
    },
];

/// How `expectedVersion` is judged, after the status checks pass (SPEC §8, R13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct VersionRow {
    /// The operation.
    pub operation: &'static str,
    /// `expectedVersion` as sent, relative to the stored version.
    pub expected: &'static str,
    /// Control-plane answer (exception, HTTP).
    pub control: Outcome,
    /// Data-plane HTTP answer.
    pub data: Outcome,
    /// MQTT `code`, when refused.
    pub mqtt: Option<ErrorCode>,
    /// Source.
    pub spec: &'static str,
}

/// `expectedVersion` (SPEC §8, R13).
pub const VERSION_CHECKS: [VersionRow; 4] = [
    VersionRow {
        operation: "UpdateJobExecution",
        expected: "absent or equal",
        control: OK,
        data: OK,
        mqtt: None,
        spec: "SPEC §8",
    },
    VersionRow {
        operation: "UpdateJobExecution",
        expected: "different",
        control: CONFLICT,
        data: ISTE,
        mqtt: Some(ErrorCode::VersionMismatch),
        spec: "SPEC §8, R13",
    },
    VersionRow {
        operation: "CancelJobExecution",
        expected: "absent or equal",
        control: OK,
        data: OK,
        mqtt: None,
        spec: "SPEC §8",
    },
    VersionRow {
        operation: "CancelJobExecution",
        expected: "different",
        control: CONFLICT,
        data: ISTE,
        mqtt: Some(ErrorCode::VersionMismatch),
        spec: "SPEC 4.2 CancelJobExecution, R13",
    },
];

/// One DescribeJobExecution input (SPEC 4.2, 4.3, R11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DescribeRow {
    /// The execution's status.
    pub status: ExecutionStatus,
    /// Control plane answer.
    pub control: Outcome,
    /// Data plane (HTTP and MQTT) answer.
    pub data: Outcome,
    /// Source.
    pub spec: &'static str,
}

/// DescribeJobExecution of an existing execution on each plane (SPEC R11).
pub const DESCRIBE_JOB_EXECUTION: [DescribeRow; 8] = [
    DescribeRow { status: E::Queued, control: OK, data: OK, spec: "SPEC 4.2, 4.3" },
    DescribeRow { status: E::InProgress, control: OK, data: OK, spec: "SPEC 4.2, 4.3" },
    DescribeRow { status: E::Succeeded, control: OK, data: TERMINAL, spec: "SPEC R11" },
    DescribeRow { status: E::Failed, control: OK, data: TERMINAL, spec: "SPEC R11" },
    DescribeRow { status: E::TimedOut, control: OK, data: TERMINAL, spec: "SPEC R11" },
    DescribeRow { status: E::Rejected, control: OK, data: TERMINAL, spec: "SPEC R11" },
    DescribeRow { status: E::Removed, control: OK, data: TERMINAL, spec: "SPEC R11" },
    DescribeRow { status: E::Canceled, control: OK, data: TERMINAL, spec: "SPEC R11" },
];

/// One StartNext input: the head of the thing's pending list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StartNextRow {
    /// The head's status, or `None` when nothing is pending.
    pub head: Option<ExecutionStatus>,
    /// What happens.
    pub effect: &'static str,
    /// The head's status afterwards, if any.
    pub becomes: Option<ExecutionStatus>,
    /// Source.
    pub spec: &'static str,
}

/// StartNextPendingJobExecution (SPEC 4.3, T2, T3, R19). The head is the first IN_PROGRESS
/// execution, else the first QUEUED one in queue order.
pub const START_NEXT: [StartNextRow; 3] = [
    StartNextRow { head: None, effect: "200 without `execution`", becomes: None, spec: "SPEC 4.3, R19" },
    StartNextRow {
        head: Some(E::Queued),
        effect: "starts it: statusDetails and step timer applied, version +1",
        becomes: Some(E::InProgress),
        spec: "SPEC T2, R6",
    },
    StartNextRow {
        head: Some(E::InProgress),
        effect: "returns it unchanged",
        becomes: Some(E::InProgress),
        spec: "SPEC T3",
    },
];

/// What a thing leaving a job's targets does to its execution (SPEC T10, R10).
pub const REMOVE_TARGET: [EffectRow; 8] = [
    EffectRow { status: E::Queued, force: false, becomes: Some(E::Removed), spec: "SPEC T10" },
    EffectRow { status: E::InProgress, force: false, becomes: Some(E::Removed), spec: "SPEC R10" },
    EffectRow { status: E::Succeeded, force: false, becomes: None, spec: "SPEC T14" },
    EffectRow { status: E::Failed, force: false, becomes: None, spec: "SPEC T14" },
    EffectRow { status: E::TimedOut, force: false, becomes: None, spec: "SPEC T14" },
    EffectRow { status: E::Rejected, force: false, becomes: None, spec: "SPEC T14" },
    EffectRow { status: E::Removed, force: false, becomes: None, spec: "SPEC T14" },
    EffectRow { status: E::Canceled, force: false, becomes: None, spec: "SPEC T14" },
];

/// One input of job completion (SPEC §2 COMPLETED).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CompletionRow {
    /// Target selection.
    pub selection: TargetSelection,
    /// Every execution of the job is terminal.
    pub all_terminal: bool,
    /// A scheduling `endTime` exists and has passed.
    pub end_passed: bool,
    /// An IN_PROGRESS job becomes COMPLETED.
    pub completes: bool,
    /// Source.
    pub spec: &'static str,
}

/// Only a job in this status can complete (SPEC §2).
pub const COMPLETES_FROM: JobStatus = J::InProgress;

/// When an IN_PROGRESS job becomes COMPLETED (SPEC §2); a job in any other status never does.
pub const JOB_COMPLETION: [CompletionRow; 8] = [
    CompletionRow {
        selection: TargetSelection::Snapshot,
        all_terminal: false,
        end_passed: false,
        completes: false,
        spec: "SPEC §2",
    },
    CompletionRow {
        selection: TargetSelection::Snapshot,
        all_terminal: false,
        end_passed: true,
        completes: false,
        spec: "SPEC §2",
    },
    CompletionRow {
        selection: TargetSelection::Snapshot,
        all_terminal: true,
        end_passed: false,
        completes: true,
        spec: "SPEC §2",
    },
    CompletionRow {
        selection: TargetSelection::Snapshot,
        all_terminal: true,
        end_passed: true,
        completes: true,
        spec: "SPEC §2",
    },
    CompletionRow {
        selection: TargetSelection::Continuous,
        all_terminal: false,
        end_passed: false,
        completes: false,
        spec: "SPEC §2",
    },
    CompletionRow {
        selection: TargetSelection::Continuous,
        all_terminal: false,
        end_passed: true,
        completes: false,
        spec: "SPEC §2",
    },
    CompletionRow {
        selection: TargetSelection::Continuous,
        all_terminal: true,
        end_passed: false,
        completes: false,
        spec: "SPEC §2 (no endTime: never)",
    },
    CompletionRow {
        selection: TargetSelection::Continuous,
        all_terminal: true,
        end_passed: true,
        completes: true,
        spec: "SPEC §2",
    },
];
