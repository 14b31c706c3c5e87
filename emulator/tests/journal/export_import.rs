//! State export and import (`GET`/`POST /_emulator/state`): round trips, refusals, their body
//! limit, and the last ids an import can leave.

use serde_json::{Value, json};

use crate::in_process::start;
use crate::reliability_common::{ARN, CONTROL, temp_dir};
use crate::support::DATA;

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
