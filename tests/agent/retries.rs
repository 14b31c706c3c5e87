//! Scenarios of retries and refusals: throttling and the exponential backoff with its jitter, the
//! clientTokens, exhausted attempts, refused requests, version mismatches and terminal states in
//! rejections, and what a reconnect keeps of a backoff.

use super::*;

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
    // No retry of the update, and no StartNext at once: it would hand the execution, still
    // IN_PROGRESS on the service, over again. A reconnection asks.
    assert!(h.transmit().is_empty());
    assert_eq!(h.agent.poll_timeout(), None);
    assert!(h.agent.is_idle());
    h.agent.reconnected();
    assert!(h.transmit()[0].is_start_next());
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
    // The execution is still IN_PROGRESS on the service: asked for again, it comes back as the
    // same Run, which the application recognises by its job and number.
    assert!(h.transmit().is_empty(), "no StartNext at once");
    h.agent.reconnected();
    h.pump();
    assert_eq!(h.take_events(), [run("job-a", 1, 2, "{}")]);
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
    // agent asks which job the service handed over, without its document (a reply too large
    // for the device's client never arrives), then for the pending list (the describe still
    // carries statusDetails), each with attempts of its own; then it gives up.
    assert_eq!(agent.poll_timeout(), Some(T0.saturating_add(30)));
    agent.handle_timeout(T0.saturating_add(30));
    assert_eq!(agent.poll_event(), None);
    for (at, topic, token) in [
        (30, "$aws/things/dev1/jobs/$next/get", "3"),
        (60, "$aws/things/dev1/jobs/$next/get", "4"),
        (90, "$aws/things/dev1/jobs/get", "5"),
        (120, "$aws/things/dev1/jobs/get", "6"),
    ] {
        let t = agent.poll_transmit(T0.saturating_add(at), &mut buf).unwrap();
        let sent = Sent { topic: t.topic.into(), payload: t.payload.to_vec() };
        assert_eq!((sent.topic.as_str(), sent.token()), (topic, token.into()));
        if at < 90 {
            assert_eq!(sent.describe(), (None, false));
        }
        assert_eq!(agent.poll_event(), None);
        agent.handle_timeout(T0.saturating_add(at + 30));
    }
    assert_eq!(agent.poll_event(), Some(AgentEvent::Error(AgentError::RetriesExhausted { last: None })));
    assert!(agent.is_idle());
}
