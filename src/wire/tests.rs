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
        "",
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
}

#[test]
fn wrong_types_and_ranges_are_invalid_request() {
    let cases: &[(&str, json::Error)] = &[
        (r#"{"status":5}"#, json::Error::ExpectedString { offset: 10 }),
        (r#"{"status":"QUEUED","expectedVersion":-1}"#, json::Error::NumberOutOfRange { offset: 37 }),
        (r#"{"status":"QUEUED","expectedVersion":"-1"}"#, json::Error::ExpectedNumber { offset: 37 }),
        (r#"{"status":"QUEUED","expectedVersion":1.5}"#, json::Error::ExpectedInteger { offset: 37 }),
        (r#"{"status":"QUEUED","expectedVersion":true}"#, json::Error::ExpectedNumber { offset: 37 }),
        (
            r#"{"status":"QUEUED","executionNumber":18446744073709551616}"#,
            json::Error::NumberOutOfRange { offset: 37 },
        ),
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
    // i64::MAX + 1 as a number or a string: the model's long overflows (SPEC §5).
    let range = Violation::OutOfRange { min: 0, max: i64::MAX };
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
    // Depth: 14 levels fit inside `{"execution":{"jobDocument":…}}`; 15 do not (SPEC-free limit
    // of this crate's reader).
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

// ---- The MAX_*_LEN bounds are exact ---------------------------------------------------------

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

// ---- Property tests ------------------------------------------------------------------------

fn statuses() -> impl Strategy<Value = ExecutionStatus> {
    proptest::sample::select(ExecutionStatus::ALL.to_vec())
}

fn longs() -> impl Strategy<Value = u64> {
    prop_oneof![0..=3_u64, Just(i64::MAX as u64), 0..=i64::MAX as u64]
}

/// Owned statusDetails: unique keys, values without category-C characters, with `"` and `\`.
fn details_strategy() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::btree_map("[a-zA-Z0-9:_-]{1,12}", "[\\PC\"\\\\]{1,12}", 0..=10)
        .prop_map(|m| m.into_iter().collect())
}

/// Any client token of at most 64 bytes, control characters included.
fn tokens() -> impl Strategy<Value = Option<String>> {
    proptest::option::of("(?s).{0,16}")
}

fn documents() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{}".to_string()),
        Just(r#"{"operation":"test"}"#.to_string()),
        Just(r#""< contents of job document >""#.to_string()),
        "\\PC{0,12}".prop_map(|s| {
            let mut buf = vec![0_u8; 128];
            let mut w = json::Writer::new(&mut buf);
            w.begin_object().unwrap();
            w.key(&s).unwrap();
            w.begin_array().unwrap();
            w.string(&s).unwrap();
            w.u64(7).unwrap();
            w.end_array().unwrap();
            w.end_object().unwrap();
            String::from_utf8(w.finish().unwrap().to_vec()).unwrap()
        }),
    ]
}

#[derive(Debug, Clone)]
struct OwnedSummary {
    job_id: String,
    times: (u64, Option<u64>, u64),
    numbers: (u64, u64),
}

impl OwnedSummary {
    fn view(&self) -> JobExecutionSummary<'_> {
        JobExecutionSummary {
            job_id: &self.job_id,
            queued_at: ts(self.times.0),
            started_at: self.times.1.map(ts),
            last_updated_at: ts(self.times.2),
            version_number: version(self.numbers.0),
            execution_number: number(self.numbers.1),
        }
    }
}

fn summaries() -> impl Strategy<Value = Vec<OwnedSummary>> {
    let one = ("[a-zA-Z0-9_-]{1,64}", (any::<u64>(), any::<Option<u64>>(), any::<u64>()), (longs(), longs()))
        .prop_map(|(job_id, times, numbers)| OwnedSummary { job_id, times, numbers });
    proptest::collection::vec(one, 0..=3)
}

fn pairs_of(owned: &[(String, String)]) -> Vec<(&str, &str)> {
    owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn step_timeouts(allow_cancel: bool) -> impl Strategy<Value = Option<StepTimeout>> {
    let minutes = (1..=10080_u16).prop_map(StepTimeout::Minutes);
    if allow_cancel {
        proptest::option::of(prop_oneof![minutes, Just(StepTimeout::Cancel)]).boxed()
    } else {
        proptest::option::of(minutes).boxed()
    }
}

/// Every parser on the same input; returns nothing, must not panic.
fn parse_all(input: &[u8], scratch: &mut [u8]) {
    let _ = GetPendingRequest::parse(input, scratch).map(|m| m.serialize(&mut [0; 64]).map(<[u8]>::len));
    let _ = StartNextRequest::parse(input, scratch).map(|m| m.serialize(&mut [0; 64]).map(<[u8]>::len));
    let _ = DescribeRequest::parse(input, scratch).map(|m| m.serialize(&mut [0; 64]).map(<[u8]>::len));
    let _ = UpdateRequest::parse(input, scratch).map(|m| m.serialize(&mut [0; 64]).map(<[u8]>::len));
    let _ = GetPendingResponse::parse(input, scratch).map(|m| m.serialize(&mut [0; 64]).map(<[u8]>::len));
    let _ = ExecutionResponse::parse(input, scratch).map(|m| m.serialize(&mut [0; 64]).map(<[u8]>::len));
    let _ = UpdateResponse::parse(input, scratch).map(|m| m.serialize(&mut [0; 64]).map(<[u8]>::len));
    let _ = ErrorResponse::parse(input, scratch).map(|m| m.serialize(&mut [0; 64]).map(<[u8]>::len));
    let _ = JobExecutionsChanged::parse(input, scratch).map(|m| m.serialize(&mut [0; 64]).map(<[u8]>::len));
    let _ =
        NextJobExecutionChanged::parse(input, scratch).map(|m| m.serialize(&mut [0; 64]).map(<[u8]>::len));
    if let Err(e) = JobDocument::new(input) {
        let _ = (e.to_string(), e.error_code());
    }
}

const GOLDEN: &[&str] = &[
    r#"{"status":"IN_PROGRESS","statusDetails":{"k":"v\u00e9"},"expectedVersion":"3","executionNumber":1,"includeJobExecutionState":true,"stepTimeoutInMinutes":-1,"clientToken":"a\"b"}"#,
    r#"{"timestamp":1,"jobs":{"IN_PROGRESS":[{"jobId":"a","queuedAt":1,"lastUpdatedAt":1,"versionNumber":1,"executionNumber":1}],"QUEUED":[]}}"#,
    r#"{"timestamp":1,"execution":{"jobId":"j","thingName":"t","jobDocument":{"a":[1,{"b":"\u263a"}]},"status":"QUEUED","statusDetails":{"s":"1"},"queuedAt":1,"lastUpdatedAt":1,"versionNumber":1,"executionNumber":1}}"#,
    r#"{"code":"InvalidStateTransition","message":"m","timestamp":1,"executionState":{"status":"SUCCEEDED","versionNumber":2}}"#,
    r#"{"inProgressJobs":[],"queuedJobs":[{"jobId":"q","queuedAt":1,"lastUpdatedAt":1,"versionNumber":1,"executionNumber":1}],"timestamp":1}"#,
];

proptest! {
    #[test]
    #[cfg_attr(miri, ignore = "proptest needs the file system; hours under Miri")]
    fn update_request_round_trips(
        status in statuses(),
        owned_details in proptest::option::of(details_strategy()),
        expected in proptest::option::of(longs()),
        execution in proptest::option::of(longs()),
        flags in any::<(bool, bool)>(),
        step in step_timeouts(true),
        token in tokens(),
    ) {
        let pairs = owned_details.as_deref().map(pairs_of);
        let value = UpdateRequest {
            status,
            status_details: pairs.as_deref().map(details),
            expected_version: expected.map(version),
            execution_number: execution.map(number),
            include_job_execution_state: flags.0,
            include_job_document: flags.1,
            step_timeout: step,
            client_token: token.as_deref(),
        };
        round_trip!(UpdateRequest, value.clone(), MAX_UPDATE_REQUEST_LEN);
        // One parser for both transports: written in either flavour, the request reads back
        // as the same value in the other, but for `clientToken`, which HTTP does not carry.
        let value = UpdateRequest { client_token: None, ..value };
        for (write, read) in [(Flavor::Mqtt, Flavor::Http), (Flavor::Http, Flavor::Mqtt)] {
            let mut out = vec![0_u8; MAX_UPDATE_REQUEST_LEN];
            let json = value.serialize_as(&mut out, write).unwrap().to_vec();
            let mut scratch = vec![0_u8; json.len()];
            prop_assert_eq!(&UpdateRequest::parse_as(&json, &mut scratch, read).unwrap(), &value);
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest needs the file system; hours under Miri")]
    fn other_requests_round_trip(
        owned_details in proptest::option::of(details_strategy()),
        step in step_timeouts(false),
        execution in proptest::option::of(longs()),
        include in any::<bool>(),
        token in tokens(),
    ) {
        let pairs = owned_details.as_deref().map(pairs_of);
        let client_token = token.as_deref();
        round_trip!(GetPendingRequest, GetPendingRequest { client_token }, MAX_GET_PENDING_REQUEST_LEN);
        let start = StartNextRequest { status_details: pairs.as_deref().map(details), step_timeout: step, client_token };
        round_trip!(StartNextRequest, start, MAX_START_NEXT_REQUEST_LEN);
        let describe = DescribeRequest { execution_number: execution.map(number), include_job_document: include, client_token };
        round_trip!(DescribeRequest, describe, MAX_DESCRIBE_REQUEST_LEN);
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest needs the file system; hours under Miri")]
    fn list_responses_round_trip(
        in_progress in summaries(),
        queued in summaries(),
        timestamp in any::<u64>(),
        http in any::<bool>(),
        token in tokens(),
    ) {
        let a: Vec<_> = in_progress.iter().map(OwnedSummary::view).collect();
        let b: Vec<_> = queued.iter().map(OwnedSummary::view).collect();
        let pending = GetPendingResponse {
            in_progress_jobs: list(&a),
            queued_jobs: list(&b),
            timestamp: (!http).then_some(ts(timestamp)),
            client_token: token.as_deref(),
        };
        round_trip!(GetPendingResponse, pending, MAX_GET_PENDING_RESPONSE_LEN);
        let notify = JobExecutionsChanged { timestamp: ts(timestamp), in_progress: list(&a), queued: list(&b) };
        round_trip!(JobExecutionsChanged, notify, MAX_JOB_EXECUTIONS_CHANGED_LEN);
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest needs the file system; hours under Miri")]
    fn execution_responses_round_trip(
        job_id in "[a-zA-Z0-9_-]{1,64}",
        thing in proptest::option::of("[a-zA-Z0-9:_-]{1,128}"),
        document in proptest::option::of(documents()),
        status in statuses(),
        owned_details in proptest::option::of(details_strategy()),
        times in (any::<u64>(), any::<Option<u64>>(), any::<u64>(), any::<Option<u64>>()),
        numbers in (longs(), longs()),
        token in tokens(),
        code in proptest::sample::select(ErrorCode::ALL.to_vec()),
        message in ".{0,20}",
    ) {
        let pairs = owned_details.as_deref().map(pairs_of);
        let job_document = document.as_deref().map(|d| JobDocument::new(d.as_bytes()).unwrap());
        let execution = JobExecution {
            job_id: &job_id,
            thing_name: thing.as_deref(),
            job_document,
            status,
            status_details: pairs.as_deref().map(details),
            queued_at: ts(times.0),
            started_at: times.1.map(ts),
            last_updated_at: ts(times.2),
            version_number: version(numbers.0),
            execution_number: number(numbers.1),
            approximate_seconds_before_timed_out: times.3,
        };
        let max = MAX_RESPONSE_LEN_WITHOUT_DOCUMENT + document.as_ref().map_or(0, String::len);
        let client_token = token.as_deref();
        let response = ExecutionResponse { execution: Some(execution.clone()), timestamp: Some(ts(times.0)), client_token };
        round_trip!(ExecutionResponse, response, max);
        let next = NextJobExecutionChanged { timestamp: ts(times.2), execution: Some(execution) };
        round_trip!(NextJobExecutionChanged, next, max);
        let state = JobExecutionState { status, status_details: pairs.as_deref().map(details), version_number: version(numbers.0) };
        let update = UpdateResponse { execution_state: Some(state.clone()), job_document, timestamp: None, client_token };
        round_trip!(UpdateResponse, update, max);
        let error = ErrorResponse {
            code,
            message: &message,
            client_token,
            timestamp: ts(times.0),
            execution_state: code.carries_execution_state().then_some(state),
        };
        round_trip!(ErrorResponse, error, MAX_ERROR_RESPONSE_LEN_WITHOUT_MESSAGE + 6 * message.len());
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest needs the file system; hours under Miri")]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..256), scratch_len in 0..64_usize) {
        parse_all(&input, &mut vec![0; scratch_len]);
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest needs the file system; hours under Miri")]
    fn mutated_messages_never_panic(
        which in 0..GOLDEN.len(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        scratch_len in 0..32_usize,
    ) {
        let mut input = GOLDEN[which].as_bytes().to_vec();
        for (at, byte) in edits {
            let at = at % input.len();
            input[at] = byte;
        }
        parse_all(&input, &mut vec![0; scratch_len]);
    }
}

#[test]
fn golden_inputs_parse() {
    let mut scratch = [0_u8; 64];
    assert!(UpdateRequest::parse(GOLDEN[0].as_bytes(), &mut scratch).is_ok());
    assert!(JobExecutionsChanged::parse(GOLDEN[1].as_bytes(), &mut scratch).is_ok());
    assert!(NextJobExecutionChanged::parse(GOLDEN[2].as_bytes(), &mut scratch).is_ok());
    assert!(ErrorResponse::parse(GOLDEN[3].as_bytes(), &mut scratch).is_ok());
    assert!(GetPendingResponse::parse(GOLDEN[4].as_bytes(), &mut scratch).is_ok());
}

// ---- the HTTP flavour (SPEC AMBIG-22) ----------------------------------------------------------

fn http_execution(document: Option<JobDocument<'_>>) -> ExecutionResponse<'_> {
    ExecutionResponse {
        execution: Some(JobExecution {
            job_id: "j1",
            thing_name: Some("t1"),
            job_document: document,
            status: ExecutionStatus::InProgress,
            status_details: Some(details(&[("step", "a \"quoted\" step")])),
            queued_at: ts(10),
            started_at: Some(ts(11)),
            last_updated_at: ts(12),
            version_number: version(2),
            execution_number: number(1),
            approximate_seconds_before_timed_out: Some(600),
        }),
        timestamp: Some(ts(13)),
        client_token: Some("c-1"),
    }
}

#[test]
fn http_flavour_writes_the_document_as_a_string_and_no_timestamp_or_token() {
    let text = "{\"op\":\"update\",\n\t\"path\":\"C:\\\\fw\"}";
    let doc = JobDocument::new(text.as_bytes()).unwrap();
    let r = http_execution(Some(doc));
    let mut out = vec![0_u8; MAX_RESPONSE_LEN_WITHOUT_DOCUMENT + doc.max_len(Flavor::Http)];
    let http = r.serialize_as(&mut out, Flavor::Http).unwrap().to_vec();
    let http = String::from_utf8(http).unwrap();
    assert_eq!(
        http,
        r#"{"execution":{"jobId":"j1","thingName":"t1","jobDocument":"{\"op\":\"update\",\n\t\"path\":\"C:\\\\fw\"}","status":"IN_PROGRESS","statusDetails":{"step":"a \"quoted\" step"},"queuedAt":10,"startedAt":11,"lastUpdatedAt":12,"versionNumber":2,"executionNumber":1,"approximateSecondsBeforeTimedOut":600}}"#
    );
    // The MQTT form of the same value: the document raw, timestamp and token written.
    let mut out = vec![0_u8; MAX_RESPONSE_LEN_WITHOUT_DOCUMENT + doc.max_len(Flavor::Mqtt)];
    let mqtt = String::from_utf8(r.serialize(&mut out).unwrap().to_vec()).unwrap();
    assert!(mqtt.contains(r#""jobDocument":{"op":"update","#), "{mqtt}");
    assert!(mqtt.ends_with(r#""timestamp":13,"clientToken":"c-1"}"#), "{mqtt}");
    // Read back as HTTP: the document is the string form, whose text is the original.
    let mut scratch = vec![0_u8; http.len()];
    let back = ExecutionResponse::parse_as(http.as_bytes(), &mut scratch, Flavor::Http).unwrap();
    let doc_back = back.execution.as_ref().unwrap().job_document.unwrap();
    assert!(doc_back.is_string());
    let mut unescaped = [0_u8; 64];
    let mut reader = json::Reader::new(doc_back.as_bytes());
    assert_eq!(reader.read_str().unwrap().unescape_into(&mut unescaped).unwrap(), text);
    assert_eq!((back.timestamp, back.client_token), (None, None));
    assert_eq!(
        back.execution.as_ref().map(|e| (e.job_id, e.status_details.clone())),
        r.execution.as_ref().map(|e| (e.job_id, e.status_details.clone()))
    );
    // A document that already is a string is written as it is, in both flavours.
    let literal = JobDocument::new(br#""plain text""#).unwrap();
    assert_eq!(literal.max_len(Flavor::Http), literal.as_bytes().len());
    let mut out = vec![0_u8; 1024];
    let http = String::from_utf8(
        http_execution(Some(literal)).serialize_as(&mut out, Flavor::Http).unwrap().to_vec(),
    );
    assert!(http.unwrap().contains(r#""jobDocument":"plain text","#));
    // `max_len` bounds the worst document: every byte escaped.
    let worst = "{\"\\\\\":\"\\\"\"\n\t\r}";
    let worst_doc = JobDocument::new(worst.as_bytes()).unwrap();
    let r = UpdateResponse {
        execution_state: None,
        job_document: Some(worst_doc),
        timestamp: None,
        client_token: None,
    };
    let mut exact = vec![0_u8; r#"{"jobDocument":}"#.len() + worst_doc.max_len(Flavor::Http)];
    assert!(r.serialize_as(&mut exact, Flavor::Http).unwrap().len() <= exact.len());
    assert_eq!(worst_doc.max_len(Flavor::Mqtt), worst_doc.as_bytes().len());
}

#[test]
fn http_flavour_reads_bodies_as_aws_json_protocols_do() {
    let http = |input: &str| {
        let input = String::leak(input.to_string()).as_bytes();
        UpdateRequest::parse_as(input, Vec::leak(vec![0_u8; input.len()]), Flavor::Http)
    };
    let mqtt = |input: &str| parse!(UpdateRequest, input);
    // An empty body is `{}`: StartNext takes it; Update still needs `status`.
    for empty in ["", " \r\n\t"] {
        assert_eq!(
            StartNextRequest::parse_as(empty.as_bytes(), &mut [], Flavor::Http),
            Ok(StartNextRequest::default())
        );
        assert_eq!(
            GetPendingRequest::parse_as(empty.as_bytes(), &mut [], Flavor::Http),
            Ok(GetPendingRequest::default())
        );
        assert_eq!(http(empty), Err(WireError::Missing { member: "status" }));
        assert_eq!(
            StartNextRequest::parse(empty.as_bytes(), &mut []).unwrap_err().error_code(),
            ErrorCode::InvalidJson
        );
    }
    // `null` is absent over HTTP, a wrong type over MQTT.
    let with_nulls =
        r#"{"status":"IN_PROGRESS","statusDetails":null,"expectedVersion":null,"includeJobDocument":null}"#;
    assert_eq!(http(with_nulls), Ok(UpdateRequest::new(ExecutionStatus::InProgress)));
    assert_eq!(mqtt(with_nulls).unwrap_err().error_code(), ErrorCode::InvalidRequest);
    assert_eq!(http(r#"{"status":null}"#), Err(WireError::Missing { member: "status" }));
    // `clientToken` is no HTTP member: skipped however long, and never written.
    let long_token =
        format!(r#"{{"status":"FAILED","clientToken":"{}"}}"#, "x".repeat(MAX_CLIENT_TOKEN_LEN + 1));
    assert_eq!(http(&long_token), Ok(UpdateRequest::new(ExecutionStatus::Failed)));
    assert!(matches!(mqtt(&long_token), Err(WireError::TooLong { member: "clientToken", .. })));
    let request = UpdateRequest { client_token: Some("tok"), ..UpdateRequest::new(ExecutionStatus::Failed) };
    let mut out = [0_u8; 64];
    assert_eq!(request.serialize_as(&mut out, Flavor::Http).unwrap(), br#"{"status":"FAILED"}"#);
    // Everything else is checked the same way: a duplicate stays an error.
    let twice = r#"{"status":"FAILED","status":"FAILED"}"#;
    assert_eq!(http(twice), mqtt(twice));
    assert_eq!(http(r#"{"status":"SUCCESS"}"#).unwrap_err().error_code(), ErrorCode::InvalidRequest);
}
