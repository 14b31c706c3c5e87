//! The emulator's MQTT broker and the jobs device API over it, with a real Rust MQTT client
//! (`rumqttc`, 3.1.1 and 5) and raw TCP for bad input, against an in-process emulator on
//! ephemeral loopback ports.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code)]
mod reliability_common;

use std::net::SocketAddr;
use std::time::Duration;

use iot_jobs_core::{ExecutionStatus, JobId, Plane, ThingName};
use iot_jobs_emulator::clock::ClockMode;
use iot_jobs_emulator::journal;
use iot_jobs_emulator::state::Caps;
use iot_jobs_emulator::{Config, Server};
use rumqttc::v5::mqttbytes::QoS as Q5;
use rumqttc::v5::mqttbytes::v5::Packet as Packet5;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

const CONTROL: &str =
    "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iot/aws4_request, SignedHeaders=host, Signature=00";
const ARN: &str = "arn:aws:iot:us-east-1:123456789012";
/// Longest wait for a message that must come; a message that must not come is checked after a
/// round trip that comes later on the same connection.
const WAIT: Duration = Duration::from_secs(10);

struct Emu {
    server: Server,
    mqtt: SocketAddr,
    url: String,
    http: reqwest::Client,
}

async fn emu() -> Emu {
    let config = Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        mqtt_addr: Some("127.0.0.1:0".parse().unwrap()),
        clock: ClockMode::Manual,
        ..Config::default()
    };
    let server = iot_jobs_emulator::start(config).await.unwrap();
    let url = format!("http://{}", server.addr);
    Emu { mqtt: server.mqtt_addr.unwrap(), server, url, http: reqwest::Client::new() }
}

/// A fresh directory for a test's state file, and the file's path in it.
fn state_path(test: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("iot-jobs-mqtt-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.json");
    (dir, path)
}

/// An emulator with a broker, the manual clock and `state` as its state file.
async fn emu_with_state(state: &std::path::Path) -> Emu {
    emu_with_state_and(state, iot_jobs_emulator::DEFAULT_CHECKPOINT_RECORDS).await
}

/// The same, with a checkpoint after every `checkpoint_records` changes.
async fn emu_with_state_and(state: &std::path::Path, checkpoint_records: u64) -> Emu {
    let config = Config {
        checkpoint_records,
        addr: "127.0.0.1:0".parse().unwrap(),
        mqtt_addr: Some("127.0.0.1:0".parse().unwrap()),
        clock: ClockMode::Manual,
        state_file: Some(state.to_path_buf()),
        ..Config::default()
    };
    let server = iot_jobs_emulator::start(config).await.unwrap();
    Emu {
        mqtt: server.mqtt_addr.unwrap(),
        url: format!("http://{}", server.addr),
        server,
        http: reqwest::Client::new(),
    }
}

impl Emu {
    async fn ctl(&self, method: &str, path: &str, body: Value) -> Value {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let resp = self
            .http
            .request(method, format!("{}{path}", self.url))
            .header("authorization", CONTROL)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let bytes = resp.bytes().await.unwrap();
        if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() }
    }
    async fn create_job(&self, job: &str, things: &[&str]) {
        for t in things {
            self.ctl("POST", &format!("/things/{t}"), json!({})).await;
        }
        let targets: Vec<String> = things.iter().map(|t| format!("{ARN}:thing/{t}")).collect();
        let body = json!({"targets": targets, "document": "{\"op\":\"update\"}"});
        self.ctl("PUT", &format!("/jobs/{job}"), body).await;
    }
    async fn advance(&self, seconds: u64) {
        self.ctl("POST", "/_emulator/clock", json!({ "advanceSeconds": seconds })).await;
    }
}

/// A connected 3.1.1 client and the publishes it receives.
struct Client {
    client: AsyncClient,
    rx: mpsc::UnboundedReceiver<rumqttc::Publish>,
    /// Received and not asked for yet.
    stash: Vec<rumqttc::Publish>,
}

fn options(id: &str, addr: SocketAddr) -> MqttOptions {
    let mut o = MqttOptions::new(id, addr.ip().to_string(), addr.port());
    o.set_keep_alive(Duration::from_secs(30));
    o.set_max_packet_size(1 << 20, 1 << 20);
    o
}

async fn connect_with(o: MqttOptions) -> Client {
    let (client, mut eventloop) = AsyncClient::new(o, 100);
    let (tx, rx) = mpsc::unbounded_channel();
    let (ready_tx, mut ready) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let _ = tx.send(p);
                }
                Ok(Event::Incoming(Packet::ConnAck(a))) => {
                    let _ = ready_tx.send(a.session_present);
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    tokio::time::timeout(WAIT, ready.recv()).await.unwrap().unwrap();
    Client { client, rx, stash: Vec::new() }
}

async fn connect(id: &str, addr: SocketAddr) -> Client {
    connect_with(options(id, addr)).await
}

impl Client {
    async fn sub(&self, filter: &str) {
        self.client.subscribe(filter, QoS::AtLeastOnce).await.unwrap();
    }
    async fn publish(&self, topic: &str, payload: impl Into<Vec<u8>>) {
        self.client.publish(topic, QoS::AtLeastOnce, false, payload.into()).await.unwrap();
    }
    /// The next publish on `topic`, skipping others.
    async fn next_on(&mut self, topic: &str) -> rumqttc::Publish {
        if let Some(i) = self.stash.iter().position(|p| p.topic == topic) {
            return self.stash.remove(i);
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let p = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("nothing on {topic}"))
                .unwrap();
            if p.topic == topic {
                return p;
            }
            self.stash.push(p);
        }
    }
    async fn json_on(&mut self, topic: &str) -> Value {
        serde_json::from_slice(&self.next_on(topic).await.payload).unwrap()
    }
    /// Publishes a request and returns the answer on `topic/accepted` or `topic/rejected`.
    async fn request(&mut self, topic: &str, payload: &str) -> (bool, Value) {
        self.publish(topic, payload).await;
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let p = tokio::time::timeout_at(deadline, self.rx.recv()).await.expect("no answer").unwrap();
            if p.topic == format!("{topic}/accepted") || p.topic == format!("{topic}/rejected") {
                return (p.topic.ends_with("accepted"), serde_json::from_slice(&p.payload).unwrap());
            }
            self.stash.push(p);
        }
    }
    /// Everything received so far (after a round trip that orders it).
    async fn drain(&mut self) -> Vec<rumqttc::Publish> {
        self.request("$aws/things/drain/jobs/get", "{}").await;
        let mut got = std::mem::take(&mut self.stash);
        while let Ok(p) = self.rx.try_recv() {
            got.push(p);
        }
        got
    }
}

#[tokio::test]
async fn wildcards_retained_messages_and_the_dollar_rule() {
    let emu = emu().await;
    let mut all = connect("all", emu.mqtt).await;
    all.sub("#").await;
    all.sub("+/things/+/jobs/notify").await;
    let mut jobs = connect("jobs", emu.mqtt).await;
    jobs.sub("$aws/things/+/jobs/#").await;
    jobs.sub("sensors/+/temp").await;
    let p = connect("pub", emu.mqtt).await;
    p.client.publish("sensors/a/temp", QoS::AtLeastOnce, true, "21").await.unwrap();
    p.publish("$aws/things/t1/jobs/notify", "{}").await;
    assert_eq!(&jobs.next_on("sensors/a/temp").await.payload[..], b"21");
    assert_eq!(jobs.next_on("$aws/things/t1/jobs/notify").await.qos, QoS::AtLeastOnce);
    assert_eq!(&all.next_on("sensors/a/temp").await.payload[..], b"21");
    // MQTT-4.7.2-1: `#` and `+/…` do not match `$aws/…`.
    let seen: Vec<String> = all.drain().await.into_iter().map(|p| p.topic).collect();
    assert!(seen.iter().all(|t| !t.starts_with('$')), "{seen:?}");
    // A later subscriber gets the retained message, flagged as retained.
    let mut late = connect("late", emu.mqtt).await;
    late.sub("sensors/#").await;
    let r = late.next_on("sensors/a/temp").await;
    assert!(r.retain);
    assert_eq!(&r.payload[..], b"21");
    // An empty retained payload clears it.
    p.client.publish("sensors/a/temp", QoS::AtLeastOnce, true, "").await.unwrap();
    let mut later = connect("later", emu.mqtt).await;
    later.sub("sensors/#").await;
    assert!(later.drain().await.iter().all(|p| p.topic != "sensors/a/temp"));
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_device_runs_a_job_over_mqtt_and_hears_of_it() {
    let emu = emu().await;
    let mut dev = connect("dev-1", emu.mqtt).await;
    dev.sub("$aws/things/dev-1/jobs/notify").await;
    dev.sub("$aws/things/dev-1/jobs/notify-next").await;
    let mut events = connect("rules", emu.mqtt).await;
    events.sub("$aws/events/#").await;
    emu.create_job("fw-1", &["dev-1"]).await;
    let n = dev.next_on("$aws/things/dev-1/jobs/notify-next").await;
    assert_eq!(n.qos, QoS::AtLeastOnce);
    let n: Value = serde_json::from_slice(&n.payload).unwrap();
    assert_eq!(n["execution"]["jobId"], "fw-1");
    assert_eq!(n["execution"]["status"], "QUEUED");
    assert_eq!(n["execution"]["jobDocument"], json!({"op": "update"}));
    let list = dev.json_on("$aws/things/dev-1/jobs/notify").await;
    assert_eq!(list["jobs"]["QUEUED"][0]["jobId"], "fw-1");

    let (ok, got) = dev.request("$aws/things/dev-1/jobs/get", r#"{"clientToken":"t-1"}"#).await;
    assert!(ok, "{got}");
    assert_eq!(got["clientToken"], "t-1");
    assert_eq!(got["queuedJobs"][0]["jobId"], "fw-1");
    assert!(got["timestamp"].as_u64().is_some());

    let (ok, got) = dev
        .request("$aws/things/dev-1/jobs/start-next", r#"{"clientToken":"t-2","statusDetails":{"step":"1"}}"#)
        .await;
    assert!(ok, "{got}");
    assert_eq!(got["clientToken"], "t-2");
    assert_eq!(got["execution"]["status"], "IN_PROGRESS");
    assert_eq!(got["execution"]["statusDetails"], json!({"step": "1"}));
    assert_eq!(got["execution"]["jobDocument"], json!({"op": "update"}));
    let version = got["execution"]["versionNumber"].as_u64().unwrap();

    let (ok, got) = dev.request("$aws/things/dev-1/jobs/$next/get", r#"{"clientToken":"t-3"}"#).await;
    assert!(ok, "{got}");
    assert_eq!(got["execution"]["jobId"], "fw-1");

    // VersionMismatch carries the execution's state (SPEC §4.4).
    let stale =
        json!({"status": "SUCCEEDED", "expectedVersion": version + 5, "clientToken": "t-4"}).to_string();
    let (ok, got) = dev.request("$aws/things/dev-1/jobs/fw-1/update", &stale).await;
    assert!(!ok);
    assert_eq!(got["code"], "VersionMismatch");
    assert_eq!(got["clientToken"], "t-4");
    assert_eq!(got["executionState"]["status"], "IN_PROGRESS");
    assert_eq!(got["executionState"]["statusDetails"], json!({"step": "1"}));

    let done = json!({"status": "SUCCEEDED", "expectedVersion": version, "includeJobExecutionState": true,
                      "clientToken": "t-5"})
    .to_string();
    let (ok, got) = dev.request("$aws/things/dev-1/jobs/fw-1/update", &done).await;
    assert!(ok, "{got}");
    assert_eq!(got["executionState"]["status"], "SUCCEEDED");
    assert_eq!(got["clientToken"], "t-5");
    let next = dev.json_on("$aws/things/dev-1/jobs/notify-next").await;
    assert!(next.get("execution").is_none(), "{next}");
    let ev = events.json_on("$aws/events/jobExecution/fw-1/succeeded").await;
    assert_eq!(ev["thingArn"], format!("{ARN}:thing/dev-1"));
    assert_eq!(ev["status"], "SUCCEEDED");
    let ev = events.json_on("$aws/events/job/fw-1/completed").await;
    assert_eq!(ev["status"], "COMPLETED");

    // A terminal execution cannot be updated again.
    let (ok, got) = dev.request("$aws/things/dev-1/jobs/fw-1/update", r#"{"status":"FAILED"}"#).await;
    assert!(!ok);
    assert_eq!(got["code"], "InvalidStateTransition");
    assert_eq!(got["executionState"]["status"], "SUCCEEDED");
    // A deletion over HTTP: its event still names the job's targets (rendered before the
    // emulator drops the job's payloads).
    emu.ctl("DELETE", "/jobs/fw-1", json!({})).await;
    let ev = events.json_on("$aws/events/job/fw-1/deletion_in_progress").await;
    assert_eq!(ev["targets"], json!([format!("{ARN}:thing/dev-1")]));
    // The deletion completes at the clock's next step (a manual clock here).
    emu.advance(1).await;
    let ev = events.json_on("$aws/events/jobExecution/fw-1/deleted").await;
    assert_eq!(ev["thingArn"], format!("{ARN}:thing/dev-1"));
    let ev = events.json_on("$aws/events/job/fw-1/deleted").await;
    assert_eq!(ev["operation"], "deleted");
    assert_eq!(ev["targets"], json!([format!("{ARN}:thing/dev-1")]));
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn event_configurations_switch_the_job_event_topics() {
    let emu = emu().await;
    let mut rules = connect("rules", emu.mqtt).await;
    rules.sub("$aws/events/#").await;
    let switch = |job: bool, execution: bool| json!({"eventConfigurations": {"JOB": {"Enabled": job}, "JOB_EXECUTION": {"Enabled": execution}}});
    let cancel = |job: &str| format!("/jobs/{job}/cancel?force=true");
    // SPEC R23: both off, neither kind is published.
    emu.ctl("PATCH", "/event-configurations", switch(false, false)).await;
    emu.create_job("ev-1", &["dev-e"]).await;
    emu.ctl("PUT", &cancel("ev-1"), json!({})).await;
    let heard: Vec<String> = rules.drain().await.into_iter().map(|p| p.topic).collect();
    assert!(heard.iter().all(|t| !t.starts_with("$aws/events/")), "{heard:?}");
    // Job events only.
    emu.ctl("PATCH", "/event-configurations", switch(true, false)).await;
    emu.create_job("ev-2", &["dev-e"]).await;
    emu.ctl("PUT", &cancel("ev-2"), json!({})).await;
    assert_eq!(rules.json_on("$aws/events/job/ev-2/canceled").await["jobId"], "ev-2");
    let heard: Vec<String> = rules.drain().await.into_iter().map(|p| p.topic).collect();
    assert!(heard.iter().all(|t| !t.starts_with("$aws/events/jobExecution/")), "{heard:?}");
    // Both on again (the default).
    emu.ctl("PATCH", "/event-configurations", switch(true, true)).await;
    emu.create_job("ev-3", &["dev-e"]).await;
    emu.ctl("PUT", &cancel("ev-3"), json!({})).await;
    let ev = rules.json_on("$aws/events/jobExecution/ev-3/canceled").await;
    assert_eq!(ev["thingArn"], format!("{ARN}:thing/dev-e"));
    rules.next_on("$aws/events/job/ev-3/canceled").await;
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_requests_get_the_service_codes() {
    let emu = emu().await;
    emu.create_job("j1", &["t1"]).await;
    let mut dev = connect("t1", emu.mqtt).await;
    let cases = [
        ("$aws/things/t1/jobs/get", "not json", "InvalidJson"),
        ("$aws/things/t1/jobs/j1/update", r#"{"status":"SUCCESS","clientToken":"c"}"#, "InvalidRequest"),
        ("$aws/things/t1/jobs/j1/update", r#"{"clientToken":"c"}"#, "InvalidRequest"),
        ("$aws/things/t1/jobs/nope/get", r#"{"clientToken":"c"}"#, "ResourceNotFound"),
        (
            "$aws/things/t1/jobs/nope/update",
            r#"{"status":"IN_PROGRESS","clientToken":"c"}"#,
            "ResourceNotFound",
        ),
        ("$aws/things/t1/jobs/j1/frobnicate", r#"{"clientToken":"c"}"#, "InvalidTopic"),
    ];
    for (topic, payload, code) in cases {
        let (ok, got) = dev.request(topic, payload).await;
        assert!(!ok, "{topic} {payload}: {got}");
        assert_eq!(got["code"], code, "{topic} {payload}: {got}");
        assert!(got["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(got["timestamp"].as_u64().is_some());
        assert!(got.get("executionState").is_none(), "{got}");
        if payload.contains("clientToken") {
            assert_eq!(got["clientToken"], "c", "{topic}");
        }
    }
    // An error changed nothing: the execution is still QUEUED at its first version.
    let (ok, got) = dev.request("$aws/things/t1/jobs/j1/get", "{}").await;
    assert!(ok);
    assert_eq!(got["execution"]["status"], "QUEUED");
    assert_eq!(got["execution"]["versionNumber"], 1);
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn namespace_topics_answer_on_their_own_topics() {
    let emu = emu().await;
    emu.create_job("j1", &["t1"]).await;
    let mut dev = connect("t1", emu.mqtt).await;
    let (ok, got) = dev.request("$aws/things/t1/jobs/j1/namespace-ns1/get", r#"{"clientToken":"n"}"#).await;
    assert!(ok, "{got}");
    assert_eq!(got["execution"]["jobId"], "j1");
    let (ok, got) =
        dev.request("$aws/things/t1/jobs/j1/namespace-ns1/update", r#"{"status":"IN_PROGRESS"}"#).await;
    assert!(ok, "{got}");
    emu.server.shutdown().await.unwrap();
}

/// SPEC R20, AMBIG-27: a namespaced job is told on the plain topics and on its namespace's,
/// whose payloads list only that namespace's executions; the head is the whole list's.
#[tokio::test]
async fn a_namespaced_job_is_told_on_its_namespace_topics() {
    const NS: &str = "$aws/things/gg/jobs/notify-namespace-aws-gg-deployment";
    const NEXT_NS: &str = "$aws/things/gg/jobs/notify-next-namespace-aws-gg-deployment";
    let emu = emu().await;
    let mut dev = connect("gg", emu.mqtt).await;
    dev.sub("$aws/things/gg/jobs/#").await;
    // A job without a namespace: the plain topics only.
    emu.create_job("plain", &["gg"]).await;
    assert_eq!(dev.json_on("$aws/things/gg/jobs/notify-next").await["execution"]["jobId"], "plain");
    let got = dev.drain().await;
    assert!(got.iter().all(|p| !p.topic.contains("namespace")), "{:?}", got.iter().map(|p| &p.topic));
    // A namespaced job behind it: both lists, no next (the head is still `plain`).
    let body = json!({"targets": [format!("{ARN}:thing/gg")], "document": "{\"deploy\":1}",
                      "namespaceId": "aws-gg-deployment",
                      "timeoutConfig": {"inProgressTimeoutInMinutes": 1}});
    emu.ctl("PUT", "/jobs/deploy", body).await;
    let list = dev.next_on(NS).await;
    assert_eq!(list.qos, QoS::AtLeastOnce);
    let list: Value = serde_json::from_slice(&list.payload).unwrap();
    assert_eq!(list["jobs"]["QUEUED"].as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list["jobs"]["QUEUED"][0]["jobId"], "deploy");
    let plain = dev.json_on("$aws/things/gg/jobs/notify").await;
    assert_eq!(plain["jobs"]["QUEUED"].as_array().map(Vec::len), Some(2), "{plain}");
    let got = dev.drain().await;
    assert!(got.iter().all(|p| !p.topic.contains("notify-next")), "{:?}", got.iter().map(|p| &p.topic));
    // The device starts it on its namespace topic: it becomes the head, told on both.
    let (ok, got) = dev
        .request(
            "$aws/things/gg/jobs/deploy/namespace-aws-gg-deployment/update",
            r#"{"status":"IN_PROGRESS"}"#,
        )
        .await;
    assert!(ok, "{got}");
    let next = dev.json_on(NEXT_NS).await;
    assert_eq!(next["execution"]["jobId"], "deploy");
    assert_eq!(next["execution"]["status"], "IN_PROGRESS");
    assert_eq!(next["execution"]["jobDocument"], json!({"deploy": 1}));
    assert_eq!(dev.json_on("$aws/things/gg/jobs/notify-next").await["execution"]["jobId"], "deploy");
    // The clock times it out: the namespace has nothing pending, the plain list still `plain`.
    emu.advance(61).await;
    assert_eq!(dev.json_on(NS).await["jobs"], json!({}));
    let next = dev.json_on(NEXT_NS).await;
    assert!(next.get("execution").is_none(), "{next}");
    assert!(next["timestamp"].as_u64().is_some());
    assert_eq!(dev.json_on("$aws/things/gg/jobs/notify-next").await["execution"]["jobId"], "plain");
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_clock_and_http_calls_notify_devices() {
    let emu = emu().await;
    let mut dev = connect("clocked", emu.mqtt).await;
    dev.sub("$aws/things/clocked/jobs/notify-next").await;
    dev.sub("$aws/things/clocked/jobs/notify").await;
    emu.ctl("POST", "/things/clocked", json!({})).await;
    let body = json!({"targets": [format!("{ARN}:thing/clocked")], "document": "{}",
                      "timeoutConfig": {"inProgressTimeoutInMinutes": 1}});
    emu.ctl("PUT", "/jobs/slow", body).await;
    assert_eq!(dev.json_on("$aws/things/clocked/jobs/notify-next").await["execution"]["jobId"], "slow");
    let (ok, _) = dev.request("$aws/things/clocked/jobs/start-next", "{}").await;
    assert!(ok);
    // The in-progress timer runs out: the device hears that nothing is pending any more.
    emu.advance(61).await;
    let list = dev.json_on("$aws/things/clocked/jobs/notify").await;
    let list =
        if list["jobs"] == json!({}) { list } else { dev.json_on("$aws/things/clocked/jobs/notify").await };
    assert_eq!(list["jobs"], json!({}), "{list}");
    let next = dev.json_on("$aws/things/clocked/jobs/notify-next").await;
    let next = if next["execution"]["jobId"] == "slow" {
        dev.json_on("$aws/things/clocked/jobs/notify-next").await
    } else {
        next
    };
    assert!(next.get("execution").is_none(), "{next}");
    // A cancel over HTTP is heard too.
    emu.ctl("PUT", "/jobs/second", json!({"targets": [format!("{ARN}:thing/clocked")], "document": "{}"}))
        .await;
    assert_eq!(dev.json_on("$aws/things/clocked/jobs/notify-next").await["execution"]["jobId"], "second");
    emu.ctl("PUT", "/jobs/second/cancel", json!({})).await;
    let next = dev.json_on("$aws/things/clocked/jobs/notify-next").await;
    assert!(next.get("execution").is_none(), "{next}");
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn persistent_sessions_keep_subscriptions_and_qos1_messages() {
    let emu = emu().await;
    let mut o = options("keeper", emu.mqtt);
    o.set_clean_session(false);
    let mut c = connect_with(o.clone()).await;
    c.sub("box/#").await;
    c.drain().await;
    c.client.disconnect().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let p = connect("sender", emu.mqtt).await;
    p.publish("box/1", "kept").await;
    p.client.publish("box/2", QoS::AtMostOnce, false, "dropped").await.unwrap();
    let mut p = p;
    p.drain().await;
    let mut back = connect_with(o).await;
    let got = back.next_on("box/1").await;
    assert_eq!(&got.payload[..], b"kept");
    // The subscription survived: a new message arrives without subscribing again.
    p.publish("box/3", "new").await;
    assert_eq!(&back.next_on("box/3").await.payload[..], b"new");
    // A clean session starts empty.
    let mut clean = connect("keeper", emu.mqtt).await;
    p.publish("box/4", "x").await;
    assert!(clean.drain().await.iter().all(|m| m.topic != "box/4"));
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_will_is_published_when_a_client_vanishes() {
    let emu = emu().await;
    let mut watcher = connect("watcher", emu.mqtt).await;
    watcher.sub("status/#").await;
    // A raw 3.1.1 CONNECT with a will on status/dev, then the socket is dropped.
    let mut s = TcpStream::connect(emu.mqtt).await.unwrap();
    let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', 4, 0b0000_0110, 0, 60];
    for field in [&b"vanisher"[..], b"status/dev", b"gone"] {
        body.extend_from_slice(&u16::try_from(field.len()).unwrap().to_be_bytes());
        body.extend_from_slice(field);
    }
    let mut packet = vec![0x10, u8::try_from(body.len()).unwrap()];
    packet.extend(body);
    s.write_all(&packet).await.unwrap();
    let mut ack = [0; 4];
    s.read_exact(&mut ack).await.unwrap();
    assert_eq!(ack, [0x20, 2, 0, 0]);
    drop(s);
    assert_eq!(&watcher.next_on("status/dev").await.payload[..], b"gone");
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_input_closes_that_client_only() {
    let emu = emu().await;
    let mut good = connect("good", emu.mqtt).await;
    good.sub("still/+").await;
    let bad_inputs: [&[u8]; 5] = [
        b"GET / HTTP/1.1\r\n\r\n",
        &[0x10, 0xff, 0xff, 0xff, 0xff, 0x7f], // malformed remaining length
        &[0x10, 0x0c, 0, 4, b'M', b'Q', b'T', b'T', 9, 2, 0, 60, 0, 0], // protocol level 9
        &[0x30, 0x03, 0, 1],                   // PUBLISH before CONNECT
        &[0x10, 0x0c, 0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 60, 0, 0, 0x30, 0x05, 0, 0xff, 0xfe, b'x', b'y'],
    ];
    for input in bad_inputs {
        let mut s = TcpStream::connect(emu.mqtt).await.unwrap();
        s.write_all(input).await.unwrap();
        let mut sink = Vec::new();
        // The server closes the connection (after a CONNACK where CONNECT was valid).
        let read = tokio::time::timeout(WAIT, s.read_to_end(&mut sink)).await;
        assert!(read.is_ok(), "not closed after {input:?}");
    }
    // An oversized payload closes its sender only.
    let big = connect("big", emu.mqtt).await;
    big.client.publish("still/big", QoS::AtMostOnce, false, vec![b'x'; 300 * 1024]).await.unwrap();
    // A flood of small messages from one client is taken in order.
    let flood = connect("flood", emu.mqtt).await;
    for i in 0..500 {
        flood.client.publish("still/flood", QoS::AtMostOnce, false, i.to_string()).await.unwrap();
    }
    flood.publish("still/last", "end").await;
    assert_eq!(&good.next_on("still/last").await.payload[..], b"end");
    let seen = good.drain().await;
    assert!(seen.iter().all(|m| m.topic != "still/big"));
    // The broker and the good client go on.
    let p = connect("after", emu.mqtt).await;
    p.publish("still/alive", "yes").await;
    assert_eq!(&good.next_on("still/alive").await.payload[..], b"yes");
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_mqtt5_client_runs_the_jobs_api() {
    use rumqttc::v5::mqttbytes::QoS as Q5;
    use rumqttc::v5::{AsyncClient as Client5, Event as Event5, MqttOptions as Options5};
    let emu = emu().await;
    emu.create_job("j5", &["dev5"]).await;
    let mut o = Options5::new("dev5", emu.mqtt.ip().to_string(), emu.mqtt.port());
    o.set_keep_alive(Duration::from_secs(30));
    let (client, mut eventloop) = Client5::new(o, 100);
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(e) = eventloop.poll().await {
            if let Event5::Incoming(rumqttc::v5::mqttbytes::v5::Packet::Publish(p)) = e {
                let _ = tx.send(p);
            }
        }
    });
    client.subscribe("$aws/things/dev5/jobs/start-next/+", Q5::AtLeastOnce).await.unwrap();
    client
        .publish("$aws/things/dev5/jobs/start-next", Q5::AtLeastOnce, false, r#"{"clientToken":"v5"}"#)
        .await
        .unwrap();
    let p = tokio::time::timeout(WAIT, rx.recv()).await.unwrap().unwrap();
    assert_eq!(&p.topic[..], b"$aws/things/dev5/jobs/start-next/accepted");
    let got: Value = serde_json::from_slice(&p.payload).unwrap();
    assert_eq!(got["clientToken"], "v5");
    assert_eq!(got["execution"]["status"], "IN_PROGRESS");
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_accepted_mqtt_update_survives_a_restart() {
    let (dir, path) = state_path("restart");
    let first = emu_with_state(&path).await;
    first.create_job("kept", &["saver"]).await;
    let mut dev = connect("saver", first.mqtt).await;
    let (ok, got) = dev
        .request(
            "$aws/things/saver/jobs/kept/update",
            r#"{"status":"IN_PROGRESS","statusDetails":{"at":"1"}}"#,
        )
        .await;
    assert!(ok, "{got}");
    // The journal already holds the accepted update (synced before the answer went out).
    let arns = iot_jobs_emulator::wire::Arns { region: "us-east-1".into(), account: "123456789012".into() };
    let saved =
        journal::recover(&path, Caps::default(), ClockMode::Manual, arns, 0, journal::Mode::UpTo(u64::MAX))
            .unwrap()
            .unwrap();
    let (job, thing) = (JobId::new("kept").unwrap(), ThingName::new("saver").unwrap());
    let view = saved.registry.describe_execution(&job, &thing, None, Plane::Data).unwrap();
    assert_eq!(view.status(), ExecutionStatus::InProgress);
    first.server.shutdown().await.unwrap();

    let second = emu_with_state(&path).await;
    let mut dev = connect("saver", second.mqtt).await;
    let (ok, got) = dev.request("$aws/things/saver/jobs/kept/get", "{}").await;
    assert!(ok, "{got}");
    assert_eq!(got["execution"]["status"], "IN_PROGRESS");
    assert_eq!(got["execution"]["statusDetails"], json!({"at": "1"}));
    second.server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn describe_endpoint_names_this_emulators_addresses() {
    let emu = emu().await;
    let get = |kind: &str| {
        let url = format!("{}/endpoint?endpointType={kind}", emu.url);
        let req = emu.http.get(url).header("authorization", CONTROL);
        async move {
            let resp = req.send().await.unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        }
    };
    for kind in ["iot:Data-ATS", "iot:Data"] {
        assert_eq!(get(kind).await, (200, json!({"endpointAddress": emu.mqtt.to_string()})));
    }
    for kind in ["iot:Jobs", "iot:CredentialProvider"] {
        assert_eq!(get(kind).await, (200, json!({"endpointAddress": emu.server.addr.to_string()})));
    }
    let (status, body) = get("iot:Nope").await;
    assert_eq!((status, body["__type"].as_str()), (400, Some("InvalidRequestException")));
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_silent_client_is_closed_after_one_and_a_half_keep_alives() {
    let emu = emu().await;
    let mut watcher = connect("ka-watcher", emu.mqtt).await;
    watcher.sub("ka/#").await;
    // CONNECT with keep-alive 1 s and a will on ka/gone, then silence.
    let mut s = TcpStream::connect(emu.mqtt).await.unwrap();
    let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', 4, 0b0000_0110, 0, 1];
    for field in [&b"sleeper"[..], b"ka/gone", b"timed out"] {
        body.extend_from_slice(&u16::try_from(field.len()).unwrap().to_be_bytes());
        body.extend_from_slice(field);
    }
    let mut packet = vec![0x10, u8::try_from(body.len()).unwrap()];
    packet.extend(body);
    s.write_all(&packet).await.unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut rest)).await.expect("not closed").unwrap();
    assert_eq!(rest, [0x20, 2, 0, 0], "only the CONNACK before the close");
    assert_eq!(&watcher.next_on("ka/gone").await.payload[..], b"timed out");
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_qos2_publish_is_taken_in_and_routed_at_qos1() {
    let emu = emu().await;
    let mut sub = connect("q2-sub", emu.mqtt).await;
    sub.client.subscribe("q2/#", QoS::ExactlyOnce).await.unwrap();
    sub.drain().await;
    let p = connect("q2-pub", emu.mqtt).await;
    p.client.publish("q2/a", QoS::ExactlyOnce, false, "once").await.unwrap();
    let got = sub.next_on("q2/a").await;
    assert_eq!((&got.payload[..], got.qos), (&b"once"[..], QoS::AtLeastOnce));
    emu.server.shutdown().await.unwrap();
}

/// A change whose journal write fails is rolled back, so none of its events happened: the
/// device hears of nothing from a refused MQTT update or a refused HTTP call, and after a
/// restart the refused changes are not there.
#[tokio::test]
async fn a_change_whose_save_failed_publishes_nothing() {
    let (dir, path) = state_path("failed-save");
    let emu = emu_with_state_and(&path, 1).await;
    emu.create_job("j1", &["dev"]).await;
    let mut dev = connect("dev", emu.mqtt).await;
    dev.sub("$aws/things/dev/jobs/notify").await;
    dev.sub("$aws/things/dev/jobs/notify-next").await;
    dev.sub("$aws/events/#").await;
    dev.drain().await;

    // The journal's next segment cannot be made: after one more change, every change fails.
    let (blocked, seq) = reliability_common::block_next_segment(&path).await;
    emu.ctl("POST", "/things/last", json!({})).await;
    reliability_common::wait_for_snapshot(&path, seq).await;
    dev.drain().await;
    let (ok, got) = dev.request("$aws/things/dev/jobs/j1/update", r#"{"status":"SUCCEEDED"}"#).await;
    assert!(!ok, "{got}");
    assert_eq!(got["code"], "InternalError", "{got}");
    let targets = json!({"targets": [format!("{ARN}:thing/dev")], "document": "{}"});
    let refused = emu
        .http
        .put(format!("{}/jobs/j2", emu.url))
        .header("authorization", CONTROL)
        .body(targets.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    let heard: Vec<String> = dev.drain().await.into_iter().map(|p| p.topic).collect();
    assert!(heard.iter().all(|t| !t.contains("notify") && !t.starts_with("$aws/events/")), "{heard:?}");

    // After a restart: j1 still QUEUED, no j2.
    std::fs::remove_dir(&blocked).unwrap();
    let second = emu_with_state(&path).await;
    let mut dev = connect("dev", second.mqtt).await;
    let (ok, got) = dev.request("$aws/things/dev/jobs/j1/get", "{}").await;
    assert!(ok, "{got}");
    assert_eq!(got["execution"]["status"], "QUEUED", "{got}");
    let (ok, got) = dev.request("$aws/things/dev/jobs/j2/get", "{}").await;
    assert!(!ok, "{got}");
    second.server.shutdown().await.unwrap();
    drop(emu);
    let _ = std::fs::remove_dir_all(&dir);
}

/// An MQTT 5 client (rumqttc) of `emu` and what it receives, in order: each incoming packet, then
/// `Err` with the reason the connection ended (the loop stops there, or after its DISCONNECT).
async fn connect5(
    emu: &Emu,
    id: &str,
    set: impl FnOnce(&mut rumqttc::v5::MqttOptions),
) -> (rumqttc::v5::AsyncClient, mpsc::UnboundedReceiver<Result<Packet5, String>>) {
    use rumqttc::v5::{AsyncClient as Client5, Event as Event5, MqttOptions as Options5};
    let mut o = Options5::new(id, emu.mqtt.ip().to_string(), emu.mqtt.port());
    o.set_keep_alive(Duration::from_secs(30));
    set(&mut o);
    let (client, mut eventloop) = Client5::new(o, 100);
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(Event5::Incoming(p)) => {
                    let _ = tx.send(Ok(p));
                }
                Ok(Event5::Outgoing(rumqttc::Outgoing::Disconnect)) => return,
                Ok(Event5::Outgoing(_)) => {}
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            }
        }
    });
    (client, rx)
}

/// The next packet `pick` keeps, skipping the others; panics if the connection ended first.
async fn next5<T>(
    rx: &mut mpsc::UnboundedReceiver<Result<Packet5, String>>,
    pick: impl Fn(Packet5) -> Option<T>,
) -> T {
    loop {
        let got = tokio::time::timeout(WAIT, rx.recv()).await.expect("nothing received").expect("no more");
        if let Some(t) = pick(got.unwrap_or_else(|e| panic!("connection ended: {e}"))) {
            return t;
        }
    }
}

fn publish5(p: Packet5) -> Option<rumqttc::v5::mqttbytes::v5::Publish> {
    if let Packet5::Publish(p) = p { Some(p) } else { None }
}

fn topic5(p: Packet5) -> Option<String> {
    publish5(p).map(|p| String::from_utf8(p.topic.to_vec()).unwrap())
}

fn connack5(p: Packet5) -> Option<rumqttc::v5::mqttbytes::v5::ConnAck> {
    if let Packet5::ConnAck(a) = p { Some(a) } else { None }
}

fn suback5(p: Packet5) -> Option<()> {
    matches!(p, Packet5::SubAck(_)).then_some(())
}

/// MQTT 5 flow control towards a client: no more unacknowledged QoS 1 publishes than its receive
/// maximum (the rest wait for acknowledgements, in order), and no packet larger than its maximum
/// packet size (such a message is discarded, MQTT-3.1.2-25; the client stays connected).
#[tokio::test]
async fn an_mqtt5_clients_receive_maximum_and_maximum_packet_size_are_respected() {
    let emu = emu().await;
    // rumqttc ends the connection on a packet over the size it announced: the test then fails.
    let (client, mut rx) = connect5(&emu, "slow5", |o| {
        o.set_manual_acks(true).set_receive_maximum(Some(2)).set_max_packet_size(Some(512));
    })
    .await;
    client.subscribe("rm/#", Q5::AtLeastOnce).await.unwrap();
    next5(&mut rx, suback5).await;
    let publisher = connect("fast", emu.mqtt).await;
    for t in ["rm/1", "rm/2", "rm/3", "rm/4"] {
        publisher.publish(t, t).await;
    }
    publisher.publish("rm/big", vec![b'x'; 1000]).await;
    publisher.publish("rm/5", "rm/5").await;
    // QoS 0 is not held back: once it arrives, everything before it was routed.
    publisher.client.publish("rm/ping", QoS::AtMostOnce, false, "ping").await.unwrap();
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(next5(&mut rx, publish5).await);
    }
    let topics: Vec<&[u8]> = held.iter().map(|p| &p.topic[..]).collect();
    assert_eq!(topics, [&b"rm/1"[..], b"rm/2", b"rm/ping"], "two QoS 1 publishes in flight at most");
    // Each acknowledgement lets the next one through; rm/big (over 512 bytes) never comes.
    let mut unacked: Vec<_> = held.into_iter().filter(|p| &p.topic[..] != b"rm/ping").collect();
    let mut later = Vec::new();
    while later.len() < 3 {
        client.ack(&unacked.remove(0)).await.unwrap();
        let p = next5(&mut rx, publish5).await;
        later.push(String::from_utf8(p.topic.to_vec()).unwrap());
        unacked.push(p);
    }
    assert_eq!(later, ["rm/3", "rm/4", "rm/5"]);
    for p in unacked {
        client.ack(&p).await.unwrap();
    }
    publisher.client.publish("rm/ping", QoS::AtMostOnce, false, "ping").await.unwrap();
    assert_eq!(
        next5(&mut rx, topic5).await,
        "rm/ping",
        "rm/big was discarded and the client is still connected"
    );
    emu.server.shutdown().await.unwrap();
}

/// MQTT 5 topic aliases from a client: granted in CONNACK, set by a publish with a topic, used by
/// a publish with an empty topic (routed and answered as the full topic); an alias naming no
/// topic closes that client.
#[tokio::test]
async fn an_mqtt5_clients_topic_aliases_are_resolved() {
    use rumqttc::v5::mqttbytes::v5::PublishProperties;
    let emu = emu().await;
    let mut watcher = connect("watch-alias", emu.mqtt).await;
    watcher.sub("ta/#").await;
    let (client, mut rx) = connect5(&emu, "dev-alias", |_| {}).await;
    let granted = next5(&mut rx, connack5).await.properties.and_then(|p| p.topic_alias_max);
    assert_eq!(granted, Some(32));
    let alias = |a| PublishProperties { topic_alias: Some(a), ..Default::default() };
    let jobs = "$aws/things/dev-alias/jobs/get";
    for (topic, payload, a) in [
        ("ta/sensor", "one", 1),
        ("", "two", 1),
        (jobs, r#"{"clientToken":"a1"}"#, 2),
        ("", r#"{"clientToken":"a2"}"#, 2),
    ] {
        client.publish_with_properties(topic, Q5::AtLeastOnce, false, payload, alias(a)).await.unwrap();
    }
    assert_eq!(&watcher.next_on("ta/sensor").await.payload[..], b"one");
    assert_eq!(&watcher.next_on("ta/sensor").await.payload[..], b"two");
    // The answers go to the publisher, on the full topic.
    for token in ["a1", "a2"] {
        let p = next5(&mut rx, publish5).await;
        assert_eq!(&p.topic[..], format!("{jobs}/accepted").as_bytes());
        assert_eq!(serde_json::from_slice::<Value>(&p.payload).unwrap()["clientToken"], token);
    }
    // An alias that names no topic yet: a protocol error, that client is closed with its reason
    // (rumqttc reports the server's DISCONNECT as the error that ends its loop).
    client.publish_with_properties("", Q5::AtLeastOnce, false, "x", alias(3)).await.unwrap();
    let end = loop {
        match tokio::time::timeout(WAIT, rx.recv()).await.unwrap() {
            Some(Err(e)) => break e,
            Some(Ok(_)) => {}
            None => panic!("closed without a DISCONNECT"),
        }
    };
    assert!(end.contains("Server sent disconnect") && end.contains("code 'ProtocolError'"), "{end}");
    // The others go on.
    watcher.publish("ta/after", "ok").await;
    assert_eq!(&watcher.next_on("ta/after").await.payload[..], b"ok");
    emu.server.shutdown().await.unwrap();
}

/// An MQTT 5 persistent session ends once its session expiry interval has run out offline; a
/// longer one is still there, with the QoS 1 message it was sent meanwhile.
#[tokio::test]
async fn an_mqtt5_session_ends_after_its_expiry_interval() {
    let emu = emu().await;
    let open = async |id: &str, expiry: u32| {
        let (client, mut rx) = connect5(&emu, id, |o| {
            o.set_clean_start(false).set_session_expiry_interval(Some(expiry));
        })
        .await;
        let present = next5(&mut rx, connack5).await.session_present;
        (client, present, rx)
    };
    for (id, expiry) in [("exp-short", 1), ("exp-long", 600)] {
        let (client, present, mut rx) = open(id, expiry).await;
        assert!(!present);
        client.subscribe("se/#", Q5::AtLeastOnce).await.unwrap();
        next5(&mut rx, suback5).await;
        client.disconnect().await.unwrap();
    }
    let publisher = connect("se-pub", emu.mqtt).await;
    publisher.publish("se/while-away", "x").await;
    // Waits for the short interval to run out (a timer: there is no event to wait for).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (short, present, mut short_rx) = open("exp-short", 1).await;
    assert!(!present, "the 1 s session expired");
    let (_long, present, mut long_rx) = open("exp-long", 600).await;
    assert!(present);
    assert_eq!(next5(&mut long_rx, topic5).await, "se/while-away");
    // The expired session lost its subscription and its message: only what it subscribes to now.
    short.subscribe("se/now", Q5::AtLeastOnce).await.unwrap();
    next5(&mut short_rx, suback5).await;
    publisher.publish("se/now", "y").await;
    assert_eq!(next5(&mut short_rx, topic5).await, "se/now");
    emu.server.shutdown().await.unwrap();
}

/// A raw MQTT 5 client of `emu`: CONNECT (clean start off; session expiry `expiry`, none when
/// 0; a will on `will`, if any), SUBSCRIBE `filter` at QoS 1, then DISCONNECT carrying the
/// session expiry `disconnect_expiry`. Returns every packet the server sent until it closed.
async fn disconnect_with_expiry(
    emu: &Emu,
    id: &str,
    expiry: u32,
    will: Option<&str>,
    filter: &str,
    disconnect_expiry: u32,
) -> Vec<Packet5> {
    use bytes::BytesMut;
    use rumqttc::v5::mqttbytes::v5::{
        Connect, ConnectProperties, Disconnect, DisconnectProperties, DisconnectReasonCode, Filter, LastWill,
        Subscribe,
    };
    let mut out = BytesMut::new();
    let properties = ConnectProperties {
        session_expiry_interval: (expiry > 0).then_some(expiry),
        ..ConnectProperties::new()
    };
    let connect = Connect {
        keep_alive: 30,
        client_id: id.to_owned(),
        clean_start: false,
        properties: Some(properties),
    };
    let will = will.map(|t| LastWill::new(t, "gone", Q5::AtLeastOnce, false, None));
    connect.write(&will, &None, &mut out).unwrap();
    Subscribe::new(Filter::new(filter, Q5::AtLeastOnce), None).write(&mut out).unwrap();
    let properties = DisconnectProperties {
        session_expiry_interval: Some(disconnect_expiry),
        reason_string: None,
        user_properties: Vec::new(),
        server_reference: None,
    };
    let disconnect =
        Disconnect { reason_code: DisconnectReasonCode::NormalDisconnection, properties: Some(properties) };
    disconnect.write(&mut out).unwrap();
    let mut s = TcpStream::connect(emu.mqtt).await.unwrap();
    s.write_all(&out).await.unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut rest)).await.expect("not closed").unwrap();
    let mut rest = BytesMut::from(&rest[..]);
    let mut got = Vec::new();
    while !rest.is_empty() {
        got.push(Packet5::read(&mut rest, None).unwrap());
    }
    got
}

/// MQTT 5 3.14.2.2.2: the session expiry interval of a DISCONNECT replaces the CONNECT's: 0 ends
/// the session with the connection, a longer one keeps it past the CONNECT's interval.
#[tokio::test]
async fn a_disconnect_sets_the_session_expiry() {
    let emu = emu().await;
    let publisher = connect("sx-pub", emu.mqtt).await;
    // 600 s in CONNECT, 0 in DISCONNECT: the session ends now.
    let got = disconnect_with_expiry(&emu, "sx-end", 600, None, "sx/end", 0).await;
    assert!(matches!(got[..], [Packet5::ConnAck(_), Packet5::SubAck(_)]), "{got:?}");
    // 1 s in CONNECT, 600 s in DISCONNECT: the session outlives the 1 s.
    disconnect_with_expiry(&emu, "sx-keep", 1, None, "sx/keep", 600).await;
    publisher.publish("sx/keep", "kept").await;
    publisher.publish("sx/end", "lost").await;
    // Past the CONNECT's 1 s (a timer: there is no event to wait for).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let open = async |id: &str| {
        let (client, mut rx) = connect5(&emu, id, |o| {
            o.set_clean_start(false).set_session_expiry_interval(Some(600));
        })
        .await;
        let present = next5(&mut rx, connack5).await.session_present;
        (client, present, rx)
    };
    let (_keep, present, mut keep_rx) = open("sx-keep").await;
    assert!(present, "the DISCONNECT's 600 s kept the session");
    assert_eq!(next5(&mut keep_rx, topic5).await, "sx/keep");
    let (_end, present, _) = open("sx-end").await;
    assert!(!present, "the DISCONNECT's 0 ended the session");
    emu.server.shutdown().await.unwrap();
}

/// MQTT 5 3.14.2.2.2: a DISCONNECT that sets an expiry on a session whose CONNECT had none is a
/// protocol error: the server answers DISCONNECT 0x82, and the will goes out (it was not a valid
/// DISCONNECT); the session still ends with the connection.
#[tokio::test]
async fn a_disconnect_giving_a_session_an_expiry_it_had_none_of_is_a_protocol_error() {
    use rumqttc::v5::mqttbytes::v5::DisconnectReasonCode;
    let emu = emu().await;
    let mut watcher = connect("sx-watcher", emu.mqtt).await;
    watcher.sub("sx/will").await;
    let got = disconnect_with_expiry(&emu, "sx-bad", 0, Some("sx/will"), "sx/bad", 60).await;
    let [Packet5::ConnAck(_), Packet5::SubAck(_), Packet5::Disconnect(d)] = &got[..] else {
        panic!("{got:?}")
    };
    assert_eq!(d.reason_code, DisconnectReasonCode::ProtocolError);
    assert_eq!(&watcher.next_on("sx/will").await.payload[..], b"gone");
    let (_c, mut rx) = connect5(&emu, "sx-bad", |o| {
        o.set_clean_start(false).set_session_expiry_interval(Some(600));
    })
    .await;
    assert!(!next5(&mut rx, connack5).await.session_present);
    emu.server.shutdown().await.unwrap();
}

/// The broker's side of one MQTT 5 connection from the bridge (a stand-in broker that does
/// exactly what a test needs).
struct Peer {
    s: TcpStream,
    buf: bytes::BytesMut,
}

impl Peer {
    /// Accepts the bridge's connection and answers its CONNECT.
    async fn accept(l: &tokio::net::TcpListener) -> Peer {
        use rumqttc::v5::mqttbytes::v5::{ConnAck, ConnectReturnCode};
        let (s, _) = tokio::time::timeout(WAIT, l.accept()).await.expect("no connection").unwrap();
        let mut peer = Peer { s, buf: bytes::BytesMut::new() };
        assert!(matches!(peer.read(WAIT).await, Some(Packet5::Connect(..))));
        let connack = ConnAck { session_present: false, code: ConnectReturnCode::Success, properties: None };
        peer.write(Packet5::ConnAck(connack)).await;
        peer
    }

    /// The next packet, or `None` when the connection closes or nothing comes within `wait`.
    async fn read(&mut self, wait: Duration) -> Option<Packet5> {
        loop {
            match Packet5::read(&mut self.buf, None) {
                Ok(p) => return Some(p),
                Err(rumqttc::v5::mqttbytes::Error::InsufficientBytes(_)) => {}
                Err(e) => panic!("the bridge sent a malformed packet: {e}"),
            }
            match tokio::time::timeout(wait, self.s.read_buf(&mut self.buf)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return None,
            }
        }
    }

    async fn write(&mut self, p: Packet5) {
        let mut out = bytes::BytesMut::new();
        p.write(&mut out, None).unwrap();
        self.s.write_all(&out).await.unwrap();
    }

    /// Reads until `wait` passes with nothing new, answering SUBSCRIBE and QoS 1 PUBLISH as a
    /// broker does; returns everything read.
    async fn serve(&mut self, wait: Duration) -> Vec<Packet5> {
        use rumqttc::v5::mqttbytes::v5::{PubAck, PubAckReason, SubAck, SubscribeReasonCode};
        let mut got = Vec::new();
        while let Some(p) = self.read(wait).await {
            match &p {
                Packet5::Subscribe(s) => {
                    let return_codes = vec![SubscribeReasonCode::Success(Q5::AtLeastOnce); s.filters.len()];
                    self.write(Packet5::SubAck(SubAck { pkid: s.pkid, return_codes, properties: None }))
                        .await;
                }
                Packet5::Publish(p) if p.qos == Q5::AtLeastOnce => {
                    let ack = PubAck { pkid: p.pkid, reason: PubAckReason::Success, properties: None };
                    self.write(Packet5::PubAck(ack)).await;
                }
                _ => {}
            }
            got.push(p);
        }
        got
    }
}

fn request5(pkid: u16) -> Packet5 {
    let mut p = rumqttc::v5::mqttbytes::v5::Publish::new(
        "$aws/things/bridged/jobs/get",
        Q5::AtLeastOnce,
        format!(r#"{{"clientToken":"r{pkid}"}}"#),
        None,
    );
    p.pkid = pkid;
    Packet5::Publish(p)
}

/// Bridge mode: a request that came on a connection since lost is answered, but its
/// acknowledgement does not go out on the next connection, where its packet id means another
/// message or none; requests on the new connection are acknowledged as usual.
#[tokio::test]
async fn the_bridge_acknowledges_a_request_only_on_the_connection_it_came_on() {
    use rumqttc::v5::mqttbytes::v5::PubAck;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        mqtt_addr: None,
        mqtt_broker: Some(format!("mqtt://127.0.0.1:{port}").parse().unwrap()),
        clock: ClockMode::Manual,
        ..Config::default()
    };
    let server = iot_jobs_emulator::start(config).await.unwrap();
    let mut first = Peer::accept(&listener).await;
    let got = first.serve(Duration::from_millis(300)).await;
    assert!(got.iter().any(|p| matches!(p, Packet5::Subscribe(_))), "{got:?}");
    // As many requests as the bridge takes unacknowledged, then the connection is gone.
    for pkid in 1..=256 {
        first.write(request5(pkid)).await;
    }
    drop(first);
    let mut second = Peer::accept(&listener).await;
    let got = second.serve(Duration::from_millis(1500)).await;
    let stale: Vec<&PubAck> = got
        .iter()
        .filter_map(|p| match p {
            Packet5::PubAck(a) => Some(a),
            _ => None,
        })
        .collect();
    assert!(stale.is_empty(), "acknowledgements of the lost connection's requests: {stale:?}");
    // A request on this connection is answered and acknowledged with its own packet id.
    second.write(request5(7)).await;
    let got = second.serve(Duration::from_millis(500)).await;
    let acks: Vec<u16> = got
        .iter()
        .filter_map(|p| match p {
            Packet5::PubAck(a) => Some(a.pkid),
            _ => None,
        })
        .collect();
    assert_eq!(acks, [7], "{got:?}");
    let answered = got.iter().any(|p| match p {
        Packet5::Publish(p) => {
            p.topic == "$aws/things/bridged/jobs/get/accepted" && {
                let v: Value = serde_json::from_slice(&p.payload).unwrap();
                v["clientToken"] == "r7"
            }
        }
        _ => false,
    });
    assert!(answered, "{got:?}");
    server.shutdown().await.unwrap();
}

/// Shared subscriptions (`$share/{group}/{filter}`, MQTT 5 §4.8.2, taken from 3.1.1 clients as
/// AWS IoT Core does): each message goes to one member of each group, in turn; other groups and
/// plain subscriptions get their own copies; a shared subscription gets no retained message.
#[tokio::test]
async fn a_shared_subscription_hands_each_message_to_one_member_in_turn() {
    let emu = emu().await;
    let publisher = connect("sh-pub", emu.mqtt).await;
    publisher.client.publish("sh/retained", QoS::AtLeastOnce, true, "old").await.unwrap();
    let mut members = Vec::new();
    for id in ["sh-m1", "sh-m2", "sh-m3"] {
        let c = connect(id, emu.mqtt).await;
        c.sub("$share/g/sh/+").await;
        members.push(c);
    }
    let mut other = connect("sh-other", emu.mqtt).await;
    other.sub("$share/h/sh/#").await;
    let mut plain = connect("sh-plain", emu.mqtt).await;
    plain.sub("sh/+").await;
    let mut publisher = publisher;
    for i in 0..6 {
        publisher.publish(&format!("sh/{i}"), "x").await;
    }
    // The publisher's round trip comes after its publishes are routed.
    publisher.drain().await;
    let topics = |got: Vec<rumqttc::Publish>| -> Vec<String> {
        got.into_iter().map(|p| p.topic).filter(|t| t.starts_with("sh/")).collect()
    };
    let mut seen = Vec::new();
    for m in &mut members {
        let got = topics(m.drain().await);
        assert_eq!(got.len(), 2, "{got:?}");
        seen.extend(got);
    }
    seen.sort();
    let all: Vec<String> = (0..6).map(|i| format!("sh/{i}")).collect();
    assert_eq!(seen, all, "each message to exactly one member of the group");
    assert_eq!(topics(other.drain().await), all, "another group gets its own copy of each");
    let got = topics(plain.drain().await);
    assert_eq!(
        got.first().map(String::as_str),
        Some("sh/retained"),
        "a plain subscription gets the retained one"
    );
    assert_eq!(got[1..], all[..]);
    emu.server.shutdown().await.unwrap();
}
