//! Scenarios of faults: throttling and backoff, foreign and malformed messages, unsolicited
//! replies, limits of documents and buffers, namespaces, reconnects and refusals.

use super::*;

/// A golden ErrorResponse.
fn rejection(code: &str, token: &str, state: Option<(&str, u64)>) -> Vec<u8> {
    let state = state.map_or(String::new(), |(s, v)| {
        format!(r#","executionState":{{"status":"{s}","versionNumber":{v}}}"#)
    });
    format!(r#"{{"code":"{code}","message":"m","clientToken":"{token}","timestamp":1700000000{state}}}"#)
        .into_bytes()
}

#[test]
fn throttled_start_next_is_retried_with_exponential_backoff_then_given_up() {
    let config = Config { jitter: false, ..Config::DEFAULT };
    let mut agent: Agent<64> = Agent::new(&thing("dev1"), None, config);
    let mut buf = [0; MAX_TRANSMIT_LEN];
    let rejected = "$aws/things/dev1/jobs/start-next/rejected";
    let mut now = T0;
    let mut delays = Vec::new();
    for attempt in 1..=5_u32 {
        let t = agent.poll_transmit(now, &mut buf).unwrap();
        assert_eq!(t.topic, "$aws/things/dev1/jobs/start-next");
        assert_eq!(t.payload, format!(r#"{{"clientToken":"{attempt}"}}"#).as_bytes());
        assert_eq!(agent.poll_transmit(now, &mut buf), None, "one request at a time");
        agent.handle(now, rejected, &rejection("RequestThrottled", &attempt.to_string(), None)).unwrap();
        if attempt == 5 {
            break;
        }
        let at = agent.poll_timeout().unwrap();
        delays.push(at.secs() - now.secs());
        agent.handle_timeout(Timestamp(at.secs() - 1));
        assert_eq!(agent.poll_transmit(Timestamp(at.secs() - 1), &mut buf), None);
        now = at;
        agent.handle_timeout(now);
    }
    assert_eq!(delays, [2, 4, 8, 16]);
    assert_eq!(agent.poll_transmit(now, &mut buf), None);
    assert_eq!(
        agent.poll_event(),
        Some(AgentEvent::Error(AgentError::RetriesExhausted { last: Some(ErrorCode::RequestThrottled) }))
    );
    assert!(agent.is_idle());
    // A reconnection asks again.
    agent.reconnected();
    assert!(agent.poll_transmit(now, &mut buf).is_some());
}

#[test]
fn backoff_is_capped() {
    let config = Config {
        backoff_initial_secs: 50,
        backoff_max_secs: 120,
        max_attempts: 10,
        jitter: false,
        ..Config::DEFAULT
    };
    let mut agent: Agent<64> = Agent::new(&thing("dev1"), None, config);
    let mut buf = [0; MAX_TRANSMIT_LEN];
    let mut delays = Vec::new();
    for attempt in 1..=4_u32 {
        agent.poll_transmit(T0, &mut buf).unwrap();
        let token = attempt.to_string();
        agent
            .handle(
                T0,
                "$aws/things/dev1/jobs/start-next/rejected",
                &rejection("InternalError", &token, None),
            )
            .unwrap();
        delays.push(agent.poll_timeout().unwrap().secs() - T0.secs());
        agent.handle_timeout(agent.poll_timeout().unwrap());
    }
    assert_eq!(delays, [50, 100, 120, 120]);
}

/// The delays of `max_attempts - 1` throttled StartNext requests of `thing`'s agent, and the
/// clientTokens it sent.
fn throttled_delays(thing_name: &str, config: Config) -> (Vec<u64>, Vec<String>) {
    let mut agent: Agent<64> = Agent::new(&thing(thing_name), None, config);
    let mut buf = [0; MAX_TRANSMIT_LEN];
    let rejected = format!("$aws/things/{thing_name}/jobs/start-next/rejected");
    let (mut delays, mut tokens) = (Vec::new(), Vec::new());
    let mut now = T0;
    for _ in 1..config.max_attempts {
        let t = agent.poll_transmit(now, &mut buf).unwrap();
        let payload: serde_json::Value = serde_json::from_slice(t.payload).unwrap();
        let token = payload["clientToken"].as_str().unwrap().to_owned();
        agent.handle(now, &rejected, &rejection("RequestThrottled", &token, None)).unwrap();
        tokens.push(token);
        let at = agent.poll_timeout().unwrap();
        delays.push(at.secs() - now.secs());
        now = at;
        agent.handle_timeout(now);
    }
    (delays, tokens)
}

/// With jitter (the default) each delay `d` of the exponential backoff is drawn from `d/2..=d`;
/// a fleet throttled at once spreads its retries (things of other names, or one thing that
/// starts its tokens elsewhere, draw other delays), and one agent draws the same delays each
/// run (no hidden entropy).
#[test]
fn jitter_spreads_the_backoff_over_the_upper_half_of_each_delay() {
    let config = Config { max_attempts: 8, backoff_max_secs: 1000, ..Config::DEFAULT };
    let exact = [2_u64, 4, 8, 16, 32, 64, 128];
    let mut seen = std::collections::HashSet::new();
    for i in 0..50 {
        let (delays, _) = throttled_delays(&format!("dev{i}"), config);
        for (d, e) in delays.iter().zip(exact) {
            assert!((e / 2..=e).contains(d), "dev{i}: {delays:?}");
        }
        seen.insert(delays);
    }
    assert!(seen.len() >= 45, "50 things drew {} distinct delay lists", seen.len());
    assert_eq!(throttled_delays("dev1", config), throttled_delays("dev1", config));
    let other_boot = Config { first_client_token: 7_000_000, ..config };
    assert_ne!(throttled_delays("dev1", config).0, throttled_delays("dev1", other_boot).0);
    // The cap holds with jitter too.
    let capped =
        Config { backoff_initial_secs: 50, backoff_max_secs: 120, max_attempts: 6, ..Config::DEFAULT };
    for i in 0..20 {
        let (delays, _) = throttled_delays(&format!("dev{i}"), capped);
        assert!(
            delays.iter().all(|d| (25..=120).contains(d)) && delays[2..].iter().all(|d| *d >= 60),
            "{delays:?}"
        );
    }
}

/// The clientTokens count up from `first_client_token`, wrapping past `u32::MAX`; a reply to a
/// token of the last boot (tokens from 1) answers nothing this boot asked.
#[test]
fn client_tokens_start_at_first_client_token() {
    let config = Config { first_client_token: u32::MAX - 1, max_attempts: 5, ..Config::DEFAULT };
    let (_, tokens) = throttled_delays("dev1", config);
    assert_eq!(tokens, ["4294967294", "4294967295", "0", "1"]);
    let config = Config { first_client_token: 1000, ..Config::DEFAULT };
    let mut agent: Agent<64> = Agent::new(&thing("dev1"), None, config);
    let mut buf = [0; MAX_TRANSMIT_LEN];
    let t = agent.poll_transmit(T0, &mut buf).unwrap();
    assert_eq!(t.payload, br#"{"clientToken":"1000"}"#);
    let stale = br#"{"clientToken":"1","timestamp":1700000000}"#;
    assert_eq!(
        agent.handle(T0, "$aws/things/dev1/jobs/start-next/accepted", stale),
        Err(AgentError::Unsolicited)
    );
}

#[test]
fn throttled_update_is_retried_after_backoff_invalid_request_is_not() {
    let mut h = running(&["job-a"]);
    h.agent.report(IN_PROGRESS, None).unwrap();
    let sent = h.transmit();
    assert_eq!(sent[0].update(), (IN_PROGRESS, Some(2), Some(1), vec![]));
    let topic = "$aws/things/dev1/jobs/job-a/update/rejected";
    h.agent.handle(T0, topic, &rejection("RequestThrottled", &sent[0].token(), None)).unwrap();
    assert!(h.transmit().is_empty());
    let at = h.agent.poll_timeout().unwrap();
    assert_eq!(at, T0.saturating_add(2));
    h.service.now = at;
    h.agent.handle_timeout(at);
    h.pump();
    let sent = h.take_sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].update(), (IN_PROGRESS, Some(2), Some(1), vec![]), "the same update again");
    assert_eq!(h.agent.job().unwrap().version, v(3));

    h.agent.report(SUCCEEDED, None).unwrap();
    let sent = h.transmit();
    h.agent.handle(at, topic, &rejection("InvalidRequest", &sent[0].token(), None)).unwrap();
    h.collect();
    assert_eq!(h.take_events(), [lost("job-a", 1, LostReason::Refused(ErrorCode::InvalidRequest))]);
    let sent = h.transmit();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].is_start_next(), "no retry of the update");
    assert_eq!(h.agent.poll_timeout(), Some(at.saturating_add(30)), "only the StartNext reply is awaited");
}

#[test]
fn update_retries_exhausted_loses_the_job() {
    let config = Config { max_attempts: 2, ..Config::DEFAULT };
    let mut h: Harness<256> = Harness::with(&["dev1"], None, config);
    h.pump();
    h.service.create_job("job-a", "{}", TargetSelection::Snapshot, &["dev1"]);
    h.notify();
    h.pump();
    h.take_events();
    h.agent.report(SUCCEEDED, None).unwrap();
    let topic = "$aws/things/dev1/jobs/job-a/update/rejected";
    let sent = h.transmit();
    h.agent.handle(T0, topic, &rejection("InternalError", &sent[0].token(), None)).unwrap();
    h.agent.handle_timeout(h.agent.poll_timeout().unwrap());
    let sent = h.transmit();
    assert_eq!(sent.len(), 1);
    // No reply this time: the second attempt times out and the agent gives up.
    h.agent.handle_timeout(h.agent.poll_timeout().unwrap());
    h.collect();
    assert_eq!(
        h.take_events(),
        [lost("job-a", 1, LostReason::RetriesExhausted { last: Some(ErrorCode::InternalError) })]
    );
    assert!(h.transmit()[0].is_start_next());
}

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
fn report_is_checked() {
    let mut agent: Agent<64> = Agent::new(&thing("dev1"), None, Config::DEFAULT);
    assert_eq!(agent.report(SUCCEEDED, None), Err(AgentError::NoJob));
    let mut h = running(&["job-a"]);
    for s in [
        ExecutionStatus::Queued,
        ExecutionStatus::Canceled,
        ExecutionStatus::TimedOut,
        ExecutionStatus::Removed,
    ] {
        assert_eq!(h.agent.report(s, None), Err(AgentError::StatusNotAllowed(s)));
    }
    let long = "x".repeat(400);
    let pairs = [("a", long.as_str()), ("b", long.as_str())];
    assert_eq!(
        h.agent.report(IN_PROGRESS, Some(&StatusDetails::new(&pairs).unwrap())),
        Err(AgentError::DetailsTooLarge { len: 808, capacity: MAX_DETAILS_BYTES })
    );
    // SPEC §3 timer-step: 1-10080 minutes.
    for bad in [0, 10081] {
        let e = h.agent.report_progress(None, StepTimeout::Minutes(bad)).unwrap_err();
        assert!(matches!(e, AgentError::InvalidStepTimeout(_)), "{e:?}");
        assert_eq!(e.to_string(), "stepTimeoutInMinutes must be between 1 and 10080");
    }
    assert!(h.transmit().is_empty());
    h.report(ExecutionStatus::Rejected, &[]);
    assert_eq!(h.take_events(), [finished("job-a", 1, ExecutionStatus::Rejected, 3)]);
    assert_eq!(h.agent.report(SUCCEEDED, None), Err(AgentError::NoJob));
}

#[test]
fn a_document_too_large_is_reported_not_truncated() {
    let mut h: Harness<16> = Harness::new(&["dev1"]);
    h.pump();
    let doc = r#"{"op":"firmware","url":"https://example.com/fw.bin"}"#;
    h.service.create_job("job-big", doc, TargetSelection::Snapshot, &["dev1"]);
    h.service.create_job("job-small", r#"{"op":"x"}"#, TargetSelection::Snapshot, &["dev1"]);
    h.notify();
    h.pump();
    assert_eq!(h.take_events(), [Ev::TooLarge { job: "job-big".into(), len: doc.len() }]);
    // The app declines it; the agent moves on to the next job.
    h.report(ExecutionStatus::Rejected, &[("reason", "document too large")]);
    assert_eq!(
        h.take_events(),
        [finished("job-big", 1, ExecutionStatus::Rejected, 3), run("job-small", 1, 2, r#"{"op":"x"}"#)]
    );
}

#[test]
fn the_largest_publish_fits_max_transmit_len() {
    let long_thing = "t".repeat(ThingName::MAX_LEN);
    let long_ns = NamespaceId::new(&"n".repeat(NamespaceId::MAX_LEN)).unwrap();
    let long_job = "j".repeat(JobId::MAX_LEN);
    let mut agent: Agent<64> = Agent::new(&thing(&long_thing), Some(&long_ns), Config::DEFAULT);
    let mut buf = vec![0; MAX_TRANSMIT_LEN];
    let t = agent.poll_transmit(T0, &mut buf).unwrap();
    let token = Sent { topic: t.topic.into(), payload: t.payload.to_vec() }.token();
    let topic = format!("$aws/things/{long_thing}/jobs/$next/namespace-{}/get/accepted", long_ns.as_str());
    let x = format!(
        r#"{{"timestamp":1,"clientToken":"{token}","execution":{{"jobId":"{long_job}","status":"IN_PROGRESS","queuedAt":1,"lastUpdatedAt":1,"versionNumber":{},"executionNumber":{}}}}}"#,
        i64::MAX - 1,
        i64::MAX
    );
    agent.handle(T0, &topic, x.as_bytes()).unwrap();
    // Ten pairs of quotes and backslashes, the most MAX_DETAILS_BYTES holds.
    let keys: Vec<String> = (0..10).map(|i| format!("k{i}")).collect();
    let value = "\"\\".repeat((MAX_DETAILS_BYTES / 10 - 5) / 2);
    let pairs: Vec<(&str, &str)> = keys.iter().map(|k| (k.as_str(), value.as_str())).collect();
    agent.report(SUCCEEDED, Some(&StatusDetails::new(&pairs).unwrap())).unwrap();
    let t = agent.poll_transmit(T0, &mut buf).unwrap();
    let len = t.topic.len() + t.payload.len();
    assert!(len <= MAX_TRANSMIT_LEN, "{len} > {MAX_TRANSMIT_LEN}");
    assert!(len > MAX_TRANSMIT_LEN - 700, "the bound is not loose: {len}");
    let mut scratch = vec![0; t.payload.len()];
    let u = UpdateRequest::parse(t.payload, &mut scratch).unwrap();
    assert_eq!(u.status_details.unwrap().pairs().len(), 10);
}

#[test]
fn a_small_send_buffer_is_reported_once_and_the_request_kept() {
    let mut agent: Agent<64> = Agent::new(&thing("dev1"), None, Config::DEFAULT);
    let mut small = [0; 20];
    assert_eq!(agent.poll_transmit(T0, &mut small), None);
    assert_eq!(agent.poll_transmit(T0, &mut small), None);
    assert_eq!(agent.poll_event(), Some(AgentEvent::Error(AgentError::BufferTooSmall { available: 20 })));
    assert_eq!(agent.poll_event(), None);
    let mut topic_only = [0; 32];
    assert_eq!(agent.poll_transmit(T0, &mut topic_only), None);
    let mut buf = [0; MAX_TRANSMIT_LEN];
    assert_eq!(agent.poll_transmit(T0, &mut buf).unwrap().topic, "$aws/things/dev1/jobs/start-next");
}

#[test]
fn namespace_agent_describes_next_and_claims_it() {
    let mut h = ns1_with_job_a(Config::DEFAULT);
    h.pump();
    let sent = h.take_sent();
    // SPEC 7.3: describe `$next`, then UpdateJobExecution to IN_PROGRESS (no StartNext form).
    assert_eq!(sent[0].topic, "$aws/things/dev1/jobs/$next/namespace-ns1/get");
    assert_eq!(sent[0].describe(), (None, true));
    assert_eq!(sent[1].topic, "$aws/things/dev1/jobs/job-a/namespace-ns1/update");
    assert_eq!(sent[1].update(), (IN_PROGRESS, Some(1), Some(1), vec![]));
    assert_eq!(sent.len(), 2);
    assert_eq!(h.take_events(), [run("job-a", 1, 2, r#"{"op":"a"}"#)]);
    h.report(SUCCEEDED, &[]);
    let sent = h.take_sent();
    assert_eq!(sent[0].update(), (SUCCEEDED, Some(2), Some(1), vec![]));
    assert_eq!(sent[1].topic, "$aws/things/dev1/jobs/$next/namespace-ns1/get");
    assert_eq!(h.take_events(), [finished("job-a", 1, SUCCEEDED, 3)]);
    assert!(h.agent.is_idle());
}

#[test]
fn a_claim_refused_because_of_a_cancel_ends_unseen() {
    let ns = NamespaceId::new("ns1").unwrap();
    let mut h: Harness<256> = Harness::with(&["dev1"], Some(&ns), Config::DEFAULT);
    h.service.create_job("job-a", r#"{"op":"a"}"#, TargetSelection::Snapshot, &["dev1"]);
    h.transmit();
    let sent = h.take_sent();
    let replies = h.service.serve(&Transmit { topic: &sent[0].topic, payload: &sent[0].payload });
    h.deliver(replies);
    // Canceled between the describe and the claim.
    h.service.reg.cancel_job(&job("job-a"), false, None, T0, &mut h.service.sink).unwrap();
    h.service.notifications();
    assert_eq!(h.agent.job(), None, "not the app's job before the claim succeeds");
    h.pump();
    let sent = h.take_sent();
    assert_eq!(sent[0].update().0, IN_PROGRESS);
    assert_eq!(sent[1].topic, "$aws/things/dev1/jobs/$next/namespace-ns1/get");
    h.collect();
    assert!(h.take_events().is_empty(), "the app never heard of it");
    assert!(h.agent.is_idle());
}

#[test]
fn notify_next_while_start_next_is_in_flight_asks_again() {
    let mut h: Harness<256> = Harness::new(&["dev1"]);
    let first = h.transmit();
    // The StartNext is answered "nothing" before the job exists, but its notification is
    // delivered first.
    let nothing = h.service.serve(&Transmit { topic: &first[0].topic, payload: &first[0].payload });
    h.service.create_job("job-a", "{}", TargetSelection::Snapshot, &["dev1"]);
    h.notify();
    h.deliver(nothing);
    h.pump();
    let sent = h.take_sent();
    assert_eq!(sent.len(), 2);
    assert!(sent[1].is_start_next());
    assert_eq!(h.take_events(), [run("job-a", 1, 2, "{}")]);
}

#[test]
fn an_empty_notify_next_asks_for_nothing() {
    let mut h: Harness<256> = Harness::new(&["dev1"]);
    let empty = br#"{"timestamp":1}"#;
    // Idle: nothing is pending, nothing to ask.
    h.pump();
    h.take_sent();
    h.agent.handle(T0, "$aws/things/dev1/jobs/notify-next", empty).unwrap();
    assert!(h.transmit().is_empty());
    // While a StartNext is in flight: its answer "nothing" stands, and nothing is asked again.
    h.agent.reconnected();
    let start = h.transmit();
    assert!(start[0].is_start_next());
    h.agent.handle(T0, "$aws/things/dev1/jobs/notify-next", empty).unwrap();
    let nothing = h.service.serve(&start[0].as_transmit());
    h.deliver(nothing);
    assert!(h.transmit().is_empty());
    assert!(h.agent.is_idle() && h.take_events().is_empty());
}

#[test]
fn reconnect_checks_the_running_job() {
    let mut h = running(&["job-a"]);
    h.agent.reconnected();
    h.pump();
    let sent = h.take_sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].topic, "$aws/things/dev1/jobs/job-a/get");
    assert!(h.take_events().is_empty());
    // An unanswered request is sent again at once.
    h.agent.report(IN_PROGRESS, None).unwrap();
    let a = h.transmit();
    h.agent.reconnected();
    let b = h.transmit();
    assert_eq!(a[0].update(), b[0].update());
    assert_ne!(a[0].token(), b[0].token());
    // Either transmission's reply completes it.
    let reply = format!(r#"{{"timestamp":1,"clientToken":"{}"}}"#, a[0].token());
    h.agent.handle(T0, "$aws/things/dev1/jobs/job-a/update/accepted", reply.as_bytes()).unwrap();
    assert_eq!(h.agent.job().unwrap().version, v(3));
}

#[test]
fn a_job_that_ends_before_its_run_was_polled_is_never_shown() {
    let mut h2: Harness<256> = Harness::new(&["dev1"]);
    h2.pump();
    h2.service.create_job("job-a", "{}", TargetSelection::Snapshot, &["dev1"]);
    h2.notify();
    // Pump without collecting events.
    let mut buf = [0; MAX_TRANSMIT_LEN];
    let t = h2.agent.poll_transmit(T0, &mut buf).unwrap();
    let replies = h2.service.serve(&t);
    for m in replies {
        h2.agent.handle(T0, &m.topic, &m.payload).unwrap();
    }
    assert!(h2.agent.job().is_some());
    h2.service.reg.delete_job(&job("job-a"), true, T0, &mut h2.service.sink).unwrap();
    h2.notify();
    let t = h2.agent.poll_transmit(T0, &mut buf).unwrap();
    let replies = h2.service.serve(&t);
    for m in replies {
        h2.agent.handle(T0, &m.topic, &m.payload).unwrap();
    }
    assert_eq!(h2.agent.poll_event(), None);
}

#[test]
fn a_refused_start_next_is_an_error_and_events_are_bounded() {
    let mut agent: Agent<64> = Agent::new(&thing("dev1"), None, Config::DEFAULT);
    let mut buf = [0; MAX_TRANSMIT_LEN];
    // The app does not poll events while StartNext is refused ten times (never retried).
    for attempt in 1..=10_u32 {
        let t = agent.poll_transmit(T0, &mut buf).unwrap();
        assert_eq!(t.topic, "$aws/things/dev1/jobs/start-next");
        let code = if attempt % 2 == 0 { "ResourceNotFound" } else { "InvalidRequest" };
        let rejected = rejection(code, &attempt.to_string(), None);
        agent.handle(T0, "$aws/things/dev1/jobs/start-next/rejected", &rejected).unwrap();
        assert!(agent.is_idle());
        assert_eq!(agent.poll_transmit(T0, &mut buf), None, "no retry");
        agent.reconnected();
    }
    let mut events = Vec::new();
    while let Some(AgentEvent::Error(e)) = agent.poll_event() {
        events.push(e);
    }
    assert_eq!(events.len(), 9);
    assert_eq!(events[0], AgentError::Refused(ErrorCode::InvalidRequest));
    assert_eq!(events[1], AgentError::Refused(ErrorCode::ResourceNotFound));
    assert_eq!(events[8], AgentError::EventsDropped { count: 2 });
    assert_eq!(agent.poll_event(), None);
}

#[test]
fn terminal_states_in_rejections_and_descriptions_stop_the_job() {
    let topic = "$aws/things/dev1/jobs/job-a/update/rejected";
    for (code, status) in [
        ("InvalidStateTransition", ExecutionStatus::TimedOut),
        ("InvalidStateTransition", ExecutionStatus::Removed),
        ("VersionMismatch", ExecutionStatus::Canceled),
        // Another client reported a different final status.
        ("InvalidStateTransition", ExecutionStatus::Failed),
    ] {
        let mut h = running(&["job-a"]);
        h.agent.report(SUCCEEDED, None).unwrap();
        let sent = h.transmit();
        h.agent.handle(T0, topic, &rejection(code, &sent[0].token(), Some((status.as_str(), 4)))).unwrap();
        h.collect();
        assert_eq!(h.take_events(), [Ev::Canceled { job: "job-a".into(), number: 1, status: Some(status) }]);
        assert!(h.transmit()[0].is_start_next(), "{code} {status}: no retry");
    }

    // A rejection that should carry executionState but does not: refused, not retried.
    let mut h = running(&["job-a"]);
    h.agent.report(IN_PROGRESS, None).unwrap();
    let sent = h.transmit();
    h.agent.handle(T0, topic, &rejection("TerminalStateReached", &sent[0].token(), None)).unwrap();
    h.collect();
    assert_eq!(h.take_events(), [Ev::Canceled { job: "job-a".into(), number: 1, status: None }]);

    // A service that describes terminal executions (Policy::data_plane_describes_terminal).
    let mut h = running(&["job-a", "job-b"]);
    h.deliver(vec![Msg {
        topic: "$aws/things/dev1/jobs/notify-next".into(),
        payload: br#"{"timestamp":1700000000}"#.to_vec(),
    }]);
    let sent = h.transmit();
    assert_eq!(sent[0].topic, "$aws/things/dev1/jobs/job-a/get");
    let described = format!(
        r#"{{"execution":{{"jobId":"job-a","status":"TIMED_OUT","queuedAt":1,"lastUpdatedAt":2,"versionNumber":4,"executionNumber":1}},"timestamp":2,"clientToken":"{}"}}"#,
        sent[0].token()
    );
    h.agent.handle(T0, "$aws/things/dev1/jobs/job-a/get/accepted", described.as_bytes()).unwrap();
    h.collect();
    assert_eq!(
        h.take_events(),
        [Ev::Canceled { job: "job-a".into(), number: 1, status: Some(ExecutionStatus::TimedOut) }]
    );
}

#[test]
fn a_version_rejection_without_state_is_refused_not_retried() {
    let mut h = running(&["job-a"]);
    h.agent.report(IN_PROGRESS, None).unwrap();
    let sent = h.transmit();
    let topic = "$aws/things/dev1/jobs/job-a/update/rejected";
    h.agent.handle(T0, topic, &rejection("VersionMismatch", &sent[0].token(), None)).unwrap();
    h.collect();
    assert_eq!(h.take_events(), [lost("job-a", 1, LostReason::Refused(ErrorCode::VersionMismatch))]);
}

#[test]
fn repeated_version_mismatches_give_up_within_the_attempt_budget() {
    let mut h = running(&["job-a"]);
    h.agent.report(IN_PROGRESS, None).unwrap();
    let topic = "$aws/things/dev1/jobs/job-a/update/rejected";
    let mut expected = Vec::new();
    for version in 3..8 {
        let sent = h.transmit();
        assert_eq!(sent.len(), 1);
        expected.push(sent[0].update().1.unwrap());
        let state = Some(("IN_PROGRESS", version));
        h.agent.handle(T0, topic, &rejection("VersionMismatch", &sent[0].token(), state)).unwrap();
    }
    // Each resend carries the version of the previous rejection.
    assert_eq!(expected, [2, 3, 4, 5, 6]);
    h.collect();
    assert_eq!(
        h.take_events(),
        [lost("job-a", 1, LostReason::RetriesExhausted { last: Some(ErrorCode::VersionMismatch) })]
    );
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

#[test]
fn a_reconnect_keeps_the_backoff_and_the_attempt_limit() {
    // A throttled update waits out its backoff across a reconnect.
    let mut h = running(&["job-a"]);
    h.agent.report(IN_PROGRESS, None).unwrap();
    let sent = h.transmit();
    let topic = "$aws/things/dev1/jobs/job-a/update/rejected";
    h.agent.handle(T0, topic, &rejection("RequestThrottled", &sent[0].token(), None)).unwrap();
    h.agent.reconnected();
    assert!(h.transmit().is_empty(), "the backoff stands");
    assert_eq!(h.agent.poll_timeout(), Some(T0.saturating_add(2)));
    h.service.now = T0.saturating_add(2);
    h.agent.handle_timeout(h.service.now);
    assert_eq!(h.transmit()[0].update(), sent[0].update());

    // Every resend on a reconnect counts toward max_attempts.
    let config = Config { max_attempts: 2, ..Config::DEFAULT };
    let mut agent: Agent<64> = Agent::new(&thing("dev1"), None, config);
    let mut buf = [0; MAX_TRANSMIT_LEN];
    let mut tokens = Vec::new();
    for _ in 0..5 {
        while let Some(t) = agent.poll_transmit(T0, &mut buf) {
            tokens.push(Sent { topic: t.topic.into(), payload: t.payload.to_vec() }.token());
        }
        agent.reconnected();
    }
    assert_eq!(tokens, ["1", "2"]);
    assert_eq!(agent.poll_event(), None);
    // The last attempt's reply may still come (a persistent session); when it is overdue the
    // agent gives up.
    assert_eq!(agent.poll_timeout(), Some(T0.saturating_add(30)));
    agent.handle_timeout(T0.saturating_add(30));
    assert_eq!(agent.poll_event(), Some(AgentEvent::Error(AgentError::RetriesExhausted { last: None })));
    assert!(agent.is_idle());
}

#[test]
fn only_a_step_timeout_of_1_to_10080_minutes_can_be_configured() {
    // SPEC §3 timer-step: StartNext takes 1-10080 minutes, never -1. An out-of-range value is
    // refused where it is made, not found later as a message the agent cannot write.
    for minutes in [0, 10081] {
        let error = TimeoutMinutes::step(minutes).unwrap_err();
        assert_eq!(error.to_string(), "stepTimeoutInMinutes must be between 1 and 10080");
    }
    for minutes in [1, 10080] {
        let config = Config { step_timeout: Some(TimeoutMinutes::step(minutes).unwrap()), ..Config::DEFAULT };
        let mut agent: Agent<64> = Agent::new(&thing("dev1"), None, config);
        let mut buf = [0; MAX_TRANSMIT_LEN];
        let sent = agent.poll_transmit(T0, &mut buf).unwrap();
        let expected = format!(r#"{{"stepTimeoutInMinutes":{minutes},"clientToken":"1"}}"#);
        assert_eq!(sent.payload, expected.as_bytes());
    }
}

/// A StartNext reply that hands over execution 1 of `job-x` (IN_PROGRESS, version 2), with
/// `members` in its execution.
fn started(members: &str) -> String {
    format!(
        r#"{{"execution":{{"jobId":"job-x",{members}"status":"IN_PROGRESS","queuedAt":1,"startedAt":2,"lastUpdatedAt":2,"versionNumber":2,"executionNumber":1}},"timestamp":2,"clientToken":"1"}}"#
    )
}

#[test]
fn a_job_whose_document_or_details_cannot_be_read_is_handed_over_to_be_rejected() {
    let accepted = "$aws/things/dev1/jobs/start-next/accepted";
    for members in [
        r#""jobDocument":[1,2],"#,
        r#""jobDocument":5,"#,
        r#""jobDocument":null,"#,
        r#""statusDetails":{"k":""},"#,
        r#""statusDetails":{"k":"a","k":"b"},"#,
        r#""statusDetails":{"a key":"v"},"#,
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

#[test]
fn a_description_of_another_execution_means_the_job_was_lost() {
    // (executionNumber, status, versionNumber) described for execution 1 of job-a at version 2.
    for (number, status, version) in [(2, "IN_PROGRESS", 3), (1, "IN_PROGRESS", 1), (1, "QUEUED", 5)] {
        let mut h = running(&["job-a"]);
        h.agent.reconnected();
        let sent = h.transmit();
        let described = format!(
            r#"{{"execution":{{"jobId":"job-a","status":"{status}","queuedAt":1,"lastUpdatedAt":2,"versionNumber":{version},"executionNumber":{number}}},"timestamp":2,"clientToken":"{}"}}"#,
            sent[0].token()
        );
        h.agent.handle(T0, "$aws/things/dev1/jobs/job-a/get/accepted", described.as_bytes()).unwrap();
        h.collect();
        assert_eq!(h.take_events(), [lost("job-a", 1, LostReason::Deleted)], "{number} {status} {version}");
        assert!(h.transmit()[0].is_start_next());
    }
}
