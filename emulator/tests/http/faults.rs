//! Injected faults over HTTP (`/_emulator/faults`): a request or its answer lost (the connection
//! closed without a response), an answer sent late, a fault for one thing. (Refusals with an
//! error: the Python package's boto3 test.)

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

/// Longest wait for what must come.
const WAIT: Duration = Duration::from_secs(10);

impl Emu {
    async fn fault(&self, fault: Value) -> Value {
        self.raw(None, "POST", "/_emulator/faults", Some(fault.to_string().into_bytes())).await.ok()
    }
    async fn faults(&self) -> Value {
        self.raw(None, "GET", "/_emulator/faults", None).await.ok()["faults"].clone()
    }
    /// The execution of `job` on `thing`: its status and version.
    async fn execution(&self, thing: &str, job: &str) -> (String, u64) {
        let x = self.ctl("GET", &format!("/things/{thing}/jobs/{job}"), None).await.ok();
        (
            x["execution"]["status"].as_str().unwrap().to_owned(),
            x["execution"]["versionNumber"].as_u64().unwrap(),
        )
    }
}

/// One data-plane UpdateJobExecution over a TCP connection of its own (`Connection: close`),
/// and everything the emulator sent back until it closed the connection: nothing at all when
/// the answer was lost.
async fn update_over_tcp(addr: SocketAddr, thing: &str, job: &str, body: Value) -> String {
    let body = body.to_string();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST /things/{thing}/jobs/{job} HTTP/1.1\r\nhost: {addr}\r\nauthorization: {DATA}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    // A reset connection is closed too: what came before it is in `got`.
    let _ = tokio::time::timeout(WAIT, s.read_to_end(&mut got)).await.expect("the connection is still open");
    String::from_utf8_lossy(&got).into_owned()
}

/// `"drop": "request"`: the request is lost on its way in: the connection closes with no
/// answer, nothing changes, and the fault is spent.
#[tokio::test]
async fn a_lost_request_closes_the_connection_and_changes_nothing() {
    let e = emu().await;
    e.thing("t1").await;
    e.job("j", &["t1"], json!({})).await.ok();
    e.fault(json!({"drop": "request", "operations": ["UpdateJobExecution"]})).await;
    let update = json!({"status": "IN_PROGRESS", "expectedVersion": 1});
    let got = update_over_tcp(e.server.addr, "t1", "j", update.clone()).await;
    assert_eq!(got, "", "no answer at all");
    assert_eq!(e.execution("t1", "j").await, ("QUEUED".to_owned(), 1));
    assert_eq!(e.faults().await, json!([]));
    // What an SDK sees: a connection error (its retry then runs the request).
    e.fault(json!({"drop": "request"})).await;
    let failed = e.http.post(format!("{}/things/t1/jobs/j", e.url)).header("authorization", DATA);
    let failed = failed.body(update.to_string()).send().await.unwrap_err();
    assert!(!failed.is_status() && !failed.is_timeout(), "{failed:?}");
    let retried = e.update("t1", "j", update).await.ok();
    assert_eq!(retried, json!({}));
    assert_eq!(e.execution("t1", "j").await, ("IN_PROGRESS".to_owned(), 2));
}

/// `"drop": "reply"`: the request runs and its change is kept, but the connection closes with
/// no answer; retried with the same expectedVersion, it is refused (409 with the execution's
/// state, from which a client resyncs): the change was made once.
#[tokio::test]
async fn a_lost_reply_closes_the_connection_after_the_change_is_made() {
    let e = emu().await;
    e.thing("t1").await;
    e.job("j", &["t1"], json!({})).await.ok();
    e.fault(json!({"drop": "reply", "operations": ["UpdateJobExecution"], "plane": "data"})).await;
    let update = json!({"status": "IN_PROGRESS", "expectedVersion": 1, "statusDetails": {"step": "1"}});
    let got = update_over_tcp(e.server.addr, "t1", "j", update.clone()).await;
    assert_eq!(got, "", "no answer at all");
    assert_eq!(e.execution("t1", "j").await, ("IN_PROGRESS".to_owned(), 2));
    let retried = e.update("t1", "j", update).await;
    retried.err(409, "InvalidStateTransitionException");
    assert_eq!(
        retried.body["executionState"],
        json!({"status": "IN_PROGRESS", "statusDetails": {"step": "1"}, "versionNumber": 2})
    );
    assert_eq!(e.faults().await, json!([]));
}

/// `"delayMs"`: the request runs at once (its change is visible while its answer waits), and
/// the answer comes no sooner than asked.
#[tokio::test]
async fn a_delayed_answer_comes_late_and_the_change_at_once() {
    let e = emu().await;
    e.thing("t1").await;
    e.job("j", &["t1"], json!({})).await.ok();
    e.fault(json!({"delayMs": 30_000, "operations": ["UpdateJobExecution"]})).await;
    let addr = e.server.addr;
    let slow = tokio::spawn(update_over_tcp(addr, "t1", "j", json!({"status": "IN_PROGRESS"})));
    let deadline = tokio::time::Instant::now() + WAIT;
    while e.execution("t1", "j").await.0 != "IN_PROGRESS" {
        assert!(tokio::time::Instant::now() < deadline, "the update did not run while its answer waited");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!slow.is_finished(), "answered before its delay");
    slow.abort();
    e.fault(json!({"delayMs": 300, "operations": ["DescribeJob"]})).await;
    let asked = tokio::time::Instant::now();
    assert_eq!(e.ctl("GET", "/jobs/j", None).await.ok()["job"]["jobId"], "j");
    assert!(asked.elapsed() >= Duration::from_millis(300), "{:?}", asked.elapsed());
}

/// `"thing"`: a fault for one thing takes only the requests whose path names it, on either
/// plane; requests about another thing, and those naming no thing, go through. A name that is
/// not a thing name, or a fault doing not exactly one thing, is a 400 naming what is allowed.
#[tokio::test]
async fn a_fault_for_one_thing_takes_only_requests_about_it() {
    let e = emu().await;
    e.things("t", 2).await;
    e.job("j", &["t0", "t1"], json!({})).await.ok();
    let shown = e.fault(json!({"error": "ThrottlingException", "count": 3, "thing": "t1"})).await;
    assert_eq!(shown["faults"], json!([{"error": "ThrottlingException", "count": 3, "thing": "t1"}]));
    e.ctl("GET", "/things/t0", None).await.ok();
    e.ctl("GET", "/things/t0/jobs/j", None).await.ok();
    e.data("GET", "/things/t0/jobs", None).await.ok();
    e.ctl("GET", "/jobs/j", None).await.ok();
    e.ctl("GET", "/jobs/j/things", None).await.ok();
    e.ctl("GET", "/things/t1", None).await.err(429, "ThrottlingException");
    e.ctl("GET", "/things/t1/jobs/j", None).await.err(429, "ThrottlingException");
    e.data("GET", "/things/t1/jobs", None).await.err(429, "ThrottlingException");
    assert_eq!(e.faults().await, json!([]));
    e.ctl("GET", "/things/t1", None).await.ok();
    for (fault, says) in [
        (json!({"drop": "reply", "thing": "t/1"}), "thing must be a thing name"),
        (json!({"thing": "t1"}), "exactly one of \"error\""),
        (json!({"drop": "reply", "delayMs": 5}), "this one has drop and delayMs"),
        (json!({"delayMs": 60_001}), "delayMs must be 1 to 60000"),
    ] {
        let r = e.raw(None, "POST", "/_emulator/faults", Some(fault.to_string().into_bytes())).await;
        r.err(400, "InvalidRequestException");
        assert!(r.message().contains(says), "{fault}: {r:?}");
    }
    assert_eq!(e.faults().await, json!([]));
}
