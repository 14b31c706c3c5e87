//! Time: timeouts, retries, rollout pacing, maintenance windows and the exponential ramp through
//! the manual clock.

use super::*;

#[tokio::test]
async fn timeouts_retries_and_pacing_follow_the_clock() {
    let e = emu().await;
    for t in ["t1", "t2"] {
        e.thing(t).await;
    }
    let cfg = json!({"timeoutConfig": {"inProgressTimeoutInMinutes": 2},
        "jobExecutionsRetryConfig": {"criteriaList": [{"failureType": "ALL", "numberOfRetries": 1}]}});
    e.job("j1", &["t1"], cfg).await.ok();
    e.data("PUT", "/things/t1/jobs/$next", Some(json!({}))).await.ok();
    let x = e.ctl("GET", "/things/t1/jobs/j1", None).await.ok();
    assert_eq!(x["execution"]["approximateSecondsBeforeTimedOut"], 120);
    e.advance(100).await;
    let x = e.data("GET", "/things/t1/jobs/j1", None).await.ok();
    assert_eq!(x["execution"]["approximateSecondsBeforeTimedOut"], 20);
    e.advance(20).await;
    let first = e.ctl("GET", "/things/t1/jobs/j1?executionNumber=1", None).await.ok();
    assert_eq!(first["execution"]["status"], "TIMED_OUT");
    assert!(first["execution"].get("approximateSecondsBeforeTimedOut").is_none());
    let retry = e.ctl("GET", "/things/t1/jobs/j1", None).await.ok();
    assert_eq!(
        (retry["execution"]["executionNumber"].as_u64(), retry["execution"]["status"].as_str()),
        (Some(2), Some("QUEUED"))
    );
    let list = e.ctl("GET", "/jobs/j1/things?status=QUEUED", None).await.ok();
    assert_eq!(list["executionSummaries"][0]["jobExecutionSummary"]["retryAttempt"], 1);
    // Paced rollout: one execution a minute.
    e.job("paced", &["t1", "t2"], json!({"jobExecutionsRolloutConfig": {"maximumPerMinute": 1}})).await.ok();
    let n = |v: Value| v["executionSummaries"].as_array().map_or(0, Vec::len);
    assert_eq!(n(e.ctl("GET", "/jobs/paced/things", None).await.ok()), 1);
    e.advance(60).await;
    assert_eq!(n(e.ctl("GET", "/jobs/paced/things", None).await.ok()), 2);
}

#[tokio::test]
async fn a_continuous_job_on_an_empty_group_rolls_out_to_members_that_join_later() {
    let e = emu().await;
    e.thing("t1").await;
    e.ctl("POST", "/thing-groups/empty", Some(json!({}))).await.ok();
    e.job("c1", &["group:empty"], json!({"targetSelection": "CONTINUOUS"})).await.ok();
    assert_eq!(e.job_status("c1").await, "IN_PROGRESS");
    // A SNAPSHOT job on an empty group has nothing to do: it completes at once.
    e.job("s1", &["group:empty"], json!({})).await.ok();
    assert_eq!(e.job_status("s1").await, "COMPLETED");
    e.join("empty", "t1").await;
    assert_eq!(e.exec_status("t1", "c1").await, "QUEUED");
}

#[tokio::test]
async fn update_job_changes_configuration_for_executions_not_yet_started() {
    let e = emu().await;
    for t in ["t1", "t2"] {
        e.thing(t).await;
    }
    e.job("j1", &["t1", "t2"], json!({"timeoutConfig": {"inProgressTimeoutInMinutes": 10}})).await.ok();
    e.update("t1", "j1", json!({"status": "IN_PROGRESS"})).await.ok();
    // AMBIG-15: a new timeout applies to executions that have not started.
    let body = json!({"timeoutConfig": {"inProgressTimeoutInMinutes": 1}, "description": "shorter"});
    e.ctl("PATCH", "/jobs/j1", Some(body)).await.ok();
    e.update("t2", "j1", json!({"status": "IN_PROGRESS"})).await.ok();
    e.advance(60).await;
    assert_eq!(e.exec_status("t2", "j1").await, "TIMED_OUT");
    assert_eq!(e.exec_status("t1", "j1").await, "IN_PROGRESS");
    let d = e.ctl("GET", "/jobs/j1", None).await.ok();
    assert_eq!(d["job"]["description"], "shorter");
    assert_eq!(d["job"]["timeoutConfig"]["inProgressTimeoutInMinutes"], 1);
    // Invalid values and members UpdateJob does not have are refused.
    let bad = json!({"timeoutConfig": {"inProgressTimeoutInMinutes": 0}});
    e.ctl("PATCH", "/jobs/j1", Some(bad)).await.err(400, "InvalidRequestException");
    let sched = json!({"schedulingConfig": {"startTime": "2030-01-01T00:00"}});
    e.ctl("PATCH", "/jobs/j1", Some(sched)).await.err(400, "InvalidRequestException");
    e.ctl("PATCH", "/jobs/nope", Some(json!({"description": "x"})))
        .await
        .err(404, "ResourceNotFoundException");
}

/// Maintenance windows open and close with the manual clock (SPEC §2, AMBIG-28): SCHEDULED and
/// nothing pending between windows, IN_PROGRESS with the executions pending inside one.
#[tokio::test]
async fn maintenance_windows_open_and_close_with_the_manual_clock() {
    let e = emu().await;
    e.thing("t1").await;
    e.thing("t2").await;
    // Hourly windows of 10 minutes, at :00. Start outside one.
    let mut now = e.advance(0).await;
    if now % 3600 < 600 {
        now = e.advance(600 - now % 3600).await;
    }
    let windows = json!({"schedulingConfig": {"maintenanceWindows": [
        {"startTime": "cron(0 * * * ? *)", "durationInMinutes": 10}]}});
    e.job("w", &["t1", "t2"], windows).await.ok();
    assert_eq!(e.job_status("w").await, "SCHEDULED");
    assert_eq!(e.queued("t1").await, 0);
    let d = e.ctl("GET", "/jobs/w", None).await.ok();
    let opens = now - now % 3600 + 3600;
    let rollouts = d["job"]["scheduledJobRollouts"].as_array().unwrap().clone();
    assert_eq!(rollouts.len(), 7);
    let first = rollouts[0]["startTime"].as_str().unwrap();
    assert_eq!(iot_jobs_emulator::wire::parse_date_time(first), Some(opens), "{first}");
    let second = rollouts[1]["startTime"].as_str().unwrap();
    assert_eq!(iot_jobs_emulator::wire::parse_date_time(second), Some(opens + 3600), "{second}");
    assert_eq!(d["job"]["schedulingConfig"]["maintenanceWindows"][0]["durationInMinutes"], 10);
    // Into the window: IN_PROGRESS, both executions pending.
    e.advance(opens - now).await;
    assert_eq!(e.job_status("w").await, "IN_PROGRESS");
    assert_eq!((e.queued("t1").await, e.queued("t2").await), (1, 1));
    e.update("t1", "w", json!({"status": "IN_PROGRESS"})).await.ok();
    // Out of it: SCHEDULED; the QUEUED execution leaves the list, the running one goes on.
    e.advance(600).await;
    assert_eq!(e.job_status("w").await, "SCHEDULED");
    assert_eq!(e.queued("t2").await, 0);
    assert_eq!(e.exec_status("t2", "w").await, "QUEUED");
    let t1 = e.data("GET", "/things/t1/jobs", None).await.ok();
    assert_eq!(t1["inProgressJobs"][0]["jobId"], "w");
    e.update("t1", "w", json!({"status": "SUCCEEDED"})).await.ok();
    // The next window lists it again.
    e.advance(3000).await;
    assert_eq!(e.job_status("w").await, "IN_PROGRESS");
    assert_eq!(e.queued("t2").await, 1);
    // More windows than a job keeps, or a bad expression: 400, nothing created.
    let five: Vec<Value> = (0..5)
        .map(|i| json!({"startTime": format!("cron({i} 2 * * ? *)"), "durationInMinutes": 5}))
        .collect();
    let got = e.job("w5", &["t1"], json!({"schedulingConfig": {"maintenanceWindows": five}})).await;
    got.err(400, "InvalidRequestException");
    assert!(got.message().contains("maintenanceWindows"), "{got:?}");
    let bad = json!({"schedulingConfig": {"maintenanceWindows": [{"startTime": "cron(0 2 * * * *)", "durationInMinutes": 5}]}});
    let got = e.job("wb", &["t1"], bad).await;
    got.err(400, "InvalidRequestException");
    assert!(
        got.message().contains("maintenanceWindows.startTime") && got.message().contains("position"),
        "{got:?}"
    );
    e.ctl("GET", "/jobs/w5", None).await.err(404, "ResourceNotFoundException");
}

/// An exponential rollout (SPEC §6 Rollout, AMBIG-29): base 1, doubled each time another 2
/// things were notified, capped by `maximumPerMinute` 3; a bad factor is a 400.
#[tokio::test]
async fn an_exponential_rollout_ramps_up_with_the_manual_clock() {
    let e = emu().await;
    let things = e.things("x", 8).await;
    let targets: Vec<&str> = things.iter().map(String::as_str).collect();
    let rollout = json!({"jobExecutionsRolloutConfig": {"maximumPerMinute": 3, "exponentialRate": {
        "baseRatePerMinute": 1, "incrementFactor": 2.0, "rateIncreaseCriteria": {"numberOfNotifiedThings": 2}}}});
    e.job("exp", &targets, rollout).await.ok();
    let mut seen = vec![e.executions("exp").await];
    for _ in 0..4 {
        e.advance(60).await;
        seen.push(e.executions("exp").await);
    }
    assert_eq!(seen, [1, 2, 4, 7, 8]);
    let d = e.ctl("GET", "/jobs/exp", None).await.ok();
    assert_eq!(d["job"]["jobExecutionsRolloutConfig"]["exponentialRate"]["incrementFactor"], 2.0);
    let bad = json!({"jobExecutionsRolloutConfig": {"exponentialRate": {
        "baseRatePerMinute": 1, "incrementFactor": 1.0, "rateIncreaseCriteria": {"numberOfSucceededThings": 1}}}});
    let got = e.job("bad", &targets, bad).await;
    got.err(400, "InvalidRequestException");
    assert!(got.message().contains("incrementFactor"), "{got:?}");
}

/// The queuedAt of each execution of `job`, earliest first, as offsets from `from`.
async fn queued_offsets(e: &Emu, job: &str, from: u64) -> Vec<u64> {
    let got = e.ctl("GET", &format!("/jobs/{job}/things"), None).await.ok();
    let mut at: Vec<u64> = got["executionSummaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["jobExecutionSummary"]["queuedAt"].as_u64().unwrap() - from)
        .collect();
    at.sort_unstable();
    at
}

/// One long clock advance steps through every instant something falls due: each batch of a
/// paced or exponential rollout arms the next one from its own minute, so an hour releases
/// them all, each stamped with its minute.
#[tokio::test]
async fn one_long_advance_releases_every_rollout_batch_at_its_minute() {
    let e = emu().await;
    let things = e.things("r", 10).await;
    let targets: Vec<&str> = things.iter().map(String::as_str).collect();
    let start = e.advance(0).await;
    e.job("paced", &targets, json!({"jobExecutionsRolloutConfig": {"maximumPerMinute": 2}})).await.ok();
    e.advance(3600).await;
    assert_eq!(queued_offsets(&e, "paced", start).await, [0, 0, 60, 60, 120, 120, 180, 180, 240, 240]);
    // The exponential ramp of `an_exponential_rollout_ramps_up_with_the_manual_clock`, in one go.
    let start = e.advance(0).await;
    let rollout = json!({"jobExecutionsRolloutConfig": {"maximumPerMinute": 3, "exponentialRate": {
        "baseRatePerMinute": 1, "incrementFactor": 2.0, "rateIncreaseCriteria": {"numberOfNotifiedThings": 2}}}});
    e.job("exp", &targets[..8], rollout).await.ok();
    e.advance(3600).await;
    assert_eq!(queued_offsets(&e, "exp", start).await, [0, 60, 120, 120, 180, 180, 180, 240]);
}

/// A timeout that falls due inside a long advance is stamped when it was due, and so is the
/// retry it makes, not with the end of the advance.
#[tokio::test]
async fn a_timeout_inside_a_long_advance_is_stamped_when_it_was_due() {
    let e = emu().await;
    e.thing("t1").await;
    let cfg = json!({"timeoutConfig": {"inProgressTimeoutInMinutes": 5},
        "jobExecutionsRetryConfig": {"criteriaList": [{"failureType": "TIMED_OUT", "numberOfRetries": 1}]}});
    e.job("j1", &["t1"], cfg).await.ok();
    let started = e.advance(0).await;
    e.update("t1", "j1", json!({"status": "IN_PROGRESS"})).await.ok();
    assert_eq!(e.advance(3600).await, started + 3600);
    let first = e.ctl("GET", "/things/t1/jobs/j1?executionNumber=1", None).await.ok();
    assert_eq!(first["execution"]["status"], "TIMED_OUT");
    assert_eq!(first["execution"]["lastUpdatedAt"].as_u64(), Some(started + 300));
    let retry = e.ctl("GET", "/things/t1/jobs/j1?executionNumber=2", None).await.ok();
    assert_eq!(retry["execution"]["status"], "QUEUED");
    assert_eq!(retry["execution"]["queuedAt"].as_u64(), Some(started + 300));
    assert_eq!(retry["execution"]["lastUpdatedAt"].as_u64(), Some(started + 300));
}

/// `isConcurrent` (SPEC job facts): true while the job has targets left to roll out, in
/// DescribeJob and ListJobs alike; false once the rollout reached them all.
#[tokio::test]
async fn is_concurrent_while_the_rollout_has_targets_left() {
    let e = emu().await;
    for t in ["t1", "t2", "t3"] {
        e.thing(t).await;
    }
    let concurrent = |job: &'static str| {
        let e = &e;
        async move {
            let d = e.ctl("GET", &format!("/jobs/{job}"), None).await.ok();
            let list = e.ctl("GET", "/jobs", None).await.ok();
            let listed = list["jobs"].as_array().unwrap().iter().find(|j| j["jobId"] == job).unwrap().clone();
            assert_eq!(d["job"]["isConcurrent"], listed["isConcurrent"], "{job}");
            d["job"]["isConcurrent"].as_bool().unwrap()
        }
    };
    e.job("paced", &["t1", "t2", "t3"], json!({"jobExecutionsRolloutConfig": {"maximumPerMinute": 1}}))
        .await
        .ok();
    e.job("all", &["t1", "t2", "t3"], json!({})).await.ok();
    let now = e.advance(0).await;
    let later = iot_jobs_emulator::wire::format_date_time(now - now % 60 + 3600);
    e.job("later", &["t1"], json!({"schedulingConfig": {"startTime": later}})).await.ok();
    assert!(concurrent("paced").await);
    assert!(!concurrent("all").await);
    assert!(concurrent("later").await);
    e.advance(60).await;
    assert!(concurrent("paced").await);
    e.advance(60).await;
    assert_eq!(e.executions("paced").await, 3);
    assert!(!concurrent("paced").await);
    e.advance(3600).await;
    assert_eq!(e.job_status("later").await, "IN_PROGRESS");
    assert!(!concurrent("later").await);
    // Canceled with targets left: nothing more rolls out.
    e.job("stopped", &["t1", "t2"], json!({"jobExecutionsRolloutConfig": {"maximumPerMinute": 1}}))
        .await
        .ok();
    assert!(concurrent("stopped").await);
    e.ctl("PUT", "/jobs/stopped/cancel", Some(json!({}))).await.ok();
    assert!(!concurrent("stopped").await);
    // Deleted after a delay: its executions are still to be removed.
    let d = start(|c| c.deletion_delay = 3600).await;
    d.thing("t1").await;
    d.job("gone", &["t1"], json!({})).await.ok();
    d.ctl("DELETE", "/jobs/gone?force=true", None).await.ok();
    let got = d.ctl("GET", "/jobs/gone", None).await.ok();
    assert_eq!(
        (&got["job"]["status"], &got["job"]["isConcurrent"]),
        (&json!("DELETION_IN_PROGRESS"), &json!(true))
    );
}

/// `scheduledJobRollouts` (SPEC AMBIG-28) lists only window starts that can roll out: from
/// `startTime` on (not the windows before it) and before `endTime`.
#[tokio::test]
async fn scheduled_job_rollouts_lie_between_start_and_end_time() {
    let e = emu().await;
    e.thing("t1").await;
    let now = e.advance(0).await;
    // Hourly windows; the job starts 3 hours on the hour from now, ends 3 hours later.
    let start = now - now % 3600 + 3 * 3600;
    let fmt = iot_jobs_emulator::wire::format_date_time;
    let windows = json!([{"startTime": "cron(0 * * * ? *)", "durationInMinutes": 10}]);
    let cfg = json!({"schedulingConfig": {"startTime": fmt(start), "endTime": fmt(start + 3 * 3600),
        "maintenanceWindows": windows}});
    e.job("w", &["t1"], cfg).await.ok();
    let listed = |d: &Value| -> Vec<u64> {
        d["job"]["scheduledJobRollouts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| iot_jobs_emulator::wire::parse_date_time(r["startTime"].as_str().unwrap()).unwrap())
            .collect()
    };
    let d = e.ctl("GET", "/jobs/w", None).await.ok();
    assert_eq!(listed(&d), [start, start + 3600, start + 7200]);
    // Inside the schedule, from the current time on.
    e.advance(start + 600 - now).await;
    let d = e.ctl("GET", "/jobs/w", None).await.ok();
    assert_eq!(listed(&d), [start + 3600, start + 7200]);
    // Without an end: 7 starts, the first at startTime.
    let cfg = json!({"schedulingConfig": {"startTime": fmt(start + 3600), "maintenanceWindows": windows}});
    e.job("open", &["t1"], cfg).await.ok();
    let d = e.ctl("GET", "/jobs/open", None).await.ok();
    let want: Vec<u64> = (1..8).map(|i| start + i * 3600).collect();
    assert_eq!(listed(&d), want);
}
