//! The journal's replica: the checkpoints and exports it encodes, and its bounded lag.

use iot_jobs_emulator::journal;
use serde_json::{Value, json};

use crate::in_process::start;
use crate::reliability_common::{ARN, CONTROL, temp_dir};
use crate::support::{DATA, eager_checkpoints};

/// The checkpoints are written from the journal's replica (the synced records replayed as a
/// start would), not from the live state: after a varied run, the snapshot on disk equals the
/// live state's export, and the segments it covers are gone.
#[tokio::test]
async fn a_checkpoint_from_the_replica_equals_the_live_state() {
    let dir = temp_dir("replica");
    let path = dir.join("state.json");
    let e = start(eager_checkpoints(&path, 4, 100)).await;
    for i in 0..6 {
        let attrs = json!({"attributePayload": {"attributes": {"n": i.to_string()}}});
        e.ok(CONTROL, "POST", &format!("/things/t{i}"), attrs).await;
    }
    e.ok(CONTROL, "POST", "/thing-groups/g", json!({"thingGroupProperties": {"thingGroupDescription": "d"}}))
        .await;
    let targets: Vec<String> = (0..6).map(|i| format!("{ARN}:thing/t{i}")).collect();
    let timeout = json!({"inProgressTimeoutInMinutes": 1});
    e.ok(CONTROL, "PUT", "/jobs/a", json!({"targets": targets, "document": "{}", "timeoutConfig": timeout}))
        .await;
    e.ok(CONTROL, "PUT", "/jobs/b", json!({"targets": targets, "document": "{\"y\":2}"})).await;
    for i in 0..6 {
        let body = json!({"status": "IN_PROGRESS", "statusDetails": {"i": i.to_string()}});
        e.ok(DATA, "POST", &format!("/things/t{i}/jobs/a"), body).await;
    }
    e.ok(DATA, "POST", "/things/t0/jobs/b", json!({"status": "SUCCEEDED"})).await;
    // Due transitions (the timeouts) are replayed at the records' time.
    e.ok(CONTROL, "POST", "/_emulator/clock", json!({"advanceSeconds": 120})).await;
    e.ok(CONTROL, "PUT", "/jobs/b/cancel", json!({})).await;
    e.ok(CONTROL, "DELETE", "/things/t5", json!({})).await;
    let live: Value = serde_json::from_slice(&e.server.live_state().unwrap()).unwrap();
    let seq = live["seq"].as_u64().unwrap();
    assert!(seq >= 19, "{seq} changes");
    // The checkpoint writes the snapshot, then deletes the segments it covers: wait for both.
    let (mut on_disk, mut segs) = (Value::Null, Vec::new());
    for _ in 0..200 {
        on_disk = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        segs = journal::segments(&path).unwrap();
        if on_disk["seq"].as_u64() == Some(seq) && segs.len() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(on_disk["seq"].as_u64(), Some(seq), "no checkpoint of the last change");
    assert_eq!(on_disk, live, "the replica's snapshot differs from the live state");
    assert_eq!(segs.iter().map(|s| s.0).collect::<Vec<_>>(), vec![seq + 1], "{segs:?}");
    e.server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `GET /_emulator/state` with the journal is encoded by the replica, not under the lock: an
/// export taken while writers run holds every change acknowledged before it began, and is a
/// state the emulator loads; once the writers stop, it equals the live state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_while_writers_run_holds_every_change_acknowledged_before_it() {
    let dir = temp_dir("export-live");
    let path = dir.join("state.json");
    let e = std::sync::Arc::new(start(|c| c.state_file = Some(path.clone())).await);
    const WRITERS: usize = 4;
    let targets: Vec<String> = (0..WRITERS).map(|i| format!("{ARN}:thing/t{i}")).collect();
    for i in 0..WRITERS {
        e.ok(CONTROL, "POST", &format!("/things/t{i}"), json!({})).await;
    }
    e.ok(CONTROL, "PUT", "/jobs/j", json!({"targets": targets, "document": "{}"})).await;
    // Each writer counts in its execution's statusDetails; `acked[i]` is its last answered count.
    let acked: std::sync::Arc<Vec<std::sync::atomic::AtomicU64>> =
        std::sync::Arc::new((0..WRITERS).map(|_| std::sync::atomic::AtomicU64::new(0)).collect());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for i in 0..WRITERS {
        let (e, acked, stop) = (e.clone(), acked.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                n += 1;
                let body = json!({"status": "IN_PROGRESS", "statusDetails": {"n": n.to_string()}});
                e.ok(DATA, "POST", &format!("/things/t{i}/jobs/j"), body).await;
                acked[i].store(n, std::sync::atomic::Ordering::SeqCst);
            }
        }));
    }
    let mut exports = 0;
    while exports < 5 {
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        let before: Vec<u64> = acked.iter().map(|a| a.load(std::sync::atomic::Ordering::SeqCst)).collect();
        let (status, body) = e.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await;
        assert_eq!(status, 200);
        // A state the emulator loads (the import validates it whole), holding every count
        // acknowledged before the export began.
        let other = start(|_| {}).await;
        let (status, answer) = other.send(CONTROL, "POST", "/_emulator/state", body).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
        for (i, acked) in before.iter().enumerate() {
            let (status, got) = other.send(DATA, "GET", &format!("/things/t{i}/jobs/j"), Vec::new()).await;
            assert_eq!(status, 200);
            let got: Value = serde_json::from_slice(&got).unwrap();
            let n: u64 = got["execution"]["statusDetails"]["n"].as_str().unwrap().parse().unwrap();
            assert!(n >= *acked, "writer {i}: {n} in the export, {acked} acknowledged before it began");
        }
        exports += 1;
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    assert!(acked.iter().all(|a| a.load(std::sync::atomic::Ordering::SeqCst) > 0));
    let (_, body) = e.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await;
    let export: Value = serde_json::from_slice(&body).unwrap();
    let live: Value = serde_json::from_slice(&e.server.live_state().unwrap()).unwrap();
    assert_eq!(export, live, "the replica's export differs from the live state");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The replica's lag is bounded: with a bound of one byte and the replica held, a change is
/// synced but its answer waits for the replica; once it runs again, the answer comes. With
/// the default bound the same change is answered while the replica is held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// The replica (a thread) is held by a std lock while the test waits: on purpose.
#[allow(clippy::await_holding_lock)]
async fn a_slow_replica_holds_the_writers_back_past_its_bound() {
    let dir = temp_dir("lag");
    for (bound, waits) in [(1, true), (iot_jobs_emulator::DEFAULT_REPLICA_LAG_BYTES, false)] {
        let path = dir.join(format!("state-{bound}.json"));
        let e = std::sync::Arc::new(
            start(|c| {
                c.state_file = Some(path.clone());
                c.replica_lag_bytes = bound;
            })
            .await,
        );
        e.ok(CONTROL, "POST", "/things/t", json!({})).await;
        let journal = e.server.journal().unwrap();
        let durable = journal.status().durable;
        let held = journal.hold_replica();
        let writer = {
            let e = e.clone();
            tokio::spawn(async move { e.ok(CONTROL, "POST", "/things/u", json!({})).await })
        };
        let mut synced = false;
        for _ in 0..200 {
            if journal.status().durable > durable {
                synced = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(synced, "the change was not synced");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(!writer.is_finished(), waits, "bound {bound}: the answer waits for the replica: {waits}");
        assert!(journal.replica_lag() > 0, "the replica applied the change while held");
        drop(held);
        tokio::time::timeout(std::time::Duration::from_secs(10), writer).await.unwrap().unwrap();
        // Below the bound the writer holds synced records back to hand them over in larger
        // batches; an export hands them over, and the replica applies them.
        e.ok(CONTROL, "GET", "/_emulator/state", json!({})).await;
        for _ in 0..200 {
            if journal.replica_lag() == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(journal.replica_lag(), 0);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
