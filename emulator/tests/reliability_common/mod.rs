//! What both reliability test files share.

use std::path::PathBuf;
use std::time::Duration;

/// A control-plane `Authorization` header (any signature: the emulator reads only the service).
pub const CONTROL: &str =
    "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iot/aws4_request, SignedHeaders=host, Signature=00";
/// The ARN prefix of the default region and account.
pub const ARN: &str = "arn:aws:iot:us-east-1:123456789012";

/// Generous bound for what must happen (it fails the test, it measures nothing).
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A fresh directory under the system's temporary directory.
pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("iot-jobs-emulator-reliability-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("a temporary directory");
    d
}

/// Waits until a checkpoint of the state file `path` has covered every change: one segment
/// left, holding no record. Returns its first record's number (the next change's) and path.
async fn covered(path: &std::path::Path) -> (u64, PathBuf) {
    use iot_jobs_emulator::journal::{scan, segments};
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let segs = segments(path).unwrap();
        if let [(first, seg)] = segs.as_slice()
            && std::fs::read(seg).is_ok_and(|b| scan(seg, &b, *first).is_ok_and(|s| s.records.is_empty()))
        {
            return (*first, seg.clone());
        }
        assert!(std::time::Instant::now() < deadline, "no checkpoint covered the changes: {segs:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Makes the checkpoints of the state file `path` fail to start their segment: once a
/// checkpoint has covered every change, puts a directory where the following segment goes.
/// Returns the blocked path and the sequence number of the next change.
#[allow(dead_code)]
pub async fn block_next_segment(path: &std::path::Path) -> (PathBuf, u64) {
    let (first, _) = covered(path).await;
    let blocked = iot_jobs_emulator::journal::segment_path(path, first + 1);
    std::fs::create_dir(&blocked).unwrap();
    (blocked, first)
}

/// Makes the journal of the state file `path` fail at its next write: once a checkpoint has
/// covered every change, deletes the segment being written (as removing its directory would),
/// so the next change is synced to a file no start reads. Returns the segment's path.
#[allow(dead_code)]
pub async fn delete_current_segment(path: &std::path::Path) -> PathBuf {
    let (_, seg) = covered(path).await;
    std::fs::remove_file(&seg).unwrap();
    seg
}

/// Waits until the snapshot at `path` holds the change `seq`.
#[allow(dead_code)]
pub async fn wait_for_snapshot(path: &std::path::Path, seq: u64) {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let saved: Option<serde_json::Value> =
            std::fs::read(path).ok().and_then(|b| serde_json::from_slice(&b).ok());
        if saved.as_ref().and_then(|v| v["seq"].as_u64()).is_some_and(|s| s >= seq) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "no snapshot of change {seq}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
