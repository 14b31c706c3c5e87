//! The admin API and the state file.

use super::*;

#[tokio::test]
async fn admin_clock_reset_and_stats() {
    let e = emu().await;
    let now = e.raw(None, "GET", "/_emulator/clock", None).await.ok()["now"].as_u64().unwrap();
    assert_eq!(e.advance(90).await, now + 90);
    e.thing("t1").await;
    e.job("j1", &["t1"], json!({})).await.ok();
    let x = e.ctl("GET", "/things/t1/jobs/j1", None).await.ok();
    assert_eq!(x["execution"]["queuedAt"], now + 90);
    e.raw(None, "POST", "/_emulator/clock", Some(b"{\"advanceSeconds\": -5}".to_vec()))
        .await
        .err(400, "InvalidRequestException");
    e.raw(None, "PUT", "/_emulator/clock", None).await.err(405, "UnknownOperationException");
    let stats = e.raw(None, "GET", "/_emulator/stats", None).await.ok();
    assert_eq!(stats["usage"]["executions"], 1);
    assert!(stats["events"]["notify"].as_u64().unwrap() >= 1);
    e.raw(None, "POST", "/_emulator/reset", None).await.ok();
    e.ctl("GET", "/jobs/j1", None).await.err(404, "ResourceNotFoundException");
    e.ctl("GET", "/things/t1", None).await.err(404, "ResourceNotFoundException");

    let sys = start(|c| c.clock = ClockMode::System).await;
    let r = sys.raw(None, "POST", "/_emulator/clock", Some(b"{\"advanceSeconds\": 5}".to_vec())).await;
    r.err(400, "InvalidRequestException");
}

/// `GET /_emulator/health` (and `HEAD`): 200 while changes are taken (503 once a journal write
/// failed: `a_change_whose_save_failed_publishes_nothing`).
#[tokio::test]
async fn the_health_probe_answers() {
    let e = emu().await;
    assert_eq!(e.raw(None, "GET", "/_emulator/health", None).await.ok(), json!({"status": "ok"}));
    let head = e.http.head(format!("{}/_emulator/health", e.url)).send().await.unwrap();
    assert_eq!(head.status(), 200);
    e.raw(None, "POST", "/_emulator/health", None).await.err(405, "UnknownOperationException");
}

/// `POST /_emulator/reset` with `{"now": N}` puts a manual clock at N, earlier too, and a
/// restart from the state file finds it there; a refused `now` forgets nothing.
#[tokio::test]
async fn a_reset_may_put_the_manual_clock_back() {
    let path = temp_file("reset-clock");
    let start_on = |path: PathBuf| start(move |c| c.state_file = Some(path));
    let e = start_on(path.clone()).await;
    let now = e.advance(7200).await;
    e.thing("t1").await;
    let refused = |body: &str| e.raw(None, "POST", "/_emulator/reset", Some(body.as_bytes().to_vec()));
    refused(r#"{"now": 4291747201}"#).await.err(400, "InvalidRequestException");
    refused(r#"{"now": -1}"#).await.err(400, "InvalidRequestException");
    refused(r#"{"now": 5"#).await.err(400, "InvalidRequestException");
    e.ctl("GET", "/things/t1", None).await.ok();
    assert_eq!(e.raw(None, "GET", "/_emulator/clock", None).await.ok()["now"], now);
    e.raw(None, "POST", "/_emulator/reset", Some(format!(r#"{{"now": {}}}"#, now - 7200).into_bytes()))
        .await
        .ok();
    e.ctl("GET", "/things/t1", None).await.err(404, "ResourceNotFoundException");
    assert_eq!(e.raw(None, "GET", "/_emulator/clock", None).await.ok()["now"], now - 7200);
    e.thing("t2").await;
    e.job("j", &["t2"], json!({})).await.ok();
    let x = e.ctl("GET", "/things/t2/jobs/j", None).await.ok();
    assert_eq!(x["execution"]["queuedAt"], now - 7200);
    drop(e);
    let again = start_on(path.clone()).await;
    assert_eq!(again.raw(None, "GET", "/_emulator/clock", None).await.ok()["now"], now - 7200);
    again.ctl("GET", "/things/t2/jobs/j", None).await.ok();
    drop(again);
    let _ = std::fs::remove_file(&path);

    let sys = start(|c| c.clock = ClockMode::System).await;
    sys.thing("t1").await;
    let r = sys.raw(None, "POST", "/_emulator/reset", Some(b"{\"now\": 5}".to_vec())).await;
    r.err(400, "InvalidRequestException");
    sys.ctl("GET", "/things/t1", None).await.ok();
}

#[tokio::test]
async fn system_clock_completes_deletions_by_itself() {
    let e = start(|c| {
        c.clock = ClockMode::System;
        c.deletion_delay = 1;
    })
    .await;
    e.thing("t1").await;
    e.job("j1", &["t1"], json!({})).await.ok();
    e.ctl("DELETE", "/jobs/j1?force=true", None).await.ok();
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let stats = e.raw(None, "GET", "/_emulator/stats", None).await.ok();
    assert_eq!(stats["usage"]["jobs"], 0, "{stats}");
}

fn temp_file(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("iot-jobs-emulator-{}-{name}.json", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

#[tokio::test]
async fn state_file_keeps_every_accepted_change() {
    let path = temp_file("state");
    let first = start(|c| {
        c.state_file = Some(path.clone());
        c.deletion_delay = 3600;
    })
    .await;
    first.thing("t1").await;
    first.thing("t2").await;
    first.ctl("POST", "/thing-groups/g", Some(json!({}))).await.ok();
    first.join("g", "t2").await;
    first.job("j1", &["t1", "group:g"], json!({"description": "kept"})).await.ok();
    first.update("t1", "j1", json!({"status": "IN_PROGRESS", "statusDetails": {"p": "1"}})).await.ok();
    first.job("j2", &["t1"], json!({})).await.ok();
    first.ctl("DELETE", "/jobs/j2?force=true", None).await.ok();
    let now = first.advance(10).await;
    // No shutdown (as after a crash): a second emulator starts from the file.
    drop(first);
    let second = start(|c| {
        c.state_file = Some(path.clone());
        c.deletion_delay = 3600;
    })
    .await;
    assert_eq!(second.raw(None, "GET", "/_emulator/clock", None).await.ok()["now"], now);
    let x = second.ctl("GET", "/things/t1/jobs/j1", None).await.ok();
    assert_eq!(
        (x["execution"]["status"].as_str(), x["execution"]["versionNumber"].as_u64()),
        (Some("IN_PROGRESS"), Some(2))
    );
    assert_eq!(x["execution"]["statusDetails"]["detailsMap"]["p"], "1");
    assert_eq!(second.job_status("j2").await, "DELETION_IN_PROGRESS");
    let d = second.ctl("GET", "/jobs/j1", None).await.ok();
    assert_eq!(d["job"]["description"], "kept");
    assert_eq!(
        second.ctl("GET", "/jobs/j1/job-document", None).await.ok()["document"],
        "{\"op\":\"update\"}"
    );
    assert_eq!(second.exec_status("t2", "j1").await, "QUEUED");
    second.update("t1", "j1", json!({"status": "SUCCEEDED", "expectedVersion": 2})).await.ok();
    second.server.shutdown().await.unwrap();
    let third = start(|c| c.state_file = Some(path.clone())).await;
    assert_eq!(third.exec_status("t1", "j1").await, "SUCCEEDED");
    third.server.shutdown().await.unwrap();
    // A file that is not a state file is refused at start.
    std::fs::write(&path, b"{\"format\": 1}").unwrap();
    let bad = iot_jobs_emulator::start(Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        state_file: Some(path.clone()),
        ..Config::default()
    })
    .await;
    assert!(bad.is_err());
    let _ = std::fs::remove_file(&path);
}

/// Thing groups are capped (`--max-thing-groups`): one more is a 410 LimitExceededException
/// naming the flag, and changes nothing; creating a group again with its properties still
/// answers; a deletion makes room. A state holding more groups than the cap is refused on
/// import, naming the flag and the number to start with.
/// An import whose thing groups do not form a hierarchy (a parent that is not a group, a loop,
/// more than 7 levels, a thing in two groups of one hierarchy) is refused, naming the group or
/// the thing, and changes nothing; the hierarchy it came from loads.
#[tokio::test]
async fn an_import_whose_groups_do_not_form_a_hierarchy_is_refused() {
    let e = emu().await;
    e.ctl("POST", "/thing-groups/a", Some(json!({}))).await.ok();
    e.ctl("POST", "/thing-groups/b", Some(json!({"parentGroupName": "a"}))).await.ok();
    let export = e.raw(None, "GET", "/_emulator/state", None).await;
    assert_eq!(export.status, 200);
    let group = |name: &str, parent: Option<&str>| {
        let mut g = export.body["meta"]["groups"]["a"].clone();
        g["parent"] = json!(parent);
        (name.to_owned(), g)
    };
    let member = |(name, mut g): (String, Value)| {
        g["members"] = json!(["t"]);
        (name, g)
    };
    let deep: Vec<(String, Value)> =
        (1..=8).map(|i| group(&format!("g{i}"), (i > 1).then(|| format!("g{}", i - 1)).as_deref())).collect();
    for (groups, says) in [
        (
            vec![group("a", None), group("b", Some("nope"))],
            "thing group b has parent nope, which is not a thing group",
        ),
        (vec![group("a", Some("b")), group("b", Some("a"))], "or its parents make a loop"),
        (deep, "thing group g8 is more than 7 levels deep"),
        (
            vec![member(group("a", None)), member(group("b", Some("a")))],
            "thing t is in thing groups a and b of one hierarchy (root a)",
        ),
    ] {
        let mut bad = export.body.clone();
        bad["meta"]["groups"] = Value::Object(groups.into_iter().collect());
        let refused = e.raw(None, "POST", "/_emulator/state", Some(bad.to_string().into_bytes())).await;
        refused.err(400, "InvalidRequestException");
        assert!(refused.message().contains(says), "{}", refused.message());
        let after = e.ctl("GET", "/thing-groups", None).await.ok();
        assert_eq!(after["thingGroups"].as_array().unwrap().len(), 2, "{after}");
    }
    // The export as it came (the registry's fields in their order, which a `Value` does not keep).
    let raw = e.http.get(format!("{}/_emulator/state", e.url)).send().await.unwrap().bytes().await.unwrap();
    let fine = e.raw(None, "POST", "/_emulator/state", Some(raw.to_vec())).await;
    assert_eq!(fine.status, 200, "{:?}", fine.body);
    let below = e.ctl("GET", "/thing-groups?parentGroup=a", None).await.ok();
    assert_eq!(below["thingGroups"][0]["groupName"], "b");
}

#[tokio::test]
async fn thing_groups_are_capped() {
    let e = start(|c| c.caps.thing_groups = 2).await;
    for g in ["g1", "g2"] {
        e.ctl("POST", &format!("/thing-groups/{g}"), Some(json!({}))).await.ok();
    }
    let over = e.ctl("POST", "/thing-groups/g3", Some(json!({}))).await;
    over.err(410, "LimitExceededException");
    assert!(over.message().contains("--max-thing-groups"), "{}", over.message());
    e.ctl("GET", "/thing-groups/g3", None).await.err(404, "ResourceNotFoundException");
    e.ctl("POST", "/thing-groups/g1", Some(json!({}))).await.ok();
    let stats = e.raw(None, "GET", "/_emulator/stats", None).await.ok();
    assert_eq!((&stats["usage"]["thingGroups"], &stats["caps"]["thingGroups"]), (&json!(2), &json!(2)));
    e.ctl("DELETE", "/thing-groups/g2", None).await.ok();
    e.ctl("POST", "/thing-groups/g3", Some(json!({}))).await.ok();

    let big = emu().await;
    for g in ["a", "b", "c"] {
        big.ctl("POST", &format!("/thing-groups/{g}"), Some(json!({}))).await.ok();
    }
    let export = big.raw(None, "GET", "/_emulator/state", None).await;
    assert_eq!(export.status, 200);
    let refused = e.raw(None, "POST", "/_emulator/state", Some(export.body.to_string().into_bytes())).await;
    refused.err(400, "InvalidRequestException");
    assert!(refused.message().contains("--max-thing-groups 3"), "{}", refused.message());
    let names = e.ctl("GET", "/thing-groups", None).await.ok();
    assert_eq!(names["thingGroups"].as_array().unwrap().len(), 2, "{names}");
}

/// `--policy` (SPEC §R): each reading the flag sets decides, and the stats show it.
#[tokio::test]
async fn a_policy_knob_changes_the_decision_it_names_and_the_stats_show_it() {
    let mut policy = iot_jobs_core::Policy::DEFAULT;
    for setting in ["delete_queued_without_force=true", "data_plane_describes_terminal=true"] {
        iot_jobs_emulator::set_knob(&mut policy, setting).unwrap();
    }
    let knobs = start(|c| c.policy = policy).await;
    let plain = emu().await;
    for e in [&knobs, &plain] {
        e.thing("t1").await;
        e.job("j1", &["t1"], json!({})).await.ok();
        e.job("j2", &["t1"], json!({})).await.ok();
        e.data("POST", "/things/t1/jobs/j2", Some(json!({"status": "SUCCEEDED"}))).await.ok();
    }
    // R2: a QUEUED execution, deleted without force.
    knobs.ctl("DELETE", "/things/t1/jobs/j1/executionNumber/1", None).await.ok();
    plain
        .ctl("DELETE", "/things/t1/jobs/j1/executionNumber/1", None)
        .await
        .err(409, "InvalidStateTransitionException");
    // R11: the data plane describes a terminal execution.
    let x = knobs.data("GET", "/things/t1/jobs/j2", None).await.ok();
    assert_eq!(x["execution"]["status"], "SUCCEEDED");
    plain.data("GET", "/things/t1/jobs/j2", None).await.err(410, "TerminalStateException");

    let stats = knobs.raw(None, "GET", "/_emulator/stats", None).await.ok();
    assert_eq!(stats["policy"]["delete_queued_without_force"], true);
    assert_eq!(stats["policy"]["data_plane_describes_terminal"], true);
    assert_eq!(stats["policy"]["pending_cap"], 10);
    let stats = plain.raw(None, "GET", "/_emulator/stats", None).await.ok();
    assert_eq!(stats["policy"]["delete_queued_without_force"], false);
    // A reset keeps the policy.
    knobs.raw(None, "POST", "/_emulator/reset", None).await.ok();
    let stats = knobs.raw(None, "GET", "/_emulator/stats", None).await.ok();
    assert_eq!(stats["policy"]["delete_queued_without_force"], true);
}
