//! Property tests: every message round-trips, and no input makes a parser panic.

use super::*;

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
