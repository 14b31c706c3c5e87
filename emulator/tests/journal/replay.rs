//! Records replay only under what they were made with (caps, account, `--clock`,
//! `--deletion-delay`, `--policy`): a start under anything else is refused and changes no file.

use std::path::Path;

use iot_jobs_emulator::clock::ClockMode;
use iot_jobs_emulator::journal::{self, Mode};
use iot_jobs_emulator::state::Caps;
use iot_jobs_emulator::wire::Arns;
use serde_json::{Value, json};

use crate::in_process::start;
use crate::reliability_common::{ARN, CONTROL, temp_dir};
use crate::support::{execution_status, journal_with_records, record_bounds, recover};

/// A record whose operation is refused on replay (a start with fewer `--max-things` than the
/// journal made, or another `--account-id`, under which a target's ARN names no thing) stops the start with an error naming the segment, the record's offset and its
/// operation, and changes no file: replaying on would drop an acknowledged change silently.
#[tokio::test]
async fn a_record_refused_on_replay_refuses_the_start_and_changes_no_file() {
    let dir = temp_dir("refused-replay");
    let (path, segment) = journal_with_records(&dir).await;
    let bounds = record_bounds(&segment);
    let bytes = std::fs::read(&segment).unwrap();
    let snapshot = std::fs::read(&path).unwrap();
    let start_with = |things: usize, account: &str| {
        let mut config = iot_jobs_emulator::Config {
            addr: "127.0.0.1:0".parse().unwrap(),
            clock: ClockMode::Manual,
            state_file: Some(path.clone()),
            account_id: account.to_owned(),
            ..Default::default()
        };
        config.caps.things = things;
        iot_jobs_emulator::start(config)
    };
    // The second record makes the second thing.
    let Err(e) = start_with(1, "123456789012").await else { panic!("started with --max-things 1") };
    let e = e.to_string();
    assert!(e.contains(&segment.display().to_string()), "{e}");
    assert!(e.contains(&format!("offset {} record 2 (CreateThing)", bounds[1].0)), "{e}");
    assert!(e.contains("accepted when it was made and is refused now"), "{e}");
    assert_eq!(std::fs::read(&segment).unwrap(), bytes);
    assert_eq!(std::fs::read(&path).unwrap(), snapshot);
    // Under another account, the job's target (a thing ARN of account 123456789012) is no thing.
    let Err(e) = start_with(100, "999999999999").await else { panic!("started under another account") };
    let e = e.to_string();
    assert!(e.contains(&format!("offset {} record 3 (CreateJob)", bounds[2].0)), "{e}");
    assert!(e.contains("arn:aws:iot:us-east-1:123456789012:thing/t does not exist"), "{e}");
    assert_eq!(std::fs::read(&segment).unwrap(), bytes);
    assert_eq!(std::fs::read(&path).unwrap(), snapshot);
    // With the flags it was written with, every record replays.
    let st = recover(&path, Mode::Start).unwrap().unwrap();
    assert_eq!(execution_status(&st), "InProgress");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Records replay only under the clock they were made with: a start with another `--clock`
/// while records are to be replayed is refused (naming the flag) and changes no file; after a
/// clean stop the clock may change, and the journal then follows the new one.
#[tokio::test]
async fn a_journal_replays_only_under_the_clock_it_was_written_with() {
    let dir = temp_dir("clock");
    let path = dir.join("state.json");
    let manual = start(|c| c.state_file = Some(path.clone())).await;
    manual.ok(CONTROL, "POST", "/things/a", json!({})).await;
    drop(manual); // gone without a checkpoint: the journal holds the change
    let files = |p: &Path| {
        let mut v: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.file_name(), std::fs::read(e.path()).unwrap())
            })
            .collect();
        v.sort();
        v
    };
    let before = files(&path);
    let config = iot_jobs_emulator::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        clock: ClockMode::System,
        state_file: Some(path.clone()),
        ..Default::default()
    };
    let Err(e) = iot_jobs_emulator::start(config).await else { panic!("replayed under another clock") };
    let e = e.to_string();
    assert!(e.contains("--clock manual") && e.contains(&path.display().to_string()), "{e}");
    assert_eq!(files(&path), before, "a refused start changed a file");

    // Under its own clock it starts; after a clean stop, the system clock may take over.
    let manual = start(|c| c.state_file = Some(path.clone())).await;
    manual.ok(CONTROL, "GET", "/things/a", json!({})).await;
    manual.server.shutdown().await.unwrap();
    let system = start(|c| {
        c.state_file = Some(path.clone());
        c.clock = ClockMode::System;
    })
    .await;
    system.ok(CONTROL, "GET", "/things/a", json!({})).await;
    system.ok(CONTROL, "POST", "/things/b", json!({})).await;
    drop(system); // a crash: the journal holds a change made with the system clock
    let system = start(|c| {
        c.state_file = Some(path.clone());
        c.clock = ClockMode::System;
    })
    .await;
    system.ok(CONTROL, "GET", "/things/b", json!({})).await;
    system.server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Records replay only under the `--deletion-delay` they were made with: a DeleteJob made with
/// 0 removed its job, and would leave it DELETION_IN_PROGRESS under 60. A start with another
/// delay while records are to be replayed is refused (naming the flag) and changes no file;
/// after a clean stop the delay may change, and the snapshot is rewritten for the new one, so
/// that a crash under it replays.
#[tokio::test]
async fn a_journal_replays_only_under_the_deletion_delay_it_was_written_with() {
    let dir = temp_dir("deletion-delay");
    let path = dir.join("state.json");
    let job = json!({"targets": [format!("{ARN}:thing/a")], "document": "{}"});
    let e = start(|c| c.state_file = Some(path.clone())).await;
    e.ok(CONTROL, "POST", "/things/a", json!({})).await;
    e.ok(CONTROL, "PUT", "/jobs/j", job.clone()).await;
    e.ok(CONTROL, "DELETE", "/jobs/j?force=true", Value::Null).await;
    drop(e); // a crash: the journal holds the deletion, made with a delay of 0
    let before = std::fs::read_dir(&dir).unwrap().count();
    let segments = journal::segments(&path).unwrap();
    let config = iot_jobs_emulator::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        clock: ClockMode::Manual,
        deletion_delay: 60,
        state_file: Some(path.clone()),
        ..Default::default()
    };
    let Err(err) = iot_jobs_emulator::start(config).await else { panic!("replayed under another delay") };
    let err = err.to_string();
    assert!(
        err.contains("made with --deletion-delay 0,") && err.contains("start with --deletion-delay 0 "),
        "{err}"
    );
    assert!(!err.contains("--clock"), "{err}");
    assert_eq!(journal::segments(&path).unwrap(), segments, "a refused start changed the journal");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), before);

    // Under its own delay the job is gone; after a clean stop the delay may change.
    let e = start(|c| c.state_file = Some(path.clone())).await;
    let (status, _) = e.send(CONTROL, "GET", "/jobs/j", Vec::new()).await;
    assert_eq!(status, 404);
    e.server.shutdown().await.unwrap();
    let delayed = |c: &mut iot_jobs_emulator::Config| {
        c.state_file = Some(path.clone());
        c.deletion_delay = 60;
    };
    let e = start(delayed).await;
    let snapshot: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(snapshot["registry"]["deletionDelay"], 60, "the snapshot still says the old delay");
    e.ok(CONTROL, "PUT", "/jobs/k", job).await;
    e.ok(CONTROL, "DELETE", "/jobs/k?force=true", Value::Null).await;
    drop(e); // a crash: the journal holds a deletion made with a delay of 60
    let e = start(delayed).await;
    let k = e.ok(CONTROL, "GET", "/jobs/k", Value::Null).await;
    assert_eq!(k["job"]["status"], "DELETION_IN_PROGRESS", "{k}");
    e.server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--policy` with a state file: the file records the policy (format 3), the journal replays
/// under it, and a start with another policy is refused while records would replay under it,
/// naming the flags to start with; once a clean stop wrote a checkpoint, the policy may change.
#[tokio::test]
async fn the_journal_replays_under_the_policy_its_changes_were_made_under() {
    let dir = temp_dir("policy");
    let path = dir.join("state.json");
    let mut queued = iot_jobs_core::Policy::DEFAULT;
    iot_jobs_emulator::set_knob(&mut queued, "delete_queued_without_force=true").unwrap();
    let e = start(|c| {
        c.state_file = Some(path.clone());
        c.policy = queued;
    })
    .await;
    e.ok(CONTROL, "POST", "/things/t", json!({})).await;
    let targets = json!({"targets": [format!("{ARN}:thing/t")], "document": "{}"});
    e.ok(CONTROL, "PUT", "/jobs/j", targets).await;
    // R2 under the knob: a QUEUED execution deleted without force.
    e.ok(CONTROL, "DELETE", "/things/t/jobs/j/executionNumber/1", json!({})).await;
    drop(e); // gone without a checkpoint, as after a crash
    let saved: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        (saved["format"].as_u64(), &saved["policy"]["delete_queued_without_force"]),
        (Some(4), &json!(true))
    );

    let arns = Arns { region: "us-east-1".into(), account: "123456789012".into() };
    let caps = Caps { jobs: 8, things: 8, executions: 8, status_details: 8, thing_groups: 8 };
    let under = |policy| {
        journal::recover(&path, caps, ClockMode::Manual, arns.clone(), 0, policy, Mode::UpTo(u64::MAX))
    };
    let st = under(queued).unwrap().unwrap();
    let job = iot_jobs_core::JobId::new("j").unwrap();
    let thing = iot_jobs_core::ThingName::new("t").unwrap();
    assert!(
        st.registry.describe_execution(&job, &thing, None, iot_jobs_core::Plane::Control).is_err(),
        "deleted"
    );
    let e = under(iot_jobs_core::Policy::DEFAULT).err().unwrap();
    assert!(
        e.contains("changes made with --policy delete_queued_without_force=true, which replay only under it"),
        "{e}"
    );

    // A clean stop writes a checkpoint: then the policy may change.
    let e = start(|c| {
        c.state_file = Some(path.clone());
        c.policy = queued;
    })
    .await;
    e.server.shutdown().await.unwrap();
    let e = start(|c| c.state_file = Some(path.clone())).await;
    e.ok(CONTROL, "GET", "/things/t", json!({})).await;
    let stats = e.ok(CONTROL, "GET", "/_emulator/stats", json!({})).await;
    assert_eq!(stats["policy"]["delete_queued_without_force"], false);
    e.server.shutdown().await.unwrap();
    let saved: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(saved["policy"]["delete_queued_without_force"], false);
    std::fs::remove_dir_all(&dir).unwrap();
}
