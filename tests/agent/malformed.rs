//! Scenarios of messages the agent does not take as they come: another thing's and unknown
//! topics, malformed payloads, replies to no request in flight or with another spelling of the
//! clientToken, and jobs whose document or statusDetails cannot be read.

use super::*;

#[test]
fn messages_for_another_thing_and_unknown_topics_are_ignored() {
    let mut h = running(&["job-a"]);
    let before = h.state();
    let notify = br#"{"timestamp":1700000000}"#;
    let cases: [(&str, AgentError); 6] = [
        ("$aws/things/dev2/jobs/notify-next", AgentError::OtherThing),
        ("$aws/things/dev2/jobs/job-a/update/accepted", AgentError::OtherThing),
        ("$aws/things/dev1/jobs/notify", AgentError::Unexpected),
        ("$aws/things/dev1/jobs/notify-next-namespace-ns1", AgentError::Unexpected),
        ("$aws/events/job/job-a/canceled", AgentError::Unexpected),
        ("$aws/things/dev1/jobs/job-a/update", AgentError::Unexpected),
    ];
    for (topic, error) in cases {
        assert_eq!(h.agent.handle(T0, topic, notify), Err(error), "{topic}");
    }
    for topic in ["sensors/temp", "$aws/things/dev1/shadow/update", "$aws/things/dev1/jobs/frobnicate"] {
        assert!(matches!(h.agent.handle(T0, topic, notify), Err(AgentError::Topic(_))), "{topic}");
    }
    assert_eq!(h.state(), before);
    assert!(h.transmit().is_empty());
    h.collect();
    assert!(h.take_events().is_empty());
}

#[test]
fn malformed_payloads_are_errors_and_change_nothing() {
    let mut h = running(&["job-a"]);
    h.agent.report(IN_PROGRESS, None).unwrap();
    let sent = h.transmit();
    let before = h.state();
    let token = sent[0].token();
    let accepted = "$aws/things/dev1/jobs/job-a/update/accepted";
    let payloads: [&[u8]; 6] = [
        b"{not json",
        b"",
        b"[1,2]",
        br#"{"timestamp":"soon"}"#,
        br#"{"executionState":{"status":"SUCCESS","versionNumber":3},"timestamp":1}"#,
        &[0xff, 0xfe],
    ];
    for p in payloads {
        let e = h.agent.handle(T0, accepted, p).unwrap_err();
        assert!(matches!(e, AgentError::Malformed(_)), "{e:?}");
    }
    let e = h.agent.handle(T0, "$aws/things/dev1/jobs/notify-next", b"{\"timestamp\":").unwrap_err();
    assert!(matches!(e, AgentError::Malformed(w) if w.error_code() == ErrorCode::InvalidJson));
    let bad_id = br#"{"timestamp":1,"execution":{"jobId":"bad!","status":"QUEUED","queuedAt":1,"lastUpdatedAt":1,"versionNumber":1,"executionNumber":1}}"#;
    assert!(matches!(
        h.agent.handle(T0, "$aws/things/dev1/jobs/notify-next", bad_id),
        Err(AgentError::Malformed(_))
    ));
    let rejected = "$aws/things/dev1/jobs/job-a/update/rejected";
    let no_code = format!(r#"{{"message":"m","clientToken":"{token}","timestamp":1}}"#);
    assert!(matches!(h.agent.handle(T0, rejected, no_code.as_bytes()), Err(AgentError::Malformed(_))));
    assert_eq!(h.state(), before);
    assert!(h.transmit().is_empty());
    h.collect();
    assert!(h.take_events().is_empty());
    // The genuine reply still completes the request.
    let ok = format!(
        r#"{{"executionState":{{"status":"IN_PROGRESS","versionNumber":3}},"timestamp":1,"clientToken":"{token}"}}"#
    );
    h.agent.handle(T0, accepted, ok.as_bytes()).unwrap();
    assert_eq!(h.agent.job().unwrap().version, v(3));
}

#[test]
fn replies_to_no_request_in_flight_are_unsolicited() {
    let mut h = running(&["job-a"]);
    let before = h.state();
    let ok = br#"{"timestamp":1,"clientToken":"2"}"#;
    // Nothing in flight.
    for topic in [
        "$aws/things/dev1/jobs/start-next/accepted",
        "$aws/things/dev1/jobs/job-a/update/accepted",
        "$aws/things/dev1/jobs/job-a/get/rejected",
        "$aws/things/dev1/jobs/$next/get/accepted",
    ] {
        assert_eq!(h.agent.handle(T0, topic, ok), Err(AgentError::Unsolicited), "{topic}");
    }
    h.agent.report(IN_PROGRESS, None).unwrap();
    let sent = h.transmit();
    let before_reply = h.state();
    assert_ne!(before, before_reply);
    // Another job's reply, another clientToken, another request's topic.
    let wrong_job = "$aws/things/dev1/jobs/job-z/update/accepted";
    assert_eq!(h.agent.handle(T0, wrong_job, ok), Err(AgentError::Unsolicited));
    let accepted = "$aws/things/dev1/jobs/job-a/update/accepted";
    assert_eq!(
        h.agent.handle(T0, accepted, br#"{"timestamp":1,"clientToken":"999"}"#),
        Err(AgentError::Unsolicited)
    );
    assert_eq!(
        h.agent.handle(T0, accepted, br#"{"timestamp":1,"clientToken":"x"}"#),
        Err(AgentError::Unsolicited)
    );
    let start = "$aws/things/dev1/jobs/start-next/accepted";
    let token = format!(r#"{{"timestamp":1,"clientToken":"{}"}}"#, sent[0].token());
    assert_eq!(h.agent.handle(T0, start, token.as_bytes()), Err(AgentError::Unsolicited));
    assert_eq!(h.state(), before_reply);
}

#[test]
fn a_reply_with_another_spelling_of_the_client_token_is_unsolicited() {
    let mut agent: Agent<64> = Agent::new(&thing("dev1"), None, Config::DEFAULT);
    let mut buf = [0; MAX_TRANSMIT_LEN];
    assert_eq!(agent.poll_transmit(T0, &mut buf).unwrap().payload, br#"{"clientToken":"1"}"#);
    let accepted = "$aws/things/dev1/jobs/start-next/accepted";
    let rejected = "$aws/things/dev1/jobs/start-next/rejected";
    // The service echoes the token as it was sent (SPEC 7.1): "1" spelt otherwise is another token.
    for token in ["+1", "01", "0001", " 1", "1.0"] {
        let reply = format!(r#"{{"timestamp":1,"clientToken":"{token}"}}"#);
        assert_eq!(agent.handle(T0, accepted, reply.as_bytes()), Err(AgentError::Unsolicited), "{token}");
        let refusal = rejection("InvalidRequest", token, None);
        assert_eq!(agent.handle(T0, rejected, &refusal), Err(AgentError::Unsolicited), "{token}");
    }
    assert!(!agent.is_idle(), "the StartNext is still awaited");
    agent.handle(T0, accepted, br#"{"timestamp":1,"clientToken":"1"}"#).unwrap();
    assert!(agent.is_idle());
}

/// A StartNext reply that hands over execution 1 of `job-x` (IN_PROGRESS, version 2), with
/// `members` in its execution.
fn started(members: &str) -> String {
    format!(
        r#"{{"execution":{{"jobId":"job-x",{members}"status":"IN_PROGRESS","queuedAt":1,"startedAt":2,"lastUpdatedAt":2,"versionNumber":2,"executionNumber":1}},"timestamp":2,"clientToken":"1"}}"#
    )
}

#[test]
fn a_job_whose_document_cannot_be_read_is_handed_over_to_be_rejected() {
    let accepted = "$aws/things/dev1/jobs/start-next/accepted";
    for members in [
        r#""jobDocument":[1,2],"#,
        r#""jobDocument":5,"#,
        r#""jobDocument":null,"#,
        r#""jobDocument":null,"statusDetails":{"k":""},"#,
        // The execution's identity is read as the parser reads it: escapes and all.
        r#""jobId":"job-\u0078","jobDocument":[],"#,
        // Nested deeper than the JSON reader reads.
        format!(r#""jobDocument":{{"a":{}{}}},"#, "[".repeat(200), "]".repeat(200)).as_str(),
    ] {
        let mut agent: Agent<64> = Agent::new(&thing("dev1"), None, Config::DEFAULT);
        let mut buf = [0; MAX_TRANSMIT_LEN];
        agent.poll_transmit(T0, &mut buf).unwrap();
        let reply = started(members).replace(r#""jobId":"job-x","jobId""#, r#""jobId""#);
        let error = ExecutionResponse::parse(reply.as_bytes(), &mut vec![0; reply.len()]).unwrap_err();
        agent.handle(T0, accepted, reply.as_bytes()).unwrap();
        assert_eq!(
            agent.poll_event(),
            Some(AgentEvent::UnreadableJob { job_id: job("job-x"), execution_number: n(1), error }),
            "{members}"
        );
        assert_eq!(agent.job().unwrap().job_id.as_str(), "job-x");
        // The application rejects it, and the agent asks for the next job.
        let reason = StatusDetails::new(&[("reason", "unreadable")]).unwrap();
        agent.report(ExecutionStatus::Rejected, Some(&reason)).unwrap();
        let t = agent.poll_transmit(T0, &mut buf).unwrap();
        let update = Sent { topic: t.topic.into(), payload: t.payload.to_vec() };
        assert_eq!(update.topic, "$aws/things/dev1/jobs/job-x/update");
        let reason = vec![("reason".to_string(), "unreadable".to_string())];
        assert_eq!(update.update(), (ExecutionStatus::Rejected, Some(2), Some(1), reason));
        let done =
            br#"{"executionState":{"status":"REJECTED","versionNumber":3},"timestamp":3,"clientToken":"2"}"#;
        agent.handle(T0, "$aws/things/dev1/jobs/job-x/update/accepted", done).unwrap();
        assert_eq!(
            agent.poll_event(),
            Some(AgentEvent::Finished {
                job_id: job("job-x"),
                execution_number: n(1),
                status: ExecutionStatus::Rejected,
                version: v(3)
            })
        );
        assert_eq!(agent.poll_transmit(T0, &mut buf).unwrap().topic, "$aws/things/dev1/jobs/start-next");
    }
}

/// The agent acts on the execution's identity and document alone: statusDetails it cannot
/// read (written by another tool or an earlier firmware: against SPEC R14, or with more escaped
/// text than its scratch unescapes) do not stop a job whose document it can.
#[test]
fn status_details_the_agent_cannot_read_do_not_stop_a_job() {
    let accepted = "$aws/things/dev1/jobs/start-next/accepted";
    let escaped =
        format!(r#""statusDetails":{{"k":"{}","l":"{}"}},"#, "\\\"".repeat(700), "\\\"".repeat(500));
    for details in [
        r#""statusDetails":{"k":""},"#,
        r#""statusDetails":{"k":"a","k":"b"},"#,
        r#""statusDetails":{"a key":"v"},"#,
        // 1,200 quotes unescaped: more than the scratch (SCRATCH_LEN) holds.
        escaped.as_str(),
    ] {
        let reply = started(&format!(r#""jobDocument":{{"op":"x"}},{details}"#));
        let scratch = &mut [0; iot_jobs_core::agent::SCRATCH_LEN];
        assert!(ExecutionResponse::parse(reply.as_bytes(), scratch).is_err(), "{details}");
        let mut agent: Agent<64> = Agent::new(&thing("dev1"), None, Config::DEFAULT);
        let mut buf = [0; MAX_TRANSMIT_LEN];
        agent.poll_transmit(T0, &mut buf).unwrap();
        agent.handle(T0, accepted, reply.as_bytes()).unwrap();
        let run = agent.poll_event();
        assert!(
            matches!(&run, Some(AgentEvent::Run { job_id, document, .. }) if job_id.as_str() == "job-x" && *document == br#"{"op":"x"}"#),
            "{details}: {run:?}"
        );
    }
}

#[test]
fn what_names_no_execution_stays_malformed() {
    let accepted = "$aws/things/dev1/jobs/start-next/accepted";
    for reply in [
        started(r#""jobDocument":[1],"#).replace(r#""jobId":"job-x","#, ""),
        started(r#""jobDocument":[1],"#).replace(r#""versionNumber":2"#, r#""versionNumber":"2""#),
        started(r#""jobDocument":[1],"jobId":"job-y","#),
        started(r#""jobDocument":[1,"#),
        r#"{"execution":[1],"timestamp":2,"clientToken":"1"}"#.to_string(),
        r#"{"timestamp":"soon","clientToken":"1"}"#.to_string(),
        // Nested deeper than the JSON reader reads, and never closed.
        started(&format!(r#""jobDocument":{{"a":{}}},"#, "[".repeat(200))),
    ] {
        let mut agent: Agent<64> = Agent::new(&thing("dev1"), None, Config::DEFAULT);
        let mut buf = [0; MAX_TRANSMIT_LEN];
        agent.poll_transmit(T0, &mut buf).unwrap();
        let before = format!("{agent:?}");
        let error = ExecutionResponse::parse(reply.as_bytes(), &mut vec![0; reply.len()]).unwrap_err();
        assert_eq!(
            agent.handle(T0, accepted, reply.as_bytes()),
            Err(AgentError::Malformed(error)),
            "{reply}"
        );
        assert_eq!(format!("{agent:?}"), before);
    }
}

#[test]
fn a_notification_or_description_with_unreadable_details_still_names_its_execution() {
    // Idle: a notification of a job whose document cannot be read still asks for it.
    let mut h: Harness<256> = Harness::new(&["dev1"]);
    h.pump();
    h.take_sent();
    let notify = br#"{"timestamp":1,"execution":{"jobId":"job-x","jobDocument":[1],"status":"QUEUED","queuedAt":1,"lastUpdatedAt":1,"versionNumber":1,"executionNumber":1}}"#;
    h.agent.handle(T0, "$aws/things/dev1/jobs/notify-next", notify).unwrap();
    assert!(h.transmit()[0].is_start_next());

    // Running: a description of the execution with statusDetails the parser refuses still says
    // the execution is the agent's.
    let mut h = running(&["job-a"]);
    h.agent.reconnected();
    let sent = h.transmit();
    assert_eq!(sent[0].topic, "$aws/things/dev1/jobs/job-a/get");
    let described = format!(
        r#"{{"execution":{{"jobId":"job-a","statusDetails":{{"a key":"v"}},"status":"IN_PROGRESS","queuedAt":1,"lastUpdatedAt":2,"versionNumber":3,"executionNumber":1}},"timestamp":2,"clientToken":"{}"}}"#,
        sent[0].token()
    );
    h.agent.handle(T0, "$aws/things/dev1/jobs/job-a/get/accepted", described.as_bytes()).unwrap();
    assert_eq!(h.agent.job().unwrap().version, v(3));
    assert!(!h.agent.is_idle() && h.agent.poll_timeout().is_none(), "nothing more to ask");
    h.collect();
    assert!(h.take_events().is_empty());

    // A namespace agent claims a QUEUED job it cannot read, then hands it over.
    let ns = NamespaceId::new("ns1").unwrap();
    let mut agent: Agent<64> = Agent::new(&thing("dev1"), Some(&ns), Config::DEFAULT);
    let mut buf = [0; MAX_TRANSMIT_LEN];
    agent.poll_transmit(T0, &mut buf).unwrap();
    let next = br#"{"execution":{"jobId":"job-x","jobDocument":5,"status":"QUEUED","queuedAt":1,"lastUpdatedAt":1,"versionNumber":1,"executionNumber":1},"timestamp":1,"clientToken":"1"}"#;
    agent.handle(T0, "$aws/things/dev1/jobs/$next/namespace-ns1/get/accepted", next).unwrap();
    let claim = agent.poll_transmit(T0, &mut buf).unwrap();
    assert_eq!(claim.topic, "$aws/things/dev1/jobs/job-x/namespace-ns1/update");
    let claimed =
        br#"{"executionState":{"status":"IN_PROGRESS","versionNumber":2},"timestamp":2,"clientToken":"2"}"#;
    agent.handle(T0, "$aws/things/dev1/jobs/job-x/namespace-ns1/update/accepted", claimed).unwrap();
    assert!(
        matches!(agent.poll_event(), Some(AgentEvent::UnreadableJob { job_id, .. }) if job_id.as_str() == "job-x")
    );
}
