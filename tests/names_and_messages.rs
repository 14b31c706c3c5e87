//! The wire names and the human messages of the vocabulary types: every name is the exact AWS
//! string, and every message names what was wrong and what is allowed (the text a host puts in an
//! ErrorResponse `message`).

// `#[test]`s may unwrap, expect, panic and index (clippy.toml); the helpers here need it too.
#![allow(clippy::unwrap_used, clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]

use iot_jobs_core::config::ConfigError;
use iot_jobs_core::rules;
use iot_jobs_core::topic::{JobIdRef, Reply, ThingNameRef, Topic};
use iot_jobs_core::{
    Current, ExecutionState, ExecutionStatus, Field, FieldError, InvalidRequest, JobId, JobStatus, Limit,
    Operation, Policy, Rejection, Resource, Table, TargetSelection, ThingName, VersionNumber, Violation,
};

fn state(status: ExecutionStatus, version: u64) -> ExecutionState {
    ExecutionState { status, version: VersionNumber::new(version).unwrap() }
}

#[test]
fn operation_names_are_the_api_names() {
    let all = [
        (Operation::CreateJob, "CreateJob"),
        (Operation::CancelJob, "CancelJob"),
        (Operation::DeleteJob, "DeleteJob"),
        (Operation::CancelJobExecution, "CancelJobExecution"),
        (Operation::DeleteJobExecution, "DeleteJobExecution"),
        (Operation::UpdateJobExecution, "UpdateJobExecution"),
        (Operation::StartNextPendingJobExecution, "StartNextPendingJobExecution"),
        (Operation::DescribeJobExecution, "DescribeJobExecution"),
        (Operation::GetPendingJobExecutions, "GetPendingJobExecutions"),
        (Operation::AssociateTargetsWithJob, "AssociateTargetsWithJob"),
    ];
    for (op, name) in all {
        assert_eq!(op.as_str(), name);
    }
}

#[test]
fn field_names_are_the_wire_member_names() {
    let all = [
        (Field::JobId, "jobId"),
        (Field::ThingName, "thingName"),
        (Field::NamespaceId, "namespaceId"),
        (Field::ExecutionNumber, "executionNumber"),
        (Field::Version, "expectedVersion"),
        (Field::StatusDetailsKey, "statusDetails key"),
        (Field::StatusDetailsValue, "statusDetails value"),
        (Field::StatusDetails, "statusDetails"),
        (Field::Comment, "comment"),
        (Field::ReasonCode, "reasonCode"),
        (Field::StepTimeout, "stepTimeoutInMinutes"),
        (Field::InProgressTimeout, "inProgressTimeoutInMinutes"),
        (Field::JobConfig, "job configuration"),
    ];
    for (field, name) in all {
        assert_eq!(field.as_str(), name);
    }
}

#[test]
fn field_errors_say_which_field_and_what_is_allowed() {
    let msg = |field, violation| FieldError { field, violation }.to_string();
    assert_eq!(msg(Field::JobId, Violation::Empty), "jobId must not be empty");
    assert_eq!(
        msg(Field::ThingName, Violation::TooLong { max: 128, len: 129 }),
        "thingName is 129 characters long; at most 128 are allowed"
    );
    let bad = JobId::new("bad!id").unwrap_err().to_string();
    assert!(bad.contains("jobId") && bad.contains("position 3") && bad.contains("a-z A-Z 0-9 _ -"), "{bad}");
    let bad = ThingName::new("a/b").unwrap_err().to_string();
    assert!(bad.contains("a-z A-Z 0-9 : _ -"), "{bad}");
    for (field, set) in [
        (Field::ReasonCode, "A-Z 0-9 _"),
        (Field::ExecutionNumber, "0-9"),
        (Field::Comment, "control, format and private-use"),
    ] {
        let m = msg(field, Violation::InvalidCharacter { position: 0 });
        assert!(m.contains(set), "{m}");
    }
    assert_eq!(
        msg(Field::StatusDetails, Violation::TooManyPairs { max: 10, len: 11 }),
        "statusDetails has 11 pairs; at most 10 are allowed"
    );
    assert_eq!(
        msg(Field::StatusDetails, Violation::DuplicateKey { position: 2 }),
        "statusDetails repeats a key at pair 2"
    );
    assert_eq!(
        msg(Field::StepTimeout, Violation::OutOfRange { min: -1, max: 10080 }),
        "stepTimeoutInMinutes must be -1 or between 1 and 10080"
    );
    assert_eq!(
        msg(Field::ExecutionNumber, Violation::NotANumber),
        "executionNumber must be a decimal integer"
    );
    assert_eq!(
        msg(Field::StatusDetails, Violation::TooLarge { len: 1100, capacity: 1024 }),
        "statusDetails needs 1100 bytes of storage and this endpoint stores at most 1024; \
         send fewer or shorter pairs"
    );
    assert_eq!(
        msg(Field::JobConfig, Violation::Config(ConfigError::Schedule)),
        "schedulingConfig endTime must be after startTime"
    );
    for e in [
        ConfigError::InProgressTimeout,
        ConfigError::StepTimeout,
        ConfigError::Retry,
        ConfigError::Abort,
        ConfigError::Rollout,
    ] {
        assert!(!e.to_string().is_empty());
    }
    assert!(ConfigError::Retry.to_string().contains("at most 10"));
    assert!(ConfigError::Abort.to_string().contains("1-4 criteria, one per failure type"));
}

#[test]
fn rejection_messages_name_the_state_and_the_remedy() {
    let m = |r: Rejection| r.to_string();
    assert_eq!(
        m(Rejection::InvalidRequest(InvalidRequest::CancelJobInStatus(JobStatus::Completed))),
        "CancelJob is not allowed on a job in status COMPLETED"
    );
    assert!(m(Rejection::InvalidRequest(InvalidRequest::TargetsNeedContinuousJob)).contains("CONTINUOUS"));
    assert!(
        m(Rejection::InvalidRequest(InvalidRequest::TargetsNeedInProgressJob(JobStatus::Scheduled)))
            .ends_with("SCHEDULED")
    );
    assert_eq!(m(Rejection::InvalidRequest(InvalidRequest::NoTargets)), "at least one target is required");
    assert!(m(Rejection::InvalidRequest(InvalidRequest::StaleCursor)).contains("nextToken"));
    assert!(m(Rejection::InvalidRequest(InvalidRequest::ForeignCursor)).contains("another listing"));
    assert_eq!(m(Rejection::NotFound(Resource::Execution)), "the job execution does not exist");
    assert_eq!(m(Rejection::NotFound(Resource::Thing)), "the thing does not exist");
    assert_eq!(m(Rejection::AlreadyExists(Resource::Job)), "the job already exists");
    let job = |operation, s| Rejection::InvalidStateTransition {
        operation,
        current: Current::Job(s),
        requested: None,
    };
    assert!(m(job(Operation::DeleteJob, JobStatus::DeletionInProgress)).ends_with("already being deleted"));
    assert!(m(job(Operation::CancelJob, JobStatus::DeletionInProgress)).ends_with("already being deleted"));
    assert!(
        m(job(Operation::DeleteJob, JobStatus::InProgress))
            .ends_with("set force=true to delete a job that is not terminal")
    );
    assert_eq!(
        m(job(Operation::DeleteJob, JobStatus::Canceled)),
        "DeleteJob is not allowed on a job in status CANCELED"
    );
    let exec = |requested| Rejection::InvalidStateTransition {
        operation: Operation::UpdateJobExecution,
        current: Current::Execution(state(ExecutionStatus::Succeeded, 4)),
        requested,
    };
    assert_eq!(
        m(exec(None)),
        "UpdateJobExecution is not allowed on a job execution in status SUCCEEDED (version 4)"
    );
    assert_eq!(
        m(exec(Some(ExecutionStatus::Failed))),
        "UpdateJobExecution to status FAILED is not allowed on a job execution in status SUCCEEDED (version 4); \
         a terminal job execution never changes"
    );
    // What the rules say, for a device asking for a status it may not set, or for any status
    // once the execution is terminal.
    let update = |status, v, requested| {
        m(rules::update_execution(state(status, v), requested, None, &Policy::DEFAULT).unwrap_err())
    };
    assert_eq!(
        update(ExecutionStatus::InProgress, 2, ExecutionStatus::Queued),
        "UpdateJobExecution to status QUEUED is not allowed on a job execution in status IN_PROGRESS \
         (version 2); a device sets only IN_PROGRESS, SUCCEEDED, FAILED or REJECTED"
    );
    assert_eq!(
        update(ExecutionStatus::Rejected, 3, ExecutionStatus::InProgress),
        "UpdateJobExecution to status IN_PROGRESS is not allowed on a job execution in status REJECTED \
         (version 3); a terminal job execution never changes"
    );
    let strict = Policy { device_may_skip_in_progress: false, ..Policy::DEFAULT };
    assert_eq!(
        m(rules::update_execution(
            state(ExecutionStatus::Queued, 1),
            ExecutionStatus::Succeeded,
            None,
            &strict
        )
        .unwrap_err()),
        "UpdateJobExecution to status SUCCEEDED is not allowed on a job execution in status QUEUED (version 1)"
    );
    assert!(m(Rejection::VersionMismatch(state(ExecutionStatus::InProgress, 2))).contains("version 2"));
    assert!(m(Rejection::LimitExceeded(Limit::JobsDeletionInProgress)).contains("10 jobs"));
    assert!(m(Rejection::LimitExceeded(Limit::TargetsPerJob)).contains("100 targets"));
    assert!(m(Rejection::LimitExceeded(Limit::Counter)).contains("maximum"));
    assert!(m(Rejection::TerminalState(state(ExecutionStatus::Failed, 3))).ends_with("FAILED"));
    assert!(m(Rejection::Throttled).contains("retry later"));
    for (t, noun) in [
        (Table::Jobs, "jobs"),
        (Table::Things, "things"),
        (Table::Executions, "job executions"),
        (Table::StatusDetails, "status details"),
        (Table::Events, "pending notifications"),
        (Table::Index, "index entries (names of jobs, things and job-thing pairs)"),
    ] {
        assert_eq!(m(Rejection::CapacityExhausted(t)), format!("the registry's table of {noun} is full"));
    }
    assert_eq!(
        m(Rejection::LogicBug("a link names a missing entry")),
        "a defect of iot-jobs-core (a link names a missing entry); please report it"
    );
    let field = Rejection::from(FieldError { field: Field::JobId, violation: Violation::Empty });
    assert_eq!(m(field), "jobId must not be empty");
}

#[test]
fn defaults_and_small_names() {
    // SPEC §1 / DG-CTL: SNAPSHOT is the default target selection.
    assert_eq!(TargetSelection::default(), TargetSelection::Snapshot);
    assert_eq!(Policy::default(), Policy::DEFAULT);
    let unknown = "SUCCESS".parse::<ExecutionStatus>().unwrap_err();
    assert_eq!(unknown.to_string(), "not a valid JobExecutionStatus value");
    assert_eq!((Reply::Accepted.as_str(), Reply::Rejected.as_str()), ("accepted", "rejected"));
    let job = JobId::new("j1").unwrap();
    let event =
        Topic::JobEvent { job: JobIdRef::from(&job), event: iot_jobs_core::registry::JobEvent::Deleted };
    assert_eq!(event.thing(), None, "event topics name no thing");
    let thing = ThingName::new("t1").unwrap();
    let notify = Topic::Notify { thing: ThingNameRef::from(&thing), namespace: None };
    assert_eq!(notify.thing().map(|t| t.as_str()), Some("t1"));
}

#[test]
fn numbers_parse_statuses_are_str_and_a_full_sink_is_an_error() {
    use iot_jobs_core::ExecutionNumber;
    use iot_jobs_core::registry::SinkFull;
    assert_eq!("3".parse::<ExecutionNumber>(), ExecutionNumber::try_from("3"));
    assert_eq!("3".parse::<VersionNumber>().map(VersionNumber::get), Ok(3));
    assert_eq!("-1".parse::<VersionNumber>(), VersionNumber::try_from("-1"));
    assert!("x".parse::<ExecutionNumber>().is_err());
    let names: Vec<&str> = ExecutionStatus::ALL.iter().map(AsRef::as_ref).collect();
    assert_eq!(names, ExecutionStatus::ALL.map(ExecutionStatus::as_str));
    assert_eq!(JobStatus::Scheduled.as_ref(), "SCHEDULED");
    let e: &dyn core::error::Error = &SinkFull;
    assert_eq!(e.to_string(), "the event sink is full");
}
