//! Scenarios of normal runs: subscriptions, jobs in order, duplicate and reused notifications,
//! version mismatches, lost replies, forced cancels and deletions.

use super::*;

#[test]
fn subscriptions_name_notify_next_and_every_reply() {
    let agent: Agent<64> = Agent::new(&thing("dev1"), None, Config::DEFAULT);
    let subs: Vec<String> = agent.subscriptions().map(|s| s.to_string()).collect();
    assert_eq!(
        subs,
        [
            "$aws/things/dev1/jobs/notify-next",
            "$aws/things/dev1/jobs/start-next/accepted",
            "$aws/things/dev1/jobs/start-next/rejected",
            "$aws/things/dev1/jobs/get/accepted",
            "$aws/things/dev1/jobs/get/rejected",
            "$aws/things/dev1/jobs/+/get/accepted",
            "$aws/things/dev1/jobs/+/get/rejected",
            "$aws/things/dev1/jobs/+/update/accepted",
            "$aws/things/dev1/jobs/+/update/rejected",
        ]
    );
    let mut buf = [0; 64];
    for s in agent.subscriptions() {
        assert_eq!(s.write_to(&mut buf).unwrap(), s.to_string());
    }
    let ns = NamespaceId::new("ns1").unwrap();
    let agent: Agent<64> = Agent::new(&thing("dev1"), Some(&ns), Config::DEFAULT);
    let subs: Vec<String> = agent.subscriptions().map(|s| s.to_string()).collect();
    assert_eq!(
        subs,
        [
            "$aws/things/dev1/jobs/notify-next-namespace-ns1",
            "$aws/things/dev1/jobs/+/namespace-ns1/get/accepted",
            "$aws/things/dev1/jobs/+/namespace-ns1/get/rejected",
            "$aws/things/dev1/jobs/+/namespace-ns1/update/accepted",
            "$aws/things/dev1/jobs/+/namespace-ns1/update/rejected",
        ]
    );
    let mut small = [0; 10];
    assert!(agent.subscriptions().nth(1).unwrap().write_to(&mut small).is_err());
}

#[test]
fn normal_run_two_jobs_in_order() {
    let mut h: Harness<256> = Harness::new(&["dev1"]);
    // Connect: StartNext at once, nothing pending yet (R19: no `execution`).
    h.pump();
    let sent = h.take_sent();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].is_start_next());
    assert_eq!(sent[0].token(), "1");
    assert!(h.agent.is_idle());

    // Two jobs queued: notify-next names the first; the agent asks StartNext and runs it.
    h.service.create_job("job-a", r#"{"op":"a"}"#, TargetSelection::Snapshot, &["dev1"]);
    h.service.create_job("job-b", r#"{"op":"b"}"#, TargetSelection::Snapshot, &["dev1"]);
    h.notify();
    h.pump();
    let sent = h.take_sent();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].is_start_next());
    assert_eq!(h.take_events(), [run("job-a", 1, 2, r#"{"op":"a"}"#)]);
    let current = h.agent.job().unwrap();
    assert_eq!((current.job_id.as_str(), current.execution_number, current.version), ("job-a", n(1), v(2)));

    // Progress, then success, each with the version the last reply gave.
    h.report(IN_PROGRESS, &[("step", "download")]);
    let sent = h.take_sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].topic, "$aws/things/dev1/jobs/job-a/update");
    assert_eq!(sent[0].update(), (IN_PROGRESS, Some(2), Some(1), vec![("step".into(), "download".into())]));
    assert!(sent[0].asks_for_state(), "the version comes from the reply's state");
    assert_eq!(h.agent.job().unwrap().version, v(3));
    assert!(h.take_events().is_empty());

    h.report(SUCCEEDED, &[]);
    let sent = h.take_sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0].topic, "$aws/things/dev1/jobs/job-a/update");
    assert_eq!(sent[0].update(), (SUCCEEDED, Some(3), Some(1), vec![]));
    // The next job is asked for at once.
    assert!(sent[1].is_start_next());
    assert_eq!(h.take_events(), [finished("job-a", 1, SUCCEEDED, 4), run("job-b", 1, 2, r#"{"op":"b"}"#)]);

    h.report(SUCCEEDED, &[("result", "ok")]);
    let sent = h.take_sent();
    assert_eq!(sent[0].topic, "$aws/things/dev1/jobs/job-b/update");
    assert_eq!(sent[0].update(), (SUCCEEDED, Some(2), Some(1), vec![("result".into(), "ok".into())]));
    assert!(sent[1].is_start_next());
    assert_eq!(sent.len(), 2);
    assert_eq!(h.take_events(), [finished("job-b", 1, SUCCEEDED, 3)]);
    assert!(h.agent.is_idle());
    assert_eq!(h.agent.poll_timeout(), None);
    // The registry agrees.
    let x = h.service.reg.describe_execution(&job("job-b"), &thing("dev1"), None, Plane::Control).unwrap();
    assert_eq!((x.status(), x.version()), (SUCCEEDED, v(3)));
}

#[test]
fn progress_reports_made_while_one_is_in_flight_are_sent_in_turn() {
    let mut h = running(&["job-a"]);
    h.agent.report(IN_PROGRESS, Some(&StatusDetails::new(&[("pct", "10")]).unwrap())).unwrap();
    let first = h.transmit();
    assert_eq!(first.len(), 1);
    // Two more reports while the first is unanswered: the newer progress replaces the older,
    // and the final one keeps the details of the report it replaced.
    h.agent.report(IN_PROGRESS, Some(&StatusDetails::new(&[("pct", "50")]).unwrap())).unwrap();
    h.agent.report(SUCCEEDED, None).unwrap();
    assert!(h.transmit().is_empty(), "one request at a time");
    assert_eq!(h.agent.report(IN_PROGRESS, None), Err(AgentError::Finishing));
    let replies = h.service.serve(&Transmit { topic: &first[0].topic, payload: &first[0].payload });
    h.deliver(replies);
    h.pump();
    let sent = h.take_sent();
    assert_eq!(sent[0].update().0, IN_PROGRESS);
    assert_eq!(sent[1].update(), (SUCCEEDED, Some(3), Some(1), vec![("pct".into(), "50".into())]));
    assert!(sent[2].is_start_next());
    assert_eq!(h.take_events(), [finished("job-a", 1, SUCCEEDED, 4)]);
}

#[test]
fn duplicate_notify_next_does_not_run_the_job_twice() {
    let mut h: Harness<256> = Harness::new(&["dev1"]);
    h.pump();
    h.take_sent();
    h.service.create_job("job-a", r#"{"op":"a"}"#, TargetSelection::Snapshot, &["dev1"]);
    // Keep the original notification (job-a QUEUED, version 1) to replay it late.
    let original = h.service.notifications();
    h.deliver(original.clone());
    h.pump();
    assert_eq!(h.take_events(), [run("job-a", 1, 2, r#"{"op":"a"}"#)]);
    h.take_sent();
    let before = h.state();

    // The same head again, at the running version: ignored outright.
    let same = {
        let x = h.service.reg.next_pending(&thing("dev1")).unwrap().unwrap();
        h.service.render(&x, true, |e| {
            let mut out = vec![0; 4096];
            let len = NextJobExecutionChanged { timestamp: T0, execution: Some(e) }
                .serialize(&mut out)
                .unwrap()
                .len();
            out.truncate(len);
            out
        })
    };
    h.agent.handle(T0, "$aws/things/dev1/jobs/notify-next", &same).unwrap();
    assert!(h.transmit().is_empty());
    assert_eq!(h.state(), before);

    // The first notification, delivered late (QUEUED, version 1): the agent checks its
    // execution instead of trusting it, finds it still IN_PROGRESS, and carries on.
    h.deliver(original);
    h.pump();
    let sent = h.take_sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].topic, "$aws/things/dev1/jobs/job-a/get");
    assert_eq!(sent[0].describe(), (Some(1), false));
    assert!(h.take_events().is_empty(), "no second Run");
    h.report(SUCCEEDED, &[]);
    assert_eq!(h.take_sent()[0].update(), (SUCCEEDED, Some(2), Some(1), vec![]));
    assert_eq!(h.take_events(), [finished("job-a", 1, SUCCEEDED, 3)]);
}

#[test]
fn reused_execution_number_after_deletion_is_a_new_run() {
    let mut h = running_job_c();
    assert_eq!(h.take_events(), [run("job-c", 1, 2, r#"{"op":"c"}"#)]);
    h.take_sent();

    // The operator deletes the running execution (force), then the thing re-joins the group:
    // the same job comes back with executionNumber 1 (R7: 1 + highest existing) and version 1.
    let (deleted, readded) = h.service.delete_and_rejoin("job-c", "dev1");
    assert_eq!((deleted.len(), readded.len()), (1, 1));
    h.deliver(deleted);
    h.deliver(readded);
    h.pump();

    let sent = h.take_sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    // The agent describes its execution, sees a QUEUED one at version 1 under its number: its own
    // was deleted. It tells the app, asks StartNext and runs the new execution.
    assert_eq!(sent[0].topic, "$aws/things/dev1/jobs/job-c/get");
    assert_eq!(sent[0].describe(), (Some(1), false));
    assert!(sent[1].is_start_next());
    assert_eq!(h.take_events(), lost_then_run_again());
}

#[test]
fn reused_number_notified_alone_while_running_is_checked_then_run() {
    let mut h = running_job_c();
    h.take_events();
    let (_lost_on_the_way, readded) = h.service.delete_and_rejoin("job-c", "dev1");
    h.deliver(readded);
    h.pump();
    assert_eq!(h.take_events(), lost_then_run_again());
}

#[test]
fn a_new_execution_number_of_the_same_job_is_a_new_run() {
    let mut h = running_job_c();
    h.report(ExecutionStatus::Failed, &[("why", "disk")]);
    h.notify();
    // The thing re-joins: execution 2 of the same job (SPEC T13).
    let t = thing("dev1");
    h.service.reg.add_members(&job("job-c"), std::slice::from_ref(&t), T0, &mut h.service.sink).unwrap();
    h.notify();
    h.pump();
    assert_eq!(
        h.take_events(),
        [
            run("job-c", 1, 2, r#"{"op":"c"}"#),
            finished("job-c", 1, ExecutionStatus::Failed, 3),
            run("job-c", 2, 2, r#"{"op":"c"}"#),
        ]
    );
}

#[test]
fn version_mismatch_resyncs_and_retries_with_the_new_version() {
    let mut h = running(&["job-a"]);
    // Someone else updates the execution: version 2 → 3.
    let update = Update {
        status: IN_PROGRESS,
        status_details: None,
        expected_version: None,
        execution_number: None,
        step_timeout: None,
    };
    h.service.reg.update_execution(&job("job-a"), &thing("dev1"), &update, T0, &mut h.service.sink).unwrap();

    h.report(SUCCEEDED, &[]);
    let sent = h.take_sent();
    assert_eq!(sent.len(), 3, "{sent:?}");
    // Rejected with VersionMismatch and executionState {IN_PROGRESS, 3} (SPEC §4.4): resent at once.
    assert_eq!(sent[0].update(), (SUCCEEDED, Some(2), Some(1), vec![]));
    assert_eq!(sent[1].update(), (SUCCEEDED, Some(3), Some(1), vec![]));
    assert_ne!(sent[0].token(), sent[1].token());
    assert!(sent[2].is_start_next());
    assert_eq!(h.take_events(), [finished("job-a", 1, SUCCEEDED, 4)]);
}

#[test]
fn a_lost_reply_is_resent_and_the_rejection_of_the_resend_confirms_it() {
    let mut h = running(&["job-a"]);
    h.agent.report(SUCCEEDED, None).unwrap();
    let first = h.transmit();
    // The service applies it, but the reply never arrives.
    let lost = h.service.serve(&Transmit { topic: &first[0].topic, payload: &first[0].payload });
    assert!(lost[0].topic.ends_with("/update/accepted"));
    let deadline = h.agent.poll_timeout().unwrap();
    assert_eq!(deadline, T0.saturating_add(30));
    h.agent.handle_timeout(Timestamp(deadline.secs() - 1));
    assert!(h.transmit().is_empty());
    h.service.now = deadline;
    h.agent.handle_timeout(deadline);
    h.take_sent();
    h.pump();
    let sent = h.take_sent();
    // The resend meets InvalidStateTransition with executionState SUCCEEDED: its own report.
    assert_eq!(sent[0].update(), (SUCCEEDED, Some(2), Some(1), vec![]));
    assert!(sent[1].is_start_next());
    assert_eq!(h.take_events(), [finished("job-a", 1, SUCCEEDED, 3)]);
    // The late reply of the first attempt is now unsolicited.
    assert_eq!(h.agent.handle(deadline, &lost[0].topic, &lost[0].payload), Err(AgentError::Unsolicited));
}

/// A progress report whose reply was lost is resent; a VersionMismatch whose executionState
/// holds that very status and statusDetails says the first attempt was applied, so it is not
/// sent a third time (which would apply it again, and restart a step timer late). Other
/// statusDetails there are someone else's change: the report is sent again.
#[test]
fn a_progress_report_whose_reply_was_lost_is_applied_once() {
    let more = r#"{"pct":"50","at":"x","by":"another"}"#;
    for (theirs, resent) in [(r#"{"pct":"50","at":"x"}"#, false), (r#"{"pct":"40"}"#, true), (more, true)] {
        let mut h = running(&["job-a"]);
        let details = StatusDetails::new(&[("at", "x"), ("pct", "50")]).unwrap();
        h.agent.report(IN_PROGRESS, Some(&details)).unwrap();
        let first = h.transmit();
        assert_eq!(first[0].update().0, IN_PROGRESS);
        // The reply is lost; after its timeout the report is sent again, with version 2.
        let deadline = h.agent.poll_timeout().unwrap();
        h.agent.handle_timeout(deadline);
        let again = h.transmit();
        assert_eq!((again.len(), again[0].update().1), (1, Some(2)));
        let topic = "$aws/things/dev1/jobs/job-a/update/rejected";
        let refused = format!(
            r#"{{"code":"VersionMismatch","message":"m","clientToken":"{}","timestamp":1,"executionState":{{"status":"IN_PROGRESS","statusDetails":{theirs},"versionNumber":3}}}}"#,
            again[0].token()
        );
        h.agent.handle(deadline, topic, refused.as_bytes()).unwrap();
        let third = h.transmit();
        assert_eq!(third.len(), usize::from(resent), "{theirs}: {third:?}");
        if resent {
            assert_eq!(third[0].update().1, Some(3));
        } else {
            assert_eq!(h.agent.job().unwrap().version, v(3));
            assert!(h.agent.poll_timeout().is_none(), "nothing in flight");
        }
    }
}

#[test]
fn forced_cancel_mid_run_is_reported_on_the_next_update_without_retry() {
    let mut h = running(&["job-a"]);
    h.report(IN_PROGRESS, &[("pct", "40")]);
    h.take_sent();
    // The operator force-cancels; the notification is lost.
    h.deliver_notifications = false;
    h.service.reg.cancel_job(&job("job-a"), true, None, T0, &mut h.service.sink).unwrap();
    h.notify();
    h.report(SUCCEEDED, &[]);
    let sent = h.take_sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0].update(), (SUCCEEDED, Some(3), Some(1), vec![]));
    // InvalidStateTransition with executionState CANCELED: stop, no retry, ask for the next job.
    assert!(sent[1].is_start_next());
    assert_eq!(
        h.take_events(),
        [Ev::Canceled { job: "job-a".into(), number: 1, status: Some(ExecutionStatus::Canceled) }]
    );
    assert_eq!(h.agent.job(), None);
    assert_eq!(h.agent.report(SUCCEEDED, None), Err(AgentError::NoJob));
}

#[test]
fn forced_cancel_noticed_from_notify_next() {
    let mut h = running(&["job-a", "job-b"]);
    h.service.reg.cancel_job(&job("job-a"), true, None, T0, &mut h.service.sink).unwrap();
    h.notify();
    h.pump();
    let sent = h.take_sent();
    // notify-next names job-b: the agent describes job-a, which is terminal (R11:
    // TerminalStateReached), tells the app to stop, and starts job-b.
    assert_eq!(sent[0].topic, "$aws/things/dev1/jobs/job-a/get");
    assert!(sent[1].is_start_next());
    assert_eq!(sent.len(), 2);
    assert_eq!(
        h.take_events(),
        [
            Ev::Canceled { job: "job-a".into(), number: 1, status: None },
            run("job-b", 1, 2, r#"{"op":"job-b"}"#)
        ]
    );
}

#[test]
fn deleted_job_is_lost() {
    let mut h = running(&["job-a"]);
    h.deliver_notifications = false;
    h.service.reg.delete_job(&job("job-a"), true, T0, &mut h.service.sink).unwrap();
    h.notify();
    h.report(IN_PROGRESS, &[]);
    let sent = h.take_sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].update(), (IN_PROGRESS, Some(2), Some(1), vec![]));
    assert!(sent[1].is_start_next());
    assert_eq!(h.take_events(), [lost("job-a", 1, LostReason::Deleted)]);
}

#[test]
fn deleted_job_noticed_from_notify_next() {
    let mut h = running(&["job-a"]);
    h.service.reg.delete_job(&job("job-a"), true, T0, &mut h.service.sink).unwrap();
    h.notify();
    h.pump();
    let sent = h.take_sent();
    assert_eq!(sent[0].topic, "$aws/things/dev1/jobs/job-a/get");
    assert!(sent[1].is_start_next());
    assert_eq!(h.take_events(), [lost("job-a", 1, LostReason::Deleted)]);
}

/// Answers `update` (of `job-a`), force-cancels the job after the update was applied and
/// delivers the cancel's notification before the reply; then runs the agent on.
fn answer_after_a_cancel(h: &mut Harness<256>, update: &Sent) {
    let replies = h.service.serve(&update.as_transmit());
    h.service.reg.cancel_job(&job("job-a"), true, None, T0, &mut h.service.sink).unwrap();
    h.notify();
    h.deliver(replies);
    h.pump();
}

#[test]
fn a_cancel_noticed_while_an_update_is_in_flight_is_checked_after_it() {
    let mut h = running(&["job-a"]);
    h.agent.report(IN_PROGRESS, None).unwrap();
    let update = h.transmit();
    answer_after_a_cancel(&mut h, &update[0]);
    let sent = h.take_sent();
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!(sent[1].topic, "$aws/things/dev1/jobs/job-a/get");
    assert!(sent[2].is_start_next());
    assert_eq!(h.take_events(), [Ev::Canceled { job: "job-a".into(), number: 1, status: None }]);
    assert_eq!(h.agent.job(), None);
}

#[test]
fn a_cancel_noticed_while_a_claim_is_in_flight_is_checked_before_the_run() {
    let mut h = ns1_with_job_a(Config::DEFAULT);
    let describe = h.transmit();
    let replies = h.service.serve(&describe[0].as_transmit());
    h.deliver(replies);
    let claim = h.transmit();
    assert_eq!(claim[0].update().0, IN_PROGRESS);
    answer_after_a_cancel(&mut h, &claim[0]);
    let sent = h.take_sent();
    assert_eq!(sent[2].topic, "$aws/things/dev1/jobs/job-a/namespace-ns1/get", "{sent:?}");
    assert_eq!(sent[3].topic, "$aws/things/dev1/jobs/$next/namespace-ns1/get");
    assert_eq!(sent.len(), 4);
    assert!(h.take_events().is_empty(), "the app never heard of it");
    assert!(h.agent.is_idle());
}

#[test]
fn a_cancel_noticed_while_start_next_is_in_flight_is_checked_before_the_run() {
    let mut h: Harness<256> = Harness::new(&["dev1"]);
    h.pump();
    h.service.create_job("job-a", r#"{"op":"a"}"#, TargetSelection::Snapshot, &["dev1"]);
    h.notify();
    let start = h.transmit();
    assert!(start[0].is_start_next());
    answer_after_a_cancel(&mut h, &start[0]);
    let sent = h.take_sent();
    assert_eq!(sent.len(), 4, "{sent:?}");
    assert_eq!(sent[2].topic, "$aws/things/dev1/jobs/job-a/get");
    assert!(sent[3].is_start_next());
    assert!(h.take_events().is_empty(), "the app never heard of it");
    assert!(h.agent.is_idle());
}

#[test]
fn a_job_noticed_while_start_next_is_in_flight_is_checked_then_run() {
    let mut h: Harness<256> = Harness::new(&["dev1"]);
    let start = h.transmit();
    h.service.create_job("job-a", r#"{"op":"a"}"#, TargetSelection::Snapshot, &["dev1"]);
    h.notify();
    let replies = h.service.serve(&start[0].as_transmit());
    h.deliver(replies);
    h.pump();
    let sent = h.take_sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[1].topic, "$aws/things/dev1/jobs/job-a/get");
    assert_eq!(h.take_events(), [run("job-a", 1, 2, r#"{"op":"a"}"#)]);
}

#[test]
fn progress_reports_set_reset_and_cancel_the_step_timer() {
    let mut h = running(&["job-a"]);
    assert_eq!(h.deadline(), None);
    // SPEC T3, timer-step: an IN_PROGRESS update sets the step timer, resets it, or cancels it.
    h.agent.report_progress(None, StepTimeout::Minutes(5)).unwrap();
    h.pump();
    assert_eq!(h.take_sent()[0].step_timeout(), Some(StepTimeout::Minutes(5)));
    assert_eq!(h.deadline(), Some(T0.saturating_add(300)));
    h.service.now = T0.saturating_add(120);
    h.agent
        .report_progress(Some(&StatusDetails::new(&[("pct", "50")]).unwrap()), StepTimeout::Minutes(5))
        .unwrap();
    h.pump();
    let sent = h.take_sent();
    assert_eq!(sent[0].update(), (IN_PROGRESS, Some(3), Some(1), vec![("pct".into(), "50".into())]));
    assert_eq!(h.deadline(), Some(T0.saturating_add(420)), "reset");
    // A plain progress report leaves the timer as it is.
    h.report(IN_PROGRESS, &[]);
    assert_eq!(h.take_sent()[0].step_timeout(), None);
    assert_eq!(h.deadline(), Some(T0.saturating_add(420)));
    h.agent.report_progress(None, StepTimeout::Cancel).unwrap();
    h.pump();
    assert_eq!(h.take_sent()[0].step_timeout(), Some(StepTimeout::Cancel));
    assert_eq!(h.deadline(), None, "canceled");
}

#[test]
fn a_step_timer_waiting_to_be_sent_outlives_a_newer_progress_report_not_a_final_status() {
    let mut h = running(&["job-a"]);
    h.agent.report(IN_PROGRESS, None).unwrap();
    let first = h.transmit();
    h.agent.report_progress(None, StepTimeout::Minutes(7)).unwrap();
    h.agent.report(IN_PROGRESS, Some(&StatusDetails::new(&[("pct", "10")]).unwrap())).unwrap();
    let replies = h.service.serve(&first[0].as_transmit());
    h.deliver(replies);
    let second = h.transmit();
    assert_eq!(second[0].update().3, [("pct".to_string(), "10".to_string())]);
    assert_eq!(second[0].step_timeout(), Some(StepTimeout::Minutes(7)));
    let replies = h.service.serve(&second[0].as_transmit());
    h.deliver(replies);
    h.agent.report(IN_PROGRESS, None).unwrap();
    let third = h.transmit();
    h.agent.report_progress(None, StepTimeout::Minutes(9)).unwrap();
    h.agent.report(SUCCEEDED, None).unwrap();
    let replies = h.service.serve(&third[0].as_transmit());
    h.deliver(replies);
    let last = h.transmit();
    assert_eq!(last[0].update().0, SUCCEEDED);
    assert_eq!(last[0].step_timeout(), None, "a final status stops every timer");
}

#[test]
fn a_namespace_claim_starts_the_configured_step_timer() {
    let config = Config { step_timeout: Some(TimeoutMinutes::step(15).unwrap()), ..Config::DEFAULT };
    let mut h = ns1_with_job_a(config);
    h.pump();
    let sent = h.take_sent();
    assert_eq!(sent[1].update().0, IN_PROGRESS);
    assert_eq!(sent[1].step_timeout(), Some(StepTimeout::Minutes(15)));
    assert_eq!(h.deadline(), Some(T0.saturating_add(900)));
    assert_eq!(h.take_events(), [run("job-a", 1, 2, r#"{"op":"a"}"#)]);
}

#[test]
fn a_periodic_check_notices_a_forced_cancel_whose_notification_was_lost() {
    let config = Config { check_interval_secs: Some(60), ..Config::DEFAULT };
    let mut h: Harness<256> = Harness::with(&["dev1"], None, config);
    h.service.create_job("job-a", r#"{"op":"a"}"#, TargetSelection::Snapshot, &["dev1"]);
    h.service.notifications();
    h.pump();
    assert_eq!(h.take_events(), [run("job-a", 1, 2, r#"{"op":"a"}"#)]);
    h.take_sent();
    // Due 60 s after the service's last answer.
    check_falls_due_at(&mut h, 60);
    let sent = h.take_sent();
    assert_eq!((sent.len(), sent[0].describe()), (1, (Some(1), false)));
    assert_eq!(h.take_events(), []);
    // Answered: the next check is 60 s after that answer. A report's answer counts too.
    assert_eq!(h.agent.poll_timeout(), Some(T0.saturating_add(120)));
    h.service.now = T0.saturating_add(100);
    h.report(IN_PROGRESS, &[("pct", "10")]);
    h.take_sent();
    assert_eq!(h.agent.poll_timeout(), Some(T0.saturating_add(160)));
    // The operator force-cancels; the notification is lost. The next check finds it.
    h.deliver_notifications = false;
    h.service.reg.cancel_job(&job("job-a"), true, None, h.service.now, &mut h.service.sink).unwrap();
    h.notify();
    h.service.now = T0.saturating_add(160);
    h.agent.handle_timeout(h.service.now);
    h.pump();
    assert_eq!(h.take_events(), [Ev::Canceled { job: "job-a".into(), number: 1, status: None }]);
    // Idle, the agent asks for the next job at the same interval: a job whose notification it
    // never got (lost, or dropped by a client that could not hold it) is found.
    assert!(h.agent.is_idle());
    h.service.create_job("job-b", r#"{"op":"b"}"#, TargetSelection::Snapshot, &["dev1"]);
    h.notify();
    check_falls_due_at(&mut h, 220);
    assert_eq!(h.take_events(), [run("job-b", 1, 2, r#"{"op":"b"}"#)]);
}

/// The agent's check is due at `T0 + secs`, and not a second earlier; then it runs.
fn check_falls_due_at(h: &mut Harness<256>, secs: u64) {
    assert_eq!(h.agent.poll_timeout(), Some(T0.saturating_add(secs)));
    h.service.now = T0.saturating_add(secs - 1);
    h.agent.handle_timeout(h.service.now);
    assert!(h.transmit().is_empty());
    h.service.now = T0.saturating_add(secs);
    h.agent.handle_timeout(h.service.now);
    h.pump();
}

#[test]
fn without_a_check_interval_a_running_job_needs_no_timer() {
    let mut h = running(&["job-a"]);
    assert_eq!(h.agent.poll_timeout(), None);
    h.service.now = T0.saturating_add(86_400);
    h.agent.handle_timeout(h.service.now);
    assert!(h.transmit().is_empty());
    // A final report in flight, then answered: nothing to check either.
    let config = Config { check_interval_secs: Some(0), ..Config::DEFAULT };
    let mut h: Harness<256> = Harness::with(&["dev1"], None, config);
    h.service.create_job("job-a", r#"{"op":"a"}"#, TargetSelection::Snapshot, &["dev1"]);
    h.service.notifications();
    h.pump();
    // 0 counts as 1 s: never a check at once after each answer.
    assert_eq!(h.agent.poll_timeout(), Some(T0.saturating_add(1)));
    h.agent.report(SUCCEEDED, None).unwrap();
    assert_eq!(h.agent.poll_timeout(), None, "a report is due: no check");
}
