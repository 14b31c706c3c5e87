//! Scenarios of messages the device's MQTT client cannot hold: told by the client
//! (`Agent::handle_oversized`), or dropped unseen.

use super::*;

/// A job whose StartNext reply and `notify-next` carry more than the client's 1,024 bytes.
fn big_document() -> String {
    format!(r#"{{"blob":"{}"}}"#, "x".repeat(2000))
}

/// `dev1` with `job-big` (document of [`big_document`]) and then `job-small` queued, their
/// notifications dropped, and a client that holds 1,024 bytes of payload.
fn big_then_small(namespace: Option<&NamespaceId>, config: Config, tell: bool) -> Harness<4096> {
    let mut h: Harness<4096> = Harness::with(&["dev1"], namespace, config);
    h.rx = Some(Rx { max: 1024, tell });
    h.service.create_job("job-big", &big_document(), TargetSelection::Snapshot, &["dev1"]);
    h.service.create_job("job-small", r#"{"op":"x"}"#, TargetSelection::Snapshot, &["dev1"]);
    h.service.notifications();
    h
}

/// Sends, then lets `rounds` response timeouts (30 s each) pass, each answered by nothing.
fn spend_attempts<const DOC: usize>(h: &mut Harness<DOC>, rounds: usize) {
    h.pump();
    for _ in 0..rounds {
        h.service.now = h.service.now.saturating_add(30);
        h.agent.handle_timeout(h.service.now);
        h.pump();
    }
}

fn topics(sent: &[Sent]) -> Vec<&str> {
    sent.iter().map(|s| s.topic.as_str()).collect()
}

/// The application rejects `job-big`; the agent moves on to `job-small`.
fn reject_big_and_run_small(h: &mut Harness<4096>) {
    h.report(ExecutionStatus::Rejected, &[("reason", "message too large")]);
    assert_eq!(
        h.take_events(),
        [finished("job-big", 1, ExecutionStatus::Rejected, 3), run("job-small", 1, 2, r#"{"op":"x"}"#)]
    );
}

#[test]
fn a_start_next_reply_the_client_cannot_hold_is_identified_for_the_app_to_reject() {
    let mut h: Harness<4096> = Harness::new(&["dev1"]);
    h.rx = Some(Rx { max: 1024, tell: true });
    h.pump();
    h.take_sent();
    h.service.create_job("job-big", &big_document(), TargetSelection::Snapshot, &["dev1"]);
    h.service.create_job("job-small", r#"{"op":"x"}"#, TargetSelection::Snapshot, &["dev1"]);
    // The `notify-next` carries the document too: a notification of a job the agent cannot
    // see, so it asks for it.
    h.notify();
    h.pump();
    let sent = h.take_sent();
    assert_eq!(topics(&sent), ["$aws/things/dev1/jobs/start-next", "$aws/things/dev1/jobs/$next/get"]);
    assert_eq!(sent[1].describe(), (None, false), "the describe leaves the document out");
    let events = h.take_events();
    let [Ev::Undelivered { job, number: 1, len: Some(len) }] = &events[..] else { panic!("{events:?}") };
    assert_eq!(job, "job-big");
    assert!(*len > 2000, "the StartNext reply's length: {len}");
    // StartNext made it IN_PROGRESS: the agent's job until the application ends it.
    assert_eq!(h.agent.job().map(|j| j.job_id.as_str()), Some("job-big"));
    reject_big_and_run_small(&mut h);
}

#[test]
fn a_client_that_drops_the_reply_unseen_gets_the_same_once_the_attempts_are_spent() {
    let config = Config { max_attempts: 2, jitter: false, ..Config::DEFAULT };
    let mut h = big_then_small(None, config, false);
    spend_attempts(&mut h, 2);
    let sent = h.take_sent();
    assert_eq!(
        topics(&sent),
        [
            "$aws/things/dev1/jobs/start-next",
            "$aws/things/dev1/jobs/start-next",
            "$aws/things/dev1/jobs/$next/get"
        ]
    );
    assert_eq!(sent[2].describe(), (None, false));
    assert_eq!(h.take_events(), [Ev::Undelivered { job: "job-big".into(), number: 1, len: None }]);
    reject_big_and_run_small(&mut h);
}

#[test]
fn a_namespace_agent_claims_the_execution_it_could_not_read_then_hands_it_over() {
    let ns = NamespaceId::new("ns1").unwrap();
    let mut h = big_then_small(Some(&ns), Config::DEFAULT, true);
    h.pump();
    let sent = h.take_sent();
    assert_eq!(
        topics(&sent),
        [
            "$aws/things/dev1/jobs/$next/namespace-ns1/get",
            "$aws/things/dev1/jobs/$next/namespace-ns1/get",
            "$aws/things/dev1/jobs/job-big/namespace-ns1/update"
        ]
    );
    assert_eq!((sent[0].describe(), sent[1].describe()), ((None, true), (None, false)));
    assert_eq!(sent[2].update(), (IN_PROGRESS, Some(1), Some(1), vec![]));
    let events = h.take_events();
    assert!(
        matches!(&events[..], [Ev::Undelivered { job, number: 1, len: Some(_) }] if job == "job-big"),
        "{events:?}"
    );
    h.report(ExecutionStatus::Rejected, &[]);
    assert_eq!(
        h.take_events(),
        [finished("job-big", 1, ExecutionStatus::Rejected, 3), run("job-small", 1, 2, r#"{"op":"x"}"#)]
    );
}

#[test]
fn a_plain_agent_that_finds_the_head_queued_says_so_and_waits_for_the_next_notification() {
    let mut h = big_then_small(None, Config::DEFAULT, true);
    h.deliver_notifications = false;
    let start = h.transmit();
    let replies = h.service.serve(&start[0].as_transmit());
    h.deliver(replies);
    // An operator deletes the execution StartNext started before the agent asks which it was:
    // the head is QUEUED, which no StartNext hands over.
    h.service
        .reg
        .delete_execution(&job("job-big"), &thing("dev1"), n(1), true, T0, &mut h.service.sink)
        .unwrap();
    let notify = h.service.notifications();
    h.deliver(notify);
    h.pump();
    let events = h.take_events();
    assert!(
        matches!(events[..], [Ev::Error(AgentError::MessageTooLarge { len })] if len > 2000),
        "{events:?}"
    );
    assert!(h.agent.is_idle());
    // The deletion's notification wakes it.
    let held = std::mem::take(&mut h.held);
    h.deliver_notifications = true;
    h.deliver(held);
    h.pump();
    assert_eq!(h.take_events(), [run("job-small", 1, 2, r#"{"op":"x"}"#)]);
}

#[test]
fn a_namespace_agent_whose_describe_does_not_fit_either_says_so() {
    // GetPending has no namespace form (SPEC 7.3): nothing else names the execution.
    let ns = NamespaceId::new("ns1").unwrap();
    let mut h = big_then_small(Some(&ns), Config::DEFAULT, true);
    let next = h.transmit();
    let replies = h.service.serve(&next[0].as_transmit());
    h.deliver(replies);
    let identify = h.transmit();
    assert_eq!(topics(&identify), ["$aws/things/dev1/jobs/$next/namespace-ns1/get"]);
    assert_eq!(identify[0].describe(), (None, false));
    h.agent.handle_oversized("$aws/things/dev1/jobs/$next/namespace-ns1/get/accepted", 30_000).unwrap();
    h.collect();
    assert_eq!(h.take_events(), [Ev::Error(AgentError::MessageTooLarge { len: 30_000 })]);
    assert!(h.agent.is_idle());
    assert!(h.transmit().is_empty());
}

#[test]
fn a_notify_next_the_client_cannot_hold_makes_a_running_agent_check_its_job() {
    let mut h = running(&["job-a"]);
    h.agent.handle_oversized("$aws/things/dev1/jobs/notify-next", 5000).unwrap();
    let sent = h.transmit();
    assert_eq!(topics(&sent), ["$aws/things/dev1/jobs/job-a/get"]);
    assert_eq!(sent[0].describe(), (Some(1), false));
}

#[test]
fn an_accepted_update_that_does_not_fit_counts_as_applied_at_the_next_version() {
    let mut h = running(&["job-a"]);
    h.agent.report(IN_PROGRESS, Some(&StatusDetails::new(&[("step", "1")]).unwrap())).unwrap();
    let sent = h.transmit();
    let replies = h.service.serve(&sent[0].as_transmit());
    assert!(replies[0].topic.ends_with("/update/accepted"));
    h.agent.handle_oversized(&replies[0].topic, 4000).unwrap();
    h.take_sent();
    h.report(SUCCEEDED, &[]);
    // expectedVersion 3: the service applied the progress report (version 2 → 3).
    assert_eq!(h.take_sent()[0].update(), (SUCCEEDED, Some(3), Some(1), vec![]));
    assert_eq!(h.take_events(), [finished("job-a", 1, SUCCEEDED, 4)]);
}

#[test]
fn a_describe_that_does_not_fit_keeps_the_job_and_a_rejected_update_loses_it() {
    let mut h = running(&["job-a"]);
    // An accepted describe: the execution is still pending (SPEC R11); the job runs on.
    h.agent.reconnected();
    assert_eq!(h.transmit()[0].describe(), (Some(1), false));
    h.agent.handle_oversized("$aws/things/dev1/jobs/job-a/get/accepted", 2000).unwrap();
    h.collect();
    assert_eq!(h.take_events(), []);
    assert!(h.transmit().is_empty());
    // A rejected one: only the check failed.
    h.agent.reconnected();
    h.transmit();
    h.agent.handle_oversized("$aws/things/dev1/jobs/job-a/get/rejected", 2001).unwrap();
    h.collect();
    assert_eq!(h.take_events(), [Ev::Error(AgentError::MessageTooLarge { len: 2001 })]);
    assert_eq!(h.agent.job().map(|j| j.version.get()), Some(2));
    // A rejected update carries a state the agent cannot read: it cannot resync.
    h.agent.report(SUCCEEDED, None).unwrap();
    h.transmit();
    h.agent.handle_oversized("$aws/things/dev1/jobs/job-a/update/rejected", 2002).unwrap();
    h.collect();
    assert_eq!(h.take_events(), [lost("job-a", 1, LostReason::MessageTooLarge { len: 2002 })]);
    // Not applied, so still IN_PROGRESS on the service: no StartNext at once.
    assert!(h.transmit().is_empty());
    assert!(h.agent.is_idle());
}

#[test]
fn what_handle_refuses_handle_oversized_refuses_and_nothing_changes() {
    let mut h = running(&["job-a"]);
    let before = h.state();
    for (topic, error) in [
        ("$aws/things/dev2/jobs/notify-next", AgentError::OtherThing),
        ("$aws/things/dev1/jobs/notify", AgentError::Unexpected),
        ("$aws/things/dev1/jobs/job-a/update/accepted", AgentError::Unsolicited),
        ("$aws/things/dev1/jobs/start-next/accepted", AgentError::Unsolicited),
        ("$aws/things/dev1/jobs/$next/namespace-ns1/get/accepted", AgentError::Unexpected),
        ("$aws/things/dev1/jobs/job-a/namespace-ns1/update/accepted", AgentError::Unexpected),
    ] {
        assert_eq!(h.agent.handle_oversized(topic, 9000), Err(error), "{topic}");
        assert_eq!(h.agent.handle(h.service.now, topic, b"{}"), Err(error), "{topic}");
    }
    assert!(matches!(h.agent.handle_oversized("not/a/jobs/topic", 9000), Err(AgentError::Topic(_))));
    assert_eq!(h.state(), before);
    // A namespace agent has no StartNext (SPEC 7.3, AMBIG-8): its replies are not its own.
    let mut h = ns1_with_job_a(Config::DEFAULT);
    h.transmit();
    let before = h.state();
    for topic in [
        "$aws/things/dev1/jobs/start-next/accepted",
        "$aws/things/dev1/jobs/$next/get/accepted",
        "$aws/things/dev1/jobs/get/accepted",
    ] {
        assert_eq!(h.agent.handle_oversized(topic, 9000), Err(AgentError::Unexpected), "{topic}");
    }
    assert_eq!(h.state(), before);
}

#[test]
fn an_idle_agent_whose_client_dropped_a_notification_unseen_finds_the_job_at_its_check() {
    let config = Config { check_interval_secs: Some(300), max_attempts: 1, ..Config::DEFAULT };
    let mut h: Harness<4096> = Harness::with(&["dev1"], None, config);
    h.rx = Some(Rx { max: 1024, tell: false });
    h.pump();
    h.take_sent();
    h.service.create_job("job-big", &big_document(), TargetSelection::Snapshot, &["dev1"]);
    h.service.create_job("job-small", r#"{"op":"x"}"#, TargetSelection::Snapshot, &["dev1"]);
    h.notify(); // the notify-next of job-big: dropped without a word
    assert!(h.agent.is_idle());
    assert!(h.transmit().is_empty());
    // The check asks for the next job; its answer is dropped too, and its one attempt runs out.
    h.service.now = T0.saturating_add(300);
    h.agent.handle_timeout(h.service.now);
    h.pump();
    h.service.now = T0.saturating_add(330);
    h.agent.handle_timeout(h.service.now);
    h.pump();
    let sent = h.take_sent();
    assert_eq!(topics(&sent), ["$aws/things/dev1/jobs/start-next", "$aws/things/dev1/jobs/$next/get"]);
    assert_eq!(h.take_events(), [Ev::Undelivered { job: "job-big".into(), number: 1, len: None }]);
    reject_big_and_run_small(&mut h);
}

/// `dev1` whose execution of `job-held` (a small document) is IN_PROGRESS with statusDetails
/// another writer left (an earlier firmware, the HTTPS data plane): about 950 bytes, which with
/// the other members do not fit the client's 1,024. `job-small` is queued behind it. The agent starts afresh.
fn held_by_big_details(namespace: Option<&NamespaceId>, config: Config, tell: bool) -> Harness<4096> {
    let mut h: Harness<4096> = Harness::with(&["dev1"], namespace, config);
    h.rx = Some(Rx { max: 1024, tell });
    h.service.create_job("job-held", r#"{"op":"held"}"#, TargetSelection::Snapshot, &["dev1"]);
    h.service.create_job("job-small", r#"{"op":"x"}"#, TargetSelection::Snapshot, &["dev1"]);
    let values: Vec<String> = (0..10).map(|i| format!("{i}{}", "v".repeat(89))).collect();
    let keys: Vec<String> = (0..10).map(|i| format!("k{i}")).collect();
    let pairs: Vec<(&str, &str)> =
        keys.iter().map(String::as_str).zip(values.iter().map(String::as_str)).collect();
    let details = StatusDetails::new(&pairs).unwrap();
    let (t, now) = (thing("dev1"), h.service.now);
    h.service.reg.start_next(&t, Some(&details), None, now, &mut h.service.sink).unwrap();
    h.service.notifications();
    h
}

/// [`held_by_big_details`] with a client that tells, up to the GetPending request it returns
/// unanswered (the StartNext and describe replies did not fit).
fn held_until_get_pending() -> (Harness<4096>, Vec<Sent>) {
    let mut h = held_by_big_details(None, Config::DEFAULT, true);
    for _ in 0..2 {
        let sent = h.transmit();
        let replies = h.service.serve(&sent[0].as_transmit());
        h.deliver(replies);
    }
    let pending = h.transmit();
    (h, pending)
}

/// The application rejects `job-held` without asking for the state (it would carry the
/// statusDetails); the agent moves on to `job-small`.
fn reject_held_and_run_small(h: &mut Harness<4096>) {
    h.report(ExecutionStatus::Rejected, &[]);
    let sent = h.take_sent();
    assert_eq!(sent[0].update(), (ExecutionStatus::Rejected, Some(2), Some(1), vec![]));
    assert!(!sent[0].asks_for_state(), "the state would carry the statusDetails again");
    assert_eq!(
        h.take_events(),
        [finished("job-held", 1, ExecutionStatus::Rejected, 3), run("job-small", 1, 2, r#"{"op":"x"}"#)]
    );
    let x = h.service.reg.describe_execution(&job("job-held"), &thing("dev1"), None, Plane::Control).unwrap();
    assert_eq!((x.status(), x.version()), (ExecutionStatus::Rejected, v(3)));
}

#[test]
fn statusdetails_another_writer_made_too_large_are_passed_over_through_get_pending() {
    let mut h = held_by_big_details(None, Config::DEFAULT, true);
    h.pump();
    let sent = h.take_sent();
    assert_eq!(
        topics(&sent),
        ["$aws/things/dev1/jobs/start-next", "$aws/things/dev1/jobs/$next/get", "$aws/things/dev1/jobs/get"]
    );
    assert_eq!(sent[1].describe(), (None, false));
    let events = h.take_events();
    let [Ev::Undelivered { job, number: 1, len: Some(len) }] = &events[..] else { panic!("{events:?}") };
    assert_eq!(job, "job-held");
    assert!(*len > 1024, "the StartNext reply's length: {len}");
    assert_eq!(h.agent.job().map(|j| (j.job_id.as_str(), j.version.get())), Some(("job-held", 2)));
    reject_held_and_run_small(&mut h);
}

#[test]
fn a_client_that_drops_every_reply_with_the_details_unseen_gets_the_same() {
    let config = Config { max_attempts: 2, jitter: false, ..Config::DEFAULT };
    let mut h = held_by_big_details(None, config, false);
    spend_attempts(&mut h, 4);
    let sent = h.take_sent();
    assert_eq!(
        topics(&sent),
        [
            "$aws/things/dev1/jobs/start-next",
            "$aws/things/dev1/jobs/start-next",
            "$aws/things/dev1/jobs/$next/get",
            "$aws/things/dev1/jobs/$next/get",
            "$aws/things/dev1/jobs/get"
        ]
    );
    assert_eq!(h.take_events(), [Ev::Undelivered { job: "job-held".into(), number: 1, len: None }]);
    reject_held_and_run_small(&mut h);
}

#[test]
fn a_get_pending_reply_that_does_not_fit_or_names_nothing_in_progress_is_an_error() {
    // Too large as well (the client told it): the agent gives up and says so.
    let (mut h, pending) = held_until_get_pending();
    assert_eq!(topics(&pending), ["$aws/things/dev1/jobs/get"]);
    h.agent.handle_oversized("$aws/things/dev1/jobs/get/accepted", 9000).unwrap();
    h.collect();
    assert_eq!(h.take_events(), [Ev::Error(AgentError::MessageTooLarge { len: 9000 })]);
    assert!(h.agent.is_idle());
    // Nothing IN_PROGRESS by the time the list is answered (an operator canceled it): no job.
    let (mut h, pending) = held_until_get_pending();
    h.service
        .reg
        .delete_execution(&job("job-held"), &thing("dev1"), n(1), true, T0, &mut h.service.sink)
        .unwrap();
    h.service.notifications();
    let replies = h.service.serve(&pending[0].as_transmit());
    h.deliver(replies);
    h.collect();
    let events = h.take_events();
    assert!(
        matches!(events[..], [Ev::Error(AgentError::MessageTooLarge { len })] if len > 1024),
        "{events:?}"
    );
    assert!(h.agent.is_idle());
}

#[test]
fn only_a_plain_agent_whose_describe_went_unanswered_asks_for_the_pending_list() {
    // A namespace agent has no GetPending (SPEC 7.3): its silent describe ends in the error.
    let ns = NamespaceId::new("ns1").unwrap();
    let config = Config { max_attempts: 1, jitter: false, ..Config::DEFAULT };
    let mut h = held_by_big_details(Some(&ns), config, false);
    spend_attempts(&mut h, 3);
    assert_eq!(
        topics(&h.take_sent()),
        ["$aws/things/dev1/jobs/$next/namespace-ns1/get", "$aws/things/dev1/jobs/$next/namespace-ns1/get"]
    );
    assert_eq!(h.take_events(), [Ev::Error(AgentError::RetriesExhausted { last: None })]);
    // A describe that was answered, if only with throttling, reached the device: the list
    // would not help, so the agent gives up with the code.
    let config = Config { max_attempts: 1, jitter: false, ..Config::DEFAULT };
    let mut h = held_by_big_details(None, config, false);
    spend_attempts(&mut h, 1);
    let sent = h.take_sent();
    assert_eq!(topics(&sent), ["$aws/things/dev1/jobs/start-next", "$aws/things/dev1/jobs/$next/get"]);
    let throttled = rejection("RequestThrottled", &sent[1].token(), None);
    h.agent.handle(h.service.now, "$aws/things/dev1/jobs/$next/get/rejected", &throttled).unwrap();
    h.collect();
    assert_eq!(
        h.take_events(),
        [Ev::Error(AgentError::RetriesExhausted { last: Some(ErrorCode::RequestThrottled) })]
    );
    assert!(h.transmit().is_empty());
}
