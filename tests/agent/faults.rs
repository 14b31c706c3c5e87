//! Scenarios of faults: the checks of reports, documents too large, the largest publish and
//! small buffers, namespaces, notifications that cross a request in flight, and reconnects.

use super::*;

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
    assert_eq!((h.agent.job().map(|j| j.job_id.as_str()), h.agent.document()), (Some("job-big"), None));
    // The app declines it; the agent moves on to the next job.
    h.report(ExecutionStatus::Rejected, &[("reason", "document too large")]);
    assert_eq!(
        h.take_events(),
        [finished("job-big", 1, ExecutionStatus::Rejected, 3), run("job-small", 1, 2, r#"{"op":"x"}"#)]
    );
    // The running job's document stays readable while it runs, and goes with it.
    assert_eq!(h.agent.document(), Some(&br#"{"op":"x"}"#[..]));
    h.report(IN_PROGRESS, &[("step", "1")]);
    assert_eq!(h.agent.document(), Some(&br#"{"op":"x"}"#[..]));
    h.report(SUCCEEDED, &[]);
    assert_eq!((h.agent.job(), h.agent.document()), (None, None));
}

#[test]
fn the_largest_publish_fits_max_transmit_len() {
    let long_thing = "t".repeat(ThingName::MAX_LEN);
    // The longest namespace whose replies IoT Core takes with these names (SPEC lim-topic).
    let long_ns = NamespaceId::new(&"n".repeat(19)).unwrap();
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

/// SPEC lim-topic: a claim whose reply topic IoT Core would refuse (a 128-character thing, a
/// 64-character job id and a 20-character namespace make 257 bytes) is not sent, where the
/// broker would close the connection and the agent claim again after every reconnect; the
/// application is told once. A 19-character namespace (256 bytes) is sent.
#[test]
fn a_request_whose_reply_topic_is_past_the_brokers_limit_is_not_sent() {
    let (name, job) = ("m".repeat(128), "L".repeat(64));
    for (ns, sent) in [("N".repeat(19), true), ("N".repeat(20), false)] {
        let ns = NamespaceId::new(&ns).unwrap();
        let mut agent: Agent<64> = Agent::new(&thing(&name), Some(&ns), Config::DEFAULT);
        let mut buf = [0; MAX_TRANSMIT_LEN];
        let describe = agent.poll_transmit(T0, &mut buf).unwrap();
        assert_eq!(describe.topic, format!("$aws/things/{name}/jobs/$next/namespace-{ns}/get"));
        let next = format!(
            r#"{{"execution":{{"jobId":"{job}","jobDocument":{{}},"status":"QUEUED","queuedAt":1,"lastUpdatedAt":1,"versionNumber":1,"executionNumber":1}},"timestamp":1,"clientToken":"1"}}"#
        );
        let topic = format!("$aws/things/{name}/jobs/$next/namespace-{ns}/get/accepted");
        agent.handle(T0, &topic, next.as_bytes()).unwrap();
        let claim = agent.poll_transmit(T0, &mut buf).map(|t| t.topic.len());
        if sent {
            assert_eq!(claim, Some(247), "the update topic, its reply 256 bytes");
            assert_eq!(agent.poll_event(), None);
        } else {
            assert_eq!(claim, None);
            let error = AgentError::TopicTooLong { len: 257 };
            assert_eq!(agent.poll_event(), Some(AgentEvent::Error(error)));
            assert_eq!(
                (agent.poll_transmit(T0, &mut buf).map(|t| t.topic.len()), agent.poll_event()),
                (None, None)
            );
            assert_eq!(agent.poll_timeout(), None, "nothing in flight: no retry");
        }
    }
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
