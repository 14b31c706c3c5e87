//! SPEC's decision tables, written as data (SPEC §2–4, §R).
//!
//! These tables are the crate's claim about AWS IoT Jobs in a form a person can read and a test
//! can check. They are written from SPEC, independently of [`rules`](crate::rules): the crate's
//! `tests/conformance.rs` runs the rules over **every** combination of inputs and compares each
//! answer, exception name and HTTP status with these rows. `cargo run --example decision_tables`
//! prints them as Markdown.
//!
//! Every table is for [`Policy::DEFAULT`](crate::Policy::DEFAULT); [`POLICY_DELTAS`] lists the
//! cells that change when a knob is set to its alternative reading.

mod errors;
mod lifecycle;
mod operations;
mod schedule;

pub use errors::*;
pub use lifecycle::*;
pub use operations::*;
pub use schedule::*;

use crate::error::{ErrorCode, Exception};
use crate::status::{ExecutionStatus, JobStatus};

use ExecutionStatus as E;
use JobStatus as J;

/// The answer to a request: accepted, or refused with an exception and its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Outcome {
    /// Accepted (HTTP 200).
    Accepted,
    /// Refused.
    Refused(Exception, u16),
}

const OK: Outcome = Outcome::Accepted;
const ISTE: Outcome = Outcome::Refused(Exception::InvalidStateTransition, 409);
const BAD: Outcome = Outcome::Refused(Exception::InvalidRequest, 400);
const LIMIT: Outcome = Outcome::Refused(Exception::LimitExceeded, 410);
const CONFLICT: Outcome = Outcome::Refused(Exception::VersionConflict, 409);
const TERMINAL: Outcome = Outcome::Refused(Exception::TerminalState, 410);

/// One job status (SPEC §2 table (a)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct JobStatusRow {
    /// The status.
    pub status: JobStatus,
    /// Terminal (DeleteJob needs no force).
    pub terminal: bool,
    /// Source.
    pub spec: &'static str,
}

/// SPEC §2 table (a).
pub const JOB_STATUSES: [JobStatusRow; 5] = [
    JobStatusRow { status: J::InProgress, terminal: false, spec: "SPEC §2" },
    JobStatusRow { status: J::Canceled, terminal: true, spec: "SPEC §2" },
    JobStatusRow { status: J::Completed, terminal: true, spec: "SPEC §2" },
    JobStatusRow { status: J::DeletionInProgress, terminal: false, spec: "SPEC §2 (transitional)" },
    JobStatusRow { status: J::Scheduled, terminal: false, spec: "SPEC §2" },
];

/// One execution status (SPEC 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ExecutionStatusRow {
    /// The status.
    pub status: ExecutionStatus,
    /// Terminal.
    pub terminal: bool,
    /// Pending (GetPending, StartNext).
    pub pending: bool,
    /// A device may request it.
    pub device_settable: bool,
    /// A retry configuration can retry it.
    pub retriable: bool,
    /// Who sets it.
    pub set_by: &'static str,
    /// Source.
    pub spec: &'static str,
}

/// SPEC 3.1.
pub const EXECUTION_STATUSES: [ExecutionStatusRow; 8] = [
    ExecutionStatusRow {
        status: E::Queued,
        terminal: false,
        pending: true,
        device_settable: false,
        retriable: false,
        set_by: "service",
        spec: "SPEC 3.1, R9",
    },
    ExecutionStatusRow {
        status: E::InProgress,
        terminal: false,
        pending: true,
        device_settable: true,
        retriable: false,
        set_by: "device",
        spec: "SPEC 3.1, T4",
    },
    ExecutionStatusRow {
        status: E::Succeeded,
        terminal: true,
        pending: false,
        device_settable: true,
        retriable: false,
        set_by: "device",
        spec: "SPEC 3.1, T4",
    },
    ExecutionStatusRow {
        status: E::Failed,
        terminal: true,
        pending: false,
        device_settable: true,
        retriable: true,
        set_by: "device",
        spec: "SPEC 3.1, T4, T12",
    },
    ExecutionStatusRow {
        status: E::TimedOut,
        terminal: true,
        pending: false,
        device_settable: false,
        retriable: true,
        set_by: "service",
        spec: "SPEC 3.1, R1, T12",
    },
    ExecutionStatusRow {
        status: E::Rejected,
        terminal: true,
        pending: false,
        device_settable: true,
        retriable: false,
        set_by: "device",
        spec: "SPEC 3.1, T4, T12",
    },
    ExecutionStatusRow {
        status: E::Removed,
        terminal: true,
        pending: false,
        device_settable: false,
        retriable: false,
        set_by: "service",
        spec: "SPEC 3.1, R9",
    },
    ExecutionStatusRow {
        status: E::Canceled,
        terminal: true,
        pending: false,
        device_settable: false,
        retriable: false,
        set_by: "service",
        spec: "SPEC 3.1, R9",
    },
];
