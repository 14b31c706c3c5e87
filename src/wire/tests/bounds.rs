//! The `MAX_*_LEN` bounds are exact: the worst case of every message fits them, byte for byte.

use super::*;

/// Ten distinct 128-byte keys.
fn worst_keys() -> Vec<String> {
    (0..10).map(|i| format!("{i}{}", "k".repeat(127))).collect()
}

/// 1024 UTF-16 units of 3-byte characters: 3072 bytes (SPEC R14 value maximum).
fn worst_value() -> String {
    "\u{4e2d}".repeat(1024)
}

/// 64 control characters, each written as `\u00XX`.
fn worst_token() -> String {
    "\u{1}".repeat(64)
}

fn worst_details<'a>(keys: &'a [String], value: &'a str) -> StatusDetails<'a> {
    let pairs: Vec<(&str, &str)> = keys.iter().map(|k| (k.as_str(), value)).collect();
    StatusDetails::new(&pairs).unwrap()
}

#[test]
#[cfg_attr(miri, ignore = "megabytes of JSON: minutes under Miri")]
fn worst_case_values_are_legal_and_as_long_as_assumed() {
    let value = worst_value();
    assert_eq!(value.len(), 3 * 1024);
    assert!(StatusDetails::new(&[("k", value.as_str())]).is_ok());
    // Escaping a value never beats 3 bytes per UTF-16 unit: `"` and `\` double (1 → 2).
    let quotes = "\"".repeat(1024);
    let d = details(&[("k", quotes.as_str())]);
    let json = StartNextRequest { status_details: Some(d), ..Default::default() }
        .serialize(&mut [0; 4096])
        .unwrap()
        .len();
    assert!(json - r#"{"statusDetails":{"k":""}}"#.len() <= 3 * 1024);
}

#[test]
#[cfg_attr(miri, ignore = "megabytes of JSON: minutes under Miri")]
fn max_lengths_are_exact() {
    let (keys, value, token) = (worst_keys(), worst_value(), worst_token());
    let job = "j".repeat(64);
    let thing = "t".repeat(128);
    let big = VersionNumber::MAX;
    let long_number = ExecutionNumber::MAX;
    let ts_max = Timestamp(u64::MAX);

    let get = GetPendingRequest { client_token: Some(&token) };
    assert_eq!(
        round_trip!(GetPendingRequest, get, MAX_GET_PENDING_REQUEST_LEN).len(),
        MAX_GET_PENDING_REQUEST_LEN
    );

    let start = StartNextRequest {
        status_details: Some(worst_details(&keys, &value)),
        step_timeout: Some(StepTimeout::Minutes(10080)),
        client_token: Some(&token),
    };
    assert_eq!(
        round_trip!(StartNextRequest, start, MAX_START_NEXT_REQUEST_LEN).len(),
        MAX_START_NEXT_REQUEST_LEN
    );

    let describe = DescribeRequest {
        execution_number: Some(long_number),
        include_job_document: false,
        client_token: Some(&token),
    };
    assert_eq!(
        round_trip!(DescribeRequest, describe, MAX_DESCRIBE_REQUEST_LEN).len(),
        MAX_DESCRIBE_REQUEST_LEN
    );

    let update = UpdateRequest {
        status: ExecutionStatus::InProgress,
        status_details: Some(worst_details(&keys, &value)),
        expected_version: Some(big),
        execution_number: Some(long_number),
        include_job_execution_state: true,
        include_job_document: true,
        step_timeout: Some(StepTimeout::Minutes(10080)),
        client_token: Some(&token),
    };
    assert_eq!(round_trip!(UpdateRequest, update, MAX_UPDATE_REQUEST_LEN).len(), MAX_UPDATE_REQUEST_LEN);

    let s = JobExecutionSummary {
        job_id: &job,
        queued_at: ts_max,
        started_at: Some(ts_max),
        last_updated_at: ts_max,
        version_number: big,
        execution_number: long_number,
    };
    let full = list(&[s; 15]);
    let pending = GetPendingResponse {
        in_progress_jobs: full.clone(),
        queued_jobs: full.clone(),
        timestamp: Some(ts_max),
        client_token: Some(&token),
    };
    assert_eq!(
        round_trip!(GetPendingResponse, pending, MAX_GET_PENDING_RESPONSE_LEN).len(),
        MAX_GET_PENDING_RESPONSE_LEN
    );
    let notify = JobExecutionsChanged { timestamp: ts_max, in_progress: full.clone(), queued: full };
    assert_eq!(
        round_trip!(JobExecutionsChanged, notify, MAX_JOB_EXECUTIONS_CHANGED_LEN).len(),
        MAX_JOB_EXECUTIONS_CHANGED_LEN
    );

    let doc = JobDocument::new(br#"{"operation":"install"}"#).unwrap();
    let execution = JobExecution {
        job_id: &job,
        thing_name: Some(&thing),
        job_document: Some(doc),
        status: ExecutionStatus::InProgress,
        status_details: Some(worst_details(&keys, &value)),
        queued_at: ts_max,
        started_at: Some(ts_max),
        last_updated_at: ts_max,
        version_number: big,
        execution_number: long_number,
        approximate_seconds_before_timed_out: Some(u64::MAX),
    };
    let max = MAX_RESPONSE_LEN_WITHOUT_DOCUMENT + doc.as_bytes().len();
    let response = ExecutionResponse {
        execution: Some(execution.clone()),
        timestamp: Some(ts_max),
        client_token: Some(&token),
    };
    assert_eq!(round_trip!(ExecutionResponse, response, max).len(), max);
    let next = NextJobExecutionChanged { timestamp: ts_max, execution: Some(execution) };
    assert!(round_trip!(NextJobExecutionChanged, next, max).len() < max);
    let state = JobExecutionState {
        status: ExecutionStatus::InProgress,
        status_details: Some(worst_details(&keys, &value)),
        version_number: big,
    };
    let update = UpdateResponse {
        execution_state: Some(state.clone()),
        job_document: Some(doc),
        timestamp: Some(ts_max),
        client_token: Some(&token),
    };
    assert!(round_trip!(UpdateResponse, update, max).len() < max);

    let message = "\u{2}".repeat(10);
    let error = ErrorResponse {
        code: ErrorCode::InvalidStateTransition,
        message: &message,
        client_token: Some(&token),
        timestamp: ts_max,
        execution_state: Some(state),
    };
    let max = MAX_ERROR_RESPONSE_LEN_WITHOUT_MESSAGE + 6 * message.len();
    assert_eq!(round_trip!(ErrorResponse, error, max).len(), max);

    // The values, for the record (and the report).
    assert_eq!(
        [
            MAX_GET_PENDING_REQUEST_LEN,
            MAX_START_NEXT_REQUEST_LEN,
            MAX_DESCRIBE_REQUEST_LEN,
            MAX_UPDATE_REQUEST_LEN,
            MAX_GET_PENDING_RESPONSE_LEN,
            MAX_JOB_EXECUTIONS_CHANGED_LEN,
            MAX_RESPONSE_LEN_WITHOUT_DOCUMENT,
            MAX_ERROR_RESPONSE_LEN_WITHOUT_MESSAGE,
        ],
        [402, 32509, 467, 32666, 8059, 7660, 33015, 32636]
    );
}
