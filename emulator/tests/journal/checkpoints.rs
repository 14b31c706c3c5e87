//! Checkpoints: at a clean stop after a replay, retried when they fail, and held back until the
//! journal has grown to the snapshot's size.

use iot_jobs_emulator::journal::{self, Mode};
use serde_json::{Value, json};

use crate::in_process::start;
use crate::reliability_common::{self, CONTROL, temp_dir};
use crate::support::{eager_checkpoints, recover};

/// The changes a start replays from the journal are in no snapshot yet: a clean stop right
/// after such a start writes the checkpoint that holds them before it deletes the journal.
#[tokio::test]
async fn a_clean_stop_after_a_replay_keeps_the_replayed_changes() {
    let dir = temp_dir("replayed");
    let path = dir.join("state.json");
    let first = start(|c| c.state_file = Some(path.clone())).await;
    first.ok(CONTROL, "POST", "/things/a", json!({})).await;
    drop(first); // a crash: the change is in the journal only
    let second = start(|c| c.state_file = Some(path.clone())).await;
    second.server.shutdown().await.unwrap();
    assert!(journal::segments(&path).unwrap().is_empty(), "a clean stop leaves no journal");
    let third = start(|c| c.state_file = Some(path.clone())).await;
    third.ok(CONTROL, "GET", "/things/a", json!({})).await;
    third.server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A checkpoint that cannot write the snapshot is retried, without a new journal segment per
/// attempt while no change comes in; once the snapshot can be written, it holds every change
/// and the segments it covers are gone.
#[tokio::test]
async fn a_failed_checkpoint_is_retried_without_piling_up_segments() {
    let dir = temp_dir("retry");
    let path = dir.join("state.json");
    let e = start(eager_checkpoints(&path, 1, 100)).await;
    // The snapshot's temporary file cannot be created while a directory has its name.
    let blocked = iot_jobs_emulator::persist::temp_path(&path);
    std::fs::create_dir(&blocked).unwrap();
    for t in ["a", "b", "c"] {
        e.ok(CONTROL, "POST", &format!("/things/{t}"), json!({})).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await; // ≈ 15 attempts
    let segs = journal::segments(&path).unwrap();
    assert!((1..=4).contains(&segs.len()), "a segment per attempt: {segs:?}");
    std::fs::remove_dir(&blocked).unwrap();
    let (_, live) = e.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await;
    let seq = serde_json::from_slice::<Value>(&live).unwrap()["seq"].as_u64().unwrap();
    // The checkpoint writes the snapshot, then deletes the segments it covers: wait for both.
    let (mut on_disk, mut left) = (0, 0);
    for _ in 0..100 {
        on_disk =
            serde_json::from_slice::<Value>(&std::fs::read(&path).unwrap()).unwrap()["seq"].as_u64().unwrap();
        left = journal::segments(&path).unwrap().len();
        if on_disk == seq && left == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(on_disk, seq, "the retried checkpoint holds every change");
    assert_eq!(left, 1, "the segments the checkpoint covers are deleted");
    e.server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A checkpoint that cannot start its new segment (here a directory has its name; a full disk
/// or a directory that cannot be written to does the same) is a failed checkpoint, not a failed
/// journal: the changes go on in the segment they were in, every one acknowledged, and the
/// checkpoint is tried again until it can be written. A start after a crash has every change.
#[tokio::test]
async fn a_checkpoint_that_cannot_start_its_segment_leaves_the_journal_writing() {
    let dir = temp_dir("segment-blocked");
    let path = dir.join("state.json");
    let e = start(eager_checkpoints(&path, 1, 50)).await;
    e.ok(CONTROL, "POST", "/things/a", json!({})).await;
    // Every segment the next checkpoints could start.
    let (first, next) = reliability_common::block_next_segment(&path).await;
    let more: Vec<_> = (next + 2..next + 20).map(|n| journal::segment_path(&path, n)).collect();
    for b in &more {
        std::fs::create_dir(b).unwrap();
    }
    let blocked = [vec![first], more].concat();
    for t in ["b", "c", "d"] {
        e.ok(CONTROL, "POST", &format!("/things/{t}"), json!({})).await;
        tokio::time::sleep(std::time::Duration::from_millis(150)).await; // ≈ 3 attempts each
    }
    let files: Vec<_> = journal::segments(&path).unwrap().into_iter().filter(|(_, p)| p.is_file()).collect();
    assert_eq!(files.len(), 1, "the changes stay in their segment: {files:?}");
    for b in &blocked {
        std::fs::remove_dir(b).unwrap();
    }
    e.ok(CONTROL, "POST", "/things/e", json!({})).await;
    let (_, live) = e.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await;
    let seq = serde_json::from_slice::<Value>(&live).unwrap()["seq"].as_u64().unwrap();
    reliability_common::wait_for_snapshot(&path, seq).await;
    drop(e);
    let st = recover(&path, Mode::Start).unwrap().unwrap();
    for t in ["a", "b", "c", "d", "e"] {
        assert!(st.meta.things.contains_key(t), "{t}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The journal's status once a checkpoint later than `checkpointed` is written (or after 10 s).
async fn checkpoint_after(journal: &journal::Journal, checkpointed: u64) -> journal::Status {
    for _ in 0..200 {
        if journal.status().checkpointed > checkpointed {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    journal.status()
}

/// A checkpoint re-encodes the whole state, so `--checkpoint-records` waits until the journal
/// since the last one has also grown to `--checkpoint-growth` percent of the snapshot: with a
/// large state, a few records write no checkpoint; once they add up to the snapshot's size,
/// one is written. With a growth of 0, the records alone decide.
#[tokio::test]
async fn a_large_state_is_checkpointed_once_the_journal_has_grown_to_its_size() {
    let dir = temp_dir("growth");
    let path = dir.join("state.json");
    // A state of some size, saved by a clean stop.
    let first = start(|c| c.state_file = Some(path.clone())).await;
    let value = "v".repeat(800);
    for i in 0..40 {
        let attrs = json!({"attributePayload": {"attributes": {"a": value, "b": value}}});
        first.ok(CONTROL, "POST", &format!("/things/t{i}"), attrs).await;
    }
    first.server.shutdown().await.unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size > 60_000, "{size} bytes");
    let config = |growth: u32| {
        let path = path.clone();
        move |c: &mut iot_jobs_emulator::Config| {
            c.state_file = Some(path);
            c.checkpoint_records = 1;
            c.checkpoint_growth = growth;
            c.checkpoint_interval = std::time::Duration::from_secs(3600);
        }
    };
    let e = start(config(100)).await;
    let journal = e.server.journal().unwrap();
    assert_eq!(journal.status().snapshot_bytes, size);
    let checkpointed = journal.status().checkpointed;
    // One small change: 1 record, far below the snapshot's size.
    e.ok(CONTROL, "POST", "/things/small", json!({})).await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let s = journal.status();
    assert_eq!(s.checkpointed, checkpointed, "a checkpoint for {} journal bytes", s.journal_bytes);
    assert!(s.journal_bytes > 0 && s.journal_bytes < size / 10, "{} bytes", s.journal_bytes);
    // Changes until the journal since the last checkpoint holds the snapshot's size.
    let mut n = 0;
    while journal.status().journal_bytes < size {
        let attrs = json!({"attributePayload": {"attributes": {"a": value, "b": value}}});
        e.ok(CONTROL, "POST", &format!("/things/more{n}"), attrs).await;
        n += 1;
    }
    let s = checkpoint_after(journal, checkpointed).await;
    assert!(
        s.checkpointed > checkpointed,
        "no checkpoint after {} journal bytes ({n} changes)",
        s.journal_bytes
    );
    assert_eq!(s.snapshot_bytes, std::fs::metadata(&path).unwrap().len());
    e.server.shutdown().await.unwrap();
    // With a growth of 0, one record is enough.
    let e = start(config(0)).await;
    let journal = e.server.journal().unwrap();
    let checkpointed = journal.status().checkpointed;
    e.ok(CONTROL, "POST", "/things/small2", json!({})).await;
    let s = checkpoint_after(journal, checkpointed).await;
    assert!(s.checkpointed > checkpointed, "no checkpoint after one record with a growth of 0");
    e.server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
