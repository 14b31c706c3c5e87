//! The state file's lock and links, and starts that fail before they read it.

use std::path::Path;

use iot_jobs_emulator::clock::ClockMode;
use iot_jobs_emulator::journal;
use serde_json::{Value, json};

use crate::in_process::start;
use crate::reliability_common::{CONTROL, temp_dir};

/// A start takes the state file's lock, the addresses and everything else that can fail before
/// it reads (let alone writes) the state file: a second emulator on the same file is refused
/// while the first runs, and a start on a busy port leaves the file as it was (here, one that
/// would have been rewritten for another --clock). A snapshot with an edited `seq` past what any
/// emulator writes is refused.
#[tokio::test]
async fn a_start_that_fails_changes_no_file_and_one_state_file_has_one_emulator() {
    let dir = temp_dir("failed-start");
    let path = dir.join("state.json");
    let config = |clock: ClockMode, addr: &str| iot_jobs_emulator::Config {
        addr: addr.parse().unwrap(),
        mqtt_addr: None,
        clock,
        state_file: Some(path.clone()),
        ..Default::default()
    };
    let first = iot_jobs_emulator::start(config(ClockMode::Manual, "127.0.0.1:0")).await.unwrap();
    let Err(e) = iot_jobs_emulator::start(config(ClockMode::Manual, "127.0.0.1:0")).await else {
        panic!("a second emulator started on the same state file")
    };
    let lock = format!("{}.lock", path.display());
    assert_eq!(
        e.to_string(),
        format!("the state file {} is in use: another emulator holds its lock {lock}", path.display())
    );
    first.shutdown().await.unwrap();
    let saved = std::fs::read(&path).unwrap();
    assert!(serde_json::from_slice::<Value>(&saved).unwrap()["clock"].is_u64());
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let Err(e) = iot_jobs_emulator::start(config(ClockMode::System, &addr)).await else {
        panic!("started on a busy port")
    };
    assert!(e.to_string().starts_with(&format!("cannot listen on {addr}")), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), saved, "a failed start rewrote the state file");
    assert_eq!(journal::segments(&path).unwrap(), vec![]);
    // Free again: the next start takes the lock.
    drop(busy);
    let again = iot_jobs_emulator::start(config(ClockMode::Manual, "127.0.0.1:0")).await.unwrap();
    again.shutdown().await.unwrap();
    // seq past 2^62.
    let mut edited: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edited["seq"] = json!(u64::MAX - 1);
    std::fs::write(&path, edited.to_string()).unwrap();
    let Err(e) = iot_jobs_emulator::start(config(ClockMode::Manual, "127.0.0.1:0")).await else {
        panic!("started")
    };
    assert!(e.to_string().contains(&format!("its seq {} is past {}", u64::MAX - 1, 1u64 << 62)), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A state file reached through a symbolic link is the link's target: a second emulator on
/// either name is refused by the one lock, and a checkpoint replaces the target, leaving the
/// link a link. A state file with a second name (a hard link) is refused, naming both counts.
#[tokio::test]
async fn a_state_file_behind_a_link_is_locked_and_written_as_its_target() {
    let dir = temp_dir("linked");
    let (path, link) = (dir.join("state.json"), dir.join("link.json"));
    let config = |p: &Path| iot_jobs_emulator::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        mqtt_addr: None,
        clock: ClockMode::Manual,
        state_file: Some(p.to_owned()),
        ..Default::default()
    };
    let first = iot_jobs_emulator::start(config(&path)).await.unwrap();
    std::os::unix::fs::symlink("state.json", &link).unwrap();
    let Err(e) = iot_jobs_emulator::start(config(&link)).await else {
        panic!("a second emulator started on a link to a state file in use")
    };
    assert!(e.to_string().contains("is in use"), "{e}");
    first.shutdown().await.unwrap();
    let e = start(|c| c.state_file = Some(link.clone())).await;
    e.ok(CONTROL, "POST", "/things/through-the-link", json!({})).await;
    e.server.shutdown().await.unwrap();
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link was replaced");
    let saved: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert!(saved["meta"]["things"]["through-the-link"].is_object(), "{saved}");
    std::fs::remove_file(&link).unwrap();
    std::fs::hard_link(&path, &link).unwrap();
    let Err(e) = iot_jobs_emulator::start(config(&link)).await else { panic!("started on a hard link") };
    assert!(e.to_string().contains("has 2 names (hard links)"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
