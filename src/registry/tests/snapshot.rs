//! Snapshot and restore.

use super::*;

/// A registry with every kind of state: removed things, re-executions, a remembered pair,
/// details, forced cancels, a job being deleted, a completed job.
fn rich(policy: Policy) -> Reg {
    let mut r = reg_with(policy);
    let mut log = Log::default();
    things(&mut r, &["a", "b", "c"]);
    create(&mut r, "done", &["a"], T0, &mut log).unwrap();
    r.update_execution(&j("done"), &t("a"), &update(ExecutionStatus::Succeeded), T0, &mut log).unwrap();
    let id = j("cont");
    r.create_job(&NewJob::new(&id, TargetSelection::Continuous), &[t("a"), t("b")], T0, &mut log).unwrap();
    let p = [("step", "2 of 3"), ("note", "quote \" and \\ slash")];
    let u = Update {
        status_details: Some(&StatusDetails::new(&p).unwrap()),
        ..update(ExecutionStatus::InProgress)
    };
    r.update_execution(&id, &t("a"), &u, T0.saturating_add(1), &mut log).unwrap();
    r.update_execution(&id, &t("b"), &update(ExecutionStatus::Failed), T0, &mut log).unwrap();
    r.add_targets(&id, &[t("b")], T0.saturating_add(2), &mut log).unwrap();
    r.delete_execution(&id, &t("b"), n(2), true, T0, &mut log).unwrap();
    create(&mut r, "gone", &["c", "a"], T0, &mut log).unwrap();
    r.set_deletion_delay(300);
    r.delete_job(&j("gone"), true, T0, &mut log).unwrap();
    create(&mut r, "forced", &["c"], T0, &mut log).unwrap();
    r.update_execution(&j("forced"), &t("c"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    r.cancel_job(&j("forced"), true, Some(&ReasonCode::new("OPS_1").unwrap()), T0, &mut log).unwrap();
    create(&mut r, "last", &["c", "a"], T0.saturating_add(9), &mut log).unwrap();
    r.remove_thing(&t("b"), T0, &mut log).unwrap();
    check(&r);
    r
}

fn json(r: &Reg) -> String {
    serde_json::to_string(&r.snapshot()).unwrap()
}

fn restore(text: &str, policy: Policy) -> Result<Reg, serde_json::Error> {
    Registry::restore(Fixed, policy, &mut serde_json::Deserializer::from_str(text))
}

#[test]
fn round_trip_is_lossless() {
    for policy in [Policy::DEFAULT, Policy { numbering: Numbering::Monotonic, ..Policy::DEFAULT }] {
        let r = rich(policy);
        let first = json(&r);
        let back = restore(&first, policy).unwrap();
        check(&back);
        assert_eq!(json(&back), first);
        assert_eq!(digest(&back), digest(&r));
        for thing in ["a", "b", "c"] {
            assert_eq!(pending_ids(&back, thing), pending_ids(&r, thing), "{thing}");
        }
        assert_eq!(back.next_deadline(), r.next_deadline());
        assert_eq!(back.jobs_deleting(), 1);
        assert_eq!(back.deletion_delay(), 300);
        // Behaviour continues identically: numbering, deletion, notifications.
        let (mut a, mut b) = (r, back);
        let (mut la, mut lb) = (Log::default(), Log::default());
        for (reg, log) in [(&mut a, &mut la), (&mut b, &mut lb)] {
            reg.add_thing(&t("b")).unwrap();
            reg.add_targets(&j("cont"), &[t("b")], T0, log).unwrap();
            reg.advance(T0.saturating_add(300), usize::MAX, log).unwrap();
        }
        assert_eq!(la.0, lb.0);
        assert_eq!(digest(&a), digest(&b));
    }
}

#[test]
fn snapshots_that_do_not_add_up_are_refused() {
    let r = rich(Policy::DEFAULT);
    let good = json(&r);
    let cases = [
        (good.replacen("\"format\":5", "\"format\":6", 1), "unknown format"),
        (good.replacen("\"name\":\"c\"", "\"name\":\"a\"", 1), "listed twice"),
        (good.replacen("\"thing\":\"c\"", "\"thing\":\"zz\"", 1), "unknown thing"),
        (good.replacen("\"deletionDue\":null", "\"deletionDue\":5", 1), "deletionDue"),
        (good.replacen("\"format\":5,\"deletionDelay\"", "\"deletionDelay\"", 1), "expected the field"),
        (good.replacen("\"inProgress\":[[\"cont\",1]]", "\"inProgress\":[]", 1), "pending lists"),
        (good.replacen("[\"step\",\"2 of 3\"]", "[\"st ep\",\"2 of 3\"]", 1), "not allowed"),
        (good.replacen("\"all\":[[\"cont\",1]]", "\"all\":[[\"cont\",1],[\"cont\",1]]", 1), "listed twice"),
        (
            good.replacen(
                "\"id\":\"cont\",\"status\":\"IN_PROGRESS\"",
                "\"id\":\"cont\",\"status\":\"COMPLETED\"",
                1,
            ),
            "execution 1 of job cont on thing a is IN_PROGRESS, which a COMPLETED job cannot hold",
        ),
        // SPEC T8: CancelJob cancels every QUEUED execution, and nothing queues after it.
        (
            good.replacen(
                "\"id\":\"last\",\"status\":\"IN_PROGRESS\"",
                "\"id\":\"last\",\"status\":\"CANCELED\"",
                1,
            ),
            "execution 1 of job last on thing c is QUEUED, which a CANCELED job cannot hold",
        ),
        // SPEC T9: CancelJob with force cancels the IN_PROGRESS ones too.
        (
            good.replacen(
                "\"version\":3,\"status\":\"CANCELED\",\"forceCanceled\":true",
                "\"version\":3,\"status\":\"IN_PROGRESS\",\"forceCanceled\":true",
                1,
            ),
            "execution 1 of job forced on thing c is IN_PROGRESS, which a CANCELED job with forceCanceled cannot hold",
        ),
        (
            good.replacen("\"number\":1,\"version\":2,", "\"number\":1,\"version\":0,", 1),
            "has version 0: execution numbers and versions start at 1",
        ),
        (
            good.replacen("\"number\":1,\"version\":2,", "\"number\":0,\"version\":2,", 1),
            "execution 0 of job done on thing a has version 2: execution numbers and versions start at 1",
        ),
        (
            good.replacen("\"targets\":1,", "\"targets\":2,", 1),
            "job done counts 2 targets, but 1 of its pairs are marked as targets",
        ),
    ];
    for (text, why) in cases {
        assert_ne!(text, good, "the tampering for '{why}' must change the text");
        let err = restore(&text, Policy::DEFAULT).unwrap_err().to_string();
        assert!(err.contains(why), "{why}: got {err}");
    }
    // A table too small for the snapshot is refused, not truncated.
    let small: Result<Registry<Fixed<8, 8, 4, 8, 256, 1024>>, _> =
        Registry::restore(Fixed, Policy::DEFAULT, &mut serde_json::Deserializer::from_str(&good));
    assert!(small.unwrap_err().to_string().contains("full"));
}

#[test]
fn a_snapshot_config_outside_its_ranges_is_refused() {
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["a", "b"]);
    let id = j("paced");
    let config = JobConfig {
        in_progress_timeout_minutes: mins(10),
        maximum_per_minute: per_minute(1),
        ..JobConfig::default()
    };
    r.create_job(
        &NewJob { config, ..NewJob::new(&id, TargetSelection::Snapshot) },
        &[t("a"), t("b")],
        T0,
        &mut log,
    )
    .unwrap();
    let good = json(&r);
    // The shape is the plain numbers (snapshot format unchanged).
    assert!(good.contains("\"in_progress_timeout_minutes\":10,"), "{good}");
    assert!(good.contains("\"maximum_per_minute\":1,"), "{good}");
    assert_eq!(json(&restore(&good, Policy::DEFAULT).unwrap()), good);
    let cases = [
        (
            "\"in_progress_timeout_minutes\":10,",
            "\"in_progress_timeout_minutes\":0,",
            "inProgressTimeoutInMinutes",
        ),
        (
            "\"in_progress_timeout_minutes\":10,",
            "\"in_progress_timeout_minutes\":10081,",
            "inProgressTimeoutInMinutes",
        ),
        ("\"maximum_per_minute\":1,", "\"maximum_per_minute\":0,", "maximumPerMinute"),
    ];
    for (from, to, why) in cases {
        let text = good.replacen(from, to, 1);
        assert_ne!(text, good);
        let err = restore(&text, Policy::DEFAULT).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains(why), "{why}: got {err}");
    }
}

/// A snapshot's retry, abort, schedule and maintenance-window configuration is checked as the
/// constructors check it: a value `new` refuses (200 retries, an end before the start, a cron
/// set no expression makes) was restored as it was, and the registry then acted on it.
#[test]
fn a_snapshot_retry_abort_schedule_or_window_the_constructors_refuse_is_refused() {
    use crate::config::{AbortConfig, AbortCriterion, MaintenanceWindow, MaintenanceWindows};
    use crate::config::{RetryConfig, RetryCriterion, Schedule};
    use crate::cron::Cron;
    use crate::status::{FailureType, JobEndBehavior, RetryableFailureType};
    use std::borrow::ToOwned;
    use std::format;
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["a"]);
    let retry =
        RetryConfig::new(&[RetryCriterion { failure: RetryableFailureType::Failed, retries: 2 }]).unwrap();
    let criterion =
        AbortCriterion { failure: FailureType::Failed, threshold_centipercent: 5000, min_executed: 3 };
    let abort = AbortConfig::new(&[criterion]).unwrap();
    let start = T0.saturating_add(3600);
    let schedule =
        Schedule::new(Some(start), Some((start.saturating_add(7200), JobEndBehavior::Cancel))).unwrap();
    let window = MaintenanceWindow::new(Cron::parse("cron(0 12 ? * MON *)").unwrap(), 60).unwrap();
    let config = JobConfig {
        retry: Some(retry),
        abort: Some(abort),
        schedule: Some(schedule),
        windows: Some(MaintenanceWindows::new(&[window]).unwrap()),
        ..JobConfig::default()
    };
    let id = j("configured");
    r.create_job(&NewJob { config, ..NewJob::new(&id, TargetSelection::Snapshot) }, &[t("a")], T0, &mut log)
        .unwrap();
    let good = json(&r);
    assert_eq!(json(&restore(&good, Policy::DEFAULT).unwrap()), good);
    let end = start.saturating_add(7200).secs();
    let cases = [
        // 200 retries; then a second criterion for the same failure type.
        (r#""failure":"FAILED","retries":2}"#.to_owned(), r#""failure":"FAILED","retries":200}"#.to_owned()),
        (r#""retries":2},null]"#.to_owned(), r#""retries":2},{"failure":"FAILED","retries":1}]"#.to_owned()),
        // No criterion at all; a criterion after an empty slot.
        (
            r#""criteria":[{"failure":"FAILED","retries":2},null]"#.to_owned(),
            r#""criteria":[null,null]"#.to_owned(),
        ),
        (
            r#""criteria":[{"failure":"FAILED","retries":2},null]"#.to_owned(),
            r#""criteria":[null,{"failure":"FAILED","retries":2}]"#.to_owned(),
        ),
        // A threshold above 100 %, none executed.
        (r#""threshold_centipercent":5000"#.to_owned(), r#""threshold_centipercent":65535"#.to_owned()),
        (r#""min_executed":3"#.to_owned(), r#""min_executed":0"#.to_owned()),
        // The end before the start.
        (format!("[{end},"), format!("[{},", start.secs().saturating_sub(1))),
    ];
    for (from, to) in &cases {
        let text = good.replacen(from.as_str(), to, 1);
        assert_ne!(text, good, "{from}");
        let err = restore(&text, Policy::DEFAULT).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(!err.is_empty(), "{to} was restored");
    }
    // No maintenance window, or one after an empty slot.
    let (key, slots) = ("\"windows\":{\"windows\":[", ",null,null,null]");
    let open = good.find(key).unwrap() + key.len() - 1;
    let at = open + good[open..].find(slots).unwrap();
    let window = &good[open + 1..at];
    for to in [String::from("[null,null,null,null]"), format!("[null,{window},null,null]")] {
        let text = format!("{}{to}{}", &good[..open], &good[at + slots.len()..]);
        assert!(restore(&text, Policy::DEFAULT).is_err(), "{to} was restored");
    }
    // A cron set that no expression parses to: empty, or past its field's range.
    let minutes = r#""minutes":[1]"#;
    assert!(good.contains(minutes), "{good}");
    for to in [r#""minutes":[0]"#, r#""minutes":[18446744073709551615]"#] {
        let err = restore(&good.replacen(minutes, to, 1), Policy::DEFAULT).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("no expression parses to")), "{to}");
    }
}

/// AMBIG-34: a schedule time past the last time the registry accepts is refused at restore,
/// as CreateJob refuses it.
#[test]
fn a_snapshot_schedule_past_the_last_time_is_refused() {
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["a"]);
    let id = j("later");
    let start = T0.saturating_add(3600);
    let schedule = Some(crate::config::Schedule::new(Some(start), None).unwrap());
    let config = JobConfig { schedule, ..JobConfig::default() };
    r.create_job(&NewJob { config, ..NewJob::new(&id, TargetSelection::Snapshot) }, &[t("a")], T0, &mut log)
        .unwrap();
    let good = json(&r);
    assert_eq!(json(&restore(&good, Policy::DEFAULT).unwrap()), good);
    let from = std::format!("\"start\":{}", start.secs());
    assert!(good.contains(&from), "{good}");
    for past in [crate::registry::LATEST_TIME.secs() + 1, u64::from(u32::MAX), u64::MAX] {
        let text = good.replacen(&from, &std::format!("\"start\":{past}"), 1);
        let err = restore(&text, Policy::DEFAULT).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("startTime or endTime is past 2106"), "{past}: got {err}");
    }
}

/// Format 5 added maintenance windows and exponential rollouts; a format 4 snapshot (no
/// `windows`, `exponential`, `windowAt` nor `ramp`) still restores, to the same state.
#[test]
fn a_format_4_snapshot_restores() {
    let r = rich(Policy::DEFAULT);
    let good = json(&r);
    let never = std::format!(
        ",\"windowAt\":{},\"ramp\":{{\"rate_milli\":0,\"notified\":0,\"notified_mark\":0,\"succeeded_mark\":0}}",
        u64::MAX
    );
    assert!(good.contains(&never) && good.contains(",\"windows\":null,\"exponential\":null"), "{good}");
    let old = good
        .replacen("\"format\":5", "\"format\":4", 1)
        .replace(&never, "")
        .replace(",\"windows\":null,\"exponential\":null", "");
    let back = restore(&old, Policy::DEFAULT).unwrap();
    check(&back);
    assert_eq!(json(&back), good);
}

/// A snapshot written before the compact layout (u32 numbers, versions and times): the format is
/// a logical record, independent of the layout, so it restores to the same state and is written
/// again byte for byte.
#[test]
fn a_snapshot_from_the_former_layout_restores() {
    let fixture = include_str!("fixtures/snapshot-format5.json");
    for policy in [Policy::DEFAULT, Policy { numbering: Numbering::Monotonic, ..Policy::DEFAULT }] {
        let back = restore(fixture, policy).unwrap();
        check(&back);
        assert_eq!(json(&back), fixture);
        let r = rich(policy);
        assert_eq!(json(&r), fixture, "the same operations give the same snapshot");
        assert_eq!(digest(&back), digest(&r));
    }
}

/// Numbers and versions are stored as `u32`: a snapshot's version at `u32::MAX` restores, and the
/// next bump is refused with `LimitExceeded(Counter)` with nothing changed; a number or version
/// above it is refused at restore, never wrapped; so is an execution's or a job's time that is
/// not exact as u32 seconds.
#[test]
fn counters_and_times_stop_at_u32_max() {
    let good = include_str!("fixtures/snapshot-format5.json");
    let at = "{\"thing\":\"a\",\"number\":1,\"version\":2,\"status\":\"IN_PROGRESS\"";
    assert!(good.contains(at));
    let top = good.replacen(at, &at.replacen("\"version\":2", "\"version\":4294967295", 1), 1);
    let mut r = restore(&top, Policy::DEFAULT).unwrap();
    let before = json(&r);
    let mut log = Log::default();
    let u = update(ExecutionStatus::Succeeded);
    assert_eq!(
        r.update_execution(&j("cont"), &t("a"), &u, T0, &mut log).map(|_| ()),
        Err(Rejection::LimitExceeded(Limit::Counter))
    );
    assert_eq!(json(&r), before, "a refused update changes nothing");
    assert!(log.0.is_empty());
    // Each tampering of one record of the snapshot, and what the refusal says.
    let exec = "\"queuedAt\":1700000000,\"startedAt\":1700000001,\"lastUpdatedAt\":1700000001,\"timeoutAt\":18446744073709551615,\"deadline\":18446744073709551615";
    let job = "\"createdAt\":1700000000,\"lastUpdatedAt\":1700000000,\"completedAt\":1700000000,";
    let pair = "\"pairs\":[[\"a\",1,";
    let (counter, time, job_time) =
        ("above 4294967295", "execution time", "a job's creation, update or completion time");
    let cases = [
        (at, "\"version\":2", "\"version\":4294967296", counter),
        (at, "\"number\":1", "\"number\":4294967296", counter),
        (pair, "1,", "0,", "`highest` of 0"),
        // Execution and job times are u32 seconds: a time that does not fit exactly is refused.
        (exec, "\"queuedAt\":1700000000", "\"queuedAt\":4294967295", time),
        (exec, "\"startedAt\":1700000001", "\"startedAt\":18446744073709551615", time),
        (exec, "\"lastUpdatedAt\":1700000001", "\"lastUpdatedAt\":4294967296", time),
        (exec, "\"deadline\":18446744073709551615", "\"deadline\":4294967295", time),
        (exec, "\"timeoutAt\":18446744073709551615", "\"timeoutAt\":18446744073709551614", time),
        (job, "\"createdAt\":1700000000", "\"createdAt\":4294967295", job_time),
        (job, "\"lastUpdatedAt\":1700000000", "\"lastUpdatedAt\":4294967296", job_time),
        (job, "\"completedAt\":1700000000", "\"completedAt\":18446744073709551615", job_time),
    ];
    for (record, from, to, why) in cases {
        assert!(good.contains(record) && record.contains(from), "{record}");
        let text = good.replacen(record, &record.replacen(from, to, 1), 1);
        let err = restore(&text, Policy::DEFAULT).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains(why), "{to}: {err}");
    }
    // Retry counts are stored in 4 bits: up to `RetryConfig::MAX_TOTAL` (10) restores, past it
    // is refused, never wrapped.
    let attempt = "\"status\":\"IN_PROGRESS\",\"forceCanceled\":false,\"retryAttempt\":0,";
    let retries = "\"pairs\":[[\"a\",1,[0,0]";
    for (record, from, to) in [
        (attempt, "\"retryAttempt\":0", "\"retryAttempt\":11"),
        (attempt, "\"retryAttempt\":0", "\"retryAttempt\":16"),
        (retries, "[0,0]", "[11,0]"),
        (retries, "[0,0]", "[0,16]"),
    ] {
        assert!(good.contains(record) && record.contains(from), "{record}");
        let text = good.replacen(record, &record.replacen(from, to, 1), 1);
        let err = restore(&text, Policy::DEFAULT).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("above 10"), "{to}: {err}");
    }
    let top = good
        .replacen(attempt, &attempt.replacen("\"retryAttempt\":0", "\"retryAttempt\":10", 1), 1)
        .replacen(retries, &retries.replacen("[0,0]", "[4,6]", 1), 1);
    let back = restore(&top, Policy::DEFAULT).unwrap();
    assert_eq!(json(&back), top, "10 and [4, 6] are kept");
    let last = exec.replacen("\"deadline\":18446744073709551615", "\"deadline\":4294967294", 1);
    assert!(restore(&good.replacen(exec, &last, 1), Policy::DEFAULT).is_ok(), "the last exact time restores");
}

/// Within a pair the numbers grow with creation and stay within the pair's `highest` (R7): a
/// pair with a re-execution restores, and one whose numbers go down or pass `highest` does not.
#[test]
fn numbers_within_a_pair_grow_and_stay_within_highest() {
    let mut r = reg();
    let mut log = Log::default();
    things(&mut r, &["a"]);
    let id = j("cont");
    r.create_job(&NewJob::new(&id, TargetSelection::Continuous), &[t("a")], T0, &mut log).unwrap();
    r.update_execution(&id, &t("a"), &update(ExecutionStatus::Failed), T0, &mut log).unwrap();
    r.add_targets(&id, &[t("a")], T0, &mut log).unwrap();
    let good = json(&r);
    assert!(good.contains("\"pairs\":[[\"a\",2,"), "{good}");
    assert_eq!(json(&restore(&good, Policy::DEFAULT).unwrap()), good);
    let swapped = good
        .replacen("\"number\":1,", "\"number\":9,", 1)
        .replacen("\"number\":2,", "\"number\":1,", 1)
        .replacen("\"number\":9,", "\"number\":2,", 1);
    let low_highest = good.replacen("\"pairs\":[[\"a\",2,", "\"pairs\":[[\"a\",1,", 1);
    for bad in [swapped, low_highest] {
        assert_ne!(bad, good);
        let err = restore(&bad, Policy::DEFAULT).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("must grow and stay within"), "{err}");
    }
}
