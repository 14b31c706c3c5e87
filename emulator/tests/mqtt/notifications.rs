//! What devices and rules are told: `notify` and `notify-next` on the plain and the namespace
//! topics, after device calls, HTTP calls and the clock, and the event configurations that switch
//! the job events on and off.

use super::*;

#[tokio::test]
async fn event_configurations_switch_the_job_event_topics() {
    let emu = emu().await;
    let mut rules = connect("rules", emu.mqtt).await;
    rules.sub("$aws/events/#").await;
    let switch = |job: bool, execution: bool| json!({"eventConfigurations": {"JOB": {"Enabled": job}, "JOB_EXECUTION": {"Enabled": execution}}});
    let cancel = |job: &str| format!("/jobs/{job}/cancel?force=true");
    // SPEC R23: both off, neither kind is published.
    emu.ctl("PATCH", "/event-configurations", switch(false, false)).await;
    emu.create_job("ev-1", &["dev-e"]).await;
    emu.ctl("PUT", &cancel("ev-1"), json!({})).await;
    let heard: Vec<String> = rules.drain().await.into_iter().map(|p| p.topic).collect();
    assert!(heard.iter().all(|t| !t.starts_with("$aws/events/")), "{heard:?}");
    // Job events only.
    emu.ctl("PATCH", "/event-configurations", switch(true, false)).await;
    emu.create_job("ev-2", &["dev-e"]).await;
    emu.ctl("PUT", &cancel("ev-2"), json!({})).await;
    assert_eq!(rules.json_on("$aws/events/job/ev-2/canceled").await["jobId"], "ev-2");
    let heard: Vec<String> = rules.drain().await.into_iter().map(|p| p.topic).collect();
    assert!(heard.iter().all(|t| !t.starts_with("$aws/events/jobExecution/")), "{heard:?}");
    // Both on again (the default).
    emu.ctl("PATCH", "/event-configurations", switch(true, true)).await;
    emu.create_job("ev-3", &["dev-e"]).await;
    emu.ctl("PUT", &cancel("ev-3"), json!({})).await;
    let ev = rules.json_on("$aws/events/jobExecution/ev-3/canceled").await;
    assert_eq!(ev["thingArn"], format!("{ARN}:thing/dev-e"));
    rules.next_on("$aws/events/job/ev-3/canceled").await;
    emu.server.shutdown().await.unwrap();
}

/// `job_events: false` (`--job-events off`) starts with the service's default: JOB and
/// JOB_EXECUTION off, described so, nothing published until UpdateEventConfigurations switches
/// them on; a reset puts them off again. Notifications go on regardless.
#[tokio::test]
async fn job_events_off_starts_and_resets_with_the_services_default() {
    let emu = start(|c| c.job_events = false).await;
    let mut rules = connect("rules", emu.mqtt).await;
    rules.sub("$aws/events/#").await;
    rules.sub("$aws/things/+/jobs/notify").await;
    async fn switches(emu: &Emu) -> (bool, bool) {
        let got = emu.ctl("GET", "/event-configurations", json!({})).await;
        let c = &got["eventConfigurations"];
        (c["JOB"]["Enabled"].as_bool().unwrap(), c["JOB_EXECUTION"]["Enabled"].as_bool().unwrap())
    }
    let cancel = |job: &str| format!("/jobs/{job}/cancel?force=true");
    assert_eq!(switches(&emu).await, (false, false));
    emu.create_job("ev-1", &["dev-e"]).await;
    emu.ctl("PUT", &cancel("ev-1"), json!({})).await;
    rules.next_on("$aws/things/dev-e/jobs/notify").await;
    let heard: Vec<String> = rules.drain().await.into_iter().map(|p| p.topic).collect();
    assert!(heard.iter().all(|t| !t.starts_with("$aws/events/")), "{heard:?}");
    let on = json!({"eventConfigurations": {"JOB": {"Enabled": true}, "JOB_EXECUTION": {"Enabled": true}}});
    emu.ctl("PATCH", "/event-configurations", on).await;
    assert_eq!(switches(&emu).await, (true, true));
    emu.create_job("ev-2", &["dev-e"]).await;
    emu.ctl("PUT", &cancel("ev-2"), json!({})).await;
    rules.next_on("$aws/events/jobExecution/ev-2/canceled").await;
    rules.next_on("$aws/events/job/ev-2/canceled").await;
    emu.ctl("POST", "/_emulator/reset", json!({})).await;
    assert_eq!(switches(&emu).await, (false, false));
    emu.server.shutdown().await.unwrap();
}

/// SPEC R20, AMBIG-27: a namespaced job is told on the plain topics and on its namespace's,
/// whose payloads list only that namespace's executions; the head is the whole list's.
#[tokio::test]
async fn a_namespaced_job_is_told_on_its_namespace_topics() {
    const NS: &str = "$aws/things/gg/jobs/notify-namespace-aws-gg-deployment";
    const NEXT_NS: &str = "$aws/things/gg/jobs/notify-next-namespace-aws-gg-deployment";
    let emu = emu().await;
    let mut dev = connect("gg", emu.mqtt).await;
    dev.sub("$aws/things/gg/jobs/#").await;
    // A job without a namespace: the plain topics only.
    emu.create_job("plain", &["gg"]).await;
    assert_eq!(dev.json_on("$aws/things/gg/jobs/notify-next").await["execution"]["jobId"], "plain");
    let got = dev.drain().await;
    assert!(got.iter().all(|p| !p.topic.contains("namespace")), "{:?}", got.iter().map(|p| &p.topic));
    // A namespaced job behind it: both lists, no next (the head is still `plain`).
    let body = json!({"targets": [format!("{ARN}:thing/gg")], "document": "{\"deploy\":1}",
                      "namespaceId": "aws-gg-deployment",
                      "timeoutConfig": {"inProgressTimeoutInMinutes": 1}});
    emu.ctl("PUT", "/jobs/deploy", body).await;
    let list = dev.next_on(NS).await;
    assert_eq!(list.qos, QoS::AtLeastOnce);
    let list: Value = serde_json::from_slice(&list.payload).unwrap();
    assert_eq!(list["jobs"]["QUEUED"].as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list["jobs"]["QUEUED"][0]["jobId"], "deploy");
    let plain = dev.json_on("$aws/things/gg/jobs/notify").await;
    assert_eq!(plain["jobs"]["QUEUED"].as_array().map(Vec::len), Some(2), "{plain}");
    let got = dev.drain().await;
    assert!(got.iter().all(|p| !p.topic.contains("notify-next")), "{:?}", got.iter().map(|p| &p.topic));
    // The device starts it on its namespace topic: it becomes the head, told on both.
    let (ok, got) = dev
        .request(
            "$aws/things/gg/jobs/deploy/namespace-aws-gg-deployment/update",
            r#"{"status":"IN_PROGRESS"}"#,
        )
        .await;
    assert!(ok, "{got}");
    let next = dev.json_on(NEXT_NS).await;
    assert_eq!(next["execution"]["jobId"], "deploy");
    assert_eq!(next["execution"]["status"], "IN_PROGRESS");
    assert_eq!(next["execution"]["jobDocument"], json!({"deploy": 1}));
    assert_eq!(dev.json_on("$aws/things/gg/jobs/notify-next").await["execution"]["jobId"], "deploy");
    // The clock times it out: the namespace has nothing pending, the plain list still `plain`.
    emu.advance(61).await;
    assert_eq!(dev.json_on(NS).await["jobs"], json!({}));
    let next = dev.json_on(NEXT_NS).await;
    assert!(next.get("execution").is_none(), "{next}");
    assert!(next["timestamp"].as_u64().is_some());
    assert_eq!(dev.json_on("$aws/things/gg/jobs/notify-next").await["execution"]["jobId"], "plain");
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_clock_and_http_calls_notify_devices() {
    let emu = emu().await;
    let mut dev = connect("clocked", emu.mqtt).await;
    dev.sub("$aws/things/clocked/jobs/notify-next").await;
    dev.sub("$aws/things/clocked/jobs/notify").await;
    emu.ctl("POST", "/things/clocked", json!({})).await;
    let body = json!({"targets": [format!("{ARN}:thing/clocked")], "document": "{}",
                      "timeoutConfig": {"inProgressTimeoutInMinutes": 1}});
    emu.ctl("PUT", "/jobs/slow", body).await;
    assert_eq!(dev.json_on("$aws/things/clocked/jobs/notify-next").await["execution"]["jobId"], "slow");
    let (ok, _) = dev.request("$aws/things/clocked/jobs/start-next", "{}").await;
    assert!(ok);
    // The in-progress timer runs out: the device hears that nothing is pending any more.
    emu.advance(61).await;
    let list = dev.json_on("$aws/things/clocked/jobs/notify").await;
    let list =
        if list["jobs"] == json!({}) { list } else { dev.json_on("$aws/things/clocked/jobs/notify").await };
    assert_eq!(list["jobs"], json!({}), "{list}");
    let next = dev.json_on("$aws/things/clocked/jobs/notify-next").await;
    let next = if next["execution"]["jobId"] == "slow" {
        dev.json_on("$aws/things/clocked/jobs/notify-next").await
    } else {
        next
    };
    assert!(next.get("execution").is_none(), "{next}");
    // A cancel over HTTP is heard too.
    emu.ctl("PUT", "/jobs/second", json!({"targets": [format!("{ARN}:thing/clocked")], "document": "{}"}))
        .await;
    assert_eq!(dev.json_on("$aws/things/clocked/jobs/notify-next").await["execution"]["jobId"], "second");
    emu.ctl("PUT", "/jobs/second/cancel", json!({})).await;
    let next = dev.json_on("$aws/things/clocked/jobs/notify-next").await;
    assert!(next.get("execution").is_none(), "{next}");
    emu.server.shutdown().await.unwrap();
}
