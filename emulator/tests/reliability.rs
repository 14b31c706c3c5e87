//! Hostile and unlucky clients against an in-process emulator: bodies refused before they are
//! read, bounded input (everything accepted can be saved and loaded again), a failed save that
//! changes nothing, and persistence errors that name the file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod reliability_common;

use std::time::Duration;

mod in_process;

use in_process::{Emu, start};
use iot_jobs_emulator::Config;
use iot_jobs_emulator::clock::ClockMode;
use iot_jobs_emulator::state::Caps;
use reliability_common::{ARN, CONTROL, PATIENCE, delete_current_segment, temp_dir};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug)]
struct Got {
    status: u16,
    body: Value,
}

impl Got {
    fn ok(self) -> Value {
        assert_eq!(self.status, 200, "{self:?}");
        self.body
    }
    /// A 400 `InvalidRequestException` whose message holds every one of `words`.
    fn invalid(&self, words: &[&str]) {
        assert_eq!(self.status, 400, "{self:?}");
        assert_eq!(self.body["__type"], "InvalidRequestException", "{self:?}");
        let m = self.body["message"].as_str().unwrap_or("");
        for w in words {
            assert!(m.contains(w), "{w:?} not in {m:?}");
        }
    }
    fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or("")
    }
}

impl Emu {
    async fn send(&self, method: &str, path: &str, body: Option<Vec<u8>>) -> Got {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req =
            self.http.request(method, format!("{}{path}", self.url)).header("authorization", CONTROL);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap();
        let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() };
        Got { status, body }
    }
    async fn ctl(&self, method: &str, path: &str, body: Value) -> Got {
        self.send(method, path, Some(body.to_string().into_bytes())).await
    }
    async fn get(&self, path: &str) -> Got {
        self.send("GET", path, None).await
    }
}

/// Sends `request` on a new connection and returns what the server answered until it closed
/// the connection or `PATIENCE` passed.
async fn raw(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => {
                out.extend_from_slice(&buf[..n]);
                // One answer is enough: stop at the end of its body.
                let text = String::from_utf8_lossy(&out);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length: ").map(str::to_owned)
                        })
                        .and_then(|v| v.trim().parse::<usize>().ok());
                    if len.is_some_and(|n| body.len() >= n) {
                        break;
                    }
                }
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn status_line(answer: &str) -> &str {
    answer.lines().next().unwrap_or("")
}

// ---- bodies refused before they are read --------------------------------------------------------------

#[tokio::test]
async fn oversized_and_unreadable_bodies_are_refused_before_they_are_read() {
    let e = start(|_| {}).await;
    let addr = e.server.addr;
    // A Content-Length over the limit: 413 at once, although no byte of the body is sent (the
    // server must not wait for it).
    let a = raw(addr, b"POST /things/t HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n").await;
    assert!(status_line(&a).starts_with("HTTP/1.1 413"), "{a}");
    assert!(a.contains("RequestEntityTooLargeException") && a.contains("1048576"), "{a}");
    // Expect: 100-continue with a body over the limit: 413, never `100 Continue`.
    let a = raw(
        addr,
        b"POST /things/t HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n",
    )
    .await;
    assert!(status_line(&a).starts_with("HTTP/1.1 413"), "{a}");
    assert!(!a.contains("100 Continue"), "{a}");
    // Expect: 100-continue with a body within the limit still works.
    let mut s = TcpStream::connect(addr).await.unwrap();
    let body = br#"{"attributePayload":{"attributes":{"a":"b"}}}"#;
    let head = format!(
        "POST /things/t100 HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = [0u8; 256];
    let n = tokio::time::timeout(PATIENCE, s.read(&mut buf)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 100 Continue"));
    s.write_all(body).await.unwrap();
    let mut rest = [0u8; 1024];
    let n = tokio::time::timeout(PATIENCE, s.read(&mut rest)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&rest[..n]).contains("200 OK"));
    // A client that writes its whole over-limit body before it reads (as most do) gets the 413:
    // the server reads and drops the body while the answer goes out, instead of resetting.
    for size in [(1 << 20) + 1, 3 << 20] {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let head = format!("PUT /jobs/big HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n\r\n");
        s.write_all(head.as_bytes()).await.unwrap();
        // The headers alone let the server answer first (as when a client sends them in a packet
        // of their own); the body follows.
        tokio::time::sleep(Duration::from_millis(100)).await;
        tokio::time::timeout(PATIENCE, s.write_all(&vec![b' '; size])).await.unwrap().unwrap();
        let mut buf = [0u8; 64];
        let n = tokio::time::timeout(PATIENCE, s.read(&mut buf)).await.unwrap().unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 413"), "{size}");
    }
    // A malformed chunked body: 400, not 413.
    let a = raw(
        addr,
        b"POST /things/t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    )
    .await;
    assert!(status_line(&a).starts_with("HTTP/1.1 400"), "{a}");
    assert!(a.contains("InvalidRequestException"), "{a}");
    // A chunked body that grows over the limit: 413.
    let chunk = vec![b'x'; 600 * 1024];
    let mut req = b"POST /things/t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..2 {
        req.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        req.extend_from_slice(&chunk);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let a = raw(addr, &req).await;
    assert!(status_line(&a).starts_with("HTTP/1.1 413"), "{a}");
    // None of these changed anything; the one good request did.
    let things = e.get("/things").await.ok();
    let names: Vec<&str> =
        things["things"].as_array().unwrap().iter().map(|t| t["thingName"].as_str().unwrap()).collect();
    assert_eq!(names, ["t100"]);
}

/// Connections beyond `--max-connections` wait (in the listen backlog) until one closes; they
/// are then served.
#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let e = start(|c| {
        c.max_connections = 4;
        c.header_timeout = Duration::from_secs(600);
    })
    .await;
    let mut stalled = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect(e.server.addr).await.unwrap();
        s.write_all(b"POST /things/s HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        stalled.push(s);
    }
    // All four slots are taken: a fifth connection is not served (a wait, never a speed).
    let fifth = reqwest::Client::builder().timeout(Duration::from_secs(1)).build().unwrap();
    let waited = fifth.get(format!("{}/_emulator/clock", e.url)).send().await;
    assert!(waited.is_err_and(|err| err.is_timeout()), "a fifth connection was served");
    // One slot frees: the next connection is served.
    stalled.pop();
    let fresh = reqwest::Client::builder().timeout(PATIENCE).build().unwrap();
    let got = fresh.get(format!("{}/_emulator/clock", e.url)).send().await.unwrap();
    assert_eq!(got.status(), 200);
}

#[tokio::test]
async fn a_body_sent_too_slowly_gets_408() {
    let e = start(|c| c.body_timeout = Duration::from_millis(300)).await;
    let mut s = TcpStream::connect(e.server.addr).await.unwrap();
    s.write_all(b"POST /things/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{").await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(PATIENCE, s.read_to_end(&mut out)).await.unwrap().unwrap();
    let a = String::from_utf8_lossy(&out);
    assert!(status_line(&a).starts_with("HTTP/1.1 408"), "{a}");
    assert!(a.contains("300 ms"), "{a}");
    assert_eq!(e.get("/things/slow").await.status, 404);
}

// ---- bounded input ----------------------------------------------------------------------------------------

fn nested(levels: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..levels {
        v = json!({ "a": v });
    }
    v
}

#[tokio::test]
async fn deeply_nested_members_are_refused_with_the_limit() {
    let e = start(|_| {}).await;
    e.ctl("POST", "/things/t", json!({})).await.ok();
    let job = json!({"targets": [format!("{ARN}:thing/t")], "document": "{}"});
    e.ctl("PUT", "/jobs/j", job.clone()).await.ok();
    let deep = nested(125);
    e.ctl("PATCH", "/jobs/j", json!({"presignedUrlConfig": deep})).await.invalid(&["16 levels"]);
    let rollout = json!({"jobExecutionsRolloutConfig": {"exponentialRate": deep}});
    e.ctl("PATCH", "/jobs/j", rollout.clone()).await.invalid(&["16 levels"]);
    let mut create = job.clone();
    create.as_object_mut().unwrap().extend(rollout.as_object().unwrap().clone());
    e.ctl("PUT", "/jobs/j2", create).await.invalid(&["16 levels"]);
    // Shallow, but not the model's shape: refused too, and nothing is stored.
    e.ctl("PATCH", "/jobs/j", json!({"presignedUrlConfig": {"expiresInSec": {"b": 1}}})).await.invalid(&[]);
    let d = e.get("/jobs/j").await.ok();
    assert!(d["job"].get("presignedUrlConfig").is_none(), "{d}");
    assert_eq!(e.get("/jobs/j2").await.status, 404);
}

#[tokio::test]
async fn out_of_range_values_are_refused_naming_member_and_limit() {
    let e = start(|_| {}).await;
    let thing = |body: Value| async { e.ctl("POST", "/things/t", body).await };
    let attrs = |k: &str, v: &str| json!({"attributePayload": {"attributes": {k: v}}});
    thing(attrs("a", &"v".repeat(10_000))).await.invalid(&["attributePayload.attributes value", "800"]);
    thing(attrs("a", "x\u{0}y")).await.invalid(&["attributePayload.attributes value"]);
    thing(attrs("", "v")).await.invalid(&["attributePayload.attributes name", "1 to 128"]);
    let many: serde_json::Map<String, Value> = (0..1000).map(|i| (format!("k{i}"), json!("v"))).collect();
    thing(json!({"attributePayload": {"attributes": many}}))
        .await
        .invalid(&["1000 attributes", "at most 50"]);
    thing(json!({"thingTypeName": "x".repeat(10_000)})).await.invalid(&["thingTypeName", "1 to 128"]);
    thing(json!({"thingTypeName": "a b"})).await.invalid(&["thingTypeName"]);
    thing(json!({"billingGroupName": "x".repeat(129)})).await.invalid(&["billingGroupName", "1 to 128"]);
    let group = |body: Value| async { e.ctl("POST", "/thing-groups/g", body).await };
    let desc = |d: &str| json!({"thingGroupProperties": {"thingGroupDescription": d}});
    group(desc(&"d".repeat(2029))).await.invalid(&["thingGroupDescription", "2028"]);
    group(desc("tab\there")).await.invalid(&["thingGroupDescription"]);
    let gattrs =
        json!({"thingGroupProperties": {"attributePayload": {"attributes": {"k": "x".repeat(801)}}}});
    group(gattrs).await.invalid(&["attributePayload.attributes value", "800"]);
    assert_eq!(e.get("/things").await.ok()["things"], json!([]));
    assert_eq!(e.get("/thing-groups/g").await.status, 404);

    e.ctl("POST", "/things/t", json!({})).await.ok();
    e.ctl("PUT", "/jobs/j", json!({"targets": [format!("{ARN}:thing/t")], "document": "{}"})).await.ok();
    let rate = |n: Value| json!({"jobExecutionsRolloutConfig": {"maximumPerMinute": n}});
    for bad in [json!(0), json!(2_147_483_648_i64), json!(i64::MAX)] {
        e.ctl("PATCH", "/jobs/j", rate(bad)).await.invalid(&["maximumPerMinute", "from 1 to 2147483647"]);
    }
    assert!(e.get("/jobs/j").await.ok()["job"].get("jobExecutionsRolloutConfig").is_none());
    e.ctl("PATCH", "/jobs/j", rate(json!(i32::MAX))).await.ok();
    let d = e.get("/jobs/j").await.ok();
    assert_eq!(d["job"]["jobExecutionsRolloutConfig"]["maximumPerMinute"], i32::MAX);
    let exp = |base: i64, factor: f64| {
        json!({"jobExecutionsRolloutConfig": {"exponentialRate": {"baseRatePerMinute": base,
            "incrementFactor": factor, "rateIncreaseCriteria": {"numberOfNotifiedThings": 5}}}})
    };
    e.ctl("PATCH", "/jobs/j", exp(1001, 2.0)).await.invalid(&["baseRatePerMinute", "from 1 to 1000"]);
    e.ctl("PATCH", "/jobs/j", exp(10, 1.05)).await.invalid(&["incrementFactor", "1.1 to 5"]);
    e.ctl("PATCH", "/jobs/j", exp(10, 1.55)).await.invalid(&["incrementFactor", "one decimal"]);
    let source = json!({"targets": [format!("{ARN}:thing/t")], "documentSource": "s".repeat(1351)});
    e.ctl("PUT", "/jobs/j3", source).await.invalid(&["documentSource", "1 to 1350"]);
    let presigned =
        json!({"presignedUrlConfig": {"roleArn": "arn:aws:iam::123456789012:role/r", "expiresInSec": 59}});
    e.ctl("PATCH", "/jobs/j", presigned).await.invalid(&["expiresInSec", "from 60 to 3600"]);
    let window = |start: &str| {
        json!({"targets": [format!("{ARN}:thing/t")], "document": "{}",
            "schedulingConfig": {"maintenanceWindows": [{"startTime": start, "durationInMinutes": 60}]}})
    };
    e.ctl("PUT", "/jobs/w", window("cron(0 25 * * ? *)")).await.invalid(&[
        "maintenanceWindows.startTime",
        "at position 7",
        "Hours takes 0-23",
    ]);
    e.ctl("PUT", "/jobs/w", window("0 2 * * ? *")).await.invalid(&["maintenanceWindows.startTime", "cron("]);
    assert_eq!(e.get("/jobs/w").await.status, 404);
}

/// A valid cron expression of exactly 256 characters (the model's longest `startTime`).
fn longest_cron(minute: usize) -> String {
    let head = format!("cron({minute} 2 * * ?");
    format!("{head}{} *)", " ".repeat(256 - head.len() - 3))
}

#[tokio::test]
async fn the_clock_stops_at_the_last_time_the_registry_stores() {
    let e = start(|_| {}).await;
    let before = e.get("/_emulator/clock").await.ok()["now"].as_u64().unwrap();
    let far = e.ctl("POST", "/_emulator/clock", json!({"advanceSeconds": u64::MAX})).await;
    far.invalid(&["advanceSeconds", "2106-01-01T00:00:00Z", "4291747200"]);
    assert_eq!(e.get("/_emulator/clock").await.ok()["now"].as_u64(), Some(before));
    let room = 4_291_747_200 - before;
    let last = e.ctl("POST", "/_emulator/clock", json!({"advanceSeconds": room})).await.ok();
    assert_eq!(last["now"], 4_291_747_200_u64);
    e.ctl("POST", "/_emulator/clock", json!({"advanceSeconds": 1})).await.invalid(&["at most 0"]);
}

/// The largest values every bounded member accepts, in one state: it is saved, loaded by a
/// second emulator, and read back unchanged.
#[tokio::test]
async fn the_largest_accepted_input_is_saved_and_loaded() {
    let dir = temp_dir("largest");
    let path = dir.join("state.json");
    let big = |c: &mut Config| {
        c.state_file = Some(path.clone());
        c.body_limit = 8 << 20;
    };
    let first = start(big).await;
    let attrs: serde_json::Map<String, Value> =
        (0..50).map(|i| (format!("{i:0>128}"), json!(format!("{i:=>800}")))).collect();
    let payload = json!({"attributes": attrs});
    let thing = json!({"thingTypeName": "t".repeat(128), "billingGroupName": "b".repeat(128), "attributePayload": payload});
    first.ctl("POST", "/things/t", thing).await.ok();
    let group = json!({"thingGroupProperties": {"thingGroupDescription": "d ".repeat(1014), "attributePayload": payload},
        "tags": (0..50).map(|i| json!({"Key": format!("{i:k>128}"), "Value": "v".repeat(256)})).collect::<Vec<_>>()});
    first.ctl("POST", "/thing-groups/g", group).await.ok();
    let windows: Vec<Value> =
        (0..4).map(|i| json!({"startTime": longest_cron(i), "durationInMinutes": 1430})).collect();
    let job = json!({
        "targets": [format!("{ARN}:thing/t")],
        "document": format!("\"{}\"", "x".repeat(32_766)),
        "description": "d".repeat(2028),
        "presignedUrlConfig": {"roleArn": "r".repeat(2048), "expiresInSec": 3600},
        "jobExecutionsRolloutConfig": {"maximumPerMinute": 1000, "exponentialRate": {"baseRatePerMinute": 1000,
            "incrementFactor": 5.0, "rateIncreaseCriteria": {"numberOfNotifiedThings": i32::MAX, "numberOfSucceededThings": i32::MAX}}},
        "schedulingConfig": {"maintenanceWindows": windows},
        // No documentParameters: they are accepted only with a managed template's keys (SPEC
        // AMBIG-31), whose values the document bounds.
        "destinationPackageVersions": (0..50).map(|i| format!("arn:{i:a>1596}")).collect::<Vec<_>>(),
    });
    first.ctl("PUT", "/jobs/j", job).await.ok();
    let reads = ["/things/t", "/thing-groups/g", "/jobs/j", "/jobs/j/job-document"];
    let mut before = Vec::new();
    for r in reads {
        before.push(first.get(r).await.ok());
    }
    assert_eq!(before[0]["attributes"], payload["attributes"]);
    assert_eq!(before[2]["job"]["schedulingConfig"]["maintenanceWindows"].as_array().map(Vec::len), Some(4));
    // A second emulator (the first never shut down, as after a crash) loads the file.
    drop(first);
    let second = start(big).await;
    for (r, b) in reads.iter().zip(&before) {
        assert_eq!(&second.get(r).await.ok(), b, "{r}");
    }
    second.server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- a failed save changes nothing ---------------------------------------------------------------------

/// A failed journal write refuses the change with a 503 naming the file and the cause, and
/// every later change until a restart; the changes acknowledged before are kept, in memory and
/// on disk, and the refused ones are in neither. The write fails because its segment was
/// deleted: synced, but to a file no start reads, so not acknowledged.
#[tokio::test]
async fn a_failed_journal_write_refuses_the_change_and_keeps_the_acknowledged_ones() {
    let dir = temp_dir("failed-save");
    let path = dir.join("state.json");
    let config = |c: &mut Config| {
        c.state_file = Some(path.clone());
        c.checkpoint_records = 1;
        c.checkpoint_growth = 0;
    };
    let e = start(config).await;
    e.ctl("POST", "/things/kept", json!({})).await.ok();
    let deleted = delete_current_segment(&path).await;
    let acknowledged = ["kept"];
    for lost in ["last", "lost"] {
        let refused = e.ctl("POST", &format!("/things/{lost}"), json!({})).await;
        assert_eq!(
            (refused.status, refused.body["__type"].as_str()),
            (503, Some("ServiceUnavailableException"))
        );
        assert!(refused.message().contains(&deleted.display().to_string()), "{refused:?}");
        assert!(refused.message().contains("was deleted"), "{refused:?}");
    }
    assert_eq!(e.get("/things/last").await.status, 404);
    let failed_job =
        e.ctl("PUT", "/jobs/j", json!({"targets": [format!("{ARN}:thing/kept")], "document": "{}"})).await;
    assert_eq!(failed_job.status, 503, "{failed_job:?}");
    // The error answers mean nothing changed: not in memory ...
    assert_eq!(e.get("/things/lost").await.status, 404);
    assert_eq!(e.get("/jobs/j").await.status, 404);
    assert_eq!(e.get("/things/kept/jobs").await.ok()["executionSummaries"], json!([]));
    for name in &acknowledged {
        assert_eq!(e.get(&format!("/things/{name}")).await.status, 200, "{name}");
    }
    // A stop says the journal failed (and exits non-zero in the binary) ...
    let stopped = e.server.shutdown().await.map_err(|e| e.to_string());
    assert!(
        stopped
            .as_ref()
            .is_err_and(|m| m.contains("changes were refused since") && m.contains("was deleted")),
        "{stopped:?}"
    );
    // ... and the refused changes are not on disk; the acknowledged ones are.
    let second = start(|c| c.state_file = Some(path.clone())).await;
    for name in &acknowledged {
        assert_eq!(second.get(&format!("/things/{name}")).await.status, 200, "{name}");
    }
    let things = second.get("/things").await.ok();
    assert_eq!(things["things"].as_array().map(Vec::len), Some(acknowledged.len()), "{things}");
    assert_eq!(second.get("/jobs/j").await.status, 404);
    second.server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- persistence errors name the file ------------------------------------------------------------------

fn persist_lock(path: &std::path::Path) -> std::path::PathBuf {
    iot_jobs_emulator::persist::lock_path(path)
}

/// Listeners of the emulator's own that clash name both flags; a body limit of 0 is refused.
#[tokio::test]
async fn clashing_listeners_and_a_body_limit_of_zero_are_refused_saying_why() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap();
    drop(busy);
    let m = start_err(|c| {
        c.addr = addr;
        c.data_addr = Some(addr);
    })
    .await;
    assert_eq!(
        m,
        format!("--data-addr and --addr are both {addr}: each listener needs an address of its own")
    );
    let m = start_err(|c| {
        c.mqtt_addr = Some(addr);
        c.mqtt_ws_addr = Some(addr);
    })
    .await;
    assert!(m.starts_with("--mqtt-ws-addr and --mqtt-addr are both"), "{m}");
    let m = start_err(|c| c.body_limit = 0).await;
    assert!(m.contains("body limit of 0 bytes"), "{m}");
}

async fn start_err(f: impl FnOnce(&mut Config)) -> String {
    let mut config =
        Config { addr: "127.0.0.1:0".parse().unwrap(), clock: ClockMode::Manual, ..Config::default() };
    f(&mut config);
    match iot_jobs_emulator::start(config).await {
        Ok(_) => panic!("the emulator started"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn persistence_errors_name_the_path_and_the_cause() {
    let dir = temp_dir("errors");
    let missing = dir.join("no-such-dir").join("state.json");
    let m = start_err(|c| c.state_file = Some(missing.clone())).await;
    assert!(m.contains(&missing.display().to_string()) && m.contains("No such file or directory"), "{m}");
    // An empty file (touch, mktemp) is not a state file, and says so; a path that is not a
    // regular file is refused before its lock file is made beside it.
    let empty = dir.join("empty.json");
    std::fs::write(&empty, b"").unwrap();
    let m = start_err(|c| c.state_file = Some(empty.clone())).await;
    assert!(m.contains(&empty.display().to_string()) && m.contains("it is empty"), "{m}");
    let m = start_err(|c| c.state_file = Some(dir.clone())).await;
    assert!(m.contains("is not a regular file"), "{m}");
    assert!(!persist_lock(&dir).exists(), "a refused start made {}", persist_lock(&dir).display());

    // Caps smaller than the saved state: which cap, the saved count, the flag to raise.
    let path = dir.join("state.json");
    let e = start(|c| c.state_file = Some(path.clone())).await;
    for t in ["a", "b", "c"] {
        e.ctl("POST", &format!("/things/{t}"), json!({})).await.ok();
    }
    e.ctl(
        "PUT",
        "/jobs/j",
        json!({"targets": [format!("{ARN}:thing/a"), format!("{ARN}:thing/b")], "document": "{}"}),
    )
    .await
    .ok();
    e.server.shutdown().await.unwrap();
    let small = |f: fn(&mut Caps)| {
        let path = path.clone();
        move |c: &mut Config| {
            c.state_file = Some(path);
            f(&mut c.caps);
        }
    };
    let m = start_err(small(|c| c.things = 2)).await;
    assert!(m.contains(&path.display().to_string()), "{m}");
    assert!(m.contains("3 things") && m.contains("cap of 2") && m.contains("--max-things 3"), "{m}");
    let m = start_err(small(|c| c.executions = 1)).await;
    assert!(m.contains("2 executions") && m.contains("--max-executions 2"), "{m}");
    let m = start_err(small(|c| c.jobs = 0)).await;
    assert!(m.contains("1 jobs") && m.contains("--max-jobs 1"), "{m}");
    assert!(!m.contains("not a state file"), "{m}");
    // A file that is not a state file says so, with its path.
    std::fs::write(&path, b"{\"format\": 1}").unwrap();
    let m = start_err(|c| c.state_file = Some(path.clone())).await;
    assert!(m.contains(&path.display().to_string()) && m.contains("not a state file"), "{m}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn caps_too_large_for_the_memory_are_refused_with_the_flags() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for executions in [usize::MAX, 1 << 50] {
        let m = rt.block_on(start_err(|c| c.caps.executions = executions));
        assert!(m.contains("--max-executions"), "{m}");
    }
}
