//! The HTTP flavour (SPEC AMBIG-22).

use super::*;

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
    // An empty body is `{}` in both forms (SPEC err-InvalidJson: AWS answers an MQTT request
    // without a payload as one without members): StartNext, GetPending and Describe take it;
    // Update still needs `status`, an InvalidRequest.
    for empty in ["", " \r\n\t"] {
        for flavor in [Flavor::Http, Flavor::Mqtt] {
            let e = empty.as_bytes();
            assert_eq!(StartNextRequest::parse_as(e, &mut [], flavor), Ok(StartNextRequest::default()));
            assert_eq!(GetPendingRequest::parse_as(e, &mut [], flavor), Ok(GetPendingRequest::default()));
            assert_eq!(DescribeRequest::parse_as(e, &mut [], flavor), Ok(DescribeRequest::default()));
            let update = UpdateRequest::parse_as(e, &mut [], flavor);
            assert_eq!(update, Err(WireError::Missing { member: "status" }));
            assert_eq!(update.unwrap_err().error_code(), ErrorCode::InvalidRequest);
        }
        assert_eq!(http(empty), mqtt(empty));
        // A response or notification: the service never sends one empty, so over MQTT it is no
        // JSON (a device's agent reports it as malformed); over HTTP a body-less answer is `{}`.
        let e = empty.as_bytes();
        assert_eq!(UpdateResponse::parse(e, &mut []).unwrap_err().error_code(), ErrorCode::InvalidJson);
        assert_eq!(
            NextJobExecutionChanged::parse(e, &mut []).unwrap_err().error_code(),
            ErrorCode::InvalidJson
        );
        assert!(UpdateResponse::parse_as(e, &mut [], Flavor::Http).is_ok());
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
