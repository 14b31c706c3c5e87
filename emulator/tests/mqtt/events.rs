//! The job and job-execution events (`$aws/events/job/…`, `$aws/events/jobExecution/…`): when
//! they are published and what their payloads carry, field for field as the Developer Guide's
//! *Jobs events* page shows them.

use super::*;

/// An emulator with a broker, the manual clock and a deletion delay of `deletion_delay` seconds.
async fn emu_deleting_after(deletion_delay: u64) -> Emu {
    emu_deleting_after_with(deletion_delay, None).await
}

/// The same, with `state` as its state file.
async fn emu_deleting_after_with(deletion_delay: u64, state: Option<&std::path::Path>) -> Emu {
    start(|c| {
        c.deletion_delay = deletion_delay;
        c.state_file = state.map(std::path::Path::to_path_buf);
    })
    .await
}

impl Client {
    /// Nothing on `topic` arrives within `ms` milliseconds, sending nothing meanwhile (so no
    /// request of this client's makes the emulator act).
    async fn quiet_on(&mut self, topic: &str, ms: u64) {
        assert!(self.stash.iter().all(|p| p.topic != topic), "{topic} came");
        let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
        while let Ok(Some(p)) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            assert_ne!(p.topic, topic, "{topic} came");
            self.stash.push(p);
        }
    }
}

/// A subscriber on `$aws/events/job/+/+`, its subscription in place.
async fn job_events(emu: &Emu, id: &str) -> Client {
    let mut c = connect(id, emu.mqtt).await;
    c.sub("$aws/events/job/+/+").await;
    c.drain().await;
    c
}

/// The payload's field names, sorted.
fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

/// `names`, sorted.
fn sorted(names: &[&str]) -> Vec<String> {
    let mut k: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
    k.sort();
    k
}

/// The fields every job event has (DG-EVT), with `more`.
fn job_fields(more: &[&str]) -> Vec<String> {
    let mut all = vec![
        "eventType",
        "eventId",
        "timestamp",
        "operation",
        "jobId",
        "status",
        "targetSelection",
        "targets",
        "description",
        "createdAt",
        "lastUpdatedAt",
    ];
    all.extend_from_slice(more);
    sorted(&all)
}

/// A job event's common values: `op` on `job`, announced as `status`, published at `now`.
fn assert_job_event(ev: &Value, job: &str, op: &str, status: &str, now: u64) {
    assert_eq!(ev["eventType"], "JOB", "{ev}");
    assert_eq!(ev["operation"], op, "{ev}");
    assert_eq!(ev["jobId"], job, "{ev}");
    assert_eq!(ev["status"], status, "{ev}");
    assert_eq!(ev["timestamp"], now, "{ev}");
    // A version 4 UUID in form (its variant 1), as AWS's are.
    let id = ev["eventId"].as_str().unwrap();
    let groups: Vec<&str> = id.split('-').collect();
    assert_eq!(groups.iter().map(|g| g.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12], "{ev}");
    assert!(id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()), "{ev}");
    assert!(groups[2].starts_with('4') && "89ab".contains(&groups[3][..1]), "{ev}");
}

impl Emu {
    async fn now(&self) -> u64 {
        self.ctl("GET", "/_emulator/clock", json!({})).await["now"].as_u64().unwrap()
    }
    /// A SNAPSHOT job with a description on `things`; returns its creation time.
    async fn create_described_job(&self, job: &str, things: &[&str]) -> u64 {
        for t in things {
            self.ctl("POST", &format!("/things/{t}"), json!({})).await;
        }
        let targets: Vec<String> = things.iter().map(|t| format!("{ARN}:thing/{t}")).collect();
        let body = json!({"targets": targets, "document": "{}", "description": "My job description"});
        self.ctl("PUT", &format!("/jobs/{job}"), body).await;
        self.now().await
    }
}

#[tokio::test]
async fn the_completed_event_has_the_fields_of_the_events_page() {
    let emu = emu().await;
    let created = emu.create_described_job("ev-done", &["dev-c1"]).await;
    let mut events = job_events(&emu, "rules-c").await;
    let mut dev = connect("dev-c1", emu.mqtt).await;
    emu.advance(7).await;
    let (ok, got) = dev.request("$aws/things/dev-c1/jobs/start-next", "{}").await;
    assert!(ok, "{got}");
    emu.advance(5).await;
    let (ok, got) = dev.request("$aws/things/dev-c1/jobs/ev-done/update", r#"{"status":"SUCCEEDED"}"#).await;
    assert!(ok, "{got}");
    let now = emu.now().await;
    let ev = events.json_on("$aws/events/job/ev-done/completed").await;
    assert_eq!(keys(&ev), job_fields(&["completedAt", "jobProcessDetails"]), "{ev}");
    assert_job_event(&ev, "ev-done", "completed", "COMPLETED", now);
    assert_eq!(ev["targetSelection"], "SNAPSHOT");
    assert_eq!(ev["targets"], json!([format!("{ARN}:thing/dev-c1")]));
    assert_eq!(ev["description"], "My job description");
    // Times in milliseconds, as the page's example gives them.
    assert_eq!(ev["createdAt"], created * 1000);
    assert_eq!(ev["lastUpdatedAt"], now * 1000);
    assert_eq!(ev["completedAt"], now * 1000);
    assert_eq!(
        ev["jobProcessDetails"],
        json!({"numberOfCanceledThings": 0, "numberOfRejectedThings": 0, "numberOfFailedThings": 0,
               "numberOfRemovedThings": 0, "numberOfSucceededThings": 1})
    );
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_cancellation_events_have_the_fields_of_the_events_page() {
    let emu = emu().await;
    let created = emu.create_described_job("ev-cancel", &["dev-k1"]).await;
    let mut events = job_events(&emu, "rules-k").await;
    emu.advance(9).await;
    let now = emu.now().await;
    let body = json!({"comment": "Comment for this operation", "reasonCode": "BAD_FIRMWARE"});
    emu.ctl("PUT", "/jobs/ev-cancel/cancel?force=true", body).await;
    let ev = events.json_on("$aws/events/job/ev-cancel/cancellation_in_progress").await;
    assert_eq!(keys(&ev), job_fields(&["comment"]), "{ev}");
    assert_job_event(&ev, "ev-cancel", "cancellation_in_progress", "CANCELLATION_IN_PROGRESS", now);
    assert_eq!(ev["comment"], "Comment for this operation");
    assert_eq!(ev["targetSelection"], "SNAPSHOT");
    assert_eq!(ev["targets"], json!([format!("{ARN}:thing/dev-k1")]));
    assert_eq!(ev["description"], "My job description");
    assert_eq!(ev["createdAt"], created * 1000);
    assert_eq!(ev["lastUpdatedAt"], now * 1000);
    let ev = events.json_on("$aws/events/job/ev-cancel/canceled").await;
    // No comment, no completedAt (the page's example has neither).
    assert_eq!(keys(&ev), job_fields(&[]), "{ev}");
    assert_job_event(&ev, "ev-cancel", "canceled", "CANCELED", now);
    assert_eq!(ev["description"], "My job description");
    assert_eq!(ev["createdAt"], created * 1000);
    assert_eq!(ev["lastUpdatedAt"], now * 1000);
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_deletion_events_have_the_fields_of_the_events_page() {
    let emu = emu_deleting_after(30).await;
    let created = emu.create_described_job("ev-del", &["dev-x1"]).await;
    let mut events = job_events(&emu, "rules-x").await;
    emu.advance(3).await;
    let body = json!({"comment": "Comment for this operation"});
    emu.ctl("PUT", "/jobs/ev-del/cancel?force=true", body).await;
    emu.advance(4).await;
    let deleting = emu.now().await;
    emu.ctl("DELETE", "/jobs/ev-del?force=true", json!({})).await;
    let ev = events.json_on("$aws/events/job/ev-del/deletion_in_progress").await;
    assert_eq!(keys(&ev), job_fields(&["comment"]), "{ev}");
    assert_job_event(&ev, "ev-del", "deletion_in_progress", "DELETION_IN_PROGRESS", deleting);
    assert_eq!(ev["comment"], "Comment for this operation");
    assert_eq!(ev["targetSelection"], "SNAPSHOT");
    assert_eq!(ev["targets"], json!([format!("{ARN}:thing/dev-x1")]));
    assert_eq!(ev["createdAt"], created * 1000);
    assert_eq!(ev["lastUpdatedAt"], deleting * 1000);
    emu.advance(30).await;
    let ev = events.json_on("$aws/events/job/ev-del/deleted").await;
    // The job is gone from the registry: the event still reports it as it was.
    assert_eq!(keys(&ev), job_fields(&["comment"]), "{ev}");
    assert_job_event(&ev, "ev-del", "deleted", "DELETED", deleting + 30);
    assert_eq!(ev["comment"], "Comment for this operation");
    assert_eq!(ev["targetSelection"], "SNAPSHOT");
    assert_eq!(ev["targets"], json!([format!("{ARN}:thing/dev-x1")]));
    assert_eq!(ev["description"], "My job description");
    assert_eq!(ev["createdAt"], created * 1000);
    assert_eq!(ev["lastUpdatedAt"], deleting * 1000);
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_job_without_description_or_comment_has_neither_in_its_events() {
    let emu = emu().await;
    emu.create_job("ev-bare", &["dev-b1"]).await;
    let mut events = job_events(&emu, "rules-b").await;
    emu.ctl("PUT", "/jobs/ev-bare/cancel?force=true", json!({})).await;
    let ev = events.json_on("$aws/events/job/ev-bare/cancellation_in_progress").await;
    let mut want = job_fields(&[]);
    want.retain(|k| k != "description");
    assert_eq!(keys(&ev), want, "{ev}");
    emu.ctl("DELETE", "/jobs/ev-bare?force=true", json!({})).await;
    let ev = events.json_on("$aws/events/job/ev-bare/deleted").await;
    assert_eq!(keys(&ev), want, "{ev}");
    emu.server.shutdown().await.unwrap();
}

/// The fields of every job-execution event (DG-EVT).
fn execution_fields() -> Vec<String> {
    sorted(&[
        "eventType",
        "eventId",
        "timestamp",
        "operation",
        "jobId",
        "thingArn",
        "status",
        "statusDetails",
    ])
}

#[tokio::test]
async fn job_execution_events_have_the_fields_of_the_events_page() {
    let emu = emu().await;
    emu.create_job("ev-x", &["dev-e1", "dev-e2", "dev-e3"]).await;
    let mut events = connect("rules-e", emu.mqtt).await;
    events.sub("$aws/events/jobExecution/+/+").await;
    events.drain().await;
    let mut dev = connect("dev-e1", emu.mqtt).await;
    let update = r#"{"status":"FAILED","statusDetails":{"step":"flash"}}"#;
    let (ok, got) = dev.request("$aws/things/dev-e1/jobs/ev-x/update", update).await;
    assert!(ok, "{got}");
    let now = emu.now().await;
    let ev = events.json_on("$aws/events/jobExecution/ev-x/failed").await;
    assert_eq!(keys(&ev), execution_fields(), "{ev}");
    assert_eq!(ev["eventType"], "JOB_EXECUTION");
    assert_eq!(ev["operation"], "failed");
    assert_eq!(ev["jobId"], "ev-x");
    assert_eq!(ev["thingArn"], format!("{ARN}:thing/dev-e1"));
    assert_eq!(ev["status"], "FAILED");
    assert_eq!(ev["statusDetails"], json!({"step": "flash"}));
    assert_eq!(ev["timestamp"], now);
    // DeleteJobExecution: the execution is gone when its event is rendered; the event reports
    // it as it was.
    emu.ctl("DELETE", "/things/dev-e1/jobs/ev-x/executionNumber/1", json!({})).await;
    let ev = events.json_on("$aws/events/jobExecution/ev-x/deleted").await;
    assert_eq!(keys(&ev), execution_fields(), "{ev}");
    assert_eq!(ev["operation"], "deleted");
    assert_eq!(ev["thingArn"], format!("{ARN}:thing/dev-e1"));
    assert_eq!((&ev["status"], &ev["statusDetails"]), (&json!("FAILED"), &json!({"step": "flash"})));
    // CancelJob: the pending executions' `canceled` events.
    emu.ctl("PUT", "/jobs/ev-x/cancel?force=true", json!({})).await;
    let ev = events.json_on("$aws/events/jobExecution/ev-x/canceled").await;
    assert_eq!(keys(&ev), execution_fields(), "{ev}");
    assert_eq!(ev["status"], "CANCELED");
    // DeleteJob: each execution's `deleted` event, rendered after the registry dropped them.
    emu.ctl("DELETE", "/jobs/ev-x?force=true", json!({})).await;
    for _ in 0..2 {
        let ev = events.json_on("$aws/events/jobExecution/ev-x/deleted").await;
        assert_eq!(keys(&ev), execution_fields(), "{ev}");
        assert_eq!(ev["status"], "CANCELED", "{ev}");
        assert_eq!(ev["statusDetails"], json!({}), "{ev}");
    }
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_deletion_without_delay_is_done_when_delete_job_returns() {
    let emu = emu_deleting_after(0).await;
    emu.create_job("del-0", &["dev-d0"]).await;
    let mut events = job_events(&emu, "rules-d0").await;
    emu.ctl("DELETE", "/jobs/del-0?force=true", json!({})).await;
    // No other request: the deletion and both events belong to DeleteJob itself.
    let ev = events.json_on("$aws/events/job/del-0/deletion_in_progress").await;
    assert_eq!(ev["status"], "DELETION_IN_PROGRESS");
    let ev = events.json_on("$aws/events/job/del-0/deleted").await;
    assert_eq!(ev["status"], "DELETED");
    let resp = emu
        .http
        .get(format!("{}/jobs/del-0", emu.url))
        .header("authorization", CONTROL)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_delayed_deletion_is_done_when_the_manual_clock_passes_it() {
    let emu = emu_deleting_after(30).await;
    emu.create_job("del-30", &["dev-d30"]).await;
    let mut events = job_events(&emu, "rules-d30").await;
    emu.ctl("DELETE", "/jobs/del-30?force=true", json!({})).await;
    events.json_on("$aws/events/job/del-30/deletion_in_progress").await;
    events.quiet_on("$aws/events/job/del-30/deleted", 300).await;
    // One second short of the delay: still being deleted.
    emu.advance(29).await;
    events.quiet_on("$aws/events/job/del-30/deleted", 300).await;
    let d = emu.ctl("GET", "/jobs/del-30", json!({})).await;
    assert_eq!(d["job"]["status"], "DELETION_IN_PROGRESS");
    // The clock reaching the delay removes the job, with no request after it.
    emu.advance(1).await;
    let ev = events.json_on("$aws/events/job/del-30/deleted").await;
    assert_eq!(ev["status"], "DELETED");
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_deletion_that_comes_due_after_a_restart_reports_the_job_as_it_was() {
    let (dir, path) = state_path("events-restart");
    let first = emu_deleting_after_with(30, Some(&path)).await;
    let created = first.create_described_job("ev-rs", &["dev-rs"]).await;
    first.ctl("PUT", "/jobs/ev-rs/cancel?force=true", json!({"comment": "kept across"})).await;
    first.advance(2).await;
    let deleting = first.now().await;
    first.ctl("DELETE", "/jobs/ev-rs?force=true", json!({})).await;
    first.server.shutdown().await.unwrap();

    let second = emu_deleting_after_with(30, Some(&path)).await;
    let mut events = job_events(&second, "rules-rs").await;
    second.advance(30).await;
    let ev = events.json_on("$aws/events/job/ev-rs/deleted").await;
    assert_eq!(keys(&ev), job_fields(&["comment"]), "{ev}");
    assert_job_event(&ev, "ev-rs", "deleted", "DELETED", deleting + 30);
    assert_eq!(ev["comment"], "kept across");
    assert_eq!(ev["createdAt"], created * 1000);
    assert_eq!(ev["lastUpdatedAt"], deleting * 1000);
    second.server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// One long advance across maintenance windows (SPEC AMBIG-28): each window's opening and
/// closing tells the device at its own instant, each message with the pending list of that
/// instant, not with the state at the end of the advance.
#[tokio::test]
async fn each_notification_of_one_long_advance_carries_the_state_of_its_instant() {
    let emu = emu().await;
    emu.ctl("POST", "/things/n0", json!({})).await;
    let topic = "$aws/things/n0/jobs/notify";
    let mut dev = connect("n0", emu.mqtt).await;
    dev.sub(topic).await;
    let now = emu.now().await;
    emu.advance(3600 - now % 3600).await;
    let t0 = emu.now().await;
    // Windows of 30 minutes at each hour; the job starts at the first after 40 minutes.
    let body = json!({"targets": [format!("{ARN}:thing/n0")], "document": "{}", "schedulingConfig": {
        "startTime": iot_jobs_emulator::wire::format_date_time(t0 + 40 * 60),
        "maintenanceWindows": [{"startTime": "cron(0 * * * ? *)", "durationInMinutes": 30}]}});
    emu.ctl("PUT", "/jobs/w", body).await;
    let seen = |n: &Value| {
        let queued = n["jobs"]["QUEUED"].as_array().map_or(0, Vec::len);
        (n["timestamp"].as_u64().unwrap() - t0, queued)
    };
    emu.advance(3600).await;
    assert_eq!(seen(&dev.json_on(topic).await), (3600, 1));
    // Closes at 90 minutes, opens at 120, closes at 150, opens at 180, closes at 210.
    emu.advance(150 * 60).await;
    let mut got = Vec::new();
    for _ in 0..5 {
        got.push(seen(&dev.json_on(topic).await));
    }
    assert_eq!(got, [(90 * 60, 0), (120 * 60, 1), (150 * 60, 0), (180 * 60, 1), (210 * 60, 0)]);
    assert!(dev.drain().await.iter().all(|p| p.topic != topic));
    emu.server.shutdown().await.unwrap();
}

/// A timeout inside a long advance: its `$aws/events` event and the device's notification are
/// stamped when it was due.
#[tokio::test]
async fn the_messages_of_a_timeout_inside_a_long_advance_carry_its_instant() {
    let emu = emu().await;
    emu.ctl("POST", "/things/to1", json!({})).await;
    let body = json!({"targets": [format!("{ARN}:thing/to1")], "document": "{}",
        "timeoutConfig": {"inProgressTimeoutInMinutes": 5}});
    emu.ctl("PUT", "/jobs/slow", body).await;
    let mut events = connect("rules-to", emu.mqtt).await;
    events.sub("$aws/events/jobExecution/+/+").await;
    events.drain().await;
    let mut dev = connect("to1", emu.mqtt).await;
    dev.sub("$aws/things/to1/jobs/notify").await;
    let (ok, got) = dev.request("$aws/things/to1/jobs/slow/update", r#"{"status":"IN_PROGRESS"}"#).await;
    assert!(ok, "{got}");
    let started = emu.now().await;
    dev.drain().await;
    emu.advance(3600).await;
    let ev = events.json_on("$aws/events/jobExecution/slow/timed_out").await;
    assert_eq!(ev["timestamp"], started + 300, "{ev}");
    let n = dev.json_on("$aws/things/to1/jobs/notify").await;
    assert_eq!(n["timestamp"], started + 300, "{n}");
    emu.server.shutdown().await.unwrap();
}

/// An execution that times out at the instant its job's deletion comes due (a force-delete with
/// a deletion delay as long as the timeout) is TIMED_OUT in both of its events: the timeout's,
/// and the deletion's, which reports it as it went. Both once said IN_PROGRESS, the state the
/// step began with, since the step's events were rendered after the deletion had removed it.
#[tokio::test]
async fn an_execution_that_times_out_as_its_deletion_comes_due_is_timed_out_in_both_events() {
    let emu = emu_deleting_after(60).await;
    emu.ctl("POST", "/things/td1", json!({})).await;
    let body = json!({"targets": [format!("{ARN}:thing/td1")], "document": "{}",
        "timeoutConfig": {"inProgressTimeoutInMinutes": 1}});
    emu.ctl("PUT", "/jobs/doomed", body).await;
    let mut events = connect("rules-td", emu.mqtt).await;
    events.sub("$aws/events/jobExecution/+/+").await;
    events.drain().await;
    let mut dev = connect("td1", emu.mqtt).await;
    let (ok, got) = dev.request("$aws/things/td1/jobs/start-next", "{}").await;
    assert!(ok, "{got}");
    emu.ctl("DELETE", "/jobs/doomed?force=true", json!({})).await;
    emu.advance(60).await;
    for op in ["timed_out", "deleted"] {
        let ev = events.json_on(&format!("$aws/events/jobExecution/doomed/{op}")).await;
        assert_eq!(ev["status"], "TIMED_OUT", "{ev}");
    }
    emu.server.shutdown().await.unwrap();
}
