//! The emulator's MQTT broker and the jobs device API over it, with a real Rust MQTT client
//! (`rumqttc`, 3.1.1 and 5) and raw TCP for bad input, against an in-process emulator on
//! ephemeral loopback ports.
//!
//! This file holds what the test modules share: the emulator, the `rumqttc` client and raw MQTT
//! packets; the tests are in the modules, by topic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code)]
#[path = "../reliability_common/mod.rs"]
mod reliability_common;

mod bridge;
mod broker;
mod events;
mod faults;
mod jobs;
mod limits;
mod notifications;
mod persistence;
mod protocol;
mod sessions;
mod v5;
mod websocket;

use std::net::SocketAddr;
use std::time::Duration;

use iot_jobs_core::registry::ExecutionView;
use iot_jobs_core::{JobId, Plane, ThingName};
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

/// The state an emulator recovers from the state file at `path`.
fn recovered(path: &std::path::Path) -> State {
    let arns = iot_jobs_emulator::wire::Arns { region: "us-east-1".into(), account: "123456789012".into() };
    journal::recover(
        path,
        Caps::default(),
        ClockMode::Manual,
        arns,
        0,
        iot_jobs_core::Policy::DEFAULT,
        journal::Mode::UpTo(u64::MAX),
    )
    .unwrap()
    .expect("a saved state")
}

/// The execution of `job` on `thing` in `saved`, as the data plane describes it.
fn saved_execution<'a>(saved: &'a State, job: &str, thing: &str) -> ExecutionView<'a> {
    let (job, thing) = (JobId::new(job).unwrap(), ThingName::new(thing).unwrap());
    saved.registry.describe_execution(&job, &thing, None, Plane::Data).unwrap()
}

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
