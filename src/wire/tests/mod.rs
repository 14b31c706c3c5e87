#![allow(clippy::wildcard_enum_match_arm)]

extern crate std;

use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, vec};

use proptest::prelude::*;

use super::*;
use crate::error::{ErrorCode, ExecutionState};
use crate::id::{ExecutionNumber, Field, StepTimeout, Timestamp, VersionNumber, Violation};
use crate::json;
use crate::status::ExecutionStatus;

/// Parses `$json` (a `&str` or `String`) as `$ty` with a generous scratch buffer; both are
/// leaked so that the result can outlive the statement.
macro_rules! parse {
    ($ty:ident, $json:expr) => {
        $ty::parse(String::leak(($json).to_string()).as_bytes(), Vec::leak(vec![0_u8; 512]))
    };
}

/// Serializes `$value`, parses it back, and checks equality, the exact-fit buffer, the
/// one-byte-short buffer and the `$max` bound. Evaluates to the JSON text.
macro_rules! round_trip {
    ($ty:ident, $value:expr, $max:expr) => {{
        let value = $value;
        let mut out = vec![0_u8; $max];
        let json = value.serialize(&mut out).unwrap().to_vec();
        assert!(json.len() <= $max);
        let mut scratch = vec![0_u8; json.len()];
        assert_eq!($ty::parse(&json, &mut scratch).unwrap(), value);
        let mut exact = vec![0_u8; json.len()];
        assert_eq!(value.serialize(&mut exact).unwrap(), &json[..]);
        let mut short = vec![0_u8; json.len() - 1];
        assert_eq!(value.serialize(&mut short), Err(WireError::BufferTooSmall));
        String::from_utf8(json).unwrap()
    }};
}

fn ts(secs: u64) -> Timestamp {
    Timestamp(secs)
}

fn version(n: u64) -> VersionNumber {
    VersionNumber::new(n).unwrap()
}

fn number(n: u64) -> ExecutionNumber {
    ExecutionNumber::new(n).unwrap()
}

fn summary(job_id: &str, queued: u64, started: Option<u64>, last: u64, v: u64) -> JobExecutionSummary<'_> {
    JobExecutionSummary {
        job_id,
        queued_at: ts(queued),
        started_at: started.map(ts),
        last_updated_at: ts(last),
        version_number: version(v),
        execution_number: number(1),
    }
}

fn details<'a>(pairs: &[(&'a str, &'a str)]) -> StatusDetails<'a> {
    StatusDetails::new(pairs).unwrap()
}

fn list<'a>(items: &[JobExecutionSummary<'a>]) -> SummaryList<'a> {
    SummaryList::from_slice(items).unwrap()
}

fn field(e: Result<impl core::fmt::Debug, WireError>) -> FieldError {
    match e.unwrap_err() {
        WireError::Field(f) => f,
        other => panic!("expected a field error, got {other:?}"),
    }
}

fn json_error(e: Result<impl core::fmt::Debug, WireError>) -> json::Error {
    match e.unwrap_err() {
        WireError::Json(j) => j,
        other => panic!("expected a JSON error, got {other:?}"),
    }
}

// ---- Golden messages: SPEC §7 shapes and the developer guide's examples --------------------

#[test]
fn notify_example_from_the_developer_guide() {
    // DG-NOTIF, first example (versionNumber 0 included).
    let msg = r#"{
      "timestamp" : 10011,
      "jobs" : {
        "IN_PROGRESS" : [ {
          "jobId" : "other-job",
          "queuedAt" : 10003,
          "lastUpdatedAt" : 10009,
          "executionNumber" : 1,
          "versionNumber" : 1
        } ],
        "QUEUED" : [ {
          "jobId" : "this-job",
          "queuedAt" : 10011,
          "lastUpdatedAt" : 10011,
          "executionNumber" : 1,
          "versionNumber" : 0
        } ]
      }
    }"#;
    let n = parse!(JobExecutionsChanged, msg).unwrap();
    assert_eq!(n.timestamp, ts(10011));
    assert_eq!(&n.in_progress[..], &[summary("other-job", 10003, None, 10009, 1)]);
    assert_eq!(&n.queued[..], &[summary("this-job", 10011, None, 10011, 0)]);
}

#[test]
fn notify_with_started_at_and_empty_set() {
    // DG-NOTIF: job3 in progress; then the empty pending set.
    let msg = r#"{"timestamp":1517189392,"jobs":{"IN_PROGRESS":[{"jobId":"job3","queuedAt":1517017905,
        "lastUpdatedAt":1517186779,"startedAt":1517186779,"executionNumber":1,"versionNumber":2}]}}"#;
    let n = parse!(JobExecutionsChanged, msg).unwrap();
    assert_eq!(&n.in_progress[..], &[summary("job3", 1517017905, Some(1517186779), 1517186779, 2)]);
    assert!(n.queued.is_empty());

    let empty = parse!(JobExecutionsChanged, r#"{"timestamp": 1517189551, "jobs": {}}"#).unwrap();
    assert_eq!(empty, JobExecutionsChanged { timestamp: ts(1517189551), ..Default::default() });
    // SPEC §7.2: an empty pending set is `"jobs":{}`.
    assert_eq!(round_trip!(JobExecutionsChanged, empty, 64), r#"{"timestamp":1517189551,"jobs":{}}"#);
    // AMBIG-23: the syntax block's "JobExecutionState" key is not a status; it is ignored.
    let odd = parse!(JobExecutionsChanged, r#"{"timestamp":1,"jobs":{"JobExecutionState":[1]}}"#).unwrap();
    assert!(odd.in_progress.is_empty() && odd.queued.is_empty());
    assert_eq!(
        parse!(JobExecutionsChanged, r#"{"timestamp":1}"#),
        Err(WireError::Missing { member: "jobs" })
    );
}

#[test]
fn notify_next_examples_from_the_developer_guide() {
    let msg = r#"{
      "timestamp" : 10011,
      "execution" : {
        "jobId" : "other-job",
        "status" : "IN_PROGRESS",
        "queuedAt" : 10009,
        "lastUpdatedAt" : 10009,
        "versionNumber" : 1,
        "executionNumber" : 1,
        "jobDocument" : {"c":"d"}
      }
    }"#;
    let n = parse!(NextJobExecutionChanged, msg).unwrap();
    let e = n.execution.as_ref().unwrap();
    assert_eq!(n.timestamp, ts(10011));
    assert_eq!((e.job_id, e.thing_name, e.status), ("other-job", None, ExecutionStatus::InProgress));
    assert_eq!(e.job_document.unwrap().as_bytes(), br#"{"c":"d"}"#);
    assert!(!e.job_document.unwrap().is_string());
    assert_eq!((e.queued_at, e.started_at, e.last_updated_at), (ts(10009), None, ts(10009)));
    assert_eq!((e.version_number, e.execution_number), (version(1), number(1)));

    let nested = r#"{"timestamp": 1517186779, "execution": {"jobId": "job3", "status": "IN_PROGRESS",
        "queuedAt": 1517017905, "startedAt": 1517186779, "lastUpdatedAt": 1517186779, "versionNumber": 2,
        "executionNumber": 1, "jobDocument": {"operation": "test"}}}"#;
    let n = parse!(NextJobExecutionChanged, nested).unwrap();
    let e = n.execution.as_ref().unwrap();
    assert_eq!(e.started_at, Some(ts(1517186779)));
    assert_eq!(e.job_document.unwrap().as_bytes(), br#"{"operation": "test"}"#);
    // Written back compactly, with the document's bytes unchanged.
    assert_eq!(
        round_trip!(NextJobExecutionChanged, n, 512),
        r#"{"timestamp":1517186779,"execution":{"jobId":"job3","jobDocument":{"operation": "test"},"status":"IN_PROGRESS","queuedAt":1517017905,"startedAt":1517186779,"lastUpdatedAt":1517186779,"versionNumber":2,"executionNumber":1}}"#
    );

    // SPEC §7.2: nothing pending → `{timestamp}` only.
    let none = parse!(NextJobExecutionChanged, r#"{"timestamp": 1517189551}"#).unwrap();
    assert_eq!(none, NextJobExecutionChanged { timestamp: ts(1517189551), execution: None });
    assert_eq!(round_trip!(NextJobExecutionChanged, none, 64), r#"{"timestamp":1517189551}"#);
}

#[test]
fn get_pending_accepted() {
    // DG-MQTT response shape with the DG-NOTIF summaries; HTTPS body without timestamp.
    let msg = r#"{"inProgressJobs":[{"jobId":"job1","queuedAt":1517016947,"startedAt":1517017472,
        "lastUpdatedAt":1517017472,"executionNumber":1,"versionNumber":2}],
        "queuedJobs":[{"jobId":"job2","queuedAt":1517017191,"lastUpdatedAt":1517017191,"executionNumber":1,
        "versionNumber":1},{"jobId":"job3","queuedAt":1517017905,"lastUpdatedAt":1517017905,
        "executionNumber":1,"versionNumber":1}],"timestamp":1489096425069,"clientToken":"client-001"}"#;
    let r = parse!(GetPendingResponse, msg).unwrap();
    assert_eq!(&r.in_progress_jobs[..], &[summary("job1", 1517016947, Some(1517017472), 1517017472, 2)]);
    assert_eq!(r.queued_jobs.len(), 2);
    assert_eq!(r.queued_jobs[1].job_id, "job3");
    assert_eq!(r.timestamp, Some(ts(1489096425069)));
    assert_eq!(r.client_token, Some("client-001"));
    round_trip!(GetPendingResponse, r, MAX_GET_PENDING_RESPONSE_LEN);

    let http = parse!(GetPendingResponse, r#"{"inProgressJobs":[],"queuedJobs":[]}"#).unwrap();
    assert_eq!(http, GetPendingResponse::default());
    assert_eq!(round_trip!(GetPendingResponse, http, 64), r#"{"inProgressJobs":[],"queuedJobs":[]}"#);
}

#[test]
fn start_next_and_describe_accepted() {
    // DG-MQTT StartNext example (its trailing comma removed); the document is a string there.
    let msg = r#"{"execution":{"jobId":"022","thingName":"MyThing","jobDocument":"< contents of job document >",
        "status":"IN_PROGRESS","queuedAt":1489096123309,"lastUpdatedAt":1489096123309,"versionNumber":1,
        "executionNumber":1234567890},"clientToken":"client-1","timestamp":1489088524284}"#;
    let r = parse!(ExecutionResponse, msg).unwrap();
    let e = r.execution.as_ref().unwrap();
    assert_eq!((e.job_id, e.thing_name), ("022", Some("MyThing")));
    assert!(e.job_document.unwrap().is_string());
    assert_eq!(e.execution_number, number(1234567890));
    assert_eq!((r.timestamp, r.client_token), (Some(ts(1489088524284)), Some("client-1")));
    round_trip!(ExecutionResponse, r, MAX_RESPONSE_LEN_WITHOUT_DOCUMENT + 64);

    // SPEC R19: nothing pending → no `execution`.
    let none = parse!(ExecutionResponse, r#"{"timestamp":5,"clientToken":"c"}"#).unwrap();
    assert_eq!(none.execution, None);

    let full = r#"{"execution":{"jobId":"j","thingName":"t:1","status":"QUEUED","statusDetails":{"step":"1/3"},
        "queuedAt":1,"lastUpdatedAt":2,"versionNumber":3,"executionNumber":4,
        "approximateSecondsBeforeTimedOut":600,"extra":{"ignored":[1,2]}},"timestamp":9}"#;
    let e = parse!(ExecutionResponse, full).unwrap().execution.unwrap();
    assert_eq!(e.status_details.as_ref().unwrap().get("step"), Some("1/3"));
    assert_eq!(e.approximate_seconds_before_timed_out, Some(600));
    assert_eq!(e.job_document, None);
}

#[test]
fn update_accepted() {
    let msg = r#"{"executionState":{"status":"SUCCEEDED","statusDetails":{"result":"ok"},"versionNumber":4},
        "jobDocument":{"operation":"install","url":"https://example.com/fw.bin"},"timestamp":1517186779,
        "clientToken":"u-1"}"#;
    let r = parse!(UpdateResponse, msg).unwrap();
    let state = r.execution_state.as_ref().unwrap();
    assert_eq!((state.status, state.version_number), (ExecutionStatus::Succeeded, version(4)));
    assert_eq!(
        r.job_document.unwrap().as_bytes(),
        br#"{"operation":"install","url":"https://example.com/fw.bin"}"#
    );
    round_trip!(UpdateResponse, r, MAX_RESPONSE_LEN_WITHOUT_DOCUMENT + 64);
    // HTTPS: jobDocument as a string (AMBIG-22), no timestamp.
    let http = parse!(UpdateResponse, r#"{"jobDocument":"{\"a\":1}"}"#).unwrap();
    assert_eq!(http.job_document.unwrap().as_bytes(), br#""{\"a\":1}""#);
    assert_eq!(http.timestamp, None);
}

#[test]
fn error_response_with_execution_state() {
    // DG-API ErrorResponse shape; VersionMismatch carries executionState (SPEC §4.4).
    let msg = r#"{"code":"VersionMismatch","message":"expected version 2 but found 3","clientToken":"c-7",
        "timestamp":1517186779,"executionState":{"status":"IN_PROGRESS","statusDetails":{"step":"2"},
        "versionNumber":3}}"#;
    let r = parse!(ErrorResponse, msg).unwrap();
    assert_eq!(r.code, ErrorCode::VersionMismatch);
    assert_eq!(r.code.as_str(), "VersionMismatch");
    assert_eq!(r.message, "expected version 2 but found 3");
    let state = r.execution_state.as_ref().unwrap();
    assert_eq!((state.status, state.version_number), (ExecutionStatus::InProgress, version(3)));
    round_trip!(ErrorResponse, r, MAX_ERROR_RESPONSE_LEN_WITHOUT_MESSAGE + 6 * 40);

    // Every code parses; only two may carry executionState.
    for code in ErrorCode::ALL {
        let plain = format!(r#"{{"code":"{code}","message":"m","timestamp":1}}"#);
        assert_eq!(parse!(ErrorResponse, plain).unwrap().code, code);
        let with_state = format!(
            r#"{{"code":"{code}","message":"m","timestamp":1,"executionState":{{"status":"FAILED","versionNumber":1}}}}"#
        );
        let parsed = parse!(ErrorResponse, with_state);
        if code.carries_execution_state() {
            assert!(parsed.is_ok());
        } else {
            assert_eq!(parsed, Err(WireError::NotAllowed { member: "executionState" }));
            let value = ErrorResponse {
                code,
                message: "m",
                client_token: None,
                timestamp: ts(1),
                execution_state: Some(
                    ExecutionState { status: ExecutionStatus::Failed, version: version(1) }.into(),
                ),
            };
            assert_eq!(
                value.serialize(&mut [0; 256]),
                Err(WireError::NotAllowed { member: "executionState" })
            );
        }
    }
    let unknown = parse!(ErrorResponse, r#"{"code":"InvalidJSON","message":"m","timestamp":1}"#);
    assert!(matches!(unknown, Err(WireError::UnknownValue { what: "ErrorCode", offset: 8 })));
}

#[test]
fn requests_parse_with_defaults() {
    assert_eq!(
        parse!(GetPendingRequest, r#"{"clientToken":"client-001"}"#).unwrap().client_token,
        Some("client-001")
    );
    assert_eq!(parse!(GetPendingRequest, "{}").unwrap(), GetPendingRequest::default());

    let s = parse!(
        StartNextRequest,
        r#"{"statusDetails":{"step":"download"},"stepTimeoutInMinutes":60,"clientToken":"t"}"#
    )
    .unwrap();
    assert_eq!(s.status_details.as_ref().unwrap().pairs(), &[("step", "download")]);
    assert_eq!(s.step_timeout, Some(StepTimeout::Minutes(60)));

    let d = parse!(DescribeRequest, r#"{"executionNumber":7,"clientToken":"x"}"#).unwrap();
    // SPEC §4.3: includeJobDocument defaults to true.
    assert_eq!(
        d,
        DescribeRequest {
            execution_number: Some(number(7)),
            include_job_document: true,
            client_token: Some("x")
        }
    );
    assert!(!parse!(DescribeRequest, r#"{"includeJobDocument":false}"#).unwrap().include_job_document);
    assert_eq!(round_trip!(DescribeRequest, DescribeRequest::default(), 8), "{}");

    let u = parse!(UpdateRequest, r#"{"status":"IN_PROGRESS"}"#).unwrap();
    // SPEC §4.3: both include flags default to false.
    assert_eq!(u, UpdateRequest::new(ExecutionStatus::InProgress));
}

#[test]
fn update_request_expected_version_as_number_or_string() {
    // SPEC §5: DG-MQTT shows a quoted value; the AWS C library and Greengrass send a string.
    let as_string = parse!(UpdateRequest, r#"{"status":"SUCCEEDED","expectedVersion":"3"}"#).unwrap();
    let as_number = parse!(UpdateRequest, r#"{"status":"SUCCEEDED","expectedVersion":3}"#).unwrap();
    assert_eq!(as_string.expected_version, Some(version(3)));
    assert_eq!(as_string, as_number);
    let full = r#"{"status":"IN_PROGRESS","statusDetails":{"progress":"50%","step":"2/3"},"expectedVersion":"3",
        "executionNumber":"1","includeJobExecutionState":true,"includeJobDocument":true,"stepTimeoutInMinutes":-1,
        "clientToken":"abc","x-vendor":{"anything":[true,null]}}"#;
    let u = parse!(UpdateRequest, full).unwrap();
    assert_eq!(u.execution_number, Some(number(1)));
    assert!(u.include_job_execution_state && u.include_job_document);
    assert_eq!(u.step_timeout, Some(StepTimeout::Cancel));
    assert_eq!(
        round_trip!(UpdateRequest, u, MAX_UPDATE_REQUEST_LEN),
        r#"{"status":"IN_PROGRESS","statusDetails":{"progress":"50%","step":"2/3"},"expectedVersion":3,"executionNumber":1,"includeJobExecutionState":true,"includeJobDocument":true,"stepTimeoutInMinutes":-1,"clientToken":"abc"}"#
    );
}

#[test]
fn every_status_parses_and_spelling_traps_do_not() {
    for status in ExecutionStatus::ALL {
        let msg = format!(r#"{{"status":"{status}"}}"#);
        assert_eq!(parse!(UpdateRequest, msg).unwrap().status, status);
        let exec = format!(
            r#"{{"execution":{{"jobId":"j","status":"{status}","queuedAt":1,"lastUpdatedAt":1,"versionNumber":1,"executionNumber":1}}}}"#
        );
        assert_eq!(parse!(ExecutionResponse, exec).unwrap().execution.unwrap().status, status);
    }
    // SPEC §1 spelling traps.
    for trap in ["SUCCESS", "Failed", "FAILURE", "succeeded", "IN PROGRESS", "", "TIMED_OUT "] {
        let msg = format!(r#"{{"status":"{trap}"}}"#);
        let err = parse!(UpdateRequest, msg).unwrap_err();
        assert_eq!(err, WireError::UnknownValue { what: "JobExecutionStatus", offset: 10 });
        assert_eq!(err.error_code(), ErrorCode::InvalidRequest);
        assert_eq!(err.to_string(), "not a valid JobExecutionStatus value at byte 10");
    }
    // Escapes are compared unescaped.
    let escaped = parse!(UpdateRequest, r#"{"st\u0061tus":"TIMED\u005fOUT"}"#).unwrap();
    assert_eq!(escaped.status, ExecutionStatus::TimedOut);
}

// ---- Rejections ----------------------------------------------------------------------------

#[test]
fn malformed_json_is_invalid_json() {
    for bad in [
        "nope",
        "{",
        r#"{"status":"QUEUED""#,
        r#"{"status":"QUEUED"} x"#,
        r#"{"status":"QUEUED"}{}"#,
        "{'status':'QUEUED'}",
        r#"{"status":"QUE\xUED"}"#,
        r#"{"status":"QUEUED",}"#,
    ] {
        let err = parse!(UpdateRequest, bad).unwrap_err();
        assert_eq!(err.error_code(), ErrorCode::InvalidJson, "{bad}: {err}");
        assert!(err.to_string().starts_with("not valid JSON"));
    }
    let not_utf8 = UpdateRequest::parse(b"{\"status\":\"\xff\"}", &mut []).unwrap_err();
    assert_eq!(not_utf8.error_code(), ErrorCode::InvalidJson);
    // An unknown member is skipped but must still be valid JSON.
    let err = parse!(GetPendingRequest, r#"{"unknown":[1,2,}"#).unwrap_err();
    assert_eq!(err.error_code(), ErrorCode::InvalidJson);
    // Malformed JSON after a content error is still malformed JSON.
    let err = parse!(UpdateRequest, r#"{"status":5,"x":tru}"#).unwrap_err();
    assert_eq!(err, WireError::Json(json::Error::UnexpectedByte { offset: 19 }));
    // Nested deeper than the reader reads: valid JSON is contents too deep, input that ends
    // before its brackets close is not JSON.
    let deep =
        |n: usize| format!(r#"{{"statusDetails":{{"a":"b"}},"x":{}{}}}"#, "[".repeat(n), "]".repeat(n));
    let err = parse!(UpdateRequest, &deep(json::MAX_DEPTH)).unwrap_err();
    assert_eq!(err.error_code(), ErrorCode::InvalidRequest, "{err}");
    let unterminated = deep(json::MAX_DEPTH);
    let unterminated = &unterminated[..unterminated.len() - 3];
    let err = parse!(UpdateRequest, unterminated).unwrap_err();
    assert_eq!(err.error_code(), ErrorCode::InvalidJson, "{err}");
}

#[test]
fn wrong_types_and_ranges_are_invalid_request() {
    let cases: &[(&str, json::Error)] = &[
        (r#"{"status":5}"#, json::Error::ExpectedString { offset: 10 }),
        (r#"{"status":"QUEUED","includeJobDocument":"true"}"#, json::Error::ExpectedBool { offset: 40 }),
        (r#"{"status":"QUEUED","statusDetails":[]}"#, json::Error::ExpectedObject { offset: 35 }),
        (r#"{"status":"QUEUED","statusDetails":{"k":1}}"#, json::Error::ExpectedString { offset: 40 }),
        (r#"{"status":"QUEUED","stepTimeoutInMinutes":"5"}"#, json::Error::ExpectedNumber { offset: 42 }),
        (r#"{"status":"QUEUED","status":"FAILED"}"#, json::Error::DuplicateKey { offset: 19 }),
        (r#"[]"#, json::Error::ExpectedObject { offset: 0 }),
    ];
    for (msg, expected) in cases {
        let err = parse!(UpdateRequest, msg).unwrap_err();
        assert_eq!(err, WireError::Json(*expected), "{msg}");
        assert_eq!(err.error_code(), ErrorCode::InvalidRequest, "{msg}");
    }
    // A request's expectedVersion or executionNumber of the wrong type or sign: the field's error,
    // which names it (the reader's "expected a number at byte 37" hid that a string is taken too).
    let range = Violation::OutOfRange { min: 0, max: i64::MAX };
    for (msg, f, violation) in [
        (r#"{"status":"QUEUED","expectedVersion":-1}"#, Field::Version, range),
        (r#"{"status":"QUEUED","expectedVersion":"-1"}"#, Field::Version, range),
        (r#"{"status":"QUEUED","expectedVersion":1.5}"#, Field::Version, Violation::NotANumber),
        (r#"{"status":"QUEUED","expectedVersion":true}"#, Field::Version, Violation::NotANumber),
        (r#"{"status":"QUEUED","expectedVersion":"abc"}"#, Field::Version, Violation::NotANumber),
        (r#"{"status":"QUEUED","executionNumber":18446744073709551616}"#, Field::ExecutionNumber, range),
        (r#"{"status":"QUEUED","executionNumber":"x"}"#, Field::ExecutionNumber, Violation::NotANumber),
    ] {
        let err = parse!(UpdateRequest, msg).unwrap_err();
        assert_eq!(err.error_code(), ErrorCode::InvalidRequest, "{msg}");
        assert_eq!(field(Err::<(), _>(err)), FieldError { field: f, violation }, "{msg}");
    }
    assert_eq!(
        parse!(UpdateRequest, r#"{"status":"QUEUED","expectedVersion":"abc"}"#).unwrap_err().to_string(),
        "expectedVersion must be a decimal integer"
    );
    // i64::MAX + 1 as a number or a string: the model's long overflows (SPEC §5).
    for msg in [
        r#"{"status":"QUEUED","expectedVersion":9223372036854775808}"#,
        r#"{"status":"QUEUED","expectedVersion":"9223372036854775808"}"#,
    ] {
        assert_eq!(field(parse!(UpdateRequest, msg)), FieldError { field: Field::Version, violation: range });
    }
    let timestamp = parse!(NextJobExecutionChanged, r#"{"timestamp":-5}"#);
    assert_eq!(json_error(timestamp), json::Error::NumberOutOfRange { offset: 13 });
    assert_eq!(parse!(UpdateRequest, "{}"), Err(WireError::Missing { member: "status" }));
    // Duplicate unknown members are not our business.
    assert!(parse!(UpdateRequest, r#"{"status":"QUEUED","x":1,"x":2}"#).is_ok());
}

#[test]
fn step_timeout_bounds() {
    let update =
        |n: &str| parse!(UpdateRequest, format!(r#"{{"status":"IN_PROGRESS","stepTimeoutInMinutes":{n}}}"#));
    let start = |n: &str| parse!(StartNextRequest, format!(r#"{{"stepTimeoutInMinutes":{n}}}"#));
    assert_eq!(update("10080").unwrap().step_timeout, Some(StepTimeout::Minutes(10080)));
    assert_eq!(update("-1").unwrap().step_timeout, Some(StepTimeout::Cancel));
    assert_eq!(start("1").unwrap().step_timeout, Some(StepTimeout::Minutes(1)));
    for n in ["0", "10081", "-2"] {
        assert_eq!(field(update(n)).field, Field::StepTimeout);
    }
    // SPEC §3: -1 only on UpdateJobExecution.
    assert_eq!(field(start("-1")).violation, Violation::OutOfRange { min: 1, max: 10080 });
    assert_eq!(json_error(update("-9223372036854775809")), json::Error::NumberOutOfRange { offset: 47 });
    // Serializing checks the public payload again.
    let bad = StartNextRequest { step_timeout: Some(StepTimeout::Cancel), ..Default::default() };
    assert_eq!(field(bad.serialize(&mut [0; 64])).field, Field::StepTimeout);
    let bad = UpdateRequest {
        step_timeout: Some(StepTimeout::Minutes(0)),
        ..UpdateRequest::new(ExecutionStatus::InProgress)
    };
    assert_eq!(field(bad.serialize(&mut [0; 64])).field, Field::StepTimeout);
}

#[test]
fn status_details_constraints() {
    let pairs = |n: usize| (0..n).map(|i| format!(r#""k{i}":"v""#)).collect::<Vec<_>>().join(",");
    let ten = parse!(StartNextRequest, format!(r#"{{"statusDetails":{{{}}}}}"#, pairs(10))).unwrap();
    assert_eq!(ten.status_details.unwrap().pairs().len(), 10);
    for n in [11, 25] {
        let err = field(parse!(StartNextRequest, format!(r#"{{"statusDetails":{{{}}}}}"#, pairs(n))));
        assert_eq!(
            err,
            FieldError {
                field: Field::StatusDetails,
                violation: Violation::TooManyPairs { max: 10, len: n }
            }
        );
    }
    let dup = field(parse!(StartNextRequest, r#"{"statusDetails":{"a":"1","b":"2","a":"3"}}"#));
    assert_eq!(dup.violation, Violation::DuplicateKey { position: 2 });
    // The same key spelled with an escape is the same key.
    let dup = field(parse!(StartNextRequest, r#"{"statusDetails":{"a":"1","\u0061":"2"}}"#));
    assert_eq!(dup.violation, Violation::DuplicateKey { position: 1 });
    let bad_key = field(parse!(StartNextRequest, r#"{"statusDetails":{"a b":"1"}}"#));
    assert_eq!(
        bad_key,
        FieldError { field: Field::StatusDetailsKey, violation: Violation::InvalidCharacter { position: 1 } }
    );
    let control = field(parse!(StartNextRequest, r#"{"statusDetails":{"k":"line\nbreak"}}"#));
    assert_eq!(
        control,
        FieldError {
            field: Field::StatusDetailsValue,
            violation: Violation::InvalidCharacter { position: 4 }
        }
    );
    let empty = field(parse!(StartNextRequest, r#"{"statusDetails":{"k":""}}"#));
    assert_eq!(empty.violation, Violation::Empty);
    let long = format!(r#"{{"statusDetails":{{"k":"{}"}}}}"#, "v".repeat(1025));
    assert_eq!(field(parse!(StartNextRequest, long)).violation, Violation::TooLong { max: 1024, len: 1025 });
    assert!(
        parse!(StartNextRequest, r#"{"statusDetails":{}}"#)
            .unwrap()
            .status_details
            .unwrap()
            .pairs()
            .is_empty()
    );
    assert_eq!(
        StatusDetails::new(&[("k", "v"); 11]),
        Err(FieldError {
            field: Field::StatusDetails,
            violation: Violation::TooManyPairs { max: 10, len: 11 }
        })
    );
}

#[test]
fn identifiers_are_validated() {
    let exec = |job: &str, thing: &str| {
        format!(
            r#"{{"execution":{{"jobId":"{job}","thingName":"{thing}","status":"QUEUED","queuedAt":1,"lastUpdatedAt":1,"versionNumber":1,"executionNumber":1}}}}"#
        )
    };
    assert!(parse!(ExecutionResponse, exec("job-1_A", "arn:thing")).is_ok());
    assert_eq!(field(parse!(ExecutionResponse, exec("bad!id", "t"))).field, Field::JobId);
    assert_eq!(field(parse!(ExecutionResponse, exec("$next", "t"))).field, Field::JobId);
    assert_eq!(field(parse!(ExecutionResponse, exec(&"j".repeat(65), "t"))).field, Field::JobId);
    assert_eq!(field(parse!(ExecutionResponse, exec("j", "a/b"))).field, Field::ThingName);
    assert_eq!(field(parse!(ExecutionResponse, exec("j", &"t".repeat(129)))).field, Field::ThingName);
    let summary_msg = r#"{"timestamp":1,"jobs":{"QUEUED":[{"jobId":"","queuedAt":1,"lastUpdatedAt":1,"versionNumber":1,"executionNumber":1}]}}"#;
    assert_eq!(field(parse!(JobExecutionsChanged, summary_msg)).violation, Violation::Empty);
    let missing = r#"{"timestamp":1,"jobs":{"QUEUED":[{"jobId":"j","queuedAt":1,"lastUpdatedAt":1,"versionNumber":1}]}}"#;
    assert_eq!(parse!(JobExecutionsChanged, missing), Err(WireError::Missing { member: "executionNumber" }));
    // Serializing checks them too.
    let mut bad = summary("bad id", 1, None, 1, 1);
    let msg = JobExecutionsChanged { timestamp: ts(1), queued: list(&[bad]), ..Default::default() };
    assert_eq!(field(msg.serialize(&mut [0; 256])).field, Field::JobId);
    bad.job_id = "ok";
    let msg = JobExecutionsChanged { timestamp: ts(1), queued: list(&[bad]), ..Default::default() };
    assert!(msg.serialize(&mut [0; 256]).is_ok());
}

#[test]
fn client_token_is_bounded() {
    let ok = format!(r#"{{"clientToken":"{}"}}"#, "c".repeat(64));
    assert!(parse!(GetPendingRequest, ok).is_ok());
    let long = format!(r#"{{"clientToken":"{}"}}"#, "c".repeat(65));
    assert_eq!(
        parse!(GetPendingRequest, long),
        Err(WireError::TooLong { member: "clientToken", max: 64, len: 65 })
    );
    let token = "c".repeat(65);
    let r = GetPendingRequest { client_token: Some(&token) };
    assert_eq!(
        r.serialize(&mut [0; 128]),
        Err(WireError::TooLong { member: "clientToken", max: 64, len: 65 })
    );
}

#[test]
fn lists_longer_than_the_cap_are_errors() {
    let one = r#"{"jobId":"j","queuedAt":1,"lastUpdatedAt":1,"versionNumber":1,"executionNumber":1}"#;
    let items = |n: usize| vec![one; n].join(",");
    let full = parse!(GetPendingResponse, format!(r#"{{"queuedJobs":[{}]}}"#, items(15))).unwrap();
    assert_eq!(full.queued_jobs.len(), 15);
    let err = parse!(GetPendingResponse, format!(r#"{{"queuedJobs":[{}]}}"#, items(16)));
    assert_eq!(err, Err(WireError::TooLong { member: "queuedJobs", max: 15, len: 16 }));
    let err = parse!(
        JobExecutionsChanged,
        format!(r#"{{"timestamp":1,"jobs":{{"IN_PROGRESS":[{}]}}}}"#, items(40))
    );
    assert_eq!(err, Err(WireError::TooLong { member: "IN_PROGRESS", max: 15, len: 40 }));
    assert_eq!(err.unwrap_err().error_code(), ErrorCode::InvalidRequest);
}

#[test]
fn job_documents() {
    assert_eq!(
        JobDocument::new(b"  {\"a\":[1,{\"b\":null}]} \n").unwrap().as_bytes(),
        br#"{"a":[1,{"b":null}]}"#
    );
    assert!(JobDocument::new(br#""text""#).unwrap().is_string());
    for bad in [&b"[1]"[..], b"1", b"null", b"true"] {
        assert_eq!(json_error(JobDocument::new(bad)), json::Error::ExpectedObject { offset: 0 });
    }
    assert_eq!(json_error(JobDocument::new(b"{} {}")), json::Error::TrailingCharacters { offset: 3 });
    assert_eq!(JobDocument::new(b"{").unwrap_err().error_code(), ErrorCode::InvalidJson);
    // Depth: `JobDocument::MAX_DEPTH` levels (126) fit inside `{"execution":{"jobDocument":…}}`;
    // one more does not (SPEC AMBIG-22: this crate's reader reads 128).
    let nested = |depth: usize| format!(r#"{{"a":{}{}}}"#, "[".repeat(depth - 1), "]".repeat(depth - 1));
    let deepest = nested(JobDocument::MAX_DEPTH);
    let doc = JobDocument::new(deepest.as_bytes()).unwrap();
    let msg = NextJobExecutionChanged {
        timestamp: ts(1),
        execution: Some(JobExecution {
            job_id: "j",
            thing_name: None,
            job_document: Some(doc),
            status: ExecutionStatus::Queued,
            status_details: None,
            queued_at: ts(1),
            started_at: None,
            last_updated_at: ts(1),
            version_number: version(1),
            execution_number: number(1),
            approximate_seconds_before_timed_out: None,
        }),
    };
    round_trip!(NextJobExecutionChanged, msg, 512);
    let too_deep = nested(JobDocument::MAX_DEPTH + 1);
    assert_eq!(json_error(JobDocument::new(too_deep.as_bytes())), json::Error::TooDeep { offset: 0 });
    assert_eq!(JobDocument::new(too_deep.as_bytes()).unwrap_err().error_code(), ErrorCode::InvalidRequest);
    // Brackets inside strings do not count.
    assert!(JobDocument::new(format!(r#"{{"s":"{}"}}"#, "[{".repeat(40)).as_bytes()).is_ok());
    let array_doc = parse!(UpdateResponse, r#"{"jobDocument":[1]}"#);
    assert_eq!(json_error(array_doc), json::Error::ExpectedObject { offset: 15 });
}

#[test]
fn escapes_use_scratch_and_never_truncate() {
    let msg = br#"{"clientToken":"a\"b\\c\u00e9"}"#;
    // No scratch needed without escapes.
    assert_eq!(
        GetPendingRequest::parse(br#"{"clientToken":"abc"}"#, &mut []).unwrap().client_token,
        Some("abc")
    );
    let unescaped = "a\"b\\cé";
    let mut exact = vec![0_u8; unescaped.len()];
    assert_eq!(GetPendingRequest::parse(msg, &mut exact).unwrap().client_token, Some(unescaped));
    let mut short = vec![0_u8; unescaped.len() - 1];
    let err = GetPendingRequest::parse(msg, &mut short).unwrap_err();
    assert_eq!(err, WireError::ScratchTooSmall);
    assert_eq!(err.error_code(), ErrorCode::InternalError);
    // Several escaped strings share the scratch buffer.
    let two = br#"{"statusDetails":{"k\u0031":"v\u00e9","k2":"\u263a"}}"#;
    let mut scratch = [0_u8; 2 + 3 + 3];
    let s = StartNextRequest::parse(two, &mut scratch).unwrap();
    assert_eq!(s.status_details.unwrap().pairs(), &[("k1", "vé"), ("k2", "☺")]);
    assert_eq!(StartNextRequest::parse(two, &mut [0_u8; 7]), Err(WireError::ScratchTooSmall));
}

#[test]
fn display_messages() {
    let cases: [(WireError, &str); 7] = [
        (WireError::Json(json::Error::UnexpectedEnd), "not valid JSON: unexpected end of JSON input"),
        (
            WireError::Json(json::Error::ExpectedString { offset: 3 }),
            "invalid message: expected a string at byte 3",
        ),
        (WireError::Missing { member: "status" }, "required member status is missing"),
        (
            WireError::TooLong { member: "clientToken", max: 64, len: 65 },
            "clientToken has length 65; at most 64 allowed",
        ),
        (
            WireError::NotAllowed { member: "executionState" },
            "member executionState is not allowed in this message",
        ),
        (WireError::ScratchTooSmall, "scratch buffer too small for the unescaped strings"),
        (WireError::BufferTooSmall, "output buffer too small for the message"),
    ];
    for (e, text) in cases {
        assert_eq!(e.to_string(), text);
    }
    let e = field(parse!(ExecutionResponse, r#"{"execution":{"jobId":"bad!id"}}"#));
    assert_eq!(
        WireError::Field(e).to_string(),
        "jobId has a character that is not allowed at position 3 (allowed: a-z A-Z 0-9 _ -)"
    );
}

mod bounds;
mod http;
mod pending;
mod props;

/// A message its parser refuses for its document or statusDetails still names its execution
/// and gives its document, or why there is none; the identity's own members are read as the
/// parser reads them, and a message with no execution names none.
#[test]
fn an_execution_identity_outlives_what_its_message_cannot_hold() {
    let message = |document: &str, details: &str| {
        format!(
            r#"{{"clientToken":"c\u0031","execution":{{"jobId":"j\u002d1","jobDocument":{document},"status":"IN_PROGRESS","statusDetails":{details},"queuedAt":1,"lastUpdatedAt":2,"versionNumber":3,"executionNumber":4}},"timestamp":5}}"#
        )
    };
    let want = ExecutionIdentity {
        client_token: Some("c1"),
        job_id: "j-1",
        status: ExecutionStatus::InProgress,
        version_number: version(3),
        execution_number: number(4),
        job_document: Some(Ok(JobDocument::new(b"{}").unwrap())),
    };
    let deep = format!("{}{}", "[".repeat(json::MAX_DEPTH - 2), "]".repeat(json::MAX_DEPTH - 2));
    // Past the reader's depth, the rest of the document is skipped by its brackets.
    let deeper = format!(r#"{{"a":[{}"]}}[",{{}}{}]}}"#, "[".repeat(200), "]".repeat(200));
    let refused = |offset| Some(Err(WireError::Json(json::Error::ExpectedObject { offset })));
    let at = message("", "").find("\"status\"").unwrap() - 1;
    for (document, details, job_document) in [
        ("[1]", "{}", refused(at)),
        ("null", "{}", refused(at)),
        ("{}", r#"{"a":""}"#, want.job_document),
        ("{}", r#"{"a b":"c"}"#, want.job_document),
        (&deep, "{}", refused(at)),
        // Too deep where the reader's depth ends (the offset is the parser's own).
        (&deeper, "{}", parse!(ExecutionResponse, &message(&deeper, "{}")).err().map(Err)),
    ] {
        let text = message(document, details);
        assert!(parse!(ExecutionResponse, &text).is_err(), "{text}");
        assert_eq!(
            parse!(ExecutionIdentity, &text),
            Ok(ExecutionIdentity { job_document, ..want }),
            "{text}"
        );
    }
    assert_eq!(parse!(ExecutionIdentity, &message("{}", "{}")), Ok(want));
    let without = message("{}", "{}").replace(r#""jobDocument":{},"#, "");
    assert_eq!(parse!(ExecutionIdentity, &without), Ok(ExecutionIdentity { job_document: None, ..want }));
    // What names no execution, or names it wrongly, is refused as the parser refuses it.
    let no_execution = parse!(ExecutionIdentity, r#"{"timestamp":1,"clientToken":"c"}"#);
    assert_eq!(no_execution, Err(WireError::Missing { member: "execution" }));
    let bad = |from: &str, to: &str| {
        parse!(ExecutionIdentity, &message("[1]", "{}").replace(from, to)).unwrap_err()
    };
    assert_eq!(bad(r#""jobId":"j\u002d1","#, ""), WireError::Missing { member: "jobId" });
    assert!(matches!(
        bad(r#""versionNumber":3"#, r#""versionNumber":"3""#),
        WireError::Json(json::Error::ExpectedNumber { .. })
    ));
    assert!(matches!(
        bad("IN_PROGRESS", "RUNNING"),
        WireError::UnknownValue { what: "JobExecutionStatus", .. }
    ));
    assert!(matches!(bad("j\\u002d1", "j 1"), WireError::Field(FieldError { field: Field::JobId, .. })));
    assert!(matches!(
        bad(r#""executionNumber":4"#, r#""executionNumber":4,"jobId":"k""#),
        WireError::Json(json::Error::DuplicateKey { .. })
    ));
    assert_eq!(
        bad("c\\u0031", &"c".repeat(65)),
        WireError::TooLong { member: "clientToken", max: 64, len: 65 }
    );
    for cut in ["[1,".to_string(), "[".repeat(200), format!("{}{}", "[".repeat(200), "]".repeat(199))] {
        let cut = parse!(ExecutionIdentity, &message(&cut, "{}")).unwrap_err();
        assert_eq!(cut.error_code(), ErrorCode::InvalidJson);
    }
    // Up to that depth it is read as JSON.
    let wrong = parse!(ExecutionIdentity, &message(&format!("[01,{}", &deeper), "{}")).unwrap_err();
    assert!(matches!(wrong, WireError::Json(json::Error::UnexpectedByte { .. })), "{wrong:?}");
}

/// A notify-next answers no request: a `clientToken` in one is read and dropped, and given twice
/// it is refused, as `ExecutionIdentity` refuses it (fuzz: the two disagreed).
#[test]
fn a_notify_next_reads_one_client_token_and_refuses_two() {
    let one = br#"{"clientToken":"c","timestamp":0}"#;
    let two = br#"{"clientToken":"c","timestamp":0,"message":"m","clientToken":"c"}"#;
    let mut scratch = [0u8; 128];
    assert_eq!(NextJobExecutionChanged::parse(one, &mut scratch).map(|m| m.timestamp), Ok(Timestamp(0)));
    let dup = WireError::Json(json::Error::DuplicateKey { offset: 47 });
    assert_eq!(NextJobExecutionChanged::parse(two, &mut scratch).map(|m| m.timestamp), Err(dup));
    assert_eq!(ExecutionIdentity::parse(two, &mut scratch).map(|m| m.client_token.is_some()), Err(dup));
}
