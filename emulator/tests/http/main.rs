//! Every operation and every error class over real HTTP, against an in-process emulator on an
//! ephemeral loopback port.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

#[path = "../in_process/mod.rs"]
mod in_process;
#[path = "../requests/mod.rs"]
mod requests;

use in_process::{Emu, start};
use iot_jobs_emulator::Config;
use iot_jobs_emulator::clock::ClockMode;
use requests::Got;
use serde_json::{Value, json};

const CONTROL: &str =
    "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iot/aws4_request, SignedHeaders=host, Signature=00";
const DATA: &str = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iot-jobs-data/aws4_request, SignedHeaders=host, Signature=00";
const ARN: &str = "arn:aws:iot:us-east-1:123456789012";

async fn emu() -> Emu {
    start(|_| {}).await
}

impl Emu {
    async fn ctl(&self, method: &str, path: &str, body: Option<Value>) -> Got {
        self.raw(Some(CONTROL), method, path, body.map(|b| b.to_string().into_bytes())).await
    }
    async fn data(&self, method: &str, path: &str, body: Option<Value>) -> Got {
        self.raw(Some(DATA), method, path, body.map(|b| b.to_string().into_bytes())).await
    }
    async fn thing(&self, name: &str) {
        self.ctl("POST", &format!("/things/{name}"), Some(json!({}))).await.ok();
    }
    /// Things `{prefix}0` to `{prefix}{n-1}`, created: their names.
    async fn things(&self, prefix: &str, n: usize) -> Vec<String> {
        let names: Vec<String> = (0..n).map(|i| format!("{prefix}{i}")).collect();
        for t in &names {
            self.thing(t).await;
        }
        names
    }
    /// AddThingToThingGroup, which must succeed.
    async fn join(&self, group: &str, thing: &str) {
        let body = json!({"thingGroupName": group, "thingName": thing});
        self.ctl("PUT", "/thing-groups/addThingToThingGroup", Some(body)).await.ok();
    }
    /// RemoveThingFromThingGroup, which must succeed.
    async fn leave(&self, group: &str, thing: &str) {
        let body = json!({"thingGroupName": group, "thingName": thing});
        self.ctl("PUT", "/thing-groups/removeThingFromThingGroup", Some(body)).await.ok();
    }
    async fn job(&self, id: &str, targets: &[&str], extra: Value) -> Got {
        let targets: Vec<String> = targets
            .iter()
            .map(|t| match t.strip_prefix("group:") {
                Some(g) => format!("{ARN}:thinggroup/{g}"),
                None => format!("{ARN}:thing/{t}"),
            })
            .collect();
        let mut body = json!({"targets": targets, "document": "{\"op\":\"update\"}"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        self.ctl("PUT", &format!("/jobs/{id}"), Some(body)).await
    }
    async fn update(&self, thing: &str, job: &str, body: Value) -> Got {
        self.data("POST", &format!("/things/{thing}/jobs/{job}"), Some(body)).await
    }
    async fn exec_status(&self, thing: &str, job: &str) -> String {
        let d = self.ctl("GET", &format!("/things/{thing}/jobs/{job}"), None).await.ok();
        d["execution"]["status"].as_str().unwrap().to_owned()
    }
    async fn job_status(&self, job: &str) -> String {
        let d = self.ctl("GET", &format!("/jobs/{job}"), None).await.ok();
        d["job"]["status"].as_str().unwrap().to_owned()
    }
    /// How many executions the job has (ListJobExecutionsForJob).
    async fn executions(&self, job: &str) -> usize {
        let got = self.ctl("GET", &format!("/jobs/{job}/things"), None).await.ok();
        got["executionSummaries"].as_array().unwrap().len()
    }
    /// How many QUEUED executions the thing's pending list holds.
    async fn queued(&self, thing: &str) -> usize {
        let got = self.data("GET", &format!("/things/{thing}/jobs"), None).await.ok();
        got["queuedJobs"].as_array().unwrap().len()
    }
    async fn advance(&self, secs: u64) -> u64 {
        let b = self.raw(
            None,
            "POST",
            "/_emulator/clock",
            Some(json!({"advanceSeconds": secs}).to_string().into_bytes()),
        );
        b.await.ok()["now"].as_u64().unwrap()
    }
}

// ---- things and groups ------------------------------------------------------------------------------

/// A page in a browser may call it (CORS): a preflight is allowed, and an answer to a request
/// with an `Origin` lets the page read it; without an `Origin`, `OPTIONS` is still a 405.
#[tokio::test]
async fn browsers_are_let_in() {
    let e = emu().await;
    let url = format!("{}/things/t1", e.url);
    let pre = e
        .http
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization,content-type,x-amz-date")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), 200);
    let h = pre.headers();
    assert_eq!(h["access-control-allow-origin"], "*");
    assert_eq!(h["access-control-allow-methods"], "POST");
    assert_eq!(h["access-control-allow-headers"], "authorization,content-type,x-amz-date");
    let r = e.http.post(&url).header("authorization", CONTROL).header("origin", "http://localhost:3000");
    let r = r.body("{}").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let exposed = r.headers()["access-control-expose-headers"].to_str().unwrap().to_owned();
    assert!(exposed.contains("x-amzn-RequestId") && exposed.contains("x-amzn-ErrorType"), "{exposed}");
    e.ctl("GET", "/things/t1", None).await.ok();
    let plain = e.http.request(reqwest::Method::OPTIONS, &url).send().await.unwrap();
    assert_eq!(plain.status(), 405);
    assert!(!plain.headers().contains_key("access-control-allow-origin"));
}

/// Every answer has an `x-amzn-RequestId` in a UUID's form, each different: the process's part
/// first, then its request count.
#[tokio::test]
async fn every_answer_has_its_own_request_id() {
    let e = emu().await;
    let id = |r: reqwest::Response| r.headers()["x-amzn-RequestId"].to_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for path in ["/things", "/things/none", "/nowhere"] {
        let r = e.http.get(format!("{}{path}", e.url)).header("authorization", CONTROL).send().await.unwrap();
        ids.push(id(r));
    }
    for i in &ids {
        let groups: Vec<&str> = i.split('-').collect();
        assert_eq!(groups.iter().map(|g| g.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12], "{i}");
        assert!(i.chars().all(|c| c == '-' || c.is_ascii_hexdigit()), "{i}");
        assert!(groups[2].starts_with('4') && "89ab".contains(&groups[3][..1]), "{i}");
        assert_eq!(i[..23], ids[0][..23], "one process: {ids:?}");
    }
    assert!(ids[0] != ids[1] && ids[1] != ids[2], "{ids:?}");
}

/// A request signed for another region than the emulator's is refused, as AWS refuses one
/// signed for another region than its endpoint's, and changes nothing; the admin API takes any.
#[tokio::test]
async fn a_request_signed_for_another_region_is_refused() {
    let e = emu().await;
    for plane in [CONTROL, DATA] {
        let elsewhere = plane.replace("/us-east-1/", "/eu-west-1/");
        let got = e.raw(Some(&elsewhere), "POST", "/things/t1", Some(b"{}".to_vec())).await;
        got.err(403, "InvalidSignatureException");
        assert!(got.message().contains("not 'eu-west-1'") && got.message().contains("us-east-1"), "{got:?}");
    }
    e.ctl("GET", "/things/t1", None).await.err(404, "ResourceNotFoundException");
    let presigned = "/things?X-Amz-Credential=AKID%2F20260101%2Feu-west-1%2Fiot%2Faws4_request";
    e.raw(None, "GET", presigned, None).await.err(403, "InvalidSignatureException");
    let admin = CONTROL.replace("/us-east-1/", "/eu-west-1/");
    e.raw(Some(&admin), "GET", "/_emulator/clock", None).await.ok();
    let other = start(|c| c.region = "eu-west-1".into()).await;
    other.raw(Some(&admin), "POST", "/things/t1", Some(b"{}".to_vec())).await.ok();
    other.ctl("GET", "/things/t1", None).await.err(403, "InvalidSignatureException");
}

/// SDKs generated from AWS's model before 2023 (Go v1, Go v2 then) sign the control plane as
/// `execute-api`: it is the control plane, as `iot` is.
#[tokio::test]
async fn the_control_plane_is_also_signed_execute_api() {
    let e = emu().await;
    let old = CONTROL.replace("/iot/aws4_request", "/execute-api/aws4_request");
    let created = e.raw(Some(&old), "POST", "/things/t1", Some(b"{}".to_vec())).await.ok();
    assert_eq!(created["thingArn"], format!("{ARN}:thing/t1"));
    e.raw(Some(&old), "GET", "/things/t2", None).await.err(404, "ResourceNotFoundException");
    let other = CONTROL.replace("/iot/aws4_request", "/s3/aws4_request");
    e.raw(Some(&other), "GET", "/things/t1", None).await.err(404, "UnknownOperationException");
}

#[tokio::test]
async fn things_create_describe_list_delete() {
    let e = emu().await;
    let created = e
        .ctl("POST", "/things/t1", Some(json!({"attributePayload": {"attributes": {"model": "x"}}})))
        .await
        .ok();
    assert_eq!(created["thingArn"], format!("{ARN}:thing/t1"));
    // Same request again: accepted; different attributes: 409.
    e.ctl("POST", "/things/t1", Some(json!({"attributePayload": {"attributes": {"model": "x"}}}))).await.ok();
    e.ctl("POST", "/things/t1", Some(json!({}))).await.err(409, "ResourceAlreadyExistsException");
    let d = e.ctl("GET", "/things/t1", None).await.ok();
    assert_eq!(
        (d["thingName"].as_str(), d["attributes"]["model"].as_str(), d["version"].as_u64()),
        (Some("t1"), Some("x"), Some(1))
    );
    e.thing("t2").await;
    e.thing("t3").await;
    let page = e.ctl("GET", "/things?maxResults=2", None).await.ok();
    assert_eq!(page["things"].as_array().unwrap().len(), 2);
    let token = page["nextToken"].as_str().unwrap();
    let rest = e.ctl("GET", &format!("/things?maxResults=2&nextToken={token}"), None).await.ok();
    assert_eq!(rest["things"][0]["thingName"], "t3");
    assert!(rest.get("nextToken").is_none());
    let by_attr = e.ctl("GET", "/things?attributeName=model&attributeValue=x", None).await.ok();
    assert_eq!(by_attr["things"].as_array().unwrap().len(), 1);
    e.ctl("GET", "/things?maxResults=0", None).await.err(400, "InvalidRequestException");
    e.ctl("GET", "/things?nextToken=garbage", None).await.err(400, "InvalidRequestException");
    e.ctl("DELETE", "/things/t1?expectedVersion=7", None).await.err(409, "VersionConflictException");
    e.ctl("DELETE", "/things/t1?expectedVersion=1", None).await.ok();
    e.ctl("GET", "/things/t1", None).await.err(404, "ResourceNotFoundException");
    // Deleting an unknown thing succeeds (API reference).
    e.ctl("DELETE", "/things/never", None).await.ok();
    // The core's validator: full match of [a-zA-Z0-9:_-]+.
    let bad = e.ctl("POST", "/things/bad!name", Some(json!({}))).await;
    bad.err(400, "InvalidRequestException");
    assert!(bad.message().contains("thingName has a character that is not allowed at position 3"), "{bad:?}");
}

#[tokio::test]
async fn groups_and_membership() {
    let e = emu().await;
    e.thing("t1").await;
    let g = e
        .ctl(
            "POST",
            "/thing-groups/g1",
            Some(json!({"thingGroupProperties": {"thingGroupDescription": "d"}})),
        )
        .await
        .ok();
    assert_eq!(g["thingGroupArn"], format!("{ARN}:thinggroup/g1"));
    let d = e.ctl("GET", "/thing-groups/g1", None).await.ok();
    assert_eq!(d["thingGroupProperties"]["thingGroupDescription"], "d");
    let add = |g: &str, t: &str| json!({"thingGroupName": g, "thingName": t});
    e.ctl("PUT", "/thing-groups/addThingToThingGroup", Some(add("g1", "t1"))).await.ok();
    e.ctl("PUT", "/thing-groups/addThingToThingGroup", Some(add("nope", "t1")))
        .await
        .err(404, "ResourceNotFoundException");
    e.ctl("PUT", "/thing-groups/addThingToThingGroup", Some(add("g1", "nope")))
        .await
        .err(404, "ResourceNotFoundException");
    e.ctl("PUT", "/thing-groups/addThingToThingGroup", Some(json!({"thingName": "t1"})))
        .await
        .err(400, "InvalidRequestException");
    let by_arn =
        json!({"thingGroupArn": format!("{ARN}:thinggroup/g1"), "thingArn": format!("{ARN}:thing/t1")});
    e.ctl("PUT", "/thing-groups/removeThingFromThingGroup", Some(by_arn)).await.ok();
    e.ctl("POST", "/thing-groups/g1", Some(json!({}))).await.err(409, "ResourceAlreadyExistsException");
    // An unknown parent (SPEC AMBIG-32).
    e.ctl("POST", "/thing-groups/child", Some(json!({"parentGroupName": "nope"})))
        .await
        .err(404, "ResourceNotFoundException");
    e.ctl("DELETE", "/thing-groups/g1", None).await.ok();
    e.ctl("GET", "/thing-groups/g1", None).await.err(404, "ResourceNotFoundException");
    e.ctl("DELETE", "/thing-groups/g1", None).await.ok();
}

// ---- jobs and a device run ----------------------------------------------------------------------------

#[tokio::test]
async fn job_lifecycle_with_a_device() {
    let e = emu().await;
    for t in ["t1", "t2"] {
        e.thing(t).await;
    }
    e.ctl("POST", "/thing-groups/g", Some(json!({}))).await.ok();
    e.join("g", "t2").await;
    let created = e
        .job(
            "j1",
            &["t1", "group:g"],
            json!({"description": "fw 1.2", "timeoutConfig": {"inProgressTimeoutInMinutes": 30}}),
        )
        .await
        .ok();
    assert_eq!(created, json!({"jobArn": format!("{ARN}:job/j1"), "jobId": "j1", "description": "fw 1.2"}));
    let d = e.ctl("GET", "/jobs/j1", None).await.ok();
    assert_eq!(d["job"]["status"], "IN_PROGRESS");
    assert_eq!(d["job"]["targetSelection"], "SNAPSHOT");
    assert_eq!(d["job"]["jobProcessDetails"]["numberOfQueuedThings"], 2);
    assert_eq!(d["job"]["timeoutConfig"]["inProgressTimeoutInMinutes"], 30);
    assert_eq!(e.ctl("GET", "/jobs/j1/job-document", None).await.ok()["document"], "{\"op\":\"update\"}");
    let jobs = e.ctl("GET", "/jobs?status=IN_PROGRESS", None).await.ok();
    assert_eq!(jobs["jobs"][0]["jobId"], "j1");
    assert_eq!(e.ctl("GET", "/jobs?status=COMPLETED", None).await.ok()["jobs"], json!([]));
    e.ctl("GET", "/jobs?status=DONE", None).await.err(400, "InvalidRequestException");
    // A description alone is a change of the job: its lastUpdatedAt moves to the time of it.
    let before = d["job"]["lastUpdatedAt"].as_f64().unwrap();
    let now = e.advance(60).await;
    e.ctl("PATCH", "/jobs/j1", Some(json!({"description": "fw 1.3"}))).await.ok();
    let d = e.ctl("GET", "/jobs/j1", None).await.ok();
    assert_eq!(d["job"]["description"], "fw 1.3");
    assert_eq!((before + 60.0, d["job"]["lastUpdatedAt"].as_f64().unwrap()), (now as f64, now as f64));
    let cfg = json!({"timeoutConfig": {"inProgressTimeoutInMinutes": 5}});
    e.ctl("PATCH", "/jobs/j1", Some(cfg)).await.ok();

    // The device on t1.
    let pending = e.data("GET", "/things/t1/jobs", None).await.ok();
    assert_eq!(pending["queuedJobs"][0]["jobId"], "j1");
    assert_eq!(pending["inProgressJobs"], json!([]));
    let next = e.data("GET", "/things/t1/jobs/$next", None).await.ok();
    assert_eq!(next["execution"]["jobDocument"], "{\"op\":\"update\"}");
    let no_doc = e.data("GET", "/things/t1/jobs/j1?includeJobDocument=false", None).await.ok();
    assert!(no_doc["execution"].get("jobDocument").is_none());
    let started = e
        .data(
            "PUT",
            "/things/t1/jobs/$next",
            Some(json!({"statusDetails": {"step": "download"}, "stepTimeoutInMinutes": 10})),
        )
        .await
        .ok();
    assert_eq!(started["execution"]["status"], "IN_PROGRESS");
    assert_eq!(started["execution"]["versionNumber"], 2);
    assert_eq!(started["execution"]["statusDetails"]["step"], "download");
    let pending = e.data("GET", "/things/t1/jobs", None).await.ok();
    assert_eq!(pending["inProgressJobs"][0]["jobId"], "j1");
    // expectedVersion mismatch: data plane 409 with the InvalidStateTransitionException shape (R13),
    // whose body carries the execution's state (botocore's model; SPEC §4.3).
    let stale = e.update("t1", "j1", json!({"status": "SUCCEEDED", "expectedVersion": 1})).await;
    stale.err(409, "InvalidStateTransitionException");
    assert_eq!(
        stale.body["executionState"],
        json!({"status": "IN_PROGRESS", "statusDetails": {"step": "download"}, "versionNumber": 2})
    );
    let done = e
        .update(
            "t1",
            "j1",
            json!({"status": "SUCCEEDED", "expectedVersion": "2", "statusDetails": {"step": "done"},
                   "includeJobExecutionState": true, "includeJobDocument": true}),
        )
        .await
        .ok();
    assert_eq!(
        done["executionState"],
        json!({"status": "SUCCEEDED", "statusDetails": {"step": "done"}, "versionNumber": 3})
    );
    assert_eq!(done["jobDocument"], "{\"op\":\"update\"}");
    let bare = e.update("t2", "j1", json!({"status": "IN_PROGRESS"})).await.ok();
    assert_eq!(bare, json!({}));
    // Terminal: back to IN_PROGRESS is a 409 with the execution's state (T6); the data plane no
    // longer describes it (R11).
    let terminal = e.update("t1", "j1", json!({"status": "IN_PROGRESS"})).await;
    terminal.err(409, "InvalidStateTransitionException");
    assert_eq!(
        terminal.body["executionState"],
        json!({"status": "SUCCEEDED", "statusDetails": {"step": "done"}, "versionNumber": 3})
    );
    e.data("GET", "/things/t1/jobs/j1", None).await.err(410, "TerminalStateException");
    // Nothing pending: 200 without `execution` (R19).
    assert_eq!(e.data("PUT", "/things/t1/jobs/$next", Some(json!({}))).await.ok(), json!({}));
    assert_eq!(e.data("GET", "/things/t1/jobs/$next", None).await.ok(), json!({}));
    assert_eq!(
        e.data("GET", "/things/unknown/jobs", None).await.ok(),
        json!({"inProgressJobs": [], "queuedJobs": []})
    );
    // A device may not set QUEUED (R9).
    e.update("t2", "j1", json!({"status": "QUEUED"})).await.err(409, "InvalidStateTransitionException");
    e.update("t2", "j1", json!({"status": "SUCCESS"})).await.err(400, "InvalidRequestException");
    e.update("t2", "j1", json!({"status": "FAILED", "stepTimeoutInMinutes": 0}))
        .await
        .err(400, "InvalidRequestException");
    e.update("t2", "j1", json!({"status": "FAILED"})).await.ok();
    assert_eq!(e.job_status("j1").await, "COMPLETED");
    let d = e.ctl("GET", "/jobs/j1", None).await.ok();
    assert_eq!(d["job"]["jobProcessDetails"]["numberOfSucceededThings"], 1);
    assert_eq!(d["job"]["jobProcessDetails"]["numberOfFailedThings"], 1);
    assert!(d["job"]["completedAt"].is_u64());
    // Control plane describes terminal executions (R11).
    let x = e.ctl("GET", "/things/t1/jobs/j1", None).await.ok();
    assert_eq!(x["execution"]["statusDetails"]["detailsMap"]["step"], "done");
    assert_eq!(x["execution"]["thingArn"], format!("{ARN}:thing/t1"));
    e.update("t9", "j1", json!({"status": "IN_PROGRESS"})).await.err(404, "ResourceNotFoundException");
    e.update("t1", "nope", json!({"status": "IN_PROGRESS"})).await.err(404, "ResourceNotFoundException");
    e.update("t1", "j1", json!({})).await.err(400, "InvalidRequestException");
}

#[tokio::test]
async fn create_job_errors() {
    let e = emu().await;
    e.thing("t1").await;
    e.job("j1", &["t1"], json!({})).await.ok();
    e.job("j1", &["t1"], json!({})).await.err(409, "ResourceAlreadyExistsException");
    e.job("j2", &["ghost"], json!({})).await.err(404, "ResourceNotFoundException");
    e.job("j2", &["group:ghost"], json!({})).await.err(404, "ResourceNotFoundException");
    e.job("j2", &[], json!({})).await.err(400, "InvalidRequestException");
    e.job("bad!id", &["t1"], json!({})).await.err(400, "InvalidRequestException");
    e.job(&"j".repeat(65), &["t1"], json!({})).await.err(400, "InvalidRequestException");
    let retry = json!({"jobExecutionsRetryConfig": {"criteriaList": [{"failureType": "FAILED", "numberOfRetries": 11}]}});
    let r = e.job("j2", &["t1"], retry).await;
    r.err(400, "InvalidRequestException");
    assert!(r.message().contains("retry criteria"), "{r:?}");
    let timeout = json!({"timeoutConfig": {"inProgressTimeoutInMinutes": 10081}});
    e.job("j2", &["t1"], timeout).await.err(400, "InvalidRequestException");
    let abort = json!({"abortConfig": {"criteriaList": [{"failureType": "FAILED", "action": "CANCEL",
        "thresholdPercentage": 50.123, "minNumberOfExecutedThings": 1}]}});
    e.job("j2", &["t1"], abort).await.err(400, "InvalidRequestException");
    let sched = json!({"schedulingConfig": {"startTime": "tomorrow"}});
    e.job("j2", &["t1"], sched).await.err(400, "InvalidRequestException");
    e.job("j2", &["t1"], json!({"targetSelection": "SOMETIMES"})).await.err(400, "InvalidRequestException");
    e.job("j2", &["t1"], json!({"description": "a\u{0007}b"})).await.err(400, "InvalidRequestException");
    e.job("j2", &["t1"], json!({"document": "x".repeat(32_769)})).await.err(400, "InvalidRequestException");
    e.job("j2", &["t1"], json!({"namespaceId": "n s"})).await.err(400, "InvalidRequestException");
    let no_doc = e.ctl("PUT", "/jobs/j2", Some(json!({"targets": [format!("{ARN}:thing/t1")]}))).await;
    no_doc.err(400, "InvalidRequestException");
    let bad_arn = e.ctl("PUT", "/jobs/j2", Some(json!({"targets": ["t1"], "document": "{}"}))).await;
    bad_arn.err(400, "InvalidRequestException");
    // Wrong type, malformed JSON.
    e.ctl("PUT", "/jobs/j2", Some(json!({"targets": "t1", "document": "{}"})))
        .await
        .err(400, "InvalidRequestException");
    let malformed = e.raw(Some(CONTROL), "PUT", "/jobs/j2", Some(b"{\"targets\": [".to_vec())).await;
    malformed.err(400, "InvalidRequestException");
    // A valid configuration is stored and echoed.
    let ok = json!({"targetSelection": "CONTINUOUS",
        "jobExecutionsRetryConfig": {"criteriaList": [{"failureType": "FAILED", "numberOfRetries": 2}]},
        "abortConfig": {"criteriaList": [{"failureType": "ALL", "action": "CANCEL", "thresholdPercentage": 50.5, "minNumberOfExecutedThings": 1}]},
        "jobExecutionsRolloutConfig": {"maximumPerMinute": 100}, "namespaceId": "ns1"});
    e.job("j3", &["t1"], ok).await.ok();
    let d = e.ctl("GET", "/jobs/j3", None).await.ok();
    assert_eq!(d["job"]["jobExecutionsRetryConfig"]["criteriaList"][0]["numberOfRetries"], 2);
    assert_eq!(d["job"]["abortConfig"]["criteriaList"][0]["thresholdPercentage"], 50.5);
    assert_eq!(d["job"]["namespaceId"], "ns1");
    assert_eq!(d["job"]["targetSelection"], "CONTINUOUS");
    assert_eq!(e.ctl("GET", "/jobs?namespaceId=ns1", None).await.ok()["jobs"].as_array().unwrap().len(), 1);
    e.ctl("GET", "/jobs/nope", None).await.err(404, "ResourceNotFoundException");
    e.ctl("GET", "/jobs/nope/job-document", None).await.err(404, "ResourceNotFoundException");
    e.ctl("PATCH", "/jobs/nope", Some(json!({"description": "x"})))
        .await
        .err(404, "ResourceNotFoundException");
}

// ---- cancel and delete ---------------------------------------------------------------------------------

#[tokio::test]
async fn cancel_job_with_and_without_force() {
    let e = emu().await;
    for t in ["t1", "t2"] {
        e.thing(t).await;
    }
    e.job("j1", &["t1", "t2"], json!({})).await.ok();
    e.update("t1", "j1", json!({"status": "IN_PROGRESS"})).await.ok();
    let r =
        e.ctl("PUT", "/jobs/j1/cancel", Some(json!({"reasonCode": "BAD_FW", "comment": "stop"}))).await.ok();
    assert_eq!(r["jobId"], "j1");
    // Without force: QUEUED canceled, IN_PROGRESS untouched.
    assert_eq!(e.exec_status("t2", "j1").await, "CANCELED");
    assert_eq!(e.exec_status("t1", "j1").await, "IN_PROGRESS");
    let d = e.ctl("GET", "/jobs/j1", None).await.ok();
    assert_eq!(
        (d["job"]["status"].as_str(), d["job"]["reasonCode"].as_str(), d["job"]["comment"].as_str()),
        (Some("CANCELED"), Some("BAD_FW"), Some("stop"))
    );
    assert_eq!(d["job"]["forceCanceled"], false);
    // R3: CancelJob on a CANCELED job is a 400, with or without force.
    e.ctl("PUT", "/jobs/j1/cancel?force=true", Some(json!({}))).await.err(400, "InvalidRequestException");
    e.ctl("PUT", "/jobs/j1/cancel", Some(json!({"reasonCode": "lower"})))
        .await
        .err(400, "InvalidRequestException");
    e.ctl("PUT", "/jobs/j1/cancel?force=maybe", None).await.err(400, "InvalidRequestException");
    e.ctl("PUT", "/jobs/nope/cancel", None).await.err(404, "ResourceNotFoundException");

    e.job("j2", &["t1", "t2"], json!({})).await.ok();
    e.update("t2", "j2", json!({"status": "IN_PROGRESS"})).await.ok();
    e.ctl("PUT", "/jobs/j2/cancel?force=true", None).await.ok();
    assert_eq!(e.exec_status("t2", "j2").await, "CANCELED");
    let x = e.ctl("GET", "/things/t2/jobs/j2", None).await.ok();
    assert_eq!(x["execution"]["forceCanceled"], true);
    assert_eq!(e.ctl("GET", "/jobs/j2", None).await.ok()["job"]["forceCanceled"], true);
    // After a forced cancel the device cannot update it.
    e.update("t2", "j2", json!({"status": "SUCCEEDED"})).await.err(409, "InvalidStateTransitionException");
}

#[tokio::test]
async fn cancel_execution_force_and_version() {
    let e = emu().await;
    e.thing("t1").await;
    e.job("j1", &["t1"], json!({})).await.ok();
    e.update("t1", "j1", json!({"status": "IN_PROGRESS"})).await.ok();
    let path = "/things/t1/jobs/j1/cancel";
    // The control plane's InvalidStateTransitionException has no executionState (its model says
    // nothing of one); a version conflict carries it (CancelJobExecution's expectedVersion).
    let in_progress = e.ctl("PUT", path, Some(json!({}))).await;
    in_progress.err(409, "InvalidStateTransitionException");
    assert!(in_progress.body.get("executionState").is_none(), "{in_progress:?}");
    let stale = e.ctl("PUT", &format!("{path}?force=true"), Some(json!({"expectedVersion": 1}))).await;
    stale.err(409, "VersionConflictException");
    assert_eq!(
        stale.body["executionState"],
        json!({"status": "IN_PROGRESS", "statusDetails": {}, "versionNumber": 2})
    );
    let too_many: serde_json::Map<String, Value> = (0..11).map(|i| (format!("k{i}"), json!("v"))).collect();
    e.ctl("PUT", &format!("{path}?force=true"), Some(json!({"statusDetails": too_many})))
        .await
        .err(400, "InvalidRequestException");
    e.ctl(
        "PUT",
        &format!("{path}?force=true"),
        Some(json!({"expectedVersion": 2, "statusDetails": {"why": "ops"}})),
    )
    .await
    .ok();
    let x = e.ctl("GET", "/things/t1/jobs/j1", None).await.ok();
    assert_eq!(
        (x["execution"]["status"].as_str(), x["execution"]["versionNumber"].as_u64()),
        (Some("CANCELED"), Some(3))
    );
    assert_eq!(x["execution"]["statusDetails"]["detailsMap"]["why"], "ops");
    // R16: never over a terminal status.
    e.ctl("PUT", &format!("{path}?force=true"), None).await.err(409, "InvalidStateTransitionException");
    e.ctl("PUT", "/things/t1/jobs/nope/cancel", None).await.err(404, "ResourceNotFoundException");
}

#[tokio::test]
async fn delete_execution_and_number_reuse() {
    let e = emu().await;
    e.thing("t1").await;
    e.job("j1", &["t1"], json!({"targetSelection": "CONTINUOUS"})).await.ok();
    let del = |n: u32, force: bool| {
        format!("/things/t1/jobs/j1/executionNumber/{n}{}", if force { "?force=true" } else { "" })
    };
    // R2: QUEUED needs force.
    e.ctl("DELETE", &del(1, false), None).await.err(409, "InvalidStateTransitionException");
    e.update("t1", "j1", json!({"status": "IN_PROGRESS"})).await.ok();
    e.ctl("DELETE", &del(1, false), None).await.err(409, "InvalidStateTransitionException");
    e.ctl("DELETE", &del(2, true), None).await.err(404, "ResourceNotFoundException");
    e.ctl("DELETE", "/things/t1/jobs/j1/executionNumber/x1", None).await.err(400, "InvalidRequestException");
    e.ctl("DELETE", &format!("{}&namespaceId=bad%20ns", del(1, true)), None)
        .await
        .err(400, "InvalidRequestException");
    e.ctl("DELETE", &del(1, true), None).await.ok();
    e.ctl("GET", "/things/t1/jobs/j1", None).await.err(404, "ResourceNotFoundException");
    e.data("GET", "/things/t1/jobs/j1", None).await.err(404, "ResourceNotFoundException");
    // R7: the number is reused by the next execution of (job, thing).
    e.ctl(
        "POST",
        "/jobs/j1/targets",
        Some(json!({"targets": [format!("{ARN}:thing/t1")], "comment": "again"})),
    )
    .await
    .ok();
    let x = e.ctl("GET", "/things/t1/jobs/j1", None).await.ok();
    assert_eq!(
        (x["execution"]["executionNumber"].as_u64(), x["execution"]["status"].as_str()),
        (Some(1), Some("QUEUED"))
    );
    e.update("t1", "j1", json!({"status": "SUCCEEDED"})).await.ok();
    e.ctl("DELETE", &del(1, false), None).await.ok();
    assert_eq!(e.ctl("GET", "/jobs/j1/things", None).await.ok()["executionSummaries"], json!([]));
}

#[tokio::test]
async fn delete_job_deletion_in_progress_and_the_limit_of_ten() {
    let e = start(|c| c.deletion_delay = 60).await;
    e.thing("t1").await;
    e.job("j0", &["t1"], json!({})).await.ok();
    e.ctl("DELETE", "/jobs/j0", None).await.err(409, "InvalidStateTransitionException");
    e.ctl("DELETE", "/jobs/j0?force=true&namespaceId=ns", None).await.ok();
    assert_eq!(e.job_status("j0").await, "DELETION_IN_PROGRESS");
    // R4: again is a 409; devices no longer see it; the id is not reusable yet.
    e.ctl("DELETE", "/jobs/j0?force=true", None).await.err(409, "InvalidStateTransitionException");
    e.data("GET", "/things/t1/jobs/j0", None).await.err(404, "ResourceNotFoundException");
    e.job("j0", &["t1"], json!({})).await.err(409, "ResourceAlreadyExistsException");
    assert_eq!(e.data("GET", "/things/t1/jobs", None).await.ok()["queuedJobs"], json!([]));
    for i in 1..10 {
        e.job(&format!("j{i}"), &["t1"], json!({})).await.ok();
        e.ctl("DELETE", &format!("/jobs/j{i}?force=true"), None).await.ok();
    }
    e.job("j10", &["t1"], json!({})).await.ok();
    let limit = e.ctl("DELETE", "/jobs/j10?force=true", None).await;
    limit.err(410, "LimitExceededException");
    let stats = e.raw(None, "GET", "/_emulator/stats", None).await.ok();
    assert_eq!(stats["jobsDeleting"], 10);
    e.advance(59).await;
    assert_eq!(e.job_status("j0").await, "DELETION_IN_PROGRESS");
    e.advance(1).await;
    e.ctl("GET", "/jobs/j0", None).await.err(404, "ResourceNotFoundException");
    e.ctl("DELETE", "/jobs/j10?force=true", None).await.ok();
    // The id is free again once its deletion completed.
    e.job("j0", &["t1"], json!({})).await.ok();
    e.ctl("DELETE", "/jobs/nope", None).await.err(404, "ResourceNotFoundException");
}

// ---- listings, continuous jobs -------------------------------------------------------------------------

#[tokio::test]
async fn list_executions_paging_and_filters() {
    let e = emu().await;
    for i in 0..5 {
        e.thing(&format!("t{i}")).await;
    }
    let all: Vec<String> = (0..5).map(|i| format!("t{i}")).collect();
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    e.job("j1", &refs, json!({})).await.ok();
    e.job("j2", &["t0"], json!({"namespaceId": "ns"})).await.ok();
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let path = match &token {
            Some(t) => format!("/jobs/j1/things?maxResults=2&nextToken={t}"),
            None => "/jobs/j1/things?maxResults=2".into(),
        };
        let page = e.ctl("GET", &path, None).await.ok();
        for s in page["executionSummaries"].as_array().unwrap() {
            seen.push(s["thingArn"].as_str().unwrap().to_owned());
            assert_eq!(s["jobExecutionSummary"]["status"], "QUEUED");
            assert_eq!(s["jobExecutionSummary"]["retryAttempt"], 0);
        }
        match page["nextToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    e.update("t0", "j1", json!({"status": "IN_PROGRESS"})).await.ok();
    let ip = e.ctl("GET", "/jobs/j1/things?status=IN_PROGRESS", None).await.ok();
    assert_eq!(ip["executionSummaries"].as_array().unwrap().len(), 1);
    let t0 = e.ctl("GET", "/things/t0/jobs", None).await.ok();
    assert_eq!(t0["executionSummaries"].as_array().unwrap().len(), 2);
    let t0j2 = e.ctl("GET", "/things/t0/jobs?jobId=j2", None).await.ok();
    assert_eq!(t0j2["executionSummaries"][0]["jobId"], "j2");
    let ns = e.ctl("GET", "/things/t0/jobs?namespaceId=ns&maxResults=1", None).await.ok();
    assert_eq!(ns["executionSummaries"].as_array().unwrap().len(), 1);
    assert!(ns.get("nextToken").is_none());
    let page = e.ctl("GET", "/things/t0/jobs?maxResults=1", None).await.ok();
    let token = page["nextToken"].as_str().unwrap();
    let next = e.ctl("GET", &format!("/things/t0/jobs?maxResults=1&nextToken={token}"), None).await.ok();
    assert_eq!(next["executionSummaries"][0]["jobId"], "j2");
    // A made-up cursor behind this listing's binding is refused by the core; a malformed token,
    // or one without the binding, by the emulator.
    let page = e.ctl("GET", "/jobs/j1/things?maxResults=1", None).await.ok();
    let scope = &page["nextToken"].as_str().unwrap()[..8];
    let made_up = e.ctl("GET", &format!("/jobs/j1/things?nextToken={scope}cffffff0000000007"), None).await;
    made_up.err(400, "InvalidRequestException");
    assert_eq!(made_up.message(), "nextToken is no longer valid: the listing changed; start again");
    let unbound = e.ctl("GET", "/jobs/j1/things?nextToken=cffffff0000000007", None).await;
    unbound.err(400, "InvalidRequestException");
    assert_eq!(unbound.message(), "nextToken is not valid for ListJobExecutionsForJob");
    e.ctl("GET", "/jobs/j1/things?nextToken=zzz", None).await.err(400, "InvalidRequestException");
    e.ctl("GET", "/jobs/j1/things?maxResults=251", None).await.err(400, "InvalidRequestException");
    e.ctl("GET", "/jobs/j1/things?status=SUCCESS", None).await.err(400, "InvalidRequestException");
    e.ctl("GET", "/jobs/nope/things", None).await.err(404, "ResourceNotFoundException");
    e.ctl("GET", "/things/ghost/jobs", None).await.err(404, "ResourceNotFoundException");
    e.ctl("GET", "/things/t0/jobs/j1?executionNumber=9", None).await.err(404, "ResourceNotFoundException");
    e.ctl("GET", "/things/t0/jobs/j1?executionNumber=-1", None).await.err(400, "InvalidRequestException");
}

#[tokio::test]
async fn continuous_jobs_follow_group_membership() {
    let e = emu().await;
    for t in ["t1", "t2"] {
        e.thing(t).await;
    }
    e.ctl("POST", "/thing-groups/g", Some(json!({}))).await.ok();
    e.join("g", "t1").await;
    e.job("c1", &["group:g"], json!({"targetSelection": "CONTINUOUS"})).await.ok();
    e.job("s1", &["group:g"], json!({})).await.ok();
    // A join rolls out the CONTINUOUS job only.
    e.join("g", "t2").await;
    assert_eq!(e.exec_status("t2", "c1").await, "QUEUED");
    e.ctl("GET", "/things/t2/jobs/s1", None).await.err(404, "ResourceNotFoundException");
    // A leave removes it (SPEC T10).
    e.leave("g", "t2").await;
    assert_eq!(e.exec_status("t2", "c1").await, "REMOVED");
    // AssociateTargetsWithJob: CONTINUOUS only (SPEC §2).
    let t = json!({"targets": [format!("{ARN}:thing/t2")]});
    e.ctl("POST", "/jobs/s1/targets", Some(t.clone())).await.err(400, "InvalidRequestException");
    e.ctl("POST", "/jobs/c1/targets", Some(json!({"targets": []}))).await.err(400, "InvalidRequestException");
    e.ctl("POST", "/jobs/nope/targets", Some(t.clone())).await.err(404, "ResourceNotFoundException");
    let r = e.ctl("POST", "/jobs/c1/targets", Some(t)).await.ok();
    assert_eq!(r["jobArn"], format!("{ARN}:job/c1"));
    let x = e.ctl("GET", "/things/t2/jobs/c1", None).await.ok();
    assert_eq!(
        (x["execution"]["status"].as_str(), x["execution"]["executionNumber"].as_u64()),
        (Some("QUEUED"), Some(2))
    );
    // A group associated later is followed too, and the job lists every target once.
    e.ctl("POST", "/thing-groups/h", Some(json!({}))).await.ok();
    e.thing("t3").await;
    let h = json!({"targets": [format!("{ARN}:thinggroup/h"), format!("{ARN}:thing/t2")]});
    e.ctl("POST", "/jobs/c1/targets", Some(h)).await.ok();
    e.join("h", "t3").await;
    assert_eq!(e.exec_status("t3", "c1").await, "QUEUED");
    let d = e.ctl("GET", "/jobs/c1", None).await.ok();
    let expected = [format!("{ARN}:thinggroup/g"), format!("{ARN}:thing/t2"), format!("{ARN}:thinggroup/h")];
    assert_eq!(d["job"]["targets"], json!(expected), "{d}");
    // DeleteThing removes its pending executions.
    e.ctl("DELETE", "/things/t1", None).await.ok();
    assert_eq!(e.exec_status("t1", "c1").await, "REMOVED");
}

// ---- the wire: routing, bad input, limits ---------------------------------------------------------------

#[tokio::test]
async fn routing_and_bad_requests() {
    let e = start(|c| c.data_addr = Some("127.0.0.1:0".parse().unwrap())).await;
    e.thing("t1").await;
    e.job("j1", &["t1"], json!({})).await.ok();
    // Unsigned: control plane for the shared paths, data plane with a data-only marker.
    let unsigned = e.raw(None, "GET", "/things/t1/jobs", None).await.ok();
    assert!(unsigned.get("executionSummaries").is_some());
    let unsigned = e.raw(None, "GET", "/things/t1/jobs/j1", None).await.ok();
    assert!(unsigned["execution"].get("thingArn").is_some());
    let unsigned = e.raw(None, "GET", "/things/t1/jobs/j1?includeJobDocument=true", None).await.ok();
    assert!(unsigned["execution"].get("jobDocument").is_some());
    assert_eq!(
        e.raw(None, "POST", "/things/t1/jobs/j1", Some(b"{\"status\":\"IN_PROGRESS\"}".to_vec())).await.ok(),
        json!({})
    );
    // The data-only listener.
    let data_url = format!("http://{}", e.server.data_addr.unwrap());
    let d: Value =
        e.http.get(format!("{data_url}/things/t1/jobs")).send().await.unwrap().json().await.unwrap();
    assert_eq!(d["inProgressJobs"][0]["jobId"], "j1");
    let r = e.http.get(format!("{data_url}/jobs/j1")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    // Unknown routes and methods, unknown services.
    e.ctl("GET", "/nothing/here", None).await.err(404, "UnknownOperationException");
    e.ctl("PUT", "/things/t1", None).await.err(405, "UnknownOperationException");
    e.data("GET", "/jobs/j1", None).await.err(404, "UnknownOperationException");
    let s3 = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00";
    e.raw(Some(s3), "GET", "/jobs", None).await.err(404, "UnknownOperationException");
    // Bodies: oversized, malformed, wrong types, not an object.
    let big = vec![b' '; (1 << 20) + 1];
    e.raw(Some(CONTROL), "PUT", "/jobs/j2", Some(big)).await.err(413, "RequestEntityTooLargeException");
    e.raw(Some(DATA), "POST", "/things/t1/jobs/j1", Some(b"not json".to_vec()))
        .await
        .err(400, "InvalidRequestException");
    e.raw(Some(DATA), "POST", "/things/t1/jobs/j1", Some(b"[1]".to_vec()))
        .await
        .err(400, "InvalidRequestException");
    e.update("t1", "j1", json!({"status": 3})).await.err(400, "InvalidRequestException");
    e.update("t1", "j1", json!({"status": "IN_PROGRESS", "statusDetails": {"k": 1}}))
        .await
        .err(400, "InvalidRequestException");
    e.update("t1", "j1", json!({"status": "IN_PROGRESS", "statusDetails": {"bad key": "v"}}))
        .await
        .err(400, "InvalidRequestException");
    e.update("t1", "j1", json!({"status": "IN_PROGRESS", "expectedVersion": -1}))
        .await
        .err(400, "InvalidRequestException");
    e.update("t1", "$next", json!({"status": "IN_PROGRESS"})).await.err(400, "InvalidRequestException");
    e.data("GET", "/things/t1/jobs/j1?includeJobDocument=yes", None)
        .await
        .err(400, "InvalidRequestException");
    e.data("PUT", "/things/t1/jobs/$next", Some(json!({"stepTimeoutInMinutes": -1})))
        .await
        .err(400, "InvalidRequestException");
    e.data("GET", "/things/bad!/jobs", None).await.err(400, "InvalidRequestException");
    let r = e.raw(Some(CONTROL), "GET", "/jobs/%FF", None).await;
    r.err(400, "InvalidRequestException");
}

// ---- concurrency ------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expected_version_holds_under_concurrent_writers() {
    let e = emu().await;
    e.thing("t1").await;
    e.job("j1", &["t1"], json!({})).await.ok();
    for round in 0..5u64 {
        let version = 1 + round;
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (http, url) = (e.http.clone(), e.url.clone());
                tokio::spawn(async move {
                    let body = json!({"status": "IN_PROGRESS", "expectedVersion": version});
                    let r = http
                        .post(format!("{url}/things/t1/jobs/j1"))
                        .header("authorization", DATA)
                        .json(&body)
                        .send();
                    r.await.unwrap().status().as_u16()
                })
            })
            .collect();
        let mut codes = Vec::new();
        for t in tasks {
            codes.push(t.await.unwrap());
        }
        assert_eq!(codes.iter().filter(|c| **c == 200).count(), 1, "{codes:?}");
        assert_eq!(codes.iter().filter(|c| **c == 409).count(), 15, "{codes:?}");
    }
    let x = e.ctl("GET", "/things/t1/jobs/j1", None).await.ok();
    assert_eq!(x["execution"]["versionNumber"], 6);
}

mod admin;
mod data_plane;
mod faults;
mod listings;
mod objects;
mod time;

/// A member of the wrong JSON type is a 400 that names it, as botocore names members (it gave
/// serde_json's text only: "invalid type: integer `7`, expected a string at line 1 column 90").
#[tokio::test]
async fn a_member_of_the_wrong_type_is_named() {
    let e = emu().await;
    e.thing("t0").await;
    for (extra, at) in [
        (json!({"description": 7}), "description: invalid type: integer `7`, expected a string"),
        (json!({"targets": [5]}), "targets[0]: invalid type: integer `5`, expected a string"),
        (json!({"tags": [{"Key": "k", "Value": 1}]}), "tags[0].Value: invalid type: integer `1`"),
    ] {
        let r = e.job("j", &["t0"], extra).await;
        r.err(400, "InvalidRequestException");
        assert!(r.message().starts_with(&format!("the request body is not valid: {at}")), "{at}: {r:?}");
    }
    let r = e.ctl("POST", "/things/t1", Some(json!({"attributePayload": {"attributes": {"a": 1}}}))).await;
    r.err(400, "InvalidRequestException");
    assert!(r.message().contains("attributePayload.attributes.a: invalid type"), "{r:?}");
    // An error at the top names no member (not ".").
    let r = e.ctl("POST", "/things/t2", Some(json!([1]))).await;
    r.err(400, "InvalidRequestException");
    assert!(r.message().starts_with("the request body is not valid: invalid type: sequence"), "{r:?}");
}

/// CreateJob takes one document (`document` or `documentSource`, as CreateJobTemplate), which
/// is JSON, and 1 to 100 target ARNs (the limit AssociateTargetsWithJob keeps in all); a refused
/// request makes no job.
#[tokio::test]
async fn create_job_takes_one_json_document_and_at_most_100_targets() {
    let e = emu().await;
    let names: Vec<String> = (0..101).map(|i| format!("t{i}")).collect();
    for t in &names {
        e.thing(t).await;
    }
    let both = json!({"documentSource": "https://example.com/doc.json"});
    let r = e.job("j", &["t0"], both).await;
    r.err(400, "InvalidRequestException");
    assert!(r.message().contains("only one of document and documentSource"), "{r:?}");
    for bad in ["not json", "{\"a\":", "{} {}", ""] {
        let r = e.job("j", &["t0"], json!({"document": bad})).await;
        r.err(400, "InvalidRequestException");
        assert!(r.message().starts_with("document is not valid JSON"), "{bad}: {r:?}");
    }
    // Nested no deeper than the core reads, so that MQTT carries it as an object.
    let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
    let r = e.job("j", &["t0"], json!({"document": deep(127)})).await;
    r.err(400, "InvalidRequestException");
    assert_eq!(r.message(), "document nests objects and arrays more than 126 levels deep");
    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    let r = e.job("j", &all, json!({})).await;
    r.err(410, "LimitExceededException");
    assert!(r.message().contains("at most 100 targets"), "{r:?}");
    e.ctl("GET", "/jobs/j", None).await.err(404, "ResourceNotFoundException");
    e.job("j", &[], json!({})).await.err(400, "InvalidRequestException");
    e.ctl("GET", "/jobs/j", None).await.err(404, "ResourceNotFoundException");
    // A thing of another account or region is no thing here (as TagResource's ARNs).
    for other in
        ["arn:aws:iot:us-east-1:999999999999:thing/t0", "arn:aws:iot:eu-west-1:123456789012:thing/t0"]
    {
        let body = json!({"targets": [other], "document": "{}"});
        let r = e.ctl("PUT", "/jobs/j", Some(body)).await;
        r.err(404, "ResourceNotFoundException");
        assert!(
            r.message().contains("this emulator's resources are in region us-east-1, account 123456789012"),
            "{r:?}"
        );
        let add = json!({"thingGroupName": "g", "thingArn": other});
        e.ctl("PUT", "/thing-groups/addThingToThingGroup", Some(add))
            .await
            .err(404, "ResourceNotFoundException");
    }
    e.ctl("GET", "/jobs/j", None).await.err(404, "ResourceNotFoundException");
    // 100, and a document that is any JSON text, are accepted.
    e.job("j", &all[..100], json!({"document": "[1, \"two\"]"})).await.ok();
    let d = e.ctl("GET", "/jobs/j", None).await.ok();
    assert_eq!(d["job"]["jobProcessDetails"]["numberOfQueuedThings"], 100);
    assert_eq!(e.ctl("GET", "/jobs/j/job-document", None).await.ok()["document"], "[1, \"two\"]");
    // AssociateTargetsWithJob keeps the 100 ARNs in all, even when the new one adds no thing
    // (an empty group); an ARN the job already has is not counted again.
    e.job("c", &all[..100], json!({"targetSelection": "CONTINUOUS"})).await.ok();
    e.ctl("POST", "/thing-groups/empty", Some(json!({}))).await.ok();
    let again = json!({"targets": [format!("{ARN}:thing/t0"), format!("{ARN}:thing/t0")]});
    e.ctl("POST", "/jobs/c/targets", Some(again)).await.ok();
    let group = json!({"targets": [format!("{ARN}:thinggroup/empty")]});
    let r = e.ctl("POST", "/jobs/c/targets", Some(group)).await;
    r.err(410, "LimitExceededException");
    assert!(r.message().contains("at most 100 targets"), "{r:?}");
    let d = e.ctl("GET", "/jobs/c", None).await.ok();
    assert_eq!(d["job"]["targets"].as_array().map(Vec::len), Some(100), "{d}");
    // CreateJob keeps an ARN given twice once, as AssociateTargetsWithJob does.
    e.job("twice", &["t1", "t0", "t1"], json!({})).await.ok();
    let d = e.ctl("GET", "/jobs/twice", None).await.ok();
    assert_eq!(d["job"]["targets"], json!([format!("{ARN}:thing/t1"), format!("{ARN}:thing/t0")]));
    assert_eq!(d["job"]["jobProcessDetails"]["numberOfQueuedThings"], 2);
    // A SNAPSHOT job takes no targets at all: that is the answer, however many are given; and a
    // job that does not exist is one.
    let many = json!({"targets": all.iter().map(|t| format!("{ARN}:thing/{t}")).collect::<Vec<_>>()});
    let r = e.ctl("POST", "/jobs/j/targets", Some(many.clone())).await;
    r.err(400, "InvalidRequestException");
    assert!(r.message().contains("CONTINUOUS"), "{r:?}");
    e.ctl("POST", "/jobs/nope/targets", Some(many)).await.err(404, "ResourceNotFoundException");
}
