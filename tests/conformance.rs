//! The rules against the conformance tables, over every combination of inputs.

// `#[test]`s may unwrap, expect, panic and index (clippy.toml); the helpers here need it too.
#![allow(clippy::unwrap_used, clippy::panic, clippy::arithmetic_side_effects)]

use iot_jobs_core::conformance::{self as table, Cell, Outcome, PolicyDelta, TableRef};
use iot_jobs_core::rules::{self, CancelScope, StartNext};
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

// ---- lifecycle decisions the service makes on its own --------------------------------------

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

#[test]
fn retry_every_status_job_criteria_and_count() {
    use RetryableFailureType as RF;
    let mut checked = 0u32;
    for row in table::RETRY_CRITERION {
        // Every number of retries 0..=3 per criterion, every retries-used pair 0..=10.
        for n in 0u8..=3 {
            let given: Vec<_> = row.criteria.iter().map(|&f| (f, n)).collect();
            let config = retry_config(&given);
            for job in JobStatus::ALL {
                let job_row = table::RETRY_JOB.iter().find(|r| r.job == job).unwrap();
                for status in ExecutionStatus::ALL {
                    let s_row = table::RETRY_FAILURE.iter().find(|r| r.status == status).unwrap();
                    for failed in 0u8..=10 {
                        for timed_out in 0u8..=10 {
                            let used = RetriesUsed { failed, timed_out };
                            let got = rules::retry(job, status, Some(&config), used);
                            let want = (|| {
                                let failure = s_row.failure?;
                                if !job_row.applies || failed + timed_out >= table::RETRY_MAX_TOTAL {
                                    return None;
                                }
                                // The row for this failure and the configuration's criteria.
                                let applies = if failure == row.failure {
                                    row.applies?
                                } else {
                                    table::RETRY_CRITERION
                                        .iter()
                                        .find(|r| r.failure == failure && r.criteria == row.criteria)
                                        .unwrap()
                                        .applies?
                                };
                                let spent = match applies {
                                    RF::All => failed + timed_out,
                                    RF::Failed => failed,
                                    RF::TimedOut => timed_out,
                                };
                                let after = match failure {
                                    RF::Failed => RetriesUsed { failed: failed + 1, timed_out },
                                    RF::TimedOut | RF::All => {
                                        RetriesUsed { failed, timed_out: timed_out + 1 }
                                    }
                                };
                                (spent < n).then_some((failure, applies, after))
                            })();
                            assert_eq!(
                                got.map(|r| (r.failure, r.criterion, r.used)),
                                want,
                                "{job} {status} {row:?} n={n} {used:?}"
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(checked, 12 * 4 * 5 * 8 * 121);
    // Without a configuration nothing is retried.
    for status in ExecutionStatus::ALL {
        assert_eq!(rules::retry(JobStatus::InProgress, status, None, RetriesUsed::default()), None);
    }
    for r in table::RETRY_FAILURE {
        assert_eq!(rules::retry_failure(r.status), r.failure, "{}", r.spec);
    }
    for r in table::RETRY_JOB {
        assert_eq!(rules::job_retries(r.job), r.applies, "{}", r.spec);
    }
}

#[test]
fn abort_every_job_criterion_and_small_count() {
    let thresholds = [0u16, 1, 3_333, 5_000, 6_667, 10_000];
    for job in JobStatus::ALL {
        let applies = table::ABORT_JOB.iter().find(|r| r.job == job).unwrap().applies;
        for row in table::ABORT_FAILURES {
            for threshold in thresholds {
                for min in [1u32, 2, 4] {
                    let criterion = AbortCriterion {
                        failure: row.failure,
                        threshold_centipercent: threshold,
                        min_executed: min,
                    };
                    let config = AbortConfig::new(&[criterion]).unwrap();
                    for n in 0..4u32.pow(4) {
                        let e = Executed {
                            succeeded: n % 4,
                            failed: n / 4 % 4,
                            rejected: n / 16 % 4,
                            timed_out: n / 64,
                        };
                        let executed = u64::from(e.succeeded + e.failed + e.rejected + e.timed_out);
                        let failures = u64::from(
                            u32::from(row.failed) * e.failed
                                + u32::from(row.rejected) * e.rejected
                                + u32::from(row.timed_out) * e.timed_out,
                        );
                        let met = executed >= u64::from(min)
                            && failures * 100 * 100 >= u64::from(threshold) * executed;
                        let want = (applies && met).then_some(criterion);
                        assert_eq!(
                            rules::abort_due(job, Some(&config), e),
                            want,
                            "{job} {row:?} {threshold} {min} {e:?}"
                        );
                    }
                }
            }
        }
        assert_eq!(rules::abort_due(job, None, Executed { failed: 5, ..Executed::default() }), None);
    }
    // The first criterion met, in configuration order, is the answer.
    let a = AbortCriterion { failure: FailureType::Rejected, threshold_centipercent: 5_000, min_executed: 1 };
    let b = AbortCriterion { failure: FailureType::All, threshold_centipercent: 1, min_executed: 1 };
    let e = Executed { failed: 1, ..Executed::default() };
    assert_eq!(
        rules::abort_due(JobStatus::InProgress, Some(&AbortConfig::new(&[a, b]).unwrap()), e),
        Some(b)
    );
    let e = Executed { rejected: 1, ..Executed::default() };
    assert_eq!(
        rules::abort_due(JobStatus::InProgress, Some(&AbortConfig::new(&[a, b]).unwrap()), e),
        Some(a)
    );
    for r in table::ABORT_JOB {
        assert_eq!(rules::job_aborts(r.job), r.applies, "{}", r.spec);
    }
    // Counts near u32::MAX saturate instead of overflowing.
    let big = Executed { succeeded: u32::MAX, failed: u32::MAX, rejected: u32::MAX, timed_out: u32::MAX };
    assert_eq!(big.total(), 4 * u64::from(u32::MAX));
    assert_eq!(big.failures(FailureType::All), 3 * u64::from(u32::MAX));
}

#[test]
fn window_every_input() {
    for change in [Window::Open, Window::Close] {
        for job in JobStatus::ALL {
            let row = table::WINDOW.iter().find(|r| r.change == change && r.job == job).unwrap();
            let got = rules::window(job, change);
            assert_eq!(outcome(got, Plane::Control), row.outcome, "{row:?}");
            assert_eq!(got.ok(), row.becomes, "{row:?}");
        }
    }
}

#[test]
fn maintenance_window_cases() {
    use iot_jobs_core::config::MaintenanceWindow;
    use iot_jobs_core::cron::Cron;
    for row in table::MAINTENANCE_WINDOW {
        let windows: Vec<MaintenanceWindow> = row
            .windows
            .iter()
            .map(|(start, minutes)| MaintenanceWindow::new(Cron::parse(start).unwrap(), *minutes).unwrap())
            .collect();
        let at = rules::maintenance_window(&windows, Timestamp(table::WINDOWS_BASE + row.now));
        assert_eq!(at.open, row.open, "{row:?}");
        assert_eq!(at.recheck, row.recheck.map(|r| Timestamp(table::WINDOWS_BASE + r)), "{row:?}");
    }
    let daily = Cron::parse("cron(0 2 * * ? *)").unwrap();
    assert!(MaintenanceWindow::new(daily, 0).is_err());
    assert!(MaintenanceWindow::new(daily, 1431).is_err());
    assert!(MaintenanceWindow::new(daily, 1430).is_ok());
}

/// `maintenance_window` against a scan: open exactly when an occurrence started in the last
/// `durationInMinutes`, and the answer holds every minute until `recheck` (scanned up to 6 hours).
#[test]
fn maintenance_window_against_a_scan() {
    use iot_jobs_core::config::MaintenanceWindow;
    use iot_jobs_core::cron::Cron;
    let crons =
        ["cron(0 2 * * ? *)", "cron(0/20 * * * ? *)", "cron(30 1-3 ? * TUE-THU *)", "cron(0 0 L * ? *)"];
    let window =
        |i: usize, minutes: u16| MaintenanceWindow::new(Cron::parse(crons[i]).unwrap(), minutes).unwrap();
    let open_by_scan = |ws: &[MaintenanceWindow], t: u64| {
        ws.iter().any(|w| {
            let from = (t + 1).saturating_sub(u64::from(w.duration_minutes()) * 60).div_ceil(60) * 60;
            (from..=t).step_by(60).any(|m| w.start().matches(Timestamp(m)))
        })
    };
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for _ in 0..100 {
        let count = 1 + next(2) as usize;
        let ws: Vec<MaintenanceWindow> =
            (0..count).map(|_| window(next(4) as usize, [1, 20, 45, 90, 300][next(5) as usize])).collect();
        let now = table::WINDOWS_BASE + next(3 * 86_400);
        let at = rules::maintenance_window(&ws, Timestamp(now));
        assert_eq!(at.open, open_by_scan(&ws, now), "at {now}");
        let until = at.recheck.map_or(now + 6 * 3600, |r| r.secs().min(now + 6 * 3600));
        assert!(until > now);
        for t in (now.div_ceil(60) * 60..until).step_by(60) {
            assert_eq!(open_by_scan(&ws, t), at.open, "from {now} to {until}, at {t}");
        }
    }
}

/// Where a schedule time is relative to `now`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum At {
    Absent,
    Past,
    Now,
    Later,
}

const NOW: u64 = 10_000;

fn at(a: At, past: u64, later: u64) -> Option<Timestamp> {
    match a {
        At::Absent => None,
        At::Past => Some(Timestamp(past)),
        At::Now => Some(Timestamp(NOW)),
        At::Later => Some(Timestamp(later)),
    }
}

fn fires(row: &ScheduleEventRow, c: &JobClock, due: bool, end_passed: bool, start_fires: bool) -> bool {
    due && row.statuses.contains(&c.status)
        && (!row.needs_not_started || !c.started)
        && (!row.needs_not_ended || !c.ended)
        && (!row.needs_end_not_passed || !end_passed)
        && (!row.needs_no_start || !start_fires)
}

#[test]
fn schedule_events_every_input() {
    let kinds = [At::Absent, At::Past, At::Now, At::Later];
    let row = |k| *table::SCHEDULE_EVENTS.iter().find(|r| r.event == k).unwrap();
    let (start_row, batch_row, end_row) =
        (row(ScheduleEventKind::Start), row(ScheduleEventKind::Batch), row(ScheduleEventKind::End));
    let mut checked = 0;
    for status in JobStatus::ALL {
        for started in BOOLS {
            for ended in BOOLS {
                for s in kinds {
                    for e in kinds {
                        for r in kinds {
                            for b in table::END_BEHAVIOR {
                                let start = at(s, 5_000, 20_000);
                                let end = at(e, 6_000, 30_000).map(|t| (t, b.behavior));
                                let Ok(schedule) = Schedule::new(start, end) else { continue };
                                let schedule = (start.is_some() || end.is_some()).then_some(schedule);
                                let rollout_at = at(r, 7_000, 10_060);
                                let c =
                                    JobClock { status, schedule, started, ended, rollout_at, window: None };
                                let now = Timestamp(NOW);
                                let end_passed = end.is_some_and(|(t, _)| t <= now);
                                let due = |t: Option<Timestamp>| t.is_some_and(|t| t <= now);
                                let want_start = fires(&start_row, &c, due(start), end_passed, false);
                                let want_batch =
                                    fires(&batch_row, &c, due(rollout_at), end_passed, want_start);
                                // The end fires in any status (the timer offers it for live jobs).
                                let end_fires = due(end.map(|(t, _)| t)) && !c.ended;
                                let got = rules::schedule_event(&c, now);
                                assert_eq!((got.start, got.batch), (want_start, want_batch), "{c:?}");
                                assert_eq!(got.end, end_fires.then_some(b.behavior), "{c:?}");
                                assert_eq!(rules::end_passed(schedule, now), end_passed);
                                // The timer offers the earliest event its row allows.
                                let offered = |row: &ScheduleEventRow, t: Option<Timestamp>| {
                                    let row = ScheduleEventRow {
                                        needs_not_ended: row.offered_needs_not_ended,
                                        ..*row
                                    };
                                    fires(&row, &c, t.is_some(), false, false).then_some(t).flatten()
                                };
                                let want_next = [
                                    offered(&start_row, start),
                                    offered(&batch_row, rollout_at),
                                    offered(&end_row, end.map(|(t, _)| t)),
                                ]
                                .into_iter()
                                .flatten()
                                .min();
                                assert_eq!(rules::next_job_event(&c), want_next, "{c:?}");
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(checked, 2_880);
    // A time that never comes is never offered.
    let c = JobClock {
        status: JobStatus::InProgress,
        schedule: None,
        started: true,
        ended: false,
        rollout_at: Some(rules::NEVER),
        window: None,
    };
    assert_eq!(rules::next_job_event(&c), None);
    for r in table::END_BEHAVIOR {
        let cancels = rules::cancel_job_execution_effect(
            ExecutionStatus::InProgress,
            if r.cancels_in_progress { CancelScope::QueuedAndInProgress } else { CancelScope::Queued },
        );
        assert_eq!(cancels.is_some(), r.cancels_in_progress, "{}", r.spec);
    }
}

/// A job with maintenance windows: every status, start, end and window state against
/// `WINDOWED_EVENTS` (AMBIG-28).
#[test]
fn windowed_schedule_events_every_input() {
    use rules::{Window, WindowClock};
    let kinds = [At::Absent, At::Past, At::Later];
    let now = Timestamp(NOW);
    let mut checked = 0;
    for status in JobStatus::ALL {
        for started in BOOLS {
            for ended in BOOLS {
                for open in BOOLS {
                    for s in kinds {
                        for e in kinds {
                            let start = at(s, 5_000, 20_000);
                            let end = at(e, 6_000, 30_000).map(|t| (t, JobEndBehavior::StopRollout));
                            let Ok(schedule) = Schedule::new(start, end) else { continue };
                            let schedule = (start.is_some() || end.is_some()).then_some(schedule);
                            let look = Timestamp(NOW + 600);
                            let window = Some(WindowClock { at: look, open });
                            let c = JobClock { status, schedule, started, ended, rollout_at: None, window };
                            let start_due = start.is_none_or(|t| t <= now);
                            let before_end = !ended && end.is_none_or(|(t, _)| t > now);
                            let row = table::WINDOWED_EVENTS
                                .iter()
                                .find(|r| r.status == status && r.started == started && r.open == open);
                            let want_start = row.is_some_and(|r| r.start) && start_due && before_end;
                            let want_window = match row.and_then(|r| r.window) {
                                Some(Window::Open) if before_end => Some(Window::Open),
                                Some(Window::Close) if !ended => Some(Window::Close),
                                Some(Window::Open | Window::Close) | None => None,
                            };
                            let got = rules::schedule_event(&c, now);
                            assert_eq!((got.start, got.window), (want_start, want_window), "{c:?}");
                            assert!(!got.batch, "{c:?}");
                            // The timer offers the next look (not the start) and the end.
                            let live = matches!(status, JobStatus::InProgress | JobStatus::Scheduled);
                            let want_next = [
                                (live && !ended).then_some(look),
                                end.map(|(t, _)| t).filter(|_| live && !ended),
                            ]
                            .into_iter()
                            .flatten()
                            .min();
                            assert_eq!(rules::next_job_event(&c), want_next, "{c:?}");
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 300, "{checked}");
    // At creation (AMBIG-28): SCHEDULED until a `startTime` to come (looked at then), else
    // unless a window is open (looked at when that may change).
    let later = Schedule::new(Some(Timestamp(NOW + 60)), None).unwrap();
    let past = Schedule::new(Some(Timestamp(NOW - 60)), None).unwrap();
    let at = |open, recheck| rules::WindowAt { open, recheck };
    let next = Some(Timestamp(NOW + 120));
    assert_eq!(rules::starts_in_window(Some(later), at(true, next), now), (true, Timestamp(NOW + 60)));
    for schedule in [None, Some(past)] {
        assert_eq!(rules::starts_in_window(schedule, at(true, next), now), (false, Timestamp(NOW + 120)));
        assert_eq!(rules::starts_in_window(schedule, at(false, next), now), (true, Timestamp(NOW + 120)));
        assert_eq!(rules::starts_in_window(schedule, at(false, None), now), (true, rules::NEVER));
    }
}

/// `RAMP`, and a property: the ramp never decreases, its marks never pass the counts, and what
/// is left uncounted is below each criterion (AMBIG-29).
#[test]
fn exponential_ramp_cases() {
    use rules::Ramp;
    for row in table::RAMP {
        let increase = RateIncrease { notified: row.notified_criterion, succeeded: row.succeeded_criterion };
        let rate = ExponentialRate::new(row.base, row.factor_tenths, increase).unwrap();
        let (rate_milli, notified, notified_mark, succeeded_mark) = row.before;
        let before = Ramp { rate_milli, notified, notified_mark, succeeded_mark };
        let after = rules::ramp_up(&rate, before, row.succeeded);
        assert_eq!((after.rate_milli, after.notified_mark, after.succeeded_mark), row.after, "{}", row.spec);
        assert_eq!(after.notified, notified, "{}", row.spec);
        let max = row.maximum.map(|m| RolloutRate::new(m).unwrap());
        assert_eq!(rules::ramp_batch(max, Some(after)), row.batch, "{}", row.spec);
    }
    // Bounds of the configuration (SPEC lim-rollout).
    let some = RateIncrease { notified: Some(1), succeeded: None };
    assert!(ExponentialRate::new(0, 20, some).is_err());
    assert!(ExponentialRate::new(1001, 20, some).is_err());
    assert!(ExponentialRate::new(1000, 50, some).is_ok());
    assert!(ExponentialRate::new(1, 10, some).is_err());
    assert!(ExponentialRate::new(1, 51, some).is_err());
    assert!(ExponentialRate::new(1, 11, RateIncrease { notified: None, succeeded: None }).is_err());
    assert!(ExponentialRate::new(1, 11, RateIncrease { notified: Some(0), succeeded: Some(1) }).is_err());
    assert_eq!(rules::ramp_batch(None, None), usize::MAX);
    assert_eq!(rules::ramp_batch(None, Some(Ramp { rate_milli: 999, ..Ramp::default() })), 1);
    let mut seed = 7u64;
    let mut next = |m: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 33) % m
    };
    for _ in 0..2_000 {
        let n = (next(3) != 0).then(|| next(20) as u32 + 1);
        let s = if n.is_none() || next(2) == 0 { Some(next(20) as u32 + 1) } else { None };
        let rate = ExponentialRate::new(
            next(1000) as u16 + 1,
            next(40) as u8 + 11,
            RateIncrease { notified: n, succeeded: s },
        )
        .unwrap();
        let mut ramp = Ramp::default();
        let (mut notified, mut succeeded) = (0u32, 0u32);
        for _ in 0..20 {
            let after = rules::ramp_up(&rate, ramp, succeeded);
            assert!(after.rate_milli >= ramp.rate_milli.max(u64::from(rate.base()) * 1000));
            assert!(after.notified_mark <= notified && after.succeeded_mark <= succeeded);
            assert!(n.is_none_or(|n| notified - after.notified_mark < n));
            assert!(s.is_none_or(|s| succeeded - after.succeeded_mark < s));
            let batch = rules::ramp_batch(None, Some(after)) as u32;
            notified += batch.min(1_000_000);
            succeeded += next(u64::from(batch.min(1000)) + 1) as u32;
            ramp = Ramp { notified, ..after };
        }
    }
}

#[test]
fn rollout_pacing() {
    assert_eq!(rules::rollout_batch(None), usize::MAX);
    for m in [1u32, 2, 1_000, u32::MAX] {
        assert_eq!(rules::rollout_batch(Some(RolloutRate::new(m).unwrap())), usize::try_from(m).unwrap());
    }
    assert_eq!(rules::next_batch_at(Timestamp(NOW), true), Timestamp(NOW + 60));
    assert_eq!(rules::next_batch_at(Timestamp(NOW), false), rules::NEVER);
    assert_eq!(rules::next_batch_at(Timestamp(u64::MAX - 1), true), Timestamp(u64::MAX));
    let mut checked = 0;
    for registered in [false, true] {
        for had_execution in [false, true] {
            let row = table::ROLLOUT_REACH
                .iter()
                .find(|r| r.registered == registered && r.had_execution == had_execution)
                .unwrap();
            assert_eq!(rules::rollout_reaches(registered, had_execution), row.reaches, "{}", row.spec);
            checked += 1;
        }
    }
    assert_eq!(checked, table::ROLLOUT_REACH.len());
}

#[test]
fn batch_on_start_every_input() {
    let now = Timestamp(NOW);
    let mut checked = 0;
    for status in JobStatus::ALL {
        for (started, ended) in [(false, false), (true, false), (true, true), (false, true)] {
            for rollout_at in
                [None, Some(rules::NEVER), Some(Timestamp(NOW + 1)), Some(now), Some(Timestamp(NOW - 60))]
            {
                let due = match rollout_at {
                    None => BatchDue::None,
                    Some(t) if t > now => BatchDue::Later,
                    Some(_) => BatchDue::Come,
                };
                // A job that never started has no batch of its own yet: its start is its first.
                let key = if started { due } else { BatchDue::None };
                let row =
                    table::BATCH_ON_START.iter().find(|r| r.started == started && r.due == key).unwrap();
                let c = JobClock { status, schedule: None, started, ended, rollout_at, window: None };
                assert_eq!(rules::batch_on_start(&c, now), row.batch, "{c:?} {}", row.spec);
                checked += 1;
            }
        }
    }
    assert_eq!(checked, JobStatus::ALL.len() * 4 * 5);
}

#[test]
fn timers_every_status_change_and_small_durations() {
    for to in ExecutionStatus::ALL {
        let row = table::TIMER_ON_STATUS.iter().find(|r| r.to == to).unwrap();
        for from in ExecutionStatus::ALL {
            let want = if from == ExecutionStatus::Queued { row.from_queued } else { row.from_other };
            assert_eq!(rules::timer_on_status(from, to), want, "{from} → {to} {}", row.spec);
        }
    }
    let nows = [0u64, 1, NOW, u64::MAX - 100, u64::MAX];
    for now in nows {
        let n = Timestamp(now);
        assert_eq!(rules::in_progress_deadline(n, None), rules::NEVER);
        for m in [1u16, 2, 59, 10_080] {
            let at = Timestamp(now.saturating_add(u64::from(m) * 60));
            assert_eq!(rules::in_progress_deadline(n, Some(TimeoutMinutes::new(m).unwrap())), at);
            for cap in [
                Timestamp(0),
                Timestamp(now),
                Timestamp(now.saturating_add(60)),
                Timestamp(now.saturating_add(120)),
                rules::NEVER,
            ] {
                // AMBIG-15: a step timer never runs past the in-progress deadline.
                assert_eq!(
                    rules::step_deadline(n, StepTimeout::Minutes(m), cap),
                    at.min(cap),
                    "{now} {m} {cap:?}"
                );
                assert_eq!(rules::step_deadline(n, StepTimeout::Cancel, cap), cap);
            }
        }
    }
    assert!(matches!(
        rules::timer_on_status(ExecutionStatus::Queued, ExecutionStatus::InProgress),
        TimerChange::Start
    ));
}

#[test]
fn device_access_every_input() {
    for job in JobStatus::ALL {
        for plane in [Plane::Control, Plane::Data] {
            let row = table::DEVICE_ACCESS.iter().find(|r| r.job == job && r.plane == plane).unwrap();
            assert_eq!(outcome(rules::device_access(job, plane), plane), row.outcome, "{row:?}");
        }
    }
    for row in table::UNKNOWN_THING {
        let policy = Policy { unknown_thing: row.policy, ..Policy::DEFAULT };
        assert_eq!(outcome(rules::unknown_thing(&policy), Plane::Data), row.outcome, "{row:?}");
    }
    assert_eq!(table::UNKNOWN_THING[0].policy, Policy::DEFAULT.unknown_thing);
    assert_eq!(table::UNKNOWN_THING.map(|r| r.policy), [UnknownThing::Empty, UnknownThing::NotFound]);
    let mut newest = vec![None];
    newest.extend(ExecutionStatus::ALL.map(Some));
    assert_eq!(table::QUEUE_ON_REJOIN.map(|r| r.newest).to_vec(), newest);
    for row in table::QUEUE_ON_REJOIN {
        assert_eq!(rules::queue_on_rejoin(row.newest), row.queues, "{row:?}");
    }
}

const KEYS: [&str; 20] = [
    "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k10", "k11", "k12", "k13", "k14", "k15",
    "k16", "k17", "k18", "k19",
];

#[test]
fn details_write_every_overlap_and_size() {
    for write in [DetailsWrite::Replace, DetailsWrite::Merge] {
        let policy = Policy { details_write: write, ..Policy::DEFAULT };
        let rule =
            |key| table::DETAILS_WRITE.iter().find(|r| r.write == write && r.key == key).unwrap().after;
        // Stored: keys [0, s); update: keys [o, o + u); every size 0..=10 and offset 0..=20.
        for s in 0..=10usize {
            for u in 0..=10usize {
                for o in 0..=(20 - u) {
                    let stored: Vec<(&str, &str)> = KEYS[..s].iter().map(|k| (*k, "old")).collect();
                    let update: Vec<(&str, &str)> = KEYS[o..o + u].iter().map(|k| (*k, "new")).collect();
                    let details = StatusDetails::new(&update).unwrap();
                    let mut want: Vec<(&str, &str)> = Vec::new();
                    for (k, _) in &stored {
                        let key =
                            if update.iter().any(|(u, _)| u == k) { KeyIn::Both } else { KeyIn::StoredOnly };
                        if rule(key) == KeyAfter::StoredValue {
                            want.push((k, "old"));
                        }
                    }
                    for (k, _) in &update {
                        let key =
                            if stored.iter().any(|(s, _)| s == k) { KeyIn::Both } else { KeyIn::UpdateOnly };
                        assert_eq!(rule(key), KeyAfter::UpdateValue);
                        want.push((k, "new"));
                    }
                    let got = rules::merge_details(stored.iter().copied(), &details, &policy);
                    if want.len() <= table::DETAILS_MAX_PAIRS {
                        assert_eq!(got.unwrap().to_vec(), want, "{write:?} {s} {u} {o}");
                    } else {
                        let err = got.unwrap_err();
                        assert_eq!(
                            outcome::<()>(Err(err), Plane::Data),
                            Outcome::Refused(iot_jobs_core::Exception::InvalidRequest, 400)
                        );
                        let Rejection::InvalidField(FieldError { violation, .. }) = err else {
                            panic!("{err:?}")
                        };
                        assert_eq!(
                            violation,
                            iot_jobs_core::Violation::TooManyPairs { max: 10, len: want.len() },
                            "{write:?} {s} {u} {o}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn job_config_from_template_every_member_given_or_not() {
    let c = |f, r| RetryCriterion { failure: f, retries: r };
    let window = |cron: &str| {
        let w = MaintenanceWindow::new(iot_jobs_core::cron::Cron::parse(cron).unwrap(), 60).unwrap();
        Some(MaintenanceWindows::new(&[w]).unwrap())
    };
    let template = JobConfig {
        in_progress_timeout_minutes: Some(TimeoutMinutes::new(5).unwrap()),
        retry: Some(RetryConfig::new(&[c(RetryableFailureType::Failed, 1)]).unwrap()),
        abort: None,
        schedule: None,
        maximum_per_minute: Some(RolloutRate::new(3).unwrap()),
        exponential: None,
        windows: window("cron(0 2 * * ? *)"),
    };
    let abort = AbortCriterion { failure: FailureType::All, threshold_centipercent: 100, min_executed: 2 };
    let request = JobConfig {
        in_progress_timeout_minutes: None,
        retry: Some(RetryConfig::new(&[c(RetryableFailureType::All, 4)]).unwrap()),
        abort: Some(AbortConfig::new(&[abort]).unwrap()),
        schedule: Some(Schedule::new(Some(Timestamp(100)), None).unwrap()),
        maximum_per_minute: None,
        exponential: None,
        windows: window("cron(30 4 ? * MON *)"),
    };
    let replaces = |m| table::TEMPLATE_JOB_CONFIG.iter().find(|r| r.member == m).unwrap().updatable;
    for mask in 0..64u8 {
        let given = |bit: u8| mask & (1 << bit) != 0;
        let members = JobConfigUpdate {
            in_progress_timeout_minutes: given(0).then_some(request.in_progress_timeout_minutes),
            retry: given(1).then_some(request.retry),
            abort: given(2).then_some(request.abort),
            maximum_per_minute: given(3).then_some(request.maximum_per_minute),
            exponential: given(3).then_some(request.exponential),
        };
        let schedule = given(4).then_some(request.schedule).flatten();
        let windows = given(5).then_some(request.windows).flatten();
        let pick = |bit, m| given(bit) && replaces(m);
        let want = JobConfig {
            in_progress_timeout_minutes: if pick(0, ConfigMember::Timeout) {
                request.in_progress_timeout_minutes
            } else {
                template.in_progress_timeout_minutes
            },
            retry: if pick(1, ConfigMember::Retry) { request.retry } else { template.retry },
            abort: if pick(2, ConfigMember::Abort) { request.abort } else { template.abort },
            // The template never has a schedule: the request's, or none.
            schedule: if pick(4, ConfigMember::Scheduling) { request.schedule } else { None },
            windows: if pick(5, ConfigMember::MaintenanceWindows) {
                request.windows
            } else {
                template.windows
            },
            maximum_per_minute: if pick(3, ConfigMember::Rollout) {
                request.maximum_per_minute
            } else {
                template.maximum_per_minute
            },
            exponential: if pick(3, ConfigMember::Rollout) {
                request.exponential
            } else {
                template.exponential
            },
        };
        assert_eq!(
            rules::job_config_from_template(&template, &members, schedule, windows),
            want,
            "{mask:06b}"
        );
    }
}

#[test]
fn update_job_config_every_member_given_or_not() {
    let c = |f, r| RetryCriterion { failure: f, retries: r };
    let old = JobConfig {
        in_progress_timeout_minutes: Some(TimeoutMinutes::new(5).unwrap()),
        retry: Some(RetryConfig::new(&[c(RetryableFailureType::Failed, 1)]).unwrap()),
        abort: None,
        schedule: Some(Schedule::new(Some(Timestamp(100)), None).unwrap()),
        maximum_per_minute: Some(RolloutRate::new(3).unwrap()),
        exponential: None,
        windows: Some(
            MaintenanceWindows::new(&[MaintenanceWindow::new(
                iot_jobs_core::cron::Cron::parse("cron(0 2 * * ? *)").unwrap(),
                60,
            )
            .unwrap()])
            .unwrap(),
        ),
    };
    let abort = AbortCriterion { failure: FailureType::All, threshold_centipercent: 100, min_executed: 2 };
    let new = JobConfig {
        in_progress_timeout_minutes: None,
        retry: Some(RetryConfig::new(&[c(RetryableFailureType::All, 4)]).unwrap()),
        abort: Some(AbortConfig::new(&[abort]).unwrap()),
        schedule: None,
        maximum_per_minute: None,
        windows: None,
        exponential: Some(
            ExponentialRate::new(10, 20, RateIncrease { notified: Some(5), succeeded: None }).unwrap(),
        ),
    };
    let updatable = |m| table::UPDATE_JOB_CONFIG.iter().find(|r| r.member == m).unwrap().updatable;
    for mask in 0..16u8 {
        let given = |bit: u8| mask & (1 << bit) != 0;
        let update = JobConfigUpdate {
            in_progress_timeout_minutes: given(0).then_some(new.in_progress_timeout_minutes),
            retry: given(1).then_some(new.retry),
            abort: given(2).then_some(new.abort),
            maximum_per_minute: given(3).then_some(new.maximum_per_minute),
            exponential: given(3).then_some(new.exponential),
        };
        let pick = |bit, m| given(bit) && updatable(m);
        let want = JobConfig {
            in_progress_timeout_minutes: if pick(0, ConfigMember::Timeout) {
                new.in_progress_timeout_minutes
            } else {
                old.in_progress_timeout_minutes
            },
            retry: if pick(1, ConfigMember::Retry) { new.retry } else { old.retry },
            abort: if pick(2, ConfigMember::Abort) { new.abort } else { old.abort },
            schedule: if updatable(ConfigMember::Scheduling) { new.schedule } else { old.schedule },
            windows: if updatable(ConfigMember::MaintenanceWindows) { new.windows } else { old.windows },
            maximum_per_minute: if pick(3, ConfigMember::Rollout) {
                new.maximum_per_minute
            } else {
                old.maximum_per_minute
            },
            exponential: if pick(3, ConfigMember::Rollout) { new.exponential } else { old.exponential },
        };
        assert_eq!(rules::update_job_config(&old, &update), want, "{mask:04b}");
        // Swapped roles: every member given takes the request's value.
        assert_eq!(
            rules::update_job_config(&new, &JobConfigUpdate::every_member(&old)),
            JobConfig { schedule: None, windows: None, ..old }
        );
    }
    // The members are validated where the request is read, as CreateJob's: an update cannot
    // carry a value outside SPEC §6.
    assert_eq!(RolloutRate::new(0), Err(iot_jobs_core::config::ConfigError::Rollout));
    assert_eq!(TimeoutMinutes::new(0), Err(iot_jobs_core::config::ConfigError::InProgressTimeout));
}

#[test]
fn schedule_bounds_every_offset_near_a_bound() {
    let [start_row, end_row] = table::SCHEDULE_BOUNDS;
    assert!(start_row.start_time && !end_row.start_time);
    assert_eq!(start_row.min_from, BoundFrom::Now);
    assert_eq!(end_row.min_from, BoundFrom::StartOrNow);
    let near = |b: u64| [b - 1, b, b + 1];
    let mut offsets = vec![0u64];
    for b in [1_800, 3_600, start_row.max_secs, start_row.max_secs + 1_800, end_row.max_secs] {
        offsets.extend(near(b));
    }
    for now in [0u64, 1_000, u64::MAX - 70_000_000] {
        let n = Timestamp(now);
        let times: Vec<Option<Timestamp>> =
            std::iter::once(None).chain(offsets.iter().map(|o| Some(Timestamp(now + o)))).collect();
        for &start in &times {
            for &end in &times {
                let ok = |row: &table::ScheduleBoundRow, t: u64| {
                    let from = match row.min_from {
                        BoundFrom::Now => now,
                        BoundFrom::StartOrNow => start.map_or(now, |s| s.secs()),
                    };
                    t >= from + row.min_secs && t <= now + row.max_secs
                };
                let want = if start.is_some_and(|s| !ok(&start_row, s.secs())) {
                    Err(ScheduleBound::StartTime)
                } else if end.is_some_and(|e| !ok(&end_row, e.secs())) {
                    Err(ScheduleBound::EndTime)
                } else {
                    Ok(())
                };
                assert_eq!(rules::schedule_bounds(start, end, n), want, "{now} {start:?} {end:?}");
            }
        }
    }
    assert_eq!(rules::SCHEDULE_MIN_SECS, start_row.min_secs);
    assert!(ScheduleBound::StartTime.to_string().contains("30 minutes to 1 year"));
    assert!(ScheduleBound::EndTime.to_string().contains("2 years"));
}

#[test]
fn lifecycle_rows_cite_the_spec() {
    let specs = table::RETRY_JOB
        .iter()
        .map(|r| r.spec)
        .chain(table::RETRY_FAILURE.iter().map(|r| r.spec))
        .chain(table::RETRY_CRITERION.iter().map(|r| r.spec))
        .chain(table::ABORT_JOB.iter().map(|r| r.spec))
        .chain(table::ABORT_FAILURES.iter().map(|r| r.spec))
        .chain(table::WINDOW.iter().map(|r| r.spec))
        .chain(table::SCHEDULE_EVENTS.iter().map(|r| r.spec))
        .chain(table::WINDOWED_EVENTS.iter().map(|r| r.spec))
        .chain(table::RAMP.iter().map(|r| r.spec))
        .chain(table::BATCH_ON_START.iter().map(|r| r.spec))
        .chain(table::END_BEHAVIOR.iter().map(|r| r.spec))
        .chain(table::TIMER_ON_STATUS.iter().map(|r| r.spec))
        .chain(table::DEVICE_ACCESS.iter().map(|r| r.spec))
        .chain(table::UNKNOWN_THING.iter().map(|r| r.spec))
        .chain(table::QUEUE_ON_REJOIN.iter().map(|r| r.spec))
        .chain(table::DETAILS_WRITE.iter().map(|r| r.spec))
        .chain(table::UPDATE_JOB_CONFIG.iter().map(|r| r.spec))
        .chain(table::TEMPLATE_JOB_CONFIG.iter().map(|r| r.spec))
        .chain(table::SCHEDULE_BOUNDS.iter().map(|r| r.spec))
        .chain(table::NOTIFY.iter().map(|r| r.spec))
        .chain(table::NOTIFY_TOPICS.iter().map(|r| r.spec))
        .chain(table::NAMESPACE_PAYLOAD.iter().map(|r| r.spec))
        .chain(table::REMOVE_THING_JOB.iter().map(|r| r.spec));
    for s in specs {
        assert!(s.starts_with("SPEC ") || s.starts_with("AMBIG-") || s.starts_with("SEED-"), "{s}");
    }
    let _ = JobEndBehavior::ALL;
}

#[test]
fn end_behaviour_notify_and_creation_every_input() {
    for r in table::END_BEHAVIOR {
        let got = rules::end_behavior(r.behavior);
        assert_eq!(got.is_some(), r.cancels_queued, "{}", r.spec);
        let scope = got.map(|c| c.scope);
        let in_progress =
            scope.and_then(|s| rules::cancel_job_execution_effect(ExecutionStatus::InProgress, s));
        let queued = scope.and_then(|s| rules::cancel_job_execution_effect(ExecutionStatus::Queued, s));
        assert_eq!((queued.is_some(), in_progress.is_some()), (r.cancels_queued, r.cancels_in_progress));
        assert_eq!(got.is_some_and(|c| c.force_canceled), r.cancels_in_progress, "{}", r.spec);
    }
    let mut seen = 0;
    for notify_on in
        [iot_jobs_core::NotifyOn::MembershipChange, iot_jobs_core::NotifyOn::EveryNonTerminalChange]
    {
        let policy = Policy { notify_on, ..Policy::DEFAULT };
        for was in BOOLS {
            for now in BOOLS {
                for changed in BOOLS {
                    let row = table::NOTIFY
                        .iter()
                        .find(|r| {
                            r.notify_on == notify_on
                                && r.was_listed == was
                                && r.now_listed == now
                                && r.status_changed == changed
                        })
                        .unwrap();
                    assert_eq!(rules::notifies(was, now, changed, &policy), row.notifies, "{row:?}");
                    seen += 1;
                }
            }
        }
    }
    assert_eq!(seen, table::NOTIFY.len());
    // SPEC R15, R20: the topics of a change, over every input.
    let mut seen = 0;
    for namespaced in BOOLS {
        for list in BOOLS {
            for head in BOOLS {
                let row = table::NOTIFY_TOPICS
                    .iter()
                    .find(|r| r.namespaced == namespaced && r.list_changed == list && r.head_changed == head)
                    .unwrap();
                let got = rules::notify_topics(namespaced, list, head);
                let want = (row.notify, row.notify_next, row.notify_namespace, row.notify_next_namespace);
                assert_eq!(
                    (got.notify, got.notify_next, got.notify_namespace, got.notify_next_namespace),
                    want,
                    "{row:?}"
                );
                seen += 1;
            }
        }
    }
    assert_eq!(seen, table::NOTIFY_TOPICS.len());
    for r in table::NAMESPACE_PAYLOAD {
        let job = r.job_namespace.map(|n| NamespaceId::new(n).unwrap());
        let topic = NamespaceId::new(r.topic_namespace).unwrap();
        assert_eq!(rules::listed_in_namespace(job.as_ref(), &topic), r.listed, "{r:?}");
    }
    // SPEC 4.2 CreateJob: SCHEDULED only while startTime is to come.
    let now = Timestamp(NOW);
    for (start, scheduled) in
        [(None, false), (Some(NOW - 1), false), (Some(NOW), false), (Some(NOW + 1), true)]
    {
        let s = Schedule::new(start.map(Timestamp), None).unwrap();
        assert_eq!(rules::starts_scheduled(Some(s), now), scheduled, "{start:?}");
    }
    let end_only = Schedule::new(None, Some((Timestamp(NOW + 1), JobEndBehavior::Cancel))).unwrap();
    assert!(!rules::starts_scheduled(Some(end_only), now));
    assert!(!rules::starts_scheduled(None, now));
}

#[test]
fn remove_thing_every_input_and_knob() {
    for policy in [Policy::DEFAULT, alternative("R10")] {
        for job in JobStatus::ALL {
            let applies = table::REMOVE_THING_JOB.iter().find(|r| r.job == job).unwrap().applies;
            for status in ExecutionStatus::ALL {
                let want = if applies { rules::remove_target(status, &policy) } else { None };
                assert_eq!(rules::remove_thing(job, status, &policy), want, "{job} {status}");
            }
        }
    }
    // The deletion's own row is the only one that never removes.
    assert_eq!(
        rules::remove_thing(JobStatus::InProgress, ExecutionStatus::Queued, &Policy::DEFAULT),
        Some(ExecutionStatus::Removed)
    );
}
