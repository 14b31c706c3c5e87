//! The emulator's MQTT broker and the jobs device API over it, with a real Rust MQTT client
//! (`rumqttc`, 3.1.1 and 5) and raw TCP for bad input, against an in-process emulator on
//! ephemeral loopback ports.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code)]
#[path = "../reliability_common/mod.rs"]
mod reliability_common;

use std::net::SocketAddr;
use std::time::Duration;

use iot_jobs_core::registry::ExecutionView;
use iot_jobs_core::{ExecutionStatus, JobId, Plane, ThingName};
use iot_jobs_emulator::clock::ClockMode;
use iot_jobs_emulator::journal;
use iot_jobs_emulator::state::{Caps, State};
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
const DATA: &str = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iot-jobs-data/aws4_request, SignedHeaders=host, Signature=00";
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
    start(|_| {}).await
}

/// An emulator on ephemeral loopback ports (HTTP and MQTT) with the manual clock, and what `set`
/// changes of that configuration.
async fn start(set: impl FnOnce(&mut Config)) -> Emu {
    let mut config = Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        mqtt_addr: Some("127.0.0.1:0".parse().unwrap()),
        clock: ClockMode::Manual,
        ..Config::default()
    };
    set(&mut config);
    let server = iot_jobs_emulator::start(config).await.unwrap();
    Emu {
        mqtt: server.mqtt_addr.unwrap(),
        url: format!("http://{}", server.addr),
        server,
        http: reqwest::Client::new(),
    }
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

/// The same, with a checkpoint after every `checkpoint_records` changes (whatever the journal's
/// size: `checkpoint_growth` 0).
async fn emu_with_state_and(state: &std::path::Path, checkpoint_records: u64) -> Emu {
    start(|c| {
        c.checkpoint_records = checkpoint_records;
        c.checkpoint_growth = 0;
        c.state_file = Some(state.to_path_buf());
    })
    .await
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

/// A persistent session `id` subscribed to `filter`, left offline; the options that resume it.
async fn offline_session(addr: SocketAddr, id: &str, filter: &str) -> MqttOptions {
    let mut o = options(id, addr);
    o.set_clean_session(false);
    let mut c = connect_with(o.clone()).await;
    c.sub(filter).await;
    c.drain().await;
    c.client.disconnect().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    o
}

/// A raw 3.1.1 connection, clean session, with `keep_alive` seconds and a will of `will` on
/// `will_topic`, its CONNACK read and accepted.
async fn connect_with_will(
    addr: SocketAddr,
    client: &str,
    keep_alive: u16,
    will_topic: &str,
    will: &str,
) -> TcpStream {
    let (s, ack) = connect_raw_with_will(addr, client, keep_alive, will_topic, will).await;
    assert_eq!(ack, [0x20, 2, 0, 0]);
    s
}

/// The same, and the CONNACK, whatever it says.
async fn connect_raw_with_will(
    addr: SocketAddr,
    client: &str,
    keep_alive: u16,
    will_topic: &str,
    will: &str,
) -> (TcpStream, [u8; 4]) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let [ka_hi, ka_lo] = keep_alive.to_be_bytes();
    let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', 4, 0b0000_0110, ka_hi, ka_lo];
    for field in [client, will_topic, will] {
        body.extend_from_slice(&u16::try_from(field.len()).unwrap().to_be_bytes());
        body.extend_from_slice(field.as_bytes());
    }
    s.write_all(&packet(0x10, &body)).await.unwrap();
    let mut ack = [0; 4];
    s.read_exact(&mut ack).await.unwrap();
    (s, ack)
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
    all.sub("+/things/+/jobs/get").await;
    let mut jobs = connect("jobs", emu.mqtt).await;
    jobs.sub("$aws/things/+/jobs/#").await;
    jobs.sub("sensors/+/temp").await;
    let p = connect("pub", emu.mqtt).await;
    p.client.publish("sensors/a/temp", QoS::AtLeastOnce, true, "21").await.unwrap();
    p.publish("$aws/things/t1/jobs/get", "{}").await;
    assert_eq!(&jobs.next_on("sensors/a/temp").await.payload[..], b"21");
    assert_eq!(jobs.next_on("$aws/things/t1/jobs/get").await.qos, QoS::AtLeastOnce);
    assert_eq!(&all.next_on("sensors/a/temp").await.payload[..], b"21");
    // MQTT-4.7.2-1: `#` and `+/…` do not match `$aws/…`.
    let seen: Vec<String> = all.drain().await.into_iter().map(|p| p.topic).collect();
    assert!(seen.iter().all(|t| !t.starts_with('$')), "{seen:?}");
    // A later subscriber to the exact topic gets the retained message, flagged as retained; one
    // to a wildcard filter does not (AWS IoT Core, DG-MQTT "Retained messages"), and `#` does
    // not match its parent level (`sensors/a/temp/#` is not `sensors/a/temp`).
    let mut wild = connect("wild", emu.mqtt).await;
    wild.sub("sensors/#").await;
    wild.sub("sensors/a/temp/#").await;
    let mut late = connect("late", emu.mqtt).await;
    late.sub("sensors/a/temp").await;
    let r = late.next_on("sensors/a/temp").await;
    assert!(r.retain);
    assert_eq!(&r.payload[..], b"21");
    assert!(wild.drain().await.iter().all(|p| p.topic != "sensors/a/temp"));
    p.publish("sensors/a/temp", "22").await;
    let live = wild.next_on("sensors/a/temp").await;
    assert!(!live.retain && &live.payload[..] == b"22");
    assert!(wild.drain().await.is_empty(), "one copy: sensors/#, not sensors/a/temp/#");
    // An empty retained payload clears it.
    p.client.publish("sensors/a/temp", QoS::AtLeastOnce, true, "").await.unwrap();
    let mut later = connect("later", emu.mqtt).await;
    later.sub("sensors/a/temp").await;
    assert!(later.drain().await.iter().all(|p| p.topic != "sensors/a/temp"));
    // A retained request is run, routed without the flag and not kept: a later subscriber to
    // the thing's jobs topics is not handed a stale request.
    let mut requester = connect("requester", emu.mqtt).await;
    requester.client.publish("$aws/things/t1/jobs/get", QoS::AtLeastOnce, true, "{}").await.unwrap();
    assert_eq!(requester.json_on("$aws/things/t1/jobs/get/accepted").await["queuedJobs"], json!([]));
    assert!(!jobs.next_on("$aws/things/t1/jobs/get").await.retain);
    let mut latest = connect("latest", emu.mqtt).await;
    latest.sub("$aws/things/t1/jobs/get").await;
    let handed: Vec<String> = latest.drain().await.into_iter().map(|p| p.topic).collect();
    assert!(!handed.contains(&"$aws/things/t1/jobs/get".to_owned()), "{handed:?}");
    emu.server.shutdown().await.unwrap();
}

/// A document that is one JSON object reaches devices as that object, however it was written:
/// with the newline an editor leaves at the end of `job.json`, or nested as deep as the core
/// reads. The data plane's HTTP form still reads back the exact text.
#[tokio::test]
async fn every_object_document_reaches_devices_as_an_object() {
    let emu = emu().await;
    emu.ctl("POST", "/things/t1", json!({})).await;
    let mut dev = connect("t1", emu.mqtt).await;
    // 125 levels: the answer's two more are as many as serde_json reads (127).
    let deep = format!("{}1{}", r#"{"a":"#.repeat(125), "}".repeat(125));
    for (job, text) in [("padded", "\t{\"op\": \"update\"}\n"), ("deep", deep.as_str())] {
        let body = json!({"targets": [format!("{ARN}:thing/t1")], "document": text});
        emu.ctl("PUT", &format!("/jobs/{job}"), body).await;
        let want: Value = serde_json::from_str(text).unwrap();
        let (ok, got) = dev.request(&format!("$aws/things/t1/jobs/{job}/get"), "{}").await;
        assert!(ok, "{got}");
        assert_eq!(got["execution"]["jobDocument"], want, "{job}");
        let http = reqwest::Client::new()
            .get(format!("{}/things/t1/jobs/{job}", emu.url))
            .header("authorization", DATA)
            .send()
            .await
            .unwrap();
        let http: Value = serde_json::from_slice(&http.bytes().await.unwrap()).unwrap();
        assert_eq!(http["execution"]["jobDocument"], text, "{job}");
    }
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
    // Without a deletion delay, the deletion completes as part of DeleteJob.
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

/// `job_events: false` (`--job-events off`) starts with the service's default: JOB and
/// JOB_EXECUTION off, described so, nothing published until UpdateEventConfigurations switches
/// them on; a reset puts them off again. Notifications go on regardless.
#[tokio::test]
async fn job_events_off_starts_and_resets_with_the_services_default() {
    let emu = start(|c| c.job_events = false).await;
    let mut rules = connect("rules", emu.mqtt).await;
    rules.sub("$aws/events/#").await;
    rules.sub("$aws/things/+/jobs/notify").await;
    async fn switches(emu: &Emu) -> (bool, bool) {
        let got = emu.ctl("GET", "/event-configurations", json!({})).await;
        let c = &got["eventConfigurations"];
        (c["JOB"]["Enabled"].as_bool().unwrap(), c["JOB_EXECUTION"]["Enabled"].as_bool().unwrap())
    }
    let cancel = |job: &str| format!("/jobs/{job}/cancel?force=true");
    assert_eq!(switches(&emu).await, (false, false));
    emu.create_job("ev-1", &["dev-e"]).await;
    emu.ctl("PUT", &cancel("ev-1"), json!({})).await;
    rules.next_on("$aws/things/dev-e/jobs/notify").await;
    let heard: Vec<String> = rules.drain().await.into_iter().map(|p| p.topic).collect();
    assert!(heard.iter().all(|t| !t.starts_with("$aws/events/")), "{heard:?}");
    let on = json!({"eventConfigurations": {"JOB": {"Enabled": true}, "JOB_EXECUTION": {"Enabled": true}}});
    emu.ctl("PATCH", "/event-configurations", on).await;
    assert_eq!(switches(&emu).await, (true, true));
    emu.create_job("ev-2", &["dev-e"]).await;
    emu.ctl("PUT", &cancel("ev-2"), json!({})).await;
    rules.next_on("$aws/events/jobExecution/ev-2/canceled").await;
    rules.next_on("$aws/events/job/ev-2/canceled").await;
    emu.ctl("POST", "/_emulator/reset", json!({})).await;
    assert_eq!(switches(&emu).await, (false, false));
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_request_without_a_payload_is_one_without_members() {
    // AWS's embedded C jobs demo asks for `$next` with an empty payload, and the service answers
    // it (SPEC err-InvalidJson); it was InvalidJson here, so the demo never got its job.
    let emu = emu().await;
    emu.create_job("j1", &["t1"]).await;
    let mut dev = connect("t1", emu.mqtt).await;
    let (ok, got) = dev.request("$aws/things/t1/jobs/$next/get", "").await;
    assert!(ok, "{got}");
    assert_eq!((&got["execution"]["jobId"], &got["execution"]["status"]), (&"j1".into(), &"QUEUED".into()));
    assert!(got["execution"]["jobDocument"].is_object(), "{got}");
    let (ok, got) = dev.request("$aws/things/t1/jobs/get", " ").await;
    assert!(ok, "{got}");
    assert_eq!(got["queuedJobs"][0]["jobId"], "j1");
    let (ok, got) = dev.request("$aws/things/t1/jobs/j1/get", "").await;
    assert!(ok && got["execution"]["versionNumber"] == 1, "{got}");
    // UpdateJobExecution needs `status`: InvalidRequest, and nothing changed.
    let (ok, got) = dev.request("$aws/things/t1/jobs/j1/update", "").await;
    assert!(!ok);
    assert_eq!(got["code"], "InvalidRequest", "{got}");
    let (ok, got) = dev.request("$aws/things/t1/jobs/start-next", "").await;
    assert!(ok, "{got}");
    assert_eq!(
        (&got["execution"]["status"], &got["execution"]["versionNumber"]),
        (&"IN_PROGRESS".into(), &2.into())
    );
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_requests_get_the_service_codes() {
    let emu = emu().await;
    emu.create_job("j1", &["t1"]).await;
    let mut dev = connect("t1", emu.mqtt).await;
    // Deeper than the core reads (128 levels): JSON is a request it cannot take, an unclosed
    // one no JSON.
    let deep = format!(r#"{{"x":{}{}}}"#, "[".repeat(200), "]".repeat(200));
    let unclosed = &deep[..deep.len() - 2];
    let cases = [
        ("$aws/things/t1/jobs/get", "not json", "InvalidJson"),
        ("$aws/things/t1/jobs/get", &deep, "InvalidRequest"),
        ("$aws/things/t1/jobs/get", unclosed, "InvalidJson"),
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
    // InvalidTopic says what is wrong with the topic: an invalid job id or thing name names the
    // field, not only "no operation".
    for (topic, why) in [
        ("$aws/things/t1/jobs/bad.id/get", "jobId has a character that is not allowed at position 3"),
        ("$aws/things/bad.thing/jobs/get", "thingName has a character that is not allowed at position 3"),
        ("$aws/things/t1/jobs/j1/frobnicate", "names no Jobs operation or event from byte"),
    ] {
        let (ok, got) = dev.request(topic, "{}").await;
        assert!(!ok && got["code"] == "InvalidTopic", "{topic}: {got}");
        assert!(got["message"].as_str().is_some_and(|m| m.contains(why)), "{topic}: {got}");
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
    let o = offline_session(emu.mqtt, "keeper", "box/#").await;
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
    let s = connect_with_will(emu.mqtt, "vanisher", 60, "status/dev", "gone").await;
    drop(s);
    assert_eq!(&watcher.next_on("status/dev").await.payload[..], b"gone");
    emu.server.shutdown().await.unwrap();
}

/// An MQTT 5 DISCONNECT may leave out its properties, and its reason code too (MQTT 5
/// 3.14.2.1, 3.14.2.2.1), as paho-mqtt and mosquitto's clients send it: a normal one drops the
/// will (MQTT-3.14.4-3), 0x04 publishes it. (Both short forms were read as malformed: the will
/// went out at every clean disconnect.)
#[tokio::test]
async fn a_short_mqtt5_disconnect_drops_the_will_unless_it_asks_for_it() {
    let emu = emu().await;
    let mut watcher = connect("watcher", emu.mqtt).await;
    watcher.sub("status/#").await;
    let forms: [(&str, &[u8]); 3] =
        [("bare", &[0xE0, 0x00]), ("reason", &[0xE0, 0x01, 0x00]), ("with-will", &[0xE0, 0x01, 0x04])];
    for (client, disconnect) in forms {
        let mut body = mqtt_str("MQTT");
        // Level 5, a will at QoS 0 and a clean start, keep-alive 30 s, no properties.
        body.extend_from_slice(&[5, 0b0000_0110, 0, 30, 0]);
        body.extend(mqtt_str(client));
        body.push(0); // the will's properties
        body.extend(mqtt_str(&format!("status/{client}")));
        body.extend(mqtt_str("gone"));
        let mut s = TcpStream::connect(emu.mqtt).await.unwrap();
        s.write_all(&packet(0x10, &body)).await.unwrap();
        let (first, ack) = read_packet(&mut s).await;
        assert_eq!((first, ack.get(..2)), (0x20, Some(&[0, 0][..])), "{client}");
        s.write_all(disconnect).await.unwrap();
        let mut rest = Vec::new();
        tokio::time::timeout(WAIT, s.read_to_end(&mut rest)).await.expect("still open").unwrap();
        // The broker closes without a word of its own (no DISCONNECT 0x81, malformed packet).
        assert!(rest.is_empty(), "{client}: {rest:02x?}");
    }
    // The wills come in connection order: the last one's arrival orders the others before it.
    assert_eq!(&watcher.next_on("status/with-will").await.payload[..], b"gone");
    let seen: Vec<String> = watcher.drain().await.into_iter().map(|p| p.topic).collect();
    assert!(seen.is_empty(), "{seen:?}");
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

/// The state an emulator recovers from the state file at `path`.
fn recovered(path: &std::path::Path) -> State {
    let arns = iot_jobs_emulator::wire::Arns { region: "us-east-1".into(), account: "123456789012".into() };
    journal::recover(path, Caps::default(), ClockMode::Manual, arns, 0, journal::Mode::UpTo(u64::MAX))
        .unwrap()
        .expect("a saved state")
}

/// The execution of `job` on `thing` in `saved`, as the data plane describes it.
fn saved_execution<'a>(saved: &'a State, job: &str, thing: &str) -> ExecutionView<'a> {
    let (job, thing) = (JobId::new(job).unwrap(), ThingName::new(thing).unwrap());
    saved.registry.describe_execution(&job, &thing, None, Plane::Data).unwrap()
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
    let saved = recovered(&path);
    assert_eq!(saved_execution(&saved, "kept", "saver").status(), ExecutionStatus::InProgress);
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

    // Listening on every interface, it names the host the request was sent to (a client in
    // another container reaches it by that name, not by 0.0.0.0).
    let everywhere = start(|c| {
        c.addr = "0.0.0.0:0".parse().unwrap();
        c.mqtt_addr = Some("0.0.0.0:0".parse().unwrap());
    })
    .await;
    let port = |a: Option<std::net::SocketAddr>| a.unwrap().port();
    let (http, mqtt) = (everywhere.server.addr.port(), port(everywhere.server.mqtt_addr));
    let ask = |host: &'static str, kind: &'static str| {
        let url = format!("http://127.0.0.1:{http}/endpoint?endpointType={kind}");
        let req = everywhere.http.get(url).header("authorization", CONTROL).header("host", host);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap()["endpointAddress"].clone() }
    };
    assert_eq!(ask("iot-jobs:4588", "iot:Data-ATS").await, format!("iot-jobs:{mqtt}"));
    assert_eq!(ask("10.1.2.3", "iot:Jobs").await, format!("10.1.2.3:{http}"));
    assert_eq!(ask("[fd00::1]:80", "iot:Jobs").await, format!("[fd00::1]:{http}"));
    everywhere.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_silent_client_is_closed_after_one_and_a_half_keep_alives() {
    let emu = emu().await;
    let mut watcher = connect("ka-watcher", emu.mqtt).await;
    watcher.sub("ka/#").await;
    // CONNECT with keep-alive 1 s and a will on ka/gone, then silence.
    let mut s = connect_with_will(emu.mqtt, "sleeper", 1, "ka/gone", "timed out").await;
    let mut rest = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut rest)).await.expect("not closed").unwrap();
    assert!(rest.is_empty(), "nothing after the CONNACK before the close: {rest:?}");
    assert_eq!(&watcher.next_on("ka/gone").await.payload[..], b"timed out");
    emu.server.shutdown().await.unwrap();
}

/// A client that subscribes and then reads nothing while 32 MiB are published to it is held
/// to its keep-alive like a silent one: closed, its will published, the broker unharmed.
/// (The broker once waited on its writes to such a client forever, deaf to the keep-alive.)
#[tokio::test]
async fn a_client_that_stops_reading_is_closed_after_one_and_a_half_keep_alives() {
    let emu = emu().await;
    let mut watcher = connect("stuck-watcher", emu.mqtt).await;
    watcher.sub("stuck/#").await;
    let mut s = connect_with_will(emu.mqtt, "stuck", 1, "stuck/gone", "stopped reading").await;
    // SUBSCRIBE bulk/# at QoS 0; its SUBACK is the last thing it reads.
    s.write_all(&[0x82, 11, 0, 1, 0, 6, b'b', b'u', b'l', b'k', b'/', b'#', 0]).await.unwrap();
    let mut ack = [0; 5];
    s.read_exact(&mut ack).await.unwrap();
    assert_eq!(ack, [0x90, 3, 0, 1, 0]);
    let publisher = connect("bulk-publisher", emu.mqtt).await;
    for _ in 0..256 {
        publisher.client.publish("bulk/x", QoS::AtMostOnce, false, vec![b'x'; 128 * 1024]).await.unwrap();
    }
    assert_eq!(&watcher.next_on("stuck/gone").await.payload[..], b"stopped reading");
    publisher.publish("stuck/after", "yes").await;
    assert_eq!(&watcher.next_on("stuck/after").await.payload[..], b"yes");
    drop(s);
    emu.server.shutdown().await.unwrap();
}

/// More retained messages than a client has room for in flight (1,000 unacknowledged, and
/// 1,000 more held back behind them) all reach a client that subscribes to them at QoS 1, in
/// order, and it stays connected. (The broker once wrote them all at once and closed the client
/// at the 2,001st.) Only exact filters get retained messages (AWS IoT Core), at most 8 to a
/// SUBSCRIBE and 1,000 to a session: 992 topics, subscribed 8 at a time without waiting.
#[tokio::test]
async fn a_subscription_gets_every_retained_message_however_many() {
    let emu = emu().await;
    let mut p = connect("retainer", emu.mqtt).await;
    p.client.publish("elsewhere/0", QoS::AtLeastOnce, true, "not for fleet/#").await.unwrap();
    for i in 0..992 {
        p.client.publish(format!("fleet/{i:04}"), QoS::AtLeastOnce, true, format!("{i}")).await.unwrap();
    }
    p.drain().await;
    let mut c = connect("fleet-reader", emu.mqtt).await;
    let expected: Vec<String> = (0..992).map(|i| format!("fleet/{i:04}")).collect();
    for eight in expected.chunks(8) {
        let filters = eight.iter().map(|t| rumqttc::SubscribeFilter::new(t.clone(), QoS::AtLeastOnce));
        c.client.subscribe_many(filters).await.unwrap();
    }
    // A wildcard subscription too: it gets no retained copy (AWS IoT Core), live ones later.
    c.sub("fleet/#").await;
    let mut topics = Vec::new();
    while topics.len() < 992 {
        let m = tokio::time::timeout(WAIT, c.rx.recv())
            .await
            .expect("retained messages stopped")
            .unwrap_or_else(|| panic!("closed after {} retained messages", topics.len()));
        assert!(m.retain && m.qos == QoS::AtLeastOnce, "{m:?}");
        topics.push(m.topic);
    }
    assert_eq!(topics, expected);
    // Only what the filter matches: elsewhere/0 never comes (checked after a round trip).
    // Still connected, and routed messages come after the retained ones.
    p.publish("fleet/new", "live").await;
    assert_eq!(&c.next_on("fleet/new").await.payload[..], b"live");
    let (ok, _) = c.request("$aws/things/fleet-reader/jobs/get", "{}").await;
    assert!(ok);
    assert!(c.drain().await.iter().all(|m| m.topic != "elsewhere/0"));
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

    // The journal's segment is deleted (as removing its directory would): every change fails.
    reliability_common::delete_current_segment(&path).await;
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
    // The health probe says so, with why.
    let health = emu.http.get(format!("{}/_emulator/health", emu.url)).send().await.unwrap();
    assert_eq!(health.status(), 503);
    let health: Value = health.json().await.unwrap();
    assert_eq!(health["status"], "failing", "{health}");
    assert!(health["reason"].as_str().is_some_and(|r| !r.is_empty()), "{health}");
    let heard: Vec<String> = dev.drain().await.into_iter().map(|p| p.topic).collect();
    assert!(heard.iter().all(|t| !t.contains("notify") && !t.starts_with("$aws/events/")), "{heard:?}");

    // After a restart: j1 still QUEUED, no j2.
    drop(emu);
    let second = emu_with_state(&path).await;
    let mut dev = connect("dev", second.mqtt).await;
    let (ok, got) = dev.request("$aws/things/dev/jobs/j1/get", "{}").await;
    assert!(ok, "{got}");
    assert_eq!(got["execution"]["status"], "QUEUED", "{got}");
    let (ok, got) = dev.request("$aws/things/dev/jobs/j2/get", "{}").await;
    assert!(!ok, "{got}");
    second.server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Changes that one group commit saves are heard in the order they were made, however the
/// requests that made them finish: a device's last notify-next names its pending job. (Each
/// round, a thing's running job succeeds while another is created for it, at once.)
#[tokio::test]
async fn concurrent_changes_are_heard_in_their_order() {
    let (dir, path) = state_path("order");
    let emu = emu_with_state(&path).await;
    let mut dev = connect("watcher", emu.mqtt).await;
    dev.sub("$aws/things/+/jobs/notify-next").await;
    let things: Vec<String> = (0..8).map(|i| format!("o{i}")).collect();
    for t in &things {
        emu.ctl("POST", &format!("/things/{t}"), json!({})).await;
    }
    let send = |method: reqwest::Method, path: String, auth: &'static str, body: Value| {
        let request = emu.http.request(method, format!("{}{path}", emu.url));
        tokio::spawn(async move {
            let resp = request.header("authorization", auth).body(body.to_string()).send().await.unwrap();
            assert_eq!(resp.status(), 200, "{path}");
        })
    };
    for round in 0..10 {
        for t in &things {
            let body = json!({"targets": [format!("{ARN}:thing/{t}")], "document": "{}"});
            emu.ctl("PUT", &format!("/jobs/{t}-a{round}"), body).await;
            let (ok, got) = dev.request(&format!("$aws/things/{t}/jobs/start-next"), "{}").await;
            assert!(ok, "{got}");
        }
        dev.drain().await;
        let mut tasks = Vec::new();
        for t in &things {
            let done = json!({"status": "SUCCEEDED"});
            tasks.push(send(reqwest::Method::POST, format!("/things/{t}/jobs/{t}-a{round}"), DATA, done));
            let body = json!({"targets": [format!("{ARN}:thing/{t}")], "document": "{}"});
            tasks.push(send(reqwest::Method::PUT, format!("/jobs/{t}-b{round}"), CONTROL, body));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let mut last = std::collections::BTreeMap::new();
        for p in dev.drain().await {
            let thing = p.topic.split('/').nth(2).unwrap().to_owned();
            let next: Value = serde_json::from_slice(&p.payload).unwrap();
            last.insert(thing, next["execution"]["jobId"].as_str().map(str::to_owned));
        }
        for t in &things {
            assert_eq!(last.get(t), Some(&Some(format!("{t}-b{round}"))), "round {round}: {last:?}");
        }
        for t in &things {
            emu.ctl("PUT", &format!("/jobs/{t}-b{round}/cancel"), json!({})).await;
        }
    }
    emu.server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

mod events;
mod protocol;
mod sessions;
mod v5;
mod websocket;

/// An MQTT packet: `header`, the remaining length as a variable byte integer, `body`.
fn packet(header: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![header];
    let mut n = body.len();
    loop {
        let byte = u8::try_from(n % 128).unwrap();
        n /= 128;
        out.push(if n > 0 { byte | 0x80 } else { byte });
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(body);
    out
}

/// A UTF-8 string of MQTT: its length in two bytes, then its bytes.
fn mqtt_str(s: &str) -> Vec<u8> {
    let mut out = u16::try_from(s.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(s.as_bytes());
    out
}

/// A CONNECT of protocol `name` and `level` with connect `flags`, keep-alive 30 s, the MQTT 5
/// `properties` (level 5 only) and the payload `fields` (client id first).
fn connect_packet(name: &str, level: u8, flags: u8, properties: &[u8], fields: &[&str]) -> Vec<u8> {
    let mut body = mqtt_str(name);
    body.extend_from_slice(&[level, flags, 0, 30]);
    if level == 5 {
        body.push(u8::try_from(properties.len()).unwrap());
        body.extend_from_slice(properties);
    }
    for f in fields {
        body.extend(mqtt_str(f));
    }
    packet(0x10, &body)
}

/// A clean-session CONNECT of `version` (4 or 5) for client `id`.
fn hello(version: u8, id: &str) -> Vec<u8> {
    connect_packet("MQTT", version, 0b10, &[], &[id])
}

/// A raw 3.1.1 client `client`, with a will of `bye` on `gone/{client}`, publishes to `topic`
/// at QoS 0: the broker closes the connection without a word, and `watcher` (subscribed to
/// `gone/#`) hears the will.
async fn publish_raw_and_be_closed(addr: SocketAddr, watcher: &mut Client, client: &str, topic: &str) {
    let will = format!("gone/{client}");
    let mut s = connect_with_will(addr, client, 30, &will, "bye").await;
    let mut body = mqtt_str(topic);
    body.extend_from_slice(b"{}");
    s.write_all(&packet(0x30, &body)).await.unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(WAIT, s.read_to_end(&mut rest)).await.expect("still open");
    assert!(read.is_err() || rest.is_empty(), "{topic}: {rest:?}");
    assert_eq!(&watcher.next_on(&will).await.payload[..], b"bye", "{topic}");
}

/// AWS IoT Core's limits on what a client names (SPEC `lim-topic`; client ids of at most 128
/// bytes): a topic or filter of at most 256 bytes and 7 slashes (Basic Ingest's `$aws/rules/R/`
/// not counted). At the limits everything goes through; past them a publish closes its client
/// before anything is routed (its will published), a filter is refused in the SUBACK (the
/// others of the SUBSCRIBE granted), and a CONNECT with a longer client id or a will past them
/// is refused.
#[tokio::test]
async fn topics_filters_and_client_ids_are_held_to_aws_iot_core_limits() {
    let emu = emu().await;
    let mut watcher = connect("watcher", emu.mqtt).await;
    watcher.sub("lim/#").await;
    watcher.sub("$aws/rules/#").await;
    watcher.sub("gone/#").await;
    // `n` slashes under lim/, and a topic of `n` bytes.
    let slashes = |n: usize| format!("lim{}", "/l".repeat(n));
    let bytes = |n: usize| format!("lim/{}", "b".repeat(n - 4));
    let ingest = format!("$aws/rules/r/{}", slashes(7));
    let within = [slashes(7), bytes(256), ingest.clone()];
    let publisher = connect("publisher", emu.mqtt).await;
    for topic in &within {
        publisher.publish(topic, "in").await;
        assert_eq!(&watcher.next_on(topic).await.payload[..], b"in", "{topic}");
    }
    for (i, topic) in [slashes(8), bytes(257), format!("{ingest}/l")].iter().enumerate() {
        publish_raw_and_be_closed(emu.mqtt, &mut watcher, &format!("over-{i}"), topic).await;
    }
    // SUBSCRIBE: each filter on its own, granted (QoS 1) or refused (0x80).
    let mut s = connect_with_will(emu.mqtt, "subscriber", 30, "gone/sub", "bye").await;
    let filters =
        [slashes(8), slashes(7), format!("{}/+", slashes(7)), format!("{}/#", slashes(6)), bytes(257)];
    let mut body = vec![0, 7];
    for f in &filters {
        body.extend(mqtt_str(f));
        body.push(1);
    }
    s.write_all(&packet(0x82, &body)).await.unwrap();
    let mut ack = [0; 9];
    tokio::time::timeout(WAIT, s.read_exact(&mut ack)).await.unwrap().unwrap();
    assert_eq!(ack, [0x90, 7, 0, 7, 0x80, 1, 0x80, 1, 0x80]);
    // CONNECT: a client id of 128 bytes is taken, of 129 refused (3.1.1: identifier rejected).
    let (_s, ack) = connect_raw_with_will(emu.mqtt, &"c".repeat(128), 30, "gone/c", "x").await;
    assert_eq!(ack, [0x20, 2, 0, 0]);
    let (mut s, ack) = connect_raw_with_will(emu.mqtt, &"c".repeat(129), 30, "gone/c", "x").await;
    assert_eq!(ack, [0x20, 2, 0, 2]);
    let mut rest = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut rest)).await.expect("still open").unwrap();
    // A will past the limits is refused (3.1.1 has no code of its own for it: not authorized),
    // so it is never silently dropped at the close.
    let (_s, ack) = connect_raw_with_will(emu.mqtt, "willful", 30, &slashes(8), "x").await;
    assert_eq!(ack, [0x20, 2, 0, 5]);
    // Nothing past the limits reached the watcher (its own round trip comes after all of it).
    let seen: Vec<String> = watcher.drain().await.into_iter().map(|p| p.topic).collect();
    assert!(seen.is_empty(), "{seen:?}");
    emu.server.shutdown().await.unwrap();
}

/// A raw connection's next packet: its first byte and its body.
async fn read_packet(s: &mut TcpStream) -> (u8, Vec<u8>) {
    let first = s.read_u8().await.unwrap();
    let (mut len, mut shift) = (0usize, 0);
    loop {
        let byte = s.read_u8().await.unwrap();
        len |= usize::from(byte & 0x7F) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            break;
        }
    }
    let mut body = vec![0; len];
    s.read_exact(&mut body).await.unwrap();
    (first, body)
}

/// A QoS 1 PUBLISH of `payload` to `topic`, packet id `pkid` (`v5`: with an empty property list).
fn publish_qos1(topic: &str, pkid: u16, payload: &[u8], v5: bool) -> Vec<u8> {
    let mut body = mqtt_str(topic);
    body.extend_from_slice(&pkid.to_be_bytes());
    if v5 {
        body.push(0);
    }
    body.extend_from_slice(payload);
    packet(0x32, &body)
}

/// `--mqtt-max-held-bytes`: the messages the broker holds for sessions (here, an offline
/// session's queue) are bounded. A 3.1.1 client whose publish would pass the budget is closed
/// before anything of it is routed; an MQTT 5 client is told in its PUBACK (0x97, quota
/// exceeded) and stays connected. Once the session takes its messages, publishes go through.
#[tokio::test]
async fn a_broker_past_its_budget_for_held_messages_takes_no_publish() {
    const LIMIT: usize = 64 * 1024;
    let config = Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        mqtt_addr: Some("127.0.0.1:0".parse().unwrap()),
        clock: ClockMode::Manual,
        mqtt_max_held_bytes: LIMIT,
        ..Config::default()
    };
    let server = iot_jobs_emulator::start(config).await.unwrap();
    let addr = server.mqtt_addr.unwrap();
    let emu =
        Emu { mqtt: addr, url: format!("http://{}", server.addr), server, http: reqwest::Client::new() };
    let o = offline_session(addr, "hoarder", "h/#").await;

    // Copies of 10 KiB and their topic and bookkeeping (under 700 bytes): 6 fit in 64 KiB.
    let payload = vec![b'p'; 10 * 1024];
    let mut watcher = connect("watcher", addr).await;
    watcher.sub("gone/#").await;
    let mut s = connect_with_will(addr, "pub4", 30, "gone/pub4", "bye").await;
    let mut acked = 0u16;
    loop {
        s.write_all(&publish_qos1(&format!("h/{acked}"), acked + 1, &payload, false)).await.unwrap();
        let mut ack = [0; 4];
        match tokio::time::timeout(WAIT, s.read_exact(&mut ack)).await.expect("neither acked nor closed") {
            Ok(_) => assert_eq!(ack, [0x40, 2, 0, u8::try_from(acked + 1).unwrap()]),
            Err(_) => break,
        }
        acked += 1;
        assert!(acked <= 6, "more than 6 copies of 10 KiB taken in 64 KiB");
    }
    assert_eq!(acked, 6);
    assert_eq!(&watcher.next_on("gone/pub4").await.payload[..], b"bye");
    // `/_emulator/stats` shows what is held: the 6 copies and nothing of the refused publish.
    let stats = emu.ctl("GET", "/_emulator/stats", json!({})).await["mqtt"].clone();
    let held = stats["heldBytes"].as_u64().unwrap();
    assert!((6 * 10 * 1024..=64 * 1024).contains(&held), "{stats}");
    assert_eq!(stats["maxHeldBytes"], 64 * 1024, "{stats}");
    assert_eq!(stats["droppedCopies"], 0, "{stats}");
    assert_eq!((&stats["subscriptions"], &stats["retained"]), (&json!(2), &json!(0)), "{stats}");

    // MQTT 5: refused in the PUBACK, and the connection stays; at QoS 0, which has no
    // acknowledgement, the client is told in a DISCONNECT.
    let connect5 = |client: &'static str| async move {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let mut connect = mqtt_str("MQTT");
        connect.extend_from_slice(&[5, 0x02, 0, 30, 0]);
        connect.extend_from_slice(&mqtt_str(client));
        s.write_all(&packet(0x10, &connect)).await.unwrap();
        assert_eq!(read_packet(&mut s).await.0, 0x20);
        s
    };
    let mut q0 = connect5("pub5-q0").await;
    let mut body = mqtt_str("h/refused");
    body.push(0);
    body.extend_from_slice(&payload);
    q0.write_all(&packet(0x30, &body)).await.unwrap();
    let (first, body) = read_packet(&mut q0).await;
    assert_eq!((first, body.first()), (0xE0, Some(&0x97)));
    let mut s = connect5("pub5").await;
    s.write_all(&publish_qos1("h/refused", 9, &payload, true)).await.unwrap();
    let (first, body) = read_packet(&mut s).await;
    assert_eq!((first, &body[..3]), (0x40, &[0, 9, 0x97][..]));
    s.write_all(&[0xC0, 0]).await.unwrap();
    assert_eq!(read_packet(&mut s).await, (0xD0, Vec::new()));

    // The session takes its 6 messages (rumqttc acknowledges them, before its next request):
    // there is room again, and the refused publishes (h/6, h/refused) were never routed.
    let mut hoarder = connect_with(o).await;
    for i in 0..6 {
        assert_eq!(hoarder.next_on(&format!("h/{i}")).await.payload.len(), payload.len());
    }
    let routed = |got: Vec<rumqttc::Publish>| -> Vec<String> {
        got.into_iter().map(|p| p.topic).filter(|t| t.starts_with("h/")).collect()
    };
    assert_eq!(routed(hoarder.drain().await), Vec::<String>::new());
    s.write_all(&publish_qos1("h/again", 10, &payload, true)).await.unwrap();
    let (first, body) = read_packet(&mut s).await;
    assert_eq!((first, &body[..2]), (0x40, &[0, 10][..]));
    assert!(body.get(2).is_none_or(|r| *r == 0), "{body:?}");
    assert_eq!(hoarder.next_on("h/again").await.payload.len(), payload.len());
    assert_eq!(routed(hoarder.drain().await), Vec::<String>::new());
    // Everything delivered and acknowledged: nothing held.
    let stats = emu.ctl("GET", "/_emulator/stats", json!({})).await["mqtt"].clone();
    assert_eq!(stats["heldBytes"], 0, "{stats}");
    emu.server.shutdown().await.unwrap();
}
