//! The rules against the conformance tables, over every combination of inputs.

// `#[test]`s may unwrap, expect, panic and index (clippy.toml); the helpers here need it too.
#![allow(clippy::unwrap_used, clippy::panic, clippy::arithmetic_side_effects)]

use iot_jobs_core::conformance::{self as table, Cell, Outcome, PolicyDelta, TableRef};
use iot_jobs_core::rules::{self, CancelScope, ConfigSource, StartNext};
use iot_jobs_core::{
    DeleteWithoutForce, ErrorCode, ExecutionState, ExecutionStatus, FieldError, JobStatus, NamespaceId,
    Plane, Policy, Rejection, TargetSelection, VersionNumber,
};

const BOOLS: [bool; 2] = [false, true];

fn outcome<T>(r: Result<T, Rejection>, plane: Plane) -> Outcome {
    match r {
        Ok(_) => Outcome::Accepted,
        Err(e) => Outcome::Refused(e.exception(plane), e.http_status(plane)),
    }
}

fn state(status: ExecutionStatus) -> ExecutionState {
    ExecutionState { status, version: VersionNumber::new(7).unwrap() }
}

fn stale() -> Option<VersionNumber> {
    Some(VersionNumber::new(6).unwrap())
}

/// The policy with one §R knob set to its alternative, by the delta's `reading`.
fn alternative(reading: &str) -> Policy {
    let d = Policy::DEFAULT;
    match reading {
        "R1" => Policy {
            delete_without_force: DeleteWithoutForce { timed_out: false, ..d.delete_without_force },
            ..d
        },
        "R2" => Policy {
            delete_without_force: DeleteWithoutForce { queued: true, ..d.delete_without_force },
            ..d
        },
        "R3" => Policy { force_cancel_escalates: true, ..d },
        "R9" => Policy { device_may_skip_in_progress: false, ..d },
        "R10" => Policy { remove_in_progress: false, ..d },
        "R11" => Policy { data_plane_describes_terminal: true, ..d },
        other => panic!("no knob for {other}"),
    }
}

fn deltas(reading: &str, t: TableRef) -> Vec<PolicyDelta> {
    table::POLICY_DELTAS.iter().copied().filter(|d| d.reading == reading && d.table == t).collect()
}

#[test]
fn status_tables_match_the_vocabulary() {
    assert_eq!(table::JOB_STATUSES.map(|r| r.status), JobStatus::ALL);
    for r in table::JOB_STATUSES {
        assert_eq!(r.status.is_terminal(), r.terminal, "{}", r.status);
    }
    assert_eq!(table::EXECUTION_STATUSES.map(|r| r.status), ExecutionStatus::ALL);
    for r in table::EXECUTION_STATUSES {
        let s = r.status;
        assert_eq!((s.is_terminal(), s.is_pending()), (r.terminal, r.pending), "{s}");
        assert_eq!((s.is_device_settable(), s.is_retriable()), (r.device_settable, r.retriable), "{s}");
    }
}

#[test]
fn cancel_job_every_input() {
    let mut seen = 0;
    for policy in [Policy::DEFAULT, alternative("R3")] {
        let changed = if policy == Policy::DEFAULT { vec![] } else { deltas("R3", TableRef::CancelJob) };
        for (i, row) in table::CANCEL_JOB.iter().enumerate() {
            let got = rules::cancel_job(row.job, row.force, &policy);
            let want = changed.iter().find(|d| d.row == i).map_or(row.outcome, |d| d.alternative);
            assert_eq!(outcome(got, Plane::Control), want, "{row:?} {policy:?}");
            if let Ok(c) = got {
                let cancels: Vec<_> = ExecutionStatus::ALL
                    .into_iter()
                    .filter(|s| rules::cancel_job_execution_effect(*s, c.scope).is_some())
                    .collect();
                if changed.iter().any(|d| d.row == i) {
                    // R3's escalation cancels what a forced cancel does.
                    assert_eq!(c.scope, CancelScope::QueuedAndInProgress);
                    assert!(c.force_canceled);
                } else {
                    assert_eq!(cancels, row.cancels, "{row:?}");
                    assert_eq!(c.force_canceled, row.force_canceled, "{row:?}");
                }
            }
            seen += 1;
        }
    }
    // Every (status x force) row exists exactly once.
    for s in JobStatus::ALL {
        for f in BOOLS {
            assert_eq!(table::CANCEL_JOB.iter().filter(|r| r.job == s && r.force == f).count(), 1);
        }
    }
    assert_eq!(seen, 20);
}

#[test]
fn cancel_job_effect_every_input() {
    for s in ExecutionStatus::ALL {
        for force in BOOLS {
            let row = table::CANCEL_JOB_EFFECT.iter().find(|r| r.status == s && r.force == force).unwrap();
            let scope = if force { CancelScope::QueuedAndInProgress } else { CancelScope::Queued };
            assert_eq!(rules::cancel_job_execution_effect(s, scope), row.becomes, "{row:?}");
        }
    }
}

#[test]
fn delete_job_every_input() {
    for s in JobStatus::ALL {
        for force in BOOLS {
            for deleting in 0..=12 {
                let at_limit = if deleting >= 10 { 10 } else { 0 };
                let row = table::DELETE_JOB
                    .iter()
                    .find(|r| r.job == s && r.force == force && r.deleting == at_limit)
                    .unwrap();
                let got = rules::delete_job(s, force, deleting);
                assert_eq!(outcome(got, Plane::Control), row.outcome, "{row:?} deleting={deleting}");
            }
        }
    }
}

#[test]
fn delete_job_execution_every_input_and_knob() {
    for reading in ["default", "R1", "R2"] {
        let (policy, changed) = match reading {
            "default" => (Policy::DEFAULT, vec![]),
            r => (alternative(r), deltas(r, TableRef::DeleteJobExecution)),
        };
        for (i, row) in table::DELETE_JOB_EXECUTION.iter().enumerate() {
            let want = changed.iter().find(|d| d.row == i).map_or(row.outcome, |d| d.alternative);
            let got = rules::delete_execution(state(row.status), row.force, &policy);
            assert_eq!(outcome(got, Plane::Control), want, "{reading} {row:?}");
        }
    }
    assert_eq!(table::DELETE_JOB_EXECUTION.len(), ExecutionStatus::ALL.len() * 2);
    for s in ExecutionStatus::ALL {
        for f in BOOLS {
            assert_eq!(
                table::DELETE_JOB_EXECUTION.iter().filter(|r| r.status == s && r.force == f).count(),
                1
            );
        }
    }
}

#[test]
fn cancel_job_execution_every_input() {
    for row in table::CANCEL_JOB_EXECUTION {
        for expected in [None, Some(state(row.status).version)] {
            let got = rules::cancel_execution(state(row.status), row.force, expected);
            assert_eq!(outcome(got, Plane::Control), row.outcome, "{row:?}");
            if let Ok(c) = got {
                assert_eq!(c.force_canceled, row.force);
            }
        }
        // A stale expectedVersion: refused as a conflict where the status allowed the cancel.
        let got = rules::cancel_execution(state(row.status), row.force, stale());
        let want = match row.outcome {
            Outcome::Accepted => table::VERSION_CHECKS[3].control,
            refused @ Outcome::Refused(..) => refused,
        };
        assert_eq!(outcome(got, Plane::Control), want, "{row:?} stale");
    }
}

#[test]
fn update_job_execution_every_input_and_knob() {
    assert_eq!(table::UPDATE_JOB_EXECUTION.map(|r| r.current), ExecutionStatus::ALL);
    for reading in ["default", "R9"] {
        let (policy, changed) = match reading {
            "default" => (Policy::DEFAULT, vec![]),
            r => (alternative(r), deltas(r, TableRef::UpdateJobExecution)),
        };
        for (i, row) in table::UPDATE_JOB_EXECUTION.iter().enumerate() {
            for (j, requested) in ExecutionStatus::ALL.into_iter().enumerate() {
                let cell = match changed.iter().find(|d| d.row == i && d.column == j) {
                    Some(_) => Cell::Refused,
                    None => row.requested[j],
                };
                for plane in [Plane::Control, Plane::Data] {
                    for expected in [None, Some(state(row.current).version), stale()] {
                        let got = rules::update_execution(state(row.current), requested, expected, &policy);
                        let want = match (cell, expected == stale()) {
                            (Cell::Refused, _) => {
                                Outcome::Refused(iot_jobs_core::Exception::InvalidStateTransition, 409)
                            }
                            (Cell::To(_), true) => match plane {
                                Plane::Control => table::VERSION_CHECKS[1].control,
                                Plane::Data => table::VERSION_CHECKS[1].data,
                            },
                            (Cell::To(_), false) => Outcome::Accepted,
                        };
                        assert_eq!(outcome(got, plane), want, "{reading} {} -> {requested}", row.current);
                        if let (Cell::To(to), Ok(new)) = (cell, got) {
                            assert_eq!(new, to);
                        }
                        if let Err(e) = got {
                            // The error carries the state the device needs to resynchronise.
                            assert_eq!(e.execution_state(), Some(state(row.current)));
                            if expected == stale() && matches!(cell, Cell::To(_)) {
                                assert_eq!(Some(e.error_code()), table::VERSION_CHECKS[1].mqtt);
                            } else {
                                assert_eq!(e.error_code(), ErrorCode::InvalidStateTransition);
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn describe_every_input_and_knob() {
    for reading in ["default", "R11"] {
        let (policy, changed) = match reading {
            "default" => (Policy::DEFAULT, vec![]),
            r => (alternative(r), deltas(r, TableRef::DescribeJobExecution)),
        };
        for (i, row) in table::DESCRIBE_JOB_EXECUTION.iter().enumerate() {
            let c = rules::describe_execution(state(row.status), Plane::Control, &policy);
            assert_eq!(outcome(c, Plane::Control), row.control, "{row:?}");
            let want = changed.iter().find(|d| d.row == i).map_or(row.data, |d| d.alternative);
            let d = rules::describe_execution(state(row.status), Plane::Data, &policy);
            assert_eq!(outcome(d, Plane::Data), want, "{reading} {row:?}");
            if let Err(e) = d {
                assert_eq!(e.error_code(), ErrorCode::TerminalStateReached);
            }
        }
    }
    assert_eq!(table::DESCRIBE_JOB_EXECUTION.map(|r| r.status), ExecutionStatus::ALL);
}

#[test]
fn start_next_every_head() {
    for row in table::START_NEXT {
        let got = rules::start_next(row.head.map(state)).unwrap();
        let becomes = match got {
            StartNext::Nothing => None,
            StartNext::Start => Some(ExecutionStatus::InProgress),
            StartNext::Resume => row.head,
        };
        assert_eq!(becomes, row.becomes, "{row:?}");
    }
    // The head of a pending list is never terminal; a caller that says otherwise is refused.
    for s in ExecutionStatus::ALL.into_iter().filter(|s| s.is_terminal()) {
        assert!(rules::start_next(Some(state(s))).is_err());
        assert_eq!(rules::pending_rank(s), None);
    }
    assert!(rules::pending_rank(ExecutionStatus::InProgress) < rules::pending_rank(ExecutionStatus::Queued));
}

#[test]
fn remove_target_every_input_and_knob() {
    for reading in ["default", "R10"] {
        let (policy, changed) = match reading {
            "default" => (Policy::DEFAULT, vec![]),
            r => (alternative(r), deltas(r, TableRef::RemoveTarget)),
        };
        for (i, row) in table::REMOVE_TARGET.iter().enumerate() {
            let want = changed.iter().find(|d| d.row == i).map_or(row.becomes, |d| d.becomes);
            assert_eq!(rules::remove_target(row.status, &policy), want, "{reading} {row:?}");
        }
    }
}

#[test]
fn job_completion_every_input() {
    for job in JobStatus::ALL {
        for selection in TargetSelection::ALL {
            for all_terminal in BOOLS {
                for end_passed in BOOLS {
                    let row = table::JOB_COMPLETION
                        .iter()
                        .find(|r| {
                            r.selection == selection
                                && r.all_terminal == all_terminal
                                && r.end_passed == end_passed
                        })
                        .unwrap();
                    let want = job == table::COMPLETES_FROM && row.completes;
                    assert_eq!(
                        rules::job_completes(job, selection, all_terminal, end_passed),
                        want,
                        "{job} {row:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn every_rejection_kind_on_every_plane() {
    use iot_jobs_core::{Current, Field, InvalidRequest, Limit, Operation, Resource, Table, Violation};
    let s = state(ExecutionStatus::InProgress);
    let samples = [
        Rejection::InvalidField(FieldError { field: Field::JobId, violation: Violation::Empty }),
        Rejection::InvalidRequest(InvalidRequest::NoTargets),
        Rejection::NotFound(Resource::Job),
        Rejection::AlreadyExists(Resource::Job),
        Rejection::InvalidStateTransition {
            operation: Operation::DeleteJob,
            current: Current::Job(JobStatus::InProgress),
            requested: None,
        },
        Rejection::VersionMismatch(s),
        Rejection::LimitExceeded(Limit::JobsDeletionInProgress),
        Rejection::TerminalState(s),
        Rejection::Throttled,
        Rejection::CapacityExhausted(Table::Executions),
        Rejection::LogicBug("a link names a missing entry"),
    ];
    assert_eq!(samples.len(), table::ERRORS.len());
    for (r, row) in samples.into_iter().zip(table::ERRORS) {
        assert!(format!("{r:?}").starts_with(row.rejection), "{r:?} vs {}", row.rejection);
        assert_eq!(r.exception_name(Plane::Control), row.control_name, "{row:?}");
        assert_eq!(r.http_status(Plane::Control), row.control_http, "{row:?}");
        assert_eq!(r.exception_name(Plane::Data), row.data_name, "{row:?}");
        assert_eq!(r.http_status(Plane::Data), row.data_http, "{row:?}");
        assert_eq!(r.error_code().as_str(), row.mqtt, "{row:?}");
    }
}

#[test]
fn every_delta_changes_its_cell() {
    // A delta that restates the default is not a change and must not be listed.
    for d in table::POLICY_DELTAS {
        let default = match d.table {
            TableRef::DeleteJobExecution => (table::DELETE_JOB_EXECUTION[d.row].outcome, None),
            TableRef::CancelJob => (table::CANCEL_JOB[d.row].outcome, None),
            TableRef::UpdateJobExecution => match table::UPDATE_JOB_EXECUTION[d.row].requested[d.column] {
                Cell::To(_) => (Outcome::Accepted, None),
                Cell::Refused => {
                    (Outcome::Refused(iot_jobs_core::Exception::InvalidStateTransition, 409), None)
                }
            },
            TableRef::RemoveTarget => (Outcome::Accepted, table::REMOVE_TARGET[d.row].becomes),
            TableRef::DescribeJobExecution => (table::DESCRIBE_JOB_EXECUTION[d.row].data, None),
        };
        assert_ne!(default, (d.alternative, d.becomes), "{d:?}");
    }
}

// ---- lifecycle decisions the service makes on its own (in the modules below) ----------

use iot_jobs_core::config::{
    AbortConfig, AbortCriterion, ExponentialRate, JobConfig, MaintenanceWindow, MaintenanceWindows,
    RateIncrease, RetryConfig, RetryCriterion, RolloutRate, Schedule,
};
use iot_jobs_core::conformance::{
    BatchDue, BoundFrom, ConfigMember, KeyAfter, KeyIn, ScheduleEventKind, ScheduleEventRow,
};
use iot_jobs_core::rules::{
    Executed, JobClock, JobConfigUpdate, RetriesUsed, ScheduleBound, TimerChange, Window,
};
use iot_jobs_core::{
    DetailsWrite, FailureType, JobEndBehavior, RetryableFailureType, StatusDetails, StepTimeout,
    TimeoutMinutes, Timestamp, UnknownThing,
};

fn retry_config(criteria: &[(RetryableFailureType, u8)]) -> RetryConfig {
    let c: Vec<_> = criteria.iter().map(|&(failure, retries)| RetryCriterion { failure, retries }).collect();
    RetryConfig::new(&c).unwrap()
}

/// The request time of the schedule and timer cases.
const NOW: u64 = 10_000;

mod lifecycle;
mod schedule;
