//! Recovery from torn and corrupted segments, and from segments grown past their first chunk.

use iot_jobs_emulator::clock::ClockMode;
use iot_jobs_emulator::journal::{self, Mode};
use iot_jobs_emulator::state::Caps;
use serde_json::json;

use crate::in_process::start;
use crate::reliability_common::{ARN, CONTROL, temp_dir};
use crate::support::{DATA, execution_status, journal_with_records, record_bounds, recover};

/// A segment cut at every byte of its last record (a write interrupted by a crash) recovers:
/// the torn record is cut off the file, and the state is that of the records before it.
#[tokio::test]
async fn a_journal_cut_at_every_byte_of_its_last_record_recovers_without_it() {
    let dir = temp_dir("torn");
    let (path, segment) = journal_with_records(&dir).await;
    let bounds = record_bounds(&segment);
    let (start_last, end) = *bounds.last().unwrap();
    let whole = recover(&path, Mode::UpTo(u64::MAX)).unwrap().unwrap();
    assert_eq!(execution_status(&whole), "InProgress");
    let bytes = std::fs::read(&segment).unwrap();
    let snapshot = std::fs::read(&path).unwrap();
    // Cut off where the file ends (a write past the allocated space), or written only partly
    // into the zeros allocated ahead of it (the segment keeps its length).
    let padded = |cut: usize| {
        let mut b = bytes[..cut].to_vec();
        b.resize(bytes.len(), 0);
        b
    };
    let cases = (start_last..end)
        .map(|cut| (cut, bytes[..cut].to_vec()))
        .chain((start_last + 1..end).map(|cut| (cut, padded(cut))));
    for (cut, torn) in cases {
        let case = dir.join(format!("cut-{cut}"));
        std::fs::create_dir_all(&case).unwrap();
        let p = case.join("state.json");
        std::fs::write(&p, &snapshot).unwrap();
        let seg = case.join(segment.file_name().unwrap());
        std::fs::write(&seg, &torn).unwrap();
        let st = recover(&p, Mode::Start).unwrap_or_else(|e| panic!("cut at {cut}: {e}")).unwrap();
        assert_eq!(st.generation, whole.generation - 1, "cut at {cut}");
        assert_eq!(execution_status(&st), "Queued", "cut at {cut}");
        assert!(st.meta.things.contains_key("u"), "cut at {cut}");
        // The torn record is cut off the file.
        assert_eq!(std::fs::metadata(&seg).unwrap().len(), start_last as u64, "cut at {cut}");
        std::fs::remove_dir_all(&case).unwrap();
    }
    // A final record whose payload fails its CRC (written partly, as after a power loss) is
    // torn too; an all-zero tail is the space allocated ahead of the records, kept as it is.
    let mut bad_last = bytes.clone();
    bad_last[end - 1] ^= 1;
    let mut zeros = bytes.clone();
    zeros.extend_from_slice(&[0; 4096]);
    let zeros_len = zeros.len();
    for (what, case_bytes, kept, cut_at) in
        [("bad last CRC", bad_last, "Queued", start_last), ("zero tail", zeros, "InProgress", zeros_len)]
    {
        let case = dir.join("case");
        std::fs::create_dir_all(&case).unwrap();
        let p = case.join("state.json");
        std::fs::write(&p, &snapshot).unwrap();
        let seg = case.join(segment.file_name().unwrap());
        std::fs::write(&seg, &case_bytes).unwrap();
        let st = recover(&p, Mode::Start).unwrap_or_else(|e| panic!("{what}: {e}")).unwrap();
        assert_eq!(execution_status(&st), kept, "{what}");
        assert_eq!(std::fs::metadata(&seg).unwrap().len(), cut_at as u64, "{what}");
        std::fs::remove_dir_all(&case).unwrap();
    }
    // An emulator starts on a torn journal and goes on from the last whole record.
    std::fs::write(&segment, &bytes[..end - 3]).unwrap();
    let e = start(|c| c.state_file = Some(path.clone())).await;
    let got = e.ok(CONTROL, "GET", "/things/t/jobs/j", json!({})).await;
    assert_eq!(got["execution"]["status"], "QUEUED");
    e.ok(DATA, "POST", "/things/t/jobs/j", json!({"status": "IN_PROGRESS"})).await;
    e.server.shutdown().await.unwrap();
    let st = recover(&path, Mode::Start).unwrap().unwrap();
    assert_eq!(execution_status(&st), "InProgress");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A bit flipped anywhere in a record before the last one (every bit of the first record is
/// tried) stops the start with an error naming the segment and the record's offset, and
/// leaves every file as it was.
#[tokio::test]
async fn a_flipped_bit_before_the_tail_refuses_the_start_and_changes_no_file() {
    let dir = temp_dir("flipped");
    let (path, segment) = journal_with_records(&dir).await;
    let bounds = record_bounds(&segment);
    assert!(bounds.len() >= 3);
    let (first_start, first_end) = bounds[0];
    let bytes = std::fs::read(&segment).unwrap();
    let snapshot = std::fs::read(&path).unwrap();
    for at in first_start..first_end {
        for bit in 0..8 {
            let mut bad = bytes.clone();
            bad[at] ^= 1 << bit;
            std::fs::write(&segment, &bad).unwrap();
            let e =
                recover(&path, Mode::Start).err().unwrap_or_else(|| panic!("byte {at} bit {bit}: started"));
            assert!(e.contains(&segment.display().to_string()), "{e}");
            assert!(e.contains(&format!("offset {first_start}")), "byte {at} bit {bit}: {e}");
            assert_eq!(std::fs::read(&segment).unwrap(), bad, "byte {at} bit {bit}: the segment changed");
            assert_eq!(std::fs::read(&path).unwrap(), snapshot);
        }
    }
    // The emulator refuses to start, with the same message, and changes nothing either.
    let mid = (bounds[1].0 + bounds[1].1) / 2;
    let mut bad = bytes.clone();
    bad[mid] ^= 0x10;
    std::fs::write(&segment, &bad).unwrap();
    let mut config = iot_jobs_emulator::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        clock: ClockMode::Manual,
        state_file: Some(path.clone()),
        ..Default::default()
    };
    config.caps = Caps::default();
    let Err(e) = iot_jobs_emulator::start(config).await else { panic!("started on a corrupt journal") };
    let e = e.to_string();
    assert!(
        e.contains(&segment.display().to_string()) && e.contains(&format!("offset {}", bounds[1].0)),
        "{e}"
    );
    assert_eq!(std::fs::read(&segment).unwrap(), bad);
    assert_eq!(std::fs::read(&path).unwrap(), snapshot);
    assert_eq!(journal::segments(&path).unwrap().len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A segment grows 1 MiB of zeros at a time ahead of its records: past the first chunk the
/// records go on in the next one, and a start after a crash replays every one of them.
#[tokio::test]
async fn records_past_the_first_allocated_chunk_are_replayed() {
    let dir = temp_dir("grow");
    let path = dir.join("state.json");
    let e = start(|c| c.state_file = Some(path.clone())).await;
    e.ok(CONTROL, "POST", "/things/t", json!({})).await;
    e.ok(CONTROL, "PUT", "/jobs/j", json!({"targets": [format!("{ARN}:thing/t")], "document": "{}"})).await;
    let filler = "x".repeat(900);
    let n = 1300; // ≈ 1.3 MB of records
    for i in 0..n {
        let body = json!({"status": "IN_PROGRESS", "statusDetails": {"i": i.to_string(), "f": filler}});
        e.ok(DATA, "POST", "/things/t/jobs/j", body).await;
    }
    drop(e); // a crash: every update is in the one segment
    let segs = journal::segments(&path).unwrap();
    assert_eq!(segs.len(), 1, "{segs:?}");
    let len = std::fs::metadata(&segs[0].1).unwrap().len();
    assert_eq!(len, 2 * journal::PREALLOCATE, "grown by whole chunks");
    let st = recover(&path, Mode::Start).unwrap().unwrap();
    assert_eq!(st.generation, n + 2);
    let again = start(|c| c.state_file = Some(path.clone())).await;
    let got = again.ok(CONTROL, "GET", "/things/t/jobs/j", json!({})).await;
    assert_eq!(got["execution"]["statusDetails"]["detailsMap"]["i"], (n - 1).to_string(), "{got}");
    again.server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
