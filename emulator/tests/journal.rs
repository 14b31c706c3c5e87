//! The write-ahead journal's recovery from torn and corrupted segments, and state export and
//! import (`GET`/`POST /_emulator/state`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod in_process;
#[allow(dead_code)]
mod reliability_common;

use std::path::{Path, PathBuf};

use in_process::{Emu, start};
use iot_jobs_emulator::clock::ClockMode;
use iot_jobs_emulator::journal::{self, Mode};
use iot_jobs_emulator::state::{Caps, State};
use iot_jobs_emulator::wire::Arns;
use reliability_common::{ARN, CONTROL, temp_dir};
use serde_json::{Value, json};

const DATA: &str = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iot-jobs-data/aws4_request, SignedHeaders=host, Signature=00";

impl Emu {
    async fn send(&self, auth: &str, method: &str, path: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = self
            .http
            .request(method, format!("{}{path}", self.url))
            .header("authorization", auth)
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
    }
    async fn ok(&self, auth: &str, method: &str, path: &str, body: Value) -> Value {
        let (status, body) = self.send(auth, method, path, body.to_string().into_bytes()).await;
        assert_eq!(status, 200, "{method} {path}: {}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    }
}

/// The emulator's config for `path` with a checkpoint every `records` changes (none by growth),
/// looked for every `interval_ms`: checkpoints come soon and often.
fn eager_checkpoints(
    path: &Path,
    records: u64,
    interval_ms: u64,
) -> impl FnOnce(&mut iot_jobs_emulator::Config) {
    let path = path.to_path_buf();
    move |c| {
        c.state_file = Some(path);
        c.checkpoint_records = records;
        c.checkpoint_growth = 0;
        c.checkpoint_interval = std::time::Duration::from_millis(interval_ms);
    }
}

fn recover(path: &Path, mode: Mode) -> Result<Option<State>, String> {
    let arns = Arns { region: "us-east-1".into(), account: "123456789012".into() };
    // Small caps: the index is allocated whole at every recovery.
    let caps = Caps { jobs: 8, things: 8, executions: 8, status_details: 8, thing_groups: 8 };
    journal::recover(path, caps, ClockMode::Manual, arns, 0, iot_jobs_core::Policy::DEFAULT, mode)
}

/// A state file with a journal of several records, the last one an UpdateJobExecution; the
/// emulator that wrote it is gone without a checkpoint (as after a crash).
async fn journal_with_records(dir: &Path) -> (PathBuf, PathBuf) {
    let path = dir.join("state.json");
    let e = start(|c| c.state_file = Some(path.clone())).await;
    e.ok(CONTROL, "POST", "/things/t", json!({})).await;
    e.ok(CONTROL, "POST", "/things/u", json!({"attributePayload": {"attributes": {"a": "1"}}})).await;
    let targets = json!({"targets": [format!("{ARN}:thing/t")], "document": "{\"x\":1}"});
    e.ok(CONTROL, "PUT", "/jobs/j", targets).await;
    e.ok(DATA, "POST", "/things/t/jobs/j", json!({"status": "IN_PROGRESS", "statusDetails": {"s": "1"}}))
        .await;
    drop(e);
    let segs = journal::segments(&path).unwrap();
    assert_eq!(segs.len(), 1, "{segs:?}");
    (path, segs[0].1.clone())
}

/// Where each record of a segment starts, and its end.
fn record_bounds(segment: &Path) -> Vec<(usize, usize)> {
    let bytes = std::fs::read(segment).unwrap();
    let first = journal::segments(segment.parent().unwrap().join("state.json").as_path()).unwrap()[0].0;
    let scanned = journal::scan(segment, &bytes, first).unwrap();
    assert!(scanned.torn.is_none());
    let mut off = journal::MAGIC.len();
    let mut out = Vec::new();
    for r in &scanned.records {
        assert_eq!(r.offset, off as u64);
        let len = journal::encode(r.seq, r.now, &r.entry, r.accepted.unwrap(), &r.data).unwrap().len();
        out.push((off, off + len));
        off += len;
    }
    assert_eq!(off as u64, scanned.end);
    assert!(bytes[off..].iter().all(|b| *b == 0), "after the records: the allocated space");
    out
}

fn execution_status(st: &State) -> String {
    let job = iot_jobs_core::JobId::new("j").unwrap();
    let thing = iot_jobs_core::ThingName::new("t").unwrap();
    let view = st.registry.describe_execution(&job, &thing, None, iot_jobs_core::Plane::Data).unwrap();
    format!("{:?}", view.status())
}

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

/// Thing and group ids are UUIDs whose last group (12 hexadecimal digits) counts them: an
/// import may leave one id, which the next CreateThing takes; after it, CreateThing and
/// CreateThingGroup are a 410 and change nothing (`next_id` included), never an id of 13
/// digits or one given twice.
#[tokio::test]
async fn thing_and_group_ids_end_at_twelve_hexadecimal_digits() {
    let e = start(|_| {}).await;
    let (_, exported) = e.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await;
    // The registry's fields are in a fixed order: the text is edited, not re-encoded.
    let text = String::from_utf8(exported).unwrap();
    let edited = text.replacen("\"next_id\":0,", &format!("\"next_id\":{},", 0xFFFF_FFFF_FFFE_u64), 1);
    assert_ne!(edited, text);
    let (status, body) = e.send(CONTROL, "POST", "/_emulator/state", edited.into_bytes()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let last = e.ok(CONTROL, "POST", "/things/last", json!({})).await;
    assert_eq!(last["thingId"], "00000000-0000-4000-8000-ffffffffffff");
    let before = e.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await.1;
    for path in ["/things/one-more", "/thing-groups/one-more"] {
        let (status, body) = e.send(CONTROL, "POST", path, b"{}".to_vec()).await;
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            (status, body["__type"].as_str()),
            (410, Some("LimitExceededException")),
            "{path}: {body}"
        );
        assert!(body["message"].as_str().unwrap().contains("ffffffffffff is given out"), "{body}");
    }
    assert_eq!(
        e.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await.1,
        before,
        "a refusal changed the state"
    );
    e.server.shutdown().await.unwrap();
}

/// `GET /_emulator/state` gives the snapshot; `POST /_emulator/state` on another emulator loads
/// it (and it survives a crash of that one); a bad snapshot is a 400 and changes nothing.
#[tokio::test]
async fn the_state_exports_imports_and_survives_and_a_bad_one_is_refused() {
    let dir = temp_dir("export");
    let first = start(|_| {}).await;
    first.ok(CONTROL, "POST", "/things/t", json!({"attributePayload": {"attributes": {"k": "v"}}})).await;
    first.ok(CONTROL, "POST", "/thing-groups/g", json!({})).await;
    let targets = json!({"targets": [format!("{ARN}:thing/t")], "document": "{\"x\":1}", "description": "d"});
    first.ok(CONTROL, "PUT", "/jobs/j", targets).await;
    first
        .ok(DATA, "POST", "/things/t/jobs/j", json!({"status": "IN_PROGRESS", "statusDetails": {"s": "1"}}))
        .await;
    // A second job, later and with an id before the first's: listed after it.
    first.ok(CONTROL, "POST", "/_emulator/clock", json!({"advanceSeconds": 5})).await;
    first
        .ok(CONTROL, "PUT", "/jobs/i", json!({"targets": [format!("{ARN}:thing/t")], "document": "{}"}))
        .await;
    let (status, exported) = first.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await;
    assert_eq!(status, 200);
    let reads = [
        "/things/t",
        "/thing-groups/g",
        "/jobs",
        "/jobs/j",
        "/jobs/j/job-document",
        "/things/t/jobs/j",
        "/_emulator/clock",
    ];
    let mut before = Vec::new();
    for r in reads {
        before.push(first.ok(CONTROL, "GET", r, json!({})).await);
    }

    let path = dir.join("state.json");
    let second = start(|c| c.state_file = Some(path.clone())).await;
    second.ok(CONTROL, "POST", "/things/other", json!({})).await;
    let (status, body) = second.send(CONTROL, "POST", "/_emulator/state", exported.clone()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    for (r, b) in reads.iter().zip(&before) {
        assert_eq!(&second.ok(CONTROL, "GET", r, json!({})).await, b, "{r}");
    }
    assert_eq!(second.send(CONTROL, "GET", "/things/other", Vec::new()).await.0, 404);

    // Refused imports change nothing: not JSON, the wrong format, over the caps.
    let (_, now) = second.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await;
    let mut wrong_format: Value = serde_json::from_slice(&exported).unwrap();
    wrong_format["format"] = json!(99);
    let mut broken: Value = serde_json::from_slice(&exported).unwrap();
    broken["registry"]["jobs"] = json!("not a list");
    // A manual clock past the last time the registry stores (as POST /_emulator/clock refuses),
    // or earlier than the changes the state holds (the clock never goes back).
    let with_clock = |t: u64| {
        let mut v: Value = serde_json::from_slice(&exported).unwrap();
        v["clock"] = json!(t);
        v.to_string().into_bytes()
    };
    let saved_clock = serde_json::from_slice::<Value>(&exported).unwrap()["clock"].as_u64().unwrap();
    for (bad, words) in [
        (b"not json".to_vec(), "not a state file"),
        (wrong_format.to_string().into_bytes(), "format 99"),
        (broken.to_string().into_bytes(), "not a state file"),
        (with_clock(4_291_747_201), "past 2106-01-01T00:00:00Z"),
        (with_clock(u64::MAX), "past 2106-01-01T00:00:00Z"),
        (with_clock(0), "earlier than the last change it holds"),
        (with_clock(saved_clock - 1), "earlier than the last change it holds"),
    ] {
        let (status, body) = second.send(CONTROL, "POST", "/_emulator/state", bad).await;
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!((status, body["__type"].as_str()), (400, Some("InvalidRequestException")), "{body}");
        assert!(body["message"].as_str().unwrap().contains(words), "{body}");
        assert_eq!(second.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await.1, now);
    }
    let small = start(|c| c.caps.things = 0).await;
    let (status, body) = small.send(CONTROL, "POST", "/_emulator/state", exported.clone()).await;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("--max-things 1"), "{}", String::from_utf8_lossy(&body));

    // The import is journalled: a crash of the second emulator loses nothing.
    drop((first, second, small));
    let third = start(|c| c.state_file = Some(path.clone())).await;
    for (r, b) in reads.iter().zip(&before) {
        assert_eq!(&third.ok(CONTROL, "GET", r, json!({})).await, b, "{r}");
    }
    third.server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A snapshot larger than the body limit of every other request (`--max-body-bytes`, 1 MiB)
/// loads: `POST /_emulator/state` has its own, `--max-state-bytes`, and what `GET` gave, `POST`
/// takes back. Over that limit: a 413 that names the flag, and nothing changed. The import is
/// one journal record, so the limit cannot pass what a record holds.
#[tokio::test]
async fn a_snapshot_larger_than_the_body_limit_loads_within_its_own_limit() {
    let dir = temp_dir("large-import");
    let first = start(|_| {}).await;
    // 30 things of 50 attributes of about 930 bytes each: about 1.4 MB.
    let attrs: serde_json::Map<String, Value> =
        (0..50).map(|i| (format!("{i:0>128}"), json!(format!("{i:=>800}")))).collect();
    for t in 0..30 {
        first
            .ok(CONTROL, "POST", &format!("/things/t{t}"), json!({"attributePayload": {"attributes": attrs}}))
            .await;
    }
    let (status, exported) = first.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await;
    assert_eq!(status, 200);
    assert!(exported.len() > iot_jobs_emulator::DEFAULT_BODY_LIMIT, "{}", exported.len());
    let before = first.ok(CONTROL, "GET", "/things/t29", json!({})).await;

    // A limit one byte short of the snapshot: 413 naming the flag and the limit; nothing changed.
    let short = exported.len() - 1;
    let small = start(|c| c.state_limit = short).await;
    small.ok(CONTROL, "POST", "/things/kept", json!({})).await;
    let (_, kept) = small.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await;
    let (status, body) = small.send(CONTROL, "POST", "/_emulator/state", exported.clone()).await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, body["__type"].as_str()), (413, Some("RequestEntityTooLargeException")), "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains(&format!("larger than {short} bytes (--max-state-bytes)")), "{message}");
    assert_eq!(small.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await.1, kept);
    // Every other request keeps its own limit, and its 413 names its own flag.
    let (status, body) = small.send(CONTROL, "POST", "/things/big", exported.clone()).await;
    assert_eq!(status, 413);
    assert!(
        String::from_utf8_lossy(&body).contains("(--max-body-bytes)"),
        "{}",
        String::from_utf8_lossy(&body)
    );

    // The default limit takes it, with the journal; a restart finds it again.
    let path = dir.join("state.json");
    let second = start(|c| c.state_file = Some(path.clone())).await;
    let (status, body) = second.send(CONTROL, "POST", "/_emulator/state", exported.clone()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(second.ok(CONTROL, "GET", "/things/t29", json!({})).await, before);
    drop((first, second, small));
    let third = start(|c| c.state_file = Some(path.clone())).await;
    assert_eq!(third.ok(CONTROL, "GET", "/things/t29", json!({})).await, before);
    third.server.shutdown().await.unwrap();

    // A limit past what one journal record holds stops the start, saying so.
    let config = iot_jobs_emulator::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        state_limit: iot_jobs_emulator::MAX_STATE_LIMIT + 1,
        ..Default::default()
    };
    let Err(e) = iot_jobs_emulator::start(config).await else { panic!("started") };
    assert!(e.to_string().contains(&format!("is more than {}", iot_jobs_emulator::MAX_STATE_LIMIT)), "{e}");
    // The number `--help` and the README give; the limit itself starts.
    assert_eq!(iot_jobs_emulator::MAX_STATE_LIMIT, 1_065_353_216);
    let largest = start(|c| c.state_limit = iot_jobs_emulator::MAX_STATE_LIMIT).await;
    largest.server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

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

/// An import (or a state file) whose registry and payloads disagree, or whose payloads the API
/// would have refused, is a 400 naming the item, and changes nothing: the emulator never makes
/// such a state, and loading one would answer ListThings and DescribeThing differently, or let a
/// thing created later join a group it was never added to.
#[tokio::test]
async fn an_import_that_does_not_add_up_is_refused_naming_the_item() {
    let e = start(|_| {}).await;
    e.ok(CONTROL, "POST", "/things/t", json!({"attributePayload": {"attributes": {"k": "v"}}})).await;
    e.ok(CONTROL, "POST", "/thing-groups/g", json!({})).await;
    e.ok(CONTROL, "POST", "/things/t2", json!({})).await;
    e.ok(
        CONTROL,
        "PUT",
        "/thing-groups/addThingToThingGroup",
        json!({"thingGroupName": "g", "thingName": "t"}),
    )
    .await;
    let job = json!({"targets": [format!("{ARN}:thing/t")], "document": "{}", "tags": [{"Key": "k", "Value": "v"}]});
    e.ok(CONTROL, "PUT", "/jobs/j", job).await;
    e.ok(DATA, "POST", "/things/t/jobs/j", json!({"status": "IN_PROGRESS"})).await;
    let (_, exported) = e.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await;
    // The registry's fields are in a fixed order: it is kept as text, the rest edited as JSON.
    #[derive(serde::Deserialize)]
    struct Parts {
        format: u64,
        seq: u64,
        clock: Option<u64>,
        meta: Value,
        registry: Box<serde_json::value::RawValue>,
    }
    let parts: Parts = serde_json::from_slice(&exported).unwrap();
    let good = json!({"format": parts.format, "seq": parts.seq, "clock": parts.clock, "meta": parts.meta,
        "registry": parts.registry.get()});
    let text = |v: &Value| {
        format!(
            r#"{{"format":{},"seq":{},"clock":{},"meta":{},"registry":{}}}"#,
            v["format"],
            v["seq"],
            v["clock"],
            v["meta"],
            v["registry"].as_str().unwrap()
        )
    };
    let (status, body) = e.send(CONTROL, "POST", "/_emulator/state", exported.clone()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let mut before =
        String::from_utf8(e.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await.1).unwrap();
    type Edit = fn(&mut Value);
    // The registry as text, with its first `from` replaced by `to`.
    fn registry(v: &mut Value, from: &str, to: &str) {
        let r = v["registry"].as_str().unwrap();
        assert!(r.contains(from), "{from} is not in {r}");
        v["registry"] = json!(r.replacen(from, to, 1));
    }
    // The first time `field` of the registry (all made at the manual clock's time) one second
    // past the clock.
    fn later(v: &mut Value, field: &str) {
        let clock = v["clock"].as_u64().unwrap();
        registry(v, &format!("\"{field}\":{clock}"), &format!("\"{field}\":{}", clock + 1));
    }
    let cases: &[(Edit, &str)] = &[
        (
            |v| drop(v["meta"]["things"].as_object_mut().unwrap().remove("t")),
            "thing t is in the registry but has no payloads",
        ),
        (
            |v| v["meta"]["things"]["u"] = v["meta"]["things"]["t"].clone(),
            "thing u has payloads but is not in the registry",
        ),
        (
            |v| v["meta"]["jobs"]["j"]["document"] = Value::Null,
            "job j: it needs one of document and documentSource",
        ),
        (
            |v| v["meta"]["jobs"]["j"]["document_source"] = json!("s3://b/k"),
            "job j: it needs one of document and documentSource",
        ),
        (|v| v["meta"]["jobs"]["j"]["targets"] = json!([]), "job j: at least one target is required"),
        (
            |v| drop(v["meta"]["jobs"].as_object_mut().unwrap().remove("j")),
            "job j is in the registry but has no payloads",
        ),
        (
            |v| v["meta"]["groups"]["g"]["members"] = json!(["t", "later"]),
            "thing group g has the member later, which is not a thing",
        ),
        (|v| v["meta"]["next_id"] = json!(1), "which next_id 1 has not given out"),
        (|v| v["meta"]["next_id"] = json!(1_u64 << 48), "next_id 281474976710656 is past the last id"),
        (
            |v| v["meta"]["groups"]["g"]["id"] = v["meta"]["things"]["t"]["id"].clone(),
            "thing group g and thing t have one id",
        ),
        (|v| v["meta"]["things"]["t"]["version"] = json!(0), "thing t: version 0"),
        (
            |v| v["meta"]["things"]["t"]["attributes"] = json!({"bad key!": "v"}),
            "thing t: attributePayload.attributes name",
        ),
        (
            |v| v["meta"]["tags"]["job/j"] = json!({"aws:k": "v"}),
            "the tags of job/j: tags.Key \"aws:k\" starts with aws:",
        ),
        (
            |v| {
                let r = v["registry"].as_str().unwrap();
                v["registry"] = json!(r.replacen(
                    r#""id":"j","status":"IN_PROGRESS""#,
                    r#""id":"j","status":"COMPLETED""#,
                    1
                ));
            },
            "execution 1 of job j on thing t is IN_PROGRESS, which a COMPLETED job cannot hold",
        ),
        // 1. The thing groups and things a job's payloads keep are those its targets name, and
        // the things the registry counts as its targets.
        (
            |v| v["meta"]["jobs"]["j"]["groups"] = json!(["g"]),
            "job j: its thing groups {\"g\"} and things {\"t\"} are not those its targets name: groups {}, things {\"t\"}",
        ),
        (
            |v| v["meta"]["jobs"]["j"]["things"] = json!([]),
            "job j: its thing groups {} and things {} are not those its targets name",
        ),
        (
            |v| {
                registry(v, r#""targets":1,"#, r#""targets":0,"#);
                registry(v, r#""pairs":[["t",1,[0,0],true]]"#, r#""pairs":[["t",1,[0,0],false]]"#);
            },
            "job j targets thing t, which the registry does not count among its targets",
        ),
        (
            |v| {
                registry(v, r#""targets":1,"#, r#""targets":2,"#);
                registry(v, r#"[["t",1,[0,0],true]]"#, r#"[["t",1,[0,0],true],["t2",null,[0,0],true]]"#);
            },
            "job j: the registry counts 2 targets, but its targets name 1 things and no thing group",
        ),
        (
            |v| registry(v, r#""targets":1,"#, r#""targets":2,"#),
            "job j counts 2 targets, but 1 of its pairs are marked as targets",
        ),
        // 2. What an ended job cannot hold: a CANCELED job no QUEUED execution, and one canceled
        // with force no IN_PROGRESS one either.
        (
            |v| {
                registry(v, r#""id":"j","status":"IN_PROGRESS""#, r#""id":"j","status":"CANCELED""#);
                registry(
                    v,
                    r#""status":"IN_PROGRESS","forceCanceled""#,
                    r#""status":"QUEUED","forceCanceled""#,
                );
            },
            "execution 1 of job j on thing t is QUEUED, which a CANCELED job cannot hold",
        ),
        (
            |v| {
                registry(v, r#""id":"j","status":"IN_PROGRESS""#, r#""id":"j","status":"CANCELED""#);
                registry(v, r#""forceCanceled":false,"targets""#, r#""forceCanceled":true,"targets""#);
            },
            "execution 1 of job j on thing t is IN_PROGRESS, which a CANCELED job with forceCanceled cannot hold",
        ),
        // 3. ARNs of another account or region.
        (
            |v| v["meta"]["jobs"]["j"]["targets"] = json!(["arn:aws:iot:us-east-1:999999999999:thing/t"]),
            "job j: arn:aws:iot:us-east-1:999999999999:thing/t does not exist: this emulator's resources are in region us-east-1, account 123456789012",
        ),
        (
            |v| v["meta"]["jobs"]["j"]["targets"] = json!(["arn:aws:iot:eu-west-1:123456789012:thing/t"]),
            "job j: arn:aws:iot:eu-west-1:123456789012:thing/t does not exist",
        ),
        // 4. More than the API's bounds.
        (
            |v| v["meta"]["jobs"]["j"]["targets"] = json!(vec![format!("{ARN}:thing/t"); 101]),
            "job j: a job may have at most 100 targets",
        ),
        (|v| v["meta"]["jobs"]["j"]["comment"] = json!("c".repeat(100_000)), "job j: comment"),
        (
            |v| {
                let p: serde_json::Map<String, Value> =
                    (0..51).map(|i| (format!("p{i}"), json!("v"))).collect();
                v["meta"]["jobs"]["j"]["document_parameters"] = Value::Object(p);
            },
            "job j: documentParameters",
        ),
        (
            |v| v["meta"]["jobs"]["j"]["destination_package_versions"] = json!(["not an arn"]),
            "job j: destinationPackageVersions",
        ),
        // 5. A template ARN that is none of this emulator's; ids of another form.
        (
            |v| v["meta"]["jobs"]["j"]["job_template_arn"] = json!(format!("{ARN}:thing/t")),
            "is not a job template ARN",
        ),
        (
            |v| {
                v["meta"]["jobs"]["j"]["job_template_arn"] =
                    json!("arn:aws:iot:us-east-1::jobtemplate/Nope:1.0")
            },
            "names no AWS managed template the emulator has",
        ),
        (
            |v| {
                v["meta"]["jobs"]["j"]["job_template_arn"] =
                    json!("arn:aws:iot:us-east-1:999999999999:jobtemplate/tpl")
            },
            "job j: arn:aws:iot:us-east-1:999999999999:jobtemplate/tpl does not exist: this emulator's resources are in region us-east-1",
        ),
        (
            |v| v["meta"]["things"]["t"]["id"] = json!("my-thing-id"),
            "thing t has the id \"my-thing-id\", which is not an id the emulator makes",
        ),
        (
            |v| v["meta"]["groups"]["g"]["id"] = json!("00000000-0000-4000-8000-00000000000A"),
            "thing group g has the id \"00000000-0000-4000-8000-00000000000A\", which is not an id the emulator makes",
        ),
        (
            |v| v["meta"]["things"]["t"]["id"] = json!("00000000-0000-4000-8000-000000000000"),
            "which next_id 3 has not given out",
        ),
        // 6. Version 0, numbers and versions past i64::MAX.
        (
            |v| registry(v, r#""number":1,"version":2,"#, r#""number":1,"version":0,"#),
            "execution 1 of job j on thing t has version 0: execution numbers and versions start at 1",
        ),
        (
            |v| registry(v, r#""number":1,"version":2,"#, r#""number":0,"version":2,"#),
            "execution 0 of job j on thing t has version 2",
        ),
        (
            |v| registry(v, r#""number":1,"version":2,"#, r#""number":1,"version":9223372036854775808,"#),
            "expectedVersion must be between 0 and 9223372036854775807",
        ),
        (
            |v| registry(v, r#""number":1,"version":2,"#, r#""number":9223372036854775808,"version":2,"#),
            "executionNumber must be between 0 and 9223372036854775807",
        ),
        (
            |v| v["meta"]["things"]["t"]["version"] = json!(u64::MAX),
            "thing t: version 18446744073709551615: versions go from 1 to 9223372036854775807",
        ),
        // 7. Tags of resources that do not exist.
        (|v| v["meta"]["tags"]["job/nope"] = json!({"k": "v"}), "the tags of job/nope: no such resource"),
        (|v| v["meta"]["tags"]["thing/t"] = json!({"k": "v"}), "the tags of thing/t: no such resource"),
        (
            |v| v["meta"]["tags"]["thinggroup/nope"] = json!({"k": "v"}),
            "the tags of thinggroup/nope: no such resource",
        ),
        // 8. Times after the manual clock.
        (|v| later(v, "createdAt"), "earlier than the last change it holds"),
        (|v| later(v, "createdAt"), "the createdAt of job j)"),
        (|v| later(v, "queuedAt"), "the queuedAt of execution 1 of job j on thing t)"),
        (|v| later(v, "startedAt"), "the startedAt of execution 1 of job j on thing t)"),
        (
            |v| {
                let clock = v["clock"].as_u64().unwrap();
                registry(v, r#""completedAt":null"#, &format!(r#""completedAt":{}"#, clock + 1));
            },
            "the completedAt of job j)",
        ),
        (
            |v| v["meta"]["groups"]["g"]["created_at"] = json!(v["clock"].as_u64().unwrap() + 1),
            "the creation of thing group g)",
        ),
        // 9. A pair's `highest` below its executions' numbers.
        (
            |v| registry(v, r#""pairs":[["t",1,"#, r#""pairs":[["t",null,"#),
            "execution 1 of job j on thing t breaks the numbering (the pair's highest is 0)",
        ),
        // 10. A thing-group member listed twice.
        (
            |v| v["meta"]["groups"]["g"]["members"] = json!(["t", "t"]),
            "thing group g: it lists the member t twice",
        ),
    ];
    let mut failed = Vec::new();
    for (edit, words) in cases {
        let mut bad = good.clone();
        edit(&mut bad);
        assert_ne!(bad, good, "{words}: the edit changed nothing");
        let (status, body) = e.send(CONTROL, "POST", "/_emulator/state", text(&bad).into_bytes()).await;
        if status == 200 {
            failed.push(format!("{words}: accepted"));
            // Back to the state before, for the next case.
            let (status, _) = e.send(CONTROL, "POST", "/_emulator/state", text(&good).into_bytes()).await;
            assert_eq!(status, 200);
            before =
                String::from_utf8(e.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await.1).unwrap();
            continue;
        }
        let body: Value = serde_json::from_slice(&body).unwrap();
        let refused = (status, body["__type"].as_str()) == (400, Some("InvalidRequestException"))
            && body["message"].as_str().unwrap_or_default().contains(words);
        if !refused {
            failed.push(format!("{words}: {status} {body}"));
        }
        let after =
            String::from_utf8(e.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await.1).unwrap();
        assert!(after == before, "{words}: the state changed");
    }
    assert!(failed.is_empty(), "not refused as expected:\n{}", failed.join("\n"));
    // An item listed twice in its map (JSON allows it; a map would keep the last one).
    for (kind, name, what) in
        [("things", "t", "thing t"), ("groups", "g", "thing group g"), ("jobs", "j", "job j")]
    {
        let item = good["meta"][kind][name].to_string();
        let once = format!(r#""{kind}":{{"{name}":{item}"#);
        let full = text(&good);
        assert!(full.contains(&once), "{kind}: {full}");
        let twice = full.replacen(&once, &format!(r#""{kind}":{{"{name}":{item},"{name}":{item}"#), 1);
        let (status, body) = e.send(CONTROL, "POST", "/_emulator/state", twice.into_bytes()).await;
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, 400, "{what}: {body}");
        assert!(body.contains(&format!("{what} is listed twice")), "{body}");
        let after =
            String::from_utf8(e.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await.1).unwrap();
        assert!(after == before, "{what}: the state changed");
    }
    // A CANCELED job keeps an IN_PROGRESS execution when canceled without force: that imports.
    e.ok(CONTROL, "PUT", "/jobs/j/cancel", json!({})).await;
    let (_, canceled) = e.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await;
    assert!(String::from_utf8_lossy(&canceled).contains(r#""status":"IN_PROGRESS","forceCanceled":false"#));
    let (status, body) = e.send(CONTROL, "POST", "/_emulator/state", canceled).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    // The same at start, from a state file.
    let dir = temp_dir("bad-snapshot");
    let path = dir.join("state.json");
    let mut bad = good.clone();
    bad["meta"]["groups"]["g"]["members"] = json!(["t", "later"]);
    std::fs::write(&path, text(&bad)).unwrap();
    let config = iot_jobs_emulator::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        clock: ClockMode::Manual,
        state_file: Some(path.clone()),
        ..Default::default()
    };
    let Err(err) = iot_jobs_emulator::start(config).await else { panic!("started") };
    assert!(err.to_string().contains("thing group g has the member later, which is not a thing"), "{err}");
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
        (Some(3), &json!(true))
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
