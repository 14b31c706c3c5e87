//! The state file and the device API: an accepted update is saved before it is answered, a
//! change whose save failed publishes nothing, and changes are heard in the order they were saved.

use iot_jobs_core::ExecutionStatus;

use super::*;

/// An emulator with a broker, the manual clock and `state` as its state file.
async fn emu_with_state(state: &std::path::Path) -> Emu {
    emu_with_state_and(state, iot_jobs_emulator::DEFAULT_CHECKPOINT_RECORDS).await
}

/// The same, with a checkpoint after every `checkpoint_records` changes (whatever the journal's
/// size: `checkpoint_growth` 0).
async fn emu_with_state_and(state: &std::path::Path, checkpoint_records: u64) -> Emu {
    start(|c| {
        c.checkpoint_records = checkpoint_records;
        c.checkpoint_growth = 0;
        c.state_file = Some(state.to_path_buf());
    })
    .await
}

#[tokio::test]
async fn an_accepted_mqtt_update_survives_a_restart() {
    let (dir, path) = state_path("restart");
    let first = emu_with_state(&path).await;
    first.create_job("kept", &["saver"]).await;
    let mut dev = connect("saver", first.mqtt).await;
    let (ok, got) = dev
        .request(
            "$aws/things/saver/jobs/kept/update",
            r#"{"status":"IN_PROGRESS","statusDetails":{"at":"1"}}"#,
        )
        .await;
    assert!(ok, "{got}");
    // The journal already holds the accepted update (synced before the answer went out).
    let saved = recovered(&path);
    assert_eq!(saved_execution(&saved, "kept", "saver").status(), ExecutionStatus::InProgress);
    first.server.shutdown().await.unwrap();

    let second = emu_with_state(&path).await;
    let mut dev = connect("saver", second.mqtt).await;
    let (ok, got) = dev.request("$aws/things/saver/jobs/kept/get", "{}").await;
    assert!(ok, "{got}");
    assert_eq!(got["execution"]["status"], "IN_PROGRESS");
    assert_eq!(got["execution"]["statusDetails"], json!({"at": "1"}));
    second.server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A change whose journal write fails is rolled back, so none of its events happened: the
/// device hears of nothing from a refused MQTT update or a refused HTTP call, and after a
/// restart the refused changes are not there.
#[tokio::test]
async fn a_change_whose_save_failed_publishes_nothing() {
    let (dir, path) = state_path("failed-save");
    let emu = emu_with_state_and(&path, 1).await;
    emu.create_job("j1", &["dev"]).await;
    let mut dev = connect("dev", emu.mqtt).await;
    dev.sub("$aws/things/dev/jobs/notify").await;
    dev.sub("$aws/things/dev/jobs/notify-next").await;
    dev.sub("$aws/events/#").await;
    dev.drain().await;

    // The journal's segment is deleted (as removing its directory would): every change fails.
    reliability_common::delete_current_segment(&path).await;
    dev.drain().await;
    let (ok, got) = dev.request("$aws/things/dev/jobs/j1/update", r#"{"status":"SUCCEEDED"}"#).await;
    assert!(!ok, "{got}");
    assert_eq!(got["code"], "InternalError", "{got}");
    let targets = json!({"targets": [format!("{ARN}:thing/dev")], "document": "{}"});
    let refused = emu
        .http
        .put(format!("{}/jobs/j2", emu.url))
        .header("authorization", CONTROL)
        .body(targets.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    // The health probe says so, with why.
    let health = emu.http.get(format!("{}/_emulator/health", emu.url)).send().await.unwrap();
    assert_eq!(health.status(), 503);
    let health: Value = health.json().await.unwrap();
    assert_eq!(health["status"], "failing", "{health}");
    assert!(health["reason"].as_str().is_some_and(|r| !r.is_empty()), "{health}");
    let heard: Vec<String> = dev.drain().await.into_iter().map(|p| p.topic).collect();
    assert!(heard.iter().all(|t| !t.contains("notify") && !t.starts_with("$aws/events/")), "{heard:?}");

    // After a restart: j1 still QUEUED, no j2.
    drop(emu);
    let second = emu_with_state(&path).await;
    let mut dev = connect("dev", second.mqtt).await;
    let (ok, got) = dev.request("$aws/things/dev/jobs/j1/get", "{}").await;
    assert!(ok, "{got}");
    assert_eq!(got["execution"]["status"], "QUEUED", "{got}");
    let (ok, got) = dev.request("$aws/things/dev/jobs/j2/get", "{}").await;
    assert!(!ok, "{got}");
    second.server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Changes that one group commit saves are heard in the order they were made, however the
/// requests that made them finish: a device's last notify-next names its pending job. (Each
/// round, a thing's running job succeeds while another is created for it, at once.)
#[tokio::test]
async fn concurrent_changes_are_heard_in_their_order() {
    let (dir, path) = state_path("order");
    let emu = emu_with_state(&path).await;
    let mut dev = connect("watcher", emu.mqtt).await;
    dev.sub("$aws/things/+/jobs/notify-next").await;
    let things: Vec<String> = (0..8).map(|i| format!("o{i}")).collect();
    for t in &things {
        emu.ctl("POST", &format!("/things/{t}"), json!({})).await;
    }
    let send = |method: reqwest::Method, path: String, auth: &'static str, body: Value| {
        let request = emu.http.request(method, format!("{}{path}", emu.url));
        tokio::spawn(async move {
            let resp = request.header("authorization", auth).body(body.to_string()).send().await.unwrap();
            assert_eq!(resp.status(), 200, "{path}");
        })
    };
    for round in 0..10 {
        for t in &things {
            let body = json!({"targets": [format!("{ARN}:thing/{t}")], "document": "{}"});
            emu.ctl("PUT", &format!("/jobs/{t}-a{round}"), body).await;
            let (ok, got) = dev.request(&format!("$aws/things/{t}/jobs/start-next"), "{}").await;
            assert!(ok, "{got}");
        }
        dev.drain().await;
        let mut tasks = Vec::new();
        for t in &things {
            let done = json!({"status": "SUCCEEDED"});
            tasks.push(send(reqwest::Method::POST, format!("/things/{t}/jobs/{t}-a{round}"), DATA, done));
            let body = json!({"targets": [format!("{ARN}:thing/{t}")], "document": "{}"});
            tasks.push(send(reqwest::Method::PUT, format!("/jobs/{t}-b{round}"), CONTROL, body));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let mut last = std::collections::BTreeMap::new();
        for p in dev.drain().await {
            let thing = p.topic.split('/').nth(2).unwrap().to_owned();
            let next: Value = serde_json::from_slice(&p.payload).unwrap();
            last.insert(thing, next["execution"]["jobId"].as_str().map(str::to_owned));
        }
        for t in &things {
            assert_eq!(last.get(t), Some(&Some(format!("{t}-b{round}"))), "round {round}: {last:?}");
        }
        for t in &things {
            emu.ctl("PUT", &format!("/jobs/{t}-b{round}/cancel"), json!({})).await;
        }
    }
    emu.server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
